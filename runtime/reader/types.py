"""What kind of value a question asks for, and what kind of value a text span is.

A question about a total can only be answered by an amount, a question about a date by a
date: checking the type keeps the reader from answering "What is the tax ID?" with the
tax amount. Question rules are general cues of English questions ("how many" → a count,
"when" → a date); values are read by the general parsers of `values` (dates, money,
phones, ...); "text" accepts anything.
"""

from __future__ import annotations

import re

from .payment import instrument
from .values import find_dates, is_name, without_spaced_decimals, month_number, parse_date, parse_email, parse_money, parse_percent, parse_phone, parse_time, parse_url, split_mailbox

AMOUNT, DATE, TIME, IDENT, PHONE, EMAIL, ADDRESS, COUNT, PERSON, ORG, TEXT = (
    "amount", "date", "time", "id", "phone", "email", "address", "count", "person", "organization", "text",
)
PERCENT = "percent"
URL = "url"

# What "how much of" asks an amount (or a time) of, not a count: words of money ("How much of
# the deposit was refunded?"), their plurals ("funds", "fees"), time, and what names nothing
# counted ("how much of it", "of what I paid").
_NOT_COUNTED = (r"(?:tax|vat|gst|total|bill|amount|price|cost|discount|fee|money|budget|payment|balance|pa(?:y|id)|"
                r"spen[dt]|owed?|charged?|deposit|rent|loan|claim|refund(?:ed)?|fare|premium|allowance|sum|mortgage|"
                r"deductible|grant|salary|wage|income|revenue|credit|debt|invoice|cash|time|it|that|this|what)\b")
# Nouns that only count things ("24 pcs", "15 sets", "how much pieces"), in a regex.
COUNTING_NOUNS = r"(?:pieces?|pcs?|units?|items?|sets?|pairs?|boxes|packs?|bottles?|cartons?|ea)"
COUNTED = re.compile(r"\d{1,4}\s*" + COUNTING_NOUNS + r"\.?", re.I)  # a count with what it counts: "8 pcs"
_MONEY_PLURALS = r"(?:funds|savings|wages|earnings|taxes|fees|costs|charges|payments|profits|proceeds|expenses|dues|prices|rates|sales)"
# How something was paid (a payment method: `payment`), not how much: "How was the purchase
# paid?", "How did they pay?", "how the invoice is to be paid" ("how much", "how large was the
# amount paid" ask an amount); what one paid with ("paid using", "pay via", "With what did
# they pay?"); which card was used or charged ("Which card was charged?", not its number; "What
# kind of card is it?" may ask about the page); a receipt's own words for it ("tender type").
_PAYMENT_METHOD = (
    r"\bhow\s+(was|were|did|do|does|is|are|am|will|would|shall|should|can|could|must|may|might|the|this|it)\b.*\b(pay|paid|settled?)\b"
    r"|\bhow\s+(?:i|we|you|they)\s+(?:(?:can|could|must|should|will|shall|have\s+to|has\s+to|need\s+to|am\s+to|are\s+to)\s+)?"
    r"(?:pay|paid|settle)\b"
    r"|\bmethod\b|\b(way|means|mode|form)\s+of\s+(pay|paying|payment)\b|\bway\b.*\b(pay|paid|payment)\b|\b(pay|paid|settled?)\s+(with|using|via|by)\b|\buse[ds]?\s+to\s+(pay|settle)\b"
    r"|^\W*(with|using|by)\s+(what|which)\b(?!\s+(?:amount|sum|total|figure|price)\b).*\b(pay|paid|settled?)\b"
    r"|\b(?:what|which)\s+(?:kind\s+of\s+|type\s+of\s+|sort\s+of\s+)?(?:credit\s+|debit\s+|bank\s+|payment\s+)?card\b"
    r"(?!\s*(?:number|no\b|#|holder|expir))[^?]*\b(?:use[ds]?|using|charged?|pa(?:y|id)|swiped|tapped|billed)\b"
    r"|\b(?:tender|payment)\s+(?:type|kind|mode|method)\b"
)
# Checked in order: the first matching rule decides (e.g. "due date" is a date, not an amount;
# "phone number" is a phone, not an id; "what time" is a time, not a date).
_QUESTION_RULES = (
    # The interrogative itself says what is asked, whatever nouns follow it: "how much" with a
    # phone charger named after it asks an amount, "how many" with date rolls a count (unless
    # another question word comes first: "When was it noted how much was paid?").
    # "how much" before a counted noun ("how much pieces", said for "how many") and "how much
    # of" things that are no money ("How much of the cable ties is in stock?") count.
    (COUNT, r"\bhow\s+much\s+" + COUNTING_NOUNS + r"\b"
            r"|\bhow\s+much\s+of\s+(?![^?]*\b(?:" + _NOT_COUNTED + "|" + _MONEY_PLURALS + r"\b))"),
    # How much of a thing is held in stock or on hand counts what is kept, whatever the noun.
    (COUNT, r"\bhow\s+much\b[^?]*\b(?:in\s+stock|on\s+hand)\b"),
    (AMOUNT, r"^(?:(?!\b(?:what|when|where|who|which|whose)\b).)*\bhow much\b(?!\s+(?:of\s+the\s+)?time\b)"),
    # "how many" said for "how much" of money ("how many money ...", "how many we must pay"),
    # as "how much pieces" is said for "how many": an amount.
    (AMOUNT, r"\bhow\s+many\s+money\b|\bhow\s+many\s+(?:(?:do|did|does|must|should|will|shall)\s+)?"
             r"(?:i|we|you|they|he|she|it|this|that)\s+(?:have\s+to\s+|has\s+to\s+|must\s+|need\s+to\s+|should\s+)?"
             r"(?:pay|paid|owe|owed|spend|spent|costs?)\b(?!\s+for\s*[?.!]*\s*$)"),
    (COUNT, r"^(?:(?!\b(?:what|when|where|who|which|whose)\b).)*\bhow many\b"),
    # So does a question that opens on what a thing cost: the thing named after it ("the price
    # of a phone case", "the cost of the call") does not make it a question about that thing.
    (AMOUNT, r"^\W*(?:what(?:'s|\s+is|\s+was)\s+)?(?:the\s+)?(?:price|cost|amount)\s+(?:for|of)\b"),
    (TIME, r"^\W*(at )?what time\b"),
    # "where can they be emailed?" asks an e-mail address ("who emailed it?" asks who).
    (EMAIL, r"\be-?mails?\b|\b(?:be|get|been|being)\s+e-?mailed\b|\belectronic (?:mail|address)\b|\bmail address\b"
            # writing to someone electronically is e-mailing them
            r"|\bwrite\s+to\b[^?]*\belectronically\b"),
    (URL, r"\b(website|web site|web page|webpage|url|web address|homepage|home page|internet address)\b"),
    # "the number to ring / reach ...": a phone, whatever the verb ("called" alone names things).
    # Calling someone (call the office, ring them) asks a phone number ("called" alone names).
    (PHONE, r"\b(phone|telephone|tel|mobile|fax|dial)\b|\bcalled on\W*$|\bnumber\b.*\b(call|ring|reach|reached)\b"
            r"|\b(call|ring|reach)\b.*\bnumber\b"
            r"|\bcontact (number|no)\b"
            r"|\b(call|ring) (the|them|him|her|us)\b"),
    (TIME, r"\b(what time|at what time|time|hour|minute|o'clock|clock)\b"),
    (DATE, r"\b(date|when|dated|born|birth|day|deadline|expiry|expires|expiration)\b"),
    # "where" asks a place, but not after "the"/"a" and the noun it qualifies ("the cell where
    # two headings meet").
    (ADDRESS, r"\b(street|address|located)\b|^(?:(?!\b(?:the|a|an)\s+[^\W\d_]+\s+where\b).)*\bwhere\b"),
    # "number of items", "the number of the cartons" count; "the number of the applicant" is
    # the applicant's number (one of them: a singular noun).
    # What is in stock or on hand is counted ("stock level", "in stock?"; a "stock code" is an id).
    (COUNT, r"\b(how many|quantity|qty|count|units)\b|\b(?:in|on)\s+(?:stock|hand)\b|\bstock\s+(?:level|count)s?\b"
            r"|(?:\bnumber|^\W*#)\s*of\b(?!\s+(?:the|this|that|his|her|their|its|my|your)\s+[^\W\d_]*[^\W\d_s]\b)"),
    # A registration (of a company for tax, of a car) is known by its number, not its fee.
    (IDENT, r"\b(id|number|no|code|reference|ref|account|iban|invoice #|#)\b"
            r"|\b(?:tax|vat|gst|company|business|trade|vehicle|car)\s+registration\b"
            r"(?!\s+(?!(?:numbers?|no|nr|id|code|appears?|is|was|shown|printed|given|on|of|for|in|here)\b)[^\W\d_])"),
    # "How was the purchase paid?" asks for a payment method, not an amount.
    # So do "How did they pay?" and "how the invoice is to be paid" ("how much", "how large
    # was the amount paid" ask an amount).
    # So does what one paid with ("paid using", "pay via", "With what did they pay?"): an
    # instrument, not an amount.
    (TEXT, _PAYMENT_METHOD),
    # "the person this bill is charged to": who, not how much.
    (PERSON, r"\b(charged|billed|addressed|sent|issued|made out) to\b|\bwhom\b|^\W*(?:to|for)\s+who\b"),
    # Money words, inflected ("paying for", "costs us", "sells for", "spent"); not after "who"
    # (who wants the money asks for the payee, not an amount).
    (AMOUNT, r"^(?!\W*(?:who|whom|whose)\b).*"
             r"\b(total|amount|prices?|cost(?:s|ing)?|subtotal|tax|vat|balance|due|pay(?:s|ing)?|(?<!accounts )payable(?!\s+to\b)|paid|how much|sum|"
             r"fees?|charges?|charged|tip|change|owed?|spen[dt]|sells? for|sold for|worth|add(?:s|ed|ing)? up to)\b"
             # what a bill or a purchase "came to" is its sum: "what" is what it came to, not
             # asking which thing came ("What floor do I come to?", "come to Lisbon")
             r"|\bwhat\s+(?:did|does|do|will|would|has|had|should|could|might|the|my|our|your|his|her|their|this|"
             r"that|it|everything|all)\b[^?]*\bc[oa]mes?\s+to"
             r"(?:\s+(?:altogether|overall|in\s+total|in\s+the\s+end|all\s+told))?\W*$"),
    # Who billed, invoiced or sold something is the business that did ("billed by?").
    (ORG, r"\b(billed|invoiced|sold|supplied) by\b"),
    (ORG, r"\b(vendor|company|store|shop|merchant|issued|issuer|seller|business|restaurant|supplier|from which(?!\s+(?:country|nation|city|town|region|state|place)\b)|org|"
          r"retailer|outlet|dealer|trader|"
          r"organi[sz]ation|firm|sent|letterhead)\b"),
    (PERSON, r"\b(?:what|which)\s+person\b|\b(who|whose|name|signed|recipient|addressed|addressee|customer|client|consignee|buyer|purchaser|billed|bill to|sender|wrote|author|patient|employee)\b"),
)

# PP-OCRv4's recognizer had no "€"/"£" (the shipped PP-OCRv6 reads both): it dropped them or
# read "£" as "f" ("f74.49"), so a lone "f" before a figure is a currency mark (issue 3;
# `values.parse_money` reads it as "£"), for bundles that still carry it.
_GARBLED_CURRENCY = re.compile(r"^f(?=\s*\d)", re.I)
_COUNT = re.compile(r"^\d{1,4}$")
_IDENT = re.compile(r"^(?=.*\d)[A-Z0-9#][A-Z0-9#/._-]{2,}$", re.I)
# "12 Oak Street", OCR-compacted "365LakeAvenue": a house number, words, a street kind.
_ADDRESS = re.compile(
    r"^\d{1,5}\s*[A-Za-z][A-Za-z .'-]*?\s*(street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|way|drive|dr|"
    r"place|pl|square|sq|court|ct|terrace|parkway|highway|row)\.?$",
    re.I,
)


# A registration or licence number in brackets after a company's name.
_REGISTRATION = re.compile(r"\s*\([^()]*\d[^()]*\)\s*$")


# "Which code do I give when I call back?": a clause that "when" opens after the question's own
# interrogative ("what", "which") says when the value is used, not that a date is asked; but
# not a second question ("..., when was it paid?", "... and when ...") nor a question that asks
# nothing else of a type ("Which year was it when I bought this?" asks when).
_OPENS_WHAT = re.compile(r"\W*(?:what|which)\b")
_WHEN_CLAUSE = re.compile(r"\swhen(?:ever)?\s+(?!(?:is|was|are|were|did|does|do|will|would|has|had|have)\b)[^\W\d_]")


# A question's type words come early; a longer text (a pasted page) is read this far only,
# which bounds the rules' backtracking ("way ... pay" over 20,000 characters took 1.2 s).
_MAX_QUESTION_CHARS = 1000


# "this e-mail", "the e-mail was sent": the page itself, an e-mail, not a question about an
# e-mail address ("the e-mail address", "the e-mail of the sender" ask one).
_THE_EMAIL = re.compile(r"\b(?:this|that)\s+e-?mail\b(?!\s+address(?:es)?\b)"
                        r"|\bthe\s+e-?mail\b(?=\s+(?:to|from|sent|was|is|about|says?|said|dated)\b)"
                        r"|\b(?:wrote|sent|received|signed|forwarded)\s+(?:the|this|that)\s+e-?mail\b(?!\s+address(?:es)?\b)"
                        # a fax is a page as well as a number ("Who is this fax from?" asks no fax number)
                        r"|\b(?:this|that)\s+fax\b(?!\s*(?:number|no\b|nr\b|#))"
                        r"|\bthe\s+fax\b(?=\s+(?:to|from|sent|was|is|about|says?|said|dated)\b)"
                        r"|\b(?:wrote|sent|received|signed|forwarded)\s+(?:the|this|that)\s+fax\b(?!\s*(?:number|no\b|nr\b|#))")


def asks_payment_method(question: str) -> bool:
    """Whether the question asks how something was paid (what `question_type` calls text)."""
    lowered = question.lower()[:_MAX_QUESTION_CHARS]  # "the method" alone may be a lab's ("What is the test method?")
    return question_type(question) == TEXT and re.search(_PAYMENT_METHOD, lowered) is not None \
        and re.search(r"\b(?:pa(?:y|id|ying|yment)|settled?|card|cash|tender(?:ed)?)\b", lowered) is not None \
        and _NOT_THE_METHOD.search(lowered) is None


# What was paid with a card, by whom, or its digits ("What amount was paid with Visa?", "Who
# paid by card?", "the last 4 digits of the card used"): not the method.
_NOT_THE_METHOD = re.compile(r"\b(?:amount|how\s+much|total|sum|figure|price|cost|digits?|numbers?|no\.|who|whom|whose)\b")


def question_type(question: str) -> str:
    lowered = _THE_EMAIL.sub("this page", question.lower()[:_MAX_QUESTION_CHARS])
    clause = _WHEN_CLAUSE.search(lowered) if _OPENS_WHAT.match(lowered) else None
    if clause:
        asked = lowered[:clause.start()]
        if not re.search(r"[?.!,;]|\b(?:and|or)\s*$", asked) and _question_type(asked) != TEXT:
            return _question_type(asked)
    return _question_type(lowered)


def _question_type(lowered: str) -> str:
    for kind, pattern in _QUESTION_RULES:
        if re.search(pattern, lowered):
            # "Account name?", "What is the project name?": a phrase ending in "name" asks for
            # a name, though its first word alone would ask for an id (an account number).
            return PERSON if kind == IDENT and re.search(r"\bname\W*$", lowered) else kind
    return TEXT


def fix_digits(text: str) -> str:
    """Undo the recognizer's letter/digit confusions in figures ("1l Jun" → "11 Jun", "0ct" → "Oct")."""
    text = re.sub(r"(?<=\d)[lI|](?=[\s\d,./-]|$)|(?<=[\s(/-])[lI|](?=\d)|^[lI|](?=\d)", "1", text)
    return re.sub(r"0(?=ct)", "O", text)  # "0ctober", "300ct2024": the month, not a zero


def value_types(value: str) -> frozenset[str]:
    """Every type `value` could be (a 4-digit number is both a count and an id)."""
    text = fix_digits(value.strip())
    compact = re.sub(r"\s+", "", text)
    kinds = {TEXT}
    if parse_money(text) or parse_money(compact):
        kinds.add(AMOUNT)
    if parse_percent(text):
        kinds.add(PERCENT)
    if parse_date(text) or parse_date(compact):
        kinds.add(DATE)
    if parse_time(text):
        kinds.add(TIME)
    elif _date_and_time(text):  # "02/11/2025 08:15", "14:39 MAR-24-1999": a moment, both
        kinds.update((DATE, TIME))
    if parse_email(text):
        kinds.add(EMAIL)
    if parse_url(text):
        kinds.add(URL)
    if parse_phone(text):
        kinds.add(PHONE)
    if _ADDRESS.match(text) or _looks_like_address(text, kinds):
        kinds.add(ADDRESS)
    if _COUNT.match(compact):
        kinds.add(COUNT)
    if _IDENT.match(compact) and not kinds & {AMOUNT, DATE, TIME}:
        kinds.add(IDENT)
    mailbox = split_mailbox(text)  # "Lena Vogt <lena.vogt@example.de>": her address and her name
    if mailbox is not None:
        kinds.add(EMAIL)
        if is_name(mailbox[0]):
            kinds.update((PERSON, ORG))
    if is_name(text):
        if instrument(text) is None:  # "Visa", "American Express" on a receipt say how it was paid, not who
            kinds.update((PERSON, ORG))
    elif is_name(_REGISTRATION.sub("", text)):
        kinds.add(ORG)  # "AMANO MALAYSIA SDN BHD (682288-V)": a company and its registration number
    return frozenset(kinds)


def _date_and_time(text: str) -> bool:
    """Whether `text` is one date and one time of day beside it, in either order."""
    dates = find_dates(text)
    if len(dates) != 1:
        return False
    start, end, _ = dates[0]
    rest = re.sub(r"^at\s+", "", (text[:start] + " " + text[end:]).strip(" ,;-@"), flags=re.I)
    return bool(rest) and parse_time(rest) is not None


def is_street_line(text: str) -> bool:
    """A house number, words and a street kind on one line ("12 Oak Street")."""
    return _ADDRESS.match(fix_digits(text.strip())) is not None


def _looks_like_address(text: str, kinds: set[str]) -> bool:
    """Words and a number over several parts ("NO 2 & 4, BANDAR SERI ALAM, 81750 MASAI",
    "Rue de Lyon 12, 1201 Genève"): how addresses read whatever the country's street words.
    Not an amount, date, time, phone number or e-mail."""
    if kinds & {AMOUNT, DATE, TIME, PHONE, EMAIL}:
        return False
    tokens = text.replace(",", " ").split()
    has_number = any(any(ch.isdigit() for ch in token) for token in tokens)
    letters = sum(1 for token in tokens if sum(ch.isalpha() for ch in token) >= 2)
    return has_number and letters >= 2 and len(tokens) >= 3 and ("," in text or re.search(r"\b\d{4,6}\b", text) is not None)


# What the recognizer reads for letters of a month's name ("Apri1", "Auq.", "N0v"; a leading
# "0ct" is `fix_digits`' case).
_LETTER_FOR = str.maketrans({"1": "l", "0": "o", "q": "g", "Q": "G", "5": "s"})
_MONTH_LIKE = re.compile(r"\b[A-Za-z][A-Za-z015qQ]{2,8}\b")


def _fix_months(text: str) -> str:
    """A month's name read with a digit or a "q" for one of its letters, put right: a word
    that becomes a month's name (or its abbreviation) once those are read as letters."""
    def fix(match: re.Match) -> str:
        word = match.group(0)
        fixed = word.translate(_LETTER_FOR)
        if fixed != word and month_number(fixed.lower()) is not None:  # words of 3+ letters: _MONTH_LIKE
            return fixed
        return word

    return _MONTH_LIKE.sub(fix, text)


def compatible(expected: str, value: str) -> bool:
    return expected == TEXT or expected in value_types(value)


def clean_value(value: str, expected: str) -> str:
    """The answer as shown: an amount loses an OCR-garbled currency letter ("f1.55" → "1.55"),
    figures lose letter-for-digit confusions ("1l Jun 2025" → "11 Jun 2025"), underlines
    read as "_" become spaces (not in an e-mail address)."""
    text = value.strip()
    if EMAIL not in value_types(text):  # the recognizer reads a form's underline as "_" ("Beauty_Contest")
        text = " ".join(text.replace("_", " ").split())
    if expected == AMOUNT and AMOUNT in value_types(text):
        return _GARBLED_CURRENCY.sub("", fix_digits(without_spaced_decimals(text))).strip()
    if expected == DATE:
        return fix_digits(_fix_months(text))
    if expected in (TIME, COUNT):
        return fix_digits(text)
    return text
