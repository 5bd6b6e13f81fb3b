"""Multipart uploads are read into memory, bounded by --max-body-bytes (issue 12).

aiohttp's own form reader spools each file over 1 MiB to a temporary file, so a full or
missing temp folder made an ordinary upload a 500. These tests take the temp folder
away and fill the spool's disk; uploads must still be answered, and the byte limit
still holds.
"""

from __future__ import annotations

import errno
import io
import tempfile

import aiohttp.web_request
import pytest
from aiohttp import FormData
from http_fakes import png_bytes

BIG_PNG = png_bytes(64, 48) + b"\x00" * (3 * 1024 * 1024 // 2)  # trailing bytes: still a PNG, 1.5 MiB


class _FullDisk(tempfile.SpooledTemporaryFile):
    """A spool whose disk is full: writing past memory fails as on a full /tmp."""

    def rollover(self):
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def no_usable_temp_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    monkeypatch.setattr(aiohttp.web_request, "SpooledTemporaryFile", _FullDisk)


def _upload(data: bytes, **fields) -> FormData:
    form = FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    # A stream, not bytes: aiohttp warns that a large bytes body may block the loop.
    form.add_field("image", io.BytesIO(data), filename="big.png", content_type="image/png")
    return form


def test_the_fake_full_disk_does_break_a_spool_that_rolls_over(no_usable_temp_dir):
    # The condition the server must survive is real: aiohttp's spool fails like this.
    with aiohttp.web_request.SpooledTemporaryFile(1024) as spool, pytest.raises(OSError, match="No space left"):
        spool.write(b"x" * 2048)


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/v1/read", "/v1/generate"])
async def test_a_large_upload_is_answered_with_no_usable_temp_dir(make_client, no_usable_temp_dir, path):
    client = await make_client()
    fields = {"task": "caption"} if path == "/v1/generate" else {}
    response = await client.post(path, data=_upload(BIG_PNG, **fields))
    assert response.status == 200, await response.text()


@pytest.mark.asyncio
async def test_an_upload_over_the_body_limit_is_413_naming_the_flag(make_client, no_usable_temp_dir):
    client = await make_client(max_body_bytes=1024 * 1024)
    response = await client.post("/v1/read", data=_upload(BIG_PNG))
    assert response.status == 413, await response.text()
    assert "--max-body-bytes" in (await response.json())["error"]["message"]
    assert (await client.get("/health")).status == 200


@pytest.mark.asyncio
async def test_text_fields_and_the_image_reach_the_model(make_client, fake_model):
    client = await make_client()
    response = await client.post("/v1/generate", data=_upload(BIG_PNG, prompt="what colour?", max_new_tokens="2"))
    assert response.status == 200, await response.text()
    task, prompt, params = fake_model.calls[-1]
    assert (task, prompt, params.max_new_tokens) == ("vqa", "what colour?", 2)
