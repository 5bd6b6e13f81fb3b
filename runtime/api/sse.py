"""Server-sent events framing for streamed completions (transport-free)."""

from __future__ import annotations

import json

KEEP_ALIVE = b": keep-alive\n\n"
DONE = b"data: [DONE]\n\n"
CONTENT_TYPE = "text/event-stream"


def event(payload: dict) -> bytes:
    """One `data:` event holding a JSON object (compact, one line)."""
    return b"data: " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n\n"
