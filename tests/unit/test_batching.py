"""Continuous batching (runtime/batching.py) against one-request decoding, on a numpy decoder.

The stand-in decoder's next token depends on every visible past token, how many are
visible, and the position id, so a wrong attention mask (padding seen), a wrong position or
a row's cache mixed up with another's changes the tokens. The real SmolLM2 graph is checked
the same way in tests/golden/test_lm_batching.py.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from runtime import batching
from runtime.batching import ContinuousBatcher
from runtime.cached_decoder import CachedDecoder
from runtime.decoding import generate_stream
from runtime.errors import InferenceError, InvalidRequestError
from runtime.params import GenerationParams
from runtime.session import TensorSpec

VOCAB = 97
EOS = 0


class CountingDecoderSession:
    """A ComponentSession-shaped decoder: the cache holds the fed tokens; logits pick
    (sum of visible tokens + 5 x how many + 3 x position + 1) mod VOCAB."""

    component = "lm_decoder"
    path = "counting.onnx"

    def __init__(self, precision: str = "fp32", delay_s: float = 0.0, couples_rows: bool | None = None):
        self.precision = precision
        self.couples_rows = precision != "fp32" if couples_rows is None else couples_rows  # DynamicQuantizeLinear
        self.delay_s = delay_s
        self.fail = False
        self.runs: list[tuple[int, int]] = []  # (rows, tokens fed) per run
        self.inputs = {
            "input_ids": TensorSpec("input_ids", ("batch", "sequence"), np.int64),
            "attention_mask": TensorSpec("attention_mask", ("batch", "total"), np.int64),
            "position_ids": TensorSpec("position_ids", ("batch", "sequence"), np.int64),
            "past_key_values.0.key": TensorSpec("past_key_values.0.key", ("batch", 1, "past", 1), np.float32),
        }
        self.outputs = {"logits": None, "present.0.key": None}

    def run(self, feeds):
        if self.fail:
            raise InferenceError(self.component, "the stand-in decoder was told to fail")
        if self.delay_s:
            time.sleep(self.delay_s)
        ids, mask, positions = feeds["input_ids"], feeds["attention_mask"], feeds["position_ids"]
        past = feeds["past_key_values.0.key"]
        rows, count = ids.shape
        self.runs.append((rows, count))
        present = np.concatenate([past, ids[:, None, :, None].astype(np.float32)], axis=2)
        tokens = present[:, 0, :, 0]
        logits = np.zeros((rows, count, VOCAB), dtype=np.float32)
        past_length = past.shape[2]
        for row in range(rows):
            for step in range(count):
                visible = mask[row, : past_length + step + 1].astype(bool)
                seen = tokens[row, : past_length + step + 1][visible]
                choice = int(seen.sum() + 5 * len(seen) + 3 * positions[row, step] + 1) % VOCAB
                logits[row, step, choice] = 10.0
        return {"logits": logits, "present.0.key": present}


def _params(**overrides) -> GenerationParams:
    return GenerationParams(do_sample=False, **{"max_new_tokens": 12, **overrides})


def _alone(session, prompt, params) -> list[int]:
    decoder = CachedDecoder(session)
    return [event.token_id for event in generate_stream(decoder.bind({}), prompt, params, [EOS])]


PROMPTS = ([5, 17, 42], [8], [63, 21, 4, 4, 90, 11, 2], [33, 34], [70, 71, 72, 73, 74])


def test_batched_streams_equal_streams_decoded_alone():
    session = CountingDecoderSession(delay_s=0.002)
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=4)
    params = [_params(max_new_tokens=n) for n in (12, 3, 20, 7, 15)]  # rows leave at different steps
    expected = [_alone(CountingDecoderSession(), p, q) for p, q in zip(PROMPTS, params)]
    streams = [batcher.stream(p, q, [EOS]) for p, q in zip(PROMPTS, params)]  # all queued before any is read
    # Every row taken: the fifth is not queued (its caller decodes alone rather than wait).
    assert streams[4] is None
    got = [[event.token_id for event in stream] for stream in streams[:4]]
    assert got == expected[:4]
    assert max(batcher.step_sizes) > 1, batcher.step_sizes  # some steps really ran several rows
    assert max(batcher.step_sizes) <= 4  # never more rows than max_batch
    later = batcher.stream(PROMPTS[4], params[4], [EOS])  # rows free again
    assert [event.token_id for event in later] == expected[4]
    batcher.close()


def test_streams_read_from_many_threads():
    session = CountingDecoderSession(delay_s=0.001)
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=8)
    params = _params(max_new_tokens=10)
    results: dict[int, list[int]] = {}

    def client(index: int) -> None:
        results[index] = [event.token_id for event in batcher.stream(PROMPTS[index], params, [EOS])]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(PROMPTS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [results[i] for i in range(len(PROMPTS))] == [_alone(CountingDecoderSession(), p, params) for p in PROMPTS]
    batcher.close()


def test_a_closed_stream_leaves_the_batch_and_the_others_go_on():
    session = CountingDecoderSession(delay_s=0.002)
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=4)
    params = _params(max_new_tokens=30)
    left = batcher.stream(PROMPTS[0], params, [EOS])
    stays = batcher.stream(PROMPTS[2], params, [EOS])
    assert [next(left).token_id for _ in range(3)] == _alone(CountingDecoderSession(), PROMPTS[0], params)[:3]
    left.close()  # a client that went away
    assert [event.token_id for event in stays] == _alone(CountingDecoderSession(), PROMPTS[2], params)
    rows_at_the_end = [rows for rows, count in session.runs if count == 1][-5:]
    assert rows_at_the_end == [1] * 5  # the closed stream's row was dropped
    batcher.close()


def test_a_row_is_free_as_soon_as_its_reply_has_ended(monkeypatch):
    # A client that sends its next request the moment a reply ends gets the freed row, even
    # while the decode thread is still moving rows: it used to be told every row was taken
    # and decode alone, beside the batch, on the same cores.
    session = CountingDecoderSession(delay_s=0.002)
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=2)
    long_params, short_params = _params(max_new_tokens=40), _params(max_new_tokens=3)
    running = batcher.stream(PROMPTS[2], long_params, [EOS])
    first = next(running)
    cache = batcher._cache  # noqa: SLF001 - slow its row moves down to widen the race
    keep = cache.keep
    monkeypatch.setattr(cache, "keep", lambda rows, lengths: (time.sleep(0.3), keep(rows, lengths)))
    assert len(list(batcher.stream(PROMPTS[0], short_params, [EOS]))) == 3
    again = batcher.stream(PROMPTS[1], short_params, [EOS])
    assert again is not None
    assert [e.token_id for e in again] == _alone(CountingDecoderSession(), PROMPTS[1], short_params)
    assert [first.token_id, *(e.token_id for e in running)] == _alone(CountingDecoderSession(), PROMPTS[2], long_params)
    batcher.close()


def test_a_failing_step_reaches_every_running_stream_and_the_batcher_recovers():
    session = CountingDecoderSession()
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=4)
    params = _params(max_new_tokens=5)
    session.fail = True
    with pytest.raises(InferenceError, match="told to fail"):
        list(batcher.stream(PROMPTS[0], params, [EOS]))
    session.fail = False
    assert [e.token_id for e in batcher.stream(PROMPTS[1], params, [EOS])] == _alone(CountingDecoderSession(), PROMPTS[1], params)
    batcher.close()


def test_invalid_requests_are_refused_before_queueing():
    batcher = ContinuousBatcher(CachedDecoder(CountingDecoderSession()), max_batch=2)
    with pytest.raises(InvalidRequestError, match="prompt is empty"):
        batcher.stream([], _params(), [EOS])
    with pytest.raises(InvalidRequestError, match="num_beams"):
        batcher.stream([1], _params(num_beams=2), [EOS])
    assert batcher.step_sizes == {}
    batcher.close()


def test_closing_the_batcher_ends_running_streams_with_an_error():
    session = CountingDecoderSession(delay_s=0.01)
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=2)
    params = _params(max_new_tokens=50)
    first = batcher.stream(PROMPTS[0], params, [EOS])
    second = batcher.stream(PROMPTS[1], params, [EOS])
    next(first)
    batcher.close()
    with pytest.raises(RuntimeError, match="unloaded"):
        list(second)
    with pytest.raises(RuntimeError, match="closed"):
        batcher.stream(PROMPTS[2], params, [EOS])


def test_a_failure_while_a_sequence_joins_reaches_it_alone(monkeypatch):
    session = CountingDecoderSession(delay_s=0.002)
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=4)
    params = _params(max_new_tokens=20)
    running = batcher.stream(PROMPTS[2], params, [EOS])
    first = next(running)
    calls = []

    def failing_pad(value, width):
        calls.append(width)
        raise MemoryError("no room for the joined row")

    monkeypatch.setattr(batching, "_left_pad", failing_pad)
    joining = batcher.stream(PROMPTS[0], params, [EOS])
    with pytest.raises(MemoryError, match="no room"):
        list(joining)  # its first token, then the error: never a reader left waiting
    monkeypatch.undo()
    assert calls and [first.token_id, *(e.token_id for e in running)] == _alone(CountingDecoderSession(), PROMPTS[2], params)
    batcher.close()


def test_the_decode_thread_ends_when_idle_and_comes_back(monkeypatch):
    monkeypatch.setattr(batching, "IDLE_EXIT_S", 0.05)
    batcher = ContinuousBatcher(CachedDecoder(CountingDecoderSession()), max_batch=2)
    params = _params(max_new_tokens=3)
    stream = batcher.stream(PROMPTS[0], params, [EOS])
    thread = batcher._thread  # noqa: SLF001 - started by stream()
    assert len(list(stream)) == 3
    thread.join(timeout=10)
    assert not thread.is_alive() and batcher._thread is None  # noqa: SLF001 - a dropped model can be freed
    assert [e.token_id for e in batcher.stream(PROMPTS[1], params, [EOS])] == _alone(CountingDecoderSession(), PROMPTS[1], params)
    batcher.close()


def test_only_row_independent_graphs_are_batched():
    assert batching.supports(CachedDecoder(CountingDecoderSession("fp32")))
    # Dynamic int8 scales activations over the whole batch: a reply would depend on the others.
    assert not batching.supports(CachedDecoder(CountingDecoderSession("int8")))
    assert not batching.supports(CachedDecoder(CountingDecoderSession(None)))
    # Weight-only int8 (MatMulNBits) quantizes activations per block of one row.
    assert batching.supports(CachedDecoder(CountingDecoderSession("int8", couples_rows=False)))
    no_positions = CountingDecoderSession()
    del no_positions.inputs["position_ids"]
    assert not batching.supports(CachedDecoder(no_positions))


def test_an_integer_graph_batches_only_when_it_quantizes_no_activations_per_tensor(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    def graph(op: str, domain: str = "") -> str:
        node = helper.make_node(op, ["x"], ["y"], domain=domain)
        body = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
        path = tmp_path / f"{op}.onnx"
        onnx.save(helper.make_model(body), str(path))  # never run: only its operators are read
        return str(path)

    assert batching.rows_independent("int8", graph("MatMulNBits", "com.microsoft"))
    for op in ("DynamicQuantizeLinear", "DynamicQuantizeMatMul", "QAttention"):
        assert not batching.rows_independent("int8", graph(op, "com.microsoft")), op
    assert batching.rows_independent("fp32", str(tmp_path / "absent.onnx"))  # float rows never couple
    assert not batching.rows_independent("int8", str(tmp_path / "absent.onnx"))  # unread: not assumed
