"""Two builds of one commit give the same archives, byte for byte (issue 15, DESIGN §7).

The session's release build (conftest.py's `release_build`) is the first; this test builds
again into another folder, the same way, and compares the hashes. On Linux the second build
finds every portable layer in the cache (Debian trees, CPython, wheels, venv) and the bundle
assembled, so it costs one more freeze and archive; its time is printed (`pytest -s`) and
written to build.log beside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

import release
from runtime.bundle import sha256_file

pytestmark = pytest.mark.slow


def _inputs(log: str) -> str | None:
    """The inputs digest a build printed (release.inputs_digest)."""
    marker = "[release] inputs sha256 "
    return next((line[len(marker):].strip() for line in log.splitlines() if line.startswith(marker)), None)


def test_two_builds_of_one_commit_give_the_same_archives(release_build, archive, optional_archive, cache_dir):
    built = (release_build / release.NOTES_FILE).read_text().split("Built from commit `", 1)[1].split("`", 1)[0]
    if release._git("rev-parse", "HEAD") != built:  # a shared checkout where someone committed since
        pytest.skip(f"HEAD moved since the session's build (of {built}): not two builds of one commit")
    root = cache_dir / "release-again"
    shutil.rmtree(root, ignore_errors=True)
    command = [sys.executable, str(release.HERE / "release.py"), "--dist", str(root / "dist"),
               "--work", str(root / "work"), "--no-smoke"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=release.REPO, env=dict(os.environ, PYTHONHASHSEED="0"),
                          capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    (root / "build.log").write_text(done.stdout + done.stderr + f"\nsecond build: {seconds:.0f} s\n")
    print(f"second build of the same commit: {seconds:.0f} s")
    assert done.returncode == 0, f"second build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    inputs = [_inputs(log) for log in ((release_build.parent / "build.log").read_text(), done.stdout)]
    assert inputs[0] and inputs[1], "a build did not print its inputs digest"
    if inputs[0] != inputs[1]:  # a shared checkout edited between the builds: not two builds of one commit
        pytest.skip(f"the checkout's frozen sources or bundle changed between the two builds ({inputs[0][:12]} vs "
                    f"{inputs[1][:12]})")
    try:
        for first in (archive, optional_archive):
            if first is None:
                continue
            second = root / "dist" / first.name
            differing = release.compare_archives(first, second) if sha256_file(first) != sha256_file(second) else []
            assert sha256_file(first) == sha256_file(second), f"{first.name} differs; members: {differing[:20]}"
        assert (root / "dist" / release.SUMS_FILE).read_text() == (release_build / release.SUMS_FILE).read_text()
    finally:
        shutil.rmtree(root / "work", ignore_errors=True)  # ~2 GB of staged folders
        for path in (root / "dist").glob(f"{release.APP_NAME}-*"):
            path.unlink()
