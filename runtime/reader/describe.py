"""A grounded description of a page of text: what it looks like, and facts copied from it.

Every fact in the sentence is a span of the recognized text (its heading, its issuer from
the letterhead, its first date, the amount its arithmetic or layout names as the total, its
subject line, the name after a greeting), returned with the
cells it came from; the kind of page ("a receipt", "a letter") is the nearest of a few
short descriptions of kinds of pages to the page's own text, said as a likeness ("looks
like"), and left out when nothing is near. Nothing is generated, so nothing is invented.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from runtime.ocr.grid import group_regions
from runtime.results import TextLine

from .answering import MIN_TOTAL_SIMILARITY, TOTAL_KEY, paid_total, summed_total
from . import vocabulary
from .document import Field, extract_fields, is_label
from .intents import DOCUMENT_NOUNS
from .letterhead import ends_in_legal_form, read_letterhead
from .types import AMOUNT, IDENT, question_type, value_types
from .values import find_dates

# Kinds of pages, each described the way its text reads.
KINDS = {
    "receipt": "a shop receipt: items bought, their prices, the total paid and the payment at the till",
    "invoice": "an invoice: a bill for goods or services, the amount due, the due date and payment terms",
    "form": "a filled-in form: labelled fields such as name, date of birth, address and signature",
    "letter": "a letter: a greeting to a person, paragraphs of text and a signature",
    "table": "a table: figures in rows and columns under column headings",
    "page of text": "a page of printed prose: sentences and paragraphs of an article, book or report",
    "screenshot": "a screenshot of an app or web page: menus, buttons, settings and short labels",
    "sign": "a sign, label or poster with a few large words",
}
# The page's kind is said only when its text is clearly nearest one description: the
# encoder's similarity of a whole page to a description is weak evidence (a letter came
# out nearer "receipt" at 0.34), so below these the page is just "a page with text".
MIN_KIND_SIMILARITY = 0.45
MIN_KIND_MARGIN = 0.1
# A page's subject line: the field whose key is this near the sentence ("Subject:", "Topic:"),
# or a letter's "Re:", too short for the encoder to place.
SUBJECT_SENTENCE = "the subject or topic it is about"
MIN_SUBJECT_SIMILARITY = 0.5
_SUBJECT_MARKS = frozenset({"re", "subj"})
_MAX_QUOTE_CHARS = 60
# What a summary lists after the description: keys with their values, as many as this.
_SUMMARY_FIELDS = 6
_MAX_SUMMARY_KEY = 30
_SUMMARY_SOURCES = frozenset({"colon", "neighbour", "pair", "below"})


@dataclass(frozen=True)
class Description:
    text: str
    evidence: tuple[TextLine, ...]  # the cells the facts were copied from


class Describer:
    """Describes pages; `embed` maps texts to unit vectors. Read-only after construction."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]):
        self._embed = embed
        self._kinds = list(KINDS)
        vectors = embed([*KINDS.values(), TOTAL_KEY, SUBJECT_SENTENCE])
        self._kind_vectors, self._total_vector, self._subject_vector = vectors[:-2], vectors[-2], vectors[-1]

    def describe(self, cells: tuple[TextLine, ...]) -> Description:
        """One or two sentences about the page whose cells (from `read_cells`) are given."""
        rows = group_regions([cell.box for cell in cells]).rows
        heading = _heading(cells, rows)
        head = read_letterhead(cells)
        issuer = head.issuer if head.certain else ()
        facts: list[tuple[str, int]] = []  # (phrase, cell index)
        fields = extract_fields(cells)
        stated = _stated_kind(cells, rows, fields, head.issuer)  # "a memorandum", with its article
        kind_said = stated.split(" ", 1)[1] if stated else None  # its words, not quoted again as
        # the heading or the issuer ("a memorandum headed "MEMORANDUM"")
        if heading is not None and heading not in issuer and cells[heading].text.strip().lower() != kind_said:
            facts.append((f'headed "{_quote(cells[heading].text)}"', heading))
        issuer = tuple(index for index in issuer if cells[index].text.strip().lower() != kind_said)
        if issuer:  # "Alpenland Savings Bank | Account Statement": the bank, not its title
            name = " ".join(cells[index].text.strip() for index in issuer)
            if name.lower() != kind_said:  # not "a quality report from "QUALITY REPORT""
                facts.append((f'from "{_quote(name)}"', issuer[0]))
        date = _page_date(fields, cells) or _first_date(cells, rows, fields)
        if date is not None:
            facts.append((f"dated {date[0]}", date[1]))
        total = self._total(cells, fields)
        if total is not None:
            facts.append((f"with a total of {total[0]}", total[1]))
        subject = self.subject(cells, fields)
        if subject is not None and not any(subject.line == index for _, index in facts):
            facts.append((f'about "{_quote(subject.value)}"', subject.line))
        addressee = next((f for f in fields if f.source == "greeting"), None)
        if addressee is not None:
            facts.append((f"addressed to {addressee.value}", addressee.line))
        kind = None if stated else self._kind(cells)
        opening = f"This is {stated}" if stated else f"This looks like {kind}" if kind else "This is a page with text"
        if facts:
            text = f"{opening} {', '.join(phrase for phrase, _ in facts)}."
        else:
            text = f'{opening}, beginning "{_quote(cells[rows[0][0]].text)}".'
            facts.append(("", rows[0][0]))
        evidence = tuple(cells[index] for index in sorted({index for _, index in facts}))
        return Description(text, evidence)

    def summarize(self, cells: tuple[TextLine, ...]) -> Description:
        """The description (`describe`) and, after it, the page's first keys with their values
        as written ("Guest: Mr. Kenji Watanabe; Folio no.: F-88213; ..."): keys the page ends
        with a colon, of four words at most, at most `_SUMMARY_FIELDS` of them, short values,
        none the description already gives."""
        description = self.describe(cells)
        said = {id(cell) for cell in description.evidence}
        chosen: dict[str, tuple[str, str, Field]] = {}  # by the key's lower case: (key, value, field)
        for field in sorted(extract_fields(cells), key=lambda f: f.line):
            key, value = field.key.strip().rstrip(":：").strip(), field.value.strip()
            # a key the page writes as one ("Patient:"), not a line over the next of a block
            written = field.source == "colon" or field.key_line >= 0 and cells[field.key_line].text.strip().endswith((":", "："))
            if field.source not in _SUMMARY_SOURCES or not written or not key or not value or key.lower() in chosen \
                    or len(key) > _MAX_SUMMARY_KEY or len(key.split()) > 4 or len(value) > _MAX_QUOTE_CHARS \
                    or any(id(cells[i]) in said for i in field.lines):
                continue
            chosen[key.lower()] = (key, value, field)
            if len(chosen) == _SUMMARY_FIELDS:
                break
        if not chosen:
            return description
        listed = "; ".join(f"{key}: {value}" for key, value, _ in chosen.values())
        lines = {i for _, _, f in chosen.values() for i in (*f.lines, f.key_line) if i >= 0}
        evidence = tuple(dict.fromkeys((*description.evidence, *(cells[i] for i in sorted(lines)))))
        return Description(f"{description.text} It lists {listed}.", evidence)

    def heading(self, cells: tuple[TextLine, ...]) -> int | None:
        """The index of the page's heading cell (its first cell with letters, in the top two
        rows), or None."""
        return _heading(cells, group_regions([cell.box for cell in cells]).rows)

    def subject(self, cells: tuple[TextLine, ...], fields: list[Field] | None = None) -> Field | None:
        """The page's subject line: the value of the key nearest SUBJECT_SENTENCE, when it is
        as near as MIN_SUBJECT_SIMILARITY ("Subject: Request for samples"); None otherwise.
        `fields`: the cells' `extract_fields`, when the caller has them."""
        fields = extract_fields(cells) if fields is None else fields
        # A subject is words: not a code ("Subject code: CH-201"), nor a key asking for one; words
        # may name one ("Shipment delayed - order #A-55812").
        keyed = [f for f in fields if f.key and f.source in ("colon", "neighbour", "below", "column")
                 and any(ch.isalpha() for ch in f.value) and question_type(f.key) != IDENT
                 and (IDENT not in value_types(f.value) or len(re.findall(r"[^\W\d_]{2,}", f.value)) >= 2)]
        if not keyed:
            return None
        keys = sorted({f.key for f in keyed})
        similarity = dict(zip(keys, (self._embed(keys) @ self._subject_vector).tolist()))
        for key in keys:  # a letter's "Re:" ("in the matter of") states its subject by convention
            if key.strip().rstrip(".").lower() in _SUBJECT_MARKS:
                similarity[key] = 1.0
        best = max(keyed, key=lambda f: (similarity[f.key], -f.line))
        return best if similarity[best.key] >= MIN_SUBJECT_SIMILARITY else None

    def _kind(self, cells) -> str | None:
        text = " ".join(cell.text for cell in cells)
        similarities = self._kind_vectors @ self._embed([text])[0]
        second, best = np.argsort(similarities)[-2:]
        if similarities[best] < MIN_KIND_SIMILARITY or similarities[best] - similarities[second] < MIN_KIND_MARGIN:
            return None
        kind = self._kinds[best]
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"

    def _total(self, cells, fields: list[Field]) -> tuple[str, int] | None:
        """The amount a receipt's arithmetic says was paid (`answering.paid_total`), else the
        amount whose label is nearest to "total amount to pay" (the lowest one on ties), else
        the amount the ones above it add up to (`answering.summed_total`)."""
        paid = paid_total([f for f in fields if AMOUNT in value_types(f.value)], cells)
        if paid is not None:
            return paid.value, paid.line
        keyed = [f for f in fields if f.key and AMOUNT in value_types(f.value)]
        if not keyed:
            return None
        # An amount with a label in its own row is a total by that label, not by a heading
        # above it: "Amount" over an item's 20.00 heads every item's amount; the row "Total"
        # holds the total, whatever its column is called.
        row_label = {f.line: f.row for f in fields if f.source == "table" and f.row}
        row_label.update({f.line: f.key for f in fields if f.source == "row"})
        labels = [row_label.get(f.line, f.key) if f.source in ("table", "column", "below") else f.key for f in keyed]
        similarities = self._embed(labels) @ self._total_vector
        best = max(range(len(keyed)), key=lambda i: (round(float(similarities[i]), 3), keyed[i].line))
        if similarities[best] < MIN_TOTAL_SIMILARITY:
            summed = summed_total(fields, cells)  # a key in words the encoder does not place ("Gesamtbetrag")
            return (summed.value, summed.line) if summed is not None else None
        return keyed[best].value, keyed[best].line


def _stated_kind(cells, rows, fields: list[Field], issuer: tuple[int, ...]) -> str | None:
    """The kind of page the page itself says it is, with its article: a title in its top rows
    that ends in a kind of document ("Dinner Menu · Open Tue-Sun", "PURCHASE REQUISITION
    FORM", "Staff Directory - Riverside Clinic") or names it before "of" ("CERTIFICATE OF
    COMPLETION", "BILL OF LADING"); a greeting and a signature make a letter;
    an e-mail's or a memo's header keys ("From:" with "To:", "Sent:" or "Subject:") one of
    those, an e-mail where they hold an address. None when it says nothing of its kind.
    `issuer`: the letterhead's issuer cells (`read_letterhead`), certain or not."""
    for row in rows[:_KIND_TITLE_ROWS]:
        for index in row:
            text = cells[index].text.strip()
            if ":" in text or ends_in_legal_form(text):  # a key and its value; a company's name
                continue
            parts = re.split(r"\s*[·|•–—]\s*|\s+-\s+", text)
            for part in parts:
                words = part.split()
                lowered = [w.lower() for w in words]
                # the kind last ("PACKING LIST") or before "of" ("CERTIFICATE OF COMPLETION")
                before_of = any(word in KIND_NOUNS and after == "of" for word, after in zip(lowered, lowered[1:-1]))
                named = bool(lowered) and (lowered[-1] in KIND_NOUNS or before_of)
                if not (1 <= len(words) <= 4 and named and all(w.isalpha() for w in words)) \
                        or lowered[0] in _DETERMINERS:  # "THE ROUND TABLE" is a restaurant
                    continue
                # A word that also names other things ("Bucket List", "Hall Pass", "Home |
                # Shop | Register", "Order") names the page's kind only in a title set in
                # capitals, after words that say which ("PACKING LIST"), beside at most one
                # word ("PENALTY CHARGE NOTICE - Parking"), and not the issuer's name alone on
                # its line.
                others = [other for other in parts if other is not part]
                if lowered[-1] in AMBIGUOUS_KINDS and not before_of and (
                        len(words) < 2 or not part.isupper() or len(others) > 1 or any(len(o.split()) > 1 for o in others)
                        or index in issuer and not any(i in issuer for i in row if i != index)):
                    continue
                phrase = " ".join(lowered)
                return f"{'an' if phrase[0] in 'aeiou' else 'a'} {phrase}"
    keyed = {re.sub(r"\W", "", f.key.lower()): f for f in fields if f.key and f.source == "colon"}
    if "from" in keyed and keyed.keys() & {"to", "sent", "subject"}:
        mailed = any("@" in keyed[key].value for key in ("from", "to", "cc") if key in keyed)
        return "an e-mail" if mailed else "a memo"
    if {"greeting", "closing"} <= {f.source for f in fields}:
        return "a letter"
    return None


# Words a page's title ends in when it names the kind of page ("Lab Report", "Bank Statement").
# Nouns that also name things on a page or in a business's name ("Table: 12", "Hallmark
# Card", "Atlas Label Co.", "Order: 4471", "Delivery Schedule" in a subject) are left out.
KIND_NOUNS = frozenset(
    "receipt invoice form letter memo memorandum menu ticket statement report directory certificate requisition "
    "quotation voucher agenda minutes timetable itinerary prescription contract agreement application manifest "
    "datasheet sheet timesheet folio transcript diploma waybill warrant summons licence license".split()
)
# Kinds of page whose words also name other things (a bar, a menu item, a link).
AMBIGUOUS_KINDS = frozenset("notice pass list bill slip label order estimate permit policy schedule record log register summary".split())
KIND_NOUNS |= AMBIGUOUS_KINDS
_DETERMINERS = frozenset("the a an this that your our my his her their its".split())
_KIND_TITLE_ROWS = 3


def _heading(cells, rows) -> int | None:
    """The page's title: the first cell of its top `_HEADING_ROWS` rows that reads as one
    (`_titles`), else the first cell of those rows with letters in it but a page number."""
    top = [index for row in rows[:_HEADING_ROWS] for index in row]
    titles = [index for index in top if _titles(cells[index].text)]
    if titles:
        return titles[0]
    return next((index for index in top if sum(ch.isalpha() for ch in cells[index].text) >= 2
                 and not _page_number(cells[index].text) and not _function_words_only(cells[index].text)), None)


# Words that name nothing alone: a logo set one word a line ("THE | AMERICAN | TOBACCO |
# COMPANY" on a FUNSD form) has a first line that is no title.
_FUNCTION_WORDS = frozenset("a an the of and or to in on at by for with from".split())


def _function_words_only(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text.lower())
    return bool(words) and all(word in _FUNCTION_WORDS for word in words)


_HEADING_ROWS = 2


def _titles(text: str) -> bool:
    """Whether a cell may be a page's title: mostly letters, with a word of three (two in a
    script written without spaces: "发票"), not a key and its value ("To:", "Date: 5 May"; a
    "Chapter 3: Safety" is a title), nor a date, a time or a page number ("Page 1 of 10")."""
    text = "".join(ch for ch in text.strip() if not unicodedata.category(ch).startswith("M"))  # "चालान": vowel signs
    letters = sum(ch.isalpha() for ch in text)
    if not re.search(r"[^\W\d_]{3}|[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]{2}", text) \
            or letters < 0.6 * len(text.replace(" ", "")):
        return False
    key, colon, _ = text.partition(":")
    if colon and (not key.strip() or is_label(key.strip())):
        return False
    if any(end - start >= 0.5 * len(text) for start, end, _ in find_dates(text)):
        return False
    return not _page_number(text) and not _function_words_only(text)


def _page_number(text: str) -> bool:
    """"Page 1 of 10.", "Page No. 2", "PAGE # 3"."""
    return _PAGE_NUMBER.fullmatch(text.strip().rstrip(" .,;")) is not None


_PAGE_NUMBER = re.compile(r"(?i)page\s*(?:no\.?|number|#)?\s*\d+(\s*(of|/)\s*\d+)?")


def _page_date(fields: list[Field], cells) -> tuple[str, int] | None:
    """The date of the page's own date entry, a key that says only "Date" (or "Dated", or the
    date of the document by its name: "Invoice date"), as a question for the date finds it; a
    stamp or a target date above it ("RECEIVED APR 2 1984") is not the page's date."""
    for field in sorted((f for f in fields if f.key and f.source in _ENTRY_SOURCES), key=lambda f: f.line):
        words = set(vocabulary.label_words(field.key))
        if words & _DATE_WORDS and words <= _DATE_WORDS | DOCUMENT_NOUNS:
            for start, end, _ in find_dates(field.value)[:1]:
                date = field.value[start:end].strip()
                # the cell the date is written in, of a value over several lines
                line = next((index for index in field.lines if date in cells[index].text), field.line)
                return date, line
    return None


_DATE_WORDS = frozenset({"date", "dated"})
# A key and its own value: not a table's "Date" column, whose first row is one line's date.
_ENTRY_SOURCES = frozenset({"colon", "neighbour", "pair", "inline", "below"})


def _first_date(cells, rows, fields: list[Field]) -> tuple[str, int] | None:
    """The first date in reading order, not one a key qualifies ("Date of birth", "DOB",
    "Due date"): that date is not the page's."""
    qualified = {i for f in fields if f.key and vocabulary.qualifiers(f.key) for i in f.lines}
    for row in rows:
        for index in row:
            if index in qualified:
                continue
            text = cells[index].text
            for start, end, _ in find_dates(text)[:1]:
                return text[start:end].strip(), index
    return None


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_QUOTE_CHARS else text[: _MAX_QUOTE_CHARS - 1].rstrip() + "…"
