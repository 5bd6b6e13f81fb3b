"""A fused step graph for GPT-2 decoders with cross-attention (ViT-GPT2 captioners), built at import.

Optimum's with-past GPT-2 decoder is some 3,000 nodes a step, most of them shape arithmetic
(Shape, Gather, Unsqueeze, Concat, Reshape, Slice) around 72 Gemms: on a 2-core Xeon a ViT-B/16
+ GPT-2 step spent ~17 of its ~40 ms outside the Gemms (issue 13, comparison 5). `build` reads
the weights out of the exported graph, found through the nodes that use them (the exporter
deduplicates equal tensors, so names alone cannot be trusted), and writes two graphs of
onnxruntime's fused operators:
- run once per request: every layer's cross-attention keys and values from the encoder's hidden
  states (`cross.<layer>.key|value`: batch, heads, positions, head size);
- the step: token and position embeddings, then per layer LayerNormalization, MultiHeadAttention
  over the past (causal), SkipLayerNormalization, MultiHeadAttention over the cross keys, the
  MLP with FastGelu; the head shares the token embedding's matrix (Gemm, transB) where the
  export ties them.
The step keeps the exported graph's outputs (logits, present.<layer>.key|value) and inputs
(input_ids, past_key_values.<layer>.key|value), takes position_ids (the exported graph counts
positions from its past) and the once graph's outputs instead of the encoder's states, so
runtime.cached_decoder runs it as it runs the export; import accepts the pair only after
`check` found it gives the exported graph's outputs on random inputs.

Needs the `onnx` package (the `build` extra), like runtime.bundle.hoist.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .hoist import compare, discard, save_model

logger = logging.getLogger("runtime.bundle")

MS_DOMAIN = "com.microsoft"
CROSS_PREFIX = "cross."
# Relative to an output's largest value: fused kernels sum in another order than the export's
# (ViT-B/16 + GPT-2: logits within 2e-6 of the exported graph's).
_TOLERANCE = 1e-4
# GPT-2's activations that onnxruntime has one fused operator for.
_ACTIVATIONS = {"gelu_new": "FastGelu", "gelu_pytorch_tanh": "FastGelu", "gelu": "BiasGelu"}


@dataclass(frozen=True)
class Fused:
    once: Path  # encoder_hidden_states -> cross.<layer>.key|value
    step: Path  # the exported step graph's inputs and outputs, the cross keys as inputs
    layers: int


class _Unfusable(Exception):
    """The exported graph is not the GPT-2 this module knows; the reason says where."""


def build(step_path: Path, config: dict, once_path: Path, new_step_path: Path) -> Fused | None:
    """Write the fused pair for the exported with-past decoder `step_path` of a decoder with
    `config` (the decoder's part of config.json), or None (logged) when it is not a GPT-2 with
    cross-attention this module can read or `onnx` is missing. Neither file is left behind
    unless both were written."""
    try:
        import onnx  # noqa: F401 - only to know whether it is there
    except ImportError:
        logger.info("import: the onnx package is not installed; the decoder is not fused")
        return None
    try:
        result = _build(step_path, config, once_path, new_step_path)
    except _Unfusable as reason:
        result = None
        logger.info("import: %s not fused (%s)", step_path.name, reason)
    except Exception as error:  # noqa: BLE001 - an optimisation: the exported graphs still work
        result = None
        logger.warning("import: %s not fused (%s: %s)", step_path.name, type(error).__name__, error)
    if result is None:
        discard(once_path, new_step_path)
    return result


def check(original: Path, fused: Fused, varying: str = "encoder_hidden_states") -> str | None:
    """None when the fused pair gives the exported step graph's outputs on random inputs
    (`hoist.compare`), within `_TOLERANCE` of each output's scale (the fused kernels round
    otherwise); else why not."""
    return compare(original, fused.once, fused.step, varying,
                   lambda want: _TOLERANCE * max(1.0, float(np.max(np.abs(want), initial=0.0))))


@dataclass(frozen=True)
class _Shape:
    layers: int
    heads: int
    width: int
    epsilon: float
    activation: str
    scales: tuple[float, ...]  # per layer, of the self- and cross-attention scores


def _shape(config: dict) -> _Shape:
    if config.get("model_type") != "gpt2" or not config.get("add_cross_attention"):
        raise _Unfusable("not a GPT-2 decoder with cross-attention")
    layers, heads, width = config.get("n_layer"), config.get("n_head"), config.get("n_embd")
    if not all(isinstance(value, int) and value > 0 for value in (layers, heads, width)) or width % heads:
        raise _Unfusable("config.json lacks n_layer, n_head or n_embd")
    activation = _ACTIVATIONS.get(config.get("activation_function", "gelu_new"))
    if activation is None:
        raise _Unfusable(f"activation {config.get('activation_function')!r} has no fused operator")
    base = 1 / math.sqrt(width // heads) if config.get("scale_attn_weights", True) else 1.0
    by_layer = config.get("scale_attn_by_inverse_layer_idx", False)
    scales = tuple(base / (layer + 1) if by_layer else base for layer in range(layers))
    return _Shape(layers, heads, width, float(config.get("layer_norm_epsilon", 1e-5)), activation, scales)


class _Weights:
    """The exported graph's tensors, looked up through the nodes that use them."""

    def __init__(self, model):
        from onnx import numpy_helper

        graph = model.graph
        self.values = {tensor.name: tensor for tensor in graph.initializer}
        self.constants = {node.output[0]: node for node in graph.node if node.op_type == "Constant"}
        self.nodes = {node.name: node for node in graph.node}
        self.transposes = {node.output[0]: node for node in graph.node if node.op_type == "Transpose"}
        self.aliases = {node.output[0]: node.input[0] for node in graph.node if node.op_type == "Identity"}
        self._to_array = numpy_helper.to_array
        gathers = [name for name in self.nodes if name.endswith("transformer/wte/Gather")]
        if len(gathers) != 1:
            raise _Unfusable("no token embedding node (transformer/wte/Gather)")
        self.prefix = gathers[0][: -len("transformer/wte/Gather")]

    def array(self, name: str) -> np.ndarray:
        while name in self.aliases:  # the exporter's deduplication: one tensor, Identity per other use
            name = self.aliases[name]
        if name in self.values:
            return self._to_array(self.values[name])
        if name in self.constants:
            from onnx import helper

            attribute = next(a for a in self.constants[name].attribute if a.name == "value")
            return self._to_array(helper.get_attribute_value(attribute))
        if name in self.transposes:
            node = self.transposes[name]
            perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
            return np.transpose(self.array(node.input[0]), perm)
        raise _Unfusable(f"tensor {name} is computed, not stored")

    def node(self, path: str, op_type: str):
        node = self.nodes.get(f"{self.prefix}{path}/{op_type}")
        if node is None or node.op_type != op_type:
            raise _Unfusable(f"no {op_type} node {self.prefix}{path}")
        return node

    def linear(self, path: str) -> tuple[np.ndarray, np.ndarray]:
        """(weight [in, out], bias [out]) of a Conv1D, exported as Gemm."""
        node = self.node(path, "Gemm")
        if not plain_gemm(node):
            raise _Unfusable(f"{node.name} is not x @ W + b")
        weight = self.array(node.input[1])
        if any(a.name == "transB" and a.i for a in node.attribute):
            weight = weight.T
        bias = self.array(node.input[2]) if len(node.input) > 2 and node.input[2] else np.zeros(weight.shape[1])
        return weight.astype(np.float32), np.broadcast_to(bias, (weight.shape[1],)).astype(np.float32)

    def norm(self, path: str) -> tuple[np.ndarray, np.ndarray]:
        node = self.node(path, "LayerNormalization")
        width = self.array(node.input[1]).shape[-1]
        return (np.broadcast_to(self.array(node.input[1]), (width,)).astype(np.float32),
                np.broadcast_to(self.array(node.input[2]), (width,)).astype(np.float32))


def plain_gemm(node) -> bool:
    """Whether a Gemm `node` computes x @ B + C (B maybe transposed): no scaling, x as it is."""
    attributes = {a.name: a for a in node.attribute}
    return node.op_type == "Gemm" and all(
        name not in attributes or (attributes[name].f if name in ("alpha", "beta") else attributes[name].i) == value
        for name, value in (("alpha", 1.0), ("beta", 1.0), ("transA", 0)))


class _Graph:
    """Nodes and initializers of one graph under construction."""

    def __init__(self):
        self.nodes, self.initializers = [], []
        self._count = 0

    def constant(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def add(self, op_type: str, inputs: list[str], outputs: int | list[str] = 1, domain: str = "", **attributes):
        from onnx import helper

        self._count += 1
        if isinstance(outputs, int):
            outputs = [f"{op_type.lower()}_{self._count}_{index}" for index in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=f"{op_type}_{self._count}", domain=domain,
                                           **attributes))
        return outputs[0] if len(outputs) == 1 else outputs


def _build(step_path: Path, config: dict, once_path: Path, new_step_path: Path) -> Fused:
    import onnx
    from onnx import helper

    shape = _shape(config)
    model = onnx.load(str(step_path))
    weights = _Weights(model)
    exported_inputs = {value.name: value for value in model.graph.input}
    exported_outputs = [value.name for value in model.graph.output]
    expected = ["logits", *[f"present.{layer}.{part}" for layer in range(shape.layers) for part in ("key", "value")]]
    if exported_outputs != expected:
        raise _Unfusable("its outputs are not logits and present.<layer>.key|value")
    pasts = [f"past_key_values.{layer}.{part}" for layer in range(shape.layers) for part in ("key", "value")]
    if set(exported_inputs) - set(weights.values) != {"input_ids", "encoder_hidden_states", *pasts}:
        raise _Unfusable("its inputs are not input_ids, encoder_hidden_states and the self-attention pasts")
    _write(_once_graph(weights, shape), "cross_keys_once", [_tensor("encoder_hidden_states", 3, shape)],
           [_tensor(f"{CROSS_PREFIX}{layer}.{part}", 4, shape) for layer in range(shape.layers) for part in ("key", "value")],
           model, once_path)
    step = _step_graph(weights, shape)
    positions = helper.make_tensor_value_info("position_ids", onnx.TensorProto.INT64,
                                              ["batch_size", "decoder_sequence_length"])
    inputs = [exported_inputs["input_ids"], positions, *[exported_inputs[name] for name in pasts],
              *[_tensor(f"{CROSS_PREFIX}{layer}.{part}", 4, shape) for layer in range(shape.layers) for part in ("key", "value")]]
    _write(step, "decoder_step_fused", inputs, list(model.graph.output), model, new_step_path)
    return Fused(once_path, new_step_path, shape.layers)


def _tensor(name: str, rank: int, shape: _Shape):
    from onnx import TensorProto, helper

    if rank == 3:  # encoder states: batch, positions, width
        dims = ["batch_size", "encoder_sequence_length", shape.width]
    else:  # batch, heads, positions, head size
        dims = ["batch_size", shape.heads, "encoder_sequence_length", shape.width // shape.heads]
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def _once_graph(weights: _Weights, shape: _Shape) -> _Graph:
    graph = _Graph()
    split_shape = graph.constant("split_heads", np.array([0, 0, shape.heads, shape.width // shape.heads], np.int64))
    halves = graph.constant("halves", np.array([shape.width, shape.width], np.int64))
    for layer in range(shape.layers):
        weight, bias = weights.linear(f"transformer/h.{layer}/crossattention/c_attn")
        projected = graph.add("MatMul", ["encoder_hidden_states", graph.constant(f"h{layer}.cross_kv.weight", weight)])
        projected = graph.add("Add", [projected, graph.constant(f"h{layer}.cross_kv.bias", bias)])
        key, value = graph.add("Split", [projected, halves], 2, axis=2)
        for part, tensor in (("key", key), ("value", value)):
            heads = graph.add("Reshape", [tensor, split_shape])
            graph.add("Transpose", [heads], [f"{CROSS_PREFIX}{layer}.{part}"], perm=[0, 2, 1, 3])
    return graph


def _step_graph(weights: _Weights, shape: _Shape) -> _Graph:
    graph = _Graph()
    token_table = weights.array(weights.node("transformer/wte", "Gather").input[0]).astype(np.float32)
    position_table = weights.array(weights.node("transformer/wpe", "Gather").input[0]).astype(np.float32)
    tokens = graph.add("Gather", [graph.constant("wte", token_table), "input_ids"])
    hidden = graph.add("Add", [tokens, graph.add("Gather", [graph.constant("wpe", position_table), "position_ids"])])
    gamma, beta = weights.norm("transformer/h.0/ln_1")
    normed = graph.add("LayerNormalization", [hidden, graph.constant("h0.ln_1.weight", gamma),
                                              graph.constant("h0.ln_1.bias", beta)], axis=-1, epsilon=shape.epsilon)
    heads, epsilon = shape.heads, shape.epsilon
    halves = graph.constant("thirds", np.array([shape.width] * 3, np.int64))
    for layer in range(shape.layers):
        h = f"transformer/h.{layer}"

        def linear(x: str, path: str, with_bias: bool = True) -> tuple[str, str]:
            weight, bias = weights.linear(f"{h}/{path}")
            out = graph.add("MatMul", [x, graph.constant(f"h{layer}.{path}.weight", weight)])
            return out, graph.constant(f"h{layer}.{path}.bias", bias)

        def residual(x: str, bias: str, skip: str, norm: str) -> tuple[str, str]:
            """LayerNormalization of skip + x + bias (`norm`'s weights), and that sum."""
            gamma, beta = weights.norm(norm)
            name = norm.replace("transformer/", "").replace("/", ".")
            outputs = [f"{name}.normed", "", "", f"{name}.sum"]
            graph.add("SkipLayerNormalization", [x, skip, graph.constant(f"{name}.weight", gamma),
                                                 graph.constant(f"{name}.bias", beta), bias],
                      outputs, domain=MS_DOMAIN, epsilon=epsilon)
            return outputs[0], outputs[3]

        qkv, qkv_bias = linear(normed, "attn/c_attn")
        query, key, value = graph.add("Split", [qkv, halves], 3, axis=2)
        attended = graph.add("MultiHeadAttention", [query, key, value, qkv_bias, "", "",
                                                    f"past_key_values.{layer}.key", f"past_key_values.{layer}.value"],
                             [f"h{layer}.attn", f"present.{layer}.key", f"present.{layer}.value"],
                             domain=MS_DOMAIN, num_heads=heads, unidirectional=1, scale=shape.scales[layer])[0]
        projected, projected_bias = linear(attended, "attn/c_proj")
        normed, hidden = residual(projected, projected_bias, hidden, f"{h}/ln_cross_attn")
        query, query_bias = linear(normed, "crossattention/q_attn")
        query = graph.add("Add", [query, query_bias])
        crossed = graph.add("MultiHeadAttention", [query, f"{CROSS_PREFIX}{layer}.key", f"{CROSS_PREFIX}{layer}.value"],
                            domain=MS_DOMAIN, num_heads=heads, scale=shape.scales[layer])
        projected, projected_bias = linear(crossed, "crossattention/c_proj")
        normed, hidden = residual(projected, projected_bias, hidden, f"{h}/ln_2")
        expanded, expanded_bias = linear(normed, "mlp/c_fc")
        activated = graph.add(shape.activation, [expanded, expanded_bias], domain=MS_DOMAIN)
        projected, projected_bias = linear(activated, "mlp/c_proj")
        following = f"transformer/h.{layer + 1}/ln_1" if layer + 1 < shape.layers else "transformer/ln_f"
        normed, hidden = residual(projected, projected_bias, hidden, following)
    _head(graph, weights, normed, token_table)
    return graph


def _head(graph: _Graph, weights: _Weights, normed: str, token_table: np.ndarray) -> None:
    """logits = normed @ W: the token embedding's own matrix where the export ties the two."""
    node = weights.node("lm_head", "MatMul")
    if weights.nodes.get(f"{weights.prefix}lm_head/Add") is not None:
        raise _Unfusable("the LM head has a bias")
    matrix = weights.array(node.input[1])  # [width, vocabulary]
    if matrix.shape == token_table.T.shape and np.array_equal(matrix.T, token_table):
        width = token_table.shape[1]
        rows = graph.add("Reshape", [normed, graph.constant("rows", np.array([-1, width], np.int64))])
        logits = graph.add("Gemm", [rows, "wte"], transB=1)
        batch_steps = graph.add("Shape", ["input_ids"])
        vocabulary = graph.constant("vocabulary", np.array([token_table.shape[0]], np.int64))
        graph.add("Reshape", [logits, graph.add("Concat", [batch_steps, vocabulary], axis=0)], ["logits"])
    else:
        graph.add("MatMul", [normed, graph.constant("lm_head.weight", matrix.astype(np.float32))], ["logits"])


def _write(graph: _Graph, name: str, inputs: list, outputs: list, source, target: Path) -> None:
    """A model of `graph` with `source`'s opsets (plus com.microsoft) and metadata, written
    through a temporary file (`hoist.save_model`)."""
    from onnx import helper

    body = helper.make_graph(graph.nodes, name, inputs, outputs, graph.initializers)
    opsets = [opset for opset in source.opset_import if opset.domain not in ("", MS_DOMAIN)]
    opsets += [helper.make_opsetid("", 17), helper.make_opsetid(MS_DOMAIN, 1)]
    model = helper.make_model(body, opset_imports=opsets, ir_version=source.ir_version,
                              producer_name="wan2.2-turbo import (fused GPT-2)")
    model.metadata_props.extend(source.metadata_props)
    save_model(model, target)

