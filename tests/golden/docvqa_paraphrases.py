"""A third pool of question phrasings for the generated documents: development only (issue 10).

Written in session 11, apart from both pools of `docvqa_questions.py` and in another voice
(terse, casual, words a person uses rather than a form's: "DOB?", "What did it all come to?"),
to measure how the reader does on phrasings nobody tuned it on before they were written here:
`bench/reader_dev.py eval --sets para` asks them on the development seeds' documents (1 and 2),
each where a development question asked the same field. No seed draws from this pool, and
`test_docvqa_phrasings.py` checks that none of it occurs in `runtime/`. Once rules are tuned on
these, they are development data like the rest: a fresh pool is needed to measure again.
"""

from __future__ import annotations

# field (a key of docvqa_questions.DEVELOPMENT): phrasings; {item} is filled from the
# development question of the same field.
PARAPHRASES: dict[str, tuple[str, ...]] = {
    "receipt.vendor": ("Where did I shop?", "Name of the merchant?", "Which retailer printed this?"),
    "receipt.total": ("What did it all come to?", "Amount paid?", "What's the grand total?"),
    "receipt.subtotal": ("What was the sum before tax?", "Subtotal amount, please."),
    "receipt.tax": ("What was the VAT?", "How much of it was tax?"),
    "receipt.date": ("When was I there?", "Date of purchase?", "Which day is on the receipt?"),
    "receipt.payment": ("Cash or card?", "What did they pay with?"),
    "receipt.item_price": ("What did {item} go for?", "Price for {item}?"),
    "receipt.street": ("What street is the shop on?", "Street address of the store?"),
    "receipt.phone": ("Shop's number?", "How can I call the store?"),
    "receipt.time": ("Time of purchase?", "When exactly was it rung up, what time?"),
    "receipt.cashier": ("Who rang this up?", "Name of the server?"),
    "invoice.number": ("Invoice #?", "What's the reference number of this bill?"),
    "invoice.vendor": ("Who's the supplier?", "Which firm billed this?"),
    "invoice.date": ("When was this billed?", "Issue date?"),
    "invoice.due_date": ("When's the payment deadline?", "Pay by what date?"),
    "invoice.client": ("Who's the customer here?", "Which client gets this bill?"),
    "invoice.total": ("What's the balance due?", "How much do they owe?"),
    "invoice.vat_id": ("VAT number?", "Supplier's tax registration?"),
    "invoice.po_number": ("PO #?", "Which purchase order is referenced?"),
    "form.name": ("Whose form is this?", "Applicant name?"),
    "form.birth": ("DOB?", "Born when?"),
    "form.phone": ("Contact number of the applicant?", "Applicant's mobile?"),
    "form.email": ("Email?", "What's their e-mail?"),
    "letter.date": ("What date heads this letter?", "Letter date?"),
    "letter.signer": ("Who wrote this letter?", "Who signed off?"),
    "letter.recipient": ("Who's the letter to?", "Addressee?"),
    "letter.subject": ("What's the letter about?", "Subject line?"),
}
