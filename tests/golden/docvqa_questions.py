"""Question phrasings of the generated document-VQA set (issue 10): the development pool.

Each field a question can ask about (`"receipt.total"`, `"table.cell"`) has phrasings here,
which the development seeds 1, 2, ... draw from, and phrasings in `docvqa_reported.py`,
written separately and in another voice, which only the reported seed 0 draws from. The
reported pool lives in its own file so that whoever tunes the reader can read this one
without seeing it: do not open `docvqa_reported.py` while working on `runtime/reader/`.
`test_docvqa_phrasings.py` checks that no phrasing is in both pools and that none occurs in
`runtime/`. Slots in braces ({item}, {code}, {row}, {column}) are filled per document.
"""

from __future__ import annotations

import re

from docvqa_reported import REPORTED

REPORTED_SEEDS = frozenset({0})

# field: development phrasings
DEVELOPMENT: dict[str, tuple[str, ...]] = {
    # receipts
    "receipt.vendor": (
        "Who is the vendor?",
        "What is the name of the store?",
        "Which shop issued this receipt?",
        "Find the shop's name for me.",
        "Which business is this from?",
    ),
    "receipt.total": (
        "What is the total?",
        "How much is the total amount?",
        "Total?",
        "How much was paid in total?",
        "Look up the total for me.",
        "I'd like to know what the bill came to.",
    ),
    "receipt.subtotal": (
        "What is the subtotal?",
        "How much is the subtotal?",
        "Find the subtotal.",
    ),
    "receipt.tax": (
        "How much tax was charged?",
        "What is the tax amount?",
        "Look up the tax.",
    ),
    "receipt.date": (
        "What is the date of the receipt?",
        "When was this purchase made?",
        "On what date was this receipt issued?",
        "Find the purchase date.",
        "What day was this bought?",
    ),
    "receipt.payment": (
        "How did the customer pay?",
        "What payment method was used?",
        "Find the way it was paid.",
        "Say whether it was paid by card or cash.",
    ),
    "receipt.item_price": (
        "What is the price of {item}?",
        "How much did the {item} cost?",
        "Look up what {item} cost.",
    ),
    "receipt.item_quantity": (
        "How many {item} were bought?",
        "What quantity of {item} was purchased?",
        "Find out how many {item} they got.",
    ),
    "receipt.item_tax_code": (
        "Which tax code is {item} marked with?",
        "What tax flag does the {item} line carry?",
        "Find the tax letter of {item}.",
    ),
    "receipt.street": (
        "What is the store's street address?",
        "On which street is the store?",
        "Where is this shop? Just the street.",
    ),
    "receipt.phone": (
        "What is the store's phone number?",
        "What number can the shop be called on?",
        "Find the shop's telephone.",
    ),
    "receipt.time": (
        "At what time was the purchase made?",
        "What time is printed on the receipt?",
        "Look up the time of the sale.",
    ),
    "receipt.cashier": (
        "Who was the cashier?",
        "What is the cashier's name?",
        "Find who served at the register.",
    ),
    # invoices
    "invoice.number": (
        "What is the invoice number?",
        "Which invoice number is this?",
        "Look up this invoice's number.",
    ),
    "invoice.vendor": (
        "Which company issued this invoice?",
        "Who is the vendor?",
        "Who sent this invoice?",
        "Find the supplier who billed this.",
    ),
    "invoice.date": (
        "What is the invoice date?",
        "On which date was the invoice made out?",
        "Find the date this invoice was issued.",
    ),
    "invoice.due_date": (
        "What is the due date?",
        "What is the payment due date?",
        "By when must it be paid?",
    ),
    "invoice.client": (
        "Who is the invoice addressed to?",
        "Who is billed?",
        "What is the customer's name?",
        "Find who is being invoiced.",
    ),
    "invoice.ship_to": (
        "Who are the goods shipped to?",
        "What name is in the delivery address?",
        "Look up who receives the shipment.",
    ),
    "invoice.ship_street": (
        "What is the street of the delivery address?",
        "To which street is the order shipped?",
        "Find the street the goods go to.",
    ),
    "invoice.total": (
        "Total due?",
        "What is the total amount due?",
        "How much is owed in total?",
        "Look up the amount owed.",
        "I'd like to know the balance to pay.",
    ),
    "invoice.line_amount": (
        "What is the amount for {item}?",
        "How much is charged for {item} in total?",
        "Find the line amount of {item}.",
    ),
    "invoice.line_quantity": (
        "How many units of {item} were billed?",
        "What is the quantity of {item}?",
        "Look up how many {item} were invoiced.",
    ),
    "invoice.phone": (
        "What is the vendor's phone number?",
        "Find the supplier's telephone.",
    ),
    "invoice.vat_id": (
        "What is the VAT ID?",
        "Which tax ID does the vendor have?",
        "Look up the supplier's VAT registration.",
    ),
    "invoice.payment": (
        "What payment method was used?",
        "By what method was this invoice settled?",
        "Find how the invoice is to be paid.",
    ),
    "invoice.po_number": (
        "What is the purchase order number?",
        "Look up the PO number.",
    ),
    # forms
    "form.name": (
        "What is the applicant's full name?",
        "What name is written on the form?",
        "Who filled in this form?",
        "Find the applicant's name.",
    ),
    "form.birth": (
        "What is the date of birth?",
        "When is the applicant's birthday?",
        "Look up when the applicant was born.",
    ),
    "form.phone": (
        "What is the applicant's phone number?",
        "Which phone number does the applicant give?",
        "Find the applicant's telephone.",
    ),
    "form.email": (
        "What is the email address?",
        "What email is listed?",
        "Look up the e-mail on the form.",
    ),
    "form.id": (
        "What is the ID number?",
        "Which ID number is given on the form?",
        "Find the identification number.",
    ),
    "form.city": (
        "Which city does the applicant live in?",
        "What city is listed?",
        "Find the applicant's home town.",
    ),
    "form.occupation": (
        "What is the applicant's occupation?",
        "What is the applicant's profession?",
        "Look up what the applicant does for a living.",
    ),
    "form.number": (
        "What is the form number?",
        "Find the number of this form.",
    ),
    "form.contact_name": (
        "Who is the emergency contact?",
        "What is the emergency contact's name?",
        "Look up who to contact in an emergency.",
    ),
    "form.contact_phone": (
        "What is the emergency contact's phone number?",
        "Which number reaches the emergency contact?",
        "Find the emergency number of the contact.",
    ),
    "form.contact_relation": (
        "How is the emergency contact related to the applicant?",
        "What relationship is given for the contact?",
        "Find the contact's relationship.",
    ),
    "form.nationality": (
        "What is the applicant's nationality?",
        "Look up the applicant's citizenship.",
    ),
    # letters
    "letter.company": (
        "Which company sent this letter?",
        "Which organization is the letter from?",
        "Find the company that wrote this.",
    ),
    "letter.date": (
        "What is the date of the letter?",
        "On what date was the letter written?",
        "Find the date at the top of the letter.",
    ),
    "letter.recipient": (
        "Who is the letter addressed to?",
        "Who is the recipient?",
        "Look up who receives this letter.",
    ),
    "letter.subject": (
        "What is the subject of the letter?",
        "What is the letter's subject line?",
        "Find what the letter is regarding.",
    ),
    "letter.signer": (
        "Who signed the letter?",
        "What is the name of the person who signed?",
        "Find who signed off.",
    ),
    "letter.signer_title": (
        "What is the signer's job title?",
        "Look up the position of whoever signed.",
    ),
    "letter.phone": (
        "What is the sender's phone number?",
        "What phone number is given?",
        "Find a phone number to reach the sender.",
    ),
    "letter.reference": (
        "What is the reference number?",
        "Look up the letter's reference.",
    ),
    "letter.amount": (
        "What is the total amount?",
        "How much money is owed?",
        "Find the sum the letter mentions.",
    ),
    "letter.email": (
        "What is the recipient's email address?",
        "Find the recipient's e-mail.",
    ),
    # tables
    "table.price": (
        "What is the price of {item}?",
        "What is the listed price for {item}?",
        "Look up the price for {item}.",
    ),
    "table.quantity": (
        "How many {item} are listed?",
        "What is the quantity of {item}?",
        "Find the quantity of {item}.",
    ),
    "table.item_by_code": (
        "What item is listed under code {code}?",
        "Find the item with code {code}.",
    ),
    "table.code": (
        "What is the code of {item}?",
        "Look up {item}'s code.",
    ),
    "table.updated": (
        "When was the list updated?",
        "Find the date of the last update.",
    ),
    "table.cell": (
        "What is the {column} value for {row}?",
        "In the {column} column, what figure does {row} have?",
        "Find {row}'s {column}.",
    ),
    "table.supplier_phone": (
        "What is the supplier's phone number?",
        "Look up the supplier's telephone.",
    ),
    # asked where a document of another kind cannot answer them
    "any.total": (
        "What is the total amount?",
        "How much is the total?",
        "Find the total amount.",
    ),
    "any.invoice_number": (
        "What is the invoice number?",
        "Look up the invoice number.",
    ),
    "any.tax_id": (
        "What is the store's tax ID?",
        "What is the VAT number?",
        "Find the tax number.",
    ),
    "any.customer_email": (
        "What is the customer's email address?",
        "Look up the customer's e-mail.",
    ),
    "any.due_date": (
        "What is the due date?",
        "What is the payment due date?",
        "Find the payment deadline.",
    ),
}

# field: (development phrasings, reported phrasings)
PHRASINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    field: (pool, REPORTED[field]) for field, pool in DEVELOPMENT.items()
}
assert DEVELOPMENT.keys() == REPORTED.keys(), "every field needs phrasings in both pools"


def phrasings_for(seed: int) -> dict[str, tuple[str, ...]]:
    """The pool one seed draws from: the reported pool for seed 0, the development pool else."""
    side = 1 if seed in REPORTED_SEEDS else 0
    return {field: pools[side] for field, pools in PHRASINGS.items()}


def canonical(text: str) -> str:
    """A phrasing in the form phrasings are compared in: lowercase, slots as "{}", words only.

    So "What's the  Total?" and "what is the total" are one phrasing, and "{item}" and
    "{row}" one slot."""
    text = re.sub(r"\{\w*\}", "{}", text.lower().replace("’", "'"))
    text = re.sub(r"\b(\w+)'s\b", r"\1 s", text.replace("what's", "what is"))
    return " ".join(re.findall(r"\{\}|[\w-]+", text))


def literal_parts(template: str, min_words: int = 3) -> list[str]:
    """The canonical text between a template's slots, kept where it has `min_words` words or
    more (shorter fragments, "total", "how many", are ordinary words, not a template)."""
    return [part.strip() for part in canonical(template).split("{}") if len(part.split()) >= min_words]
