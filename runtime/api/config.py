"""Frozen server settings, built once by the launcher from flags and environment."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path


@dataclass(frozen=True)
class ServerConfig:
    """Everything the HTTP layer needs to know at start-up (DESIGN §6).

    Sizes are bytes, times seconds. `api_key` None means no authentication.
    `cors_origins` empty means: only http(s)://localhost / 127.0.0.1 / [::1] origins.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    # Out of the generated repr: a config logged or shown in a traceback must not leak it.
    api_key: str | None = field(default=None, repr=False)
    max_body_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    max_queue: int = 32
    request_timeout_s: float = 300.0
    shutdown_grace_s: float = 10.0
    media_dir: Path | None = None
    allow_remote_images: bool = False
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    log_format: str = "text"  # "text" or "json"
    model_id: str | None = None  # id shown in /v1/models (default: the bundle's name)
    keepalive_interval_s: float = 5.0  # SSE ": keep-alive" comments while no token is ready
    warmup: bool = True  # run one tiny request on a thread once the loaded model serves (/health says ok)

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        key = "None" if self.api_key is None else "'***'"
        return f"{type(self).__name__}(api_key={key}, {shown})"
