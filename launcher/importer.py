"""`wan2.2-turbo import DIR`: write `bundle.json` for an Optimum / transformers.js folder.

The kind comes from `config.json`, the components and their variants from the ONNX file
names (`onnx/<component>[_<dtype suffix>].onnx`), hashes are computed here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from runtime.errors import BundleError

from .bundle import MANIFEST_NAME, FileEntry, Manifest, Variant, file_entry, parse_manifest

# transformers.js dtype suffixes → (precision, variant name)
SUFFIXES = {
    "": ("fp32", "fp32"),
    "_fp16": ("fp16", "fp16"),
    "_quantized": ("int8", "quantized"),
    "_int8": ("int8", "int8"),
    "_uint8": ("uint8", "uint8"),
    "_q4": ("int4", "q4"),
    "_q4f16": ("int4", "q4f16"),
    "_bnb4": ("int4", "bnb4"),
}

# Per kind: file stem → component name. Order matters only for readability.
_LAYOUTS = {
    "vision-encoder-decoder": {
        "encoder_model": "encoder",
        "decoder_model_merged": "decoder_merged",
        "decoder_model": "decoder",
        "decoder_with_past_model": "decoder_with_past",
    },
    "clip": {"model": "model", "vision_model": "vision_model", "text_model": "text_model"},
}
_MODEL_TYPES = {"vision-encoder-decoder": "vision-encoder-decoder", "clip": "clip", "siglip": "clip"}
_AUX_FILES = (
    "config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json",
    "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
)
_ONNX_NAME = re.compile(r"^(?P<stem>[a-z_]+?)(?P<suffix>_fp16|_quantized|_int8|_uint8|_q4f16|_q4|_bnb4)?\.onnx$")


def import_folder(folder: str | Path, name: str | None = None, version: str = "1") -> Manifest:
    """Describe `folder` in a new `bundle.json` (overwriting an old one) and return it."""
    root = Path(folder)
    config = _read_json(root / "config.json")
    model_type = config.get("model_type")
    kind = _MODEL_TYPES.get(model_type)
    if kind is None:
        raise BundleError(
            f"{root}/config.json has model_type '{model_type}', which import does not know. "
            f"Known: {', '.join(sorted(_MODEL_TYPES))}."
        )
    components = _find_components(root, kind)
    files = [file_entry(root, f) for f in _AUX_FILES if (root / f).is_file()]
    listed = {f.file for f in files}
    data = {
        "format": 1,
        "name": name or root.resolve().name,
        "version": version,
        "kind": kind,
        "tasks": list(_tasks(kind, config)),
        "components": components,
        "files": [vars(f) for f in files],
        "generation": _generation(root, config),
    }
    for key, file in (("tokenizer", "tokenizer.json"), ("preprocessor", "preprocessor_config.json"), ("config", "config.json")):
        if file in listed:
            data[key] = file
    limit = _max_seq_len(kind, config)
    if limit:
        data["max_seq_len"] = limit
    manifest = parse_manifest(json.loads(json.dumps(data)))
    (root / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise BundleError(f"{path} is missing; import needs the model's config.json.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path} is not valid JSON: {error}") from error


def _find_components(root: Path, kind: str) -> dict:
    layout = _LAYOUTS[kind]
    found: dict[str, list[dict]] = {}
    onnx_dir = root / "onnx" if (root / "onnx").is_dir() else root
    for path in sorted(onnx_dir.glob("*.onnx")):
        match = _ONNX_NAME.match(path.name)
        if not match or match["stem"] not in layout:
            continue
        precision, variant_name = SUFFIXES[match["suffix"] or ""]
        entry = file_entry(root, path.relative_to(root).as_posix())
        variant = Variant(precision, entry.file, entry.sha256, entry.bytes, name=variant_name,
                          data_files=_external_data(root, path))
        found.setdefault(layout[match["stem"]], []).append(variant)
    if kind == "vision-encoder-decoder" and "decoder_merged" in found:
        # A merged decoder covers both steps; the separate graphs are not needed.
        found.pop("decoder", None)
        found.pop("decoder_with_past", None)
    if kind == "clip" and "vision_model" in found and "text_model" in found:
        found.pop("model", None)
    if not found:
        raise BundleError(f"No ONNX files for kind '{kind}' found in {onnx_dir} (expected {', '.join(layout)}).")
    return {
        component: {"variants": [_variant_dict(v) for v in variants]}
        for component, variants in found.items()
    }


def _external_data(root: Path, onnx_path: Path) -> tuple[FileEntry, ...]:
    candidates = sorted(onnx_path.parent.glob(onnx_path.name + "_data*")) + sorted(
        onnx_path.parent.glob(onnx_path.stem + ".onnx.data")
    )
    return tuple(file_entry(root, p.relative_to(root).as_posix()) for p in candidates)


def _variant_dict(variant: Variant) -> dict:
    data = {
        "precision": variant.precision, "file": variant.file, "sha256": variant.sha256,
        "bytes": variant.bytes, "name": variant.name,
    }
    if variant.data_files:
        data["data_files"] = [vars(f) for f in variant.data_files]
    return data


def _tasks(kind: str, config: dict) -> tuple[str, ...]:
    if kind == "clip":
        return ("embed", "rank", "seed")
    if config.get("decoder", {}).get("model_type") == "trocr":
        return ("read", "caption")
    return ("caption",)


def _generation(root: Path, config: dict) -> dict:
    source = dict(config.get("decoder", {}))
    source.update({k: v for k, v in config.items() if k.endswith("token_id")})
    if (root / "generation_config.json").is_file():
        source.update(_read_json(root / "generation_config.json"))
    keys = ("decoder_start_token_id", "bos_token_id", "eos_token_id", "pad_token_id",
            "num_beams", "repetition_penalty", "length_penalty")
    generation = {k: source[k] for k in keys if source.get(k) is not None}
    if "max_new_tokens" in source:
        generation["max_new_tokens"] = source["max_new_tokens"]
    return generation


def _max_seq_len(kind: str, config: dict) -> int | None:
    section = config.get("decoder", {}) if kind == "vision-encoder-decoder" else config.get("text_config", {})
    for key in ("max_position_embeddings", "n_positions"):
        if isinstance(section.get(key), int):
            return section[key]
    return None
