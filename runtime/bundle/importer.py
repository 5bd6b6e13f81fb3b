"""`wan2.2-turbo import DIR`: write `bundle.json` for an Optimum / transformers.js folder.

The kind comes from `config.json`, the components and their variants from the ONNX file
names (`onnx/<component>[_<dtype suffix>].onnx`), hashes are computed here.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from runtime.errors import BundleError
from runtime.kinds import KindAdapter, adapter_for, known_kinds

from . import fuse_gpt2, hoist
from .manifest import MANIFEST_NAME, FileEntry, Manifest, Variant, file_entry, parse_manifest

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

_AUX_FILES = (
    "config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json",
    "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
)
logger = logging.getLogger("runtime.bundle")

_ONNX_NAME = re.compile(r"^(?P<stem>[a-z_]+?)(?P<suffix>_fp16|_quantized|_int8|_uint8|_q4f16|_q4|_bnb4)?\.onnx$")


def import_folder(folder: str | Path, name: str | None = None, version: str = "1", int8: bool = False) -> Manifest:
    """Describe `folder` in a new `bundle.json` (overwriting an old one) and return it; a step
    graph that redoes per-request work every step is split first (`_split_step_work`). With
    `int8`, the kind then adds int8 variants measured here against fp32
    (`KindAdapter.import_int8`): `bundle.json` is written before that, so a folder whose int8
    variants fail is left described without them, never listing graphs that import removed."""
    root = Path(folder)
    config = _read_json(root / "config.json")
    adapter = _adapter_for_model_type(root, config.get("model_type"))
    components = _split_step_work(root, adapter, config, _find_components(root, adapter))
    manifest = _manifest(root, config, adapter, adapter.import_int8(root, components, None), name, version)
    (root / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    if int8:
        components = adapter.import_int8(root, components, _Int8Inputs(_generation(root, config),
                                                                      root / "preprocessor_config.json"))
        manifest = _manifest(root, config, adapter, components, name, version)
        (root / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


@dataclass(frozen=True)
class _Int8Inputs:
    """What a kind's int8 measurement reads besides the graphs."""

    generation: dict
    preprocessor: Path


def describe_folder(folder: str | Path, name: str | None = None, version: str = "1") -> Manifest:
    """The manifest `import` would write for `folder` without splitting or quantizing anything,
    hashes computed now. Writes nothing."""
    root = Path(folder)
    config = _read_json(root / "config.json")
    adapter = _adapter_for_model_type(root, config.get("model_type"))
    return _manifest(root, config, adapter, _find_components(root, adapter), name, version)


def _manifest(root: Path, config: dict, adapter: type[KindAdapter], components: dict[str, list[Variant]],
              name: str | None, version: str) -> Manifest:
    components = dict(components)
    plan = adapter.import_plan(config, set(components))
    for component in plan.drop_components:
        components.pop(component, None)
    files = [file_entry(root, f) for f in _AUX_FILES if (root / f).is_file()]
    listed = {f.file for f in files}
    data = {
        "format": 1,
        "name": name or root.resolve().name,
        "version": version,
        "kind": adapter.kind_name,
        "tasks": list(plan.tasks),
        "components": {c: {"variants": [_variant_dict(v) for v in vs]} for c, vs in components.items()},
        "files": [vars(f) for f in files],
        "generation": _generation(root, config),
    }
    for key, file in (("tokenizer", "tokenizer.json"), ("preprocessor", "preprocessor_config.json"), ("config", "config.json")):
        if file in listed:
            data[key] = file
    if plan.max_seq_len:
        data["max_seq_len"] = plan.max_seq_len
    return parse_manifest(json.loads(json.dumps(data)))


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise BundleError(f"{path} is missing; import needs the model's config.json.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path} is not valid JSON: {error}") from error


def _adapter_for_model_type(root: Path, model_type) -> type[KindAdapter]:
    for name in known_kinds():
        adapter = adapter_for(name)
        if model_type in adapter.import_model_types:
            return adapter
    known = sorted(t for name in known_kinds() for t in adapter_for(name).import_model_types)
    raise BundleError(
        f"{root}/config.json has model_type '{model_type}', which import does not know. "
        f"Known: {', '.join(known)}."
    )


def _find_components(root: Path, adapter: type[KindAdapter]) -> dict[str, list[Variant]]:
    layout = adapter.import_layout
    found: dict[str, list[Variant]] = {}
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
    if not found:
        raise BundleError(
            f"No ONNX files for kind '{adapter.kind_name}' found in {onnx_dir} "
            f"(expected {', '.join(stem + '.onnx' for stem in layout)})."
        )
    return found


def _split_step_work(root: Path, adapter: type[KindAdapter], config: dict,
                     found: dict[str, list[Variant]]) -> dict[str, list[Variant]]:
    """`found` with the kind's step graph split in two where that is safe: the work that
    depends only on the encoder's output, run once per request, and the rest, run every step.
    Where the kind can rebuild the pair of fused operators (`KindAdapter.import_fuse`) that is used; else
    the exported graph is cut in two (runtime.bundle.hoist). Only for a folder whose decoders
    are fp32 alone (a quantised merged decoder keeps its precisions) and whose step graph
    holds its own weights; either pair is checked against the exported graph on random inputs
    before it is used, and any failure keeps the exported graphs (logged)."""
    if adapter.import_hoist is None:
        return found
    step_name, varying, once_name = adapter.import_hoist
    steps = found.get(step_name, [])
    onnx_dir = (root / steps[0].file).parent if len(steps) == 1 else (root / "onnx" if (root / "onnx").is_dir() else root)
    once_path, step_path = onnx_dir / f"{once_name}_once.onnx", onnx_dir / f"{step_name}_hoisted.onnx"
    fused_once, fused_step = onnx_dir / f"{once_name}_fused.onnx", onnx_dir / f"{step_name}_fused.onnx"
    hoist.discard(once_path, step_path, fused_once, fused_step)  # an earlier import's: redone or dropped, never stale
    if len(steps) != 1:
        return found
    source = root / steps[0].file
    decoders = [variant for name in adapter.import_hoist_replaces for variant in found.get(name, [])]
    if steps[0].data_files or any(variant.precision != "fp32" for variant in decoders):
        logger.info("import: %s kept as exported (%s)", source.name,
                    "its weights are in external files" if steps[0].data_files else "the decoder has other precisions")
        return found
    fused = adapter.import_fuse(config, source, fused_once, fused_step)
    if fused is not None:
        problem = _problem(fuse_gpt2.check, source, fused)
        if problem is None:
            logger.info("import: %s rebuilt of fused operators (%s, %s)", source.name, fused_step.name, fused_once.name)
            return _replaced(root, adapter, found, ((step_name, fused_step), (once_name, fused_once)))
        hoist.discard(fused_once, fused_step)
        logger.warning("import: the fused step graph for %s was not used: %s", source.name, problem)
    split = hoist.split(source, varying, once_path, step_path)
    if split is None:
        return found
    problem = _problem(hoist.check, source, split, varying)
    if problem is not None:
        hoist.discard(once_path, step_path)
        logger.warning("import: the split of %s was not used: %s", source.name, problem)
        return found
    logger.info("import: %s split: %d nodes that depend only on %s now run once per request (%s)",
                source.name, split.once_nodes, varying, once_path.name)
    return _replaced(root, adapter, found, ((step_name, step_path), (once_name, once_path)))


def _problem(check, *args) -> str | None:
    """What `check(*args)` found wrong with rebuilt graphs, a failure to run it included."""
    try:
        return check(*args)
    except Exception as error:  # noqa: BLE001 - an optimisation: the exported graphs still work
        return f"the check could not run it ({type(error).__name__}: {error})"


def _replaced(root: Path, adapter: type[KindAdapter], found: dict[str, list[Variant]],
              graphs: tuple[tuple[str, Path], ...]) -> dict[str, list[Variant]]:
    """`found` without the decoders `graphs` replace, with each of `graphs` as its fp32 variant."""
    kept = {name: variants for name, variants in found.items() if name not in adapter.import_hoist_replaces}
    for name, path in graphs:
        entry = file_entry(root, path.relative_to(root).as_posix())
        kept[name] = [Variant("fp32", entry.file, entry.sha256, entry.bytes, name="fp32")]
    return kept


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
    if variant.accurate_on:
        data["accurate_on"] = list(variant.accurate_on)
    if variant.measured:
        data["measured"] = [vars(m) for m in variant.measured]
    return data


def _generation(root: Path, config: dict) -> dict:
    # Token ids live in the decoder's section (encoder-decoder), the text section (dual
    # encoders) or the top level; generation_config.json wins where it exists.
    source = {**config.get("text_config", {}), **config.get("decoder", {})}
    source.update({k: v for k, v in config.items() if k.endswith("token_id") and v is not None})
    if (root / "generation_config.json").is_file():
        source.update(_read_json(root / "generation_config.json"))
    keys = ("decoder_start_token_id", "bos_token_id", "eos_token_id", "pad_token_id",
            "num_beams", "repetition_penalty", "length_penalty")
    generation = {k: source[k] for k in keys if source.get(k) is not None}
    if "max_new_tokens" in source:
        generation["max_new_tokens"] = source["max_new_tokens"]
    return generation
