"""What kind of value a question asks for, and what kind of value a text span is.

A question about a total can only be answered by an amount, a question about a date by a
date: checking the type keeps the reader from answering "What is the tax ID?" with the
tax amount. Rules are regular expressions over English wording; "text" accepts anything.
"""

from __future__ import annotations

import re

AMOUNT, DATE, IDENT, PHONE, EMAIL, COUNT, PERSON, ORG, TEXT = (
    "amount", "date", "id", "phone", "email", "count", "person", "organization", "text",
)

# Checked in order: the first matching rule decides (e.g. "due date" is a date, not an amount).
_QUESTION_RULES = (
    (EMAIL, r"\be-?mail\b"),
    (PHONE, r"\b(phone|telephone|tel|mobile|fax)\b"),
    (DATE, r"\b(date|when|dated|born|birth|day)\b"),
    (COUNT, r"\b(how many|quantity|qty|count)\b"),
    (IDENT, r"\b(id|number|no|code|reference|ref|account|iban|invoice #|#)\b"),
    (AMOUNT, r"\b(total|amount|price|cost|subtotal|tax|vat|balance|due|pay|paid|how much|sum|fee|charge|tip|change)\b"),
    (ORG, r"\b(vendor|company|store|shop|merchant|issued|issuer|seller|business|restaurant|supplier|from which)\b"),
    (PERSON, r"\b(who|name|signed|recipient|addressed|customer|billed|bill to|sender|wrote|author|patient|employee)\b"),
)

_AMOUNT = re.compile(r"^(?:[$€£]|usd|eur|gbp)?\s*-?\d{1,3}(?:[,.\s]?\d{3})*(?:[.,]\d{2})\s*(?:[$€£]|usd|eur|gbp)?$", re.I)
_DATE = re.compile(
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|"
    r"(\d{1,2}\s*)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*\d{0,2},?\s*\d{4})$",
    re.I,
)
_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
_COUNT = re.compile(r"^\d{1,4}$")
_IDENT = re.compile(r"^(?=.*\d)[A-Z0-9#][A-Z0-9#/._-]{2,}$", re.I)
_WORDS = re.compile(r"^[A-Za-z][A-Za-z.'&-]*(\s+[A-Za-z&][A-Za-z.'&-]*)*$")


def question_type(question: str) -> str:
    lowered = question.lower()
    for kind, pattern in _QUESTION_RULES:
        if re.search(pattern, lowered):
            return kind
    return TEXT


def value_types(value: str) -> frozenset[str]:
    """Every type `value` could be (a 4-digit number is both a count and an id)."""
    text = value.strip()
    compact = re.sub(r"\s+", "", text)
    kinds = {TEXT}
    if _AMOUNT.match(text) or _AMOUNT.match(compact):
        kinds.add(AMOUNT)
    if _DATE.match(text) or _DATE.match(compact):
        kinds.add(DATE)
    if _EMAIL.match(compact):
        kinds.add(EMAIL)
    if _PHONE.match(text) and sum(c.isdigit() for c in text) >= 7 and not _DATE.match(text):
        kinds.add(PHONE)
    if _COUNT.match(compact):
        kinds.add(COUNT)
    if _IDENT.match(compact) and AMOUNT not in kinds and DATE not in kinds:
        kinds.add(IDENT)
    if _WORDS.match(text):
        kinds.update((PERSON, ORG))
    return frozenset(kinds)


def compatible(expected: str, value: str) -> bool:
    return expected == TEXT or expected in value_types(value)
