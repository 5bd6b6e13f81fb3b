"""SSE streaming: framing, [DONE], usage, keep-alive, and a client that disconnects."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest
from http_fakes import FakeModel, chat_body, data_uri

pytestmark = pytest.mark.asyncio


def _events(text: str) -> list:
    """The SSE body as a list of parsed `data:` payloads (comments dropped)."""
    assert text.endswith("data: [DONE]\n\n")
    events = []
    for block in text.split("\n\n"):
        if not block or block.startswith(":"):
            continue
        assert block.startswith("data: "), block
        payload = block[len("data: "):]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    assert events[-1] == "[DONE]" and "[DONE]" not in events[:-1]
    return events[:-1]


async def test_stream_sends_chunks_then_done(client):
    response = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), stream=True))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    chunks = _events(await response.text())
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "Hello world!"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert "usage" not in chunks[-1]


async def test_stream_text_equals_non_streamed(client):
    whole = await (await client.post("/v1/chat/completions", json=chat_body(image=data_uri()))).json()
    streamed = _events(await (await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), stream=True))).text())
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in streamed)
    assert text == whole["choices"][0]["message"]["content"]


async def test_include_usage_adds_a_final_usage_chunk(client):
    body = chat_body(image=data_uri(), stream=True, stream_options={"include_usage": True})
    chunks = _events(await (await client.post("/v1/chat/completions", json=body)).text())
    assert all(c["usage"] is None for c in chunks[:-1])
    last = chunks[-1]
    assert last["choices"] == []
    # FakeModel: 3 prompt words + 10 image tokens, 3 generated tokens.
    assert last["usage"] == {"prompt_tokens": 13, "completion_tokens": 3, "total_tokens": 16}


async def test_keep_alive_comments_while_waiting_for_the_first_token(make_client):
    client = await make_client(FakeModel(first_delay_s=0.6), keepalive_interval_s=0.1)
    response = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), stream=True))
    text = await response.text()
    assert text.count(": keep-alive\n\n") >= 2
    assert text.index(": keep-alive") < text.index('"content":"Hello"')
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in _events(text)) == "Hello world!"


async def test_error_before_the_first_byte_is_a_json_reply(client):
    response = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), stream=True, max_tokens=60))
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "context_length_exceeded"


async def test_error_after_keep_alive_travels_in_the_stream(make_client):
    model = FakeModel(first_delay_s=0.3, fail_with=None)
    client = await make_client(model, keepalive_interval_s=0.05, request_timeout_s=0.2)
    response = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), stream=True))
    assert response.status == 200
    events = _events(await response.text())
    assert events[-1]["error"]["code"] == "timeout"


async def test_logprobs_in_stream_and_in_completion(client):
    body = chat_body(image=data_uri(), logprobs=True, top_logprobs=2)
    whole = await (await client.post("/v1/chat/completions", json=body)).json()
    content = whole["choices"][0]["logprobs"]["content"]
    assert [c["token"] for c in content] == ["Hello", " world", "!"]
    assert all(len(c["top_logprobs"]) == 2 and c["bytes"] == list(c["token"].encode()) for c in content)
    chunks = _events(await (await client.post("/v1/chat/completions", json={**body, "stream": True})).text())
    assert chunks[-1]["choices"][0]["logprobs"]["content"] == content


@pytest.mark.parametrize("task", ["vqa", "caption"])
async def test_a_decided_reply_has_null_logprobs(make_client, task):
    # A reader's answer is copied from the image's text, not sampled: it has no log-probs.
    # `{"content": []}` beside a non-empty reply said the tokens joined to "".
    client = await make_client(FakeModel(decided=True))
    body = chat_body("What is the total?" if task == "vqa" else None, image=data_uri(), logprobs=True)
    whole = await (await client.post("/v1/chat/completions", json=body)).json()
    assert whole["choices"][0]["message"]["content"] == "Hello world!"
    assert whole["choices"][0]["logprobs"] is None
    chunks = _events(await (await client.post("/v1/chat/completions", json={**body, "stream": True})).text())
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "Hello world!"
    assert all(c["choices"][0]["logprobs"] is None for c in chunks)


async def _metric(client, name: str) -> float:
    text = await (await client.get("/metrics")).text()
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_disconnect_mid_stream_cancels_and_frees_the_slot(make_client):
    model = FakeModel(script=tuple(f"t{i} " for i in range(40)), step_delay_s=0.05)
    model.default_params = model.default_params.with_overrides(max_new_tokens=40)
    client = await make_client(model, max_queue=1)
    response = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), stream=True))
    assert response.status == 200
    first = await response.content.readline()
    assert first.startswith(b"data: ")
    response.close()  # the client goes away mid-stream
    deadline = time.monotonic() + 5
    while await _metric(client, "wan_cancelled_requests_total") < 1:
        assert time.monotonic() < deadline, "the server never noticed the disconnect"
        await asyncio.sleep(0.05)
    assert await asyncio.to_thread(model.closed.wait, 2), "the generation was not closed"
    assert model.steps_taken < 40
    began = time.monotonic()
    response = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=2))
    assert response.status == 200, await response.text()
    assert time.monotonic() - began < 1.0
    assert await _metric(client, "wan_queue_depth") == 0
