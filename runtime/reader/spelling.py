"""Words compared the way a recognizer misreads them: a word matches a stretch of text
within a few character edits ("supplier" in "SUPPL.IER", "submitted" in "SUBMIIIED BY",
"account" in "AccourT"), and labels the recognizer wrote without spaces match word by word
("commitments" in "PREVIOUSSCOMMITMENTSIHISPROJECI"); words run together are split on the
sentence encoder's own vocabulary (`split_run_together`). Pure Python, no word lists of its own.
"""

from __future__ import annotations

import re
from functools import lru_cache


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
    previous = [0] * (len(text) + 1)  # a match may start anywhere in `text`
    for i, letter in enumerate(word, 1):
        current = [i] + [0] * len(text)
        for j, other in enumerate(text, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (letter != other))
        previous = current
    return min(previous)


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
