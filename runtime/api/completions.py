"""`POST /v1/completions`: OpenAI's legacy text completions, for models that generate text.

Transport-free like openai.py: a body becomes a `CompletionCall` (one generation per prompt,
with the chat endpoint's sampling options), results become `schemas.Completion` objects,
whole or as stream chunks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec

from runtime.errors import InvalidRequestError, TaskNotSupportedError
from runtime.results import GenerationResult, StepLogprobs

from . import schemas
from .bodies import check_model, decode
from .openai import TokenCounter, check_new_tokens, check_text_length, sampling_overrides


@dataclass(frozen=True)
class CompletionCall:
    """A parsed completions request: the prompts, in order, and how to decode each."""

    prompts: tuple[str, ...]
    overrides: dict
    stream: bool = False
    include_usage: bool = False
    logprobs: int | None = None  # None: no log-probs; n: the chosen token and the top n
    listed: bool = False  # `prompt` was a list (errors name prompt[i])


def prompt_field(call: CompletionCall, index: int) -> str:
    """The request field that holds prompt `index`, for errors."""
    return f"prompt[{index}]" if call.listed else "prompt"


_MESSAGES = {
    **{
        rf"{key}\b.*": f"'{key}' is not supported by this server; leave it out (or at its default)."
        for key in schemas.UNSUPPORTED_COMPLETION_KEYS
    },
    r"prompt(\[\d+\])?": "'prompt' must be a non-empty text or a list of 1 to "
    f"{schemas.MAX_COMPLETION_PROMPTS} non-empty texts; token-id prompts are not supported.",
    "n": "Only n=1 is supported: send one request per completion (or a list of prompts).",
    "best_of": "Only best_of=1 is supported.",
    r"stream_options\.include_obfuscation": "'include_obfuscation' is not supported; leave it out.",
}


def parse_completion_request(
    body: object, served_ids: tuple[str, ...], tasks: Sequence[str], max_seq_len: int | None = None,
    count_tokens: TokenCounter | None = None,
) -> CompletionCall:
    """Validate a completions body; every prompt counts against `max_seq_len` on its own
    (each is its own sequence; see `openai.check_text_length`)."""
    request = decode(body, schemas.CompletionRequest, _MESSAGES)
    check_model(request.model, served_ids)
    if "generate" not in tasks:
        raise TaskNotSupportedError("generate", tasks)
    prompts = (request.prompt,) if isinstance(request.prompt, str) else tuple(request.prompt)
    for index, prompt in enumerate(prompts):
        where = "prompt" if isinstance(request.prompt, str) else f"prompt[{index}]"
        check_text_length([prompt], max_seq_len, where, count_tokens)
    check_new_tokens(request.max_tokens, max_seq_len, "max_tokens")
    stream = bool(request.stream)
    if request.stream_options is not None and not stream:
        raise InvalidRequestError("'stream_options' is only allowed with 'stream': true.", param="stream_options")
    include_usage = bool(request.stream_options is not None and request.stream_options.include_usage)
    overrides = sampling_overrides(request, request.max_tokens)
    if request.logprobs is not None:
        # The engine records the chosen token's log-prob only when it records a top-k.
        overrides["top_logprobs"] = max(1, request.logprobs)
    return CompletionCall(prompts, overrides, stream, include_usage, request.logprobs, not isinstance(request.prompt, str))


@dataclass
class CompletionResponder:
    """Builds the completion object, or the chunks of a streamed one, for one request."""

    model_id: str
    call: CompletionCall
    completion_id: str
    created: int = field(default_factory=lambda: int(time.time()))
    offsets: dict[int, int] = field(default_factory=dict)  # per choice: text offset reached
    streamed_steps: dict[int, int] = field(default_factory=dict)  # per choice: log-prob steps sent
    usage: list = field(default_factory=lambda: [0, 0])  # prompt, completion tokens so far

    def _logprobs(self, index: int, steps: Sequence[StepLogprobs]) -> schemas.CompletionLogprobs | None:
        if self.call.logprobs is None:
            return None
        offset = self.offsets.get(index, len(self.call.prompts[index]))
        tokens, logprobs, tops, offsets = [], [], [], []
        for step in steps:
            tokens.append(step.chosen.token)
            logprobs.append(float(step.chosen.logprob))
            tops.append({item.token: float(item.logprob) for item in step.top[: self.call.logprobs]})
            offsets.append(offset)
            offset += len(step.chosen.token)
        self.offsets[index] = offset
        self.streamed_steps[index] = self.streamed_steps.get(index, 0) + len(tokens)
        return schemas.CompletionLogprobs(tokens, logprobs, tops, offsets)

    def _object(self, choices: list, usage=msgspec.UNSET) -> schemas.Completion:
        return schemas.Completion(self.completion_id, "text_completion", self.created, self.model_id, choices, usage)

    def completion(self, results: Sequence[GenerationResult]) -> schemas.Completion:
        choices = [
            schemas.CompletionChoice(result.text, index, self._logprobs(index, result.logprobs or ()),
                                     result.finish_reason)
            for index, result in enumerate(results)
        ]
        prompt = sum(r.usage.prompt_tokens for r in results)
        generated = sum(r.usage.completion_tokens for r in results)
        return self._object(choices, schemas.Usage(prompt, generated, prompt + generated))

    def _chunk(self, choice: schemas.CompletionChoice) -> schemas.Completion:
        # OpenAI sends `"usage": null` on every chunk but the usage chunk.
        return self._object([choice], None if self.call.include_usage else msgspec.UNSET)

    def text_chunk(self, index: int, text: str, steps: Sequence[StepLogprobs] = ()) -> schemas.Completion:
        return self._chunk(schemas.CompletionChoice(text, index, self._logprobs(index, steps), None))

    def last_chunk(self, index: int, result: GenerationResult) -> schemas.Completion:
        """The choice's finish reason, with the log-probs of tokens that showed no text."""
        self.usage[0] += result.usage.prompt_tokens
        self.usage[1] += result.usage.completion_tokens
        rest = (result.logprobs or ())[self.streamed_steps.get(index, 0):]
        return self._chunk(schemas.CompletionChoice("", index, self._logprobs(index, rest), result.finish_reason))

    def usage_chunk(self) -> schemas.Completion:
        prompt, generated = self.usage
        return self._object([], schemas.Usage(prompt, generated, prompt + generated))
