"""Server-sent events framing for streamed completions (transport-free)."""

from __future__ import annotations

import msgspec

KEEP_ALIVE = b": keep-alive\n\n"
DONE = b"data: [DONE]\n\n"
CONTENT_TYPE = "text/event-stream"


def event(payload: msgspec.Struct | dict) -> bytes:
    """One `data:` event holding a JSON object (compact, one line: JSON escapes newlines)."""
    return b"data: " + msgspec.json.encode(payload) + b"\n\n"
