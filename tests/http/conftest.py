"""HTTP fixtures: the real app over a fake model, and a live server over a real tiny model."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

import pytest
import pytest_asyncio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "contract"))  # factory.py: tiny models built at test time

from http_fakes import FakeModel  # noqa: E402

from runtime.server import ServerConfig, create_app  # noqa: E402


@pytest.fixture
def fake_model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def make_client(aiohttp_client, fake_model):
    """make_client(model=fake_model, **ServerConfig fields) -> aiohttp test client."""

    async def make(model=None, **settings):
        config = ServerConfig(**settings)
        return await aiohttp_client(create_app(fake_model if model is None else model, config))

    return make


@pytest_asyncio.fixture
async def client(make_client):
    return await make_client()


# --- real models on a live server ----------------------------------------------------

class LiveServer:
    """`create_app` + `web.AppRunner` on a free 127.0.0.1 port, on a thread with its own loop."""

    def __init__(self, model_or_loader, config: ServerConfig):
        self._app = create_app(model_or_loader, config)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)
        self.url = ""

    def _run(self) -> None:
        from aiohttp import web

        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=2)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        assert self._ready.wait(30), "live server did not start"
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


@pytest.fixture(scope="module")
def captioner_server(tiny_models):
    from runtime import load_model

    model = load_model(tiny_models("vit_gpt2").folder, precision="fp32")
    with LiveServer(model, ServerConfig(keepalive_interval_s=0.5)) as server:
        yield server


@pytest.fixture(scope="module")
def clip_server(tiny_models):
    from runtime import load_model

    model = load_model(tiny_models("clip_split").folder, precision="fp32")
    with LiveServer(model, ServerConfig()) as server:
        yield server
