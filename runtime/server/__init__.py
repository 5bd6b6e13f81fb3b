"""The aiohttp host (DESIGN §6): `create_app` for hosting and tests, `run_server` for the CLI.

The API logic lives in `runtime.api` and knows nothing of aiohttp; this package only adapts
it to aiohttp routes, so it is the one place under runtime/ that imports aiohttp. Importing
the package or `run_server` does not import aiohttp yet (`create_app` does): the server binds
its port and starts loading the model first, and imports aiohttp while the model loads.
"""

from runtime.api.config import ServerConfig

from .serve import run_server

__all__ = ["ServerConfig", "create_app", "run_server"]


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'runtime.server' has no attribute {name!r}")
