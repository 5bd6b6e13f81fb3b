"""Kind `clip`: CLIP / SigLIP dual encoders — image and text embeddings, ranking, seeds.

Components: `vision_model` + `text_model` (transformers.js layout), or one combined
`model` taking both inputs. Embeddings are L2-normalized.
"""

from __future__ import annotations

import json

import numpy as np

from runtime.errors import BundleError, ContextLengthExceededError
from runtime.preprocess import ImageProcessorConfig, preprocess
from runtime.tokenizer import Tokenizer

from . import register_kind
from .base import ImportPlan, KindAdapter, LoadContext


# Rows per onnxruntime run: a long list is embedded in runs of this many, which the engine's
# idle workers share (a served request alone then uses every core, and a list of thousands is
# never one batch); rows never affect each other beyond float rounding.
_RUN_ROWS = 32


def _normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = vectors.astype(np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@register_kind
class ClipAdapter(KindAdapter):
    kind_name = "clip"
    kind_tasks = frozenset({"embed", "rank", "seed"})
    optional_components = ("model", "vision_model", "text_model")
    import_model_types = ("clip", "siglip")
    import_layout = {"model": "model", "vision_model": "vision_model", "text_model": "text_model"}

    @classmethod
    def check_manifest(cls, manifest) -> None:
        super().check_manifest(manifest)
        names = set(manifest.components)
        if "model" not in names and not {"vision_model", "text_model"} <= names:
            raise BundleError("A clip bundle needs 'model', or both 'vision_model' and 'text_model'.")

    @classmethod
    def import_plan(cls, config: dict, components: set[str]) -> ImportPlan:
        limit = config.get("text_config", {}).get("max_position_embeddings")
        drop = ("model",) if {"vision_model", "text_model"} <= components else ()
        return ImportPlan(("embed", "rank", "seed"), limit if isinstance(limit, int) else None, drop)

    def __init__(self, context: LoadContext):
        super().__init__(context)
        manifest = context.manifest
        config = json.loads(context.path(manifest.config, "config").read_text(encoding="utf-8"))
        # SigLIP was trained on texts padded to the full length; CLIP pools at the first
        # eos token under a causal mask, so padding after it changes nothing.
        self._pad_to_max = config.get("model_type") == "siglip"
        generation = manifest.generation
        self._tokenizer = Tokenizer.from_file(
            context.path(manifest.tokenizer, "tokenizer"), pad_token_id=generation.get("pad_token_id")
        )
        self._pad_id = generation.get("pad_token_id", generation.get("eos_token_id", 0))
        self._image_config = ImageProcessorConfig.from_file(context.path(manifest.preprocessor, "preprocessor"))
        sessions = context.sessions
        self._combined = sessions.get("model")
        self._vision = sessions.get("vision_model")
        self._text = sessions.get("text_model")

    def _in_runs(self, embed_run, items: list) -> np.ndarray:
        """`embed_run` over `items` in runs of `_RUN_ROWS`, idle engine workers taking some."""
        runs = [items[start : start + _RUN_ROWS] for start in range(0, len(items), _RUN_ROWS)]
        if len(runs) < 2:
            return embed_run(items)
        return np.concatenate(self.context.pool.map(embed_run, runs))

    def embed_images(self, images) -> np.ndarray:
        return self._in_runs(self._embed_image_run, list(images))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        # every text is checked against the limit before any run
        return self._in_runs(self._embed_text_run, self._encoded(texts))

    def _embed_image_run(self, images: list) -> np.ndarray:
        pixels = preprocess(images, self._image_config)
        if self._vision is not None:
            return _normalize(self._vision.run({"pixel_values": pixels})["image_embeds"])
        ids, mask = self._tokens([""])
        feeds = self._combined_feeds(np.repeat(ids, len(images), 0), np.repeat(mask, len(images), 0), pixels)
        return _normalize(self._combined.run(feeds, ["image_embeds"])["image_embeds"])

    def _embed_text_run(self, encoded: list[list[int]]) -> np.ndarray:
        ids, mask = self._padded(encoded)
        if self._text is not None:
            feeds = {"input_ids": ids}
            if "attention_mask" in self._text.inputs:
                feeds["attention_mask"] = mask
            return _normalize(self._text.run(feeds)["text_embeds"])
        # The combined graph needs some image to compute text embeddings; any valid size does.
        edge = self._image_config.resize_shortest_edge or 224
        size = self._image_config.output_size or (edge, edge)
        pixels = np.zeros((1, 3, *size), dtype=np.float32)
        feeds = self._combined_feeds(ids, mask, pixels)
        return _normalize(self._combined.run(feeds, ["text_embeds"])["text_embeds"])

    def count_tokens(self, texts: list[str]) -> int:
        return sum(len(self._tokenizer.encode(text)) for text in texts)

    def _combined_feeds(self, ids, mask, pixels) -> dict:
        feeds = {"input_ids": ids, "pixel_values": pixels}
        if "attention_mask" in self._combined.inputs:
            feeds["attention_mask"] = mask
        return feeds

    def _tokens(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self._padded(self._encoded(texts))

    def _encoded(self, texts: list[str]) -> list[list[int]]:
        encoded = [self._tokenizer.encode(text) for text in texts]
        limit = self.context.config.max_seq_len  # at most the model's own limit
        longest = max(len(ids) for ids in encoded)
        if limit is not None and longest > limit:
            raise ContextLengthExceededError(longest, limit, "text to embed")
        return encoded

    def _padded(self, encoded: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        longest = max(len(ids) for ids in encoded)
        model_limit = self.context.manifest.max_seq_len
        width = model_limit if self._pad_to_max and model_limit else longest
        ids = np.full((len(encoded), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, tokens in enumerate(encoded):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        return ids, mask
