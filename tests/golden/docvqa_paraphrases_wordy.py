"""An eighth pool of question phrasings for the generated document-VQA set (`docvqa.py`).

Written on 2026-12-05 (session 33) from the fields' meanings alone, without looking at the
other pools, at runtime/reader/ or at the reported seed's questions. Its voice: requests wrapped in the
asker's situation, commands, indirect and polite questions, and clumsy non-native English.
Its first score says how the reader does on phrasings it was never shown; after that it is a
development pool. Slots are the development pool's per field.
"""

from __future__ import annotations

WORDY: dict[str, tuple[str, ...]] = {
    # ------------------------------------------------------------------ receipts
    "receipt.vendor": (
        "I found this receipt in my coat pocket. Which shop was it from?",
        "Tell me the name of the store that gave this receipt.",
        "This receipt, from what business it is coming?",
    ),
    "receipt.total": (
        "I'm doing my expenses. How much did this come to?",
        "Could you tell me the amount I paid in the end?",
        "The receipt, what total it has?",
    ),
    "receipt.subtotal": (
        "I need the figure before tax was added. What's the subtotal here?",
        "Read me the subtotal off this receipt, please.",
        "How much it was before they put the tax on?",
    ),
    "receipt.tax": (
        "My accountant wants the sales tax separately. How much tax was charged?",
        "Find the tax amount on this receipt for me.",
        "I'd like to know how much of this was tax.",
    ),
    "receipt.date": (
        "I have to return something within 30 days. When did I buy this?",
        "Tell me the purchase date on this receipt.",
        "Could you check which day this shopping was done?",
        "Which is the date of this receipt?",
    ),
    "receipt.payment": (
        "I'm trying to match this to my bank statement. How did I pay for it?",
        "Tell me the payment method shown on the receipt.",
        "With what the customer paid, cash or card or what?",
    ),
    "receipt.item_price": (
        "I bought some {item}; what did it cost?",
        "Give me the price of the {item} on this receipt.",
        "The {item}, how much they charged for it?",
    ),
    "receipt.item_quantity": (
        "I think I got too many. How many {item} did I buy?",
        "Tell me the quantity of {item} on this receipt.",
        "Could you count how many {item} were purchased here?",
    ),
    "receipt.item_tax_code": (
        "I'm sorting out VAT rates. What tax code is printed next to the {item}?",
        "Find me the tax letter beside {item} on the receipt.",
        "For the {item}, which tax code it has?",
    ),
    "receipt.street": (
        "I want to go back to this shop. What street is it on?",
        "Give me the shop's street address from the receipt.",
        "Where is this store located, which street?",
    ),
    "receipt.phone": (
        "I left my umbrella there. What number can I call the shop on?",
        "Tell me the store's phone number printed on this receipt.",
        "I'd like the telephone number of the shop, please.",
    ),
    "receipt.time": (
        "I need to know when exactly I was there. What time was this purchase?",
        "Give me the time printed on the receipt.",
        "At what hour this buying happened?",
    ),
    "receipt.cashier": (
        "The staff member was really helpful and I want to thank them. Who was the cashier?",
        "Tell me who served me at the till.",
        "Could you tell me the cashier's name on this receipt?",
    ),
    # ------------------------------------------------------------------ invoices
    "invoice.number": (
        "Give me the invoice number.",
        "I'm filling in a payment reference. What number does this invoice have?",
        "Which is the number of this invoice?",
    ),
    "invoice.vendor": (
        "I'd like to know which company sent this.",
        "Tell me who issued this invoice.",
        "I'm paying bills today. Which supplier is this invoice from?",
    ),
    "invoice.date": (
        "Could you tell me when this was issued?",
        "I'm filing this for the quarter. What's the invoice date?",
        "Find the date the invoice was made out.",
        "This invoice, on which date it was written?",
    ),
    "invoice.due_date": (
        "Find the due date for me.",
        "I don't want a late fee. By when do I have to pay this?",
        "Until what day the payment must be done?",
    ),
    "invoice.client": (
        "Tell me who this invoice is billed to.",
        "I handle several accounts. Which customer is this bill addressed to?",
        "I'd like to know the name of the client on this invoice.",
    ),
    "invoice.ship_to": (
        "The parcel went missing. Who was it supposed to be delivered to?",
        "Give me the ship-to name on this invoice.",
        "To whom the goods are sent, according this invoice?",
    ),
    "invoice.ship_street": (
        "The courier is asking. What street is the delivery going to?",
        "Tell me the street of the shipping address.",
        "Could you read me the street where the goods should be delivered?",
    ),
    "invoice.total": (
        "I'm about to make the bank transfer. How much do I owe in total?",
        "Give me the total amount due.",
        "Could you tell me what the whole invoice adds up to?",
        "How much is all together to pay on this invoice?",
    ),
    "invoice.line_amount": (
        "I'm checking the charges line by line. How much was billed for {item}?",
        "Give me the amount on the {item} line.",
        "The {item}, what amount they put for it?",
    ),
    "invoice.line_quantity": (
        "We only ordered a few. How many units of {item} were we billed for?",
        "Tell me the quantity invoiced for {item}.",
        "How much pieces of {item} are on this invoice?",
    ),
    "invoice.phone": (
        "I have a question about this bill. What number should I ring the company on?",
        "Find the supplier's telephone number for me.",
        "I'd like to know the phone number of the company that issued this.",
    ),
    "invoice.vat_id": (
        "Our bookkeeping needs it. What is the VAT number on this invoice?",
        "Give me the VAT identification number.",
        "Which VAT ID is written on this invoice?",
    ),
    "invoice.payment": (
        "Before I pay, how am I supposed to settle this invoice?",
        "Tell me the payment terms on this invoice.",
        "In what way the payment should be made for this?",
    ),
    "invoice.po_number": (
        "Purchasing wants to match it up. What's the PO number?",
        "Find the purchase order number on this invoice.",
        "Could you tell me which purchase order this invoice refers to?",
    ),
    # ------------------------------------------------------------------ forms
    "form.name": (
        "I'm entering these into the system. What's the applicant's full name?",
        "Tell me who filled in this form.",
        "Which name the person wrote on this application?",
    ),
    "form.birth": (
        "I need to check their age. When was the applicant born?",
        "Give me the date of birth on this form.",
        "Could you tell me the applicant's birthday as written here?",
    ),
    "form.phone": (
        "I have to call this applicant back. What's their phone number?",
        "Find the applicant's telephone number for me.",
        "Which number I can reach the person who applied?",
    ),
    "form.email": (
        "I want to send a confirmation. What email address did the applicant give?",
        "Give me the applicant's email.",
        "I'd like to know the e-mail written on this form.",
    ),
    "form.id": (
        "For the identity check, what ID number is on the form?",
        "Tell me the applicant's identity document number.",
        "Which is the number of the ID card they put here?",
    ),
    "form.city": (
        "We're grouping people by area. Which city does the applicant live in?",
        "Tell me the applicant's town of residence.",
        "In what city this person is living?",
    ),
    "form.occupation": (
        "I'm doing statistics on jobs. What does the applicant do for a living?",
        "Give me the occupation written on the form.",
        "Which work the applicant is doing?",
    ),
    "form.number": (
        "I need to quote it on the phone. What's the form's own number?",
        "Find the form number printed on this sheet.",
        "Could you tell me the number this form has printed on it?",
    ),
    "form.contact_name": (
        "In case something happens, who should we call? Give me the emergency contact's name.",
        "Tell me the name of the emergency contact person.",
        "Who the applicant put as emergency contact?",
    ),
    "form.contact_phone": (
        "There's been an accident. What number do we ring for the emergency contact?",
        "Find the emergency contact's phone number for me.",
        "I'd like to know the telephone of the person to contact in emergency.",
    ),
    "form.contact_relation": (
        "I'm about to call their emergency contact. How is that person related to the applicant?",
        "Tell me the emergency contact's relationship to the applicant.",
        "The emergency contact, what relation he is to the applicant?",
    ),
    "form.nationality": (
        "For the visa paperwork, what nationality is the applicant?",
        "Give me the applicant's citizenship from the form.",
        "From which country the applicant is a national?",
    ),
    # ------------------------------------------------------------------ letters
    "letter.company": (
        "I got this in the post. Which company sent me this letter?",
        "Tell me the company name on the letterhead.",
        "From what firm this letter is coming?",
    ),
    "letter.date": (
        "I need to reply within two weeks. What date is on the letter?",
        "Give me the date the letter was written.",
        "Could you tell me when this letter is dated?",
    ),
    "letter.recipient": (
        "This came to our office. Who is it actually addressed to?",
        "Tell me the name of the person this letter is for.",
        "To who this letter was written?",
    ),
    "letter.subject": (
        "I'm sorting the mail into folders. What is this letter about, per its subject line?",
        "Give me the Re line of this letter.",
        "I'd like to know the subject written in the letter.",
    ),
    "letter.signer": (
        "Tell me who signed it.",
        "I want to reply to the right person. Whose signature is at the bottom?",
        "Which person has signed this letter?",
    ),
    "letter.signer_title": (
        "I want to address my reply properly. What is the signer's job title?",
        "Tell me the position of the person who signed the letter.",
        "The one who signed, what role he has in the company?",
    ),
    "letter.phone": (
        "I'd rather call than write back. What phone number does the sender give?",
        "Find the sender's telephone number in this letter.",
        "On which number I can call the people who sent this?",
    ),
    "letter.reference": (
        "They told me to quote it in my answer. What's the letter's reference number?",
        "Give me the reference number of this letter.",
        "Which reference the letter has written on it?",
    ),
    "letter.amount": (
        "I'm worried about money here. What amount does the letter mention?",
        "Tell me the sum of money stated in the letter.",
        "How much money they are talking about in this letter?",
    ),
    "letter.email": (
        "I want to forward it to them. What is the recipient's email address?",
        "Find the email of the person the letter is addressed to.",
        "Which e-mail the addressee has, as written in the letter?",
    ),
    # ------------------------------------------------------------------ tables
    "table.price": (
        "I'm putting together a quote. What does {item} cost on this price list?",
        "Give me the price of {item}.",
        "The {item}, how much it costs in this list?",
    ),
    "table.quantity": (
        "I'm about to place an order. How many {item} are in stock?",
        "Tell me the quantity listed for {item}.",
        "How much of {item} there is in the stock list?",
    ),
    "table.item_by_code": (
        "A customer only gave me code {code}. Which product is that?",
        "Tell me what item has the product code {code}.",
        "The code {code}, to what article it belongs?",
    ),
    "table.code": (
        "I'm filling in an order form. What's the product code for {item}?",
        "Find the code of {item} in the table.",
        "Which code has the {item}?",
    ),
    "table.updated": (
        "I'm not sure these prices are current. When was this list last updated?",
        "Give me the last-updated date of this table.",
        "From which date is this list, when they updated it?",
    ),
    "table.cell": (
        "I'm checking a spec. What does the {column} column say for {row}?",
        "Give me the {column} of {row} from the table.",
        "For the row {row}, which value is in {column}?",
    ),
    "table.supplier_phone": (
        "I want to order by phone. What number is printed for the supplier?",
        "Tell me the supplier's telephone number on this price list.",
        "Which is the phone of the supplier in this list?",
    ),
    # ------------------------------------------------------------------ any page
    "any.total": (
        "I'm reconciling my accounts. What's the total on this document?",
        "Give me the final amount shown here.",
        "How much is the total of this paper?",
    ),
    "any.invoice_number": (
        "Support asked me for it. What's the invoice number on this page?",
        "Find the invoice number for me.",
        "Which invoice number is written here?",
    ),
    "any.tax_id": (
        "I need it for my tax return. What's the business's tax ID?",
        "Tell me the tax identification number of the company.",
        "Could you read me the tax number of this business?",
    ),
    "any.customer_email": (
        "I want to send the customer a copy. What's their email address?",
        "Give me the customer's email from this page.",
        "Which e-mail the customer has on this document?",
    ),
    "any.due_date": (
        "I keep missing deadlines. When is the payment due?",
        "Find the due date on this document.",
        "Until which date I must pay this?",
    ),
}
