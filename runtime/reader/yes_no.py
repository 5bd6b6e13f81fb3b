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
    "document form receipt invoice bill letter note memo email message page sheet ticket statement notice fine "
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


def answer_yes_no(question: str, cells: tuple[TextLine, ...], embed: Callable[[list[str]], np.ndarray]) -> YesNo:
    words = content_words(question)
    speaking = [(cell, polarity) for cell in cells if (polarity := _polarity(words, cell.text)) is not None]
    subject = _SUBJECT.match(question)
    if not speaking and subject and len(words) > 1 and words[0] == subject.group(1).lower() and words[0] in PAGE_NOUNS:
        words = words[1:]  # the rest said without the subject's name
        speaking = [(cell, polarity) for cell in cells if (polarity := _polarity(words, cell.text)) is not None]
    if not speaking:
        return YesNo(CANT_TELL, False, ())
    vectors = embed([question, *(cell.text for cell, _ in speaking)])
    similarities = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarities))
    cell, polarity = speaking[best]
    return YesNo(f'{"Yes" if polarity else "No"}: the text says "{" ".join(cell.text.split())}".', True, (cell,))


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
