"""`runtime.server.listen.bind` and `serve.Loading`: the port first, then the load, before aiohttp."""

from __future__ import annotations

import errno
import socket
import threading

import pytest

from runtime.server.listen import ListenError, bind
from runtime.server.serve import Loading


def test_bind_listens_on_a_free_port_and_a_busy_one_is_refused_with_advice():
    sockets = bind("127.0.0.1", 0)
    try:
        (sock,) = sockets
        host, port = sock.getsockname()
        assert host == "127.0.0.1" and port > 0 and not sock.getblocking()
        with socket.create_connection((host, port), timeout=5):  # it listens: a client connects
            pass
        with pytest.raises(ListenError) as raised:
            bind("127.0.0.1", port)
        assert raised.value.errno == errno.EADDRINUSE
        assert str(raised.value).startswith(f"cannot listen on 127.0.0.1:{port}: port {port} is already in use")
        assert "--port 0" in str(raised.value)
    finally:
        for sock in sockets:
            sock.close()


def test_bind_refuses_a_host_that_is_not_this_machines():
    with pytest.raises(ListenError) as raised:
        bind("no-such-host.invalid", 0)
    assert "'no-such-host.invalid' is not an address of this machine" in str(raised.value)
    assert "--host 127.0.0.1" in str(raised.value)


def test_an_empty_host_binds_every_interface():
    sockets = bind("", 0)
    try:
        assert sockets and all(sock.getsockname()[0] in ("0.0.0.0", "::") for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def test_loading_runs_at_once_on_its_own_thread_and_hands_over_the_model_or_the_error():
    started, release, names = threading.Event(), threading.Event(), []

    def load():
        names.append(threading.current_thread().name)
        started.set()
        release.wait(10)
        return "model"

    loading = Loading(load)
    assert started.wait(10)  # before anyone asks for the model
    release.set()
    assert loading() == "model" and names == ["wan-model-loader"]

    def fail():
        raise ValueError("bad bundle")

    with pytest.raises(ValueError, match="bad bundle"):
        Loading(fail)()
