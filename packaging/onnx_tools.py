"""Build-time ONNX helpers: dynamic int8 quantization and recursive op counting.

Not an importable package (``packaging`` would shadow the PyPA library): put this folder on
``sys.path`` and ``import onnx_tools``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import onnx

# Ops that only exist in a graph after dynamic (or static) quantization did something.
QUANTIZED_OP_TYPES = frozenset(
    {
        "MatMulInteger",
        "DynamicQuantizeLinear",
        "DynamicQuantizeMatMul",
        "QLinearMatMul",
        "QLinearConv",
        "ConvInteger",
        "QAttention",
        "QGemm",
        "DequantizeLinear",
    }
)


class QuantizationError(RuntimeError):
    """Quantization produced a model without any quantized op."""


@dataclass(frozen=True)
class QuantizationStats:
    """What ``quantize_int8`` did: sizes in bytes and the quantized ops it finds."""

    src_bytes: int
    dst_bytes: int
    quantized_ops: int  # counted recursively, subgraphs included
    quantized_ops_in_subgraphs: int
    has_subgraphs: bool


def _subgraphs(node: onnx.NodeProto):
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.GRAPH:
            yield attribute.g
        elif attribute.type == onnx.AttributeProto.GRAPHS:
            yield from attribute.graphs


def _count_graph(graph: onnx.GraphProto, counts: Counter, nested: Counter | None) -> None:
    for node in graph.node:
        counts[node.op_type] += 1
        if nested is not None:
            nested[node.op_type] += 1
        for subgraph in _subgraphs(node):
            _count_graph(subgraph, counts, nested)


def _load_structure(path) -> onnx.ModelProto:
    # Weights are not needed to count ops; skip external data files.
    return onnx.load(str(path), load_external_data=False)


def count_ops(path) -> Counter:
    """Count node op types in an ONNX file, recursing through If/Loop/Scan subgraphs.

    Args:
        path: an .onnx file.
    Returns:
        Counter mapping op type to how many nodes of it the model holds at any depth.
    """
    counts: Counter = Counter()
    _count_graph(_load_structure(path).graph, counts, None)
    return counts


def count_subgraph_ops(path) -> Counter:
    """Like ``count_ops`` but only nodes that live inside subgraphs (If/Loop branches)."""
    counts: Counter = Counter()
    nested: Counter = Counter()
    for node in _load_structure(path).graph.node:
        for subgraph in _subgraphs(node):
            _count_graph(subgraph, counts, nested)
    return nested


def _has_subgraphs(model: onnx.ModelProto) -> bool:
    return any(True for node in model.graph.node for _ in _subgraphs(node))


def quantize_int8(src, dst, per_channel: bool = False, reduce_range: bool = False) -> QuantizationStats:
    """Dynamic int8 quantization (QInt8 weights) of ``src`` into ``dst``.

    Merged decoders keep their two branches inside an ``If``: without ``EnableSubgraph``
    onnxruntime quantizes nothing there and the file even grows, silently, so it is turned
    on whenever the model has subgraphs.

    Args:
        src: fp32 .onnx file.
        dst: where to write the quantized model (its folder must exist).
        per_channel: one scale per output channel instead of per tensor; keeps layers fed
            by wide activation ranges (e.g. GELU outputs) accurate at the same size.
        reduce_range: 7-bit weights. uint8 activations times 7-bit weights cannot saturate
            the 16-bit pair sums of onnxruntime's AVX2 / AVX-512 (non-VNNI) kernels, so the
            graph computes the same integers on those CPUs as on VNNI ones (measured on AVX2
            and VNNI; a bundle declares only the kernel families it measured).
    Returns:
        QuantizationStats with file sizes and quantized-op counts.
    Raises:
        QuantizationError: if the result holds no quantized op at all, or a model with
            subgraphs got none inside them.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dst = Path(src), Path(dst)
    has_subgraphs = _has_subgraphs(_load_structure(src))
    extra_options = {"EnableSubgraph": True} if has_subgraphs else {}
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        per_channel=per_channel,
        reduce_range=reduce_range,
        extra_options=extra_options,
    )
    quantized = sum(n for op, n in count_ops(dst).items() if op in QUANTIZED_OP_TYPES)
    nested = sum(n for op, n in count_subgraph_ops(dst).items() if op in QUANTIZED_OP_TYPES)
    if quantized == 0 or (has_subgraphs and nested == 0):
        raise QuantizationError(
            f"quantizing {src.name} produced no quantized ops"
            f" ({quantized} in total, {nested} inside If/Loop branches); check that the"
            " model has MatMul weights and that EnableSubgraph reached the quantizer"
        )
    return QuantizationStats(
        src_bytes=src.stat().st_size,
        dst_bytes=dst.stat().st_size,
        quantized_ops=quantized,
        quantized_ops_in_subgraphs=nested,
        has_subgraphs=has_subgraphs,
    )


def build_stamp(sources, packages, salt: str = "") -> str:
    """Hash of the build scripts `sources` and the installed versions of `packages`: what a
    cached build's output depends on besides its inputs (onnx_tools.py is always included)."""
    digest = hashlib.sha256(salt.encode())
    for source in (*sources, Path(__file__)):
        digest.update(Path(source).read_bytes())
    for package in packages:
        try:
            digest.update(f"{package}=={metadata.version(package)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} missing\n".encode())
    return digest.hexdigest()
