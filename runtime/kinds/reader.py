"""Kind `reader`: OCR → MiniLM retrieval → SmolLM2, answering only from the image's text.

Components: `ocr_det`, `ocr_cls` (optional), `ocr_rec` (PP-OCR), `lm_decoder` (a causal LM
with a KV cache), `embedder` (a pooled, normalized sentence encoder), and optionally
`detector` (COCO-80 objects) and `classifier` (ImageNet-1k labels), also exposed as `detect`
and `classify`. `extra` in bundle.json names the embedder's tokenizer and length limit and
the LM's chat format.

Each image is looked at by every model the bundle has (runtime.vision.scene.Look): text and
no object makes it a document, and documents are answered exactly as without the photo
models; objects (or, without text, a classifier label) make it a photo or both.

- read: OCR lines in reading order.
- vqa on a document: the request's intent (runtime.reader.intents) decides: "read the text"
  gets the text in reading order; "describe / summarize" a grounded description
  (runtime.reader.describe); a yes/no question "Yes"/"No" with the cell that says so, or
  "I can't tell from the text."; any other question a span of the recognized text with its
  evidence cell, or "Not found in the image.".
- vqa on a photo: the photo intents decide (count, presence, where, what kind, describe, what
  the models cannot see; runtime.vision.photo_answers), with detection boxes as evidence;
  questions about its text go the document way. An empty picture (one flat colour, no text)
  gets "No text was found in the image." whatever asked.
- caption: the grounded description of a document, or a photo's caption composed from what
  was detected, classified and read (runtime.vision.scene).
- generate: free LM generation with the recognized text as context (may invent; explicit).
- embed / rank / seed: MiniLM embeddings; an image is the mean of its lines' embeddings and,
  for a photo, of sentences naming what was detected and classified.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from runtime.chat import Message
from runtime.embedder import KnownVectors, TextEmbedder, VectorSource, load_known_vectors
from runtime.errors import BundleError
from runtime.ocr.layout import order_lines
from runtime.ocr.memo import ImageMemo
from runtime.ocr.pipeline import OcrPipeline, Page
from runtime.reader import intents
from runtime.reader.answering import NOT_FOUND, Answerer, bare_name, name_form
from runtime.reader.describe import Describer
from runtime.reader.document import extract_fields, read_cells, transcript
from runtime.reader.language_model import LanguageModel
from runtime.reader.payment import find_payment
from runtime.reader.spelling import occurs_in
from runtime.reader.types import TEXT, question_type
from runtime.reader.vocabulary import STOP, without_document_phrases
from runtime.reader.yes_no import CANT_TELL, alternatives, answer_choice, answer_paid_with, answer_yes_no, asks_paid_with, is_bare_choice
from runtime.results import GenerationResult, ReadResult, TextDelta, Usage
from runtime.tokenizer import Tokenizer
from runtime.vision import Detection, ImageClassifier, Label, ObjectDetector
from runtime.vision.objects import ObjectVocabulary
from runtime.vision.photo_answers import PhotoAnswerer, PhotoReply
from runtime.vision.scene import DOCUMENT, MIN_OBJECT_ON_PAGE, NOTHING_RECOGNISED, PAGE_LINES, Look, beside_text, photo_phrases
from runtime.vision.tiling import Found, detect_large_first, detect_tiled

from . import register_kind
from .base import GenerationRequest, KindAdapter, LoadContext

logger = logging.getLogger(__name__)

_EXTRA_KEYS = {
    "embedder_tokenizer": str, "embedder_max_length": int, "embedder_pad_token_id": int,
    "chat_format": str, "default_system": str,
    # Optional: files of the example requests' vectors, one per embedder variant (KnownVectors).
    "embedder_vectors": list,
}
_OPTIONAL_EXTRA = {"default_system", "embedder_vectors"}
NO_TEXT = "No text was found in the image."
NO_IMAGE = ("No image was attached to this request. Attach one (an image_url part in the chat message, or "
            "the image field of /v1/generate) to ask about it.")
# Words that name the picture a request is about ("Describe this image.").
_PICTURE_WORDS = intents.DOCUMENT_NOUNS | frozenset("image images picture pictures photo photos photograph".split())
_ABOUT_OBJECTS = frozenset({intents.COUNT, intents.PRESENCE, intents.WHERE, intents.IDENTIFY})
_MAX_PICTURE_REQUEST_WORDS = 30
# A document of the user's, named as one ("the invoice", "my receipt", "this letter's").
_THAT_DOCUMENT = re.compile(r"\b(?:the|this|that|my|our|your)\s+(?:" + "|".join(sorted(
    "receipt invoice bill letter memo form ticket statement email e-mail document scan screenshot menu".split(),
    key=len, reverse=True)) + r")(?:'s)?\b", re.I)
# A request to read or describe that points at a text it does not bring, and ends there: the
# text named with "the" or a pointing word, its noun phrase ending there ("Transcribe the
# text.", "Read out the words please"; not "the text of the First Amendment", "this text from
# my mom"), or a pointing pronoun as what is read or what says something ("What does it
# say?", "Transcribe this."; not "Describe this year's trends", "What does it say in Psalm
# 23?"), with at most a few words after it and nothing after a colon or a dash ("Translate
# these words: cat, dog" brings them). "Read me a poem" and "Write a haiku" point at no text.
# General English, not a list of phrasings.
_TEXT_NOUNS = "text|texts|words|writing|wording|handwriting"
_POINTER = r"(?:it|this|that|here|there)\b"
_PHRASE_ENDS = (r"(?=\s*(?:$|[.?!,]|(?:please|pls|for\s+(?:me|us)|to\s+(?:me|us)|out|back|again|aloud|here|there"
                rf"|say|says|said)\b|(?:in|on)\s+{_POINTER}))")
_POINTED_TEXT = re.compile(
    rf"\b(?:the|its|this|that|these|those)\s+(?:{_TEXT_NOUNS})\b{_PHRASE_ENDS}"
    rf"|\b(?:read|reads|transcribe|summari[sz]e|describe)\s+(?:(?:out|back|me|us)\s+)*(?:it|this|that)\b{_PHRASE_ENDS}"
    rf"|\b(?:it|this|that)\s+(?:say|says|said|reads)\b{_PHRASE_ENDS}"
    r"|\bwritten\s+(?:here|there|on\s+(?:it|this|that)|in\s+(?:it|this|that))\b", re.I)
_MAX_WORDS_AFTER_POINTER = 4
# A system message longer than this may carry the text a request points at ("Summarize the
# text." after a system message that holds it).
_MAX_SYSTEM_WORDS = 40
_QUOTED = re.compile(r"[\"“”]|(?<!\w)['‘’]|['‘’](?!\w)")  # not the apostrophe of "it’s"


def _points_at_text(request: str) -> bool:
    """Whether a request points at a text it does not bring (`_POINTED_TEXT`, a few words at
    most after it, nothing after a colon or dash, no quotes)."""
    if _QUOTED.search(request):
        return False
    match = _POINTED_TEXT.search(request)
    if match is None:
        return False
    rest = request[match.end():]
    return len(re.findall(r"\w+", rest)) <= _MAX_WORDS_AFTER_POINTER and not re.search(r"[:;\-–—]\s*\w", rest)


# Words after a request's colon that make them the request's own text ("Translate: ..."), not a
# question after it ("Describe this image: what is it?" names the picture before the colon).
_MIN_PASTED_WORDS = 6
# A request naming at most this many words of the page is about them ("Pump Press. Card Roller?").
_MAX_NAMED_WORDS = 4
# An image whose pixels vary less than this (standard deviation, 0-255) is one flat colour:
# nothing to recognise in it, so it is answered as an image without text.
FLAT_PIXEL_STD = 2.0


def _pasted(text: str) -> bool:
    """Whether a text is long enough to be one a request brings to work on, not a request."""
    return len(re.findall(r"\w+", text)) >= _MIN_PASTED_WORDS


@dataclasses.dataclass(frozen=True)
class Reply:
    """A reply decided from the page's text, with the OCR lines it comes from."""

    text: str
    evidence: tuple


# Pictures whose OCR regions (and detections, labels) are kept, a few KB each: enough for the
# images of a handful of chats going on at once.
OCR_MEMO_IMAGES = 32
# Words that say how much or how well to write ("one sentence", "a short, nice poem"), no topic.
_HOW_MUCH_WRITING = frozenset("one two three four five few some several short long little brief quick new good nice "
                              "funny simple document page image picture text".split())
# The reply to a request to write about something the page's text never mentions.
NOT_MENTIONED = "The text in the image does not mention {topic}; I only write what it says."


def _fold(lines):
    """NFKC-folded text: the recognizer emits full-width brackets and commas ("Tel:（359）",
    "July 21， 2023") that users and matching expect as ASCII."""
    return tuple(dataclasses.replace(line, text=unicodedata.normalize("NFKC", line.text)) for line in lines)


# A region of one or two characters read with less confidence than this is a speck of
# texture, not text, in a photo (JPEG blocks on a cat's fur read as 'O' at 0.54; coins' rims
# as 'M6' at 0.70); a word or a confident figure stays.
MIN_SHORT_TEXT_CONFIDENCE = 0.8


def _speck(region) -> bool:
    return sum(ch.isalnum() for ch in region.text) <= 2 and region.confidence < MIN_SHORT_TEXT_CONFIDENCE


def _read_out(regions) -> tuple[str, tuple]:
    """The text in reading order, and its lines as evidence."""
    lines = tuple(order_lines(regions))
    return transcript(lines), lines


# Words that point at the picture itself ("this report").
_DEICTIC = frozenset("this these that those its".split())
# "What is the Type?", "what's the report": a request for one named thing, whatever its name.
_WHAT_IS_THE = re.compile(r"\W*what(?:'s|\s+is|\s+was)\s+the\s+(?P<name>[^?.!]+?)\s*[?.!]*\s*", re.I)


def _on_the_page(words: list[str], regions) -> bool:
    """Whether every word a short request names (three letters or more) is written on the page,
    as the recognizer may have misread it ("Sensitive?" and "NOSENSITIWE TO"): a request that
    is little more than a label of the page asks for that field, not for the whole page."""
    long_words = [word for word in words if len(word) >= 3]
    if not long_words or len(long_words) > _MAX_NAMED_WORDS:
        return False
    text = " ".join(region.text for region in regions)
    return all(occurs_in(word, text) for word in long_words)


def _context(lines) -> str:
    """What the language model is told of a page: its text as the recognizer read it, a row of
    the page per line (a form's key beside its value, an item beside its price, as "Transcribe
    this." writes them), the row's cells separated by " | "."""
    rows = transcript(lines).split("\n")
    text = "\n".join(row.replace("\t", " | ") for row in rows)
    return f'The image contains this text (recognized by OCR; one row of the page per line, its cells separated by " | "):\n{text}'


def _known_vectors(context: LoadContext, embed) -> dict:
    """The stored vectors of the example requests (bundle.json extra `embedder_vectors`) for the
    embedder this load uses, if this machine computes the same ones; else none (then they are
    embedded now: slower, same result)."""
    files = context.manifest.extra.get("embedder_vectors", [])
    chosen = Path(context.sessions["embedder"].path).resolve()
    variant = next((v for v in context.manifest.components["embedder"].variants
                    if (context.bundle_dir / v.file).resolve() == chosen), None)
    if variant is None or not files:
        return {}
    known, why = load_known_vectors([context.bundle_dir / file for file in files],
                                    vector_source(context.manifest, variant), embed)
    if why:
        logger.info("The example requests are embedded at start: %s.", why)
    return known


def _eos_ids(manifest) -> list:
    eos = manifest.generation.get("eos_token_id", [])
    return eos if isinstance(eos, list) else [eos]


def vector_source(manifest, variant) -> VectorSource:
    """What the reader's stored vectors for the embedder `variant` depend on (manifest hashes)."""
    tokenizer = manifest.extra["embedder_tokenizer"]
    tokenizer_sha256 = next((entry.sha256 for entry in manifest.files if entry.file == tokenizer), "")
    return VectorSource(variant.sha256, tokenizer_sha256, manifest.extra["embedder_max_length"])


@register_kind
class ReaderAdapter(KindAdapter):
    kind_name = "reader"
    kind_tasks = frozenset({"read", "vqa", "caption", "generate", "embed", "rank", "seed"})
    required_components = ("ocr_det", "ocr_rec", "lm_decoder", "embedder")
    optional_components = ("ocr_cls", "detector", "classifier")
    wide_components = ("ocr_det", "detector", "classifier")  # 5, 8 and 19 MB of weights

    @classmethod
    def check_manifest(cls, manifest) -> None:
        super().check_manifest(manifest)
        unknown = set(manifest.extra) - set(_EXTRA_KEYS)
        missing = set(_EXTRA_KEYS) - set(manifest.extra) - _OPTIONAL_EXTRA
        wrong = [k for k, t in _EXTRA_KEYS.items() if k in manifest.extra and not isinstance(manifest.extra[k], t)]
        vectors = manifest.extra.get("embedder_vectors", [])
        if not isinstance(vectors, list):
            vectors = []  # reported below as of the wrong type
        elif not all(isinstance(file, str) for file in vectors):
            wrong.append("embedder_vectors")
        listed = {entry.file for entry in manifest.files}
        unlisted = [file for file in vectors if isinstance(file, str) and file not in listed]
        if unlisted:
            raise BundleError(f"bundle.json extra.embedder_vectors names {unlisted}, which 'files' does not list "
                              "with their sha256; list them there.")
        if unknown or missing or wrong:
            raise BundleError(
                f"bundle.json extra for kind 'reader': unknown {sorted(unknown)}, missing {sorted(missing)}, "
                f"wrong type {wrong}; it takes {', '.join(_EXTRA_KEYS)}."
            )
        if manifest.tokenizer is None:
            raise BundleError("A reader bundle needs 'tokenizer' (the language model's tokenizer.json).")

    @classmethod
    def preload(cls, bundle_dir, manifest) -> dict[str, object]:
        """Both tokenizers, with the embedder vocabulary's whole words (0.2 s in all)."""
        extra = manifest.extra
        embedder_tokenizer = Tokenizer.from_file(Path(bundle_dir) / extra["embedder_tokenizer"],
                                                 pad_token_id=extra["embedder_pad_token_id"])
        embedder_tokenizer.whole_words()
        lm_tokenizer = Tokenizer.from_file(Path(bundle_dir) / manifest.tokenizer,  # check_manifest: it is named
                                           eos_token_ids=_eos_ids(manifest))
        return {"embedder_tokenizer": embedder_tokenizer, "lm_tokenizer": lm_tokenizer}

    def __init__(self, context: LoadContext):
        super().__init__(context)
        manifest, sessions, extra = context.manifest, context.sessions, context.manifest.extra
        eos = _eos_ids(manifest)
        self._ocr = OcrPipeline(sessions["ocr_det"], sessions.get("ocr_cls"), sessions["ocr_rec"], pool=context.pool)
        self._ocr_memo = ImageMemo(OCR_MEMO_IMAGES)
        # What the photo models saw, remembered the same way (a follow-up about a photo).
        self._detections_memo, self._labels_memo = ImageMemo(OCR_MEMO_IMAGES), ImageMemo(OCR_MEMO_IMAGES)
        tokenizers = context.preloaded or self.preload(context.bundle_dir, manifest)
        embedder_tokenizer = tokenizers["embedder_tokenizer"]
        self._embedder_tokenizer = embedder_tokenizer
        self._embedder = TextEmbedder(sessions["embedder"], embedder_tokenizer, max_length=extra["embedder_max_length"],
                                      map_runs=context.pool.map)
        lm_tokenizer = tokenizers["lm_tokenizer"]
        self.prompt_tokenizer = lm_tokenizer  # one copy counts prompts and decodes
        self._lm = LanguageModel(sessions["lm_decoder"], lm_tokenizer, extra["chat_format"],
                                 extra.get("default_system"), eos, context.config.max_seq_len,
                                 max_batch=context.config.max_batch)
        # a long page or request is cut, not refused
        embed = functools.partial(self._embedder.embed, truncate=True)
        self._match = match = KnownVectors(embed, _known_vectors(context, embed))
        self._answerer = Answerer(match, self._lm.score_answers, words=embedder_tokenizer.whole_words(),
                                  english=lambda: {word: rank for word, rank in lm_tokenizer.word_ranks().items() if word.islower()})
        self._router = intents.IntentRouter(match)
        self._describer = Describer(match)
        self._detector = ObjectDetector(sessions["detector"]) if "detector" in sessions else None
        self._classifier = ImageClassifier(sessions["classifier"]) if "classifier" in sessions else None
        self._photos = None
        if self._detector is not None or self._classifier is not None:
            vocabulary = ObjectVocabulary(
                match, self._detector.labels if self._detector else (),
                [Label(name, i, 0.0).name for i, name in enumerate(self._classifier.labels)] if self._classifier else (),
                embedder_tokenizer.whole_words(),
            )
            self._photos = PhotoAnswerer(vocabulary)
            match.expect(vocabulary.later_texts)
            self._photo_router = intents.PhotoIntentRouter(match, vocabulary.mask, vocabulary.mask_all)
        match.freeze()

    @property
    def startup_texts(self) -> tuple[str, ...]:
        """The texts embedded while loading (example requests, labels) and those embedded on
        first use (the classifier's labels): what a bundle's `embedder_vectors` file holds
        (packaging/reader_bundle.py)."""
        return self._match.seen

    # --- tasks -----------------------------------------------------------------------

    def read(self, image) -> ReadResult:
        page = self._page(image)
        return ReadResult(lines=page.to_image(self._lines(page)), turns=page.turns)

    def _lines(self, page: Page):
        """The page's OCR lines in reading order, NFKC-folded (see `_fold`), boxes in the
        frame of the page turned upright (`_page`)."""
        return _fold(self._ocr.order(page.regions))

    def _page(self, image) -> Page:
        """What the OCR read in `image` (turned upright where its text lies on its side or
        upside down: `OcrPipeline.read_page`), read once per picture while it stays among the
        last `OCR_MEMO_IMAGES` (a chat sends its image again with every turn)."""
        return self._ocr_memo.get(image, lambda: self._ocr.read_page(image))

    def _regions(self, image):
        """OCR regions (one per detected box, not merged into lines) row by row, NFKC-folded:
        the answerer takes its cells from their boxes. Their boxes are in the frame of the
        page turned upright, where every geometric rule (rows, columns, keys beside values)
        works; what leaves the engine is turned back (`_reply`, `read`)."""
        return _fold(self._page(image).regions)

    def generate(self, request: GenerationRequest) -> Iterator[TextDelta | GenerationResult]:
        if request.task not in self.tasks:
            raise self._unsupported(request.task)
        if request.task == "generate":
            # "Summarize the memo." after a turn that pasted the memo is about that text
            pasted = any(turn.role == "user" and _pasted(turn.content) for turn in request.history)
            # a chat of this one request, but for a short system message (most chat clients send
            # one: "You are a helpful assistant."), has nothing earlier a pointing word could mean
            alone = all(turn.role == "system" and len(re.findall(r"\w+", turn.content)) <= _MAX_SYSTEM_WORDS
                        for turn in request.history)
            if request.image is None and not pasted and self._about_an_image(request.prompt, alone=alone):
                return self._reply(NO_IMAGE, request, (), ())
            context, held = self._generation_context(request.image) if request.image is not None else ("", [])
            messages = [*request.history,
                        Message("user", f"{context}\n\n{request.prompt}" if context else request.prompt)]
            held.append("the messages" if request.history else "the prompt")
            return self._lm.generate(messages, request.params, " and ".join(held))
        page = self._page(request.image)
        regions = _fold(page.regions)
        picture = page.upright(request.image)
        # "I'm paying bills today. Which supplier is this from?": the sentence that asks
        prompt = intents.asked_sentence(request.prompt) if request.task == "vqa" else request.prompt
        reply = self._page_answer(prompt, regions) if request.task == "vqa" else None
        if reply is not None:
            return self._reply(reply.text, request, regions, reply.evidence, page)
        look = self.look(picture, regions)
        if look is not None and look.kind != DOCUMENT:
            reply = self.answer_photo(request.task, request.prompt, look)  # "... How many are brown?" needs all
            return self._reply(reply.text, request, regions, reply.evidence, page)
        if not regions:
            return self._reply(NO_TEXT, request, regions, (), page)
        if request.task == "caption":
            description = self._describer.describe(read_cells(regions))
            return self._reply(description.text, request, regions, description.evidence, page)
        reply = self.answer_regions(prompt, regions)
        return self._reply(reply.text, request, regions, reply.evidence, page)

    def _generation_context(self, image) -> tuple[str, list[str]]:
        """What the language model is told of an attached picture before a request to write
        freely, and what it is called in a context error: a page's text as the recognizer read
        it; of a photo, what the photo models see (their description, which quotes its words
        without the specks of texture the recognizer reads as letters: 'O 9' on a cat's fur,
        which the model would otherwise write about); of a photo in which they find nothing
        and read nothing, nothing."""
        page = self._page(image)
        regions = _fold(page.regions)
        look = self.look(page.upright(image), regions) if self._photos is not None else None
        if look is None or look.kind == DOCUMENT:
            lines = self._lines(page)
            return (_context(lines), ["the image's text"]) if lines else ("", [])
        seen = self._photos.describe(look).text
        if seen.startswith(NOTHING_RECOGNISED):
            return "", []
        return f"The image is a photo. The image models describe it so: {seen}", ["the photo's description"]

    def _page_answer(self, prompt: str, regions):
        """The reply to a request about a page of text (`PAGE_LINES` words) when the photo
        models cannot change it, else None. `answer_photo` answers from the text a question,
        or a request to read, find or count, that the text answers, and a question that names
        no object they know even when the text does not; only the rest needs what they see.
        Answering from the text first spares a document question the detector's pass (about
        0.2 s of its 1.1 s on 2 cores)."""
        words = [r for r in regions if not _speck(r)]
        if self._photos is None or len(words) < PAGE_LINES:
            return None
        intent = self._photo_router.classify(prompt).name
        named = intent != intents.READ and self._photos.names_object(prompt)
        if intent not in (intents.QUESTION, intents.READ) and (
                intent not in (intents.COUNT, intents.WHERE, intents.PRESENCE) or named):
            return None
        answer = self.answer_regions(prompt, regions)
        if len(words) < len(regions) and self.answer_regions(prompt, words) != answer:
            # A page beside a large object is answered without its specks (`look`), a page
            # alone with them: only the photo models can say which this is.
            return None
        if answer.text not in (NOT_FOUND, CANT_TELL) or intent == intents.QUESTION and not named:
            return answer
        return None

    def _about_an_image(self, prompt: str, alone: bool = False) -> bool:
        """Whether a text-only request asks about a picture it does not include: it names the
        picture ("Describe this image.", "Summarize the document.") or asks to count, find or
        identify an object the photo models know ("How many cats are there?"); or, `alone` (a
        chat of this one line, no earlier turn or system message it could mean), it asks to
        read or describe a text it points at and does not bring ("Transcribe the text.",
        "What does it say?"). The last line is the request (a chat's earlier turns and system
        message come before it)."""
        lines = prompt.strip().splitlines()
        request = lines[-1] if lines else ""
        # "Summarize this document: The council met on Tuesday ...": a request that brings its own
        # text after a colon is about that text, whatever it or its instruction names (a user
        # trial: "this document" was refused). A question there is no text: "Describe this image:
        # is it a receipt or an invoice?" still names a picture it does not bring.
        _, colon, material = request.partition(":")
        if colon and _pasted(material) and not material.rstrip().endswith("?"):
            return False
        words = set(re.findall(r"[a-z]+", request.lower()))
        if not words or len(words) > _MAX_PICTURE_REQUEST_WORDS:  # a long text is no question about a picture
            return False
        if _THAT_DOCUMENT.search(request) and question_type(request) != TEXT:
            # "What is the invoice total?", "When is my bill due?": a value of one particular
            # document, which was not sent ("What should an invoice include?" asks the model)
            return True
        intent = (self._photo_router if self._photos is not None else self._router).classify(request).name
        if intent in (intents.READ, intents.DESCRIBE):
            return bool(words & _PICTURE_WORDS) or alone and len(lines) == 1 and _points_at_text(request)
        if self._photos is None or intent not in _ABOUT_OBJECTS:
            return False
        # Nothing but the object: "How many cats are there?" asks about a picture, "How many
        # legs does a cat have?" or "Where do dogs come from?" about the world.
        named = self._photos.named(request)
        return named is not None and set(self._photos.content_words(request)) <= set(named.word.split())

    def answer_regions(self, prompt: str, regions) -> Reply:
        """The reply to a request about a page's OCR regions: a choice question gets the
        alternative the text states, a field's bare name ("To?") that field, anything else is
        decided by the request's intent."""
        if not regions:
            return Reply(NO_TEXT, ())
        prompt = intents.without_manner(intents.asked_sentence(intents.with_apostrophes(prompt)))
        cells = read_cells(regions)
        if asks_paid_with(prompt):  # "Did I pay by card?" over "Paid by: Mastercard"
            paid = answer_paid_with(prompt, find_payment(extract_fields(cells), cells), cells)
            if paid is not None:
                return Reply(paid.text, paid.evidence)
        choice = answer_choice(prompt, cells)  # "Was it paid by card or cash?"
        if choice is not None:
            return Reply(choice.text, choice.evidence)
        if is_bare_choice(prompt) and alternatives(prompt) is not None:  # "Debit or credit?" over "Paid by: American Express"
            return Reply(CANT_TELL, ())
        name = bare_name(prompt)
        if name is not None:  # "Total?", "To?", "Paper?": a field's name, not a request for the whole page
            answer = self._answerer.answer(prompt, regions)
            if not answer.found:
                answer = self._answerer.field_named(name, regions) or answer
            return Reply(answer.text, answer.evidence)
        if intents.asks_topic(prompt):  # the subject line where the page has one, else a description
            subject = self._describer.subject(cells)
            if subject is not None:
                return Reply(subject.value, tuple(cells[i] for i in subject.lines))
            description = self._describer.describe(cells)
            return Reply(description.text, tuple(description.evidence))
        intent = self._router.classify(prompt)
        words = intents.named_words(intents.without_whom(prompt), STOP)
        if intent.name in (intents.READ, intents.DESCRIBE) and words:
            # "What does the form say for physical state?" reads like "what does it say?" but
            # names a key of this page (words no whole-page request needs): it asks for that field.
            named = self._answerer.answer(prompt, regions)
            if named.names_key(prompt) or self._answerer.names_a_key(prompt, regions) or _on_the_page(words, regions):
                return Reply(named.text, named.evidence)
            margin = intent.similarity - intent.score(intents.QUESTION)
            if not intents.DOCUMENT_BY.search(prompt) and (
                    intent.name == intents.READ and margin < intents.NAMED_WHOLE_PAGE_MARGIN
                    or intent.name == intents.DESCRIBE and margin < intents.NAMED_DESCRIBE_MARGIN
                    and not intents.DESCRIBING.search(prompt)):
                # Names something the page does not show and reads nearly as much as a question
                # (a request to look up a field the page lacks: "Give me the case reference."): not
                # the whole page in its place. A summary's extra words ("in one sentence") are
                # how to describe, not a field.
                return Reply(named.text, named.evidence)
        if intent.name == intents.QUESTION and intents.only_whole_page_words(prompt):
            # Every word one of a whole-page request's ("What does the note say?", "Read me the
            # receipt."): unless it asks one of the page's values ("When was it written?"), the
            # page is the answer.
            answer = self._answerer.answer(prompt, regions)
            # "What is on the page?" names the page, not a key "Page | 2": a key whose words the
            # request says only in a phrase about the document itself ("What is the page #?" asks it)
            key = set(re.findall(r"[a-z]+", answer.field.key.lower())) if answer.field is not None else set()
            said = set(re.findall(r"[a-z]+", without_document_phrases(prompt).lower()))
            about_page = set(re.findall(r"[a-z]+", prompt.lower())) - said
            keyed_by_page = bool(key & about_page) and not key & said
            if answer.found and not keyed_by_page:
                return Reply(answer.text, answer.evidence)
            whole = max((intents.READ, intents.DESCRIBE), key=intent.score)
            intent = intents.Intent(whole, intent.score(whole), "", intent.scores)
        if intent.name in (intents.READ, intents.DESCRIBE):
            keyed = self._key_at_the_end(prompt, regions)  # "What does the form say for No?"
            if keyed is not None:
                return keyed
            if intents.says_for(prompt):  # a field the page may lack, not the page in its place
                answer = self._answerer.answer(prompt, regions)
                return Reply(answer.text, answer.evidence)
        if intent.name == intents.WRITE:
            return self._write(prompt, regions)
        if intent.name == intents.READ:
            return Reply(*_read_out(regions))
        if intent.name == intents.DESCRIBE:
            describe = self._describer.summarize if intents.SUMMARIZING.search(prompt) else self._describer.describe
            description = describe(cells)
            return Reply(description.text, tuple(description.evidence))
        if intent.name == intents.YES_NO:
            switches = [(f.key, f.value, tuple(dict.fromkeys(cells[i] for i in (f.key_line, f.line) if i >= 0)))
                        for f in extract_fields(cells) if f.key]
            reply = answer_yes_no(prompt, cells, self._match, switches,
                                  lambda question: self._answerer.answer(question, regions))
            return Reply(reply.text, tuple(reply.evidence))
        answer = self._answerer.answer(prompt, regions)
        asked = intents.asks_title(prompt)
        if not answer.found and asked and not any(occurs_in(asked, cell.text) for cell in regions):
            # "What is the title?" on a page that never says "title" (a form's "Title:" keeps its
            # own field, found or not): the page's heading, as the description gives it
            # ("This is a page with text headed ...").
            heading = self._describer.heading(cells)
            text = cells[heading].text.strip() if heading is not None else ""
            if sum(ch.isalpha() for ch in text) > 2 * sum(ch.isdigit() for ch in text):  # words, not a form's code
                return Reply(text, (cells[heading],))
        return Reply(answer.text, answer.evidence)

    def _write(self, prompt: str, regions) -> Reply:
        """A request to compose something: the reader writes nothing its page does not say. On
        a topic none of whose words the page's text holds ("Write one sentence about the
        weather today."), it says so; otherwise ("Write a sentence about this invoice.",
        "Draft a reply.") it gives the page's grounded description."""
        # "about this receipt" is about the page; "about the menu" on a page with none is not
        about = intents.DOCUMENT_TOPIC.sub(" ", intents.composing_topic(prompt))
        topic = [word for word in intents.WORD.findall(about.lower())
                 if word not in STOP and word not in _DEICTIC and word not in _HOW_MUCH_WRITING]
        written = set(re.findall(r"[^\W\d_]+", " ".join(region.text for region in regions).lower()))
        if topic and not any(word in written for word in topic):
            return Reply(NOT_MENTIONED.format(topic=" or ".join(f'"{word}"' for word in dict.fromkeys(topic))), ())
        description = self._describer.describe(read_cells(regions))
        return Reply(description.text, tuple(description.evidence))

    def _key_at_the_end(self, prompt: str, regions) -> Reply | None:
        """The field of a request that ends with one of the page's keys written as the page
        writes it ("What does the form say for No?", "... for Report?", "Kind?" over a
        form's "Kind" row), however much the rest reads like a request for the whole page. An
        ending made only of whole-page words counts in a bare name or after "for", not in a
        request to read or describe ("Describe the form.", "What is on the page?" over a
        "Page 2") nor after "this" ("What is this report?" asks about the page); "What is the
        Type?" asks for the page's "Type" as a bare name does."""
        lines = prompt.strip().splitlines()
        request = lines[-1].strip() if lines else ""
        tokens = request.rstrip("?.!").split()
        bare = request.rstrip("!. ").endswith("?") and len(tokens) <= 2
        # "What is the Type?": the whole of what is asked, after "the", is the key's name
        asked = _WHAT_IS_THE.fullmatch(request)
        for size in (3, 2, 1):
            if len(tokens) < size:
                continue
            ending = " ".join(tokens[-size:])
            before = tokens[-size - 1].lower() if len(tokens) > size else ""
            if before in _DEICTIC:
                continue
            # Whole-page words name a key only as a bare name or after "for" ("... say for
            # Report?"); "What is on the page?" over "Page 2" asks for the page.
            if bare or before == "for" or not intents.only_whole_page_words(ending) or asked and asked["name"] == ending:
                found = self._answerer.field_named(ending, regions)
                if found is not None:
                    return Reply(found.text, found.evidence)
        if asked:  # a key the page writes run into its value ("Type Printed Imitation Cork")
            answer = self._answerer.answer(request, regions)
            if answer.found and answer.field is not None and name_form(answer.field.key) == name_form(asked["name"]):
                return Reply(answer.text, answer.evidence)
        return None

    def look(self, image, regions) -> Look | None:
        """What the photo models see in `image` (OCR `regions` given), or None when the bundle
        has no photo model or the picture is one flat colour. A page of text (a DOCUMENT by
        its text and detections) is not classified: no document reply uses the labels."""
        if self._photos is None or _is_flat(image):
            return None
        detections = self._detections(image, regions) if self._detector is not None else ()
        detections = beside_text(detections, regions, image)  # a form's lines read as kites are text
        look = Look(detections, (), tuple(regions), image.size)
        words = tuple(r for r in regions if not _speck(r))
        if words and look.kind == DOCUMENT:  # specks alone (a silhouette's edge read as '7') make no page
            return look
        look = dataclasses.replace(look, regions=words)
        if self._classifier is None:
            return look
        labels = self._labels_memo.get(image, lambda: tuple(self._classifier.classify([image])[0]))
        return dataclasses.replace(look, labels=labels)

    def _detections(self, image, regions) -> tuple[Detection, ...]:
        """The detector's objects in `image`. On a page of text (`PAGE_LINES` regions) only a
        large object changes what the picture is (`Look.kind`), so the tiles, which find small
        ones, run only when the whole image shows one; a caller with fewer regions needs every
        object, and a remembered page-only result is not enough for it."""
        if len(regions) < PAGE_LINES:
            found = self._detections_memo.get(image, lambda: Found(tuple(detect_tiled(self._detector, image)), True),
                                              enough=lambda remembered: remembered.complete)
        else:
            found = self._detections_memo.get(image, lambda: detect_large_first(
                self._detector, image, MIN_OBJECT_ON_PAGE, lambda whole: beside_text(whole, regions, image)))
        return found.detections

    def answer_photo(self, task: str, prompt: str, look: Look) -> PhotoReply:
        """The reply to a caption or a request about a photo (or a photo with text)."""
        photos = self._photos
        if task == "caption":
            return photos.describe(look)
        intent = self._photo_router.classify(prompt)
        object_intents = (intents.COUNT, intents.WHERE, intents.PRESENCE)
        # A page of text with an object on it (a receipt read as lying on a book): a question,
        # or a request to identify an object that is not there ("What is the vehicle's licence
        # plate?"), is about the text; one to find, count or look for an object that is not
        # there ("Where is the phone number?" on a receipt) is too when the text answers it.
        named = photos.names_object(prompt)
        if intent.name == intents.READ and named and not look.regions and not intents.says_reading(prompt):
            # "What is in the cup?" is nearest "What is written on it?" but says nothing of
            # reading: on a photo without text it asks what is seen there
            intent = intents.Intent(intents.IDENTIFY, intent.score(intents.IDENTIFY), "", intent.scores)
        page = len(look.regions) >= PAGE_LINES
        unseen = page and named and not photos.sees_named(prompt, look)
        page = page and (intent.name == intents.QUESTION and (unseen or not named) or intent.name == intents.IDENTIFY and unseen)
        if look.regions and (intent.name in (intents.READ, intents.QUESTION)
                             or intent.name in object_intents and (unseen or not named)) or page:
            # About the text it shows (the amount due on a photo of a receipt lying on a table).
            answer = self.answer_regions(prompt, look.regions)
            if answer.text not in (NOT_FOUND, CANT_TELL) or page or intent.name == intents.QUESTION and not named:
                # A question that names no object is about the text, which was read: when the
                # text does not answer it, "Not found in the image." is the honest reply.
                return PhotoReply(answer.text, answer.evidence)
        if intent.name == intents.COUNT:
            return photos.count(prompt, look)
        if intent.name == intents.WHERE:
            return photos.where(prompt, look)
        if intent.name == intents.IDENTIFY:
            return photos.identify(look, prompt)
        if intent.name == intents.DESCRIBE:
            return photos.describe(look)
        if intent.name == intents.PRESENCE:
            reply = photos.presence(prompt, look)
            if reply is not None:
                return reply
            if photos.content_words(prompt):  # "Is there a camera?": a thing neither model knows
                return photos.unknown(prompt, look)
        if intent.name == intents.READ:
            if not look.regions:
                return PhotoReply(NO_TEXT, ())
            return PhotoReply(*_read_out(look.regions))  # "Is there any text?" as a yes/no question: the text
        if intent.name == intents.UNSEEN:
            return photos.honest(look, "I can't tell that from this picture.")
        if not look.regions:
            return photos.honest(look, "There is no text in this picture to answer that from.")
        return photos.honest(look, "I can't answer that from this picture's text or objects.")

    def _reply(self, text: str, request: GenerationRequest, regions, evidence, page: Page | None = None,
               ) -> Iterator[TextDelta | GenerationResult]:
        """A reply decided as a whole (copied from the text, not generated), sent as one delta;
        the evidence's boxes (in the frame of `page`, the picture read upright) are turned
        back into the picture as sent.
        A `max_new_tokens` the caller set cuts it (finish reason "length"), as it would a
        generation; the bundle's default does not: a page's transcript comes whole."""
        tokenizer = self._lm.tokenizer
        ids = tuple(tokenizer.encode(text, add_special_tokens=False))
        finish_reason = "stop"
        if request.budget_given and len(ids) > request.params.max_new_tokens:
            ids, finish_reason = ids[: request.params.max_new_tokens], "length"
            text = tokenizer.decode(list(ids))
        read = "\n".join(r.text for r in regions)
        if page is not None:
            evidence = page.to_image(evidence)
        prompt_tokens = len(tokenizer.encode(f"{request.prompt}\n{read}", add_special_tokens=False))
        yield TextDelta(text, ids)
        yield GenerationResult(
            text=text, token_ids=ids, tokens=tuple(tokenizer.id_to_token(i) for i in ids),
            finish_reason=finish_reason, usage=Usage(prompt_tokens, len(ids)), evidence=tuple(evidence),
        )

    @property
    def has_detector(self) -> bool:
        return self._detector is not None

    def detect(self, images) -> list[list[Detection]]:
        """COCO-80 objects in each image (runtime.vision.ObjectDetector), one batch."""
        if self._detector is None:
            raise BundleError("This reader bundle has no 'detector' component.")
        return self._detector.detect(images)

    def classify(self, images, top_k: int = 5) -> list[list[Label]]:
        """The `top_k` ImageNet labels of each image (runtime.vision.ImageClassifier), one batch."""
        if self._classifier is None:
            raise BundleError("This reader bundle has no 'classifier' component.")
        return self._classifier.classify(images, top_k)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return self._embedder.embed(texts)

    def count_tokens(self, texts: list[str]) -> int:
        return sum(len(self._embedder_tokenizer.encode(text)) for text in texts)

    def embed_images(self, images) -> np.ndarray:
        """Each image as the mean of its lines' embeddings and, for a photo, of sentences that
        name what was detected and classified ("a photo of two cats"); an image with neither
        (one flat colour, or no photo model) embeds as zeros."""
        vectors = []
        for image in images:
            page = self._page(image)
            lines = self._lines(page)
            look = self.look(page.upright(image), lines)
            texts = [line.text for line in lines]
            if look is not None and look.kind != DOCUMENT:
                texts += photo_phrases(look)
            if not texts:
                vectors.append(np.zeros(self._embedder.dimension or 384, dtype=np.float32))
                continue
            mean = self._embedder.embed(texts, truncate=True).mean(axis=0)
            vectors.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        return np.stack(vectors)


def _is_flat(image) -> bool:
    small = np.asarray(image.convert("L").resize((64, 64)), dtype=np.float32)
    return float(small.std()) < FLAT_PIXEL_STD


__all__ = ["NOT_FOUND", "ReaderAdapter"]
