"""Photo models, fp32 against int8 (issue 11): do int8 variants keep the detections and labels,
and are they faster on this CPU?

    .venv/bin/python bench/photos_int8.py [--bundle DIR] [--repeats 5] [--out bench/results/photos_int8.md]

The bundle's fp32 detector (NanoDet-g) and classifier (EfficientNet-Lite0) are quantized
here, into a temporary folder, two ways: dynamic int8 (onnxruntime `quantize_dynamic`, int8
weights, activations quantized at run time: ConvInteger) and static int8 (`quantize_static`,
QDQ format, per-channel int8 weights, uint8 activations whose ranges come from calibration
photos: QLinearConv), and static with the output heads left fp32. Calibration uses scikit-image images that are not evaluated
(microscopy, retina, colour wheel, coins, clock, moon, Hubble field); evaluation uses its
photos of people, animals and things (astronaut, chelsea, coffee, rocket, camera, horse,
the left motorcycle). A photo where neither finds anything counts as the same result. Per variant: file size; per photo the median time of one session run
(detector: one 416x416 letterboxed image; classifier: one 224x224 crop); the detections
kept at the runtime's threshold compared with fp32's (same labels, box IoU >= 0.5); the
classifier's top-1 compared with fp32's. The CPU flags are printed with the figures.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "packaging"))

import photo_models  # noqa: E402  (photo(): scikit-image's samples as RGB images, as the build checks parity on)
from bench_common import report  # noqa: E402
from photos import arguments, median_s  # noqa: E402  (bench/photos.py: the photo benches' options and timer)

from runtime.placement import detect_hardware  # noqa: E402
from runtime.session import ComponentSession, SessionConfig  # noqa: E402
from runtime.vision.boxes import box_iou  # noqa: E402
from runtime.vision.classifier import ImageClassifier, centre_crop  # noqa: E402
from runtime.vision.detector import ObjectDetector, letterbox  # noqa: E402

EVALUATED = ("astronaut", "chelsea", "coffee", "rocket", "camera", "horse", "motorcycle")
CALIBRATION = ("immunohistochemistry", "retina", "colorwheel", "coins", "clock", "moon", "hubble_deep_field")
DETECTOR_SIZE = 416


class _Reader:
    """onnxruntime's calibration data reader over preprocessed calibration images."""

    def __init__(self, input_name: str, batches: list[np.ndarray]):
        self._items = iter([{input_name: batch} for batch in batches])

    def get_next(self):
        return next(self._items, None)


def quantized(source: Path, folder: Path, kind: str, input_name: str, batches: list[np.ndarray]) -> Path:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    target = folder / f"{source.stem}.{kind.replace(' ', '_').replace(',', '')}.onnx"
    if kind == "dynamic":
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    else:
        # "heads fp32": the convolutions that produce the outputs, and everything after them
        # (split, sigmoid, reshape), stay fp32: a score quantized to uint8 loses its low range.
        excluded = _heads(source) if kind == "static, heads fp32" else []
        quantize_static(str(source), str(target), _Reader(input_name, batches), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        nodes_to_exclude=excluded)
    return target


def _heads(source: Path) -> list[str]:
    """The nodes between the last convolution before each graph output and the output."""
    import onnx

    graph = onnx.load(str(source)).graph
    producer = {output: node for node in graph.node for output in node.output}
    excluded: list[str] = []
    for output in graph.output:
        node = producer.get(output.name)
        while node is not None:
            excluded.append(node.name)
            if node.op_type == "Conv":
                break
            node = next((producer[i] for i in node.input if i in producer), None)
    return list(dict.fromkeys(excluded))


def session(path: Path, component: str) -> ComponentSession:
    return ComponentSession(component, path, SessionConfig(intra_op_threads=2))


def same_detections(reference, other) -> bool:
    if sorted(d.label for d in reference) != sorted(d.label for d in other):
        return False
    for d in reference:
        candidates = [o for o in other if o.label == d.label]
        if not candidates or box_iou(np.asarray(d.box), np.asarray([o.box for o in candidates])).max() < 0.5:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.splitlines()[0], argv)
    hardware = detect_hardware()
    files = {"detector": args.bundle / photo_models.FOLDER / photo_models.DETECTOR_FILE,
             "classifier": args.bundle / photo_models.FOLDER / photo_models.CLASSIFIER_FILE}
    photos = {name: photo_models.photo(name) for name in EVALUATED}
    calibration = [photo_models.photo(name) for name in CALIBRATION]
    lines = [f"# Photo models, fp32 vs int8\n",
             f"CPU: {hardware.cpu_model}; flags {', '.join(sorted(hardware.isa))}; "
             f"2 intra-op threads; median of {args.repeats} runs per photo.\n"]
    with tempfile.TemporaryDirectory() as folder:
        variants = {}
        for component, source in files.items():
            probe = session(source, component)
            input_name = next(iter(probe.inputs))
            if component == "detector":
                batches = [letterbox(image, DETECTOR_SIZE)[0][None] for image in calibration]
            else:
                batches = [centre_crop(image)[None] for image in calibration]
            variants[component] = {"fp32": source}
            for kind in ("dynamic", "static", "static, heads fp32"):
                variants[component][f"int8 {kind}"] = quantized(source, Path(folder), kind, input_name, batches)
        lines.append("| component | variant | MB | median ms per photo | same result as fp32 |")
        lines.append("| --- | --- | ---: | ---: | ---: |")
        details = []
        for component, paths in variants.items():
            reference = None
            for variant, path in paths.items():
                loaded = session(path, component)
                if component == "detector":
                    model = ObjectDetector(loaded)
                    results = {name: model.detect([image])[0] for name, image in photos.items()}
                    times = [1000 * median_s(lambda image=image: model.detect([image]), args.repeats) for image in photos.values()]
                    agree = (lambda a, b: same_detections(a, b))
                    shown = {name: ", ".join(f"{d.label} {d.score:.2f}" for d in found) or "-" for name, found in results.items()}
                else:
                    model = ImageClassifier(loaded)
                    results = {name: model.classify([image])[0][0] for name, image in photos.items()}
                    times = [1000 * median_s(lambda image=image: model.classify([image]), args.repeats) for image in photos.values()]
                    agree = (lambda a, b: a.name == b.name)
                    shown = {name: f"{label.name} {label.score:.2f}" for name, label in results.items()}
                reference = reference or results
                same = sum(agree(reference[name], results[name]) for name in photos)
                size = path.stat().st_size / 1e6
                lines.append(f"| {component} | {variant} | {size:.1f} | {statistics.median(times):.0f} | {same}/{len(photos)} |")
                details.append(f"- {component} {variant}: " + "; ".join(f"{name}: {text}" for name, text in shown.items()))
                print(lines[-1], flush=True)
    return report("\n".join(lines + ["", "What each variant found:", *details, ""]), args.out)


if __name__ == "__main__":
    sys.exit(main())
