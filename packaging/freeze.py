"""Freeze launcher + runtime with PyInstaller (packaging/wan.spec) into a onedir folder.

Reproducible where the tools allow (FACTS, Packaging): PYTHONHASHSEED=0, pip's install
records dropped in the spec, a clean PyInstaller cache. Then debug sections are stripped
from the libraries that have them — only those: numpy's bundled OpenBLAS is already
patched and `strip` breaks it, and files without debug sections gain nothing.

Not an importable package: put packaging/ on ``sys.path`` and ``import freeze``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import elf_files  # noqa: E402

APP_NAME = "wan2.2-turbo"
SPEC = HERE / "wan.spec"
# Keep in step with pyproject.toml (the `test` extra): the version FACTS.md was measured with.
PYINSTALLER_REQUIREMENTS = ("pyinstaller==6.22.0", "pyinstaller-hooks-contrib==2026.9", "altgraph==0.17.5")
FROZEN_RECORD_FILE = "frozen.json"  # written by wan.spec into the work folder
# Never rewritten: numpy's libraries (FACTS: strip breaks its patched OpenBLAS).
NEVER_STRIP = ("numpy", "numpy.libs")


def ensure_pyinstaller() -> None:
    """Install the pinned PyInstaller into this interpreter's environment if it differs."""
    from importlib import metadata

    wanted = dict(requirement.split("==") for requirement in PYINSTALLER_REQUIREMENTS)
    try:
        if all(metadata.version(name) == version for name, version in wanted.items()):
            return
    except metadata.PackageNotFoundError:
        pass
    print(f"[freeze] installing {' '.join(PYINSTALLER_REQUIREMENTS)}", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *PYINSTALLER_REQUIREMENTS], check=True)


def freeze(work_dir: Path, source_date_epoch: int) -> Path:
    """Run PyInstaller into `work_dir`; return the onedir folder (`<work_dir>/dist/wan2.2-turbo`)."""
    ensure_pyinstaller()
    work_dir = work_dir.resolve()
    dist, build = work_dir / "dist", work_dir / "build"
    shutil.rmtree(dist, ignore_errors=True)
    shutil.rmtree(build, ignore_errors=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONHASHSEED="0", SOURCE_DATE_EPOCH=str(source_date_epoch))
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
               "--distpath", str(dist), "--workpath", str(build), str(SPEC)]
    started = time.monotonic()
    # cwd outside the checkout: with the repo root on sys.path, packaging/ could shadow PyPA's
    # `packaging` inside PyInstaller itself.
    subprocess.run(command, cwd=work_dir, env=env, check=True)
    folder = dist / APP_NAME
    stripped = strip_debug_sections(folder)
    print(f"[freeze] {folder} in {time.monotonic() - started:.0f} s; debug sections stripped from "
          f"{len(stripped)} libraries", flush=True)
    return folder


def frozen_record(folder: Path) -> dict:
    """What wan.spec froze into `folder`: {"modules": [top-level names], "binaries": [[dest, src]]}."""
    record = folder.parent.parent / "build" / "wan" / FROZEN_RECORD_FILE
    return json.loads(record.read_text(encoding="utf-8"))


def strip_debug_sections(folder: Path) -> list[str]:
    """`strip --strip-debug` every ELF library under `folder` that has debug sections."""
    if platform.system() != "Linux":
        # Mach-O files are code-signed by PyInstaller (stripping would break the signature);
        # Windows DLLs carry no DWARF to speak of.
        return []
    strip = shutil.which("strip")
    if strip is None:
        print("[freeze] no 'strip' on PATH: libraries keep their debug sections", flush=True)
        return []
    stripped = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (path.is_symlink() or not path.is_file() or not elf_files.is_elf(path)
                or any(part in NEVER_STRIP for part in relative.parts)):
            continue
        if elf_files.has_debug_info(path):
            subprocess.run([strip, "--strip-debug", str(path)], check=True)
            stripped.append(relative.as_posix())
    return stripped


if __name__ == "__main__":
    print(freeze(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "build" / "release" / "pyinstaller",
                 int(os.environ.get("SOURCE_DATE_EPOCH", "0"))))
