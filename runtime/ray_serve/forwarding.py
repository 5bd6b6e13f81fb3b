"""The Serve ingress: a small ASGI app that hands each request to a model replica through a
deployment handle and relays the reply as it streams (issue 16).

Why a separate ingress rather than the model replicas' own ASGI app behind Serve's proxy: a
replica that dies with requests in flight makes the proxy answer 500. Here the failure
reaches code of ours: a request whose reply has not started is tried once more (on another
replica when there is one), and if that fails too it gets a clean 503 with Retry-After; a
reply already streaming is cut off (the client sees the stream close).

"Started" means the client has been sent something. The replica's status line and its body
are separate items of the handle's stream, so the status line is held until the body's first
bytes arrive: a replica killed between the two (seen under load: a 200 status line and then
nothing, the client's connection dropped) leaves nothing sent, and the request is retried. A
reply whose whole body (its Content-Length) has arrived is complete, even if the replica dies
before its stream formally ends.
"""

from __future__ import annotations

import json
import logging

from ray.exceptions import RayActorError
from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError
from starlette.types import Message, Receive, Scope, Send

from runtime.api.errors import error_reply, new_request_id
from runtime.errors import OverloadedError

logger = logging.getLogger("ray.serve")  # into the ingress replica's Serve log

_REPLICA_GONE = (RayActorError, DeploymentUnavailableError)
_TRIES = 2
RETRY_AFTER_S = 1


class ForwardingApp:
    """ASGI app: every HTTP request goes to `model.stream` (a `ModelReplica` handle)."""

    def __init__(self, model, max_body_bytes: int):
        self.model = model.options(stream=True)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive, self.max_body_bytes)
        path = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        for attempt in range(1, _TRIES + 1):
            relay = _Relay(send)
            try:
                async for item in self.model.stream.remote(scope["method"], path, body, headers):
                    await relay.forward(item)
                await relay.finish()
                return
            except _REPLICA_GONE as error:
                if relay.complete:
                    await relay.finish()
                    return
                if relay.started:
                    raise  # mid-reply: the proxy closes the connection, the client sees the stream end
                logger.warning("A replica failed before answering %s %s (try %d of %d): %s", scope["method"],
                               scope["path"], attempt, _TRIES, type(error).__name__)
            except BackPressureError:
                break
        await _send_unavailable(send)


class _Relay:
    """One replica's reply on its way to the client: `(status, headers)`, then body pieces.

    The status line goes out with the first body piece (or at the end, for an empty body),
    so until then nothing has been sent and the request can still be tried again.
    """

    def __init__(self, send: Send):
        self._send = send
        self._head: tuple[int, list] | None = None
        self._length: int | None = None  # the reply's Content-Length, when it has one
        self._sent_bytes = 0
        self.started = False  # the client has been sent the status line

    @property
    def complete(self) -> bool:
        """The client has the whole body its Content-Length announced."""
        return self.started and self._length is not None and self._sent_bytes >= self._length

    async def forward(self, item: tuple[int, list] | bytes) -> None:
        if isinstance(item, tuple):
            self._head = item
            length = next((v for k, v in item[1] if k.lower() == "content-length"), "")
            self._length = int(length) if length.isdigit() else None
            return
        await self._start()
        self._sent_bytes += len(item)
        await self._send({"type": "http.response.body", "body": item, "more_body": True})

    async def finish(self) -> None:
        await self._start()
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _start(self) -> None:
        if self.started:
            return
        if self._head is None:
            raise RuntimeError("The replica's reply ended before its status line.")
        status, headers = self._head
        self.started = True
        await self._send({"type": "http.response.start", "status": status,
                          "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]})


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The request body, or its first `limit` + 1 bytes: the replica answers 413 past `limit`."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send_unavailable(send: Send) -> None:
    """503 + Retry-After in the API's error envelope (runtime/api/errors.py's table)."""
    request_id = new_request_id()
    reply = error_reply(OverloadedError("No replica could answer: one stopped, or all are busy; retry shortly.",
                                        retry_after_s=RETRY_AFTER_S), request_id)
    headers = {"content-type": "application/json; charset=utf-8", "x-request-id": request_id, **reply.headers}
    await send({"type": "http.response.start", "status": reply.status,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]})
    await send({"type": "http.response.body", "body": json.dumps(reply.body).encode(), "more_body": False})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
