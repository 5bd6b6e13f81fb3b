"""The queue-depth gauges on /metrics (issue 16): `wan_requests_waiting` counts requests that
hold a queue slot but whose engine work has not started, `wan_requests_running` those whose
work has; together they are `wan_queue_depth`. A cluster autoscales on them."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from http_fakes import FakeModel, chat_body, data_uri

pytestmark = pytest.mark.asyncio


async def _gauges(client) -> tuple[float, float, float]:
    text = await (await client.get("/metrics")).text()
    values = []
    for name in ("wan_requests_waiting", "wan_requests_running", "wan_queue_depth"):
        match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
        assert match, f"{name} not in /metrics"
        values.append(float(match.group(1)))
    return tuple(values)


async def _until(client, wanted: tuple[float, float, float], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while (seen := await _gauges(client)) != wanted:
        assert time.monotonic() < deadline, f"gauges stayed at {seen}, expected {wanted}"
        await asyncio.sleep(0.02)


async def test_an_idle_server_reports_nothing_waiting_or_running(client):
    assert await _gauges(client) == (0, 0, 0)


async def test_requests_behind_a_busy_engine_are_waiting_and_the_one_in_progress_is_running(make_client):
    # One engine thread; the first request's first token takes 1.5 s, so the two after it
    # hold slots with their image decode queued behind it.
    model = FakeModel(first_delay_s=1.5)
    client = await make_client(model, max_queue=3)
    first = asyncio.ensure_future(client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=2)))
    await _until(client, (0, 1, 1))
    others = [asyncio.ensure_future(client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=2)))
              for _ in range(2)]
    await _until(client, (2, 1, 3))
    replies = await asyncio.gather(first, *others)
    assert [r.status for r in replies] == [200] * 3
    await _until(client, (0, 0, 0))


async def test_a_refused_request_is_counted_in_neither(make_client):
    model = FakeModel(first_delay_s=1.0)
    client = await make_client(model, max_queue=1)
    first = asyncio.ensure_future(client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=1)))
    await _until(client, (0, 1, 1))
    refused = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=1))
    assert refused.status == 503
    assert await _gauges(client) == (0, 1, 1)
    assert (await first).status == 200
    await _until(client, (0, 0, 0))
