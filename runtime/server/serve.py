"""`run_server`: bind at once, load the model on a thread, serve, shut down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable

from aiohttp import web

from .app import LOADED, SERVICE, create_app
from runtime.api.config import ServerConfig

logger = logging.getLogger("runtime.server")


def run_server(load_model: Callable[[], object], config: ServerConfig) -> int:
    """Serve until SIGTERM/SIGINT; return the process exit code.

    Binds `config.host:config.port` at once and prints the URL; `/health` answers 503
    `{"status": "loading"}` while `load_model()` runs on a thread (then a warm-up request),
    200 `{"status": "ok"}` after. On the first SIGTERM/SIGINT: stop accepting, let requests
    in flight finish within `config.shutdown_grace_s`, cancel the rest, return 0. Repeated
    signals are ignored once shutdown has begun. If loading fails the error is logged and
    the return value is 1.
    """
    try:
        return asyncio.run(_serve(load_model, config))
    except KeyboardInterrupt:  # a signal before our handlers were installed
        return 130


def _configure_logging(config: ServerConfig) -> None:
    """Log to stderr unless the caller already configured logging."""
    if logging.getLogger().handlers:
        return
    text_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format="%(message)s" if config.log_format == "json" else text_format)


async def _serve(load_model: Callable[[], object], config: ServerConfig) -> int:
    _configure_logging(config)
    app = create_app(load_model, config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=config.shutdown_grace_s)
    await runner.setup()
    stop = asyncio.Event()
    _install_signal_handlers(stop)
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        url = _url(runner, config)
        print(f"Loading model; listening on {url}", flush=True)
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
        return 0
    finally:
        await runner.cleanup()


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


def _url(runner: web.AppRunner, config: ServerConfig) -> str:
    host, port = config.host, config.port
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            port = address[1]
            break
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
