"""The ASGI ingress (runtime/asgi/) serves the aiohttp server's API from the same layer:
the same requests (JSON, multipart and url-encoded forms, the whole hostile-input corpus)
get the same statuses and bodies from both hosts, the web page's files are the same, SSE
streams end in [DONE], a client that leaves a stream frees its slot, and the access rules
hold."""

from __future__ import annotations

import ray_support  # noqa: F401  (first: it imports Ray with its one known warning allowed)
from ray_support import AsgiServer  # noqa: F401

import asyncio
import io
import json
import re
import time
from pathlib import Path

import aiohttp
import pytest
from hostile_cases import CASES as HOSTILE_CASES, MAX_BODY_BYTES, Case, Json, Raw, Upload, png
from http_fakes import FakeModel, chat_body, data_uri

from runtime.api.service import ApiService
from runtime.asgi import REPLICA_HEADER, create_asgi_app
from runtime.server import ServerConfig, create_app
from runtime.server.page import PUBLIC_PATHS


pytestmark = pytest.mark.asyncio

IMAGE = data_uri()
CASES = [
    ("POST", "/v1/chat/completions", chat_body(image=IMAGE, max_tokens=3)),
    ("POST", "/v1/chat/completions", chat_body(image=IMAGE, max_tokens=2, logprobs=True, top_logprobs=2)),
    ("POST", "/v1/chat/completions", chat_body(image=IMAGE, max_tokens=500)),  # context too long
    ("POST", "/v1/chat/completions", {"model": "other", "messages": []}),
    ("POST", "/v1/chat/completions", "not json"),
    ("POST", "/v1/completions", {"model": "fake-vlm", "prompt": "Say hi", "max_tokens": 2}),
    ("POST", "/v1/embeddings", {"model": "fake-vlm", "input": ["a cat", "two dogs"]}),
    ("POST", "/v1/embeddings", {"model": "fake-vlm", "input": [{"content": [{"type": "image_url", "image_url": {"url": IMAGE}}]}]}),
    ("POST", "/v1/generate", {"model": "fake-vlm", "task": "caption", "image": IMAGE.split(",", 1)[1]}),
    ("POST", "/v1/read", {"model": "fake-vlm", "image": IMAGE.split(",", 1)[1]}),
    ("POST", "/v1/detect", {"model": "fake-vlm", "image": IMAGE.split(",", 1)[1]}),
    ("POST", "/v1/rank", {"model": "fake-vlm", "query": "a cat", "images": [IMAGE, IMAGE]}),
    ("POST", "/v1/seed", {"model": "fake-vlm", "text": "a red boat"}),
    ("POST", "/v1/seed", {"model": "fake-vlm", "text": "x", "unknown": 1}),
    ("GET", "/v1/models", None),
    ("GET", "/v1/models/fake-vlm", None),
    ("GET", "/v1/models/nope", None),
    ("GET", "/health", None),
    ("GET", "/nowhere", None),
    ("GET", "/v1/chat/completions", None),
]
_VARYING = {"id", "created", "timings_ms", "system_fingerprint"}


def _stable(value):
    """A body without the fields that differ between any two requests (ids, clocks)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VARYING}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


@pytest.fixture
def hosts(aiohttp_client):
    """(aiohttp test client, ASGI server URL) serving one FakeModel each, same settings."""
    started = []

    async def make(model_factory=FakeModel, **settings):
        config = ServerConfig(**settings)
        client = await aiohttp_client(create_app(model_factory(), config))
        service = ApiService(config, model_factory())
        server = AsgiServer(create_asgi_app(service, replica="replica-under-test")).__enter__()
        started.append(server)
        return client, server.url

    yield make
    for server in started:
        server.__exit__(None, None, None)


async def _ask(session, url, method, path, body, **kwargs):
    data = body if isinstance(body, str) else None
    payload = None if isinstance(body, str) else body
    headers = {"Content-Type": "application/json"} if data is not None else None
    async with session.request(method, url + path, json=payload, data=data, headers=headers, **kwargs) as response:
        return response.status, await response.read(), response.headers


async def test_every_route_answers_as_the_aiohttp_server_does(hosts):
    client, url = await hosts()
    async with aiohttp.ClientSession() as session:
        for method, path, body in CASES:
            aio = await _ask(session, str(client.make_url("")), method, path, body)
            asgi = await _ask(session, url, method, path, body)
            assert asgi[0] == aio[0], (method, path, asgi[1][:300])
            assert _stable(json.loads(asgi[1])) == _stable(json.loads(aio[1])), (method, path)
            assert asgi[2][REPLICA_HEADER] == "replica-under-test"
            assert re.fullmatch(r"req_[0-9a-f]{24}", asgi[2]["X-Request-Id"])


async def test_a_stream_is_the_same_events_ending_in_done(hosts):
    client, url = await hosts()
    body = chat_body(image=IMAGE, stream=True, stream_options={"include_usage": True})
    async with aiohttp.ClientSession() as session:
        aio = await _ask(session, str(client.make_url("")), "POST", "/v1/chat/completions", body)
        asgi = await _ask(session, url, "POST", "/v1/chat/completions", body)
    assert asgi[0] == 200 and asgi[2]["Content-Type"].startswith("text/event-stream")
    events = [line for line in asgi[1].decode().split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    chunks = [_stable(json.loads(e.removeprefix("data: "))) for e in events[:-1]]
    assert chunks == [_stable(json.loads(e.removeprefix("data: ")))
                      for e in aio[1].decode().split("\n\n") if e and e != "data: [DONE]"]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Hello world!"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


async def test_errors_before_the_first_event_are_a_json_reply(hosts):
    _, url = await hosts()
    async with aiohttp.ClientSession() as session:
        status, body, _ = await _ask(session, url, "POST", "/v1/chat/completions",
                                     chat_body(image=IMAGE, stream=True, max_tokens=500))
    assert status == 400 and json.loads(body)["error"]["code"] == "context_length_exceeded"


async def test_a_client_that_leaves_a_stream_frees_its_slot_and_is_counted(hosts):
    def slow():
        model = FakeModel(script=tuple(f"t{i} " for i in range(40)), step_delay_s=0.05)
        model.default_params = model.default_params.with_overrides(max_new_tokens=40)
        return model

    _, url = await hosts(slow, max_queue=1)
    async with aiohttp.ClientSession() as session:
        response = await session.post(url + "/v1/chat/completions", json=chat_body(image=IMAGE, stream=True))
        assert response.status == 200
        assert (await response.content.readline()).startswith(b"data: ")
        response.close()
        deadline = time.monotonic() + 10
        while True:
            metrics = (await _fetch(session, "GET", url + "/metrics"))[1]
            if re.search(r"^wan_queue_depth 0.0$", metrics, re.M) and "wan_cancelled_requests_total 1.0" in metrics:
                break
            assert time.monotonic() < deadline, metrics[-2000:]
            await asyncio.sleep(0.05)
        again = await _fetch(session, "POST", url + "/v1/chat/completions", json=chat_body(image=IMAGE, max_tokens=2))
        assert again[0] == 200  # the one slot serves again


async def _fetch(session, method: str, url: str, **kwargs):
    """(status, parsed JSON or text, headers), the response released."""
    async with session.request(method, url, **kwargs) as response:
        text = await response.text()
        body = json.loads(text) if response.content_type == "application/json" else text
        return response.status, body, response.headers


async def test_the_api_key_guards_everything_but_health(hosts):
    _, url = await hosts(api_key="s3cret")
    async with aiohttp.ClientSession() as session:
        assert (await _fetch(session, "GET", url + "/health"))[0] == 200
        status, body, headers = await _fetch(session, "GET", url + "/v1/models")
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
        assert headers["WWW-Authenticate"].startswith("Bearer")
        allowed = await _fetch(session, "GET", url + "/v1/models", headers={"Authorization": "Bearer s3cret"})
        assert allowed[0] == 200


async def test_cors_allows_local_pages_and_refuses_others(hosts):
    _, url = await hosts()
    async with aiohttp.ClientSession() as session:
        status, _, headers = await _fetch(session, "GET", url + "/health", headers={"Origin": "http://localhost:3000"})
        assert status == 200 and headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert REPLICA_HEADER in headers["Access-Control-Expose-Headers"]
        status, _, headers = await _fetch(session, "OPTIONS", url + "/v1/chat/completions", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
        assert status == 204 and "POST" in headers["Access-Control-Allow-Methods"]
        status, body, _ = await _fetch(session, "GET", url + "/v1/models", headers={"Origin": "https://evil.example"})
        assert status == 403 and body["error"]["code"] == "cors_origin_refused"


async def test_a_body_over_the_limit_is_413_naming_the_limit(hosts):
    _, url = await hosts(max_body_bytes=2000)
    async with aiohttp.ClientSession() as session:
        status, body, _ = await _fetch(session, "POST", url + "/v1/seed", json={"model": "fake-vlm", "text": "x" * 5000})
        assert status == 413 and "2000 bytes" in body["error"]["message"]


def _hostile_request(case: Case, media_dir: Path) -> dict:
    """`session.request` arguments for one case of the hostile-input corpus (tests/http)."""
    if isinstance(case.send, Upload):
        form = aiohttp.FormData()
        for key, value in case.send.fields.items():
            form.add_field(key, value)
        # A stream, not bytes: aiohttp warns that a large bytes body may block the loop.
        form.add_field("image", io.BytesIO(case.send.image), filename="upload.bin",
                       content_type="application/octet-stream")
        return {"data": form}
    if isinstance(case.send, Json):
        body = json.dumps(case.send.body).replace("@MEDIA@", str(media_dir)).encode()
        return {"data": body, "headers": {"Content-Type": "application/json"}}
    assert isinstance(case.send, Raw)
    return {"data": io.BytesIO(case.send.body), "headers": {"Content-Type": case.send.content_type}}


async def test_every_hostile_input_and_form_upload_gets_the_aiohttp_servers_answer(hosts, tmp_path):
    """The whole hostile-input corpus (multipart uploads with text fields, malformed multipart,
    url-encoded forms, bad JSON, bad images, limits) through both hosts: same status, same body."""
    media = tmp_path / "media"
    (media / "sub").mkdir(parents=True)
    (media / "ok.png").write_bytes(png())
    client, url = await hosts(media_dir=media, max_body_bytes=MAX_BODY_BYTES)
    assert sum(isinstance(case.send, Upload) or case.send.content_type.startswith("multipart/")
               for case in HOSTILE_CASES if not isinstance(case.send, Json)) >= 10
    async with aiohttp.ClientSession() as session:
        for case in HOSTILE_CASES:
            replies = []
            for base in (str(client.make_url("")), url):
                async with session.post(base + case.route, **_hostile_request(case, media)) as response:
                    replies.append((response.status, await response.read()))
            (aio_status, aio_body), (asgi_status, asgi_body) = replies
            assert asgi_status == aio_status == case.status, (case.name, asgi_body[:300], aio_body[:300])
            # Pillow's messages name an object's address (<_io.BytesIO object at 0x...>), which differs.
            same = [re.sub(rb" at 0x[0-9a-f]+", b"", body) for body in (asgi_body, aio_body)]
            assert _stable(json.loads(same[0])) == _stable(json.loads(same[1])), case.name


async def test_a_form_upload_reaches_the_model_as_from_the_aiohttp_server(hosts):
    client, url = await hosts()
    answers = []
    async with aiohttp.ClientSession() as session:
        for base in (str(client.make_url("")), url):
            form = aiohttp.FormData()
            form.add_field("prompt", "what colour?")
            form.add_field("max_new_tokens", "2")
            form.add_field("return_tokens", "true")
            form.add_field("image", png(), filename="a.png", content_type="image/png")
            status, body, _ = await _fetch(session, "POST", base + "/v1/generate", data=form)
            assert status == 200, body
            answers.append(_stable(body))
    assert answers[0] == answers[1]
    assert answers[1]["metadata"]["task"] == "vqa" and answers[1]["tokens"]


async def test_the_web_page_is_served_as_the_aiohttp_server_serves_it_without_the_key(hosts):
    client, url = await hosts(api_key="s3cret")
    async with aiohttp.ClientSession() as session:
        for path in PUBLIC_PATHS:
            replies = []
            for base in (str(client.make_url("")), url):
                async with session.get(base + path) as response:
                    replies.append((response.status, await response.read(), response.headers))
            (aio_status, aio_body, aio_headers), (status, body, headers) = replies
            assert status == aio_status == 200 and body == aio_body and len(body) > 500, path
            for name in ("Content-Type", "Content-Security-Policy", "X-Content-Type-Options", "ETag"):
                assert headers[name] == aio_headers[name], (path, name)
            async with session.get(url + path, headers={"If-None-Match": headers["ETag"]}) as again:
                assert again.status == 304 and await again.read() == b""
        assert (await _fetch(session, "GET", url + "/v1/models"))[0] == 401  # the API keeps its key


async def test_metrics_count_requests_by_route_and_show_the_queue(hosts):
    _, url = await hosts()
    async with aiohttp.ClientSession() as session:
        await _fetch(session, "POST", url + "/v1/seed", json={"model": "fake-vlm", "text": "a boat"})
        await _fetch(session, "GET", url + "/nowhere")
        text = (await _fetch(session, "GET", url + "/metrics"))[1]
    assert 'wan_http_requests_total{method="POST",route="/v1/seed",status="200"} 1.0' in text
    assert 'wan_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert "wan_requests_waiting 0.0" in text and "wan_requests_running 0.0" in text


async def test_closing_an_in_process_stream_cancels_the_request_and_frees_its_slot():
    """What a Ray replica does when Serve cancels a relayed request (the client left):
    `stream_app` is closed after the first event; the generation stops, the slot is freed."""
    from runtime.asgi import stream_app

    model = FakeModel(script=tuple(f"t{i} " for i in range(40)), step_delay_s=0.05)
    model.default_params = model.default_params.with_overrides(max_new_tokens=40)
    service = ApiService(ServerConfig(max_queue=1), model)
    app = create_asgi_app(service, replica="r1")
    body = json.dumps(chat_body(image=IMAGE, stream=True)).encode()
    items = stream_app(app, "POST", "/v1/chat/completions", body, [("content-type", "application/json")])
    status, headers = await items.__anext__()
    assert status == 200 and ("x-wan-replica", "r1") in headers
    assert (await items.__anext__()).startswith(b"data: ")
    assert service.engine.depth == 1
    await items.aclose()
    assert await asyncio.to_thread(model.closed.wait, 5), "the generation was not closed"
    deadline = time.monotonic() + 5
    while service.engine.depth:
        assert time.monotonic() < deadline, "the slot was not freed"
        await asyncio.sleep(0.02)
    assert model.steps_taken < 40
    service.engine.shutdown()
