"""`GET /openapi.json`: a hand-written OpenAPI 3.1 description of every route.

Kept beside the parsers it describes (openai.py, native.py) and checked by schemathesis
in tests/http/test_schemathesis.py, so a drift between the two fails CI.
"""

from __future__ import annotations

import copy

from runtime import __version__

from .openai import MAX_BEAMS, MAX_SEED, MAX_TOP_K

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM = {"type": "number"}
_BOOL = {"type": "boolean"}
_NULL = {"type": "null"}
_TASKS = ["caption", "vqa", "generate", "read", "embed", "rank", "seed"]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict, required: tuple[str, ...] = (), additional: bool = False) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": additional}
    if required:
        schema["required"] = list(required)
    return schema


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, _NULL]}


_DECODING = {
    "max_new_tokens": {"type": "integer", "minimum": 1},
    "max_tokens": {"type": "integer", "minimum": 1},
    "num_beams": {"type": "integer", "minimum": 1, "maximum": MAX_BEAMS},
    "do_sample": _BOOL,
    "temperature": {"type": "number", "minimum": 0, "maximum": 100},
    "top_k": {"type": "integer", "minimum": 0, "maximum": MAX_TOP_K},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED},
    "repetition_penalty": {"type": "number", "minimum": 0.01, "maximum": 100},
    "length_penalty": {"type": "number", "minimum": -100, "maximum": 100},
}

_USAGE = _obj(
    {"prompt_tokens": _INT, "completion_tokens": _INT, "total_tokens": _INT},
    ("prompt_tokens", "completion_tokens", "total_tokens"),
)
_TOKEN_LOGPROB = _obj(
    {"token": _STR, "logprob": _NUM, "bytes": {"type": "array", "items": _INT}}, ("token", "logprob", "bytes"), True
)
_LOGPROBS = _obj(
    {
        "content": {
            "type": "array",
            "items": {"allOf": [_TOKEN_LOGPROB, _obj({"top_logprobs": {"type": "array", "items": _TOKEN_LOGPROB}}, (), True)]},
        },
        "refusal": _NULL,
    },
    ("content",),
)
_IMAGE_URL = {
    "anyOf": [
        _STR,
        _obj({"url": _STR, "detail": {"enum": ["auto", "low", "high"]}}, ("url",)),
    ]
}
_TEXT_PART = _obj({"type": {"const": "text"}, "text": _STR}, ("type", "text"))
_IMAGE_PART = _obj({"type": {"const": "image_url"}, "image_url": _IMAGE_URL}, ("type", "image_url"))
_MESSAGE = _obj(
    {
        "role": {"enum": ["system", "developer", "user", "assistant"]},
        "content": {"anyOf": [_STR, {"type": "array", "items": {"anyOf": [_TEXT_PART, _IMAGE_PART]}}, _NULL]},
        "name": _STR,
    },
    ("role", "content"),
)

SCHEMAS: dict[str, dict] = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "message": _STR,
                    "type": _STR,
                    "param": _nullable(_STR),
                    "code": _nullable(_STR),
                    "request_id": _STR,
                },
                ("message", "type", "param", "code"),
            )
        },
        ("error",),
    ),
    "Health": _obj({"status": {"enum": ["ok", "loading", "failed"]}, "message": _STR}, ("status",)),
    "Usage": _USAGE,
    "Component": _obj(
        {"name": _STR, "precision": _STR, "variant": _STR, "file": _STR, "provider": _STR, "reason": _STR},
        ("name", "precision", "provider", "reason"),
    ),
    "Model": _obj(
        {
            "id": _STR,
            "object": {"const": "model"},
            "created": _INT,
            "owned_by": _STR,
            "kind": _STR,
            "tasks": {"type": "array", "items": _STR},
            "input_modalities": {"type": "array", "items": {"enum": ["image", "text"]}},
            "max_seq_len": _nullable(_INT),
            "components": {"type": "array", "items": _ref("Component")},
        },
        ("id", "object", "created", "owned_by", "kind", "tasks", "input_modalities", "max_seq_len", "components"),
    ),
    "ModelList": _obj({"object": {"const": "list"}, "data": {"type": "array", "items": _ref("Model")}}, ("object", "data")),
    "ChatCompletionRequest": _obj(
        {
            "model": _STR,
            "messages": {"type": "array", "minItems": 1, "items": _MESSAGE},
            "max_tokens": _nullable({"type": "integer", "minimum": 1}),
            "max_completion_tokens": _nullable({"type": "integer", "minimum": 1}),
            "temperature": _nullable({"type": "number", "minimum": 0, "maximum": 2}),
            "top_p": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
            "seed": _nullable(_DECODING["seed"]),
            "stop": {"anyOf": [_STR, {"type": "array", "items": _STR}, _NULL]},
            "n": _nullable(_INT),
            "stream": _nullable(_BOOL),
            "stream_options": _nullable(_obj({"include_usage": _BOOL})),
            "logprobs": _nullable(_BOOL),
            "top_logprobs": _nullable({"type": "integer", "minimum": 0, "maximum": 20}),
            "user": _STR,
            "frequency_penalty": _nullable(_NUM),
            "presence_penalty": _nullable(_NUM),
            "response_format": _nullable(_obj({"type": {"enum": ["text", "json_object", "json_schema"]}}, (), True)),
            "task": {"enum": _TASKS, "description": "Extension: the task (default: inferred from the messages)."},
            "top_k": _DECODING["top_k"],
            "num_beams": _DECODING["num_beams"],
            "repetition_penalty": _DECODING["repetition_penalty"],
        },
        ("messages",),
    ),
    "ChatCompletion": _obj(
        {
            "id": _STR,
            "object": {"const": "chat.completion"},
            "created": _INT,
            "model": _STR,
            "choices": {
                "type": "array",
                "items": _obj(
                    {
                        "index": _INT,
                        "message": _obj(
                            {"role": {"const": "assistant"}, "content": _nullable(_STR), "refusal": _NULL},
                            ("role", "content"),
                        ),
                        "logprobs": _nullable(_LOGPROBS),
                        "finish_reason": {"enum": ["stop", "length"]},
                    },
                    ("index", "message", "finish_reason"),
                ),
            },
            "usage": _ref("Usage"),
        },
        ("id", "object", "created", "model", "choices", "usage"),
    ),
    "EmbeddingRequest": _obj(
        {
            "input": {
                "anyOf": [
                    _STR,
                    {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "anyOf": [
                                _STR,
                                _obj({"content": {"type": "array", "minItems": 1, "maxItems": 1,
                                                  "items": {"anyOf": [_TEXT_PART, _IMAGE_PART]}}}, ("content",)),
                            ]
                        },
                    },
                ]
            },
            "model": _STR,
            "encoding_format": {"enum": ["float", "base64"]},
            "dimensions": _nullable({"type": "integer", "minimum": 1}),
            "user": _STR,
        },
        ("input",),
    ),
    "EmbeddingList": _obj(
        {
            "object": {"const": "list"},
            "data": {
                "type": "array",
                "items": _obj(
                    {
                        "object": {"const": "embedding"},
                        "index": _INT,
                        "embedding": {"anyOf": [{"type": "array", "items": _NUM}, _STR]},
                    },
                    ("object", "index", "embedding"),
                ),
            },
            "model": _STR,
            "usage": _obj({"prompt_tokens": _INT, "total_tokens": _INT}, ("prompt_tokens", "total_tokens")),
        },
        ("object", "data", "model", "usage"),
    ),
    "Metadata": _obj(
        {
            "model": _STR,
            "task": _STR,
            "precision": _STR,
            "provider": _STR,
            "timings_ms": {"type": "object", "additionalProperties": _NUM},
            "usage": _ref("Usage"),
        },
        ("model", "task", "precision", "provider", "timings_ms"),
    ),
    "GenerateRequest": _obj(
        {
            "model": _STR,
            "task": {"enum": _TASKS},
            "prompt": _STR,
            "image": {"type": "string", "description": "base64 image bytes or a data: URI"},
            "stop": {"anyOf": [_STR, {"type": "array", "items": _STR}]},
            "return_tokens": _BOOL,
            "return_logits": {"anyOf": [_BOOL, {"type": "integer", "minimum": 1, "maximum": 20}]},
            "return_attention": _BOOL,
            **_DECODING,
        },
    ),
    "GenerateResponse": _obj(
        {
            "text": _STR,
            "finish_reason": {"enum": ["stop", "length"]},
            "tokens": {"type": "array", "items": _obj({"id": _INT, "text": _STR}, ("id", "text"))},
            "logits": {
                "type": "array",
                "items": _obj(
                    {
                        "token_id": _INT,
                        "token": _STR,
                        "logprob": _NUM,
                        "top": {"type": "array", "items": _obj({"token_id": _INT, "token": _STR, "logprob": _NUM})},
                    },
                    ("token_id", "token", "logprob", "top"),
                ),
            },
            "metadata": _ref("Metadata"),
        },
        ("text", "finish_reason", "metadata"),
    ),
    "ReadRequest": _obj({"model": _STR, "image": _STR}, ("image",)),
    "ReadResponse": _obj(
        {
            "text": _STR,
            "lines": {
                "type": "array",
                "items": _obj(
                    {
                        "text": _STR,
                        "box": {"type": "array", "items": {"type": "array", "items": _NUM}},
                        "confidence": _NUM,
                    },
                    ("text", "box", "confidence"),
                ),
            },
            "metadata": _ref("Metadata"),
        },
        ("text", "lines", "metadata"),
    ),
    "RankRequest": _obj(
        {
            "model": _STR,
            "query": _STR,
            "images": {"type": "array", "items": _STR, "minItems": 1, "maxItems": 256},
            "image": _STR,
            "texts": {"type": "array", "items": _STR, "minItems": 1},
        },
    ),
    "RankResponse": _obj(
        {"scores": {"type": "array", "items": _NUM}, "order": {"type": "array", "items": _INT}, "metadata": _ref("Metadata")},
        ("scores", "order", "metadata"),
    ),
    "SeedRequest": _obj({"model": _STR, "text": _STR}, ("text",)),
    "SeedResponse": _obj(
        {"seed": {"type": "integer", "minimum": 0}, "embedding": {"type": "array", "items": _NUM}, "metadata": _ref("Metadata")},
        ("seed", "embedding", "metadata"),
    ),
}


def _json(schema_name: str) -> dict:
    return {"application/json": {"schema": _ref(schema_name)}}


_ERROR_RESPONSE = {"description": "Error (the one envelope)", "content": _json("Error")}


def _operation(summary: str, ok: dict, body: dict | None = None, errors: tuple[int, ...] = ()) -> dict:
    responses = {"200": ok, "default": _ERROR_RESPONSE}
    for status in errors:
        responses[str(status)] = _ERROR_RESPONSE
    operation = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": body}
    return operation


_POST_ERRORS = (400, 401, 404, 413, 415, 503, 504)


def _paths() -> dict:
    generate_form = _obj({**SCHEMAS["GenerateRequest"]["properties"], "image": {"type": "string", "format": "binary"}})
    read_form = _obj({"model": _STR, "image": {"type": "string", "format": "binary"}}, ("image",))
    return {
        "/health": {"get": {
            "summary": "Liveness and readiness (503 while the model loads).",
            "security": [],
            "responses": {
                "200": {"description": "Ready", "content": _json("Health")},
                "503": {"description": "Loading", "content": _json("Health")},
            },
        }},
        "/metrics": {"get": _operation(
            "Prometheus metrics.", {"description": "Prometheus text", "content": {"text/plain": {"schema": _STR}}}, None, (401,)
        )},
        "/openapi.json": {"get": _operation(
            "This document.", {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}
        )},
        "/v1/models": {"get": _operation(
            "The served model.", {"description": "Model list", "content": _json("ModelList")}, None, (401, 503)
        )},
        "/v1/models/{model_id}": {"get": {
            **_operation("One model.", {"description": "Model", "content": _json("Model")}, None, (401, 404, 503)),
            "parameters": [{"name": "model_id", "in": "path", "required": True, "schema": _STR}],
        }},
        "/v1/chat/completions": {"post": _operation(
            "OpenAI chat completions with image_url parts; `stream: true` sends SSE.",
            {"description": "A completion, or an SSE stream of chunks ending in [DONE]",
             "content": {**_json("ChatCompletion"), "text/event-stream": {"schema": _STR}}},
            _json("ChatCompletionRequest"), _POST_ERRORS,
        )},
        "/v1/embeddings": {"post": _operation(
            "OpenAI embeddings of texts and images (L2-normalized).",
            {"description": "Embeddings", "content": _json("EmbeddingList")}, _json("EmbeddingRequest"), _POST_ERRORS,
        )},
        "/v1/generate": {"post": _operation(
            "Native generation (caption, vqa, generate) from JSON or a multipart form.",
            {"description": "Generated text", "content": _json("GenerateResponse")},
            {**_json("GenerateRequest"), "multipart/form-data": {"schema": generate_form}}, _POST_ERRORS,
        )},
        "/v1/read": {"post": _operation(
            "Read the text in an image (lines with boxes and confidences).",
            {"description": "Lines", "content": _json("ReadResponse")},
            {**_json("ReadRequest"), "multipart/form-data": {"schema": read_form}}, _POST_ERRORS,
        )},
        "/v1/rank": {"post": _operation(
            "Rank images against a query text, or texts against an image.",
            {"description": "Scores and order (best first)", "content": _json("RankResponse")}, _json("RankRequest"), _POST_ERRORS,
        )},
        "/v1/seed": {"post": _operation(
            "A deterministic text-guided seed and the normalized text embedding.",
            {"description": "Seed", "content": _json("SeedResponse")}, _json("SeedRequest"), _POST_ERRORS,
        )},
    }


def openapi_document() -> dict:
    """The OpenAPI 3.1 document (a fresh copy; callers may modify it)."""
    return copy.deepcopy({
        "openapi": "3.1.0",
        "info": {"title": "wan2.2-turbo", "version": __version__},
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    })
