"""A reader's answer carries the lines it was read from: `/v1/generate` `evidence` and the chat
choice's `evidence` extension field (issue 10), on the real reader bundle over HTTP."""

from __future__ import annotations

import base64
import io
import json
import urllib.request

import pytest
from PIL import Image, ImageDraw, ImageFont

from runtime.api.config import ServerConfig

from conftest import LiveServer

pytestmark = pytest.mark.slow

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _receipt_uri() -> str:
    font = ImageFont.truetype(FONT, 28)
    image = Image.new("RGB", (700, 260), "white")
    canvas = ImageDraw.Draw(image)
    for number, (left, right) in enumerate([("HARBOUR CAFE", None), ("Flat white", "3.20"), ("TOTAL", "3.20")]):
        canvas.text((36, 30 + 70 * number), left, fill="black", font=font)
        if right:
            canvas.text((520, 30 + 70 * number), right, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def reader_server(reader_bundle):
    from runtime import load_model

    with LiveServer(load_model(reader_bundle), ServerConfig()) as server:
        yield server


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _check(evidence: list[dict], answer: str) -> None:
    assert evidence, "a decided answer names its lines"
    assert any(answer in line["text"] for line in evidence), evidence
    for line in evidence:
        assert len(line["box"]) == 4 and all(len(corner) == 2 for corner in line["box"])
        assert 0.0 <= line["confidence"] <= 1.0


def test_generate_returns_the_evidence_of_its_answer(reader_server):
    reply = _post(f"{reader_server.url}/v1/generate",
                  {"image": _receipt_uri(), "prompt": "What is the total?", "task": "vqa"})
    assert reply["text"] == "3.20"
    _check(reply["evidence"], "3.20")


def test_chat_choice_carries_the_evidence_extension(reader_server):
    message = {"role": "user", "content": [{"type": "text", "text": "What is the total?"},
                                           {"type": "image_url", "image_url": {"url": _receipt_uri()}}]}
    reply = _post(f"{reader_server.url}/v1/chat/completions", {"model": "any", "messages": [message]})
    choice = reply["choices"][0]
    assert choice["message"]["content"] == "3.20"
    _check(choice["evidence"], "3.20")


def test_streamed_chat_carries_the_evidence_on_its_last_chunk(reader_server):
    message = {"role": "user", "content": [{"type": "text", "text": "What is the total?"},
                                           {"type": "image_url", "image_url": {"url": _receipt_uri()}}]}
    body = json.dumps({"model": "any", "messages": [message], "stream": True}).encode()
    request = urllib.request.Request(f"{reader_server.url}/v1/chat/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        events = [line[len(b"data: "):] for line in response.read().splitlines() if line.startswith(b"data: ")]
    assert events[-1] == b"[DONE]"
    choices = [json.loads(event)["choices"][0] for event in events[:-1]]
    assert "".join(choice["delta"].get("content", "") for choice in choices) == "3.20"
    assert choices[-1]["finish_reason"] == "stop"
    _check(choices[-1]["evidence"], "3.20")
    assert all("evidence" not in choice for choice in choices[:-1])  # once, with the finish reason
