"""`verify` reports every bad file; `serve` refuses a bundle file changed after start-up (issue 12)."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

import runtime.server
from runtime.errors import IntegrityError


@pytest.fixture
def bundle(ocr_bundle, tmp_path):
    """A private copy of the ocr bundle and its three model files (cls, det, rec)."""
    target = shutil.copytree(ocr_bundle, tmp_path / "ocr")
    manifest = json.loads((target / "bundle.json").read_text())
    files = {name: target / c["variants"][0]["file"] for name, c in manifest["components"].items()}
    return target, files


def _flip_last_byte(path) -> str:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    return hashlib.sha256(data).hexdigest()


def test_verify_lists_every_bad_file_with_why(invoke, bundle):
    folder, files = bundle
    cls_hash = _flip_last_byte(files["ocr_cls"])
    files["ocr_det"].unlink()
    files["ocr_rec"].unlink()
    files["ocr_rec"].mkdir()  # present but unreadable as a file
    result = invoke("verify", folder)
    assert result.exit_code == 4  # an integrity failure outranks missing files (3)
    lines = result.stdout.splitlines()
    relative = {name: str(path.relative_to(folder)) for name, path in files.items()}
    assert f"{relative['ocr_cls']}: FAILED (sha256 {cls_hash}, expected " in result.stdout
    assert f"{relative['ocr_det']}: FAILED (missing)" in lines
    assert f"{relative['ocr_rec']}: FAILED (Is a directory)" in lines
    for path in files.values():
        assert str(path) in result.stderr
    assert "ok:" not in result.stdout and "Traceback" not in result.output


def test_verify_without_integrity_failures_exits_3_and_names_each_missing_file(invoke, bundle):
    folder, files = bundle
    files["ocr_det"].unlink()
    files["ocr_cls"].unlink()
    result = invoke("verify", folder)
    assert result.exit_code == 3
    assert str(files["ocr_det"]) in result.stderr and str(files["ocr_cls"]) in result.stderr
    assert f"{files['ocr_rec'].relative_to(folder)}: OK" in result.stdout


def test_verify_checks_the_bundle_even_when_the_sums_fail(invoke, bundle, tmp_path):
    folder, files = bundle
    (tmp_path / "a.bin").write_bytes(b"a")
    (tmp_path / "SHA256SUMS").write_text(f"{hashlib.sha256(b'b').hexdigest()}  a.bin\n")
    _flip_last_byte(files["ocr_det"])
    result = invoke("verify", "--sums", tmp_path / "SHA256SUMS", folder)
    assert result.exit_code == 4
    assert "a.bin: FAILED" in result.stdout
    assert f"{files['ocr_det'].relative_to(folder)}: FAILED (sha256" in result.stdout
    assert str(tmp_path / "a.bin") in result.stderr and str(files["ocr_det"]) in result.stderr


def test_verify_sums_with_an_unreadable_listed_file(invoke, tmp_path):
    (tmp_path / "a.bin").mkdir()
    (tmp_path / "SHA256SUMS").write_text(f"{hashlib.sha256(b'a').hexdigest()}  a.bin\n")
    result = invoke("verify", "--sums", tmp_path / "SHA256SUMS")
    assert result.exit_code == 3
    assert "a.bin: FAILED open or read" in result.stdout and "missing or unreadable" in result.stderr


def test_serve_refuses_a_file_changed_between_start_up_and_load(invoke, bundle, monkeypatch):
    """`serve` verifies every hash before listening; the model loads afterwards, on a thread.
    A file changed in between is refused when it loads, not loaded unchecked."""
    folder, files = bundle
    outcome = {}

    def run_server(load_model, config):
        _flip_last_byte(files["ocr_rec"])  # after start-up's verification, before the load
        try:
            load_model()
        except IntegrityError as error:
            outcome["error"] = error
            return 1
        return 0

    monkeypatch.setattr(runtime.server, "run_server", run_server)
    result = invoke("serve", "--model", folder)
    assert result.exit_code == 4  # run_server's 1 becomes the integrity error's own code
    assert outcome["error"].path == str(files["ocr_rec"])


def test_serve_loads_when_nothing_changed(invoke, bundle, monkeypatch):
    folder, _ = bundle
    loaded = []
    monkeypatch.setattr(runtime.server, "run_server", lambda load_model, config: loaded.append(load_model()) or 0)
    assert invoke("serve", "--model", folder).exit_code == 0
    assert loaded[0].name == "ocr"
