"""How a page says it was paid, and who is to be paid: `runtime.reader.payment`, the questions
that ask it and the replies (the layouts are those of real receipts: a key and its value, the
instrument keying the amount tendered, the instrument alone)."""

import zlib

import numpy as np
import pytest

from runtime.reader.answering import NOT_FOUND, Answerer
from runtime.reader.document import extract_fields, read_cells
from runtime.reader.payment import CARD, CASH, CHEQUE, WALLET, find_payment, instrument, named_instrument, same_payment
from runtime.reader.types import asks_payment_method, value_types
from runtime.reader.yes_no import CANT_TELL, answer_paid_with, asks_paid_with
from runtime.results import TextLine


def _line(text, x, y, width=200, height=30):
    return TextLine(text, ((x, y), (x + width, y), (x + width, y + height), (x, y + height)), 0.99)


def _unrelated(texts):
    rows = [np.random.default_rng(zlib.crc32(text.encode())).standard_normal(256) for text in texts]
    return np.array([row / np.linalg.norm(row) for row in rows], dtype=np.float32)


def _answerer():
    return Answerer(_unrelated, lambda question, context, answers: [0.0] * len(answers))


@pytest.mark.parametrize("text, kind, written", [
    ("CASH", CASH, "CASH"),
    ("Debit card", CARD, "Debit card"),
    ("American Express", CARD, "American Express"),
    ("MASTER XXXXXXXXXXXX9113", CARD, "MASTER"),  # a masked number says it is a card
    ("{41005926} VISA", CARD, "VISA"),
    ("VISA 52.00", CARD, "VISA"),
    ("CASH RM", CASH, "CASH"),
    ("Paid by Apple Pay", WALLET, "Apple Pay"),
    ("Espèces", CASH, "Espèces"),
])
def test_an_instrument_is_named_in_full(text, kind, written):
    found = instrument(text)
    assert found is not None and (found.kind, found.text) == (kind, written)


@pytest.mark.parametrize("text, written", [("VISA TEND", "VISA"), ("VISA ************1234 APPROVED", "VISA"),
                                           ("VISA CREDIT", "VISA CREDIT")])
def test_what_tills_print_beside_the_name(text, written):
    assert instrument(text).text == written


@pytest.mark.parametrize("text", ["CASH RECEIPT", "SUPER SEVEN CASH & CARRY SDN BHD", "CASH1 #10-02", "CASH CUSTOMER",
                                  "Card payment - REWE Markt", "MASTER", "Check", "CREDIT", "PAYMENT", "Visa application"])
def test_a_line_that_says_more_or_less_than_an_instrument_is_none(text):
    assert instrument(text) is None


def test_ambiguous_names_count_where_a_key_says_payment():
    assert instrument("Check", keyed=True).kind == CHEQUE
    assert instrument("MASTER", keyed=True).kind == CARD


@pytest.mark.parametrize("asked, paid, same", [
    ("card", "Mastercard", True), ("cash", "Mastercard", False), ("visa", "Mastercard", False),
    ("mastercard", "MASTER XXXX1234", True), ("credit card", "Visa", None), ("credit card", "Debit card", False),
    ("amex", "American Express", True), ("debit", "VISA DEBIT", True), ("credit", "VISA DEBIT", False),
    ("cheque", "Check", True), ("card", "Apple Pay", None), ("visa", "Debit card", None),
])
def test_an_asked_instrument_against_the_paid_one(asked, paid, same):
    assert same_payment(instrument(asked, keyed=True), instrument(paid, keyed=True)) is same


def _page(*lines):
    cells = read_cells(lines)
    return extract_fields(cells), cells


def test_the_payment_from_a_key_a_tender_line_or_a_line_alone():
    keyed = _page(_line("TOTAL", 20, 100), _line("12.50", 400, 100), _line("PAYMENT MODE", 20, 140), _line("CASH", 400, 140))
    assert find_payment(*keyed).instrument.text == "CASH"
    tendered = _page(_line("CASH", 200, 10), _line("RECEIPT #: CS00123688", 200, 45, 300),
                     _line("TOTAL", 20, 100), _line("46.20", 400, 100), _line("MASTER", 20, 140), _line("46.20", 400, 140),
                     _line("CHANGE", 20, 180), _line("0.00", 400, 180))
    paid = find_payment(*tendered)  # the tender line, not the "CASH RECEIPT" heading
    assert paid.instrument.text == "MASTER"
    assert [tendered[1][i].text for i in (paid.key_line, paid.line)] == ["MASTER", "46.20"]
    nothing = _page(_line("TOTAL", 20, 100), _line("8.00", 400, 100), _line("CASH PAID", 20, 140), _line("8.00", 400, 140),
                    _line("CARD PAID", 20, 180), _line("0.00", 400, 180))
    assert find_payment(*nothing).instrument.text == "CASH"  # nought on the card is no payment
    alone = _page(_line("TOTAL", 20, 100), _line("52.00", 400, 100), _line("VISA CARD", 20, 200))
    assert find_payment(*alone).instrument.text == "VISA CARD"
    stated = _page(_line("Payment method: Insurance", 20, 100, 400), _line("Total: 80.00", 20, 140, 300))
    assert find_payment(*stated).instrument.text == "Insurance"  # the key says it is the method
    footer = _page(_line("TOTAL", 20, 100), _line("12.00", 400, 100), _line("VISA MASTERCARD AMEX", 20, 300, 400))
    assert find_payment(*footer) is None  # the cards a shop takes
    credit = _page(_line("Subtotal", 20, 100), _line("120.00", 400, 100), _line("Credit", 20, 140), _line("-20.00", 400, 140))
    assert find_payment(*credit) is None  # a credit note's line is no tender
    how_much = _page(_line("TOTAL", 20, 100), _line("7.30", 400, 100), _line("PAYMENT :", 20, 140), _line("7.30", 400, 140))
    assert find_payment(*how_much) is None  # how much, not how


def test_a_question_about_the_method_gets_an_instrument_or_nothing():
    assert asks_payment_method("What card was used?") and asks_payment_method("How did I pay?")
    assert not asks_payment_method("What is the test method?") and not asks_payment_method("What card number is it?")
    assert not asks_payment_method("What kind of card is it?")  # may ask about the page
    for question in ("What amount was paid with Visa?", "Who paid with the card?", "What are the last 4 digits of the card used to pay?"):
        assert not asks_payment_method(question), question
    assert asks_payment_method("tender type") and asks_payment_method("Payment type?")
    answerer = _answerer()
    receipt = (_line("TOTAL", 20, 100), _line("7.30", 400, 100), _line("PAYMENT :", 20, 140), _line("7.30", 400, 140))
    assert answerer.answer("How did I pay?", receipt).text == NOT_FOUND  # not "7.30"
    tender = (_line("TOTAL", 20, 100), _line("50.00", 400, 100), _line("CASH :", 20, 140), _line("50.00", 400, 140))
    answer = answerer.answer("How was this paid?", tender)
    assert answer.text == "CASH" and [cell.text for cell in answer.evidence] == ["CASH :", "50.00"]
    assert answerer.answer("Which card was charged?", (_line("Paid by: Mastercard", 20, 100),)).text == "Mastercard"


def test_a_card_scheme_is_no_name():
    assert "person" not in value_types("Visa") and "organization" not in value_types("American Express")
    assert "person" in value_types("Vera Visan")


def test_closed_questions_about_paying_are_answered_from_the_payment():
    receipt = (_line("TOTAL 12.50", 20, 10), _line("Paid by: Mastercard", 20, 50))
    fields, cells = _page(*receipt)
    paid = find_payment(fields, cells)
    for question in ("Did I pay by card?", "Was it paid in cash?", "Was it cheque or transfer?", "Cash or card?"):
        assert asks_paid_with(question), question
    for question in ("Is there a Visa logo?", "Is this paid?", "Was the invoice paid or unpaid?",
                     "Was it paid in January or February?", "Was the check paid?"):
        assert not asks_paid_with(question), question  # no way to pay named or offered
    assert answer_paid_with("Did I pay by card?", paid, cells).text == 'Yes: the text says "Paid by: Mastercard".'
    assert answer_paid_with("Was it paid in cash?", paid, cells).text.startswith("No:")
    assert answer_paid_with("Did they pay with Visa?", paid, cells).text.startswith("No:")
    assert answer_paid_with("Was it paid by credit card?", paid, cells).text == CANT_TELL  # a Mastercard may be debit
    assert answer_paid_with("Was it cheque or transfer?", paid, cells).text == "Mastercard"
    assert named_instrument("Was the check paid by card?").text == "card"  # the bill, paid by card
    assert named_instrument("Did I pay for the gift card with cash?").text == "cash"
    assert answer_paid_with("Did I pay by card?", None, cells) is None
    assert named_instrument("Was this paid by credit card?").text == "credit card"


def test_who_is_to_be_paid_is_the_issuer_not_the_party_billed():
    invoice = (
        _line("Brightway Software Inc.", 20, 10, 300), _line("INVOICE", 500, 10), _line("77 Chestnut Lane", 20, 50),
        _line("Genève 1204", 20, 90), _line("Phone: 220-900-0423", 20, 130, 300),
        _line("Bill to:", 20, 220), _line("Tobias Horvat", 20, 260), _line("121 Market Way", 20, 300),
        _line("Málaga 29015", 20, 340), _line("TOTAL", 20, 420), _line("417,87", 400, 420),
    )
    answerer = _answerer()
    for question in ("Who is the payee?", "Who do I pay?", "Who is owed the money?", "Who receives the payment?",
                     "Who should the cheque be made out to?", "Who is to be paid?"):
        assert answerer.answer(question, invoice).text == "Brightway Software Inc.", question
    assert answerer.answer("Who was billed?", invoice).text != "Brightway Software Inc."
    payslip = (_line("ACME Corp", 20, 10, 300), _line("PAYSLIP", 500, 10), _line("Employee: Dana Cole", 20, 80, 300),
               _line("Net pay", 20, 140), _line("2,100.00", 400, 140))
    assert answerer.answer("Who is being paid?", payslip).text != "ACME Corp"  # the employee is


def test_whom_the_invoice_is_made_out_to_is_its_billed_party_not_the_goods():
    answerer = _answerer()
    invoice = (
        _line("Summit Software Inc.", 20, 10, 300), _line("344 Oak Way", 20, 50),
        _line("Invoice No: INV-47087", 500, 50, 300), _line("Bill to:", 20, 160), _line("Marcus Kowalski", 20, 200),
        _line("131 Harbor Street", 20, 240), _line("Dublin D02 X285", 20, 280), _line("Total due:", 20, 360),
        _line("£ 3,980.46", 400, 360),
    )
    for question in ("Whom is this invoice made out to?", "Who is this bill for?"):
        assert answerer.answer(question, invoice).text == "Marcus Kowalski", question
    assert answerer.answer("Who are the goods shipped to?", invoice).text == NOT_FOUND  # no ship-to party
