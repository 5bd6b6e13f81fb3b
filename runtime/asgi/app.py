"""`create_asgi_app`: Starlette routes over `ApiService`, the same routes as runtime/server/.

The routes, their parsing and replies, the access rules and the error table come from
runtime/api (routes.py, access.py, errors.py); this module only reads bodies and writes
responses. Body parsing (JSON and forms: runtime/api/forms.py) and the web page's files
(runtime/server/page/, transport-free) are the aiohttp server's too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import msgspec
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.api import access, routes, sse
from runtime.api.bodies import find_model
from runtime.api.errors import ApiError, envelope, error_reply, request_id_from
from runtime.api.forms import read_body
from runtime.api.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from runtime.api.openapi import openapi_document
from runtime.api.service import ApiService, RequestContext
from runtime.server.page import PUBLIC_PATHS, PageFile, load_files

logger = logging.getLogger("runtime.server")

REPLICA_HEADER = "X-Wan-Replica"  # which replica answered (issue 16: debugging, and the tests)
_STATE = "wan"  # this host's per-request facts, in the ASGI scope's "state"


def create_asgi_app(service: ApiService, replica: str | None = None) -> Starlette:
    """Build the ASGI application for a service whose model is loaded (or loading).

    Args:
        service: the `ApiService` to serve; its engine is shut down when the app stops.
        replica: sent as the `X-Wan-Replica` header of every response when given.

    Returns:
        A Starlette application (an ASGI callable).
    """

    @asynccontextmanager
    async def lifespan(app):
        yield
        service.engine.shutdown()

    route_table = [_get(service, path, _page_endpoint(page_file)) for path, page_file in load_files().items()]
    route_table += [
        _get(service, "/health", _health),
        _get(service, "/metrics", _metrics),
        _get(service, "/openapi.json", lambda s, r: _json(openapi_document())),
        _get(service, "/v1/models", lambda s, r: _json(s.models())),
        _get(service, "/v1/models/{model_id}", _model_detail),
    ]
    route_table += [Route(path, _post(service, path, route), methods=["POST"])
                    for path, route in routes.POST_ROUTES.items()]
    return Starlette(
        routes=route_table,
        middleware=[Middleware(_CoreMiddleware, service=service, replica=replica)],
        exception_handlers={404: _not_found, 405: _not_allowed},
        lifespan=lifespan,
    )


# --- per-request plumbing ----------------------------------------------------------------

class _CoreMiddleware:
    """Request id, CORS, API key, request metrics, and the id / replica / CORS reply headers."""

    def __init__(self, app: ASGIApp, service: ApiService, replica: str | None):
        self.app = app
        self.service = service
        self.replica = replica

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        facts = scope.setdefault("state", {}).setdefault(_STATE, {})
        facts["request_id"] = request_id_from(request.headers.get("x-request-id"))
        facts["started"] = time.monotonic()
        extra = {"x-request-id": facts["request_id"]}
        if self.replica:
            extra[REPLICA_HEADER.lower()] = self.replica
        status = {"code": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode("latin-1").lower() not in extra]
                headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
                message = {**message, "headers": headers}
            await send(message)

        config = self.service.config
        origin = request.headers.get("origin")
        try:
            if origin is not None:
                access.check_origin(config.cors_origins, origin, f"{request.url.scheme}://{request.url.netloc}")
                exposed = access.EXPOSED_HEADERS + (f", {REPLICA_HEADER}" if self.replica else "")
                extra.update({k.lower(): v for k, v in access.cors_headers(origin, exposed).items()})
                if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
                    preflight = access.preflight_headers(request.headers.get("access-control-request-headers"))
                    await Response(status_code=204, headers=preflight)(scope, receive, send_with_headers)
                    return
            # The page's files hold no data; the page asks for the key and sends it with each call.
            if request.url.path != "/health" and request.url.path not in PUBLIC_PATHS:
                access.check_api_key(config.api_key, request.headers.get("authorization", ""))
        except ApiError as error:
            reply = _error_response(self.service, error, facts["request_id"])
            await reply(scope, receive, send_with_headers)
        else:
            try:
                await self.app(scope, receive, send_with_headers)
            except asyncio.CancelledError:
                status["code"] = status["code"] or 499  # the client went away (Serve cancels the call)
                raise
        finally:
            route = facts.get("route", "unmatched")
            self.service.metrics.requests.labels(route, request.method, str(status["code"] or 499)).inc()


def _context(service: ApiService, request: Request) -> RequestContext:
    facts = request.scope["state"][_STATE]
    return RequestContext(facts["request_id"], facts["started"], timeout_s=service.config.request_timeout_s)


def _error_response(service: ApiService, error: BaseException, request_id: str) -> Response:
    reply = error_reply(error, request_id)
    if reply.unexpected:
        logger.error("Unexpected error (request %s)", request_id, exc_info=error)
    service.metrics.errors.labels(reply.body["error"]["code"] or "unknown").inc()
    return _json(reply.body, reply.status, reply.headers)


def _json(body, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, headers=headers,
                    media_type="application/json; charset=utf-8")


def _get(service: ApiService, path: str, handler: Callable[[ApiService, Request], Response]) -> Route:
    async def endpoint(request: Request) -> Response:
        request.scope["state"][_STATE]["route"] = path
        try:
            return handler(service, request)
        except Exception as error:  # noqa: BLE001 - mapped by type in runtime/api/errors.py
            return _error_response(service, error, request.scope["state"][_STATE]["request_id"])

    return Route(path, endpoint, methods=["GET"])


def _post(service: ApiService, path: str, route: routes.PostRoute):
    async def endpoint(request: Request) -> Response:
        facts = request.scope["state"][_STATE]
        facts["route"] = path
        try:
            context = _context(service, request)

            async def read():
                return await service.body(_read_body(service, request, route.forms), context)

            result = await route.handler(service, read, context)
            if isinstance(result, routes.Streamed):
                return await _stream(service, result)
            return _json(result)
        except Exception as error:  # noqa: BLE001 - mapped by type in runtime/api/errors.py
            return _error_response(service, error, facts["request_id"])

    return endpoint


def _read_body(service: ApiService, request: Request, forms: bool):
    """The body as the route parses it (runtime/api/forms.py, as the aiohttp server reads it)."""
    return read_body(request.headers.get("content-type"),
                     lambda: _read_limited(request, service.config.max_body_bytes), forms)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    received = int(declared) if declared.isdigit() else 0
    chunks = []
    if received <= limit:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                break
            chunks.append(chunk)
    if received > limit:
        raise ApiError(413, f"The request body is over the server's limit of {limit} bytes (--max-body-bytes).",
                       error_type="invalid_request_error", code="request_too_large")
    return b"".join(chunks)


async def _stream(service: ApiService, result: routes.Streamed) -> Response:
    """An SSE reply; errors before its first event propagate (and become a JSON reply)."""
    events = result.events
    try:
        first = await events.__anext__()
    except BaseException:
        await events.aclose()
        raise

    async def body():
        try:
            yield first
            async for chunk in events:
                yield chunk
        except (asyncio.CancelledError, GeneratorExit, OSError):
            service.metrics.cancelled.inc()  # the client went away: closing `events` frees the slot
            raise
        finally:
            await events.aclose()

    return StreamingResponse(body(), media_type=sse.CONTENT_TYPE,
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# --- GET routes and the router's own errors ----------------------------------------------

def _page_endpoint(page_file: PageFile) -> Callable[[ApiService, Request], Response]:
    def endpoint(service: ApiService, request: Request) -> Response:
        status, headers, body = page_file.reply(request.headers.get("if-none-match"))
        return Response(body, status_code=status, headers=headers)

    return endpoint


def _health(service: ApiService, request: Request) -> Response:
    status, body = service.health()
    return _json(body, status)


def _metrics(service: ApiService, request: Request) -> Response:
    return Response(service.metrics.render(), headers={"Content-Type": METRICS_CONTENT_TYPE})


def _model_detail(service: ApiService, request: Request) -> Response:
    listing = service.models()
    find_model(request.path_params["model_id"], service.served_ids)
    return _json(listing.data[0])


async def _not_found(request: Request, error) -> Response:
    body = envelope(f"No such route: {request.url.path}. GET /openapi.json lists the API.",
                    "invalid_request_error", "not_found")
    return _json(body, 404)


async def _not_allowed(request: Request, error) -> Response:
    body = envelope(f"{request.method} is not allowed on {request.url.path}.", "invalid_request_error",
                    "method_not_allowed")
    return _json(body, 405, {"Allow": (getattr(error, "headers", None) or {}).get("Allow", "")})


# --- in-process calls ----------------------------------------------------------------------

async def stream_app(app: ASGIApp, method: str, path: str, body: bytes = b"",
                     headers: list[tuple[str, str]] | None = None) -> AsyncIterator[tuple[int, list] | bytes]:
    """One HTTP request through `app` in this process (no socket), as it is answered: first
    `(status, headers)`, then each piece of the body as bytes.

    Closing the iterator early (the caller's client went away) cancels the request, which
    stops its generation and frees its queue slot.
    """
    header_list = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or [])]
    if body and b"content-length" not in {k for k, _ in header_list}:
        header_list.append((b"content-length", str(len(body)).encode()))
    path_only, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method.upper(),
             "scheme": "http", "path": path_only, "raw_path": path_only.encode(), "query_string": query.encode(),
             "root_path": "", "headers": header_list, "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 80)}
    messages: asyncio.Queue = asyncio.Queue()
    finished = asyncio.Event()
    body_sent = False

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def run() -> None:
        try:
            await app(scope, receive, messages.put)
        finally:
            messages.put_nowait(None)

    task = asyncio.ensure_future(run())
    try:
        while (message := await messages.get()) is not None:
            if message["type"] == "http.response.start":
                yield message["status"], [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    yield message["body"]
                if not message.get("more_body", False):
                    break
        await task  # the app's own exception, if it raised one
    finally:
        finished.set()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def call_app(app: ASGIApp, method: str, path: str, body: bytes = b"",
                   headers: list[tuple[str, str]] | None = None) -> tuple[int, dict[str, str], bytes]:
    """`stream_app` collected: (status, headers, whole body)."""
    status, reply_headers, chunks = 0, {}, []
    async for item in stream_app(app, method, path, body, headers):
        if isinstance(item, tuple):
            status, reply_headers = item[0], dict(item[1])
        else:
            chunks.append(item)
    return status, reply_headers, b"".join(chunks)
