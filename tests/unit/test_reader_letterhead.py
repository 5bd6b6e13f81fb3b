"""The issuer's block at the top of a page: its name over one or two lines, registration
numbers skipped, the address up to the first contact line, title or gap."""

import numpy as np

from runtime.reader.answering import Answerer
from runtime.reader.letterhead import is_document_title, read_letterhead
from runtime.results import TextLine


def _line(text, x, y, width=300, height=30):
    return TextLine(text, ((x, y), (x + width, y), (x + width, y + height), (x, y + height)), 0.99)


def _page(*texts, gap_after=None):
    """One line per text, 40 px apart (a paragraph's spacing); a wide gap after `gap_after`."""
    lines, y = [], 10
    for position, text in enumerate(texts):
        lines.append(_line(text, 20, y))
        y += 40 if position != gap_after else 200
    return tuple(lines)


def _apart(texts):
    """An axis of its own per text, the same across calls (the answerer keeps words'
    vectors): no two texts alike."""
    for text in texts:
        _AXES.setdefault(text, len(_AXES) % _DIMENSIONS)
    return np.eye(_DIMENSIONS, dtype=np.float32)[[_AXES[text] for text in texts]]


_DIMENSIONS = 4096
_AXES: dict[str, int] = {}


def _answerer():
    """An Answerer whose embedder puts no two texts alike and whose LM is constant."""
    return Answerer(_apart, lambda question, context, answers: [0.0] * len(answers))


def _texts(page, indices):
    return [page[i].text for i in indices]


def test_a_name_ending_in_a_legal_form_wins_over_a_person_above_it():
    page = _page("TAN CHAY YEE", "OJC MARKETING SDN BHD", "ROC NO: 538358-H", "NO 2 & 4", "BANDAR SERI ALAM",
                 "81750 MASAI", "TEL: 07-3882218", "CASH BILL")
    head = read_letterhead(page)
    assert _texts(page, head.issuer) == ["OJC MARKETING SDN BHD"]
    assert _texts(page, head.address) == ["NO 2 & 4", "BANDAR SERI ALAM", "81750 MASAI"]


def test_a_name_over_two_lines_and_a_title_above_it():
    page = _page("SIMPLIFIED TAX INVOICE", "WESTERN EASTERN", "STATIONERY SDN. BHD", "(210038-K)", "42-46 JALAN SHAH",
                 "51200 KUALA LUMPUR", "www.example.com.my")
    head = read_letterhead(page)
    assert _texts(page, head.issuer) == ["WESTERN EASTERN", "STATIONERY SDN. BHD"]
    assert _texts(page, head.address) == ["42-46 JALAN SHAH", "51200 KUALA LUMPUR"]
    page = _page("MUN HENG ELECTRICAL &", "HARDWARE SUPPLY", "NO.52 JALAN BULAN", "SUNGAI BULOH")
    assert _texts(page, read_letterhead(page).issuer) == ["MUN HENG ELECTRICAL &", "HARDWARE SUPPLY"]


def test_an_address_ends_at_a_gap_and_needs_a_figure():
    page = _page("Café Müller GmbH", "Hauptstraße 5", "10115 Berlin", "Total 12,00", gap_after=2)
    assert _texts(page, read_letterhead(page).address) == ["Hauptstraße 5", "10115 Berlin"]
    page = _page("Old Mill Software Inc.", "Dear Ms Weber,", "Thank you for your order.")
    head = read_letterhead(page)
    assert _texts(page, head.issuer) == ["Old Mill Software Inc."]
    assert head.address == ()  # no house number, no postal code: no address


def test_the_answerer_names_the_issuer_and_its_address():
    page = _page("R", "KEDAI PAPAN YEW CHUAN", "(0005583085-K)", "LOT 276 JALAN BANTING", "43800 DENGKIL",
                 "TEL: 03-87686092", "TAX INVOICE")
    answerer = _answerer()
    assert answerer.answer("Which business issued this receipt?", page).text == "KEDAI PAPAN YEW CHUAN"
    assert answerer.answer("Where is the shop located?", page).text == "LOT 276 JALAN BANTING, 43800 DENGKIL"


def test_document_titles_are_no_issuers():
    assert is_document_title("SIMPLIFIEDTAXINVOICE") and is_document_title("Cash Bill")
    assert not is_document_title("PERFORMANCE AUTO LTD") and not is_document_title("VEGETABLE MARKET")


def test_thepaid_total_follows_from_tendered_minus_change():
    lines = (
        _line("TOTAL INCL. GST@6%", 20, 100), _line("RM 59.20", 600, 100),
        _line("CASH", 20, 140), _line("RM 60.20", 600, 140),
        _line("CHANGE", 20, 180), _line("RM 1.00", 600, 180),
    )
    answerer = _answerer()
    # The stand-in embedder puts no question near "total amount to pay": no total is given...
    assert not answerer.answer("How much did the customer have to pay altogether?", lines).found
    from runtime.reader.answering import paid_total
    from runtime.reader.document import extract_fields, read_cells

    # ... but the arithmetic alone names 59.20, not the larger amount tendered.
    assert paid_total(extract_fields(read_cells(lines)), read_cells(lines)).value == "RM 59.20"
    shuffled = lines[:2] + (_line("RM 61.20", 600, 140),) + lines[4:]
    assert paid_total(extract_fields(read_cells(shuffled)), read_cells(shuffled)) is None  # 61.20 - 1.00 is no amount on the page


def test_a_named_key_answers_whatever_its_value_looks_like_but_never_with_a_price_for_an_id():
    lines = (
        _line("New Balance:", 20, 100), _line("311.455", 600, 100),
        _line("Brand Name:", 20, 140), _line("RICHLAND 100s", 600, 140),
        _line("VAT", 20, 180), _line("EUR 5,25", 600, 180),
    )
    answerer = _answerer()
    assert answerer.answer("What is the new balance?", lines).text == "311.455"  # no printed price, still the answer
    assert answerer.answer("What is the brand name?", lines).text == "RICHLAND 100s"  # a name with figures
    assert not answerer.answer("What is the VAT number?", lines).found  # the VAT amount is no VAT number


def test_a_row_of_label_value_pairs_pairs_its_cells():
    from runtime.reader.document import extract_fields

    row = (_line("Color", 20, 100, 80), _line("White", 150, 100, 80), _line("Quality of Bloom", 300, 100, 150),
           _line("Good", 500, 100, 80))
    pairs = {(f.key, f.value) for f in extract_fields(row) if f.source == "pair"}
    assert pairs == {("Color", "White"), ("Quality of Bloom", "Good")}


def test_a_key_above_its_value_or_at_the_start_of_its_cell():
    lines = (
        _line("Client Group BATKorea", 20, 100),
        _line("Market(s)/Zone(s)", 20, 200), _line("South Korea", 20, 240),
        _line("VAT 8%", 20, 400),
    )
    answerer = _answerer()
    assert answerer.answer("Client group?", lines).text == "BATKorea"
    assert answerer.answer("What are the markets / zones?", lines).text == "South Korea"
    assert not answerer.answer("What is the VAT number?", lines).found  # "8%" is a rate, not a number


def test_a_first_line_of_words_is_an_issuer_only_with_more_to_say_so():
    prose = _page("Chapter one", "It was a bright cold day in April")
    assert not read_letterhead(prose).certain
    receipt = _page("Blue Heron", "12 Harbour Road", "Tel: 555 0102")
    assert read_letterhead(receipt).certain


def test_a_total_question_a_key_holds_only_in_part_gets_the_paid_total():
    lines = (
        _line("TOTAL AMT PAYABLE:", 20, 100), _line("6.35", 600, 100),
        _line("PAID AMOUNT:", 20, 140), _line("10.00", 600, 140),
        _line("CHANGE:", 20, 180), _line("3.65", 600, 180),
        _line("GST SUMMARY", 20, 260),
        _line("TOTAL", 20, 300, width=80), _line("6.00", 300, 300, width=80), _line("0.36", 600, 300, width=80),
    )
    answerer = _answerer()
    # "grand" is no word of the tax summary's "TOTAL": the receipt's arithmetic says which total was paid.
    assert answerer.answer("What was the grand total?", lines).text == "6.35"
    assert answerer.answer("What is the change?", lines).text == "3.65"
    discounted = (*lines, _line("TOTAL DISCOUNT:", 20, 400), _line("1.00", 600, 400))
    assert answerer.answer("What was the grand total?", discounted).text == "6.35"
    assert answerer.answer("What was the total discount?", discounted).text == "1.00"  # a total of something else


def test_review_cases_give_no_confident_wrong_answer():
    answerer = _answerer()
    totals = (_line("TOTAL EXCL GST", 20, 100), _line("100.00", 600, 100),
              _line("TOTAL INCL GST", 20, 140), _line("106.00", 600, 140))
    assert answerer.answer("What is the total amount?", totals).text != "EXCL GST"  # a label is no amount
    from runtime.reader.answering import paid_total
    from runtime.reader.document import extract_fields, read_cells
    from runtime.reader.letterhead import ends_in_legal_form

    card = (_line("SUBTOTAL", 20, 100), _line("100.00", 600, 100), _line("GST", 20, 140), _line("6.00", 600, 140),
            _line("TOTAL", 20, 180), _line("106.00", 600, 180), _line("VISA", 20, 220), _line("106.00", 600, 220),
            _line("GST SUMMARY", 20, 300), _line("100.00", 300, 340), _line("6.00", 600, 340))
    assert paid_total(extract_fields(read_cells(card)), read_cells(card)) is None  # no tendered-minus-change triple in a row
    assert not ends_in_legal_form("Topeka Kansas") and not ends_in_legal_form("Royal Day Spa")
    assert ends_in_legal_form("OJCMARKETINGSDNBHD") and ends_in_legal_form("Old Mill Software Inc.")


def test_a_currency_cell_belongs_to_its_amount_and_a_tax_summary_row_is_no_payment():
    from runtime.reader.answering import paid_total
    from runtime.reader.document import extract_fields, is_label, read_cells

    assert not is_label("RM") and not is_label("USD") and not is_label("€") and is_label("Rice")
    # "***TOTAL | RM | 21.60": the row's label is "***TOTAL", not the currency beside the amount.
    receipt = (_line("***TOTAL", 20, 100, width=80), _line("RM", 300, 100, width=40), _line("21.60", 600, 100, width=80),
               _line("CASH", 20, 140, width=80), _line("RM30.00", 600, 140, width=80))
    assert _answerer().answer("What was the grand total?", receipt).text == "21.60"
    # A GST summary's rows "6.79 | 0.41 | 7.20" hold 7.20 − 6.79 = 0.41 across a row: no
    # payment (each amount of a payment stands on its own line below the one before).
    summary = (_line("TOTAL", 20, 100, width=80), _line("7.20", 600, 100, width=80),
               _line("CODE", 20, 160, width=60), _line("AMT", 200, 160, width=60), _line("GST", 400, 160, width=60),
               _line("TOTAL(RM)", 600, 160, width=80),
               _line("SR", 20, 200, width=60), _line("6.79", 200, 200, width=60), _line("0.41", 400, 200, width=60),
               _line("7.20", 600, 200, width=60),
               _line("TOTAL", 20, 240, width=60), _line("6.79", 200, 240, width=60), _line("0.41", 400, 240, width=60),
               _line("7.20", 600, 240, width=60))
    assert paid_total(extract_fields(read_cells(summary)), read_cells(summary)) is None
    assert _answerer().answer("What was the grand total?", summary).text == "7.20"


def test_a_registered_name_may_begin_with_figures():
    page = _page("99 SPEED MART S/B (519537-X)", "LOT P.T. 2811", "TAMAN BERKELEY", "41150 KLANG", "GST ID. NO : 000181747712")
    head = read_letterhead(page)
    assert _texts(page, head.issuer) == ["99 SPEED MART S/B (519537-X)"]
    assert _texts(page, head.address) == ["LOT P.T. 2811", "TAMAN BERKELEY", "41150 KLANG"]
    # an address or an item line ending in a unit that is also a legal form is no name
    for lines in (("KEDAI RUNCIT AH SENG", "NO 12 JALAN 3 KG", "41150 KLANG"), ("KEDAI RUNCIT AH SENG", "BERAS 10 KG")):
        shop = _page(*lines)
        assert _texts(shop, read_letterhead(shop).issuer) == ["KEDAI RUNCIT AH SENG"]


def test_the_paid_total_may_share_its_cell_with_its_key():
    from runtime.reader.answering import paid_total
    from runtime.reader.document import extract_fields, read_cells

    lines = (
        _line("TOTAL AMOUNT: RM8.76", 300, 100), _line("ROUNDING: -RM0.01", 300, 140),
        _line("NETT TOTAL: RM8.75", 300, 180), _line("CASH", 20, 240), _line("RM8.75", 600, 240),
        _line("CHANGE", 20, 280), _line("RM0.00", 600, 280),
    )
    cells = read_cells(lines)
    assert paid_total(extract_fields(cells), cells).value == "RM8.75"
    # a keyed figure between the total and its payment does not break the arithmetic
    lines = (
        _line("TOTAL", 20, 100), _line("8.75", 600, 100), _line("Total Qty: 3", 20, 140),
        _line("CASH", 20, 180), _line("10.00", 600, 180), _line("CHANGE", 20, 220), _line("1.25", 600, 220),
    )
    cells = read_cells(lines)
    assert paid_total(extract_fields(cells), cells).value == "8.75"


def test_a_table_under_a_title_is_no_address():
    # "Orders per product line" over a table of figures: its rows are the table's, not an address
    page = (_line("Orders per product line", 20, 10), _line("Week 1", 320, 60, 100), _line("Week 2", 470, 60, 100),
            _line("Week 3", 620, 60, 100), _line("Tyres", 20, 100, 120), _line("5,520.81", 320, 100, 100),
            _line("7,928.46", 470, 100, 100), _line("2,651.74", 620, 100, 100), _line("Helmets", 20, 140, 120),
            _line("8,511.96", 320, 140, 100), _line("2,109.44", 470, 140, 100), _line("6,853.80", 620, 140, 100))
    head = read_letterhead(page)
    assert head.address == () and not head.certain
    # a street beside its town is still one line of an address
    page = (_line("Harbour Tools Ltd", 20, 10), _line("12 Quay Street", 20, 50), _line("Cork", 340, 50, 100),
            _line("Tel: 021 555 0100", 20, 90))
    assert _texts(page, read_letterhead(page).address) == ["12 Quay Street", "Cork"]
    # ... and a town, its postcode and country spaced out on one line are still its address
    page = (_line("Northwind Ltd", 20, 10), _line("12 Harbour Road", 20, 50), _line("Leeds", 20, 90, 100),
            _line("LS1 4AB", 200, 90, 100), _line("United Kingdom", 380, 90, 200), _line("Tel: 0113 496 0000", 20, 130))
    assert _texts(page, read_letterhead(page).address) == ["12 Harbour Road", "Leeds", "LS1 4AB", "United Kingdom"]
