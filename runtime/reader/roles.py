"""Whose name or address a question asks for: the page's issuer (the shop, the company that
sent the bill), the other party (the customer, the addressee, where the goods go), someone
in another role (a nurse, a witness, a landlord), or the person a form or record is about
(the card holder, the insured: its name field).

Decided as intents are (`intents`): the question is embedded with the bundle's sentence
encoder and compared with example questions of each side; the side whose `NEIGHBOURS`
nearest examples stand nearer wins. Questions compared with questions: the encoder was
trained on pairs of questions that ask the same, and one descriptive sentence per side
(what this decided before) put "Who gets this bill?" nearer the issuer. The examples are
ordinary questions about bills and letters; they name no field of a particular document.
Whether an amount question asks for the page's total or a part of it is scored the same way
(`AMOUNT_EXAMPLES`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from .intents import nearest_scores

ISSUER, OTHER, SOMEONE, SUBJECT = "issuer", "other", "someone", "subject"

EXAMPLES: dict[str, tuple[str, ...]] = {
    ISSUER: (
        "Which shop printed this slip?",
        "What store is this from?",
        "Where is the company that sent this located?",
        "Who is the seller?",
        "What is the vendor's address?",
        "Which company issued this?",
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
    # The person a form, card or record is about: its own name field says who.
    SUBJECT: (
        "Who is the card holder?",
        "Whose record is this?",
        "Who does this certificate belong to?",
        "Who is the student on this report?",
        "Who is the employee in question?",
        "Who is the insured person?",
        "Who is the policy holder?",
        "Whose licence is this?",
        "Who is the account holder?",
        "Who is this ID for?",
    ),
}


# What a question about an amount asks: the whole sum the page is for (what was paid or is
# owed) or a part of it (a tax, a discount, a fee, one item's price). Ordinary questions about
# bills, written for this and for no page in particular.
TOTAL, PART = "total", "part"

AMOUNT_EXAMPLES: dict[str, tuple[str, ...]] = {
    TOTAL: (
        "How much did I pay in the end?",
        "What is the amount owed overall?",
        "How much does the whole order come to?",
        "What was the bill altogether?",
        "What is the final figure to pay?",
        "How much money did the purchase take?",
        "What does the customer owe in all?",
        "How much was spent here?",
        "What is the full price of everything?",
        "What did it all cost?",
    ),
    PART: (
        "How much was the discount?",
        "What is the tip?",
        "How much VAT was charged?",
        "What was the deposit?",
        "How much is the delivery fee?",
        "What is the amount before tax?",
        "How dear is a single article?",
        "How much change was given back?",
        "What is the service charge?",
        "How much was paid in cash?",
    ),
}


# Of the other party's blocks on a bill, the one charged ("Bill to") or the one the goods go to
# ("Ship to"): a question about where the goods go is no question about the payer where the page
# names only the payer. Ordinary questions about bills and parcels, written for this and for no
# page in particular.
BILLED, DELIVERED = "billed", "delivered"

SHIPMENT_EXAMPLES: dict[str, tuple[str, ...]] = {
    BILLED: (
        "Who has to pay this invoice?",
        "Which customer is charged for this?",
        "Whose account is the invoice made out to?",
        "Who is this bill addressed to for payment?",
        "What is the billing name?",
        "Who will receive the invoice for payment?",
        "Which client owes the amount?",
        "What is the billing address of the customer?",
        "Who is responsible for paying this?",
        "Under whose name is the account billed?",
    ),
    DELIVERED: (
        "Where will the parcel arrive?",
        "Who takes delivery of the goods?",
        "What address does the courier bring the package to?",
        "Who is the consignment addressed to?",
        "Where should the shipment be dropped off?",
        "Who gets the delivered items?",
        "What is the delivery address?",
        "To which location are the products dispatched?",
        "Who signs for the package on arrival?",
        "Where is the freight going?",
    ),
}


# The two people of a letter, a note or an e-mail: the one who wrote and signed it, the one it
# greets. Ordinary questions about letters, written for this and for no page in particular;
# people in other roles (`SOMEONE`) are scored beside them, so that a question about a third
# person names neither.
WRITER, READER = "writer", "reader"

LETTER_EXAMPLES: dict[str, tuple[str, ...]] = {
    WRITER: (
        "Who is the person that penned this letter?",
        "Who sent me this note?",
        "Who is the signatory?",
        "Who is the author of the message?",
        "Whose name is signed at the end of the letter?",
        "Which person is the correspondence from?",
        "Who composed this email?",
        "Who is writing to me in this letter?",
        "Whose name is under the closing?",
        "Who drafted the memo?",
    ),
    READER: (
        "To whom is the correspondence directed?",
        "To whom was this note sent?",
        "Who does the writer of the letter greet?",
        "Who is this message for?",
        "Which person is greeted at the top of the letter?",
        "Who will get this mail?",
        "Who should read the note?",
        "Who is the email intended for?",
        "Whom is the writer of this letter writing to?",
        "Who was this memo mailed to?",
    ),
    SOMEONE: EXAMPLES[SOMEONE],
}


class ExampleScorer:
    """Scores a question against groups of example questions (mean cosine of each group's
    `NEIGHBOURS` nearest); `embed` maps texts to unit vectors. The examples are embedded on
    first use, under a lock (most requests never ask, and loading stays as fast as it was);
    read-only after that."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], examples: dict[str, tuple[str, ...]]):
        self._embed = embed
        self._examples = [example for group in examples.values() for example in group]
        self._labels = [name for name, group in examples.items() for _ in group]
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def scores(self, question: str) -> dict[str, float]:
        """Each group's mean cosine between the question and its nearest examples."""
        with self._lock:
            if self._vectors is None:
                self._vectors = self._embed(self._examples)
            vectors = self._vectors
        return nearest_scores(vectors @ self._embed([question])[0], self._labels)[0]


class PartyRouter(ExampleScorer):
    """Scores which party a question is about (`EXAMPLES`)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]):
        super().__init__(embed, EXAMPLES)
