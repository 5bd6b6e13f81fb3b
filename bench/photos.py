"""Photo models of the default reader bundle (issue 11): what they cost and what they get right.

    .venv/bin/python bench/photos.py [--bundle DIR] [--repeats 5] [--out bench/results/photos.md]

Prints, with the CPU flags it ran on: the bundle size the detector and classifier add, the
load time with and without them (the classifier's labels are embedded on first use: the
first photo question's extra cost is printed too), and per scikit-image photo the median
latency of the detector (with tiling, as answers use it), the classifier, OCR, and a whole
caption / count / presence answer through `model.caption` / `model.ask`. fp32 only: the
photo components ship no int8 variant (bench/photos_int8.py measures why: no int8 variant
kept the results and ran faster). The captions are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "packaging"))

import photo_models  # noqa: E402
from bench_common import default_bundle, median_s, remember_pictures, report  # noqa: E402  (median_s: photos_int8 takes it from here)

from runtime import load_model  # noqa: E402
from runtime.placement import detect_hardware  # noqa: E402
from runtime.vision.tiling import detect_tiled  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "camera", "rocket", "motorcycle")
PHOTO_COMPONENTS = ("detector", "classifier")


def photo_bytes(bundle: Path) -> int:
    manifest = json.loads((bundle / "bundle.json").read_text())
    files = [v["file"] for name in PHOTO_COMPONENTS for v in manifest["components"].get(name, {}).get("variants", [])]
    files += [entry["file"] for entry in manifest.get("files", []) if entry["file"].startswith("photo/")]
    return sum((bundle / name).stat().st_size for name in dict.fromkeys(files))


def without_photo_models(bundle: Path, target: Path) -> Path:
    """A copy of the bundle's manifest without the photo components (model files linked)."""
    manifest = json.loads((bundle / "bundle.json").read_text())
    for name in PHOTO_COMPONENTS:
        manifest["components"].pop(name, None)
    target.mkdir(parents=True)
    for item in bundle.iterdir():
        if item.name != "bundle.json":
            (target / item.name).symlink_to(item.resolve())
    (target / "bundle.json").write_text(json.dumps(manifest, indent=2))
    return target


def load_seconds(bundle: Path) -> tuple[float, object]:
    began = time.perf_counter()
    model = load_model(bundle, precision="fp32")
    return time.perf_counter() - began, model


def arguments(description: str, argv: list[str] | None) -> argparse.Namespace:
    """--bundle (the built reader bundle, else the tests' one), --repeats, --out: the photo benches' options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bundle", type=Path, default=default_bundle())
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.splitlines()[0], argv)
    hardware = detect_hardware()
    lines = [
        "# Photo models: cost and captions", "",
        f"`.venv/bin/python bench/photos.py {' '.join(sys.argv[1:])}`", "",
        f"- CPU: {hardware.cpu_model}; {hardware.usable_cores} usable cores; flags {', '.join(sorted(hardware.isa))}; "
        f"int8 kernels: {hardware.int8_kernels}",
        f"- bundle: {args.bundle}; photo files added: {photo_bytes(args.bundle) / 1e6:.1f} MB (fp32 only)",
    ]
    with tempfile.TemporaryDirectory() as scratch:
        plain_s, _ = load_seconds(without_photo_models(args.bundle, Path(scratch) / "plain"))
        shutil.rmtree(Path(scratch) / "plain")
    load_s, model = load_seconds(args.bundle)
    adapter = model._adapter
    # Each timed call repeats one photo: with the reader's per-picture memos (OCR, detections,
    # labels) every repeat after the first would time a lookup, not the work.
    remember_pictures(adapter, 0)
    photos = {name: photo_models.photo(name) for name in PHOTOS}
    began = time.perf_counter()
    model.ask(photos["chelsea"], "Are there any tigers?")  # embeds the ImageNet labels once
    first_s = time.perf_counter() - began
    lines += [f"- load: {load_s:.1f} s with the photo models, {plain_s:.1f} s without; the first question naming "
              f"an object also embeds the 1,000 ImageNet labels: {first_s:.1f} s (once per process)", "",
              "| photo | size | detector ms | classifier ms | OCR ms | caption ms | count ms | presence ms | caption |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    totals = {key: [] for key in ("detector", "classifier", "answer")}
    for name, image in photos.items():
        detector_s = median_s(lambda: detect_tiled(adapter._detector, image), args.repeats)
        classifier_s = median_s(lambda: adapter.classify([image]), args.repeats)
        ocr_s = median_s(lambda: adapter._regions(image), args.repeats)
        caption_s = median_s(lambda: model.caption(image), args.repeats)
        count_s = median_s(lambda: model.ask(image, "How many people are there?"), args.repeats)
        presence_s = median_s(lambda: model.ask(image, "Is there a cat?"), args.repeats)
        totals["detector"].append(detector_s)
        totals["classifier"].append(classifier_s)
        totals["answer"] += [caption_s, count_s, presence_s]
        width, height = image.size
        lines.append(f"| {name} | {width}x{height} | {detector_s * 1e3:.0f} | {classifier_s * 1e3:.0f} | "
                     f"{ocr_s * 1e3:.0f} | {caption_s * 1e3:.0f} | {count_s * 1e3:.0f} | {presence_s * 1e3:.0f} | "
                     f"{model.caption(image).text} |")
    lines += ["", "Medians over photos: " + ", ".join(
        f"{key} {statistics.median(values) * 1e3:.0f} ms" for key, values in totals.items())
        + " (a whole answer runs OCR, the detector and the classifier; OCR is most of it)."]
    return report("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    sys.exit(main())
