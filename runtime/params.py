"""Frozen per-request settings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .errors import InvalidRequestError


@dataclass(frozen=True)
class GenerationParams:
    """How to decode one request. Defaults are greedy decoding.

    `max_new_tokens` counts generated tokens only. `stop` strings end generation when the
    decoded text contains one (the stop string is not part of the returned text).
    `top_logprobs` > 0 records the top-k log-probabilities of every step.
    `frequency_penalty` and `presence_penalty` follow OpenAI: each step, a token's logit is
    lowered by count * frequency_penalty + (count > 0) * presence_penalty, count being how
    often it was generated so far in this request (the prompt does not count); negative
    values encourage repetition.
    """

    max_new_tokens: int = 32
    num_beams: int = 1
    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int | None = None
    repetition_penalty: float = 1.0
    length_penalty: float = 1.0
    stop: tuple[str, ...] = field(default_factory=tuple)
    top_logprobs: int = 0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0

    def __post_init__(self):
        if self.max_new_tokens < 1:
            raise InvalidRequestError("max_new_tokens must be at least 1.", param="max_new_tokens")
        if self.num_beams < 1:
            raise InvalidRequestError("num_beams must be at least 1.", param="num_beams")
        if self.num_beams > 1 and self.do_sample:
            raise InvalidRequestError(
                "Beam search with sampling is not supported: use num_beams=1 to sample.",
                param="num_beams",
            )
        if self.temperature < 0:
            raise InvalidRequestError("temperature must be >= 0.", param="temperature")
        if self.top_k < 0:
            raise InvalidRequestError("top_k must be >= 0 (0 disables it).", param="top_k")
        if not 0 < self.top_p <= 1:
            raise InvalidRequestError("top_p must be in (0, 1].", param="top_p")
        if self.repetition_penalty <= 0:
            raise InvalidRequestError("repetition_penalty must be > 0.", param="repetition_penalty")
        for name in ("frequency_penalty", "presence_penalty"):
            if not -2 <= getattr(self, name) <= 2:
                raise InvalidRequestError(f"{name} must be between -2 and 2.", param=name)
        if not 0 <= self.top_logprobs <= 20:
            raise InvalidRequestError("top_logprobs must be between 0 and 20.", param="top_logprobs")
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise InvalidRequestError("stop strings must be non-empty strings.", param="stop")
        if len(self.stop) > 8:
            raise InvalidRequestError("At most 8 stop strings are allowed.", param="stop")

    def with_overrides(self, **changes) -> "GenerationParams":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
