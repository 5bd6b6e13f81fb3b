"""`python3 build.py serve` as a user starts it: signals reach the server, secrets stay out of logs.

`--model` points it at the small `ocr` bundle, so the default bundle is not built here.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import main_job  # packaging/ is on sys.path (tests/conftest.py)

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cret-Key-7f1d"
START_TIMEOUT_S = 180  # bounded waits only; a loaded machine may be slow


class Served:
    """A `build.py serve` process in its own process group; stdout/stderr collected by threads."""

    def __init__(self, *args):
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "serve", *map(str, args)], cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("WAN_TURBO_")} | {"PYTHONUNBUFFERED": "1"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream, sink), daemon=True)
                         for stream, sink in ((self.process.stdout, self.out), (self.process.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, sink: list[str]) -> None:
        for line in stream:
            sink.append(line)
            self.lines.put(line)

    def url(self) -> str:
        while True:
            line = self.lines.get(timeout=START_TIMEOUT_S)
            if "listening on " in line:
                return line.split("listening on ")[1].strip()

    def wait_ready(self, url: str) -> None:
        while True:
            line = self.lines.get(timeout=START_TIMEOUT_S)
            if line.startswith("Serving "):
                return

    def output(self) -> str:
        for reader in self._readers:
            reader.join(30)
        return "".join(self.out) + "".join(self.err)

    def kill_group(self) -> None:
        """Whatever is left of the process group (an orphaned server included) goes."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(30)
        for reader in self._readers:
            reader.join(30)
        self.process.stdout.close()
        self.process.stderr.close()


def _request(url: str, headers: dict | None = None) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _port_is_free(url: str) -> bool:
    host, port = url.rsplit("/", 1)[-1].rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.slow
def test_sigterm_to_build_py_serve_stops_the_server_and_frees_the_port(ocr_bundle):
    served = Served("--model", ocr_bundle, "--port", "0")
    try:
        url = served.url()
        served.wait_ready(url)
        assert _request(url + "/health") == (200, {"status": "ok"})
        served.process.send_signal(signal.SIGTERM)  # to build.py's pid, as a service manager would
        assert served.process.wait(60) == 0
        assert _port_is_free(url)
        assert "Traceback" not in served.output()
    finally:
        served.kill_group()


@pytest.mark.slow
def test_api_key_never_reaches_the_logs_or_the_process_table(ocr_bundle):
    served = Served("--model", ocr_bundle, "--port", "0", "--api-key", SECRET)
    try:
        url = served.url()
        served.wait_ready(url)
        if Path("/proc").is_dir():
            command_line = Path(f"/proc/{served.process.pid}/cmdline").read_bytes().decode()
            assert "launcher.cli" in command_line and SECRET not in command_line
        assert _request(url + "/v1/models")[0] == 401
        assert _request(url + "/v1/models", {"Authorization": "Bearer wrong-" + SECRET})[0] == 401
        status, listing = _request(f"{url}/v1/models?api_key={SECRET}", {"Authorization": f"Bearer {SECRET}"})
        assert status == 200 and listing["data"][0]["id"] == "ocr"
        assert _request(url + "/nowhere", {"Authorization": f"Bearer {SECRET}"})[0] == 404
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(60) == 0
    finally:
        served.kill_group()
    output = served.output()
    assert '"GET /v1/models" 200' in output and '"GET /v1/models" 401' in output  # the access log ran
    assert "--api-key given: passed in WAN_TURBO_API_KEY, not shown" in output
    assert SECRET not in output


@pytest.mark.parametrize(
    ("argv", "kept", "env"),
    [
        (["--port", "1", "--api-key", "k1"], ["--port", "1"], {"WAN_TURBO_API_KEY": "k1"}),
        (["--api-key=k=2", "--host", "::1"], ["--host", "::1"], {"WAN_TURBO_API_KEY": "k=2"}),
        (["--api-key", "a", "--api-key", "b"], [], {"WAN_TURBO_API_KEY": "b"}),
        (["--api-key"], ["--api-key"], {}),  # no value: left for the launcher to refuse
        (["--port", "9000"], ["--port", "9000"], {}),
    ],
)
def test_split_secrets(argv, kept, env):
    assert main_job.split_secrets(argv) == (kept, env)


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_build_help_prints_the_commands_and_builds_nothing(flag):
    """`--help` had started a release build (every other dash option goes to the release)."""
    done = subprocess.run([sys.executable, str(REPO / "build.py"), flag], capture_output=True, text=True,
                          timeout=60, cwd=REPO, env={**os.environ, "PATH": "/nonexistent"})
    assert done.returncode == 0, done.stderr
    assert "python3 build.py test" in done.stdout and "[build]" not in done.stdout + done.stderr


def test_build_with_an_unknown_command_says_so_and_fails():
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "sevre"], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 2 and "python3 build.py serve" in done.stdout
