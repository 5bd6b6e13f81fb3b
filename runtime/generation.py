"""Glue from the decoding algorithms to the public results: text, usage, limits, streaming."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .decoding import StepModel, generate, generate_stream
from .errors import ContextLengthExceededError
from .params import GenerationParams
from .results import GenerationResult, TextDelta, Usage
from .tokenizer import IncrementalDetokenizer, Tokenizer


def check_context_length(prompt_tokens: int, params: GenerationParams, limit: int | None, detail: str = "") -> None:
    """Refuse requests whose prompt plus `max_new_tokens` exceed `limit` (no truncation)."""
    needed = prompt_tokens + params.max_new_tokens
    if limit is not None and needed > limit:
        what = f"{prompt_tokens} prompt tokens + max_new_tokens {params.max_new_tokens}"
        raise ContextLengthExceededError(needed, limit, f"{what}{'; ' + detail if detail else ''}")


def run_generation(
    model: StepModel,
    prompt_ids: Sequence[int],
    params: GenerationParams,
    tokenizer: Tokenizer,
    eos_token_ids: Sequence[int],
    prompt_tokens: int | None = None,
) -> Iterator[TextDelta | GenerationResult]:
    """Decode and stream: `TextDelta`s while tokens come, the `GenerationResult` last.

    `prompt_tokens` is what usage reports as the prompt (defaults to len(prompt_ids));
    kinds that spend tokens on the image pass their true count.
    """
    counted = len(prompt_ids) if prompt_tokens is None else prompt_tokens
    detokenizer = IncrementalDetokenizer(tokenizer, context_ids=prompt_ids)
    if params.num_beams > 1:
        output = generate(model, prompt_ids, params, eos_token_ids, detokenizer)
        if output.text:
            yield TextDelta(output.text, output.token_ids)
        steps = [step.to_result(tokenizer.id_to_token) for step in output.logprobs or ()]
        yield _result(tokenizer, output.token_ids, output.text or "", output.finish_reason, counted, steps)
        return
    ids, pieces, logprobs, finish = [], [], [], "length"
    shown = 0  # tokens already reported by a delta
    for event in generate_stream(model, prompt_ids, params, eos_token_ids, detokenizer):
        ids.append(event.token_id)
        if event.logprobs is not None:
            logprobs.append(event.logprobs.to_result(tokenizer.id_to_token))
        if event.text:
            pieces.append(event.text)
            yield TextDelta(event.text, tuple(ids[shown:]), tuple(logprobs[shown:]))
            shown = len(ids)
        finish = event.finish_reason or finish
    yield _result(tokenizer, ids, "".join(pieces), finish, counted, logprobs if params.top_logprobs else None)


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
