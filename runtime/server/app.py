"""The aiohttp application: thin routes over `ApiService`, middlewares for ids, errors, CORS, auth."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import aclosing

import msgspec
from aiohttp import web

from runtime.api import access, routes, sse
from runtime.api.bodies import find_model
from runtime.api.config import ServerConfig
from runtime.api.errors import envelope, error_reply, request_id_from
from runtime.api.forms import read_body as read_body_as
from runtime.api.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from runtime.api.openapi import openapi_document
from runtime.api.service import ApiService, RequestContext

from .page import PUBLIC_PATHS, PageFile, load_files
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


def create_app(model_or_loader, config: ServerConfig | None = None) -> web.Application:
    """Build the aiohttp application for one model.

    Args:
        model_or_loader: a loaded `Model` (served at once), or a callable returning one;
            the callable runs on a thread at start-up while `/health` answers 503
            `{"status": "loading"}` (a warm-up request runs after, on a thread of its own).
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
    for path, page_file in load_files().items():  # the web page at / (runtime/server/page/)
        app.router.add_get(path, _page_handler(page_file))
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/v1/models/{model_id}", model_detail)
    for path, route in routes.POST_ROUTES.items():  # runtime/api/routes.py, shared with the ASGI ingress
        app.router.add_post(path, _post_handler(route))


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
    began = getattr(loader, "started", None) or time.monotonic()  # a load begun before the app (serve.Loading)
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
    logger.info("Model %s loaded in %.1f s%s", service.model_id, time.monotonic() - began,
                " (a warm-up request follows on a thread)" if service.config.warmup else "")
    service.warm_up_later(model)
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


def _count_cancelled(request: web.Request) -> web.Response:
    """Count and log a request whose client went away (499); returns that reply."""
    service = request.app[SERVICE]
    response = web.Response(status=499)
    service.metrics.cancelled.inc()
    service.metrics.requests.labels(_route_name(request), request.method, "499").inc()
    _log_access(request, response, "cancelled")
    return response


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
        _count_cancelled(request)
        raise
    except ConnectionResetError:
        # The client went away while its body was read (an upload cut off): a cancellation
        # like the one above, not a server error; nobody is left to read a reply.
        return _count_cancelled(request)
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


@web.middleware
async def _cors_middleware(request: web.Request, handler):
    origin = request.headers.get("Origin")
    if origin is None:
        return await handler(request)
    access.check_origin(request.app[CONFIG].cors_origins, origin, f"{request.scheme}://{request.host}")
    request[CORS_ORIGIN] = origin
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        headers = access.preflight_headers(request.headers.get("Access-Control-Request-Headers"))
        return web.Response(status=204, headers=headers)
    return await handler(request)


@web.middleware
async def _auth_middleware(request: web.Request, handler):
    key = request.app[CONFIG].api_key
    # The page's files hold no data; the page asks for the key and sends it with each call.
    if key is None or request.path == "/health" or request.path in PUBLIC_PATHS:
        return await handler(request)
    access.check_api_key(key, request.headers.get("Authorization", ""))
    return await handler(request)


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    request_id = request.get(REQUEST_ID)
    if request_id:
        response.headers["X-Request-Id"] = request_id
    origin = request.get(CORS_ORIGIN)
    if origin:
        response.headers.update(access.cors_headers(origin))


# --- replies -----------------------------------------------------------------------------

def _reply(body: msgspec.Struct | dict, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response; bodies are built from runtime/api/schemas.py."""
    return web.Response(
        body=msgspec.json.encode(body), status=status, headers=headers,
        content_type="application/json", charset="utf-8",
    )


def _context(request: web.Request) -> RequestContext:
    def gone() -> bool:
        transport = request.transport
        return transport is None or transport.is_closing()

    return RequestContext(
        request[REQUEST_ID], request[STARTED], gone, request.app[CONFIG].request_timeout_s
    )


# --- routes ------------------------------------------------------------------------------

def _page_handler(page_file: PageFile):
    async def handler(request: web.Request) -> web.Response:
        status, headers, body = page_file.reply(request.headers.get("If-None-Match"))
        return web.Response(status=status, headers=headers, body=body or None)

    return handler


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


def _post_handler(route: routes.PostRoute):
    """An aiohttp handler for one of the shared POST routes (runtime/api/routes.py)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        service, context = request.app[SERVICE], _context(request)

        async def read_body():
            # Body parsing and its 415 live in runtime/api/forms.py, shared with the ASGI ingress;
            # read() raises aiohttp's 413 past client_max_size (--max-body-bytes).
            return await service.body(read_body_as(request.headers.get("Content-Type"), request.read, route.forms),
                                      context)

        result = await route.handler(service, read_body, context)
        if isinstance(result, routes.Streamed):
            return await _stream(request, result.events)
        return _reply(result)

    return handler


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
