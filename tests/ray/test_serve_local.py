"""The Serve deployment in Serve's local testing mode (no cluster; issue 16): a replica loads
a bundle by path with the launcher's planner, splits its `num_cpus` between workers and
onnxruntime threads, and serves the API through the ASGI ingress: greedy answers equal the
engine's own, streams end in [DONE], and each response names the replica."""

from __future__ import annotations

import ray_support  # noqa: F401  (first: it imports Ray with its one known warning allowed)

import base64
import io
import json

import pytest
from PIL import Image
from ray import serve

from runtime import load_model
from runtime.api.config import ServerConfig
from runtime.errors import BundleError, InvalidRequestError
from runtime.ray_serve import ReplicaSpec, ScalingSpec, deployment
from runtime.server.page import load_files

pytestmark = pytest.mark.slow  # exports a tiny captioner once per cache; a replica loads it


def _picture() -> Image.Image:
    image = Image.new("RGB", (40, 30), (20, 120, 200))
    image.paste((250, 250, 0), (5, 5, 25, 20))
    return image


def _data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _chat(**extra) -> bytes:
    body = {"model": "m", "max_tokens": 8, "temperature": 0,
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": _data_uri(_picture())}}]}],
            **extra}
    return json.dumps(body).encode()


JSON = [("content-type", "application/json")]


@pytest.fixture(scope="module")
def captioner(tiny_models):
    return tiny_models("vit_gpt2").folder


SPEC_CPUS = 2


@pytest.fixture(scope="module")
def spec(captioner):
    return ReplicaSpec(model_dir=str(captioner), precision="fp32", num_cpus=SPEC_CPUS, max_batch_size=2)


@pytest.fixture(scope="module")
def handle(spec):
    """The whole application (the ingress in front of a model replica), in this process."""
    app = deployment.build_application(spec, ServerConfig(model_id="m"), ScalingSpec(replicas=1))
    return serve.run(app, name="wan-local", _local_testing_mode=True)


@pytest.fixture(scope="module")
def replica(spec):
    """A model replica alone, as the ingress's deployment handle reaches it."""
    return serve.run(deployment.ModelReplica.bind(spec, ServerConfig(model_id="m")), name="wan-replica",
                     _local_testing_mode=True)


def test_the_replica_splits_its_cpus_between_workers_and_onnxruntime_threads(replica):
    budget = replica.thread_budget.remote().result()
    assert budget["usable_cores"] == 2
    assert budget["workers"] * budget["intra_op_threads"] <= 2
    assert (budget["workers"], budget["intra_op_threads"]) == (2, 1)  # --max-batch-size 2 on 2 CPUs


def test_a_chat_with_an_image_answers_as_the_engine_does_and_names_the_replica(handle, captioner):
    status, headers, body = handle.call.remote("POST", "/v1/chat/completions", _chat(), JSON).result()
    assert status == 200, body
    reply = json.loads(body)
    expected = load_model(captioner, precision="fp32").caption(_picture(), max_new_tokens=8)
    assert reply["choices"][0]["message"]["content"] == expected.text
    assert reply["usage"]["completion_tokens"] == len(expected.token_ids)
    assert headers["x-wan-replica"]
    assert headers["x-request-id"].startswith("req_")


def test_the_ingress_relays_the_replicas_reply(handle, replica):
    direct = replica.call.remote("POST", "/v1/chat/completions", _chat(), JSON).result()
    relayed = handle.call.remote("POST", "/v1/chat/completions", _chat(), JSON).result()
    assert relayed[0] == direct[0] == 200
    answer = [json.loads(reply[2])["choices"][0]["message"]["content"] for reply in (direct, relayed)]
    assert answer[0] == answer[1]
    assert relayed[1]["content-type"] == direct[1]["content-type"] == "application/json; charset=utf-8"


def test_a_streamed_chat_sends_the_same_text_and_ends_in_done(handle):
    _, _, whole = handle.call.remote("POST", "/v1/chat/completions", _chat(), JSON).result()
    status, headers, body = handle.call.remote("POST", "/v1/chat/completions", _chat(stream=True), JSON).result()
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    events = [e.removeprefix("data: ") for e in body.decode().split("\n\n") if e.startswith("data: ")]
    assert events[-1] == "[DONE]"
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1])
    assert text == json.loads(whole)["choices"][0]["message"]["content"]


def test_a_form_upload_and_the_web_page_pass_through_the_ingress(handle, captioner):
    buffer = io.BytesIO()
    _picture().save(buffer, "PNG")
    form = (b"--b0undary\r\nContent-Disposition: form-data; name=\"task\"\r\n\r\ncaption\r\n"
            b"--b0undary\r\nContent-Disposition: form-data; name=\"max_new_tokens\"\r\n\r\n8\r\n"
            b"--b0undary\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + buffer.getvalue() + b"\r\n--b0undary--\r\n")
    status, _, body = handle.call.remote("POST", "/v1/generate", form,
                                         [("content-type", "multipart/form-data; boundary=b0undary")]).result()
    assert status == 200, body
    expected = load_model(captioner, precision="fp32").caption(_picture(), max_new_tokens=8)
    assert json.loads(body)["text"] == expected.text
    status, headers, page = handle.call.remote("GET", "/").result()
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert page == load_files()["/"].body


def test_health_models_and_metrics_come_from_the_replica(handle):
    assert handle.call.remote("GET", "/health").result()[0] == 200
    status, _, body = handle.call.remote("GET", "/v1/models").result()
    card = json.loads(body)["data"][0]
    assert status == 200 and card["id"] == "m"
    _, _, metrics = handle.call.remote("GET", "/metrics").result()
    assert b'wan_http_requests_total{method="GET",route="/v1/models",status="200"} 1.0' in metrics
    assert b"wan_requests_running 0.0" in metrics


def test_a_bundle_path_that_does_not_exist_stops_the_replica_with_the_planner_error(tmp_path):
    spec = ReplicaSpec(model_dir=str(tmp_path / "missing"))
    app = deployment.build_application(spec, ServerConfig(), ScalingSpec(replicas=1))
    with pytest.raises(BundleError):
        serve.run(app, name="wan-missing", _local_testing_mode=True)


def test_bad_scaling_and_cpu_values_are_refused_before_any_cluster():
    with pytest.raises(InvalidRequestError, match="num_cpus"):
        ReplicaSpec(model_dir="x", num_cpus=0)
    with pytest.raises(InvalidRequestError, match="not both"):
        ScalingSpec(replicas=2, min_replicas=1, max_replicas=3)
    with pytest.raises(InvalidRequestError, match="min-replicas"):
        ScalingSpec(replicas=None, min_replicas=3, max_replicas=2)
    with pytest.raises(InvalidRequestError, match="at least 1"):
        ScalingSpec(replicas=0)
    assert ScalingSpec(replicas=None, min_replicas=1, max_replicas=4).serve_options()["autoscaling_config"] == {
        "min_replicas": 1, "max_replicas": 4, "initial_replicas": 1, "target_ongoing_requests": 2.0,
        "upscale_delay_s": 30.0, "downscale_delay_s": 600.0}
    with pytest.raises(InvalidRequestError, match="delay"):
        ScalingSpec(replicas=None, min_replicas=1, max_replicas=2, upscale_delay_s=-1)
