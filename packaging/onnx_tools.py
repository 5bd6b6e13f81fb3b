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
        "MatMulIntegerToFloat",
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


def constant_values(graph: onnx.GraphProto) -> dict:
    """Every tensor of `graph` whose value is fixed: its initializers and its Constant nodes'
    `value` outputs, as numpy arrays by name."""
    from onnx import numpy_helper

    values = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    values.update({node.output[0]: numpy_helper.to_array(node.attribute[0].t) for node in graph.node
                   if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value"})
    return values


def run_both(original: bytes, rewritten: bytes, feeds: dict, outputs: list[str] | None = None) -> tuple[list, list]:
    """The outputs (`outputs`, or all) of two serialized graphs on the same `feeds`, each in a
    quiet onnxruntime CPU session: how a build checks that a rewrite kept a graph's function."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    before, after = (ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"]).run(outputs, feeds)
                     for graph in (original, rewritten))
    return before, after


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


MS_DOMAIN = "com.microsoft"


def per_token_activations(src, dst) -> int:
    """Rewrite a dynamically quantized graph so that each token's activations get their own
    scale; returns how many DynamicQuantizeLinear nodes were replaced.

    onnxruntime's `quantize_dynamic` puts a DynamicQuantizeLinear before each MatMulInteger:
    one uint8 scale and zero point for the whole activation tensor, every text of a batch
    together. A text's vector then depends on the texts batched with it (MiniLM: cosine
    0.987 between "Bill to" alone and batched), so the runtime had to embed one text per run.
    Here each one becomes a symmetric per-row quantization: scale = max |x| / 127 over the
    last axis, zero point 128, written by one per-axis QuantizeLinear over the activations
    flattened to (rows, features). The zero point is the same for every row, so the integer
    product takes a scalar activation zero point (all MatMulInteger takes on CPU); the row
    scale leaves the "activation scale × weight scale" product and multiplies the float
    result instead. MatMulInteger → Cast → Mul(weight scale) becomes one
    MatMulIntegerToFloat (activation scale 1.0, the per-column weight scale; bit for bit the
    three ops' result, 10% more texts/s on a 2-core Xeon), then Mul by the row scale.
    onnxruntime's own fusion of that pattern must not see the row scale: it reads a per-row
    scale as per-column (cosine 0.5 to fp32). Activations stay within [1, 255], so 7-bit
    weights still cannot saturate AVX2's 16-bit pair sums. The ops written need opset 15 to 17
    (Shape's `start`, ReduceMax's `axes` attribute).

    Raises:
        QuantizationError: when the graph's opset is outside 15-17, or a DynamicQuantizeLinear
            feeds something other than MatMulInteger → Cast → Mul(scale product) as the
            first operand, the pattern quantize_dynamic writes.
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    opset = next((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), 0)
    if not 15 <= opset <= 17:
        raise QuantizationError(f"{src}: opset {opset}; per-token activations are written for opset 15-17")
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    producer = {name: node for node in graph.node for name in node.output}
    constants = {
        "per_token/flat": np.array([-1], np.int64), "per_token/zero": np.array(0, np.float32),
        "per_token/one": np.array(1, np.float32), "per_token/127": np.array(127, np.float32),
        "per_token/128": np.array(128, np.float32), "per_token/tiny": np.array(1e-12, np.float32),
        "per_token/zero_point": np.array(128, np.uint8),
    }
    nodes: list[onnx.NodeProto] = []
    # by node id, what replaces it: a MatMulInteger its MatMulIntegerToFloat and row-scale Mul,
    # the Cast, Mul and scale product they stand for nothing
    replacing: dict[int, list[onnx.NodeProto]] = {}
    replaced = 0
    for node in graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
            continue
        replaced += 1
        x, (quantized, scale, zero_point) = node.input[0], node.output
        prefix = f"{node.name or quantized}/per_token"

        def add(op, inputs, output, **attributes):
            nodes.append(helper.make_node(op, inputs, [output], name=f"{prefix}/{output.rsplit('/', 1)[-1]}", **attributes))
            return output

        high = add("ReduceMax", [x], f"{prefix}/max", axes=[-1], keepdims=1)
        low = add("ReduceMin", [x], f"{prefix}/min", axes=[-1], keepdims=1)
        bound = add("Max", [high, add("Neg", [low], f"{prefix}/neg_min")], f"{prefix}/abs_max")
        add("Max", [add("Div", [bound, "per_token/127"], f"{prefix}/scale_raw"), "per_token/tiny"], scale)
        rows = add("Reshape", [scale, "per_token/flat"], f"{prefix}/row_scale")
        points = add("Cast", [add("Add", [add("Mul", [rows, "per_token/zero"], f"{prefix}/zeros"), "per_token/128"],
                                  f"{prefix}/points_float")], f"{prefix}/points", to=TensorProto.UINT8)
        width = add("Shape", [x], f"{prefix}/width", start=-1)
        flat = add("Reshape", [x, add("Concat", ["per_token/flat", width], f"{prefix}/flat_shape", axis=0)], f"{prefix}/flat")
        codes = add("QuantizeLinear", [flat, rows, points], f"{prefix}/codes", axis=0)
        add("Reshape", [codes, add("Shape", [x], f"{prefix}/shape")], quantized)
        for matmul in consumers.get(quantized, []):
            if matmul.op_type != "MatMulInteger" or matmul.input[0] != quantized or len(matmul.input) < 3 \
                    or matmul.input[2] != zero_point:
                raise QuantizationError(f"{src}: {quantized} feeds {matmul.op_type} {matmul.name!r} other than as "
                                        "MatMulInteger's first operand with its own zero point")
            matmul.input[2] = "per_token/zero_point"
            for cast in consumers.get(matmul.output[0], []):
                muls = consumers.get(cast.output[0], []) if cast.op_type == "Cast" else []
                if not muls:
                    raise QuantizationError(f"{src}: {matmul.name}'s result goes to {cast.op_type}, not Cast → Mul")
                other = [name for mul in muls for name in mul.input if name != cast.output[0]]
                product = producer.get(other[0]) if len(muls) == 1 and len(other) == 1 else None
                if muls[0].op_type != "Mul" or product is None or product.op_type != "Mul" or scale not in product.input:
                    raise QuantizationError(f"{src}: {matmul.name}'s result is not scaled by {scale} × a weight scale")
                (weight_scale,) = [name for name in product.input if name != scale]
                result = muls[0].output[0]
                replacing[id(matmul)] = [
                    helper.make_node("MatMulIntegerToFloat",
                                     [*matmul.input[:2], "per_token/one", weight_scale, *matmul.input[2:4]],
                                     [f"{result}/before_row_scale"], name=f"{matmul.output[0]}/to_float", domain=MS_DOMAIN),
                    helper.make_node("Mul", [f"{result}/before_row_scale", scale], [result], name=f"{result}/row_scale")]
                replacing[id(cast)] = replacing[id(muls[0])] = replacing[id(product)] = []
        if any(other.op_type != "MatMulInteger" for other in consumers.get(zero_point, [])):
            raise QuantizationError(f"{src}: {zero_point} is used beyond MatMulInteger")
    del graph.node[:]
    graph.node.extend(new for node in nodes for new in replacing.get(id(node), [node]))
    graph.initializer.extend(numpy_helper.from_array(value, name) for name, value in constants.items())
    if not any(entry.domain == MS_DOMAIN for entry in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return replaced
