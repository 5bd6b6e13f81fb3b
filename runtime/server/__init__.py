"""The aiohttp host (DESIGN §6): `create_app` for hosting and tests, `run_server` for the CLI.

The API logic lives in `runtime.api` and knows nothing of aiohttp; this package only adapts
it to aiohttp routes, so it is the one place under runtime/ that imports aiohttp.
"""

from runtime.api.config import ServerConfig

from .app import create_app
from .serve import run_server

__all__ = ["ServerConfig", "create_app", "run_server"]
