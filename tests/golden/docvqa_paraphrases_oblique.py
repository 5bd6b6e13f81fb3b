"""A sixth pool of question phrasings for the generated document-VQA set (`docvqa.py`).

Written on 2026-12-04 from the fields' meanings alone, without looking at the other pools or
at the reported seed's questions. Its voice is oblique: a question that says what the value
is for or what the asker is doing with it ("Who do I make the cheque out to?", "By when
must this be settled?") rather than the name printed beside it, the way a user who never
saw the page's labels asks. It is a development pool once the reader is tuned on it (from
its first run, session 19); until then its first score says how the reader does on
phrasings it was never shown. Slots ({item}, {code}, {row}, {column}) are the development
pool's per field. A phrasing found in another pool or in runtime/ was dropped by script, unread (eleven of the 183 drafted).
"""

from __future__ import annotations

OBLIQUE: dict[str, tuple[str, ...]] = {
    # --- receipts ---------------------------------------------------------------------------
    "receipt.vendor": (
        "Where did I do this shopping?",
        "Which store would I have to go back to for a refund?",
        "Whose till printed this slip?",
    ),
    "receipt.total": (
        "What did this shopping trip cost me?",
        "How much left my wallet at the checkout?",
        "What figure should I claim back for this purchase?",
    ),
    "receipt.subtotal": (
        "What did the goods come to before the tax went on?",
        "How much was it without the tax part?",
        "What is the running sum of the items, tax not included?",
    ),
    "receipt.tax": (
        "How much of what I paid went to the government?",
        "What portion of the bill is tax?",
        "How much tax was added on top?",
    ),
    "receipt.date": (
        "When was I in this shop?",
        "On what day was this slip printed?",
        "When did this sale happen?",
    ),
    "receipt.payment": (
        "How was the money handed over?",
        "What did the shopper use to settle up?",
        "Was it settled by plastic or by notes and coins?",
    ),
    "receipt.item_price": (
        "How much did they charge me for the {item}?",
        "What was the cost of the {item}?",
        "The {item} set me back how much?",
    ),
    "receipt.item_quantity": (
        "How many units of {item} were bought?",
        "What number of {item} went through the till?",
        "Count of {item} on this purchase?",
    ),
    "receipt.item_tax_code": (
        "Under which tax letter does the {item} fall?",
        "What tax marking sits beside the {item}?",
        "Which rate class is the {item} taxed in?",
    ),
    "receipt.street": (
        "Where would I find this store again?",
        "Which road is this branch located on?",
    ),
    "receipt.phone": (
        "What number do I dial to reach this shop?",
        "Which telephone number does the slip give?",
    ),
    "receipt.time": (
        "At what hour did I pay?",
        "What time of day was the sale rung up?",
        "When exactly, to the minute, was this printed?",
    ),
    "receipt.cashier": (
        "Which member of staff served at the till?",
        "Who was working the register for this sale?",
    ),
    # --- invoices ---------------------------------------------------------------------------
    "invoice.number": (
        "Which reference should I quote when I pay this invoice?",
        "What number identifies this bill?",
        "How is this invoice numbered?",
    ),
    "invoice.vendor": (
        "Who is asking to be paid?",
        "Which company wants this money?",
        "Who sent us this bill?",
    ),
    "invoice.date": (
        "When was this bill written out?",
        "On what day was the invoice raised?",
        "When did the supplier issue this?",
    ),
    "invoice.due_date": (
        "By when must this be settled?",
        "What is the last day I can pay without being late?",
        "When does the payment fall due?",
    ),
    "invoice.client": (
        "Who is expected to pay this bill?",
        "Which customer was invoiced?",
        "Whom is this invoice made out to?",
    ),
    "invoice.ship_to": (
        "Who will receive the delivery?",
        "Where are the goods being sent, whose name is on it?",
        "To whom are the items shipped?",
    ),
    "invoice.ship_street": (
        "Which street does the shipment go to?",
        "On what road should the courier drop the goods?",
        "What street address is the delivery for?",
    ),
    "invoice.total": (
        "How much do we owe in the end?",
        "What is the full sum requested on this bill?",
        "What amount settles this invoice?",
    ),
    "invoice.line_amount": (
        "What are we paying for the {item}?",
        "How much does the {item} add to the bill?",
        "The {item} costs us what on this invoice?",
    ),
    "invoice.line_quantity": (
        "How many {item} did we order?",
        "What number of {item} was delivered and billed?",
        "Units of {item} billed?",
    ),
    "invoice.phone": (
        "Which number should I ring about this bill?",
        "How can I reach the supplier by phone?",
        "What telephone contact does the invoice list?",
    ),
    "invoice.vat_id": (
        "What is the seller's tax registration?",
        "Under which VAT number does the supplier trade?",
        "Which tax identifier does the vendor print?",
    ),
    "invoice.payment": (
        "How does the supplier want to be paid?",
        "What means of paying does the invoice ask for?",
        "In what way should this be paid?",
    ),
    "invoice.po_number": (
        "Which of our orders does this bill relate to?",
        "What order reference did the buyer give?",
        "Which purchase order is quoted?",
    ),
    # --- forms ------------------------------------------------------------------------------
    "form.name": (
        "Whose details are on this sheet?",
        "What is the applicant called?",
    ),
    "form.birth": (
        "How old is this person, what birthday is given?",
        "What day did this person come into the world?",
    ),
    "form.phone": (
        "How can the applicant be reached by phone?",
        "Which number should we call this person on?",
        "What phone number did they give?",
    ),
    "form.email": (
        "Where can I write to this person electronically?",
        "Which mail address online did the applicant give?",
        "What is the person's email?",
    ),
    "form.id": (
        "Which identity number did the person give?",
        "What number is on their ID?",
        "What identifies this applicant officially?",
    ),
    "form.city": (
        "Which town does the applicant live in?",
        "Where is this person based?",
        "What city did they put down?",
    ),
    "form.occupation": (
        "What does the applicant do for work?",
        "What is this person's trade?",
        "How does the applicant earn a living?",
    ),
    "form.number": (
        "Which number was this form given?",
        "Under what reference is this application filed?",
        "What is the sheet's own number?",
    ),
    "form.contact_name": (
        "Whom should we call if something happens to the applicant?",
        "Who is listed to be contacted in an emergency?",
        "Which person is the fallback contact?",
    ),
    "form.contact_phone": (
        "On which number can the emergency contact be reached?",
        "What is the phone of the person to call in a crisis?",
        "How do we ring the next of kin?",
    ),
    "form.contact_relation": (
        "What relation is the person to call in an emergency?",
        "Is the emergency contact family, and if so what?",
    ),
    "form.nationality": (
        "Which country's passport does the applicant hold?",
        "Where is this person a citizen?",
        "What citizenship is stated?",
    ),
    # --- letters ----------------------------------------------------------------------------
    "letter.company": (
        "Which organisation wrote this letter?",
        "On whose letterhead is this printed?",
        "What firm does the letter come from?",
    ),
    "letter.date": (
        "On what day was this sent out?",
        "What date does the letter carry?",
    ),
    "letter.recipient": (
        "To whom is the letter written?",
        "Who is meant to read this?",
    ),
    "letter.subject": (
        "What matter does this correspondence concern?",
        "Which topic does the heading of the letter give?",
    ),
    "letter.signer": (
        "Who put their name at the bottom of this letter?",
        "Who wrote and signed this?",
    ),
    "letter.signer_title": (
        "What position does the person who signed hold?",
        "What is the writer's job title?",
        "In what role did the signer write?",
    ),
    "letter.phone": (
        "What number can I call to answer this letter?",
        "How do I reach the sender by telephone?",
        "Which phone line does the letter mention?",
    ),
    "letter.reference": (
        "Which reference should a reply quote?",
        "What file reference does the letter carry?",
        "Under what reference is this correspondence kept?",
    ),
    "letter.amount": (
        "How much money is the letter about?",
        "What sum does the writer mention?",
        "Which amount is being asked for or offered?",
    ),
    "letter.email": (
        "Where can I send an email reply?",
        "What electronic address does the letter give?",
        "How do I contact the sender by email?",
    ),
    # --- tables -----------------------------------------------------------------------------
    "table.price": (
        "What does one {item} sell for?",
        "How much would a single {item} cost me?",
        "At what price is the {item} listed?",
    ),
    "table.quantity": (
        "What count is given for the {item}?",
        "How much {item} is there on hand?",
    ),
    "table.item_by_code": (
        "Which product has the code {code}?",
        "What is sold under {code}?",
        "Which article does {code} stand for?",
    ),
    "table.code": (
        "Under which code is the {item} listed?",
        "What reference identifies the {item}?",
        "How is the {item} coded in this list?",
    ),
    "table.updated": (
        "When was this list last brought up to date?",
        "How recent are these figures?",
        "As of which date does the table hold?",
    ),
    "table.cell": (
        "In the {column} column, what does {row} show?",
        "What is recorded for {row} in {column}?",
        "Which figure sits at {row}, {column}?",
    ),
    "table.supplier_phone": (
        "Which number reaches the supplier of these goods?",
        "How can I phone whoever supplies this stock?",
        "What is the supplier's telephone?",
    ),
    # --- any document -----------------------------------------------------------------------
    "any.total": (
        "What is the bottom line here?",
        "What does everything add up to?",
        "How much is it all together?",
    ),
    "any.invoice_number": (
        "Which invoice is this, by number?",
        "What number does the bill go by?",
        "What is the bill's reference number?",
    ),
    "any.tax_id": (
        "What tax registration appears on this document?",
        "Which tax number is printed here?",
        "What is the business's tax reference?",
    ),
    "any.customer_email": (
        "Where can the customer be emailed?",
        "What is the buyer's email address?",
        "Which email belongs to the client?",
    ),
    "any.due_date": (
        "When is the money due?",
        "What is the deadline for paying?",
        "By what date does this have to be paid?",
    ),
}
