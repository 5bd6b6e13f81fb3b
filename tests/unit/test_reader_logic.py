"""The reader's pure logic: rows, fields, value types, focus coverage."""

from runtime.reader.answering import coverage, focus_words
from runtime.reader.document import extract_fields, group_rows
from runtime.reader.types import question_type, value_types
from runtime.results import TextLine


def _line(text, x, y, width=200, height=30):
    box = ((x, y), (x + width, y), (x + width, y + height), (x, y + height))
    return TextLine(text, box, 0.99)


def test_rows_group_by_vertical_overlap_and_sort_left_to_right():
    lines = (_line("42.50", 600, 102), _line("Total", 20, 100), _line("Thanks", 20, 200))
    rows = group_rows(lines)
    assert [row.lines for row in rows] == [(1, 0), (2,)]


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
    assert ("recipient addressed to dear", "Ada Lovelace", "greeting") in fields
    assert ("sender signed by from", "Grace Hopper", "closing") in fields
    assert ("", "NORTHWIND HARDWARE", "line") in fields


def test_question_types_check_specific_before_general():
    assert question_type("What is the due date?") == "date"
    assert question_type("What is the total due?") == "amount"
    assert question_type("What is the tax ID?") == "id"
    assert question_type("What is the phone number?") == "phone"
    assert question_type("Which company issued this invoice?") == "organization"
    assert question_type("Who signed the letter?") == "person"


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
