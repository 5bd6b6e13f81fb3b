"""Frozen start-up settings for a loaded model."""

from __future__ import annotations

from dataclasses import dataclass

from .session import SessionConfig


@dataclass(frozen=True)
class ModelConfig:
    """Settings fixed when a model loads; passed explicitly to every constructor.

    `max_seq_len` caps prompt + image tokens + generated tokens per request: the user's cap
    or, without one, the model's own limit (None: the model states none).
    `max_image_pixels` refuses decompression bombs before decoding. `workers` is how many
    requests a server runs at once (the thread budget, runtime.scheduler); each session
    runs on `session.intra_op_threads` threads. `max_batch` is the most sequences a
    language model decodes in one batched step (serve's --max-batch-size; 1: no batching).
    """

    session: SessionConfig = SessionConfig()
    max_seq_len: int | None = None
    max_image_pixels: int = 50_000_000
    workers: int = 1
    max_batch: int = 1
