"""packaging/bert_attention.py on a tiny random BERT traced as packaging/minilm.py traces MiniLM."""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import pytest

import bert_attention
import minilm
import onnx_tools


@pytest.fixture(scope="module")
def traced(tmp_path_factory) -> onnx.ModelProto:
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(3)
    source = tmp_path_factory.mktemp("tiny_bert")
    config = BertConfig(vocab_size=10_000, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).eval().save_pretrained(str(source))
    target = source / "model.onnx"
    minilm._export_fp32(source, target, max_seq_len=64)
    return onnx.load(str(target))


def _batch(lengths: list[int], width: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(len(lengths))
    ids = rng.integers(1000, 9000, (len(lengths), width)).astype(np.int64)
    mask = (np.arange(width)[None, :] < np.array(lengths)[:, None]).astype(np.int64)
    return {"input_ids": ids * mask, "attention_mask": mask}


def test_fused_graph_gives_the_same_vectors_padding_included(traced):
    model = onnx.ModelProto()
    model.CopyFrom(traced)
    assert bert_attention.fuse_self_attention(model, num_heads=4) == 2
    onnx.checker.check_model(model)
    ops = Counter(node.op_type for node in model.graph.node)
    assert ops["MultiHeadAttention"] == 2 and ops["Softmax"] == 0 and ops["Transpose"] == 0
    for lengths, width in (([9, 3, 1], 9), ([5], 5), ([2, 2], 7)):
        batch = _batch(lengths, width)
        (before,), (after,) = onnx_tools.run_both(traced.SerializeToString(), model.SerializeToString(),
                                                   batch, [minilm.OUTPUT_NAME])
        difference = float(np.abs(before - after).max())
        assert difference < 1e-5, (lengths, width, difference)


def test_a_wrong_head_count_is_refused(traced):
    model = onnx.ModelProto()
    model.CopyFrom(traced)
    with pytest.raises(bert_attention.AttentionFusionError, match="4 heads, not 2"):
        bert_attention.fuse_self_attention(model, num_heads=2)


def test_a_mask_from_elsewhere_is_refused(traced):
    """An additive mask that is not computed from `attention_mask` (here a graph input of its
    own) cannot become MultiHeadAttention's key padding mask."""
    from onnx import TensorProto, helper

    model = onnx.ModelProto()
    model.CopyFrom(traced)
    model.graph.input.append(helper.make_tensor_value_info("bias", TensorProto.FLOAT, ["batch", 1, 1, "sequence"]))
    producer = {name: node for node in model.graph.node for name in node.output}
    for node in model.graph.node:
        if node.op_type == "Softmax":
            producer[node.input[0]].input[1] = "bias"
    with pytest.raises(bert_attention.AttentionFusionError, match="does not come from 'attention_mask'"):
        bert_attention.fuse_self_attention(model, num_heads=4)
