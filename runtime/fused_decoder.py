"""A fused GroupQueryAttention decoder (packaging/fused_lm.py) as a `StepModel`, with GQA
buffer sharing: one preallocated KV buffer per layer is bound as both the past input and the
present output, so onnxruntime appends each step's keys/values in place instead of copying
the whole cache into a new `present` tensor every step (what `CachedDecoder` does).

Same interface as `runtime.cached_decoder.CachedDecoder` (`bind({})` gives `start`, `step`,
`step_all`, `reorder`), so the reader's `LanguageModel` can use either.

The graph takes `input_ids`, `attention_mask` (ones over past + new tokens: GQA derives the
sequence lengths and rotary positions from it) and `past_key_values.<i>.key/value`
[batch, kv_heads, capacity, head_dim]; it has no `position_ids`. Buffers grow by doubling.
A state stays valid while no step branched from an earlier state has overwritten the part
of the buffer it reads (`score_answers` branches from one prefix several times: that is
fine; going back to a longer state after such a branch is refused, never silently wrong).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnxruntime as ort

from .errors import InferenceError
from .session import ComponentSession

_PAST = "past_key_values."
_PRESENT = "present."
CAPACITY_STEP = 256  # buffer lengths are multiples of this
# The graph's metadata that says its past inputs and present outputs may be one buffer
# (packaging/fused_lm.py writes it): a positive sign, since many exported decoders also
# take an attention mask and no position ids, and those must go to `CachedDecoder`.
KV_CACHE_KEY = "wan.kv_cache"
KV_CACHE_SHARED = "gqa-shared-buffer"


@dataclass
class KVBuffers:
    """One request's KV buffers (batch first) and where each step began writing."""

    arrays: dict[str, np.ndarray]
    capacity: int
    write_starts: list[int] = field(default_factory=list)
    bindings: dict = field(default_factory=dict)  # `FusedDecoder.run`'s, per onnxruntime session


@dataclass
class FusedState:
    """Per-request state: `past_length` positions of `buffers` are this sequence's cache."""

    batch_size: int
    buffers: KVBuffers | None = None
    past_length: int = 0
    version: int = 0  # len(buffers.write_starts) when this state was made
    calls: list[tuple[int, int]] = field(default_factory=list)  # (tokens fed, past length) per step


def is_fused_graph(session: ComponentSession) -> bool:
    """True for a fused GroupQueryAttention graph marked as such (`KV_CACHE_KEY`):
    `FusedDecoder` runs it; every other decoder goes to `CachedDecoder`."""
    return session.metadata.get(KV_CACHE_KEY) == KV_CACHE_SHARED


class FusedDecoder:
    """StepModel factory over a fused GQA decoder session. Read-only after construction."""

    def __init__(self, session: ComponentSession):
        self.session = session
        self.past_names = [n for n in session.inputs if n.startswith(_PAST)]
        missing = {"input_ids", "attention_mask"} - set(session.inputs)
        if not self.past_names or missing or "position_ids" in session.inputs:
            raise InferenceError(session.component, "not a fused GQA decoder graph (needs input_ids, attention_mask "
                                 "and past_key_values.* inputs, no position_ids)")
        shape = session.inputs[self.past_names[0]].shape
        if not (isinstance(shape[1], int) and isinstance(shape[3], int)):
            raise InferenceError(session.component, f"past inputs need fixed head axes, got {shape}")
        self.kv_heads, self.head_dim = shape[1], shape[3]
        self.present_names = {name: _PRESENT + name[len(_PAST):] for name in self.past_names}
        logits = session.outputs.get("logits")
        vocab = logits.shape[-1] if logits is not None else None
        self.vocab = vocab if isinstance(vocab, int) else None  # known: logits land in an array made here
        self.logits_dtype = logits.dtype if logits is not None else np.float32
        if session.provider != "CPUExecutionProvider":
            # The buffers are host memory bound as both input and output: on a GPU provider
            # onnxruntime would copy them over and back, and the in-place append would be lost.
            raise InferenceError(session.component, f"the fused decoder shares host-memory KV buffers and runs on the "
                                 f"CPU only, not on {session.provider}. Use --precision fp32 or fp16 on this device.")

    def run(self, token_ids: np.ndarray, attention_mask: np.ndarray, kv: dict[str, np.ndarray],
            bindings: dict | None = None) -> np.ndarray:
        """One graph call: `kv` maps each past input to a (rows, heads, capacity, dim) array that
        is bound as both that input and its present output, so the new keys/values land in it.
        Returns the logits (rows, fed tokens, vocab).

        `bindings`, a dict kept with the same `kv` arrays from call to call, keeps their
        bindings: binding the 60 buffers again cost about 0.5 ms a step, 5% of a token. A
        binding holds each call's inputs too, so one `bindings` dict serves one thread at a
        time (a state's steps run one after another; the batcher steps on one thread)."""
        # IOBinding needs the onnxruntime session itself (ComponentSession.run cannot bind
        # buffers): the one `picked` gives, the wide twin when this run is alone in flight.
        with self.session.picked() as session:
            bound = bindings.get(id(session)) if bindings is not None else None
            if bound is None:
                bound = self._bind_kv(session, kv)
                if bindings is not None:
                    bindings[id(session)] = bound
            binding = bound[0]
            binding.bind_cpu_input("input_ids", np.ascontiguousarray(token_ids, dtype=np.int64))
            binding.bind_cpu_input("attention_mask", np.ascontiguousarray(attention_mask, dtype=np.int64))
            logits = None
            if self.vocab is not None:
                # A fresh array each call, written in place: reading it back through
                # get_outputs() wraps all 61 outputs (0.2 ms a token, 3% of one). The OrtValue
                # does not own the array: `logits` keeps it alive through the run, and the
                # binding's pointer to it is replaced before the next run reads it.
                logits = np.empty((*token_ids.shape, self.vocab), dtype=self.logits_dtype)
                binding.bind_ortvalue_output("logits", ort.OrtValue.ortvalue_from_numpy(logits))
            else:
                binding.bind_output("logits")  # stays the first output
            try:
                session.run_with_iobinding(binding)
            except Exception as error:  # onnxruntime raises several unrelated types
                raise InferenceError(self.session.component, str(error)) from error
            return logits if logits is not None else binding.get_outputs()[0].numpy()

    def _bind_kv(self, session: ort.InferenceSession, kv: dict[str, np.ndarray]) -> tuple:
        """A binding of `session` with `kv` bound in place, and the values that keep it valid."""
        binding = session.io_binding()
        binding.bind_output("logits")  # first: get_outputs() lists outputs in binding order
        values = []
        for name in self.past_names:
            array = kv[name]
            if not array.flags.c_contiguous:  # onnxruntime would copy it, and the appended keys would be lost
                raise InferenceError(self.session.component, f"KV buffer for {name} is not contiguous")
            value = ort.OrtValue.ortvalue_from_numpy(array)  # shares the array's memory
            binding.bind_ortvalue_input(name, value)
            binding.bind_ortvalue_output(self.present_names[name], value)
            values.append(value)
        return binding, values

    def bind(self, static_feeds: dict[str, np.ndarray]) -> "BoundFusedDecoder":
        if static_feeds:
            raise InferenceError(self.session.component, f"a decoder-only graph takes no static inputs "
                                 f"({sorted(static_feeds)})")
        return BoundFusedDecoder(self)


class BoundFusedDecoder:
    """Implements `StepModel` (and `step_all`, as `runtime.cached_decoder.BoundDecoder`)."""

    def __init__(self, decoder: FusedDecoder):
        self.decoder = decoder

    def start(self, batch_size: int) -> FusedState:
        return FusedState(batch_size=batch_size)

    def reorder(self, state: FusedState, rows: np.ndarray) -> FusedState:
        if state.buffers is None:
            return FusedState(len(rows), None, 0, 0, state.calls)
        length = state.past_length
        buffers = self._allocate(len(rows), state.buffers.capacity)
        for name, array in state.buffers.arrays.items():
            buffers.arrays[name][:, :, :length] = array[rows, :, :length]
        return FusedState(len(rows), buffers, length, 0, state.calls)

    def step(self, token_ids: np.ndarray, state: FusedState) -> tuple[np.ndarray, FusedState]:
        logits, state = self.step_all(token_ids, state)
        return logits[:, -1, :], state

    def step_all(self, token_ids: np.ndarray, state: FusedState) -> tuple[np.ndarray, FusedState]:
        """Like `step`, but return the logits of every fed position (batch, n_new, vocab)."""
        decoder = self.decoder
        batch, count = token_ids.shape
        if batch != state.batch_size:
            raise InferenceError(decoder.session.component, f"{batch} rows fed to a state of {state.batch_size}")
        past, total = state.past_length, state.past_length + count
        buffers = self._buffers_for(state, total)
        logits = decoder.run(token_ids, np.ones((batch, total), dtype=np.int64), buffers.arrays, buffers.bindings)
        buffers.write_starts.append(past)
        state.calls.append((count, past))
        return logits, FusedState(batch, buffers, total, len(buffers.write_starts), state.calls)

    def _buffers_for(self, state: FusedState, total: int) -> KVBuffers:
        """The state's buffers, checked still intact, grown (copied) when `total` exceeds them."""
        buffers = state.buffers
        if buffers is not None and any(start < state.past_length for start in buffers.write_starts[state.version:]):
            raise InferenceError(self.decoder.session.component,
                                 "decoder state reused after a step from an earlier state overwrote its cache")
        if buffers is not None and total <= buffers.capacity:
            return buffers
        capacity = round_capacity(max(total, 2 * buffers.capacity if buffers else 0))
        grown = self._allocate(state.batch_size, capacity)
        if buffers is not None:
            for name, array in buffers.arrays.items():
                grown.arrays[name][:, :, :state.past_length] = array[:, :, :state.past_length]
        return grown

    def _allocate(self, batch: int, capacity: int) -> KVBuffers:
        return KVBuffers(allocate_kv(self.decoder, batch, capacity), capacity)


def round_capacity(length: int) -> int:
    """`length` positions rounded up to a buffer length (a multiple of `CAPACITY_STEP`)."""
    return -(-length // CAPACITY_STEP) * CAPACITY_STEP


def allocate_kv(decoder: FusedDecoder, rows: int, capacity: int) -> dict[str, np.ndarray]:
    """Zeroed KV buffers, one per past input: (rows, kv heads, capacity, head dim)."""
    return {name: np.zeros((rows, decoder.kv_heads, capacity, decoder.head_dim), dtype=np.float32)
            for name in decoder.past_names}
