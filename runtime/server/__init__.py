"""The HTTP server (DESIGN §6): `create_app` for hosting and tests, `run_server` for the CLI.

The API logic (protocol.py, native.py, service.py) knows nothing of aiohttp; app.py adapts
it to aiohttp routes. The exports resolve lazily, so another host can import the API layer
(`runtime.server.service`) without importing aiohttp.
"""

__all__ = ["ServerConfig", "create_app", "run_server"]


def __getattr__(name):
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "run_server":
        from .serve import run_server

        return run_server
    if name == "ServerConfig":
        from .config import ServerConfig

        return ServerConfig
    raise AttributeError(f"module 'runtime.server' has no attribute '{name}'")
