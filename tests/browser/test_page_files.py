"""The page's files as the server sends them (no browser needed): headers, caching, what is
public under --api-key, and nothing in the HTML that its Content-Security-Policy would block."""

from __future__ import annotations

import re
import threading

import pytest
import pytest_asyncio

from runtime.server import ServerConfig, create_app
from runtime.server.page import FILES, PUBLIC_PATHS, load_files

KEY = "files-test-key"


def _still_loading(release: threading.Event):
    def loader():  # never done while the test runs; the app has stopped waiting for it by then
        release.wait(30)

    return loader


@pytest_asyncio.fixture
async def loading_client(aiohttp_client):
    """The real app while its model is still loading (the page must come up before it)."""
    release = threading.Event()
    client = await aiohttp_client(create_app(_still_loading(release), ServerConfig(api_key=KEY, warmup=False)))
    yield client
    await client.close()
    release.set()


@pytest.mark.asyncio
async def test_the_page_and_its_assets_are_served_while_loading_without_the_key(loading_client):
    assert (await loading_client.get("/health")).status == 503
    assert (await loading_client.get("/v1/models")).status == 401  # the API keeps its key
    for path, (name, content_type) in FILES.items():
        response = await loading_client.get(path)
        assert response.status == 200, path
        assert response.content_type == content_type and response.charset == "utf-8"
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert len(await response.read()) > 500, name


@pytest.mark.asyncio
async def test_an_unchanged_file_is_not_sent_again(loading_client):
    first = await loading_client.get("/page/app.js")
    again = await loading_client.get("/page/app.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304 and await again.read() == b""
    other = await loading_client.get("/page/app.js", headers={"If-None-Match": '"stale"'})
    assert other.status == 200


@pytest.mark.asyncio
async def test_only_the_page_files_are_public(loading_client):
    assert PUBLIC_PATHS == {"/", "/page/app.js", "/page/style.css"}
    for path in ("/page/", "/page/__init__.py", "/page/../app.py", "/index.html", "/page/index.html"):
        assert (await loading_client.get(path)).status == 401, path


def test_the_html_holds_nothing_its_policy_would_block():
    html = load_files()["/"].body.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "a file from another origin"
    referenced = set(re.findall(r"(?:src|href)=\"(/[^\"]*)\"", html))
    assert referenced == set(PUBLIC_PATHS) - {"/"}
    labelled = set(re.findall(r"<label for=\"([^\"]+)\"", html))
    controls = set(re.findall(r"<(?:input|select|textarea)[^>]*\bid=\"([^\"]+)\"", html))
    assert controls <= labelled, controls - labelled  # every control has a label
