"""Our PP-OCR pipeline against rapidocr-onnxruntime's own, on the same model files (issue 13, comparison 1).

    .venv/bin/python bench/ocr.py [--data /work/realdocs] [--repeats 5] [--in-flight 8]
        [--rec-batch 6] [--run-size 1] [--out bench/results/ocr.md]

Images: scikit-image's `page` and `text`, four pages of the project's document generator
(seed 1, a development seed) and, with `--data` (a folder with `funsd/` and `split.json`, see
bench/realdocs.py), the first four FUNSD forms of the development split: real scans.

Ours runs the `ocr` bundle's files as `python packaging/ocr_bundle.py` builds them (assembled
into .cache/bench/ocr_bundle): the wheel's three PP-OCRv4 files with their scalar affine ops
folded into their convolutions and hard-swish written in two ops (packaging/conv_graph.py; the
same function, outputs within rounding). RapidOCR runs the wheel's files as shipped; the
table's "rapidocr on ours" column runs its pipeline on the bundle's files, which separates
what the rewrite gains from what the pipeline gains.

Measured side by side in one run, medians of `--repeats`:
- single-image latency: ours as `serve` runs it (the thread budget for `--in-flight`
  requests: workers x 1 thread, the recogniser's runs spread over idle workers, the
  detector on every core while alone: `runtime.scheduler.WorkerPool` / `RunGauge`) and as
  `run` loads it (one worker, intra-op threads = usable cores) vs `RapidOCR()` with its
  defaults; the ratio per image and its median (the figure: as served);
- throughput with `--in-flight` images submitted at once: ours through the engine's thread
  budget (`runtime.scheduler.thread_budget`: workers x intra-op threads <= usable cores,
  the images run as jobs of the same `WorkerPool`) vs RapidOCR called from as many threads,
  and RapidOCR one image after another;
- identical text: per image, whether our regions' texts in the boxes RapidOCR reads equal
  RapidOCR's as a multiset (whitespace aside; the order differs: ours is reading order by
  rows), and how many lines ours adds from faint boxes (`OcrConfig.faint_box_thresh`: boxes the
  detector scores under its box threshold that the recogniser reads confidently; RapidOCR
  drops them; the timings include reading them);
- the recogniser's run size on one thread (what a request gets while others are in
  flight): every page read with runs of 1, 2 and `--rec-batch` crops.
Prints a table with the CPU flags and writes it to `--out` when given.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "golden"))

from bench_common import Figure, add_json_argument, cpu_line, median_s, report, write_figures  # noqa: E402

from runtime.kinds.ocr import OcrAdapter  # noqa: E402
from runtime.ocr.pipeline import OcrConfig, OcrPipeline  # noqa: E402
from runtime.ocr.recognize import RecognizeConfig  # noqa: E402
from runtime.placement import detect_hardware  # noqa: E402
from runtime.scheduler import RunGauge, WorkerPool, thread_budget  # noqa: E402
from runtime.session import ComponentSession, SessionConfig  # noqa: E402

FILES = {"det": "ch_PP-OCRv4_det_infer.onnx", "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
         "rec": "ch_PP-OCRv4_rec_infer.onnx"}  # fmt: skip


def images(data: Path | None) -> dict[str, Image.Image]:
    from skimage import data as samples

    import docvqa

    found = {"skimage page": Image.fromarray(samples.page()), "skimage text": Image.fromarray(samples.text())}
    for document in docvqa.make_documents(seed=1, count=4):
        found[f"generated {document.name}"] = document.image
    if data is not None:
        for name in sorted(json.loads((data / "split.json").read_text())["funsd"]["dev"])[:4]:
            found[f"FUNSD dev {name}"] = Image.open(data / "funsd" / "images" / f"{name}.png").convert("RGB")
    return found


def pipeline(models: str, threads: int, rec_batch: int, run_size: int, pool: WorkerPool | None = None,
             wide_threads: int = 0, faint: bool = True) -> OcrPipeline:
    """Our pipeline on `threads` intra-op threads per session; with `pool` (and
    `wide_threads` for the kind's wide components), as a served model runs it (see
    `runtime.loading.load_model`). The
    sessions' threads spin as `load_model`'s do (the wide twin's do not): the bench used to
    turn spinning off for every session, which `run` never does."""
    config = SessionConfig(intra_op_threads=threads)
    gauge = RunGauge()
    sessions = {name: ComponentSession(f"ocr-{name}", os.path.join(models, file), config,
                                       wide_threads=wide_threads if f"ocr_{name}" in OcrAdapter.wide_components else 0,
                                       gauge=gauge)
                for name, file in FILES.items()}  # fmt: skip
    return OcrPipeline(sessions["det"], sessions["cls"], sessions["rec"],
                       OcrConfig(recognize=RecognizeConfig(batch_size=rec_batch, run_size=run_size),
                                 **({} if faint else {"faint_box_thresh": None})),
                       pool=pool)  # fmt: skip


def squash(texts) -> list[str]:
    return ["".join(text.split()) for text in texts]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="folder with funsd/ and split.json (real scanned forms)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--rec-batch", type=int, default=RecognizeConfig().batch_size,
                        help="crops padded to one width together (RapidOCR's rec_batch_num)")  # fmt: skip
    parser.add_argument("--run-size", type=int, default=RecognizeConfig().run_size,
                        help="crops per recogniser run (ours); the run-size line compares 1, 2 and --rec-batch")
    parser.add_argument("--out", type=Path, default=None)
    add_json_argument(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None:
        print("rapidocr-onnxruntime is not installed (pip install '.[test]')", file=sys.stderr)
        return 2
    import rapidocr_onnxruntime

    sys.path.insert(0, str(REPO / "packaging"))
    import ocr_bundle

    models = str(ocr_bundle.assemble_ocr_bundle(REPO / ".cache" / "bench" / "ocr_bundle") / "models")
    hardware = detect_hardware()
    cores = hardware.usable_cores
    theirs = rapidocr_onnxruntime.RapidOCR()
    theirs_on_ours = rapidocr_onnxruntime.RapidOCR(**{f"{name}_model_path": os.path.join(models, file)
                                                      for name, file in FILES.items()})
    budget = thread_budget(cores, args.in_flight)
    workers = WorkerPool(budget.workers)
    served = pipeline(models, budget.intra_op_threads, args.rec_batch, args.run_size, workers, budget.wide_threads)
    alone = pipeline(models, cores, args.rec_batch, args.run_size)
    rapid_boxes = pipeline(models, cores, args.rec_batch, args.run_size, faint=False)
    pages = images(args.data)
    bgr = {name: np.asarray(image.convert("RGB"))[:, :, ::-1].copy() for name, image in pages.items()}

    rows, ratios, alone_ratios, rewritten_ratios, same, added, added_on = [], [], [], [], 0, 0, 0
    for name, image in pages.items():
        ours_s = median_s(lambda: served.read_regions(image), args.repeats, warm_up=True)
        alone_s = median_s(lambda: alone.read_regions(image), args.repeats, warm_up=True)
        theirs_s = median_s(lambda: theirs(bgr[name]), args.repeats, warm_up=True)
        theirs_ours_s = median_s(lambda: theirs_on_ours(bgr[name]), args.repeats, warm_up=True)
        found, _ = theirs(bgr[name])
        # The same texts (as a multiset): the order of regions is our reading order, not theirs.
        theirs_texts = sorted(squash(t for _, t, _ in (found or [])))
        strong = rapid_boxes.read_regions(image)
        identical = sorted(squash(line.text for line in strong)) == theirs_texts
        same += identical
        extra = {len(ours.read_regions(image)) - len(strong) for ours in (served, alone)}
        added += max(extra)
        added_on += max(extra) > 0
        ratios.append(ours_s / theirs_s)
        alone_ratios.append(alone_s / theirs_s)
        rewritten_ratios.append(ours_s / theirs_ours_s)
        rows.append(f"| {name} | {image.width}x{image.height} | {ours_s * 1000:.0f} | {alone_s * 1000:.0f} "
                    f"| {theirs_s * 1000:.0f} | {theirs_ours_s * 1000:.0f} | {ours_s / theirs_s:.2f} | {alone_s / theirs_s:.2f} "
                    f"| {'yes' if identical else 'no'} | {'/'.join(map(str, sorted(extra)))} |")  # fmt: skip

    batch = [pages[name] for name in pages] * max(1, -(-args.in_flight // len(pages)))
    batch = batch[: max(args.in_flight, len(pages))]
    batch_bgr = [np.asarray(image.convert("RGB"))[:, :, ::-1].copy() for image in batch]
    ours_all = median_s(lambda: list(workers.executor.map(served.read_regions, batch)), args.repeats, warm_up=True)
    workers.shutdown()
    with ThreadPoolExecutor(args.in_flight) as pool:
        theirs_all = median_s(lambda: list(pool.map(theirs, batch_bgr)), args.repeats, warm_up=True)
    theirs_serial = median_s(lambda: [theirs(image) for image in batch_bgr], args.repeats, warm_up=True)

    # What a request gets with others in flight (1 worker x 1 thread): does batching more
    # crops into one recogniser run pay? The runs' sizes change nothing else.
    run_sizes = (1, 2, args.rec_batch)
    narrow = {size: pipeline(models, 1, args.rec_batch, size) for size in run_sizes}
    per_size = {size: 0.0 for size in run_sizes}
    for image in pages.values():
        for size in run_sizes:
            per_size[size] += median_s(lambda: narrow[size].read_regions(image), args.repeats, warm_up=True)

    lines = [
        f"# OCR: ours vs rapidocr-onnxruntime {rapidocr_onnxruntime.__version__ if hasattr(rapidocr_onnxruntime, '__version__') else '1.4.4'}"
        " (same PP-OCRv4 weights; ours rewritten at bundle build, packaging/conv_graph.py)",
        "",
        f"{cpu_line(hardware)}. "
        f"Medians of {args.repeats}. Ours: recogniser crops padded in groups of {args.rec_batch} as RapidOCR's, "
        f"run {args.run_size} at a time; as served: {budget.reason}, "
        f"recogniser runs over idle workers, detector on {budget.wide_threads or budget.intra_op_threads} "
        f"thread(s) when alone; as `run`: 1 worker x {cores} threads. "
        f"Load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after.",
        "",
        "| image | size | ours served ms | ours run ms | rapidocr ms | rapidocr on ours ms | ratio served | ratio run "
        "| same text | lines added |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Single image: median ratio ours/rapidocr **{statistics.median(ratios):.2f}** as served, "
        f"{statistics.median(alone_ratios):.2f} as `run` (target <= 0.9); against RapidOCR on the bundle's "
        f"rewritten files {statistics.median(rewritten_ratios):.2f} as served; "
        f"identical text in the boxes RapidOCR reads on {same}/{len(pages)} images; ours also reads {added} "
        f"line(s) in faint boxes it drops, on {added_on} image(s) (included in our timings).",
        "",
        f"{len(batch)} images in flight: ours {len(batch) / ours_all:.2f} images/s ({budget.reason}); "
        f"rapidocr from {args.in_flight} threads {len(batch) / theirs_all:.2f} images/s, one after another "
        f"{len(batch) / theirs_serial:.2f} images/s; throughput ratio ours/rapidocr(threads) "
        f"**{theirs_all / ours_all:.2f}** (target >= 1.5).",
        "",
        f"Recogniser run size on 1 thread (each page's crops padded as RapidOCR's groups of {args.rec_batch}, "
        "run in pieces of N crops; all pages, sum of medians): "
        + ", ".join(f"{size} crop(s) a run {per_size[size] * 1000:.0f} ms" for size in run_sizes) + ".",
    ]
    comparison = "1. OCR vs rapidocr-onnxruntime (same PP-OCRv4 files)"
    write_figures([
        Figure(comparison, "single image latency, ours as served / theirs (median over images)",
               statistics.median(ratios), "x", at_most=0.9,
               note=f"as `run` (1 worker x {cores} threads): {statistics.median(alone_ratios):.2f}; against "
                    f"RapidOCR on the bundle's rewritten files: {statistics.median(rewritten_ratios):.2f}"),
        Figure(comparison, f"throughput with {len(batch)} images in flight, ours / theirs", theirs_all / ours_all, "x",
               at_least=1.5),
        Figure(comparison, "images whose texts in the boxes RapidOCR reads are identical", same, f"of {len(pages)}", at_least=len(pages)),
    ], args.json)
    return report("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    sys.exit(main())
