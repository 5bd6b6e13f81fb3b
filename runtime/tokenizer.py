"""Tokenizer wrapper over the `tokenizers` library and an incremental detokenizer."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import tokenizers

from .errors import BundleError, InvalidRequestError

# Prompt tokens kept as context before the first generated token, so that decoders which
# treat the first token specially (SentencePiece's leading-space strip, WordPiece's "##"
# joins) see the same neighbourhood as a full decode would. vLLM uses the same number.
_CONTEXT_TOKENS = 5

_REPLACEMENT_CHAR = "\ufffd"


class Tokenizer:
    """Read-only text <-> id conversion for one bundle.

    Truncation and padding configured in the file are switched off: length limits are
    checked by the engine and reported as errors, never applied silently.
    """

    def __init__(
        self,
        backend: tokenizers.Tokenizer,
        *,
        eos_token_ids: Sequence[int] = (),
        bos_token_id: int | None = None,
        pad_token_id: int | None = None,
    ):
        """Wrap a loaded `tokenizers.Tokenizer`. Special ids come from the bundle manifest."""
        backend.no_truncation()
        backend.no_padding()
        self._backend = backend
        self._vocab_size = backend.get_vocab_size(with_added_tokens=True)
        for name, value in (("eos", tuple(eos_token_ids)), ("bos", bos_token_id), ("pad", pad_token_id)):
            ids = value if isinstance(value, tuple) else (() if value is None else (value,))
            if any(not 0 <= i < self._vocab_size for i in ids):
                raise BundleError(f"The {name} token id {ids} is outside the tokenizer's "
                                  f"vocabulary of {self._vocab_size}; fix the bundle manifest.")
        self._eos_token_ids = tuple(int(i) for i in eos_token_ids)
        self._bos_token_id = bos_token_id
        self._pad_token_id = pad_token_id
        self._special_ids = frozenset(
            i for i, token in backend.get_added_tokens_decoder().items() if token.special
        )
        self._whole_words: frozenset[str] | None = None

    @classmethod
    def from_file(cls, path: str, **special_ids) -> "Tokenizer":
        """Load a `tokenizer.json`; keyword arguments as in the constructor.

        Raises:
            BundleError: the file is missing or not a valid tokenizer.
        """
        try:
            backend = tokenizers.Tokenizer.from_file(str(path))
        except Exception as error:  # the library raises bare Exception for every failure
            raise BundleError(f"Cannot load tokenizer from {path}: {error}. "
                              "Re-import the bundle or restore the file.") from error
        return cls(backend, **special_ids)

    def whole_words(self) -> frozenset[str]:
        """The vocabulary's entries that are whole lowercase words of two letters or more
        (a WordPiece vocabulary's non-"##" entries; BPE entries carry their space mark and
        are not returned)."""
        if self._whole_words is None:  # 30,000 entries scanned: 60 ms, so once
            self._whole_words = frozenset(token for token in self._backend.get_vocab() if len(token) >= 2
                                          and token.isalpha() and token.islower() and token.isascii())
        return self._whole_words

    def word_ranks(self) -> dict[str, int]:
        """The vocabulary's whole words of two ASCII letters or more as written, with their ids:
        a WordPiece vocabulary's entries but "##" pieces (`whole_words`), a byte-level or
        metaspace BPE vocabulary's entries that start a word (after "Ġ" or "▁", the mark taken
        off; a cased one keeps names capitalised). Vocabularies list their commonest words
        first ("the" 1996, "letter" 3661, "lester" 14131 in MiniLM's): the lower id is the
        commoner word."""
        found = {}
        pieces = isinstance(self._backend.model, tokenizers.models.WordPiece)  # else a word starts after a mark
        for token, index in self._backend.get_vocab().items():
            word = token[1:] if token[:1] in ("Ġ", "▁") else token if pieces and not token.startswith("##") else ""
            if len(word) >= 2 and word.isascii() and word.isalpha():
                found[word] = min(index, found.get(word, index))
        return found

    @property
    def vocab_size(self) -> int:
        """Number of ids, added tokens included."""
        return self._vocab_size

    @property
    def eos_token_ids(self) -> tuple[int, ...]:
        return self._eos_token_ids

    @property
    def bos_token_id(self) -> int | None:
        return self._bos_token_id

    @property
    def pad_token_id(self) -> int | None:
        return self._pad_token_id

    @property
    def special_token_ids(self) -> frozenset[int]:
        """Ids of added tokens marked special (skipped by `decode` by default)."""
        return self._special_ids

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """Return the ids of `text`; `add_special_tokens` applies the post-processor (BOS etc.)."""
        if not isinstance(text, str):
            raise InvalidRequestError(f"Text to tokenize must be a string, not {type(text).__name__}.")
        return list(self._backend.encode(text, add_special_tokens=add_special_tokens).ids)

    def count_up_to(self, texts: Sequence[str], limit: int) -> tuple[int, bool]:
        """Tokens of `texts` (no special tokens added), counted exactly only while they can fit.

        Returns `(tokens, exact)`. Tokenizing megabytes takes seconds with the GIL held, so
        a floor comes first: every whitespace-separated word is at least one token, and,
        where the vocabulary bounds it, every token covers at most its longest entry's
        characters (a 200,000-character text without spaces is thousands of tokens). A
        floor over `limit` is returned as it is (`exact` False: the true count is at least
        that); otherwise the texts are tokenized, stopping once the count passes `limit`.
        """
        floor = sum(max(len(text.split()), self._char_floor(text)) for text in texts)
        if floor > limit:
            return floor, False
        tokens = 0
        for index, text in enumerate(texts):
            tokens += len(self._backend.encode(text, add_special_tokens=False).ids)
            if tokens > limit:
                rest = texts[index + 1:]
                return tokens + sum(max(len(t.split()), self._char_floor(t)) for t in rest), not rest
        return tokens, True

    @functools.cached_property
    def _max_chars_per_token(self) -> int | None:
        # computed on first use, not at load: it scans the whole vocabulary (30-60 ms), which
        # a start-up would pay before /health says ok (issue 13, cold start)
        return _max_chars_per_token(self._backend)

    def _char_floor(self, text: str) -> int:
        chars = self._max_chars_per_token
        return 0 if chars is None else math.ceil(len(text) / chars)

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        """Return the text of `ids`. Raises InvalidRequestError for ids outside the vocabulary."""
        ids = self._checked_ids(ids)
        return self._backend.decode(ids, skip_special_tokens=skip_special_tokens)

    def id_to_token(self, token_id: int) -> str:
        """The vocabulary entry of `token_id` (e.g. "Ġhello" for byte-level BPE)."""
        token = self._backend.id_to_token(self._checked_ids([token_id])[0])
        return "" if token is None else token

    def token_to_id(self, token: str) -> int | None:
        return self._backend.token_to_id(token)

    def _checked_ids(self, ids: Sequence[int]) -> list[int]:
        try:
            checked = [int(i) for i in ids]
        except (TypeError, ValueError) as error:
            raise InvalidRequestError(f"Token ids must be integers: {error}.") from error
        bad = [i for i in checked if not 0 <= i < self._vocab_size]
        if bad:
            raise InvalidRequestError(
                f"Token ids {bad[:5]} are outside the vocabulary (0..{self._vocab_size - 1})."
            )
        return checked


def _max_chars_per_token(backend: tokenizers.Tokenizer) -> int | None:
    """The most input characters one token can cover, or None where nothing bounds it.

    A BPE vocabulary bounds it by its longest entry (byte-level entries spell one byte per
    character, and a character is at least one byte), added tokens included, as long as
    unknown characters are not fused into one token and no normalizer shrinks the text
    first (NFKC composes, accent stripping drops marks). WordPiece maps a whole over-long
    word to one [UNK]: no bound there.
    """
    model = backend.model
    if not isinstance(model, tokenizers.models.BPE) or backend.normalizer is not None:
        return None
    if model.unk_token is not None and model.fuse_unk:
        return None
    return max((len(entry) for entry in backend.get_vocab(with_added_tokens=True)), default=1) or 1


class IncrementalDetokenizer:
    """Turns a stream of token ids into text deltas, one push per token.

    Uses vLLM's prefix/read offsets: each push decodes only a window made of the tokens
    shown by the previous delta (context) plus those not shown yet, and emits what the
    new tokens add. While the window's text ends in U+FFFD, a multi-byte
    character is still incomplete (byte-level BPE splits them across tokens), so nothing is
    emitted until a later token completes it. Deltas are never re-emitted; `finish`
    releases a tail that never completed. The work per token is bounded by the window, not
    the sequence length.
    """

    def __init__(self, tokenizer: Tokenizer, skip_special_tokens: bool = True,
                 context_ids: Sequence[int] = ()):
        """`context_ids` (e.g. the prompt's last ids) are decoded for context, never emitted."""
        self._tokenizer = tokenizer
        self._skip_special = skip_special_tokens
        self._ids = [int(i) for i in context_ids][-_CONTEXT_TOKENS:]
        self._read_offset = len(self._ids)  # ids before it are shown (or context)
        self._pieces: list[str] = []

    @property
    def text(self) -> str:
        """All text emitted so far."""
        return "".join(self._pieces)

    def push(self, token_id: int) -> str:
        """Add one token id; return the newly complete text ("" if it is held back)."""
        self._ids.append(int(token_id))
        shown = self._decode(self._ids[: self._read_offset])
        current = self._decode(self._ids)
        if len(current) <= len(shown) or current.endswith(_REPLACEMENT_CHAR):
            return ""
        return self._emit(current[len(shown) :])

    def finish(self) -> str:
        """Return text held back at the end (an incomplete character decodes as U+FFFD)."""
        shown = self._decode(self._ids[: self._read_offset])
        current = self._decode(self._ids)
        return self._emit(current[len(shown) :]) if len(current) > len(shown) else ""

    def _emit(self, delta: str) -> str:
        # The tokens just shown become the next window's context and older ones are
        # dropped, so windows start where an earlier decode ended on a whole character.
        del self._ids[: self._read_offset]
        self._read_offset = len(self._ids)
        self._pieces.append(delta)
        return delta

    def _decode(self, ids: list[int]) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=self._skip_special)
