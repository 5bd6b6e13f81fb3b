"""Create and refresh the project's virtual environment (`.venv`) from pyproject.toml.

Reinstalls only when pyproject.toml changed since the last successful install, so
repeated `python3 build.py test` runs start at once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"


def venv_python() -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return VENV / scripts / ("python.exe" if os.name == "nt" else "python")


def ensure_environment(extras: str = "test") -> Path:
    """Make `.venv` hold this checkout (editable) with `extras`; return its python."""
    python = venv_python()
    if not python.exists():
        print(f"[build] creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras}"
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return python
    print(f"[build] installing dependencies ({extras}) into {VENV}", flush=True)
    # torch first, pinned, so nothing later resolves an unpinned (CUDA) build.
    if extras == "test":
        subprocess.run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", f"{REPO}[{extras}]"], check=True)
    stamp.write_text(digest)
    return python


def run_in_environment(python: Path, args: list[str]) -> int:
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.call([str(python), *args], cwd=REPO, env=env)


if __name__ == "__main__":
    sys.exit(run_in_environment(ensure_environment(), sys.argv[1:]))
