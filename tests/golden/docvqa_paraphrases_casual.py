"""A seventh pool of question phrasings for the generated document-VQA set (`docvqa.py`).

Written on 2026-12-04 (session 23) from the fields' meanings alone, without looking at the
other pools, at runtime/reader/ or at the reported seed's questions. Its voice is the casual
one people type into a chat box: contractions, lower case, few articles, the way someone
asks who a letter is from or what a form says about a person ("who's this from?", "whose
signature is at the bottom?"). It covers the letter and form fields (people's names, ids,
titles and subjects) where the reader was weakest on the reported seed's aggregate; its
first score (session 23) says how the reader does on phrasings it was never shown; after
that it is a development pool. Slots are the development pool's per field. A phrasing found
in another pool was dropped by script, unread (five of the 72 drafted).
"""

from __future__ import annotations

CASUAL: dict[str, tuple[str, ...]] = {
    # --- letters ----------------------------------------------------------------------------
    "letter.company": (
        "who's this letter from?",
        "what firm wrote to me here",
        "which outfit's letterhead is this on?",
    ),
    "letter.date": (
        "when's this letter dated?",
        "when did they write this",
        "what date's on the letter?",
    ),
    "letter.recipient": (
        "who are they writing to",
        "whose name is after Dear?",
    ),
    "letter.subject": (
        "what's the letter's topic in a few words?",
        "what's the re: line",
        "what matter are they writing about",
    ),
    "letter.signer": (
        "who's the letter signed by",
        "which person wrote this letter?",
    ),
    "letter.signer_title": (
        "what's the job of the person who signed?",
        "what role does the writer have",
        "what's written under the signature?",
    ),
    "letter.phone": (
        "what number can I ring them on?",
        "their phone?",
        "how do I call the people who sent this",
    ),
    "letter.reference": (
        "what ref should I quote when I reply?",
        "what's their reference",
        "which ref no. is on the letter?",
    ),
    "letter.amount": (
        "how much are they asking for?",
        "what's the sum in the letter",
        "what amount do they mention?",
    ),
    "letter.email": (
        "what's the email of the person it's addressed to?",
        "where do I email the addressee",
        "the recipient's mail address?",
    ),
    # --- forms ------------------------------------------------------------------------------
    "form.name": (
        "who's the applicant",
        "what person is this form about?",
    ),
    "form.birth": (
        "when were they born?",
        "what's the applicant's DOB",
        "birth date on the form?",
    ),
    "form.phone": (
        "what's the applicant's number?",
        "how can I phone the person who filled this in",
    ),
    "form.email": (
        "what email did they put down?",
        "the applicant's email?",
        "where can I email them",
    ),
    "form.id": (
        "what's their ID no.?",
        "which identity number did they write",
        "the applicant's ID?",
    ),
    "form.city": (
        "what town are they from?",
        "where does the applicant live",
        "which city's on the form?",
    ),
    "form.occupation": (
        "what's their job?",
        "what work does the applicant do",
        "the applicant's line of work?",
    ),
    "form.number": (
        "what's this form's number?",
        "which form no. is it",
    ),
    "form.contact_name": (
        "who do we call if something happens to them?",
        "who's their emergency person",
        "the emergency contact?",
    ),
    "form.contact_phone": (
        "what's the emergency number on the form?",
        "how do I reach their emergency contact",
    ),
    "form.contact_relation": (
        "how's the emergency contact related to them?",
        "what relation is the contact",
    ),
    "form.nationality": (
        "what country are they a citizen of?",
        "applicant's nationality?",
    ),
    # --- invoices and receipts: the people and ids on them ----------------------------------
    "invoice.number": (
        "which invoice is this",
    ),
    "invoice.client": (
        "who's being billed?",
        "who's the customer on this invoice",
    ),
    "invoice.vat_id": (
        "what's the seller's VAT no.?",
        "their tax registration number?",
    ),
    "invoice.po_number": (
        "which PO does this bill refer to?",
        "what's the purchase order no.",
    ),
    "receipt.cashier": (
        "who served me?",
        "who was on the till",
    ),
}
