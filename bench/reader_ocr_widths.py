"""How the reader's PP-OCRv6 recogniser reads a page's crops: each at its own width (as the
bundle ships it, its `recognition` metadata; packaging/ocr_bundle.py V6_RECOGNITION) against
RapidOCR's batching (groups of six padded to the widest, never under 320 pixels).

    .venv/bin/python bench/reader_ocr_widths.py [--data /work/realdocs] [--limit 12] [--out FILE]

Pages: generated development pages (tests/golden/docvqa.py, seed 1) and, with `--data` (see
bench/realdocs.py), `--limit` FUNSD and SROIE scans of the development split. Each page is read
whole (detection, direction, recognition, layout) by the served pipeline and by the same
sessions with RapidOCR's batching, in turns (each first on every other page); per set the total seconds, the median per-page
ratio and how many regions read the same text (as multisets of texts per page) (development data only: no answers are read).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from collections import Counter
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "golden"))

from bench_common import cpu_line, report  # noqa: E402

from runtime import load_model  # noqa: E402
from runtime.ocr.pipeline import OcrPipeline  # noqa: E402
from runtime.ocr.recognize import RecognizeConfig  # noqa: E402
from runtime.placement import detect_hardware  # noqa: E402


def page_sets(data: Path | None, limit: int) -> dict[str, list]:
    import docvqa

    sets = {"generated (seed 1)": [document.image for document in docvqa.make_documents(seed=1, count=limit)]}
    if data is not None:
        import realdocs

        for dataset in realdocs.DATASETS:
            sets[f"{dataset} dev"] = [document.page() for document in
                                      realdocs.load_documents(data, "dev", (dataset,), limit)]
    return sets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=REPO / "build" / "bundles" / "reader")
    parser.add_argument("--data", type=Path, help="fetched real documents (bench/realdocs.py)")
    parser.add_argument("--limit", type=int, default=12, help="pages per set")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    model = load_model(args.bundle, precision="auto")
    served = model._adapter._ocr  # noqa: SLF001 - the bench reaches the OCR pipeline
    if served.config.recognize.batch_size != 1:
        sys.exit(f"{args.bundle}: its recogniser carries no own-width `recognition` metadata; rebuild the bundle")
    padded = OcrPipeline(served._det, served._cls, served._rec,  # noqa: SLF001
                         dataclasses.replace(served.config, recognize=RecognizeConfig()), served._pool)  # noqa: SLF001
    rows = []
    for name, pages in page_sets(args.data, args.limit).items():
        served.read(pages[0])  # warm-up, both
        padded.read(pages[0])
        seconds = {"own": [], "padded": []}
        same = regions = 0
        for number, page in enumerate(pages):
            texts = {}
            settings = (("own", served), ("padded", padded))
            for label, pipeline in settings if number % 2 == 0 else settings[::-1]:  # each first on every other page
                began = time.perf_counter()
                texts[label] = [line.text for line in pipeline.read_regions(page)]
                seconds[label].append(time.perf_counter() - began)
            # as multisets: a faint box is kept where the recogniser reads it confidently, so
            # the two settings may keep different faint boxes and the lists need not align
            same += sum((Counter(texts["own"]) & Counter(texts["padded"])).values())
            regions += max(len(texts["own"]), len(texts["padded"]))
        ratio = statistics.median(a / b for a, b in zip(seconds["own"], seconds["padded"]))
        rows.append(f"| {name} | {len(pages)} | {sum(seconds['own']):.1f} | {sum(seconds['padded']):.1f} | "
                    f"{ratio:.2f} | {same} of {regions} |")
    text = "\n".join([
        "# The reader's recogniser: crops at their own width vs RapidOCR's padded batches",
        "",
        f"{cpu_line(detect_hardware())}. `.venv/bin/python bench/reader_ocr_widths.py"
        f"{' --data DIR' if args.data else ''} --limit {args.limit}`; pages read whole (regions, no layout "
        "merge), the two settings in turns on the same sessions, each first on every other page.",
        "",
        "| pages | count | own width s | padded s | median ratio own / padded | regions read the same |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
    ])
    return report(text, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
