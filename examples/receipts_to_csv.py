"""A folder of receipts to a CSV of date, vendor and total, each with the box it was read from.

    .venv/bin/python examples/receipts_to_csv.py --model BUNDLE receipts/ receipts.csv

Runs the model in this process (`from runtime import load_model`, no server). A field the
model cannot point at on the page stays empty: an answer with no evidence line was not read
from the receipt, so it is never copied into the CSV. Boxes are `x0 y0 x1 y1` in the image's
pixels (the union of the lines the answer came from).

BUNDLE is a model folder: the default one is `build/bundles/reader` once `python3 build.py
serve` (or `test`) has built it. Run from the checkout with its `.venv` (where `runtime` is
installed); a release has the same engine inside its binary, not as a Python package.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

from runtime import load_model

QUESTIONS = {
    "date": "What is the date?",
    "vendor": "Who issued this receipt?",
    "total": "What is the total?",
}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def box_of(evidence) -> str:
    """`x0 y0 x1 y1` around the evidence lines (each line's box is four corners)."""
    corners = [corner for line in evidence for corner in line.box]
    if not corners:
        return ""
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    return " ".join(str(round(v)) for v in (min(xs), min(ys), max(xs), max(ys)))


def read_receipt(model, path: Path) -> dict[str, str]:
    row = {"file": path.name}
    for field, question in QUESTIONS.items():
        result = model.ask(path, question)
        row[field] = result.text if result.evidence else ""
        row[f"{field}_box"] = box_of(result.evidence)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of receipt images")
    parser.add_argument("output", type=Path, help="CSV file to write")
    parser.add_argument("--model", default=os.environ.get("WAN_TURBO_MODEL"),
                        help="bundle folder (default: $WAN_TURBO_MODEL)")
    args = parser.parse_args(argv)
    if not args.model:
        parser.error("give --model BUNDLE (or set WAN_TURBO_MODEL)")
    images = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        parser.error(f"no images in {args.folder}")
    model = load_model(args.model)
    columns = ["file", *(name for field in QUESTIONS for name in (field, f"{field}_box"))]
    with args.output.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        for path in images:
            row = read_receipt(model, path)
            writer.writerow(row)
            print(f"{path.name}: {row['date'] or '-'} | {row['vendor'] or '-'} | {row['total'] or '-'}")
    print(f"wrote {len(images)} rows to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
