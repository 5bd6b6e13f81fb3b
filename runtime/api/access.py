"""Who may call the API: the API key and the CORS origin rules, for every host (DESIGN §6).

Transport-free: the aiohttp server (runtime/server/) and the ASGI ingress (runtime/asgi/)
pass the header values in and turn the `ApiError` into their error reply.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from .errors import ApiError

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
EXPOSED_HEADERS = "X-Request-Id, Retry-After"


def check_api_key(key: str | None, authorization: str) -> None:
    """Raise a 401 `ApiError` unless `authorization` is 'Bearer <key>' (no key: anyone may)."""
    if key is None:
        return
    scheme, _, token = authorization.partition(" ")
    # Constant time (hmac), so response timing does not reveal how much of a guess was right.
    # aiohttp keeps undecodable header bytes as surrogates: encode them back, never fail.
    presented = token.strip().encode("utf-8", "surrogateescape")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented, key.encode("utf-8", "surrogateescape")):
        raise ApiError(
            401,
            "Missing or wrong API key: send 'Authorization: Bearer <key>' with the key the server was "
            "started with (--api-key).",
            error_type="authentication_error",
            code="invalid_api_key",
            headers={"WWW-Authenticate": 'Bearer realm="wan2.2-turbo"'},
        )


def check_origin(configured: tuple[str, ...], origin: str, own_origin: str) -> None:
    """Raise a 403 `ApiError` unless a browser page at `origin` may call the API.

    `own_origin` is scheme://host as this request addressed the server (its Host header).
    """
    if not origin_allowed(configured, origin, own_origin):
        raise ApiError(
            403,
            f"Cross-origin requests from {origin} are refused; start the server with --cors-origin "
            f"{origin} to allow them.",
            error_type="invalid_request_error",
            code="cors_origin_refused",
        )


def origin_allowed(configured: tuple[str, ...], origin: str, own_origin: str) -> bool:
    if "*" in configured or origin in configured:
        return True
    if origin == own_origin and _names_this_machine(urlsplit(origin).hostname):
        # Same origin: the page served by this server. Only when it is addressed by an IP
        # address or localhost: a page on a DNS name that the attacker re-points at this
        # server (DNS rebinding) sends matching Origin and Host headers (issue 12).
        return True
    if configured:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in _LOCAL_HOSTS


def preflight_headers(requested_headers: str | None) -> dict[str, str]:
    """The reply headers of an allowed CORS preflight (OPTIONS) request."""
    return {
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": requested_headers or "Authorization, Content-Type, X-Request-Id",
        "Access-Control-Max-Age": "600",
    }


def cors_headers(origin: str, exposed: str = EXPOSED_HEADERS) -> dict[str, str]:
    """The headers every reply to an allowed cross-origin request carries."""
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": exposed, "Vary": "Origin"}


def _names_this_machine(hostname: str | None) -> bool:
    """An IP address or localhost, which no DNS record can re-point elsewhere."""
    if hostname in _LOCAL_HOSTS:
        return True
    try:
        ipaddress.ip_address((hostname or "").split("%", 1)[0])
    except ValueError:
        return False
    return True
