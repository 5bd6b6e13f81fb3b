"""What a request about an image's text wants: its text read out, a description, a yes/no,
or one piece of information.

Decided by similarity, not by a pattern per phrasing: the request is embedded with the
bundle's sentence encoder and compared with a few example requests of each intent (the
intent whose nearest examples are nearest wins). The examples are ordinary requests a user types; they name no
field of any particular document. One general cue of English grammar comes first: a
question that opens with an auxiliary verb ("is", "does", "has" ...) wants yes or no.

Photos (issue 11) add their own intents, used only for an image the detector or classifier
recognised something in (`classify(..., photo=True)`): count objects, ask whether one is
there, where it is, what kind of thing it is, and questions about what the photo models
cannot see (colours, actions, feelings). Documents are routed exactly as before. General
cues of English come first here too: "how many" counts, an auxiliary verb asks yes or no.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

READ, DESCRIBE, QUESTION, YES_NO, WRITE = "read", "describe", "question", "yes_no", "write"
COUNT, PRESENCE, WHERE, IDENTIFY, UNSEEN = "count", "presence", "where", "identify", "unseen"

EXAMPLES: dict[str, tuple[str, ...]] = {
    READ: (
        "Read the text.",
        "What does it say?",
        "Transcribe this.",
        "What is written here?",
        "Extract all the text from this image.",
        "Copy out the words in the picture.",
        "Can you read this for me?",
        "Type out what the page says.",
        "OCR this image.",
        "Give me the text of this page.",
        "Write down every word you see.",
        "What words appear in the image?",
        "Is there any writing on it?",
        "Read this document to me.",
    ),
    DESCRIBE: (
        "Describe this image.",
        "What is this?",
        "Summarize this.",
        "Summarize this document.",
        "What is this document about?",
        "Give me a short summary.",
        "What am I looking at?",
        "Caption this picture.",
        "Tell me about this image.",
        "What kind of document is this?",
        "Explain what this page is.",
        "What is this for?",
        "Give me the gist of the report.",
        "Sum up the minutes of the meeting.",
        "What is the main point of this notice?",
    ),
    QUESTION: (
        "What is the flight number?",
        "Who wrote the note?",
        "Where is the meeting held?",
        "How much does the ticket cost?",
        "Which room is the lecture in?",
        "What is the patient's blood type?",
        "When does the offer expire?",
        "How many seats are booked?",
        "What is the name of the hotel?",
        "Who is the author of this article?",
        "What is the title of the page?",
        "What reference code is printed at the top?",
        "When was the photo taken?",
        "Who is this message for?",
        "Which bank is the account with?",
        "What topic does the memo cover?",
        "What does the sender do for work?",
        "Give me the booking reference.",
        "Tell me the departure time.",
        "Name the author of the report.",
        "Show me the account number.",
        "I need the check-in time.",
        # Requests that fetch one thing: their verbs ("find", "look up", "get") are no reading.
        "Find the gate number.",
        "Look up the expiry date.",
        "Find out which platform the train leaves from.",
        "Get me the seat number.",
        "Look up where the parcel is going.",
        "Find the warranty period.",
        "Locate the patient's date of admission.",
        "Check what the interest rate is.",
    ),
}
# Requests to compose something (a poem, a reply, a sentence on a topic), for a page of text
# only: a reader writes nothing its page does not say (`runtime.kinds.reader`). The examples
# name no topic, so that the words a request adds say what it is about.
WRITE_EXAMPLES: tuple[str, ...] = (
    "Write a poem about this.",
    "Write a short story.",
    "Draft a reply.",
    "Compose a tweet about it.",
    "Write a paragraph on this topic.",
    "Make up a slogan.",
    "Write an email about it.",
    "Write me a haiku.",
    "Write a sentence about it.",
)
# A request to compose opens with a verb of composing (English says so); the router's score
# alone took "Tell me the title." for one.
COMPOSING = re.compile(r"^\W*(?:(?:please|can\s+you|could\s+you)\s+)?(?:write|compose|draft|make\s+up|come\s+up\s+with|"
                       r"create|invent|pen|rewrite|turn)\b", re.I)
# What a request to compose is about: the words after "about", "on" or "regarding" ("... about
# the weather today"); without such words it is about the page ("Draft a reply.").
_COMPOSE_TOPIC = re.compile(r"\b(?:about|on|regarding|concerning)\s+(?P<topic>.+)$", re.I)


def composing_topic(request: str) -> str:
    """What a request to compose names as its topic ("the weather today"), or ""."""
    match = _COMPOSE_TOPIC.search(request.strip().rstrip("?.!"))
    return match["topic"] if match else ""


# Requests about a photo, next to READ, DESCRIBE and QUESTION above (a photo may show text).
PHOTO_EXAMPLES: dict[str, tuple[str, ...]] = {
    # Text seen in a photo: a sign, a shirt, a label on a bottle.
    READ: (
        "What is written on it?",
        "What does the sign say?",
        "What words are on the shirt?",
        "Is there any text in the picture?",
        "Is anything written on it?",
        "Does it say anything?",
    ),
    DESCRIBE: (
        "What is in this image?",
        "What do you see?",
        "What's in the picture?",
        "What objects are in this photo?",
        "What is shown here?",
    ),
    COUNT: (
        "Count the birds.",
        "What is the number of chairs in the picture?",
        "Tell me how many dogs you see.",
        "Count the people in this photo.",
        "How many bottles are on the table?",
    ),
    PRESENCE: (
        "Is there a dog in this picture?",
        "Are there any cars?",
        "Do you see a bicycle?",
        "Does this photo contain a bird?",
        "Is anyone in the picture?",
        "Can you see a cup?",
        "Is this a bird?",
    ),
    WHERE: (
        "Where is the cup?",
        "Where is the dog in the picture?",
        "Show me where the bicycle is.",
        "Find the car.",
        "Locate the person in this image.",
        "In which part of the photo is the bird?",
    ),
    IDENTIFY: (
        "What animal is this?",
        "What kind of dog is this?",
        "What breed is the cat?",
        "What type of vehicle is shown?",
        "What object is this?",
        "Which animal is in the picture?",
    ),
    UNSEEN: (
        "What colour is the car?",
        "Is the dog happy?",
        "What is the man doing?",
        "Is she smiling?",
        "How old is the person?",
        "What is the weather like?",
        "What time of day is it?",
        "What is the woman wearing?",
        "Is the cat asleep?",
        "How does he feel?",
        "What material is the table made of?",
    ),
}
# Each intent scores the mean similarity of its this many nearest examples (photos, roles.py).
NEIGHBOURS = 2
# A document request's intents are scored over their three nearest examples: with two, one
# question example sharing a word ("What is the title of the page?" for "Could you write out
# everything on this page?") held the question score up to within 0.045 of the request to
# read, under WHOLE_PAGE_MARGIN with the per-token int8 embedder; with three, 0.08-0.10 at
# fp32 and int8 alike. Development sets (gen1-4, para, fresh, wide, oblique): unchanged at int8
# (both quantizations), oblique +4 answers at fp32.
PAGE_NEIGHBOURS = 3
# How much higher than the question score a whole-page request must score (cosine).
WHOLE_PAGE_MARGIN = 0.05
# ... when it names words the page does not show: requests to look up a field a development
# letter lacks scored 0.07-0.09 above, "Transcribe the handwriting." 0.19 (all-MiniLM-L6-v2).
NAMED_WHOLE_PAGE_MARGIN = 0.15
# ... and for a description, this much, unless a word of describing says so (`DESCRIBING`):
# development requests for an id or an amount a page lacks ("Give me the case reference.")
# scored 0.06-0.07 above the question score, descriptions that name something besides the
# page ("What's going on in this document?", "Give me the highlights of this memo.") 0.11 and
# more (requests written for it, all-MiniLM-L6-v2 int8 and fp32).
NAMED_DESCRIBE_MARGIN = 0.1
# Words of describing (a general cue of English, as the verbs of composing are): a request
# that says one wants a description, whatever else it names ("Describe the main items on this
# receipt.", "Give me a summary of the charges.", "Tell me about this invoice from the
# boatyard."); and a phrase that says which document by whom it is from or for ("this letter
# from the council") names no field.
DESCRIBING = re.compile(r"\b(?:describ\w*|summar\w*|overview|outlin\w*|gist|rundown|synopsis|recap\w*|"
                        r"sum\w*\s+(?:it\s+|this\s+|that\s+)?up|caption\w*|explain\w*|explanation|highlights|"
                        r"tell\s+(?:me|us)\s+about|walk\s+(?:me|us)\s+through)\b"
                        r"|\babout\s*[?.!]*\s*$", re.I)
# Words that ask for a summary rather than a description (a general cue of English, as
# `DESCRIBING`): the description and the page's first keys with their values.
SUMMARIZING = re.compile(r"\b(?:summar\w*|overview|gist|rundown|synopsis|recap\w*|highlights|"
                         r"sum\w*\s+(?:it\s+|this\s+|that\s+)?up|key\s+(?:points|facts|details))\b", re.I)
# "... adds up to", "the sum", "sum owed per the notice", "bottom-line figure": a total or a number
# asked in other words (a general cue of English, as "how many" asks a count), never the page
# described: the noun "sum" is no request to sum up (`DESCRIBING`, nor is "in sum"), though the
# sentence encoder puts them together; "what figure", "the final figure" ask one number ("read
# the figures" asks them all).
ASKS_AMOUNT = re.compile(r"\badd(?:s|ed|ing)?\s+up\s+to\b"
                         r"|(?<!\bin )\bsum\b(?![\s-]+(?:(?:it|this|that|everything|all)\s+)?up\b|\s+and\s+substance\b)"
                         r"|\b(?:what|which|bottom[\s-]+line|final|total|net|gross|overall)\s+figure\b", re.I)
# The auxiliary verbs that open an English yes/no question; "Can you tell me ...", "Could you
# read ..." are requests, not yes/no questions.
_YES_NO_OPENING = re.compile(
    r"^\s*(is|are|was|were|am|do|does|did|has|have|had|can|could|will|would|should|shall|may|must)\b"
    r"(?!\s+(you|u)\b)", re.I
)


_HOW_MANY = re.compile(r"\bhow\s+many\b", re.I)  # English asks a count this way
# A word of a request worth comparing: letters only, three or more.
WORD = re.compile(r"[^\W\d_]{3,}")


def _words(text: str) -> set[str]:
    return {word.lower() for word in WORD.findall(text)}


# What people call the thing they show ("Summarize the invoice", "Read this sign").
DOCUMENT_NOUNS = frozenset(
    "document form receipt invoice bill letter note memo email e-mail message page sheet scan photo picture screenshot screen "
    "sign label card ticket menu poster table chart slide paper file".split()
)
_NOUNS = "|".join(sorted(DOCUMENT_NOUNS, key=len, reverse=True))  # longest first, in patterns
# Words of whole-page requests: the examples' own and the names of documents.
WHOLE_PAGE_WORDS = DOCUMENT_NOUNS | frozenset(
    word for name in (READ, DESCRIBE) for example in EXAMPLES[name] for word in _words(example)
)


def _words_of_examples(kept) -> frozenset[str]:
    return frozenset(word for examples in (EXAMPLES, PHOTO_EXAMPLES) for name, requests in examples.items()
                     if kept(name) for request in requests for word in _words(request))


# Words only the requests to read say ("written", "text", "say"): a request without any
# that the router still finds nearest them ("What is in the cup?" beside "What is written
# on it?") asks about something else.
READING_WORDS = _words_of_examples(lambda name: name == READ) - _words_of_examples(lambda name: name != READ)


def says_reading(request: str) -> bool:
    return bool(_words(request) & READING_WORDS)


# "on this invoice", "Summarise the letter", "Read my notes": what a request calls the page it
# is about, after a preposition or as the object of the verb that opens the request; not "What
# is the note?" (a key "Note" may be asked), not a document noun that says which value ("the
# receipt no.", "the bill to", "the form of payment"), so only where a phrase ends or a small
# word follows.
_DOCUMENT_NAME = r"(?:this|the|that|my|your|our)\s+(?:" + _NOUNS + r")s?\b"
_CALLED_DOCUMENT = re.compile(r"(?:\b(?P<by>on|in|of|from|about|for|at|to|with|over)\s+|^(?P<verb>\W*[^\W\d_]+\s+(?:me\s+)?))"
                              + _DOCUMENT_NAME
                              + r"(?=\s*(?:[?.!,;:)\-]|$|(?:is|are|was|were|say|says|said|show|shows|from|and|or|please|here|"
                              r"there|mean|means)\b))", re.I)
# "about this receipt": the page, in a request's topic.
DOCUMENT_TOPIC = re.compile(r"\b" + _DOCUMENT_NAME, re.I)
# A phrase that says which document by whom it is from or for ("this letter from the
# council"): it names no field of the page.
DOCUMENT_BY = re.compile(r"\b" + _DOCUMENT_NAME + r"\s+(?:from|to|for|by)\b(?P<whom>[^,.;:?!]*)", re.I)


def without_whom(request: str) -> str:
    """The request without whom its document is from or for ("Tell me about this receipt from
    the cafe" → "Tell me about this receipt"): those words say which page, not what of it."""
    return DOCUMENT_BY.sub(lambda m: m.group(0)[: m.start("whom") - m.start()].rsplit(None, 1)[0], request)


def unnamed_document(request: str) -> str:
    """The request with what it calls the page said as "it" ("What's the date on this
    invoice?" → "What's the date on it?"): whether a request names the document says
    nothing of what it wants, but the sentence encoder put a development question for the
    total "on this document" nearer "What is this document about?" (0.56) than any question
    for one value (0.33); with the document said as "it", 0.27 and 0.33."""
    return _CALLED_DOCUMENT.sub(lambda m: (m["by"] + " " if m["by"] else m["verb"]) + "it", request)


def named_words(request: str, common: frozenset[str]) -> list[str]:
    """The words of a request that no whole-page request needs and that are not `common`
    (function words): "physical", "state" in "What does the form say for physical state?".
    A request to read or describe the page names nothing of it; one that names something the
    page shows asks for that thing."""
    # and a code of letters and figures ("LD50", "CO2"), which no whole-page request says,
    # unless it says which page ("Summarize the FY2020 report.")
    codes = {match["code"].lower() for match in _CODE.finditer(request)
             if not (match["the"] and (match["noun"] or "").lower() in WHOLE_PAGE_WORDS)}
    return sorted(word for word in _words(request) | codes if word not in WHOLE_PAGE_WORDS and word not in common)


_CODE = re.compile(r"(?:\b(?P<the>the|this|that|my|your|our)\s+)?\b(?P<code>(?=[^\W_]*[^\W\d_])(?=[^\W_]*\d)[^\W_]{3,})\b"
                   r"(?:\s+(?P<noun>[^\W\d_]+?)s?\b)?", re.I)


# Function words a whole-page request may add ("Read me the receipt.", "Is there any text on it?").
_SHORT_WORDS = frozenset("a an i is it me my of on in to us are any anything there has have contain contains s".split())


# "What's the memo about?", "What is it about?", "Say what it is regarding.": a question that
# ends in "about" ("regarding", "concerning", or the verb "concern") asks for the page's topic (a general cue of English, like the auxiliary verb of a yes/no).
# "What product is this about?", "What company does it concern?": "what" before a noun asks
# which one of those, a field, not the page's topic; unless the noun is a topic's own word.
_WHICH_NOUN = (r"(?!\s+(?!(?:topic|subject|matter|issue|point|thing|things|exactly|else|this|that|these|those|it|they|he|she|we|you|i)\b)[^\W\d_]+"
               r"\s+(?:is|was|are|were|does|do|did)\b)")
_TOPIC = re.compile(r"^\s*(?:(?:find|find out|tell me|say)\s+)?what" + _WHICH_NOUN +
                    r"(?!\s+(?:person|people|individual|one)\b)(?:'s|s|\s+is|\s+was|\s+are)?"
                    r"(?!.*\b(?:time|total|amount|price|date|paragraph|line|section)\b)(?:\s+[^\W\d_]+){0,5}"
                    r"\s+(?:about|regarding|concerning)\s*[?.]?\s*$"
                    # "What does the memo concern?", "What matter does it regard?": the verb says it
                    r"|^\s*what" + _WHICH_NOUN + r"(?:\s+[^\W\d_]+){1,5}\s+(?:concerns?|regards?)\s*[?.]?\s*$"
                    # "the Re: line": a letter's subject line, by the convention of its "Re:"
                    r"|^.*\bthe\s+re\s*:?\s*(?:line)?(?:\s+(?:of|on|in)\s+(?:the|this|that|its)\s+[^\W\d_]+)?\s*[?.!]?\s*$"
                    # the topic asked for by its name ("subject", "topic"), of the page or no noun
                    r"|^\s*what(?:'s|\s+is|\s+was)\s+the\s+(?:subject|topic)(?:\s+(?:line\s+)?(?:of|in)\s+"
                    r"(?:the|this|that)\s+[^\W\d_]+)?\s*[?.!]?\s*$", re.I)


# "What does the form say for X?", "What does it say under X?": what the page says *for* a
# thing named after the verb is that thing's entry, never the whole page.
_SAYS_FOR = re.compile(r"\bsays?\s+(?:for|under|next\s+to|beside)\s+(?:(?:the|a|an|this|that)\s+)?([A-Za-z0-9][\w'-]*)", re.I)
# What follows "say for" where it names no entry: a person ("for me", "for us") or a manner of
# saying ("for sure", "for certain", "for now", "for example").
_NOT_AN_ENTRY = frozenset(
    "me us you him her them it myself yourself sure certain certainly now example instance real instant".split()
)


# How to say it, not what to say: "in a few words", "in one sentence", "briefly", "please" at
# the end of a request (a general cue of English, like the request openings of `vocabulary`).
_MANNER = re.compile(r"(?:[\s,]+(?:in\s+(?:a\s+few|one|a\s+couple\s+of|very\s+few)\s+(?:words|sentences)|"
                     r"in\s+(?:a|one)\s+sentence|in\s+a\s+nutshell|in\s+(?:simple|plain)\s+(?:words|terms|english)|"
                     r"briefly|please|thanks|thank\s+you))+(?=\s*[?.!]*\s*$)", re.I)


# Where one sentence of a request ends and the next begins: after a question or exclamation
# mark, or after a full stop that ends a lower-case word and comes before a capital ("My
# boss wants a copy. Which ..."). A stop after a capitalised word ("Dr. Stone's number",
# "Net Tob. Rod Density") or before a lower-case one ("the acct. no", "current bal.
# available") closes an abbreviation and ends nothing.
_SENTENCE_END = re.compile(r"(?:[?!]|(?<![^\W_])[a-z]{2,}[.!])\s+(?=[\"'(]?[A-Z])|[?!]\s+(?=[a-z])")
# How a sentence that asks opens: a question word, an auxiliary that opens a question, a verb
# that orders ("Give me ...", "Summarize this."), a wish ("I need ...", not "I want to reply
# ..."); a statement opens otherwise ("I'm at the bank.", "The driver called me.").
_ASKING = re.compile(
    r"^\W*(?:(?:please|kindly|so|and|now|ok|okay)\W+)*"
    r"(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|could|would|will|"
    r"shall|should|has|have|had|may|give|tell|read|find|show|list|name|quote|summari[sz]e|describe|"
    r"transcribe|extract|get|fetch|look|check|copy|explain|"
    r"i\s+(?:need|want|would\s+like|'d\s+like)(?!\s+to\s+(?!know|see|find|have|get|check)))\b(?!')",
    re.I)
# A pronoun that points back to something an earlier sentence named ("I bought milk. What did
# it cost?"): the asking sentence alone would lose it. "this", "here" and "its" ("per its
# heading") point at the page.
_BACK_REFERENCE = re.compile(r"\b(?:it|they|them|their|those|these|that|there|he|she|him|his|her|one)\b", re.I)
# A sentence that says why, before an order: one the asker says of themselves ("I'm in a
# hurry. Give me the total."); before an order, anything else may be the request itself
# ("Invoice number please. Look at the top right.").
_OF_ONESELF = re.compile(r"^\W*(?:i|i'm|i've|i'd|i'll|im|my|we|we're|we've|our|me)\b", re.I)


# "whos", "whats", "wheres": a question word and "is" typed in a chat box without the apostrophe
# (a general habit of English typing; no other word is spelled so).
_UNAPOSTROPHED = re.compile(r"\b(who|what|where|when|how|that|there)s\b", re.I)


def with_apostrophes(text: str) -> str:
    """`text` with "whos" written "who's", "whats" "what's" (their question words count)."""
    return _UNAPOSTROPHED.sub(lambda match: match.group(1) + "'s", text)


def asked_sentence(request: str) -> str:
    """A request without the sentences before it asks that only say why ("My boss wants a copy.
    Which firm billed us?" → "Which firm billed us?"): from the one sentence that asks, by its
    question mark or by its opening (an order, a wish, a question word), to the end; before an
    order, only sentences the asker says of themselves. A request of one sentence, of several
    that ask, or whose asking sentence points back at an earlier one ("I bought milk. What did
    it cost?") stays whole."""
    request = request.strip()
    cuts = [m.end() for m in _SENTENCE_END.finditer(request)]
    parts = [request[start:end].strip() for start, end in zip([0, *cuts], [*cuts, len(request)])]
    if len(parts) < 2 or any(len(part.split()) < 2 for part in parts):
        return request
    asking = [i for i, part in enumerate(parts) if part.endswith("?") or _ASKING.match(part)]
    if len(asking) != 1 or asking[0] == 0 or _BACK_REFERENCE.search(parts[asking[0]]):
        return request
    if not parts[asking[0]].endswith("?") and not all(_OF_ONESELF.match(part) for part in parts[:asking[0]]):
        return request
    # what follows the asking sentence narrows it ("Where was it bought? The town only.")
    return " ".join(parts[asking[0]:])


# Examples of an open question's answer after it ("With what, red or blue or what?"), never
# the alternatives of a choice ("Is it red, blue or other?" opens with no question word).
_EXAMPLES = re.compile(r",\s*(?:[^\W\d_]+\s+)+or\s+(?:[^\W\d_]+\s+)+or\s+(?:what|something|anything|whatever|other|else)"
                       r"(?:\s+else)?(?=\s*[?.!]*\s*$)", re.I)
_OPEN_QUESTION = re.compile(r"^\W*(?:(?:with|by|using|in|on|for|from|to)\s+)?(?:what|which|who|how|where|when)\b", re.I)


def without_manner(request: str) -> str:
    """The request without a closing phrase that says how to answer ("What's the topic in a
    few words?" → "What's the topic?") or that gives examples of an open question's answer."""
    if _OPEN_QUESTION.match(request):
        request = _EXAMPLES.sub("", request)
    return _MANNER.sub("", request)


# "What is the title?", "What's the heading of this page?": the page's own title, asked with no
# word of which thing's title ("the job title" asks a field).
_TITLE = re.compile(r"^\W*(?:what(?:'s|s|\s+is|\s+was)?|give\s+me|tell\s+me|read(?:\s+me)?)\s+(?:the|its)\s+"
                    r"(?P<word>title|heading|headline)(?:\s+(?:of|on)\s+(?:the|this|that)\s+(?:" + _NOUNS + r"))?\s*[?.!]*\s*$", re.I)


def asks_title(request: str) -> str:
    """The word ("title", "heading", "headline") of a request for the page's own title, or ""."""
    match = _TITLE.match(request)
    return match["word"].lower() if match else ""


def says_for(request: str) -> bool:
    """Whether the request asks what the page says for something it names."""
    match = _SAYS_FOR.search(request)
    return match is not None and match.group(1).lower() not in _NOT_AN_ENTRY


def asks_topic(request: str) -> bool:
    """Whether the request asks what the page is about."""
    return _TOPIC.match(request) is not None


def only_whole_page_words(request: str) -> bool:
    """Whether every word of the request is one a whole-page request uses ("What does the
    note say?", "Read me the receipt."), short ones included ("By?", "... say for re?" name
    a key). A number sign is a word of its own ("What is the page #?" asks a page number)."""
    tokens = re.findall(r"[a-z]+|#", request.lower())
    return bool(tokens) and not ASKS_AMOUNT.search(request) and all(t in WHOLE_PAGE_WORDS or t in _SHORT_WORDS for t in tokens)


@dataclass(frozen=True)
class Intent:
    name: str  # READ, DESCRIBE, QUESTION or YES_NO; for photos also COUNT ... UNSEEN
    similarity: float  # the intent's score: mean similarity to its nearest examples
    example: str  # the nearest example
    scores: tuple[tuple[str, float], ...] = ()  # every intent's score, when compared

    def score(self, name: str) -> float:
        return dict(self.scores).get(name, 0.0)


class IntentRouter:
    """Classifies requests; `embed` maps texts to unit vectors. Read-only after construction."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]):
        self._embed = embed
        examples = {**EXAMPLES, WRITE: WRITE_EXAMPLES}
        self._labels = [name for name, texts in examples.items() for _ in texts]
        self._examples = [example for texts in examples.values() for example in texts]
        self._vectors = embed([unnamed_document(example) for example in self._examples])
    def classify(self, request: str) -> Intent:
        """The intent of `request` (a question or an instruction about an image's text).

        Each intent scores the mean similarity of its `PAGE_NEIGHBOURS` nearest examples (one
        example alone is too easily matched by a shared word). Asking for one piece of
        information is the default: reading the whole text out or describing the page wins
        only when it scores clearly higher (`WHOLE_PAGE_MARGIN`), since "When was this
        letter written?" is about as near "What is written here?" as to any question.
        """
        scores, nearest = nearest_scores(self._vectors @ self._embed([unnamed_document(request)])[0], self._labels,
                                         PAGE_NEIGHBOURS)
        if _YES_NO_OPENING.match(request):  # grammar says it: "Is there a tip?" is no request to read ...
            if scores[READ] - scores[QUESTION] >= TEXT_QUESTION_MARGIN and only_whole_page_words(request):
                # ... "Is there any text?" is ("Is there a tip?" names something else)
                return Intent(READ, scores[READ], self._examples[nearest[READ]], tuple(scores.items()))
            return Intent(YES_NO, 1.0, "", tuple(scores.items()))
        if not COMPOSING.match(request):
            scores.pop(WRITE)
        best = max(scores, key=scores.get)
        # A total asked for is a question, unless the request says it wants a description or a
        # text composed ("Summarize the letter asking for a sum of money.").
        amount = ASKS_AMOUNT.search(request) and not COMPOSING.match(request) and not DESCRIBING.search(request)
        if scores[best] - scores[QUESTION] < WHOLE_PAGE_MARGIN or amount:
            best = QUESTION
        return Intent(best, scores[best], self._examples[nearest[best]], tuple(scores.items()))


def nearest_scores(similarities: np.ndarray, labels: list[str], neighbours: int = NEIGHBOURS
                   ) -> tuple[dict[str, float], dict[str, int]]:
    """Each intent's mean similarity over its `neighbours` nearest examples, and its nearest."""
    scores, nearest = {}, {}
    for name in dict.fromkeys(labels):
        ranked = sorted((i for i, label in enumerate(labels) if label == name), key=lambda i: -similarities[i])
        scores[name] = float(np.mean(similarities[ranked[:neighbours]]))
        nearest[name] = ranked[0]
    return scores, nearest


# How much nearer the requests to read a yes/no question must stand than the questions
# whether a thing is there to ask for the text; measured with all-MiniLM-L6-v2: "Is there any
# text?" 0.29, "Does it have text?" 0.28, "Is any text visible?" 0.16; "Is there a cup on the
# table?" 0.01 (with its objects masked), "Can you see any letters?" -0.03.
TEXT_QUESTION_MARGIN = 0.1
_WHERE = re.compile(r"^\s*where\b", re.I)  # and asks a place this way
_SEE = re.compile(r"^\s*(can|could)\s+(you|u)\s+see\b", re.I)  # a yes/no question, unlike "can you read"


class PhotoIntentRouter:
    """Classifies requests about a photo into READ, DESCRIBE, QUESTION (about its text), COUNT,
    PRESENCE, WHERE, IDENTIFY or UNSEEN. `mask` replaces the words that name an object with a
    stand-in, in the examples and the requests alike, so that the nearest example is the one
    asking the same thing, whatever object it names. Read-only after construction."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], mask: Callable[[str], str],
                 mask_all: Callable[[list[str]], list[str]]):
        """`mask_all` masks many texts in one embedder call (the examples, at start-up)."""
        self._embed, self._mask = embed, mask
        examples = {**EXAMPLES, **{k: v + EXAMPLES.get(k, ()) for k, v in PHOTO_EXAMPLES.items()}}
        self._labels = [name for name, texts in examples.items() for _ in texts]
        self._examples = [text for texts in examples.values() for text in texts]
        self._vectors = embed(mask_all(self._examples))

    def classify(self, request: str) -> Intent:
        """ "how many" counts and "where" asks a place (English says so); a yes/no question
        asks whether something is there unless it is nearer the questions about what the
        models cannot see ("Is the cat asleep?") or about text ("Is there any writing?");
        otherwise the nearest intent wins."""
        if _HOW_MANY.search(request):
            return Intent(COUNT, 1.0, "")
        if _WHERE.match(request):
            return Intent(WHERE, 1.0, "")
        scores, nearest = nearest_scores(self._vectors @ self._embed([self._mask(request)])[0], self._labels)
        if _YES_NO_OPENING.match(request) or _SEE.match(request):
            best = max((PRESENCE, UNSEEN), key=scores.get)
            # "Is there any text?" asks for the text, if the request names no object and is
            # clearly nearer the requests to read than whether a thing is there.
            if self._mask(request) == request and scores[READ] - scores[best] >= TEXT_QUESTION_MARGIN:
                best = READ
        else:
            best = max(scores, key=scores.get)
        return Intent(best, scores[best], self._examples[nearest[best]])
