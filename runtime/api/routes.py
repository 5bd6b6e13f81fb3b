"""The POST routes, transport-free: parse a body, call `ApiService`, return the reply.

A host reads the body (JSON, or for the native routes also a form) through the `read_body`
callable it passes in, and writes what comes back: a response object (JSON, status 200) or
a `Streamed` SSE byte stream. The aiohttp server and the ASGI ingress both serve `POST_ROUTES`,
so a route is written once (DESIGN §6, issue 16).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from . import completions, native, openai
from .service import ApiService, RequestContext

BodyReader = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Streamed:
    """An SSE reply: its events; errors before the first one propagate from `__anext__`."""

    events: AsyncIterator[bytes]


async def chat_completions(service: ApiService, read_body: BodyReader, context: RequestContext):
    model = service.require_model()
    call = openai.parse_chat_request(
        await read_body(), service.served_ids, model.tasks, model.max_seq_len, model.count_prompt_tokens
    )
    if call.stream:
        return Streamed(service.chat_stream(call, context))
    return await service.chat(call, context)


async def text_completions(service: ApiService, read_body: BodyReader, context: RequestContext):
    model = service.require_model()
    call = completions.parse_completion_request(
        await read_body(), service.served_ids, model.tasks, model.max_seq_len, model.count_prompt_tokens
    )
    if call.stream:
        return Streamed(service.completions_stream(call, context))
    return await service.completions(call, context)


async def embeddings(service: ApiService, read_body: BodyReader, context: RequestContext):
    service.require_model()
    return await service.embeddings(openai.parse_embeddings_request(await read_body(), service.served_ids), context)


async def generate(service: ApiService, read_body: BodyReader, context: RequestContext):
    model = service.require_model()
    call = native.parse_generate_request(
        await read_body(), service.served_ids, model.tasks, model.max_seq_len, model.count_prompt_tokens
    )
    return await service.generate(call, context)


async def read(service: ApiService, read_body: BodyReader, context: RequestContext):
    service.require_model()
    return await service.read(native.parse_read_request(await read_body(), service.served_ids), context)


async def detect(service: ApiService, read_body: BodyReader, context: RequestContext):
    service.require_model()
    return await service.detect(native.parse_detect_request(await read_body(), service.served_ids), context)


async def rank(service: ApiService, read_body: BodyReader, context: RequestContext):
    service.require_model()
    return await service.rank(native.parse_rank_request(await read_body(), service.served_ids), context)


async def seed(service: ApiService, read_body: BodyReader, context: RequestContext):
    service.require_model()
    return await service.seed(native.parse_seed_request(await read_body(), service.served_ids), context)


@dataclass(frozen=True)
class PostRoute:
    handler: Callable[[ApiService, BodyReader, RequestContext], Awaitable[object]]
    forms: bool = False  # also takes multipart / url-encoded forms (the native image routes)


POST_ROUTES: dict[str, PostRoute] = {
    "/v1/chat/completions": PostRoute(chat_completions),
    "/v1/completions": PostRoute(text_completions),
    "/v1/embeddings": PostRoute(embeddings),
    "/v1/generate": PostRoute(generate, forms=True),
    "/v1/read": PostRoute(read, forms=True),
    "/v1/detect": PostRoute(detect, forms=True),
    "/v1/rank": PostRoute(rank),
    "/v1/seed": PostRoute(seed),
}
