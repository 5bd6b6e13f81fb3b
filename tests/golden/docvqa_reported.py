"""Question phrasings of the generated document-VQA set (issue 10): the reported pool.

Only the reported seed 0 draws from these; they were written separately from the
development pool (`docvqa_questions.py`) and in another voice, so the figure on seed 0
measures questions nobody tuned the reader on. Do not read this file while working on
`runtime/reader/`; add development phrasings to `docvqa_questions.py` instead.
"""

from __future__ import annotations

# field: reported phrasings
REPORTED: dict[str, tuple[str, ...]] = {
    # receipts
    "receipt.vendor": (
        "Name the business on this till slip.",
        "I need the merchant this receipt comes from.",
    ),
    "receipt.total": (
        "Give me the grand total printed here.",
        "According to the receipt, what did the customer end up paying?",
    ),
    "receipt.subtotal": (
        "Tell me the sum of the items before any tax is added.",
        "Report the pre-tax sum shown on the slip.",
    ),
    "receipt.tax": (
        "State the sales tax figure on this slip.",
        "Give me the tax line's amount.",
    ),
    "receipt.date": (
        "Tell me the day of this transaction.",
        "Which day does the till slip show?",
    ),
    "receipt.payment": (
        "Tell me how the customer settled the bill.",
        "Which means of payment appears on the slip?",
    ),
    "receipt.item_price": (
        "Give me the amount charged for the {item}.",
        "According to the slip, what was paid for {item}?",
    ),
    "receipt.item_quantity": (
        "Tell me the count of {item} on this slip.",
        "I need the number of {item} the customer took.",
    ),
    "receipt.item_tax_code": (
        "Give me the letter printed in the tax column for {item}.",
        "Report the VAT class letter next to {item}.",
    ),
    "receipt.street": (
        "Give me the street line of the shop's address.",
        "Tell me where the merchant is located, street only.",
    ),
    "receipt.phone": (
        "Give me the merchant's telephone.",
        "I need the shop's contact number from the header.",
    ),
    "receipt.time": (
        "Tell me the clock time of the sale.",
        "Report the hour and minute shown next to the date.",
    ),
    "receipt.cashier": (
        "Name the till operator on this slip.",
        "Tell me which employee served the customer.",
    ),
    # invoices
    "invoice.number": (
        "Give me this bill's reference number.",
        "Quote the document number of this bill.",
    ),
    "invoice.vendor": (
        "Name the supplier who billed the work.",
        "Tell me which firm raised this bill.",
    ),
    "invoice.date": (
        "Tell me the issue day of this bill.",
        "Give me the day the bill was raised.",
    ),
    "invoice.due_date": (
        "By which day must the bill be settled?",
        "Give me the payment deadline.",
    ),
    "invoice.client": (
        "Name the person this bill is charged to.",
        "Tell me the client's name from the billing block.",
    ),
    "invoice.ship_to": (
        "Name the consignee in the delivery block.",
        "Tell me who receives the shipment.",
    ),
    "invoice.ship_street": (
        "Give me the street line where the goods are to be delivered.",
        "Report the shipping street.",
    ),
    "invoice.total": (
        "Give me the balance the client has to pay.",
        "Tell me the final amount of this bill.",
    ),
    "invoice.line_amount": (
        "Give me the line total for {item}.",
        "Report what the {item} line adds to the bill.",
    ),
    "invoice.line_quantity": (
        "Tell me the count billed on the {item} line.",
        "I need the number of {item} units charged.",
    ),
    "invoice.phone": (
        "Give me the supplier's telephone.",
        "I need the number to ring the firm that sent the bill.",
    ),
    "invoice.vat_id": (
        "Quote the supplier's VAT registration.",
        "Give me the tax registration code of the seller.",
    ),
    "invoice.payment": (
        "Tell me how the bill was paid, card or cash.",
        "Which means of payment settled the bill?",
    ),
    "invoice.po_number": (
        "Quote the client's PO reference.",
        "Give me the order reference the buyer supplied.",
    ),
    # forms
    "form.name": (
        "Name the person who submitted the form.",
        "Give me the registrant's name.",
    ),
    "form.birth": (
        "Tell me the registrant's birth date.",
        "Give me the day the person was born.",
    ),
    "form.phone": (
        "Give me the registrant's own telephone.",
        "I need the number to reach the person who filled this in.",
    ),
    "form.email": (
        "Give me the registrant's e-mail.",
        "Tell me the electronic mail address provided.",
    ),
    "form.id": (
        "Quote the identification number entered.",
        "Give me the registrant's identity document number.",
    ),
    "form.city": (
        "Tell me the town of residence entered.",
        "Give me the registrant's home town.",
    ),
    "form.occupation": (
        "Tell me the registrant's line of work.",
        "Give me the job the person says they have.",
    ),
    "form.number": (
        "Quote the reference printed beside the title.",
        "Give me this form's serial.",
    ),
    "form.contact_name": (
        "Name the person to notify in an emergency.",
        "Tell me who should be reached if something happens.",
    ),
    "form.contact_phone": (
        "Give me the telephone of the person to notify.",
        "I need the number for the next of kin.",
    ),
    "form.contact_relation": (
        "Tell me how the person to notify is related.",
        "Give me the next of kin's relation to the registrant.",
    ),
    "form.nationality": (
        "Tell me the registrant's citizenship.",
        "Give me the country of citizenship entered.",
    ),
    # letters
    "letter.company": (
        "Name the firm on the letterhead.",
        "Tell me who the correspondence comes from.",
    ),
    "letter.date": (
        "Tell me the day this correspondence is dated.",
        "Give me the letter's dating.",
    ),
    "letter.recipient": (
        "Name the person the correspondence is for.",
        "Tell me whom the writer greets.",
    ),
    "letter.subject": (
        "Tell me what the correspondence is about, as its heading says.",
        "Give me the topic line.",
    ),
    "letter.signer": (
        "Name the writer who closes the correspondence.",
        "Tell me whose signature ends the letter.",
    ),
    "letter.signer_title": (
        "Tell me the position of the writer under the signature.",
        "Give me the role printed below the writer's name.",
    ),
    "letter.phone": (
        "Give me the firm's telephone from the letterhead.",
        "I need the number to ring the writer's company.",
    ),
    "letter.reference": (
        "Quote the writer's reference code.",
        "Give me the reference the firm asks to be quoted.",
    ),
    "letter.amount": (
        "Give me the sum the writer demands.",
        "Tell me the balance mentioned in the correspondence.",
    ),
    "letter.email": (
        "Give me the addressee's e-mail.",
        "Tell me the electronic mail of the person written to.",
    ),
    # tables
    "table.price": (
        "Give me the list price for {item}.",
        "According to the list, what do {item} sell for?",
    ),
    "table.quantity": (
        "Tell me the stock count for {item}.",
        "I need the number of {item} on hand.",
    ),
    "table.item_by_code": (
        "Name the article filed under {code}.",
        "Tell me what product {code} refers to.",
    ),
    "table.code": (
        "Give me the article number for {item}.",
        "Quote the catalogue reference of {item}.",
    ),
    "table.updated": (
        "Tell me the day this listing was last revised.",
        "Give me the revision date of the list.",
    ),
    "table.cell": (
        "Give me the entry where the {row} row meets {column}.",
        "Tell me the {row} figure under {column}.",
    ),
    "table.supplier_phone": (
        "Give me the telephone of the wholesaler.",
        "I need the number to ring the vendor of these goods.",
    ),
    # asked where a document of another kind cannot answer them
    "any.total": (
        "Give me the sum due on this page.",
        "Tell me the grand total, if there is one.",
    ),
    "any.invoice_number": (
        "Quote the bill number on this page.",
        "Give me the number of the bill.",
    ),
    "any.tax_id": (
        "Quote the seller's tax registration.",
        "Give me the merchant's VAT registration.",
    ),
    "any.customer_email": (
        "Give me the buyer's e-mail.",
        "Tell me the client's electronic mail address.",
    ),
    "any.due_date": (
        "By which day must this be paid?",
        "Give me the payment deadline.",
    ),
}
