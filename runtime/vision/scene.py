"""What the photo models saw in one image, and the sentences said about it.

`Look` gathers one image's detections (COCO-80), classifier labels (ImageNet-1k) and OCR
regions; `kind` says whether it is a document (text and no object), a photo (objects or
labels and no text) or both. `caption` builds a sentence only from what was recognised:
detected objects counted ("two people and a horse"), the classifier's label when it is
confident and says something the detections do not ("and a tripod"), or its label alone
when nothing was detected, and "with the text '...'" when text was read. Nothing is
generated, so nothing is invented; the evidence is the detection boxes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from runtime.results import TextLine

from .classifier import Label
from .detector import Detection
from .nouns import counted, joined, with_article

PHOTO, DOCUMENT, BOTH = "photo", "document", "both"
# A classifier label names the picture on its own (nothing detected) from this probability,
# and is added beside detected objects from the higher one: espresso 0.96, tripod 0.94 are
# said; bobsled 0.13 for the astronaut is not.
MIN_LABEL_ALONE = 0.2
# The detector's score under which a caption hedges an object ("what may be a giraffe"):
# scikit-image's photos score their subjects 0.57-0.88 (cat, person, horse); a microscope
# slide's "giraffe" 0.47, the coffee photo's table 0.49.
SURE_SCORE = 0.5
MIN_LABEL_BESIDE = 0.5
# A classifier label this similar (sentence encoder) to a detected label says the same thing
# ("Egyptian cat" / cat 0.73, "motor scooter" / motorcycle 0.64); "tripod" / person 0.29 is new.
SAME_THING = 0.5
_MAX_QUOTE_CHARS = 60
CAPABILITIES = ("This bundle's photo models recognise the 80 COCO object classes (people, animals such as cats, "
                "dogs and horses, vehicles, furniture, food and everyday objects; they can be counted and located) "
                "and the 1,000 ImageNet labels (what the whole picture looks like); they cannot see colours, "
                "actions, feelings, ages or anything else.")


# A page of text (this many OCR regions or more) is a document unless an object takes at
# least this share of the image: the detector sees birds and kites in forms' stamps and logos.
PAGE_LINES = 8
MIN_OBJECT_ON_PAGE = 0.15
# A detection whose box is this much covered by text boxes is the text itself, seen as an
# object (lines of a scanned form read as "kite" or "bird" at 0.4-0.7): it does not count.
MAX_TEXT_COVER = 0.2
# A detection that fills the frame and holds a page's text is the page itself: receipts
# scanned edge to edge are boxed as a "book" at 0.45-0.48 over 98-99% of the image with
# every text line inside it (text cover only 0.17-0.19, since a receipt is mostly blank).
FRAME_SHARE = 0.9
# A scan or a rendered page has two tones, its paper and its ink; a photographed object has
# many. A detection over a page of text whose box is at least this share paper (within
# `PAPER_TONE` grey levels of the image's commonest grey) or ink (`INK_TONE` or darker) is the
# page: FUNSD's scanned forms were boxed as a "tv" or "laptop" at 0.41-0.65 over 53-89% of the
# image, boxes 95-98% two-tone; the people, cat, cup and motorcycle of scikit-image's photos,
# with and without a receipt pasted on them, 25-63%.
# The box must hold a quarter of the page's text or more (`_holds_text`), and be half paper
# at least: a black or dim object is all "ink" (the FUNSD boxes were 65-97% paper, the one on
# a scan with a black border 65%). Paper is light: where the commonest grey is darker than
# `MIN_PAPER_GREY` (a dark photo, a black laptop filling the frame) nothing is paper.
TWO_TONE = 0.85
MIN_PAPER = 0.5
MIN_PAPER_GREY = 128
PAPER_TONE = 24
INK_TONE = 64


_MASK_SCALE = 4  # pixels per cell of the text mask


def text_mask(regions, size: tuple[int, int], scale: int = _MASK_SCALE) -> np.ndarray:
    """Where the OCR regions' boxes lie, on a grid of `scale`-pixel cells over an image of `size`."""
    mask = np.zeros((max(1, size[1] // scale + 1), max(1, size[0] // scale + 1)), dtype=bool)
    for region in regions:
        xs, ys = [p[0] for p in region.box], [p[1] for p in region.box]
        mask[max(0, int(min(ys) // scale)): int(max(ys) // scale) + 1, max(0, int(min(xs) // scale)): int(max(xs) // scale) + 1] = True
    return mask


def text_cover(box: tuple[float, float, float, float], mask: np.ndarray, scale: int = _MASK_SCALE) -> float:
    """The share of `box` (x0, y0, x1, y1) that a `text_mask` covers."""
    x0, y0, x1, y1 = (int(v // scale) for v in box)
    window = mask[max(0, y0):max(y1, y0 + 1), max(0, x0):max(x1, x0 + 1)]
    return float(window.mean()) if window.size else 0.0


def beside_text(detections, regions, image) -> tuple[Detection, ...]:
    """The detections of `image` (a PIL image) that are not the page's text seen as objects
    (`MAX_TEXT_COVER`), nor the page itself: a box that fills the frame around the text
    (`FRAME_SHARE`), or one over most of a page of text that shows nothing but paper and ink
    (`TWO_TONE`, `MIN_PAPER`)."""
    if not regions:
        return tuple(detections)
    size = image.size
    mask = text_mask(regions, size)
    kept = [d for d in detections if text_cover(d.box, mask) <= MAX_TEXT_COVER]
    if len(regions) < PAGE_LINES or not kept:
        return tuple(kept)
    kept = [d for d in kept if not _is_the_page(d.box, regions, size)]
    over_text = [d for d in kept if _holds_text(d.box, regions)]
    if not over_text:
        return tuple(kept)
    tones = _Tones(image)
    return tuple(d for d in kept if d not in over_text or not tones.paper_and_ink(d.box))


def _holds_text(box: tuple[float, float, float, float], regions) -> bool:
    """Whether `box` holds the centres of a quarter of the page's text regions or more (a
    FUNSD scan's "tv" over its top half held 12 of 28)."""
    return 4 * _centres_inside(box, regions) >= len(regions)


def _centres_inside(box: tuple[float, float, float, float], regions) -> int:
    """How many of the regions' centres lie in `box` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    centres = [(sum(p[0] for p in r.box) / len(r.box), sum(p[1] for p in r.box) / len(r.box)) for r in regions]
    return sum(x0 <= x <= x1 and y0 <= y <= y1 for x, y in centres)


class _Tones:
    """An image's grey levels, and its paper's: the commonest grey (smoothed over nine levels)."""

    def __init__(self, image):
        self.grey = np.asarray(image.convert("L"), dtype=np.int16)
        counts = np.convolve(np.bincount(self.grey.ravel(), minlength=256), np.ones(9), "same")
        self.paper = int(np.argmax(counts))

    def paper_and_ink(self, box: tuple[float, float, float, float]) -> bool:
        """Whether `box` (x0, y0, x1, y1) shows paper and ink only: `TWO_TONE` of it either,
        and at least `MIN_PAPER` of it paper (a dark object is all "ink")."""
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        window = self.grey[max(0, y0):max(y1, y0 + 1), max(0, x0):max(x1, x0 + 1)]
        if not window.size:
            return False
        if self.paper < MIN_PAPER_GREY:
            return False
        paper = np.abs(window - self.paper) <= PAPER_TONE
        return float(paper.mean()) >= MIN_PAPER and float((paper | (window <= INK_TONE)).mean()) >= TWO_TONE


def _is_the_page(box: tuple[float, float, float, float], regions, size: tuple[int, int]) -> bool:
    """Whether `box` fills the frame (`FRAME_SHARE` of the image) and holds as much of the text."""
    x0, y0, x1, y1 = box
    if (x1 - x0) * (y1 - y0) < FRAME_SHARE * max(1, size[0] * size[1]):
        return False
    return _centres_inside(box, regions) >= FRAME_SHARE * len(regions)


@dataclass(frozen=True)
class Look:
    """One image as the bundle's models saw it."""

    detections: tuple[Detection, ...]
    labels: tuple[Label, ...]  # classifier's top labels, best first
    regions: tuple[TextLine, ...]  # OCR regions
    size: tuple[int, int]  # width, height

    @property
    def kind(self) -> str:
        """PHOTO without text; DOCUMENT with text and no object, or a page of text (`PAGE_LINES`
        regions or more) whose objects are all small (a logo, a stamp, handwriting seen as a
        bird); else BOTH (a sign in a street, a receipt held by a person)."""
        if not self.regions:
            return PHOTO
        if len(self.regions) >= PAGE_LINES:
            area = max(1, self.size[0] * self.size[1])
            large = [d for d in self.detections if (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]) >= MIN_OBJECT_ON_PAGE * area]
            return BOTH if large else DOCUMENT
        return BOTH if self.detections else DOCUMENT

    @property
    def text(self) -> str:
        return " ".join(region.text for region in self.regions)

    def of_label(self, *labels: str) -> list[Detection]:
        return [d for d in self.detections if d.label in labels]


def evidence(detections) -> tuple[TextLine, ...]:
    """Detections as evidence lines: the label, the box's four corners, the score."""
    return tuple(
        TextLine(d.label, ((d.box[0], d.box[1]), (d.box[2], d.box[1]), (d.box[2], d.box[3]), (d.box[0], d.box[3])),
                 d.score)
        for d in detections
    )


def object_phrases(detections) -> list[str]:
    """ ["two people", "a horse"]: detected labels counted, most frequent first."""
    counts = Counter(d.label for d in detections)
    return [counted(n, label) for label, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def objects_phrase(detections) -> str:
    """ "two people and a horse"."""
    return joined(object_phrases(detections))


def new_label(look: Look, similarity: Callable[[str, str], float]) -> Label | None:
    """The classifier's best label when it is confident enough and says something the
    detections do not."""
    if not look.labels:
        return None
    best = look.labels[0]
    if not look.detections:
        return best if best.score >= MIN_LABEL_ALONE else None
    if best.score < MIN_LABEL_BESIDE:
        return None
    if any(similarity(best.name, label) >= SAME_THING for label in {d.label for d in look.detections}):
        return None
    return best


def quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_QUOTE_CHARS else text[: _MAX_QUOTE_CHARS - 1].rstrip() + "…"


def caption(look: Look, similarity: Callable[[str, str], float]) -> str:
    """One sentence from what was detected, classified and read; an object the detector
    never scored `SURE_SCORE` or more is said as what it "may be"."""
    best: dict[str, float] = {}
    for d in look.detections:
        best[d.label] = max(best.get(d.label, 0.0), d.score)
    sure = [d for d in look.detections if best[d.label] >= SURE_SCORE]
    unsure = [d for d in look.detections if best[d.label] < SURE_SCORE]
    parts = object_phrases(sure)
    if unsure:
        parts.append(f"what may be {objects_phrase(unsure)}")
    label = new_label(look, similarity)
    if label is not None:
        parts.append(with_article(label.name))
    text = f" with the text '{quote(look.text)}'" if look.regions else ""
    if parts:
        return f"A photo of {joined(parts)}{text}."
    if text:
        return f"An image{text}."
    return f"{NOTHING_RECOGNISED} {CAPABILITIES}"


# How a description of a picture in which the models found nothing and read no text begins.
NOTHING_RECOGNISED = "A picture in which I recognise nothing."


def position(box, size) -> str:
    """Where a box lies in the picture, in words: "in the top left", "in the centre"."""
    width, height = size
    x = (box[0] + box[2]) / 2 / max(width, 1)
    y = (box[1] + box[3]) / 2 / max(height, 1)
    column = "left" if x < 1 / 3 else "right" if x > 2 / 3 else ""
    row = "top" if y < 1 / 3 else "bottom" if y > 2 / 3 else ""
    if not row and not column:
        place = "in the centre"
    elif row and column:
        place = f"in the {row} {column}"
    elif row:
        place = f"at the {row}"
    else:
        place = f"on the {column}"
    area = (box[2] - box[0]) * (box[3] - box[1]) / max(width * height, 1)
    return place + (", filling most of the picture" if area > 0.5 else "")


def photo_phrases(look: Look) -> list[str]:
    """Sentences naming what a photo shows, for its embedding: its detected objects, each
    kind on its own, and the classifier's confident labels (the best one always, so a photo
    never embeds as nothing)."""
    phrases = []
    if look.detections:
        phrases.append(f"a photo of {objects_phrase(look.detections)}")
        phrases += [f"a photo of {with_article(label)}" for label in dict.fromkeys(d.label for d in look.detections)]
    labels = [label for label in look.labels if label.score >= MIN_LABEL_ALONE] or list(look.labels[:1])
    phrases += [f"a photo of {with_article(label.name)}" for label in labels]
    return phrases
