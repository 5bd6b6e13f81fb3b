"""The server keeps no cache and writes nothing at run time, so a home, cache or temporary
folder that cannot be written does not stop it from serving (issue 12)."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parents[2]


def _png() -> bytes:
    image = Image.new("RGB", (480, 100), "white")
    ImageDraw.Draw(image).text((20, 25), "Total 42.50", fill="black", font=ImageFont.load_default(size=36))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.slow
def test_serves_with_no_writable_home_cache_or_temp_folder(ocr_bundle, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("folders cannot be created under a file, not even by root")
    unwritable = blocker / "sub"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAN_TURBO_")}
    env |= {"HOME": str(unwritable / "home"), "XDG_CACHE_HOME": str(unwritable / "cache"),
            "TMPDIR": str(unwritable / "tmp"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "launcher.cli", "serve", "--model", str(ocr_bundle), "--port", "0"],
                               cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split("listening on ")[1].strip()
        assert process.stdout.readline().startswith("Serving ocr on ")
        body = json.dumps({"image": base64.b64encode(_png()).decode()}).encode()
        request = urllib.request.Request(url + "/v1/read", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            assert response.status == 200
            assert "42.50" in json.loads(response.read())["text"]
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err and "warning" not in err.lower()
