"""Grounded question answering over recognized regions (the OCR detector's boxes and their text).

The answer is always a span of the recognized text, or "not found". Steps:
1. `read_cells` joins the OCR regions into cells, `extract_fields` lists candidate spans
   with the words that label them;
2. the question's expected type (amount, date, id, ...) drops spans of the wrong type;
3. a label matches when the question names it: the label's words must mostly appear in the
   question and the question's specific words (not the type words "amount", "date", ...)
   mostly in the label. Words are compared after stemming ("No.", "Nr." and "#" read as
   "number"), as the recognizer misreads them
   (a word within one or two character edits: `spelling.occurs_in`), and labels it wrote
   without spaces ("TOTALSALES") are split into the sentence encoder's whole words first.
   A cell that opens with the question's words keys its rest ("Client Group BATKorea").
   MiniLM similarity between the question's focus words and the label orders the matches;
   a label named in full answers even when its value's type is not recognized ("New
   Balance: 311.455"), unless the value is of another type the rules read reliably;
4. the language model breaks near-ties among the best matches (it is weak: 135M, and its
   int8 variant deviates, so it never overrides a clearly better label match);
5. some values need no label: the letterhead (`letterhead`) names the issuer and its
   address unless the question is clearly about another party; a receipt's arithmetic
   (total, tendered, change) or the key nearest "total amount to pay" gives its total; a
   document's first date, time, phone, e-mail or street line answers a question about that
   type unless the question qualifies it ("due date", "date of birth") and no label says so;
6. a total question whose best key holds "total" but not the rest of what it says ("grand
   total" and a tax summary's "TOTAL") takes the receipt's arithmetic total instead; a
   request that is a key's bare name ("To?") is looked up as written (`field_named`), since
   short keys hold only words the matching drops;
7. general cues of English questions: an abbreviation is spelled out from the initials of
   a key ("DOB" for "Date of birth"); "which company billed it?" asks who billed, so a key
   "Bill to" names the other party; "who wrote it?" is the page's signer; "whose ... is
   it?" its name field; "before tax" is the total less the amount keyed tax, where the
   page's amounts add up so; an item the question names ("Phone charger") says nothing of
   the type asked;
8. nothing matches → "Not found in the image." (never an invented answer).
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from runtime.ocr.grid import group_regions
from runtime.results import TextLine

from . import vocabulary
from .document import LINK_MIN, PEOPLE_SOURCES, Field, extent, extract_fields, cell_height, overlap_across, party_blocks, read_cells, row_label
from . import intents
from .letterhead import is_document_title, read_letterhead
from .roles import (AMOUNT_EXAMPLES, BILLED, DELIVERED, ISSUER, LETTER_EXAMPLES, OTHER, PART, READER, SHIPMENT_EXAMPLES, SOMEONE,
                    SUBJECT, TOTAL, WRITER, ExampleScorer, PartyRouter)
from .spelling import allowed_edits, compact, corrected, edits_within, occurs_in, split_run_together
from .values import find_dates, find_times, parse_money, split_mailbox
from .payment import find_payment
from .types import COUNTED, AMOUNT, ADDRESS, COUNT, DATE, EMAIL, IDENT, ORG, PERCENT, PERSON, PHONE, TEXT, TIME, URL, asks_payment_method, clean_value, compatible, is_street_line, question_type, value_types

NOT_FOUND = "Not found in the image."
# The total of a page: the amount whose key is nearest this sentence (shared with `describe`).
TOTAL_KEY = "total amount to pay"
MIN_TOTAL_SIMILARITY = 0.5
# A question about the page's total stands near TOTAL_KEY (MIN_TOTAL_SIMILARITY, or
# MIN_TOTAL_QUESTION when it says "total") and nearer it than this sentence about the other
# amounts of a bill, by this margin ("grand total" does, "total tax" and "subtotal" do not);
# calibrated on the development sets of bench/reader_dev.py and requests written for it.
PART_SENTENCE = "a subtotal, a tax or a discount"
MIN_TOTAL_QUESTION = 0.4
MIN_TOTAL_MARGIN = 0.08
# Or it stands near example questions about a bill's whole sum (`roles.AMOUNT_EXAMPLES`:
# "What did this trip cost me?" is far from "total amount to pay" but near "What did it all
# cost?"), by this much, and nearer them than the examples about a part by this margin.
# Calibrated on the development sets and the oblique pool of bench/reader_dev.py.
MIN_TOTAL_EXAMPLES = 0.5
MIN_TOTAL_EXAMPLES_MARGIN = 0.06
# ... or less near, but far nearer the whole than any part: of the 127 amount questions of
# the development sets the examples scored (session 47), the 40 between 0.38 and 0.5 asked
# an item's price and stood at most 0.11 nearer the whole, and one asked the sum of the
# lot in words the examples do not have, 0.23 nearer.
MIN_TOTAL_EXAMPLES_CLEAR = 0.4
MIN_TOTAL_EXAMPLES_CLEAR_MARGIN = 0.15
# A question about a name or an address is about someone else than the issuer when it stands
# this much nearer the other party's example questions (`roles`).
OTHER_PARTY_MARGIN = 0.05
# The words of a key that holds a person's own name ("Name", "Full name"; not "Company name").
_PERSON_NAME_WORDS = frozenset({"name", "full"})
# A question about a person asks who the page is about (its name field) when it stands this much
# nearer those example questions (`roles.SUBJECT`) than any other party's.
SUBJECT_MARGIN = 0.03
# How much nearer one of a letter's people's example questions must stand than the other's
# and than other roles' for a question that names no key to ask for that person.
LETTER_ROLE_MARGIN = 0.03
# ... and at least this near them (all-MiniLM-L6-v2: questions about the reader or writer in
# other words 0.55-0.82, about a landlord or a customer 0.30-0.45).
MIN_LETTER_ROLE = 0.5
# A question about a bill's other party asks where the goods go, not who is charged, when it
# stands this much nearer those example questions (`roles.SHIPMENT_EXAMPLES`) than the billed
# party's. Development phrasings (int8 and fp32 alike): questions about whom the invoice is
# billed to -0.39 to -0.12, about the delivery's name -0.08 to 0.42 (12 of 17 over 0.1) and
# street 0.03 to 0.44 (14 of 16).
MIN_DELIVERY_MARGIN = 0.1
# Of several parties' keys ("Bill to", "Ship to"), the one nearest the question by
# this margin (cosine) answers it; else the first. Calibrated on the development sets.
MIN_PARTY_MARGIN = 0.03
# A key the question names in other words: how near the question it must be (cosine of the
# sentence encoder), and how much nearer than any key with another value. Calibrated on the
# development sets of bench/reader_dev.py (generated seeds 1-2, SROIE and FUNSD dev); 0.5 until
# the int8 embedder ran one text per run, whose vectors put "flight number" at 0.503 of a
# receipt's "TEL 03-55423228" (10 of 631 absent questions answered on SROIE dev; 0 at 0.52).
MIN_KEY_SIMILARITY = 0.52
MIN_KEY_MARGIN = 0.1
# ... or less near, but far nearer than any other key (a development question on what work
# someone does and the key "Occupation": 0.465, the next key 0.31), when its value is of no
# strict type the question does not ask for (a phone number is no "flight number"). Development sets of
# bench/reader_dev.py at int8 (session 25): +28 answers over gen1-4, wide, oblique and
# casual; invented on their unanswerable questions wide 19 -> 18 of 236, oblique 13 -> 14 of
# 145, the rest unchanged; FUNSD dev 0 -> 1 of 99, SROIE dev 0 of 100.
MIN_CLEAR_KEY_SIMILARITY = 0.45
MIN_CLEAR_KEY_MARGIN = 0.15
# A question's word stands for a word of the page's keys ("born" for "birth", "telephone" for
# "phone") when the sentence encoder puts the two words this near (cosine), calibrated on the
# development sets of bench/reader_dev.py.
MIN_WORD_SIMILARITY = 0.6
# A question of a value type the page keys several of (dates: "Signed", "Date of birth"), whose
# words name none of the keys: the whole question's cosine to the key's own words (its type
# words left out: "date of birth" as "birth"), and how much nearer than to a key of another
# value. Calibrated at int8 (session 47) on the development sets of bench/reader_dev.py and ~60
# questions a reviewer wrote on forms, contracts and invoices of their own: of the 59 scored
# 0.28 or more, the 14 at 0.38 or more and 0.15 clear of the next asked that key (birth, expiry,
# start, renewal, payment, purchase, issue dates; a company's or an emergency phone); the wrong
# ones stood at most 0.357 ("When is it from?" and "birth").
MIN_ASKED_KEY_SIMILARITY = 0.38
MIN_ASKED_KEY_MARGIN = 0.15
# What a number the question and a key share (or do not) adds to the key's match.
_NUMBER_WEIGHT = 0.3
# A label match this strong (both coverages whole) stands without the expected value type.
_NAMED_KEY = 2.0
# Types whose values the rules read reliably (a date is a date), and those they may miss.
_STRICT_TYPES = frozenset({AMOUNT, DATE, TIME, PHONE, EMAIL, URL, PERCENT})
_LOOSE_TYPES = frozenset({AMOUNT, COUNT, IDENT, PERSON, ORG})

# Fields whose value stands right after its key (same cell, next cell, the line below).
_ADJACENT_SOURCES = frozenset({"neighbour", "pair", "below", "column", "linked"})
# Of the values the linker scores for one key cell (where the likeliest reaches LINK_MIN),
# those scored at least this share of the likeliest stay candidates; the rest are dropped.
LINK_KEEP = 0.3
# Fields keyed by a table's row label and column title (data, not only a label): word for word only.
_DATA_KEYED = frozenset({"table"})
# Types a document usually shows once, often without a label (a letter's date, a receipt's time).
_PRIMARY_TYPES = frozenset({DATE, TIME, PHONE, EMAIL, URL, ADDRESS})


@dataclass(frozen=True)
class AnswerConfig:
    """Thresholds of the decision; tuned on generated documents (bench/docvqa_eval.py, seeds 1-2)."""

    min_label_coverage: float = 0.5  # share of the label's words the question names
    min_question_coverage: float = 0.5  # share of the question's specific words the label holds
    similarity_weight: float = 0.3
    lm_weight: float = 0.05
    lm_margin: float = 0.1  # only candidates this close to the best are scored by the LM
    max_lm_candidates: int = 4


@dataclass(frozen=True)
class Answer:
    text: str  # the answer span, or NOT_FOUND
    found: bool
    evidence: tuple[TextLine, ...]  # the cells the answer comes from
    score: float
    field: Field | None = None  # the candidate that answered

    def names_key(self, request: str) -> bool:
        """Whether the request names the answer's key word for word ("What does the form say
        for physical state?" and the key "PHYSICAL STATE:"): then it asks for that field,
        whatever else it sounds like."""
        if not self.found or self.field is None or not self.field.key:
            return False
        key = vocabulary.label_words(self.field.key)
        return bool(key) and set(key) <= _specific_words(request)


# A request that is only a field's name and a question mark ("Total?", "To?", "Paper?"): how
# people query a form. Longer than this it is a sentence, not a name.
_MAX_BARE_CHARS = 40
_MAX_BARE_WORDS = 4
_QUESTION_OPENINGS = frozenset(
    "what which who whom whose when where why how is are was were do does did has have had can could will would "
    "should shall may must".split()
)


def bare_name(request: str) -> str | None:
    """The field name a request consisting of only a name and "?" asks for ("Bale No.?",
    "To?"), else None. A name made only of whole-page words ("Read this?", "Summary?") is a
    request for the page."""
    text = request.strip()
    if not text.endswith("?") or len(text) > _MAX_BARE_CHARS + 1:
        return None
    name = text[:-1].strip()
    words = re.findall(r"[^\W\d_]+", name.lower())
    if not words or "?" in name or len(name.split()) > _MAX_BARE_WORDS or words[0] in _QUESTION_OPENINGS:
        return None
    if intents.only_whole_page_words(name) and any(
            w in intents.WHOLE_PAGE_WORDS and w not in intents.DOCUMENT_NOUNS for w in words):
        return None  # "Read this?", "Text?" ask for the page; "Paper?", "To?" name a field
    return name


def name_form(text: str) -> str:
    """A key's name as compared across spellings: lowercase letters and digits ("Cas #" -> "cas")."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _header_key(fields: list[Field], name: str, expected: str) -> list[Field]:
    """The page's fields keyed exactly `name` ("To", "From") whose value, of the `expected`
    type, holds a word and no key of its own, first in reading order, where the page's keys
    are a memo's or an e-mail's header: one of them is also a subject, a time sent or a copy
    list ("Subject:", "Re:", "Sent:", "cc:"). A ticket's "From: Leeds | To: York" names places."""
    if not any(name_form(f.key) in _MEMO_KEYS for f in fields):
        return []
    return [f for f in fields if name_form(f.key) == name and f.source in ("colon", "inline", "span")
            and re.search(r"[^\W\d_]", f.value) and ":" not in f.value and compatible(expected, f.value)]


_MEMO_KEYS = frozenset({"subject", "re", "sent", "cc", "bcc"})


def _specific(focus: list[str], owners: list[str]) -> list[str]:
    """The question's focus words that name what is asked: not a type word ("amount",
    "date") nor the owner of it ("the patient's")."""
    return [w for w in focus if w not in vocabulary.GENERIC and w not in owners]


def _specific_words(request: str) -> set[str]:
    """The request's focus words that no whole-page request needs ("page" in "Read this page"
    names no key "Page")."""
    common = {vocabulary.canonical(word) for word in intents.WHOLE_PAGE_WORDS}
    return set(focus_words(request)) - common


def focus_words(question: str) -> list[str]:
    """The question's content words, canonical (see `vocabulary.canonical_words`)."""
    return vocabulary.question_words(question)[0]


def coverage(focus: Sequence[str], label: str) -> float:
    """Share of the question's specific focus words (type words excepted) found in the label."""
    needed = [w for w in focus if w not in vocabulary.GENERIC]
    if not needed:
        return 1.0
    have = set(vocabulary.label_words(label, focus))
    return sum(1 for w in needed if w in have) / len(needed)


def paid_total(fields: list[Field], cells: tuple[TextLine, ...]) -> Field | None:
    """The total a receipt was paid with, from its arithmetic rather than its wording: three
    amounts in a row of the page's amounts, the paid one, the amount tendered and the change
    (at least zero), where tendered − change = the paid one ("TOTAL 59.20 / CASH 60.20 / CHANGE 1.00"; change 0.00 when paid exactly),
    the tendered amount on a line below the paid one and the change on its line or below (a
    tax summary's "6.79 | 0.41 | 7.20" row is no payment; "CASH 60.20 CHANGE 1.00" on one
    line is). Of several such amounts, the largest; None when the page has no such triple."""
    rows = {index: number for number, row in enumerate(group_regions([cell.box for cell in cells]).rows) for index in row}
    whole: dict[int, tuple] = {}  # cells that are an amount
    shared: dict[int, tuple] = {}  # cells that hold their key too ("NETT TOTAL: RM8.75")
    for field in fields:
        if field.source == "line" or (field.source in ("colon", "inline") and field.key_line in (-1, field.line)):
            amount = _amount(field.value)
            if amount is not None:
                (whole if field.source == "line" else shared).setdefault(field.line, (amount, field))
    # The amounts alone first: a keyed figure between a total and its payment ("Total Qty: 3")
    # would break the run of three; the keyed cells join only where the amounts alone show none.
    for by_line in (whole, {**shared, **whole}):
        amounts = [by_line[line] for line in sorted(by_line, key=lambda line: (rows.get(line, -1), line))]
        found = []
        for (paid, field), (tendered, given), (change, back) in zip(amounts, amounts[1:], amounts[2:]):
            below = rows.get(field.line, -1) < rows.get(given.line, -1) <= rows.get(back.line, -1)
            if below and paid > 0 and 0 <= change < tendered and tendered - change == paid:
                found.append((paid, field))
        if found:
            return max(found, key=lambda item: (item[0], -item[1].line))[1]
    return None


def summed_total(fields: list[Field], cells: tuple[TextLine, ...]) -> Field | None:
    """The total a page adds up to, whatever its language calls it: the lowest amount of a
    column of amounts (cells under one another, overlapping across) that is the sum of every
    amount above it in that column, two or more ("1.037,39 €", "197,11 €" over "Gesamtbetrag:
    1.234,50 €"). Amounts are money as written (two decimals or a currency), in cells that
    hold only an amount or their key and an amount. None when the page has no such column."""
    rows = {index: number for number, row in enumerate(group_regions([cell.box for cell in cells]).rows) for index in row}
    amounts = {}
    for f in fields:
        whole = f.source == "line" or (f.source in ("colon", "inline") and f.key_line in (-1, f.line))
        money = parse_money(f.value) if whole else None
        if money is not None and f.line not in amounts:
            amounts[f.line] = (money.amount, f)
    if not amounts:
        return None
    lowest = max(amounts, key=lambda line: (rows.get(line, -1), line))
    total, field = amounts[lowest]
    above = [amount for line, (amount, _) in amounts.items() if line != lowest and rows.get(line, -1) < rows.get(lowest, -1)
             and overlap_across(cells[line], cells[lowest])]
    return field if len(above) >= 2 and total > 0 and sum(above) == total else None


def _prefixed(fields: list[Field], specific: list[str], question: str, words: frozenset[str] = frozenset()) -> list[Field]:
    """Cells that open with every specific word of the question and go on with more
    ("Client Group BATKorea" for "Client group?"): the opening words key the rest. Words
    the question says after the key's go on the key (`_past_said`); the rest must read as a
    value (`_rest_is_value`: "Authorized by Dr. Stone" is no answer to "Authorized to?",
    "Client confirmed the agreement" none to "Client?")."""
    if not specific:
        return []
    found = []
    for field in fields:
        if field.source != "line" or ":" in field.value:  # "PHYSICAL STATE:" is a key, not a key and its value
            continue
        tokens = field.value.split()
        for cut in range(1, min(len(tokens), 6)):
            opening = " ".join(tokens[:cut])
            if all(_misread(word, opening, words) or word in vocabulary.label_words(opening) for word in specific):
                key, rest = _past_said(tokens[:cut], tokens[cut:], question)
                if _rest_is_value(key, rest):
                    found.append(Field(" ".join(key), " ".join(rest), field.line, "prefix"))
                break
    return found


def _rest_is_value(key: list[str], rest: list[str]) -> bool:
    """Whether the rest of a cell after its opening key can be the key's value: not where it
    opens with a function word that ties it to the key ("DIVISION | OF LOEW'S CORP." is a
    title; "Remarks | The goods arrived" opens a value of its own), goes on in lower case after
    a capitalised key (a sentence) or ends in a colon (a key of its own); nor where a slash,
    ampersand or plus joins a second key of words to the first ("Market(s) / Zone(s)", "Name &
    Title"; "/ABC123" and "+ 5.00" are values)."""
    if not rest or not key or _joins_a_key(rest):
        return False
    first = rest[0].lower().strip(".,:;")
    plain = [token for token in rest[:2] if re.fullmatch(r"[a-z]+,?", token)]
    sentence = len(plain) == 2 and key[0][:1].isupper()  # "... confirmed the agreement"; not "info@acme.com"
    return first not in _TIES and not sentence and not rest[-1].endswith(":")


def _joins_a_key(rest: list[str]) -> bool:
    """Whether a cell's rest opens with a joining sign and a word ("/ Zone(s)", "&Title")."""
    word = r"[^\W\d_]+(?:\((?:s|es)\))?"
    return bool(re.fullmatch(r"[/&+]", rest[0]) and len(rest) > 1 and re.fullmatch(word, rest[1])
                or re.fullmatch(r"[/&]" + word, rest[0]))


# Words that tie what follows to the key before them ("DIVISION OF ...", "Authorized by ..."
# for "Authorized to?"); "On Hold", "In Stock", "To be determined" are values.
_TIES = frozenset("of by and or nor than".split())


def _words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _past_said(key: list[str], rest: list[str], question: str) -> tuple[list[str], list[str]]:
    """A key's tokens and the rest of its cell, with the rest's opening tokens that go on the
    key as the question says it moved onto the key: "BY" after "APPROVED" for "Approved by?",
    "(s)" after "TEST MATERIAL" for "TEST MATERIAL(s)?". A function word goes on only where the
    question says it right after the key's last word ("Remarks The goods ..." keeps "The" for
    "What are the remarks?")."""
    asked = _words_of(question)
    pairs = set(zip(asked, asked[1:]))
    key, rest = list(key), list(rest)
    while rest:
        words, before = _words_of(rest[0]), _words_of(" ".join(key))
        if not words or not set(words) <= set(asked):
            break
        if any(w in vocabulary.STOP for w in words) and (not before or (before[-1], words[0]) not in pairs):
            break
        key.append(rest.pop(0))
    return key, rest


def _echoes(value: str, question: str) -> bool:
    """Whether a value is the key the question asks about, or part of it ("CLIENT" for "What
    does the form say for client?", "FINAL FLAVOR" for "Final flavor?", "ASSIGNED" where
    "OTHER PERSONNEL" runs over two lines): every word it has is one of the question's specific
    words. Read where its value should be, it answers nothing. A question that offers
    alternatives names its answer ("UPS or FedEx?": "UPS"), unless the value says all it says;
    figures and single letters ("2 nights", "grade A") are no key's words, and a figure the
    question does not say makes a value ("261 sq" for "sq. inches/feet?")."""
    said = set(vocabulary.label_words(value))
    specific = _specific_words(question)
    if not said or not said <= specific or not set(_words_of(value)) <= set(_words_of(question)):
        return False
    return said == specific or not re.search(r"\bor\b", question, re.I)


# A rest that opens with a word and a colon ("No: INV-55190", "date: 14.04.2021") is the rest of a key.
_OPENS_WITH_KEY = re.compile(r"[^\W\d_][^\W\d_.]*\.?\s*[:：](?!//)")


def _run_together(fields: list[Field], question: str) -> list[Field]:
    """Cells where the recognizer ran a key into its value ("PROJECTNO.1984-175NP",
    "ORIGINAL-PROJECTFILE", "RE-339"): the question's own words, spaces and case aside, open
    the cell, and the key ends where a word or a figure does (not inside "RECEIPT" or "35");
    the rest is the value, without the separator ("PROJECTFILE"), a hyphen before a figure
    kept as its sign ("-339")."""
    skipped = vocabulary.STOP | vocabulary.REQUEST_WORDS
    words = [w for w in re.findall(r"[A-Za-z0-9]+", question) if w.lower() not in skipped]
    key = "".join(words).lower()
    if len(key) < 2:
        return []
    found = []
    for field in fields:
        if field.source != "line":
            continue
        text = field.value
        seen, cut = 0, None
        for position, char in enumerate(text):
            if char.isalnum():
                if seen == len(key):
                    cut = position
                    break
                if char.lower() != key[seen]:
                    break
                seen += 1
            elif seen == len(key):
                cut = position
                break
        if cut is None or (text[cut].isalnum() and text[cut].isalpha() == text[cut - 1].isalpha()):
            continue  # "RECEIPT" does not open with "re", nor "WEEK 35" with "week 3"
        if re.match(r"\((?:s|es)\)", text[cut:], re.I) or text[:cut].count("(") > text[:cut].count(")"):
            continue  # a word's plural ending is still the word: "Market(s)" (and "markets" its "(s")
        key_tokens, rest = _past_said(text[:cut].split(), text[cut:].split(), question)
        value = " ".join(rest).lstrip(" .:;_")
        value = value[1:] if value.startswith("-") and value[1:2].isalpha() else value
        if _OPENS_WITH_KEY.match(value):
            continue  # "Invoice | No: INV-55190": the key goes on to its colon (the colon rule's field)
        if any(ch.isalnum() for ch in value) and _rest_is_value(key_tokens, value.split()):
            found.append(Field(text[:cut].strip(), value.strip(), field.line, "prefix"))
    return found


def _says_in_full(question: str, key: str) -> bool:
    """Whether the question holds every word of the key, in the key's order, one after another."""
    words = re.findall(r"[^\W\d_]+", key.lower())
    return bool(words) and re.search(r"\b" + r"\W+".join(map(re.escape, words)) + r"\b", question.lower()) is not None


def _abbreviated(word: str, key: str) -> bool:
    """Whether a word of the key is an abbreviation of `word`: its letters in order, the
    first the same ("Qty" for "quantity", "Amt" for "amount")."""
    return any(2 <= len(short) < len(word) and vocabulary.shortens(short, word) for short in re.findall(r"[a-z]+", key.lower()))


# Endings that make another form of one word: plurals, verb forms, "-ion" nouns ("related",
# "relationship", "addressed"). Not "-er"/"-ee" (who does and to whom: "employer", "employee"),
# "-ment"/"-ant" ("state", "statement"), nor "-y", "-e", "-al" ("count" and "county", "policy"
# and "police", "person" and "personal", "company" and "companion" are other words).
_FORM_ENDINGS = frozenset({"", "s", "es", "ed", "ing", "ion", "ions", "ionship"})
# Endings that make the one who does a thing, or to whom it is done ("biller", "sender",
# "payee", "vendor"): another party than the thing itself.
_AGENT_ENDINGS = frozenset({"er", "r", "ee", "or"})


# The names of sales taxes on receipts and invoices (world knowledge, as currency codes are):
# a question about the VAT asks the line "Tax 8%", "the tax ID" the key "VAT ID" or "GST Reg No".
_TAX_NAMES = frozenset("tax vat gst hst pst qst sst mwst ust tva iva btw moms alv dph ppn".split())


def _kin(word: str, others) -> bool:
    """Whether `word` and one of `others` are forms of one English word: five letters or more
    in common from the start, each going on with an ending of `_FORM_ENDINGS` ("related" and
    "relationship", "address" and "addressed"); or "tax" and the name of a sales tax (`_TAX_NAMES`)."""
    for other in others:
        if other == word:
            continue
        if "tax" in (word, other) and word in _TAX_NAMES and other in _TAX_NAMES:
            return True  # "tax" is any of them; GST is no PST
        shared = len(os.path.commonprefix([word, other]))
        if shared >= 5 and word[shared:] in _FORM_ENDINGS and other[shared:] in _FORM_ENDINGS:
            return True
    return False


def _numbers(text: str) -> frozenset[str]:
    """The standalone numbers of a text ("Week 3", "Q3", "No. 2" → {"3"} / {"3"} / {"2"}) and
    the single letters or figures of a hyphenated code ("CAT-A-EXPENSES", "Cat- a- expenses"
    → {"a"}), which tell its siblings apart as numbers do."""
    numbers = re.findall(r"(?<![\d.,])\d{1,4}(?![\d.,]*\d)", text)
    codes = re.findall(r"[-/]\s*([^\W_])\s*(?=[-/])", text)
    return frozenset(numbers) | {code.lower() for code in codes}


def _number_agreement(numbers: frozenset[str], key: str) -> float:
    """Words match whatever their numbers; a key numbered as the question is ("Week 3" for
    "the Week 3 value") beats its siblings ("Week 1", "Week 4"), one numbered otherwise loses."""
    have = _numbers(key)
    if not numbers or not have:
        return 0.0
    return _NUMBER_WEIGHT if numbers & have else -_NUMBER_WEIGHT


def _page_words(cells) -> frozenset[str]:
    """The page's words, lowercased."""
    return frozenset(word.lower() for cell in cells for word in re.findall(r"[^\W\d_]+", cell.text))


def _misread(word: str, text: str, words: frozenset[str] = frozenset()) -> bool:
    """Whether a word of three letters or more reads in `text` allowing for the recognizer's
    misread characters and dropped spaces (`spelling.occurs_in`). Not where the word and each
    word of `text` that near are different words of `words` (the sentence encoder's
    vocabulary): "place" and "bloom" are other words than "plate" and "blood", not
    misreadings of them ("Attarntion" is one of "attention"; "RECEIVER" is no misreading of
    "received" either, though it may be the key asked for: left unmatched rather than guessed)."""
    if len(word) < 3 or not occurs_in(word, text):
        return False
    if word not in words or compact(word) in compact(text):
        return True
    allowed = allowed_edits(word)
    near = [token for token in re.findall(r"[a-z]+", text.lower())
            if abs(len(token) - len(word)) <= allowed and edits_within(word, token) <= allowed]
    return not near or any(token not in words or token == word for token in near)


# "Which company billed it?", "Who shipped it?", "Billed by?", "sent by whom?": the one who did
# what the verb says.
_DONE_BY = re.compile(r"^\s*(?:which|what)\s+[^\W\d_]+\s+(?P<verb>[^\W\d_]{3,}ed)\b"
                      r"|\bwho\s+(?P<done>[^\W\d_]{3,}ed)\b|\b(?P<by>[^\W\d_]{3,}ed)\s+by(?:\s+whom?)?\s*[?.]?\s*$", re.I)


def _document_done_by(question: str) -> bool:
    """Whether the question asks by whom the document it names was made ("the invoice was
    issued by whom?"): its issuer, where nobody signed. Not who did something to the asker
    (a cashier who served them, whom the page may not name: not its issuer)."""
    asked = _DONE_BY.search(question)
    return asked is not None and asked.group("by") is not None and not _RECEIVING.match(asked.group("by")) \
        and vocabulary.document_subject(question) not in (None, "form", "application")


# What the other party does to a document, or whoever fills it in: not its issuer's doing.
_RECEIVING = re.compile(r"(?:received|paid|settled|accepted|approved|signed|checked|completed|filled|submitted|owed|"
                        r"addressed|delivered|shipped)$", re.I)


# What a number is of: "invoice" in "the invoice number", "invoice reference no.", "ticket #"
# (not an owner: "the bill's number" is the bill's, whatever the bill calls it; not "no"
# that negates: "receipt no longer valid").
_NUMBERED = re.compile(r"\b(?P<kind>[^\W\d_]{2,})(?!')\s+(?:(?:reference|ref)\.?\s+)?"
                       r"(?:number|nr\b\.?|num\b\.?|#|id\b|no(?:\.|(?=\s*(?:[?!,:;]|$))))", re.I)
# A name the question asks something of comes after "for" or "of" ("the amount for Support
# plan", "the price of the Oak chair").
_ASKED_OF = re.compile(r"\b(?:for|of)\s+(?:the\s+|a\s+|an\s+)?$", re.I)
# Days and months: capitalised, but they say when, not which thing.
_CALENDAR = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# Bounds on the names a question is checked for (a pasted page is no question).
_MAX_NAMED_CHARS = 2000
_MAX_NAMES = 8
# Documents issued with a number of their own, which a page that is one prints by its name.
_NUMBERED_DOCUMENTS = frozenset({"invoice", "receipt", "ticket", "bill"})
# What a bill is called on the page that is one: an invoice or a receipt numbers it as a bill.
_BILLS = frozenset({"bill", "invoice", "receipt"})


_TIME_COUNTED = re.compile(r"\bhow\s+many\s+(?:\w+\s+)?(?:hours?|hrs?|minutes?|mins?|days?|weeks?|months?|years?)\b", re.I)


# Words of spending that a question about one line of a list says beside that line's own
# words ("How much did I spend at ...", "What did ... cost me?"): general English, no labels.
_SPENDING = frozenset(vocabulary.canonical(w) for w in
                      "spend spent pay paid payment cost price amount charge charged bill billed much buy bought purchase purchased".split())


def _grouped_number(text: str) -> bool:
    """Whether a number is written in groups ("953-533-8973", "(03) 5542 3228") or with a "+"."""
    return "+" in text or re.search(r"\d[\s().\-/]+\d|\(\d", text) is not None


def _word_form(word: str) -> str:
    """A word as a line and a question are compared: canonical, a number without leading
    zeros ("02" and "2")."""
    word = word.lower()
    return str(int(word)) if word.isascii() and word.isdigit() else vocabulary.canonical(word)


def _is_money(text: str) -> bool:
    return AMOUNT in value_types(text)


def _row_words(question: str) -> set[str]:
    """The words a question names a line of a list by: all but its words of spending and
    "some", "any" ("I bought some muffins"); empty when none is a word of letters."""
    focus, owners = vocabulary.question_words(question)
    words = {w for w in focus + owners if w not in _SPENDING and w not in ("some", "any")}
    return words if any(len(w) >= 3 and not w.isdigit() for w in words) else set()


class _Lines:
    """A page's rows (`group_regions`) with, for each, the words of its cells of text (by cell
    index; cells holding an amount are left out)."""

    def __init__(self, cells: tuple[TextLine, ...]):
        self.cells = cells
        self.rows = group_regions([cell.box for cell in cells]).rows
        self.money = [_is_money(cell.text) for cell in cells]
        self.said = [{i: {_word_form(t) for t in re.findall(r"[^\W_]+", cells[i].text)} for i in row if not self.money[i]}
                     for row in self.rows]

    def distinct(self, words: set[str]) -> list[str]:
        """The words of letters among `words` that one row alone says."""
        return [w for w in words if len(w) >= 3 and not w.isdigit()
                and sum(any(w in ws for ws in row.values()) for row in self.said) == 1]

    def listed(self, label: int) -> bool:
        """Whether the row of cell `label` is one of a list: it holds an amount, and two other
        rows hold one and a cell of text that starts where `label` does."""
        left, height = extent(self.cells[label])[0], cell_height(self.cells[label])
        own = next(row for row in self.rows if label in row)
        return any(self.money[i] for i in own) and sum(1 for row, row_words in zip(self.rows, self.said) if label not in row
                   and any(self.money[i] for i in row)
                   and any(abs(extent(self.cells[i])[0] - left) <= height for i in row_words)) >= 2


@functools.lru_cache(maxsize=4)
def _lines_of(cells: tuple[TextLine, ...]) -> _Lines:
    """`_Lines` of a page, kept for the next question's rules about the same cells (a line
    named and the total both read them)."""
    return _Lines(cells)


# "By when ...?", "by what date ...", "until which day", "the deadline", "pay-by date",
# "remit by": a date something must happen by.
_DEADLINE = re.compile(r"\b(?:by|until|till|before)\s+(?:when|(?:what|which)\s+(?:date|day))\b|\bdeadline\b"
                       r"|\b(?:last|final|limit)\s+(?:day|date)\s+(?:to|for|of)\s+(?:pay|paying|payment)\b|\blimit\s+date\b"
                       r"|\b(?:pay(?:able|ment)?|remit(?:tance)?|settle(?:ment)?)[\s-]+by\b", re.I)
# "... before tax", "excluding VAT", "net of fees", "pre-tax", "before they add the tax": an
# amount without that part.
_EXCLUDED = re.compile(r"\b(?:(?:before|excluding|excl\.?|without|net of|less|minus)\s+" + vocabulary.ADDING + r"(?:the\s+)?"
                       r"|pre[\s-]?(?=(?:tax|vat|gst|hst)\b))(?P<part>[^\W\d_]{2,})", re.I)
# "incl. tax", "including VAT", "inclusive of fees", "with tax", "plus GST": a part that an
# amount holds (it asks the whole; "the VAT included in the total" asks the part).
_INCLUDED = re.compile(r"\b(?:incl(?:\.|\b|uding\b|usive\s+of\b)|inc\.|with\b|plus\b)\s*(?:the\s+|all\s+|any\s+)?"
                       r"(?:tax(?:es)?|vat|gst|hst|fees?|charges?)\b", re.I)
# "Who wrote this?", "Who sent it?": "who" as the subject of a verb of writing or sending
# ("Who received it?" asks the other party).
# So does "the business that sent it": a relative clause names the one who did it.
_WHO_DID = re.compile(r"\b(?:who|that|which|(?:which|what)\s+(?:person|individual))\s+(?:wrote|sent|signed|penned|authored|drafted|composed|prepared|issued)\b", re.I)


# "Who is his doctor?", "who are their guarantors": the question asks who someone the person a
# page is about has is, not that person ("Who is applying for their licence?" is that person;
# "her name", "his full name" ask for them).
_POSSESSED = re.compile(r"^\W*who(?:'s|\s+is|\s+are|\s+was|\s+were)\s+(?:his|her|their)\s+(?!(?:full\s+|own\s+)?names?\b)[^\W\d_]", re.I)


# "Who is it from?", "who's this from", "From whom is it?": whom the page comes from.
_FROM_WHOM = re.compile(r"^\W*who(?:'s|s|\s+is|\s+was)?\b[^?.!]*\bfrom\s*[?.!]*\s*$|^\W*from\s+whom\b", re.I)


# Who is to be paid ("the payee", "Who is owed?", "Whom do I pay?", who receives or collects
# the money, whom a cheque is made out or payable to): the one who asks for the money, the
# page's issuer, not the party billed. English grammar says it; the sentence encoder puts
# "Who gets the money?" as near "Who paid?" as "Who is the seller?".
_PAYEE = re.compile(
    r"\bpayee\b|\b(?:be|being|been|get|gets|getting|got)\s+paid\b|\b(?:is|are|was|were|be|being|been)\s+owed\b|\bowed\s+to\b"
    r"|\b(?:receives?|receiving|received|gets?|getting|collects?|collecting)\s+(?:the\s+|my\s+|our\s+|this\s+|that\s+)?"
    r"(?:money|payment|funds|cash)\b"
    r"|^\W*(?:who|whom)\s+(?:do|does|should|must|shall|will|would|can|did)\s+(?:i|we|you|they|one)\s+(?:pay|send\s+(?:the\s+)?money)(?:\s+to)?\W*$"
    r"|\b(?:cheques?|checks?|payments?)\b[^?.!]*\b(?:made\s+out|payable|made\s+payable)\s+to\b|\bpayable\s+to\b",
    re.I,
)


# A bill, whose issuer is the one to be paid ("INVOICE", "Receipt", "Bill to:", "Amount due"); not
# a cheque or a payslip, which name whom they pay ("Pay to the order of", "Employee", "Net pay").
_BILL_PAGE = re.compile(r"\b(?:invoice|receipt|bill(?:ed)?\s+to|amount\s+due|balance\s+due|total)\b", re.I)
_PAID_PAGE = re.compile(r"\b(?:pay\s+to|payable\s+to|payee|order\s+of|employee|payslip|pay\s+slip|net\s+pay|gross\s+pay|earnings)\b",
                        re.I)


# "Who made it?", "Who filled this in?": who did something to the page, not whom it is about.
_MADE_BY = re.compile(r"^\s*who\s+(?:made|makes|filled|fills|completed|completes|did|does|created|creates|wrote|writes)\b", re.I)


# "Who is it to?", "To whom was it sent?" ("To who ..." as often said), "the person this
# note is for": the question asks for the one it went to.
_TO_WHOM = re.compile(r"^\s*who(?:m|'s|s)?\b.*\b(?:to|for)\s*[?.]?\s*$|^\s*(?:to|for)\s+whom?\b"
                      r"|\b(?:person|people|one)\s+(?:this|the|that|it)\b[^?.]*\b(?:is|was|are|were)\s+(?:for|to)\s*[?.]?\s*$", re.I)


def _other_party(question: str, key: str) -> bool:
    """Whether `key` names whom the question's verb was done to ("Bill to", "Ship to") while
    the question asks who did it ("Which company billed it?"): the key is the other party's."""
    asked = _DONE_BY.search(question)
    words = re.findall(r"[^\W\d_]+", key.lower())
    if asked is None or "to" not in words:
        return False
    verb = (asked.group("verb") or asked.group("done") or asked.group("by")).lower()
    return any(len(word) >= 3 and verb.startswith(word) for word in words)


def _without_items(question: str, fields: list[Field]) -> str:
    """The question without the page's item names it quotes (the row labels of two words or
    more: "Phone charger"), whose words say nothing of the type asked ("What did the phone
    charger cost?" asks an amount, not a phone number)."""
    # (not a table cell's key, its row label and its column's title: "Tax Amount" is no item's
    # name, and "pre-tax amount" asks an amount)
    for key in sorted({f.key for f in fields if f.source == "row" and len(f.key.split()) >= 2}, key=len, reverse=True):
        question = re.sub(rf"(?<!\w){re.escape(key)}(?!\w)", " ", question, flags=re.I)
    return question


def _names_item(question: str, fields: list[Field], part: str) -> bool:
    """Whether the question names one of the page's rows ("the bagel", "Phone charger") other
    than the part it leaves out or a total: it asks about that row."""
    asked = set(focus_words(question))
    for field in fields:
        if field.source in ("row", "table") and field.key:
            words = vocabulary.label_words(field.key)
            if words and set(words) <= asked and part not in words and not any("total" in w for w in words):
                return True
    return False


# The nouns English names a street by (canonical forms), asking the street line of an address.
_STREET_WORDS = frozenset({"street", "road"})
# Words for where someone lives or something is, short of an address (canonical forms).
_PLACE_WORDS = frozenset({"city", "town", "village", "country", "county", "province", "place", "location",
                          "residence", "hometown", "municipality", "district"})
# The words of a party key that names whom a bill is charged to, not where goods go.
_BILLING_WORDS = frozenset({"bill", "billed", "billing", "invoice", "invoiced", "sold", "charge", "charged"})
# A country, of which one is a citizen, one's nationality ("citizens", "national" and "nation" open
# names too: the Citizens Advice Bureau, the National Bank).
_COUNTRY_OF = frozenset({"country", "countries", "citizen", "citizenship", "nationality"})
# A question that asks which document of a numbered kind the page is: its number tells (not
# "What bill is this?": a statement is a bill too, and says so by no word of its own).
_WHICH_DOCUMENT = re.compile(r"^\W*(?:which|what)\s+(?P<kind>" + "|".join(sorted(_NUMBERED_DOCUMENTS - {"bill"})) + r")s?\s+"
                             r"(?:is|was)\s+(?:this|it|that)\b", re.I)
# How English names the number of a document ("its reference", "the no.", "#"; an "ID number"
# is a person's), in canonical forms.
_WORDS_FOR_A_NUMBER = frozenset({"number", "no", "nr", "num", "#", "reference", "ref"})
# What a document's own number is to it: what identifies it ("What number identifies this form?").
_IDENTIFYING = frozenset(vocabulary.canonical(word) for word in "identifies identify identified identifying".split())


def _nameless(question: str) -> bool:
    """Whether a question asks who and names no one ("Who is it?", "Which person is on this
    form?": the words of asking, of the page and a person's role in general), nor whom the page
    is to or for, nor who did something to it."""
    focus, owners = vocabulary.question_words(question)
    return set(focus) | set(owners) <= {"about"} | intents.DOCUMENT_NOUNS and not (
        _WHO_DID.search(question) or _TO_WHOM.search(question) or _DONE_BY.search(question) or _MADE_BY.search(question))


def _first_section(question: str, candidates: list[tuple[Field, float]], every: list[Field]) -> list[tuple[Field, float]]:
    """Where the candidates whose keys hold most of the question's words stand under two or
    more section headings and the question named none (`Answerer._in_sections` kept every
    section of `every`), those of them under the first heading in reading order: the page's
    subject's ("What name is on the form?": the patient's "Full name", not the guardian's
    "Name" beside it; "the witness's phone" is the key "Witness phone", wherever it stands).
    Else the candidates as they are."""
    sections = {f.section for f in every if f.section >= 0}
    if len(sections) < 2:
        return candidates
    focus, owners = vocabulary.question_words(question)
    held = [coverage(focus + owners, f.key) for f, _ in candidates]
    best = [(f, score) for (f, score), share in zip(candidates, held) if share == max(held)]
    if len({f.section for f, _ in best if f.section >= 0}) < 2:
        return candidates
    first = min(sections)  # a heading's cell index: cells are in reading order
    return [(f, score) for f, score in best if f.section < 0 or f.section == first] or candidates


def _letterhead_field(cells, lines) -> Field:
    """The letterhead's lines as one field, its rows joined with commas."""
    rows = group_regions([cells[i].box for i in lines]).rows
    text = ", ".join(" ".join(cells[lines[i]].text.strip() for i in row).rstrip(",") for row in rows)
    return Field("", text, lines[0], "letterhead", tuple(lines))


def _quoted(value: str, question: str) -> bool:
    """Whether `value` is a code the question quotes: a word with a figure, said as it stands."""
    code = value.strip()
    return len(code) >= 3 and " " not in code and any(c.isdigit() for c in code) \
        and re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", question, re.I) is not None


_AUXILIARIES = frozenset("will would shall should can could may might must".split())
# Questions whose answer is no thing's name ("When was B-4410 shipped?", "How heavy is it?").
_NOT_A_NAME = re.compile(r"\W*(?:how|when|where|why)\b", re.I)


def _own_number(question: str, expected: str, fields: list[Field]) -> list[tuple[Field, float]]:
    """"What's the reference on this form?", "the number on the invoice": an id whose key names
    the document the question says the number is of ("Form No"), where one value has such a
    key; the phrase would otherwise be dropped as naming the page, leaving a bare "number"
    that any id's key holds ("ID number"). Not when the question says anything else ("the
    VAT number on the invoice", "Which purchase order is this invoice for?"): its other words
    must all be words for a number. A bill is what an invoice or a receipt is: "the bill
    number" of a page keyed "Invoice No" is that number."""
    noun = (vocabulary.document_named(question) or _numbered_page(question)) if expected == IDENT else None
    if noun is None:
        return []
    if set(focus_words(question)) - _WORDS_FOR_A_NUMBER - _IDENTIFYING - {noun}:
        return []
    for name in (noun, *sorted(_BILLS - {noun})) if noun in _BILLS else (noun,):
        own = [f for f in fields if f.key and f.source not in _DATA_KEYED
               and re.search(rf"\b{re.escape(name)}", f.key, re.I)]
        if own:
            return [(own[0], _NAMED_KEY)] if len({f.value for f in own}) == 1 else []
    return []


# A page the question numbers by what it is: "the bill number", "this bill's reference", "What
# number identifies this form?".
_PAGE_NAMED = re.compile(r"\b(?:the|this|that|my|our|your)\s+(bill|invoice|receipt|ticket|form|application|order)(?:'s)?\b",
                         re.I)


def _numbered_page(question: str) -> str | None:
    found = _PAGE_NAMED.search(question)
    return found.group(1).lower() if found else None


def _found(field: Field, value: str, expected: str, score: float, cells) -> Answer:
    """The answer `value` of `field` gives, with its evidence lines; a bare figure keeps the
    unit written in a cell of its own right after it ("974 | mg": `_unit_after`)."""
    lines = field.lines
    # a count, an id, a date ... has no unit: only a measure asked as text or an amount ("total weight")
    unit = _unit_after(value, lines[-1], cells) if expected in (TEXT, AMOUNT) else None
    if unit is not None:
        value, lines = f"{value.strip()} {cells[unit].text.strip().strip('_').strip()}", (*lines, unit)
    return Answer(clean_value(value, expected), True, tuple(cells[i] for i in lines), score, field)


# A unit of measure written in a cell of its own after a figure ("974 | mg", "36 | gm/m2", a
# form's printed unit beside the blank it was filled in): the units of weight, length, area,
# volume and density people write, in the SI and imperial abbreviations (a general list, as
# the currency signs are), in lower case: "M", "L", "IN", "GM" beside a figure are a sex, a
# size, a state, a title more often than a unit; nor "in" or a lone "l", which are words and
# misread strokes. A printed underline before it reads as "_".
_UNIT = re.compile(r"_*\s*(?:[mcdk]?m|[mµk]?g|gms?|[mcd]l|cc|oz|lbs?|ft|yds?|[mk]?m[23]|[cdk]?m/s|"
                   r"(?:[mµk]?g|gms?)\s*/\s*(?:[mcd]?l|cc|[mk]?m[23]?|[mk]?g))\.?\s*")
_FIGURE = re.compile(r"\d[\d.,]*")


def _unit_after(value: str, line: int, cells) -> int | None:
    """The cell holding the unit of a bare figure (`_UNIT`), if the next cell to the right of
    the figure's cell in its row is one, within a few heights: the figure then ends its cell."""
    if not _FIGURE.fullmatch(value.strip()) or not cells[line].text.rstrip().endswith(value.strip()):
        return None
    row = next(row for row in group_regions([cell.box for cell in cells]).rows if line in row)  # left to right
    after = row.index(line) + 1
    if after == len(row):
        return None
    index = row[after]
    gap = extent(cells[index])[0] - extent(cells[line])[1]
    return index if gap <= _UNIT_GAP_HEIGHTS * cell_height(cells[line]) and _UNIT.fullmatch(cells[index].text.strip()) else None


_UNIT_GAP_HEIGHTS = 6  # how far right of its figure a unit may stand, in the figure's heights


def _typed_span(value: str, expected: str) -> str:
    """The one amount, date or time inside a longer value that a question of that type asked
    for ("our quote enclosed. The total is GBP 4,250.00." → "GBP 4,250.00"); the value as it
    is when it is of that type already, holds none, or holds several. Of a mailbox ("Lena Vogt
    <lena.vogt@example.de>"), the address or the name asked for."""
    mailbox = split_mailbox(value) if expected in (EMAIL, PERSON, ORG) else None
    if mailbox is not None:
        return mailbox[1] if expected == EMAIL else mailbox[0]
    if expected not in (AMOUNT, DATE, TIME) or expected in value_types(value):
        return value
    spans = set(_money_spans(value, ";:!?") if expected == AMOUNT else _values_in(value, expected, None))
    return spans.pop() if len(spans) == 1 else value


def _in_a_sentence(question: str, expected: str, fields: list[Field], cells) -> Answer | None:
    """A value no key names, in a line of the page's prose that says every specific word of
    the question ("How much is the revised fee?" and "Our revised fee for the design stage is
    GBP 18,400 excluding VAT"; "How many cartons?" and "your order (48 cartons) was held"):
    the one value of the type asked in that line, and the same one wherever several lines say
    so. None unless exactly one value answers."""
    if expected not in _SENTENCE_TYPES:
        return None
    focus, owners = vocabulary.question_words(question)
    specific = [w for w in focus + owners if w not in vocabulary.GENERIC and len(w) >= 3]
    if not specific:
        return None
    counted = re.search(r"\bhow\s+many\s+([^\W\d_]+)", question, re.I) if expected == COUNT else None
    found: dict[str, Field] = {}
    for field in fields:
        if field.source != "line":
            continue
        # one clause of the line says it all ("Full-time staff get 25 days; part-time staff get a
        # share" says nothing of part-time days), without a negation ("none were damaged"), and
        # every word as written, a plural's ending aside: a misread word is no evidence here,
        # where no key stands for the value ("flight" is not "LIGHT LED716", "fee" not "feedback")
        for clause in re.split(r"[;:]\s*|[,.]\s+", field.value):
            if _NEGATION.search(clause) or not all(
                    re.search(rf"\b{re.escape(word)}(?:s|es)?\b", clause, re.I) for word in specific):
                continue
            for value in _values_in(clause, expected, counted.group(1) if counted else None):
                found.setdefault(value, field)
    if len(found) != 1:
        return None
    (value, field), = found.items()
    return Answer(value, True, (cells[field.line],), 0.5, field)


_SENTENCE_TYPES = frozenset({AMOUNT, DATE, TIME, IDENT, COUNT, PERCENT})
_NEGATION = re.compile(r"\b(?:no|not|none|never|nothing|without|n't)\b|n't\b", re.I)


def _paid_with(fields: list[Field], cells) -> Answer:
    """How the page says it was paid (`payment.find_payment`), with the key that says so."""
    paid = find_payment(fields, cells)
    if paid is None:
        return Answer(NOT_FOUND, False, (), 0.0)
    return Answer(paid.instrument.text, True, tuple(cells[i] for i in paid.lines), 1.0)


def _values_in(text: str, expected: str, counted: str | None) -> list[str]:
    """The values of type `expected` inside a line of text; of a count, the figures written
    right before the noun counted ("48 cartons" for "how many cartons")."""
    if expected == DATE:
        return [text[start:end].strip() for start, end, _ in find_dates(text)]
    if expected == TIME:
        return [text[start:end].strip() for start, end, _ in find_times(text)]
    if expected == COUNT:
        if counted is None:
            return []
        stem = re.escape(counted.lower().rstrip("s")[:max(3, len(counted) - 2)])
        return re.findall(rf"\b(\d{{1,6}})\s+{stem}[^\W\d_]*", text, re.I)
    if expected == AMOUNT:
        return _money_spans(text, "();:!?,")
    kind = PERCENT if expected == PERCENT else IDENT
    return [token for token in (t.strip("();:!?,.") for t in text.split())
            if kind in value_types(token) and any(c.isdigit() for c in token)]


def _money_spans(text: str, edges: str) -> list[str]:
    """The amounts of one to three words inside `text` (`edges` stripped off each, and a full
    stop), longest first, none inside another already found."""
    tokens, spans = text.split(), []
    for width in (3, 2, 1):
        for start in range(len(tokens) - width + 1):
            span = " ".join(tokens[start:start + width]).strip(edges).rstrip(".")
            if parse_money(span) is not None and not any(span in other for other in spans):
                spans.append(span)
    return spans


def _amount(text: str) -> float | None:
    """The amount a value holds ("57,14 €", "RM 8 . 75"), or None."""
    money = parse_money(text, currency_optional=True) or parse_money(re.sub(r"\s+", "", text))
    return money.amount if money is not None else None


def _header(fields: list[Field], every: list[Field]) -> list[tuple[Field, float]]:
    """The page's first line that is not a document title ("INVOICE"), a key's line ("To:
    All Staff"), a line of a keyed value that goes on under its key (a "cc:" list's "B.
    Jones") nor a sentence of the page's text: who issued it, when it is of the type asked
    (one of `fields`)."""
    keyed = {i for f in every if f.key and f.source == "colon" for i in (f.key_line, *f.lines)}
    for field in every:
        if field.source == "line" and field.line not in keyed and not is_document_title(field.value):
            return [(field, 1.0)] if field in fields and not _prose(field.value) else []
    return []


def _prose(text: str) -> bool:
    """Whether a line reads as a sentence, not a name: four words in lower case or more
    ("The office will move to the third floor"); "Bank of the West" has two."""
    return len(re.findall(r"\b[a-z]{2,}\b", text)) >= 4


def _listed(chosen: list[Field], cells) -> Answer:
    """Several keyed fields as one answer, "key: value; key: value", with all their lines."""
    text = "; ".join(f"{f.key.strip()}: {f.value.strip()}" for f in chosen)
    lines = sorted({i for f in chosen for i in f.lines})
    return Answer(text, True, tuple(cells[i] for i in lines), 0.5, chosen[0])


_MAX_SECTION_LISTED = 6  # a longer section is no answer to one question: the key matching decides
_MAX_EACH_KEYED = 3  # more keys than this holding the question's words: it names none of them


# A value that holds a key of its own ("Form No: F-44285", "Email: ..., City: Ghent") is a line
# of fields, not an address.
_HOLDS_KEY = re.compile(r"[^\W\d_]\s*[:：]\s")


def _unnamed_answer(field: Field, expected: str) -> bool:
    """Whether a field may answer a question of type `expected` that names no key of the page
    (the page's first date; the key a question asks in other words)."""
    # a header's mailbox ("From: Lena Vogt <lena@...>") answers through its key only: it is no
    # more the page's address than the other party's
    if split_mailbox(field.value) is not None:
        return False
    # a table's cell answers through its row and column (`_table_cell`): "Saturday | End 13:00"
    # is not the start the question asks about
    if field.source == "table":
        return False
    # a run of digits no key calls a phone is an id as often (a scan's Bates number "670805266"
    # answered "What is the fax number?" on forms without one): the page's phone is a number
    # written as one, in groups or with a "+", or keyed as one ("Tel: 01134960718", the
    # recognizer dropping its spaces)
    return expected != PHONE or _grouped_number(field.value) or question_type(field.key) == PHONE


def _place(fields: list[Field]) -> Field | None:
    """Where a page without an address says someone or something is: the first value, in
    words and no figure, whose key says only a place ("City: Berlin", "Town of residence:
    Ghent"; not "Place of birth" nor "Destination country", which say which place).
    None when no key does."""
    return _worded_value(fields, lambda label: label <= _PLACE_WORDS)


def _worded_value(fields: list[Field], says: Callable[[set[str]], bool]) -> Field | None:
    """The first field in reading order, in words and no figure, whose key's words (none of a
    table's row labels) `says` holds of."""
    for field in sorted(fields, key=lambda f: f.line):
        label = set(vocabulary.label_words(field.key)) if field.key else set()
        if label and says(label) and field.source not in _DATA_KEYED \
                and re.fullmatch(r"[^\W\d_]+(?:[\s.,'-]+[^\W\d_]+)*\.?", field.value.strip()):
            return field
    return None


def _asks_country(question: str) -> bool:
    """Whether the question asks for a country ("Which country ...", of which one is a
    citizen), in words as written in lower case (the "National Bank" is a name)."""
    return bool(set(re.findall(r"(?<![^\W\d_])[a-z]+(?![^\W\d_])", question)) & _COUNTRY_OF)


def _country(fields: list[Field]) -> Field | None:
    """The first value in words whose key says a country, a nationality or a citizenship
    ("Country of origin: Brazil", "Citizenship: Canada")."""
    return _worded_value(fields, lambda label: bool(label & _COUNTRY_OF))


def _address(fields: list[Field]) -> Field | None:
    """The page's address: a street line on its own ("12 Oak Street"), else the first block of
    lines that reads as one: it starts below the page's first line (the letterhead), on a line
    with a number and a word, and a later line has a postal code (4-6 digits); else the first block."""
    # A line with a date ("Date of birth: April 14, 1973") has a number, words and four digits,
    # but it is no address.
    typed = [f for f in fields if ADDRESS in value_types(f.value) and not find_dates(f.value)
             and not vocabulary.qualifiers(f.key) and not _HOLDS_KEY.search(f.value)]
    street = [f for f in typed if f.source != "block" and is_street_line(f.value)]
    if street:
        return street[0]
    for field in typed:
        first, _, rest = field.value.partition(", ")
        worded = any(sum(ch.isalpha() for ch in token) >= 2 for token in first.split())
        if field.line > 0 and worded and re.search(r"\d", first) and re.search(r"\b\d{4,6}\b", rest):
            return field
    return typed[0] if typed else None


class Answerer:
    """Answers questions over OCR regions; `embed` maps texts to unit vectors, `score_answers`
    maps (question, context lines, candidate answers) to per-candidate LM scores."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        score_answers: Callable[[str, Sequence[str], Sequence[str]], list[float]],
        config: AnswerConfig = AnswerConfig(),
        words: frozenset[str] = frozenset(),
        english: Callable[[], Mapping[str, int]] | None = None,
    ):
        """`words`: whole words of the sentence encoder's vocabulary, to split labels the
        recognizer ran together ("TOTALSALES" → "total sales") before they are compared;
        `english` gives the lowercase words of a cased vocabulary (the language model's: no
        names) with their ranks, lower commoner: a question's typing slips are put right to
        them or to the reader's own words (`spelling.corrected`), never without them. It is
        called on the first question, not at load (the language model's 49,000 entries take
        ~70 ms to sift, time a server's start would wait for)."""
        self._embed = embed
        self._score_answers = score_answers
        self._config = config
        self._words = words
        self._english = english
        self._spelling: tuple[frozenset[str], dict[str, int]] | None = None  # `_slip_words`, once made
        self._readable: dict[str, str] = {}
        self._word_vectors: dict[str, np.ndarray] = {}  # a cache, under `_lock`
        self._lock = threading.Lock()
        self._party_router = PartyRouter(embed)
        # "the letter", "this note" said as "it", in the examples and the questions alike: which
        # of its people is asked, not which document, decides
        self._letter_router = ExampleScorer(lambda texts: embed([intents.DOCUMENT_TOPIC.sub("it", t) for t in texts]),
                                            LETTER_EXAMPLES)
        self._amount_router = ExampleScorer(embed, AMOUNT_EXAMPLES)
        self._shipment_router = ExampleScorer(embed, SHIPMENT_EXAMPLES)

    def _slip_words(self) -> tuple[frozenset[str], dict[str, int]]:
        """(what a question's word is English as typed, what a slip is put right to: word →
        rank), for `spelling.corrected`; made on the first question."""
        with self._lock:
            if self._spelling is None:
                english = self._english() if self._english is not None else {}
                # (a BPE vocabulary's word starts are also pieces of words, "numer" of
                # "numerous": those the encoder's vocabulary has whole)
                self._spelling = (self._words | vocabulary.KNOWN_WORDS | frozenset(english),
                                  {**dict.fromkeys(vocabulary.KNOWN_WORDS, 0),
                                   **{word: rank for word, rank in english.items() if word in self._words}}
                                  if english else {})
            return self._spelling

    def _read(self, key: str) -> str:
        readable = self._readable.get(key)
        if readable is None:  # several workers may share the answerer: no read after a write
            readable = split_run_together(key, self._words) if self._words else key
            if len(self._readable) > 4096:
                self._readable.clear()
            self._readable[key] = readable
        return readable

    def answer(self, question: str, regions: tuple[TextLine, ...]) -> Answer:
        """The answer to `question` from OCR regions (one per detected box, any order)."""
        cells = read_cells(regions)
        if not cells:
            return Answer(NOT_FOUND, False, (), 0.0)
        english, targets = self._slip_words()
        question = vocabulary.name_asked_as_called(corrected(question, english, _page_words(cells), targets))
        looked_up = self._look_up(question, cells)
        if looked_up is not None:
            return looked_up
        return self._answer(question, cells)

    def _answer(self, question: str, cells: tuple[TextLine, ...]) -> Answer:
        every = extracted = extract_fields(cells)
        if self._quotes_absent(question, cells, every):
            return Answer(NOT_FOUND, False, (), 0.0)
        question = vocabulary.spell_out(question, {f.key for f in every if f.source not in _DATA_KEYED}, self._words)
        every = [f for f in every if not _other_party(question, f.key) and not _echoes(f.value, question)
                 and (f.source != "column" or not self._names_more_than(question, f.key))
                 and (f.source != "table" or self._names_row(question, f.row))]
        every = self._in_sections(question, every, cells)
        expected = question_type(_without_items(question, every))
        if expected == TEXT and asks_payment_method(question):  # how, not how much: an instrument or nothing
            return _paid_with(extracted, cells)
        if expected == IDENT and self._names_absent_kind(question, cells):
            return Answer(NOT_FOUND, False, (), 0.0)
        if expected == EMAIL:
            # "What is Marcus Hale's e-mail address?" over "To: Marcus Hale <m.hale@...>": the
            # mailbox the question names by its display name (which `_echoes` left out)
            named = [(f, box[1]) for f in extracted if (box := split_mailbox(f.value)) is not None
                     and _says_in_full(question, box[0]) and len(re.findall(r"[^\W\d_]+", box[0])) >= 2]
            if len({address for _, address in named}) == 1:
                return _found(named[0][0], named[0][1], expected, 1.0, cells)
        if expected == ORG:  # "Which company is the letter from?" does not ask for its signer
            every = [f for f in every if f.source not in PEOPLE_SOURCES]
        if expected == PERSON:  # nor does "Whose signature closes it?" ask the signer's job title
            # (unless it names it: "the position of whoever signed")
            asked = set(focus_words(question))
            every = [f for f in every if f.source != "title" or asked & set(vocabulary.label_words(f.key)) - {"signer"}]
        fields = [f for f in every if compatible(expected, f.value)]
        listed = self._section_named(question, expected, every, cells)
        if listed is not None:
            return listed
        candidates = self._table_cell(question, every) or self._row_count(question, expected, every) \
            or _own_number(question, expected, fields) \
            or self._keyed(question, expected, every, fields) or self._row_named(question, expected, cells)
        if not candidates and expected == IDENT and "number" in focus_words(question):
            # "What is Dr. Stone's number?" on a list of names and phones: a number that no key
            # of an id names is the phone number of the key named
            # ("Dr. Stone's room number" asks another number: the word before "number" must be
            # the key's, as "reception" and "Stone's" are)
            phones = [f for f in every if compatible(PHONE, f.value)]
            before = re.search(r"([^\W\d_]+)(?:'s)?\s+number\b", question, re.I)
            kind = before.group(1) if before else ""
            kind = "" if kind.lower() in vocabulary.STOP | vocabulary.REQUEST_WORDS else kind
            candidates = [(f, score) for f, score in self._keyed(question, PHONE, every, phones)
                          if not kind or re.search(rf"\b{re.escape(kind)}\b", f.key, re.I)]
            expected = PHONE if candidates else expected
        excluded = _EXCLUDED.search(question)
        part = vocabulary.canonical(excluded["part"]) if excluded else ""
        if expected == AMOUNT and excluded and not _names_item(question, every, part):  # not "the bagel before tax"
            # "before tax", "excluding VAT": the total less that part, where the page adds up so.
            net = self._net_of(part, fields, cells)
            candidates = [(net, 1.0)] if net is not None else candidates
        if expected == AMOUNT and candidates and "total" in focus_words(question):
            # A key "total" that holds only part of what the question says ("grand total" and a
            # tax summary's "TOTAL"): the total the receipt's arithmetic shows (paid, tendered,
            # change) answers before it, else the largest of the amounts keyed as totals (a
            # subtotal or a tax summary's total is smaller than the one paid). A total of
            # something else ("total discount") keeps its key.
            best, score = max(candidates, key=lambda item: item[1])
            partial = score < _NAMED_KEY and "total" in vocabulary.label_words(self._read(best.key))
            if partial and self._total_margin(question) >= 0:  # not nearer a tax or a discount
                paid = paid_total(fields, cells)
                if paid is None:
                    # every amount the page keys as a total, not only the keys nearest the question's
                    # words ("TOTAL 0% SUPPLIES" is as near "grand total" as "TOTAL PAYABLE"), nor
                    # only those that say "total" ("AMOUNT TO BE PAID")
                    near = self._near_total_keys({f.key for f in fields if f.key})
                    totals = [(money.amount, f) for f in fields if f.key and (
                                  f.key in near or "total" in vocabulary.label_words(self._read(f.key)))
                              for money in [parse_money(f.value, currency_optional=True)] if money is not None]
                    paid = max(totals, key=lambda item: (item[0], -item[1].line))[1] if totals else None
                candidates = [(paid, 1.0)] if paid is not None else candidates
        if not candidates:
            candidates = self._unlabelled(question, expected, fields, cells, every)
        if not candidates:
            # A key named in other words of the page's own ("born" for "birth").
            reworded = self._in_page_words(question, extracted)  # the page's words, whatever the question drops
            candidates = self._keyed(reworded, expected, every, fields) if reworded != question else []
        if not candidates and expected == ORG:
            candidates = _header(fields, every)
        if not candidates:
            candidates = self._under_title(question, expected, extracted)
        if not candidates:
            candidates = self._similar(question, fields, expected)
        if not candidates:
            return self._each_keyed(question, fields, cells) or _in_a_sentence(question, expected, every, cells) \
                or Answer(NOT_FOUND, False, (), 0.0)
        # a code the question quotes is what it asks about, not its answer (the article whose code
        # is "P-118" is no "P-118")
        candidates = [(f, score) for f, score in candidates if not _quoted(f.value, question)]
        if _asks_country(question):
            # a country is the value of a key that says a country or a place ("Country", "Location",
            # "Address"), not of one the question's other words name ("Name of Event")
            candidates = [(f, score) for f, score in candidates
                          if set(vocabulary.label_words(f.key)) & (_COUNTRY_OF | _PLACE_WORDS | {"address"})]
        if not candidates:
            return Answer(NOT_FOUND, False, (), 0.0)
        candidates = _first_section(question, candidates, every)
        score, best = self._choose(question, candidates, cells)
        return _found(best, _typed_span(best.value, expected), expected, float(score), cells)

    def _section_named(self, question: str, expected: str, fields: list[Field], cells) -> Answer | None:
        """A question that names a section's heading and nothing under it ("the acute
        toxicity" over "Oral LD50 (rat): ...", "Dermal LD50 (rabbit): ..."): the section's keys
        with their values, in reading order. Its fields also carry the heading in their keys
        (`document._sectioned`), so one of them would otherwise answer for all, the shortest
        key winning. None unless a heading holds every specific word of the question and no
        key of the page holds one."""
        if expected != TEXT:
            return None
        focus, owners = vocabulary.question_words(question)
        specific = _specific(focus, owners)
        headings = {f.section for f in fields if f.section >= 0}
        if not specific or any(len(word) < 3 for word in specific) or not headings:
            return None

        def holds(text: str) -> bool:
            label = vocabulary.label_words(self._read(text), focus + owners)
            return any(w in label or _misread(w, text, self._words) for w in specific)

        named = [h for h in headings if all(w in vocabulary.label_words(self._read(cells[h].text), focus + owners)
                                            or _misread(w, cells[h].text, self._words) for w in specific)]
        if len(named) != 1:
            return None
        heading = named[0]
        title = cells[heading].text.strip()
        own = [f for f in fields if f.section == heading and not f.key.startswith(title) and f.value.strip()]
        if any(holds(f.key) for f in fields if f.key and not (f.section >= 0 and f.key.startswith(cells[f.section].text.strip()))):
            return None  # a key of the page says what is asked: the key matching answers
        chosen = sorted({f.line: f for f in reversed(own)}.values(), key=lambda f: f.line)
        return _listed(chosen, cells) if 2 <= len(chosen) <= _MAX_SECTION_LISTED else None

    def _each_keyed(self, question: str, fields: list[Field], cells) -> Answer | None:
        """A question whose words every one of a few keys holds, none of them named more than
        the others ("the LD50" of "Oral LD50 (rat): 5800 mg/kg" and "Dermal LD50 (rabbit): >
        10000 mg/kg"): each key with its value, in reading order, rather than one of them
        guessed or none. None unless two or three such keys hold different values."""
        focus, owners = vocabulary.question_words(question)
        specific = _specific(focus, owners)
        if not specific or any(len(word) < 3 for word in specific):
            return None
        holding: dict[str, Field] = {}
        for field in sorted(fields, key=lambda f: f.line):
            if field.source not in ("colon", "inline") or not field.value.strip():
                continue
            label = vocabulary.label_words(self._read(field.key), focus + owners)
            if all(w in label or _misread(w, field.key, self._words) for w in specific):
                # a heading set before the key ("Acute toxicity Oral LD50 (rat)") keys the same
                # value: the key as written on its line is the shortest
                value = field.value.strip()
                if value not in holding or len(field.key) < len(holding[value].key):
                    holding[value] = field
        chosen = sorted(holding.values(), key=lambda f: f.line)
        if not 2 <= len(chosen) <= _MAX_EACH_KEYED or len({f.line for f in chosen}) < len(chosen):
            return None
        return _listed(chosen, cells)

    def _in_sections(self, question: str, fields: list[Field], cells) -> list[Field]:
        """On a page of two sections or more (`document._sections`: the applicant's block beside
        the guardian's): a question that names sections asks about theirs, and the others'
        fields are left out ("the guardian's phone" is not the applicant's "Phone")."""
        sections = sorted({f.section for f in fields if f.section >= 0})
        if len(sections) < 2:
            return fields
        # the words as written: a heading may be a word questions use for the page's subject
        # ("Applicant"), which the key matching drops
        asked = set(_words_of(re.sub(r"['’]s\b", "", question)))
        named = set()
        for section in sections:
            # a heading's own word said is enough: "the guardian" names "Parent or guardian"
            words = [w for w in _words_of(cells[section].text) if len(w) >= 4 and w not in vocabulary.GENERIC]
            if any(w in asked or _kin(w, asked) for w in words):
                named.add(section)
        return [f for f in fields if f.section < 0 or f.section in named] if named else fields

    def _keyed(self, question: str, expected: str, every: list[Field], fields: list[Field]) -> list[tuple[Field, float]]:
        """Fields whose keys the question names word for word (or as the recognizer misread
        them): of the expected type, else a key named in full whatever its type."""
        candidates = self._labelled(question, fields, lambda value: compatible(expected, value))
        # "Who sent it?" names the key "Sent:", whose date says when, not who: "who" asks a name.
        who = re.match(r"\W*who\b", question, re.I) is not None
        if not any(score >= _NAMED_KEY for _, score in candidates):
            # A key named in full outranks the type its words suggest: "Committed To Date:
            # 3,357,545" answers "Committed to date?", a date elsewhere on the page does not.
            # Every word of the question must be the key's, and the type the question asks for
            # must come from the key's own words ("the customer's e-mail" does not name the key
            # "Bill to"; "How many steel bolts?" asks a count of the row "Steel bolts Code").
            # Those cheap checks go first, so that the scoring (an encoder call) sees only the
            # few keys that pass them, usually none.
            focus, owners = vocabulary.question_words(question)
            words = focus + owners
            # (Not a date cut out of the key's own line, "Opening balance (01 Feb 2025):": its
            # key is that line, the value its colon gives is another field.)
            whole = [f for f in every if f.key and words and question_type(f.key) == expected
                     and (f.source != "span" or compatible(expected, f.value))
                     and all(self._in_key(word, f.key) for word in words)
                     and (not who or value_types(f.value) & {PERSON, ORG})]
            named = [(f, score) for f, score in self._labelled(question, whole) if score >= _NAMED_KEY]
            candidates = named or candidates
        if not candidates and expected in _LOOSE_TYPES:
            # A key the question names word for word answers it, whatever its value looks
            # like: "New Balance: 311.455", "Brand Name: RICHLAND 100s" (the type rules know
            # printed prices and names, not every figure a form holds).
            def loose(value: str) -> bool:
                # Never a price for an id; a figure for a question about a figure; a name for
                # who ("Who sent it?" and "Sent: Thursday, 14 November 2024 09:42").
                types = value_types(value)
                return not types & _STRICT_TYPES and (expected in (PERSON, ORG) or any(ch.isdigit() for ch in value)) \
                    and (not who or bool(types & {PERSON, ORG}))

            strong = self._labelled(question, [f for f in every if loose(f.value)], loose)
            candidates = [(f, score) for f, score in strong if score >= _NAMED_KEY]
        return candidates

    def _table_cell(self, question: str, every: list[Field]) -> list[tuple[Field, float]]:
        """A question that names a table's row and its column ("Oslo's figure for 2021") asks
        for that cell though its type words say otherwise (a "number" elsewhere asks for an id;
        a question of a strict type still needs a value of it): every word of a cell's key (row label and column title, two words or
        more, or a word and a number the question says: "Oslo 2021") is the question's, numbers
        agreeing (`_number_agreement`: "Week 3", not "Week 4")."""
        focus, owners = vocabulary.question_words(question)
        asked = focus + owners
        numbers = _numbers(question)
        expected = question_type(question)
        found = []

        def typed(value: str) -> bool:  # "How many hours ...?" is answered by "1.75" too
            return expected in (IDENT, TEXT) or compatible(expected, value) \
                or expected == COUNT and _TIME_COUNTED.search(question) is not None \
                and re.fullmatch(r"\d{1,4}(?:[.,]\d{1,2})?", value.strip()) is not None

        for field in every:
            if field.source != "table" or not typed(field.value):
                continue
            words = vocabulary.label_words(self._read(field.key), asked)
            agreement = _number_agreement(numbers, field.key)
            # a column titled by a number alone ("2020") is named by the question's number
            if words and all(word in asked for word in words) and agreement >= 0 and (len(words) >= 2 or agreement > 0):
                found.append((field, _NAMED_KEY + agreement))
        if not found:
            # A word of the row's label and one of its column's title, where either says more
            # than a question would ("the net weight of the couplings" for "Coupling, flexible"
            # and "Net kg"; "the part number" for "Item Part no." the detector read as one box):
            # the row that more of its words name; rows named alike are no answer (below).
            # Only a word one row's label alone says names it ("total" of "Total credits" and
            # "Total debits" does not).
            said = set(asked) | {w[:-2] + "y" for w in asked if w.endswith("ie")}  # "assemblies": "assembly"
            labels = {field.row: [w for w in vocabulary.label_words(field.row, asked) if len(w) >= 3]
                      for field in every if field.source == "table"}
            rows_saying = Counter(word for words in labels.values() for word in set(words))
            for field in every:
                if field.source != "table" or not typed(field.value):
                    continue
                row = labels[field.row]
                title = set(vocabulary.label_words(field.key[len(field.row):], asked)) - vocabulary.GENERIC
                named = sum(word in said and rows_saying[word] == 1 for word in row)
                if named and (title - set(row)) & said and _number_agreement(numbers, field.row) >= 0:
                    found.append((field, _NAMED_KEY - 0.01 * (len(row) - named)))
        best = max((score for _, score in found), default=0.0)
        found = [(field, score) for field, score in found if score == best]
        if len({field.value for field, _ in found}) > 1 and expected == IDENT:
            # a title over two columns ("Item Part no." over "3" and "KP-0907"): the code asked
            found = [(field, score) for field, score in found if IDENT in value_types(field.value)]
        # one cell named; two ("Oslo 2020 and Oslo 2021") ask for something else about them
        return found if len({field.value for field, _ in found}) == 1 else []

    def _under_title(self, question: str, expected: str, extracted: list[Field]) -> list[tuple[Field, float]]:
        """A question that says a table column's title and nothing else ("What is the medium?"
        over a form's row "BRAND | MEDIUM | NO. | DESCRIPTION" with "Outdoor" under MEDIUM): a
        row of keys over their values reads as a table's header, and the title alone asks for
        that column's topmost value (a question naming a row is `_table_cell`'s). The title
        must say just the question's words: "status" over "ORDER STATUS" and "SHIP STATUS"
        names neither. Never for the page's own title ("What is the title?" over a staff
        list's "TITLE" column)."""
        focus, owners = vocabulary.question_words(question)
        asked = set(focus + owners)
        if not asked or intents.asks_title(question):
            return []
        under = [field for field in extracted if field.source == "table" and compatible(expected, field.value)
                 and asked == set(vocabulary.label_words(self._read(field.key[len(field.row):]), list(asked)))]
        if len({field.key[len(field.row):].strip() for field in under}) != 1:
            return []
        return [(min(under, key=lambda field: field.line), _NAMED_KEY - 0.01)]

    def _row_count(self, question: str, expected: str, every: list[Field]) -> list[tuple[Field, float]]:
        """A count asked of a table row the question names ("How many of the muffins ended up
        in my bag?" over "4 | Muffin | 59.40"), however many other words it says: the row's one
        count. Every word of the row label must be the question's; of several rows named, the
        longest label ("Oak chair" over "Chair"); a unit's letter ("Servo motor 750 W") need
        not be said. No answer when the row holds two counts."""
        if expected != COUNT:
            return []
        focus, owners = vocabulary.question_words(question)
        asked = set(focus + owners)
        tables = [f for f in every if f.source == "table" and f.row]
        rows: dict[str, list[Field]] = {}
        for field in tables:
            if compatible(COUNT, field.value):
                rows.setdefault(field.row, []).append(field)
        for field in tables:
            # a row without a bare count: a count of pieces ("8 pcs" where the detector joined
            # the quantity to its unit), not of days or ounces ("1 day", "12 oz")
            if field.row not in rows and COUNTED.fullmatch(field.value.strip()):
                rows.setdefault(field.row, []).append(field)
        named = []
        for row, cells in rows.items():
            words = [word for word in vocabulary.label_words(row) if len(word) >= 2]  # not a unit's "W" or "m"
            if words and any(len(word) >= 3 for word in words) and set(words) <= asked:
                named.append((len(words), row, cells))
        if not named:
            return []
        longest = max(size for size, _, _ in named)
        chosen = [cells for size, _, cells in named if size == longest]
        if len(chosen) != 1 or len({f.value for f in chosen[0]}) != 1:
            return []
        return [(chosen[0][0], 1.0)]

    def _row_named(self, question: str, expected: str, cells: tuple[TextLine, ...]) -> list[tuple[Field, float]]:
        """An amount asked of one line of a list that the question names by a word no other
        line has ("How much did I spend at REWE?" over "07 Feb | Card payment - REWE Markt |
        EUR 86.42 | EUR 6,006.95"; "the salary payment on 2 Feb"): every word the question
        says but its words of spending is in that line's cells of text (amounts are left out,
        so the digits of a balance name no day), and the line is one of a list (`_Lines.listed`).
        The answer is the first amount after the cell of the distinctive word, before the next
        cell of words (a statement's balance comes last; another block's figures stand after
        its own label); a label that holds its own value ("Delivery address: 12 Oak St")
        names no amount."""
        if expected != AMOUNT:
            return []
        words = _row_words(question)
        if not words:
            return []
        lines = _lines_of(cells)
        named = [k for k, row_words in enumerate(lines.said) if words <= set().union(*row_words.values())]
        if len(named) != 1:
            return []
        row, row_words = lines.rows[named[0]], lines.said[named[0]]
        distinct = lines.distinct(words)
        label = next((i for i in row if i in row_words and any(w in row_words[i] for w in distinct)), None)
        if label is None or re.search(r":\s*\S", cells[label].text) or not lines.listed(label):
            return []
        for i in row[row.index(label) + 1:]:
            if lines.money[i]:
                return [(Field(cells[label].text.strip(), cells[i].text.strip(), i, "row", key_line=label), 1.0)]
            if re.search(r"[^\W\d_]{3}", cells[i].text):
                return []  # another cell of words before any amount: its figures are its own
        return []

    def _in_page_words(self, question: str, fields: list[Field]) -> str:
        """The question with each word the page's keys do not hold replaced by the key word
        nearest it, if the sentence encoder puts them near enough (`MIN_WORD_SIMILARITY`):
        "When was the applicant born?" over "Date of birth:" asks about "birth"."""
        page = self._key_words(fields)
        focus, owners = vocabulary.question_words(question)
        asked = [w for w in focus + owners if len(w) >= 3 and w not in page and w not in vocabulary.GENERIC]
        if not page or not asked:
            return question
        for word, (nearest, similarity) in zip(asked, self._nearest(asked, page)):
            # (not a word that names who does what the key's word says: "biller" is no "bill",
            # "sender" no "send")
            agent = word.startswith(nearest) and word[len(nearest):] in _AGENT_ENDINGS
            if similarity >= MIN_WORD_SIMILARITY and nearest not in focus + owners and not agent:
                # the word as asked: canonical forms drop a plural's "s" only
                question = re.sub(rf"\b{re.escape(word)}s?\b", nearest, question, flags=re.I)
        return question

    def _quotes_absent(self, question: str, cells: tuple[TextLine, ...], fields: list[Field]) -> bool:
        """Whether the question asks about a name the page never shows: capitalised words that
        the question asks something of ("the amount for Support plan", "the price of Oak
        chair", "Kraków's figure") name a thing, a place or a person, and a page that holds
        none of them anywhere, neither as written nor as the recognizer may have misread it,
        says nothing about that thing. Only a name after "for" or "of" or one that owns what is
        asked ("Kraków's"): names that say when, where or how a thing was bought or who asks
        ("on Friday", "in Paris", "on my Visa", "thanks, Bob") are no thing asked about. Not
        an abbreviation in capitals ("VAT", "PO"), a day or a month, a word of asking or of
        the page itself, nor a question in title case; a name of several words is there when
        one of them is ("Circle One" over a misread "One")."""
        if any(word.lower() in vocabulary.STOP and word != "I" for word in re.findall(r"(?<=\s)[A-Z][a-z]*", question[:_MAX_NAMED_CHARS])):
            return False  # a question in title case ("When Is The Fee Payable?") quotes nothing by it
        common = vocabulary.STOP | vocabulary.GENERIC | vocabulary.REQUEST_WORDS | intents.WHOLE_PAGE_WORDS | _CALENDAR
        names: list[list[str]] = []  # runs of capitalised words the question asks about
        run: list[str] = []
        for match in re.finditer(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", question[:_MAX_NAMED_CHARS]):
            word = re.sub(r"['’]s$", "", match.group())
            if word[0].isupper() and (run or _ASKED_OF.search(question[:match.start()])):
                run.append(word)
            elif word[0].isupper() and word != match.group():  # "Kraków's Jun": the owner is asked of
                names.append([word])
                continue
            elif run:
                names.append(run)
                run = []
            if run and (word != match.group() or not re.match(r"\s*[^\W\d_]", question[match.end():])):
                names.append(run)  # a possessive or a break ends the name
                run = []
        if run:
            names.append(run)
        text = " ".join(cell.text for cell in cells)
        page_form = compact(text)
        page: list[str] | None = None
        for name in names[:_MAX_NAMES]:
            words = [word.lower() for word in name if not word.isupper() and len(word) >= 3]
            words = [word for word in words if word not in common and vocabulary.canonical(word) not in common]
            if not words or any(compact(word) in page_form or _misread(word, text, self._words) for word in words):
                continue
            # a key's word in other words ("the price of Coffee" over "Beverage") is no name of a
            # thing; a row's label is data, and its siblings near the name ("East" by "West") are others
            page = page if page is not None else self._key_words(fields)
            if not page or all(similarity < MIN_WORD_SIMILARITY for _, similarity in self._nearest(words, page)):
                return True
        return False

    def _names_row(self, question: str, row: str) -> bool:
        """Whether the question names a table's row (a word of its label, as written or
        misread; a label of figures only as written): a cell of a row it does not name answers
        it by its column's title alone ("the unit price of the ladder" over the saw's row)."""
        words = vocabulary.label_words(row)
        if not words:
            return compact(row) in compact(question)
        said = _words_of(question)
        asked = set(said) | {vocabulary.canonical(w) for w in said}
        # misread word by word (or two run together): across the question's word breaks "For
        # the" would read as a misread "North"
        spans = said + [a + b for a, b in zip(said, said[1:]) if a not in vocabulary.STOP and b not in vocabulary.STOP]
        return any(word in asked or any(_misread(word, span, self._words) for span in spans) for word in words)

    def _names_more_than(self, question: str, key: str) -> bool:
        """Whether the question says a specific word the key does not ("the qty of tape
        measure" over a column "Qty"): the value under a table's column title is one row's,
        and answers only a question that names the column alone."""
        focus, owners = vocabulary.question_words(question)
        return any(w not in vocabulary.GENERIC and not self._in_key(w, key) and not _abbreviated(w, key) for w in focus + owners)

    def _key_words(self, fields: list[Field]) -> list[str]:
        """The words of the page's keys, three letters or more, but not a table's row labels:
        they are data ("Power strip"), not words another word may stand for, whether keyed
        with a column ("Power strip Qty") or read as a row ("Power strip | 4")."""
        data = [f.key for f in fields if f.source in _DATA_KEYED]
        page = {word for f in fields if f.key and f.source not in _DATA_KEYED
                and not any(key.startswith(f.key + " ") for key in data)
                for word in vocabulary.label_words(self._read(f.key))}
        return sorted(word for word in page if len(word) >= 3 and not word.isdigit())

    def _names_absent_kind(self, question: str, cells: tuple[TextLine, ...]) -> bool:
        """Whether the question asks for the number of a kind of document the page never
        names ("the invoice number" of a form or a letter, "the ticket no." of a receipt): the
        word before "number" (or "no.", "#", "id") says what is numbered, and a page that
        holds that word nowhere, neither as written, nor as the recognizer may have misread it,
        nor as a word the sentence encoder puts near it, numbers no such document, whatever
        other numbers it shows. Only documents issued with a number of their own
        (`_NUMBERED_DOCUMENTS`): other words before "number" often name no thing the page must
        say ("identity number", "part number" over a parts list's "Code"), and a letter or a
        form rarely prints what a user calls it ("the letter reference" over "Our ref:")."""
        found = _NUMBERED.search(vocabulary.without_document_phrases(vocabulary.without_request(question)))
        if found is not None and found["kind"].lower() in vocabulary.STOP:
            found = None  # "by number" says how, not what is numbered
        asked = _WHICH_DOCUMENT.search(question) if found is None else None  # "What receipt is it, by its no.?"
        if found is None and asked is None:
            return False
        typed = kind = (found or asked)["kind"].lower()
        page = _numbered_page(question)
        if kind in _WORDS_FOR_A_NUMBER and page:  # "the bill's reference number"
            typed = kind = page
        if len(kind) >= 3:  # an abbreviation that opens the name ("inv no.")
            kind = next((name for name in sorted(_NUMBERED_DOCUMENTS) if name.startswith(kind)), kind)
        if kind not in _NUMBERED_DOCUMENTS:  # "the part number" of a parts list, "the letter reference"
            return False
        text = " ".join(cell.text for cell in cells)
        if _misread(kind, text, self._words) or typed != kind and re.search(rf"\b{re.escape(typed)}\b", text, re.I):
            return False  # as written ("INVOICE", "Invoices", "Inv No:") or misread
        if kind == "bill" and any(_misread(name, text, self._words) for name in _BILLS - {kind}):
            return False  # "the bill number" of an invoice or a receipt is its own number
        page = sorted({word.lower() for word in re.findall(r"[^\W\d_]{3,}", text)})
        return not page or self._nearest([kind], page)[0][1] < MIN_WORD_SIMILARITY

    def _nearest(self, words: list[str], among: list[str]) -> list[tuple[str, float]]:
        """For each of `words`, the one of `among` the sentence encoder puts nearest it, and
        how near (cosine)."""
        vectors = self._vectors(among + words)
        near = vectors[len(among):] @ vectors[:len(among)].T
        return [(among[int(np.argmax(row))], float(row.max())) for row in near]

    def _qualifiers(self, question: str) -> frozenset[str]:
        """The qualifiers (`vocabulary.QUALIFIERS`) the question says in its own words: "born"
        asks for the date of birth, "expires" the expiry date (words the sentence encoder puts
        within `MIN_WORD_SIMILARITY` of one)."""
        focus, _ = vocabulary.question_words(question)
        said = frozenset(focus) & vocabulary.QUALIFIERS
        if _DEADLINE.search(question):  # a date something must happen by is when it is due
            said |= {"due"}
        others = [w for w in focus if w not in said and len(w) >= 3 and w not in vocabulary.GENERIC]
        if not others:
            return said
        nearest = self._nearest(others, sorted(vocabulary.QUALIFIERS))
        return said | {qualifier for qualifier, similarity in nearest if similarity >= MIN_WORD_SIMILARITY}

    def _vectors(self, words: list[str]) -> np.ndarray:
        """The sentence encoder's vectors of short texts (words, keys), kept across questions."""
        with self._lock:  # several workers may share the answerer
            known = {w: self._word_vectors.get(w) for w in words}
        missing = [w for w, vector in known.items() if vector is None]
        if missing:
            known.update(zip(missing, self._embed(missing)))
            with self._lock:
                if len(self._word_vectors) > 8192:
                    self._word_vectors.clear()
                self._word_vectors.update((w, known[w]) for w in missing)
        return np.stack([known[w] for w in words])

    def _in_key(self, word: str, key: str) -> bool:
        """Whether a question's word is one of the key's words, or reads in it as the
        recognizer misread it."""
        return word in vocabulary.label_words(self._read(key), [word]) or _misread(word, key, self._words)

    def field_named(self, name: str, regions: tuple[TextLine, ...]) -> Answer | None:
        """The value of the page's key written exactly `name` (case, spaces and punctuation
        aside: "To?" and "TO:", "Cas#?" and "CAS #"): short keys ("To", "By", "No") hold only
        words the word matching drops, so they are matched here as written. The value must be
        of the type the name asks for and no label itself (a blank "Date:" above "Remarks:");
        the key's own cell, next cell or line below come before the last cell of its row.
        None when no key reads so."""
        wanted = name_form(name)
        if not wanted:
            return None
        expected = question_type(name)
        cells = read_cells(regions)
        named = [f for f in extract_fields(cells) if f.value.strip() and name_form(f.key) == wanted
                 and compatible(expected, f.value) and ":" not in f.value]
        for sources in (_ADJACENT_SOURCES | {"colon", "inline"}, {"row"}):
            for field in named:
                if field.source in sources:
                    return _found(field, field.value, expected, 1.0, cells)
        return None

    def names_a_key(self, request: str, regions: tuple[TextLine, ...]) -> bool:
        """Whether the request says every word of one of the page's keys ("... for physical
        state?" and "PHYSICAL STATE:"): it asks for that field, found or not."""
        asked = _specific_words(request)
        for field in extract_fields(read_cells(regions)):
            key = vocabulary.label_words(field.key) if field.key else []
            if key and any(len(word) >= 3 for word in key) and set(key) <= asked:
                return True
        return False

    def _look_up(self, question: str, cells) -> Answer | None:
        """"Which item has code P2297?", "Whose number is (555) 201-6652?": a value quoted in
        the question (a word with a figure, or a whole cell of figures and signs) names its row,
        and the row's label answers; "How much does P2297 cost?" asks another value of that
        row, which the question asked of the row's label finds ("Steel bolts")."""
        # Without "which", "what" ... only a code names a row ("item A-2323?"): an amount may
        # be said of anything ("Is the total 42.50?").
        interrogative = re.search(r"\b(which|what|who|whose)\b", question, re.I) is not None
        quoted = [token for token in re.findall(r"[A-Za-z0-9][A-Za-z0-9._/-]*[A-Za-z0-9]", question)
                  if any(c.isdigit() for c in token) and len(token) >= 3 and (interrogative or any(c.isalpha() for c in token))]
        asked = compact(question)
        if re.match(r"\W*(?:who|whose)\b", question, re.I):  # "Whose number is (555) 201-6652?": a name
            quoted += [cell.text for cell in cells if sum(c.isdigit() for c in cell.text) >= 5
                       and " " in cell.text.strip() and compact(cell.text) in asked]
        for token in quoted:
            found = row_label(cells, token)
            if found is None:
                continue
            label, index = found
            if label.endswith((":", "：")) or not re.search(r"[^\W\d_]", label):
                continue  # a key's value ("Invoice No: | INV-4471"), or a row numbered, not named
            other = self._answer(question.replace(token, label), cells)
            if other.found and other.field is not None and other.field.source == "table" \
                    and other.field.row == label and compact(other.text) != compact(token):
                return other
            # a label names a thing: not when, where or how the question asks, nor a figure
            if question_type(question) in (TEXT, PERSON, ORG, IDENT) and not _NOT_A_NAME.match(question):
                return Answer(label, True, (cells[index],), 1.0)
        return None

    def _labelled(self, question: str, fields: list[Field], accept=None) -> list[tuple[Field, float]]:
        """Fields whose keys the question names, scored; `accept(value)` vets the values of
        keys found inside cells ("Client Group BATKorea")."""
        config = self._config
        focus, owners = vocabulary.question_words(question)
        specific = _specific(focus, owners)
        opened = _prefixed(fields, specific, question, self._words) + _run_together(fields, question)
        # A cell's key and value the layout already keyed (and went on under: a "cc:" list) as it
        # is; nor a key cut short of the colon that ends it ("Oral LD50 | (rat): 5800 mg/kg").
        laid_out = {(f.line, f.key.strip().lower()) for f in fields if f.key}
        colons = [(f.line, name_form(f.key)) for f in fields if f.key and f.source == "colon"]
        opened = [f for f in opened if (f.line, f.key.strip().lower()) not in laid_out
                  and not any(line == f.line and key.startswith(name_form(f.key)) for line, key in colons)]
        keyed = [f for f in fields if f.key] + [f for f in opened if accept is None or accept(f.value)]
        if not keyed:
            return []
        asked = " ".join(focus + owners)
        matches = []
        for field in keyed:
            # Word for word, or as the recognizer misread it ("SUPPL.IER:" for "supplier").
            key = self._read(field.key)
            label = vocabulary.label_words(key, focus + owners)
            label_cover = sum(w in focus or w in owners or _misread(w, asked, self._words) or _kin(w, focus)
                              for w in label) / len(label) if label else 0.0
            question_cover = sum(w in label or _misread(w, key, self._words) or _kin(w, label)
                                 for w in specific) / len(specific) if specific else 1.0
            if label_cover >= config.min_label_coverage and question_cover >= config.min_question_coverage:
                matches.append((field, label_cover + question_cover))
        if not matches and not focus and not owners:
            # A key of words a question usually asks with ("Written by", "State", "Made"), in a
            # question that names nothing else: said in full, as written, it names that key, where
            # its value is of the type asked ("Who made it?" asks no year).
            expected = question_type(question)
            matches = [(f, _NAMED_KEY) for f in keyed if f.key and not vocabulary.label_words(self._read(f.key))
                       and any(len(word) >= 3 for word in re.findall(r"[^\W\d_]+", f.key))
                       and _says_in_full(question, f.key) and (expected == TEXT or expected in value_types(f.value))]
        if not matches:
            return []
        keys = sorted({f.key for f, _ in matches})
        vectors = self._embed([" ".join(focus + owners) or question, *map(self._read, keys)])
        similarity = dict(zip(keys, (vectors[1:] @ vectors[0]).tolist()))
        numbers = _numbers(question)
        return [(f, prior + config.similarity_weight * similarity[f.key] + _number_agreement(numbers, f.key))
                for f, prior in matches]

    def _similar(self, question: str, fields: list[Field], expected: str = TEXT) -> list[tuple[Field, float]]:
        """A key the question names in other words ("Who took the money at the till?" and
        "Cashier:"): the sentence encoder compares the question's focus words with each key, and
        with the key and its value together ("Subject: Change of address" for "What is this
        note about?"); the nearest stands if it is near enough (`MIN_KEY_SIMILARITY`)
        and clearly nearer than any key with another value (`MIN_KEY_MARGIN`), or far
        nearer than any other (`MIN_CLEAR_KEY_MARGIN`) and a value the question may ask for. A
        question that qualifies what it asks ("due date") needs a key that says so."""
        wanted = self._qualifiers(question)
        # A table's keys begin with its row labels, which are data ("Power strip"), not words
        # another word may stand for: "extension cord" is no other name for them.
        keyed = [f for f in fields if f.key and f.source not in _DATA_KEYED and wanted <= vocabulary.qualifiers(f.key)]
        focus, owners = vocabulary.question_words(question)  # "printed here" names no key "PRINT"
        if any(word not in vocabulary.GENERIC for word in focus):
            # A key of type words only ("Number", "Date") names no particular number: it is
            # near every question about one ("the flight number"), so it answers only a
            # question that names nothing more particular either.
            keyed = [f for f in keyed if not set(vocabulary.label_words(self._read(f.key))) <= vocabulary.GENERIC]
        if not keyed:
            return []
        keys = [self._read(f.key) for f in keyed]
        asked = " ".join(focus + owners) or question
        # The page's keys (and key-value texts) come back with every question about it: kept.
        vectors = self._vectors([asked, *keys, *(f"{key} {f.value}" for key, f in zip(keys, keyed))])
        alone, together = vectors[1:len(keyed) + 1] @ vectors[0], vectors[len(keyed) + 1:] @ vectors[0]
        # A value whose word opens a longer word of the question ("Paid by: Cash" for a question
        # about the cashier) is near it by the letters they share, another word: the key alone decides.
        asked_words = [w for w in _words_of(question) if len(w) >= 3]
        echoing = np.array([any(a != v and a.startswith(v) for v in re.findall(r"(?<!\S)[^\W\d_]{3,}(?!\S)", f.value.lower())
                                for a in asked_words) for f in keyed])
        scores = np.where(echoing, alone, np.maximum(alone, together))
        best = int(np.argmax(scores))
        others = [float(s) for s, f in zip(scores, keyed) if f.value != keyed[best].value]
        margin = float(scores[best]) - max(others, default=0.0)
        near = scores[best] >= MIN_KEY_SIMILARITY and margin >= MIN_KEY_MARGIN
        clear = scores[best] >= MIN_CLEAR_KEY_SIMILARITY and margin >= MIN_CLEAR_KEY_MARGIN \
            and not value_types(keyed[best].value) & _STRICT_TYPES - {expected}
        if not near and not clear:
            return []
        return [(keyed[best], float(scores[best]))]

    def _unlabelled(self, question: str, expected: str, fields: list[Field], cells,
                    every: list[Field]) -> list[tuple[Field, float]]:
        """The issuer's name or address from the letterhead (else the header line, the first
        address); the document's first value of another primary type."""
        # the street line, not the whole address ("Which road is it on?")
        street = expected == ADDRESS and bool(_STREET_WORDS & set(focus_words(question)))
        about_issuer = expected in (ORG, ADDRESS) and not self._qualifiers(question) and self._about_issuer(question)
        page = " ".join(cell.text for cell in cells) if expected in (PERSON, ORG) and _PAYEE.search(question) else ""
        if page and _BILL_PAGE.search(page) and not _PAID_PAGE.search(page):
            head = read_letterhead(cells)  # who is to be paid on a bill: its issuer, whoever asks
            return [(_letterhead_field(cells, head.issuer), 1.0)] if head.certain and head.issuer else _header(fields, every)
        if about_issuer and not street:
            head = read_letterhead(cells)
            lines = (head.issuer if expected == ORG else head.address) if head.certain else ()
            if lines:
                return [(_letterhead_field(cells, lines), 1.0)]
        whose = re.match(r"\s*whose\s+[^\W\d_]+\s+(is|was)\s+(it|this|that)\b", question, re.I) \
            and not re.search(r"\bsign", question, re.I)
        if expected == PERSON and (whose or _nameless(question) or self._about_subject(question)):
            # "Whose application is it?", "Who is the card holder?": the person the page is about,
            # as its name field gives it ("Name", "Full name"); of several, the first in reading
            # order, as the first date is the page's date.
            named = [(f, score) for f, score in self._labelled("name", fields)
                     if set(vocabulary.label_words(self._read(f.key))) <= _PERSON_NAME_WORDS]
            if named:
                return [min(named, key=lambda item: item[0].line)]
        if expected == PERSON and _TO_WHOM.search(question):
            # "Who is the letter to?", "To whom is it addressed?": the person the page greets,
            # else a memo's or e-mail's header key "To:".
            greeted = [f for f in fields if f.source == "greeting"] or _header_key(every, "to", expected)
            if greeted:
                return [(greeted[0], 0.5)]
            # Whom this invoice is made out to or for: the page itself is for its party keyed
            # "... to" ("Bill to:"), whatever the sentence encoder makes of the question's other
            # words (not where the goods go, over "Bill to:" alone)
            party = self._party(question, expected, cells) if _numbered_page(question) else None
            if party is not None:
                return [(party, 0.5)]
        if expected in (PERSON, ORG) and _WHO_DID.search(question):
            # "Who wrote it?", "Who sent the memo?": the person who signed the page did it, else
            # the one a memo's or e-mail's header key "From:" names (a question about a company
            # was answered by the letterhead above, where the page has one).
            signed = [f for f in fields if f.source == "closing" and expected == PERSON] or _header_key(every, "from", expected)
            if signed:
                return [(signed[0], 0.5)]
        if expected == PERSON:
            # a letter's two people asked in words no key has: by the examples of each the
            # question stands clearly nearer (`_letter_person`)
            person = self._letter_person(question, fields)
            if person is not None:
                return [(person, 0.5)]
        if expected == PERSON and (_FROM_WHOM.search(question) or _document_done_by(question)):
            # "Who is this invoice from?" where no one signs and no key says "From": the issuer
            # its letterhead names
            head = read_letterhead(cells)
            if head.certain and head.issuer:
                return [(_letterhead_field(cells, head.issuer), 0.5)]
        if expected in (PERSON, ORG, ADDRESS) and not about_issuer and not _WHO_DID.search(question) \
                and not _DONE_BY.search(question) and self._toward_other_party(question, roles=(ISSUER, SOMEONE)) >= OTHER_PARTY_MARGIN:
            # "Whose name is on the bill?": a name over an address under a key of its own
            # ("Bill to:"), the party the page is for; the key nearest the question of several.
            party = self._party(question, expected, cells)
            if party is not None:
                return [(party, 0.5)]
        if expected == ORG:
            # "Which company is billed?" is about another party, whose key the question may name
            # in other words: the header line answers it only when those find nothing (`answer`).
            return _header(fields, every) if about_issuer else []
        if expected == AMOUNT:
            return self._total(question, fields, cells)
        if expected not in _PRIMARY_TYPES:
            return []
        wanted = self._qualifiers(question)
        if wanted:
            # "Until when can I pay?" asks the date keyed "due": the page's one value of the
            # type asked whose key says every qualifier the question does ("Due date").
            keyed = {f.value: f for f in fields if f.key and wanted <= vocabulary.qualifiers(self._read(f.key))}
            return [(next(iter(keyed.values())), 0.5)] if len(keyed) == 1 else []
        if expected == ADDRESS:
            # a city, a street or a block of lines is no country: only a key that says one
            found = _country(every) if _asks_country(question) else _address(fields) or _place(every)
            return [(found, 0.5)] if found is not None else []
        focus, owners = vocabulary.question_words(question)
        if any(f.source == "table" and compatible(expected, f.value)
               and {w for w in vocabulary.label_words(f.row) if len(w) >= 3} & set(focus + owners) for f in every):
            # a question naming a table's row that holds values of the type asked ("What time did
            # she finish on Wednesday?") asks one of them, not the page's first
            return []
        asked = self._keyed_in_other_words(question, expected, fields)
        if asked is not None:
            return [(asked, 0.5)]
        # Document order: the first date is the document's date. A value on one line comes
        # before a block of lines (an address over three lines) that holds one.
        for blocks in (False, True):
            for field in fields:
                if not _unnamed_answer(field, expected):
                    continue
                if (field.source == "block") == blocks and not vocabulary.qualifiers(field.key):
                    return [(field, 0.5)]  # "Due date: ..." is not the document's date
        return []

    def _keyed_in_other_words(self, question: str, expected: str, fields: list[Field]) -> Field | None:
        """Of the page's keyed values of the type asked, the one whose key the whole question
        is clearly nearest by the key's own words (a question on when someone first saw
        daylight and "Date of birth", not the form's "Signed" date), where the key matching
        found no key the question names: at least `MIN_ASKED_KEY_SIMILARITY`, and
        `MIN_ASKED_KEY_MARGIN` nearer than any key of another value. A key's type words
        ("date", "number") are left out: every date question is near "Date of birth" by them.
        None when the keys hold one value, or none stands out: then the page's first value of
        that type answers (the document's date)."""
        keyed: dict[str, Field] = {}
        for field in fields:
            if field.key and field.source != "span" and _unnamed_answer(field, expected):
                keyed.setdefault(self._read(field.key), field)
        if len({f.value for f in keyed.values()}) < 2:
            return None
        keys = list(keyed)
        own = [" ".join(w for w in vocabulary.label_words(key) if w not in vocabulary.GENERIC) for key in keys]
        if not any(own):
            return None
        vectors = self._vectors([words for words in own if words])
        said = iter(vectors @ self._embed([question.strip()])[0])
        similarity = [float(next(said)) if words else 0.0 for words in own]
        best = int(np.argmax(similarity))
        others = [s for key, s in zip(keys, similarity) if keyed[key].value != keyed[keys[best]].value]
        if similarity[best] >= MIN_ASKED_KEY_SIMILARITY and similarity[best] - max(others) >= MIN_ASKED_KEY_MARGIN:
            return keyed[keys[best]]
        return None

    def _asks_total(self, question: str) -> bool:
        """Whether a question asks for the page's total ("What is the final amount?", "How much
        did the customer pay altogether?", "grand total"): near the sentence "total amount to
        pay", and nearer it than a sentence about the bill's other amounts (a tax, a discount,
        a subtotal are totals of something else); or near example questions about a bill's
        whole sum and nearer them than those about a part (`MIN_TOTAL_EXAMPLES`)."""
        near, margin = self._total_similarities(question)
        # A question that says "total" needs less of the sentence's other words ("grand total");
        # one that does not must stand nearer ("the amount for an item" is no total).
        least = MIN_TOTAL_QUESTION if "total" in focus_words(question) else MIN_TOTAL_SIMILARITY
        if near >= least and margin >= MIN_TOTAL_MARGIN:
            return True
        scores = self._amount_router.scores(question)
        margin = scores[TOTAL] - scores[PART]
        return scores[TOTAL] >= MIN_TOTAL_EXAMPLES and margin >= MIN_TOTAL_EXAMPLES_MARGIN \
            or scores[TOTAL] >= MIN_TOTAL_EXAMPLES_CLEAR and margin >= MIN_TOTAL_EXAMPLES_CLEAR_MARGIN

    def _total_margin(self, question: str) -> float:
        return self._total_similarities(question)[1]

    def _total_similarities(self, question: str) -> tuple[float, float]:
        """The question's cosine to TOTAL_KEY, and how much nearer it is than to PART_SENTENCE."""
        total, part = self._total_sentences
        # "the total incl. tax", "with VAT": a part said to be in the total is no question about
        # that part
        vector = self._embed([_INCLUDED.sub(" ", question).strip() or question])[0]
        near = float(vector @ total)
        return near, near - float(vector @ part)

    @functools.cached_property
    def _total_sentences(self) -> np.ndarray:
        return self._embed([TOTAL_KEY, PART_SENTENCE])

    def _toward_other_party(self, question: str, *, roles: tuple[str, ...] = (ISSUER,)) -> float:
        """How much nearer the other party's example questions the question stands than those
        of `roles` (`roles.PartyRouter`): the issuer's, and for a party's lines also those
        about someone in another role ("Who is the doctor?" is about neither party)."""
        scores = self._party_router.scores(question)
        return scores[OTHER] - max(scores[role] for role in roles)

    def _letter_person(self, question: str, fields: list[Field]) -> Field | None:
        """The person a letter greets or the one who signs it, as the question asks: nearer the
        examples of one (`roles.LETTER_EXAMPLES`) than of the other and of people in other
        roles by `LETTER_ROLE_MARGIN`, and near them (`MIN_LETTER_ROLE`). None on a page that
        greets no one and is signed by no one."""
        people = {READER: [f for f in fields if f.source == "greeting"], WRITER: [f for f in fields if f.source == "closing"]}
        if not any(people.values()):
            return None
        # "Who gets the book?" over "Your reserved book has arrived": a question naming what the
        # letter's text speaks of asks about that, not about who wrote or reads the letter
        said = {vocabulary.canonical(word) for f in fields if f.source == "line" for word in re.findall(r"[^\W\d_]{3,}", f.value.lower())}
        if any(word in said for word in vocabulary.question_words(question)[0]
               if len(word) >= 3 and word not in vocabulary.GENERIC and word not in _AUXILIARIES):
            return None
        scores = self._letter_router.scores(question)
        role = max(scores, key=scores.get)
        margin = scores[role] - max(score for name, score in scores.items() if name != role)
        if role not in people or scores[role] < MIN_LETTER_ROLE or margin < LETTER_ROLE_MARGIN or not people[role]:
            return None
        return people[role][0]

    def _about_subject(self, question: str) -> bool:
        """Whether a question about a person asks who the page is about ("Who is the card holder?"):
        nearer those example questions than any other party's by `SUBJECT_MARGIN`; not who
        did something to it or whom it is for (`_WHO_DID`, `_TO_WHOM`, `_DONE_BY`)."""
        if _WHO_DID.search(question) or _TO_WHOM.search(question) or _DONE_BY.search(question):
            return False
        if vocabulary.question_words(question)[1]:  # "the member's spouse" is someone else
            return False
        if _POSSESSED.search(question):  # so is "Who is her dentist?" ("his name" is his)
            return False
        scores = self._party_router.scores(question)
        return scores[SUBJECT] - max(score for role, score in scores.items() if role != SUBJECT) >= SUBJECT_MARGIN

    def _party(self, question: str, expected: str, cells) -> Field | None:
        """The name (or, for an address, the lines under it) of the page's party block
        (`document.party_blocks`) keyed "... to" whose key stands nearest the question, by
        `MIN_PARTY_MARGIN` over the next, else the first (the payer's, before the delivery's).
        None when the page has no such block, when a question about the delivery finds only
        blocks keyed as the one billed, or when the block has no street line a question about
        the street asks for."""
        # A key that ends in "to" ("Bill to", "Deliver to") names whom the page is for; "From:"
        # or "Emergency contact:" over a name and an address names someone else, and so does
        # where to pay or send back ("Remit to", "Payable to", "Return to": the issuer's).
        parties = [p for p in party_blocks(cells) if re.search(r"\bto$", p.key.strip(), re.I)
                   and not re.search(r"\b(?:remit|pay|payable|return|reply)\s+to$", p.key.strip(), re.I)]
        if not parties:
            return None
        # who gets the delivery is no party keyed as the one billed ("Bill to", "Invoice to", "Sold
        # to") where no key says delivery ("Ship to"); a plain "To:" or "Send to:" may be either
        if all(set(_words_of(p.key)) & _BILLING_WORDS for p in parties) \
                and not any("delivery" in self._qualifiers(p.key) for p in parties) and self._about_delivery(question):
            return None
        chosen = parties[0]
        if len(parties) > 1:
            vectors = np.concatenate([self._embed([question]), self._vectors([p.key for p in parties])])
            scores = vectors[1:] @ vectors[0]
            order = np.argsort(-scores)
            if scores[order[0]] - scores[order[1]] >= MIN_PARTY_MARGIN:
                chosen = parties[int(order[0])]  # else the first: a bill names its payer first
        name, *address = chosen.lines
        if expected != ADDRESS or "name" in focus_words(question):  # a name asked, the word "address" said too
            return Field(chosen.key, cells[name].text.strip(), name, "party", key_line=chosen.key_line)
        if _STREET_WORDS & set(focus_words(question)):
            address = [i for i in address if is_street_line(cells[i].text)][:1]
        if not address:
            return None
        text = ", ".join(cells[i].text.strip().rstrip(",") for i in address)
        return Field(chosen.key, text, address[0], "party", tuple(address), chosen.key_line)

    def _about_delivery(self, question: str) -> bool:
        """Whether a question about a bill's other party asks where the goods go: it says a
        delivery in words near that qualifier (of the qualifiers only a delivery names a party:
        "the order" is the bill's), or stands `MIN_DELIVERY_MARGIN` nearer the example questions
        about a delivery than those about whom it is billed to (`roles.SHIPMENT_EXAMPLES`)."""
        if "delivery" in self._qualifiers(question):
            return True
        scores = self._shipment_router.scores(question)
        return scores[DELIVERED] - scores[BILLED] >= MIN_DELIVERY_MARGIN

    def _about_issuer(self, question: str) -> bool:
        """Whether a question about a name or an address asks for the issuer's ("Where is the
        shop located?", "Which address is printed?": the address of a receipt is its
        issuer's) rather than another party's ("Where are the goods shipped to?"): it does
        unless it stands clearly nearer example questions about another party (`roles`), or it asks who did
        what its verb says ("Which company billed it?")."""
        if _DONE_BY.search(question):
            return True  # "Which company billed it?" asks who billed, not who was billed
        return self._toward_other_party(question) < OTHER_PARTY_MARGIN

    def _total(self, question: str, fields: list[Field], cells) -> list[tuple[Field, float]]:
        """"What is the final amount?", "How much did the customer pay altogether?": a question
        as near the sentence "total amount to pay" as a total question is gets the page's total:
        of the amounts whose keys are that near it too, the largest (a total before rounding or
        tax is smaller than the one paid). A question about one item's price stands
        far from it, and a page without such a key has no total to give. A receipt's
        arithmetic (`paid_total`: total, tendered, change) decides before the keys do."""
        if not any(f.key and AMOUNT in value_types(f.value) for f in fields) or not self._asks_total(question):
            return []  # no keyed amount: no total to give, and no need to embed the question
        total = self._page_total(fields, cells)
        if total is None or self._names_other_line(question, total, cells):
            return []
        return [(total, 0.5)]

    @staticmethod
    def _names_other_line(question: str, total: Field, cells) -> bool:
        """Whether the question names a line of a list other than the total's, by a word one
        row alone says and with every word of letters it says, though a figure disagrees ("the
        salary payment on 7 Feb" where the salary came on the 2nd): it asks about that line,
        which the total is not. A word of the header ("How much did I pay at Tesco?") names
        no line of a list; nor does a line that lacks a word ("How much did the customer pay
        altogether?" beside "Customer saving 3.40")."""
        words = _row_words(question)
        if not words:
            return False
        lines = _lines_of(cells)
        lettered = {w for w in words if not w.isdigit()}
        for word in lines.distinct(words):
            row, row_words = next((row, row_words) for row, row_words in zip(lines.rows, lines.said)
                                  if any(word in ws for ws in row_words.values()))
            cell = next(i for i, ws in row_words.items() if word in ws)
            if total.line not in row and lettered <= set().union(*row_words.values()) and lines.listed(cell):
                return True
        return False

    def _page_total(self, fields: list[Field], cells) -> Field | None:
        """The page's total: its arithmetic's (`paid_total`), else the largest amount keyed
        as near TOTAL_KEY as MIN_TOTAL_SIMILARITY, else the amount the ones above it add up to
        (`summed_total`)."""
        paid = paid_total(fields, cells)
        if paid is not None:
            return paid
        keyed = [f for f in fields if f.key and AMOUNT in value_types(f.value)]
        near = self._near_total_keys({f.key for f in keyed})
        totals = [(_amount(f.value), f) for f in keyed if f.key in near]
        totals = [(amount, f) for amount, f in totals if amount is not None]
        if totals:
            return max(totals, key=lambda item: (item[0], -item[1].line))[1]
        return summed_total(fields, cells)  # no key near "total": the page's own sum

    def _net_of(self, part: str, fields: list[Field], cells) -> Field | None:
        """"The sum before tax": the amount on the page that is the total less the amount
        keyed `part` ("Subtotal 54,42" where "TOTAL 57,14" and "Tax 5% 2,72"), or the total
        plus it where the part was taken off ("before the discount"); of several, the one
        nearest above the part (a subtotal stands over its tax, an item further up). None
        when no amount of the page makes that sum."""
        total = self._page_total(fields, cells)
        if total is None or (whole := _amount(total.value)) is None:
            return None
        amounts = [(amount, f) for f in fields if f.source in ("line", "row", "colon", "neighbour")
                   for amount in [_amount(f.value)] if amount is not None]
        found = []
        for f in fields:
            # "Net amount (before tax)" names the net, not the part
            if not f.key or _EXCLUDED.search(f.key) or not self._in_key(part, f.key):
                continue
            taken = _amount(f.value)
            if taken is None or not 0 < taken < whole:
                continue
            for amount, net in amounts:
                if net.line not in (total.line, f.line) and net.line < f.line and (
                        abs(amount + taken - whole) < 0.005 or abs(amount - taken - whole) < 0.005):
                    found.append((f.line - net.line, net))
        return min(found, key=lambda item: item[0])[1] if found else None

    def _near_total_keys(self, keys) -> set[str]:
        """The keys that name a total to pay: as near TOTAL_KEY as MIN_TOTAL_SIMILARITY."""
        keys = sorted(keys)
        if not keys:
            return set()
        vectors = self._embed(list(map(self._read, keys)))
        return {key for key, vector in zip(keys, vectors) if float(vector @ self._total_sentences[0]) >= MIN_TOTAL_SIMILARITY}

    def _choose(self, question: str, candidates: list[tuple[Field, float]], cells) -> tuple[float, Field]:
        """The best candidate; the LM breaks near-ties (same value counted once)."""
        config = self._config
        # A key's own neighbour is its value before a cell further along its row: "Wet Weight |
        # 99.2 gms. | Pump Press. 120 psig" (the row rule is for "Total | 2 | 42.50", whose
        # nearer cell the expected type has already dropped).
        adjacent = {field.key_line for field, _ in candidates if field.source in _ADJACENT_SOURCES}
        candidates = [(f, prior) for f, prior in candidates if f.source != "row" or f.key_line not in adjacent]
        # Of the values one key cell labels, those near the one the linker finds likeliest (`Field.link`).
        likeliest: dict[int, float] = {}
        for field, _ in candidates:
            if field.link >= 0:
                likeliest[field.key_line] = max(likeliest.get(field.key_line, 0.0), field.link)
        candidates = [(f, prior) for f, prior in candidates
                      if f.link < 0 or likeliest[f.key_line] < LINK_MIN or f.link >= LINK_KEEP * likeliest[f.key_line]]
        best_by_value: dict[str, tuple[Field, float]] = {}
        for field, prior in candidates:
            if field.value not in best_by_value or prior > best_by_value[field.value][1]:
                best_by_value[field.value] = (field, prior)
        ranked = sorted(best_by_value.values(), key=lambda item: -item[1])
        close = [item for item in ranked if item[1] >= ranked[0][1] - config.lm_margin][: config.max_lm_candidates]
        if len(close) == 1:
            return close[0][1], close[0][0]
        texts = [cell.text for cell in cells]
        lm_scores = self._score_answers(question, texts, [f.value for f, _ in close])
        scored = [(prior + config.lm_weight * lm, f) for (f, prior), lm in zip(close, lm_scores)]
        return max(scored, key=lambda item: item[0])
