"""Security defaults (issue 12): the API key on every route but /health, compared in constant
time, never logged; CORS refuses foreign origins and names a flag that exists."""

from __future__ import annotations

import asyncio
import hmac
import logging

import pytest
from click.testing import CliRunner
from http_fakes import FakeModel, chat_body

import runtime.server
from runtime.server import ServerConfig, create_app
from runtime.server.page import PUBLIC_PATHS

pytestmark = pytest.mark.asyncio

KEY = "k3y-Zq81-secret"


def _paths(app):
    """(method, path) of every registered route, with placeholders filled in."""
    for route in app.router.routes():
        path = route.resource.canonical.replace("{model_id}", "fake-vlm")
        yield route.method, path


async def test_every_route_but_health_refuses_a_request_without_the_key(make_client):
    client = await make_client(api_key=KEY)
    checked = set()
    for method, path in _paths(client.app):
        if path == "/health" or path in PUBLIC_PATHS:  # the page's files: it asks for the key itself
            assert (await client.request(method, path)).status == 200, (method, path)
            continue
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"},
                        {"Authorization": f"Bearer {KEY}x"}, {"Authorization": KEY}):
            response = await client.request(method, path, headers=headers)
            assert response.status == 401, (method, path, headers)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            if method != "HEAD":
                body = await response.json()
                assert body["error"]["code"] == "invalid_api_key" and "--api-key" in body["error"]["message"]
        response = await client.request(method, path, headers={"Authorization": f"Bearer {KEY}"})
        assert response.status != 401, (method, path)
        checked.add(path)
    assert {"/v1/chat/completions", "/v1/models", "/metrics", "/openapi.json", "/v1/embeddings"} <= checked
    for method in ("GET", "HEAD"):
        assert (await client.request(method, "/health")).status == 200
    assert (await client.get("/no/such/route")).status == 401  # unknown paths reveal nothing either


async def test_the_key_is_compared_in_constant_time(make_client, monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(presented, expected):
        compared.append((presented, expected))
        return real(presented, expected)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    client = await make_client(api_key=KEY)
    assert (await client.get("/v1/models", headers={"Authorization": "Bearer nope"})).status == 401
    assert (await client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"})).status == 200
    assert compared == [(b"nope", KEY.encode()), (KEY.encode(), KEY.encode())]


async def test_an_undecodable_authorization_header_is_refused_not_a_server_error(make_client):
    client = await make_client(api_key=KEY)
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    assert status_line.split()[1] == b"401", status_line


async def test_the_key_never_reaches_the_logs_or_replies(make_client, caplog):
    model = FakeModel(fail_with=RuntimeError("boom"))  # an unexpected error: logged with its traceback
    client = await make_client(model=model, api_key=KEY)
    replies = []
    with caplog.at_level(logging.DEBUG):
        for headers, path in (
            ({"Authorization": f"Bearer {KEY}"}, "/v1/models"),
            ({"Authorization": f"Bearer {KEY}-but-longer"}, "/v1/models"),
            ({"Authorization": f"Bearer {KEY}"}, f"/v1/models?api_key={KEY}&key={KEY}"),
            ({"Authorization": f"Bearer {KEY}", "X-Request-Id": "r1"}, "/nowhere"),
        ):
            response = await client.get(path, headers=headers)
            replies.append(await response.text())
        response = await client.post("/v1/chat/completions", json=chat_body(), headers={"Authorization": f"Bearer {KEY}"})
        assert response.status == 500
        replies.append(await response.text())
    # aiohttp's own access log (which prints query strings) belongs to the test client's runner;
    # run_server turns it off (access_log=None) and logs through runtime.server.access.
    logged = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records if r.name != "aiohttp.access")
    assert "/v1/models" in logged and "Unexpected error" in logged  # the access and error logs ran
    assert KEY not in logged
    assert not [reply for reply in replies if KEY in reply]


# --- CORS ----------------------------------------------------------------------------------

async def test_cors_refusal_names_the_flag_that_allows_it(client):
    refused = await client.get("/v1/models", headers={"Origin": "https://evil.example"})
    assert refused.status == 403 and "Access-Control-Allow-Origin" not in refused.headers
    message = (await refused.json())["error"]["message"]
    assert "--cors-origin https://evil.example" in message


@pytest.fixture
def served_configs(monkeypatch):
    configs = []
    monkeypatch.setattr(runtime.server, "run_server", lambda load, config: configs.append(config) or 0)
    return configs


def _serve(ocr_bundle, *args, env=None):
    from launcher.cli import main

    return CliRunner().invoke(main, ["serve", "--model", str(ocr_bundle), *args], env=env, prog_name="wan2.2-turbo")


async def test_cors_origin_flag_allows_exactly_what_it_names(aiohttp_client, ocr_bundle, served_configs):
    result = _serve(ocr_bundle, "--cors-origin", "https://App.Example:8443", "--cors-origin", "http://[::1]:3000")
    assert result.exit_code == 0, result.output
    config = served_configs[-1]
    assert config.cors_origins == ("https://app.example:8443", "http://[::1]:3000")
    client = await aiohttp_client(create_app(FakeModel(), config))
    for origin in config.cors_origins:
        allowed = await client.get("/v1/models", headers={"Origin": origin})
        assert allowed.status == 200 and allowed.headers["Access-Control-Allow-Origin"] == origin
    refused = await client.get("/v1/models", headers={"Origin": "https://app.example"})  # another port
    assert refused.status == 403

    assert _serve(ocr_bundle, env={"WAN_TURBO_CORS_ORIGIN": "https://a.example https://b.example"}).exit_code == 0
    assert served_configs[-1].cors_origins == ("https://a.example", "https://b.example")
    assert _serve(ocr_bundle, "--cors-origin", "*").exit_code == 0
    client = await aiohttp_client(create_app(FakeModel(), served_configs[-1]))
    assert (await client.get("/v1/models", headers={"Origin": "https://any.example"})).status == 200


@pytest.mark.parametrize("origin", ["https://app.example/", "app.example", "https://app.example/path", "ftp://x.example"])
async def test_cors_origin_flag_refuses_what_is_not_an_origin(ocr_bundle, served_configs, origin):
    result = _serve(ocr_bundle, "--cors-origin", origin)
    assert result.exit_code == 2 and "is not an origin" in result.output and served_configs == []


async def test_without_the_flag_only_loopback_pages_may_call(ocr_bundle, served_configs, aiohttp_client):
    assert _serve(ocr_bundle).exit_code == 0
    assert served_configs[-1] == ServerConfig()
    client = await aiohttp_client(create_app(FakeModel(), served_configs[-1]))
    for origin, status in (("http://localhost:5173", 200), ("https://127.0.0.1", 200), ("http://[::1]:8080", 200),
                           ("http://localhost.evil.example", 403), ("null", 403)):
        assert (await client.get("/v1/models", headers={"Origin": origin})).status == status, origin


@pytest.mark.parametrize("flags", [(), ("--cors-origin", "https://app.example")])
async def test_the_servers_own_page_is_trusted_only_at_an_address_no_dns_record_can_move(
    ocr_bundle, served_configs, aiohttp_client, flags
):
    # DNS rebinding: a page on evil.example, re-pointed at this server, sends Origin and
    # Host both naming evil.example; "same origin" must not let it in.
    assert _serve(ocr_bundle, *flags).exit_code == 0
    client = await aiohttp_client(create_app(FakeModel(), served_configs[-1]))
    port = client.server.port
    for host, status in ((f"evil.example:{port}", 403), (f"192.168.1.20:{port}", 200), (f"[fe80::1]:{port}", 200),
                         (f"localhost:{port}", 200)):
        response = await client.post("/v1/chat/completions", json=chat_body(),
                                     headers={"Host": host, "Origin": f"http://{host}"})
        assert response.status == status, (host, await response.text())
    refused = await client.post("/v1/chat/completions", json=chat_body(),
                                headers={"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"})
    assert f"--cors-origin http://evil.example:{port}" in (await refused.json())["error"]["message"]


@pytest.mark.parametrize("key", ["", "   ", " padded", "padded\t"])
async def test_an_empty_or_padded_api_key_is_refused_not_silently_ignored(ocr_bundle, served_configs, key):
    result = _serve(ocr_bundle, "--api-key", key)
    assert result.exit_code == 2 and "--api-key" in result.output and "leave --api-key out" in result.output
    assert served_configs == []
    assert _serve(ocr_bundle, "--api-key", "k y").exit_code == 0 and served_configs[-1].api_key == "k y"
