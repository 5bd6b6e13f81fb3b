"""Clients that hang up (issue 12): each disconnect is counted once in
`wan_cancelled_requests_total`, its generation stops, and its queue slot is freed, whether it
leaves mid-stream, before its stream's first token, or before a non-streamed reply.
(test_streaming.py covers one mid-stream disconnect; the soak covers them under load.)"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

import aiohttp
import pytest
from http_fakes import FakeModel, chat_body, data_uri

pytestmark = pytest.mark.asyncio
TOKENS = 40


def _slow_model(step_delay_s: float = 0.05) -> FakeModel:
    model = FakeModel(script=tuple(f"t{i} " for i in range(TOKENS)), step_delay_s=step_delay_s)
    model.default_params = model.default_params.with_overrides(max_new_tokens=TOKENS)
    return model


async def _metric(client, name: str) -> float:
    text = await (await client.get("/metrics")).text()
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


async def _until(condition, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def _settled(client, cancelled: int) -> None:
    """Wait until the server has counted `cancelled` disconnects and freed every slot, then
    check the count does not grow past it (a disconnect counted twice)."""
    async def done():
        return (await _metric(client, "wan_cancelled_requests_total") >= cancelled
                and await _metric(client, "wan_queue_depth") == 0)

    await _until(done)
    await asyncio.sleep(0.6)  # longer than the service's 0.5 s poll for a gone client
    assert await _metric(client, "wan_cancelled_requests_total") == cancelled
    assert await _metric(client, "wan_queue_depth") == 0


async def _stream_first_line(client, session: aiohttp.ClientSession, **extra) -> aiohttp.ClientResponse:
    response = await session.post(client.make_url("/v1/chat/completions"),
                                  json=chat_body(image=data_uri(), stream=True, **extra))
    assert response.status == 200, await response.text()
    assert (await response.content.readline()).startswith((b"data: ", b": keep-alive"))
    return response


async def test_several_streams_dropped_mid_way_are_each_counted_once(make_client):
    model = _slow_model()
    model.config = type(model.config)(workers=4)
    client = await make_client(model, max_queue=4)
    async with aiohttp.ClientSession() as session:
        responses = [await _stream_first_line(client, session) for _ in range(4)]
        assert await _metric(client, "wan_queue_depth") == 4
        for response in responses:
            response.close()
    await _settled(client, 4)
    assert model.steps_taken < 4 * TOKENS  # the generations stopped early
    # The freed slots serve again: a full queue of new requests is answered.
    replies = await asyncio.gather(*(client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=2))
                                     for _ in range(4)))
    assert [r.status for r in replies] == [200] * 4


async def test_a_stream_dropped_while_waiting_for_its_first_token_is_counted_once_and_stopped(make_client):
    # Only keep-alive comments have been sent when the client leaves; the engine step in
    # flight (a slow first token) finishes, then the generation is closed.
    model = _slow_model()
    model.first_delay_s = 1.0
    client = await make_client(model, max_queue=1, keepalive_interval_s=0.05)
    async with aiohttp.ClientSession() as session:
        response = await session.post(client.make_url("/v1/chat/completions"),
                                      json=chat_body(image=data_uri(), stream=True))
        assert response.status == 200
        assert await response.content.readline() == b": keep-alive\n"
        response.close()
    await _settled(client, 1)
    assert await asyncio.to_thread(model.closed.wait, 5), "the generation was not closed"
    assert model.steps_taken <= 1


async def test_a_client_that_gives_up_on_a_non_streamed_reply_is_counted_and_stops_it(make_client):
    model = _slow_model(step_delay_s=0.1)  # 4 s in all
    client = await make_client(model, max_queue=1)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.post(client.make_url("/v1/chat/completions"), json=chat_body(image=data_uri()),
                               timeout=aiohttp.ClientTimeout(total=0.5))
    await _settled(client, 1)
    assert await asyncio.to_thread(model.closed.wait, 5), "the generation was not closed"
    assert model.steps_taken < TOKENS
    text = await (await client.get("/metrics")).text()
    assert 'wan_http_requests_total{method="POST",route="/v1/chat/completions",status="499"} 1.0' in text


async def test_a_dropped_requests_work_keeps_its_place_until_it_ends(make_client):
    # A user trial: three 2000-text embeddings dropped after 0.7 s each freed their place at
    # once while their jobs ran on, so the next request waited 68 s behind work --max-queue
    # should have bounded. The engine step in flight (a slow first step here) cannot be
    # stopped: until it ends the place stays taken, and a new request is told the server is
    # busy instead of queueing behind it.
    model = _slow_model()
    model.first_delay_s = 2.0
    client = await make_client(model, max_queue=1)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.post(client.make_url("/v1/chat/completions"), json=chat_body(image=data_uri()),
                               timeout=aiohttp.ClientTimeout(total=0.3))
    busy = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=1))
    assert busy.status == 503, await busy.text()
    await _settled(client, 1)
    after = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=1))
    assert after.status == 200, await after.text()


async def test_a_dropped_requests_job_that_fails_later_logs_nothing(make_client, caplog):
    # Nobody awaits the engine future of a request whose client left; had its exception not
    # been retrieved, asyncio would log "Future exception was never retrieved" with a
    # traceback for every such request.
    import gc
    import logging

    class FailsLate(FakeModel):
        def embed_texts(self, texts):
            time.sleep(1.0)
            raise RuntimeError("failed after its client left")

    caplog.set_level(logging.ERROR, logger="asyncio")
    client = await make_client(FailsLate(), max_queue=1)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.post(client.make_url("/v1/embeddings"), json={"model": "fake-vlm", "input": ["a", "b"]},
                               timeout=aiohttp.ClientTimeout(total=0.3))
    await _until(lambda: _holds_slots(client, 0))
    await asyncio.sleep(0.1)
    gc.collect()
    await asyncio.sleep(0.1)
    assert "never retrieved" not in caplog.text


async def test_a_stream_dropped_while_its_image_waits_for_the_engine_is_counted_once(make_client):
    # The one engine thread is held by a slow first step of another request, so this stream's
    # image decode waits; the client leaves after the first keep-alive (0.4 s: inside the
    # service's 0.5 s poll for gone clients, so both the poll and the failed write of the
    # stream's next bytes may see it): one disconnect, one count, the slot freed.
    model = _slow_model()
    model.first_delay_s = 2.0
    client = await make_client(model, max_queue=2, keepalive_interval_s=0.4)
    busy = asyncio.ensure_future(client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=1)))
    await _until(lambda: _holds_slots(client, 1))
    async with aiohttp.ClientSession() as session:
        response = await session.post(client.make_url("/v1/chat/completions"),
                                      json=chat_body(image=data_uri(), stream=True))
        assert await response.content.readline() == b": keep-alive\n"
        response.close()
    assert (await busy).status == 200
    await _settled(client, 1)


async def _holds_slots(client, count: int) -> bool:
    return await _metric(client, "wan_queue_depth") == count


@contextlib.asynccontextmanager
async def _served_as_serve_runs_it(model, config):
    """The app on a plain web.AppRunner, as runtime/server/host.py runs it (handlers are not
    cancelled when the client goes away; aiohttp's test server cancels them); yields the port."""
    from aiohttp import web

    from runtime.server import create_app

    runner = web.AppRunner(create_app(model, config))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def test_an_upload_cut_off_mid_body_is_a_cancellation_not_a_server_error(fake_model, caplog):
    # A user trial: a client that closed its socket while sending its body was logged as a
    # 500 internal_error with a traceback and counted in wan_errors_total. The app runs as
    # `serve` runs it (runtime/server/host.py: web.AppRunner, whose handlers are not
    # cancelled when the client goes away, so the body's read raises instead; aiohttp's test
    # server cancels them, which hid this).
    from runtime.server import ServerConfig

    async with _served_as_serve_runs_it(fake_model, ServerConfig()) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /v1/read HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n" + b"{" + b" " * 1000)
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()
        await writer.wait_closed()
        async with aiohttp.ClientSession() as session:
            async def counted():
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    return 'route="/v1/read",status="' in await response.text()

            deadline = time.monotonic() + 10
            while not await counted():
                assert time.monotonic() < deadline, "the cut-off request was never counted"
                await asyncio.sleep(0.05)
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                metrics = await response.text()
    assert 'route="/v1/read",status="499"' in metrics
    assert 'code="internal_error"' not in metrics
    assert "Unexpected error" not in caplog.text


async def test_a_body_that_stops_arriving_gets_the_timeout_error_at_the_requests_deadline(fake_model):
    # A user trial: headers and 12 of 1000 announced bytes, then nothing: no reply after 400 s.
    from runtime.server import ServerConfig

    async with _served_as_serve_runs_it(fake_model, ServerConfig(request_timeout_s=0.5)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /v1/read HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n" + b'{"image": "')
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(4096), timeout=20)
        writer.close()
        await writer.wait_closed()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split()[1] == b"504", head
    assert b"did not arrive within the server's timeout of 0.5 s" in body
