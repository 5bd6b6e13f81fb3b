"""The hostile-input corpus (issue 12), table-driven: tests/http/hostile_cases.py.

Each case goes to the real aiohttp app over the scripted FakeModel and must get its
status, its error code and a message that says what to change; after all of them, on one
server, /health and a valid request still succeed. The README's table of the corpus is
generated from the same table (packaging/readme_hostile.py) and checked here.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import FormData
from hostile_cases import CASES, MAX_BODY_BYTES, MAX_SEQ_LEN, Case, Json, Raw, Upload, chat, png

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "packaging"))

import readme_hostile  # noqa: E402


@pytest.fixture
def media_dir(tmp_path) -> Path:
    """--media-dir with ok.png, a folder, and a symlink to secret.png outside it."""
    media = tmp_path / "media"
    (media / "sub").mkdir(parents=True)
    (media / "ok.png").write_bytes(png())
    (tmp_path / "secret.png").write_bytes(png())
    (media / "escape.png").symlink_to(tmp_path / "secret.png")
    return media


@pytest_asyncio.fixture
async def corpus_client(make_client, fake_model, media_dir):
    assert fake_model.max_seq_len == MAX_SEQ_LEN
    return await make_client(media_dir=media_dir, max_body_bytes=MAX_BODY_BYTES)


def _send(client, case: Case, media_dir: Path):
    if isinstance(case.send, Upload):
        form = FormData()
        for key, value in case.send.fields.items():
            form.add_field(key, value)
        form.add_field("image", io.BytesIO(case.send.image), filename="upload.bin", content_type="application/octet-stream")
        return client.post(case.route, data=form)
    if isinstance(case.send, Json):
        body = json.dumps(case.send.body).replace("@MEDIA@", str(media_dir)).encode()
        return client.post(case.route, data=body, headers={"Content-Type": "application/json"})
    assert isinstance(case.send, Raw)
    # A stream, not bytes: aiohttp warns that a large bytes body may block the loop.
    return client.post(case.route, data=io.BytesIO(case.send.body), headers={"Content-Type": case.send.content_type})


async def _check(client, case: Case, media_dir: Path) -> None:
    response = await _send(client, case, media_dir)
    text = await response.text()
    assert response.status == case.status, f"{case.name}: {response.status} {text[:500]}"
    if case.status == 200:
        return
    error = json.loads(text)["error"]
    assert error["code"] == case.code, f"{case.name}: {error}"
    assert case.advice and case.advice in error["message"], f"{case.name}: {error['message']!r}"
    assert "Internal" not in error["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}: {c.name}" for c in CASES])
async def test_each_hostile_input_gets_its_answer(corpus_client, media_dir, case):
    await _check(corpus_client, case, media_dir)
    assert (await corpus_client.get("/health")).status == 200


@pytest.mark.asyncio
async def test_the_server_still_serves_after_the_whole_corpus(corpus_client, media_dir, fake_model):
    for case in CASES:
        await _check(corpus_client, case, media_dir)
    assert (await corpus_client.get("/health")).status == 200
    response = await corpus_client.post("/v1/chat/completions", json=chat(image="file://" + str(media_dir / "ok.png")).body)
    assert response.status == 200, await response.text()
    assert (await response.json())["choices"][0]["message"]["content"] == "Hello world!"
    metrics = await (await corpus_client.get("/metrics")).text()
    assert 'status="500"' not in metrics


def test_the_corpus_is_large_and_covers_every_kind_of_input():
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)  # a name is a row of the README
    assert {case.route for case in CASES} >= {"/v1/chat/completions", "/v1/read", "/v1/generate", "/v1/embeddings"}
    assert sum(case.status == 200 for case in CASES) >= 10  # valid oddities are answered, not refused
    for case in CASES:
        assert (case.status == 200) == (case.code is None), case.name
        assert case.status < 500, case.name


def test_the_readme_table_is_up_to_date():
    text = readme_hostile.README.read_text(encoding="utf-8")
    assert readme_hostile.update(text, readme_hostile.render_table()) == text, (
        f"README.md's hostile-input table is out of date; regenerate it with: {readme_hostile.REGENERATE}"
    )
    for case in CASES:
        assert f"| {case.name.replace('|', chr(92) + '|')} | `{case.route}` | {case.status} |" in text


def test_check_mode_fails_on_a_stale_readme(tmp_path, monkeypatch, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("x\n<!-- hostile:start -->\nstale\n<!-- hostile:end -->\ny\n")
    monkeypatch.setattr(readme_hostile, "README", readme)
    assert readme_hostile.main(["--check"]) == 1
    assert readme_hostile.REGENERATE in capsys.readouterr().err
    assert readme_hostile.main([]) == 0
    assert readme_hostile.main(["--check"]) == 0
    text = readme.read_text()
    assert text.startswith("x\n<!-- hostile:start -->\n") and text.endswith("<!-- hostile:end -->\ny\n")
    assert "| 1x60000 PNG | `/v1/read` | 200 | — |" in text
