"""Fixtures for the Ray Serve host (issue 16): the ASGI app on a real uvicorn server, and the
fakes and tiny models of the HTTP tests. Ray and Starlette come with the `ray` extra, which
`python3 build.py test` installs with the test extras."""

from __future__ import annotations

import asyncio
import sys
import threading
import warnings
from pathlib import Path

import pytest

# Ray Serve 2.60 defines its config models with a pydantic 1 idiom that pydantic 2 warns about
# once, at import; the suite turns warnings into errors, so import it here with that one allowed.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using extra keyword arguments on `Field` is deprecated")
    import ray.serve  # noqa: F401

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "http"))  # http_fakes.py: the scripted model
sys.path.insert(0, str(HERE.parent / "contract"))  # factory.py: tiny models built at test time


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


@pytest.fixture(scope="session")
def tiny_models(cache_dir):
    """tiny_models(kind) -> factory reference of a cached tiny export (vit_gpt2, clip_split)."""
    import factory

    cache = {}

    def get(kind: str):
        if kind not in cache:
            cache[kind] = factory.cached_build(kind, cache_dir / "contract")
        return cache[kind]

    return get
