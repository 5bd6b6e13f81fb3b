"""Glue from the decoding algorithms to the public results: text, usage, limits, streaming."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .batching import ContinuousBatcher
from .decoding import StepModel, generate, generate_stream
from .errors import ContextLengthExceededError
from .params import GenerationParams
from .results import GenerationResult, StepLogprobs, TextDelta, Usage
from .tokenizer import IncrementalDetokenizer, Tokenizer


def check_context_length(prompt_tokens: int, params: GenerationParams, limit: int | None,
                         input_text: str = "the prompt") -> None:
    """Refuse requests whose prompt plus `max_new_tokens` exceed `limit` (no truncation).
    `input_text` says what the prompt tokens hold, for the message ("the prompt")."""
    if limit is not None and prompt_tokens + params.max_new_tokens > limit:
        raise ContextLengthExceededError.over_budget(prompt_tokens, params.max_new_tokens, limit, input_text)


def run_generation(
    model: StepModel,
    prompt_ids: Sequence[int],
    params: GenerationParams,
    tokenizer: Tokenizer,
    eos_token_ids: Sequence[int],
    prompt_tokens: int | None = None,
    batcher: ContinuousBatcher | None = None,
    static: dict | None = None,
    arrival=None,
) -> Iterator[TextDelta | GenerationResult]:
    """Decode and stream: `TextDelta`s while tokens come, the `GenerationResult` last.

    `prompt_tokens` is what usage reports as the prompt (defaults to len(prompt_ids));
    kinds that spend tokens on the image pass their true count. Log-probs name each
    token by the text it contributed (`TokenTexts`), so joined they equal the text.
    With `batcher`, greedy and sampled decoding run in its shared batch when a row is free
    (else alone, as without one; beam search always alone on `model`); closing this
    generator takes the sequence out. `static`: the request's own inputs to every step, for a
    lockstep batcher (`model` has them bound already), and `arrival` the batcher's `expect()`
    for it.
    """
    counted = len(prompt_ids) if prompt_tokens is None else prompt_tokens
    detokenizer = IncrementalDetokenizer(tokenizer, context_ids=prompt_ids)
    if params.num_beams > 1:
        output = generate(model, prompt_ids, params, eos_token_ids, detokenizer)
        if output.text:
            yield TextDelta(output.text, output.token_ids)
        steps = []
        if output.logprobs:
            raw = _token_texts(tokenizer, prompt_ids, output.token_ids)
            texts = TokenTexts().split(raw, output.text or "")
            steps = [_named(step, text, tokenizer) for step, text in zip(output.logprobs, texts)]
        yield _result(tokenizer, output.token_ids, output.text or "", output.finish_reason, counted, steps)
        return
    events = batcher.stream(prompt_ids, params, eos_token_ids, detokenizer, static, arrival) if batcher is not None else None
    if events is None:  # no batcher, or every row taken: decode alone
        events = generate_stream(model, prompt_ids, params, eos_token_ids, detokenizer)
    try:
        yield from _deltas(events, tokenizer, params, counted)
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


def _deltas(events, tokenizer: Tokenizer, params: GenerationParams, counted: int) -> Iterator[TextDelta | GenerationResult]:
    ids, pieces, raw_logprobs, raw_texts, logprobs, finish = [], [], [], [], [], "length"
    token_texts = TokenTexts()
    shown = 0  # tokens already reported by a delta
    for event in events:
        ids.append(event.token_id)
        raw_texts.append(event.token_text)
        if event.logprobs is not None:
            raw_logprobs.append(event.logprobs)
        finish = event.finish_reason or finish
        if event.text or event.finish_reason is not None:
            texts = token_texts.split(raw_texts[shown:], event.text)
            logprobs.extend(_named(step, text, tokenizer) for step, text in zip(raw_logprobs[shown:], texts))
        if event.text:
            pieces.append(event.text)
            yield TextDelta(event.text, tuple(ids[shown:]), tuple(logprobs[shown:]))
            shown = len(ids)
    yield _result(tokenizer, ids, "".join(pieces), finish, counted, logprobs if params.top_logprobs else None)


class TokenTexts:
    """Splits the text shown so far among the tokens that produced it.

    A token's own text (what the detokenizer added for it) can be held back — half of a
    multi-byte character, or a possible stop string — and shown with a later token; a stop
    string cuts it. `split` gives each newly reported token the part of the shown text it
    produced, held-back text going to the first token shown with it, so that over a whole
    generation the token texts joined equal the returned text exactly (what OpenAI's
    `logprobs.content[].token` promises), and tokens past a stop string get "".
    """

    def __init__(self):
        self._held = ""  # text of earlier tokens not shown yet

    def split(self, token_texts: Sequence[str], shown: str) -> list[str]:
        """Texts for the tokens `token_texts` (their own texts) reported with `shown`."""
        if not token_texts:
            return []
        produced = [self._held + token_texts[0], *token_texts[1:]]
        budget, texts = len(shown), []
        for text in produced:
            texts.append(text[:budget])
            budget -= len(texts[-1])
        self._held = "".join(produced)[len(shown):]
        return texts


def _token_texts(tokenizer: Tokenizer, prompt_ids: Sequence[int], token_ids: Sequence[int]) -> list[str]:
    """Each token's own text, as the streaming path sees it (for beam search's final ids)."""
    detokenizer = IncrementalDetokenizer(tokenizer, context_ids=prompt_ids)
    texts = [detokenizer.push(token) for token in token_ids]
    if texts:
        texts[-1] += detokenizer.finish()
    return texts


def _named(step, chosen_text: str, tokenizer: Tokenizer) -> StepLogprobs:
    """A step's log-probs with the chosen token named by its text, alternatives by their
    own decoded text (the chosen one again where it is among them)."""
    def text(token_id: int) -> str:
        return chosen_text if token_id == step.token_id else tokenizer.decode([token_id])

    return step.to_result(text)


def _result(tokenizer, token_ids, text, finish_reason, prompt_tokens, logprobs) -> GenerationResult:
    ids = tuple(int(i) for i in token_ids)
    return GenerationResult(
        text=text,
        token_ids=ids,
        tokens=tuple(tokenizer.id_to_token(i) for i in ids),
        finish_reason=finish_reason,
        usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(ids)),
        logprobs=tuple(logprobs) if logprobs else None,
    )
