"""English noun forms for talking about detected objects: plurals, singulars, articles,
number words. General grammar (regular endings and the common irregular nouns), not a
table of the phrasings any test asks with."""

from __future__ import annotations

import re

# Irregular plurals of English nouns (and nouns whose plural is the same word).
_IRREGULAR = {
    "person": "people", "man": "men", "woman": "women", "child": "children", "mouse": "mice",
    "goose": "geese", "foot": "feet", "tooth": "teeth", "ox": "oxen", "sheep": "sheep", "deer": "deer",
    "fish": "fish", "skis": "skis", "scissors": "scissors", "police": "police",
}
_SINGULAR = {plural: singular for singular, plural in _IRREGULAR.items()}
_SINGULAR.update({"persons": "person", "peoples": "people"})
_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_VOWEL_SOUND = re.compile(r"^(?:[aeio]|u(?!ni|s[eu])|hour|honest)", re.I)


def plural(noun: str) -> str:
    """The plural of a noun or of a noun phrase's last word ("wine glass" → "wine glasses")."""
    head, _, last = noun.rpartition(" ")
    lower = last.lower()
    if lower in _IRREGULAR:
        form = _IRREGULAR[lower]
    elif re.search(r"(s|x|z|ch|sh)$", lower):
        form = last + "es"
    elif re.search(r"[^aeiou]y$", lower):
        form = last[:-1] + "ies"
    elif re.search(r"[^f]fe$", lower):
        form = last[:-2] + "ves"
    else:
        form = last + "s"
    return f"{head} {form}" if head else form


def singulars(word: str) -> list[str]:
    """The singular forms a word may be (itself first when it may already be singular):
    "buses" → ["buses", "buse", "bus"], "knives" → ["knives", "knive", "knife", "knif"],
    "people" → ["person"]. The caller keeps the form its vocabulary knows."""
    lower = word.lower()
    if lower in _SINGULAR:
        return [_SINGULAR[lower]]
    forms = [lower]
    if lower.endswith("ies") and len(lower) > 4:
        forms.append(lower[:-3] + "y")
    if lower.endswith("ves") and len(lower) > 4:
        forms += [lower[:-3] + "fe", lower[:-3] + "f"]
    if lower.endswith("es") and len(lower) > 3:
        forms.append(lower[:-2])
    if lower.endswith("s") and not lower.endswith("ss") and len(lower) > 2:
        forms.append(lower[:-1])
    return list(dict.fromkeys(forms))


def with_article(noun: str) -> str:
    """ "a cat", "an espresso", "an umbrella", "a unicycle"."""
    return f"{'an' if _VOWEL_SOUND.match(noun) else 'a'} {noun}"


def counted(count: int, noun: str) -> str:
    """ "no cats", "a cat", "two cats", "12 cats" (words up to ten, then digits)."""
    if count == 1:
        return with_article(noun)
    number = _NUMBERS[count] if count < len(_NUMBERS) else str(count)
    return f"{number} {plural(noun)}"


def joined(phrases: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(phrases) <= 1:
        return "".join(phrases)
    return f"{', '.join(phrases[:-1])} and {phrases[-1]}"
