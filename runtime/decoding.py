"""Decoding algorithms: greedy, sampling and beam search over a step-wise model. Pure numpy.

The model side is the `StepModel` protocol, so every algorithm can be tested with scripted
logits. Semantics follow Hugging Face transformers 4.57.6 (`GenerationMixin._sample`,
`GenerationMixin._beam_search` and `generation/logits_process.py`) so that greedy and beam
token ids equal `model.generate(...)` for the same model.

Log-probabilities reported through `top_logprobs` are always `log_softmax` of the model's
raw logits, before repetition penalty, temperature, top-k or top-p: they describe the model,
not the sampler (the same choice as OpenAI's API and vLLM's default).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .errors import InvalidRequestError
from .params import GenerationParams
from .results import StepLogprobs, TokenLogprob

# HF marks impossible beams with this finite constant rather than -inf; the beam ranking
# (including float32 rounding near it) only matches theirs bit for bit if we do the same.
_VERY_NEGATIVE = np.float32(-1.0e9)


class StepModel(Protocol):
    """The model as the decoder sees it: feed new tokens, get last-position logits."""

    def start(self, batch_size: int) -> Any:
        """Return fresh per-request state (KV cache etc.) for `batch_size` rows."""

    def step(self, token_ids: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        """Feed int64 `token_ids` (batch, n_new); return float32 logits (batch, vocab)."""

    def reorder(self, state: Any, rows: np.ndarray) -> Any:
        """Keep, reorder or duplicate batch rows: row i of the result is old row rows[i]."""


class TextDecoder(Protocol):
    """Incremental detokenizer (see `runtime.tokenizer.IncrementalDetokenizer`)."""

    def push(self, token_id: int) -> str:
        """Add one token; return the newly complete text."""

    def finish(self) -> str:
        """Return any text still held back; call once at the end."""


@dataclass(frozen=True)
class TokenLogprobs:
    """Raw-model log-probability of the chosen token and the `top_logprobs` best tokens."""

    token_id: int
    logprob: float
    top_ids: tuple[int, ...]
    top_logprobs: tuple[float, ...]

    def to_result(self, token_text: Callable[[int], str]) -> StepLogprobs:
        """Convert to the public `StepLogprobs`, naming tokens with `token_text`."""
        top = tuple(
            TokenLogprob(i, token_text(i), lp) for i, lp in zip(self.top_ids, self.top_logprobs)
        )
        return StepLogprobs(TokenLogprob(self.token_id, token_text(self.token_id), self.logprob), top)


@dataclass(frozen=True)
class StreamEvent:
    """One chosen token. `text` is the newly showable text (stop-string prefixes are held
    back); `finish_reason` is set ("stop" or "length") on the last event only.
    `token_text` is what this token added to the decoded text before stop strings cut it
    ("" while it only began a multi-byte character; the last token also carries the tail
    the detokenizer released at the end)."""

    token_id: int
    text: str
    logprobs: TokenLogprobs | None
    finish_reason: str | None
    token_text: str = ""


@dataclass(frozen=True)
class DecodeOutput:
    """Everything one request generated.

    `token_ids` are the generated ids, including a final eos token when one ended
    generation (as HF `generate` returns them). `text` is set when a detokenizer was given,
    already cut before any stop string. `num_steps` counts `StepModel.step` calls.
    """

    token_ids: tuple[int, ...]
    finish_reason: str
    logprobs: tuple[TokenLogprobs, ...] | None
    num_steps: int
    text: str | None = None


# ---------------------------------------------------------------- logits processors


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """float32 log-softmax over the last axis."""
    scores = np.asarray(scores, dtype=np.float32)
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(scores: np.ndarray) -> np.ndarray:
    """float32 softmax over the last axis; -inf entries get probability 0."""
    scores = np.asarray(scores, dtype=np.float32)
    exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def apply_repetition_penalty(scores: np.ndarray, seen: np.ndarray, penalty: float) -> np.ndarray:
    """HF `RepetitionPenaltyLogitsProcessor`: for every id seen so far (prompt included),
    divide a positive score by `penalty` and multiply a negative one by it.

    `scores` and the boolean mask `seen` have the same shape (rows, vocab) or (vocab,).
    """
    if penalty == 1.0:
        return scores
    penalty = np.float32(penalty)
    penalized = np.where(scores < 0, scores * penalty, scores / penalty)
    return np.where(seen, penalized, scores).astype(np.float32)


def apply_frequency_presence(
    scores: np.ndarray, counts: np.ndarray, frequency_penalty: float, presence_penalty: float
) -> np.ndarray:
    """OpenAI's frequency and presence penalties: subtract
    `counts * frequency_penalty + (counts > 0) * presence_penalty` from the scores.

    `counts` (same shape as `scores`) counts each id generated so far, prompt excluded
    (the same as vLLM's `_apply_penalties`).
    """
    if frequency_penalty == 0 and presence_penalty == 0:
        return scores
    penalty = counts * np.float32(frequency_penalty) + (counts > 0) * np.float32(presence_penalty)
    return (scores - penalty).astype(np.float32)


def apply_temperature(scores: np.ndarray, temperature: float) -> np.ndarray:
    """HF `TemperatureLogitsWarper`: divide by a strictly positive temperature."""
    return (scores / np.float32(temperature)).astype(np.float32)


def apply_top_k(scores: np.ndarray, top_k: int) -> np.ndarray:
    """HF `TopKLogitsWarper`: set scores below the k-th largest to -inf (ties are kept)."""
    if top_k <= 0 or top_k >= scores.shape[-1]:
        return scores
    kth = -np.partition(-scores, top_k - 1, axis=-1)[..., top_k - 1 : top_k]
    return np.where(scores < kth, np.float32(-np.inf), scores).astype(np.float32)


def apply_top_p(scores: np.ndarray, top_p: float) -> np.ndarray:
    """HF `TopPLogitsWarper`: drop the least likely tokens whose cumulative probability is
    at most 1 - top_p, always keeping the most likely token."""
    if top_p >= 1.0:
        return scores
    order = np.argsort(scores, axis=-1, kind="stable")  # ascending, as HF sorts
    sorted_scores = np.take_along_axis(scores, order, axis=-1)
    cumulative = np.cumsum(softmax(sorted_scores), axis=-1, dtype=np.float32)
    remove_sorted = cumulative <= np.float32(1 - top_p)
    remove_sorted[..., -1] = False
    remove = np.empty_like(remove_sorted)
    np.put_along_axis(remove, order, remove_sorted, axis=-1)
    return np.where(remove, np.float32(-np.inf), scores).astype(np.float32)


def top_indices(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` largest entries of a 1-D array, best first, ties by index.

    O(n): partition to find the threshold, then sort only the survivors.
    """
    if count >= scores.size:
        return np.argsort(-scores, kind="stable")
    threshold = np.partition(scores, scores.size - count)[scores.size - count]
    survivors = np.flatnonzero(scores >= threshold)
    return survivors[np.argsort(-scores[survivors], kind="stable")][:count]


def _step_logprobs(logits: np.ndarray, token_id: int, count: int) -> TokenLogprobs:
    logprobs = log_softmax(logits)
    top = top_indices(logprobs, count)
    return TokenLogprobs(
        int(token_id), float(logprobs[token_id]), tuple(int(i) for i in top),
        tuple(float(logprobs[i]) for i in top),
    )


def _seen_mask(rows: int, vocab_size: int, prompt_ids: Sequence[int]) -> np.ndarray:
    seen = np.zeros((rows, vocab_size), dtype=bool)
    ids = np.asarray(prompt_ids, dtype=np.int64)
    # Ids past the logits' vocabulary (e.g. image placeholders) can never be penalized.
    seen[:, ids[(ids >= 0) & (ids < vocab_size)]] = True
    return seen


def _sample_index(probs: np.ndarray, rng: np.random.Generator) -> int:
    # Inverse CDF in float64: rng.choice insists on probabilities summing to 1 exactly.
    cumulative = np.cumsum(probs, dtype=np.float64)
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(index, int(np.flatnonzero(probs > 0)[-1]))


def choose_token(
    logits: np.ndarray, seen: np.ndarray, params: GenerationParams, rng: np.random.Generator,
    counts: np.ndarray | None = None,
) -> int:
    """Pick the next token from one row of raw logits, HF `_sample` order: repetition
    penalty, frequency and presence penalties (over `counts`, the ids generated so far),
    then (sampling only) temperature, top-k, top-p, softmax and one draw.

    `temperature == 0` with `do_sample` means greedy (HF would refuse it).
    """
    scores = apply_repetition_penalty(np.asarray(logits, dtype=np.float32), seen, params.repetition_penalty)
    if counts is not None:
        scores = apply_frequency_presence(scores, counts, params.frequency_penalty, params.presence_penalty)
    if not params.do_sample or params.temperature == 0:
        return int(np.argmax(scores))
    if params.temperature != 1.0:
        scores = apply_temperature(scores, params.temperature)
    scores = apply_top_k(scores, params.top_k)
    scores = apply_top_p(scores, params.top_p)
    return _sample_index(softmax(scores), rng)


# ---------------------------------------------------------------- stop strings


class StopMatcher:
    """Finds the first stop string in streamed text.

    `push` returns only text that can no longer turn into a stop string: a tail that is a
    prefix of some stop string is held back until later text rules it in or out, so the
    stream never shows part of a stop string that then matches. Work per push is bounded
    by the held-back tail plus the new text, so matching is linear in the output.
    """

    def __init__(self, stop: Sequence[str]):
        self._stops = tuple(stop)
        self._pending = ""
        #: The stop string that matched, or None.
        self.matched: str | None = None

    def push(self, delta: str) -> str:
        """Add new text; return the text now safe to show (cut before a matched stop)."""
        if self.matched is not None:
            return ""
        self._pending += delta
        hits = [(self._pending.find(s), s) for s in self._stops if s in self._pending]
        if hits:
            index, self.matched = min(hits, key=lambda hit: hit[0])
            safe, self._pending = self._pending[:index], ""
            return safe
        cut = len(self._pending) - self._held_length()
        safe, self._pending = self._pending[:cut], self._pending[cut:]
        return safe

    def flush(self) -> str:
        """Release held-back text at the end of generation (it did not become a stop)."""
        rest, self._pending = ("" if self.matched is not None else self._pending), ""
        return rest

    def _held_length(self) -> int:
        longest = 0
        for stop in self._stops:
            for length in range(min(len(stop) - 1, len(self._pending)), longest, -1):
                if self._pending.endswith(stop[:length]):
                    longest = length
                    break
        return longest


class _TextTracker:
    """Detokenizer plus optional stop matcher: token ids in, showable text out."""

    def __init__(self, detokenizer: TextDecoder, stop: Sequence[str]):
        self._detokenizer = detokenizer
        self._matcher = StopMatcher(stop) if stop else None
        #: The detokenizer's text for the last push or finish, before stop strings.
        self.raw = ""

    def push(self, token_id: int) -> tuple[str, bool]:
        delta = self.raw = self._detokenizer.push(token_id)
        if self._matcher is None:
            return delta, False
        return self._matcher.push(delta), self._matcher.matched is not None

    def finish(self) -> tuple[str, bool]:
        delta = self.raw = self._detokenizer.finish()
        if self._matcher is None:
            return delta, False
        safe = self._matcher.push(delta)
        if self._matcher.matched is not None:
            return safe, True
        return safe + self._matcher.flush(), False


def _prompt_array(prompt_ids: Sequence[int]) -> np.ndarray:
    if len(prompt_ids) == 0:
        raise InvalidRequestError("The prompt is empty: give at least one token to start from.",
                                  param="prompt")
    return np.asarray([list(prompt_ids)], dtype=np.int64)


def _check_text_support(params: GenerationParams, detokenizer: TextDecoder | None) -> None:
    if params.stop and detokenizer is None:
        raise InvalidRequestError(
            "Stop strings need a tokenizer to decode text; this model has none. Remove 'stop'.",
            param="stop",
        )


# ---------------------------------------------------------------- greedy and sampling


class TokenStream:
    """One sequence's side of greedy or sampled decoding (num_beams == 1): given the logits
    of its last position, choose the next token and say what it shows and whether it ends.

    `generate_stream` drives one of these with its own model; the continuous batcher
    (`runtime.batching`) drives many, one row of a batched step each. Same tokens either way.
    """

    def __init__(self, prompt_ids: Sequence[int], params: GenerationParams, eos_token_ids: Sequence[int],
                 detokenizer: TextDecoder | None = None):
        """Checks the request (raises `InvalidRequestError`) before any step is run."""
        if params.num_beams != 1:
            raise InvalidRequestError("Streaming needs num_beams=1; beam search returns at the end.",
                                      param="num_beams")
        _check_text_support(params, detokenizer)
        self.prompt = _prompt_array(prompt_ids)
        self._prompt_ids = prompt_ids
        self._params = params
        self._rng = np.random.Generator(np.random.PCG64(params.seed))
        self._tracker = _TextTracker(detokenizer, params.stop) if detokenizer is not None else None
        self._eos = frozenset(int(i) for i in eos_token_ids)
        self._seen = self._counts = None
        self.generated = 0

    def advance(self, logits: np.ndarray) -> StreamEvent:
        """The event for the token chosen from `logits` (vocab,); `finish_reason` set on the last."""
        params = self._params
        row = np.asarray(logits, dtype=np.float32)
        if self._seen is None:
            self._seen = _seen_mask(1, row.shape[-1], self._prompt_ids)[0]
            self._counts = np.zeros(row.shape[-1], dtype=np.float32)
        token = choose_token(row, self._seen, params, self._rng, self._counts)
        self._seen[token] = True
        self._counts[token] += 1
        index, self.generated = self.generated, self.generated + 1
        logprobs = _step_logprobs(row, token, params.top_logprobs) if params.top_logprobs else None
        finish = "stop" if token in self._eos else ("length" if index == params.max_new_tokens - 1 else None)
        text = token_text = ""
        tracker = self._tracker
        if tracker is not None:
            text, stopped = tracker.push(token)
            token_text = tracker.raw
            if stopped:
                finish = "stop"
            elif finish is not None:
                tail, stopped = tracker.finish()
                text, finish, token_text = text + tail, ("stop" if stopped else finish), token_text + tracker.raw
        return StreamEvent(token, text, logprobs, finish, token_text)


def generate_stream(
    model: StepModel,
    prompt_ids: Sequence[int],
    params: GenerationParams,
    eos_token_ids: Sequence[int],
    detokenizer: TextDecoder | None = None,
) -> Iterator[StreamEvent]:
    """Greedy or sampled decoding (num_beams == 1), yielding each token as it is chosen.

    Args:
        model: the step model; fed the whole prompt once, then one token per step.
        prompt_ids: ids to feed first (prompt, or decoder start ids).
        params: decoding settings; `seed` None draws fresh entropy.
        eos_token_ids: ids that end generation with finish_reason "stop".
        detokenizer: fresh per-request text decoder; needed for `params.stop`. Without
            one every event's `text` is "".
    Yields:
        `StreamEvent` per generated token; the last one carries the finish reason.
    """
    tokens = TokenStream(prompt_ids, params, eos_token_ids, detokenizer)
    feed = tokens.prompt
    state = model.start(1)
    for _ in range(params.max_new_tokens):
        logits, state = model.step(feed, state)
        event = tokens.advance(logits[0])
        yield event
        if event.finish_reason is not None:
            return
        feed = np.asarray([[event.token_id]], dtype=np.int64)


def generate(
    model: StepModel,
    prompt_ids: Sequence[int],
    params: GenerationParams,
    eos_token_ids: Sequence[int],
    detokenizer: TextDecoder | None = None,
) -> DecodeOutput:
    """Decode one request to the end: greedy, sampling or beam search per `params`.

    Args and stop-string handling as in `generate_stream`. For beam search, stop strings
    are applied to the final best hypothesis (its text and ids are cut at the token that
    completes the first stop string), since HF's beam search has no text-level stop.
    Returns:
        `DecodeOutput`.
    """
    _check_text_support(params, detokenizer)
    if params.num_beams > 1:
        return _beam_output(model, prompt_ids, params, eos_token_ids, detokenizer)
    events = list(generate_stream(model, prompt_ids, params, eos_token_ids, detokenizer))
    logprobs = tuple(e.logprobs for e in events) if params.top_logprobs else None
    text = "".join(e.text for e in events) if detokenizer is not None else None
    return DecodeOutput(tuple(e.token_id for e in events), events[-1].finish_reason, logprobs,
                        len(events), text)


# ---------------------------------------------------------------- beam search


def _beam_output(model, prompt_ids, params, eos_token_ids, detokenizer) -> DecodeOutput:
    result = beam_search(model, prompt_ids, params, eos_token_ids)
    if detokenizer is None:
        return result
    tracker, pieces = _TextTracker(detokenizer, params.stop), []
    for count, token in enumerate(result.token_ids, start=1):
        text, stopped = tracker.push(token)
        pieces.append(text)
        if stopped:
            logprobs = result.logprobs[:count] if result.logprobs is not None else None
            return DecodeOutput(result.token_ids[:count], "stop", logprobs, result.num_steps,
                                "".join(pieces))
    tail, stopped = tracker.finish()
    finish = "stop" if stopped else result.finish_reason
    return DecodeOutput(result.token_ids, finish, result.logprobs, result.num_steps,
                        "".join(pieces) + tail)


@dataclass(frozen=True)
class _Beams:
    """Hypotheses of one beam-search slot set: ids, float32 scores, optional logprobs."""

    tokens: list[tuple[int, ...]]
    scores: np.ndarray
    logprobs: list[tuple[TokenLogprobs, ...]]

    @classmethod
    def empty(cls, count: int) -> "_Beams":
        return cls([()] * count, np.full(count, _VERY_NEGATIVE), [()] * count)

    def take(self, rows: np.ndarray) -> "_Beams":
        return _Beams([self.tokens[r] for r in rows], self.scores[rows],
                      [self.logprobs[r] for r in rows])


def beam_search(
    model: StepModel,
    prompt_ids: Sequence[int],
    params: GenerationParams,
    eos_token_ids: Sequence[int],
) -> DecodeOutput:
    """HF `_beam_search` for one sequence, num_return_sequences=1, early_stopping=False.

    Each step keeps the best `max(2, 1 + n_eos) * num_beams` continuations by summed
    log-softmax score; those among the first `num_beams` that end (eos or max length) are
    scored `sum / length ** length_penalty` into the finished set; the best non-ending
    ones continue. Stops when every candidate ended or no running beam can beat the worst
    finished one (HF's heuristic). The prompt is fed once and its cache duplicated.
    Returns:
        `DecodeOutput` of the best finished hypothesis.
    """
    num_beams, eos = params.num_beams, np.asarray(sorted({int(i) for i in eos_token_ids}), np.int64)
    keep = max(2, 1 + eos.size) * num_beams
    prompt = _prompt_array(prompt_ids)
    state = model.start(1)
    logits, state = model.step(prompt, state)
    state = model.reorder(state, np.zeros(num_beams, dtype=np.int64))
    logits = np.repeat(np.asarray(logits, dtype=np.float32), num_beams, axis=0)
    vocab_size = logits.shape[-1]
    seen = _seen_mask(num_beams, vocab_size, prompt_ids)
    counts = np.zeros((num_beams, vocab_size), dtype=np.float32)  # generated ids, per beam
    # Only beam 0 is real at first, so that the beams do not all pick the same tokens.
    running = _Beams.empty(num_beams)
    running.scores[0] = 0.0
    finished, is_finished = _Beams.empty(num_beams), np.zeros(num_beams, dtype=bool)
    steps = 1
    while True:
        candidates, beam, token = _expand(running, logits, seen, counts, keep, params)
        length = len(running.tokens[0]) + 1
        ends = np.isin(token, eos) | (length >= params.max_new_tokens)
        finished, is_finished = _merge_finished(
            finished, is_finished, candidates, ends, num_beams, length, params.length_penalty)
        if ends.all():
            break
        live = candidates.scores + ends.astype(np.float32) * _VERY_NEGATIVE
        rows = top_indices(live, num_beams)
        running = _Beams([candidates.tokens[r] for r in rows], live[rows],
                         [candidates.logprobs[r] for r in rows])
        if not _can_improve(running.scores[0], finished.scores, is_finished, length, params):
            break
        state = model.reorder(state, beam[rows])
        seen = seen[beam[rows]]
        seen[np.arange(num_beams), token[rows]] = True
        counts = counts[beam[rows]]
        counts[np.arange(num_beams), token[rows]] += 1
        logits, state = model.step(token[rows][:, None].astype(np.int64), state)
        logits = np.asarray(logits, dtype=np.float32)
        steps += 1
    best = finished.tokens[0]
    reason = "stop" if best and best[-1] in set(eos.tolist()) else "length"
    logprobs = finished.logprobs[0] if params.top_logprobs else None
    return DecodeOutput(best, reason, logprobs, steps)


def _expand(running: _Beams, logits, seen, counts, keep: int, params: GenerationParams):
    """The `keep` best one-token continuations of all running beams, by summed score."""
    vocab_size = logits.shape[-1]
    log_probs = apply_repetition_penalty(log_softmax(logits), seen, params.repetition_penalty)
    log_probs = apply_frequency_presence(log_probs, counts, params.frequency_penalty, params.presence_penalty)
    flat = (log_probs + running.scores[:, None]).reshape(-1)
    chosen = top_indices(flat, keep)
    beam, token = chosen // vocab_size, chosen % vocab_size
    candidates = _Beams(
        [running.tokens[b] + (int(t),) for b, t in zip(beam, token)],
        flat[chosen],
        [running.logprobs[b] + _beam_logprobs(logits[b], t, params) for b, t in zip(beam, token)],
    )
    return candidates, beam, token


def _beam_logprobs(logits: np.ndarray, token: int, params: GenerationParams) -> tuple:
    return (_step_logprobs(logits, int(token), params.top_logprobs),) if params.top_logprobs else ()


def _merge_finished(finished, is_finished, candidates, ends, num_beams, length, length_penalty):
    # Only the first num_beams candidates may finish; the rest exist so that enough
    # non-ending beams remain to continue (HF `_update_finished_beams`).
    just_finished = ends.copy()
    just_finished[num_beams:] = False
    scores = candidates.scores / np.float32(length**length_penalty)
    scores = scores + (~just_finished).astype(np.float32) * _VERY_NEGATIVE
    merged = _Beams(finished.tokens + candidates.tokens, np.concatenate([finished.scores, scores]),
                    finished.logprobs + candidates.logprobs)
    rows = top_indices(merged.scores, num_beams)
    return merged.take(rows), np.concatenate([is_finished, just_finished])[rows]


def _can_improve(best_running, finished_scores, is_finished, length, params) -> bool:
    # HF `_check_early_stop_heuristic` with early_stopping=False: assume the best running
    # beam would finish at the current length.
    best_possible = best_running / np.float32(length**params.length_penalty)
    worst_finished = np.where(is_finished, finished_scores.min(), _VERY_NEGATIVE)
    return bool(np.any(best_possible > worst_finished))
