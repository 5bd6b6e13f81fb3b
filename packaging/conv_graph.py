"""Build-time rewrite of PaddleOCR's exported convolution graphs (issue 13, comparison 1).

PP-OCRv4's detector and recogniser and PP-OCR's direction classifier (PP-LCNet backbones,
exported by paddle2onnx) follow many convolutions with a "learnable affine block": a Mul by
one learned scalar and an Add of another, and write hard-swish as four elementwise ops
(x · clip(x + 3, 0, 6) / 6), itself followed by another scalar Mul and Add. onnxruntime
fuses none of it (its Conv+Mul fusion wants the constant as the Mul's second input; it has
no fusion for the affine pair before a Conv), so every one of those ops is a full pass over
an activation tensor: in onnxruntime's profiler they were 48% of the recogniser's time and
40% of the detector's, more than the convolutions themselves (2-core Xeon, session 42).

`fold_scalar_affines` rewrites the graph to the same function:
- a Conv followed by a chain of scalar Mul/Add ops (its output's only use) takes them into
  its weights and bias: conv(W)·s + b = conv(W·s) with bias B·s + b;
- hard-swish becomes x · HardSigmoid(x; alpha 1/6, beta 1/2), two ops instead of four;
- a scalar Mul then a scalar Add feeding a Conv (their outputs' only uses) go into that
  Conv: the scale into its weights (exact with zero padding too: s · 0 = 0); the shift into
  its bias, by the sum of each output channel's weights, where the Conv pads nothing, and
  otherwise stays an Add of shift / scale before it (padding would see the shift).
Float results move by rounding only (the check in packaging/ocr_bundle.py runs both graphs).
A scalar Mul before a Conv with no scalar Add between is left alone: onnxruntime fuses the
one ending GELU's pattern (PP-OCRv6's recogniser). Subgraphs (If/Loop bodies) are not read:
the graphs this is for have none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper

import onnx_tools


@dataclass(frozen=True)
class FoldStats:
    """How many of each rewrite `fold_scalar_affines` made."""

    into_producer: int  # scalar Mul/Add chains taken into the Conv before them
    hard_swish: int  # x·clip(x+3,0,6)/6 written as x·HardSigmoid(x)
    into_consumer: int  # scalar Mul → Add pairs taken into the Conv after them

    @property
    def total(self) -> int:
        return self.into_producer + self.hard_swish + self.into_consumer


class _Graph:
    """Producers, consumers and constant values of a graph's tensors."""

    def __init__(self, graph: onnx.GraphProto):
        self.graph = graph
        self.values = onnx_tools.constant_values(graph)
        self.consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        for node in graph.node:
            for name in node.input:
                self.consumers[name].append(node)
        self.outputs = {output.name for output in graph.output}
        self.removed: set[int] = set()
        self.added: list[onnx.TensorProto] = []

    def scalar(self, name: str) -> float | None:
        value = self.values.get(name)
        # rank 0 or 1 only: a (1, 1, 1, 1, 1) operand would broadcast the result up a rank
        if value is None or value.size != 1 or value.ndim > 1 or value.dtype != np.float32:
            return None
        return float(value.reshape(()))

    def only_use(self, name: str) -> onnx.NodeProto | None:
        """The one node reading `name`, when nothing else (a graph output included) does."""
        users = self.consumers.get(name, [])
        return users[0] if len(users) == 1 and name not in self.outputs else None

    def scalar_operand(self, node: onnx.NodeProto) -> tuple[str, float] | None:
        """(the tensor operand, the scalar) of a binary op with one scalar constant operand."""
        if len(node.input) != 2:
            return None
        for index in (0, 1):
            value = self.scalar(node.input[1 - index])
            if value is not None and node.input[index] not in self.values:
                return node.input[index], value
        return None

    def conv_weights(self, conv: onnx.NodeProto) -> tuple[np.ndarray, np.ndarray] | None:
        weights = self.values.get(conv.input[1])
        if weights is None or weights.dtype != np.float32:
            return None
        bias = self.values.get(conv.input[2]) if len(conv.input) > 2 and conv.input[2] else np.zeros(weights.shape[0], np.float32)
        return None if bias is None else (weights, bias)

    def constant(self, value: np.ndarray, name: str) -> str:
        self.values[name] = np.asarray(value, np.float32)
        self.added.append(numpy_helper.from_array(self.values[name], name))
        return name

    def set_conv(self, conv: onnx.NodeProto, source: str, weights: np.ndarray, bias: np.ndarray, tag: str) -> None:
        inputs = [source, self.constant(weights, f"{conv.input[1]}/{tag}/weights"),
                  self.constant(bias, f"{conv.input[1]}/{tag}/bias")]
        del conv.input[:]
        conv.input.extend(inputs)


def _pads(conv: onnx.NodeProto) -> bool:
    for attribute in conv.attribute:
        if attribute.name == "auto_pad" and attribute.s not in (b"", b"NOTSET", b"VALID"):
            return True
        if attribute.name == "pads" and any(attribute.ints):
            return True
    return False


def _clip_bounds(graph: _Graph, clip: onnx.NodeProto) -> tuple[float | None, float | None]:
    attributes = {attribute.name: attribute.f for attribute in clip.attribute}  # opset < 11
    low = graph.scalar(clip.input[1]) if len(clip.input) > 1 and clip.input[1] else attributes.get("min")
    high = graph.scalar(clip.input[2]) if len(clip.input) > 2 and clip.input[2] else attributes.get("max")
    return low, high


def _into_producers(graph: _Graph) -> int:
    folded = 0
    for conv in list(graph.graph.node):
        if conv.op_type != "Conv" or id(conv) in graph.removed or (found := graph.conv_weights(conv)) is None:
            continue
        scale, shift, chain, tensor = 1.0, 0.0, [], conv.output[0]
        while (user := graph.only_use(tensor)) is not None and user.op_type in ("Mul", "Add") \
                and (operand := graph.scalar_operand(user)) is not None and operand[0] == tensor:
            if user.op_type == "Mul":
                scale, shift = scale * operand[1], shift * operand[1]
            else:
                shift += operand[1]
            chain.append(user)
            tensor = user.output[0]
        if not chain:
            continue
        weights, bias = found
        graph.set_conv(conv, conv.input[0], weights * np.float32(scale), bias * np.float32(scale) + np.float32(shift),
                       f"affine{folded}")
        conv.output[0] = tensor
        graph.removed.update(id(node) for node in chain)
        folded += 1
    return folded


def _hard_swishes(graph: _Graph, replacing: dict[int, list[onnx.NodeProto]]) -> int:
    found = 0
    for add in graph.graph.node:
        if add.op_type != "Add" or id(add) in graph.removed:
            continue
        operand = graph.scalar_operand(add)
        clip = graph.only_use(add.output[0])
        if operand is None or operand[1] != 3.0 or clip is None or clip.op_type != "Clip" \
                or _clip_bounds(graph, clip) != (0.0, 6.0):
            continue
        x = operand[0]
        mul = graph.only_use(clip.output[0])
        if mul is None or mul.op_type != "Mul" or sorted(mul.input) != sorted([x, clip.output[0]]):
            continue
        div = graph.only_use(mul.output[0])
        if div is None or div.op_type != "Div" or div.input[0] != mul.output[0] or graph.scalar(div.input[1]) != 6.0:
            continue
        result = div.output[0]
        graph.removed.update((id(add), id(clip), id(mul)))
        replacing[id(div)] = [
            helper.make_node("HardSigmoid", [x], [f"{result}/gate"], name=f"{result}/gate", alpha=1 / 6, beta=0.5),
            helper.make_node("Mul", [x, f"{result}/gate"], [result], name=f"{result}/hard_swish"),
        ]
        found += 1
    return found


def _into_consumers(graph: _Graph) -> int:
    folded = 0
    for mul in graph.graph.node:
        if mul.op_type != "Mul" or id(mul) in graph.removed or (scaled := graph.scalar_operand(mul)) is None:
            continue
        x, scale = scaled
        add = graph.only_use(mul.output[0])
        shifted = graph.scalar_operand(add) if add is not None and add.op_type == "Add" else None
        conv = graph.only_use(add.output[0]) if shifted is not None else None
        if not 1e-6 <= abs(scale) < float("inf") or conv is None or conv.op_type != "Conv" or conv.input[0] != add.output[0] \
                or (found := graph.conv_weights(conv)) is None:
            continue
        weights, bias = found
        shift = shifted[1]
        graph.removed.add(id(mul))
        if _pads(conv):  # conv(W, s·x + b) = conv(W·s, x + b/s): the shift must meet the padding as before
            add.input[0], add.input[1] = x, graph.constant(np.float32(shift / scale), f"{add.output[0]}/shift")
            source, new_bias = add.output[0], bias
        else:
            graph.removed.add(id(add))
            source = x
            new_bias = bias + np.float32(shift) * weights.reshape(weights.shape[0], -1).sum(axis=1)
        graph.set_conv(conv, source, weights * np.float32(scale), new_bias, f"scaled{folded}")
        folded += 1
    return folded


def fold_scalar_affines(model: onnx.ModelProto) -> FoldStats:
    """Rewrite `model`'s graph in place as the module docstring says; drops the constants
    nothing reads any more. Subgraphs (If/Loop bodies) are left as they are."""
    graph = _Graph(model.graph)
    into_producer = _into_producers(graph)
    replacing: dict[int, list[onnx.NodeProto]] = {}
    hard_swish = _hard_swishes(graph, replacing)
    into_consumer = _into_consumers(graph)
    nodes = [new for node in model.graph.node if id(node) not in graph.removed for new in replacing.get(id(node), [node])]
    used = {name for node in nodes for name in node.input} | graph.outputs
    nodes = [node for node in nodes if node.op_type != "Constant" or node.output[0] in used]
    initializers = [tensor for tensor in (*model.graph.initializer, *graph.added) if tensor.name in used]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    del model.graph.initializer[:]
    model.graph.initializer.extend(initializers)
    return FoldStats(into_producer, hard_swish, into_consumer)
