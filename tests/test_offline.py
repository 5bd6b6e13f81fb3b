"""When `python3 build.py test` runs the suite offline, check that it really is."""

import os
import socket

import pytest

from offline import MARKER


@pytest.mark.skipif(os.environ.get(MARKER) != "1", reason="the suite was not started offline (build.py test does that)")
def test_the_suite_runs_with_loopback_only():
    interfaces = sorted(name for _, name in socket.if_nameindex())
    assert interfaces == ["lo"], f"network interfaces visible to the tests: {interfaces}"
    with socket.create_server(("127.0.0.1", 0)) as server:  # loopback itself works
        port = server.getsockname()[1]
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
