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
import sys, time
sys.path.insert(0, {here!r})
from http_fakes import FakeModel
from runtime.errors import BundleError
from runtime.server import ServerConfig, run_server

def load():
    time.sleep(1.0)
    if {fail!r}:
        raise BundleError("bundle.json is missing in /nowhere")
    return FakeModel(step_delay_s=0.2)

sys.exit(run_server(load, ServerConfig(port=0, shutdown_grace_s=5)))
"""


def _start(fail: bool = False) -> subprocess.Popen:
    code = SCRIPT.format(here=str(HERE), fail=fail)
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
def test_loading_serving_and_graceful_sigterm():
    process = _start()
    try:
        line = process.stdout.readline()
        assert line.startswith("Loading model; listening on http://127.0.0.1:"), line
        url = line.split("listening on ")[1].strip()
        assert _get(url + "/health") == (503, {"status": "loading", "message": "Loading model"})
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
def test_load_failure_exits_non_zero_with_the_error_logged():
    process = _start(fail=True)
    try:
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 1
    assert "bundle.json is missing in /nowhere" in err
    assert "Serving" not in out
