"""The issuer's block at the top of a receipt, an invoice or a letter: its name, then its
registration numbers, then its address, then its phone, e-mail and tax numbers.

    SUPER SEVEN CASH & CARRY SDN BHD        ← the issuer (one line, or two that read as one)
    (590150-A)                              ← registration: skipped
    NO. 1 JALAN EURO 1                      ← the address: the lines up to the first contact
    OFF JALAN BATU TIGA                        line, labelled line or document title
    SUNGAI BULOH SEKSYEN U3 SHAH ALAM
    TEL: 03-78590861                        ← contact lines end the block

Read from the geometry and the shape of each line, not from any document's wording: a
name is words without figures (`values.is_name`); an organisation's name may end in a legal
form ("SDN BHD", "Ltd", "GmbH": the general suffixes of company law, `LEGAL_FORMS`) and one
that does is preferred over a person's name above it; a registration is a bracketed or
labelled identifier; contact lines carry a phone number, an e-mail, a web address, a date
or a "label:" (TEL:, GST ID:). Pure Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtime.ocr.grid import group_regions
from runtime.results import TextLine

from . import intents, vocabulary
from .document import adjacent
from .spelling import compact
from .values import find_dates, find_times, is_name, parse_email, parse_money, parse_phone

# Legal forms of companies in many jurisdictions, as they end a registered name (forms that
# are also everyday words, "SA", "SPA", "AS", "AG", are left out).
LEGAL_FORMS = (
    "sdn bhd", "bhd", "berhad", "ltd", "limited", "llc", "inc", "incorporated", "corp", "corporation", "co",
    "company", "plc", "llp", "gmbh", "kg", "sarl", "srl", "bv", "nv", "oy", "pty", "pte", "kk", "pvt", "ooo",
    "s/b",  # Malaysia's short form of "Sdn Bhd"
)  # fmt: skip
# Legal forms that also end addresses and item lines ("JALAN 3 KG": kampung; "10 KG"; "& CO"
# after a house number): not enough to make a line that holds figures a name.
_AMBIGUOUS_FORMS = frozenset({"kg", "co", "bv", "nv", "oy", "kk"})
_LEGAL_ENDINGS = tuple(sorted({compact(form) for form in LEGAL_FORMS}, key=len, reverse=True))
# Lines printed at the very top before the issuer (a title, a table number): at most this many.
_MAX_LEADING = 3
_MAX_ADDRESS_LINES = 5
# Address lines stand at most this × their height apart (a line the recognizer missed between two).
_ADDRESS_GAP_RATIO = 3.0
_BRACKETED = re.compile(r"^\(?[^()]*\d[^()]*\)?$")
_LABELLED = re.compile(r"^[^\d:]{1,24}[:：]")
_WEB = re.compile(r"(https?:|www\.|\.(com|net|org)\b)", re.I)
_REGISTRATION = re.compile(r"\s*\([^()]*\d[^()]*\)?\s*$")


@dataclass(frozen=True)
class Letterhead:
    issuer: tuple[int, ...]  # indices of the cells of the issuer's name ((): none found)
    address: tuple[int, ...]  # indices of the cells of its address
    # Whether more than a first line of words says it is an issuer: a legal form, an
    # address, or a registration or contact line right below ("Chapter one" is no issuer).
    certain: bool = False


def ends_in_legal_form(text: str) -> bool:
    """Whether a name ends in a legal form: its last words ("Old Mill Software Inc.", "NING SDN.
    BHD."), or, when the recognizer ran the whole name together, the end of that one run of
    letters ("OJCMARKETINGSDNBHD"; "Kansas" and "Empty" are words, not runs)."""
    name = _REGISTRATION.sub("", text).strip()
    words = [compact(word) for word in name.split() if compact(word)]
    if not words:
        return False
    for count in (2, 1):
        if len(words) > count and "".join(words[-count:]) in _LEGAL_ENDINGS:
            return True
    run = words[-1] if len(words) == 1 else ""
    return len(run) >= 10 and any(run.endswith(ending) and len(ending) >= 3 for ending in _LEGAL_ENDINGS)


def _bare_legal_form(text: str) -> bool:
    """A legal form after a single word ("STATIONERY SDN. BHD", "NING SDN. BHD."): the end of a name begun on the line above, not a name of its own
    ("Old Mill Software Inc.")."""
    name = _REGISTRATION.sub("", text).strip()
    words = [compact(word) for word in name.split() if compact(word)]
    squeezed = "".join(words)
    for ending in _LEGAL_ENDINGS:
        if squeezed.endswith(ending) and len(squeezed) > len(ending):
            rest = squeezed[: -len(ending)]
            return len(words) > 1 and words[0] == rest  # one run of letters cannot say where the name began
    return False


# A key, its colon and a value ("Company: Sakura Design KK", "Guest: Mr. Watanabe"): a
# field about someone on the page, not the issuer's own name line.
_KEYED = re.compile(r"^[^\W\d_][^\W\d_ .'/&-]*(?:\s+[^\W\d_][^\W\d_.'/&-]*){0,3}\s*:\s*\S")


def _is_name_line(text: str) -> bool:
    """Words without figures once a registration number is cut off; bracketed words are part
    of a name ("GARDENIA BAKERIES (KL) SDN BHD"), a bracket left open at the end is not ("(CO").
    A registered name may open with figures ("99 SPEED MART S/B", "7-ELEVEN MALAYSIA SDN BHD")
    when it ends in a legal form that is no unit or abbreviation of an address ("3 KG", "CO")."""
    bare = re.sub(r"\([^()]*$", "", _REGISTRATION.sub("", text))
    bare = re.sub(r"[()]", " ", bare).strip(" *-&")
    letters = sum(ch.isalpha() for ch in bare)
    if letters < 3 or is_document_title(bare) or _KEYED.match(bare):
        return False
    if _is_column_titles(bare):
        return False
    if ends_in_legal_form(bare):
        if not any(ch.isdigit() for ch in bare):
            return True  # "KECHARA VEGETARIAN RESTAURANT S/B"
        first, _, rest = bare.partition(" ")
        words = [compact(word) for word in bare.split() if compact(word)]
        return (any(ch.isdigit() for ch in first) and bool(rest) and not any(ch.isdigit() for ch in rest)
                and words[-1] not in _AMBIGUOUS_FORMS)
    return is_name(bare)


def _is_column_titles(text: str) -> bool:
    """Words that only say what type of value stands under them ("Name Phone", "Date Amount"):
    a table's column titles, which name nobody."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    return bool(words) and words <= vocabulary.GENERIC


def _is_table_row(texts: list[str]) -> bool:
    """A row of a table, not a line of an address: three cells or more with figures ("Week 1 |
    Week 2 | Week 3"), or two amounts side by side ("Tyres | 5,520.81 | 7,928.46"). An address
    line spaced out ("Leeds | LS1 4AB | United Kingdom") has one figure at most."""
    figures = sum(1 for text in texts if parse_money(text, currency_optional=True) is not None)
    numbered = sum(1 for text in texts if any(ch.isdigit() for ch in text))
    return numbered >= 3 or figures >= 2


def _is_dated_or_phone(text: str) -> bool:
    """A date, a time or a phone number (a "label:" is not: "Bill To: | Jane Doe" names no issuer)."""
    return bool(find_dates(text) or find_times(text) or parse_phone(text))


def _is_contact(text: str) -> bool:
    """A line that ends the address: a phone, e-mail, web address, date or time, or a label."""
    return bool(_LABELLED.match(text) or _is_dated_or_phone(text) or parse_email(text) or _WEB.search(text))


def _is_registration(text: str) -> bool:
    """"(590150-A)", "1203399-T", "CO-REG:860671-D": an identifier between name and address."""
    bare = text.strip()
    if _BRACKETED.match(bare) and bare.startswith("("):
        return True
    token = compact(bare)
    return bool(re.fullmatch(r"\d{5,}[a-z]?", token)) or (":" in bare and any(ch.isdigit() for ch in bare.split(":", 1)[1]))


def is_document_title(text: str) -> bool:
    """Whether a line names the document itself ("TAX INVOICE", "Cash Bill"), not its issuer."""
    if ends_in_legal_form(text):  # "PAPER MILL SDN BHD" is a company
        return False
    words = {word.lower() for word in re.findall(r"[^\W\d_]+", text)}
    if words & (intents.DOCUMENT_NOUNS | _TITLE_NOUNS):
        return True
    squeezed = compact(text)  # "SIMPLIFIEDTAXINVOICE": the recognizer dropped the spaces
    return any(noun in squeezed for noun in intents.DOCUMENT_NOUNS if len(noun) >= 7)


# Nouns that name a kind of document in its title ("MEMORANDUM", "PURCHASE REQUISITION"),
# besides the names requests call documents by (`intents`), and that no business is named
# after: "Statement Jewelry", "Minutes Cafe" and "ABC Contractors" are businesses. Whole
# words only ("CONTRACTORS" holds "contract").
_TITLE_NOUNS = frozenset("memorandum requisition quotation voucher transmittal".split())


def read_letterhead(cells: tuple[TextLine, ...]) -> Letterhead:
    """The issuer's name and address at the top of the page; a line that names the document
    itself ("TAX INVOICE") is no issuer."""
    rows = group_regions([cell.box for cell in cells]).rows
    lines = [(row, " ".join(cells[i].text.strip() for i in row)) for row in rows]
    # A table's header ("Name | Phone") ends the top of the page: its rows name no issuer.
    header = next((k for k, (row, _) in enumerate(lines)
                   if len(row) > 1 and all(_is_column_titles(cells[i].text) for i in row)), len(lines))
    lines = lines[:header]
    for position, (row, _) in enumerate(lines[: _MAX_LEADING + 2]):
        # A company's name beside a person's ("Adrian Brennan   Old Mill Software Inc."): the company.
        # Not a key's value ("Company: | Sakura Design KK"): a field about someone on the page.
        legal = [i for slot, i in enumerate(row) if len(row) > 1 and ends_in_legal_form(cells[i].text)
                 and not _KEYED.match(cells[i].text.strip()) and not (slot and cells[row[slot - 1]].text.rstrip().endswith(":"))]
        if legal:
            lines[position] = ((legal[0],), cells[legal[0]].text.strip())
            continue
        # A name beside a date, a phone or the document's title ("Redstone Media | 22 Jun 2023"):
        # the name is the line; the rest is printed beside it.
        beside = [i for i in row if _is_dated_or_phone(cells[i].text)
                  or (is_document_title(cells[i].text) and not cells[i].text.rstrip().endswith(":"))]
        named = [i for i in row if i not in beside and _is_name_line(cells[i].text)]
        if len(row) > 1 and beside and len(named) == 1 and len(beside) + 1 == len(row):
            lines[position] = ((named[0],), cells[named[0]].text.strip())
    top = lines[: _MAX_LEADING + 2]
    names = [k for k, (_, text) in enumerate(top) if _is_name_line(text)]
    if not names:
        return Letterhead((), ())
    legal = [k for k in names if ends_in_legal_form(top[k][1])]
    start = end = legal[0] if legal else names[0]
    if start > _MAX_LEADING:
        return Letterhead((), ())
    # Two lines that read as one name: "MUN HENG ELECTRICAL &" / "HARDWARE SUPPLY",
    # "WESTERN EASTERN" / "STATIONERY SDN. BHD".
    if legal and start > 0 and start - 1 in names and not ends_in_legal_form(top[start - 1][1]) and (
        top[start - 1][1].rstrip().endswith("&") or _bare_legal_form(top[start][1])
    ):
        start -= 1
    elif not ends_in_legal_form(top[end][1]) and end + 1 in names and (
        top[end][1].rstrip().endswith("&") or ends_in_legal_form(top[end + 1][1])
    ):
        end += 1
    issuer = tuple(i for row, _ in lines[start : end + 1] for i in row)
    position = end + 1
    certain = bool(legal) or (position < len(lines) and (_is_registration(lines[position][1]) or _is_contact(lines[position][1])))
    while position < len(lines) and _is_registration(lines[position][1]):
        position += 1
    address: list[int] = []
    taken = 0
    while position < len(lines) and taken < _MAX_ADDRESS_LINES:
        row, text = lines[position]
        previous = lines[position - 1][0]
        if not adjacent(cells[previous[-1]], cells[row[0]], _ADDRESS_GAP_RATIO) or _is_contact(text) or is_document_title(text) \
                or _is_registration(text) or _is_table_row([cells[i].text for i in row]):
            break  # a gap, a contact line, a title, a number or a table's row ends the address
        address.extend(row)
        taken += 1
        position += 1
    if not any(ch.isdigit() for i in address for ch in cells[i].text):
        address = []  # a street address has a house number or a postal code
    return Letterhead(issuer, tuple(address), certain or bool(address))
