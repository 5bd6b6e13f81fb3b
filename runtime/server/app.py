"""The aiohttp application: thin routes over `ApiService`, middlewares for ids, errors, CORS, auth."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import aclosing
from urllib.parse import urlsplit

import msgspec
from aiohttp import web

from runtime.api import completions, native, openai, sse
from runtime.api.bodies import find_model, parse_json
from runtime.api.config import ServerConfig
from runtime.api.errors import ApiError, envelope, error_reply, request_id_from
from runtime.api.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from runtime.api.openapi import openapi_document
from runtime.api.service import ApiService, RequestContext

from .forms import read_form
from .page import PUBLIC_PATHS, add_page_routes
from .remote import fetch_remote_image

logger = logging.getLogger("runtime.server")
access_logger = logging.getLogger("runtime.server.access")

SERVICE = web.AppKey("service", ApiService)
CONFIG = web.AppKey("config", ServerConfig)
LOADER = web.AppKey("loader", object)
LOADED = web.AppKey("loaded", asyncio.Future)
REQUEST_ID = web.RequestKey("request_id", str)
STARTED = web.RequestKey("started", float)
CORS_ORIGIN = web.RequestKey("cors_origin", str)

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_JSON_TYPES = frozenset({"application/json"})
_FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def create_app(model_or_loader, config: ServerConfig | None = None) -> web.Application:
    """Build the aiohttp application for one model.

    Args:
        model_or_loader: a loaded `Model` (served at once), or a callable returning one;
            the callable runs on a thread at start-up (then a warm-up request) while
            `/health` answers 503 `{"status": "loading"}`.
        config: server settings; `ServerConfig()` when None.

    Returns:
        The application. `app[LOADED]` (set at start-up) resolves to the model, or raises
        the loading error.
    """
    config = config or ServerConfig()
    loader = model_or_loader if callable(model_or_loader) else None
    service = ApiService(config, None if loader else model_or_loader, fetch_remote_image)
    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[_core_middleware, _cors_middleware, _auth_middleware],
    )
    app[CONFIG] = config
    app[SERVICE] = service
    app[LOADER] = loader
    app.cleanup_ctx.append(_lifecycle)
    app.on_response_prepare.append(_add_headers)
    _add_routes(app)
    return app


def _add_routes(app: web.Application) -> None:
    add_page_routes(app)  # the web page at / (runtime/server/page/)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/v1/models/{model_id}", model_detail)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/completions", text_completions)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/v1/generate", generate)
    app.router.add_post("/v1/read", read)
    app.router.add_post("/v1/detect", detect)
    app.router.add_post("/v1/rank", rank)
    app.router.add_post("/v1/seed", seed)


# --- lifecycle ---------------------------------------------------------------------------

async def _lifecycle(app: web.Application):
    """Start loading the model (if given a loader); on cleanup stop the engine threads."""
    service = app[SERVICE]
    loop = asyncio.get_running_loop()
    loaded = loop.create_future()
    app[LOADED] = loaded
    loader = app[LOADER]
    task = None
    if loader is None:
        loaded.set_result(service.model)
    else:
        task = asyncio.create_task(_load(service, loader, loaded))
    yield
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    service.engine.shutdown()


async def _load(service: ApiService, loader: Callable, loaded: asyncio.Future) -> None:
    began = time.monotonic()
    try:
        model = await _in_daemon_thread(service.load, loader)
    except Exception as error:  # noqa: BLE001 - reported to run_server, which exits non-zero
        service.status = "failed"
        service.load_error = error
        logger.error("Loading the model failed: %s", error, exc_info=not hasattr(error, "code"))
        if not loaded.done():
            loaded.set_exception(error)
        return
    service.set_model(model)
    logger.info("Model %s loaded and warmed up in %.1f s", service.model_id, time.monotonic() - began)
    if not loaded.done():
        loaded.set_result(model)


def _in_daemon_thread(function: Callable, *args) -> asyncio.Future:
    """Run a blocking call on a daemon thread (a signal during a long load must not wait)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(method, value):
        if not future.done():
            method(value)

    def target():
        try:
            result = function(*args)
        except BaseException as error:  # noqa: BLE001 - handed to the loop
            outcome = (future.set_exception, error)
        else:
            outcome = (future.set_result, result)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop closed while we were loading
            pass

    threading.Thread(target=target, name="wan-model-loader", daemon=True).start()
    return future


# --- middlewares -------------------------------------------------------------------------

def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def _core_middleware(request: web.Request, handler):
    """Request id, the error envelope for everything, access log and request metrics."""
    request[REQUEST_ID] = request_id_from(request.headers.get("X-Request-Id"))
    request[STARTED] = time.monotonic()
    service = request.app[SERVICE]
    error_code = None
    try:
        response = await handler(request)
    except asyncio.CancelledError:
        # aiohttp cancels the handler when the client goes away (or at the end of the
        # shutdown grace period); the engine work stops where it stands (service.py).
        service.metrics.cancelled.inc()
        service.metrics.requests.labels(_route_name(request), request.method, "499").inc()
        _log_access(request, web.Response(status=499), "cancelled")
        raise
    except web.HTTPException as error:
        if error.status < 400:
            raise
        response, error_code = _http_error(error, request)
    except Exception as error:  # noqa: BLE001 - the one place that maps exceptions to replies
        reply = error_reply(error, request[REQUEST_ID])
        if reply.unexpected:
            logger.error("Unexpected error (request %s)", request[REQUEST_ID], exc_info=error)
        error_code = reply.body["error"]["code"]
        response = _reply(reply.body, reply.status, reply.headers)
    if error_code is not None:
        service.metrics.errors.labels(error_code).inc()
    service.metrics.requests.labels(_route_name(request), request.method, str(response.status)).inc()
    _log_access(request, response, error_code)
    return response


_HTTP_CODES = {
    404: ("invalid_request_error", "not_found", "No such route: {path}. GET /openapi.json lists the API."),
    405: ("invalid_request_error", "method_not_allowed", "{method} is not allowed on {path}."),
    413: (
        "invalid_request_error",
        "request_too_large",
        "The request body is over the server's limit of {limit} bytes (--max-body-bytes).",
    ),
}


def _http_error(error: web.HTTPException, request: web.Request) -> tuple[web.Response, str]:
    """aiohttp's own 404 / 405 / 413 (body over client_max_size) in our envelope."""
    error_type, code, template = _HTTP_CODES.get(
        error.status, ("invalid_request_error", f"http_{error.status}", error.reason or "HTTP error")
    )
    message = template.format(path=request.path, method=request.method, limit=request.app[CONFIG].max_body_bytes)
    headers = {k: v for k, v in error.headers.items() if k in ("Allow",)}
    return _reply(envelope(message, error_type, code), error.status, headers), code


def _log_access(request: web.Request, response: web.StreamResponse, error_code: str | None) -> None:
    duration_ms = (time.monotonic() - request[STARTED]) * 1000
    if request.app[CONFIG].log_format == "json":
        record = {
            "ts": time.time(),
            "request_id": request[REQUEST_ID],
            "remote": request.remote,
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "duration_ms": round(duration_ms, 3),
            "error": error_code,
        }
        access_logger.info(json.dumps(record))
    else:
        access_logger.info(
            '%s "%s %s" %d %.1fms id=%s%s', request.remote, request.method, request.path, response.status,
            duration_ms, request[REQUEST_ID], f" error={error_code}" if error_code else "",
        )


def _origin_allowed(request: web.Request, origin: str) -> bool:
    configured = request.app[CONFIG].cors_origins
    if "*" in configured or origin in configured:
        return True
    if origin == f"{request.scheme}://{request.host}" and _names_this_machine(urlsplit(origin).hostname):
        # Same origin: the page served by this server. Only when it is addressed by an IP
        # address or localhost: a page on a DNS name that the attacker re-points at this
        # server (DNS rebinding) sends matching Origin and Host headers (issue 12).
        return True
    if configured:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in _LOCAL_HOSTS


def _names_this_machine(hostname: str | None) -> bool:
    """An IP address or localhost, which no DNS record can re-point elsewhere."""
    if hostname in _LOCAL_HOSTS:
        return True
    try:
        ipaddress.ip_address((hostname or "").split("%", 1)[0])
    except ValueError:
        return False
    return True


@web.middleware
async def _cors_middleware(request: web.Request, handler):
    origin = request.headers.get("Origin")
    if origin is None:
        return await handler(request)
    if not _origin_allowed(request, origin):
        raise ApiError(
            403,
            f"Cross-origin requests from {origin} are refused; start the server with --cors-origin "
            f"{origin} to allow them.",
            error_type="invalid_request_error",
            code="cors_origin_refused",
        )
    request[CORS_ORIGIN] = origin
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        headers = {
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": request.headers.get(
                "Access-Control-Request-Headers", "Authorization, Content-Type, X-Request-Id"
            ),
            "Access-Control-Max-Age": "600",
        }
        return web.Response(status=204, headers=headers)
    return await handler(request)


@web.middleware
async def _auth_middleware(request: web.Request, handler):
    key = request.app[CONFIG].api_key
    # The page's files hold no data; the page asks for the key and sends it with each call.
    if key is None or request.path == "/health" or request.path in PUBLIC_PATHS:
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    # Constant time (hmac), so response timing does not reveal how much of a guess was right.
    # aiohttp keeps undecodable header bytes as surrogates: encode them back, never fail.
    presented = token.strip().encode("utf-8", "surrogateescape")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented, key.encode("utf-8", "surrogateescape")):
        raise ApiError(
            401,
            "Missing or wrong API key: send 'Authorization: Bearer <key>' with the key the server was "
            "started with (--api-key).",
            error_type="authentication_error",
            code="invalid_api_key",
            headers={"WWW-Authenticate": 'Bearer realm="wan2.2-turbo"'},
        )
    return await handler(request)


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    request_id = request.get(REQUEST_ID)
    if request_id:
        response.headers["X-Request-Id"] = request_id
    origin = request.get(CORS_ORIGIN)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "X-Request-Id, Retry-After"
        response.headers["Vary"] = "Origin"


# --- body reading ------------------------------------------------------------------------

def _reply(body: msgspec.Struct | dict, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response; bodies are built from runtime/api/schemas.py."""
    return web.Response(
        body=msgspec.json.encode(body), status=status, headers=headers,
        content_type="application/json", charset="utf-8",
    )


async def _json_body(request: web.Request, accepted: str = "application/json") -> object:
    if request.content_type not in _JSON_TYPES:
        raise ApiError(
            415,
            f"Content-Type must be {accepted} (got '{request.content_type}').",
            error_type="invalid_request_error",
            code="unsupported_media_type",
        )
    return parse_json(await request.read())


async def _json_or_form(request: web.Request) -> object:
    """JSON, or a form (multipart: text fields + an `image` file; or url-encoded text
    fields) as a `native.FormBody`."""
    if request.content_type not in _FORM_TYPES:
        return await _json_body(request, "application/json, multipart/form-data or application/x-www-form-urlencoded")
    fields, files = await read_form(request, request.app[CONFIG].max_body_bytes)
    return native.form_to_body(fields, files)


def _context(request: web.Request) -> RequestContext:
    def gone() -> bool:
        transport = request.transport
        return transport is None or transport.is_closing()

    return RequestContext(
        request[REQUEST_ID], request[STARTED], gone, request.app[CONFIG].request_timeout_s
    )


# --- routes ------------------------------------------------------------------------------

async def health(request: web.Request) -> web.Response:
    status, body = request.app[SERVICE].health()
    return _reply(body, status)


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=request.app[SERVICE].metrics.render())
    response.headers["Content-Type"] = METRICS_CONTENT_TYPE
    return response


async def openapi(request: web.Request) -> web.Response:
    return _reply(openapi_document())


async def models(request: web.Request) -> web.Response:
    return _reply(request.app[SERVICE].models())


async def model_detail(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    listing = service.models()
    find_model(request.match_info["model_id"], service.served_ids)
    return _reply(listing.data[0])


async def chat_completions(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    model = service.require_model()
    call = openai.parse_chat_request(
        await _json_body(request), service.served_ids, model.tasks, model.max_seq_len, model.count_prompt_tokens
    )
    context = _context(request)
    if not call.stream:
        return _reply(await service.chat(call, context))
    return await _stream(request, service.chat_stream(call, context))


async def text_completions(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    model = service.require_model()
    call = completions.parse_completion_request(
        await _json_body(request), service.served_ids, model.tasks, model.max_seq_len, model.count_prompt_tokens
    )
    context = _context(request)
    if not call.stream:
        return _reply(await service.completions(call, context))
    return await _stream(request, service.completions_stream(call, context))


async def _stream(request: web.Request, events) -> web.StreamResponse:
    """Send an SSE byte stream; errors before its first event become a JSON reply."""
    response = web.StreamResponse(
        headers={"Content-Type": sse.CONTENT_TYPE, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    async with aclosing(events):
        first = await events.__anext__()  # errors before the first byte become a JSON reply
        await response.prepare(request)
        try:
            await response.write(first)
            async for chunk in events:
                await response.write(chunk)
        except ConnectionResetError:
            # The client went away; leaving this block closes `events`, which stops the
            # generation and frees the slot.
            request.app[SERVICE].metrics.cancelled.inc()
            return response
    await response.write_eof()
    return response


async def embeddings(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    service.require_model()
    call = openai.parse_embeddings_request(await _json_body(request), service.served_ids)
    return _reply(await service.embeddings(call, _context(request)))


async def generate(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    model = service.require_model()
    call = native.parse_generate_request(
        await _json_or_form(request), service.served_ids, model.tasks, model.max_seq_len, model.count_prompt_tokens
    )
    return _reply(await service.generate(call, _context(request)))


async def read(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    service.require_model()
    image = native.parse_read_request(await _json_or_form(request), service.served_ids)
    return _reply(await service.read(image, _context(request)))


async def detect(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    service.require_model()
    image = native.parse_detect_request(await _json_or_form(request), service.served_ids)
    return _reply(await service.detect(image, _context(request)))


async def rank(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    service.require_model()
    call = native.parse_rank_request(await _json_body(request), service.served_ids)
    return _reply(await service.rank(call, _context(request)))


async def seed(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    service.require_model()
    text = native.parse_seed_request(await _json_body(request), service.served_ids)
    return _reply(await service.seed(text, _context(request)))
