"""Which of the models' labels a request names: "how many kittens?" → COCO `cat`.

The request's content words (and pairs of them, for "wine glasses", "teddy bears") are put
in their singular forms (runtime.vision.nouns; a form counts only if the sentence encoder's
vocabulary knows it as a word) and compared, as "a photo of a <noun>", with every COCO label
and every ImageNet label said the same way. The nearest label wins when it is near enough:
similarity by the bundle's own sentence encoder, not a synonym table per phrasing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .nouns import singulars

# Similarity (cosine, "a photo of a <noun>" vs "a photo of a <label>") a noun must reach to
# name a label. Measured with all-MiniLM-L6-v2: people/man/woman/guy → person 0.76–0.84,
# kitten → cat 0.82, automobile → car 0.94, mug → cup 0.81; words no COCO class names stay
# below (tree 0.57, cloud 0.58, rocket 0.66, tiger 0.61, hat 0.59, building 0.55).
MIN_OBJECT_SIMILARITY = 0.74
# ImageNet's 1,000 labels are narrower and many: only a near-exact name counts (tiger 1.0,
# coffee mug 0.92; tree → tree frog 0.64 must not).
MIN_CLASS_SIMILARITY = 0.85
TEMPLATE = "a photo of a {}"
# COCO's own grouping of its 80 classes (the "supercategory" of each category in the
# dataset's annotation files), so that "how many animals?" counts cats, dogs and birds: a
# request names a group only by its very name (or plural), as near as `MIN_CLASS_SIMILARITY`.
# Applied to whichever of these labels the bundle's detector reports.
COCO_GROUPS = {
    "vehicle": ("bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat"),
    "animal": ("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"),
    "food": ("banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake"),
    "furniture": ("chair", "couch", "potted plant", "bed", "dining table", "toilet"),
    "electronic device": ("tv", "laptop", "mouse", "remote", "keyboard", "cell phone"),
    "kitchen appliance": ("microwave", "oven", "toaster", "sink", "refrigerator"),
}
# Words of requests about pictures that name no object: English function words, the verbs
# and nouns of looking and counting, and words for the picture itself.
FUNCTION_WORDS = frozenset(
    "a an the is are was were am be been being do does did has have had can could will would should shall may "
    "must of for to in on at by with from as and or not no any some all there here this that these those it its "
    "what which who whom whose where when how why many much me my you your we our they them their he she his "
    "her i please tell say show find locate count counting number see seen visible look looking appear "
    "appears picture pictures image images photo photos photograph shot scene frame view kind type sort "
    "anything something everything one ones just only exactly altogether object objects thing things "
    "contain contains containing include includes including anywhere somewhere around least spot present shown "
    "showing depict depicts depicted".split()
)
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)?")


@dataclass(frozen=True)
class NamedObject:
    """A label a request names: `source` is "detector" (COCO-80) or "classifier" (ImageNet)."""

    label: str
    source: str
    word: str  # the request's words it was read from
    similarity: float
    members: tuple[str, ...] = ()  # a group's detector labels ("animal": cat, dog ...); else (label,)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.members or (self.label,)


class ObjectVocabulary:
    """Maps requests to labels; `embed` gives unit vectors. Read-only after construction."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], detector_labels: Iterable[str],
                 classifier_labels: Iterable[str], known_words: frozenset[str]):
        self._embed = embed
        self._known = known_words
        self.detector_labels = tuple(detector_labels)
        self.classifier_labels = tuple(classifier_labels)
        self._detector_vectors = self._embed_labels(self.detector_labels)
        known = set(self.detector_labels)
        self.groups = {name: tuple(m for m in members if m in known) for name, members in COCO_GROUPS.items()}
        self.groups = {name: members for name, members in self.groups.items() if members}
        self._group_vectors = self._embed_labels(tuple(self.groups))
        self._classifier_vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def later_texts(self) -> tuple[str, ...]:
        """The texts `_vectors` embeds on first use (the classifier's labels)."""
        return tuple(TEMPLATE.format(name) for name in self.classifier_labels)

    def _embed_labels(self, names) -> np.ndarray:
        return self._embed([TEMPLATE.format(name) for name in names]) if names else np.zeros((0, 1), np.float32)

    @property
    def _vectors(self) -> np.ndarray:
        """All labels' vectors, COCO first. ImageNet's 1,000 are looked up or embedded on first
        use, once, under a lock: a bundle carries their vectors ready-made (`later_texts`);
        embedding them took 0.85 s of a first question that names an object."""
        with self._lock:
            if self._classifier_vectors is None:
                self._classifier_vectors = self._embed_labels(self.classifier_labels)
        parts = [v for v in (self._detector_vectors, self._classifier_vectors) if len(v)]
        return np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)

    def mask(self, request: str, stand_in: str = "thing") -> str:
        """`request` with the words that name a COCO class replaced by `stand_in`: what a
        request wants ("where is the ...?") is then compared without the object it names, which
        the sentence encoder would otherwise weigh most ("Where is the cat?" came nearer
        "What breed is the cat?" than "Where is the cup?")."""
        return self.mask_all([request], stand_in)[0]

    def mask_all(self, requests: list[str], stand_in: str = "thing") -> list[str]:
        """`mask` of each request, their words embedded in one call (a router masks a hundred
        examples at start-up: one call each made the load's embedding 1.0 s instead of 0.64 s, measured under load)."""
        candidates = [self.candidates(request) for request in requests]
        forms = list(dict.fromkeys(form for found in candidates for _, form in found))
        if not forms or not len(self._detector_vectors):
            return list(requests)
        vectors = self._embed([TEMPLATE.format(form) for form in forms])
        nearest = dict(zip(forms, (vectors @ self._detector_vectors.T).max(axis=1)))
        return [self._masked(request, found, [nearest[form] for _, form in found], stand_in)
                for request, found in zip(requests, candidates)]

    def _masked(self, request: str, candidates: list[tuple[str, str]], best, stand_in: str) -> str:
        masked = request
        labels = set(self.detector_labels)
        for (words, form), similarity in sorted(zip(candidates, best), key=lambda item: -len(item[0][0])):
            # a pair of words only when it is a label's very name ("wine glass"), since the pair
            # of a noun and the next word ("cat doing") is as near its label as the noun alone
            if similarity >= MIN_OBJECT_SIMILARITY and (" " not in words or form in labels):
                masked = re.sub(rf"\b{re.escape(words)}\b", stand_in, masked, flags=re.I)
        return masked

    def content_words(self, request: str) -> list[str]:
        return [w for w in _WORD.findall(request.lower()) if w not in FUNCTION_WORDS]

    def candidates(self, request: str) -> list[tuple[str, str]]:
        """(words as asked, singular form) pairs: single content words and adjacent pairs."""
        words = self.content_words(request)
        found = []
        for index, word in enumerate(words):
            found += [(word, form) for form in [f for f in singulars(word) if f in self._known] or [word]]
            if index + 1 < len(words):
                pair_forms = [f for f in singulars(words[index + 1]) if f in self._known] or [words[index + 1]]
                found += [(f"{word} {words[index + 1]}", f"{word} {form}") for form in pair_forms]
        return list(dict.fromkeys(found))

    def named(self, request: str) -> NamedObject | None:
        """The label the request names, or None: a COCO label first (it can be counted and
        located), else an ImageNet label named almost exactly."""
        candidates = self.candidates(request)
        labels = self._vectors
        if not candidates or not len(labels):
            return None
        vectors = self._embed([TEMPLATE.format(form) for _, form in candidates])
        similarities = vectors @ labels.T  # (candidates, labels)
        split = len(self.detector_labels)
        if self.groups:
            # A group named by its very name, nearer than any one label ("animals": not "dog").
            group = vectors @ self._group_vectors.T
            row, column = np.unravel_index(int(np.argmax(group)), group.shape)
            if group[row, column] >= MIN_CLASS_SIMILARITY and group[row, column] > similarities[row, :split].max(initial=-1.0):
                name = tuple(self.groups)[column]
                return NamedObject(name, "detector", candidates[row][0], float(group[row, column]), self.groups[name])
        best = None
        for source, block, labels, floor in (
            ("detector", similarities[:, :split], self.detector_labels, MIN_OBJECT_SIMILARITY),
            ("classifier", similarities[:, split:], self.classifier_labels, MIN_CLASS_SIMILARITY),
        ):
            if not block.size:
                continue
            row, column = np.unravel_index(int(np.argmax(block)), block.shape)
            if block[row, column] >= floor:
                best = NamedObject(labels[column], source, candidates[row][0], float(block[row, column]))
                break
        return best

    def similarity(self, first: str, second: str) -> float:
        vectors = self._embed([first, second])
        return float(vectors[0] @ vectors[1])
