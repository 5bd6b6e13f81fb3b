"""Question phrasings of the generated document-VQA set (issue 10): the reported pool.

Only the reported seed 0 draws from these; they were written separately from the
development pool (`docvqa_questions.py`) and in another voice, so the figure on seed 0
measures questions nobody tuned the reader on. Do not read this file while working on
`runtime/reader/`; add development phrasings to `docvqa_questions.py` instead.
"""

from __future__ import annotations

# field: reported phrasings
REPORTED: dict[str, tuple[str, ...]] = {
    "receipt.vendor": (
        "Which shop is this receipt from?",
        "Could you tell me the name of the store that printed this till slip?",
        "I need the merchant's name off this receipt for my expenses.",
    ),
    "receipt.total": (
        "How much did I end up paying altogether?",
        "Pull out the final amount charged on the receipt, tax included.",
        "For the reimbursement form: what was the full sum I paid here?",
    ),
    "receipt.subtotal": (
        "What did the items come to before tax was added?",
        "Would you check the pre-tax subtotal on this receipt?",
        "subtotal before tax on this one?",
    ),
    "receipt.tax": (
        "How much of what I paid went on tax?",
        "I'm trying to work out the VAT or sales tax I paid - what amount does the receipt show?",
        "Read me the tax figure from the slip.",
    ),
    "receipt.date": (
        "On what date was this purchase made?",
        "When was this receipt issued? Just the day, please.",
        "Please spot the transaction date on the receipt.",
    ),
    "receipt.payment": (
        "What payment method was used at the till?",
        "Was this settled in cash, by card or some other way? Tell me which.",
        "For my records I need to know what this was paid with.",
    ),
    "receipt.item_price": (
        "How much was charged for the {item}?",
        "What did the {item} cost on this receipt?",
        "Grab the amount printed on the {item} line for me.",
    ),
    "receipt.item_quantity": (
        "What quantity of {item} was bought?",
        "Mind counting how many units of {item} the receipt lists?",
        "{item} - how many were purchased?",
    ),
    "receipt.item_tax_code": (
        "Which tax code letter is printed beside the {item}?",
        "Identify the VAT category code on the {item} line.",
        "I'm splitting items by tax rate; which code does {item} carry?",
    ),
    "receipt.street": (
        "What street address is the shop at?",
        "Could you copy out the store's street and house number from the header?",
        "shop's street address, please?",
    ),
    "receipt.phone": (
        "Telephone number of the shop on this receipt?",
        "I want to ring the shop about this purchase - which number should I dial?",
        "Is a phone number printed for the retailer? If so, what is it?",
    ),
    "receipt.time": (
        "What time of day did this transaction happen?",
        "At what time was the sale rung up?",
        "time of purchase on the slip?",
    ),
    "receipt.cashier": (
        "Who was the cashier for this sale?",
        "Can you tell me the name of the person who served me at the checkout?",
        "Note down the cashier's name shown on the receipt.",
    ),
    "invoice.number": (
        "Which number has this invoice been given?",
        "invoice no. on this one?",
        "I have to quote the invoice number on my bank transfer - what is it?",
    ),
    "invoice.vendor": (
        "Which company sent me this invoice?",
        "Who is the supplier billing us here?",
        "Do you know the name of the business that issued the bill?",
    ),
    "invoice.date": (
        "When was this invoice raised?",
        "Give me the issue date of the invoice, not the due date.",
        "For bookkeeping, which date was the invoice issued on?",
    ),
    "invoice.due_date": (
        "By when does this invoice have to be paid?",
        "payment deadline on this bill?",
        "Could you double-check the due date so we don't pay late?",
    ),
    "invoice.client": (
        "Who is being billed on this invoice?",
        "Name of the customer the invoice is made out to?",
        "I'm trying to figure out which person this bill is charged to.",
    ),
    "invoice.ship_to": (
        "Whose name is on the delivery address?",
        "To whom should this order be shipped?",
        "Scan the ship-to block and give me the recipient's name.",
    ),
    "invoice.ship_street": (
        "What street is the delivery going to?",
        "Would you read me the street line of the shipping address?",
        "I need the delivery street address from this invoice for the courier.",
    ),
    "invoice.total": (
        "How much is owed in total on this invoice?",
        "Overall amount due on the bill?",
        "Tell me the invoice total so I can approve the payment.",
    ),
    "invoice.line_amount": (
        "What's the line total for {item}?",
        "How much does the invoice charge altogether for {item}?",
        "Extract the amount billed for {item} (the whole line, not the unit price).",
    ),
    "invoice.line_quantity": (
        "How many units of {item} were invoiced?",
        "What quantity is billed for {item}?",
        "Check the qty on the {item} row for me.",
    ),
    "invoice.phone": (
        "What phone number does the supplier list on this invoice?",
        "If I have a query about the bill, what number do I call?",
        "Locate the vendor's telephone number.",
    ),
    "invoice.vat_id": (
        "Under what VAT number is the seller registered?",
        "Can you locate the VAT ID printed on the invoice?",
        "Our accountant needs the supplier's VAT number - what does it say?",
    ),
    "invoice.payment": (
        "What payment method does this invoice specify?",
        "How is this bill meant to be paid, according to the document?",
        "I'd like to know which way of paying the supplier asks for here.",
    ),
    "invoice.po_number": (
        "Which purchase order does this invoice relate to? I need its number.",
        "Is a PO number referenced anywhere? Which one?",
        "Accounts payable wants the PO reference for this bill.",
    ),
    "form.name": (
        "What full name has been written on this form?",
        "Whose personal details have been entered on this form?",
        "Could you read out the name of the person who filled this in?",
    ),
    "form.birth": (
        "What birth date is on the form for the applicant?",
        "date of birth given on the form?",
        "I need to confirm this person's DOB - what does the form say?",
    ),
    "form.phone": (
        "What phone number did the applicant give for themselves?",
        "Could you find the applicant's own contact number (not the emergency contact's)?",
        "Which telephone number is listed for the person registering?",
    ),
    "form.email": (
        "What email address is filled in on the form?",
        "Dig out the applicant's e-mail for me.",
        "I want to write to this person - what email did they put down?",
    ),
    "form.id": (
        "What ID number is given on this form?",
        "Would you mind checking the applicant's identification number?",
        "ID no. of the person on the form?",
    ),
    "form.city": (
        "In which city is the applicant based?",
        "What town or city is entered on the form?",
        "Find the city field for this person.",
    ),
    "form.occupation": (
        "What line of work is the applicant in?",
        "occupation stated on this form?",
        "Can you tell me the person's job as written on the form?",
    ),
    "form.number": (
        "What number has this form itself been assigned?",
        "Look up the form number shown in the header.",
        "For filing I need the number of this form - what is it?",
    ),
    "form.contact_name": (
        "Who has been put down as the emergency contact?",
        "name of the person to call in an emergency?",
        "Could you see who the applicant nominated as their emergency contact?",
    ),
    "form.contact_phone": (
        "On what number can the emergency contact be reached?",
        "If something happens, which number should we ring to reach the emergency contact?",
        "Pull out the telephone number of the emergency contact person.",
    ),
    "form.contact_relation": (
        "In what way is the emergency contact connected to the applicant?",
        "What relationship does the emergency contact have to this person?",
        "emergency contact's relation to the applicant?",
    ),
    "form.nationality": (
        "Of which nationality is the person on this form?",
        "Which country is this person a citizen of, per the form?",
        "I'm checking citizenship - what nationality has been given?",
    ),
    "letter.company": (
        "Which company wrote this letter?",
        "Who is the sending organisation?",
        "Could you tell me what firm the letter comes from?",
    ),
    "letter.date": (
        "On what day was this letter dated?",
        "Tell me the date the letter was written on.",
        "I need the letter's date for my correspondence log.",
    ),
    "letter.recipient": (
        "Which person is this letter written to?",
        "To whom was this letter sent?",
        "Name the person receiving this letter, please.",
    ),
    "letter.subject": (
        "What is the letter about, according to its subject line?",
        "subject line of this letter?",
        "Quote me the subject heading, please.",
    ),
    "letter.signer": (
        "Who signed this letter?",
        "Whose name is under the closing at the bottom of the letter?",
        "I'd like to know who signed off on this.",
    ),
    "letter.signer_title": (
        "Which title or job is given for whoever signed the letter?",
        "What position does the signatory hold?",
        "Look for the role written beneath the signature and tell me what it is.",
    ),
    "letter.phone": (
        "What telephone number does the sender give?",
        "Is there a number I can ring the company on? What is it?",
        "Find the sender's phone number in the letter.",
    ),
    "letter.reference": (
        "What reference does the letter quote?",
        "Could you check the sender's reference code on this letter?",
        "I have to cite their ref when I reply - what is it?",
    ),
    "letter.amount": (
        "Which sum of money is referred to in the letter?",
        "How much is the letter asking for?",
        "Is there a sum stated in this letter? Give me the figure.",
    ),
    "letter.email": (
        "What's the sender's email address?",
        "Which e-mail address can I reply to?",
        "Search for an email contact for the company that wrote this.",
    ),
    "table.price": (
        "What's the listed price of {item}?",
        "price shown for {item}?",
        "Any chance you could see what the list charges for {item}?",
    ),
    "table.quantity": (
        "What quantity of {item} is listed?",
        "Verify the stock count for {item}.",
        "I'm reordering - how many units of {item} does the table show?",
    ),
    "table.item_by_code": (
        "Which item has the code {code}?",
        "What product does {code} refer to?",
        "Match {code} to its item name for me.",
    ),
    "table.code": (
        "What's the item code for {item}?",
        "Which SKU or product code sits against {item}?",
        "I need the code for {item} to place an order.",
    ),
    "table.updated": (
        "When was this last updated?",
        "What's the last-updated date shown on the sheet?",
        "How current is this - which update date is printed?",
    ),
    "table.cell": (
        "What's the value for {row} in {column}?",
        "Could you read off the {column} number for {row}?",
        "Cross-referencing {row} with {column}, what figure do you get?",
    ),
    "table.supplier_phone": (
        "Which phone number could I use to reach the supplier?",
        "Is there a contact number for the supplier on this sheet?",
        "I'd like to call whoever supplies these - what's their number?",
    ),
    "any.total": (
        "Which total amount is shown on this paperwork?",
        "What does everything here come to in total?",
        "Work out the overall total from the page for me.",
    ),
    "any.invoice_number": (
        "Which invoice number appears here?",
        "Can you see an invoice number on this? What is it?",
        "invoice reference on this document?",
    ),
    "any.tax_id": (
        "What is the business's tax identification number?",
        "Track down the company's VAT or tax registration number.",
        "For my expense claim I need the merchant's tax ID.",
    ),
    "any.customer_email": (
        "customer e-mail address on this?",
        "Which email address does the buyer have on this?",
        "Hunt down the client's e-mail, if there is one.",
    ),
    "any.due_date": (
        "When does this need to be paid by?",
        "What's the due date on this?",
        "By what date must this be settled?",
    ),
}
