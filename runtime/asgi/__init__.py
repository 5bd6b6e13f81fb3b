"""The ASGI host (Starlette): the API of the aiohttp server for ASGI servers, such as the
ingress of a Ray Serve application (issue 16). Starlette comes with the `ray` extra
(`pip install ".[ray]"`); the frozen binary does not include it.
"""

from .app import REPLICA_HEADER, call_app, create_asgi_app, stream_app

__all__ = ["REPLICA_HEADER", "call_app", "create_asgi_app", "stream_app"]
