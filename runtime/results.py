"""Plain result objects returned by the Python API (no numpy in public fields except vectors)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class TokenLogprob:
    token_id: int
    token: str
    logprob: float


@dataclass(frozen=True)
class StepLogprobs:
    """The chosen token of one step and the top-k alternatives."""

    chosen: TokenLogprob
    top: tuple[TokenLogprob, ...]


@dataclass(frozen=True)
class GenerationResult:
    text: str
    token_ids: tuple[int, ...]
    tokens: tuple[str, ...]
    finish_reason: str  # "stop" (eos or stop string) or "length"
    usage: Usage
    logprobs: tuple[StepLogprobs, ...] | None = None
    evidence: tuple["TextLine", ...] = ()


@dataclass(frozen=True)
class TextDelta:
    """A piece of streamed text; a stream ends with its `GenerationResult`.

    `token_ids` and `logprobs` cover the tokens decided since the previous delta (text
    held back for an incomplete character or a possible stop string comes later, with
    the tokens that complete it); tokens never shown as text are reported only by the
    final result.
    """

    text: str
    token_ids: tuple[int, ...]
    logprobs: tuple["StepLogprobs", ...] = ()


@dataclass(frozen=True)
class TextLine:
    text: str
    # 4 corners in image pixels, clockwise, from the corner that is top-left on the page
    # as read: the image's top-left side unless the page was read turned (`ReadResult.turns`)
    box: tuple[tuple[float, float], ...]
    confidence: float


@dataclass(frozen=True)
class ReadResult:
    lines: tuple[TextLine, ...]
    # quarter turns counter-clockwise that set the image's text upright before it was read
    # (a page photographed on its side: 1 or 3; upside down: 2); the boxes are in the image as given
    turns: int = 0

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True)
class RankResult:
    """`order` lists candidate indices best first; `scores` are in candidate order."""

    scores: tuple[float, ...]
    order: tuple[int, ...]


@dataclass(frozen=True)
class SeedResult:
    embedding: np.ndarray = field(repr=False)
    seed: int
