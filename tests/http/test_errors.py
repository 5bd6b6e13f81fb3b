"""One test per error mapping and per limit, over the real app with a scripted model."""

from __future__ import annotations

import asyncio
import base64
import json
import logging

import pytest
from aiohttp import FormData
from http_fakes import FakeModel, chat_body, data_uri, png_bytes, png_claiming

pytestmark = pytest.mark.asyncio


async def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status == status, await response.text()
    body = await response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"message", "type", "param", "code"} <= set(error)
    if code is not None:
        assert error["code"] == code
    return error


async def test_missing_or_wrong_api_key_is_401(make_client):
    client = await make_client(api_key="sekrit")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic sekrit"}):
        response = await client.get("/v1/models", headers=headers)
        error = await _error(response, 401, "invalid_api_key")
        assert error["type"] == "authentication_error"
        assert "--api-key" in error["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    ok = await client.get("/v1/models", headers={"Authorization": "Bearer sekrit"})
    assert ok.status == 200


async def test_health_needs_no_api_key(make_client):
    client = await make_client(api_key="sekrit")
    assert (await client.get("/health")).status == 200
    assert (await client.get("/metrics")).status == 401


async def test_body_over_limit_is_413(make_client):
    client = await make_client(max_body_bytes=2000)
    body = chat_body(image=data_uri(png_bytes(64, 64)) + "A" * 4000)
    error = await _error(await client.post("/v1/chat/completions", json=body), 413, "request_too_large")
    assert "2000" in error["message"]


async def test_image_over_pixel_limit_is_413(make_client):
    client = await make_client(max_image_pixels=10_000)
    body = chat_body(image=data_uri(png_claiming(100_000, 100_000)))
    error = await _error(await client.post("/v1/chat/completions", json=body), 413, "image_too_large")
    assert error["param"] == "image"


async def test_wrong_content_type_is_415(client):
    response = await client.post("/v1/chat/completions", data="hello", headers={"Content-Type": "text/plain"})
    await _error(response, 415, "unsupported_media_type")


async def test_malformed_json_is_400(client):
    response = await client.post(
        "/v1/chat/completions", data=b'{"messages": [', headers={"Content-Type": "application/json"}
    )
    error = await _error(response, 400, "invalid_request")
    assert "JSON" in error["message"]


async def test_unknown_key_is_400_naming_it(client):
    error = await _error(await client.post("/v1/chat/completions", json=chat_body(bogus=1)), 400)
    assert error["param"] == "bogus"


async def test_openai_key_at_non_default_is_400_and_default_is_accepted(client):
    error = await _error(
        await client.post("/v1/chat/completions", json=chat_body(logit_bias={"42": 1.0})), 400
    )
    assert error["param"] == "logit_bias"
    ok = await client.post("/v1/chat/completions", json=chat_body(user="u1", logit_bias={}, tools=[]))
    assert ok.status == 200, await ok.text()


async def test_n_above_one_is_400(client):
    error = await _error(await client.post("/v1/chat/completions", json=chat_body(n=2)), 400)
    assert error["param"] == "n"


async def test_unsupported_task_is_400_naming_the_tasks(make_client):
    client = await make_client(FakeModel(tasks=("caption", "read")))
    error = await _error(await client.post("/v1/chat/completions", json=chat_body("hi")), 400, "task_not_supported")
    assert "caption" in error["message"] and "read" in error["message"]
    explicit = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), task="vqa"))
    assert "send the image with no text" not in (await _error(explicit, 400, "task_not_supported"))["message"]
    # a question beside an image, to a captioner: the way to get its caption is said
    asked = await client.post("/v1/chat/completions", json=chat_body("Describe this image.", image=data_uri()))
    assert "send the image with no text for its caption" in (await _error(asked, 400, "task_not_supported"))["message"]


async def test_task_without_a_chat_answer_is_400_naming_its_endpoint(client):
    response = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), task="seed"))
    error = await _error(response, 400, "invalid_request")
    assert error["param"] == "task" and "POST /v1/embeddings, /v1/rank, /v1/seed" in error["message"]
    response = await client.post("/v1/generate", json={"image": data_uri(), "task": "read"})
    error = await _error(response, 400, "invalid_request")
    assert error["param"] == "task" and "POST /v1/read" in error["message"]


async def test_remote_image_is_refused_naming_the_flag(client):
    body = chat_body(image="https://example.com/cat.png")
    error = await _error(await client.post("/v1/chat/completions", json=body), 400)
    assert "--allow-remote-images" in error["message"]


async def test_file_url_outside_media_dir_is_refused(make_client, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "ok.png").write_bytes(png_bytes())
    (tmp_path / "secret.png").write_bytes(png_bytes())
    client = await make_client(media_dir=media)
    for url in (f"file://{tmp_path}/secret.png", f"file://{media}/../secret.png", "file:///etc/passwd"):
        error = await _error(await client.post("/v1/chat/completions", json=chat_body(image=url)), 400)
        assert "media directory" in error["message"]
    ok = await client.post("/v1/chat/completions", json=chat_body(image=f"file://{media}/ok.png"))
    assert ok.status == 200, await ok.text()


async def test_file_url_without_media_dir_is_refused(client):
    error = await _error(await client.post("/v1/chat/completions", json=chat_body(image="file:///tmp/x.png")), 400)
    assert "--media-dir" in error["message"]


async def test_undecodable_image_is_400(client):
    body = chat_body(image=base64.b64encode(b"definitely not an image").decode())
    await _error(await client.post("/v1/chat/completions", json=body), 400, "unsupported_image")


async def test_looking_up_an_unknown_model_is_404(client):
    # A request naming another model reaches the one loaded (tests/http/test_compat_requests.py).
    error = await _error(await client.get("/v1/models/gpt-4o"), 404, "model_not_found")
    assert "fake-vlm" in error["message"]


async def test_unknown_route_is_404_and_wrong_method_405(client):
    await _error(await client.get("/v2/nothing"), 404, "not_found")
    response = await client.get("/v1/chat/completions")
    await _error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


async def test_full_queue_is_503_with_retry_after(make_client):
    client = await make_client(FakeModel(step_delay_s=0.2), max_queue=1)
    first = asyncio.ensure_future(client.post("/v1/chat/completions", json=chat_body()))
    await asyncio.sleep(0.15)
    response = await client.post("/v1/chat/completions", json=chat_body())
    error = await _error(response, 503, "overloaded")
    assert int(response.headers["Retry-After"]) >= 1
    assert error["type"] == "overloaded_error"
    assert (await first).status == 200


async def test_unexpected_error_is_500_with_request_id_and_no_traceback(make_client, caplog):
    client = await make_client(FakeModel(fail_with=ValueError("secret internals")))
    with caplog.at_level(logging.ERROR, logger="runtime.server"):
        response = await client.post("/v1/chat/completions", json=chat_body())
    error = await _error(response, 500, "internal_error")
    request_id = response.headers["X-Request-Id"]
    assert error["request_id"] == request_id and request_id in error["message"]
    text = json.dumps(error)
    assert "secret internals" not in text and "Traceback" not in text and "ValueError" not in text
    logged = [r for r in caplog.records if r.exc_info and request_id in r.getMessage()]
    assert len(logged) == 1


async def test_bare_value_error_is_never_a_400(make_client):
    client = await make_client(FakeModel(fail_with=ValueError("bad value")))
    assert (await client.post("/v1/generate", json={"image": data_uri()})).status == 500


async def test_context_length_exceeded_is_400_with_its_code(client):
    response = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=60))
    error = await _error(response, 400, "context_length_exceeded")
    assert "64" in error["message"]


async def test_bad_generation_value_is_400_naming_it(client):
    error = await _error(await client.post("/v1/chat/completions", json=chat_body(top_p=0)), 400)
    assert error["param"] == "top_p"
    error = await _error(await client.post("/v1/chat/completions", json=chat_body(max_tokens="7")), 400)
    assert error["param"] == "max_tokens"


async def test_request_timeout_is_504(make_client):
    client = await make_client(FakeModel(step_delay_s=0.3), request_timeout_s=0.4)
    response = await client.post("/v1/chat/completions", json=chat_body())
    await _error(response, 504, "timeout")


async def test_request_id_is_echoed_or_made(client):
    response = await client.get("/v1/models", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    response = await client.get("/v1/models", headers={"X-Request-Id": "bad id\twith junk"})
    assert response.headers["X-Request-Id"].startswith("req_")


async def test_return_attention_is_a_clear_400(client):
    error = await _error(await client.post("/v1/generate", json={"image": data_uri(), "return_attention": True}), 400)
    assert error["param"] == "return_attention" and "attention" in error["message"]


async def test_logprobs_needs_logprobs_flag(client):
    error = await _error(await client.post("/v1/chat/completions", json=chat_body(top_logprobs=2)), 400)
    assert error["param"] == "top_logprobs"


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
async def test_non_finite_numbers_are_400(client, number):
    raw = b'{"messages": [{"role": "user", "content": "hi"}], "temperature": ' + number + b"}"
    response = await client.post("/v1/chat/completions", data=raw, headers={"Content-Type": "application/json"})
    error = await _error(response, 400, "invalid_request")
    assert error["message"].startswith("The body is not valid JSON")


async def test_wrong_values_name_the_field_and_the_fix(client):
    cases = [
        ({"messages": [{"role": "user", "content": None}]}, "messages[0].content",
         "'messages[0].content' must be a string or a list of parts (only an assistant message may have none)."),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "audio"}]}]},
         "messages[0].content[1].type", "'messages[0].content[1].type' must be 'text' or 'image_url', not 'audio'."),
        (chat_body(bogus=1, user="u"), "bogus", "Unknown field 'bogus'. Accepted fields: audio, frequency_penalty, "),
        (chat_body(max_tokens="7"), "max_tokens", "'max_tokens' must be an integer, not a string."),
        (chat_body(top_logprobs=21, logprobs=True), "top_logprobs", "'top_logprobs' must be at most 20."),
        (chat_body(seed=2**64), "seed", "'seed' must be at most 18446744073709551615 (an unsigned 64-bit integer)."),
        (chat_body(tools=[{"type": "function"}]), "tools",
         "'tools' is not supported by this server; leave it out (or at its default)."),
    ]
    for body, param, message in cases:
        error = await _error(await client.post("/v1/chat/completions", json=body), 400, "invalid_request")
        assert error["param"] == param and error["message"].startswith(message), error


async def test_form_fields_must_be_finite_and_given_once(client):
    for fields, param, message in (
        ([("temperature", "inf")], "temperature", "Form field 'temperature' must be a finite number, got 'inf'."),
        ([("prompt", "a"), ("prompt", "b")], "prompt", "Form field 'prompt' is given more than once."),
    ):
        form = FormData()
        form.add_field("image", png_bytes(), filename="x.png", content_type="image/png")
        for key, value in fields:
            form.add_field(key, value)
        error = await _error(await client.post("/v1/generate", data=form), 400, "invalid_request")
        assert (error["param"], error["message"]) == (param, message)
