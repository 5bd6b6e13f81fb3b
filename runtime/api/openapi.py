"""`GET /openapi.json`: the OpenAPI 3.1 document, generated from the structures in schemas.py.

The request and response bodies are the same classes the server decodes and encodes
through, so the document cannot drift from what the server accepts; this module only says
which route takes and returns which body. tests/http/test_openapi_contract.py walks every
operation, and schemathesis (tests/http/test_schemathesis.py) fuzzes them.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import msgspec

from runtime import __version__

from . import schemas

_REF = "#/components/schemas/{name}"
_POST_ERRORS = (400, 401, 404, 413, 415, 503, 504)
_GET_ERRORS = (401, 503)
# The one either/or a Struct cannot say: which fields must come together.
_REQUIRED_TOGETHER = {
    "RankRequest": {"oneOf": [{"required": ["query", "images"]}, {"required": ["image", "texts"]}]},
    "GenerateRequest": {"anyOf": [{"required": ["image"]}, {"required": ["prompt"]}]},
}


@dataclass(frozen=True)
class Operation:
    """One route: its body types, and whether it also takes a multipart form with an image file."""

    method: str
    path: str
    summary: str
    response: type
    request: type | None = None
    form: bool = False
    errors: tuple[int, ...] = _POST_ERRORS
    streams: bool = False


OPERATIONS = (
    Operation("get", "/metrics", "Prometheus metrics.", str, errors=(401,)),
    Operation("get", "/openapi.json", "This document.", dict, errors=()),
    Operation("get", "/v1/models", "The served model.", schemas.ModelList, errors=_GET_ERRORS),
    Operation("get", "/v1/models/{model_id}", "One model.", schemas.ModelCard, errors=(401, 404, 503)),
    Operation(
        "post", "/v1/chat/completions",
        "OpenAI chat completions with image_url parts; `stream: true` sends SSE ending in [DONE].",
        schemas.ChatCompletion, schemas.ChatCompletionRequest, streams=True,
    ),
    Operation(
        "post", "/v1/completions",
        "OpenAI legacy text completions: a text prompt, or a list of them (one choice each); "
        "`stream: true` sends SSE ending in [DONE].",
        schemas.Completion, schemas.CompletionRequest, streams=True,
    ),
    Operation(
        "post", "/v1/embeddings", "OpenAI embeddings of texts and images (L2-normalized).",
        schemas.EmbeddingList, schemas.EmbeddingRequest,
    ),
    Operation(
        "post", "/v1/generate", "Native generation (caption, vqa, generate) from JSON or a multipart form.",
        schemas.GenerateResponse, schemas.GenerateRequest, form=True,
    ),
    Operation(
        "post", "/v1/read", "Read the text in an image (lines with boxes and confidences).",
        schemas.ReadResponse, schemas.ReadRequest, form=True,
    ),
    Operation(
        "post", "/v1/detect", "Detect objects in a photo (COCO-80 labels, boxes and scores).",
        schemas.DetectResponse, schemas.DetectRequest, form=True,
    ),
    Operation(
        "post", "/v1/rank", "Rank images against a query text, or texts against an image.",
        schemas.RankResponse, schemas.RankRequest,
    ),
    Operation(
        "post", "/v1/seed", "A deterministic text-guided seed and the normalized text embedding.",
        schemas.SeedResponse, schemas.SeedRequest,
    ),
)
_BODY_TYPES = (schemas.Health, schemas.ErrorEnvelope, schemas.ChatCompletionChunk) + tuple(
    body
    for op in OPERATIONS
    for body in (op.response, op.request)
    if isinstance(body, type) and issubclass(body, msgspec.Struct)
)


def _json(body: type) -> dict:
    if body is dict:
        return {"application/json": {"schema": {"type": "object"}}}
    if body is str:
        return {"text/plain": {"schema": {"type": "string"}}}
    return {"application/json": {"schema": {"$ref": _REF.format(name=body.__name__)}}}


def _form_schema(request: type, components: dict) -> dict:
    """The multipart form of a JSON body: the same fields, with `image` an uploaded file."""
    schema = copy.deepcopy(components[request.__name__])
    schema["properties"]["image"] = {"type": "string", "format": "binary"}
    schema.pop("title", None)
    return schema


def _operation(op: Operation, components: dict) -> dict:
    error = {"description": "Error (the one envelope)", "content": _json(schemas.ErrorEnvelope)}
    ok_content = _json(op.response)
    if op.streams:
        ok_content["text/event-stream"] = {"schema": {"type": "string"}}
    responses = {"200": {"description": op.summary, "content": ok_content}, "default": error}
    responses.update({str(status): error for status in op.errors})
    operation = {"summary": op.summary, "responses": responses}
    if op.request is not None:
        content = _json(op.request)
        if op.form:
            content["multipart/form-data"] = {"schema": _form_schema(op.request, components)}
        operation["requestBody"] = {"required": True, "content": content}
    if "{model_id}" in op.path:
        operation["parameters"] = [{"name": "model_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    return operation


def _health() -> dict:
    content = _json(schemas.Health)
    return {
        "summary": "Liveness and readiness (503 while the model loads).",
        "security": [],
        "responses": {
            "200": {"description": "Ready", "content": content},
            "503": {"description": "Loading", "content": content},
        },
    }


@functools.cache
def _document() -> dict:
    _, components = msgspec.json.schema_components(_BODY_TYPES, ref_template=_REF)
    for name, extra in _REQUIRED_TOGETHER.items():
        components[name].update(extra)
    paths: dict[str, dict] = {"/health": {"get": _health()}}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "wan2.2-turbo", "version": __version__},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }


def openapi_document() -> dict:
    """The OpenAPI 3.1 document (a fresh copy; callers may modify it)."""
    return copy.deepcopy(_document())
