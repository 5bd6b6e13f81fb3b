"""The server's listening sockets, bound before anything heavy is imported or loaded.

`bind` takes the address first thing at start-up, so a second instance on a busy port fails
at once (exit 7) and the model can start loading while the web server's own modules are
imported (issue 13, comparison 6: aiohttp and its SSL contexts take ~0.2 s of a cold start).
This module imports no aiohttp: `serve.run_server` calls it before the app's modules load.
The sockets are bound as asyncio's `create_server` binds a host and port (every address the
host resolves to, `SO_REUSEADDR` on POSIX, IPv6 sockets IPv6-only) and handed to aiohttp
as they are.
"""

from __future__ import annotations

import errno
import os
import socket
import sys

BACKLOG = 128  # aiohttp's TCPSite default


class ListenError(Exception):
    """The address cannot be listened on; `str()` says why and what to change."""

    def __init__(self, message: str, error: OSError):
        super().__init__(message)
        self.errno = error.errno


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening, non-blocking sockets for every address `host` resolves to (all interfaces
    for ""), port `port` (0: any free port). Raises `ListenError` with the reason."""
    try:
        infos = socket.getaddrinfo(host or None, port, family=socket.AF_UNSPEC, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except OSError as error:  # socket.gaierror: not a name or address this machine resolves
        raise ListenError(failure(host, port, error), error) from None
    sockets: list[socket.socket] = []
    unavailable = OSError(errno.EADDRNOTAVAIL, "no address of this machine")
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            try:
                sock = socket.socket(family, kind, proto)
            except OSError:  # a family this machine lacks (IPv6 turned off): as asyncio, skip it
                continue
            try:
                if os.name == "posix" and sys.platform != "cygwin":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
                if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, True)  # as asyncio: no dual stack
                sock.bind(address)
            except OSError as error:
                sock.close()  # not yet in `sockets`: closed here, whatever failed
                if error.errno != errno.EADDRNOTAVAIL:
                    raise
                # "localhost" resolving to ::1 where loopback has no IPv6: as asyncio does
                # since Python 3.12, skip that address and serve the others
                unavailable = error
                continue
            sockets.append(sock)
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except OSError as error:
        for sock in sockets:
            sock.close()
        raise ListenError(failure(host, port, error), error) from None
    if not sockets:
        raise ListenError(failure(host, port, unavailable), unavailable)
    return sockets


def failure(host: str, port: int, error: OSError) -> str:
    """One line: why `host:port` cannot be listened on, and what to change."""
    where = f"{host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return (f"cannot listen on {where}: port {port} is already in use (by another wan2.2-turbo or "
                "another program). Pick another port with --port N (or WAN_TURBO_PORT), or --port 0 for any free port.")
    if error.errno == errno.EACCES:
        return (f"cannot listen on {where}: permission denied (ports below 1024 need administrator rights). "
                "Pick a port of 1024 or above with --port N.")
    if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
        return (f"cannot listen on {where}: '{host}' is not an address of this machine. Use --host "
                "127.0.0.1 (this machine only) or --host 0.0.0.0 (every network interface).")
    return f"cannot listen on {where}: {error.strerror or error}."
