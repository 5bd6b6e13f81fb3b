"""packaging/conv_graph.py: PP-LCNet's scalar affines and hard-swish rewritten to the same function."""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import conv_graph

RNG = np.random.default_rng(7)


def _constant(name: str, value) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, np.float32), name)


def _conv(name: str, source: str, output: str, channels: int, kernel: int, pad: int, group: int = 1) -> tuple:
    weights = _constant(f"{name}.w", RNG.normal(0, 0.5, (channels, channels // group, kernel, kernel)))
    bias = _constant(f"{name}.b", RNG.normal(0, 0.5, channels))
    node = helper.make_node("Conv", [source, weights.name, bias.name], [output], name=name,
                            kernel_shape=[kernel, kernel], pads=[pad] * 4, group=group)
    return node, [weights, bias]


def _hard_swish(x: str, out: str) -> tuple:
    nodes = [helper.make_node("Add", [x, "three"], [f"{out}.a"]),
             helper.make_node("Clip", [f"{out}.a", "zero", "six"], [f"{out}.c"]),
             helper.make_node("Mul", [x, f"{out}.c"], [f"{out}.m"]),
             helper.make_node("Div", [f"{out}.m", "six"], [out])]
    return nodes, []


def _model(nodes, initializers, output: str = "y", extra_outputs=()) -> onnx.ModelProto:
    initializers = [*initializers, _constant("three", 3.0), _constant("zero", 0.0), _constant("six", 6.0)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4, None, None])],
                              [helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, 4, None, None])
                               for name in (output, *extra_outputs)],
                              initializer=initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _lcnet_block() -> onnx.ModelProto:
    """conv → s·x+b (scale first as paddle2onnx writes it) → hard-swish → s·x+b → padded
    depthwise conv → s·x+b → hard-swish → s·x+b → 1x1 conv: the PP-LCNetV3 pattern."""
    nodes, initializers = [], []
    for index, (source, kernel, pad, group) in enumerate((("x", 3, 1, 1), ("h1", 3, 1, 4), ("h2", 1, 0, 1))):
        conv, weights = _conv(f"conv{index}", source, f"c{index}", 4, kernel, pad, group)
        nodes.append(conv)
        initializers += weights
        if index == 2:
            nodes[-1].output[0] = "y"
            break
        initializers += [_constant(f"s{index}", RNG.uniform(0.5, 2)), _constant(f"b{index}", RNG.normal()),
                         _constant(f"t{index}", RNG.uniform(0.5, 2)), _constant(f"u{index}", RNG.normal())]
        nodes += [helper.make_node("Mul", [f"s{index}", f"c{index}"], [f"a{index}"]),
                  helper.make_node("Add", [f"a{index}", f"b{index}"], [f"l{index}"])]
        swish, _ = _hard_swish(f"l{index}", f"g{index}")
        nodes += swish
        nodes += [helper.make_node("Mul", [f"g{index}", f"t{index}"], [f"m{index}"]),
                  helper.make_node("Add", [f"m{index}", f"u{index}"], [f"h{index + 1}"])]
    return _model(nodes, initializers)


def _run(model: onnx.ModelProto, batch: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": batch})


def _ops(model: onnx.ModelProto) -> Counter:
    return Counter(node.op_type for node in model.graph.node)


def test_lcnet_block_keeps_its_function_in_fewer_ops():
    model = _lcnet_block()
    batch = RNG.uniform(-3, 3, (2, 4, 9, 13)).astype(np.float32)
    before = _run(model, batch)
    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(model)
    stats = conv_graph.fold_scalar_affines(rewritten)
    onnx.checker.check_model(rewritten)
    assert (stats.into_producer, stats.hard_swish, stats.into_consumer) == (2, 2, 2)
    # the padded depthwise conv keeps one Add (shift / scale), the 1x1 conv takes both
    assert _ops(rewritten) == Counter({"Conv": 3, "HardSigmoid": 2, "Mul": 2, "Add": 1})
    np.testing.assert_allclose(_run(rewritten, batch)[0], before[0], rtol=1e-5, atol=1e-5)
    # the folded weights are new tensors; nothing unused is left behind
    used = {name for node in rewritten.graph.node for name in node.input}
    assert {tensor.name for tensor in rewritten.graph.initializer} <= used


def test_padding_sees_the_shift():
    """Folding a shift into a padded conv's bias would be wrong at the borders: the check
    that keeps the Add must not be skippable."""
    nodes, initializers = [], [_constant("s", 2.0), _constant("b", 5.0)]
    conv, weights = _conv("conv", "z", "y", 4, 3, 1)
    nodes = [helper.make_node("Mul", ["x", "s"], ["m"]), helper.make_node("Add", ["m", "b"], ["z"]), conv]
    model = _model(nodes, initializers + weights)
    batch = RNG.normal(size=(1, 4, 5, 5)).astype(np.float32)
    before = _run(model, batch)[0]
    stats = conv_graph.fold_scalar_affines(model)
    assert stats.into_consumer == 1 and _ops(model) == Counter({"Add": 1, "Conv": 1})
    np.testing.assert_allclose(_run(model, batch)[0], before, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("case", ["shared", "graph output", "lone scale", "vector scale"])
def test_leaves_what_it_cannot_fold_exactly(case):
    conv, weights = _conv("conv", "x", "c", 4, 1, 0)
    scale = _constant("s", np.full((1, 4, 1, 1), 2.0) if case == "vector scale" else 2.0)
    nodes = [conv, helper.make_node("Mul", ["c", "s"], ["y"])]
    extra: tuple = ()
    if case == "shared":  # the conv's output has a second reader
        nodes.append(helper.make_node("Relu", ["c"], ["r"]))
        extra = ("r",)
    elif case == "graph output":
        extra = ("c",)
    elif case == "lone scale":  # a scalar Mul before a conv with no Add: GELU's last op, left to onnxruntime
        nodes = [helper.make_node("Mul", ["x", "s"], ["m"]), conv, helper.make_node("Relu", ["c"], ["y"])]
        nodes[1].input[0] = "m"
    model = _model(nodes, [*weights, scale], extra_outputs=extra)
    before = model.SerializeToString()
    assert conv_graph.fold_scalar_affines(model).total == 0
    assert _ops(model) == _ops(onnx.load_from_string(before))


def test_hard_swish_needs_its_exact_constants():
    nodes, _ = _hard_swish("x", "y")
    model = _model(nodes, [])
    model.graph.initializer[-1].CopyFrom(_constant("six", 5.0))  # clip to 5, divide by 5: not hard-swish
    assert conv_graph.fold_scalar_affines(model).hard_swish == 0
