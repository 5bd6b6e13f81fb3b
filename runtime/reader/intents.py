"""What a request about an image's text wants: its text read out, a description, a yes/no,
or one piece of information.

Decided by similarity, not by a pattern per phrasing: the request is embedded with the
bundle's sentence encoder and compared with a few example requests of each intent (the
intent whose nearest examples are nearest wins). The examples are ordinary requests a user types; they name no
field of any particular document. One general cue of English grammar comes first: a
question that opens with an auxiliary verb ("is", "does", "has" ...) wants yes or no.
The photos issue adds its own intents (count, find objects) next to these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

READ, DESCRIBE, QUESTION, YES_NO = "read", "describe", "question", "yes_no"

EXAMPLES: dict[str, tuple[str, ...]] = {
    READ: (
        "Read the text.",
        "What does it say?",
        "Transcribe this.",
        "What is written here?",
        "Extract all the text from this image.",
        "Copy out the words in the picture.",
        "Can you read this for me?",
        "Type out what the page says.",
        "OCR this image.",
        "Give me the text of this page.",
        "Write down every word you see.",
        "What words appear in the image?",
    ),
    DESCRIBE: (
        "Describe this image.",
        "What is this?",
        "Summarize this.",
        "What is this document about?",
        "Give me a short summary.",
        "What am I looking at?",
        "Caption this picture.",
        "Tell me about this image.",
        "What kind of document is this?",
        "Explain what this page is.",
        "What is this for?",
    ),
    QUESTION: (
        "What is the flight number?",
        "Who wrote the note?",
        "Where is the meeting held?",
        "How much does the ticket cost?",
        "Which room is the lecture in?",
        "What is the patient's blood type?",
        "When does the offer expire?",
        "How many seats are booked?",
        "What is the name of the hotel?",
        "Who is the author of this article?",
        "What is the title of the page?",
        "What reference code is printed at the top?",
        "When was the photo taken?",
        "Who is this message for?",
        "Which bank is the account with?",
        "What topic does the memo cover?",
        "What does the sender do for work?",
        "Give me the booking reference.",
        "Tell me the departure time.",
        "Name the author of the report.",
        "Show me the account number.",
        "I need the check-in time.",
    ),
}
# The auxiliary verbs that open an English yes/no question.
NEIGHBOURS = 2
# How much higher than the question score a whole-page request must score (cosine).
WHOLE_PAGE_MARGIN = 0.05
# "Can you tell me ...", "Could you read ..." are requests, not yes/no questions.
_YES_NO_OPENING = re.compile(
    r"^\s*(is|are|was|were|am|do|does|did|has|have|had|can|could|will|would|should|shall|may|must)\b"
    r"(?!\s+(you|u)\b)", re.I
)


_WORD = re.compile(r"[^\W\d_]{3,}")


def _words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text)}


# What people call the thing they show ("Summarize the invoice", "Read this sign").
DOCUMENT_NOUNS = frozenset(
    "document form receipt invoice bill letter note memo page sheet scan photo picture screenshot screen "
    "sign label card ticket menu poster table chart slide paper file".split()
)
# Words of whole-page requests: the examples' own and the names of documents.
WHOLE_PAGE_WORDS = DOCUMENT_NOUNS | frozenset(
    word for name in (READ, DESCRIBE) for example in EXAMPLES[name] for word in _words(example)
)


def named_words(request: str, common: frozenset[str]) -> list[str]:
    """The words of a request that no whole-page request needs and that are not `common`
    (function words): "physical", "state" in "What does the form say for physical state?".
    A request to read or describe the page names nothing of it; one that names something the
    page shows asks for that thing."""
    return sorted(word for word in _words(request) if word not in WHOLE_PAGE_WORDS and word not in common)


@dataclass(frozen=True)
class Intent:
    name: str  # READ, DESCRIBE, QUESTION or YES_NO
    similarity: float  # the intent's score: mean similarity to its nearest examples
    example: str  # the nearest example


class IntentRouter:
    """Classifies requests; `embed` maps texts to unit vectors. Read-only after construction."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]):
        self._embed = embed
        self._labels = [name for name, examples in EXAMPLES.items() for _ in examples]
        self._examples = [example for examples in EXAMPLES.values() for example in examples]
        self._vectors = embed(self._examples)

    def classify(self, request: str) -> Intent:
        """The intent of `request` (a question or an instruction about an image's text).

        Each intent scores the mean similarity of its `NEIGHBOURS` nearest examples (one
        example alone is too easily matched by a shared word). Asking for one piece of
        information is the default: reading the whole text out or describing the page wins
        only when it scores clearly higher (`WHOLE_PAGE_MARGIN`), since "When was this
        letter written?" is about as near "What is written here?" as to any question.
        """
        if _YES_NO_OPENING.match(request):  # grammar says it: "Is there a tip?" is no request to read
            return Intent(YES_NO, 1.0, "")
        similarities = self._vectors @ self._embed([request])[0]
        scores, nearest = {}, {}
        for name in EXAMPLES:
            mine = [i for i, label in enumerate(self._labels) if label == name]
            ranked = sorted(mine, key=lambda i: -similarities[i])
            scores[name] = float(np.mean(similarities[ranked[:NEIGHBOURS]]))
            nearest[name] = ranked[0]
        best = max(scores, key=scores.get)
        if scores[best] - scores[QUESTION] < WHOLE_PAGE_MARGIN:
            best = QUESTION
        return Intent(best, scores[best], self._examples[nearest[best]])
