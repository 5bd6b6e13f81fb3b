"""A decoder graph with a KV cache, seen by the decoding algorithms as a `StepModel`.

Works with the layouts Optimum and transformers.js export:
- merged: one graph (`decoder_model_merged`) with a boolean `use_cache_branch` input;
- single: one decoder-only graph whose past inputs accept length 0 on the first step;
- split: `decoder_model` for the first step, `decoder_with_past_model` afterwards.
Past tensors are `past_key_values.<layer>.<...>` inputs matched to `present.<layer>.<...>`
outputs. Cross-attention keys/values (`.encoder.`) come out of the first step only and are
reused; self-attention keys/values grow by the tokens fed each step, so every step costs
the same and generation is linear in its length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InferenceError
from .session import ComponentSession

PAST_PREFIX = "past_key_values."
_PRESENT = "present."


@dataclass
class DecoderState:
    """Per-request cache. `past` maps past-input names to arrays (batch first)."""

    batch_size: int
    past: dict[str, np.ndarray] = field(default_factory=dict)
    past_length: int = 0
    calls: list[tuple[int, int]] = field(default_factory=list)  # (tokens fed, past length) per step


class CachedDecoder:
    """StepModel over ONNX decoder sessions. Read-only after construction.

    `static_feeds` are per-request inputs repeated on every step (e.g. the encoder's
    hidden states, batch first); they are passed to `start` through `bind`.
    """

    def __init__(self, first: ComponentSession, with_past: ComponentSession | None = None):
        self.first = first
        self.with_past = with_past or first
        self.past_names = [n for n in self.with_past.inputs if n.startswith(PAST_PREFIX)]
        if not self.past_names:
            raise InferenceError(self.with_past.component, "decoder graph has no past_key_values inputs (no KV cache)")

    def bind(self, static_feeds: dict[str, np.ndarray]) -> "BoundDecoder":
        return BoundDecoder(self, static_feeds)

    def run(self, token_ids: np.ndarray, past: dict[str, np.ndarray] | None, attention_mask: np.ndarray,
            position_ids: np.ndarray, static: dict[str, np.ndarray] | None = None
            ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """One graph call: the first session with empty pasts when `past` is None, else the
        with-past one. Inputs a graph does not take are left out. Returns the logits and the
        present outputs by their past-input names (those the graph returns)."""
        first = past is None
        session = self.first if first else self.with_past
        feeds = {"input_ids": token_ids.astype(np.int64), "attention_mask": attention_mask,
                 "position_ids": position_ids, **(static or {})}
        if "use_cache_branch" in session.inputs:
            feeds["use_cache_branch"] = np.array([not first])
        if any(n.startswith(PAST_PREFIX) for n in session.inputs):
            feeds.update(empty_past(session, token_ids.shape[0]) if first else past)
        outputs = session.run({name: value for name, value in feeds.items() if name in session.inputs})
        present = {name: outputs[_PRESENT + name[len(PAST_PREFIX):]] for name in self.past_names
                   if _PRESENT + name[len(PAST_PREFIX):] in outputs}
        return outputs["logits"], present

    def carry(self, present: dict[str, np.ndarray], past: dict[str, np.ndarray] | None,
              batch: int) -> dict[str, np.ndarray]:
        """The past for the next step, from a call's `present` and the `past` it was fed (None
        on the first step): cross-attention keys/values (`.encoder.`) come from the first step
        only, and a past the graph returns no present for stays as it was (empty at first)."""
        old = past or {}
        unfed = [name for name in self.past_names if name not in present and name not in old]
        empty = empty_past(self.with_past, batch) if unfed else {}
        carried = {}
        for name in self.past_names:
            keep_old = ".encoder." in name and past is not None
            if keep_old or name not in present:
                carried[name] = old[name] if name in old else empty[name]
            else:
                carried[name] = present[name]
        return carried


class BoundDecoder:
    """A `CachedDecoder` with one request's static inputs: implements `StepModel`."""

    def __init__(self, decoder: CachedDecoder, static_feeds: dict[str, np.ndarray]):
        self.decoder = decoder
        self.static = static_feeds
        self._repeated: dict[int, dict[str, np.ndarray]] = {}  # per batch size (one request's)

    def start(self, batch_size: int) -> DecoderState:
        return DecoderState(batch_size=batch_size)

    def reorder(self, state: DecoderState, rows: np.ndarray) -> DecoderState:
        past = {name: value[rows] for name, value in state.past.items()}
        return DecoderState(len(rows), past, state.past_length, state.calls)

    def step(self, token_ids: np.ndarray, state: DecoderState) -> tuple[np.ndarray, DecoderState]:
        logits, state = self.step_all(token_ids, state)
        return logits[:, -1, :], state

    def step_all(self, token_ids: np.ndarray, state: DecoderState) -> tuple[np.ndarray, DecoderState]:
        """Like `step`, but return the logits of every fed position (batch, n_new, vocab)."""
        decoder = self.decoder
        first_step = state.past_length == 0
        batch, count = token_ids.shape
        total = state.past_length + count
        positions = np.broadcast_to(np.arange(state.past_length, total, dtype=np.int64), (batch, count))
        logits, present = decoder.run(token_ids, None if first_step else state.past,
                                      np.ones((batch, total), dtype=np.int64), positions, self._static_for(batch))
        past = decoder.carry(present, None if first_step else state.past, batch)
        state.calls.append((count, state.past_length))
        return logits, DecoderState(batch, past, total, state.calls)

    def _static_for(self, batch: int) -> dict[str, np.ndarray]:
        """The static inputs for `batch` rows (beams), repeated once per batch size: a split
        step graph's hoisted inputs are ~22 MB a row for a ViT-B/16 captioner."""
        if batch not in self._repeated:
            self._repeated[batch] = {
                name: value if value.shape[0] == batch else np.repeat(value, batch // value.shape[0], axis=0)
                for name, value in self.static.items()}
        return self._repeated[batch]



def empty_past(session: ComponentSession, batch: int) -> dict[str, np.ndarray]:
    """Zero-length past inputs for a first step of `batch` rows."""
    empty = {}
    for name, spec in session.inputs.items():
        if not name.startswith(PAST_PREFIX):
            continue
        dims = [d if isinstance(d, int) else 0 for d in spec.shape]
        dims[0] = batch
        empty[name] = np.zeros(dims, dtype=spec.dtype)
    return empty
