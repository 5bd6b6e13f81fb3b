"""The reader's pure logic: fields from regions, value types, focus coverage, label matching."""

import re
import zlib

import numpy as np

from runtime.reader.answering import NOT_FOUND, Answerer, bare_name, coverage, focus_words
from runtime.reader.document import extract_fields, is_label, key_cells, read_cells, row_label
from runtime.reader.types import clean_value, question_type, value_types
from runtime.reader.vocabulary import label_words, qualifiers, question_words
from runtime.results import TextLine


def _line(text, x, y, width=200, height=30):
    box = ((x, y), (x + width, y), (x + width, y + height), (x, y + height))
    return TextLine(text, box, 0.99)


def test_rows_come_from_the_boxes_not_the_order_of_the_regions():
    regions = (_line("42.50", 600, 102), _line("Thanks", 20, 200), _line("Total", 20, 100))
    assert ("Total", "42.50", "row") in {(f.key, f.value, f.source) for f in extract_fields(regions)}
    assert [f.value for f in extract_fields(regions) if f.source == "line"] == ["Total", "42.50", "Thanks"]


def test_fields_from_colons_rows_tables_and_letters():
    lines = (
        _line("NORTHWIND HARDWARE", 20, 10),
        _line("Invoice No: INV-20417", 20, 60),
        _line("Item", 20, 120), _line("Qty", 300, 120), _line("Price", 500, 120),
        _line("Hammer", 20, 160), _line("2", 300, 160), _line("12.00", 500, 160),
        _line("Total", 20, 220), _line("24.00", 500, 220),
        _line("Dear Ada Lovelace,", 20, 300),
        _line("Sincerely,", 20, 400), _line("Grace Hopper", 20, 440),
    )
    fields = {(f.key, f.value, f.source) for f in extract_fields(lines)}
    assert ("Invoice No", "INV-20417", "colon") in fields
    assert ("Total", "24.00", "row") in fields
    assert ("Hammer Price", "12.00", "table") in fields
    assert ("Hammer Qty", "2", "table") in fields
    assert {("recipient", "Ada Lovelace", "greeting"), ("addressed to", "Ada Lovelace", "greeting")} <= fields
    assert {("signer", "Grace Hopper", "closing"), ("sender", "Grace Hopper", "closing")} <= fields
    assert ("", "NORTHWIND HARDWARE", "line") in fields


def test_a_column_of_values_makes_its_words_values_and_keeps_its_header():
    # A form: keys left-aligned at x=20 and x=400, values at x=200 and x=650. "Good" and
    # "White" read like labels, but they stand in columns of values.
    lines = (
        _line("Supplier", 20, 100), _line("T.E", 200, 100, 60), _line("Plasticizer", 400, 100), _line("6.0", 650, 100, 60),
        _line("Bale No.", 20, 140), _line("Firmness of Rod", 400, 140), _line("Good", 650, 140, 60),
        _line("Color", 20, 180), _line("White", 200, 180, 60), _line("Quality of Bloom", 400, 180), _line("Good", 650, 180, 60),
        _line("Circ. of Rod", 20, 220), _line("24.7", 200, 220, 60), _line("F.P.M. No.1 Roller", 400, 220), _line("477.5", 650, 220, 60),
        _line("Dry Weight", 20, 260), _line("86.9 gms.", 200, 260, 60), _line("Tape Speed", 400, 260), _line("400 FPM", 650, 260, 60),
    )
    keys = key_cells(lines)
    assert [lines[i].text for i, key in enumerate(keys) if key] == [
        "Supplier", "Plasticizer", "Bale No.", "Firmness of Rod", "Color", "Quality of Bloom",
        "Circ. of Rod", "F.P.M. No.1 Roller", "Dry Weight", "Tape Speed"]
    fields = {(f.key, f.value) for f in extract_fields(lines) if f.source != "line"}
    assert {("Firmness of Rod", "Good"), ("Color", "White"), ("Quality of Bloom", "Good"), ("Circ. of Rod", "24.7"),
            ("F.P.M. No.1 Roller", "477.5")} <= fields
    assert not {("Circ. of Rod", "477.5"), ("Color", "Quality of Bloom"), ("Bale No.", "Firmness of Rod")} & fields
    # A table's header tops its column of values and stays a key.
    table = (_line("Item", 20, 100), _line("Qty", 300, 100, 60), _line("Price", 500, 100, 60), *[
        cell for row, (item, qty) in enumerate([("Hammer", "2"), ("Saw", "1"), ("Drill", "3"), ("Nails", "200")])
        for cell in (_line(item, 20, 140 + 40 * row), _line(qty, 300, 140 + 40 * row, 60), _line("9.50", 500, 140 + 40 * row, 60))])
    assert key_cells(table)[1] and ("Saw Qty", "1", "table") in {(f.key, f.value, f.source) for f in extract_fields(table)}


def test_underlined_blanks_and_values_under_their_keys():
    lines = (
        _line("Project Leader_Mann", 20, 100), _line("Project Name_", 20, 140), _line("Charcoal Smoking Tobacco", 260, 140),
        _line("Approved By:", 20, 200), _line("Date", 500, 200, 60), _line("L.E.Gravely", 120, 232),
        _line("Division:", 20, 300), _line("Chicago South", 260, 300), _line("List the information below", 20, 332),
        _line("Ship to:", 20, 400),
    )
    fields = {(f.key, f.value) for f in extract_fields(lines) if f.source != "line"}
    assert {("Project Leader", "Mann"), ("Project Name", "Charcoal Smoking Tobacco"), ("Approved By", "L.E.Gravely"),
            ("Division", "Chicago South")} <= fields
    assert not {("Approved By", "Date"), ("Division", "List the information below")} & fields
    assert not any(value.endswith(":") for _, value in fields)  # "Ship to:" is a key, never a value


def test_captions_in_small_print_over_values_in_large_key_them():
    """A boarding pass: rows of small captions, each over its value in a taller print that
    reads like a label too ("HANSEN/ERIK MR", "ECONOMY"); the rows make no table."""
    captions = [("PASSENGER", 30), ("FLIGHT", 450), ("DATE", 700)], [("FROM", 30), ("TO", 450)], \
        [("GATE", 30), ("BOARDING TIME", 250), ("SEAT", 550)], [("BOOKING REF", 30), ("CLASS", 450)]
    values = [("HANSEN/ERIK MR", 30), ("SK 1482", 450), ("12 APR 2024", 700)], \
        [("OSLO (OSL)", 30), ("LONDON HEATHROW (LHR)", 450)], [("B17", 30), ("07:35", 250), ("23C", 550)], \
        [("QX7T2M", 30), ("ECONOMY", 450)]
    lines = [_line("SKYWAYS AIRLINES", 30, 20, 340, 26), _line("BOARDING PASS", 420, 20, 280, 26)]
    for number, (row, under) in enumerate(zip(captions, values)):
        top = 100 + 90 * number
        lines += [_line(text, x, top, 12 * len(text), 18) for text, x in row]
        lines += [_line(text, x, top + 26, 17 * len(text), 28) for text, x in under]
    lines = tuple(lines)
    keys = key_cells(lines)
    assert not any(keys[i] for i, line in enumerate(lines) if line.text in ("HANSEN/ERIK MR", "ECONOMY", "OSLO (OSL)"))
    fields = {(f.key, f.value) for f in extract_fields(lines) if f.source != "line"}
    assert {("PASSENGER", "HANSEN/ERIK MR"), ("FROM", "OSLO (OSL)"), ("TO", "LONDON HEATHROW (LHR)"), ("GATE", "B17"),
            ("BOOKING REF", "QX7T2M"), ("CLASS", "ECONOMY")} <= fields
    assert not [f for f in extract_fields(lines) if f.source == "table" and "PASS" in f.key]  # no table of captions
    # the same rows in one print are a form's rows of keys: nothing is made a value
    same = tuple(_line(line.text, line.box[0][0], line.box[0][1], 12 * len(line.text), 18) for line in lines)
    assert key_cells(same)[[line.text for line in same].index("ECONOMY")]
    # a caption with a colon has its value beside it, and a key that ends in one stays a key
    colon = (_line("Prepared by:", 20, 100, 150, 16), _line("Checked", 300, 100, 110, 16),
             _line("Date:", 20, 126, 60, 26), _line("Mann Leader", 300, 126, 160, 26))
    assert key_cells(colon)[2]


def test_a_speck_of_punctuation_is_no_value_but_a_tick_is():
    lines = (_line("To:", 20, 100, 60), _line(".", 120, 100, 10), _line("Approved:", 20, 160, 140), _line("✓", 200, 160, 20))
    fields = {(f.key, f.value) for f in extract_fields(lines) if f.source != "line"}
    assert not [value for _, value in fields if value == "."]
    assert ("Approved", "✓") in fields


def test_a_value_goes_on_over_the_lines_under_it():
    lines = (
        _line("Client Contact", 20, 100), _line("Alberto Marcheggiano", 260, 100), _line("Liaison", 560, 100, 90),
        _line("Subi Jeong", 680, 100, 120), _line("Kyu Yeon Hwang", 262, 132),
        _line("Customer:", 20, 220), _line("Ada Lovelace", 260, 220), _line("12 Oak Street", 260, 252),
        _line("Phone:", 20, 320), _line("(292) 621-4078", 260, 320), _line("ext. office", 260, 352),
        _line("Total", 20, 420), _line("Cash", 20, 452), _line("Ivory Tower", 260, 420), _line("Annex", 260, 452),
    )
    fields = {(f.key, f.value) for f in extract_fields(lines) if f.source != "line"}
    assert ("Client Contact", "Alberto Marcheggiano Kyu Yeon Hwang") in fields
    assert ("Customer", "Ada Lovelace") in fields  # an address under a name starts something else
    assert ("Phone", "(292) 621-4078") in fields  # a phone number is whole on its line
    assert ("Total", "Ivory Tower") in fields  # "Cash" under "Total" keys the next line
    # "cc: R. Schoenfein" read as one cell: where its value starts is measured from the text, and
    # a list under it that starts a pixel inside that cut is still under the value, not the key
    copies = (_line("cc:", 94, 532, 37, 14), _line("R. Schoenfein", 122, 528, 102, 23),
              _line("S. Dammers", 124, 541, 81, 24), _line("P. Hendricks", 124, 555, 93, 25))
    assert ("cc", "R. Schoenfein S. Dammers P. Hendricks") in {(f.key, f.value) for f in extract_fields(read_cells(copies))}
    # and the answer is that field, not the cell's own "cc:" and first name read again
    answerer = _answerer()
    assert answerer.answer("What is the cc?", copies).text == "R. Schoenfein S. Dammers P. Hendricks"
    keyed = answerer._labelled("What is the cc?", extract_fields(read_cells(copies)))
    assert {f.value for f, _ in keyed if f.key == "cc"} == {"R. Schoenfein S. Dammers P. Hendricks"}


def test_a_memo_header_names_its_writer_and_its_reader():
    """"To:" and "From:" head a memo or an e-mail: without a greeting or a signature they say
    whom it is for and who wrote it; the title "MEMORANDUM" issued nothing, and a name far down
    the page ("cc: ... B. Jones") is no sender either."""
    memo = (_line("MEMORANDUM", 60, 46, 310), _line("To: All Staff", 60, 110, 150), _line("From: Jane Smith", 60, 150),
            _line("Date: April 2, 2003", 60, 190, 240), _line("Subject: Office move", 60, 230, 250),
            _line("cc: A. Person", 60, 270, 160), _line("B. Jones", 105, 305, 110), _line("C. Lee", 105, 341, 80),
            _line("The office will move to the third floor on Monday.", 60, 420, 600))
    answerer = _answerer()
    assert answerer.answer("Who wrote this?", memo).text == "Jane Smith"
    assert answerer.answer("Who sent it?", memo).text == "Jane Smith"
    assert answerer.answer("Who is the memo for?", memo).text == "All Staff"
    assert answerer.answer("Which company sent this?", memo).text == NOT_FOUND
    # a greeting and a signature still come first
    letter = (_line("To: Files", 20, 10), _line("Dear Ada Lovelace,", 20, 60, 260), _line("Please find the report.", 20, 100, 300),
              _line("Sincerely,", 20, 160), _line("Grace Hopper", 20, 200), _line("From: Front desk", 20, 260, 260))
    assert answerer.answer("Who wrote this?", letter).text == "Grace Hopper"
    assert answerer.answer("Who is the letter to?", letter).text == "Ada Lovelace"
    # without a subject line the "cc:" list's names are still no sender
    short = tuple(line for line in memo if not line.text.startswith("Subject"))
    assert answerer.answer("Which company sent this?", short).text == NOT_FOUND
    # "From:" and "To:" without a memo's other keys (a subject, a copy list) are no people:
    # a ticket's stations
    ticket = (_line("NORTHERN RAIL", 20, 10, 260), _line("From: Leeds", 20, 60), _line("To: York", 20, 100),
              _line("Date: 12/03/2024", 20, 140))
    assert answerer.answer("Who is it for?", ticket).text == NOT_FOUND
    assert answerer.answer("Who issued it?", ticket).text != "Leeds"


def test_a_company_named_with_a_word_of_document_titles_is_no_title():
    for name in ("ABC CONTRACTORS", "Statement Jewelry", "Minutes Cafe", "Daily Report Printing"):
        page = (_line(name, 20, 10, 300), _line("12 Oak Street, Leeds LS1 4AB", 20, 50, 360),
                _line("Tel: 0113 496 0000", 20, 90, 260), _line("Invoice No: 4471", 20, 160, 260), _line("Total: 120.00", 20, 200))
        assert _answerer().answer("Which company issued this invoice?", page).text == name


def test_a_key_cut_short_of_its_colon_is_not_read_and_shared_words_answer_each_key():
    sheet = (_line("Acute toxicity", 60, 270, 170), _line("Oral LD50 (rat): 5800 mg/kg", 60, 310, 340),
             _line("Dermal LD50 (rabbit): > 10000 mg/kg", 60, 350, 460), _line("Carcinogenicity: Not listed by IARC", 60, 430, 420))
    answerer = _answerer()
    # the key goes on to its colon: "(rat):" is no part of the value
    assert answerer.answer("What is the oral LD50?", sheet).text == "5800 mg/kg"
    # two keys hold the question's word, neither more than the other: both, each with its key
    both = answerer.answer("What is the LD50?", sheet)
    assert both.text == "Oral LD50 (rat): 5800 mg/kg; Dermal LD50 (rabbit): > 10000 mg/kg"
    assert [line.text for line in both.evidence] == [sheet[1].text, sheet[2].text]
    # a word no key holds is still not found
    assert answerer.answer("What is the LC50?", sheet).text == NOT_FOUND


def test_a_question_that_names_a_section_heading_gets_the_section():
    """"Acute toxicity" heads four "Key: value" lines: the question names the section, not
    the shortest of its keys ("Carcinogenicity", which the heading also keys)."""
    sheet = (_line("Identification", 60, 100, 170), _line("Product name: Sodium Chloride", 60, 140, 380),
             _line("Revision date: 03/12/2021", 60, 180, 320),
             _line("Acute toxicity", 60, 270, 170), _line("Oral LD50 (rat): 5800 mg/kg", 60, 310, 340),
             _line("Dermal LD50 (rabbit): > 10000 mg/kg", 60, 350, 460), _line("Carcinogenicity: Not listed by IARC", 60, 390, 420))
    answerer = _answerer()
    listed = answerer.answer("What is the acute toxicity?", sheet)
    assert listed.text == ("Oral LD50 (rat): 5800 mg/kg; Dermal LD50 (rabbit): > 10000 mg/kg; "
                           "Carcinogenicity: Not listed by IARC")
    assert [line.text for line in listed.evidence] == [line.text for line in sheet[4:]]
    # a key under the heading named itself answers alone
    assert answerer.answer("What is the carcinogenicity?", sheet).text == "Not listed by IARC"
    assert answerer.answer("What is the product name?", sheet).text == "Sodium Chloride"


def test_numbered_column_titles_make_a_table_and_the_number_picks_the_column():
    weeks = ("Week 1", "Week 2", "Week 3", "Week 4")
    figures = {"Tyres": ("990,42", "5.216,97", "7.172,34", "2.298,11"), "Lamps": ("6.392,83", "850,77", "152,77", "823,00")}
    lines = (
        *[_line(week, 200 + 150 * column, 100, 100) for column, week in enumerate(weeks)],
        *[cell for row, (item, values) in enumerate(figures.items())
          for cell in (_line(item, 20, 140 + 40 * row, 120),
                       *[_line(value, 200 + 150 * column, 140 + 40 * row, 100) for column, value in enumerate(values)])],
    )
    assert ("Tyres Week 3", "7.172,34", "table") in {(f.key, f.value, f.source) for f in extract_fields(lines)}
    answerer = _answerer()
    assert answerer.answer("What is the Week 3 value for Tyres?", lines).text == "7.172,34"
    assert answerer.answer("What is the Week 4 value for Lamps?", lines).text == "823,00"
    # the titles label the columns under them, not one another ("Week 1 | ... | Week 4")
    assert not [f for f in extract_fields(lines) if f.key in weeks and f.value in weeks]
    assert answerer.answer("Give me the number where Saddles meets Week 1.", lines).text == NOT_FOUND


def test_labels_may_hold_a_numbered_word_but_not_end_in_a_figure():
    assert is_label("F.P.M. No.1 Roller") and is_label("Project #") and is_label("Line 2 Address")
    assert is_label("No.1 Roller over Tape")
    assert not is_label("Room 101") and not is_label("March 25, 1974") and not is_label("400E.P.M")
    assert not is_label("400 FPM") and not is_label("12 Oak Street")
    assert not is_label("2 3 Main") and not is_label("a b c d e f")
    # an initialism's dotted letters are a word; "N/A" and "J." are none
    assert is_label("F.O.B.") and is_label("P.O. No.") and not is_label("N/A") and not is_label("J.")


def test_question_types_check_specific_before_general():
    assert question_type("What is the due date?") == "date"
    assert question_type("What is the total due?") == "amount"
    assert question_type("What is the tax ID?") == "id"
    assert question_type("What is the phone number?") == "phone"
    assert question_type("Which company issued this invoice?") == "organization"
    assert question_type("Who signed the letter?") == "person"


def test_the_interrogative_outranks_the_nouns_after_it():
    # An item's name holds words that would ask for another type on their own.
    assert question_type("How much did the phone charger cost?") == "amount"
    assert question_type("Tell me how much the date loaf cost.") == "amount"
    assert question_type("How many phone cases were bought?") == "count"
    assert question_type("How much time is left?") == "time"


def test_a_ticket_writes_a_name_surname_slash_given_name():
    from runtime.reader.values import is_name

    assert is_name("HANSEN/ERIK MR") and is_name("Williams/ Giordano")
    assert not is_name("N/A") and not is_name("B/W") and not is_name("and/or") and not is_name("LHR/JFK")
    assert question_words("What class am I flying?")[0] == ["class", "flying"]  # "am" asks nothing ...
    assert "am" in question_words("Who works the AM shift?")[0]  # ... but "the AM shift" does
    # the page a question names as the subject of its verb is no key's word ("Ticket No", "FAX:")
    assert question_words("How much did this ticket cost?") == (["cost"], [])
    assert question_words("What is this ticket number?")[0] == ["ticket", "number"]
    assert question_type("Who is this fax from?") == "person" and question_type("Who sent this fax?") == "person"
    assert question_type("What is this fax number?") == "phone" and question_type("Fax?") == "phone"


def test_value_types():
    assert "amount" in value_types("$ 42.50") and "amount" in value_types("42.50EUR")
    assert "date" in value_types("March 15, 2024") and "date" in value_types("15/03/2024")
    assert value_types("INV-20417") >= {"id"} and "amount" not in value_types("INV-20417")
    assert "phone" in value_types("+1 555-123-4567")
    assert "organization" in value_types("NORTHWIND HARDWARE")
    assert "amount" not in value_types("Total")


def test_focus_coverage_needs_every_specific_word():
    focus = focus_words("What is the due date?")
    assert focus == ["due", "date"]
    assert coverage(focus, "Due date") == 1.0
    assert coverage(focus, "Date") == 0.0  # "due" is missing: a receipt date is not a due date
    assert coverage(focus_words("How much is the total amount?"), "Total") == 1.0


def _unrelated(texts):
    """Unit vectors in 256 dimensions drawn from each text: different texts are unrelated
    (similarity about 0), the same text is identical; nothing is near "total amount to pay"."""
    rows = [np.random.default_rng(zlib.crc32(text.encode())).standard_normal(256) for text in texts]
    return np.array([row / np.linalg.norm(row) for row in rows], dtype=np.float32)


def _answerer():
    """An Answerer whose embedder knows no meaning and whose LM is constant: the label rules
    alone decide."""
    return Answerer(_unrelated, lambda question, context, answers: [0.0] * len(answers))


def test_question_types_for_time_address_phone_and_payment_method():
    assert question_type("What time is printed on the receipt?") == "time"
    assert question_type("On which street is the store?") == "address"
    assert question_type("What number can the shop be called on?") == "phone"
    assert question_type("How was the purchase paid?") == "text"
    assert question_type("How much was paid in total?") == "amount"
    for request in ("Before I pay, how am I supposed to settle this invoice?", "How must it be paid?", "How could I pay this?"):
        assert question_type(request) == "text", request
    assert question_type("How much am I supposed to pay?") == "amount"
    for request in ("What did the bill come to?", "and what does that come to", "What did it all come to?"):
        assert question_type(request) == "amount", request  # a sum "comes to" a figure
    assert question_type("When did the letter come to you?") == "date"
    assert question_type("Who did the parcel come to?") == "person"
    for request in ("What floor should visitors come to?", "What year did the company come to Ireland?"):
        assert question_type(request) != "amount", request  # which thing came, not what it came to
    assert question_type("Which organization is the letter from?") == "organization"
    assert question_type("Whose details are on this form?") == "person"


def test_general_question_cues():
    assert question_type("I need the number to ring the office.") == "phone"
    assert question_type("Name the person this bill is charged to.") == "person"
    assert question_type("Tell me the electronic mail address provided.") == "email"
    assert question_type("Report the hour and minute of the sale.") == "time"
    assert question_type("I need the number of chairs ordered.") == "count"
    assert question_type("How much tax was charged?") == "amount"


def test_request_grammar_is_no_field_word():
    # "Could you check ...", "I need ...", "Pull out ...": how to answer, not what
    assert question_words("Could you read me the Week 4 figure for Lamps?")[0] == ["week", "4", "figure", "lamp"]
    assert question_words("Pull out the invoice no. for me")[0] == ["invoice", "number"]
    assert question_words("I need the tax amount please")[0] == ["tax", "amount"]
    # a label that opens with such a verb stays a label
    assert "check" in question_words("Check out time?")[0] and "check" in question_words("What is the check number?")[0]
    # "where" after the noun it qualifies asks no place; who billed is a business
    assert question_type("Give me the number where East meets Q3.") != "address"
    assert question_type("Where is the shop?") == "address"
    assert question_type("billed by?") == "organization" and question_type("sender org") == "organization"


def test_a_row_of_years_titles_its_columns_and_labels_no_row():
    lines = (_line("2022", 356, 121, width=64), _line("2023", 584, 121, width=64), _line("2024", 810, 121, width=64),
             _line("Finance", 47, 170, width=97), _line("4,468.08", 320, 171, width=100),
             _line("1,491.40", 548, 172, width=98), _line("7,114.44", 774, 172, width=98),
             _line("Legal", 45, 208, width=73), _line("4,709.62", 322, 210, width=97),
             _line("8,055.68", 549, 211, width=96), _line("8,193.46", 775, 211, width=97))
    answerer = _answerer()
    assert answerer.answer("What is the 2024 value for Legal?", lines).text == "8,193.46"
    assert answerer.answer("In the 2023 column, what figure does Finance have?", lines).text == "1,491.40"
    assert row_label(lines, "2024") is None and row_label(lines, "8,055.68") == ("Legal", 7)
    # a year among keys is one of their values, not a column's title
    form = (_line("Projected:", 86, 346, width=78), _line("Summary of Research Budget", 306, 340, width=184),
            _line("1985", 528, 334, width=42), _line("Field Start", 88, 361, width=83), _line("CANCELLED", 201, 358, width=73),
            _line("Total Area Budget:", 308, 355, width=128), _line("3,669,000", 509, 350, width=86))
    assert not [f for f in extract_fields(form) if f.source == "table"]


def test_a_quantity_column_before_the_items_and_a_closing_exclamation():
    receipt = (_line("Date: 2023-01-26", 47, 231, width=213), _line("Qty", 45, 280, width=55), _line("Item", 123, 281, width=70),
               _line("Amount", 465, 280, width=114), _line("Tax", 596, 279, width=53),
               _line("1", 45, 318, width=23), _line("Salad bowl", 124, 316, width=138), _line("5.83", 516, 317, width=63),
               _line("A", 624, 318, width=25), _line("4", 45, 357, width=23), _line("Muffin", 122, 356, width=88),
               _line("59.40", 502, 355, width=76), _line("B", 622, 356, width=28), _line("4", 45, 394, width=23),
               _line("Orange juice", 124, 392, width=161), _line("9.16", 517, 393, width=62), _line("A", 625, 394, width=24),
               _line("Subtotal", 45, 444, width=109), _line("GBP 74.39", 443, 445, width=131),
               _line("Tax", 43, 481, width=50), _line("GBP 8.94", 457, 482, width=119),
               _line("TOTAL", 44, 521, width=99), _line("GBP 83.33", 430, 522, width=146),
               _line("Paid by: Debit card", 47, 654, width=345), _line("Thank you!", 234, 691, width=180))
    answerer = _answerer()
    assert answerer.answer("What quantity of Muffin is on the receipt?", receipt).text == "4"
    assert answerer.answer("paid with?", receipt).text == "Debit card"  # "Thank you!" continues no value
    # A count asked of a row the question names, whatever else it says; a row it does not name has none.
    assert answerer.answer("How many units of Orange juice ended up in the basket?", receipt).text == "4"
    assert answerer.answer("How many pieces of Salad bowl went home with me?", receipt).text == "1"
    assert answerer.answer("How many units of Croissant ended up in the basket?", receipt).text == NOT_FOUND
    from runtime.reader.answering import _EXCLUDED

    assert question_words("Would you mind reading off the pre-tax amount?")[0] == ["amount"]
    assert _EXCLUDED.search("the pre-tax amount")["part"] == "tax"
    from runtime.reader.answering import _DEADLINE

    assert _DEADLINE.search("pay by when?") and _DEADLINE.search("the deadline for paying")
    assert not _DEADLINE.search("paid by card")


def test_values_that_open_like_request_words_or_ties_stay_values():
    answerer = _answerer()
    table = (_line("Item", 20, 10, width=100), _line("Color", 200, 10, width=80), _line("Qty", 330, 10, width=50),
             _line("Price", 430, 10, width=80), _line("iPhone 13", 20, 50, width=100), _line("Black", 200, 50, width=80),
             _line("1", 330, 50, width=20), _line("799.00", 430, 50, width=80), _line("Pixel 7", 20, 90, width=100),
             _line("White", 200, 90, width=80), _line("2", 330, 90, width=20), _line("599.00", 430, 90, width=80))
    assert answerer.answer("What is the price of the iPhone 13?", table).text == "799.00"
    cells = (_line("Order status On Hold", 20, 10, width=300), _line("Availability In Stock", 20, 60, width=300),
             _line("Email info@acme.com", 20, 110, width=300))
    assert answerer.answer("Order status?", cells).text == "On Hold"
    assert answerer.answer("Availability?", cells).text == "In Stock"
    assert answerer.answer("Email?", cells).text == "info@acme.com"
    parts = (_line("Part I total: 1,200.00", 20, 10, width=300), _line("Part II total: 800.00", 20, 60, width=300))
    assert answerer.answer("What is the Part I total?", parts).text == "1,200.00"
    numbers = (_line("Pre-order No: PO-5512", 20, 10, width=300), _line("Prescription No: RX-9981", 20, 60, width=300))
    assert answerer.answer("What is the pre-order number?", numbers).text == "PO-5512"
    meter = (_line("Meter No: M-7781", 20, 10, width=300), _line("Reading: 10890", 20, 60, width=300))
    assert answerer.answer("Reading on the meter?", meter).text == "10890"
    assert qualifiers("Application deadline") == {"due"} and qualifiers("Return by:") == {"due"}


def test_question_cues_that_outrank_the_nouns_named_after_them():
    # Calling someone asks a number; naming something does not.
    assert question_type("Is there a way to ring them?") == "phone"
    assert question_type("What is this product called?") == "text"
    # Paying with something is the instrument; how much was paid is an amount.
    assert question_type("Which card was this paid using?") == "text"
    assert question_type("What was paid?") == "amount"
    # The cost of a thing is an amount whatever the thing is called.
    assert question_type("The cost of the mobile plan?") == "amount"
    assert question_type("What's the price of the fax toner?") == "amount"
    assert question_type("What is the fax number?") == "phone"
    assert question_type("Which outlet is this from?") == "organization"


def test_money_verbs_in_any_form_ask_an_amount_and_who_asks_a_name():
    assert question_type("What are we paying for the lamp?") == "amount"
    assert question_type("The lamp costs us what?") == "amount"
    assert question_type("What does a lamp sell for?") == "amount"
    assert question_type("How much was spent?") == "amount"
    assert question_type("Who is waiting to be paid?") == "person"  # the payee, not a sum
    # a number one calls, rings or reaches someone on is a phone number, wherever the verb stands
    assert question_type("Which number should we call her on?") == "phone"
    assert question_type("On which number can the landlord be reached?") == "phone"
    assert question_type("Which invoice number should I quote?") == "id"
    assert question_type("Whose letterhead is it on?") == "organization"  # a letterhead is a firm's
    assert question_type("What card was the bill settled with?") == "text"  # the instrument


def test_a_question_whose_verb_is_concern_asks_the_topic():
    from runtime.reader.intents import asks_topic

    assert asks_topic("What does the memo concern?") and asks_topic("What issue does this note concern?")
    assert not asks_topic("Whom does it concern?") and not asks_topic("What is the amount due?")


def test_what_a_thing_is_called_is_its_name_and_modal_verbs_are_no_field():
    assert question_words("What is the tenant called?")[0] == ["tenant", "name"]
    assert question_type("What is this product called?") == "text"  # a product's name is any text
    assert "should" not in question_words("Which code should a reply carry?")[0]
    assert question_words("Who mailed us this bill?")[0] == ["mailed"]  # "this bill" is the page


def test_values_survive_ocr_garbling():
    assert "amount" in value_types("f1.55") and clean_value("f1.55", "amount") == "1.55"
    assert "date" in value_types("0ctober 7, 2025") and clean_value("1l Jun 2025", "date") == "11 Jun 2025"
    assert "time" in value_types("11:36") and "time" not in value_types("19.90")
    assert "address" in value_types("365LakeAvenue") and "address" in value_types("96 Park Avenue")
    assert "address" not in value_types("Leeds LS1 4AB")


def test_labels_written_without_spaces_are_split_into_known_words():
    assert label_words("Dateofbirth") == ["date", "birth"]
    assert label_words("VAT1D") == ["vat", "id"]  # OCR "1" for "I"
    assert label_words("Woodscrews Qty", ["wood", "screw"]) == ["wood", "screw", "qty"]
    assert label_words("Invoice No.") == label_words("Invoice #") == ["invoice", "number"]
    assert question_words("When was the applicant born?") == (["born"], [])  # no synonyms: the encoder's job
    assert question_words("What is the vendor's tax ID?") == (["tax", "id"], ["vendor"])
    assert qualifiers("Duedate") == {"due"} and qualifiers("When was this purchase made?") == frozenset()


def test_a_table_cell_named_by_row_and_column_words():
    # "have" is grammar and "column" says where the value stands: neither is a word the key must hold.
    assert question_words("In the Week 4 column, what figure does Lamps have?")[0] == ["week", "4", "column", "figure", "lamp"]
    lines = (
        _line("Week 1", 300, 10), _line("Week 4", 600, 10),
        _line("Tyres", 20, 60), _line("990,42", 300, 60), _line("2.298,11", 600, 60),
        _line("Lamps", 20, 110), _line("6.392,83", 300, 110), _line("823,00", 600, 110),
    )
    answerer = _answerer()
    assert answerer.answer("In the Week 4 column, what figure does Lamps have?", lines).text == "823,00"
    assert answerer.answer("What is the Week 1 value for Saddles?", lines).text == NOT_FOUND


def test_a_column_title_alone_asks_for_the_value_under_it_in_the_first_row():
    # A form's row of keys over their values reads as a table (a FUNSD development form).
    lines = (
        _line("BRAND", 20, 100, 80), _line("MEDIUM", 300, 100, 80), _line("DESCRIPTION", 500, 100, 120),
        _line("LUCKY STRIKE", 20, 140, 150), _line("Outdoor", 300, 140, 90), _line("30 Sheet Posters", 500, 140, 180),
        _line("PERIOD FROM", 20, 180, 150), _line("April", 300, 180, 60), _line("July", 500, 180, 60),
    )
    answerer = _answerer()
    assert answerer.answer("What is the medium?", lines).text == "Outdoor"
    assert answerer.answer("Description?", lines).text == "30 Sheet Posters"
    # a title and a row the page lacks, or another word besides the title, name no cell of it
    assert answerer.answer("What is the medium for Kool?", lines).text == NOT_FOUND
    assert answerer.answer("What is the colour?", lines).text == NOT_FOUND
    # words that fit two columns, or a request for the page's own title, pick no column
    orders = (_line("ORDER STATUS", 20, 100, 150), _line("SHIP STATUS", 300, 100, 150), _line("TITLE", 500, 100, 80),
              _line("Approved", 20, 140, 120), _line("Pending", 300, 140, 120), _line("Director", 500, 140, 120),
              _line("Rejected", 20, 180, 120), _line("Shipped", 300, 180, 120), _line("Clerk", 500, 180, 120))
    assert answerer.answer("What is the status?", orders).text == NOT_FOUND
    assert answerer.answer("What is the title?", orders).text == NOT_FOUND
    assert answerer.answer("Ship status?", orders).text == "Pending"


def test_a_field_asked_by_its_name_alone():
    assert bare_name("To?") == "To" and bare_name("  Cas# ?") == "Cas#" and bare_name("Bale No.?") == "Bale No."
    assert bare_name("Total Denier as Marked?") == "Total Denier as Marked" and bare_name("Paper?") == "Paper"
    for request in ("What is it?", "Is it paid?", "Summary?", "Text?", "Read this?", "Describe this image?",
                    "Read the text.", "A name of five words or more?", " " * 4000 + "!"):
        assert bare_name(request) is None, request
    memo = (_line("TO:", 20, 10, width=60), _line("S.P. Zolot", 200, 10),
            _line("FROM:", 20, 60, width=80), _line("J. Buxton", 200, 60), _line("CAS #", 20, 110, width=80), _line("108-05-4", 200, 110),
            _line("Date:", 20, 160, width=80), _line("Remarks: none", 20, 200))
    answerer = _answerer()
    assert answerer.field_named("To", memo).text == "S.P. Zolot"  # "to" alone is a word the matching drops
    assert answerer.field_named("cas#", memo).text == "108-05-4"
    assert answerer.field_named("Subject", memo) is None
    assert answerer.field_named("Date", memo) is None  # a blank field: the label under it is no value


def test_a_figure_keeps_the_unit_written_in_a_cell_of_its_own_after_it():
    spec = (_line("Total Weight:", 20, 10, width=160, height=20), _line("974", 300, 10, width=40, height=20),
            _line("mg", 380, 12, width=30, height=20),
            _line("Rod Length:", 20, 50, width=160, height=20), _line("64", 300, 50, width=30, height=20),
            _line("Plug Count", 380, 50, width=120, height=20), _line("12", 560, 50, width=30, height=20),
            _line("Width:", 20, 90, width=160, height=20), _line("50", 300, 90, width=30, height=20),
            _line("mm", 600, 90, width=30, height=20),
            _line("Substance:", 20, 130, width=160, height=20), _line("36", 300, 130, width=30, height=20),
            _line("_gm/m2", 400, 130, width=50, height=20))
    answerer = _answerer()
    weight = answerer.answer("What is the total weight?", spec)
    assert weight.text == "974 mg" and [cell.text for cell in weight.evidence] == ["974", "mg"]
    assert answerer.field_named("Substance", spec).text == "36 gm/m2"  # an underline before it is no part of it
    assert answerer.answer("What is the rod length?", spec).text == "64"  # a key beside it is no unit
    assert answerer.answer("What is the width?", spec).text == "50"  # a unit 13 heights away is another column's
    people = (_line("Age:", 20, 10, width=80, height=20), _line("34", 120, 10, width=30, height=20),
              _line("M", 180, 10, width=20, height=20),
              _line("Enclosures:", 20, 50, width=120, height=20), _line("2", 160, 50, width=20, height=20),
              _line("cc", 200, 50, width=30, height=20))
    assert answerer.field_named("Age", people).text == "34"  # "M" beside an age is no metre
    assert answerer.answer("How many enclosures?", people).text == "2"  # a count has no unit


def test_a_region_is_one_cell_never_split_at_its_spaces():
    regions = (_line("SW1A 1AA", 300, 10), _line("Postcode", 20, 10), _line("(661) 427-6672", 20, 60))
    cells = read_cells(regions)
    assert cells == (regions[1], regions[0], regions[2])  # row by row, each cell with its own box
    fields = extract_fields(cells)
    assert ("Postcode", "SW1A 1AA", 1) in {(f.key, f.value, f.line) for f in fields}
    assert {f.value for f in fields} == {"Postcode", "SW1A 1AA", "(661) 427-6672"}


def test_regions_closer_than_a_word_gap_are_one_cell():
    # The detector splits "63.47 USD" at its space; the label stands a cell gap away.
    regions = (_line("Subtotal", 20, 10, width=120), _line("USD", 466, 10, width=60), _line("63.47", 380, 10, width=80))
    cells = read_cells(regions)
    assert [cell.text for cell in cells] == ["Subtotal", "63.47 USD"]
    assert cells[1].box == ((380, 10), (526, 10), (526, 40), (380, 40))
    assert ("Subtotal", "63.47 USD", "row") in {(f.key, f.value, f.source) for f in extract_fields(cells)}


def test_row_label_looks_up_a_quoted_value():
    regions = (_line("Steel bolts", 20, 100), _line("P2297", 300, 100), _line("216", 450, 100),
               _line("13.69", 600, 100))
    assert row_label(regions, "P2297") == ("Steel bolts", 0)
    assert row_label(regions, "P2298") is None


def test_a_quoted_code_names_its_row_and_the_question_the_value_asked():
    titles = ("Item", "Code", "Qty", "Price")
    rows = (("Extension cord", "SKU-4074", "133", "29.40"), ("Hammer", "A-2323", "220", "45.19"),
            ("Wall plugs", "P4936", "154", "38.40"))
    lines = (*[_line(title, 20 + 250 * column, 100, 120) for column, title in enumerate(titles)],
             *[_line(text, 20 + 250 * column, 140 + 40 * row, 120) for row, cells in enumerate(rows)
               for column, text in enumerate(cells)])
    answerer = _answerer()
    # the row's label, asked with or without "which"
    for question in ("Which item has code A-2323?", "Find the item with code A-2323.", "item A-2323?"):
        assert answerer.answer(question, lines).text == "Hammer", question
    # another column of that row, as asked of the row's label
    assert answerer.answer("What is the price of A-2323?", lines).text == "45.19"
    assert answerer.answer("What is the qty for SKU-4074?", lines).text == "133"
    assert answerer.answer("Price of P4936?", lines).text == "38.40"
    # a code the page lacks names no row
    assert answerer.answer("Which item has code A-9999?", lines).text == NOT_FOUND
    # a question that asks when, where or how much of the row gets no label in its place
    for question in ("When was SKU-4074 shipped?", "How heavy is P4936?", "What date did A-2323 arrive?"):
        assert answerer.answer(question, lines).text == NOT_FOUND, question
    # a key's value is no row of a table: its key is no answer
    form = (_line("Invoice No:", 20, 100), _line("INV-4471", 300, 100), _line("Date:", 20, 140), _line("2024-03-02", 300, 140))
    assert answerer.answer("What is the date of invoice INV-4471?", form).text == "2024-03-02"


def _receipt():
    return (
        _line("Silver Oak Electronics", 150, 70), _line("248 Lake Avenue", 240, 120), _line("Tel: (661) 427-6672", 200, 160),
        _line("Date: 28/08/2023", 50, 260), _line("11:36", 580, 258),
        _line("Notebook", 50, 350), _line("6.04", 600, 352),
        _line("Subtotal", 50, 450), _line("31.07", 570, 450),
        _line("Tax 5%", 50, 490), _line("f1.55", 580, 492),
        _line("TOTAL", 50, 530), _line("32.62", 560, 532),
        _line("Paid by: Mastercard", 50, 600),
    )


def test_answers_come_from_labels_types_and_the_header():
    answerer, lines = _answerer(), _receipt()
    expected = {
        "What is the tax amount?": "1.55",
        "How much was paid in total?": "32.62",
        "How much is the subtotal before tax?": "31.07",
        "What time is printed on the receipt?": "11:36",
        "On which street is the store?": "248 Lake Avenue",
        "What number can the shop be called on?": "(661) 427-6672",
        "When was this purchase made?": "28/08/2023",
        "How was the purchase paid?": "Mastercard",
        "Which shop issued this receipt?": "Silver Oak Electronics",
        "How much did the Notebook cost?": "6.04",
    }
    for question, answer in expected.items():
        assert answerer.answer(question, lines).text == answer, question


def test_questions_the_document_does_not_answer_are_not_found():
    answerer, lines = _answerer(), _receipt()
    for question in ("What is the due date?", "When is payment due?", "What is the invoice number?",
                     "What is the store's tax ID?", "What is the price of Bagel?", "Who was the cashier?",
                     "What is the customer's email address?"):
        assert answerer.answer(question, lines).text == NOT_FOUND, question
    assert answerer.answer("What is the total?", ()).text == NOT_FOUND


def test_form_and_letter_questions():
    # The encoder's meaning in a stand-in: "living" near "occupation", "born" near "birth".
    answerer = Answerer(_concepts(("living", "occupation"), ("born", "birth")),
                        lambda question, context, answers: [0.0] * len(answers))
    form = (_line("Fullname:", 40, 140), _line("HannahLarsen", 360, 140), _line("Dateofbirth:", 40, 182),
            _line("May 31,2001", 360, 182), _line("Occupation:", 40, 300), _line("Chef", 360, 300),
            _line("ID number: PD-387851", 40, 340), _line("Form No: F-38350", 40, 380))
    assert answerer.answer("What name is written on the form?", form).text == "HannahLarsen"
    assert answerer.answer("When was the applicant born?", form).text == "May 31,2001"
    assert answerer.answer("What does the applicant do for a living?", form).text == "Chef"
    assert answerer.answer("Which ID number is given on the form?", form).text == "PD-387851"
    assert answerer.answer("What is the form number?", form).text == "F-38350"
    assert answerer.answer("What is the invoice number?", form).text == NOT_FOUND
    assert answerer.answer("What is the applicant's nationality?", form).text == NOT_FOUND
    letter = (_line("Pinecrest Design Studio", 40, 50), _line("2025-07-05", 40, 370),
              _line("Subject: Update to service terms", 40, 480), _line("Dear Chloe Tanaka,", 40, 550),
              _line("Bestregards,", 40, 750), _line("Lucas Becker", 40, 820), _line("Head of Sales", 40, 870))
    assert answerer.answer("What is the name of the person who signed?", letter).text == "Lucas Becker"
    assert answerer.answer("What is the signer's job title?", letter).text == "Head of Sales"
    assert answerer.answer("When was this letter written?", letter).text == "2025-07-05"
    assert answerer.answer("What is the letter's subject line?", letter).text == "Update to service terms"
    assert answerer.answer("Which organization is the letter from?", letter).text == "Pinecrest Design Studio"
    assert answerer.answer("What is the reference number?", letter).text == NOT_FOUND
    # Its two people by any of the names a letter's roles go by.
    assert answerer.answer("Who is it from?", letter).text == "Lucas Becker"
    assert answerer.answer("Who is the sender?", letter).text == "Lucas Becker"
    assert answerer.answer("Who is the letter addressed to?", letter).text == "Chloe Tanaka"


def test_lines_of_one_paragraph_form_blocks_and_an_address_is_picked_from_them():
    lines = (
        _line("KEDAI PAPAN YEW CHUAN", 20, 10),
        _line("(0005583085-K)", 20, 45),
        _line("LOT 276 JALAN BANTING", 20, 80),
        _line("43800 DENGKIL, SELANGOR", 20, 115),
        _line("Total", 20, 300), _line("24.00", 500, 300),
    )
    blocks = [f for f in extract_fields(lines) if f.source == "block"]
    assert ("LOT 276 JALAN BANTING, 43800 DENGKIL, SELANGOR", (2, 3)) in {(f.value, f.lines) for f in blocks}
    assert all(len(f.lines) <= 4 for f in blocks)
    assert not any("Total" in f.value for f in blocks)  # a row of two cells is no paragraph line
    answer = _answerer().answer("Where is the shop located?", lines)
    assert answer.text == "LOT 276 JALAN BANTING, 43800 DENGKIL, SELANGOR"
    assert [cell.text for cell in answer.evidence] == ["LOT 276 JALAN BANTING", "43800 DENGKIL, SELANGOR"]


def test_addresses_read_by_their_shape_not_by_street_words():
    assert "address" in value_types("NO 2 & 4, BANDAR SERI ALAM, 81750 MASAI")
    assert "address" in value_types("Rue de Lyon 12, 1201 Genève")
    assert "address" not in value_types("Total 24.00")
    assert "address" not in value_types("14-02-2018")


def test_a_request_that_names_a_key_of_the_page_asks_for_that_field():
    lines = (_line("PHYSICAL STATE:", 20, 10), _line("Brownish-gray powder", 300, 10),
             _line("LOT NUMBER:", 20, 60), _line("__", 300, 60))
    answerer = _answerer()
    answer = answerer.answer("What does the form say for physical state?", lines)
    assert answer.text == "Brownish-gray powder" and answer.names_key("What does the form say for physical state?")
    assert answerer.names_a_key("What does the form say for lot number?", lines)  # asked, whatever the answer
    assert not answerer.names_a_key("What does it say?", lines)
    assert not answer.names_key("Read the whole page")


def test_a_company_name_with_its_registration_number_is_an_organisation_not_a_person():
    kinds = value_types("AMANO MALAYSIA SDN BHD (682288-V)")
    assert "organization" in kinds and "person" not in kinds
    assert "organization" not in value_types("(682288-V)")


def test_a_key_named_in_full_outranks_the_type_its_words_suggest():
    lines = (_line("Committed To Date:", 20, 10), _line("3,357,545", 300, 10),
             _line("Date:", 20, 60), _line("June 21, 1985", 300, 60))
    answerer = _answerer()
    assert answerer.answer("Committed To Date?", lines).text == "3,357,545"
    assert answerer.answer("What is the date?", lines).text == "June 21, 1985"
    # The type must come from the key's own words: a count is not answered by a code.
    table = tuple(_line(text, x, y, width=120) for y, texts in ((10, ("Item", "Code", "Qty", "Price")),
                                                                  (60, ("Steel bolts", "P2427", "111", "4.20")))
                  for text, x in zip(texts, (20, 400, 700, 1000)))
    assert answerer.answer("How many steel bolts are listed?", table).text == "111"


def test_a_key_run_into_its_value_is_cut_where_the_question_words_end():
    lines = (_line("PROJECTNO.1984-175NP", 20, 10), _line("ORIGINAL-PROJECTFILE", 20, 60),
             _line("RECEIPT 5", 20, 110))
    answerer = _answerer()
    assert answerer.answer("PROJECT No?", lines).text == "1984-175NP"
    assert answerer.answer("What is the original?", lines).text == "PROJECTFILE"
    assert answerer.answer("Re?", lines).text == NOT_FOUND  # "RECEIPT" does not open with the word "re"


def test_question_types_from_the_head_word_and_the_way_of_paying():
    assert question_type("Account name?") == "person"
    assert question_type("What is the project name?") == "person"
    assert question_type("What is the account number?") == "id"
    assert question_type("How did the customer pay?") == "text"
    assert question_type("How much did the customer pay?") == "amount"
    # the means of paying is no sum, whatever the verb's form
    assert question_type("Which means of payment does it accept?") == "text"
    assert question_type("In what form of payment was it settled?") == "text"
    assert question_type("What is the payment amount?") == "amount"


def test_a_mail_address_in_other_words_is_an_email():
    assert question_type("Where can the tenant be e-mailed?") == "email"
    assert question_type("Which electronic address is given?") == "email"
    assert question_type("Who e-mailed the office?") == "person"  # who did it, not where to


def test_month_names_misread_with_digits_are_put_right_in_dates():
    assert clean_value("Apri1 13, 1984", "date") == "April 13, 1984"
    assert clean_value("Auq.1984", "date") == "Aug.1984"
    assert clean_value("Sa1e 1984", "date") == "Sa1e 1984"  # no month's name
    assert clean_value("Apri1 13", "text") == "Apri1 13"  # only where a date is asked


def _concepts(*groups):
    """An embedder whose vectors say only which group of words a text belongs to (a stand-in
    for the sentence encoder's meaning, to test the decision around it); a text of no group
    has an axis of its own, the same across calls."""
    own: dict[str, int] = {}

    def embed(texts):
        vectors = np.zeros((len(texts), len(groups) + 4096), dtype=np.float32)
        for row, text in enumerate(texts):
            hits = [k for k, words in enumerate(groups) if any(w in text.lower() for w in words)]
            vectors[row, hits[0] if hits else len(groups) + own.setdefault(text, len(own) % 4096)] = 1.0
        return vectors
    return embed


def test_a_key_named_in_other_words_is_matched_by_meaning_with_a_margin():
    lines = (_line("Cashier:", 20, 10), _line("Lucas", 300, 10), _line("Lane:", 20, 60), _line("4", 300, 60))
    answerer = Answerer(_concepts(("cashier", "till"), ("lane", "checkout")),
                        lambda question, context, answers: [0.0] * len(answers))
    assert answerer.answer("Who took the money at the till?", lines).text == "Lucas"
    assert answerer.answer("Who signed it?", lines).text == NOT_FOUND  # near no key
    # Two keys with different values as near as each other: no margin, no answer.
    twice = lines + (_line("Till operator:", 20, 110), _line("Maria", 300, 110))
    assert answerer.answer("Who took the money at the till?", twice).text == NOT_FOUND


def test_a_question_word_the_page_lacks_stands_for_the_nearest_key_word():
    lines = (_line("Date of birth:", 20, 10), _line("12/03/1971", 300, 10),
             _line("Issued:", 20, 60), _line("05/01/2024", 300, 60))
    answerer = Answerer(_concepts(("birth", "born"), ("issued",), ("expir",)),
                        lambda question, context, answers: [0.0] * len(answers))
    assert answerer.answer("When was the holder born?", lines).text == "12/03/1971"  # "born" for "birth"
    assert answerer.answer("What is the date?", lines).text == "12/03/1971"  # the first date
    # A question that says which date it means in its own words ("expires" ~ "expiry") is
    # not answered by the page's first date when no key says so.
    assert answerer.answer("When does the card expire?", lines).text == NOT_FOUND
    receipt = (_line("Date:", 20, 10), _line("05/01/2024", 300, 10))
    assert answerer.answer("When was the holder born?", receipt).text == NOT_FOUND


def test_a_date_asked_in_other_words_is_the_key_the_whole_question_is_clearly_nearest():
    form = (_line("Date:", 20, 10), _line("05/01/2024", 300, 10),
            _line("Date of birth:", 20, 60), _line("12/03/1971", 300, 60))
    lm = lambda question, context, answers: [0.0] * len(answers)  # noqa: E731 - a constant LM
    # no word of the question names a key; the sentence as a whole is near "Date of birth"
    near = Answerer(_concepts(("birth", "first see daylight")), lm)
    assert near.answer("When did this person first see daylight?", form).text == "12/03/1971"
    # near no key: the page's first date, the document's
    assert near.answer("What day was it?", form).text == "05/01/2024"
    # near two keys alike (no margin): the first date too
    both = Answerer(_concepts(("date", "first see daylight")), lm)
    assert both.answer("When did this person first see daylight?", form).text == "05/01/2024"
    # a key's type word is no likeness: every date question is near "Date of birth" by "date"
    dated = Answerer(_concepts(("date",)), lm)
    assert dated.answer("When was the form dated?", form).text == "05/01/2024"
    # a run of digits no key calls a phone is no phone to pick (an account number)
    bill = (_line("Account number:", 20, 10), _line("4471902233", 300, 10),
            _line("Tel:", 20, 60), _line("0800 496 0123", 300, 60))
    assert Answerer(_concepts(("account", "number do i call")), lm).answer("What number do I call?", bill).text \
        == "0800 496 0123"


def test_where_on_a_page_without_an_address_is_the_place_a_key_names():
    form = (_line("Full name:", 20, 10), _line("Ana Souza", 300, 10), _line("City:", 20, 60),
            _line("Porto Alegre", 300, 60), _line("Occupation:", 20, 110), _line("Nurse", 300, 110))
    assert _answerer().answer("Where does she live?", form).text == "Porto Alegre"
    # no key names a place: not found, not the occupation
    placeless = form[:2] + form[4:]
    assert _answerer().answer("Where does she live?", placeless).text == NOT_FOUND
    # an address answers before a place
    addressed = form + (_line("Address:", 20, 160), _line("12 Harbour Road", 300, 160))
    assert _answerer().answer("Where does she live?", addressed).text == "12 Harbour Road"
    # a key that says which place (of birth, of destination) is no answer to where she lives;
    # one that says only a place is
    born = (_line("Name:", 20, 10), _line("Jan Novak", 300, 10), _line("Place of birth:", 20, 60), _line("Brno", 300, 60))
    assert _answerer().answer("Where does Jan live?", born).text == NOT_FOUND
    resident = born + (_line("City of residence:", 20, 110), _line("Prague", 300, 110))
    assert _answerer().answer("Where does Jan live?", resident).text == "Prague"
    # a figure is no place ("Place: 3rd")
    race = (_line("Runner:", 20, 10), _line("Lena Berg", 300, 10), _line("Place:", 20, 60), _line("3rd", 300, 60))
    assert _answerer().answer("Where was the race held?", race).text == NOT_FOUND


def test_a_bill_number_is_not_found_on_a_page_that_is_no_bill():
    from runtime.reader.answering import read_cells

    letter = (_line("Dear Ms Park,", 20, 10, 300), _line("Our reference:", 20, 60), _line("REF-2720", 300, 60),
              _line("Yours sincerely,", 20, 110, 300))
    answerer = _answerer()
    assert answerer.answer("bill ref number", letter).text == NOT_FOUND
    # an invoice or a receipt numbers its bill, whatever it calls itself
    receipt = (_line("RECEIPT", 20, 10), _line("Receipt No:", 20, 60), _line("R-5512", 300, 60))
    assert not answerer._names_absent_kind("What is the bill number?", read_cells(receipt))
    assert answerer._names_absent_kind("What is the bill number?", read_cells(letter))


def _words_alike(*groups):
    """An embedder that puts single words of a group together and every other text (a phrase,
    "holder born") on an axis of its own: only a word-for-word comparison finds the likeness."""
    own: dict[str, int] = {}

    def embed(texts):
        vectors = np.zeros((len(texts), len(groups) + 4096), dtype=np.float32)
        for row, text in enumerate(texts):
            hits = [k for k, words in enumerate(groups) if text.lower() in words]
            vectors[row, hits[0] if hits else len(groups) + own.setdefault(text, len(own) % 4096)] = 1.0
        return vectors
    return embed


def test_the_page_word_a_question_word_stands_for_answers_where_the_phrase_is_not_alike():
    lines = (_line("Issued:", 20, 10), _line("05/01/2024", 300, 10),
             _line("Date of birth:", 20, 60), _line("12/03/1971", 300, 60))

    lm = lambda question, context, answers: [0.0] * len(answers)  # noqa: E731 - a constant LM
    # "holder born" is near no key as a phrase; the word "born" is near the key's word "birth"
    # (and says a date of birth is meant, so the first date does not answer).
    assert Answerer(_words_alike(("born", "birth")), lm).answer("When was the holder born?", lines).text == "12/03/1971"
    # without that likeness nothing says which date is meant: the document's first
    assert Answerer(_words_alike(), lm).answer("When was the holder born?", lines).text == "05/01/2024"


def test_review_cases_of_run_together_keys_request_words_and_long_tokens():
    from runtime.reader.answering import _run_together
    from runtime.reader.document import Field

    assert _run_together([Field("", "WEEK 35 HOURS", 0, "line")], "Week 3?") == []  # not inside "35"
    assert _run_together([Field("", "RE-339", 0, "line")], "Re?")[0].value == "-339"  # the sign stays
    assert label_words("Check Out Time") == ["check", "out", "time"]  # request words stay in labels
    assert question_type("How large was the amount paid?") == "amount"
    assert qualifiers("a" * 5000) == frozenset()  # no recursion through a run of 5000 letters


def test_a_name_beside_a_date_heads_the_letter_but_a_label_beside_a_name_does_not():
    from runtime.reader.letterhead import read_letterhead

    dated = read_cells((_line("Redstone Media Group", 20, 10), _line("22 Jun 2023", 700, 10),
                        _line("335 Elm Boulevard", 20, 50), _line("Malaga 29015", 20, 90)))
    head = read_letterhead(dated)
    assert [dated[i].text for i in head.issuer] == ["Redstone Media Group"] and head.certain
    labelled = read_cells((_line("Bill To:", 20, 10), _line("Jane Doe", 700, 10), _line("12 Oak Street", 20, 50)))
    assert "Jane Doe" not in [labelled[i].text for i in read_letterhead(labelled).issuer]


def test_a_form_key_with_its_value_under_it_whatever_rows_the_boxes_fall_into():
    # Small printed keys over larger typed values, the boxes overlapping in height (a scanned
    # form): each key takes the cell under it, not the next key's.
    lines = (
        _line("DEPARTMENT CHARGED", 34, 763, width=93, height=15), _line("ACCOUNTING CHARGE NO.", 256, 765, width=103, height=15),
        _line("EXTRA COPIES TO:", 378, 763, width=73, height=18),
        _line("Brand Operations", 60, 776, width=117, height=18), _line("Adv. Expense", 258, 776, width=93, height=19),
        _line("D. Barcia", 382, 775, width=65, height=20),
    )
    fields = {(f.key, f.value) for f in extract_fields(lines) if f.source == "below"}
    assert {("DEPARTMENT CHARGED", "Brand Operations"), ("ACCOUNTING CHARGE NO.", "Adv. Expense")} <= fields
    # A cell under a key that labels a value of its own is no value of the key above it.
    stacked = (_line("12", 20, 100, width=30), _line("Shipping", 300, 100, width=90),
               _line("Sample Requisition", 300, 125, width=160), _line("Routh", 600, 125, width=80))
    assert ("Shipping", "Sample Requisition") not in {(f.key, f.value) for f in extract_fields(stacked)}


def test_a_key_of_type_words_only_answers_no_question_about_something_particular():
    # "Number" over "288": near "the flight number" for the encoder, but it names no flight.
    lines = (_line("Number", 20, 100, width=90), _line("288", 20, 125, width=50), _line("Promotion", 300, 300))
    answerer = Answerer(_concepts(("number",)), lambda question, context, answers: [0.0] * len(answers))
    assert answerer.answer("What is the flight number?", lines).text == NOT_FOUND
    assert answerer.answer("What is the number?", lines).text == "288"


def test_review_cases_of_values_under_keys_payments_on_one_row_and_currency_words():
    from runtime.reader.answering import paid_total

    # A blank form's second row of keys, printed as the first: no key is the value of another.
    blank = (_line("DEPARTMENT", 20, 100, width=90, height=15), _line("ACCOUNT NO.", 200, 100, width=90, height=15),
             _line("DATE", 20, 118, width=90, height=15), _line("APPROVED BY", 200, 118, width=90, height=15))
    assert not [f for f in extract_fields(blank) if f.source == "below" and f.key == "ACCOUNT NO."]
    # Tendered and change on one row below the total: still a payment.
    till = (_line("TOTAL", 20, 100, width=80), _line("59.20", 600, 100, width=80),
            _line("CASH", 20, 140, width=60), _line("60.20", 200, 140, width=60),
            _line("CHANGE", 400, 140, width=80), _line("1.00", 600, 140, width=60))
    cells = read_cells(till)
    assert paid_total(extract_fields(cells), cells).value == "59.20"
    # "Rm" and "Pen" as words label their values; "RM" written as a currency does not.
    assert is_label("Rm") and is_label("Pen") and not is_label("RM")


def test_an_abbreviation_is_spelled_out_from_the_initials_of_a_key():
    from runtime.reader.vocabulary import spell_out

    assert spell_out("DOB?", {"Date of birth", "Phone"}) == "date of birth?"
    assert spell_out("What is the dob?", {"Date of birth"}, frozenset({"what", "is", "the"})) == "What is the date of birth?"
    assert spell_out("What is the dob?", {"Date of birth"}) == "What is the dob?"  # lower case, no word list: a word
    assert spell_out("ID?", {"Issue Date"}) == "ID?"  # two letters: too many pairs of words spell them
    assert spell_out("DOA?", {"Date of arrival", "Date of admission"}) == "DOA?"  # two runs: ambiguous
    assert spell_out("VAT?", {"VAT No"}) == "VAT?"  # a word of the keys already
    form = (_line("Full name:", 40, 140), _line("Hannah Larsen", 360, 140), _line("Date of birth:", 40, 182),
            _line("May 31, 2001", 360, 182))
    assert _answerer().answer("DOB?", form).text == "May 31, 2001"


def test_who_did_what_the_verb_says_is_not_whom_it_was_done_to():
    invoice = (_line("Brightway Software Inc.", 20, 10, 400), _line("77 Chestnut Lane", 20, 50),
               _line("Bill to:", 20, 150), _line("Tobias Horvat", 20, 190), _line("Total due: 310.00", 20, 300))
    answerer = _answerer()
    assert answerer.answer("Which company billed it?", invoice).text == "Brightway Software Inc."
    from runtime.reader.answering import _other_party

    assert _other_party("Which company billed it?", "Bill to") and _other_party("Who shipped it?", "Ship to")
    assert _other_party("Name the supplier who billed it.", "Bill to") and not _other_party("Who was billed?", "Bill to")
    assert not _other_party("Who is it billed to?", "Bill to") and not _other_party("Which company billed it?", "Paid by")
    letter = (_line("Dear Ada Lovelace,", 20, 10), _line("Thank you for the notes.", 20, 60, 400),
              _line("Sincerely,", 20, 120), _line("Grace Hopper", 20, 160))
    assert answerer.answer("Who wrote it?", letter).text == "Grace Hopper"
    assert answerer.answer("Could you tell me the name of the person who wrote this letter?", letter).text == "Grace Hopper"
    assert answerer.answer("who's this letter meant for", letter).text == "Ada Lovelace"
    assert answerer.answer("billed by?", invoice).text == "Brightway Software Inc."


def test_whose_page_it_is_comes_from_its_name_field():
    form = (_line("Registration", 20, 10), _line("Full name:", 40, 140), _line("Björn Haddad", 360, 140),
            _line("ID number:", 40, 182), _line("MY-917038", 360, 182))
    assert _answerer().answer("Whose registration is it?", form).text == "Björn Haddad"


def test_an_amount_without_a_part_is_the_total_less_that_part():
    receipt = (_line("Corner Deli", 20, 10), _line("Bagel", 20, 100), _line("4,00", 500, 100),
               _line("Subtotal", 20, 140), _line("54,42 €", 500, 140), _line("Tax 5%", 20, 180), _line("2,72 €", 500, 180),
               _line("TOTAL", 20, 220), _line("57,14 €", 500, 220))
    answerer = Answerer(_concepts(("total",)), lambda question, context, answers: [0.0] * len(answers))
    assert answerer.answer("How much was it excluding tax?", receipt).text == "54,42 €"
    assert answerer.answer("What came to before the tax?", receipt).text == "54,42 €"
    # No amount of the page is the total less a tip: the total is not given for it.
    assert answerer.answer("What was the amount without tip?", receipt).text != "54,42 €"


def test_an_item_named_in_the_question_does_not_set_the_type():
    receipt = (_line("Tel: (602) 136-5465", 20, 10), _line("Phone charger", 20, 100), _line("16,98", 500, 100),
               _line("TOTAL", 20, 140), _line("16,98", 500, 140))
    assert _answerer().answer("Phone charger?", receipt).text == "16,98"
    assert _answerer().answer("What is the phone number?", receipt).text == "(602) 136-5465"


def test_the_number_of_someone_is_no_count():
    assert question_type("What is the number of items?") == "count"
    assert question_type("The number of the applicant?") == "id"
    assert question_type("What is the contact number of the owner?") == "phone"


def test_a_website_question_wants_a_web_address():
    from runtime.reader.values import parse_url

    assert parse_url("www.bluefern.com") == "www.bluefern.com"
    assert parse_url("https://shop.example.de/menu") == "https://shop.example.de/menu"
    assert parse_url("bluefern. co.uk") == "bluefern.co.uk"  # a space the recogniser put in
    assert parse_url("Dr.Smith") is None and parse_url("No.5") is None and parse_url("1 of 10") is None
    assert parse_url("DEPT. NO.") is None and parse_url("Auth. No.") is None and parse_url("Sales.dept") is None
    assert parse_url("ada@bluefern.com") is None  # an e-mail
    assert question_type("Which website is printed here?") == "url"
    assert question_type("What is the web address?") == "url"
    page = (_line("Blue Fern Cafe", 20, 10), _line("Page", 20, 60), _line("1 of 10", 300, 60),
            _line("Total", 20, 120), _line("7.26", 300, 120))
    assert _answerer().answer("Which website is printed here?", page).text == NOT_FOUND
    with_site = page + (_line("www.bluefern.com", 20, 200),)
    assert _answerer().answer("Which website is printed here?", with_site).text == "www.bluefern.com"


def test_the_review_cases_of_the_question_cues_hold():
    from runtime.reader.vocabulary import spell_out

    # An abbreviation spelled out leaves the question's other words as they are.
    assert spell_out("How many hours were worked on the DOS?", {"Date of service", "Hours of work"},
                     frozenset({"how", "many", "hours", "were", "worked", "on", "the"})) == \
        "How many hours were worked on the date of service?"
    total = Answerer(_concepts(("total", "due")), lambda question, context, answers: [0.0] * len(answers))
    # An item asked before tax is the item's price, not the page's total less its tax.
    receipt = (_line("Bagel", 20, 100), _line("4,00", 500, 100), _line("Latte", 20, 140), _line("50,42", 500, 140),
               _line("Subtotal", 20, 180), _line("54,42 €", 500, 180), _line("Tax", 20, 220), _line("2,72 €", 500, 220),
               _line("TOTAL", 20, 260), _line("57,14 €", 500, 260))
    assert total.answer("How much was the Bagel before tax?", receipt).text == "4,00"
    # A key that itself says "before tax" is the net, not the part; an item of the same sum is no net.
    invoice = (_line("Licence", 20, 100), _line("80.00", 500, 100), _line("Setup", 20, 140), _line("20.00", 500, 140),
               _line("Net amount (before tax)", 20, 180), _line("100.00", 500, 180), _line("Tax", 20, 220),
               _line("20.00", 500, 220), _line("Amount due", 20, 260), _line("120.00", 500, 260))
    assert total.answer("What is the amount before tax?", invoice).text == "100.00"
    # A discount was taken off: before it, the total plus the discount.
    discounted = (_line("Bagel", 20, 100), _line("10,00", 500, 100), _line("Catering tray", 20, 140), _line("40,00", 500, 140),
                  _line("Subtotal", 20, 180), _line("50,00", 500, 180), _line("Discount", 20, 220), _line("5,00", 500, 220),
                  _line("TOTAL", 20, 260), _line("45,00", 500, 260))
    assert total.answer("What was the total before the discount?", discounted).text == "50,00"
    # "Who received it?" is no question about the signer; "whose signature" is not the name field.
    letter = (_line("Tenant name: Ana Ruiz", 20, 10, 400), _line("Dear Emma Chen,", 20, 60),
              _line("Sincerely,", 20, 120), _line("Peter Wu", 20, 160))
    assert _answerer().answer("Who received it?", letter).text != "Peter Wu"
    assert _answerer().answer("Whose signature is at the bottom?", letter).text != "Ana Ruiz"
    assert question_type("What is the number of the cartons?") == "count"


def test_a_choice_of_a_compound_needs_a_keyed_value():
    from runtime.reader.yes_no import answer_choice

    items = (_line("Postcard", 20, 100), _line("1,50", 500, 100), _line("CASH 5,50", 20, 140))
    assert answer_choice("Was it paid by cash or card?", items).text == "CASH 5,50"  # the cell, as before
    # A long cell without a key quotes the option's own word, not a compound ending in it.
    prose = (_line("We sell a postcard for every card bought in the shop today", 20, 10, 600),)
    assert answer_choice("Do they take card or cheque?", prose).text == "card"


def test_an_amount_inside_a_sentence_is_answered_alone():
    from runtime.reader.answering import _typed_span

    assert _typed_span("enclosed. The total is GBP 4,250.00.", "amount") == "GBP 4,250.00"
    assert _typed_span("GBP 4,250.00", "amount") == "GBP 4,250.00"
    assert _typed_span("from 12.50 to 14.00 EUR", "amount") == "from 12.50 to 14.00 EUR"  # two: left as it is
    assert _typed_span("signed on 3 March 2025 in Leeds", "date") == "3 March 2025"
    assert _typed_span("Ada Lovelace", "person") == "Ada Lovelace"


def test_whom_a_letter_is_to_is_the_person_it_greets():
    letter = (_line("Hartwell Joinery", 20, 10), _line("Dear Ms Solberg,", 20, 60),
              _line("Please find our quote enclosed.", 20, 110, 400), _line("Yours sincerely,", 20, 160), _line("Tom Hartwell", 20, 200))
    assert _answerer().answer("Who is the letter to?", letter).text == "Ms Solberg"
    assert _answerer().answer("To whom was it sent?", letter).text == "Ms Solberg"
    assert _answerer().answer("Who sent it?", letter).text != "Ms Solberg"


def test_a_row_of_keys_over_a_row_of_their_values():
    # A form's printed keys in one row, the filled-in values in the row under them, each
    # centred in its box (one starts right of its key's end): each value to its own key, no
    # key paired with the key beside it.
    lines = (
        _line("TEST MATERIAL(s)", 43, 199, width=95, height=21), _line("LOT NO.(s)", 417, 202, width=63, height=20),
        _line("RECEIPT DATE(s)", 523, 202, width=89, height=21), _line("LH-NUMBER(s)", 659, 203, width=73, height=21),
        _line("B166", 180, 233, width=37, height=19), _line("9/28/83", 532, 235, width=57, height=18),
        _line("20,845", 654, 233, width=54, height=23),
    )
    pairs = {(f.key, f.value) for f in extract_fields(lines)}
    assert {("TEST MATERIAL(s)", "B166"), ("RECEIPT DATE(s)", "9/28/83"), ("LH-NUMBER(s)", "20,845")} <= pairs
    assert not {value for key, value in pairs if key == "RECEIPT DATE(s)"} & {"LH-NUMBER(s)", "B166"}
    answerer = _answerer()
    assert answerer.answer("TEST MATERIAL(s)?", lines).text == "B166"
    # A row of a key, its value and another key with its value over a like row is no such header.
    rows = (_line("Company", 82, 212, width=80, height=23), _line("SPEVCO, INC.", 174, 216, width=110, height=17),
            _line("Brand(s) Camel", 451, 217, width=120, height=19),
            _line("Total Cost", 82, 253, width=80, height=17), _line("$1,340,000.00", 246, 249, width=110, height=20),
            _line("Current Year Cost", 418, 250, width=140, height=17), _line("1994-1995", 580, 250, width=80, height=20))
    pairs = {(f.key, f.value) for f in extract_fields(rows)}
    assert ("Current Year Cost", "1994-1995") in pairs and ("Brand(s) Camel", "1994-1995") not in pairs
    # The values' row keeps its own rules: an item row under "Item | Price" prices its item.
    table = (_line("Item", 20, 10, width=80), _line("Price", 300, 10, width=80),
             _line("Coffee", 20, 50, width=80), _line("7.00", 300, 50, width=80))
    pairs = {(f.key, f.value) for f in extract_fields(table)}
    assert ("Coffee", "7.00") in pairs and ("Price", "7.00") in pairs


def test_a_fill_in_line_after_a_colon_is_no_value():
    lines = (_line("(10) UNIT SALES:___", 78, 337, width=214), _line("238,282", 341, 340, width=56))
    assert ("(10) UNIT SALES", "238,282") in {(f.key, f.value) for f in extract_fields(lines)}
    assert _answerer().answer("What is the unit sales?", lines).text == "238,282"


def test_words_the_question_says_go_on_the_key_not_into_the_value():
    # "APPROVED BY" is a key to "Approved by?", not the key "APPROVED" and the value "BY".
    lines = (_line("APPROVED BY", 20, 10), _line("TEST MATERIAL (s)", 20, 110), _line("Client Group BATKorea", 20, 210))
    answerer = _answerer()
    assert answerer.answer("Approved by?", lines).text == NOT_FOUND
    assert answerer.answer("TEST MATERIAL(s)?", lines).text == NOT_FOUND
    assert answerer.answer("Client group?", lines).text == "BATKorea"
    # what follows the key is no value where it opens with a function word, goes on as a
    # sentence or is a key of its own; a function word the question says after the key goes on it
    lines = (_line("DIVISION OF LOEW'S CORP.", 20, 10, width=300), _line("Client confirmed the agreement", 20, 110, width=300),
             _line("Authorized by Dr. Stone", 20, 210, width=300), _line("Remarks The goods arrived", 20, 310, width=300))
    assert answerer.answer("Division?", lines).text == NOT_FOUND
    assert answerer.answer("Client?", lines).text == NOT_FOUND
    assert answerer.answer("Authorized to?", lines).text == NOT_FOUND
    assert answerer.answer("Authorized by?", lines).text == "Dr. Stone"
    assert answerer.answer("What are the remarks?", lines).text == "The goods arrived"


def test_the_letter_of_a_hyphenated_code_picks_the_key_as_a_number_does():
    lines = tuple(_line(f"({n}) CAT-{code}-EXPENSES:", 78, 465 + 30 * n, width=180, height=20) for n, code in
                  ((13, "A"), (14, "B"), (21, "1"))) + tuple(
        _line(value, 350, 465 + 30 * n, width=50, height=20) for n, value in ((13, "2,303"), (14, "380"), (21, "291,095")))
    answerer = _answerer()
    assert answerer.answer("Cat- a- expenses?", lines).text == "2,303"
    assert answerer.answer("What is the cat-b-expenses?", lines).text == "380"


def test_the_key_asked_about_is_no_answer_to_it():
    # Read where a value should be, the key the question names answers nothing; a choice's
    # answer is one of the words it says.
    from runtime.reader.answering import _echoes

    assert _echoes("FINAL FLAVOR", "Final flavor?") and _echoes("CLIENT", "What does the form say for client?")
    assert not _echoes("OGS", "Final flavor?") and not _echoes("Signed", "Signed or not?")
    # an answer the question offers, or a figure or letter it mentions, is no echo of the key
    assert not _echoes("UPS", "Which carrier, UPS or FedEx?") and not _echoes("Cash", "Paid in cash or by card?")
    assert not _echoes("2", "How many nights, 2?") and not _echoes("A", "Is it grade A?")
    assert _echoes("SECTION(S)", "Section(s)?")
    # the key's last words read under its first ones
    assert _echoes("ASSIGNED", "Other personnel assigned?")
    assert not _echoes("261 sq", "What is the sq. inches/feet?") and not _echoes("No.533", "Registration No?")


def test_another_english_word_one_letter_away_is_no_misreading():
    # "PLACE" is not "plate" misread, nor "Bloom" "blood"; "Attarntion" is "attention" misread.
    words = frozenset("place plate blood bloom attention what is the vehicle licence group quality of".split())
    answerer = Answerer(_unrelated, lambda question, context, answers: [0.0] * len(answers), words=words)
    lines = (_line("PLACE: Telephone", 20, 10), _line("Quality of Bloom: Good", 20, 110),
             _line("Attarntion: DAVID DRESSER", 20, 210))
    assert answerer.answer("What is the vehicle's licence plate?", lines).text == NOT_FOUND
    assert answerer.answer("What is the blood group?", lines).text == NOT_FOUND
    assert answerer.answer("What is the attention?", lines).text == "DAVID DRESSER"
    assert _answerer().answer("What is the vehicle's licence plate?", lines).text == "Telephone"  # no vocabulary: as read
    # two English words one letter apart are two keys, forms of one verb included
    words |= frozenset("received receiver by employer employed employee who since".split())
    answerer = Answerer(_unrelated, lambda question, context, answers: [0.0] * len(answers), words=words)
    assert answerer.answer("Who is the employee?", (_line("EMPLOYER: Acme Ltd", 20, 10),)).text == NOT_FOUND
    assert answerer.answer("Employer?", (_line("Employed since: 2019", 20, 10),)).text == NOT_FOUND


def test_a_cell_with_two_key_value_pairs_is_split_where_the_second_key_starts():
    lines = (_line("PHONE NUMBER: (201) 923-9208 BEEPER NUMBER: (201) 698-1780", 20, 10, width=600),
             _line("Magazines: P 4/C; Newspapers: 1/2 B/W", 20, 110, width=400),
             _line("Contact: Ada Lovelace Phone: 555 0101", 20, 210, width=400))
    pairs = {(f.key, f.value) for f in extract_fields(lines) if f.source == "colon"}
    assert {("PHONE NUMBER", "(201) 923-9208"), ("BEEPER NUMBER", "(201) 698-1780"), ("Magazines", "P 4/C;"),
            ("Newspapers", "1/2 B/W")} <= pairs
    # where words alone lead up to the second colon, there is no telling where the value ends
    assert ("Contact", "Ada Lovelace Phone: 555 0101") in pairs
    # a web or e-mail address ends a value as a figure does; a time holds no key
    lines = (_line("Online: example.gov.uk/pcn Phone: 01273 290 000", 20, 10, width=600),
             _line("Email: help@example.org Fax: 555 0102", 20, 110, width=600),
             _line("Time of issue:", 20, 210), _line("14:52", 300, 210, width=80))
    pairs = {(f.key, f.value) for f in extract_fields(lines) if f.source == "colon"}
    assert {("Online", "example.gov.uk/pcn"), ("Phone", "01273 290 000"), ("Email", "help@example.org"),
            ("Fax", "555 0102"), ("Time of issue", "14:52")} <= pairs
    assert not [key for key, _ in pairs if key == "14"]


def test_a_number_under_a_closing_signs_nothing():
    lines = (_line("Dear Ms Solberg,", 20, 10), _line("Thank you", 20, 200), _line("312-558-5948", 20, 235))
    assert not [f for f in extract_fields(lines) if f.source == "closing"]


def test_party_blocks_are_names_over_addresses_under_keys_of_their_own():
    from runtime.reader.document import party_blocks

    lines = (
        _line("Harbour Supplies Ltd", 20, 10), _line("4 Dock Street", 20, 50),
        _line("Bill to:", 20, 120, 120), _line("Ship to:", 500, 120, 120),
        _line("Ines Duarte", 20, 160), _line("Sven Olsen", 500, 160),
        _line("12 Elm Road", 20, 200), _line("9 Mill Lane", 500, 200),
        _line("Porto 4000-123", 20, 240), _line("Oslo 0150", 500, 240),
        _line("Item", 20, 280, 80), _line("Qty", 300, 280, 60), _line("Amount", 500, 280, 100),
        _line("Notes:", 20, 400, 90), _line("Handle with care", 20, 440),  # a key over a line: no address, no party
    )
    cells = read_cells(lines)
    found = [(party.key, [cells[i].text for i in party.lines]) for party in party_blocks(cells)]
    # the table's header row under the blocks (more cells than the keys' row) ends them
    assert found == [("Bill to", ["Ines Duarte", "12 Elm Road", "Porto 4000-123"]),
                     ("Ship to", ["Sven Olsen", "9 Mill Lane", "Oslo 0150"])]


def test_a_deadline_asks_for_a_date():
    assert question_type("What is the deadline for the application?") == "date"
    assert question_type("When does the card expire?") == "date"


def test_the_person_a_form_is_about_is_its_first_name_field():
    # The encoder's meaning in a stand-in: "holder" near the examples about whom a record is for.
    answerer = Answerer(_concepts(("holder",)), lambda question, context, answers: [0.0] * len(answers))
    form = (_line("Registration", 40, 20), _line("Full name: James Silva", 40, 140, 300),
            _line("Name: José Wójcik", 520, 140, 300), _line("Date of birth: 23 Sep 1959", 40, 190, 300),
            _line("Relationship: Father", 520, 190, 300), _line("Email: jsilva@example.com", 40, 240, 300))
    assert answerer.answer("Who is the holder?", form).text == "James Silva"
    assert answerer.answer("Who is the nurse?", form).text == NOT_FOUND  # near no example of it
    # A line of fields with a date in it is no address, nor is a "Key: value" cell a key over the line under it.
    assert answerer.answer("Where does the holder live?", form).text == NOT_FOUND
    assert not [f for f in extract_fields(form) if f.source == "below" and ":" in f.key]


def test_which_person_did_it_is_who_did_it_and_manner_words_are_no_field():
    from runtime.reader.intents import asks_topic, without_manner

    letter = (_line("Pinecrest Design Studio", 40, 50), _line("2025-07-05", 40, 370),
              _line("Subject: Update to service terms", 40, 480), _line("Dear Chloe Tanaka,", 40, 550),
              _line("Bestregards,", 40, 750), _line("Lucas Becker", 40, 820), _line("Head of Sales", 40, 870))
    assert _answerer().answer("Which person wrote this letter?", letter).text == "Lucas Becker"
    # The closing's name is the letter's author, the greeting's its recipient, whatever they are called.
    assert _answerer().answer("Who is the letter's author?", letter).text == "Lucas Becker"
    assert _answerer().answer("Which name is in the greeting?", letter).text == "Chloe Tanaka"
    assert without_manner("What's the letter's topic in a few words?") == "What's the letter's topic?"
    assert without_manner("Summarize this in one sentence, please.") == "Summarize this."
    assert without_manner("What is the short form?") == "What is the short form?"
    assert asks_topic("What are they writing about?")
    assert not asks_topic("What person is this form about?")


def test_form_rows_split_at_keys_pair_by_gaps_and_a_key_labels_only_what_is_under_it():
    # "84 mm" and "Total Cigt. Wt." stand closer than a word gap, but the second keys "974".
    row = (_line("Overall Cigarette Length", 40, 100, 250, 20), _line("84 mm", 340, 100, 50, 20),
           _line("Total Cigt. Wt.", 395, 100, 110, 20), _line("974", 550, 100, 30, 20))
    assert [cell.text for cell in read_cells(row)] == ["Overall Cigarette Length", "84 mm", "Total Cigt. Wt.", "974"]
    fields = {(f.key, f.value) for f in extract_fields(read_cells(row))}
    assert ("Overall Cigarette Length", "84 mm") in fields and ("Total Cigt. Wt.", "974") in fields
    # A name's parts stay one cell: nothing after them for the second part to key.
    name = (_line("Requested by", 40, 100, 120, 20), _line("R. S.", 180, 100, 45, 20), _line("Sprinkle, III", 228, 100, 100, 20))
    assert [cell.text for cell in read_cells(name)] == ["Requested by", "R. S. Sprinkle, III"]
    # Four cells in a row pair as their gaps say when the narrow gaps pair them all, else every
    # other one: a long value may stand as near the next key as its own key.
    row = (_line("Name", 40, 100, 60, 20), _line("Johnathan Smithers", 130, 100, 200, 20),
           _line("Title", 345, 100, 60, 20), _line("Chemist", 440, 100, 80, 20))
    pairs = {(f.key, f.value) for f in extract_fields(read_cells(row)) if f.source == "pair"}
    assert pairs == {("Name", "Johnathan Smithers"), ("Title", "Chemist")}
    # A label nearer its right neighbour than the cells either side keys it, whatever stands
    # around them: here a logo's last word first in the row.
    row = (_line("COMPANY", 100, 84, 80, 16), _line("LOCATION", 262, 80, 44, 14),
           _line("STAMFORD, CT", 324, 87, 94, 17), _line("AUTHORIZATION NO.", 482, 82, 78, 14))
    pairs = {(f.key, f.value) for f in extract_fields(read_cells(row)) if f.source == "pair"}
    assert pairs == {("LOCATION", "STAMFORD, CT")}
    # ... unless the cell after the two is a value, which would lose its key
    row = (_line("DIVISION", 40, 100, 80, 16), _line("MARKETING", 190, 100, 90, 16),
           _line("DATE", 295, 100, 50, 16), _line("5/1/90", 420, 100, 60, 16))
    pairs = {(f.key, f.value) for f in extract_fields(read_cells(row)) if f.source == "pair"}
    assert pairs == {("DIVISION", "MARKETING"), ("DATE", "5/1/90")}
    # A value that goes on after a comma is not cut where a label follows it.
    address = (_line("Address:", 40, 100, 90, 20), _line("12 Oak Street,", 140, 100, 120, 20),
               _line("Springfield IL", 265, 100, 120, 20), _line("62704", 390, 100, 60, 20))
    assert "12 Oak Street, Springfield IL 62704" in {f.value for f in extract_fields(read_cells(address))}
    # Two stack as a key over its value, when the value stands under the key, not across the page.
    pair = (_line("Market(s)/Zone(s)", 40, 156, 150, 20), _line("South Korea", 40, 178, 100, 20))
    assert ("Market(s)/Zone(s)", "South Korea") in {(f.key, f.value) for f in extract_fields(read_cells(pair)) if f.source == "below"}
    across = (_line("Additional Spray", 600, 156, 150, 20), _line("BLEND", 40, 180, 60, 20))
    assert not [f for f in extract_fields(read_cells(across)) if f.source == "below"]


def test_a_total_in_words_the_encoder_does_not_place_is_found_by_its_sum():
    from runtime.reader.answering import summed_total

    page = (_line("Müller & Söhne GmbH", 40, 40, 300), _line("Beratung 10 Std.", 40, 280), _line("1.037,39 €", 600, 280),
            _line("MwSt. 19 %", 40, 320), _line("197,11 €", 600, 320),
            _line("Gesamtbetrag:", 40, 400), _line("1.234,50 €", 600, 400))
    cells = read_cells(page)
    total = summed_total(extract_fields(cells), cells)
    assert total is not None and total.value == "1.234,50 €"
    # The encoder's meaning in a stand-in: the question is about the total, "Gesamtbetrag" near nothing.
    answerer = Answerer(_concepts(("total amount",)), lambda question, context, answers: [0.0] * len(answers))
    assert answerer.answer("What is the total amount?", page).text == "1.234,50 €"
    # Amounts that add up to none of them: no total to give.
    uneven = page[:-1] + (_line("1.300,00 €", 600, 400),)
    cells = read_cells(uneven)
    assert summed_total(extract_fields(cells), cells) is None
    # The key and the sum in one cell; a menu whose last price is the sum of two others is no bill.
    keyed = page[:-2] + (_line("Gesamtbetrag: 1.234,50 €", 360, 400, 440),)
    cells = read_cells(keyed)
    assert summed_total(extract_fields(cells), cells).value == "1.234,50 €"
    menu = (_line("Espresso", 40, 100), _line("2.00", 600, 100), _line("Latte", 40, 140), _line("3.00", 600, 140),
            _line("Tea", 40, 180), _line("1.50", 600, 180), _line("Brunch", 40, 220), _line("5.00", 600, 220))
    cells = read_cells(menu)
    assert summed_total(extract_fields(cells), cells) is None


def test_a_key_run_into_its_value_never_stops_short_of_its_colon():
    from runtime.reader.answering import _run_together

    lines = (_line("Invoice No: INV-55190", 40, 100, 300), _line("RE-339", 40, 150))
    fields = extract_fields(read_cells(lines))
    assert not _run_together(fields, "Which invoice is this?")  # not "Invoice" | "No: INV-55190"
    assert [(f.key, f.value) for f in _run_together(fields, "Re?")] == [("RE", "-339")]  # a sign, kept


def _stock_table():
    """A table of three rows under "Item | Qty | Unit price"."""
    return (_line("Item", 20, 140), _line("Qty", 300, 140, 60), _line("Unit price", 500, 140), *[
        cell for row, (item, qty) in enumerate([("Hammer", "2"), ("Saw", "1"), ("Drill", "3")])
        for cell in (_line(item, 20, 180 + 40 * row), _line(qty, 300, 180 + 40 * row, 60),
                     _line("9.50", 500, 180 + 40 * row, 60))])


def test_the_cell_under_a_column_title_answers_only_for_the_column_alone():
    # A table of several rows: the cell under "Qty" is the first row's, keyed "column"; a
    # question that names a row the table lacks ("tape measure") gets no row's value.
    table = (_line("Stock list", 20, 40), _line("Updated: 12/30/22", 20, 72), *_stock_table())
    fields = {(f.key, f.value, f.source) for f in extract_fields(table)}
    assert ("Qty", "2", "column") in fields and ("Saw Qty", "1", "table") in fields
    assert not {f for f in fields if f[0] == "Stock list" and f[2] != "line"}  # "Updated: ..." is a key of its own
    answerer = _answerer()
    assert answerer.answer("What is the qty of Saw?", table).text == "1"
    assert answerer.answer("Give me the qty of tape measure.", table).text == NOT_FOUND
    assert answerer.answer("Could you look up the unit price of extension cord?", table).text == NOT_FOUND
    assert answerer.answer("Qty?", table).text == "2"  # the column alone: its first value, as before


def test_a_when_clause_after_what_says_when_the_value_is_used_not_that_a_date_is_asked():
    assert question_type("Which code do I give when I call back?") == "id"
    assert question_type("What number should I ring when it breaks?") == "phone"
    assert question_type("What date do I write when I sign?") == "date"
    assert question_type("When was it paid?") == "date"
    assert question_type("What was delivered when?") == "date"  # "when" asked, no clause
    assert question_type("What is it and when was it paid?") == "date"  # two questions, the date the last
    assert question_type("Which year was it when I bought this?") == "date"  # nothing else asked: when
    assert question_type("Which invoice was it, when was it paid?") == "date"  # a second question


def test_a_key_over_a_value_that_holds_a_colon_below_the_heading():
    # only the page's heading labels no "Key: value" under it ("Stock list" over "Updated: ...")
    page = (_line("CORNER DELI", 20, 20), _line("Opening hours", 20, 100), _line("Mon-Fri: 8am-6pm", 20, 132))
    assert ("Opening hours", "Mon-Fri: 8am-6pm") in {(f.key, f.value) for f in extract_fields(page)}


def test_a_column_title_abbreviates_the_word_a_question_spells_out():
    table = _stock_table()
    assert _answerer().answer("What is the Qty?", table).text == "2"
    from runtime.reader.answering import _abbreviated

    assert _abbreviated("quantity", "Qty") and _abbreviated("amount", "Amt.") and not _abbreviated("quantity", "Unit price")
    # a table's cell answers a question that names its row, not one naming another row
    assert _answerer().answer("What is the unit price of the ladder?", table).text == NOT_FOUND


def test_a_pasted_page_is_typed_by_its_opening_only():
    assert question_type("What is the total? " + "way " * 5000) == "amount"


def test_a_key_cell_is_not_split_inside_a_word_or_before_a_second_key():
    # "Market(s) / Zone(s)" is one key of two names: neither "(s) / Zone(s)" nor "/ Zone(s)"
    # is the market's value
    from runtime.reader.answering import _prefixed, _rest_is_value, _run_together

    page = (_line("Brief", 20, 20), _line("Market(s) / Zone(s)", 20, 100, 240))
    fields = extract_fields(page)
    assert not _run_together(fields, "Which market is this for?")
    assert not _prefixed(fields, ["market"], "Which market is this for?")
    assert not _rest_is_value(["Name"], ["&", "Title"]) and _rest_is_value(["Client", "Group"], ["BATKorea"])
    assert _rest_is_value(["Phone"], ["+44", "20", "7946", "0958"])  # a plus that opens a number is its sign
    assert _rest_is_value(["Service", "Charge"], ["+", "5.00"]) and _rest_is_value(["REF"], ["/ABC123"])
    assert not _run_together(fields, "Which markets is this for?")  # nor the plural question's "(s"
    # a value in brackets right after its key is still one
    assert [f.value for f in _run_together(extract_fields((_line("Size(XL)", 20, 100),)), "Size?")] == ["(XL)"]
    assert _answerer().answer("Which market is this for?", page).text == NOT_FOUND


def test_fields_under_a_section_heading_are_keyed_with_it_too():
    # Two blocks side by side, each under its heading; a line of no "Key: value" ends a block.
    lines = (
        _line("Enrolment Sheet", 40, 20, width=300),
        _line("Student", 40, 100), _line("Guardian", 620, 100),
        _line("Name: Ines Duarte", 40, 150), _line("Name: Tomás Duarte", 620, 150),
        _line("Phone: 0612 44 81 20", 40, 200), _line("Phone: 0698 10 22 33", 620, 200),
        _line("Year: 2", 40, 250),
        _line("Bring this sheet on the first day", 40, 330, width=400),
        _line("Room: B12", 40, 380),
    )
    fields = {(f.key, f.value) for f in extract_fields(lines)}
    assert {("Student Name", "Ines Duarte"), ("Guardian Name", "Tomás Duarte"), ("Student Phone", "0612 44 81 20"),
            ("Guardian Phone", "0698 10 22 33"), ("Student Year", "2")} <= fields
    assert ("Phone", "0698 10 22 33") in fields  # the field as the page keys it stays
    assert ("Student", "Guardian") not in fields  # two headings side by side are no key and value
    assert not any(key.endswith("Room") and key != "Room" for key, _ in fields)  # past the end of the block
    assert not any(key.startswith("Enrolment Sheet ") for key, _ in fields)  # a title over no pairs heads nothing
    answer = _answerer().answer("What is the guardian's phone?", lines)
    assert answer.text == "0698 10 22 33"
    assert _answerer().answer("What is the student's phone?", lines).text == "0612 44 81 20"


def test_one_heading_over_pairs_is_a_title_not_a_section():
    # A receipt's "TAX INVOICE" over its own lines names no part of the page: no "TAX INVOICE Amount".
    lines = (_line("TAX INVOICE", 40, 20), _line("Amount: 50.00", 40, 70), _line("Date: 01/02/2024", 40, 120))
    assert {f.key for f in extract_fields(lines)} & {"TAX INVOICE Amount", "TAX INVOICE Date"} == set()
    assert _answerer().answer("What is the tax amount?", lines).text == NOT_FOUND
    # one pair under each of two headings makes no sections either
    pairs = (_line("Sender", 40, 20), _line("Guardian", 620, 20), _line("Name: A. Roy", 40, 70),
             _line("Name: B. Roy", 620, 70))
    assert not any(f.section >= 0 for f in extract_fields(pairs))


def test_a_line_across_the_column_ends_a_section():
    lines = (
        _line("Student", 40, 100), _line("Guardian", 620, 100),
        _line("Name: Ines Duarte", 40, 150), _line("Name: Tomás Duarte", 620, 150),
        _line("Phone: 0612 44 81 20", 40, 200), _line("Phone: 0698 10 22 33", 620, 200),
        _line("Office use only", 60, 250, width=900),
        _line("Room: B12", 40, 300), _line("Desk: 4", 40, 350),
    )
    keys = {f.key for f in extract_fields(lines)}
    assert "Student Phone" in keys and "Student Room" not in keys and "Student Desk" not in keys


def test_words_of_one_stem_match_a_key():
    from runtime.reader.answering import _kin

    assert _kin("related", ["relationship"]) and _kin("addressed", ["name", "address"])
    assert not _kin("contract", ["contact"]) and not _kin("paid", ["payment"]) and not _kin("state", ["statement"])
    for word, other in [("employee", "employer"), ("employer", "employed"), ("employee", "employed"),
                        ("policy", "police"), ("count", "county"), ("person", "personal"), ("company", "companion"),
                        ("origin", "original"), ("warranty", "warrant"), ("consignee", "consigned")]:
        assert not _kin(word, [other]), (word, other)
    assert not _kin("phone", ["phone"])  # the same word is matched as such


def test_a_heading_word_names_its_section_and_how_old_asks_an_age():
    lines = (
        _line("Camper", 40, 100), _line("Parent or guardian", 620, 100, width=300),
        _line("Name: Lea Roy", 40, 150), _line("Name: Claire Roy", 620, 150),
        _line("Age: 11", 40, 200), _line("Email: claire@example.org", 620, 200, width=300),
    )
    assert "age" in question_words("How old is the applicant?")[0]
    answerer = _answerer()
    assert answerer.answer("How old is the camper?", lines).text == "11"
    assert answerer.answer("What is the guardian's email?", lines).text == "claire@example.org"
    assert answerer.answer("How old is the guardian?", lines).text == NOT_FOUND  # the camper's age is not theirs


def test_a_directory_of_names_and_phones_answers_by_name_and_by_number():
    people = [("Dr. Amelia Stone", "(555) 201-3344"), ("Carlos Medina", "(555) 201-7781"),
              ("Fatima Al-Sayed", "(555) 201-6652"), ("Reception", "(555) 201-1000")]
    page = (_line("Staff Directory", 60, 40, 400), _line("Name", 60, 120, 90), _line("Phone", 560, 120, 100),
            *[cell for row, (name, phone) in enumerate(people)
              for cell in (_line(name, 60, 175 + 55 * row, 220), _line(phone, 560, 175 + 55 * row, 205))])
    answerer = _answerer()
    # "number" on a list of phones is a phone number, and a part of the name names its row
    assert answerer.answer("What is Dr. Stone's number?", page).text == "(555) 201-3344"
    assert answerer.answer("What is the reception number?", page).text == "(555) 201-1000"
    assert answerer.answer("What is Carlos Medina's phone number?", page).text == "(555) 201-7781"
    # a number quoted in full names its row
    assert answerer.answer("Whose number is (555) 201-6652?", page).text == "Fatima Al-Sayed"
    assert answerer.answer("What's Fatima Al-Sayed's number?", page).text == "(555) 201-6652"  # a hyphenated name
    assert answerer.answer("What is John Smith's number?", page).text == NOT_FOUND


def test_a_table_under_the_page_fields_keeps_its_header():
    """A header row of titles opens a table under a page's key-value rows, whose values stand
    in the same columns: "Reference Range" is its column's title, not a value."""
    tests = [("Hemoglobin", "11.2", "g/dL", "12.0 - 15.5"), ("Glucose, fasting", "126", "mg/dL", "70 - 99"),
             ("Potassium", "4.1", "mmol/L", "3.5 - 5.1")]
    page = (_line("Patient:", 60, 155, 95), _line("Margaret Ellison", 227, 155, 175), _line("DOB:", 657, 155, 67),
            _line("07/22/1961", 827, 155, 125),
            _line("Collected:", 60, 198, 120), _line("02/11/2025 08:15", 226, 198, 190), _line("Physician:", 659, 198, 125),
            _line("Dr. Samuel Okafor", 828, 198, 197), _line("Specimen ID: LAB-7734-221", 60, 238, 326),
            _line("Test", 56, 316, 62), _line("Result", 417, 316, 83), _line("Unit", 637, 316, 56),
            _line("Reference Range", 819, 316, 203),
            *[cell for row, values in enumerate(tests)
              for cell, x in zip(values, (56, 417, 637, 819)) for cell in (_line(cell, x, 366 + 42 * row, 150),)])
    answerer = _answerer()
    assert answerer.answer("What is the glucose result?", page).text == "126"
    assert answerer.answer("What is the reference range for glucose?", page).text == "70 - 99"
    assert answerer.answer("What unit is potassium measured in?", page).text == "mmol/L"
    # a date with its time is a date; a key that abbreviates the question's words names it
    assert answerer.answer("When was the specimen collected?", page).text == "02/11/2025 08:15"
    assert answerer.answer("What is the patient's date of birth?", page).text == "07/22/1961"


def test_an_e_mail_header_answers_who_sent_it_and_the_addresses():
    mail = (_line("From:", 57, 110, 84), _line("Lena Vogt <lena.vogt@brightcargo.de>", 198, 110, 480),
            _line("Sent:", 57, 152, 80), _line("Thursday, 14 November 2024 09:42", 198, 152, 440),
            _line("To:", 57, 194, 46), _line("Marcus Hale <m.hale@tidewater-outfitters.com>", 198, 194, 590),
            _line("Cc:", 57, 236, 48), _line("logistics@brightcargo.de", 198, 236, 300),
            _line("Subject: Shipment delayed", 59, 278, 400), _line("Hi Marcus,", 58, 360, 130),
            _line("Your order was held at customs in Rotterdam.", 60, 438, 600),
            _line("Best regards,", 59, 665, 160), _line("Lena Vogt", 57, 701, 126))
    answerer = _answerer()
    assert answerer.answer("Who sent this?", mail).text == "Lena Vogt"  # not the date keyed "Sent"
    assert answerer.answer("Who wrote this email?", mail).text == "Lena Vogt"
    assert answerer.answer("When was this email sent?", mail).text == "14 November 2024"
    assert answerer.answer("Who is the email to?", mail).text == "Marcus"  # the greeting
    # a header's mailbox answers through its key or its name, never as the page's first address
    assert answerer.answer("What is the recipient's email address?", mail).text != "lena.vogt@brightcargo.de"
    assert answerer.answer("Who is this email addressed to?", mail).text in ("Marcus", "Marcus Hale")
    assert answerer.answer("Who wrote the email?", mail).text == "Lena Vogt"
    assert answerer.answer("What is Marcus Hale's email address?", mail).text == "m.hale@tidewater-outfitters.com"


def test_types_of_a_moment_and_of_a_mailbox():
    assert {"date", "time"} <= value_types("02/11/2025 08:15") and {"date", "time"} <= value_types("14:39 MAR-24-1999")
    assert "date" not in value_types("Room 12 08:15")
    assert {"email", "person"} <= value_types("Lena Vogt <lena.vogt@example.de>")
    assert question_type("Who wrote this email?") == "person" and question_type("When was this email sent?") == "date"
    assert question_type("What is the email of the sender?") == "email"


def test_values_said_in_the_page_prose():
    """A value no key names, in a line that says every word the question asks about: the
    one value of the type asked there."""
    letter = (_line("Our ref: HF/2291/PR", 90, 470, 220),
              _line("Our revised fee for the detailed design stage is GBP 18,400 excluding VAT, payable", 90, 820, 900),
              _line("Unfortunately the container with your order #A-55812 (48 cartons) was held", 90, 860, 900))
    answerer = _answerer()
    assert answerer.answer("How much is the revised fee?", letter).text == "GBP 18,400"
    assert answerer.answer("What is the order number?", letter).text == "#A-55812"
    assert answerer.answer("How many cartons are in the order?", letter).text == "48"
    assert answerer.answer("How much is the storage fee?", letter).text == NOT_FOUND
    # one clause says it all, as written, without a negation
    prose = (_line("Full-time staff get 25 days of annual leave; part-time staff get a pro-rata share.", 20, 140, 900),
             _line("Thank you for your feedback on our GBP 500 starter package.", 20, 180, 900),
             _line("Of the 48 cartons shipped, none were damaged.", 20, 220, 900),
             _line("We shipped 12 boxes, but 4 boxes were returned damaged.", 20, 260, 900))
    assert answerer.answer("How many days of annual leave do part-time staff get?", prose).text == NOT_FOUND
    assert answerer.answer("How much is the fee?", prose).text == NOT_FOUND  # not "feedback"
    assert answerer.answer("How many cartons were damaged?", prose).text == NOT_FOUND
    assert answerer.answer("How many boxes were returned?", prose).text == "4"
    # a column "ISS" issued nothing
    table = (_line("GARDENIA BAKERIES (KL) SDN BHD", 40, 70, 430), _line("DESCRIPTION", 20, 490, 125), _line("ISS", 225, 490, 32),
             _line("EXC", 270, 490, 38), _line("AMT(RM)", 420, 490, 86),
             _line("O.C. WHITE", 20, 530, 100), _line("10", 238, 530, 26), _line("1", 296, 530, 14), _line("19.17", 448, 530, 55))
    keyed = answerer._labelled("Which business issued this receipt?", extract_fields(read_cells(table)))
    assert not [f.key for f, _ in keyed if "ISS" in f.key], keyed
    assert answerer.answer("Which business issued this receipt?", table).text != "EXC"


def test_rules_from_a_review_of_prose_headers_and_directories():
    answerer = _answerer()
    # "number" asks the phone only where nothing else is asked of the row
    page = (_line("STAFF DIRECTORY", 20, 10, 300), _line("Name", 20, 60), _line("Room", 300, 60, 100), _line("Phone", 450, 60, 200),
            _line("Dr. Stone", 20, 100), _line("B12", 300, 100, 100), _line("(555) 201-6652", 450, 100, 200),
            _line("Dr. Patel", 20, 140), _line("C3", 300, 140, 100), _line("(555) 201-6690", 450, 140, 200))
    assert answerer.answer("What is Dr. Stone's pager number?", page).text != "(555) 201-6652"
    # a quoted phone names its row for "who", not for another column
    assert answerer.answer("What is the extension for (555) 201-6652?", page).text != "Dr. Stone"
    # "Hello and welcome ..." greets nobody; a title row of "Date | 12/03/2024" ends no letterhead
    shop = (_line("QUICK MART", 20, 10, 250), _line("Hello and welcome to Quick Mart", 20, 60, 400),
            _line("Total", 20, 120), _line("6.00", 400, 120, 80))
    assert answerer.answer("Who is the receipt addressed to?", shop).text == NOT_FOUND
    dated = (_line("Date", 500, 10, 60), _line("12/03/2024", 600, 10, 130), _line("NORTHWIND TRADERS LTD", 20, 60, 330),
             _line("12 High Street, Leeds LS1 4AB", 20, 100, 360), _line("Invoice No: 5512", 20, 180, 250),
             _line("Total: 120.00", 20, 220, 200))
    assert answerer.answer("Which company issued the invoice?", dated).text == "NORTHWIND TRADERS LTD"


def test_the_sentences_before_a_request_that_only_say_why_are_left_out():
    from runtime.reader.intents import asked_sentence

    assert asked_sentence("I'm paying bills today. Which supplier is this invoice from?") == "Which supplier is this invoice from?"
    assert asked_sentence("The courier is asking. What street is the delivery going to?") == "What street is the delivery going to?"
    assert asked_sentence("I'm in a hurry. Give me the total.") == "Give me the total."
    # what follows the asking sentence narrows it and stays
    assert asked_sentence("Where is this shop? Just the street.") == "Where is this shop? Just the street."
    assert asked_sentence("I moved. Where is this shop? Just the street.") == "Where is this shop? Just the street."
    # a stop inside an abbreviation ends no sentence
    for request in ("What is Dr. Stone's number?", "Net Tob. Rod Density?", "What is the acct. no?",
                    "What is the current bal. available?", "We shopped at the Co. Op. What did we pay?"):
        assert asked_sentence(request) == request
    # a pronoun pointing back at an earlier sentence, two asking sentences, one sentence: whole
    assert asked_sentence("I bought milk. What did it cost?") == "I bought milk. What did it cost?"
    assert asked_sentence("What's the total? And who signed?") == "What's the total? And who signed?"
    assert asked_sentence("Give me the total. I need it for my taxes.") == "Give me the total. I need it for my taxes."
    assert asked_sentence("Which supplier is this from?") == "Which supplier is this from?"



def test_clumsy_and_wordy_wordings_ask_what_the_plain_ones_ask():
    from runtime.reader import answering, vocabulary
    from runtime.reader.intents import asks_topic, without_manner
    from runtime.reader.types import AMOUNT, COUNT, PERSON, TEXT, question_type

    # "how much" before a counted noun or of things that are no money counts
    assert question_type("How much pieces of Data migration are on this invoice?") == COUNT
    assert question_type("How much of cable ties there is in the stock list?") == COUNT
    for question in ("How much of the bill was tax?", "How much of what I paid went to the government?",
                     "How much is the hammer?"):
        assert question_type(question) == AMOUNT, question
    # "To who ..." and "the person this letter is for" ask whom the page is for
    assert question_type("To who this letter was written?") == PERSON
    assert answering._TO_WHOM.search("To who this letter was written?")
    assert answering._TO_WHOM.search("Tell me the name of the person this letter is for.")
    assert not answering._TO_WHOM.search("Tell me the name of the person who signed.")
    # paid with what is an instrument; a list of examples after a comma is no field
    assert question_type("With what did the customer pay?") == TEXT
    assert without_manner("With what the customer paid, cash or card or what?") == "With what the customer paid?"
    assert without_manner("How did you pay, cash or card?") == "How did you pay, cash or card?"
    # a date to pay until is a deadline; an amount before the tax is put on excludes the tax
    assert answering._DEADLINE.search("Until which date I must pay this?")
    assert answering._EXCLUDED.search("How much it was before they put the tax on?")["part"] == "tax"
    assert vocabulary.question_words("How much it was before they put the tax on?")[0] == []
    # "off this receipt" names the page, not a field; "the Re line of this letter" its subject
    assert vocabulary.question_words("Read me the subtotal off this receipt, please.")[0] == ["subtotal"]
    assert asks_topic("Give me the Re line of this letter.")


def test_review_cases_of_the_wordy_rules_keep_their_old_answers():
    from runtime.reader.document import extract_fields
    from runtime.reader.intents import asked_sentence, without_manner
    from runtime.reader.types import AMOUNT, COUNT, question_type

    # choices keep their alternatives; only an open question's examples go
    assert without_manner("Was this paid in cash, card or other?") == "Was this paid in cash, card or other?"
    assert without_manner("Is the gender marked male, female or other?") == "Is the gender marked male, female or other?"
    # "how much of" money is an amount
    for question in ("How much of the deposit was refunded?", "How much of the rent is due?",
                     "How much of the loan was repaid?", "How much of the funds were spent?"):
        assert question_type(question) == AMOUNT, question
    assert question_type("How much of the bolts are left?") == COUNT
    # the request stays whole where its asking sentence points back or is an order after a request
    for request in ("Invoice number please. Look at the top right.", "Total amount due. Read carefully.",
                    "I ordered the lasagne. How much was that?", "Our supplier is Acme. What is their phone number?",
                    "The form has a box labelled occupation. What is written there?"):
        assert asked_sentence(request) == request, request
    # a time before a key leaves the key; initials and codes with a slash end no value
    lines = (_line("12/03/2024 14:52 Cashier: Anna", 20, 10, width=600),
             _line("Patient: A.B. Smith DOB: 01/02/1980", 20, 110, width=600),
             _line("Model: S/N unknown Colour: red", 20, 210, width=600))
    pairs = {(f.key, f.value) for f in extract_fields(lines) if f.source == "colon"}
    assert ("Cashier", "Anna") in pairs
    assert ("Patient", "A.B. Smith DOB: 01/02/1980") in pairs and ("Model", "S/N unknown Colour: red") in pairs


def test_a_row_of_labels_beside_another_block_still_keys_the_row_under_it():
    from runtime.reader.document import extract_fields

    # a boarding pass: "Date | Departure | Boarding Time | Gate" over their values, the stub's
    # date far right on the labels' line
    page = (_line("Date", 40, 280, 60), _line("Departure", 260, 280, 100), _line("Boarding Time", 460, 280, 130),
            _line("Gate", 700, 280, 50), _line("14MAR25", 970, 285, 90),
            _line("14MAR25", 40, 307, 90), _line("09:45", 260, 305, 60), _line("09:10", 460, 307, 60),
            _line("B17", 700, 307, 40))
    below = {(f.key, f.value) for f in extract_fields(page) if f.source == "below"}
    assert {("Gate", "B17"), ("Boarding Time", "09:10"), ("Departure", "09:45")} <= below
    # the last cell of a row, a key, over its value
    statement = (_line("Total debits:", 60, 830, 140), _line("€2,313.77", 300, 830, 100),
                 _line("Closing balance (28 Feb 2025):", 700, 830, 300), _line("€5,114.50", 700, 870, 100))
    assert ("Closing balance (28 Feb 2025)", "€5,114.50") in {(f.key, f.value) for f in extract_fields(statement)}


def test_amounts_and_counts_of_rows_the_question_does_not_name_are_not_found():
    # A review's cases against a rule tried and taken back in session 33 (2f70c39): an amount
    # of another block on the same line, a footer's figure and digits inside amounts name no
    # line; a row's bare quantity is its count, not a unit column beside it.
    reader = _answerer()
    two_blocks = (_line("Delivery address: 12 Oak St", 20, 100, 300), _line("Subtotal", 500, 100, 100),
                  _line("18.50", 700, 100, 80), _line("Tax", 500, 140, 100), _line("1.50", 700, 140, 80),
                  _line("Total", 500, 180, 100), _line("20.00", 700, 180, 80),
                  _line("Free delivery on orders over", 20, 220, 300), _line("$50.00", 400, 220, 80))
    for question in ("How much was the delivery?", "What did delivery cost?"):
        assert reader.answer(question, two_blocks).text not in ("18.50", "$50.00", "1.50"), question
    statement = (_line("02 Feb", 60, 440, 80), _line("Salary - Brightwave GmbH", 200, 440, 300),
                 _line("€3,150.00", 900, 440, 100), _line("€7,368.37", 1060, 440, 100),
                 _line("07 Feb", 60, 480, 80), _line("Card payment - REWE Markt", 200, 480, 300),
                 _line("€86.42", 790, 480, 80), _line("€6,006.95", 1060, 480, 100))
    assert reader.answer("How much was the salary payment on 7 Feb?", statement).text != "€3,150.00"
    items = (_line("Qty", 20, 10, 60), _line("Description", 120, 10), _line("Delivery", 400, 10, 100), _line("Amount", 600, 10, 100),
             _line("4", 20, 50, 30), _line("Muffin", 120, 50), _line("2 days", 400, 50, 100), _line("59.40", 600, 50, 100),
             _line("2", 20, 90, 30), _line("Bagel", 120, 90), _line("1 day", 400, 90, 100), _line("7.00", 600, 90, 100))
    assert reader.answer("How many bagels?", items).text != "1 day"


def _statement():
    # a bank statement's list: date | description | debit or credit | balance
    rows = [("02 Feb", "Salary - Brightwave GmbH", None, "€3,150.00", "€7,368.37"),
            ("04 Feb", "Rent transfer - Hausverwaltung Koch", "€1,275.00", None, "€6,093.37"),
            ("07 Feb", "Card payment - REWE Markt", "€86.42", None, "€6,006.95"),
            ("11 Feb", "Direct debit - Stadtwerke Energy", "€112.80", None, "€5,894.15")]
    lines = [_line("Alpenland Savings Bank", 60, 30, 280, 44), _line("Account Statement", 820, 40, 260, 40),
             _line("Account holder:", 60, 150, 160), _line("José Müller", 290, 150, 130),
             _line("Statement period: 01 Feb 2025 - 28 Feb 2025", 700, 150, 420),
             _line("Account number:", 60, 226, 160), _line("DE44 5001 0517 5407324931", 290, 226, 300),
             _line("Statement no.:", 700, 226, 150), _line("2025/02", 920, 226, 90),
             _line("Date", 60, 400, 80), _line("Description", 200, 400), _line("Debit", 770, 400, 100),
             _line("Credit", 920, 400, 100), _line("Balance", 1060, 400, 100)]
    for number, (day, what, debit, credit, balance) in enumerate(rows):
        y = 440 + 40 * number
        lines += [_line(day, 60, y, 80), _line(what, 200, y, 420), _line(balance, 1060, y, 100)]
        lines.append(_line(debit, 770, y, 100) if debit else _line(credit, 920, y, 100))
    lines += [_line("Total credits:", 60, 700, 160), _line("€3,150.00", 300, 700, 100),
              _line("Total debits:", 60, 740, 160), _line("€1,474.22", 300, 740, 100)]
    return tuple(lines)


def test_an_amount_asked_of_one_line_of_a_list_is_that_lines_not_the_total():
    reader, statement = _answerer(), _statement()
    assert reader.answer("How much did I spend at REWE?", statement).text == "€86.42"
    assert reader.answer("What did I pay Stadtwerke?", statement).text == "€112.80"
    assert reader.answer("How much was the salary payment on 2 Feb?", statement).text == "€3,150.00"
    # the line a question names with a day it does not have: neither its amount nor the total
    assert reader.answer("How much was the salary payment on 7 Feb?", statement).text == "Not found in the image."
    # a line that lacks a word of the question is not the one asked about; the totals stay theirs
    assert reader.answer("What were the total debits?", statement).text == "€1,474.22"
    # a title row over key-value rows is no table's header ("Account holder:" | "Account Statement")
    assert reader.answer("What is the statement number?", statement).text == "2025/02"
    assert reader.answer("What is the account number?", statement).text == "DE44 5001 0517 5407324931"


def _packing_list():
    # a detector that read "Item" and "Part no." as one box; numbers set flush right past
    # their titles' ends; the quantity joined to its unit ("8 pcs")
    lines = [_line("Item Part no.", 60, 370, 170), _line("Description", 300, 370, 150), _line("Qty Unit", 730, 370, 130),
             _line("Net kg", 920, 370, 70), _line("Gross kg", 1070, 370, 90)]
    rows = [("KP-4410", "Linear guide rail 1200 mm", "24 pcs", "86.4", "92.0"),
            ("KP-2231", "Ball screw assembly", "12 pcs", "54.0", "59.5"),
            ("KP-0907", "Servo motor 750 W", "8 pcs", "41.6", "46.8"),
            ("KP-1188", "Coupling, flexible", "40 pcs", "9.2", "11.0")]
    for number, (part, what, qty, net, gross) in enumerate(rows):
        y = 420 + 44 * number
        lines += [_line(str(number + 1), 60, y, 15), _line(part, 135, y, 90), _line(what, 300, y, 330),
                  _line(qty, 780, y, 80), _line(net, 1016, y, 45), _line(gross, 1166, y, 45)]
    return tuple(lines)


def test_a_tables_cells_stand_under_the_titles_they_line_up_with():
    fields = {(f.key, f.value) for f in extract_fields(_packing_list()) if f.source == "table"}
    assert ("Ball screw assembly Net kg", "54.0") in fields  # not under "Gross kg", nearer its left edge
    assert ("Ball screw assembly Gross kg", "59.5") in fields
    assert ("Servo motor 750 W Item Part no.", "KP-0907") in fields


def test_a_tables_cell_named_by_some_words_of_its_row_and_its_title():
    reader, table = _answerer(), _packing_list()
    assert reader.answer("What's the net weight of the ball screw assemblies?", table).text == "54.0"
    assert reader.answer("What is the gross weight of the couplings?", table).text == "11.0"
    assert reader.answer("What is the part number of the servo motor?", table).text == "KP-0907"
    # a count of pieces; the column numbering the rows counts nothing
    assert reader.answer("How many servo motors are there?", table).text == "8 pcs"
    assert reader.answer("How many flexible couplings were shipped?", table).text == "40 pcs"


def test_a_review_of_rows_and_tables():
    # a review's cases against the first version of the rules above (2c16017)
    reader = _answerer()
    dated = (_line("Date", 20, 150, 100), _line("Description", 180, 150), _line("Debit", 500, 150, 80),
             _line("Credit", 620, 150, 80), _line("Balance", 750, 150, 100),
             _line("02/03/2025", 20, 190, 120), _line("Salary", 180, 190), _line("3,100.00", 620, 190, 90), _line("4,100.00", 750, 190, 100),
             _line("04/03/2025", 20, 230, 120), _line("Tesco Stores", 180, 230), _line("45.20", 500, 230, 80), _line("4,054.80", 750, 230, 100),
             _line("06/03/2025", 20, 270, 120), _line("Netflix", 180, 270), _line("9.99", 500, 270, 80), _line("4,044.81", 750, 270, 100))
    # a date names its row
    assert reader.answer("How much was debited on 06/03/2025?", dated).text == "9.99"
    assert reader.answer("What was the credit on 02/03/2025?", dated).text == "3,100.00"
    # a key's count is not a row's that shares a word with the question
    hotel = (_line("Guests: 2", 20, 60, 150), _line("Nights: 3", 400, 60, 150),
             _line("Description", 20, 120), _line("Qty", 350, 120, 60), _line("Amount", 500, 120, 100),
             _line("Room night", 20, 160), _line("3", 360, 160, 20), _line("360.00", 500, 160, 90),
             _line("Guest laundry", 20, 200), _line("4", 360, 200, 20), _line("24.00", 500, 200, 90),
             _line("Breakfast", 20, 240), _line("6", 360, 240, 20), _line("90.00", 500, 240, 90))
    assert reader.answer("How many guests?", hotel).text == "2"
    # a quantity column that happens to read 1, 2, 3 still counts
    packs = (_line("Item", 20, 110, 150), _line("Pack", 250, 110, 80), _line("Qty", 400, 110, 50), _line("Price", 520, 110, 100),
             _line("Muffins", 20, 150, 150), _line("6 pcs", 250, 150, 80), _line("1", 410, 150, 20), _line("8.00", 520, 150, 80),
             _line("Bagels", 20, 190, 150), _line("4 pcs", 250, 190, 80), _line("2", 410, 190, 20), _line("9.00", 520, 190, 80),
             _line("Donuts", 20, 230, 150), _line("12 pcs", 250, 230, 80), _line("3", 410, 230, 20), _line("30.00", 520, 230, 80))
    assert reader.answer("How many bagels did I buy?", packs).text == "2"
    first = (_line("Qty", 20, 110, 50), _line("Description", 100, 110, 200), _line("Amount", 500, 110, 100),
             _line("1", 25, 150, 20), _line("Latte", 100, 150, 120), _line("3.50", 500, 150, 80),
             _line("2", 25, 190, 20), _line("Muffin", 100, 190, 120), _line("6.40", 500, 190, 80),
             _line("3", 25, 230, 20), _line("Cookie", 100, 230, 120), _line("4.50", 500, 230, 80))
    assert reader.answer("How many muffins did I buy?", first).text == "2"  # no other column counts them
    # a day and month name their row, as a full date does
    days = (_line("Date", 20, 120, 80), _line("Day", 130, 120, 80), _line("Start", 260, 120, 80), _line("End", 380, 120, 80),
            _line("10/03", 20, 160, 80), _line("Mon", 130, 160, 60), _line("09:00", 260, 160, 80), _line("17:00", 380, 160, 80),
            _line("11/03", 20, 200, 80), _line("Tue", 130, 200, 60), _line("08:30", 260, 200, 80), _line("17:30", 380, 200, 80),
            _line("12/03", 20, 240, 80), _line("Wed", 130, 240, 60), _line("09:00", 260, 240, 80), _line("19:00", 380, 240, 80))
    assert "11/03 Start" in {f.key for f in extract_fields(days)}
    # a row of keys with their values is no header over the table below it
    order = (_line("Order No: PO-5531", 20, 60, 250), _line("Supplier: Lumen Ltd", 400, 60, 250),
             _line("Item", 20, 120), _line("Qty", 350, 120, 60), _line("Price", 500, 120, 100),
             _line("Desk lamp", 20, 160), _line("12", 355, 160, 30), _line("30.00", 500, 160, 90),
             _line("Office chair", 20, 200), _line("4", 360, 200, 20), _line("120.00", 500, 200, 90),
             _line("Monitor arm", 20, 240), _line("6", 360, 240, 20), _line("45.00", 500, 240, 90))
    assert reader.answer("What is the order number for the desk lamp?", order).text != "12"
    # values set flush left just before centred titles
    centred = (_line("Description", 80, 150, 140), _line("Qty", 330, 150, 40), _line("Unit price", 480, 150, 110),
               _line("Amount", 650, 150, 90),
               _line("Paper cups", 20, 190, 150), _line("500", 300, 190, 40), _line("0.08", 430, 190, 45), _line("40.00", 620, 190, 60),
               _line("Napkins", 20, 230, 150), _line("1000", 300, 230, 50), _line("0.02", 430, 230, 45), _line("20.00", 620, 230, 60),
               _line("Filters", 20, 270, 150), _line("12", 300, 270, 25), _line("1.50", 430, 270, 45), _line("18.00", 620, 270, 60))
    fields = {(f.key, f.value) for f in extract_fields(centred) if f.source == "table"}
    assert ("Paper cups Unit price", "0.08") in fields and ("Paper cups Qty", "500") in fields
    assert ("Filters Qty", "12") in fields
    # digits that are no ASCII number ("¹", "②") are words, not a crash
    marked = (_line("Item", 20, 110, 150), _line("Qty", 400, 110, 50), _line("Price", 520, 110, 100),
              _line("Coffee ¹", 20, 150, 150), _line("²", 410, 150, 20), _line("8.50", 520, 150, 80),
              _line("Cake", 20, 190, 150), _line("1", 410, 190, 20), _line("4.00", 520, 190, 80),
              _line("Tea", 20, 230, 150), _line("2", 410, 230, 20), _line("3.00", 520, 230, 80))
    for question in ("How much did I spend on cake?", "How many offices?", "How many teas?"):
        reader.answer(question, marked)


def _answerer_with(synonyms: dict[str, str]):
    """An Answerer whose embedder puts each word of `synonyms` where it puts its partner (a
    sentence encoder that joins them) and knows no other meaning."""
    def embed(texts):
        return _unrelated([synonyms.get(text, text) for text in texts])
    return Answerer(embed, lambda question, context, answers: [0.0] * len(answers))


def test_terse_requests_spell_out_shorthand_from_the_page():
    # (session 35: the ninth pool's search-box fragments, abbreviations and trade words)
    from runtime.reader.vocabulary import spell_out

    english = frozenset("what is the amount subject address adjustment total due date ref".split())
    assert spell_out("Server rack amt?", {"Amount", "Qty"}, english) == "Server rack amount?"
    assert spell_out("subj?", {"Subject", "Tel"}, english) == "subject?"
    assert spell_out("amt?", {"Amount", "Adjustment"}, english) == "amt?"  # two key words fit: left
    assert spell_out("amt?", {"Amount"}) == "amt?"  # no word list: nothing is known to be no word
    assert spell_out("ref?", {"Reference"}, english) == "ref?"  # an English word of its own
    assert spell_out("inv no", {"Invoice No"}, english) == "inv no"  # "invoice": a word the vocabulary lacks
    # a typo or a tax's initials spell no key word out ("teh" is no "telephone", "gst" no "guest")
    english |= {"telephone", "guest", "validity", "host"}
    assert spell_out("whats teh total", {"Telephone", "Total"}, english) == "whats teh total"
    assert spell_out("gst amount", {"Guest Name", "Amount"}, english) == "gst amount"
    assert spell_out("vat?", {"Validity"}, english) == "vat?" and spell_out("hst", {"Host"}, english) == "hst"
    reader = _answerer()
    invoice = (_line("Description", 20, 100), _line("Qty", 300, 100, 60), _line("Amount", 450, 100, 100),
               _line("Server rack", 20, 140), _line("6", 310, 140, 20), _line("2,370.72", 450, 140, 100),
               _line("Printer toner", 20, 180), _line("4", 310, 180, 20), _line("393.24", 450, 180, 100),
               _line("Office chairs", 20, 220), _line("2", 310, 220, 20), _line("627.60", 450, 220, 100))
    assert Answerer(_unrelated, lambda q, c, a: [0.0] * len(a), words=frozenset(
        "server rack amount qty description printer toner office chairs".split())).answer(
        "Server rack amt?", invoice).text == "2,370.72"
    assert reader.answer("Server rack amount?", invoice).text == "2,370.72"


def test_terse_requests_general_cues():
    from runtime.reader.answering import _INCLUDED
    from runtime.reader.intents import ASKS_AMOUNT

    # a noun "sum", a figure that is no illustration: a number asked, never a description
    assert ASKS_AMOUNT.search("sum in the letter") and ASKS_AMOUNT.search("bottom-line figure")
    assert not ASKS_AMOUNT.search("sum it up") and not ASKS_AMOUNT.search("Sum up the letter.")
    assert not ASKS_AMOUNT.search("What does Figure 3 show?") and not ASKS_AMOUNT.search("Summarize this")
    # a part said to be in the total
    for asked in ("invoice total incl. tax", "total with VAT", "the amount including tax"):
        assert not re.search(r"\b(tax|vat)\b", _INCLUDED.sub(" ", asked), re.I), asked
    assert _INCLUDED.sub(" ", "tax?") == "tax?" and _INCLUDED.sub(" ", "how much VAT") == "how much VAT"
    assert _INCLUDED.sub(" ", "the VAT included in the total") == "the VAT included in the total"  # the part asked
    assert question_type("net payable") == "amount"
    assert question_type("What name should cheques be made payable to?") != "amount"
    assert question_type("accounts payable contact name?") != "amount"
    assert question_type("policy # of Peter Lang?") != "count"
    # (a review's cases) reading or summing up a page's figures is no question for one number
    assert not ASKS_AMOUNT.search("Can you read the figures?") and not ASKS_AMOUNT.search("In sum, what is it about?")
    assert ASKS_AMOUNT.search("what figure should I claim")
    assert question_type("extension cord in stock?") == "count" and question_type("stock level for hammer") == "count"
    assert question_type("stock code of the hammer") == "id"
    assert question_type("which client is invoiced") == "person" and question_type("consignee") == "person"
    reader = _answerer()
    invoice = (_line("Invoice No: INV-18291", 500, 40, 300), _line("Date: 2024-04-07", 500, 80, 300),
               _line("Due date: 2024-05-07", 500, 120, 300), _line("Bill to:", 20, 200, 100), _line("Victor Costa", 20, 240))
    assert reader.answer("pay-by date", invoice).text == "2024-05-07"
    receipt = (_line("Corner Cafe", 20, 20), _line("Date: 2024-03-02", 20, 60), _line("TOTAL 12.40", 20, 100))
    assert reader.answer("pay-by date", receipt).text == NOT_FOUND  # not the receipt's date
    stock = (_line("Item", 20, 100), _line("Code", 250, 100, 100), _line("Qty", 400, 100, 60), _line("Price", 520, 100, 80),
             _line("Extension cord", 20, 140), _line("SKU-4074", 250, 140, 100), _line("133", 400, 140, 40), _line("29.40", 520, 140, 80),
             _line("Hammer", 20, 180), _line("A-2323", 250, 180, 100), _line("220", 400, 180, 40), _line("45.19", 520, 180, 80),
             _line("Wall plugs", 20, 220), _line("P4936", 250, 220, 100), _line("154", 400, 220, 40), _line("38.40", 520, 220, 80))
    # a code quoted is not its own answer; without a question word it names no row (a form's
    # "Policy No: HM-550912" row would answer with its key)
    assert reader.answer("product for code A-2323", stock).text != "A-2323"
    assert reader.answer("which product has code A-2323?", stock).text == "Hammer"
    form = (_line("Policy No:", 20, 60, 150), _line("HM-550912", 260, 60, 250), _line("Coverage:", 20, 100, 150),
            _line("Comprehensive", 260, 100, 250), _line("Premium:", 20, 140, 150), _line("$820.00", 260, 140, 250))
    assert reader.answer("HM-550912 coverage?", form).text != "Policy No:"
    assert reader.answer("extension cord in stock?", stock).text == "133"


def test_a_table_cell_key_is_no_item_name():
    # "pre-tax amount" over a receipt whose table keys "Tax Amount": the amount before tax, not the
    # first line's (the key had been taken for an item's name and cut out of the question)
    from runtime.reader.answering import TOTAL_KEY

    reader = _answerer_with({"TOTAL": TOTAL_KEY, "total": TOTAL_KEY})
    receipt = (_line("Item", 20, 100), _line("Qty", 300, 100, 60), _line("Amount", 450, 100, 100),
               _line("Sandwich", 20, 140), _line("3", 310, 140, 20), _line("56.73", 450, 140, 100),
               _line("Hand soap", 20, 180), _line("2", 310, 180, 20), _line("26.88", 450, 180, 100),
               _line("Subtotal", 20, 240), _line("83.61", 450, 240, 100),
               _line("Tax", 20, 280), _line("10.75", 450, 280, 100),
               _line("TOTAL", 20, 320), _line("94.36", 450, 320, 100))
    assert reader.answer("pre-tax amount", receipt).text == "83.61"


def test_who_does_what_a_key_says_is_not_that_key():
    # "biller" stands near "bill" for the encoder, but the biller is the issuer, not "Bill to"
    # (and "supplier" near "signer", as all-MiniLM-L6-v2 int8 puts them: no letterhead answers)
    reader = _answerer_with({"biller": "bill", "supplier": "signer"})
    invoice = (_line("Blue Harbor Design Studio", 20, 40, 400), _line("INVOICE", 600, 40, 150),
               _line("473 Elm Way", 20, 90), _line("Invoice No: INV-18291", 500, 90, 300),
               _line("Bill to:", 20, 200, 100), _line("Victor Costa", 20, 240), _line("355 Station Avenue", 20, 280))
    assert reader.answer("supplier / biller", invoice).text != "Victor Costa"


def test_a_name_is_no_address():
    # (a review's case) a page without an address answers no "where" with a name under a key
    reader = _answerer_with({"employer address": "Employer", "employer located": "Employer"})
    page = (_line("Employment Verification", 20, 20, 400), _line("Employee: Dana Cole", 20, 60, 300),
            _line("Employer: Northwind Traders Ltd", 20, 100, 400), _line("Position: Analyst", 20, 140, 300))
    assert reader.answer("employer address?", page).text == NOT_FOUND
    assert reader.answer("Where is the employer located?", page).text == NOT_FOUND


def test_the_number_of_this_form_is_the_one_its_key_gives_the_form():
    reader = _answerer()
    form = (_line("Registration Form", 20, 20, 300), _line("Form No: F-43956", 500, 20, 300),
            _line("Full name: Chloe Dvorak", 20, 80, 400), _line("ID number: NY-898452", 20, 120, 400),
            _line("City: Zurich", 20, 160, 300))
    assert reader.answer("reference number of this form", form).text == "F-43956"
    assert reader.answer("Could you tell me the number of this form?", form).text == "F-43956"
    assert reader.answer("What's the reference on this form?", form).text == "F-43956"
    assert reader.answer("What ID number is written on the form?", form).text == "NY-898452"  # a person's number
    invoice = (_line("Invoice No: INV-77", 500, 20, 300), _line("VAT No: GB123456789", 500, 60, 300))
    assert reader.answer("the VAT number on the invoice", invoice).text == "GB123456789"
    assert question_type("# of Muffin bought") == "count" and question_type("# of the form") != "count"


def test_a_bill_is_what_an_invoice_is_and_numbers_it():
    reader = _answerer()
    invoice = (_line("Brightway Software Inc.", 20, 20, 300), _line("INVOICE", 500, 20), _line("Invoice No: INV-71686", 500, 60, 300),
               _line("Date: 26-03-2023", 500, 100, 300), _line("Bill to:", 20, 160), _line("Tobias Horvat", 20, 200))
    for question in ("What is the bill number?", "What is the number of this bill?", "What is the bill's reference number?",
                     "Which number identifies the invoice?"):
        assert reader.answer(question, invoice).text == "INV-71686", question
    for question in ("What is the bill's VAT number?", "What is the bill's customer number?",
                     "Which purchase order is this bill for?"):
        assert reader.answer(question, invoice).text == NOT_FOUND, question  # another number, which it lacks
    letter = (_line("Dear Ms Novak,", 20, 60, 300), _line("Our ref: REF-2720", 500, 20, 300),
              _line("Thank you for your letter.", 20, 100, 400), _line("Yours sincerely,", 20, 160), _line("Ana Ruiz", 20, 200))
    assert reader.answer("What is the bill's reference number?", letter).text == NOT_FOUND  # a letter is no bill


def test_whose_signature_is_a_person_not_the_signers_job_title():
    from runtime.reader.intents import with_apostrophes

    # an encoder that puts "signature" and the title's key at "signer" (all-MiniLM-L6-v2 puts them near)
    reader = _answerer_with({"signature": "signer", "signature close": "signer", "signer title position": "signer"})
    letter = (_line("Harborview Print & Copy", 20, 20, 400), _line("Subject: Request for samples", 20, 200, 400),
              _line("Dear Emma Chen,", 20, 260, 300), _line("Thank you for your recent message.", 20, 300, 450),
              _line("Yours faithfully,", 20, 360, 250), _line("Hugo Romero", 20, 420, 200), _line("Project Lead", 20, 460, 200))
    assert reader.answer("Whose signature closes the letter?", letter).text == "Hugo Romero"
    assert reader.answer("Look up the position of whoever signed.", letter).text == "Project Lead"
    assert with_apostrophes("whos it from? whats the total") == "who's it from? what's the total"
    assert with_apostrophes("Thomas paid") == "Thomas paid"


def test_who_asked_of_nobody_in_particular_is_the_forms_person_and_after_keeps_its_word():
    reader = _answerer()
    form = (_line("Registration Form", 20, 20, 300), _line("Form No: F-44285", 500, 20, 300),
            _line("Full name: James Silva", 20, 80, 400), _line("Date of birth: 1994-04-07", 20, 120, 400),
            _line("City: Ghent", 20, 160, 300))
    assert reader.answer("who's the applicant", form).text == "James Silva"
    assert reader.answer("What person is this form about?", form).text == "James Silva"
    request = (_line("PURCHASE REQUEST", 20, 20, 300), _line("Name: Dana Cole", 20, 60, 300),
               _line("To: Procurement Office", 20, 100, 300), _line("Item: Ladder", 20, 140, 300))
    for asked in ("Who is it to?", "Who is the form for?", "Who made this?"):  # (a review's cases)
        assert reader.answer(asked, request).text != "Dana Cole", asked
    assert question_type("How old is this person, what birthday is given?") != "person"
    letter = (_line("Ironwood Print & Copy", 20, 20, 400), _line("Dear Daniel Lindqvist,", 20, 200, 300),
              _line("Thank you for your recent message.", 20, 240, 450), _line("Kind regards,", 20, 300, 250),
              _line("Emma Ostergaard", 20, 360, 200))
    # (an encoder that puts the question's words at the greeting's key, as all-MiniLM-L6-v2 does)
    assert _answerer_with({"whose name after dear": "dear"}).answer("whose name is after Dear?", letter).text == "Daniel Lindqvist"
    assert question_words("the total after discount")[0] == ["total"]
    assert question_words("What is the balance after payments?")[0] == ["balance"]  # (a review's case)


def test_who_a_page_nobody_signed_is_from_is_its_issuer():
    reader = _answerer()
    invoice = (_line("Northwind Design Studio", 20, 20, 400), _line("INVOICE", 600, 20, 150),
               _line("407 Market Lane", 20, 60, 300), _line("Invoice No: INV-667127", 500, 60, 300),
               _line("Leeds LS1 4AB", 20, 100, 300), _line("Date: 2023-08-27", 500, 100, 300),
               _line("Bill to:", 20, 200, 100), _line("Martin Horvat", 20, 240, 250), _line("12 Oak Street", 20, 280, 250),
               _line("Total due: GBP 3,494.12", 400, 400, 350))
    assert reader.answer("Who is this invoice from?", invoice).text == "Northwind Design Studio"
    assert reader.answer("who's it from?", invoice).text == "Northwind Design Studio"
    assert reader.answer("Who is it billed to?", invoice).text != "Northwind Design Studio"
    # done by whom, in the order other languages put it: the issuer, not the party billed
    assert reader.answer("this invoice is issued by whom?", invoice).text == "Northwind Design Studio"
    assert reader.answer("the invoice was prepared by who?", invoice).text == "Northwind Design Studio"
    assert reader.answer("the invoice was received by whom?", invoice).text != "Northwind Design Studio"  # the other party
    # how it is called: its name
    assert reader.answer("how is called the company of this invoice?", invoice).text == "Northwind Design Studio"


def test_an_unkeyed_run_of_digits_is_no_phone_number():
    """A scan's Bates number "670805266" answered "What is the fax number?" on a form with no
    fax: no key calls it a phone, and nothing in how it is written does. A number written in
    groups, or with a "+", still answers as the page's phone where no key names one."""
    page = (_line("PHOTOCOPYING VARIANCE FORM", 20, 10, 400), _line("This form was placed before", 20, 60, 300),
            _line("670805266", 340, 60, 120), _line("POOR QUALITY ORIGINAL", 20, 110, 300))
    answerer = _answerer()
    assert answerer.answer("What is the fax number?", page).text == NOT_FOUND
    assert answerer.answer("What is the phone number?", page).text == NOT_FOUND
    shop = (_line("CORNER BAKERY", 20, 10, 300), _line("12 Mill Street, Leeds", 20, 60, 300),
            _line("0113 496 0718", 20, 110, 200), _line("Total 15.60", 20, 160, 200))
    assert answerer.answer("What is the phone number?", shop).text == "0113 496 0718"
    keyed = (_line("Order 5512", 20, 10, 200), _line("Phone:", 20, 60, 80), _line("01134960718", 120, 60, 200))
    assert answerer.answer("What is the phone number?", keyed).text == "01134960718"
    # a key that calls it a phone where the question words it otherwise ("Tel" for "phone")
    for key in ("Tel:", "Telephone", "Fax:"):
        keyed = (_line("ACME LTD", 20, 10, 200), _line(key, 20, 60, 90), _line("01134960718", 130, 60, 200),
                 _line("Total 15.60", 20, 110, 200))
        assert answerer.answer("What is the phone number?", keyed).text == "01134960718", key


def test_the_names_of_a_sales_tax_name_one_tax():
    reader = _answerer()
    receipt = (_line("Old Mill Market", 20, 10, 300), _line("Subtotal", 20, 100), _line("CHF 49,28", 400, 100),
               _line("Tax 8%", 20, 140), _line("CHF 3,94", 400, 140), _line("TOTAL", 20, 180), _line("CHF 53,22", 400, 180))
    for question in ("What was the VAT?", "How much GST was charged?"):
        assert reader.answer(question, receipt).text == "CHF 3,94", question
    invoice = (_line("Invoice No: INV-77", 500, 20, 300), _line("VAT ID: DE440611967", 500, 60, 300))
    assert reader.answer("What is the tax ID?", invoice).text == "DE440611967"
    assert reader.answer("What was the VAT?", invoice).text == NOT_FOUND  # the id is no amount
    canadian = (_line("Subtotal", 20, 100), _line("100.00", 400, 100), _line("GST 5%", 20, 140), _line("5.00", 400, 140),
                _line("PST 7%", 20, 180), _line("7.00", 400, 180), _line("TOTAL", 20, 220), _line("112.00", 400, 220))
    assert reader.answer("How much PST was charged?", canadian).text == "7.00"  # one tax is no other
    assert reader.answer("How much GST was charged?", canadian).text == "5.00"


def test_a_question_that_names_no_section_asks_about_the_first():
    """An applicant's block beside an emergency contact's: a name asked without naming either
    is the applicant's (the first section, the page's subject), though the contact's key "Name"
    says the question's word more exactly than "Full name"; a question that names the contact
    gets theirs, and a key word only one section has decides as it did."""
    form = (_line("Patient Intake Form", 40, 20, 320),
            _line("Applicant", 40, 100, 160), _line("Emergency contact", 560, 100, 260),
            _line("Full name: Adrian Celik", 40, 150, 340), _line("Name: Oscar Weber", 560, 150, 300),
            _line("Date of birth: 1977-02-03", 40, 200, 340), _line("Phone: (535) 725-5346", 560, 200, 300),
            _line("Email: adrian9@mail.example.org", 40, 250, 400), _line("Relationship: Friend", 560, 250, 300),
            _line("Occupation: Chef", 40, 300, 300), _line("Signed on 2021-08-05", 40, 400, 300))
    answerer = _answerer()
    assert answerer.answer("What is the emergency contact's phone?", form).text == "(535) 725-5346"
    assert answerer.answer("What is the applicant's emergency phone number?", form).text == "(535) 725-5346"
    assert answerer.answer("What is the relationship?", form).text == "Friend"
    assert answerer.answer("What is the applicant's email?", form).text == "adrian9@mail.example.org"
    assert answerer.answer("What name is written on the form?", form).text == "Adrian Celik"
    assert answerer.answer("Whose name is on it?", form).text == "Adrian Celik"


def test_things_a_page_never_names_are_not_found():
    """An item named after "the" that the receipt never lists, the row "South" of a table that
    has a North ("For the" is no misread "North"), an invoice asked of a form by "which",
    the delivery's party of a bill that names only its payer (whom it is billed to is a golden
    test: the meaning-free encoder here routes no question to a party)."""
    answerer = _answerer()
    assert answerer.answer("How much did the Muffin cost?", _receipt()).text == NOT_FOUND
    assert answerer.answer("How much did the Notebook cost?", _receipt()).text == "6.04"
    assert answerer.answer("How much was the Notebook before tax?", _receipt()).text == "6.04"
    table = (_line("Sales by region", 40, 20, 300), _line("Q1", 300, 80, 60), _line("Q4", 500, 80, 60),
             _line("East", 40, 130, 100), _line("7,888.13", 300, 130, 120), _line("4,425.68", 500, 130, 120),
             _line("North", 40, 180, 100), _line("8,362.97", 300, 180, 120), _line("8,199.53", 500, 180, 120))
    assert answerer.answer("For the row South, which value is in Q4?", table).text == NOT_FOUND
    assert answerer.answer("For the row North, which value is in Q4?", table).text == "8,199.53"
    form = (_line("Customer Details", 40, 20, 300), _line("Full name: Ethan Dvorak", 40, 100, 340),
            _line("ID number: NZ-598152", 40, 150, 340), _line("City: Lyon", 40, 200, 200))
    assert answerer.answer("Which invoice is this, by number?", form).text == NOT_FOUND
    assert answerer.answer("What is the ID number?", form).text == "NZ-598152"
    # a city is no country, nor where one is a citizen; where one lives it is
    assert answerer.answer("From which country is the applicant?", form).text == NOT_FOUND
    assert answerer.answer("Where is this person a citizen?", form).text == NOT_FOUND
    assert answerer.answer("Which city does the applicant live in?", form).text == "Lyon"
    assert answerer.answer("Where does the applicant live?", form).text == "Lyon"
    # nor is a date line that reads like an address ("0ct" misread) where no city is
    signed = (*form[:3], _line("Signed on 12 0ct 2022", 40, 300, 340))
    assert answerer.answer("From which country the applicant is a national?", signed).text == NOT_FOUND
    # a page word for one of the question's words ("full" for "filled") makes no match when
    # another ("city") has none
    assert answerer.answer("Could you tell me what city is filled in?", form[:3]).text == NOT_FOUND
    invoice = (_line("Harbour Supplies Ltd", 20, 10, 300), _line("Invoice No: INV-83759", 500, 10, 300),
               _line("Bill to:", 20, 120, 120), _line("Clara Weiss", 20, 160), _line("12 Elm Road", 20, 200),
               _line("Porto 4000-123", 20, 240), _line("Total due: 310.00", 20, 320, 300))
    assert answerer.answer("Which invoice is this, by number?", invoice).text == "INV-83759"
    assert answerer.answer("What name is in the delivery address?", invoice).text == NOT_FOUND


def test_a_registration_is_known_by_its_number_and_a_way_of_payment_asks_the_method():
    from runtime.reader.types import asks_payment_method

    assert question_type("What tax registration appears on this document?") == "id"
    assert question_type("What is the registration fee?") == "amount"
    assert asks_payment_method("In what way the payment should be made for this?")
    assert question_type("Where can I write to this person electronically?") == "email"
    assert _answerer().answer("What tax registration appears on this document?", _receipt()).text == NOT_FOUND


def test_where_the_goods_go_is_no_question_about_the_payer():
    """A bill that names only whom it is billed to: a question about where its goods go gets no
    party (the router's examples decide, here by a stand-in meaning), one about the payer gets
    it; a block keyed as the delivery's answers the goods' question."""
    from runtime.reader.answering import PERSON

    answerer = Answerer(_concepts(("deliver", "parcel", "goods", "courier", "shipment", "package", "freight", "dispatched",
                                   "shipped", "items"),
                                  ("pay", "charged", "billing", "billed", "owes", "bill")),
                        lambda question, context, answers: [0.0] * len(answers))
    billed_only = read_cells((_line("Harbour Supplies Ltd", 20, 10, 300), _line("Bill to:", 20, 120, 120),
                              _line("Clara Weiss", 20, 160), _line("12 Elm Road", 20, 200), _line("Porto 4000-123", 20, 240),
                              _line("Total due: 310.00", 20, 320, 300)))
    assert answerer._party("Who are the goods shipped to?", PERSON, billed_only) is None
    assert answerer._party("Who is this billed to?", PERSON, billed_only).value == "Clara Weiss"
    both = read_cells((_line("Harbour Supplies Ltd", 20, 10, 300), _line("Bill to:", 20, 120, 120),
                       _line("Deliver to:", 500, 120, 140), _line("Clara Weiss", 20, 160), _line("Tom Weiss", 500, 160),
                       _line("12 Elm Road", 20, 200), _line("9 Oak Lane", 500, 200), _line("Total due: 310.00", 20, 320, 300)))
    assert answerer._party("Who are the goods shipped to?", PERSON, both).value == "Tom Weiss"


def test_a_country_is_asked_of_a_key_that_says_a_place():
    """"Which country is the event in?" over "Name of Event:" and "State:" keys names the
    event, not a country: not found; a "Country:" key answers it."""
    page = (_line("SPECIAL EVENTS", 40, 20, 300), _line("State: Illinois", 40, 80, 300),
            _line("Name of Event: Mrs. Illinois Beauty Pageant", 40, 130, 520), _line("Estimated Attendance: 700", 40, 180, 360))
    answerer = _answerer()
    assert answerer.answer("Which country is the event in?", page).text == NOT_FOUND
    assert answerer.answer("What is the name of the event?", page).text == "Mrs. Illinois Beauty Pageant"
    country = (*page, _line("Country: USA", 40, 230, 300))
    assert answerer.answer("Which country is the event in?", country).text == "USA"


def test_a_question_typed_with_slips_and_second_language_grammar_is_understood():
    words = frozenset("what is the of address email applicant receiver number phone telephone how many money pay i owe "
                      "for this we must bank transfer or other last day to total due date".split())
    answerer = Answerer(_unrelated, lambda question, context, answers: [0.0] * len(answers), words=words,
                        english=lambda: {word: rank for rank, word in enumerate(sorted(words))})
    form = (_line("APPLICATION", 20, 10), _line("Applicant", 20, 60), _line("E-mail:", 20, 110),
            _line("ana@post.example.org", 300, 110), _line("Phone:", 20, 160), _line("953-533-8973", 300, 160))
    assert answerer.answer("emial adress of the aplicant", form).text == "ana@post.example.org"
    assert answerer.answer("the aplicant telephon nummer", form).text == "953-533-8973"
    bill = (_line("INVOICE", 20, 10), _line("Date: 2024-03-02", 20, 60), _line("Total due:", 20, 110),
            _line("EUR 2.053,59", 300, 110))
    assert answerer.answer("how many money is the total of this invoce?", bill).text == "EUR 2.053,59"
    # "how" and a pronoun before paying asks the way, which this bill does not say
    assert answerer.answer("how we must pay this invoce, bank transfer or other?", bill).text == NOT_FOUND
    # the last day to pay is the day it is due: not the bill's own date
    assert answerer.answer("the last day to pay this?", bill).text == NOT_FOUND
    assert question_type("how you know the amount to pay?") == "amount"  # the pronoun's verb is no paying
    assert question_type("how many cash payments are there?") == question_type("how many did i pay for?") == "count"
    assert question_type("how many money do I owe?") == question_type("how many it costs?") == "amount"
    assert question_type("How many items did I pay for?") == "count"
