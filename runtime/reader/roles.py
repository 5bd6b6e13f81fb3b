"""Whose name or address a question asks for: the page's issuer (the shop, the company that
sent the bill), the other party (the customer, the addressee, where the goods go), or someone
in another role (a nurse, a witness, a landlord).

Decided as intents are (`intents`): the question is embedded with the bundle's sentence
encoder and compared with example questions of each side; the side whose `NEIGHBOURS`
nearest examples stand nearer wins. Questions compared with questions: the encoder was
trained on pairs of questions that ask the same, and one descriptive sentence per side
(what this decided before) put "Who gets this bill?" nearer the issuer. The examples are
ordinary questions about bills and letters; they name no field of a particular document.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from .intents import NEIGHBOURS, nearest_scores

ISSUER, OTHER, SOMEONE = "issuer", "other", "someone"

EXAMPLES: dict[str, tuple[str, ...]] = {
    ISSUER: (
        "Which shop printed this slip?",
        "What store is this from?",
        "Where is the company that sent this located?",
        "Who is the seller?",
        "What is the vendor's address?",
        "Which business made this out?",
        "Which wholesaler provided these goods?",
        "What firm is this bill from?",
        "Where is the merchant?",
        "Which organisation wrote this?",
    ),
    OTHER: (
        "Who is the customer?",
        "Who was this billed to?",
        "What destination is the freight headed for?",
        "Where should the parcel be delivered?",
        "Who does this bill go to?",
        "Who bought the items?",
        "To whom is it addressed?",
        "Whose account does this amount go on?",
        "Who receives the order?",
        "What is the customer's address?",
    ),
    # People a page may name in other roles than the two parties of a bill: a question about
    # one of them is not about whom the page is for.
    SOMEONE: (
        "Which nurse is on duty?",
        "Who is the head teacher?",
        "Who is the account manager?",
        "Which employee served at the counter?",
        "Who signed as a witness?",
        "Who is the landlord?",
        "Who is the applicant's referee?",
        "Which physician treated the patient?",
        "Who is the project leader?",
        "Who is the tenant's guarantor?",
    ),
}


class PartyRouter:
    """Scores which party a question is about; `embed` maps texts to unit vectors. The
    examples are embedded on first use, under a lock (most requests never ask, and loading
    stays as fast as it was); read-only after that."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]):
        self._embed = embed
        self._labels = [side for side, examples in EXAMPLES.items() for _ in examples]
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def scores(self, question: str) -> dict[str, float]:
        """Each side's mean cosine between the question and its nearest examples."""
        with self._lock:
            if self._vectors is None:
                self._vectors = self._embed([example for examples in EXAMPLES.values() for example in examples])
            vectors = self._vectors
        return nearest_scores(vectors @ self._embed([question])[0], self._labels)[0]
