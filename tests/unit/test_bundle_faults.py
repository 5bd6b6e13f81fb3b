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


def test_a_file_that_reports_no_size_but_has_content_is_hashed_by_its_content(tmp_path):
    # A review: a size-0 shortcut would pass a link to /proc/version as a listed empty file.
    (tmp_path / "empty.txt").write_bytes(b"")
    data = {"name": "t", "version": "1", "kind": "clip", "tasks": ["embed"],
            "components": {"vision": {"variants": [{"precision": "fp32", "file": "empty.txt",
                                                   "sha256": sha256_file(tmp_path / "empty.txt"), "bytes": 0}]}},
            "files": []}
    (tmp_path / "bundle.json").write_text(json.dumps(data))
    manifest = read_manifest(tmp_path)
    (tmp_path / "empty.txt").unlink()
    (tmp_path / "empty.txt").symlink_to("/proc/version")
    with pytest.raises(IntegrityError, match=r"empty\.txt"):
        verify_files(tmp_path, manifest.all_files())


def test_the_stamp_kept_for_a_recheck_is_the_hashed_files_own(tmp_path, monkeypatch):
    # A review: the stamp was taken from a stat before the file was opened by name, so a file
    # swapped in between was hashed under another file's stamp (and a recheck trusts stamps).
    from runtime.bundle import manifest as bundle_manifest

    manifest = _bundle(tmp_path)
    real_open = open
    swapped = tmp_path / "b.onnx.swapped"
    swapped.write_bytes((tmp_path / "b.onnx").read_bytes())

    def open_after_a_swap(path, *args, **kwargs):
        if str(path).endswith("b.onnx") and swapped.exists():
            os.replace(swapped, tmp_path / "b.onnx")  # a new inode at the name, the same bytes
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(bundle_manifest, "open", open_after_a_swap, raising=False)
    verified = verify_files(tmp_path, manifest.all_files())
    check = next(c for c in verified.checks if c.entry.file == "b.onnx")
    assert check.stamp[2] == os.stat(tmp_path / "b.onnx").st_ino


def test_a_device_standing_in_for_a_listed_file_is_a_clear_error_not_a_hang(tmp_path):
    manifest = _bundle(tmp_path)
    (tmp_path / "a.onnx").unlink()
    (tmp_path / "a.onnx").symlink_to("/dev/zero")  # read to its end, it never ends
    with pytest.raises(BundleError, match=r"a\.onnx cannot be read \(not a regular file\)"):
        verify_files(tmp_path, manifest.all_files())
