"""The release as a user gets it: build once, unpack, verify, run with no network (issue 6).

The build (conftest.py's `release_build`: `python3 build.py`'s release, frozen in the Debian 11
tree on Linux) runs once per session; every test here and in test_portable.py reads it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import release
import smoke
from runtime import plan_load
from runtime.bundle import read_manifest, sha256_file
from runtime.loading import loaded_files

pytestmark = pytest.mark.slow

APP = release.APP_NAME
LINUX = sys.platform.startswith("linux")


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


@pytest.fixture(params=["with-network", "no-network"])
def offline(request) -> bool:
    if request.param == "no-network" and smoke.offline_prefix() is None:
        pytest.skip(smoke.offline_unavailable_reason())
    return request.param == "no-network"


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")}


def _invoice(tmp_path: Path) -> Path:
    path = tmp_path / "invoice.png"
    path.write_bytes(smoke.invoice_png())
    return path


# --- the archive and dist/ ---------------------------------------------------------------------

def test_sha256sums_verify_with_sha256sum(release_build, archive):
    sums = (release_build / release.SUMS_FILE).read_text()
    assert archive.name in sums and release.NOTES_FILE in sums
    if shutil.which("sha256sum") is None:
        pytest.skip("no sha256sum on this machine")
    done = subprocess.run(["sha256sum", "-c", release.SUMS_FILE], cwd=release_build, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == len(sums.splitlines())


def test_archive_layout_is_normalized(release_build, archive):
    with tarfile.open(archive) as handle:
        members = handle.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names), "members are not sorted by name"
    assert all(n == APP or n.startswith(APP + "/") for n in names)
    for required in (APP, "bundle/bundle.json", f"{APP}.args", "LICENSE", "README.md", "licenses/README.md",
                     "licenses/MODELS.md"):
        assert f"{APP}/{required}" in names, required
    # The build's own SOURCE_DATE_EPOCH (its notes say it): HEAD's time now may be a later commit's.
    epoch = int((release_build / release.NOTES_FILE).read_text().split("SOURCE_DATE_EPOCH=", 1)[1].split(")", 1)[0])
    assert epoch == release.source_date_epoch() or release._git("log", "-1", "--format=%H") not in \
        (release_build / release.NOTES_FILE).read_text()
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", epoch)}
    assert {m.mode for m in members if not m.issym()} <= {0o755, 0o644}
    excluded = ("torch", "transformers", "optimum", "scipy", "skimage", "cv2", "pandas", "matplotlib", "tkinter",
                "pytest", "onnx")
    top = {n.split("/")[2] for n in names if n.startswith(f"{APP}/_internal/") and n.count("/") >= 2}
    assert not top & set(excluded), top & set(excluded)
    assert not any(n.endswith(("/RECORD", "/INSTALLER", "/REQUESTED")) for n in names)


def test_third_party_licenses_are_collected(app):
    index = (app / "licenses" / "README.md").read_text()
    for component in ("onnxruntime", "tokenizers", "aiohttp", "numpy", "pillow", "click", "prometheus_client",
                      "Python", "PyInstaller bootloader"):
        assert f"| {component} |" in index, component
    onnxruntime = next((app / "licenses").glob("onnxruntime-*"))
    assert (onnxruntime / "onnxruntime" / "ThirdPartyNotices.txt").stat().st_size > 10_000
    assert "PYTHON SOFTWARE FOUNDATION LICENSE" in next((app / "licenses").glob("Python-*/LICENSE.txt")).read_text()
    manifest = read_manifest(app / "bundle")
    assert manifest.license and manifest.license in (app / "licenses" / "MODELS.md").read_text()


def test_release_notes(release_build, archive, app):
    notes = (release_build / release.NOTES_FILE).read_text()
    assert f"wan2.2-turbo {release.read_version()}" in notes
    assert sha256_file(archive) in notes
    # The default download's size and what it takes unpacked (issue 15), as measured here.
    sizes = re.search(r"^- Download size: (\d+) MB; unpacked size: (\d+) MB ", notes, re.MULTILINE)
    assert sizes, notes
    measured = (round(archive.stat().st_size / 1e6), round(release.folder_bytes(app) / 1e6))
    assert (int(sizes[1]), int(sizes[2])) == measured, sizes[0]
    if not LINUX:
        return
    glibc = notes.split("glibc ≥ ", 1)[1].split(":", 1)[0]
    if shutil.which("objdump") is None:
        pytest.skip("no objdump to cross-check the pure-Python ELF reading")
    # The same measure by binutils: the highest GLIBC_ version any ELF file of the release needs.
    found = set()
    for path in app.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.read_bytes()[:4] == b"\x7fELF":
            dump = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True).stdout
            found |= set(re.findall(r"\bGLIBC_(2\.[0-9.]*[0-9])", dump))
    assert glibc == max(found, key=lambda v: tuple(map(int, v.split("."))))


def test_args_file_names_the_bundle(app):
    lines = [line for line in (app / f"{APP}.args").read_text().splitlines() if line and not line.startswith("#")]
    assert lines == ["--model", "bundle"]


# --- the binary, as a user runs it ---------------------------------------------------------------------

@pytest.mark.parametrize("where", ["release-folder", "elsewhere"])
def test_version_info_verify(app, elsewhere, offline, where):
    cwd = app.parent if where == "release-folder" else elsewhere
    version = release.read_version()
    smoke.check_version(app, cwd, offline, version)
    smoke.check_info(app, cwd, offline, version)
    smoke.check_verify(app, cwd, offline)


def test_binary_never_writes_inside_its_folder(app, elsewhere, tmp_path):
    before = _tree(app)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path / "home"))
    image = _invoice(tmp_path)
    for args in (["--version"], ["info", "--json"], ["verify", str(app / "bundle")],
                 ["run", "--task", "read", "--model", str(app / "bundle"), str(image)]):
        done = smoke.run_app(app, args, elsewhere, offline=False, env=env)
        assert done.returncode == 0, f"{args}: {done.stderr}"
    assert _tree(app) == before


def test_reads_the_invoice_offline(app, elsewhere, tmp_path):
    if smoke.offline_prefix() is None:
        pytest.skip(smoke.offline_unavailable_reason())
    done = smoke.run_app(app, ["run", "--task", "read", str(_invoice(tmp_path))], elsewhere, offline=True)
    assert done.returncode == 0, done.stderr
    assert "42.50" in done.stdout


@pytest.fixture
def tampered(linked_app) -> tuple[Path, str, str, str]:
    """The unpacked release with one byte flipped in the largest bundle file that start-up
    loads on this machine (its own copy of that file; the rest linked to the shared unpacked
    release). Start-up hashes the files of the variants it loads, not the other precisions."""
    app = linked_app
    bundle = app / "bundle"
    entry = max(loaded_files(read_manifest(bundle), plan_load(bundle).selection), key=lambda e: e.bytes)
    path = app / "bundle" / entry.file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.unlink()  # a new inode: the shared release keeps its bytes
    path.write_bytes(bytes(data))
    return app, entry.file, entry.sha256, sha256_file(path)


def _assert_integrity_refusal(done: subprocess.CompletedProcess, file: str, expected: str, actual: str) -> None:
    assert done.returncode == 4, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert Path(file).name in done.stderr and expected in done.stderr and actual in done.stderr, done.stderr


def test_tampered_bundle_refuses_to_run(tampered, elsewhere, tmp_path):
    app, file, expected, actual = tampered
    args = ["run", "--task", "read", "--model", str(app / "bundle"), str(_invoice(tmp_path))]
    _assert_integrity_refusal(smoke.run_app(app, args, elsewhere, offline=False), file, expected, actual)


def test_tampered_bundle_refuses_to_serve(tampered, elsewhere):
    if not smoke.SERVER_MODULE.is_file():
        pytest.skip(f"the HTTP server does not exist yet ({smoke.SERVER_MODULE.name} is missing)")
    if smoke.offline_prefix() is None:
        pytest.skip(smoke.offline_unavailable_reason())
    app, file, expected, actual = tampered
    # No network namespace loopback needed: it must refuse before it listens.
    done = smoke.run_app(app, ["--port", "0"], elsewhere, offline=True, timeout_s=120)
    _assert_integrity_refusal(done, file, expected, actual)


def test_serves_a_chat_completion_offline_and_stops_on_sigterm(app):
    reason = smoke.serve_skip_reason(app)
    if reason:
        pytest.skip(reason)
    if smoke.offline_prefix() is None:
        pytest.skip(smoke.offline_unavailable_reason())
    result = smoke.check_serve(app, offline=True)
    assert smoke.EXPECTED_ANSWER in result["answer"]
    assert result["stop_s"] < smoke.SHUTDOWN_LIMIT_S
