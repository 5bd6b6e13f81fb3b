"""Sentence embeddings from a pooled + normalized ONNX text encoder (all-MiniLM-L6-v2).

The graph (packaging/minilm.py) takes `input_ids` and `attention_mask` and returns
`sentence_embedding` (batch, dim), already mean-pooled over the mask and L2-normalized, so
right-padding a batch changes nothing but the work done. Texts are never truncated: one
over the limit fails the whole call before any inference.

A dynamically quantized graph (onnxruntime's DynamicQuantizeLinear) scales its activations
by one factor per tensor, taken over every row of the batch: a text's vector would depend on
the texts sent with it (all-MiniLM-L6-v2 int8: cosine 0.988 between "Bill to" alone and in a
batch with a longer question, enough to flip the reader's choice between two keys). Such a
graph embeds one text per run, so that the same text always gets the same vector. The reader
bundle's int8 graph has one activation scale per token instead (packaging/minilm.py) and is
batched like fp32.

`KnownVectors` serves the engine's own fixed texts (example requests, labels) from vectors
stored in the bundle at build time (`write_vectors`, `load_known_vectors`), so that a start
does not embed them again; `truncate=True` is the engine's own matching, never the API's.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import BundleError, ContextLengthExceededError, InvalidRequestError
from .scheduler import in_turn
from .session import ComponentSession
from .tokenizer import Tokenizer

OUTPUT_NAME = "sentence_embedding"
_REQUIRED_INPUTS = ("input_ids", "attention_mask")
_OPTIONAL_INPUTS = ("token_type_ids",)  # BERT exports that keep it: a single segment is all zeros
_REPORTED_TEXTS = 5


class TextEmbedder:
    """Turns texts into unit-length float32 vectors.

    Read-only after construction; `embed` keeps its state in local variables, so one
    instance can serve many threads at once (onnxruntime's `run` is thread-safe).
    """

    def __init__(self, session: ComponentSession, tokenizer: Tokenizer, *, max_length: int,
                 map_runs: Callable[[Callable, list], list] | None = None):
        """Check the session's boundary against what this class feeds and reads.

        Args:
            session: the encoder, inputs `input_ids`, `attention_mask` [, `token_type_ids`],
                output `sentence_embedding` (batch, dim).
            tokenizer: its tokenizer; must know the pad id (manifest `pad_token_id`).
            max_length: most tokens per text, special tokens included (256 for
                all-MiniLM-L6-v2, as sentence-transformers uses).
            map_runs: runs a call's batches, `map_runs(function, batches)` -> results in
                order; the engine passes its `WorkerPool.map`, so that idle workers embed
                some of a long list's batches (a server's budget gives each worker one
                core: one request alone would otherwise leave the others idle). Default:
                one after another on the calling thread.
        Raises:
            BundleError: the graph, tokenizer or limit do not fit together (a limit over
                the graph's `max_seq_len` metadata included).
        """
        missing = [name for name in _REQUIRED_INPUTS if name not in session.inputs]
        unknown = set(session.inputs) - {*_REQUIRED_INPUTS, *_OPTIONAL_INPUTS}
        if missing or unknown or OUTPUT_NAME not in session.outputs:
            raise BundleError(
                f"Component '{session.component}' is not a sentence embedder: it needs inputs "
                f"{list(_REQUIRED_INPUTS)} (optionally {list(_OPTIONAL_INPUTS)}) and output "
                f"'{OUTPUT_NAME}'; it has inputs {sorted(session.inputs)} and outputs {sorted(session.outputs)}."
            )
        if tokenizer.pad_token_id is None:
            raise BundleError(f"Component '{session.component}' needs a pad token id; set pad_token_id in the manifest.")
        if not isinstance(max_length, int) or max_length < 3:
            raise BundleError(f"max_length must be an integer of at least 3 tokens, got {max_length!r}.")
        exported_limit = session.metadata.get("max_seq_len", "")
        if exported_limit.isdigit() and max_length > int(exported_limit):
            raise BundleError(
                f"max_length {max_length} is over the {exported_limit} tokens component "
                f"'{session.component}' was exported for; lower max_seq_len in the manifest."
            )
        dimension = session.outputs[OUTPUT_NAME].shape[-1]
        self._session = session
        self._tokenizer = tokenizer
        self._max_length = max_length
        self._pad_id = tokenizer.pad_token_id
        self._with_token_types = "token_type_ids" in session.inputs
        self._dimension = dimension if isinstance(dimension, int) else None
        self._one_per_run = session.couples_rows
        self._map_runs = map_runs or in_turn

    @property
    def max_length(self) -> int:
        """Most tokens one text may have, special tokens included."""
        return self._max_length

    @property
    def dimension(self) -> int | None:
        """Embedding size when the graph declares it (384 for MiniLM-L6)."""
        return self._dimension

    def embed(self, texts: Sequence[str], batch_size: int = 32, *, truncate: bool = False) -> np.ndarray:
        """Embed `texts`; row i of the result belongs to texts[i].

        Texts are grouped by length before batching (less padding; results do not depend
        on the grouping beyond float rounding). A dynamically quantized graph runs one text at
        a time whatever `batch_size` says (see the module docstring). The batches go through
        `map_runs` (idle engine workers take some).

        Args:
            texts: non-empty list of strings.
            batch_size: most texts per onnxruntime call.
            truncate: embed only the first `max_length` tokens of a longer text (its last,
                special token kept) instead of refusing it. For the engine's own matching
                (a whole page's text compared with "an invoice"); the API never truncates.
        Returns:
            float32 array (len(texts), dim), each row of L2 norm 1.
        Raises:
            InvalidRequestError: empty list, a non-string item or a bad batch size.
            ContextLengthExceededError: a text has more than `max_length` tokens.
        """
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise InvalidRequestError("Texts to embed must be a list of strings.", param="input")
        if len(texts) == 0:
            raise InvalidRequestError("Nothing to embed: the list of texts is empty.", param="input")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidRequestError(f"batch_size must be a positive integer, got {batch_size!r}.")
        encoded = [self._tokenizer.encode(text) for text in texts]
        if truncate:
            limit = self._max_length
            encoded = [ids if len(ids) <= limit else [*ids[: limit - 1], ids[-1]] for ids in encoded]
        self._check_lengths(encoded)
        order = sorted(range(len(encoded)), key=lambda index: len(encoded[index]))
        if self._one_per_run:
            batch_size = 1
        groups = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        runs = self._map_runs(self._run_batch, [[encoded[index] for index in rows] for rows in groups])
        result = np.empty((len(texts), runs[0].shape[1]), dtype=np.float32)
        for rows, vectors in zip(groups, runs):
            result[rows] = vectors
        return result

    def _check_lengths(self, encoded: list[list[int]]) -> None:
        too_long = [(index, len(ids)) for index, ids in enumerate(encoded) if len(ids) > self._max_length]
        if not too_long:
            return
        listed = ", ".join(f"text {index} has {length} tokens" for index, length in too_long[:_REPORTED_TEXTS])
        extra = len(too_long) - _REPORTED_TEXTS
        more = f", and {extra} more text{'s' if extra > 1 else ''} over the limit" if extra > 0 else ""
        raise ContextLengthExceededError(
            max(length for _, length in too_long),
            self._max_length,
            f"{listed}{more}",
            advice="Embeddings are never truncated: split long texts into passages.",
            param="input",
        )

    def _run_batch(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        input_ids = np.full((len(batch), width), self._pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self._with_token_types:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        vectors = self._session.run(feeds, [OUTPUT_NAME])[OUTPUT_NAME]
        return np.asarray(vectors, dtype=np.float32)


# How far a stored vector may be from the one this machine computes for the same text: float
# kernels differ between CPUs in their last bits (~1e-7); a different graph, onnxruntime build or
# quantization moves components by 1e-3 and more.
KNOWN_VECTOR_TOLERANCE = 1e-4
_SPOT_CHECKS = 3  # stored texts embedded again at load to confirm the file fits this machine
VECTORS_FORMAT = 1


class KnownVectors:
    """Embeds texts, taking the vectors of texts it was given ready-made (`known`) instead of
    running the graph for them: the engine's own example requests, embedded when the bundle is
    built (packaging/reader_bundle.py) so that starting a server does not embed hundreds of
    them. A text it does not know is embedded as usual, so a changed example list stays right,
    only slower. Records every text it is asked (`seen`) until `freeze()`, which is how the
    bundle build learns which texts a load embeds (and `expect`, which texts it will embed
    later). Read-only after `freeze()` (then any
    number of threads may call it)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray],
                 known: dict[str, np.ndarray] | None = None):
        self._embed = embed
        self._known = dict(known or {})
        self._seen: dict[str, None] = {}
        self._recording = True

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if self._recording:
            self._seen.update(dict.fromkeys(texts))
        missing = [text for text in dict.fromkeys(texts) if text not in self._known]
        if len(missing) == len(texts):
            return self._embed(list(texts))
        fresh = dict(zip(missing, self._embed(missing))) if missing else {}
        return np.stack([fresh[text] if text in fresh else self._known[text] for text in texts])

    def knows(self, text: str) -> bool:
        """Whether `text`'s vector was given ready-made."""
        return text in self._known

    @property
    def seen(self) -> tuple[str, ...]:
        """The texts asked (or `expect`ed) between construction and `freeze()`, in first-asked order."""
        return tuple(self._seen)

    def expect(self, texts: Sequence[str]) -> None:
        """Records `texts` as if asked, without embedding them: texts the engine embeds later,
        on first use, whose vectors a bundle should still carry ready-made."""
        if self._recording:
            self._seen.update(dict.fromkeys(texts))

    def freeze(self) -> None:
        self._recording = False


def write_vectors(path: str | os.PathLike, texts: Sequence[str], vectors: np.ndarray, embedder: "VectorSource",
                  computed_on: str) -> None:
    """Store `vectors` (row i for texts[i]) of the embedder `embedder` describes, as JSON with
    the float32 rows in base64 (the same input gives the same bytes)."""
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    data = {"format": VECTORS_FORMAT, **embedder.header(), "computed_on": computed_on,
            "dimension": int(vectors.shape[1]), "texts": list(texts),
            "vectors": base64.b64encode(vectors.tobytes()).decode("ascii")}
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class VectorSource:
    """What a stored vector depends on besides its text: the graph, the tokenizer and the
    length limit (texts over it are cut), by their sha256 and value."""

    embedder_sha256: str
    tokenizer_sha256: str
    max_length: int

    def header(self) -> dict:
        return {"embedder_sha256": self.embedder_sha256, "tokenizer_sha256": self.tokenizer_sha256,
                "max_length": self.max_length}


def read_vectors(path: str | os.PathLike, embedder: VectorSource, embed: Callable[[list[str]], np.ndarray]
                 ) -> tuple[dict[str, np.ndarray], str]:
    """The texts and vectors stored at `path` if they were made by `embedder` and this machine
    computes the same vectors (`_SPOT_CHECKS` stored texts embedded again, each within
    `KNOWN_VECTOR_TOLERANCE`); else nothing. Returns (text -> vector, why when nothing)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != VECTORS_FORMAT:
            return {}, f"{path} is in format {data.get('format')!r}, this build reads {VECTORS_FORMAT}"
        if {key: data.get(key) for key in embedder.header()} != embedder.header():
            return {}, f"{path} was made with another embedder file, tokenizer or length limit"
        texts = data["texts"]
        vectors = np.frombuffer(base64.b64decode(data["vectors"], validate=True), dtype="<f4")
        vectors = vectors.reshape(-1, int(data["dimension"])).astype(np.float32)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return {}, f"{path} could not be read ({error})"
    if len(texts) != len(vectors) or not texts or not all(isinstance(text, str) for text in texts):
        return {}, f"{path} holds {len(texts)} texts and {len(vectors)} vectors"
    if not np.isfinite(vectors).all():
        return {}, f"{path} holds vectors that are not finite numbers"
    picks = sorted({round(i * (len(texts) - 1) / max(1, _SPOT_CHECKS - 1)) for i in range(_SPOT_CHECKS)})
    ours = embed([texts[i] for i in picks])
    if ours.shape[1] != vectors.shape[1]:
        return {}, f"{path} holds vectors of {vectors.shape[1]} dimensions, the embedder makes {ours.shape[1]}"
    drift = float(np.max(np.abs(ours - vectors[picks])))
    if not drift <= KNOWN_VECTOR_TOLERANCE:
        return {}, (f"the vectors in {path} differ from those computed here by up to {drift:.1e} (more than "
                    f"{KNOWN_VECTOR_TOLERANCE:.0e}: another CPU kind or onnxruntime build)")
    return dict(zip(texts, vectors)), ""


def load_known_vectors(paths: Sequence[Path], embedder: VectorSource, embed: Callable[[list[str]], np.ndarray]
                       ) -> tuple[dict[str, np.ndarray], str]:
    """The first of `paths` (a bundle's files, one per embedder variant) that `read_vectors`
    accepts for `embedder`; else nothing and why none was."""
    reasons = []
    for path in paths:
        known, why = read_vectors(path, embedder, embed)
        if known:
            return known, ""
        reasons.append(why)
    return {}, "; ".join(reasons)
