"""The general value parsers (issue 10): spellings people write on receipts, invoices, forms
and letters worldwide, and the look-alikes that must not be read as them."""

from datetime import date, time
from decimal import Decimal

import pytest

from runtime.reader.types import value_types
from runtime.reader.values import (
    find_dates, find_times, is_name, parse_date, parse_email, parse_money, parse_percent, parse_phone, parse_time,
)  # fmt: skip


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14-02-2018", date(2018, 2, 14)),
        ("14/02/2018", date(2018, 2, 14)),
        ("14.02.2018", date(2018, 2, 14)),
        ("14.02.18", date(2018, 2, 14)),
        ("02/14/18", date(2018, 2, 14)),  # the second part over 12: month/day
        ("05/01/2024", date(2024, 1, 5)),  # either way round: day first
        ("1/2/99", date(1999, 2, 1)),
        ("2024-01-05", date(2024, 1, 5)),
        ("2024/1/5", date(2024, 1, 5)),
        ("2024.01.05", date(2024, 1, 5)),
        ("5 Jan 2024", date(2024, 1, 5)),
        ("05 JAN 2024", date(2024, 1, 5)),
        ("5-Jan-24", date(2024, 1, 5)),
        ("5.Jan.2024", date(2024, 1, 5)),
        ("5th of January, 2024", date(2024, 1, 5)),
        ("5Jan2024", date(2024, 1, 5)),  # the recognizer dropped the spaces
        ("Jan 5th, 2024", date(2024, 1, 5)),
        ("January 5 2024", date(2024, 1, 5)),
        ("Sept. 3, 2021", date(2021, 9, 3)),
        ("Sep 30, 2021", date(2021, 9, 30)),
        ("Jan 5 '24", date(2024, 1, 5)),
        ("March 24, 2025", date(2025, 3, 24)),
        ("Tuesday, 5 January 2024", date(2024, 1, 5)),
        ("Tue 05/03/2024", date(2024, 3, 5)),
        ("2024 Jan 05", date(2024, 1, 5)),
        ("January 2024", date(2024, 1, 1)),
        ("29/02/2024", date(2024, 2, 29)),
    ],
)
def test_dates_in_the_formats_people_write(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "INV-2024-0117", "2024-0117", "12.5", "12:30", "+1 555-123-4567", "(578) 470-8659", "555-123-4567",
        "1/2/3", "31/02/2024", "29/02/2023", "13/13/2024", "20240105", "Total 42.50", "42.50", "1.234.567",
        "Janitor 5 2024", "May", "2024", "5 Jan", "0800 123 4567",
    ],
)
def test_look_alikes_are_not_dates(text):
    assert parse_date(text) is None


def test_month_first_when_asked():
    assert parse_date("05/01/2024", day_first=False) == date(2024, 5, 1)
    assert parse_date("14/02/2018", day_first=False) == date(2018, 2, 14)  # 14 is no month


def test_dates_inside_a_longer_cell():
    text = "Signed on March 24, 2025 at 10:30"
    [(start, end, value)] = find_dates(text)
    assert text[start:end] == "March 24, 2025" and value == date(2025, 3, 24)
    text = "Due 14/02/2018. Paid 2018-02-20"
    assert [text[start:end] for start, end, _ in find_dates(text)] == ["14/02/2018", "2018-02-20"]
    assert find_dates("Invoice INV-2024-01-17") == []  # a date glued into an id is part of the id
    assert find_dates("Ref 2024-0117, qty 12.5") == []


def test_times():
    assert parse_time("11:36") == time(11, 36)
    assert parse_time("7:05 pm") == time(19, 5)
    assert parse_time("12:15 AM") == time(0, 15)
    assert parse_time("9.30 a.m.") == time(9, 30)
    assert parse_time("23:59:59") == time(23, 59, 59)
    assert parse_time("14h30") == time(14, 30)
    for text in ("19.90", "25:00", "13:00 pm", "11:60", "1130"):
        assert parse_time(text) is None, text
    assert [v for _, _, v in find_times("Time 10:30 Total 19.90")] == [time(10, 30)]


@pytest.mark.parametrize(
    "text, amount, currency",
    [
        ("$1,234.56", "1234.56", "$"),
        ("$ 42.50", "42.50", "$"),
        ("1.234,56 €", "1234.56", "€"),
        ("€5", "5", "€"),
        ("£74.49", "74.49", "£"),
        ("f74.49", "74.49", "£"),  # the recognizer's "£"
        ("¥1,200", "1200", "¥"),
        ("₹12,34,567.00", "1234567.00", "₹"),  # Indian lakh groups
        ("RM 12.50", "12.50", "RM"),
        ("RM12.50", "12.50", "RM"),
        ("CHF 1'234.50", "1234.50", "CHF"),
        ("1 234,50 EUR", "1234.50", "EUR"),
        ("1\u202f234,50 €", "1234.50", "€"),
        ("USD 42", "42", "USD"),
        ("42.50EUR", "42.50", "EUR"),
        ("1,234,567.89 USD", "1234567.89", "USD"),
        ("gbp 3.10", "3.10", "GBP"),
        ("SGD 3.20", "3.20", "SGD"),
        ("MYR 8.00", "8.00", "MYR"),
        ("JPY 1200", "1200", "JPY"),
        ("US$ 20", "20", "US$"),
        ("kr 149,00", "149.00", "kr"),
        ("-$5.00", "-5.00", "$"),
        ("$-5.00", "-5.00", "$"),
        ("($5.00)", "-5.00", "$"),
        ("5.00-", "-5.00", None),  # a discount line on a receipt
        ("42.50", "42.50", None),
        ("12,50", "12.50", None),
        ("1.234,56", "1234.56", None),
        ("12,-", "12", None),
    ],
)
def test_money(text, amount, currency):
    assert parse_money(text) == (Decimal(amount), currency)


@pytest.mark.parametrize(
    "text",
    [
        "12.5", "1,234", "1.234", "2", "0.125",  # no currency and no cents: a quantity, a weight, a rate
        "12,5 %", "Total 42.50", "TAX 4.50", "ALL 5.00", "5 ft", "+1 555-123-4567", "INV-2024-0117",
        "14.02.2018", "1,234,56", "$", "$ 1.2.3", "(5.00", "$5.00 USD",
    ],
)
def test_look_alikes_are_not_money(text):
    assert parse_money(text) is None


def test_bare_figures_are_money_where_the_context_says_so():
    assert parse_money("12.5", currency_optional=True) == (Decimal("12.5"), None)
    assert parse_money("1,234", currency_optional=True) == (Decimal("1234"), None)
    assert parse_money("1.234", currency_optional=True) == (Decimal("1234"), None)  # a lone group of three
    assert parse_money("0.125", currency_optional=True) == (Decimal("0.125"), None)
    assert parse_money("INV-2024", currency_optional=True) is None


def test_percentages():
    assert parse_percent("12.5%") == Decimal("12.5")
    assert parse_percent("12,5 %") == Decimal("12.5")
    assert parse_percent("-3 percent") == Decimal("-3")
    assert parse_percent("6 per cent") == Decimal("6")
    assert parse_percent("1,250%") == Decimal("1250")
    for text in ("12.5", "%", "VAT 20%", "20 %%"):
        assert parse_percent(text) is None, text


@pytest.mark.parametrize(
    "text, digits",
    [
        ("+1 555-123-4567", "+15551234567"),
        ("(578) 470-8659", "5784708659"),
        ("+44 20 7946 0958", "+442079460958"),
        ("020 7946 0958", "02079460958"),
        ("+60 3-2141 5678", "+60321415678"),
        ("03-2141 5678", "0321415678"),
        ("01.42.68.53.00", "0142685300"),
        ("+49 (0)30 901820", "+49030901820"),
        ("555-1234", "5551234"),
        ("+1 (415) 555-0132 ext. 12", "+14155550132"),
        ("0800 123 4567", "08001234567"),
    ],
)
def test_phone_numbers(text, digits):
    assert parse_phone(text) == digits


@pytest.mark.parametrize(
    "text", ["14-02-2018", "2024-01-05", "12.50", "1.234.567", "1,234,567.00", "123456", "INV-2024-0117",
             "1234567890123456", "(555 123-4567", "11:36:00"],
)
def test_look_alikes_are_not_phone_numbers(text):
    assert parse_phone(text) is None


def test_email_addresses():
    assert parse_email("ada@example.com") == "ada@example.com"
    assert parse_email("Ada.Lovelace+bills@Example.CO.UK") == "Ada.Lovelace+bills@example.co.uk"
    assert parse_email("jörg.müller@beispiel.de") == "jörg.müller@beispiel.de"
    assert parse_email("info @ café.fr") == "info@café.fr"  # the recognizer's spaces go
    for text in ("ada@example", "ada@@example.com", "@example.com", "ada.@", "a..b@example.com", "ada@example.c0m"):
        assert parse_email(text) is None, text


@pytest.mark.parametrize(
    "text",
    ["Müller", "Łukasz Wójcik", "José Núñez", "Søren Kierkegaard", "Café Noir S.à r.l.", "Zoë O'Brien",
     "Jean-Luc Picard", "Doe, John", "J.P. Morgan & Co.", "AT&T", "NORTHWIND HARDWARE", "Ærø Bryghus ApS",
     "Nguyễn Văn An", "Straße", "Jose\u0301 Nu\u0301n\u0303ez", "Williams/ Giordano", "M. HAMERTON / enm"],
)
def test_names_in_any_latin_script(text):
    assert is_name(text)


@pytest.mark.parametrize("text", ["INV-123", "Sincerely,", "42.50", "R2-D2", "& Sons", "ada@example.com", "", "-",
                                  "N/A", "B/W", "and/or", "/ enm"])
def test_look_alikes_are_not_names(text):
    assert not is_name(text)


def test_value_types_use_the_parsers():
    assert {"amount"} <= value_types("CHF 1'234.50") and "amount" in value_types("1.234,56 €")
    assert "amount" not in value_types("12.5") and "amount" not in value_types("INV-2024-0117")
    assert "date" in value_types("Jan 5th, 2024") and "date" not in value_types("INV-2024-0117")
    assert "percent" in value_types("12,5 %") and "amount" not in value_types("12,5 %")
    assert "phone" in value_types("+44 20 7946 0958") and "phone" not in value_types("14-02-2018")
    assert "phone" not in value_types("1234.56")  # a price, however many digits
    assert "email" in value_types("jörg.müller@beispiel.de")
    assert {"person", "organization"} <= value_types("Łukasz Wójcik")
    assert "person" not in value_types("INV-2024-0117")


def test_a_time_glued_to_a_four_digit_year_leaves_the_date_readable():
    # The recognizer drops the space of "02/01/2019 2:47:14PM"; no year has five digits.
    assert [date for _, _, date in find_dates("02/01/20192:47:14PM")] == [date(2019, 1, 2)]
    assert find_dates("12/05/201834") == []  # six digits after the slash: not a year
    assert find_dates("INV-2024-01-17") == []


def test_a_time_glued_to_a_two_digit_year_or_after_a_hyphen_leaves_the_date_readable():
    # "05/01/17 10:55" read without its space is no date of the year 1710.
    assert [date for _, _, date in find_dates("05/01/1710:55")] == [date(2017, 1, 5)]
    assert [date for _, _, date in find_dates("11/05/1710:13AM")] == [date(2017, 5, 11)]
    assert [date for _, _, date in find_dates("12/06/2016-13:30:10-28-CASHIER")] == [date(2016, 6, 12)]
    assert find_dates("12/06/2016-13") == [] and find_dates("Ref 05/01/1710") == []
    # no clock, no date: ids, phone numbers, slots of hours, a year 19xx/20xx keeps its digits
    for text in ("09.30.00-10:30", "Tel 03-12-22-10:30", "10-12-15-16:00", "1/2/1234:56", "12/06/16-17:00"):
        assert find_dates(text) == [], text
    assert [date for _, _, date in find_dates("31/12/2019:45")] == [date(2019, 12, 31)]


def test_a_space_read_after_the_decimal_separator():
    from runtime.reader.types import clean_value

    assert (parse_money("83, 43").amount, parse_money("83, 43").currency) == (Decimal("83.43"), None)
    assert (parse_money("3, 45 USD").amount, parse_money("3, 45 USD").currency) == (Decimal("3.45"), "USD")
    assert parse_money("1, 234") is None and parse_money("Items 3, 45") is None  # no decimals, or words before
    assert clean_value("83, 43", "amount") == "83,43"
