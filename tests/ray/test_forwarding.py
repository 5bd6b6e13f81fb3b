"""The Serve ingress's relay (runtime/ray_serve/forwarding.py) against a scripted deployment
handle: where in a reply a replica dies decides whether the request is tried again, answered
503, or cut off. No cluster: the handle's stream is a list of items and errors.

The cluster test (test_cluster.py) kills a real replica at a random moment; these pin down
each moment it can hit, including the one it hit 1 run in 4 under load: after the replica's
status line, before its body (the client got a 200 status line and then a dropped connection).
"""

from __future__ import annotations

import ray_support  # noqa: F401  (first: it imports Ray with its one known warning allowed)

import json

import pytest
from ray.exceptions import ActorDiedError, ActorUnavailableError
from ray.serve.exceptions import BackPressureError

from runtime.asgi import call_app, stream_app
from runtime.ray_serve.forwarding import ForwardingApp

pytestmark = pytest.mark.asyncio

BODY = b'{"text": "a cat"}'
HEAD = (200, [("content-type", "application/json"), ("content-length", str(len(BODY)))])
SSE_HEAD = (200, [("content-type", "text/event-stream")])


class ScriptedHandle:
    """A `ModelReplica` deployment handle whose n-th `stream` call yields script n; an
    exception in a script is raised where it stands (a replica lost at that point)."""

    def __init__(self, *scripts: list):
        self.scripts = list(scripts)
        self.calls = 0

    def options(self, **_):
        return self

    @property
    def stream(self):
        return self

    def remote(self, method, path, body, headers):
        script = self.scripts[self.calls]
        self.calls += 1
        return self._items(script)

    @staticmethod
    async def _items(script):
        for item in script:
            if isinstance(item, BaseException):
                raise item
            yield item


async def _ask(handle: ScriptedHandle):
    return await call_app(ForwardingApp(handle, max_body_bytes=1000), "POST", "/v1/generate", b"{}",
                          [("content-type", "application/json")])


async def test_a_replica_lost_between_its_status_line_and_its_body_is_retried():
    handle = ScriptedHandle([HEAD, ActorDiedError()], [HEAD, BODY])
    status, headers, body = await _ask(handle)
    assert (status, body, handle.calls) == (200, BODY, 2)
    assert headers["content-length"] == str(len(BODY))


async def test_a_replica_lost_before_anything_is_retried_then_503():
    handle = ScriptedHandle([ActorUnavailableError("gone", None)], [HEAD, ActorDiedError()])
    status, headers, body = await _ask(handle)
    assert (status, handle.calls) == (503, 2)
    assert headers["retry-after"] == "1"
    assert json.loads(body)["error"]["type"] == "overloaded_error"


async def test_a_whole_body_that_arrived_before_the_replica_died_is_the_answer():
    handle = ScriptedHandle([HEAD, BODY, ActorDiedError()])
    status, _, body = await _ask(handle)
    assert (status, body, handle.calls) == (200, BODY, 1)


async def test_a_stream_already_sent_is_cut_off_not_retried():
    handle = ScriptedHandle([SSE_HEAD, b"data: 1\n\n", ActorDiedError()], [SSE_HEAD, b"data: again\n\n"])
    items = stream_app(ForwardingApp(handle, max_body_bytes=1000), "POST", "/v1/chat/completions", b"{}")
    assert await items.__anext__() == SSE_HEAD
    assert await items.__anext__() == b"data: 1\n\n"
    with pytest.raises(ActorDiedError):
        await items.__anext__()
    assert handle.calls == 1


async def test_back_pressure_is_503_at_once():
    handle = ScriptedHandle([BackPressureError(num_queued_requests=9, max_queued_requests=8)])
    status, _, _ = await _ask(handle)
    assert (status, handle.calls) == (503, 1)


async def test_an_empty_reply_keeps_its_status():
    handle = ScriptedHandle([(204, [("x-request-id", "req_1")])])
    status, headers, body = await _ask(handle)
    assert (status, body, headers["x-request-id"]) == (204, b"", "req_1")
