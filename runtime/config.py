"""Frozen start-up settings for a loaded model."""

from __future__ import annotations

from dataclasses import dataclass

from .session import SessionConfig


@dataclass(frozen=True)
class ModelConfig:
    """Settings fixed when a model loads; passed explicitly to every constructor.

    `max_seq_len` caps prompt + image tokens + generated tokens per request (None: the
    model's own limit). `max_image_pixels` refuses decompression bombs before decoding.
    """

    session: SessionConfig = SessionConfig()
    max_seq_len: int | None = None
    max_image_pixels: int = 50_000_000
    max_batch_size: int = 8
