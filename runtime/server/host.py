"""The aiohttp side of `run_server`: serve the app on sockets already bound, shut down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

from aiohttp import web

from runtime.api.config import ServerConfig

from .app import LOADED, SERVICE, create_app
from .serve import exposure_warning

logger = logging.getLogger("runtime.server")

_CANCEL_WAIT_S = 1.0  # for cancelled request handlers to unwind


class _InFlight:
    """The requests being handled, so that shutdown can wait for them for the grace period
    and then cancel the rest. (aiohttp's own shutdown_timeout waits twice over: once for
    the handlers, then again after asking them to stop, before it cancels them.)"""

    def __init__(self):
        self.tasks: set[asyncio.Task] = set()

        @web.middleware
        async def middleware(request: web.Request, handler):
            task = asyncio.current_task()
            self.tasks.add(task)
            try:
                return await handler(request)
            finally:
                self.tasks.discard(task)

        self.middleware = middleware

    async def finish(self, grace_s: float) -> int:
        """Wait up to `grace_s` for the requests in flight, cancel those left; how many were."""
        deadline = time.monotonic() + grace_s
        while self.tasks and time.monotonic() < deadline:
            await asyncio.wait(set(self.tasks), timeout=deadline - time.monotonic())
        left = set(self.tasks)
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=_CANCEL_WAIT_S)
        return len(left)


async def serve_on(sockets: list[socket.socket], load_model: Callable[[], object], config: ServerConfig,
                   stop_asked: threading.Event | None = None) -> int:
    """Serve the app for `load_model`'s model on the bound `sockets` until SIGTERM/SIGINT, or
    at once if `stop_asked` was set by one that came before the loop's handlers
    (`serve.run_server` says what happens then); the exit code."""
    app = create_app(load_model, config)
    in_flight = _InFlight()
    app.middlewares.append(in_flight.middleware)  # innermost: sees each request's own task
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=config.shutdown_grace_s)
    await runner.setup()
    stop = asyncio.Event()
    _install_signal_handlers(stop)
    if stop_asked is not None and stop_asked.is_set():
        stop.set()
    try:
        sites = [web.SockSite(runner, sock) for sock in sockets]
        for site in sites:
            await site.start()
        url = _url(runner, config)
        print(f"Loading model; listening on {url}", flush=True)
        warning = exposure_warning(_bound_hosts(runner), config.api_key is not None)
        if warning:
            print(f"warning: {warning}", file=sys.stderr, flush=True)
        loaded = app[LOADED]
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({loaded, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if loaded.done() and loaded.exception() is not None:
            stopping.cancel()
            return 1
        if loaded.done():
            print(f"Serving {app[SERVICE].model_id} on {url}", flush=True)
        await stopping
        logger.info("Shutting down: finishing requests in flight (up to %g s).", config.shutdown_grace_s)
        for site in sites:
            await site.stop()  # no new connections; idle keep-alive ones are closed
        runner.server.pre_shutdown()
        cancelled = await in_flight.finish(config.shutdown_grace_s)
        if cancelled:
            logger.info("Cancelled %d request(s) still running after the grace period.", cancelled)
        return 0
    finally:
        await runner.cleanup()


def _bound_hosts(runner: web.AppRunner) -> list[str]:
    return [address[0] for address in runner.addresses if isinstance(address, tuple) and address]


def _url(runner: web.AppRunner, config: ServerConfig) -> str:
    host, port = config.host, config.port
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            port = address[1]
            break
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _install_signal_handlers(stop: asyncio.Event) -> None:
    # Setting an Event is idempotent, so a second signal (e.g. sent to the whole process
    # group) changes nothing once shutdown began. Nothing is logged in the handler: writing
    # to a closed stderr there once made the app ignore SIGTERM.
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            if signum == signal.SIGINT and sys.platform == "win32":
                signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))
