"""Replies to requests about a photo, built only from what the photo models recognised.

Each reply says what was found and carries the detection boxes as evidence. A count or a
presence is read from the detector (COCO-80) when the request names one of its classes,
from the classifier (ImageNet-1k) when it names one of those; a request about anything
else (colours, actions, feelings, classes neither model has) gets an honest reply saying
what this bundle can recognise and what it did recognise here, never "not found".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runtime.results import TextLine

from .nouns import counted, joined, plural, with_article
from .objects import NamedObject, ObjectVocabulary
from .scene import CAPABILITIES, Look, caption, evidence, objects_phrase, position

# A classifier label in the top five at this probability says the picture shows it.
MIN_LABEL_PRESENT = 0.2
_SHOWN_LABELS = 3


@dataclass(frozen=True)
class PhotoReply:
    text: str
    evidence: tuple[TextLine, ...]


def seen(look: Look) -> str:
    """What was recognised, for the end of an honest reply."""
    parts = []
    if look.detections:
        parts.append(objects_phrase(look.detections))
    labels = [label.name for label in look.labels[:_SHOWN_LABELS] if label.score >= MIN_LABEL_PRESENT]
    if labels:
        parts.append("what looks like " + " or ".join(with_article(name) for name in labels))
    if not parts:
        return "Here I recognise nothing."
    return f"Here I can see {joined(parts)}."


class PhotoAnswerer:
    """Answers requests about one `Look`. Read-only after construction."""

    def __init__(self, vocabulary: ObjectVocabulary):
        self._vocabulary = vocabulary
        self._similarity: Callable[[str, str], float] = vocabulary.similarity

    def names_object(self, request: str) -> bool:
        """Whether the request names something the photo models know (a COCO class or an
        ImageNet label)."""
        return self._vocabulary.named(request) is not None

    def describe(self, look: Look) -> PhotoReply:
        return PhotoReply(caption(look, self._similarity), evidence(look.detections))

    def honest(self, look: Look, what: str = "I can't tell that from this picture.") -> PhotoReply:
        return PhotoReply(f"{what} {CAPABILITIES} {seen(look)}", evidence(look.detections))

    def count(self, request: str, look: Look) -> PhotoReply:
        named = self._vocabulary.named(request)
        if named is None:
            if self._vocabulary.content_words(request):
                return self.unknown(request, look)
            if not look.detections:
                return PhotoReply(f"I count no objects I know. {seen(look)}", ())
            return PhotoReply(f"I count {objects_phrase(look.detections)}.", evidence(look.detections))
        if named.source != "detector":
            return self.honest(look, f"I can count only the 80 COCO object classes, and {plural(named.label)} "
                                     "are not one of them.")
        found = look.of_label(*named.labels)
        noun = named.label
        if not found:
            return PhotoReply(f"There are no {plural(noun)} in the picture that I can see.", ())
        verb = "is" if len(found) == 1 else "are"
        which = f": {objects_phrase(found)}" if named.members else ""  # "2 animals: a cat and a dog"
        return PhotoReply(f"There {verb} {counted(len(found), noun)} in the picture{which}.", evidence(found))

    def presence(self, request: str, look: Look) -> PhotoReply | None:
        """Yes or no with the boxes, or None when the request names no object (the caller
        may ask the text instead)."""
        named = self._vocabulary.named(request)
        if named is None:
            return None
        # "Is this person a firefighter?", "Is there a person wearing a hat?": the request says
        # more of the object, after naming it, than the models can see (a word that names none
        # of their labels). Words before it ask whether it is there ("Can you spot a cat?").
        words = self._vocabulary.content_words(request)
        own = named.word.lower().split()
        last = max((i for i, word in enumerate(words) if word.lower() in own), default=len(words))
        more = [word for word in words[last + 1:] if word.lower() not in own and self._vocabulary.named(word) is None]
        if more:
            return self.honest(look, f"I can't tell that from this picture ('{' '.join(more)}' is not something "
                                     "the models recognise).")
        if named.source == "detector":
            found = look.of_label(*named.labels)
            if found:
                which = f" ({objects_phrase(found)})" if named.members else ""
                return PhotoReply(f"Yes: {counted(len(found), named.label)}{which}.", evidence(found))
            # What was seen instead: an espresso the detector did not box as a cup.
            return PhotoReply(f"No, I see no {plural(named.label)}. {seen(look)}", evidence(look.detections))
        label = self._label(named, look)
        if label is not None:
            return PhotoReply(f"Yes: the picture looks like {with_article(label.name)} ({label.score:.0%}).",
                              evidence(look.detections))
        return PhotoReply(f"No, the picture does not look like {with_article(named.label)} to me. {seen(look)}", ())

    def where(self, request: str, look: Look) -> PhotoReply:
        named = self._vocabulary.named(request)
        if named is None:
            return self.unknown(request, look) if self._vocabulary.content_words(request) else self.describe(look)
        if named.source != "detector":
            return self.honest(look, f"I can locate only the 80 COCO object classes, and {plural(named.label)} "
                                     "are not one of them.")
        found = look.of_label(*named.labels)
        if not found:
            return PhotoReply(f"I see no {plural(named.label)} in the picture.", ())
        places = [f"{with_article(d.label) if named.members else with_article(named.label) if len(found) == 1 else 'one'} "
                  f"{position(d.box, look.size)}" for d in found]
        lead = "" if len(found) == 1 else f"There are {counted(len(found), named.label)}: "
        text = lead + joined(places) + "."
        return PhotoReply(text[0].upper() + text[1:], evidence(found))

    def identify(self, look: Look, request: str = "") -> PhotoReply:
        """ "What animal is this?": the detector's objects and the classifier's best labels;
        first, when the request names a kind the detector knows and found none of, that it
        found none ("I see no animal here.")."""
        labels = [f"{label.name} ({label.score:.0%})" for label in look.labels[:_SHOWN_LABELS]
                  if label.score >= MIN_LABEL_PRESENT / 2]
        parts = []
        if look.detections:
            parts.append(f"The detector found {objects_phrase(look.detections)}")
        if labels:
            parts.append(f"the classifier's closest labels are {joined(labels)}")
        if not parts:
            return self.honest(look, "I don't recognise what this is.")
        text = "; ".join(parts) + "."
        text = text[0].upper() + text[1:]
        named = self._vocabulary.named(request) if request else None
        if named is not None and named.source == "detector" and not look.of_label(*named.labels):
            text = f"I see no {named.label} here. {text}"
        return PhotoReply(text, evidence(look.detections))

    def sees_named(self, request: str, look: Look) -> bool:
        """Whether the object the request names is in the picture: boxed by the detector, or
        among the classifier's labels."""
        named = self._vocabulary.named(request)
        if named is None:
            return False
        if named.source == "detector":
            return bool(look.of_label(*named.labels))
        return self._label(named, look) is not None

    def _label(self, named: NamedObject, look: Look):
        return next((label for label in look.labels if label.score >= MIN_LABEL_PRESENT and label.name == named.label),
                    None)

    def content_words(self, request: str) -> list[str]:
        return self._vocabulary.content_words(request)

    def named(self, request: str) -> NamedObject | None:
        return self._vocabulary.named(request)

    def unknown(self, request: str, look: Look) -> PhotoReply:
        words = " ".join(self._vocabulary.content_words(request))
        return self.honest(look, f"I don't know '{words}' among the things I can recognise.")
