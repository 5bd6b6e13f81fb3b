"""`runtime.server.listen.bind` and `serve.Loading`: the port first, then the load, before aiohttp."""

from __future__ import annotations

import errno
import os
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_empty_host_binds_every_interface_as_asyncio_does():
    port = _free_port()
    sockets = bind("", port)
    try:
        assert sockets and {sock.getsockname()[1] for sock in sockets} == {port}
        assert all(sock.getsockname()[0] in ("0.0.0.0", "::") for sock in sockets)
        for sock in sockets:
            if os.name == "posix":  # a restart binds again at once (TIME_WAIT)
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
            if sock.family == socket.AF_INET6:  # the IPv4 socket beside it takes IPv4
                assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
    finally:
        for sock in sockets:
            sock.close()


def test_an_address_the_machine_lacks_is_skipped_if_another_binds(monkeypatch):
    """"localhost" may resolve to ::1 where loopback has no IPv6 (a container): as asyncio
    does since Python 3.12, serve the addresses that bind."""
    port = _free_port()
    infos = [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", port, 0, 0)),
             (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: infos)
    real_bind = socket.socket.bind

    class NoIPv6(socket.socket):
        def bind(self, address):
            if self.family == socket.AF_INET6:
                raise OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")
            return real_bind(self, address)

    monkeypatch.setattr(socket, "socket", NoIPv6)
    sockets = bind("localhost", port)
    try:
        assert [sock.getsockname() for sock in sockets] == [("127.0.0.1", port)]
    finally:
        for sock in sockets:
            sock.close()
    infos.pop()  # only the address it lacks: refused, with the reason
    with pytest.raises(ListenError) as raised:
        bind("localhost", port)
    assert raised.value.errno == errno.EADDRNOTAVAIL and "not an address of this machine" in str(raised.value)


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
