"""Kind `vision-encoder-decoder`: ViT-GPT2 captioners, TrOCR and other image → text models.

Components: `encoder` (pixel_values → last_hidden_state) and a decoder with a KV cache,
either `decoder_merged` or `decoder` + `decoder_with_past` (see runtime/cached_decoder.py),
or `decoder_with_past` alone with `decoder_cross`: the step graph split at import
(runtime.bundle.hoist), the work that depends only on the encoder's output run once per
request (a ViT-GPT2 decoder recomputed its cross-attention keys and values every step).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

import numpy as np

from runtime import batching
from runtime.batching import ContinuousBatcher
from runtime.cached_decoder import CachedDecoder
from runtime.errors import BundleError, InvalidRequestError
from runtime.generation import check_context_length, run_generation
from runtime.params import GenerationParams
from runtime.preprocess import ImageProcessorConfig, preprocess
from runtime.results import GenerationResult, ReadResult, TextDelta, TextLine
from runtime.tokenizer import Tokenizer

from . import register_kind
from .base import GenerationRequest, ImportPlan, KindAdapter, LoadContext


def _as_list(value) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in (value if isinstance(value, list) else [value])]


class _OneStepAtATime:
    """A step model whose steps hold `lock`: requests decoded outside the batch on all-core
    sessions step one at a time (each on every core) instead of all at once."""

    def __init__(self, model, lock: threading.Lock):
        self._model = model
        self._lock = lock

    def start(self, batch_size: int):
        return self._model.start(batch_size)

    def reorder(self, state, rows):
        return self._model.reorder(state, rows)

    def step(self, token_ids, state):
        with self._lock:
            return self._model.step(token_ids, state)


@register_kind
class VisionEncoderDecoderAdapter(KindAdapter):
    kind_name = "vision-encoder-decoder"
    kind_tasks = frozenset({"caption", "read"})
    required_components = ("encoder",)
    optional_components = ("decoder_merged", "decoder", "decoder_with_past", "decoder_cross")
    import_model_types = ("vision-encoder-decoder",)
    batched_components = ("decoder_merged", "decoder", "decoder_with_past")
    import_layout = {
        "encoder_model": "encoder",
        "decoder_model_merged": "decoder_merged",
        "decoder_model": "decoder",
        "decoder_with_past_model": "decoder_with_past",
    }
    import_hoist = ("decoder_with_past", "encoder_hidden_states", "decoder_cross")
    import_hoist_replaces = ("decoder_merged", "decoder", "decoder_with_past")

    @classmethod
    def check_manifest(cls, manifest) -> None:
        super().check_manifest(manifest)
        names = set(manifest.components)
        if ("decoder_merged" not in names and not {"decoder", "decoder_with_past"} <= names
                and not {"decoder_cross", "decoder_with_past"} <= names):
            raise BundleError(
                "A vision-encoder-decoder bundle needs 'decoder_merged', or 'decoder_with_past' with "
                "'decoder' or 'decoder_cross' (decoding without a KV cache is not supported)."
            )

    @classmethod
    def import_fuse(cls, config: dict, step_path, once_path, fused_path):
        """A GPT-2 decoder's step rebuilt of fused operators (runtime.bundle.fuse_gpt2)."""
        from runtime.bundle import fuse_gpt2

        return fuse_gpt2.build(step_path, config.get("decoder", {}), once_path, fused_path)

    @classmethod
    def import_int8(cls, root, components: dict, inputs):
        """A dynamic int8 encoder and an 8-bit-weight fused step, measured (runtime.bundle.captioner_int8)."""
        from runtime.bundle import captioner_int8

        if inputs is None:
            captioner_int8.discard(root, components)
            return components
        return captioner_int8.add_variants(root, components, inputs.generation, inputs.preprocessor)

    @classmethod
    def import_plan(cls, config: dict, components: set[str]) -> ImportPlan:
        decoder_config = config.get("decoder", {})
        tasks = ("caption", "read") if decoder_config.get("model_type") == "trocr" else ("caption",)
        limit = decoder_config.get("max_position_embeddings") or decoder_config.get("n_positions")
        drop = ("decoder", "decoder_with_past") if "decoder_merged" in components else ()
        return ImportPlan(tasks, limit if isinstance(limit, int) else None, drop)

    def __init__(self, context: LoadContext):
        super().__init__(context)
        manifest = context.manifest
        generation = manifest.generation
        self._start_ids = _as_list(generation.get("decoder_start_token_id", generation.get("bos_token_id")))
        if not self._start_ids:
            raise BundleError("bundle.json generation needs decoder_start_token_id for this kind.")
        self._eos_ids = _as_list(generation.get("eos_token_id"))
        self._tokenizer = Tokenizer.from_file(
            context.path(manifest.tokenizer, "tokenizer"), eos_token_ids=self._eos_ids,
            pad_token_id=generation.get("pad_token_id"),
        )
        self._image_config = ImageProcessorConfig.from_file(context.path(manifest.preprocessor, "preprocessor"))
        sessions = context.sessions
        self._encoder = sessions["encoder"]
        self._cross = sessions.get("decoder_cross")
        if self._cross is not None:  # the split step graph: its first step takes empty pasts
            self._decoder = CachedDecoder(sessions["decoder_with_past"])
        elif "decoder_merged" in sessions:
            self._decoder = CachedDecoder(sessions["decoder_merged"])
        else:
            self._decoder = CachedDecoder(sessions["decoder"], sessions["decoder_with_past"])
        # Captions of requests in flight together decode in one batch, in lockstep: the step
        # graph cannot tell rows of different lengths apart, and every caption starts from the
        # same start tokens (runtime.batching). A batch of 8 steps in 1.6x one row's time
        # (ViT-B/16 + GPT-2, 2 threads): the step reads its weights once for all of them.
        max_batch = context.config.max_batch
        self.batcher = (ContinuousBatcher(self._decoder, max_batch, lockstep=True)
                        if max_batch > 1 and batching.supports_lockstep(self._decoder) else None)
        # The batch's step sessions may run on every core (the load plan's `batched_components`):
        # a caption decoded outside the batch (beam search) then steps one request at a time.
        wide = max(session.intra_op_threads for session in (self._decoder.first, self._decoder.with_past))
        self._alone = threading.Lock() if self.batcher is not None and wide > context.config.session.intra_op_threads \
            else None

    def encode(self, images) -> np.ndarray:
        """Encoder hidden states (batch, positions, hidden) for a list of PIL images."""
        pixels = preprocess(images, self._image_config)
        return self._encoder.run({"pixel_values": pixels})["last_hidden_state"]

    def generate(self, request: GenerationRequest) -> Iterator[TextDelta | GenerationResult]:
        if request.task not in self.tasks or request.task == "read":
            raise self._unsupported(request.task)
        if request.prompt:
            raise InvalidRequestError(
                "This captioner takes no text prompt; send the image alone.", param="prompt"
            )
        return self._decode(request.image, request.params)

    def _decode(self, image, params: GenerationParams) -> Iterator[TextDelta | GenerationResult]:
        limit = self.context.config.max_seq_len
        check_context_length(len(self._start_ids), params, limit, "the decoder's start tokens")
        # a batch about to start waits a little for this caption while its image is encoded
        arrival = self.batcher.expect() if self.batcher is not None and params.num_beams == 1 else None
        try:
            hidden = self.encode([image])
            static = {"encoder_hidden_states": hidden}
            if self._cross is not None:
                static.update(self._cross.run(static))
            step_model = self._decoder.bind(static)
            if self._alone is not None:
                step_model = _OneStepAtATime(step_model, self._alone)
            prompt_tokens = len(self._start_ids) + hidden.shape[1]
            yield from run_generation(step_model, self._start_ids, params, self._tokenizer, self._eos_ids,
                                      prompt_tokens, batcher=self.batcher, static=static, arrival=arrival)
        finally:
            if arrival is not None:
                arrival.cancel()

    def read(self, image) -> ReadResult:
        if "read" not in self.tasks:
            raise self._unsupported("read")
        params = self._default_read_params()
        result = None
        for result in self._decode(image, params):
            pass
        steps = result.logprobs or ()
        confidence = math.exp(sum(s.chosen.logprob for s in steps) / len(steps)) if steps else 0.0
        width, height = image.size
        box = ((0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height)))
        lines = (TextLine(result.text.strip(), box, confidence),) if result.text.strip() else ()
        return ReadResult(lines=lines)

    def _default_read_params(self) -> GenerationParams:
        generation = self.context.manifest.generation
        return GenerationParams(
            max_new_tokens=generation.get("max_new_tokens", 64),
            num_beams=generation.get("num_beams", 1),
            top_logprobs=1,
        )
