"""The hostile corpus's odd but valid images through real tiny models on a live server
(issue 12): the corpus runs over the scripted FakeModel, so here the real preprocessing
(ViT's exact resize for the captioner, CLIP's shortest-edge resize and crop) meets 1x1,
1x60000 and 60000x1 images, CMYK, 16-bit and animated files, and answers each."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pytest
from hostile_cases import _encode, _picture, animated, cmyk_jpeg, grey16_png, rgb48_png

VALID_ODDITIES = {
    "1x1 PNG": _encode(_picture(1, 1), "PNG"),
    "1x60000 PNG": _encode(_picture(1, 60_000), "PNG"),
    "60000x1 PNG": _encode(_picture(60_000, 1), "PNG"),
    "3x20000 PNG": _encode(_picture(3, 20_000), "PNG"),
    "CMYK JPEG": cmyk_jpeg(),
    "16-bit greyscale PNG": grey16_png(),
    "16-bit RGB PNG": rgb48_png(),
    "animated GIF": animated("GIF"),
    "animated WebP": animated("WEBP"),
}


def _post(server, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        server.url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _uri(data: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize("name", sorted(VALID_ODDITIES))
def test_the_captioner_answers_every_odd_but_valid_image(captioner_server, name):
    body = {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": _uri(VALID_ODDITIES[name])}}]}],
            "max_tokens": 3}
    status, reply = _post(captioner_server, "/v1/chat/completions", body)
    assert status == 200, reply
    assert reply["choices"][0]["message"]["content"].strip()


@pytest.mark.parametrize("name", sorted(VALID_ODDITIES))
def test_clip_embeds_every_odd_but_valid_image(clip_server, name):
    body = {"input": [{"content": [{"type": "image_url", "image_url": {"url": _uri(VALID_ODDITIES[name])}}]}]}
    status, reply = _post(clip_server, "/v1/embeddings", body)
    assert status == 200, reply
    assert len(reply["data"]) == 1 and len(reply["data"][0]["embedding"]) > 1
