"""A bundle with an optional variant (issue 15): `info` says what is installed and what an
optional download adds, `verify` does not fail on what is not installed, an explicit
`--precision` that needs it names the archive, and once its file is there it is selected,
verified and hashed before loading like every other file."""

from __future__ import annotations

import json
import shutil

import pytest

from runtime.bundle import sha256_file

OPTIONAL = "wan2.2-turbo-0.1.0-linux-x86_64-int8.tar.gz"  # named by the precisions it carries
FP32_ARCHIVE = "wan2.2-turbo-0.1.0-linux-x86_64-fp32.tar.gz"  # issue 15's: the fp32 variants
SPARE = "models/rec_int8.onnx"


@pytest.fixture
def optional_bundle(ocr_bundle, tmp_path):
    """The OCR bundle with an 'int8' recognizer (a copy of the fp32 file) that ships in OPTIONAL;
    returns (bundle, the spare file's bytes), the file itself not installed."""
    bundle = shutil.copytree(ocr_bundle, tmp_path / "ocr")
    data = (bundle / "models" / "ch_PP-OCRv4_rec_infer.onnx").read_bytes()
    (bundle / SPARE).write_bytes(data)
    manifest = json.loads((bundle / "bundle.json").read_text())
    manifest["components"]["ocr_rec"]["variants"].append(
        {"precision": "int8", "name": "int8", "file": SPARE, "sha256": sha256_file(bundle / SPARE),
         "bytes": len(data), "archive": OPTIONAL})
    (bundle / "bundle.json").write_text(json.dumps(manifest))
    (bundle / SPARE).unlink()
    return bundle, data


def test_info_lists_what_is_installed_and_what_to_download(invoke, optional_bundle):
    bundle, data = optional_bundle
    report = json.loads(invoke("info", "--json", "--model", bundle).stdout)
    assert report["precisions"]["installed"] == {"fp32": ["ocr_cls", "ocr_det", "ocr_rec"]}
    assert report["precisions"]["to_download"] == [
        {"component": "ocr_rec", "variant": "int8", "precision": "int8", "file": SPARE, "bytes": len(data),
         "archive": OPTIONAL}]
    assert f"not installed: int8 (in {OPTIONAL})" in report["selection"]["components"]["ocr_rec"]["reason"]
    text = invoke("info", "--model", bundle).stdout
    assert "precisions installed: fp32 (ocr_cls, ocr_det, ocr_rec)" in text
    assert f"available to download: int8 for ocr_rec ({SPARE}, 11 MB) in {OPTIONAL}" in text


def test_precision_that_is_not_installed_names_the_archive(invoke, optional_bundle):
    bundle, _ = optional_bundle
    result = invoke("info", "--model", bundle, "--precision", "int8")
    assert result.exit_code == 3, result.output
    assert f"the int8 variant of component 'ocr_rec' ({SPARE}) is not installed" in result.stderr
    assert f"tar -xzf {OPTIONAL}" in result.stderr and "--ignore-missing" in result.stderr


def test_verify_reports_it_as_not_installed_without_failing(invoke, optional_bundle):
    bundle, _ = optional_bundle
    result = invoke("verify", bundle)
    assert result.exit_code == 0, result.output
    assert f"{SPARE}: not installed (optional int8 variant of ocr_rec, in {OPTIONAL})" in result.stdout
    assert "1 optional variant(s) not installed" in result.stdout


def test_once_installed_it_is_selected_verified_and_hashed_before_loading(invoke, optional_bundle):
    bundle, data = optional_bundle
    (bundle / SPARE).write_bytes(data)  # what unpacking the optional archive does
    report = json.loads(invoke("info", "--json", "--model", bundle, "--precision", "int8").stdout)
    assert report["precisions"] == {"installed": {"fp32": ["ocr_cls", "ocr_det", "ocr_rec"], "int8": ["ocr_rec"]},
                                    "to_download": []}
    assert report["selection"]["components"]["ocr_rec"]["file"] == SPARE
    verified = invoke("verify", bundle)
    assert verified.exit_code == 0 and f"{SPARE}: OK" in verified.stdout and "not installed" not in verified.stdout
    (bundle / SPARE).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    refused = invoke("info", "--model", bundle, "--precision", "int8")
    assert refused.exit_code == 4 and SPARE in refused.stderr, refused.output
    assert invoke("verify", bundle).exit_code == 4


def test_verify_sums_does_not_fail_on_an_optional_archive_not_downloaded(invoke, optional_bundle, tmp_path):
    bundle, _ = optional_bundle
    release = tmp_path / "release"
    release.mkdir()
    (release / "default.tar.gz").write_bytes(b"the default archive")
    lines = f"{sha256_file(release / 'default.tar.gz')}  default.tar.gz\n{'0' * 64}  {OPTIONAL}\n"
    (release / "SHA256SUMS").write_text(lines)
    result = invoke("verify", bundle, "--sums", release / "SHA256SUMS")
    assert result.exit_code == 0, result.output
    assert "default.tar.gz: OK" in result.stdout and f"{OPTIONAL}: not downloaded (optional" in result.stdout
    (release / "SHA256SUMS").write_text(lines + f"{'1' * 64}  other.tar.gz\n")  # not optional: still missing
    assert invoke("verify", bundle, "--sums", release / "SHA256SUMS").exit_code == 3
    (release / OPTIONAL).write_bytes(b"downloaded, but not what SHA256SUMS lists")
    assert invoke("verify", bundle, "--sums", release / "SHA256SUMS").exit_code == 4


@pytest.fixture
def fp32_optional_bundle(ocr_bundle, tmp_path):
    """Issue 15's shape: the recognizer's fp32 variant ships in FP32_ARCHIVE (not unpacked), an
    int8 one (a copy of the same file) in the default download; returns (bundle, fp32 bytes)."""
    bundle = shutil.copytree(ocr_bundle, tmp_path / "ocr")
    fp32_file = "models/ch_PP-OCRv4_rec_infer.onnx"
    data = (bundle / fp32_file).read_bytes()
    (bundle / SPARE).write_bytes(data)
    manifest = json.loads((bundle / "bundle.json").read_text())
    variants = manifest["components"]["ocr_rec"]["variants"]
    assert [v["file"] for v in variants] == [fp32_file]
    variants[0]["archive"] = FP32_ARCHIVE
    variants.append({"precision": "int8", "name": "int8", "file": SPARE, "sha256": sha256_file(bundle / SPARE),
                     "bytes": len(data)})
    (bundle / "bundle.json").write_text(json.dumps(manifest))
    (bundle / fp32_file).unlink()
    return bundle, data


def test_precision_fp32_without_the_fp32_archive_names_it(invoke, fp32_optional_bundle):
    bundle, data = fp32_optional_bundle
    text = invoke("info", "--model", bundle).stdout
    assert "precisions installed: fp32 (ocr_cls, ocr_det); int8 (ocr_rec)" in text
    assert f"available to download: fp32 for ocr_rec (models/ch_PP-OCRv4_rec_infer.onnx, 11 MB) in {FP32_ARCHIVE}" \
        in text
    refused = invoke("info", "--model", bundle, "--precision", "fp32")
    assert refused.exit_code == 3, refused.output
    assert "the fp32 variant of component 'ocr_rec' (models/ch_PP-OCRv4_rec_infer.onnx) is not installed" \
        in refused.stderr and f"tar -xzf {FP32_ARCHIVE}" in refused.stderr
    (bundle / "models" / "ch_PP-OCRv4_rec_infer.onnx").write_bytes(data)  # unpacking the fp32 archive
    chosen = json.loads(invoke("info", "--json", "--model", bundle, "--precision", "fp32").stdout)
    assert chosen["selection"]["components"]["ocr_rec"]["file"] == "models/ch_PP-OCRv4_rec_infer.onnx"
    assert chosen["precisions"]["to_download"] == []
