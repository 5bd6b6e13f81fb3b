"""Size on disk and peak RSS of the reader bundle per precision (fp32 vs int8).

    python bench/reader_footprint.py [BUNDLE]   (default: build/bundles/reader)

Each precision runs in a fresh process: load, then one `read`, one `ask` and one
`caption` on a drawn invoice; peak RSS is the child's ru_maxrss. Writes
bench/results/reader_footprint.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHILD = r"""
import json, resource, sys, time
from PIL import Image, ImageDraw, ImageFont
from runtime import load_model
image = Image.new("RGB", (900, 260), "white")
draw = ImageDraw.Draw(image)
font = ImageFont.load_default(size=34)
for row, text in enumerate(["NORTHWIND HARDWARE", "Invoice No: INV-20417", "Total due: 42.50 EUR"]):
    draw.text((30, 25 + row * 75), text, fill="black", font=font)
start = time.perf_counter()
model = load_model(sys.argv[1], precision=sys.argv[2])
loaded = time.perf_counter() - start
model.read(image); model.ask(image, "What is the total due?"); model.caption(image, max_new_tokens=32)
print(json.dumps({"load_s": loaded, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "files": {c.name: c.file for c in model.components}}))
"""


def main(bundle: Path) -> str:
    manifest = json.loads((bundle / "bundle.json").read_text())
    rows = []
    for precision in ("fp32", "int8"):
        out = subprocess.run([sys.executable, "-c", CHILD, str(bundle), precision], cwd=REPO,
                             capture_output=True, text=True, check=True)
        record = json.loads(out.stdout.strip().splitlines()[-1])
        chosen = set(record["files"].values())
        disk = sum(v["bytes"] for c in manifest["components"].values() for v in c["variants"] if v["file"] in chosen)
        rows.append(f"| {precision} | {disk / 1e6:.1f} | {record['peak_rss_mb']:.0f} | {record['load_s']:.1f} |")
    total = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file())
    table = "\n".join([
        "# Reader bundle footprint", "",
        f"`python bench/reader_footprint.py {bundle.relative_to(REPO) if bundle.is_relative_to(REPO) else bundle}`"
        f" — whole bundle on disk (both precisions): {total / 1e6:.1f} MB.", "",
        "| precision | model files loaded (MB) | peak RSS after read + ask + caption (MB) | load s |",
        "| --- | ---: | ---: | ---: |", *rows, "",
    ])
    (REPO / "bench" / "results" / "reader_footprint.md").write_text(table)
    return table


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "bundles" / "reader"))
