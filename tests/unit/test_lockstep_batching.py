"""Lockstep batching (runtime/batching.py, `LockstepCache`) against one-request decoding.

The stand-in decoder is shaped like Optimum's ViT-GPT2 step graph: no attention mask, no
position ids (it counts positions from its past) and a per-request input (`image`, one row
per request) it attends to every step. Its next token depends on every past token, their
number and the row's image, so rows of different lengths, a row fed another's image or a
cache row mixed up with another's change the tokens. The real captioners are checked the
same way in tests/contract/test_kinds.py.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from runtime import batching
from runtime.batching import ContinuousBatcher
from runtime.cached_decoder import CachedDecoder
from runtime.decoding import generate_stream
from runtime.errors import InferenceError
from runtime.params import GenerationParams
from runtime.session import TensorSpec

VOCAB = 89
EOS = 0
START = [7]  # every caption starts from the same start token


class ImageDecoderSession:
    """Logits pick (sum of past and fed tokens + 5 x how many + 11 x image + 1) mod VOCAB."""

    component = "decoder_with_past"
    path = "image-decoder.onnx"

    def __init__(self, precision: str = "fp32", couples_rows: bool | None = None):
        self.precision = precision
        self.couples_rows = precision != "fp32" if couples_rows is None else couples_rows  # DynamicQuantizeLinear
        self.fail = False
        self.gate = threading.Event()  # runs wait while it is clear
        self.gate.set()
        self.close_after: int | None = None  # the gate closes itself after this many runs
        self.runs: list[int] = []  # rows per run
        self.inputs = {
            "input_ids": TensorSpec("input_ids", ("batch", "sequence"), np.int64),
            "image": TensorSpec("image", ("batch", 1), np.float32),
            "past_key_values.0.key": TensorSpec("past_key_values.0.key", ("batch", 1, "past", 1), np.float32),
        }
        self.outputs = {"logits": None, "present.0.key": None}

    def run(self, feeds):
        if self.fail:
            raise InferenceError(self.component, "the stand-in decoder was told to fail")
        assert self.gate.wait(30), "the test never opened the gate"
        ids, image, past = feeds["input_ids"], feeds["image"], feeds["past_key_values.0.key"]
        rows, count = ids.shape
        assert image.shape == (rows, 1) and past.shape[0] == rows, "a row without its own image"
        self.runs.append(rows)
        if self.close_after is not None and len(self.runs) >= self.close_after:
            self.gate.clear()
        present = np.concatenate([past, ids[:, None, :, None].astype(np.float32)], axis=2)
        tokens = present[:, 0, :, 0]
        logits = np.zeros((rows, count, VOCAB), dtype=np.float32)
        for row in range(rows):
            for step in range(count):
                seen = tokens[row, : past.shape[2] + step + 1]
                logits[row, step, int(seen.sum() + 5 * len(seen) + 11 * image[row, 0] + 1) % VOCAB] = 10.0
        return {"logits": logits, "present.0.key": present}


def _image(value: float) -> dict[str, np.ndarray]:
    return {"image": np.array([[value]], dtype=np.float32)}


def _params(**overrides) -> GenerationParams:
    return GenerationParams(do_sample=False, **{"max_new_tokens": 10, **overrides})


def _alone(prompt, static, params) -> list[int]:
    model = CachedDecoder(ImageDecoderSession()).bind(static)
    return [event.token_id for event in generate_stream(model, prompt, params, [EOS])]


def _tokens(stream) -> list[int]:
    return [event.token_id for event in stream]


@pytest.fixture(autouse=True)
def _patient(monkeypatch):
    # a batch waits for every expected sequence (each arrives at once here); never the limit
    monkeypatch.setattr(batching, "LOCKSTEP_LINGER_S", 30.0)


def test_expected_sequences_start_together_and_equal_decoding_alone():
    session = ImageDecoderSession()
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=4, lockstep=True)
    images = [1.0, 2.0, 3.0, 5.0]
    lengths = [10, 4, 10, 7]  # rows leave at different steps; the others go on in lockstep
    arrivals = [batcher.expect() for _ in images]
    streams = [batcher.stream(START, _params(max_new_tokens=n), [EOS], static=_image(v), arrival=a)
               for v, n, a in zip(images, lengths, arrivals)]
    got = [_tokens(stream) for stream in streams]
    assert got == [_alone(START, _image(v), _params(max_new_tokens=n)) for v, n in zip(images, lengths)]
    assert session.runs[0] == 4  # one batch, its prompts run in one call
    assert max(batcher.step_sizes) == 4 and min(batcher.step_sizes) == 2, batcher.step_sizes
    batcher.close()


def test_a_sequence_arriving_while_a_batch_runs_waits_for_the_next_batch():
    session = ImageDecoderSession()
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=4, lockstep=True)
    params = _params(max_new_tokens=12)
    first = batcher.stream(START, params, [EOS], static=_image(1.0))
    head = [next(first).token_id for _ in range(3)]  # the first batch runs
    later = batcher.stream(START, params, [EOS], static=_image(4.0))
    assert later is not None  # queued for the next batch, not decoded alone beside this one
    assert head + _tokens(first) == _alone(START, _image(1.0), params)
    assert _tokens(later) == _alone(START, _image(4.0), params)
    assert set(batcher.step_sizes) == {1}  # never one step for rows of two lengths
    batcher.close()


def test_prompts_of_another_length_wait_and_keep_their_order():
    session = ImageDecoderSession()
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=4, lockstep=True)
    params = _params(max_new_tokens=6)
    prompts = [START, [7, 3], START, [7, 3]]
    arrivals = [batcher.expect() for _ in prompts]
    streams = [batcher.stream(p, params, [EOS], static=_image(float(i)), arrival=a)
               for i, (p, a) in enumerate(zip(prompts, arrivals))]
    assert [_tokens(s) for s in streams] == [_alone(p, _image(float(i)), params) for i, p in enumerate(prompts)]
    assert session.runs[:1] == [2] and batcher.step_sizes == {2: 10}  # two batches of two rows
    batcher.close()


def test_a_cancelled_arrival_lets_the_batch_start():
    batcher = ContinuousBatcher(CachedDecoder(ImageDecoderSession()), max_batch=4, lockstep=True)
    params = _params(max_new_tokens=5)
    waited_for = batcher.expect()  # its request failed before it could stream
    mine = batcher.expect()
    result = {}
    reader = threading.Thread(target=lambda: result.setdefault(
        "tokens", _tokens(batcher.stream(START, params, [EOS], static=_image(2.0), arrival=mine))))
    reader.start()
    waited_for.cancel()
    waited_for.cancel()  # twice is harmless
    reader.join(timeout=10)
    assert not reader.is_alive(), "the batch kept waiting for a cancelled arrival"
    assert result["tokens"] == _alone(START, _image(2.0), params)
    batcher.close()


def test_a_full_queue_sends_the_next_caller_to_decode_alone():
    session = ImageDecoderSession()
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=2, lockstep=True)
    params = _params(max_new_tokens=30)
    # The batch stays running until the gate opens: the gate closes after its prompt's run,
    # whatever the threads' timing (closed from here, a loaded machine let all 30 steps pass).
    session.close_after = 1
    running = batcher.stream(START, params, [EOS], static=_image(1.0))
    next(running)
    session.close_after = None
    queued = [batcher.stream(START, params, [EOS], static=_image(v)) for v in (2.0, 3.0)]
    assert all(stream is not None for stream in queued)  # the running batch frees its rows at once
    assert batcher.stream(START, params, [EOS], static=_image(4.0)) is None  # a whole batch waits already
    session.gate.set()
    for stream, value in zip(queued, (2.0, 3.0)):
        assert _tokens(stream) == _alone(START, _image(value), params)
    running.close()
    batcher.close()


def test_a_failing_batch_reaches_its_rows_and_the_next_batch_runs():
    session = ImageDecoderSession()
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=2, lockstep=True)
    params = _params(max_new_tokens=4)
    session.fail = True
    with pytest.raises(InferenceError, match="told to fail"):
        _tokens(batcher.stream(START, params, [EOS], static=_image(1.0)))
    session.fail = False
    assert _tokens(batcher.stream(START, params, [EOS], static=_image(3.0))) == _alone(START, _image(3.0), params)
    batcher.close()


def test_a_batcher_closed_while_a_batch_waits_runs_nothing_more():
    session = ImageDecoderSession()
    batcher = ContinuousBatcher(CachedDecoder(session), max_batch=4, lockstep=True)
    coming = batcher.expect()  # the batch waits for it (the fixture's long linger)
    stream = batcher.stream(START, _params(), [EOS], static=_image(1.0))
    batcher.close()
    with pytest.raises(RuntimeError, match="unloaded"):
        _tokens(stream)
    assert session.runs == []
    coming.cancel()


def test_a_past_the_graph_returns_nothing_for_stays_empty():
    # as decoding alone does (runtime/cached_decoder.py): the graph takes it on every step
    class Unreturned(ImageDecoderSession):
        def __init__(self):
            super().__init__()
            self.inputs["past_key_values.0.encoder.key"] = TensorSpec(
                "past_key_values.0.encoder.key", ("batch", 1, "past", 1), np.float32)

        def run(self, feeds):
            assert feeds["past_key_values.0.encoder.key"].shape[2] == 0
            return super().run(feeds)

    batcher = ContinuousBatcher(CachedDecoder(Unreturned()), max_batch=2, lockstep=True)
    params = _params(max_new_tokens=4)
    assert _tokens(batcher.stream(START, params, [EOS], static=_image(2.0))) == _alone(START, _image(2.0), params)
    batcher.close()


def test_lockstep_needs_an_exported_row_independent_graph():
    assert batching.supports_lockstep(CachedDecoder(ImageDecoderSession("fp32")))
    assert not batching.supports_lockstep(CachedDecoder(ImageDecoderSession("int8")))
    assert batching.supports_lockstep(CachedDecoder(ImageDecoderSession("int8", couples_rows=False)))  # MatMulNBits
    assert not batching.supports(CachedDecoder(ImageDecoderSession("fp32")))  # no mask: never continuous
    with pytest.raises(ValueError, match="lockstep"):
        ContinuousBatcher(CachedDecoder(ImageDecoderSession("int8")), max_batch=2, lockstep=True)


def test_per_sequence_inputs_need_a_lockstep_batcher():
    from test_batching import CountingDecoderSession

    batcher = ContinuousBatcher(CachedDecoder(CountingDecoderSession()), max_batch=2)
    with pytest.raises(ValueError, match="lockstep"):
        batcher.stream([1, 2], _params(), [EOS], static=_image(1.0))
    batcher.close()
