"""bundle.json: strict parsing, hashing, verification before load."""

import json

import pytest

from runtime.bundle import parse_manifest, read_manifest, sha256_file, verify_files
from runtime.errors import BundleError, IntegrityError


def _write_bundle(root, extra=None):
    (root / "a.onnx").write_bytes(b"onnx-bytes")
    (root / "tokenizer.json").write_text("{}")
    data = {
        "name": "t", "version": "1", "kind": "clip", "tasks": ["embed"],
        "components": {"model": {"variants": [{
            "precision": "fp32", "file": "a.onnx", "sha256": sha256_file(root / "a.onnx"), "bytes": 10,
        }]}},
        "files": [{"file": "tokenizer.json", "sha256": sha256_file(root / "tokenizer.json"), "bytes": 2}],
        "tokenizer": "tokenizer.json",
    }
    data.update(extra or {})
    (root / "bundle.json").write_text(json.dumps(data))
    return data


def test_round_trip(tmp_path):
    data = _write_bundle(tmp_path)
    manifest = read_manifest(tmp_path)
    assert manifest.components["model"].variants[0].file == "a.onnx"
    assert parse_manifest(json.loads(manifest.to_json())) == manifest
    verify_files(tmp_path, manifest.all_files())
    assert data["tokenizer"] == manifest.tokenizer


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": "red"}, "unknown keys \\['colour'\\]"),
        ({"tasks": ["paint"]}, "known tasks"),
        ({"tasks": "embed"}, "wrong type"),
        ({"format": 9}, "format 9 is not supported"),
        ({"tokenizer": "other.json"}, "must also be listed"),
        ({"max_seq_len": 0}, "positive integer"),
        ({"components": {}}, "no components"),
    ],
)
def test_strict_parsing(tmp_path, change, message):
    _write_bundle(tmp_path, change)
    with pytest.raises(BundleError, match=message):
        read_manifest(tmp_path)


@pytest.mark.parametrize("path", ["../x.onnx", "/etc/passwd", "a\\b.onnx", ""])
def test_paths_stay_inside_bundle(tmp_path, path):
    data = _write_bundle(tmp_path)
    data["components"]["model"]["variants"][0]["file"] = path
    with pytest.raises(BundleError, match="relative and inside"):
        parse_manifest(data)


def test_unknown_variant_key_and_bad_precision(tmp_path):
    data = _write_bundle(tmp_path)
    data["components"]["model"]["variants"][0]["speed"] = "fast"
    with pytest.raises(BundleError, match="unknown keys \\['speed'\\]"):
        parse_manifest(data)
    del data["components"]["model"]["variants"][0]["speed"]
    data["components"]["model"]["variants"][0]["precision"] = "fp8"
    with pytest.raises(BundleError, match="fp8"):
        parse_manifest(data)


def test_flipped_byte_is_refused_with_both_hashes(tmp_path):
    _write_bundle(tmp_path)
    manifest = read_manifest(tmp_path)
    expected = manifest.components["model"].variants[0].sha256
    blob = bytearray((tmp_path / "a.onnx").read_bytes())
    blob[3] ^= 0x01
    (tmp_path / "a.onnx").write_bytes(bytes(blob))
    with pytest.raises(IntegrityError) as caught:
        verify_files(tmp_path, manifest.all_files())
    error = caught.value
    assert error.expected == expected
    assert error.actual == sha256_file(tmp_path / "a.onnx") != expected
    assert "a.onnx" in str(error) and expected in str(error) and error.actual in str(error)


def test_missing_file_and_missing_manifest(tmp_path):
    _write_bundle(tmp_path)
    manifest = read_manifest(tmp_path)
    (tmp_path / "tokenizer.json").unlink()
    with pytest.raises(BundleError, match="missing"):
        verify_files(tmp_path, manifest.all_files())
    with pytest.raises(BundleError, match="wan2.2-turbo import"):
        read_manifest(tmp_path / "nowhere")


def test_invalid_json(tmp_path):
    (tmp_path / "bundle.json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        read_manifest(tmp_path)


def test_accurate_on_names_int8_kernel_families(tmp_path):
    data = _write_bundle(tmp_path)
    variant = data["components"]["model"]["variants"][0]
    variant.update(precision="int8", accurate_on=["vnni", "avx2"])
    manifest = parse_manifest(data)
    assert manifest.components["model"].variants[0].accurate_on == ("vnni", "avx2")
    assert parse_manifest(json.loads(manifest.to_json())) == manifest
    variant["accurate_on"] = ["sse4"]
    with pytest.raises(BundleError, match=r"accurate_on \['sse4'\] invalid; int8 kernel families: vnni, avx512"):
        parse_manifest(data)
