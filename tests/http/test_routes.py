"""Routes over a scripted model: shapes of answers, health, metrics, CORS, access log."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading

import numpy as np
import pytest
from aiohttp import FormData
from http_fakes import FakeModel, chat_body, data_uri, png_bytes

from runtime.errors import BundleError
from runtime.server import ServerConfig, create_app
from runtime.server.app import LOADED
from runtime.server.page import PUBLIC_PATHS

pytestmark = pytest.mark.asyncio


async def test_chat_completion_shape_and_usage(client, fake_model):
    response = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), max_tokens=2, seed=3))
    assert response.status == 200
    body = await response.json()
    assert body["object"] == "chat.completion" and body["model"] == "fake-vlm"
    assert body["id"] == "chatcmpl-" + response.headers["X-Request-Id"]
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "Hello world", "refusal": None}
    assert choice["finish_reason"] == "length" and choice["logprobs"] is None
    assert body["usage"] == {"prompt_tokens": 13, "completion_tokens": 2, "total_tokens": 15}
    task, prompt, params = fake_model.calls[-1]
    assert (task, prompt, params.max_new_tokens, params.seed, params.do_sample) == ("vqa", "What is this?", 2, 3, False)


@pytest.mark.parametrize(
    ("text", "image", "extra", "task"),
    [
        ("What is it?", True, {}, "vqa"),
        (None, True, {}, "caption"),
        ("Write a poem", False, {}, "generate"),
        (None, True, {"task": "read"}, "read"),
    ],
)
async def test_task_is_inferred_or_named(client, fake_model, text, image, extra, task):
    body = chat_body(text, data_uri() if image else None, **extra)
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status == 200, await response.text()
    content = (await response.json())["choices"][0]["message"]["content"]
    if task == "read":
        assert content == "INVOICE 42\nTotal 17"
    else:
        assert fake_model.calls[-1][0] == task


async def test_sampling_options_reach_the_engine(client, fake_model):
    body = chat_body(temperature=0.7, top_p=0.9, stop=["\n", "END"], max_completion_tokens=3, top_k=5)
    assert (await client.post("/v1/chat/completions", json=body)).status == 200
    params = fake_model.calls[-1][2]
    assert params.do_sample and params.temperature == 0.7 and params.top_p == 0.9
    assert params.stop == ("\n", "END") and params.max_new_tokens == 3 and params.top_k == 5


async def test_image_url_as_string_and_bare_base64(client):
    raw = base64.b64encode(png_bytes()).decode()
    for image_url in (raw, {"url": raw}, data_uri()):
        body = {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": image_url}]}]}
        response = await client.post("/v1/chat/completions", json=body)
        assert response.status == 200, await response.text()


async def test_models_lists_components_and_limits(client):
    body = await (await client.get("/v1/models")).json()
    card = body["data"][0]
    assert body["object"] == "list" and card["id"] == "fake-vlm" and card["object"] == "model"
    assert card["owned_by"] and card["kind"] == "fake" and card["max_seq_len"] == 64
    assert set(card["input_modalities"]) == {"image", "text"}
    assert card["components"][1] == {
        "name": "decoder", "precision": "int8", "variant": "int8", "file": "onnx/decoder_int8.onnx",
        "provider": "CPUExecutionProvider", "reason": "VNNI",
    }
    assert (await client.get("/v1/models/fake-vlm")).status == 200


async def test_model_id_from_config(make_client):
    client = await make_client(model_id="my-model")
    assert (await (await client.get("/v1/models")).json())["data"][0]["id"] == "my-model"
    body = chat_body()
    body["model"] = "my-model"
    assert (await client.post("/v1/chat/completions", json=body)).status == 200


async def test_embeddings_text_and_image_float_and_base64(client):
    image_item = {"content": [{"type": "image_url", "image_url": {"url": data_uri()}}]}
    response = await client.post("/v1/embeddings", json={"input": ["a cat", image_item, "two dogs"], "model": "fake-vlm"})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    vectors = np.array([d["embedding"] for d in body["data"]])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert body["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
    encoded = await (await client.post("/v1/embeddings", json={"input": "a cat", "encoding_format": "base64"})).json()
    decoded = np.frombuffer(base64.b64decode(encoded["data"][0]["embedding"]), dtype="<f4")
    np.testing.assert_allclose(decoded, vectors[0], rtol=1e-6)


async def test_embeddings_refuse_token_ids_and_wrong_dimensions(client):
    response = await client.post("/v1/embeddings", json={"input": [[1, 2, 3]]})
    assert response.status == 400 and (await response.json())["error"]["param"] == "input[0]"
    response = await client.post("/v1/embeddings", json={"input": "x", "dimensions": 3})
    assert response.status == 400 and (await response.json())["error"]["param"] == "dimensions"


async def test_native_generate_json_with_tokens_and_logits(client):
    body = {"image": data_uri(), "prompt": "What?", "return_tokens": True, "return_logits": 2, "max_new_tokens": 2}
    response = await client.post("/v1/generate", json=body)
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["text"] == "Hello world"
    assert answer["tokens"] == [{"id": 100, "text": "Hello"}, {"id": 101, "text": " world"}]
    assert len(answer["logits"]) == 2 and len(answer["logits"][0]["top"]) == 2
    metadata = answer["metadata"]
    assert metadata["task"] == "vqa" and metadata["model"] == "fake-vlm"
    assert metadata["precision"] == "fp32,int8" and metadata["provider"] == "CPUExecutionProvider"
    assert metadata["usage"]["completion_tokens"] == 2 and metadata["timings_ms"]["total"] >= 0


async def test_native_generate_multipart(client, fake_model):
    form = FormData()
    form.add_field("image", png_bytes(), filename="x.png", content_type="image/png")
    form.add_field("task", "caption")
    form.add_field("max_new_tokens", "1")
    form.add_field("do_sample", "false")
    response = await client.post("/v1/generate", data=form)
    assert response.status == 200, await response.text()
    assert (await response.json())["text"] == "Hello"
    assert fake_model.calls[-1][0] == "caption"
    bad = FormData()
    bad.add_field("image", png_bytes(), filename="x.png")
    bad.add_field("max_new_tokens", "lots")
    response = await client.post("/v1/generate", data=bad)
    assert response.status == 400 and (await response.json())["error"]["param"] == "max_new_tokens"


async def test_read_json_and_multipart(client):
    response = await client.post("/v1/read", json={"image": data_uri()})
    body = await response.json()
    assert body["text"] == "INVOICE 42\nTotal 17"
    assert body["lines"][0] == {"text": "INVOICE 42", "box": [[0, 0], [10, 0], [10, 5], [0, 5]], "confidence": 0.97}
    form = FormData()
    form.add_field("image", png_bytes(), filename="x.png")
    assert (await client.post("/v1/read", data=form)).status == 200


async def test_rank_both_ways_and_seed(client):
    by_query = await (await client.post("/v1/rank", json={"query": "cat", "images": [data_uri(), data_uri()]})).json()
    assert by_query["order"] == [1, 0] and by_query["scores"] == [0.0, 1.0]
    by_image = await (await client.post("/v1/rank", json={"image": data_uri(), "texts": ["a", "abc"]})).json()
    assert by_image["order"] == [1, 0]
    seed = await (await client.post("/v1/seed", json={"text": "a red fox"})).json()
    assert seed["seed"] == 2**63 + 5 and len(seed["embedding"]) == 4


async def test_health_is_503_while_loading_then_200(aiohttp_client):
    release = threading.Event()

    def loader():
        assert release.wait(10)
        return FakeModel()

    app = create_app(loader, ServerConfig())
    client = await aiohttp_client(app)
    response = await client.get("/health")
    assert response.status == 503 and await response.json() == {"status": "loading", "message": "Loading model"}
    busy = await client.get("/v1/models")
    assert busy.status == 503 and (await busy.json())["error"]["code"] == "model_loading" and busy.headers["Retry-After"]
    release.set()
    await asyncio.wait_for(asyncio.shield(app[LOADED]), 10)
    response = await client.get("/health")
    assert response.status == 200 and await response.json() == {"status": "ok"}


async def test_load_failure_is_reported(aiohttp_client):
    def loader():
        raise BundleError("bundle.json is missing")

    app = create_app(loader, ServerConfig())
    client = await aiohttp_client(app)
    with pytest.raises(BundleError):
        await asyncio.wait_for(asyncio.shield(app[LOADED]), 10)
    response = await client.get("/health")
    assert response.status == 503 and (await response.json())["status"] == "failed"


async def test_metrics_count_requests_tokens_and_latency(client):
    streamed = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), stream=True))
    assert (await streamed.text()).endswith("data: [DONE]\n\n")
    await (await client.post("/v1/chat/completions", json=chat_body(bogus=1))).read()
    for _ in range(50):  # the access record of a stream lands just after its last byte
        text = await (await client.get("/metrics")).text()
        if 'status="200"} 1.0' in text:
            break
        await asyncio.sleep(0.02)
    for expected in (
        'wan_http_requests_total{method="POST",route="/v1/chat/completions",status="200"} 1.0',
        'wan_http_requests_total{method="POST",route="/v1/chat/completions",status="400"} 1.0',
        'wan_errors_total{code="invalid_request"} 1.0',
        'wan_tokens_total{direction="completion"} 3.0',
        'wan_tokens_total{direction="prompt"} 13.0',
        "wan_time_to_first_token_seconds_count 1.0",
        'wan_task_latency_seconds_count{task="vqa"} 1.0',
        'wan_batch_size_count{task="vqa"} 1.0',
        "wan_queue_depth 0.0",
        "wan_cancelled_requests_total 0.0",
        "wan_image_decode_seconds_count 1.0",
    ):
        assert expected in text, expected


async def test_cors_allows_localhost_and_refuses_other_origins(client):
    origin = "http://localhost:5173"
    response = await client.get("/v1/models", headers={"Origin": origin})
    assert response.status == 200 and response.headers["Access-Control-Allow-Origin"] == origin
    preflight = await client.options(
        "/v1/chat/completions",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"},
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"]
    for method in ("get", "options"):
        refused = await getattr(client, method)(
            "/v1/models", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        )
        assert refused.status == 403 and "Access-Control-Allow-Origin" not in refused.headers
        assert (await refused.json())["error"]["code"] == "cors_origin_refused"


async def test_cors_configured_origins_replace_localhost(make_client):
    client = await make_client(cors_origins=("https://app.example",), api_key="k")
    preflight = await client.options(
        "/v1/models", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status == 204  # preflights carry no credentials
    assert (await client.get("/v1/models", headers={"Origin": "http://localhost:3000"})).status == 403


async def test_json_access_log_one_object_per_request(make_client, caplog):
    client = await make_client(log_format="json")
    with caplog.at_level(logging.INFO, logger="runtime.server.access"):
        response = await client.get("/v1/models", headers={"X-Request-Id": "log-me"})
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "runtime.server.access"]
    assert len(records) == 1
    assert records[0]["request_id"] == "log-me" and records[0]["status"] == response.status == 200
    assert records[0]["path"] == "/v1/models" and records[0]["method"] == "GET"


async def test_openapi_lists_every_route(client):
    document = await (await client.get("/openapi.json")).json()
    app_routes = {  # the web page's files are not API (runtime/server/page/)
        (r.method.lower(), r.resource.canonical) for r in client.app.router.routes()
        if r.method != "HEAD" and r.resource.canonical not in PUBLIC_PATHS
    }
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert app_routes == documented


async def test_api_layer_imports_no_aiohttp():
    code = (
        "import sys; import runtime.api.service, runtime.api.openai, runtime.api.native, runtime.api.images;"
        "assert 'aiohttp' not in sys.modules, 'aiohttp imported'"
    )
    process = await asyncio.create_subprocess_exec(__import__("sys").executable, "-c", code)
    assert await process.wait() == 0
