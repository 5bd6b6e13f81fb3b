"""Whose name or address a question asks for: the page's issuer (the shop, the company that
sent the bill) or another party (the customer, the addressee, where the goods go).

Decided as intents are (`intents`): the question is embedded with the bundle's sentence
encoder and compared with example questions of each side; the side whose `NEIGHBOURS`
nearest examples stand nearer wins. Questions compared with questions: the encoder was
trained on pairs of questions that ask the same, and one descriptive sentence per side
(what this decided before) put "Who gets this bill?" nearer the issuer. The examples are
ordinary questions about bills and letters; they name no field of a particular document.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .intents import NEIGHBOURS, _scores

ISSUER, OTHER = "issuer", "other"

EXAMPLES: dict[str, tuple[str, ...]] = {
    ISSUER: (
        "Which shop printed this slip?",
        "What store is this from?",
        "Where is the company that sent this located?",
        "Who is the seller?",
        "What is the vendor's address?",
        "Which business made this out?",
        "Who is the supplier?",
        "What firm is this bill from?",
        "Where is the merchant?",
        "Which organisation wrote this?",
    ),
    OTHER: (
        "Who is the customer?",
        "Who was this billed to?",
        "Where are the goods being shipped?",
        "Where should the parcel be delivered?",
        "Who does this bill go to?",
        "Who bought the items?",
        "To whom is it addressed?",
        "Which client is being charged?",
        "Who receives the order?",
        "What is the customer's address?",
    ),
}


class PartyRouter:
    """Scores which party a question is about; `embed` maps texts to unit vectors. The
    examples are embedded on first use (most requests never ask), read-only after that."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]):
        self._embed = embed
        self._labels = [side for side, examples in EXAMPLES.items() for _ in examples]
        self._vectors: np.ndarray | None = None

    def toward_other(self, question: str) -> float:
        """How much nearer the other party's examples the question stands than the issuer's
        (mean cosine of each side's nearest examples; above zero: about the other party)."""
        if self._vectors is None:
            self._vectors = self._embed([example for examples in EXAMPLES.values() for example in examples])
        scores, _ = _scores(self._vectors @ self._embed([question])[0], self._labels)
        return scores[OTHER] - scores[ISSUER]
