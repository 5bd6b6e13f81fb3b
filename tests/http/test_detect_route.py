"""POST /v1/detect (issue 11): the detector's objects with labels, boxes and scores, as JSON
or a multipart form; a 400 naming the tasks when the model has no detector; and the real
reader bundle over HTTP."""

from __future__ import annotations

import base64
import io
import json
import urllib.request

import photo_models
import pytest
import pytest_asyncio
from aiohttp import FormData
from http_fakes import FakeModel

from runtime.api.config import ServerConfig
from runtime.server import create_app

from conftest import LiveServer


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _uri(image) -> str:
    return "data:image/png;base64," + base64.b64encode(_png(image)).decode()


class _NoDetector(FakeModel):
    detect = None


@pytest_asyncio.fixture
async def fake_client(aiohttp_client):
    return await aiohttp_client(create_app(FakeModel(), ServerConfig()))


@pytest.mark.asyncio
async def test_detect_returns_objects_as_json_and_form(fake_client):
    from PIL import Image

    image = Image.new("RGB", (64, 48), (10, 200, 30))
    response = await fake_client.post("/v1/detect", json={"image": _uri(image)})
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["objects"] == [{"label": "cat", "box": [1.0, 2.0, 30.0, 40.0], "score": 0.9}]
    assert body["metadata"]["task"] == "detect" and "total" in body["metadata"]["timings_ms"]
    form = FormData()
    form.add_field("image", _png(image), filename="photo.png", content_type="image/png")
    response = await fake_client.post("/v1/detect", data=form)
    assert response.status == 200 and (await response.json())["objects"][0]["label"] == "cat"


@pytest.mark.asyncio
async def test_detect_without_image_or_detector_is_a_400(aiohttp_client, fake_client):
    response = await fake_client.post("/v1/detect", json={})
    assert response.status == 400 and (await response.json())["error"]["param"] == "image"
    client = await aiohttp_client(create_app(_NoDetector(), ServerConfig()))
    from PIL import Image

    response = await client.post("/v1/detect", json={"image": _uri(Image.new("RGB", (8, 8)))})
    error = (await response.json())["error"]
    assert response.status == 400 and error["code"] == "task_not_supported" and "detect" in error["message"]


@pytest.mark.slow
def test_detect_on_the_reader_bundle(reader_bundle):
    from runtime import load_model

    photo = photo_models.photo("chelsea")
    with LiveServer(load_model(reader_bundle), ServerConfig()) as server:
        request = urllib.request.Request(f"{server.url}/v1/detect", json.dumps({"image": _uri(photo)}).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            body = json.loads(response.read())
    (cat,) = body["objects"]
    assert cat["label"] == "cat" and 0.4 <= cat["score"] <= 1
    x0, y0, x1, y1 = cat["box"]
    assert 0 <= x0 < 225 < x1 <= photo.width and 0 <= y0 < 150 < y1 <= photo.height
