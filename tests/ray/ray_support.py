"""Helpers and fixtures of the Ray host tests (issue 16): the ASGI app on uvicorn,
`wan2.2-turbo` commands in their own process group, the chat requests the cluster tests send,
and the tiny models. Ray and Starlette come with the `ray` extra, which `python3 build.py test`
installs with the test extras.

A module that each test file imports first, not a conftest.py: with several test folders on
one command line pytest loads every folder's conftest before collecting, and another folder's
`from conftest import ...` (tests/http/test_batched_streams.py) would find this one."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import re
import signal
import subprocess
import sys
import threading
import warnings
from pathlib import Path


# Ray Serve 2.60 defines its config models with a pydantic 1 idiom that pydantic 2 warns about
# once, at import; the suite turns warnings into errors, so import it here with that one allowed.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using extra keyword arguments on `Field` is deprecated")
    import ray.serve  # noqa: F401

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO / "tests" / "http"))  # http_fakes.py: the scripted model
sys.path.insert(0, str(REPO / "tests" / "contract"))  # factory.py: tiny models built at test time
MAX_TOKENS = 12
MODEL_REPLICA = "ServeReplica:wan2.2-turbo:wan-model"  # a model replica's process title (not the ingress's)


class AsgiServer:
    """An ASGI app served by uvicorn on a free 127.0.0.1 port, on a thread with its own loop."""

    def __init__(self, app):
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="asgi-server", daemon=True)
        self.url = ""

    def _run(self) -> None:
        asyncio.run(self._server.serve())

    def __enter__(self) -> "AsgiServer":
        self._thread.start()
        for _ in range(300):
            if self._server.started:
                break
            threading.Event().wait(0.05)
        assert self._server.started, "uvicorn did not start"
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(30)


class CliProcess:
    """`wan2.2-turbo ARGS` in its own process group, until it prints its URL."""

    URL = re.compile(r"(?:Serving|listening on) .*?(http://[0-9.:\[\]a-z]+)")

    def __init__(self, *args: str, ready_s: float = 240):
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAN_TURBO_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "launcher.cli", *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        self.stderr: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.url = self._wait_for_url(ready_s)

    def _drain(self) -> None:
        with self.process.stderr:
            for line in self.process.stderr:
                self.stderr.append(line)

    def _wait_for_url(self, ready_s: float) -> str:
        found: list[str] = []

        def read():
            for line in self.process.stdout:
                match = self.URL.search(line)
                if match and line.startswith("Serving"):
                    found.append(match.group(1))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(ready_s)
        if not found:
            self.kill()
            raise AssertionError(f"no URL within {ready_s} s; stderr:\n{''.join(self.stderr)[-4000:]}")
        return found[0]

    def descendants(self, root: int | None = None) -> dict[int, str]:
        """pid -> command line of every process started under this one (Ray's workers), or
        under `root`."""
        parents = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        found, frontier = {}, [root or self.process.pid]
        while frontier:
            parent = frontier.pop()
            for pid, ppid in parents.items():
                if ppid == parent and pid not in found:
                    try:
                        found[pid] = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    except OSError:
                        found[pid] = ""
                    frontier.append(pid)
        return found

    def stop(self, timeout_s: float = 90) -> int:
        """SIGTERM, as a user's Ctrl+C or a service manager; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self.process.stdout.close()

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this test started
        except ProcessLookupError:
            pass
        self.process.wait(30)
        self.process.stdout.close()


def pictures(reference, count: int):
    """`count` different pictures of the size the tiny captioner takes."""
    from PIL import Image

    base = reference.pil_images()
    made = []
    for index in range(count):
        picture = base[index % len(base)].copy()
        picture.paste(Image.new("RGB", (6, 6), ((37 * index) % 256, (91 * index) % 256, 128)), (index % 20, 3))
        made.append(picture)
    return made


def data_uri(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def messages(picture) -> list:
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": data_uri(picture)}}]}]


def ask(client, picture) -> tuple[str, str | None]:
    """(answer, replica) of one chat request; the single-process server names no replica."""
    raw = client.chat.completions.with_raw_response.create(model="m", messages=messages(picture),
                                                           max_tokens=MAX_TOKENS, temperature=0)
    return raw.parse().choices[0].message.content, raw.headers.get("x-wan-replica")
