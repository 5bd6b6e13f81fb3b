"""Build-time fusion of a traced BERT's self-attention into onnxruntime's MultiHeadAttention.

`torch.onnx.export` of transformers' eager BertSelfAttention writes each layer's attention as
Reshape → Transpose of the projected queries, keys (to B,N,H,S) and values, MatMul, Div by
sqrt(head size), Add of the additive mask built from `attention_mask` ((1 - mask) · float
min), Softmax, MatMul, Transpose and Reshape back, with Shape/Gather/Concat nodes computing
the shapes. onnxruntime fuses none of it for an int8 graph (its AttentionFusion wants the
float projections' MatMuls), and the int8 embedder spent ~18% of its time there (profiler,
2-core Xeon, session 42). `fuse_self_attention` writes each as one com.microsoft
MultiHeadAttention reading the projected queries, keys and values (B, S, hidden) and the
graph's `attention_mask` as its key padding mask, so the projections (float or int8 products)
stay as they are. The vectors come out the same (bit for bit on the Xeon: the padded keys'
weights are 0 either way; packaging/minilm.py checks every build).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import onnx
from onnx import TensorProto, helper

import onnx_tools

MS_DOMAIN = "com.microsoft"
MASK_INT32 = "attention_mask/int32"


class AttentionFusionError(RuntimeError):
    """The graph's attention is not the pattern this module knows."""


def _perm(node: onnx.NodeProto) -> list[int]:
    return next((list(a.ints) for a in node.attribute if a.name == "perm"), [])


def _derives_from(name: str, source: str, producer: dict) -> bool:
    """Whether tensor `name` is computed from graph input `source` (walking producers)."""
    seen, stack = set(), [name]
    while stack:
        current = stack.pop()
        if current == source:
            return True
        node = producer.get(current)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(node.input)
    return False


def fuse_self_attention(model: onnx.ModelProto, num_heads: int, mask_input: str = "attention_mask") -> int:
    """Rewrite every Softmax-centred self-attention of `model` (in place) as MultiHeadAttention.

    Returns:
        how many were fused.
    Raises:
        AttentionFusionError: a Softmax whose surroundings are not the traced pattern (the
            graph is left unusable: call it on a copy), or no `mask_input` graph input.
    """
    graph = model.graph
    if not any(value.name == mask_input for value in graph.input):
        raise AttentionFusionError(f"the graph has no input {mask_input!r}")
    producer = {name: node for node in graph.node for name in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    constants = onnx_tools.constant_values(graph)

    def only(name: str, op_type: str) -> onnx.NodeProto:
        users = consumers.get(name, [])
        if len(users) != 1 or users[0].op_type != op_type:
            raise AttentionFusionError(f"{name} feeds {[u.op_type for u in users]}, expected one {op_type}")
        return users[0]

    def made_by(name: str, op_type: str) -> onnx.NodeProto:
        node = producer.get(name)
        if node is None or node.op_type != op_type:
            raise AttentionFusionError(f"{name} comes from {node.op_type if node else 'outside'}, expected {op_type}")
        return node

    def heads_of(transpose: onnx.NodeProto, perm: list[int]) -> tuple[str, onnx.NodeProto]:
        """The projection (B, S, hidden) a Reshape to (B, S, N, H) and this Transpose split into heads."""
        if _perm(transpose) != perm:
            raise AttentionFusionError(f"{transpose.name}: perm {_perm(transpose)}, expected {perm}")
        reshape = made_by(transpose.input[0], "Reshape")
        return reshape.input[0], reshape

    removed: set[int] = set()
    replacing: dict[int, onnx.NodeProto] = {}
    fused = 0
    for softmax in graph.node:
        if softmax.op_type != "Softmax":
            continue
        add = made_by(softmax.input[0], "Add")
        div = made_by(add.input[0], "Div")
        scores = made_by(div.input[0], "MatMul")
        if not _derives_from(add.input[1], mask_input, producer):
            raise AttentionFusionError(f"{add.name}: the added mask does not come from {mask_input!r}")
        query, query_reshape = heads_of(made_by(scores.input[0], "Transpose"), [0, 2, 1, 3])
        key, key_reshape = heads_of(made_by(scores.input[1], "Transpose"), [0, 2, 3, 1])
        mixed = only(softmax.output[0], "MatMul")
        value, value_reshape = heads_of(made_by(mixed.input[1], "Transpose"), [0, 2, 1, 3])
        back = only(mixed.output[0], "Transpose")
        if _perm(back) != [0, 2, 1, 3]:
            raise AttentionFusionError(f"{back.name}: perm {_perm(back)}, expected [0, 2, 1, 3]")
        merge = [user for user in consumers[back.output[0]] if user.op_type == "Reshape"]
        divisor = constants.get(div.input[1])
        shape = constants.get(query_reshape.input[1])
        if len(merge) != 1 or divisor is None or divisor.size != 1:
            raise AttentionFusionError(f"{softmax.name}: no single Reshape after the heads, or a divisor that is not constant")
        if shape is None and (concat := producer.get(query_reshape.input[1])) is not None and concat.op_type == "Concat":
            # (B, S) from Shape nodes, then the constants N and H
            parts = [constants.get(name) for name in concat.input[-2:]]
            shape = None if any(part is None for part in parts) else np.concatenate([p.reshape(-1) for p in parts])
        head_size = None if shape is None else int(shape.reshape(-1)[-1])
        if shape is not None and shape.size >= 2 and int(shape.reshape(-1)[-2]) != num_heads:
            raise AttentionFusionError(f"{query_reshape.name} splits into {int(shape.reshape(-1)[-2])} heads, not {num_heads}")
        scale = 1.0 / float(divisor.reshape(()))
        if head_size is not None and not math.isclose(scale, 1.0 / math.sqrt(head_size), rel_tol=1e-6):
            raise AttentionFusionError(f"{softmax.name}: scores divided by {float(divisor.reshape(())):g}, not sqrt({head_size})")
        # in the place of the second product: the values are computed by then
        removed.update(id(node) for node in (add, div, scores, softmax, back, merge[0], query_reshape, key_reshape,
                                              value_reshape, producer[scores.input[0]], producer[scores.input[1]],
                                              producer[mixed.input[1]]))
        replacing[id(mixed)] = helper.make_node(
            "MultiHeadAttention", [query, key, value, "", MASK_INT32], [merge[0].output[0]],
            name=f"{softmax.name}/MultiHeadAttention", domain=MS_DOMAIN, num_heads=num_heads, scale=scale)
        fused += 1
    if not fused:
        return 0
    nodes = [helper.make_node("Cast", [mask_input], [MASK_INT32], name=f"{MASK_INT32}/cast", to=TensorProto.INT32)]
    nodes += [replacing.get(id(node), node) for node in graph.node if id(node) not in removed]
    outputs = {value.name for value in graph.output}
    while True:  # the shape arithmetic that fed the removed Reshapes reads nothing now
        read = {name for node in nodes for name in node.input} | outputs
        kept = [node for node in nodes if any(name in read for name in node.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    known = {value.name for value in graph.input} | {tensor.name for tensor in graph.initializer} | {""}
    for node in nodes:  # a removed tensor still read elsewhere, or a node before its inputs
        missing = [name for name in node.input if name not in known]
        if missing:
            raise AttentionFusionError(f"{node.name or node.op_type} reads {missing[0]}, which the fused graph no "
                                       "longer computes before it")
        known.update(node.output)
    del graph.node[:]
    graph.node.extend(nodes)
    read = {name for node in nodes for name in node.input}
    initializers = [tensor for tensor in graph.initializer if tensor.name in read]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    if not any(entry.domain == MS_DOMAIN for entry in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return fused

