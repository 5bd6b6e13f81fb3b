"""Assemble the `ocr` bundle (PP-OCRv4 det + cls + rec) from the pinned rapidocr wheel.

Only the ONNX files are taken from `rapidocr-onnxruntime==1.4.4`; its Python pipeline is
not used at run time. The recognizer's character list is embedded in its metadata.
The `reader` bundle (issue 3) builds on the same files.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime.bundle import MANIFEST_NAME, file_entry, parse_manifest  # noqa: E402

RAPIDOCR_VERSION = "1.4.4"
OCR_FILES = {
    "ocr_det": "ch_PP-OCRv4_det_infer.onnx",
    "ocr_cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "ocr_rec": "ch_PP-OCRv4_rec_infer.onnx",
}
LICENSE_NOTE = (
    "PP-OCRv4 detection/recognition and PP-OCR mobile v2.0 direction classifier: PaddleOCR, "
    "Apache-2.0, ONNX files as distributed in the PyPI wheel rapidocr-onnxruntime==1.4.4 (Apache-2.0)."
)


def rapidocr_models_dir() -> Path:
    """The wheel's models folder, found without importing rapidocr (it pulls in opencv)."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None:
        raise SystemExit(f"rapidocr-onnxruntime=={RAPIDOCR_VERSION} is not installed; run 'python3 build.py test' setup first.")
    return Path(spec.origin).parent / "models"


def copy_ocr_models(out_dir: Path) -> dict:
    """Copy the three OCR models into `out_dir/models`; return their bundle.json components."""
    source = rapidocr_models_dir()
    (out_dir / "models").mkdir(parents=True, exist_ok=True)
    components = {}
    for component, name in OCR_FILES.items():
        target = out_dir / "models" / name
        if not target.exists() or target.stat().st_size != (source / name).stat().st_size:
            shutil.copyfile(source / name, target)
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
