"""8-bit block weights for import --int8 (runtime/bundle/captioner_int8.py)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from runtime.bundle.captioner_int8 import BLOCK, quantize_blocks, weights_8bit


def _dequantized(weight: np.ndarray) -> np.ndarray:
    quantized, scales, zero_points = quantize_blocks(weight)
    outputs, blocks, _ = quantized.shape
    values = (quantized.astype(np.float64) - zero_points.reshape(outputs, blocks, 1)) * scales.reshape(outputs, blocks, 1)
    return values.reshape(outputs, -1).T


def test_blocks_round_each_weight_to_its_nearest_level_and_keep_zero_exact():
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((2 * BLOCK, 5)).astype(np.float32)
    weight[:BLOCK, 0] = 0.0  # a block of zeros
    weight[BLOCK:, 1] = np.abs(weight[BLOCK:, 1])  # a block of positive weights
    _, scales, zero_points = quantize_blocks(weight)
    step = np.repeat(scales.reshape(5, 2), BLOCK, axis=1).T
    assert np.all(np.abs(_dequantized(weight) - weight) <= step / 2 + 1e-6)
    assert np.all(_dequantized(weight)[:BLOCK, 0] == 0.0)
    assert zero_points.reshape(5, 2)[1, 1] == 0  # positive block: its range starts at 0


def test_every_product_by_a_constant_matrix_becomes_8_bit(tmp_path):
    """MatMul, Gemm with bias and transB, and MatMul by a Transpose of a stored matrix (a tied
    LM head) all become MatMulNBits; outputs stay within 8-bit rounding of fp32's."""
    rng = np.random.default_rng(1)
    width = 2 * BLOCK
    a = rng.standard_normal((width, width)).astype(np.float32)
    b = rng.standard_normal((3 * BLOCK, width)).astype(np.float32)  # Gemm transB: [N, K]
    bias = rng.standard_normal(3 * BLOCK).astype(np.float32)
    table = rng.standard_normal((7, 3 * BLOCK)).astype(np.float32)  # [vocabulary, width] read transposed
    nodes = [helper.make_node("MatMul", ["x", "a"], ["h"]),
             helper.make_node("Gemm", ["h", "b", "bias"], ["g"], transB=1),
             helper.make_node("Transpose", ["table"], ["table_t"], perm=[1, 0]),
             helper.make_node("MatMul", ["g", "table_t"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, width])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 7])],
                              [numpy_helper.from_array(v, n) for n, v in (("a", a), ("b", b), ("bias", bias), ("table", table))])
    source, target = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(source))
    assert weights_8bit(source, target) == 3
    model = onnx.load(str(target))
    assert [node.op_type for node in model.graph.node] == ["MatMulNBits"] * 3
    x = rng.standard_normal((4, width)).astype(np.float32)
    want = ort.InferenceSession(str(source)).run(None, {"x": x})[0]
    got = ort.InferenceSession(str(target)).run(None, {"x": x})[0]
    assert np.max(np.abs(got - want)) <= 0.02 * np.max(np.abs(want))
