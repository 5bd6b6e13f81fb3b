"""What the browser tests need besides Playwright: Debian's Chromium, axe-core from npm, a
real `wan2.2-turbo serve` process, and a drawn invoice.

    python3 tests/browser/browser_support.py     fetch the pinned axe-core (before going offline)

`.ci/run` runs that before the test suite, which runs with no network (`unshare -n`); a
test session with network fetches it itself on first use. Playwright never downloads a
browser here: it drives /usr/bin/chromium (`apt-get install chromium`, done by `.ci/run`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Debian's package; BROWSER_TESTS_CHROMIUM points elsewhere (e.g. to check the skip and the CI failure).
CHROMIUM = Path(os.environ.get("BROWSER_TESTS_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "build" / "test-artifacts" / "browser"

AXE_PACKAGE = "axe-core"
AXE_VERSION = "4.14.1"
AXE_TARBALL_SHA256 = "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745"
AXE_CACHE = REPO / ".cache" / "browser"

SERVER_START_LIMIT_S = 300.0

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def in_ci() -> bool:
    """CI=1 (or true), as CI services set it, or REQUIRE_BROWSER_TESTS=1, as `.ci/run` sets it."""
    return any(os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")
               for name in ("CI", "REQUIRE_BROWSER_TESTS"))


def chromium_problem() -> str | None:
    """Why Chromium cannot be used here, or None when it can."""
    if not CHROMIUM.exists():
        return f"Debian's Chromium is not installed ({CHROMIUM} is missing): apt-get install chromium (.ci/run does)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not executable"
    return None


# --- axe-core --------------------------------------------------------------------------------

class AxeUnavailable(RuntimeError):
    """The pinned axe-core tarball is not cached and cannot be fetched."""


def fetch_axe(cache_dir: Path = AXE_CACHE) -> Path:
    """The pinned axe-core tarball (`npm pack`, sha256 checked), fetched once into .cache/."""
    tarball = cache_dir / f"{AXE_PACKAGE}-{AXE_VERSION}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise AxeUnavailable(f"{tarball} is not cached and npm is not installed (apt-get install npm)")
        cache_dir.mkdir(parents=True, exist_ok=True)
        command = [npm, "pack", f"{AXE_PACKAGE}@{AXE_VERSION}", "--pack-destination", str(cache_dir), "--silent"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0 or not tarball.exists():
            raise AxeUnavailable(
                f"npm pack {AXE_PACKAGE}@{AXE_VERSION} failed (exit {done.returncode}): {done.stderr.strip()[-400:]}. "
                f"With no network, fetch it first: python3 tests/browser/browser_support.py"
            )
    actual = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if actual != AXE_TARBALL_SHA256:
        tarball.unlink()
        raise AxeUnavailable(f"{tarball.name} has sha256 {actual}, expected {AXE_TARBALL_SHA256}; removed it")
    return tarball


def axe_source() -> str:
    """axe.min.js out of the pinned tarball."""
    with tarfile.open(fetch_axe()) as archive:
        member = archive.extractfile("package/axe.min.js")
        assert member is not None, "axe-core tarball without package/axe.min.js"
        return member.read().decode("utf-8")


# --- a real server ---------------------------------------------------------------------------

class Server:
    """`wan2.2-turbo serve --port 0 ...` as a user starts it; its output goes to a log file."""

    def __init__(self, bundle: Path, log: Path, *flags: str, api_key: str | None = None):
        self.api_key = api_key
        self.log = log
        self.url = ""
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAN_TURBO_")} | {"PYTHONUNBUFFERED": "1"}
        args = ["--model", str(bundle), "--port", "0", *flags, *(["--api-key", api_key] if api_key else [])]
        self._output = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "launcher.cli", "serve", *args], cwd=REPO, env=env,
            stdout=self._output, stderr=subprocess.STDOUT, text=True,
        )

    def wait_ready(self) -> "Server":
        """Wait for the listening line, then for /health 200."""
        deadline = time.monotonic() + SERVER_START_LIMIT_S
        marker = "listening on "
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            text = self.log.read_text()
            if not self.url and marker in text:
                self.url = text.split(marker, 1)[1].split()[0].rstrip(".,;")
            if self.url and self.status("/health") == 200:
                return self
            time.sleep(0.25)
        raise AssertionError(f"the server was not ready within {SERVER_START_LIMIT_S:.0f} s:\n{self.log.read_text()[-3000:]}")

    def status(self, path: str) -> int:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    def get(self, path: str) -> bytes:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        with urllib.request.urlopen(urllib.request.Request(self.url + path, headers=headers), timeout=30) as response:
            return response.read()

    def post(self, path: str, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url + path, json.dumps(body).encode(), headers)
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())

    def models(self) -> dict:
        return json.loads(self.get("/v1/models"))

    def metric(self, name: str) -> float:
        """A counter from /metrics (0 when it was never incremented)."""
        for line in self.get("/metrics").decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._output.close()


# --- a drawn invoice -------------------------------------------------------------------------

INVOICE_LINES = (
    "NORTHWIND HARDWARE",
    "Invoice INV-20417",
    "Date: 2026-03-14",
    "Hammer 2 x 12.00",
    "Nails 1 x 18.50",
    "Total due: 42.50 EUR",
)
INVOICE_TOTAL = "42.50"


def draw_invoice(path: Path) -> tuple[float, float, float, float]:
    """An 800x500 invoice in DejaVu-sized default font; returns the total line's box
    (x0, y0, x1, y1) in image pixels."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (800, 500), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=30)
    total_box = (0.0, 0.0, 0.0, 0.0)
    for index, line in enumerate(INVOICE_LINES):
        origin = (40, 30 + index * 70)
        draw.text(origin, line, fill="black", font=font)
        if INVOICE_TOTAL in line:
            total_box = tuple(float(v) for v in draw.textbbox(origin, line, font=font))
    image.save(path)
    return total_box


def draw_noise(path: Path, side: int = 500) -> int:
    """A PNG of random pixels (it does not compress: ~side*side*3 bytes); returns its size."""
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path.stat().st_size


if __name__ == "__main__":
    print(f"axe-core {AXE_VERSION}: {fetch_axe()}")
