"""Words of questions and labels, in one canonical form so that they can be compared.

"Order no?" and the label "OrderNumber:" share their words once both are
lowercased, stemmed and split where the recognizer dropped the spaces. No synonyms: a
question that names a key in other words ("born" for "Date of birth") is matched by the
sentence encoder (`answering.Answerer`). Pure Python.
"""

from __future__ import annotations

import re
from functools import lru_cache

STOP = frozenset(
    "a an the is are was were be been of for to in on at by with this that these those what which who whom whose "
    "when where how much many does do did please tell me give show find state listed written mentioned printed "
    "given shown used made it its as and or our your their his her can could per there here line details "
    "person applicant s say says said have has had should would shall might must i my us being".split()
)
# The verbs and pronouns of a request that fetches something ("Look up ...", "I'd like to know ...", "can you"): no
# field words in a question, but words of labels ("Check Out Time", "Pick Up") all the same.
REQUEST_WORDS = frozenset("look up get out know like want let whether d you u we them they".split())
# A request's opening that only says how to answer: "Could you check ...", "Can you read me
# ...", "I need ...", "Pull out ...", "Please extract ...". What follows is the question.
_REQUEST_OPENING = re.compile(
    r"^\W*(?:(?:please|pls|kindly|hey|hi|ok|okay)\W+)*"
    r"(?:(?:could|can|would|will)\s+(?:you|u)\s+(?:please\s+)?(?:mind\s+)?|i\s+(?:need|want|would\s+like|'d\s+like)\s+(?:you\s+)?(?:to\s+)?)?"
    r"(?:(?:check|read|tell|find|give|show|pull|get|extract|grab|fetch|confirm|see|look|reading(?=\s+(?:off|out)\b))"
    r"(?:\s+(?:me|us|off|out|up|for|on|at))*\s+)?"
    r"(?=(?:the|a|an|this|that|these|which|who|whom|whose|what|whether|if|how|when|where|my|our|their|his|her|its)\b)",
    re.I,
)
# Words that name the expected type rather than the field; a label need not repeat them.
# So do the words for where a value stands in a table ("In the Week 4 column ...").
GENERIC = frozenset(
    "amount value number name date sum figure time address email phone price cost code column row".split()
)
# Words that say which of several values of a type is meant ("due date", "date of birth");
# a question says them in its own words too ("born", "expires": `Answerer._qualifiers`).
QUALIFIERS = frozenset("due birth expiry delivery order signer".split())
# How documents write "number": "No.", "Nr.", "#".
_NUMBER_SIGNS = frozenset({"no", "nr", "num", "#"})
# "of the letter", "on this form": the document itself (what a page calls itself: a ticket, a
# fax), not a field.
_PAGES = (r"form|receipt|invoice|bill|letter|list|document|page|table|image|slip|sheet|memo|note|correspondence|"
          r"statement|fax|ticket|boarding pass|pass|voucher|quote|quotation|booking|reservation|certificate|payslip")
_DOCUMENT_PHRASE = re.compile(r"\b(on|in|of|off|from)\s+(the|this)\s+(" + _PAGES + r")\b", re.I)
# "When was the invoice issued?", "How was this invoice paid?", "What does the form say for
# X?", "where the letter is to be sent", "which order the bill refers to": the document as the
# subject of a verb, not a field of it ("the invoice number" keeps its "invoice").
_DOCUMENT_SUBJECT = re.compile(
    r"\b(the|this)\s+(" + _PAGES + r"|application)\b"
    r"(?=\s*(\?|$|\w+ed\b|paid\b|written\b|sent\b|from\b|to\b|says?\b|shows?\b|reads?\b|gives?\b|is\b|was\b|will\b|"
    r"refers?\b|mentions?\b|states?\b|contains?\b|includes?\b|cites?\b|quotes?\b|costs?\b|c[oa]mes?\b))", re.I
)
# A clause of adding a part to an amount, after "before" or "without": "(they) put (the) tax
# on", "adding VAT" (the part follows).
ADDING = r"(?:(?:(?:they|you|we|it|he|she)\s+)?(?:add|put|charg|apply|appli|includ)[a-z]*\s+(?:(?:the|any)\s+)?(?=[^\W\d_]{2,}))?"
# "subtotal before tax", "the pre-tax amount", "before they add the tax", "the balance after
# payments": the excluded part is not a field the question asks for. Not a place in the text:
# "the name that is after Dear", "what comes after ..." name what follows.
_EXCLUSION = re.compile(r"\b(?:(?:before|excluding|including|without)\s+" + ADDING + r"\w+(?:\s+on\b)?"
                        r"|(?<!\bis )(?<!\bcomes )(?<!\bwritten )(?<!\bprinted )(?<!\bstands )(?<!\bappears )"
                        r"after\s+" + ADDING + r"\w+(?:\s+on\b)?"
                        r"|pre[\s-]?(?:tax|vat|gst|hst)\b)", re.I)
_VOCABULARY = STOP | GENERIC | QUALIFIERS | _NUMBER_SIGNS | frozenset(
    "full city occupation subject reference invoice form tax id vat total subtotal due updated recipient signer "
    "title cashier unit quantity item description".split()
)


# The words this module knows, the documents' names among them ("invoice", which the sentence
# encoder's vocabulary lacks): words a typing slip is put right to (`spelling.corrected`).
KNOWN_WORDS = frozenset(re.findall(r"[a-z]+", _PAGES)) | frozenset(w for w in _VOCABULARY if w.isalpha())


# A run of letters longer than any label is not split into words (the search recurses once
# per piece: a 5000-letter "word" reached Python's recursion limit).
_MAX_SPLIT = 64


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def canonical(word: str) -> str:
    word = word.lower()
    return "number" if word in _NUMBER_SIGNS else _stem(word)


def _tokens(text: str) -> list[str]:
    # OCR reads "I" as "1" inside words ("VAT1D"); letters around a digit say which it is.
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)  # "VictorWeber"; "Dateofbirth" is split later
    text = re.sub(r"(?<=[A-Za-z])1(?=[A-Za-z])", "i", text)
    return re.findall(r"[a-z0-9#]+(?:-[a-z]+)?", text.lower())


def without_request(question: str) -> str:
    """The question without an opening that asks for it politely or as an order: after
    "Could you check", "I need" or "Pull out" comes what is asked ("... the VAT number")."""
    match = _REQUEST_OPENING.match(question)
    return question[match.end():] if match and match.end() else question


def document_named(text: str) -> str | None:
    """The document the text names as its own subject, "of this form", "on the invoice":
    "form", "invoice" (None when it names none)."""
    found = _DOCUMENT_PHRASE.search(text)
    return found.group(3).lower() if found else None


def document_subject(text: str) -> str | None:
    """The document the text makes the subject of its verb ("the invoice was issued ...",
    "this letter is for ..."): "invoice", "letter" (None when it names none so)."""
    found = _DOCUMENT_SUBJECT.search(text)
    return found.group(2).lower() if found else None


def without_document_phrases(text: str) -> str:
    """`text` without the phrases that name the document itself ("on the page", "of this form")."""
    return _DOCUMENT_PHRASE.sub(" ", text)


_I_AM = re.compile(r"\bam\s+i\b|\bi\s+am\b", re.I)
# What a person or a thing "is called" is its name.
_HOW_OLD = re.compile(r"\bhow old\b", re.I)
_CALLED = re.compile(r"\b(?:is|are|was|were)\b(?=.*\bcalled\s*[?.!]*\s*$)(.*)\bcalled(?=\s*[?.!]*\s*$)", re.I)


# "How is called the shop?", "the shop, how it is named?": English as other languages put it
# ("comment s'appelle", "wie heißt", "cómo se llama") asks a name.
_HOW_CALLED = re.compile(r"^\W*how\s+(?:is|are|was|were)\s+(?:called|named)\b"
                         r"|\bhow\s+(?:it|he|she|they)\s+(?:is|are|was|were)\s+(?:called|named)(?=\s*[?.!]*\s*$)", re.I)


def name_asked_as_called(question: str) -> str:
    """The question with "how is called ..." said as "what is the name of ..." (`_HOW_CALLED`)."""
    return _HOW_CALLED.sub(lambda m: "what is the name of" if m.group().lstrip(" \t?.!,").lower().startswith(
        ("how is", "how are", "how was", "how were")) else "what is its name", question)


def question_words(question: str) -> tuple[list[str], list[str]]:
    """(focus words, owner words): owners are the "store" of "store's", they may match a label
    but need not ("What is the vendor's tax ID?" is answered by "VAT ID")."""
    text = _EXCLUSION.sub(" ", _DOCUMENT_SUBJECT.sub(" ", without_document_phrases(without_request(question))))
    text = _I_AM.sub(" i ", text)  # the verb, not a key's "AM" ("the AM shift")
    text = _CALLED.sub(lambda m: f"is{m.group(1)}name", text)
    text = _HOW_OLD.sub("what age", text)  # "How old is she?" asks an age
    owners = {canonical(m) for m in re.findall(r"([a-z]+)'s\b", text.lower())}
    words = [canonical(w) for w in _tokens(text) if w not in STOP and w not in REQUEST_WORDS]
    focus = [w for w in dict.fromkeys(words) if w not in owners and w not in STOP]
    return focus, sorted(owners - STOP)


def label_words(label: str, hints: list[str] | tuple[str, ...] = ()) -> list[str]:
    """A label's canonical content words; run-together words are split on known words."""
    known = _VOCABULARY | frozenset(hints)
    words = []
    for token in _tokens(label):
        pieces = _split(token, known) if 5 <= len(token) <= _MAX_SPLIT and canonical(token) not in known else None
        for piece in pieces or [token]:
            if piece not in STOP and not piece.isdigit():
                words.append(canonical(piece))
    return list(dict.fromkeys(words))


def _split(token: str, known: frozenset[str]) -> list[str] | None:
    @lru_cache(maxsize=None)
    def best(start: int) -> tuple[str, ...] | None:
        if start == len(token):
            return ()
        options = []
        for end in range(len(token), start, -1):
            piece = token[start:end]
            if piece in known or _stem(piece) in known or (end - start >= 4 and canonical(piece) in known):
                rest = best(end)
                if rest is not None:
                    options.append((piece, *rest))
        return min(options, key=len) if options else None

    found = best(0)
    return list(found) if found else None


def qualifiers(text: str) -> frozenset[str]:
    """The qualifier words in a question or label ("due" in "When is payment due?", "Duedate");
    a deadline is when something is due ("Application deadline", "Return by")."""
    found = frozenset(label_words(text)) & QUALIFIERS
    if _BIRTH_KEY.match(text):
        found |= {"birth"}
    return found | {"due"} if _DEADLINE_KEY.search(text) else found


_DEADLINE_KEY = re.compile(r"\bdeadline\b|^[^\W\d_]+\s+by\s*:?\s*$", re.I)
# "DOB", "D.O.B.": the date of birth, as forms abbreviate it
_BIRTH_KEY = re.compile(r"^\W*d\.?\s?o\.?\s?b\b\.?\W*$", re.I)


# An abbreviation a person types for a key's words: three to five letters ("DOB"). Two
# letters spell too many pairs of a page's words to say which ("ID" and "Issue Date").
_ABBREVIATION = re.compile(r"\b[A-Za-z]{3,5}\b")


def spell_out(question: str, keys, words: frozenset[str] = frozenset()) -> str:
    """The question with each abbreviation that is the initials of a run of one key's words
    written out as those words ("DOB?" over "Date of birth:" → "date of birth?", "DOA" over
    "Date of admission"). An abbreviation counts when it is no
    word of the page's keys and is typed in capitals or is no English word (`words`: the
    sentence encoder's whole words); one that spells several different runs is left as it is."""
    words_of = {key: re.findall(r"[^\W\d_]+", key) for key in keys if key}
    known = {word.lower() for words in words_of.values() for word in words}
    for match in reversed(list(_ABBREVIATION.finditer(question))):
        token = match.group()
        if token.lower() in known or not (token.isupper() or (words and token.lower() not in words)):
            continue
        runs = set()
        for key_words in words_of.values():
            for start in range(len(key_words)):
                run = key_words[start:start + len(token)]
                if len(run) == len(token) and "".join(w[0] for w in run).lower() == token.lower() \
                        and any(len(w) > 1 for w in run):
                    runs.add(" ".join(run).lower())
        if len(runs) == 1:
            question = question[:match.start()] + runs.pop() + question[match.end():]
            continue
        shortened = _shortened_from(token, known, words)
        if shortened is not None:
            question = question[:match.start()] + shortened + question[match.end():]
    return _abbreviated(question, words_of, words)


def _shortened_from(token: str, known: set[str], words: frozenset[str]) -> str | None:
    """The one word of the page's keys that `token` shortens by leaving letters out ("amt"
    over "Amount", "subj" over "Subject", "addr" over "Address"): a token in lower case that
    is no English word (`words`, without which nothing is spelled out), whose letters stand
    in the key word's order, the first the same: the word's opening ("subj"), or its first and
    last letters and some between of a word twice as long ("amt", "qty"), not a typo ("teh"
    is no "telephone") nor a tax's initials ("gst" is no "guest", "vat" no "validity"). None
    when no key word fits, or several.
    The key word must be one of `words` too: one the vocabulary lacks is read in pieces
    ("Invoice" as "in voice"), which the word spelled out would not match."""
    short = token.lower()
    if not words or short in words or not token.islower() or short in STOP:
        return None
    fits = {word for word in known if len(word) > len(short) and word in words and shortens(short, word)
            and (word.startswith(short) or (word[-1] == short[-1] and len(word) >= 2 * len(short)))}
    return fits.pop() if len(fits) == 1 else None


def shortens(short: str, word: str) -> bool:
    """Whether `short` is `word` with letters left out: the first the same, the rest in order."""
    rest = iter(word)
    return short[:1] == word[:1] and all(letter in rest for letter in short)


def _abbreviated(question: str, words_of: dict, words: frozenset[str]) -> str:
    """The question with a run of its words that a key abbreviates by their initials followed
    by that key ("date of birth" over "DOB:" → "date of birth DOB"; the words still say what
    type is asked): a key of one word of three capitals
    or more that is no English word (`words`), and a run of two words of three letters or
    more; a question that holds the run twice is left as it is."""
    for key_words in words_of.values():
        if len(key_words) != 1 or len(key_words[0]) < 3 or not key_words[0].isupper() \
                or (words and key_words[0].lower() in words):
            continue
        initials = key_words[0].lower()
        pattern = r"\b" + r"\W+".join(rf"{letter}[^\W\d_]*" for letter in initials) + r"\b"
        runs = [m for m in re.finditer(pattern, question, re.I)
                if sum(len(w) > 2 for w in re.findall(r"[^\W\d_]+", m.group())) >= 2]
        if len(runs) == 1:
            question = question[:runs[0].end()] + " " + key_words[0] + question[runs[0].end():]
    return question
