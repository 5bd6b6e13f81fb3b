"""Words compared the way a recognizer misreads them: a word matches a stretch of text
within a few character edits ("supplier" in "SUPPL.IER", "submitted" in "SUBMIIIED BY",
"account" in "AccourT"), and labels the recognizer wrote without spaces match word by word
("commitments" in "PREVIOUSSCOMMITMENTSIHISPROJECI"); words run together are split on the
sentence encoder's own vocabulary (`split_run_together`). A question typed with a slip
("adress", "reciever") is put right to the one known or page word it misses (`corrected`).
Pure Python, no word lists of its own beyond English's commonest endings and beginnings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from .vocabulary import shortens


def compact(text: str) -> str:
    """Lowercase letters and digits only: "SUPPL.IER:" → "supplier"."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def allowed_edits(word: str) -> int:
    """Edits a word of this length may carry and still be itself: none up to 4 characters,
    one up to 7, two beyond (a recognizer garbles about one character in five)."""
    return 0 if len(word) <= 4 else 1 if len(word) <= 7 else 2


@lru_cache(maxsize=65536)
def edits_within(word: str, text: str) -> int:
    """The fewest character edits that turn `word` into some stretch of `text` (Sellers'
    approximate substring distance)."""
    if not word:
        return 0
    return min(_last_row(word, text, [0] * (len(text) + 1)))  # a match may start anywhere in `text`


def _last_row(word: str, text: str, first: list[int]) -> list[int]:
    """The edit-distance table's last row for `word` against `text`, from its `first` row:
    the fewest edits that turn `word` into `text` up to each of its letters."""
    previous = first
    for i, letter in enumerate(word, 1):
        current = [i] + [0] * len(text)
        for j, other in enumerate(text, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (letter != other))
        previous = current
    return previous


def occurs_in(word: str, text: str) -> bool:
    """Whether `word` reads in `text` (both compacted), allowing for misread characters."""
    word, text = compact(word), compact(text)
    if not word or not text:
        return False
    if word in text:
        return True
    allowed = allowed_edits(word)
    return allowed > 0 and len(text) >= len(word) - allowed and edits_within(word, text) <= allowed


def split_run_together(text: str, words: frozenset[str], min_length: int = 7) -> str:
    """`text` lowercased, with words the recognizer ran together ("TOTALSALES(INCLUSIVE OF
    GST)", "Dateofbirth") split into the fewest known `words` (a sentence encoder's
    vocabulary: its whole-word entries); a run that does not split into known words stays."""

    def split(token: str) -> str:
        if len(token) < min_length or token in words:
            return token
        best: list[tuple[str, ...] | None] = [None] * (len(token) + 1)
        best[0] = ()
        for end in range(1, len(token) + 1):
            for start in range(max(0, end - 20), end - 1):
                piece = token[start:end]
                if best[start] is not None and piece in words and (
                    best[end] is None or len(best[start]) + 1 < len(best[end])
                ):
                    best[end] = (*best[start], piece)
        found = best[-1]
        # Garbled text splits into many short pieces ("pr ev io uss"): keep it as read.
        if not found or sum(map(len, found)) / len(found) < 3.5 or 2 * sum(len(p) <= 2 for p in found) > len(found):
            return token
        return " ".join(found)

    return re.sub(r"[a-z]+", lambda match: split(match.group()), text.lower())


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_edit(word: str) -> tuple[set[str], ...]:
    """The strings one edit from `word`, most likely slip first: a letter left out (the
    strings one longer), two letters swapped, one put in (one shorter), one changed."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + letter + b for a, b in splits for letter in _LETTERS},
            {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1 and b[0] != b[1]},
            {a + b[1:] for a, b in splits if b},
            {a + letter + b[1:] for a, b in splits if b for letter in _LETTERS if letter != b[0]})


def _distance(word: str, other: str) -> int:
    """Levenshtein distance: letters left out, added or changed."""
    return _last_row(word, other, list(range(len(other) + 1)))[-1]


_MAX_SLIP_LENGTH = 30  # a longer run of letters is no word typed with a slip (and costs its square)


def corrected(question: str, words: frozenset[str], page: frozenset[str], targets: Mapping[str, int] | None = None,
              min_length: int = 5) -> str:
    """The question with each word typed with a slip put right. A lowercase word of
    `min_length` letters or more that is none of `words` (English as typed: the sentence
    encoder's whole words, the language model's lowercase words, the reader's own) nor of
    `page` (the page's words, lowercased) becomes the word one edit from it, of the likeliest
    kind of slip that has one: a letter left out, then two swapped, one added, one changed
    ("adress" is "address", not "dress"; "payement" "payment", not "pavement"). Of one kind, a
    page word first ("invoce" over "INVOICE"), else one of `targets` (word → rank, lower
    commoner: lowercase words of a cased vocabulary, which names are not, and the reader's
    own) that keeps the first letter ("nummer": "number", not "summer"; "notary" is no
    "rotary"); of several, the one at least twice as common as the next ("leter": "letter",
    not "lester").
    Left as typed: a word with no such neighbour or several; one a known page word stands
    within two edits of and the slip would not give ("totle" over "Total" is no "title");
    capitalised words (names the page may lack); a shortening of a page word ("subj" over
    "Subject", spelled out later); and words English builds from known ones ("payable",
    "invoiced", "reorder"). Without `targets` nothing is put right."""
    if not targets:
        return question

    def fix(match: re.Match) -> str:
        token = match.group()
        if not min_length <= len(token) <= _MAX_SLIP_LENGTH or not token.isascii() or not token.islower() \
                or token in words or token in page:
            return token
        if _built_from(token, lambda word: word in words or word in page) \
                or any(shortens(token, word) for word in page if len(word) > len(token) + 1):
            return token
        for near in one_edit(token):
            # a page word, else a known word that keeps the first letter (a slip seldom hits it)
            found = near & page or {word for word in near if word in targets and word[0] == token[0]}
            if not found:
                continue
            if len(found) > 1:
                found = {word for word in found if word[0] == token[0]}
            if len(found) > 1 and all(word in targets for word in found):
                first, second = sorted(found, key=targets.__getitem__)[:2]
                found = {first} if 2 * targets[first] <= targets[second] else found
            if len(found) != 1:
                return token
            word = found.pop()
            if word not in page and any(abs(len(other) - len(token)) <= 2 and _distance(token, other) <= 2
                                        for other in page if other in targets):
                return token
            return word
        return token

    return re.sub(r"[^\W\d_]+", fix, question)


_SUFFIXES = ("s", "es", "ed", "d", "ing", "able", "er", "ers", "ly", "ment", "ness")
_PREFIXES = ("re", "un", "pre", "non", "sub", "over", "out")


def _built_from(token: str, known) -> bool:
    """Whether `token` is a `known` word of three letters or more with an English ending or
    beginning ("payable", "reorder"), or two such words run together ("fallback")."""
    for cut in range(3, len(token) - 3):  # two words of four letters or more ("num" + "mer" is no word)
        head, tail = token[:cut], token[cut:]
        if known(head) and (tail in _SUFFIXES or (len(tail) >= 4 and known(tail))):
            return True
    # a word of three letters takes a long ending only ("payable"; "leter" is no "let" + "er")
    return any(token.endswith(ending) and known(token[:-len(ending)]) for ending in _SUFFIXES
               if len(token) - len(ending) >= (3 if len(ending) >= 3 else 4)) or any(
        token.startswith(start) and known(token[len(start):]) for start in _PREFIXES if len(token) - len(start) >= 3)
