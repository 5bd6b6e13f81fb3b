"""SIGTERM while requests are in flight (issue 12): the short ones finish, the ones that would
outlast the grace period are cancelled, the process exits 0 and frees its port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GRACE_S = 10
SLOW_STEP_S = 600  # one engine step far longer than any wait below: only cancellation ends it

SCRIPT = f"""
import sys, time
sys.path.insert(0, {str(HERE)!r})
from http_fakes import FakeModel
from runtime.config import ModelConfig
from runtime.server import ServerConfig, run_server

class PacedModel(FakeModel):
    # A prompt containing "slow" takes {SLOW_STEP_S} s per token (a step stuck in the engine), others 1 s.
    def stream(self, task, image, prompt="", history=(), **params):
        events = super().stream(task, image, prompt, history, **params)
        delay = {SLOW_STEP_S} if "slow" in prompt else 1.0

        def paced():
            for event in events:
                time.sleep(delay)
                yield event

        return paced()

def load():
    model = PacedModel()
    model.config = ModelConfig(workers=64)  # every request runs at once: none waits behind a slow one
    return model

sys.exit(run_server(load, ServerConfig(port=0, shutdown_grace_s={GRACE_S}, max_queue=64, warmup=False)))
"""


def _metric(url: str, name: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=30) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


@pytest.mark.slow
def test_sigterm_under_load_finishes_short_requests_cancels_the_rest_and_exits_0():
    process = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    outcomes: dict[str, list] = {"fast": [], "slow": []}
    try:
        url = process.stdout.readline().split("listening on ")[1].strip()
        assert process.stdout.readline().startswith("Serving fake-vlm")
        # The short requests are held back until the slow ones are in flight, then SIGTERM
        # is sent as soon as they have started too: they finish within the grace period.
        slow_started = threading.Event()

        def ask(kind: str) -> None:
            if kind == "fast":
                slow_started.wait(60)
            body = json.dumps({"messages": [{"role": "user", "content": f"a {kind} question"}]}).encode()
            request = urllib.request.Request(url + "/v1/chat/completions", body, {"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=300) as response:
                    outcomes[kind].append((response.status, json.loads(response.read())))
            except Exception as error:  # noqa: BLE001 - the outcome is what the test checks
                outcomes[kind].append(error)

        clients = [threading.Thread(target=ask, args=(kind,)) for kind in ["slow"] * 24 + ["fast"] * 24]
        for client in clients:
            client.start()
        _wait_until(lambda: _metric(url, "wan_queue_depth") >= 24)
        slow_started.set()
        _wait_until(lambda: _metric(url, "wan_queue_depth") >= 48)
        process.send_signal(signal.SIGTERM)
        assert process.wait(300) == 0  # far less than one slow step: the slow requests were cancelled
        for client in clients:
            client.join(60)
        assert not [client for client in clients if client.is_alive()]
    finally:
        process.kill()
        out, err = process.communicate()
    assert len(outcomes["fast"]) == 24 and all(
        isinstance(o, tuple) and o[0] == 200 and o[1]["choices"][0]["message"]["content"] == "Hello world!"
        for o in outcomes["fast"]
    ), outcomes["fast"]
    assert len(outcomes["slow"]) == 24 and all(isinstance(o, Exception) for o in outcomes["slow"]), outcomes["slow"]
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=10)
    assert "Cancelled 24 request(s) still running after the grace period." in err
    assert "Exiting without waiting for wan-engine" in err
    assert "Traceback" not in err and "terminate called" not in err


def _wait_until(condition, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
