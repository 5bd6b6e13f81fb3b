"""`run_server` as the launcher calls it: bind at once, load, serve, SIGTERM → exit 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

SCRIPT = """
import os, sys, time
sys.path.insert(0, {here!r})
from http_fakes import FakeModel
from runtime.errors import BundleError
from runtime.server import ServerConfig, run_server

def load():
    open({started!r}, "w").close()
    deadline = time.monotonic() + 30
    while {hold!r} and not os.path.exists({hold!r}) and time.monotonic() < deadline:
        time.sleep(0.01)  # held until the test has seen /health say "loading"
    if {fail!r}:
        raise BundleError("bundle.json is missing in /nowhere")
    return FakeModel(step_delay_s=0.2)

sys.exit(run_server(load, ServerConfig(port=0, shutdown_grace_s=5)))
"""


def _start(tmp_path: Path, fail: bool = False, hold: bool = True) -> subprocess.Popen:
    """run_server in a process of its own; its load writes tmp_path/started when it begins and
    (with `hold`) waits for tmp_path/go."""
    code = SCRIPT.format(here=str(HERE), fail=fail, started=str(tmp_path / "started"),
                         hold=str(tmp_path / "go") if hold else "")
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_loading_serving_and_graceful_sigterm(tmp_path):
    process = _start(tmp_path)
    try:
        line = process.stdout.readline()
        assert line.startswith("Loading model; listening on http://127.0.0.1:"), line
        url = line.split("listening on ")[1].strip()
        assert _get(url + "/health") == (503, {"status": "loading", "message": "Loading model"})
        (tmp_path / "go").touch()
        assert process.stdout.readline().strip() == f"Serving fake-vlm on {url}"
        assert _get(url + "/health") == (200, {"status": "ok"})

        answers = []
        body = json.dumps({"messages": [{"role": "user", "content": "Hi there"}]}).encode()

        def slow_request():
            request = urllib.request.Request(
                url + "/v1/chat/completions", body, {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                answers.append(json.loads(response.read()))

        worker = threading.Thread(target=slow_request)
        worker.start()
        time.sleep(0.2)  # the request is in flight (3 tokens x 0.2 s)
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGTERM)  # repeated signals are ignored
        assert process.wait(15) == 0
        worker.join(10)
        assert answers and answers[0]["choices"][0]["message"]["content"] == "Hello world!"
    finally:
        process.kill()
        process.communicate()


@pytest.mark.slow
def test_load_failure_exits_non_zero_with_the_error_logged(tmp_path):
    process = _start(tmp_path, fail=True, hold=False)
    try:
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 1
    assert "bundle.json is missing in /nowhere" in err
    assert "Serving" not in out


@pytest.mark.slow
def test_a_sigterm_before_the_web_server_is_up_still_stops_it_cleanly(tmp_path):
    """The load starts as soon as the port is bound, before aiohttp is imported (~0.2 s) and
    the event loop's signal handlers exist: a SIGTERM sent when the load begins falls in
    that window and must still end in a clean exit 0, not a kill by the signal."""
    process = _start(tmp_path)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "started").exists() and time.monotonic() < deadline:
            time.sleep(0.002)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, (out, err)
    assert "Serving" not in out and "Traceback" not in err
