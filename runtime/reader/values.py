"""Parsers for the values documents answer with: dates, times, money, percentages, phone
numbers, e-mail addresses, and names of people and organisations (issue 10).

Each `parse_*` reads one whole text (a cell, a candidate answer) and returns the value or
None; `find_dates` and `find_times` find the spans inside a longer cell. The rules are
general conventions (ISO 8601, the day/month orders people write, ISO 4217 currency codes,
E.164 phone lengths, Unicode letters), not the formats of any test generator.

Choices, where a text could be read more than one way:
- a numeric date whose day and month could swap ("05/01/2024") is read day first, as most
  of the world writes it; a first part over 12 makes it day/month, a second part over 12
  month/day ("02/14/18"); `day_first=False` flips the default. Two-digit years follow
  POSIX `%y`: 00-68 → 20xx, 69-99 → 19xx. A month and year ("January 2024") is the 1st.
- an id ("INV-2024-0117"), a phone number or a bare "12.5" is not a date;
- a figure is money when it carries a currency sign or code, before or after it ("RM 12.50",
  "1.234,56 €", "CHF 1'234.50", "¥1,200"), or when it has exactly two decimals, the way
  prices are printed ("42.50", "1 234,50"). A bare "12.5" or "1,234" is not money: it may
  be a quantity, a weight or a rate. Pass `currency_optional=True` where the context
  already says money (a "Total" row).
- one separator followed by exactly three digits groups thousands ("1,234", "1.234"),
  otherwise it is the decimal mark ("12,5"); with both, the last is the decimal mark.
- the recognizer has no "€" or "£" glyph: it drops them or reads "£" as "f" ("f74.49"),
  so a lone "f" right before a figure is read as "£" (issue 3).

Libraries measured for this (installed with their dependencies; growth of a PyInstaller
6.22 onedir build over one that already holds the stdlib the server uses; import time on
the 2-core CI machine under load). All four freeze and run through pyinstaller-hooks-contrib:
- python-dateutil 4.0.0: 3.2 MB installed (2.7 MB tzdata), +0.2 MB frozen, ~0.07 s. With
  dayfirst=True it reads "2024-01-05" as 1 May; it reads "12.5" and "12:30" as dates.
- dateparser 1.5.0: 11 MB installed (regex, pytz, tzdata, tzlocal, dateutil), +6.8 MB
  frozen, ~0.3-0.9 s. Also reads "12.5" and "12:30" as dates of the current year.
- price-parser 0.5.1: 0.4 MB installed (attrs), +0.2 MB frozen, ~0.1 s. It finds *a*
  price in any text ("+1 555-123-4567" → 1555, "INV-2024-0117" → 2024) and drops signs:
  made for scraped pages, not for deciding whether a cell is an amount.
- phonenumbers 9.0.43: 23 MB installed (19 MB geocoding; phonenumberslite 2.9 MB), +6.2 MB
  frozen, ~0.07-0.3 s. It cannot read a national number without the country, which a
  receipt does not state, and calls "14-02-2018" a possible GB number.
Each would still need the checks here to reject ids, figures and dates, so these small
parsers are used (~0.02 s to import) and nothing is added to the binary.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
)  # fmt: skip
# A month name, its three- or four-letter abbreviation, with an optional abbreviation dot.
_MONTH = r"(?P<{}>(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?)"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s*)?"
_DAY = r"(?P<{}>\d{{1,2}})(?:st|nd|rd|th)?"
_YEAR = r"(?P<{}>\d{{4}}|'?\d{{2}})"


# A time of day as the recognizer runs it into a date: hour 0-23, minutes 00-59.
_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d"


# Every date shape, one named group set per alternative (d1/m1/y1, d2/m2/y2, ...).
_DATE_SHAPES = "|".join(
    (
        # ISO 8601 and its slash/dot variants: year, month, day.
        rf"(?P<y0>\d{{4}})(?P<s0>[-/.])(?P<m0>\d{{1,2}})(?P=s0)(?P<d0>\d{{1,2}})",
        # Numeric day/month/year or month/day/year, one separator kind throughout.
        # A two-digit year the recognizer ran into the time after it ("05/01/1710:55") is
        # read as one: no one writes a time ":55" after the year 1710 (but "2019:45" is 2019).
        rf"(?P<a1>\d{{1,2}})(?P<s1>[-/.])(?P<b1>\d{{1,2}})(?P=s1)(?P<y1>(?!19|20)\d{{2}}(?={_CLOCK})|\d{{4}}|\d{{2}})",
        # 5 Jan 2024, 5th of January, 2024, 05-Jan-24, 5.Jan.2024
        rf"{_DAY.format('d2')}[\s./-]*(?:of\s+)?{_MONTH.format('m2')}[\s,./-]*{_YEAR.format('y2')}",
        # Jan 5th, 2024; January 5 2024; Jan-05-2024
        rf"{_MONTH.format('m3')}[\s./-]*{_DAY.format('d3')}(?:,\s*|[\s./-]+){_YEAR.format('y3')}",
        # 2024 Jan 05, 2024-Jan-05
        rf"(?P<y4>\d{{4}})[\s./-]*{_MONTH.format('m4')}[\s./-]*{_DAY.format('d4')}",
        # January 2024, Jan. 2024 (no day: the 1st)
        rf"{_MONTH.format('m5')}[\s,./-]*(?P<y5>\d{{4}})",
    )
)
_DATE_WHOLE = re.compile(rf"^{_WEEKDAY}(?:{_DATE_SHAPES})$", re.I)
# Inside a cell: not glued to a neighbouring figure or id part ("INV-2024-01-17" holds none),
# except a time glued to the year: the recognizer drops the space of "02/01/2019 2:47:14PM"
# and "05/01/17 10:55", and no year has five digits; or a time after a hyphen and a
# four-digit year ("12/06/2016-13:30:10"; "10-12-15-16:00" may be a slot of hours).
_DATE_INSIDE = re.compile(
    rf"(?<![\d/.-])(?:{_DATE_SHAPES})(?:(?<=\d{{2}})(?={_CLOCK})|(?<=\d{{4}})(?=-{_CLOCK})|(?![\d/-]|\.\d))", re.I
)

_TIME = r"(?<![\d:.])(?P<h>\d{1,2})[:.h](?P<m>\d{2})(?::(?P<s>\d{2}))?(?:\s*(?P<p>[ap])\.?\s*m\b\.?)?(?![\d:])"
_TIME_WHOLE = re.compile(rf"^{_TIME}$", re.I)
_TIME_INSIDE = re.compile(_TIME, re.I)


def parse_date(text: str, *, day_first: bool = True) -> datetime.date | None:
    """The date `text` spells, or None ("5 Jan 2024", "Jan 5th, 2024", "14-02-2018",
    "02/14/18", "2024-01-05", "Tuesday, 5 January 2024"; see the module docstring)."""
    match = _DATE_WHOLE.match(text.strip())
    return _date_of(match, day_first) if match else None


def find_dates(text: str, *, day_first: bool = True) -> list[tuple[int, int, datetime.date]]:
    """The dates inside a longer text ("Signed on March 24, 2025"): (start, end, date) each."""
    found = []
    for match in _DATE_INSIDE.finditer(text):
        value = _date_of(match, day_first)
        if value is not None:
            found.append((match.start(), match.end(), value))
    return found


def _date_of(match: re.Match, day_first: bool) -> datetime.date | None:
    groups = {name: value for name, value in match.groupdict().items() if value is not None}
    if "a1" in groups:  # numeric: decide the order
        first, second = int(groups["a1"]), int(groups["b1"])
        if first > 12 or (day_first and second <= 12):
            day, month = first, second
        else:
            day, month = second, first
        return _make_date(_year(groups["y1"]), month, day)
    if "y0" in groups:
        return _make_date(int(groups["y0"]), int(groups["m0"]), int(groups["d0"]))
    for index in "2345":
        if "m" + index in groups:
            month = month_number(groups["m" + index])
            day = int(groups.get("d" + index, "1"))
            return None if month is None else _make_date(_year(groups["y" + index]), month, day)
    return None


def month_number(word: str) -> int | None:
    """1-12 for a month's name or an abbreviation of it ("Sept."), None for "Janitor"."""
    word = word.lower().rstrip(".")
    return next((number for number, name in enumerate(_MONTH_NAMES, 1) if name.startswith(word)), None)


def _year(text: str) -> int:
    year = int(text.lstrip("'"))
    if len(text.lstrip("'")) == 2:
        year += 2000 if year < 69 else 1900
    return year


def _make_date(year: int, month: int, day: int) -> datetime.date | None:
    if not 1800 <= year <= 2199:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def parse_time(text: str) -> datetime.time | None:
    """The time of day `text` spells ("11:36", "7:05 pm", "23:59:59", "9.30 a.m."), or None."""
    match = _TIME_WHOLE.match(text.strip())
    return _time_of(match) if match else None


def find_times(text: str) -> list[tuple[int, int, datetime.time]]:
    """The times of day inside a longer text: (start, end, time) each."""
    found = []
    for match in _TIME_INSIDE.finditer(text):
        value = _time_of(match)
        if value is not None:
            found.append((match.start(), match.end(), value))
    return found


def _time_of(match: re.Match) -> datetime.time | None:
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"] or 0)
    if match["p"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["p"].lower() == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    if "." in match.group() and not match["p"]:
        return None  # "19.90" is a price, "9.30 am" a time
    return datetime.time(hour, minute, second)


class Money(NamedTuple):
    """An amount of money: `currency` is the sign or code as written ("$", "RM", "EUR";
    codes upper-cased), "£" for the recognizer's "f", None when the text shows none."""

    amount: Decimal
    currency: str | None


# ISO 4217 codes of the currencies most documents show, leaving out those that spell an
# English word ("ALL", "TOP", "CUP") and would turn "ALL 12.50" into money.
_CURRENCY_CODES = frozenset(
    "AED ARS AUD BDT BGN BHD BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR ISK JPY KES KRW "
    "KWD LKR MAD MXN MYR NGN NOK NZD OMR PEN PHP PKR PLN QAR RMB RON RSD RUB SAR SEK SGD THB TRY TWD UAH USD "
    "VND ZAR".split()
)
# Local abbreviations and prefixed dollars written instead of a sign or a code.
_CURRENCY_WORDS = {word.lower(): word for word in "US$ S$ A$ C$ HK$ NZ$ R$ RM Rp Rs Rs. kr kr. Kč zł Fr. lei".split()}
_CURRENCY_MARK = (
    r"(?:" + "|".join(re.escape(word) for word in sorted(_CURRENCY_WORDS.values(), key=len, reverse=True))
    + r"|[A-Za-z]{3}|[^\w\s.,'’()+\-−–])"  # a code, or one sign character (checked: Unicode "Sc")
)
_GROUP = r"[,.'’\u00a0\u202f ]"
_FIGURE = rf"\d{{1,3}}(?:{_GROUP}\d{{2,3}})+(?:[.,](?:\d+|[-–]))?|\d+(?:[.,](?:\d+|[-–]))?|[.,]\d{{2}}"
_MONEY = re.compile(
    rf"^(?P<open>\()?\s*(?P<sign1>[-−])?\s*(?P<before>{_CURRENCY_MARK}|f(?=\s?\d))?\s*(?P<sign2>[-−])?\s*"
    rf"(?P<figure>{_FIGURE})\s*(?P<sign3>[-−])?\s*(?P<after>{_CURRENCY_MARK})?\s*(?P<close>\))?$",
    re.I,
)


# "83, 43": a space the recognizer read after the decimal separator, before the last two digits
# (and nothing but a currency after them).
_SPACED_DECIMALS = re.compile(r"(?<=\d)([.,]) (?=\d{2}(?:\s*[^\W\d_]{1,3}|\s*\W)?$)")


def without_spaced_decimals(text: str) -> str:
    """`text` without a space the recognizer read after a decimal separator ("83, 43" → "83,43")."""
    return _SPACED_DECIMALS.sub(r"\1", text)


def parse_money(text: str, *, currency_optional: bool = False) -> Money | None:
    """The amount and currency `text` spells ("$1,234.56", "1.234,56 €", "RM 12.50",
    "CHF 1'234.50", "-42.50 USD", "(5.00)", "12,-"), or None. Without a currency the
    figure needs two decimals unless `currency_optional` (see the module docstring)."""
    text = without_spaced_decimals(text.strip())
    match = _MONEY.match(text)
    if not match or (match["before"] and match["after"]) or bool(match["open"]) != bool(match["close"]):
        return None
    mark = match["before"] or match["after"]
    currency = _currency(mark) if mark else None
    if mark and currency is None:
        return None
    if currency is None and not currency_optional and not re.search(r"[.,](\d{2}|[-–])$", match["figure"]):
        return None
    amount = _figure(match["figure"])
    if amount is None:
        return None
    negative = bool(match["sign1"] or match["sign2"] or match["sign3"] or match["open"])
    return Money(-amount if negative else amount, currency)


def currency_mark(text: str) -> str | None:
    """The currency a text consisting of only its sign, or its code or abbreviation as
    currencies are written ("RM", "USD", "€", "Kč"), names, else None: a cell of its own,
    printed beside an amount, is no label of it."""
    mark = text.strip()
    if not mark or mark in ("f", "F"):
        return None
    if any(ch.isalpha() for ch in mark) and mark != mark.upper() and mark not in _CURRENCY_WORDS.values():
        return None  # "Rm", "Pen", "Try" are words; "RM", "PEN", "Kč" as written are currencies
    return _currency(mark)


def _currency(mark: str) -> str | None:
    if mark in ("f", "F"):
        return "£"
    if mark.lower() in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[mark.lower()]
    if len(mark) == 1:
        return mark if unicodedata.category(mark) == "Sc" else None
    return mark.upper() if mark.upper() in _CURRENCY_CODES else None


def _figure(figure: str) -> Decimal | None:
    """The number of a figure with thousands groups and a decimal point or comma."""
    figure = re.sub(r"[.,][-–]$", "", figure)  # "12,-": whole units
    whole, fraction = figure, ""
    last = max(figure.rfind("."), figure.rfind(","))
    if last >= 0:
        before, after = figure[:last], figure[last + 1 :]
        mark = figure[last]
        if mark in before:  # "1,234,567": the mark groups thousands all the way
            pass
        elif len(after) != 3 or re.search(_GROUP, before) or before in ("", "0"):
            whole, fraction = before, after  # "12,5", "1.234,567", "0.125"
    groups = re.split(_GROUP, whole) if whole else ["0"]
    if len(groups) > 1 and not _valid_groups(groups):
        return None
    try:
        return Decimal("".join(groups) + ("." + fraction if fraction else ""))
    except InvalidOperation:
        return None


def _valid_groups(groups: list[str]) -> bool:
    """Western groups of three ("1,234,567") or Indian lakh groups ("12,34,567")."""
    head, rest = groups[0], groups[1:]
    if not 1 <= len(head) <= 3:
        return False
    if all(len(group) == 3 for group in rest):
        return True
    return len(rest[-1]) == 3 and all(len(group) == 2 for group in rest[:-1])


_PERCENT = re.compile(
    r"^(?P<sign>[-+−])?\s*(?P<figure>\d+(?:[.,]\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?)\s*(?:%|per\s*cent|percent|pct\.?)$",
    re.I,
)


def parse_percent(text: str) -> Decimal | None:
    """The percentage `text` spells ("12.5%", "12,5 %", "-3 percent", "6 per cent"), or None."""
    match = _PERCENT.match(text.strip())
    if not match:
        return None
    figure = match["figure"]
    number = Decimal(figure.replace(",", "")) if re.search(r",\d{3}", figure) else Decimal(figure.replace(",", "."))
    return -number if match["sign"] in ("-", "−") else number


_PHONE = re.compile(
    r"^(?P<plus>\+)?[\d\s().\-/]*\d[\d\s().\-/]*?(?:\s*(?:ext\.?|x|#)\s*(?P<extension>\d{1,6}))?$", re.I
)


def parse_phone(text: str) -> str | None:
    """The phone number `text` spells, as "+" and digits or digits only ("+1 555-123-4567"
    → "+15551234567", "(578) 470-8659" → "5784708659"), or None. 7 to 15 digits (E.164's
    longest), an optional extension; a date, a time or a price is not a phone number."""
    stripped = text.strip()
    match = _PHONE.match(stripped)
    if not match:
        return None
    body = stripped[: match.start("extension")] if match["extension"] else stripped
    digits = re.sub(r"\D", "", body)
    if body.count("(") != body.count(")") or body.count("(") > 2:
        return None
    if not 7 <= len(digits) <= 15:
        return None
    if parse_date(stripped) is not None or parse_time(stripped) is not None or parse_money(stripped) is not None:
        return None
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", stripped):
        return None  # "1.234.567": a number in groups of three, not a phone
    return ("+" if match["plus"] else "") + digits


# Local part and domain allow any letters (internationalised addresses, RFC 6531).
_EMAIL = re.compile(r"^[\w.+'-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}$")


# A web address: a scheme or "www." before a host, or a host under a common top-level domain
# ("shop.example.com/menu"); "Dr.Smith" or "No.5" are no address.
_URL = re.compile(r"^(?:(?P<scheme>https?://)|(?P<www>www\.))?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
                  r"(?P<tld>[a-z]{2,24})(?::\d{1,5})?(?:/\S*)?$", re.I)
_COMMON_DOMAINS = frozenset(
    "com org net edu gov int mil io info biz co us uk de fr es it nl be ch at eu my sg au ca in jp cn ru pl se dk fi "
    "ie nz za br mx ar".split()
)  # not "no": "Dept.no", "Auth. No." number things


def parse_url(text: str) -> str | None:
    """The web address `text` spells (spaces the recognizer inserted removed), or None."""
    compact = re.sub(r"\s+", "", text.strip()).rstrip(".,;")
    match = _URL.match(compact)
    if match is None or "@" in compact:
        return None
    if not (match["scheme"] or match["www"] or match["tld"] in _COMMON_DOMAINS):  # as written: "Inc.COM" is no host
        return None
    return compact


def split_mailbox(text: str) -> tuple[str, str] | None:
    """An e-mail header's mailbox, a display name and its address ("Lena Vogt
    <lena.vogt@example.de>", "Lena Vogt (lena.vogt@example.de)"): (name, address), or None."""
    match = re.fullmatch(r"\s*(?P<name>[^<>()@]*[^\W\d_][^<>()@]*?)\s*[<(](?P<address>[^<>()\s]+@[^<>()\s]+)[>)]\s*", text)
    if match is None:
        return None
    address = parse_email(match["address"])
    return (match["name"].strip(' "'), address) if address else None


def parse_email(text: str) -> str | None:
    """The e-mail address `text` spells, spaces the recognizer inserted removed, or None."""
    compact = re.sub(r"\s+", "", text.strip()).rstrip(".")
    if not _EMAIL.match(compact) or ".." in compact or compact.startswith("."):
        return None
    local, domain = compact.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


# A name word: letters of any script (and combining marks), inner apostrophes, hyphens and
# abbreviation dots ("O'Brien", "Jean-Luc", "S.à", "r.l.", "Dr."); "&" stands alone.
_NAME_WORD = r"(?:[^\W\d_][^\W\d_'’.\-]*(?:[-'’.][^\W\d_]+)*\.?|&)"
# Names joined by "&", or by a slash with a space beside it ("Williams/ Giordano", a form's
# "M. HAMERTON / enm": the writer and the typist's initials); "N/A" and "B/W" join no names.
_NAME = re.compile(rf"^{_NAME_WORD}(?:(?:,?\s+|\s*&\s*|\s*/\s+|\s+/\s*){_NAME_WORD})*$")
# A passenger as airlines print one: surname/given names and a title ("HANSEN/ERIK MR").
_TICKET_NAME = re.compile(r"^[A-Z][A-Z'-]+/[A-Z][A-Z' -]*?\s+(?:MR|MRS|MS|MSTR|MISS|DR)\.?$")


def is_name(text: str) -> bool:
    """Whether `text` could name a person or an organisation: words of letters in any script
    ("Müller", "Łukasz Wójcik", "José Núñez", "Søren", "Café Noir S.à r.l.", "AT&T"), no
    digits, inner punctuation only."""
    text = unicodedata.normalize("NFC", text.strip())
    return bool(text) and text[0] != "&" and (_NAME.match(text) is not None or _TICKET_NAME.match(text) is not None)
