"""Bundle files missing, unreadable or changed after verification (issue 12)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from runtime.bundle import check_files, read_manifest, sha256_file, verify_files
from runtime.errors import BundleError, IntegrityError


def _bundle(root):
    """Three listed files; returns the manifest."""
    names = {"a.onnx": b"onnx-bytes", "b.onnx": b"more-onnx-bytes", "tokenizer.json": b"{}"}
    for name, data in names.items():
        (root / name).write_bytes(data)
    data = {
        "name": "t", "version": "1", "kind": "clip", "tasks": ["embed"],
        "components": {
            "vision": {"variants": [{"precision": "fp32", "file": "a.onnx", "sha256": sha256_file(root / "a.onnx"),
                                     "bytes": 10}]},
            "text": {"variants": [{"precision": "fp32", "file": "b.onnx", "sha256": sha256_file(root / "b.onnx"),
                                   "bytes": 15}]},
        },
        "files": [{"file": "tokenizer.json", "sha256": sha256_file(root / "tokenizer.json"), "bytes": 2}],
        "tokenizer": "tokenizer.json",
    }
    (root / "bundle.json").write_text(json.dumps(data))
    return read_manifest(root)


def _flip_last_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("threads", [1, 3])
def test_check_files_reports_every_bad_file_not_only_the_first(tmp_path, threads):
    manifest = _bundle(tmp_path)
    _flip_last_byte(tmp_path / "a.onnx")
    (tmp_path / "b.onnx").write_bytes(b"short")
    (tmp_path / "tokenizer.json").unlink()
    listed = check_files(tmp_path, manifest.all_files(), threads)
    assert [c.entry.file for c in listed] == [e.file for e in manifest.all_files()]  # the entries' order
    checks = {c.entry.file: c for c in listed}
    assert not any(c.ok for c in checks.values())
    assert checks["a.onnx"].describe().startswith("FAILED (sha256 ")
    assert checks["b.onnx"].describe() == "FAILED (size 5 bytes, expected 15)"
    assert checks["tokenizer.json"].describe() == "FAILED (missing)"
    assert isinstance(checks["a.onnx"].error(), IntegrityError)
    assert isinstance(checks["b.onnx"].error(), IntegrityError)
    missing = checks["tokenizer.json"].error()
    assert type(missing) is BundleError and "is missing (listed in bundle.json)" in str(missing)


def test_an_unreadable_file_is_a_clear_error_not_a_crash(tmp_path):
    manifest = _bundle(tmp_path)
    (tmp_path / "a.onnx").unlink()
    (tmp_path / "a.onnx").mkdir()  # present, but not a file anyone can read as one
    with pytest.raises(BundleError, match=r"a\.onnx cannot be read \(Is a directory\); check that it is a file") as caught:
        verify_files(tmp_path, manifest.all_files())
    assert not isinstance(caught.value, IntegrityError)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission_is_a_clear_error(tmp_path):
    manifest = _bundle(tmp_path)
    (tmp_path / "b.onnx").chmod(0)
    with pytest.raises(BundleError, match=r"b\.onnx cannot be read \(Permission denied\)"):
        verify_files(tmp_path, manifest.all_files())


def test_an_unreadable_manifest_is_a_clear_error(tmp_path):
    (tmp_path / "bundle.json").mkdir()
    with pytest.raises(BundleError, match="No bundle.json"):
        read_manifest(tmp_path)
    shutil.rmtree(tmp_path / "bundle.json")
    (tmp_path / "bundle.json").symlink_to(tmp_path / "bundle.json")  # a loop: stat works on the link only
    with pytest.raises(BundleError):
        read_manifest(tmp_path)


def test_verify_raises_the_first_bad_file_in_listed_order_whatever_finishes_first(tmp_path):
    manifest = _bundle(tmp_path)
    assert [e.file for e in manifest.all_files()] == ["tokenizer.json", "a.onnx", "b.onnx"]
    _flip_last_byte(tmp_path / "a.onnx")
    _flip_last_byte(tmp_path / "b.onnx")  # the largest: hashed first
    with pytest.raises(IntegrityError, match=r"a\.onnx"):
        verify_files(tmp_path, manifest.all_files(), threads=3)


def test_recheck_refuses_a_file_changed_after_verification(tmp_path):
    manifest = _bundle(tmp_path)
    verified = verify_files(tmp_path, manifest.all_files())
    verified.recheck()  # nothing changed
    _flip_last_byte(tmp_path / "b.onnx")  # same size: only the content differs
    with pytest.raises(IntegrityError, match=r"b\.onnx: expected sha256"):
        verified.recheck()


def test_recheck_accepts_a_file_rewritten_with_the_same_bytes(tmp_path):
    manifest = _bundle(tmp_path)
    verified = verify_files(tmp_path, manifest.all_files())
    data = (tmp_path / "a.onnx").read_bytes()
    (tmp_path / "a.onnx").unlink()
    (tmp_path / "a.onnx").write_bytes(data)  # a new inode, the same content
    verified.recheck()


def test_recheck_refuses_a_file_removed_after_verification(tmp_path):
    manifest = _bundle(tmp_path)
    verified = verify_files(tmp_path, manifest.all_files())
    (tmp_path / "tokenizer.json").unlink()
    with pytest.raises(BundleError, match="is missing"):
        verified.recheck()


def _hashed_ahead(tmp_path, monkeypatch):
    """Start hashing the bundle ahead, wait for it, then record every file hashed after."""
    import time

    from runtime.bundle import manifest as bundle_manifest

    bundle_manifest.start_prehash(tmp_path)
    deadline = time.monotonic() + 10
    while bundle_manifest._PREHASH._thread.is_alive():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    hashed, real = [], bundle_manifest.sha256_file
    monkeypatch.setattr(bundle_manifest, "sha256_file", lambda path: hashed.append(os.path.basename(path)) or real(path))
    return hashed


def test_files_hashed_ahead_are_checked_without_reading_them_again_but_only_while_unchanged(tmp_path, monkeypatch):
    # A server hashes the bundle while its modules import (launcher/cli.py `_plan`); the
    # digests are still compared with the manifest's, and a file changed since is read again.
    from runtime.bundle.manifest import stop_prehash

    manifest = _bundle(tmp_path)
    hashed = _hashed_ahead(tmp_path, monkeypatch)
    try:
        verify_files(tmp_path, manifest.all_files(), 2)
        assert hashed == []
        _flip_last_byte(tmp_path / "b.onnx")  # same size, another content
        stat = os.stat(tmp_path / "b.onnx")
        os.utime(tmp_path / "b.onnx", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        with pytest.raises(IntegrityError, match=r"b\.onnx: expected sha256"):
            verify_files(tmp_path, manifest.all_files())
        assert hashed == ["b.onnx"]
    finally:
        stop_prehash()
    hashed.clear()
    _flip_last_byte(tmp_path / "b.onnx")  # back as listed
    verify_files(tmp_path, manifest.all_files())
    assert sorted(hashed) == ["a.onnx", "b.onnx", "tokenizer.json"]  # stopped: nothing taken from it


def test_a_component_with_several_installed_variants_is_left_to_the_selection(tmp_path, monkeypatch):
    from runtime.bundle.manifest import stop_prehash

    _bundle(tmp_path)
    data = json.loads((tmp_path / "bundle.json").read_text())
    (tmp_path / "a8.onnx").write_bytes(b"int8-bytes")
    data["components"]["vision"]["variants"].append(
        {"precision": "int8", "file": "a8.onnx", "sha256": sha256_file(tmp_path / "a8.onnx"), "bytes": 10})
    (tmp_path / "bundle.json").write_text(json.dumps(data))
    manifest = read_manifest(tmp_path)
    hashed = _hashed_ahead(tmp_path, monkeypatch)
    try:
        verify_files(tmp_path, manifest.all_files())
    finally:
        stop_prehash()
    assert sorted(hashed) == ["a.onnx", "a8.onnx"]  # which of the two loads is the selection's to say
