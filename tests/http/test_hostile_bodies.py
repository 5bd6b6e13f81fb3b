"""Hostile request bodies (issue 12): lone surrogates, deep nesting, empty data: URIs,
forms without their image, images over the pixel limit. Each is a 4xx that says what to
change, never a 500, and the server keeps serving."""

from __future__ import annotations

import base64
import json

import pytest
from aiohttp import FormData
from http_fakes import chat_body, data_uri, png_bytes, png_claiming

from runtime.api.bodies import parse_json
from runtime.errors import InvalidRequestError

pytestmark = pytest.mark.asyncio

SURROGATE = "\ud800"
# Every route that takes text, with the lone surrogate in one of its text fields.
TEXT_ROUTES = (
    ("/v1/chat/completions", chat_body(f"What is {SURROGATE}?")),
    ("/v1/chat/completions", {"messages": [{"role": "system", "content": SURROGATE},
                                           {"role": "user", "content": "hi"}]}),
    ("/v1/embeddings", {"input": SURROGATE}),
    ("/v1/embeddings", {"input": ["fine", SURROGATE]}),
    ("/v1/seed", {"text": SURROGATE}),
    ("/v1/generate", {"prompt": SURROGATE}),
    ("/v1/read", {"image": data_uri(), "model": SURROGATE}),
    ("/v1/rank", {"query": SURROGATE, "images": [data_uri()]}),
    ("/v1/rank", {"image": data_uri(), "texts": ["a", SURROGATE]}),
)


async def _error(response, status: int) -> dict:
    assert response.status == status, await response.text()
    return (await response.json())["error"]


def _post_json(client, path: str, raw: bytes | str):
    return client.post(path, data=raw, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(("path", "body"), TEXT_ROUTES)
async def test_a_lone_surrogate_is_400_saying_so(client, path, body):
    # json.dumps escapes it as \ud800, as Python and JavaScript clients send it.
    raw = json.dumps(body)
    assert "\\ud800" in raw
    error = await _error(await _post_json(client, path, raw), 400)
    assert "lone UTF-16 surrogate" in error["message"] and "\\ud800" in error["message"]
    assert (await client.get("/health")).status == 200


@pytest.mark.parametrize("escape", ["\\udc00", "\\udbff\\u0041", "\\ud83d\\ud83d"])
async def test_every_shape_of_broken_pair_is_named(client, escape):
    raw = '{"input": "a' + escape + 'b"}'
    error = await _error(await _post_json(client, "/v1/embeddings", raw), 400)
    assert "lone UTF-16 surrogate" in error["message"]


async def test_a_proper_pair_and_an_escaped_backslash_are_not_surrogates():
    assert parse_json(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}
    assert parse_json(b'{"a": "\\\\ud800"}') == {"a": "\\ud800"}
    # A body broken elsewhere is not blamed on a literal "\ud800" text.
    with pytest.raises(InvalidRequestError, match="not valid JSON"):
        parse_json(b'{"a": "\\\\ud800", ')


async def test_a_form_field_that_is_not_utf8_is_400(client):
    body = b'--XX\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n\xed\xa0\x80\r\n--XX--\r\n'
    response = await client.post("/v1/generate", data=body, headers={"Content-Type": "multipart/form-data; boundary=XX"})
    error = await _error(response, 400)
    assert "malformed" in error["message"]


@pytest.mark.parametrize("depth", [100_000, 5_000])
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/embeddings", "/v1/generate", "/v1/seed"])
async def test_deeply_nested_json_is_400(client, path, depth):
    error = await _error(await _post_json(client, path, b"[" * depth + b"]" * depth), 400)
    assert "nested too deeply" in error["message"]
    assert (await client.get("/health")).status == 200


async def test_deep_nesting_inside_a_field_is_400(client):
    body = b'{"messages": [{"role": "user", "content": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}"
    error = await _error(await _post_json(client, "/v1/chat/completions", body), 400)
    assert "nested too deeply" in error["message"]


@pytest.mark.parametrize("uri", ["data:image/png;base64,", "data:,", "data:image/png;base64,   "])
async def test_an_empty_data_uri_says_it_is_empty(client, uri):
    error = await _error(await client.post("/v1/chat/completions", json=chat_body(image=uri)), 400)
    assert "data: URI is empty" in error["message"]
    assert "must be a data: URI" not in error["message"]


@pytest.mark.parametrize("path", ["/v1/read", "/v1/generate"])
async def test_a_multipart_form_without_an_image_says_the_image_part_is_missing(client, path):
    form = FormData(default_to_multipart=True)
    form.add_field("task" if path == "/v1/generate" else "model", "caption" if path == "/v1/generate" else "fake-vlm")
    error = await _error(await client.post(path, data=form), 400)
    assert "no 'image' part" in error["message"] and error["param"] == "image"
    assert "application/json" not in error["message"]


async def test_a_url_encoded_form_is_read_as_a_form(client):
    # curl -d prompt=hi (no file): a form, not "must be application/json".
    response = await client.post("/v1/generate", data={"prompt": "hello there"})
    assert response.status == 200, await response.text()
    assert (await response.json())["text"] == "Hello world!"
    error = await _error(await client.post("/v1/read", data={"model": "fake-vlm"}), 400)
    assert "no 'image' part" in error["message"]
    encoded = base64.b64encode(png_bytes()).decode()
    ok = await client.post("/v1/read", data={"image": encoded})
    assert ok.status == 200, await ok.text()


async def test_the_pixel_limit_error_names_the_flag(make_client):
    client = await make_client(max_image_pixels=10_000)
    body = chat_body(image=data_uri(png_claiming(300, 200)))
    error = await _error(await client.post("/v1/chat/completions", json=body), 413)
    assert "--max-image-pixels" in error["message"] and "max_pixels" not in error["message"]
    assert "300x200 = 60000 pixels" in error["message"] and "10000" in error["message"]
    form = FormData()
    form.add_field("image", png_claiming(300, 200), filename="big.png", content_type="image/png")
    error = await _error(await client.post("/v1/read", data=form), 413)
    assert "--max-image-pixels" in error["message"]


async def test_a_form_route_names_every_body_type_it_takes(client):
    response = await client.post("/v1/read", data=b"x", headers={"Content-Type": "text/plain"})
    error = await _error(response, 415)
    assert "multipart/form-data" in error["message"] and "application/json" in error["message"]
    assert "curl -F image=@" in error["message"]  # says how to send the image
    error = await _error(await client.post("/v1/read"), 415)  # no body, no Content-Type
    assert "'application/octet-stream'" in error["message"] and "named 'image'" in error["message"]
    response = await client.post("/v1/embeddings", data=b"x", headers={"Content-Type": "text/plain"})
    assert "multipart" not in (await _error(response, 415))["message"]
