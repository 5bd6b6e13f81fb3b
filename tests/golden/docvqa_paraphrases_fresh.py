"""A fourth pool of question phrasings for the generated documents: development measurement only (issue 10).

Written 2026-12-03 apart from runtime/ and every other phrasing pool, to measure the reader on
phrasings nobody tuned it on. Each field gets three wordings in the voices people actually type
into a chat box (a full question, a request, a clipped fragment), drafted from the field's meaning
alone, without looking at how the code or the earlier pools phrase it. Scores here show how well
the reader generalises; do not tune the reader against this file, or it stops measuring that.
Eight phrasings that turned out to occur in the generator's pools, the third pool or a
comment of runtime/ were replaced by others written for the same fields (the checks of
test_docvqa_phrasings.py found them).
"""

from __future__ import annotations

FRESH: dict[str, tuple[str, ...]] = {
    "receipt.vendor": (
        "Which store is this receipt from?",
        "Tell me the name of the place I bought this from.",
        "what store did i shop at?",
    ),
    "receipt.total": (
        "How much did I pay altogether?",
        "Give me the grand total on this receipt.",
        "final amount charged?",
    ),
    "receipt.subtotal": (
        "Could you tell me the pre-tax amount?",
        "I need the sub-total figure.",
        "how much was it before tax got added?",
    ),
    "receipt.tax": (
        "How much tax was charged on this purchase?",
        "Give me the sales tax figure.",
        "tax on this one?",
    ),
    "receipt.date": (
        "When did I make this purchase?",
        "What day is printed on the receipt?",
        "Date of the transaction, please.",
    ),
    "receipt.payment": (
        "How did I pay for this?",
        "Was this settled with cash or a card?",
        "payment method used?",
    ),
    "receipt.item_price": (
        "What was the price on the {item}?",
        "What was I charged for {item}?",
        "{item} - how much?",
    ),
    "receipt.street": (
        "What street is the store on?",
        "Give me the store's street address.",
        "which street is this place located on?",
    ),
    "receipt.phone": (
        "What's the store's telephone number?",
        "I need the number to call the store.",
        "store tel. no.?",
    ),
    "receipt.time": (
        "What time did I check out?",
        "At what time was this sale rung up?",
        "time of the transaction?",
    ),
    "receipt.cashier": (
        "Who rang me up?",
        "Which employee served me at the till?",
        "Name of the clerk on this receipt, please.",
    ),
    "invoice.number": (
        "What's the invoice no.?",
        "I need the invoice #.",
        "Which number was this invoice given?",
    ),
    "invoice.vendor": (
        "Which business is asking me for the money?",
        "Which company is billing me here?",
        "supplier name?",
    ),
    "invoice.date": (
        "When was this invoice issued?",
        "Give me the date the invoice was raised.",
        "invoice issue date?",
    ),
    "invoice.due_date": (
        "By when do I have to pay this?",
        "What is the last day to pay?",
        "Tell me the date this bill must be settled by.",
    ),
    "invoice.client": (
        "Who is this invoice made out to?",
        "Which customer is being charged here?",
        "Name of the person the bill is addressed to, please.",
    ),
    "invoice.total": (
        "How much do I owe in total?",
        "What's the balance to pay on this invoice?",
        "amount payable?",
    ),
    "invoice.vat_id": (
        "What's the supplier's VAT number?",
        "Give me the seller's VAT registration no.",
        "vendor VAT reg #?",
    ),
    "invoice.po_number": (
        "Which PO is this invoice for?",
        "I need the purchase order no.",
        "purchase order ref?",
    ),
    "form.name": (
        "Who filled out this form?",
        "Whose details are on this form?",
        "Name of the registrant, please.",
    ),
    "form.birth": (
        "What birth date did they enter?",
        "what's their DOB?",
        "Give me the birthdate on the form.",
    ),
    "form.phone": (
        "What number can we reach the applicant on?",
        "contact phone on the form?",
        "Give me the registrant's telephone number.",
    ),
    "form.email": (
        "What's their email address?",
        "Which e-mail did the applicant put down?",
        "email on the form pls.",
    ),
    "letter.date": (
        "On what day was the letter sent?",
        "What date is on the letter?",
        "Date at the top of the letter, please.",
    ),
    "letter.signer": (
        "Who is the author of the letter?",
        "Whose signature is at the bottom?",
        "Tell me who the letter is from.",
    ),
    "letter.recipient": (
        "Who is the letter for?",
        "Who was this letter sent to?",
        "Name of the addressee, please.",
    ),
    "letter.subject": (
        "What's this letter regarding?",
        "Give me the Re: line of the letter.",
        "letter topic?",
    ),
}
