"""Grounded question answering over recognized lines.

The answer is always a span of the recognized text, or "not found". Steps:
1. `extract_fields` lists candidate spans with the words that label them;
2. the question's expected type (amount, date, id, ...) drops spans of the wrong type;
3. MiniLM similarity between the question's focus words and each label, plus the share of
   focus words the label (or its row) actually contains, ranks labelled spans;
4. the language model scores the surviving spans as answers to the question, given the
   document's lines as context (its mean log-probability per token), and breaks ties;
5. no span above the thresholds → "not found in the image" (never an invented answer).
Unlabelled lines can answer only questions about who issued a document (the header line).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from runtime.results import TextLine

from .document import Field, extract_fields
from .types import ORG, compatible, question_type

NOT_FOUND = "Not found in the image."

_STOP = frozenset(
    "a an the is are was were be of for to in on at by with this that these those what which who whom whose "
    "when where how much many does do did please tell me give show find state listed written mentioned "
    "document image page here there it its as and or".split()
)
# Words that name the expected type rather than the field; they need not appear in a label.
_GENERIC = frozenset("amount value number name date sum figure one".split())


@dataclass(frozen=True)
class AnswerConfig:
    """Thresholds of the decision; tuned on generated documents (bench/docvqa_eval.py)."""

    min_key_similarity: float = 0.5
    min_coverage: float = 0.99
    strong_key_similarity: float = 0.8
    lm_weight: float = 0.05
    max_lm_candidates: int = 6
    header_lines: int = 3


@dataclass(frozen=True)
class Answer:
    text: str  # the answer span, or NOT_FOUND
    found: bool
    evidence: tuple[int, ...]  # indices of the lines the answer comes from
    score: float


def focus_words(question: str) -> list[str]:
    words = re.findall(r"[a-z0-9#]+", question.lower())
    return [w for w in words if w not in _STOP]


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def coverage(focus: Sequence[str], label: str) -> float:
    """Share of the question's focus words (types excepted) found in the label."""
    needed = [_stem(w) for w in focus if w not in _GENERIC]
    if not needed:
        return 1.0
    have = {_stem(w) for w in re.findall(r"[a-z0-9#]+", label.lower())}
    return sum(1 for w in needed if w in have) / len(needed)


class Answerer:
    """Answers questions over lines; `embed` maps texts to unit vectors, `score_answers`
    maps (question, context lines, candidate answers) to per-candidate LM scores."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        score_answers: Callable[[str, Sequence[str], Sequence[str]], list[float]],
        config: AnswerConfig = AnswerConfig(),
    ):
        self._embed = embed
        self._score_answers = score_answers
        self._config = config

    def answer(self, question: str, lines: tuple[TextLine, ...]) -> Answer:
        if not lines:
            return Answer(NOT_FOUND, False, (), 0.0)
        expected = question_type(question)
        fields = [f for f in extract_fields(lines) if compatible(expected, f.value)]
        candidates = self._labelled(question, fields, lines)
        if expected == ORG:
            candidates += self._header(fields, lines)
        if not candidates:
            return Answer(NOT_FOUND, False, (), 0.0)
        candidates.sort(key=lambda item: -item[1])
        candidates = candidates[: self._config.max_lm_candidates]
        texts = [line.text for line in lines]
        lm_scores = self._score_answers(question, texts, [f.value for f, _ in candidates])
        scored = [(prior + self._config.lm_weight * lm, f) for (f, prior), lm in zip(candidates, lm_scores)]
        score, best = max(scored, key=lambda item: item[0])
        return Answer(best.value, True, (best.line,), float(score))

    def _labelled(self, question: str, fields: list[Field], lines) -> list[tuple[Field, float]]:
        config = self._config
        focus = focus_words(question)
        keyed = [f for f in fields if f.key]
        if not keyed or not focus:
            return []
        keys = sorted({f.key for f in keyed})
        vectors = self._embed([" ".join(focus), *keys])
        similarity = dict(zip(keys, (vectors[1:] @ vectors[0]).tolist()))
        result = []
        for field in keyed:
            sim = similarity[field.key]
            covered = coverage(focus, field.key)
            if sim >= config.strong_key_similarity or (sim >= config.min_key_similarity and covered >= config.min_coverage):
                result.append((field, sim + covered))
        return result

    def _header(self, fields: list[Field], lines) -> list[tuple[Field, float]]:
        """The document's first word-like lines: who issued it (vendor, company)."""
        header = [f for f in fields if f.source == "line"][: self._config.header_lines]
        return [(f, 1.0 - 0.1 * rank) for rank, f in enumerate(header)]
