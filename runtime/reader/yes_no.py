"""Yes/no questions about a page's text ("Is this paid?"), answered only with evidence, and
choice questions ("Was it paid by card or cash?"), answered with the alternative the text states.

A cell is evidence when it holds every content word of the question, each as it is or one
negated by a prefix ("paid" / "unpaid", "taxable" / "non-taxable"): "PAID by card" says yes
to "Is this paid?" but nothing to "Was it paid in cash?". Among such cells, the one nearest
in meaning to the question (sentence-encoder similarity) decides. The reply is "Yes" or
"No" with the cell's words, or "I can't tell from the text." when no cell settles it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from runtime.results import TextLine

from .payment import Payment, instrument, named_instrument, same_payment
from .types import AMOUNT, question_type
from .values import find_dates, find_times, month_number, parse_money

CANT_TELL = "I can't tell from the text."
# English function words, the verbs of being written somewhere and the words for the page
# itself: what a yes/no question about a text is built from, not what it asks about.
_FUNCTION_WORDS = frozenset(
    "is are was were am be been being do does did has have had can could will would should shall may must "
    "a an the this that these those it its there here of for to in on at by with from as and or any some "
    "i me my you your we our they their he she his her "
    "include includes included contain contains mention mentions mentioned list lists listed show shows "
    "shown say says said state states stated written anything something get got "
    "page document text image picture photo".split()
)
# What a page is called when a question is about the page itself.
PAGE_NOUNS = frozenset(
    "document form receipt invoice bill letter note memo email message fax page sheet ticket statement notice fine "
    "certificate application order booking reservation claim request report timesheet folio pass permit licence "
    "license policy contract agreement quote quotation estimate prescription label slip voucher".split()
)
_NEGATIONS = frozenset({"not", "no", "never", "without", "none", "nothing", "cannot"})
_NEGATING_PREFIXES = ("un", "non", "non-", "in", "dis", "not ")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


@dataclass(frozen=True)
class YesNo:
    text: str
    found: bool
    evidence: tuple[TextLine, ...]


def content_words(question: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(question)) if w not in _FUNCTION_WORDS and len(w) >= 3]


def _polarity(words: list[str], cell_text: str) -> bool | None:
    """True: the cell says all of `words`; False: it says them with one negated; None: it
    does not hold them all."""
    cell_words = [w.lower() for w in _WORD.findall(cell_text)]
    if not words or re.search(r":\s*$", cell_text):
        return None  # a key without its value ("Approved:" left blank) says nothing yet
    negated = any(w in _NEGATIONS for w in cell_words) or "n't" in cell_text.lower()
    for word in words:
        if any(prefix + word in cell_words for prefix in _NEGATING_PREFIXES):
            negated = True
        elif word not in cell_words:
            return None
    return not negated


# The thing a yes/no question is about, right after its verb ("Is this fine paid?", "Has the
# bill been paid?", "Was this timesheet approved?"): where it names the page itself, a line
# that settles the question need not repeat it ("Payment status: UNPAID"); a thing on the page
# ("Is the parking free?") must be said.
_SUBJECT = re.compile(r"^\W*(?:is|are|was|were|has|have|had|does|do|did|will|would|can|could|should)\s+"
                      r"(?:this|the|that|my|our|your)\s+([^\W\d_]+)\b", re.I)


def answer_yes_no(question: str, cells: tuple[TextLine, ...], embed: Callable[[list[str]], np.ndarray],
                  switches=(), ask: Callable[[str], object] | None = None) -> YesNo:
    """`switches`: the page's (key, value, cells) triples, for a key set to a state ("Bluetooth |
    Off"); `ask(question)`: the reader's answer to a question, for a figure the question states
    that no line repeats (42.50 asked, "Total 45.10" printed)."""
    stated = _switched(question, switches)
    if stated is not None:
        return stated
    words = content_words(question)
    figures = _figures(question)

    def speaks(cell: TextLine) -> bool | None:  # a figure of the question is said too, or the line says nothing
        polarity = _polarity(words, cell.text) if words or not figures else True
        return polarity if polarity is None or all(_says(f, cell.text) for f in figures) else None

    speaking = [(cell, polarity) for cell in cells if (polarity := speaks(cell)) is not None]
    subject = _SUBJECT.match(question)
    if not speaking and subject and len(words) > 1 and words[0] == subject.group(1).lower() and words[0] in PAGE_NOUNS:
        words = words[1:]  # the rest said without the subject's name
        speaking = [(cell, polarity) for cell in cells if (polarity := speaks(cell)) is not None]
    if not speaking and figures and ask is not None:
        return _checked(question, ask)
    if not speaking:
        return YesNo(CANT_TELL, False, ())
    vectors = embed([question, *(cell.text for cell, _ in speaking)])
    similarities = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarities))
    cell, polarity = speaking[best]
    return YesNo(f'{"Yes" if polarity else "No"}: the text says "{" ".join(cell.text.split())}".', True, (cell,))


# The values a switch or a tick box is set to, said either way.
_ON = frozenset({"yes", "y", "on", "true", "enabled", "active", "x", "✓", "✔", "☑", "☒"})
_OFF = frozenset({"no", "n", "off", "false", "disabled", "inactive", "none", "☐", "✗", "✘"})
_ASKS_OFF = frozenset({"off", "disabled", "inactive", "false"})
# How a question says a switch is set ("Is bluetooth turned off?"), no name of the switch.
_SETTING = frozenset({"turned", "switched", "set", "toggled", "checked", "ticked", "marked", "selected", "enabled"})


def _switched(question: str, switches) -> YesNo | None:
    """"Is bluetooth on?" over "Bluetooth | Off", "Is the MSDS on file?" over "MSDS ON FILE?
    (Circle One): Yes": the key that holds every content word the question says (its state
    words aside) and whose value is only a state, on or off; None when no such key is on the
    page, or two of them differ."""
    said = [w.lower() for w in _WORD.findall(question)]
    words = [w for w in content_words(question) if w not in _ON | _OFF | _ASKS_OFF | _SETTING | _NEGATIONS]
    if not words:
        return None
    wants_on = not set(said) & _ASKS_OFF
    if set(said) & {"not"} or "n't" in question.lower():
        wants_on = not wants_on
    found = {}
    for key, value, evidence in switches:
        state = value.strip(" .:;!").lower()
        if state not in _ON | _OFF or not set(words) <= {w.lower() for w in _WORD.findall(key)}:
            continue
        found.setdefault(state in _ON, (key, value, tuple(evidence)))
    if len(found) != 1:
        return None
    (on, (key, value, evidence)), = found.items()
    text = " ".join(" ".join(cell.text.split()) for cell in evidence)
    return YesNo(f'{"Yes" if on == wants_on else "No"}: the text says "{text}".', True, evidence)


# A figure of a question: a number, an amount, a time, a code with digits ("42.50", "$1,200",
# "2023", "07:35", "INV-881").
_FIGURE = re.compile(r"[^\s\d]*\d[\w.,/:%-]*(?<![.,:])")
# A figure after a determiner names the thing asked about, not a value ("Is the 2024 budget approved?").
_NAMING = re.compile(r"\b(?:the|this|that|these|those|my|our|your|his|her|their|its)\s+$", re.I)
# The words before a figure that tie it to the question ("... from 2023?", "... total 42.50?").
_TIED = re.compile(r"\s+(?:from|in|on|of|for|at|by|dated|to|equal\s+to)$", re.I)
_COMPARING = re.compile(r"\b(?:more|less|over|under|above|below|before|after|than|least|most|earlier|later|"
                        r"between|greater|fewer|higher|lower|exceed|exceeds)\b", re.I)
_MONTH_DAY = re.compile(r"\b(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?!\s*,?\s*\d{4})"
                        r"|\b(?P<day2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>[A-Za-z]{3,9})\b(?!\.?\s*,?\s*\d{4})")
_MONTH_YEAR = re.compile(r"\b(?P<month>[A-Za-z]{3,9})\.?\s*,?\s+(?P<year>(?:19|20)\d\d)\b")


def _asserted(question: str) -> list[re.Match]:
    """The figures a question states as values (not one after "the" that names its subject)."""
    return [m for m in _FIGURE.finditer(question) if not _NAMING.search(question[:m.start()])]


def _figures(question: str) -> list[str]:
    return [m.group().lower() for m in _asserted(question)]


def _says(figure: str, text: str) -> bool:
    """Whether `text` holds `figure` as a whole token ("23" is not said by "23C" nor "4.5" by "14.50")."""
    return re.search(r"(?<![\w.,])" + re.escape(figure) + r"(?![\w]|[.,]\d)", text.lower()) is not None


def _number(text: str):
    """The one number `text` is (an amount, a count, "1,250.00"), or None."""
    money = parse_money(text.strip(), currency_optional=True)
    return money.amount if money is not None else None


def _checked(question: str, ask: Callable[[str], object]) -> YesNo:
    """A figure the question states, checked against the page's value of what it names: the
    question is asked again without the figure (and the preposition tying it), opening with
    "When" for a date, a month, a year or a time, "How much" for an amount, else "What", and
    the answer is compared only with a value of the same kind: date with date (to the parts
    the question gives), time with time, number with number, a code with a code. A question
    that compares ("more than", "before"), one whose answer is of another kind, or a figure
    of no kind compared can't be told."""
    cant = YesNo(CANT_TELL, False, ())
    if _COMPARING.search(question):
        return cant
    figures = _asserted(question)
    dates = find_dates(question) + find_dates(question, day_first=False)
    month_year = _MONTH_YEAR.search(question)
    if month_year and all(month_year.start() <= start and end <= month_year.end() for start, end, _ in dates):
        dates = []  # "March 2024" is a month, not its first day
    month_year = None if dates else month_year
    month_day = None if dates or month_year else _MONTH_DAY.search(question)
    partial = None
    if month_year and month_number(month_year["month"]):
        partial = (month_number(month_year["month"]), None, int(month_year["year"]))
    elif month_day and month_number(month_day["month"] or month_day["month2"]):
        partial = (month_number(month_day["month"] or month_day["month2"]), int(month_day["day"] or month_day["day2"]), None)
    times = [] if dates else find_times(question)
    year = None if dates or partial or times else next(
        (int(f.group()) for f in figures if re.fullmatch(r"(?:19|20)\d\d", f.group())), None)
    # an amount says its currency or its cents ("$40", "42.50"); "12" may count anything
    money = None if dates or partial or times or year else next(
        (m for f in figures if (m := parse_money(f.group(), currency_optional=True)) is not None
         and (m.currency or re.search(r"\d[.,]\d\d$", f.group()))), None)
    # a whole number before a noun counts things ("12 eggs", "3 pages"): no amount of money
    counted = any(re.match(r"\s+[^\W\d_]{2,}", question[f.end():]) for f in figures)
    if dates:
        spans = [(start, end) for start, end, _ in dates]
    elif partial:
        spans = [(month_year or month_day).span()]
    elif times:
        spans = [(start, end) for start, end, _ in times]
    else:
        spans = [f.span() for f in figures]
    if not spans:
        return cant
    rest, last = "", 0
    for start, end in sorted(set(spans)):
        if start < last:
            continue
        rest += _TIED.sub("", question[last:start].rstrip()) + " "
        last = end
    rest = (rest + question[last:]).strip()
    verb = re.match(r"\W*(\w+)\s+(.*)$", rest, re.S)
    if verb is None:
        return cant
    opening = "When" if dates or partial or times or year else "How much" if money else "What"
    reasked = " ".join(f"{opening} {verb.group(1).lower()} {verb.group(2).strip(' ?.!')}?".split())
    answer = ask(reasked)
    if not getattr(answer, "found", False):
        return cant
    value = answer.text
    said_dates = {d for _, _, d in find_dates(value) + find_dates(value, day_first=False)}
    if dates or partial or year is not None:
        if not said_dates and year is None:
            return cant
        if dates:
            same = bool(said_dates & {d for _, _, d in dates})
        elif partial:
            month, day, in_year = partial
            same = any(d.month == month and (day is None or d.day == day) and (in_year is None or d.year == in_year)
                       for d in said_dates)
        else:
            years = {d.year for d in said_dates} | {int(y) for y in re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", value)}
            if not years:
                return cant
            same = year in years
    elif times:
        said_times = {t for _, _, t in find_times(value)}
        if not said_times:
            return cant
        same = bool(said_times & {t for _, _, t in times})
    elif money is not None or all(re.fullmatch(r"\d{1,3}(?:,\d{3})*|\d{1,3}", f.group()) for f in figures):
        # an amount (a currency or cents) with an amount; a count ("3 pages", "seat 6") with a
        # whole number only, unless the question asks an amount ("Is the total 45?")
        asked = [money.amount] if money is not None else [_number(f.group()) for f in figures]
        amounts = money is not None or question_type(reasked) == AMOUNT and not counted
        if not amounts and not re.fullmatch(r"\s*\d{1,3}(?:,\d{3})*\s*|\s*\d+\s*", value):
            return cant
        found = _number(value)
        if found is None or None in asked:
            return cant
        same = found in asked
    elif all(re.fullmatch(r"\d{4,}", f.group()) for f in figures) and question_type(reasked) == AMOUNT and not counted \
            and _number(value) is not None and _number(value) == _number(figures[0].group()):
        same = True  # "Is the total 1250?" over "$1,250.00" (a card's "ending 4821" is no amount: below)
    else:
        # a code ("INV-881", "SK1482", a card's "4821"): said as a whole token, spaces aside; else
        # "no" only against an answer of the same shape (letters with digits, or as many digits)
        said = re.sub(r"(?<=[^\W\d_])[\s-]+(?=\d)", "", value)
        codes = [re.sub(r"(?<=[^\W\d_])[\s-]+(?=\d)", "", f.group()).lower() for f in figures]
        if all(_says(code, said) or _says(figure.group().lower(), value) for code, figure in zip(codes, figures)):
            same = True
        elif any(re.search(r"[^\W\d_]", code) for code in codes) and re.search(r"[^\W\d_]", said) and re.search(r"\d", said) \
                or all(re.search(r"\d{%d,}" % max(1, len(code) - 1), said) for code in codes):
            same = False
        else:
            return cant
    return YesNo(f'{"Yes" if same else "No"}: the text says "{" ".join(value.split())}".', True, tuple(answer.evidence))


# "Was it paid by card or cash?", "Say whether the order is open or closed.": English offers
# the alternatives around "or" in a question that asks yes/no or "whether" ("Can you ... or
# ...?" is a request, not a choice).
_CHOICE_CUE = re.compile(
    r"^\s*(is|are|was|were|do|does|did|has|have|had|will|would|should|can|could)\b(?!\s+(you|u)\b)|\bwhether\b", re.I
)
# "Paper or plastic?", "Debit or credit?": the alternatives alone, a choice all the same.
_BARE_CHOICE = re.compile(r"^\s*[^\W\d_]+(?:[ -][^\W\d_]+)?\s+or\s+[^\W\d_]+(?:[ -][^\W\d_]+)?\s*\?\s*$", re.I)
_KEY_VALUE = re.compile(r"^[^:]{1,40}:\s*(?P<value>.+)$")
_MAX_VALUE_WORDS = 6


def is_bare_choice(question: str) -> bool:
    """Whether the question is only its two alternatives ("Tea or coffee?")."""
    return _BARE_CHOICE.match(question) is not None and not re.match(
        r"\s*(who|what|which|when|where|why|how)\b", question, re.I)


def alternatives(question: str) -> tuple[str, str] | None:
    """The two alternatives a choice question offers (the words either side of its last "or"
    that tell them apart: "debit card or credit card" → debit / credit), or None when it
    offers none ("... ticked or not?" asks yes or no)."""
    if not _CHOICE_CUE.search(question) and not is_bare_choice(question):
        return None
    before, _, after = question.lower().rpartition(" or ")
    if not before:
        return None
    left, right = content_words(before), content_words(after)
    if not left or not right or right[0] in _NEGATIONS or set(right) & _NEGATIONS:
        return None
    if len(left) >= 2 and len(right) >= 2 and left[-1] == right[-1]:
        options = left[-2], right[0]  # a shared head noun: "debit card or credit card"
    elif len(left) >= 2 and len(right) >= 2 and left[-2] == right[0]:
        options = left[-1], right[-1]  # a shared first word: "New York or New Jersey"
    else:
        options = left[-1], right[0]
    return options if options[0] != options[1] else None


def answer_choice(question: str, cells: tuple[TextLine, ...]) -> YesNo | None:
    """The alternative the page's text states as a value, as the page words it ("Paid by:
    Debit card" → "Debit card"), with its cell; None when the question offers no alternatives
    or the text states neither or both. An alternative that is only a label on the page
    ("Phone:" for "Is there a phone or fax number?") leaves the question to yes/no."""
    options = alternatives(question)
    if options is None:
        return None
    stating = {option: [cell for cell in cells if _states(option, cell.text)] for option in options}
    said = [option for option, found in stating.items() if found]
    if len(said) != 1:
        return None
    option, cell = said[0], stating[said[0]][0]
    text = " ".join(cell.text.split())
    labelled = _KEY_VALUE.match(text)
    value = labelled.group("value") if labelled else text
    if len(value.split()) > _MAX_VALUE_WORDS:
        value = next(w for w in _WORD.findall(value) if _names(option, w.lower(), labelled is not None))
    return YesNo(value, True, (cell,))


def _states(option: str, text: str) -> bool:
    """Whether a cell's text holds `option` as a value: after its label's colon, or in a cell
    with no label."""
    labelled = _KEY_VALUE.match(" ".join(text.split()))
    value = labelled.group("value") if labelled else text
    return any(_names(option, word.lower(), labelled is not None) for word in _WORD.findall(value)) and not (
        labelled is None and text.rstrip().endswith(":"))


def _names(option: str, word: str, keyed: bool = True) -> bool:
    """A value's word says the option as it is, or, in a value after its key ("Paid by:
    Mastercard"), as the head of a compound ("card" in "Mastercard"; an item "Postcard" on
    its own says nothing of how it was paid)."""
    return word == option or (keyed and len(option) >= 4 and len(word) >= len(option) + 3 and word.endswith(option))


# A question about paying ("Was it paid by card?", "Did they settle by cheque?", "Which card
# was charged, Visa or Amex?").
_PAYING = re.compile(r"\b(?:pa(?:y|id|ying|yment)|settled?|charged?|tender(?:ed)?)\b", re.I)
_CLOSED = re.compile(r"^\W*(?:is|are|was|were|do|does|did|has|have|had|will|would)\b", re.I)


def asks_paid_with(question: str) -> bool:
    """Whether the question is a closed one about how it was paid: a choice between ways to pay
    ("card or cash?", "Was it cheque or transfer?") or a yes/no question naming one ("Did I
    pay by card?")."""
    options = alternatives(question)
    if options is not None:  # "paid or unpaid?", "in May or June?" offer no way to pay
        return any(instrument(option, keyed=True) for option in options)
    return _CLOSED.match(question) is not None and _PAYING.search(question) is not None \
        and named_instrument(question) is not None


def answer_paid_with(question: str, paid: Payment | None, cells: tuple[TextLine, ...]) -> YesNo | None:
    """The page's payment (`payment.find_payment`) as the answer to `asks_paid_with`'s
    questions: a choice gets the instrument as the page writes it, whichever alternatives
    were offered ("Mastercard" for "card or cash?", "CASH" for "cheque or transfer?"); a yes/no
    question gets yes or no by kind and name ("card" asked, "Mastercard" paid: yes; "Visa"
    asked, "CASH" paid: no), or "I can't tell" where the page says less than asked ("credit
    card" asked, "VISA" printed). None where the page says nothing of how it was paid."""
    if paid is None:
        return None
    evidence = tuple(cells[i] for i in paid.lines)
    said = " ".join(" ".join(cell.text.split()) for cell in evidence)
    if alternatives(question) is not None:
        return YesNo(paid.instrument.text, True, evidence)
    asked = named_instrument(question)
    same = same_payment(asked, paid.instrument) if asked is not None else None
    if same is None:
        return YesNo(CANT_TELL, False, evidence)
    return YesNo(f'{"Yes" if same else "No"}: the text says "{said}".', True, evidence)
