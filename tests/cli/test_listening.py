"""`serve` on an address it cannot have, or one other machines can reach (issue 12)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.server.serve import EXIT_CANNOT_LISTEN, exposure_warning

REPO = Path(__file__).resolve().parents[2]


def _serve(*args) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAN_TURBO_")} | {"PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "launcher.cli", "serve", *map(str, args)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_second_server_on_a_busy_port_says_so_and_exits_non_zero(ocr_bundle):
    with socket.socket() as holder:  # the first instance
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        process = _serve("--model", ocr_bundle, "--port", port)
        try:
            out, err = process.communicate(timeout=120)
        finally:
            process.kill()
    assert process.returncode == EXIT_CANNOT_LISTEN == 7
    assert f"error: cannot listen on 127.0.0.1:{port}: port {port} is already in use" in err
    assert "--port N" in err and "--port 0" in err
    assert "Traceback" not in err and "Serving" not in out


@pytest.mark.slow
@pytest.mark.parametrize("api_key", [None, "k"])
def test_listening_beyond_loopback_warns_of_the_exposure(ocr_bundle, api_key):
    process = _serve("--model", ocr_bundle, "--host", "0.0.0.0", "--port", 0, *(["--api-key", api_key] if api_key else []))
    try:
        line = process.stdout.readline()
        assert line.startswith("Loading model; listening on http://0.0.0.0:"), line
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err
    warning, = [line for line in err.splitlines() if line.startswith("warning: listening on")]
    assert "0.0.0.0, which other machines on the network can reach" in warning
    assert ("no --api-key is set" in warning) is (api_key is None)
    assert ("requests need the API key (--api-key)" in warning) is (api_key is not None)


@pytest.mark.slow
def test_loopback_gives_no_exposure_warning(ocr_bundle):
    process = _serve("--model", ocr_bundle, "--port", 0)
    try:
        assert process.stdout.readline().startswith("Loading model; listening on http://127.0.0.1:")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0 and "warning" not in err


@pytest.mark.parametrize(
    ("hosts", "exposed"),
    [
        (["127.0.0.1"], None), (["::1"], None), (["127.0.0.1", "::1"], None), (["127.1.2.3"], None),
        (["0.0.0.0"], "0.0.0.0"), (["::"], "::"), (["192.168.1.20"], "192.168.1.20"),
        (["127.0.0.1", "10.0.0.5"], "10.0.0.5"), (["fe80::1%eth0"], "fe80::1%eth0"),
    ],
)
def test_exposure_warning_names_each_reachable_address(hosts, exposed):
    warning = exposure_warning(hosts, has_api_key=False)
    if exposed is None:
        assert warning is None
    else:
        assert warning.startswith(f"listening on {exposed}, which other machines")
