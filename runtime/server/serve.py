"""`run_server`: bind at once, load the model on a thread, serve, shut down gracefully."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

from aiohttp import web

from .app import LOADED, SERVICE, create_app
from runtime.api.config import ServerConfig

logger = logging.getLogger("runtime.server")

EXIT_CANNOT_LISTEN = 7  # the address could not be bound (port in use, privileged port, not our address)
# thread names given in app.py, runtime/scheduler.py, runtime/api/service.py and runtime/loading.py
_OUR_THREADS = ("wan-model-loader", "wan-engine", "wan-warm-up", "wan-twin-sessions")
_CANCEL_WAIT_S = 1.0  # for cancelled request handlers to unwind
_THREAD_EXIT_WAIT_S = 1.0  # for idle engine threads to notice the executor's shutdown


def run_server(load_model: Callable[[], object], config: ServerConfig) -> int:
    """Serve until SIGTERM/SIGINT; return the process exit code.

    Binds `config.host:config.port` at once and prints the URL; `/health` answers 503
    `{"status": "loading"}` while `load_model()` runs on a thread, 200 `{"status": "ok"}`
    after (a warm-up request then runs on a thread of its own). On the first SIGTERM/SIGINT:
    stop accepting, let requests in flight finish within `config.shutdown_grace_s`, cancel
    the rest, return 0. Repeated
    signals are ignored once shutdown has begun. If loading fails the error is logged and
    the return value is 1; if the address cannot be listened on (port in use, ...) a
    one-line error says why and what to change, and the return value is 7. A warning is
    printed when the server is reachable from other machines.

    The process is meant to end when this returns: if an engine step or the model load
    is still running after the grace period, the process exits at once (`os._exit`)
    rather than wait for it, or abort in onnxruntime's teardown.
    """
    gate = _ListenGate()
    try:
        code = asyncio.run(_serve(gate.hold(load_model), config, gate))
    except KeyboardInterrupt:  # a signal before our handlers were installed
        code = 130
    finally:
        gate.close()
    _exit_if_threads_remain(code)
    return code


class _ListenGate:
    """Holds the model load until the address is bound: a second instance on a busy port
    must fail at once, not start loading a model it then abandons mid-way."""

    def __init__(self):
        self._decided = threading.Event()
        self._listening = False

    def hold(self, load_model: Callable[[], object]) -> Callable[[], object]:
        def load_when_listening():
            self._decided.wait()
            if not self._listening:
                raise RuntimeError("not listening: the model is not loaded")
            return load_model()

        return load_when_listening

    def open(self) -> None:
        self._listening = True
        self._decided.set()

    def close(self) -> None:
        self._decided.set()


def _exit_if_threads_remain(code: int) -> None:
    """Exit now (flushing logs and output) if our loader, engine, warm-up or twin threads are
    still busy.

    Idle engine threads end as soon as the executor is shut down; a thread still inside
    onnxruntime would keep the process alive past the grace period, and one inside session
    creation or a run makes onnxruntime abort ('terminate called ...') at exit. The threads
    are looked for again after each wait: a load that ends meanwhile starts the twins'.
    """
    deadline = time.monotonic() + _THREAD_EXIT_WAIT_S
    while True:
        ours = [thread for thread in threading.enumerate()
                if thread.name.startswith(_OUR_THREADS) and thread is not threading.current_thread()]
        if not ours:
            return
        for thread in ours:
            thread.join(max(0.0, deadline - time.monotonic()))
        busy = sorted(thread.name for thread in ours if thread.is_alive())
        if busy or time.monotonic() >= deadline:
            break
    logger.warning("Exiting without waiting for %s (still running after the shutdown grace period).",
                   ", ".join(busy) or "threads started while stopping")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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


def _configure_logging(config: ServerConfig) -> None:
    """Log to stderr unless the caller already configured logging."""
    if logging.getLogger().handlers:
        return
    text_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format="%(message)s" if config.log_format == "json" else text_format)


async def _serve(load_model: Callable[[], object], config: ServerConfig, gate: _ListenGate) -> int:
    _configure_logging(config)
    app = create_app(load_model, config)
    in_flight = _InFlight()
    app.middlewares.append(in_flight.middleware)  # innermost: sees each request's own task
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=config.shutdown_grace_s)
    await runner.setup()
    stop = asyncio.Event()
    _install_signal_handlers(stop)
    try:
        site = web.TCPSite(runner, config.host, config.port)
        try:
            await site.start()
        except OSError as error:  # the port is taken, a privileged port, an address not ours
            print(f"error: {_listen_failure(config, error)}", file=sys.stderr, flush=True)
            return EXIT_CANNOT_LISTEN
        gate.open()
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
        await site.stop()  # no new connections; idle keep-alive ones are closed
        runner.server.pre_shutdown()
        cancelled = await in_flight.finish(config.shutdown_grace_s)
        if cancelled:
            logger.info("Cancelled %d request(s) still running after the grace period.", cancelled)
        return 0
    finally:
        await runner.cleanup()


def _listen_failure(config: ServerConfig, error: OSError) -> str:
    where = f"{config.host}:{config.port}"
    if error.errno == errno.EADDRINUSE:
        return (f"cannot listen on {where}: port {config.port} is already in use (by another wan2.2-turbo or "
                "another program). Pick another port with --port N (or WAN_TURBO_PORT), or --port 0 for any free port.")
    if error.errno == errno.EACCES:
        return (f"cannot listen on {where}: permission denied (ports below 1024 need administrator rights). "
                "Pick a port of 1024 or above with --port N.")
    if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
        return (f"cannot listen on {where}: '{config.host}' is not an address of this machine. Use --host "
                "127.0.0.1 (this machine only) or --host 0.0.0.0 (every network interface).")
    return f"cannot listen on {where}: {error.strerror or error}."


def _bound_hosts(runner: web.AppRunner) -> list[str]:
    return [address[0] for address in runner.addresses if isinstance(address, tuple) and address]


def exposure_warning(hosts: list[str], has_api_key: bool) -> str | None:
    """A warning when any bound address is reachable from other machines, else None."""
    exposed = [host for host in hosts if not _is_loopback(host)]
    if not exposed:
        return None
    access = ("requests need the API key (--api-key), which travels in plain text: use a TLS proxy on "
              "untrusted networks" if has_api_key else
              "no --api-key is set, so anyone who can reach this port can use the API")
    return (f"listening on {', '.join(exposed)}, which other machines on the network can reach, not only this "
            f"one; {access}. Use --host 127.0.0.1 to serve this machine only.")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


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
