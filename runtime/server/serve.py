"""`run_server`: bind at once, load the model on a thread, serve, shut down gracefully.

This module imports no aiohttp: the address is bound (`listen.bind`) and the model starts
loading before the web server's modules are imported (`host`, ~0.2 s of a cold start that
now runs beside the load).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

from runtime.api.config import ServerConfig

from .listen import ListenError, bind

logger = logging.getLogger("runtime.server")

EXIT_CANNOT_LISTEN = 7  # the address could not be bound (port in use, privileged port, not our address)
# thread names given here (Loading), in app.py, runtime/scheduler.py, runtime/api/service.py and
# runtime/loading.py
_OUR_THREADS = ("wan-model-loader", "wan-engine", "wan-warm-up", "wan-twin-sessions")
_THREAD_EXIT_WAIT_S = 1.0  # for idle engine threads to notice the executor's shutdown


def run_server(load_model: Callable[[], object], config: ServerConfig) -> int:
    """Serve until SIGTERM/SIGINT; return the process exit code.

    Binds `config.host:config.port` first (a second instance on a busy port fails at once,
    before loading anything), then starts `load_model()` on a thread and, while it runs,
    starts the web server and prints the URL; `/health` answers 503 `{"status": "loading"}`
    until the load ends, 200 `{"status": "ok"}` after (a warm-up request then runs on a
    thread of its own). On the first SIGTERM/SIGINT: stop accepting, let requests in flight
    finish within `config.shutdown_grace_s`, cancel the rest, return 0. Repeated
    signals are ignored once shutdown has begun. If loading fails the error is logged and
    the return value is 1; if the address cannot be listened on (port in use, ...) a
    one-line error says why and what to change, and the return value is 7. A warning is
    printed when the server is reachable from other machines.

    The process is meant to end when this returns: if an engine step or the model load
    is still running after the grace period, the process exits at once (`os._exit`)
    rather than wait for it, or abort in onnxruntime's teardown.
    """
    _configure_logging(config)
    try:
        sockets = bind(config.host, config.port)
    except ListenError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return EXIT_CANNOT_LISTEN
    # The port accepts connections from here on, before the event loop's handlers exist: a
    # SIGTERM/SIGINT meanwhile is kept and stops the server as soon as it serves (exit 0).
    stop_asked = threading.Event()
    _keep_stop_signals(stop_asked)
    loading = Loading(load_model)
    code = 1
    try:
        from .host import serve_on  # aiohttp and the app, imported while the model loads

        code = asyncio.run(serve_on(sockets, loading, config, stop_asked))
    except KeyboardInterrupt:  # a signal before our handlers were installed
        code = 130
    except Exception:
        # logged here: with the load still running, the exit below does not return to raise it
        logger.exception("The server stopped on an unexpected error.")
        raise
    finally:
        for sock in sockets:
            sock.close()
        _exit_if_threads_remain(code)
    return code


def _keep_stop_signals(stop_asked: threading.Event) -> None:
    """Until the event loop installs its own, SIGTERM and SIGINT set `stop_asked` (main
    thread only: elsewhere Python cannot set handlers, and run_server's caller owns them)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_asked.set())


class Loading:
    """A model load started on a thread of its own ("wan-model-loader") as soon as the address
    is bound; calling the object waits for it and returns the model or raises its error (the
    app calls it from its loader thread once it serves)."""

    def __init__(self, load_model: Callable[[], object]):
        self.started = time.monotonic()  # for the log's "loaded in N s"
        self._done = threading.Event()
        self._model: object = None
        self._error: BaseException | None = None
        threading.Thread(target=self._load, args=(load_model,), name="wan-model-loader", daemon=True).start()

    def _load(self, load_model: Callable[[], object]) -> None:
        try:
            self._model = load_model()
        except BaseException as error:  # noqa: BLE001 - raised to the caller of __call__
            self._error = error
        finally:
            self._done.set()

    def __call__(self) -> object:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._model


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


def _configure_logging(config: ServerConfig) -> None:
    """Log to stderr unless the caller already configured logging."""
    if logging.getLogger().handlers:
        return
    text_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format="%(message)s" if config.log_format == "json" else text_format)


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
