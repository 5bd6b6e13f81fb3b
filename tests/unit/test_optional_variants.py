"""Optional variants (issue 15): a variant that names the archive carrying it may be absent;
selection leaves it out and says so, an explicit precision that needs it is refused with the
archive's name, and a variant without an archive is never treated as optional."""

from __future__ import annotations

import json

import pytest

from runtime.bundle import Component, Manifest, Variant, not_installed, parse_manifest
from runtime.errors import BundleError, ProviderUnavailableError
from runtime.placement.hardware import HardwareInfo
from runtime.placement.selection import select_variants

GIB = 1 << 30
OPTIONAL = "wan2.2-turbo-0.1.0-linux-x86_64-int8.tar.gz"  # named by the precisions it carries
VNNI = HardwareInfo("Linux", "x86_64", "test", 8, 8, frozenset({"avx2", "avx512f", "avx512_vnni"}), 16 * GIB,
                    16 * GIB, ("CPUExecutionProvider",))
AVX2 = HardwareInfo("Linux", "x86_64", "test", 8, 8, frozenset({"avx2"}), 16 * GIB, 16 * GIB,
                    ("CPUExecutionProvider",))


def _manifest(int8_accurate_on=()) -> Manifest:
    decoder = Component("decoder", (
        Variant("fp32", "lm/fp32.onnx", "0" * 64, 400_000_000, name="fp32"),
        Variant("int8", "lm/int8.onnx", "1" * 64, 100_000_000, name="quantized", archive=OPTIONAL,
                accurate_on=tuple(int8_accurate_on)),
    ))
    detector = Component("detector", (Variant("fp32", "det.onnx", "2" * 64, 1_000, name="fp32"),))
    return Manifest("m", "1", "reader", ("read",), {"decoder": decoder, "detector": detector})


def test_auto_leaves_out_what_is_not_installed_and_says_where_it_is():
    selection = select_variants(_manifest(), VNNI, absent={("decoder", "quantized")})
    choice = selection.components["decoder"]
    assert choice.variant.label == "fp32"  # int8 would win on VNNI were it installed
    assert f"not installed: quantized (in {OPTIONAL})" in choice.reason
    assert select_variants(_manifest(), VNNI).components["decoder"].variant.label == "quantized"


def test_explicit_precision_not_installed_names_the_archive():
    with pytest.raises(BundleError, match=f"not installed.*{OPTIONAL}.*sha256sum -c --ignore-missing") as error:
        select_variants(_manifest(), VNNI, precision="int8", absent={("decoder", "quantized")})
    assert "lm/int8.onnx" in str(error.value) and "tar -xzf" in str(error.value)


def test_accuracy_refusal_comes_before_the_download_advice():
    """Nobody should download a variant that this CPU would refuse anyway."""
    with pytest.raises(ProviderUnavailableError, match="keeps its accuracy only with vnni"):
        select_variants(_manifest(("vnni",)), AVX2, precision="int8", absent={("decoder", "quantized")})
    with pytest.raises(BundleError, match=OPTIONAL):
        select_variants(_manifest(("vnni",)), VNNI, precision="int8", absent={("decoder", "quantized")})


def test_a_component_with_nothing_installed_is_refused():
    manifest = _manifest()
    with pytest.raises(BundleError, match=f"'decoder' has no variant installed.*{OPTIONAL}"):
        select_variants(manifest, AVX2, absent={("decoder", "quantized"), ("decoder", "fp32")})


def test_not_installed_only_counts_variants_that_name_an_archive(tmp_path):
    manifest = _manifest()
    assert [(item.component, item.variant.label) for item in not_installed(tmp_path, manifest)] == [
        ("decoder", "quantized")]  # fp32 and the detector are missing too, but they are no download
    (tmp_path / "lm").mkdir()
    (tmp_path / "lm" / "int8.onnx").write_bytes(b"present: hashed before it loads, like any file")
    assert not_installed(tmp_path, manifest) == ()


def test_manifest_round_trips_the_archive_and_refuses_paths():
    manifest = _manifest()
    data = json.loads(manifest.to_json())
    assert data["components"]["decoder"]["variants"][1]["archive"] == OPTIONAL
    assert "archive" not in data["components"]["decoder"]["variants"][0]
    assert parse_manifest(data) == manifest
    for bad in ("../x.tar.gz", "dist/x.tar.gz", "a\\b.zip"):
        data["components"]["decoder"]["variants"][1]["archive"] = bad
        with pytest.raises(BundleError, match="archive must be a file name"):
            parse_manifest(data)
