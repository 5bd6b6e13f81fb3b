"""The generated /openapi.json is the contract: every route answers 200 or 400 as it says.

For each operation: a minimal body derived from its schema gets 200 and a body that
matches the documented response schema; an unknown field, a wrong type for each property
and each missing required field get a 400 in the one envelope naming that field.
"""

from __future__ import annotations

import base64

import jsonschema_rs
import pytest
import pytest_asyncio
from aiohttp import FormData
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR  # the OAS 3.1 meta-schema

from runtime.api.schemas import EXAMPLE_IMAGE

pytestmark = pytest.mark.asyncio

# Tried in order: the first one that the property's schema refuses is sent as "a wrong type".
WRONG_VALUES = (True, "wrong", 12345, ["wrong"], {"wrong": "type"})
UNKNOWN_FIELD = "not_a_field"


@pytest_asyncio.fixture
async def document(client) -> dict:
    response = await client.get("/openapi.json")
    assert response.status == 200
    return await response.json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path.replace("{model_id}", "fake-vlm"), method, operation


def _validator(schema: dict, document: dict):
    """A validator for `schema`, resolving `#/components/schemas/...` against the document."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})


def _resolve(schema: dict, document: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def minimal(schema: dict, document: dict):
    """The smallest value the schema accepts: required fields only, examples where given."""
    schema = _resolve(schema, document)
    if "examples" in schema:
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema and "type" not in schema:
            choices = [s for s in schema[key] if _resolve(s, document).get("type") != "null"]
            return minimal(choices[0], document)
    kind = schema.get("type")
    if kind == "object":
        required = list(schema.get("required", []))
        together = schema.get("oneOf") or schema.get("anyOf") or []
        if together:  # fields that must come together (rank, generate): the first group
            required += together[0]["required"]
        return {name: minimal(schema["properties"][name], document) for name in required}
    if kind == "array":
        return [minimal(schema["items"], document)] * schema.get("minItems", 0)
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 0))
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    raise AssertionError(f"no minimal value for {schema}")


async def _error(response, param: str | None) -> dict:
    assert response.status == 400, await response.text()
    error = (await response.json())["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["message"]
    assert error["param"] == param, error
    return error


async def _check_ok(response, operation: dict, document: dict) -> None:
    assert response.status == 200, await response.text()
    content = operation["responses"]["200"]["content"]
    if "application/json" in content:
        _validator(content["application/json"]["schema"], document).validate(await response.json())


async def test_the_document_is_valid_openapi_3_1(document):
    OPENAPI_31_VALIDATOR.validate(document)
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate(schema)  # each body schema is valid JSON Schema 2020-12


async def test_generate_lists_only_the_tasks_it_accepts(document):
    schemas = document["components"]["schemas"]
    generate_task = schemas["GenerateRequest"]["properties"]["task"]["anyOf"][0]
    assert generate_task == {"enum": ["caption", "generate", "vqa"]}
    chat_task = schemas["ChatCompletionRequest"]["properties"]["task"]["anyOf"][0]
    assert chat_task == {"enum": ["caption", "generate", "read", "vqa"]}


@pytest.mark.parametrize(
    ("path", "schema"), [("/v1/generate", "GenerateRequest"), ("/v1/chat/completions", "ChatCompletionRequest")]
)
async def test_every_documented_task_is_served(client, document, path, schema):
    tasks = document["components"]["schemas"][schema]["properties"]["task"]["anyOf"][0]["enum"]
    for task in tasks:
        if path == "/v1/generate":
            body = {"task": task, "image": EXAMPLE_IMAGE, "prompt": "What is it?"}
        else:
            parts = [{"type": "text", "text": "What is it?"}, {"type": "image_url", "image_url": EXAMPLE_IMAGE}]
            body = {"task": task, "messages": [{"role": "user", "content": parts}]}
        response = await client.post(path, json=body)
        assert response.status == 200, (task, await response.text())


async def test_every_get_route_answers_200_as_documented(client, document):
    gets = [(path, operation) for path, method, operation in _operations(document) if method == "get"]
    assert len(gets) == 5
    for path, operation in gets:
        await _check_ok(await client.get(path), operation, document)


async def test_every_json_body_route_matches_its_schema(client, document):
    posts = [(path, op) for path, method, op in _operations(document) if "requestBody" in op]
    assert len(posts) == 8
    for path, operation in posts:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        body = minimal(schema, document)
        _validator(schema, document).validate(body)
        await _check_ok(await client.post(path, json=body), operation, document)
        await _error(await client.post(path, json={**body, UNKNOWN_FIELD: 1}), UNKNOWN_FIELD)
        await _check_each_property_refuses_a_wrong_type(client, path, _resolve(schema, document), body, document)
        for name in _resolve(schema, document).get("required", []):
            missing = {key: value for key, value in body.items() if key != name}
            await _error(await client.post(path, json=missing), name)


async def _check_each_property_refuses_a_wrong_type(client, path: str, schema: dict, body: dict, document: dict):
    for name, property_schema in schema["properties"].items():
        validator = _validator(property_schema, document)
        wrong = next(value for value in WRONG_VALUES if not validator.is_valid(value))
        error = await _error_for_field(await client.post(path, json={**body, name: wrong}), name)
        assert error["param"] == name or error["param"].startswith((f"{name}.", f"{name}[")), (path, name, error)


async def _error_for_field(response, name: str) -> dict:
    assert response.status == 400, (name, await response.text())
    error = (await response.json())["error"]
    assert error["type"] == "invalid_request_error" and error["message"] and error["param"]
    return error


async def test_every_form_route_takes_the_same_body_as_a_form(client, document):
    forms = [(path, op) for path, method, op in _operations(document)
             if "multipart/form-data" in op.get("requestBody", {}).get("content", {})]
    assert [path for path, _ in forms] == ["/v1/generate", "/v1/read", "/v1/detect"]
    for path, operation in forms:
        await _check_ok(await client.post(path, data=_form()), operation, document)
        await _error(await client.post(path, data=_form((UNKNOWN_FIELD, "1"))), UNKNOWN_FIELD)
        await _error(await client.post(path, data=_form(("image", _IMAGE_BYTES))), "image")


_IMAGE_BYTES = base64.b64decode(EXAMPLE_IMAGE.partition(",")[2])


def _form(*fields: tuple[str, str | bytes]) -> FormData:
    """A form with the example image as the file `image`, and more fields (bytes: files)."""
    form = FormData()
    for key, value in (("image", _IMAGE_BYTES), *fields):
        if isinstance(value, bytes):
            form.add_field(key, value, filename=f"{key}.png", content_type="image/png")
        else:
            form.add_field(key, value)
    return form
