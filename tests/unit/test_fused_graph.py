"""packaging/fused_lm.py and runtime/fused_decoder.py on a tiny random llama in GGUF blocks.

The graph is checked against a numpy llama forward written with llama.cpp's conventions
(GGUF row order, interleaved rotary), so the q/k row permutation, the Q4_1 minimum's side
product, the Q8_0 embedding/head and GQA's rotary are all checked independently of how the
builder computes them. MatMulNBits runs at accuracy level 0 (fp32) here, so the comparison
is exact to float rounding; the shipped level 4 is measured in tests/golden/test_fused_lm.py.
The shipped graph applies the rest of each Q4_1 minimum in 4 bits over the block means
("pooled"): its weights are checked against the GGUF's within that grid's half step, and its
forward against the numpy forward with those weights; the "exact" build against the GGUF's.
"""

from __future__ import annotations

import contextlib

import numpy as np
import onnx
import pytest

import fused_lm
from runtime.errors import InferenceError
from runtime.fused_decoder import FusedDecoder, allocate_kv
from runtime.scheduler import RunGauge
from runtime.session import ComponentSession, SessionConfig

SHAPE = fused_lm.LlamaShape(layers=2, hidden=64, heads=4, kv_heads=2, intermediate=96, vocab=100,
                            context=64, rope_theta=10000.0, rms_eps=1e-5)


def _q4_1_rows(rng, n: int, k: int) -> np.ndarray:
    """Random GGUF Q4_1 rows: per block fp16 d, fp16 m, 16 bytes of nibbles."""
    blocks = k // 32
    d = (rng.random((n, blocks)) * 0.05 + 0.01).astype(np.float16)
    m = (-(rng.random((n, blocks)) * 0.4)).astype(np.float16)
    nibbles = rng.integers(0, 256, size=(n, blocks, 16), dtype=np.uint8)
    raw = np.concatenate([d[..., None].view(np.uint8), m[..., None].view(np.uint8), nibbles], axis=-1)
    return raw.reshape(n, blocks * 20)


def _q8_0_rows(rng, n: int, k: int) -> np.ndarray:
    blocks = k // 32
    d = (rng.random((n, blocks)) * 0.02 + 0.005).astype(np.float16)
    q = rng.integers(-128, 128, size=(n, blocks, 32)).astype(np.int8)
    return np.concatenate([d[..., None].view(np.uint8), q.view(np.uint8)], axis=-1).reshape(n, blocks * 34)


def _tiny_model(seed: int = 0) -> fused_lm.GGUFModel:
    rng = np.random.default_rng(seed)
    s, kv = SHAPE, SHAPE.kv_heads * SHAPE.hidden // SHAPE.heads
    tensors = {"token_embd.weight": ("Q8_0", _q8_0_rows(rng, s.vocab, s.hidden)),
               "output_norm.weight": ("F32", (1 + 0.1 * rng.standard_normal(s.hidden)).astype(np.float32))}
    for i in range(s.layers):
        p = f"blk.{i}."
        for name, n, k in (("attn_q", s.hidden, s.hidden), ("attn_k", kv, s.hidden), ("attn_v", kv, s.hidden),
                           ("attn_output", s.hidden, s.hidden), ("ffn_gate", s.intermediate, s.hidden),
                           ("ffn_up", s.intermediate, s.hidden), ("ffn_down", s.hidden, s.intermediate)):
            tensors[p + name + ".weight"] = ("Q4_1", _q4_1_rows(rng, n, k))
        for name in ("attn_norm", "ffn_norm"):
            tensors[p + name + ".weight"] = ("F32", (1 + 0.1 * rng.standard_normal(s.hidden)).astype(np.float32))
    return fused_lm.GGUFModel(tensors, SHAPE)


def _reference_logits(model: fused_lm.GGUFModel, ids: list[int], minimums: str = "exact") -> np.ndarray:
    """Llama forward in float64 the way llama.cpp runs a GGUF: rows as stored, interleaved rotary.
    With `minimums="pooled"`, each Q4_1 weight as the pooled graph applies it."""
    s = model.shape
    hd = s.hidden // s.heads
    embedding = model.q8_0("token_embd.weight").dequantize().astype(np.float64)

    def weight(name):
        q4_1 = model.q4_1(name)
        return (fused_lm.pooled_weight(q4_1) if minimums == "pooled" else q4_1.dequantize()).astype(np.float64)

    def rms(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + s.rms_eps) * w

    def rotary(x):  # [S, heads, hd], pairs (2i, 2i+1)
        positions = np.arange(x.shape[0])[:, None]
        theta = positions * s.rope_theta ** (-np.arange(0, hd, 2) / hd)
        cos, sin = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    n = len(ids)
    h = embedding[ids]
    causal = np.triu(np.full((n, n), -np.inf), k=1)
    for i in range(s.layers):
        p = f"blk.{i}."
        x = rms(h, model.f32(p + "attn_norm.weight"))
        q = rotary((x @ weight(p + "attn_q.weight").T).reshape(n, s.heads, hd))
        k = rotary((x @ weight(p + "attn_k.weight").T).reshape(n, s.kv_heads, hd))
        v = (x @ weight(p + "attn_v.weight").T).reshape(n, s.kv_heads, hd)
        group = s.heads // s.kv_heads
        heads = []
        for head in range(s.heads):
            scores = q[:, head] @ k[:, head // group].T / np.sqrt(hd) + causal
            probs = np.exp(scores - scores.max(-1, keepdims=True))
            heads.append(probs / probs.sum(-1, keepdims=True) @ v[:, head // group])
        h = h + np.concatenate(heads, axis=-1) @ weight(p + "attn_output.weight").T
        x = rms(h, model.f32(p + "ffn_norm.weight"))
        gate, up = x @ weight(p + "ffn_gate.weight").T, x @ weight(p + "ffn_up.weight").T
        h = h + (gate / (1 + np.exp(-gate)) * up) @ weight(p + "ffn_down.weight").T
    return rms(h, model.f32("output_norm.weight")) @ embedding.T


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    model = _tiny_model()
    path = tmp_path_factory.mktemp("fused") / "tiny.onnx"
    onnx.save_model(fused_lm.build_graph(model, accuracy_level=0), str(path))
    return model, path


@pytest.fixture(scope="module")
def tiny_exact(tmp_path_factory):
    model = _tiny_model()
    path = tmp_path_factory.mktemp("fused") / "tiny_exact.onnx"
    onnx.save_model(fused_lm.build_graph(model, accuracy_level=0, minimums="exact"), str(path))
    return model, path


@pytest.fixture(scope="module")
def decoder(tiny) -> FusedDecoder:
    return FusedDecoder(ComponentSession("lm_decoder", tiny[1], SessionConfig(intra_op_threads=1)))


def test_q4_1_block_layout():
    """Low nibble of byte j is element j, high nibble element j + 16; w = d * q + m."""
    d, m = np.float16(0.5), np.float16(-1.25)
    nibbles = np.array([j | ((15 - j) << 4) for j in range(16)], dtype=np.uint8)
    raw = np.concatenate([np.array([d]).view(np.uint8), np.array([m]).view(np.uint8), nibbles])[None]
    weight = fused_lm.read_q4_1(raw)
    expected_q = list(range(16)) + [15 - j for j in range(16)]
    assert weight.values[0, 0].tolist() == expected_q
    assert np.array_equal(weight.dequantize()[0], 0.5 * np.array(expected_q, np.float32) - 1.25)


def test_q8_0_block_layout():
    raw = np.concatenate([np.array([np.float16(0.25)]).view(np.uint8),
                          np.arange(-16, 16, dtype=np.int8).view(np.uint8)])[None]
    assert np.array_equal(fused_lm.read_q8_0(raw).dequantize()[0], 0.25 * np.arange(-16, 16, dtype=np.float32))


def test_pack_4bit_layout_and_round_trip():
    values = np.random.default_rng(1).integers(0, 16, size=(3, 2, 32), dtype=np.uint8)
    packed = fused_lm.pack_4bit(values)
    assert packed.shape == (3, 2, 16)
    assert packed[0, 0, 0] == values[0, 0, 0] | (values[0, 0, 1] << 4)  # MatMulNBits: element 2i low
    assert np.array_equal(fused_lm.unpack_4bit(packed), values)


def test_rotary_row_order_undoes_llama_cpp_permute():
    heads, rows = 3, 3 * 8
    hf = np.arange(rows * 2).reshape(rows, 2)
    # convert_hf_to_gguf.py LlamaModel.permute
    gguf = hf.reshape(heads, 2, rows // heads // 2, 2).swapaxes(1, 2).reshape(hf.shape)
    assert np.array_equal(gguf[fused_lm.rotary_row_order(rows, heads)], hf)


def test_build_is_deterministic(tiny):
    model, path = tiny
    assert fused_lm.build_graph(model, accuracy_level=0).SerializeToString() == path.read_bytes()


@pytest.mark.parametrize("minimums", ["exact", "pooled"])
def test_graph_weights_equal_the_blocks(tiny, tiny_exact, minimums):
    model, path = tiny_exact if minimums == "exact" else tiny
    graph = onnx.load(str(path))
    linears = fused_lm.dequantized_linears(graph)
    assert len(linears) == 4 * SHAPE.layers
    order_q = fused_lm.rotary_row_order(SHAPE.hidden, SHAPE.heads)
    order_k = fused_lm.rotary_row_order(SHAPE.hidden * SHAPE.kv_heads // SHAPE.heads, SHAPE.kv_heads)
    for i in range(SHAPE.layers):
        def w(name):
            q4_1 = model.q4_1(f"blk.{i}.{name}.weight")
            return q4_1.dequantize() if minimums == "exact" else fused_lm.pooled_weight(q4_1)
        qkv = np.concatenate([w("attn_q")[order_q], w("attn_k")[order_k], w("attn_v")])
        assert np.array_equal(linears[f"layers.{i}.attn.qkv_proj"], qkv)
        assert np.array_equal(linears[f"layers.{i}.attn.o_proj"], w("attn_output"))
        assert np.array_equal(linears[f"layers.{i}.mlp.gate_up_proj"], np.concatenate([w("ffn_gate"), w("ffn_up")]))
        assert np.array_equal(linears[f"layers.{i}.mlp.down_proj"], w("ffn_down"))
    assert np.array_equal(fused_lm.lm_head_weight(graph), model.q8_0("token_embd.weight").dequantize())


def test_pooled_weights_are_the_blocks_within_half_a_step():
    """The pooled weight differs from the GGUF's only in the rest of each minimum, by at most
    half a step of that row's 4-bit grid over 32 * R (so / 64 in R's units)."""
    model = _tiny_model(seed=3)
    for name in ("blk.0.attn_q.weight", "blk.1.ffn_down.weight"):
        weight = model.q4_1(name)
        n, blocks, _ = weight.values.shape
        _, residuals = fused_lm.split_minimums(weight)
        grid = fused_lm.pooled_residuals(residuals)
        half_step = np.repeat(grid.scales, fused_lm.BLOCK, axis=1)[:, :blocks] / (2 * fused_lm.BLOCK)
        error = (fused_lm.pooled_weight(weight) - weight.dequantize()).reshape(n, blocks, -1)
        assert np.all(np.abs(error) <= half_step[..., None] * (1 + 1e-5) + 1e-7)
        assert np.abs(error).max() > 0  # random minimums are not all on the grid: the check can fail
    # a row of zero rests stays exactly zero, and one value per block is exact
    zero = fused_lm.pooled_residuals(np.zeros((2, 18), np.float32))
    assert np.array_equal(zero.dequantize(18), np.zeros((2, 18), np.float32))
    single = np.array([[0.0] * 17 + [0.125]], np.float32)
    assert np.allclose(fused_lm.pooled_residuals(single).dequantize(18), single, atol=1e-9)


@pytest.mark.parametrize("minimums", ["exact", "pooled"])
def test_graph_matches_llama_cpp_style_forward(tiny, tiny_exact, minimums):
    model, path = tiny_exact if minimums == "exact" else tiny
    decoder = FusedDecoder(ComponentSession("lm_decoder", path, SessionConfig(intra_op_threads=1)))
    ids = [3, 17, 42, 99, 0, 7, 7, 56, 21, 64, 11, 5]
    expected = _reference_logits(model, ids, minimums)
    bound = decoder.bind({})
    logits, _ = bound.step_all(np.array([ids]), bound.start(1))
    assert np.abs(logits[0] - expected).max() < 1e-4 * max(1.0, np.abs(expected).max())
    if minimums == "pooled":  # and the pooled minimums do move the logits off the exact ones
        assert np.abs(logits[0] - _reference_logits(model, ids)).max() > 1e-3


def test_incremental_steps_equal_one_call(decoder):
    """Prompt, then several tokens at once with a past, then one at a time: GQA with the
    shared buffer gives the logits of a single call over the whole sequence."""
    ids = np.array([[5, 9, 13, 2, 88, 40, 31, 77, 6, 1, 19, 23]])
    bound = decoder.bind({})
    whole, _ = bound.step_all(ids, bound.start(1))
    first, state = bound.step_all(ids[:, :4], bound.start(1))
    middle, state = bound.step_all(ids[:, 4:9], state)
    singles = []
    for t in range(9, ids.shape[1]):
        logits, state = bound.step(ids[:, t:t + 1], state)
        singles.append(logits[:, None])
    stepped = np.concatenate([first, middle, *singles], axis=1)
    assert np.abs(stepped - whole).max() < 1e-4
    assert state.past_length == ids.shape[1]


def test_logits_are_the_same_through_the_bound_array_and_read_back(tiny, monkeypatch):
    """`run` binds its logits to an array it makes when the vocabulary is a fixed size, and
    reads them back from onnxruntime otherwise: the same logits either way, each call's own."""
    decoder = FusedDecoder(ComponentSession("lm_decoder", tiny[1], SessionConfig(intra_op_threads=1)))
    assert decoder.vocab == SHAPE.vocab
    ids = np.array([[3, 17, 42, 99]])

    def steps():
        bound = decoder.bind({})
        first, state = bound.step_all(ids[:, :3], bound.start(1))
        second, _ = bound.step_all(ids[:, 3:], state)
        return first, second

    bound_first, bound_second = steps()
    monkeypatch.setattr(decoder, "vocab", None)
    read_first, read_second = steps()
    assert np.array_equal(bound_first, read_first) and np.array_equal(bound_second, read_second)
    assert bound_first.shape == (1, 3, SHAPE.vocab) and not np.shares_memory(bound_first, bound_second)


def test_buffers_grow_past_their_capacity(decoder, monkeypatch):
    import runtime.fused_decoder as module

    monkeypatch.setattr(module, "CAPACITY_STEP", 4)
    ids = np.array([[5, 9, 13, 2, 88, 40, 31, 77, 6, 1, 19]])
    bound = decoder.bind({})
    whole, _ = bound.step_all(ids, bound.start(1))
    logits, state = bound.step_all(ids[:, :3], bound.start(1))
    capacities = [state.buffers.capacity]
    for t in range(3, ids.shape[1]):
        logits, state = bound.step(ids[:, t:t + 1], state)
        capacities.append(state.buffers.capacity)
    assert capacities[0] == 4 and capacities[-1] >= 11 and len(set(capacities)) > 2
    assert np.abs(logits - whole[:, -1]).max() < 1e-4


def test_branching_from_a_prefix_and_stale_states(decoder):
    """Scoring several answers from one prefix is allowed; a state whose cache a branch
    overwrote is refused, never used with someone else's keys."""
    bound = decoder.bind({})
    _, prefix = bound.step_all(np.array([[1, 2, 3, 4]]), bound.start(1))
    first, after_first = bound.step_all(np.array([[10, 11]]), prefix)
    other, _ = bound.step_all(np.array([[20, 21, 22]]), prefix)
    again, _ = bound.step_all(np.array([[10, 11]]), prefix)
    assert np.array_equal(first, again) and not np.allclose(first[:, :2], other[:, :2])
    with pytest.raises(InferenceError, match="overwrote"):
        bound.step(np.array([[12]]), after_first)


def test_reorder_rows(decoder):
    bound = decoder.bind({})
    ids = np.array([[1, 2, 3], [4, 5, 6]])
    _, state = bound.step_all(ids, bound.start(2))
    swapped = bound.reorder(state, np.array([1, 1, 0]))
    logits, _ = bound.step(np.array([[7], [7], [7]]), swapped)
    single = {}
    for row in (0, 1):
        _, s = bound.step_all(ids[row:row + 1], bound.start(1))
        single[row], _ = bound.step(np.array([[7]]), s)
    assert np.abs(logits[0] - single[1][0]).max() < 1e-4
    assert np.abs(logits[1] - single[1][0]).max() < 1e-4
    assert np.abs(logits[2] - single[0][0]).max() < 1e-4


def test_refuses_a_graph_with_position_ids(tmp_path):
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, [1, "s"]) for n in
              ("input_ids", "attention_mask", "position_ids")]
    inputs.append(helper.make_tensor_value_info("past_key_values.0.key", TensorProto.FLOAT, [1, 2, "p", 4]))
    node = helper.make_node("Identity", ["past_key_values.0.key"], ["present.0.key"])
    out = helper.make_tensor_value_info("present.0.key", TensorProto.FLOAT, [1, 2, "p", 4])
    model = helper.make_model(helper.make_graph([node], "g", inputs, [out]),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save_model(model, str(tmp_path / "m.onnx"))
    with pytest.raises(InferenceError, match="not a fused GQA decoder"):
        FusedDecoder(ComponentSession("lm_decoder", tmp_path / "m.onnx", SessionConfig(intra_op_threads=1)))


def test_split_minimums_is_exact_and_falls_back():
    """z = round(-m / d) where m + d * z is exact in float32; else z = 0 (and for d = 0)."""
    d = np.array([[0.5, 0.0, 2.0 ** -24]], dtype=np.float16).astype(np.float32)
    m = np.array([[-3.75, -1.0, -1000.0]], dtype=np.float16).astype(np.float32)
    values = np.tile(np.arange(16, dtype=np.uint8), (1, 3, 2))
    weight = fused_lm.Q4_1Weight(values, d, m)
    zero_points, residuals = fused_lm.split_minimums(weight)
    assert zero_points.tolist() == [[8, 0, 0]]  # -(-3.75) / 0.5 = 7.5 rounds to 8 (half to even)
    assert residuals.tolist() == [[0.25, -1.0, -1000.0]]
    rebuilt = d[..., None] * (values - zero_points[..., None].astype(np.float32)) + residuals[..., None]
    assert np.array_equal(rebuilt.reshape(1, -1), weight.dequantize())


def test_shared_buffer_batch_rows_equal_sequences_alone(decoder, monkeypatch):
    """The continuous batcher's layout for fused graphs (runtime.batching.SharedBufferCache):
    rows of different lengths, left aligned in one buffer, stepped together; a row leaving
    from the middle; a new, shorter prompt run into the row a longer one left stale; buffers
    growing in rows and length. Every row's logits equal its sequence run alone (a wrong
    mask, row or write position changes them)."""
    import runtime.batching as batching
    import runtime.fused_decoder as fused_decoder

    # Float rounding of matmuls of other shapes (logits up to ~15 here): ~1e-3; a wrong mask,
    # row or write position moves logits by whole units.
    TOLERANCE = 5e-3  # noqa: N806

    monkeypatch.setattr(fused_decoder, "CAPACITY_STEP", 4)
    prompts = [[5, 9, 13], [88, 40, 31, 77, 6, 1, 19], [23, 2, 44, 45, 46, 47, 48, 49]]
    following = [[7, 8, 9, 10, 11, 12, 13], [50, 51, 52, 53, 54, 55, 56], [60, 61, 62, 63, 64, 65, 66]]
    bound = decoder.bind({})

    def alone(ids):
        logits, _ = bound.step_all(np.array([ids]), bound.start(1))
        return logits[0]

    cache = batching.SharedBufferCache(decoder, max_batch=4)
    lengths = []
    for row, prompt in enumerate(prompts):
        logits = cache.prefill(np.array([prompt]), row)
        assert np.abs(logits[0] - alone(prompt)).max() < TOLERANCE
        lengths.append(len(prompt))
        cache.admit(lengths)
    sequences = [list(p) for p in prompts]
    for step in range(7):
        if step == 3:  # the middle row leaves; the last moves down over it
            keep = [0, 2]
            sequences, following = [sequences[i] for i in keep], [following[i] for i in keep]
            lengths = [lengths[i] for i in keep]
            cache.keep(keep, lengths)
        if step == 4:  # a short prompt joins in row 2, where the moved row's longer cache still lies
            joining = [30, 31]
            logits = cache.prefill(np.array([joining]), len(sequences))
            assert np.abs(logits[0] - alone(joining)).max() < TOLERANCE
            sequences.append(list(joining))
            following.append([0, 0, 0, 0, 70, 71, 72])
            lengths.append(len(joining))
            cache.admit(lengths)
        feed = np.array([[f[step]] for f in following])
        logits = cache.step(feed, lengths)
        for row, sequence in enumerate(sequences):
            sequence.append(following[row][step])
            assert np.abs(logits[row, -1] - alone(sequence)[-1]).max() < TOLERANCE, (step, row)
        lengths = [length + 1 for length in lengths]
    assert next(iter(cache._arrays.values())).shape[2] >= max(lengths)  # noqa: SLF001 - grew past 4
    cache.keep([1], lengths[1:2])  # a quarter of the rows or less: the buffers shrink to fit
    assert next(iter(cache._arrays.values())).shape[0] == 1  # noqa: SLF001
    cache.keep([], [])
    assert cache._arrays == {}  # noqa: SLF001 - an empty batch frees its buffers


def test_only_graphs_marked_as_fused_go_to_the_fused_decoder(tiny, tmp_path):
    """An exported decoder with an attention mask and no position ids (GPT-2 style) is no GQA
    graph: only the metadata fused_lm writes sends a graph to FusedDecoder."""
    from runtime.fused_decoder import KV_CACHE_KEY, is_fused_graph

    marked = ComponentSession("lm_decoder", tiny[1], SessionConfig(intra_op_threads=1))
    assert is_fused_graph(marked)
    graph = onnx.load(str(tiny[1]))
    del graph.metadata_props[:]
    onnx.helper.set_model_props(graph, {"source": "an export"})
    plain_path = tmp_path / "unmarked.onnx"
    onnx.save(graph, str(plain_path))
    plain = ComponentSession("lm_decoder", plain_path, SessionConfig(intra_op_threads=1))
    assert set(plain.inputs) == set(marked.inputs) and KV_CACHE_KEY not in plain.metadata
    assert not is_fused_graph(plain)


def test_a_wide_twin_runs_a_step_alone_in_flight_with_the_same_outputs(tiny):
    # The batched LM's step takes every core when nothing else of the model runs
    # (runtime.loading gives the LM a twin when it is batched); bind and run go to one session.
    gauge = RunGauge()
    session = ComponentSession("lm_decoder", tiny[1], SessionConfig(intra_op_threads=1), "int4",
                               wide_threads=2, gauge=gauge, wide_spinning=True)
    decoder = FusedDecoder(session)
    used = []
    for name, ort_session in (("narrow", session._session), ("wide", session._wide)):  # noqa: SLF001
        ort_session.run_with_iobinding = (lambda binding, run=ort_session.run_with_iobinding, name=name:
                                          used.append(name) or run(binding))
    ids = np.asarray([[3, 14, 15, 92]], dtype=np.int64)
    outputs = []
    for other_run_in_flight in (False, True):
        kv = allocate_kv(decoder, 1, 16)
        with gauge.running() if other_run_in_flight else contextlib.nullcontext():
            outputs.append((decoder.run(ids, np.ones_like(ids), kv), kv))
    assert used == ["wide", "narrow"]
    assert np.array_equal(outputs[0][0], outputs[1][0])
    assert all(np.array_equal(outputs[0][1][name], outputs[1][1][name]) for name in decoder.past_names)


def test_a_prompt_reuses_the_prefix_it_shares_with_the_last_one(decoder, monkeypatch):
    """SharedBufferCache.prefill copies the keys/values of the prefix shared with the last
    prompt run and runs the rest: first logits and later steps equal the prompt run alone
    (reusing a position past the shared prefix, or into the wrong place, moves them by units)."""
    import runtime.batching as batching
    import runtime.fused_decoder as fused_decoder

    TOLERANCE = 5e-3  # noqa: N806 - as in the test above
    monkeypatch.setattr(fused_decoder, "CAPACITY_STEP", 4)
    bound = decoder.bind({})

    def alone(ids):
        logits, _ = bound.step_all(np.array([ids]), bound.start(1))
        return logits[0]

    cache = batching.SharedBufferCache(decoder, max_batch=4)
    cache.reuse_exact = True  # as where the check found a prompt run from a past bit for bit its whole run
    # (prompt, positions reused): the first has nothing to reuse; then a shared prefix of 3 of
    # which 2 (two positions are always run), one that differs at its third token, the same
    # prompt again (its last two positions still run), and one that is a prefix of the last.
    cases = [([5, 9, 13, 20, 21], 0), ([5, 9, 13, 40], 2), ([5, 9, 14, 40, 41, 42], 2), ([5, 9, 14, 40, 41, 42], 4),
             ([5, 9], 0)]
    sequences, lengths = [], []
    for row, (prompt, reused) in enumerate(cases[:4]):
        before = dict(cache.prefill_positions)
        logits = cache.prefill(np.array([prompt]), row)
        assert cache.prefill_positions["reused"] - before["reused"] == reused
        assert logits.shape[1] == len(prompt) - reused
        assert np.abs(logits[0, -1] - alone(prompt)[-1]).max() < TOLERANCE, prompt
        sequences.append(list(prompt))
        lengths.append(len(prompt))
        cache.admit(lengths)
    for step in range(3):
        feed = np.array([[60 + step + row] for row in range(len(sequences))])
        logits = cache.step(feed, lengths)
        for row, sequence in enumerate(sequences):
            sequence.append(60 + step + row)
            assert np.abs(logits[row, -1] - alone(sequence)[-1]).max() < TOLERANCE, (step, row)
        lengths = [length + 1 for length in lengths]
    cache.keep([], [])  # every row gone: the buffers go, the remembered prefix stays
    prompt, reused = cases[4]
    logits = cache.prefill(np.array([prompt]), 0)
    assert logits.shape[1] == len(prompt) - reused
    assert np.abs(logits[0, -1] - alone(prompt)[-1]).max() < TOLERANCE
    cache.clear()  # after a failure nothing is reused
    assert cache.prefill(np.array([prompt]), 0).shape[1] == len(prompt)


def test_a_prefix_is_reused_only_where_the_logits_run_from_it_are_the_whole_runs(decoder, monkeypatch):
    """The first prompt that could reuse a prefix is run both ways; where the logits differ at
    all, no prompt reuses one after (a seeded reply must not depend on the request before it)."""
    import runtime.batching as batching

    cache = batching.SharedBufferCache(decoder, max_batch=2)
    cache.prefill(np.array([[5, 9, 13, 20, 21]]), 0)
    assert cache.reuse_exact is None  # nothing to reuse yet
    run = cache._run  # noqa: SLF001

    def off_by_a_bit(token_ids, mask, rows):  # a kernel that rounds a run from a past otherwise
        logits = run(token_ids, mask, rows)
        return logits + 1e-6 if token_ids.shape[1] < mask.shape[1] else logits

    monkeypatch.setattr(cache, "_run", off_by_a_bit)
    logits = cache.prefill(np.array([[5, 9, 13, 40, 41]]), 0)
    assert cache.reuse_exact is False and logits.shape[1] == 5  # the whole run's logits
    before = dict(cache.prefill_positions)
    assert cache.prefill(np.array([[5, 9, 13, 40, 41]]), 0).shape[1] == 5
    assert cache.prefill_positions["reused"] == before["reused"]
