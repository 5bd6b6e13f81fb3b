"""The release build that the e2e tests share: built once per session, unpacked once.

`release_build` runs `packaging/release.py` as `python3 build.py` does: on Linux the binary
is frozen inside the cached Debian 11 tree (packaging/portable.py; a cold cache adds the
trees, the interpreter and the venv, ~7 min on 2 cores; warm, the freeze takes ~25 s),
elsewhere with this machine's Python. Every test here reads that one build (test_reproducible.py
builds a second time to compare).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import release
from runtime.bundle.manifest import PRECISIONS

APP = release.APP_NAME


@pytest.fixture(scope="session")
def release_build(cache_dir) -> Path:
    """Build the release once (default bundle); returns its dist folder. The build's output is
    kept in build.log beside that folder."""
    root = cache_dir / "release"
    shutil.rmtree(root / "dist", ignore_errors=True)
    command = [sys.executable, str(release.HERE / "release.py"), "--dist", str(root / "dist"),
               "--work", str(root / "work"), "--no-smoke"]
    done = subprocess.run(command, cwd=release.REPO, env=dict(os.environ, PYTHONHASHSEED="0"),
                          capture_output=True, text=True, check=False)
    (root / "build.log").write_text(done.stdout + done.stderr)  # the portable build's steps and their times
    assert done.returncode == 0, f"release build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return root / "dist"


@pytest.fixture(scope="session")
def optional_name(release_build) -> str | None:
    """The optional archive's name as the build must have made it: named by the precisions it
    carries, computed again here from the default archive's bundle.json (which the build
    rewrote to name it in each optional variant); None when no variant names one."""
    version = release.read_version()
    with tarfile.open(release_build / release.archive_name(version)) as handle:
        member = next(m for m in handle if m.name == f"{APP}/bundle/bundle.json")  # stops early: ~0.6 GB archive
        data = json.load(handle.extractfile(member))
    optional = [v for c in data["components"].values() for v in c["variants"] if v.get("archive")]
    if not optional:
        return None
    expected = release.archive_name(version, "-".join(p for p in PRECISIONS if p in {v["precision"] for v in optional}))
    assert {v["archive"] for v in optional} == {expected}, f"bundle.json names {optional}; expected {expected}"
    return expected


@pytest.fixture(scope="session")
def archive(release_build, optional_name) -> Path:
    """The default archive (the one a user downloads first)."""
    version = release.read_version()
    found = sorted(p.name for p in release_build.glob(f"{APP}-*"))
    assert set(found) == {release.archive_name(version), *filter(None, [optional_name])}, found
    return release_build / release.archive_name(version)


@pytest.fixture(scope="session")
def optional_archive(release_build, archive, optional_name) -> Path | None:
    """The optional archive (the other precisions, named by them: `...-fp32.tar.gz` when it
    carries fp32), None when the build made none."""
    return release_build / optional_name if optional_name else None


def unpack_as_user(archive: Path, into: Path) -> Path:
    """As a user would: `tar xzf` where tar exists."""
    if archive.suffix != ".zip" and shutil.which("tar"):
        subprocess.run(["tar", "-xzf", str(archive), "-C", str(into)], check=True)
        return into / APP
    return release.unpack(archive, into)


@pytest.fixture(scope="session")
def app(archive, tmp_path_factory):
    """The release unpacked into an empty folder (removed after the session: ~0.9 GB)."""
    folder = tmp_path_factory.mktemp("unpacked")
    yield unpack_as_user(archive, folder)
    shutil.rmtree(folder, ignore_errors=True)


def _linked_copy(source: Path, into: Path) -> Path:
    """`source` mirrored into `into` with hard links (a copy where linking fails): an unpacked
    release is ~0.9 GB, and a full copy per tampering test once filled CI's disk. Safe because
    the binary never writes inside its folder (test_binary_never_writes_inside_its_folder); a
    test that changes a file replaces it (a new inode) rather than writing into it."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    return Path(shutil.copytree(source, into / source.name, symlinks=True, copy_function=link))


@pytest.fixture
def linked_app(app, tmp_path) -> Path:
    """A private copy of the unpacked release (hard links, see `_linked_copy`) in tmp_path/unpacked."""
    (tmp_path / "unpacked").mkdir()
    return _linked_copy(app, tmp_path / "unpacked")
