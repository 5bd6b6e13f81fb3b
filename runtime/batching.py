"""Continuous batching for a causal decoder: streams join and leave between steps.

One `ContinuousBatcher` per language model owns a decode thread. A request's `stream()` hands
it a sequence (prompt ids, decoding settings, its own detokenizer) and reads that sequence's
tokens from a queue; the thread, between two batched steps, runs the prompts of sequences
that joined (each alone: its prefill), then one step for every running sequence at once,
each row fed its own last token. Sequences that finish, or whose reader went away
(`close()` on the stream: a client that disconnected), leave the batch before the next step.

The batch's KV cache has one of two layouts, by graph:
- `LeftPaddedCache` (exported graphs, `CachedDecoder`): one array per past input, (batch,
  heads, length, head dim), left padded: row i holds its own `lengths[i]` positions at the
  right end, the attention mask hides the padding, and position ids are each row's own
  length. Each step returns a new, longer cache (the graph's `present` outputs).
- `SharedBufferCache` (fused GroupQueryAttention graphs, `FusedDecoder`): one preallocated
  buffer per past input, bound as both past and present, rows left aligned: row i holds
  positions 0..lengths[i]-1 and its attention mask is ones over those plus the new token;
  GQA reads each row's length (and rotary position) from its mask and writes the new
  keys/values in place. A joining prompt is run straight into its row, from where it
  stops agreeing with the last prompt run: the keys/values of the part they share (the
  chat template and system prompt, 24 of a short request's ~38 tokens) are copied over.
Either way a row's logits equal those of the same sequence decoded alone (within float
rounding where the matmuls have another shape). Token choice is `decoding.TokenStream`,
the same code the one-request path runs.

Only decoders that can tell rows apart (attention mask, and position ids unless the graph
derives them from the mask), have no cross-attention and compute rows independently
(`supports`: not the dynamically quantized int8 graphs) are batched that way.
At most `max_batch` sequences run at once; later ones wait for a free row in order.

A decoder that cannot tell rows of different lengths apart, or that attends to inputs of
its own per request (Optimum's ViT-GPT2 captioner decoders: no attention mask or position
ids, cross-attention over each request's image), batches in lockstep instead
(`lockstep=True`, `LockstepCache`, `supports_lockstep`): a batch forms only while no row
runs, from the waiting prompts of the first one's length, and its rows take every step
together, so each has as many positions as the others at every step. Rows leave as they
finish; no row joins until the batch is empty, and a prompt that arrives meanwhile waits
for the next batch (the running batch's decoding), which is what makes the next batch more
than one row; a batch about to start also waits up to `LOCKSTEP_LINGER_S` for sequences
announced by `expect()` (a request still encoding its image). For prompts that all have one
length (a captioner's start token), not for chat prompts: the reader's language model never
batches this way.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence

import numpy as np

from .cached_decoder import CachedDecoder
from .decoding import StreamEvent, TextDecoder, TokenStream
from .fused_decoder import FusedDecoder, allocate_kv, round_capacity
from .params import GenerationParams
from .scheduler import waiting
from .session import graph_couples_rows

logger = logging.getLogger(__name__)

# Graphs whose rows are computed independently. Dynamic int8 quantization (the bundles' int8
# LM and embedder) scales activations per tensor, so a row's numbers would depend on the other
# rows in the batch: a greedy reply would change with what else the server is doing. Weight-only
# graphs (MatMulNBits: the int4 LM, an imported captioner's 8-bit step) quantize activations per
# block of one row at accuracy level 4, so rows stay independent (tests/golden/test_lm_batching.py
# checks equal replies); an integer graph counts as one when it quantizes no activations per
# tensor (runtime.session.graph_couples_rows).
ROW_INDEPENDENT_PRECISIONS = ("fp32", "fp16", "bf16", "int4")
# The longest prompt prefix whose keys/values `SharedBufferCache` keeps for the next prompt
# (SmolLM2-135M: 46 KB a position, so 12 MB at most).
PREFIX_MAX_POSITIONS = 256


def rows_independent(precision: str | None, path) -> bool:
    """Whether a graph of `precision` at `path` computes each row of a batch on its own: every
    float precision, and an integer graph that quantizes no activations per tensor."""
    return precision in ROW_INDEPENDENT_PRECISIONS or not graph_couples_rows(path)


def _rows_independent(session) -> bool:
    return session.precision in ROW_INDEPENDENT_PRECISIONS or not session.couples_rows


def supports(decoder: CachedDecoder | FusedDecoder) -> bool:
    """True when `decoder` can be batched here: masks (and positions, unless a fused graph
    derives them from the mask) are inputs, every past input is self-attention (a
    captioner's cross-attention keys come from its image), and its precision is known to keep
    rows independent (`ROW_INDEPENDENT_PRECISIONS`)."""
    if isinstance(decoder, FusedDecoder):
        return _rows_independent(decoder.session)
    needed = {"attention_mask", "position_ids"}
    sessions = (decoder.first, decoder.with_past)
    return (all(needed <= set(session.inputs) for session in sessions)
            and all(_rows_independent(session) for session in sessions)
            and not any(".encoder." in name for name in decoder.past_names))


def supports_lockstep(decoder: CachedDecoder | FusedDecoder) -> bool:
    """True when `decoder` can be batched in lockstep (`LockstepCache`): an exported graph
    (`CachedDecoder`) whose precision keeps rows independent."""
    if isinstance(decoder, FusedDecoder):
        return False
    return all(_rows_independent(session) for session in (decoder.first, decoder.with_past))


class LeftPaddedCache:
    """The batch's KV cache for an exported graph (`CachedDecoder`): see the module docstring.

    `prefill` runs a prompt alone and holds its cache aside; `admit` appends it as the last
    row. `step` feeds one token per row; `keep` drops rows. Only the decode thread calls it.
    """

    def __init__(self, decoder: CachedDecoder):
        self._decoder = decoder
        self._past: dict[str, np.ndarray] = {}
        self._pending: dict[str, np.ndarray] = {}

    lockstep = False

    def prefill(self, prompt: np.ndarray, row: int, static: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Logits (1, length, vocab) of `prompt` (1, length), run alone, for row `row`
        (`static`: none; this layout has no per-row inputs)."""
        logits, self._pending = self._decoder.run(prompt, None, np.ones_like(prompt),
                                                  np.arange(prompt.shape[1])[None])
        return logits

    def admit(self, lengths: Sequence[int]) -> None:
        """Add the prefilled prompt as the last row; `lengths` are every row's, its own last."""
        width = max(lengths)
        past = {}
        for name, value in self._pending.items():
            row = _left_pad(value, width)
            old = self._past.get(name)
            past[name] = row if old is None else np.concatenate([_left_pad(old, width), row], axis=0)
        self._past, self._pending = past, {}

    def step(self, feed: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        """Logits (rows, 1, vocab) for one token per row; row i's cache holds `lengths[i]`."""
        width = max(lengths)
        mask = np.zeros((len(lengths), width + 1), dtype=np.int64)
        for row, length in enumerate(lengths):
            mask[row, width - length:] = 1
        positions = np.asarray([[length] for length in lengths], dtype=np.int64)
        logits, self._past = self._decoder.run(feed, self._past, mask, positions)
        return logits

    def keep(self, rows: Sequence[int], lengths: Sequence[int]) -> None:
        """Keep only `rows` (ascending), whose lengths are `lengths`."""
        if not rows:
            self.clear()
            return
        trim = next(iter(self._past.values())).shape[2] - max(lengths)  # padding in every row left
        index = np.asarray(rows)
        self._past = {name: value[index, :, trim:] for name, value in self._past.items()}

    def clear(self) -> None:
        self._past, self._pending = {}, {}


class SharedBufferCache:
    """The batch's KV cache for a fused GQA graph (`FusedDecoder`): see the module docstring.

    Same methods as `LeftPaddedCache`. The buffers grow (rows up to the batch limit, length
    doubling, in `round_capacity` steps), shrink when rows leave and the rest fit in a
    quarter, and are dropped by `clear`.

    `prefill` reuses the keys/values of the longest prefix its prompt shares with the last
    prompt it ran (up to `PREFIX_MAX_POSITIONS` of it are kept), where the graph gives the
    prompt's last logits bit for bit whether it is run in one call or from a past, so that a
    reply stays equal to the same prompt decoded alone. That holds on some CPUs' kernels and
    not on others (`reuse_exact`, checked on the first prompt that could reuse a prefix). A
    prompt's prefill costs about one batch-1 step per token (every matmul is linear in its
    rows): it is what a joining stream makes the running ones wait for.
    """

    def __init__(self, decoder: FusedDecoder, max_batch: int):
        self._decoder = decoder
        self._max_batch = max_batch
        self._arrays: dict[str, np.ndarray] = {}
        self._lengths: list[int] = []  # of the rows whose cache is kept (admitted)
        self._prefix_ids = np.zeros(0, dtype=np.int64)  # the last prompt run (its first positions)
        self._prefix_kv: dict[str, np.ndarray] = {}  # their keys/values, (heads, positions, dim) per past input
        self._bound: dict[tuple, tuple[dict, dict]] = {}  # rows -> their views of the buffers, bindings
        #: Prompt positions prefilled and reused so far (for tests and metrics).
        self.prefill_positions = {"run": 0, "reused": 0}
        #: Whether a prompt run from a remembered prefix gives the logits it gives run whole
        #: (None until the first prompt that could reuse one; `prefill` checks it then).
        self.reuse_exact: bool | None = None

    lockstep = False

    def prefill(self, prompt: np.ndarray, row: int, static: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Logits (1, positions run, vocab) of `prompt` (1, length) put in row `row`: the last
        is the prompt's last position (`static`: none; this layout has no per-row inputs)."""
        length = prompt.shape[1]
        self._reserve(row + 1, length + 1)
        mask, rows = np.ones((1, length), dtype=np.int64), slice(row, row + 1)
        reused = self._reuse_prefix(prompt[0], row) if self.reuse_exact is not False else 0
        logits = self._run(prompt[:, reused:], mask, rows)
        if reused and self.reuse_exact is None:
            # Checked once, on the first prompt that could reuse a prefix: run whole, is the
            # prompt's last position the same bit for bit? A reply must not depend on the
            # request before it (a seeded sample changed with it when one row was run from the
            # past): where it differs, every prompt is run whole.
            whole = self._run(prompt, mask, rows)
            self.reuse_exact = bool(np.array_equal(whole[0, -1], logits[0, -1]))
            logits, reused = whole, 0
            if not self.reuse_exact:
                logger.info("Prompt prefixes are run again for each request: this CPU's kernels give "
                            "their last position other logits when run from a past.")
        if self.reuse_exact is not False:
            self._remember_prefix(prompt[0], row)
        self.prefill_positions["run"] += length - reused
        self.prefill_positions["reused"] += reused
        return logits

    def _reuse_prefix(self, ids: np.ndarray, row: int) -> int:
        """Copy the remembered keys/values of the prefix `ids` shares with the last prompt into
        `row`; how many positions. At least two positions are left to run: one row alone takes
        another kernel path than several (the prompt's last logits 0.38 apart on an AMD EPYC's
        int4 graph), several give every row as run whole (`reuse_exact` checks that)."""
        limit = min(len(ids) - 2, len(self._prefix_ids))
        if limit <= 0:
            return 0
        differs = np.flatnonzero(ids[:limit] != self._prefix_ids[:limit])
        shared = int(differs[0]) if len(differs) else limit
        if shared > 0:
            for name, array in self._arrays.items():
                array[row, :, :shared] = self._prefix_kv[name][:, :shared]
        return shared

    def _remember_prefix(self, ids: np.ndarray, row: int) -> None:
        kept = min(len(ids), PREFIX_MAX_POSITIONS)
        self._prefix_ids = ids[:kept].copy()
        self._prefix_kv = {name: array[row, :, :kept].copy() for name, array in self._arrays.items()}

    def admit(self, lengths: Sequence[int]) -> None:
        self._lengths = list(lengths)

    def step(self, feed: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        rows = len(lengths)
        width = max(lengths) + 1
        self._reserve(rows, width)
        mask = (np.arange(width)[None, :] <= np.asarray(lengths)[:, None]).astype(np.int64)
        logits = self._run(feed, mask, slice(0, rows))
        self._lengths = [length + 1 for length in lengths]
        return logits

    def keep(self, rows: Sequence[int], lengths: Sequence[int]) -> None:
        for target, source in enumerate(rows):  # ascending, so a row is read before it is overwritten
            if target != source:
                for array in self._arrays.values():
                    array[target, :, :lengths[target]] = array[source, :, :lengths[target]]
        self._lengths = list(lengths)
        if not rows:
            self._arrays, self._bound = {}, {}  # the remembered prefix stays: the next request is likely to share it
            return
        # Shrink once a quarter would do (not a half: rows leave and join all the time under load,
        # and each reallocation copies every kept row's cache); one long reply need not hold 8 rows.
        current = next(iter(self._arrays.values()))
        needed = round_capacity(max(lengths) + 1)
        have_rows, have_length = current.shape[0], current.shape[2]
        new_rows = len(rows) if 4 * len(rows) <= have_rows else have_rows
        new_length = needed if 4 * needed <= have_length else have_length
        if (new_rows, new_length) != (have_rows, have_length):
            self._reallocate(new_rows, new_length)

    def clear(self) -> None:
        self._arrays, self._lengths, self._bound = {}, [], {}
        self._prefix_ids, self._prefix_kv = self._prefix_ids[:0], {}

    def _reserve(self, rows: int, length: int) -> None:
        """Buffers with room for `rows` rows of `length` positions, the kept rows copied over."""
        current = next(iter(self._arrays.values()), None)
        have_rows, have_length = (current.shape[0], current.shape[2]) if current is not None else (0, 0)
        if rows <= have_rows and length <= have_length:
            return
        new_rows = have_rows if rows <= have_rows else max(rows, min(self._max_batch, 2 * have_rows))
        new_length = have_length if length <= have_length else round_capacity(max(length, 2 * have_length))
        self._reallocate(new_rows, new_length)

    def _reallocate(self, rows: int, length: int) -> None:
        arrays = allocate_kv(self._decoder, rows, length)
        if self._lengths:
            rows, kept = len(self._lengths), max(self._lengths)
            for name, array in arrays.items():
                array[:rows, :, :kept] = self._arrays[name][:rows, :, :kept]
        self._arrays, self._bound = arrays, {}

    def _run(self, token_ids: np.ndarray, mask: np.ndarray, rows: slice) -> np.ndarray:
        # A slice of the first axis of a C-ordered array is contiguous: a view onnxruntime writes
        # into. The views and their bindings are kept until the buffers are reallocated.
        key = (rows.start, rows.stop)
        if key not in self._bound:
            self._bound[key] = ({name: array[rows] for name, array in self._arrays.items()}, {})
        views, bindings = self._bound[key]
        return self._decoder.run(token_ids, mask, views, bindings)


class LockstepCache:
    """The batch's KV cache for rows that run in lockstep (see the module docstring): one
    array per past input, (batch, heads, length, head dim), every row as long as the others,
    and the rows' own inputs (`static`: an image's encoder states, its cross-attention keys
    and values; batch first, one row each) stacked beside them. `prefill_rows` starts a batch,
    then `step`, `keep` and `clear` as `LeftPaddedCache`'s; no padding and no mask: a graph
    without an attention mask attends to every position it is given, and without position
    ids it counts them from the past."""

    lockstep = True

    def __init__(self, decoder: CachedDecoder):
        self._decoder = decoder
        self._past: dict[str, np.ndarray] = {}
        self._static: dict[str, np.ndarray] = {}

    def prefill_rows(self, prompts: np.ndarray, statics: Sequence[dict[str, np.ndarray]]) -> np.ndarray:
        """Start the batch: logits (rows, length, vocab) of `prompts` (rows, length), each
        row with its own inputs (`statics`, one row each), run in one call; the cache then
        holds every row."""
        if self._past:
            raise ValueError("a lockstep batch starts empty")
        static = {name: np.concatenate([own[name] for own in statics], axis=0) for name in statics[0]}
        mask = np.ones_like(prompts)
        positions = np.repeat(np.arange(prompts.shape[1])[None], prompts.shape[0], axis=0)
        logits, present = self._decoder.run(prompts, None, mask, positions, static)
        self._past = self._decoder.carry(present, None, prompts.shape[0])
        self._static = static
        return logits

    def step(self, feed: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        rows, length = len(lengths), lengths[0]
        positions = np.full((rows, 1), length, dtype=np.int64)
        logits, present = self._decoder.run(feed, self._past, np.ones((rows, length + 1), dtype=np.int64), positions,
                                            self._static)
        self._past = self._decoder.carry(present, self._past, rows)
        return logits

    def keep(self, rows: Sequence[int], lengths: Sequence[int]) -> None:
        if not rows:
            self.clear()
            return
        index = np.asarray(rows)
        self._past = {name: value[index] for name, value in self._past.items()}
        self._static = {name: value[index] for name, value in self._static.items()}

    def clear(self) -> None:
        self._past, self._static = {}, {}


def batch_cache(decoder: CachedDecoder | FusedDecoder, max_batch: int,
                lockstep: bool = False) -> LeftPaddedCache | SharedBufferCache | LockstepCache:
    """The KV layout `decoder`'s graph batches with."""
    if lockstep:
        return LockstepCache(decoder)
    if isinstance(decoder, FusedDecoder):
        return SharedBufferCache(decoder, max_batch)
    return LeftPaddedCache(decoder)


class _Sequence:
    """One request inside the batcher: its token chooser, its outbox and whether it still runs."""

    def __init__(self, tokens: TokenStream, static: dict[str, np.ndarray] | None = None):
        self.tokens = tokens
        self.static = static  # its own inputs to every step (lockstep batches)
        self.events: queue.SimpleQueue = queue.SimpleQueue()  # StreamEvent, BaseException, or _DONE
        self.cancelled = False
        self.length = 0  # positions in its KV cache
        self.last = 0  # the token to feed next


_DONE = object()
IDLE_EXIT_S = 5.0  # the decode thread ends after this long with nothing to do
# The longest a lockstep batch waits to start for sequences still preparing their inputs
# (`ContinuousBatcher.expect`): about one ViT-B/16 encoder run with the cores shared.
LOCKSTEP_LINGER_S = 0.3


class Arrival:
    """A sequence on its way to a lockstep batcher: its request is still preparing the inputs
    (encoding the image). A batch about to start waits a little for it (`LOCKSTEP_LINGER_S`).
    `stream(arrival=...)` or `cancel()` ends it; both may be called, in any order."""

    def __init__(self, batcher: "ContinuousBatcher"):
        self._batcher = batcher
        self.pending = True  # read and written under the batcher's lock

    def cancel(self) -> None:
        with self._batcher._wake:  # noqa: SLF001 - its own batcher's lock
            self._batcher._arrived(self)  # noqa: SLF001


def _deliver(sequences, error: BaseException) -> None:
    """End each sequence's stream with `error` (its traceback and its cause's dropped: their
    frames would keep the step's inputs, the whole KV cache, alive)."""
    error = error.with_traceback(None)
    if error.__cause__ is not None:
        error.__cause__ = error.__cause__.with_traceback(None)
    for sequence in sequences:
        sequence.events.put(error)
        sequence.events.put(_DONE)


class ContinuousBatcher:
    """Decodes every running sequence of one decoder in a single batched step.

    Thread-safe: `stream()` may be called from any number of threads. The decode thread
    starts with the first stream and waits (no CPU) while nothing runs.
    """

    def __init__(self, decoder: CachedDecoder | FusedDecoder, max_batch: int, lockstep: bool = False):
        """`lockstep`: batch rows in lockstep (`LockstepCache`), for decoders `supports` refuses
        and `supports_lockstep` accepts, whose prompts are of one length."""
        if lockstep and not supports_lockstep(decoder):
            raise ValueError("this decoder graph cannot be batched in lockstep (an exported graph of a "
                             "row-independent precision is needed)")
        if not lockstep and not supports(decoder):
            raise ValueError("this decoder graph cannot be batched (it needs an attention mask and position ids, "
                             "or a fused GQA graph; no cross-attention; a row-independent precision)")
        self.max_batch = max(1, max_batch)
        self._cache = batch_cache(decoder, self.max_batch, lockstep)
        self._waiting: deque[_Sequence] = deque()
        self._running: list[_Sequence] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._rows = 0  # sequences running or being admitted (read under `_wake` by stream())
        self._coming = 0  # `Arrival`s pending (under `_wake`)
        #: Rows per batched step so far (for tests and metrics): a step of k rows adds 1 at k.
        self.step_sizes: dict[int, int] = {}

    # --- the caller's side -------------------------------------------------------------

    def expect(self) -> Arrival:
        """Say that a sequence is on its way (lockstep): see `Arrival`."""
        with self._wake:
            self._coming += 1
        return Arrival(self)

    def _arrived(self, arrival: Arrival) -> None:
        # under `_wake`
        if arrival.pending:
            arrival.pending = False
            self._coming -= 1
            self._wake.notify()

    def stream(self, prompt_ids: Sequence[int], params: GenerationParams, eos_token_ids: Sequence[int],
               detokenizer: TextDecoder | None = None,
               static: dict[str, np.ndarray] | None = None,
               arrival: Arrival | None = None) -> Iterator[StreamEvent] | None:
        """Like `decoding.generate_stream`, decoded in the shared batch; None when every row is
        taken (the caller decodes alone instead: waiting for a row would hold the caller's
        thread, an engine worker, which other streams and requests need). In lockstep a
        sequence waits for the next batch unless a whole batch waits already. `static`: the
        sequence's own inputs to every step (one row each, batch first; lockstep only);
        `arrival`: what `expect()` gave for it.
        Invalid requests raise `InvalidRequestError` here, before anything is queued."""
        if static and not self._cache.lockstep:
            raise ValueError("per-sequence inputs need a lockstep batcher")
        sequence = _Sequence(TokenStream(prompt_ids, params, eos_token_ids, detokenizer), static)
        if params.max_new_tokens < 1:
            if arrival is not None:
                arrival.cancel()
            return iter(())
        with self._wake:
            if arrival is not None:
                self._arrived(arrival)
            if self._closed:
                raise RuntimeError("the batcher is closed")
            taken = 0 if self._cache.lockstep else self._rows  # a lockstep batch frees its rows at once
            if taken + len(self._waiting) >= self.max_batch:
                return None
            self._waiting.append(sequence)
            if self._thread is None:
                thread = threading.Thread(target=self._loop, name="wan-decode", daemon=True)
                try:
                    thread.start()
                except BaseException:
                    self._waiting.remove(sequence)
                    raise
                self._thread = thread
            self._wake.notify()
        return self._read(sequence)

    @staticmethod
    def _read(sequence: _Sequence) -> Iterator[StreamEvent]:
        try:
            while True:
                try:
                    item = sequence.events.get_nowait()
                except queue.Empty:
                    with waiting():  # an engine worker's share of the cores is free meanwhile
                        item = sequence.events.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item  # one object for every reader of a failed step (exceptions rarely copy)
                yield item
        finally:
            sequence.cancelled = True  # finished already, or the reader stopped: leave the batch

    def close(self) -> None:
        """Stop the decode thread; running and waiting streams end with an error."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    # --- the decode thread -------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            try:
                if not self._cycle():
                    break
            except BaseException as error:  # noqa: BLE001 - a bug here must not leave readers waiting forever
                _deliver(self._running, error)
                self._running = []
                self._cache.clear()
                with self._wake:
                    self._rows = 0
        if self._closed:
            _deliver([*self._running, *self._waiting],
                     RuntimeError("The model was unloaded while this request was generating."))

    def _cycle(self) -> bool:
        """Admit waiting sequences, run one batched step. False when the thread should end:
        closed, or idle for `IDLE_EXIT_S` (it ends so that a dropped model can be freed;
        the next stream starts a new one)."""
        joining: list[_Sequence] = []
        try:
            self._leave_cancelled()
            with self._wake:
                self._rows = len(self._running)
                while not self._closed and not self._waiting and not self._running:
                    if not self._wake.wait(IDLE_EXIT_S) and not self._waiting:
                        self._thread = None
                        return False
                if self._closed:
                    return False
                if not self._cache.lockstep:
                    while self._waiting and len(self._running) + len(joining) < self.max_batch:
                        joining.append(self._waiting.popleft())
                elif not self._running:
                    self._linger()
                    if self._closed:  # unloaded while it waited: nothing more runs
                        return False
                    joining = self._next_lockstep_batch()
                self._rows = len(self._running) + len(joining)
            if self._cache.lockstep and joining:
                self._join_lockstep([sequence for sequence in joining if not sequence.cancelled])
                joining = []
            while joining:
                sequence = joining[0]
                if not sequence.cancelled:
                    self._join(sequence)
                joining.pop(0)
            if self._running:
                self._step()
            return True
        except BaseException as error:
            _deliver(joining, error)
            raise

    def _linger(self) -> None:
        """Before a lockstep batch starts (under `_wake`): wait up to `LOCKSTEP_LINGER_S` while
        sequences are on their way and the batch has room (they would wait a whole batch
        otherwise)."""
        deadline = time.monotonic() + LOCKSTEP_LINGER_S
        while self._coming > 0 and len(self._waiting) < self.max_batch and not self._closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(left)

    def _next_lockstep_batch(self) -> list[_Sequence]:
        """The waiting sequences whose prompts are as long as the first's (up to `max_batch`,
        in order), taken out of the queue; the others keep their places."""
        width = self._waiting[0].tokens.prompt.shape[1]
        batch, others = [], deque()
        while self._waiting:
            sequence = self._waiting.popleft()
            fits = len(batch) < self.max_batch and sequence.tokens.prompt.shape[1] == width
            (batch if fits else others).append(sequence)
        self._waiting = others
        return batch

    def _join_lockstep(self, batch: list[_Sequence]) -> None:
        """Run a lockstep batch's prompts (of one length) in one call, emit their first tokens
        and keep the rows that go on. A failed call fails them all; the next batch goes on."""
        if not batch:
            return
        try:
            logits = self._cache.prefill_rows(np.concatenate([s.tokens.prompt for s in batch]),
                                              [s.static or {} for s in batch])
        except Exception as error:  # noqa: BLE001 - these requests get it
            self._cache.clear()
            _deliver(batch, error)
            return
        for sequence in batch:
            sequence.length = sequence.tokens.prompt.shape[1]
        going = self._advance(batch, logits)
        self._running = batch
        if len(going) < len(batch):
            self._keep_rows(going)

    def _join(self, sequence: _Sequence) -> None:
        """Run the sequence's prompt alone, emit its first token, and add its cache as a row.
        Any failure goes to this sequence alone; the batch goes on."""
        try:
            prompt = sequence.tokens.prompt
            logits = self._cache.prefill(prompt, len(self._running), sequence.static)
            event = sequence.tokens.advance(logits[0, -1])
            sequence.length = prompt.shape[1]
            if not self._emit(sequence, event):
                return
            self._cache.admit([*(s.length for s in self._running), sequence.length])
        except Exception as error:  # noqa: BLE001 - the request gets it, the batch goes on
            _deliver([sequence], error)
            return
        self._running.append(sequence)

    def _step(self) -> None:
        running = self._running
        feed = np.asarray([[s.last] for s in running], dtype=np.int64)
        try:
            logits = self._cache.step(feed, [s.length for s in running])
        except Exception as error:  # noqa: BLE001 - every running request gets it
            _deliver(running, error)
            self._running = []
            self._cache.clear()
            return
        self.step_sizes[len(running)] = self.step_sizes.get(len(running), 0) + 1
        for sequence in running:
            sequence.length += 1
        keep = self._advance(running, logits)
        if len(keep) < len(running):
            self._keep_rows(keep)

    def _advance(self, sequences: list[_Sequence], logits: np.ndarray) -> list[int]:
        """Each row's next token from its last logits, handed to its reader; the rows that go
        on. A failure choosing a row's token goes to that row alone."""
        going = []
        for row, sequence in enumerate(sequences):
            try:
                event = sequence.tokens.advance(logits[row, -1])
            except Exception as error:  # noqa: BLE001
                _deliver([sequence], error)
                continue
            if self._emit(sequence, event):
                going.append(row)
        return going

    def _emit(self, sequence: _Sequence, event: StreamEvent) -> bool:
        """Hand `event` to the reader; True while the sequence goes on."""
        sequence.events.put(event)
        sequence.last = event.token_id
        if event.finish_reason is not None:
            # Free the row before the reader can see the end: a client that sends its next
            # request at once must find it free (the row count was only lowered at the next
            # cycle, so that request decoded alone, beside the batch, on the same cores).
            with self._wake:
                self._rows -= 1
            sequence.events.put(_DONE)
            return False
        return not sequence.cancelled

    def _leave_cancelled(self) -> None:
        keep = [row for row, sequence in enumerate(self._running) if not sequence.cancelled]
        if len(keep) < len(self._running):
            self._keep_rows(keep)

    def _keep_rows(self, rows: list[int]) -> None:
        self._running = [self._running[row] for row in rows]
        self._cache.keep(rows, [s.length for s in self._running])


def _left_pad(value: np.ndarray, width: int) -> np.ndarray:
    """`value` (batch, heads, length, dim) with zero columns added on the left up to `width`."""
    missing = width - value.shape[2]
    if missing <= 0:
        return value
    pad = np.zeros((value.shape[0], value.shape[1], missing, value.shape[3]), dtype=value.dtype)
    return np.concatenate([pad, value], axis=2)
