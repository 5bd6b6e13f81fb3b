"""Remote images (issue 12's security list): without --allow-remote-images no request opens a
network connection; with it, the server fetches exactly the URL it was given and follows no
redirect, neither to another host nor to file://. Checked against image servers on loopback
that count every request they receive."""

from __future__ import annotations

import collections

import pytest
import pytest_asyncio
from aiohttp import web
from http_fakes import chat_body, png_bytes

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def image_hosts(aiohttp_server):
    """Two loopback image servers ('origin' and 'other') and the paths each was asked for."""
    hits: collections.Counter[str] = collections.Counter()

    def counted(name: str, handler):
        async def handle(request: web.Request) -> web.StreamResponse:
            hits[f"{name}{request.path}"] += 1
            return await handler(request)

        return handle

    async def picture(request):
        return web.Response(body=png_bytes(), content_type="image/png")

    other_app = web.Application()
    other_app.router.add_get("/{name}", counted("other", picture))
    other = await aiohttp_server(other_app)

    def redirect(location: str):
        async def handle(request):
            raise web.HTTPFound(location)

        return handle

    origin_app = web.Application()
    origin_app.router.add_get("/picture.png", counted("origin", picture))
    origin_app.router.add_get("/to-other", counted("origin", redirect(str(other.make_url("/picture.png")))))
    origin_app.router.add_get("/to-file", counted("origin", redirect("file:///etc/passwd")))
    origin = await aiohttp_server(origin_app)
    return origin, other, hits


async def test_without_the_flag_no_connection_is_opened(make_client, image_hosts):
    origin, other, hits = image_hosts
    client = await make_client()
    for path in ("/picture.png", "/to-other", "/to-file"):
        response = await client.post("/v1/chat/completions", json=chat_body(image=str(origin.make_url(path))))
        assert response.status == 400
        assert "--allow-remote-images" in (await response.json())["error"]["message"]
    assert hits == {}


async def test_with_the_flag_the_url_itself_is_fetched(make_client, image_hosts):
    origin, _, hits = image_hosts
    client = await make_client(allow_remote_images=True)
    response = await client.post("/v1/chat/completions", json=chat_body(image=str(origin.make_url("/picture.png"))))
    assert response.status == 200, await response.text()
    assert hits == {"origin/picture.png": 1}


@pytest.mark.parametrize("path", ["/to-other", "/to-file"])
async def test_with_the_flag_redirects_are_not_followed(make_client, image_hosts, path):
    origin, _, hits = image_hosts
    client = await make_client(allow_remote_images=True)
    response = await client.post("/v1/chat/completions", json=chat_body(image=str(origin.make_url(path))))
    assert response.status == 400
    error = (await response.json())["error"]
    assert "redirect" in error["message"] and "root:" not in error["message"]
    assert hits == {f"origin{path}": 1}  # the other host was never asked
