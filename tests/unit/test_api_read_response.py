"""`/v1/read`'s body: lines with boxes in the image as sent, and how far the page was turned."""

from __future__ import annotations

import msgspec

from runtime.api import native, schemas
from runtime.results import ReadResult, TextLine

METADATA = schemas.Metadata("reader", "read", "int8", "CPUExecutionProvider", {"total": 1.0})
# A line of a page read turned a quarter: the page's top-left as read is on the image's top-right side.
LINE = TextLine("TOTAL 9.00", ((40.0, 0.0), (40.0, 20.0), (35.0, 20.0), (35.0, 0.0)), 0.9)


def test_the_turn_is_given_in_degrees_and_the_boxes_as_read():
    body = msgspec.json.decode(msgspec.json.encode(native.read_response(ReadResult((LINE,), turns=3), METADATA)))
    assert body["rotation"] == 270
    assert body["lines"] == [{"text": "TOTAL 9.00", "box": [[40, 0], [40, 20], [35, 20], [35, 0]], "confidence": 0.9}]
    upright = msgspec.json.decode(msgspec.json.encode(native.read_response(ReadResult((LINE,)), METADATA)))
    assert upright["rotation"] == 0
