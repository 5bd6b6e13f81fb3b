"""Variant selection with fake hardware (DESIGN §4)."""

import pytest

from launcher.bundle import Component, Manifest, Variant
from launcher.hardware import HardwareInfo
from launcher.selection import select_variants
from runtime.errors import ProviderUnavailableError

GIB = 1 << 30


def _hardware(isa=("avx2",), ram=16 * GIB, providers=("CPUExecutionProvider",)):
    return HardwareInfo("Linux", "x86_64", "test cpu", 8, 8, frozenset(isa), ram, ram, tuple(providers))


def _variant(precision, size):
    return Variant(precision, f"{precision}.onnx", "0" * 64, size, name=precision)


def _manifest():
    decoder = Component("decoder", (_variant("fp32", 4 * GIB), _variant("fp16", 2 * GIB), _variant("int8", 1 * GIB)))
    detector = Component("detector", (_variant("fp32", 10_000_000),))
    return Manifest("m", "1", "clip", ("embed",), {"decoder": decoder, "detector": detector})


def _precisions(selection):
    return {name: choice.variant.precision for name, choice in selection.components.items()}


def test_avx2_only_cpu_prefers_fp32():
    selection = select_variants(_manifest(), _hardware())
    assert selection.device == "cpu"
    assert _precisions(selection) == {"decoder": "fp32", "detector": "fp32"}
    assert "lacks VNNI" in selection.components["decoder"].reason


def test_vnni_cpu_prefers_int8():
    selection = select_variants(_manifest(), _hardware(isa=("avx2", "avx512f", "avx512_vnni")))
    assert _precisions(selection)["decoder"] == "int8"
    assert "avx512_vnni" in selection.components["decoder"].reason


def test_small_ram_drops_fp32():
    selection = select_variants(_manifest(), _hardware(ram=5 * GIB))
    choice = selection.components["decoder"]
    assert choice.variant.precision == "int8"  # fp32 (8 GiB needed) and fp16 (4 GiB) are next in order
    assert "do not fit" in choice.reason


def test_cuda_prefers_fp16():
    selection = select_variants(_manifest(), _hardware(providers=("CUDAExecutionProvider", "CPUExecutionProvider")))
    assert selection.device == "cuda"
    assert _precisions(selection)["decoder"] == "fp16"


def test_cuda_asked_but_absent_is_an_error():
    with pytest.raises(ProviderUnavailableError, match="CUDAExecutionProvider"):
        select_variants(_manifest(), _hardware(), device="cuda")


def test_precision_absent_from_bundle_is_an_error():
    with pytest.raises(ProviderUnavailableError, match="no int4 variant"):
        select_variants(_manifest(), _hardware(), precision="int4")


def test_explicit_precision_is_honoured_and_single_variant_components_kept():
    selection = select_variants(_manifest(), _hardware(isa=("avx512_vnni",)), precision="fp32")
    assert _precisions(selection) == {"decoder": "fp32", "detector": "fp32"}
    assert selection.components["decoder"].reason == "--precision fp32"
    selection = select_variants(_manifest(), _hardware(), precision="int8")
    assert _precisions(selection) == {"decoder": "int8", "detector": "fp32"}
    assert "only fp32" in selection.components["detector"].reason


def test_nothing_fits():
    with pytest.raises(ProviderUnavailableError, match="needs at least"):
        select_variants(_manifest(), _hardware(ram=1 * GIB))
