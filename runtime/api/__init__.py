"""The transport-free HTTP API (DESIGN §6): request parsing, responses, errors, SSE, metrics.

Nothing here imports aiohttp; `runtime.server` adapts `service.ApiService` to aiohttp
routes, and another host (an ASGI ingress) can adapt the same service without rewriting it.
"""
