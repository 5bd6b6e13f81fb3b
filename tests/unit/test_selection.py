"""Variant selection with fake hardware (DESIGN §4)."""

import pytest

from runtime.bundle import Component, Manifest, Measurement, Variant
from runtime.errors import ProviderUnavailableError
from runtime.placement.hardware import GpuInfo, HardwareInfo
from runtime.placement.selection import select_variants

GIB = 1 << 30


H100 = GpuInfo("NVIDIA H100 80GB HBM3", "nvidia", 80 * GIB, 79 * GIB)


def _hardware(isa=("avx2",), ram=16 * GIB, providers=("CPUExecutionProvider",), gpus=None):
    if gpus is None:  # a machine with the CUDA provider has a GPU unless a test says otherwise
        gpus = (H100,) if "CUDAExecutionProvider" in providers else ()
    return HardwareInfo("Linux", "x86_64", "test cpu", 8, 8, frozenset(isa), ram, ram, tuple(providers), tuple(gpus))


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


# --- the selection table (issue 5) -----------------------------------------------------------

CUDA = ("CUDAExecutionProvider", "CPUExecutionProvider")


def _reader_manifest(int8_isa=()):
    """Like the reader bundle: OCR fp32 only, LM and embedder fp32 + int8."""
    def pair(name, size):
        return Component(name, (
            _variant("fp32", size),
            Variant("int8", f"{name}_int8.onnx", "0" * 64, size // 4, name="int8", preferred_isa=tuple(int8_isa)),
        ))
    return Manifest("reader", "1", "reader", ("read",), {
        "ocr_det": Component("ocr_det", (_variant("fp32", 5_000_000),)),
        "lm_decoder": pair("lm_decoder", 540_000_000),
        "embedder": pair("embedder", 90_000_000),
    })


@pytest.mark.parametrize(
    ("hardware", "device", "expected", "reason"),
    [
        (_hardware(isa=("avx2",)), "cpu", {"ocr_det": "fp32", "lm_decoder": "fp32", "embedder": "fp32"},
         "lacks VNNI"),
        (_hardware(isa=("avx2", "avx512f", "avx512_vnni")), "cpu",
         {"ocr_det": "fp32", "lm_decoder": "int8", "embedder": "int8"}, "CPU has avx512_vnni"),
        (_hardware(isa=("avx2", "avx_vnni")), "cpu",
         {"ocr_det": "fp32", "lm_decoder": "int8", "embedder": "int8"}, "CPU has avx_vnni"),
        (_hardware(isa=("amx",)), "cpu", {"ocr_det": "fp32", "lm_decoder": "int8", "embedder": "int8"}, "amx"),
        (_hardware(isa=("neon", "dotprod")), "cpu", {"ocr_det": "fp32", "lm_decoder": "int8", "embedder": "int8"},
         "dotprod"),
        (_hardware(isa=("neon",)), "cpu", {"ocr_det": "fp32", "lm_decoder": "fp32", "embedder": "fp32"}, "lacks"),
        (_hardware(providers=CUDA), "cuda", {"ocr_det": "fp32", "lm_decoder": "fp32", "embedder": "fp32"},
         "GPUs"),
    ],
    ids=["avx2-only", "avx512-vnni", "avx-vnni", "amx", "arm-dotprod", "arm-neon-only", "cuda"],
)
def test_selection_table(hardware, device, expected, reason):
    selection = select_variants(_reader_manifest(), hardware)
    assert selection.device == device
    assert _precisions(selection) == expected
    assert reason in selection.components["lm_decoder"].reason
    assert selection.components["ocr_det"].reason == "only fp32 available"


def test_small_ram_machine_where_fp32_does_not_fit_takes_int8_even_without_vnni():
    selection = select_variants(_reader_manifest(), _hardware(isa=("avx2",), ram=600_000_000))
    assert _precisions(selection) == {"ocr_det": "fp32", "lm_decoder": "int8", "embedder": "fp32"}
    assert "do not fit in available RAM" in selection.components["lm_decoder"].reason
    assert "do not fit" not in selection.components["embedder"].reason


def test_cuda_provider_without_a_gpu_stays_on_cpu_and_says_why():
    selection = select_variants(_manifest(), _hardware(providers=CUDA, gpus=()))
    assert selection.device == "cpu"
    assert "no GPU was found" in selection.device_reason


def test_cuda_budget_is_gpu_memory_not_ram():
    small_gpu = GpuInfo("small", "nvidia", 4 * GIB, 3 * GIB)
    selection = select_variants(_manifest(), _hardware(providers=CUDA, gpus=(small_gpu,), ram=64 * GIB))
    assert _precisions(selection)["decoder"] == "int8"  # fp16 needs 4 GiB, fp32 8 GiB
    assert "free GPU memory" in selection.components["decoder"].reason


def test_explicit_device_cpu_on_a_cuda_machine_is_honoured():
    selection = select_variants(_manifest(), _hardware(providers=CUDA), device="cpu")
    assert (selection.device, selection.provider) == ("cpu", "CPUExecutionProvider")
    assert selection.device_reason == "--device cpu"


def test_int8_asked_for_but_absent_in_the_bundle_is_an_error():
    manifest = Manifest("ocr", "1", "ocr", ("read",), {"ocr_det": Component("ocr_det", (_variant("fp32", 1000),))})
    with pytest.raises(ProviderUnavailableError, match=r"--precision int8 .* bundle 'ocr' has no int8 variant \(it has: fp32\)"):
        select_variants(manifest, _hardware(), precision="int8")


def test_explicit_precision_missing_from_a_multi_variant_component_keeps_auto_and_says_so():
    manifest = _reader_manifest()
    manifest.components["lm_decoder"] = Component("lm_decoder", (_variant("fp32", 1000), _variant("fp16", 500)))
    selection = select_variants(manifest, _hardware(), precision="int8")
    choice = selection.components["lm_decoder"]
    assert choice.variant.precision == "fp32"
    assert choice.reason.startswith("no int8 variant, so as with auto: fp32 preferred")
    assert any(c.variant.precision == "int8" for c in selection.components.values())


def test_unknown_device_is_an_error():
    with pytest.raises(ProviderUnavailableError, match="Unknown device 'tpu'"):
        select_variants(_manifest(), _hardware(), device="tpu")


def test_coreml_cannot_run_integer_variants():
    hardware = _hardware(providers=("CoreMLExecutionProvider", "CPUExecutionProvider"))
    selection = select_variants(_manifest(), hardware, device="coreml")
    assert _precisions(selection)["decoder"] == "fp16"
    assert "cannot run integer variants" in selection.components["decoder"].reason
    with pytest.raises(ProviderUnavailableError, match="cannot run on --device coreml"):
        select_variants(_manifest(), hardware, precision="int8", device="coreml")


def test_fp16_on_cpu_is_runnable_but_last():
    manifest = Manifest("m", "1", "clip", ("embed",), {"d": Component("d", (_variant("fp16", GIB),))})
    assert _precisions(select_variants(manifest, _hardware()))["d"] == "fp16"
    manifest = Manifest("m", "1", "clip", ("embed",), {"d": Component("d", (_variant("fp16", GIB), _variant("int8", GIB)))})
    assert _precisions(select_variants(manifest, _hardware()))["d"] == "int8"


def test_preferred_isa_orders_but_never_drops():
    vnni_only = _reader_manifest(int8_isa=("avx512_vnni",))
    selection = select_variants(vnni_only, _hardware(isa=("avx2", "avx_vnni")))
    assert _precisions(selection)["lm_decoder"] == "fp32"
    assert "meant for avx512_vnni" in selection.components["lm_decoder"].reason
    selection = select_variants(vnni_only, _hardware(isa=("avx512_vnni",)))
    assert _precisions(selection)["lm_decoder"] == "int8"
    selection = select_variants(vnni_only, _hardware(isa=("avx2",)), precision="int8")
    assert _precisions(selection)["lm_decoder"] == "int8"


def test_largest_variant_of_the_preferred_precision_wins():
    component = Component("d", (
        Variant("int4", "q4.onnx", "0" * 64, 100, name="q4"),
        Variant("int4", "q4f16.onnx", "0" * 64, 200, name="q4f16"),
    ))
    selection = select_variants(Manifest("m", "1", "clip", ("embed",), {"d": component}), _hardware())
    assert selection.components["d"].variant.label == "q4f16"


def test_selection_serializes_for_info():
    data = select_variants(_reader_manifest(), _hardware()).to_dict()
    assert data["device"] == "cpu" and data["provider"] == "CPUExecutionProvider"
    assert data["components"]["lm_decoder"]["variant"] == "fp32"
    assert "reason" in data["components"]["lm_decoder"]


# --- the int8 accuracy contract per kernel family (issue 9) ------------------------------------

def _contract_manifest(lm_on=("vnni",), embedder_on=("vnni", "avx2")):
    def pair(name, size, accurate_on):
        return Component(name, (
            _variant("fp32", size),
            Variant("int8", f"{name}_int8.onnx", "0" * 64, size // 4, name="int8", accurate_on=accurate_on),
        ))
    return Manifest("reader", "1", "reader", ("read",), {
        "lm_decoder": pair("lm_decoder", 540_000_000, lm_on),
        "embedder": pair("embedder", 90_000_000, embedder_on),
    })


@pytest.mark.parametrize(
    ("isa", "family"),
    [(("avx2", "avx512f", "avx512_vnni"), "vnni"), (("avx2", "avx_vnni"), "vnni"), (("amx",), "vnni"),
     (("avx2", "avx512f"), "avx512"), (("avx2",), "avx2"), (("neon", "dotprod"), "dotprod"), (("neon",), "neon"),
     ((), "generic")],
)
def test_int8_kernel_family(isa, family):
    assert _hardware(isa=isa).int8_kernels == family


def test_explicit_int8_is_refused_where_its_contract_does_not_hold():
    with pytest.raises(ProviderUnavailableError, match=r"'lm_decoder': its int8 variant keeps its accuracy only "
                                                       r"with vnni int8 kernels, and this CPU runs avx2 ones\. "
                                                       r"Use --precision auto or fp32\."):
        select_variants(_contract_manifest(), _hardware(isa=("avx2",)), precision="int8")
    selection = select_variants(_contract_manifest(), _hardware(isa=("avx2", "avx512_vnni")), precision="int8")
    assert _precisions(selection) == {"lm_decoder": "int8", "embedder": "int8"}
    selection = select_variants(_contract_manifest(lm_on=("vnni", "avx2")), _hardware(isa=("avx2",)), precision="int8")
    assert _precisions(selection) == {"lm_decoder": "int8", "embedder": "int8"}


def test_auto_drops_int8_outside_its_contract_even_when_fp32_does_not_fit():
    # Without the contract a small-RAM AVX2 machine would take the LM's int8 (see above).
    with pytest.raises(ProviderUnavailableError, match="needs at least"):
        select_variants(_contract_manifest(), _hardware(isa=("avx2",), ram=600_000_000))
    selection = select_variants(_contract_manifest(lm_on=()), _hardware(isa=("avx2",), ram=600_000_000))
    assert _precisions(selection) == {"lm_decoder": "int8", "embedder": "fp32"}  # no contract stated


def test_auto_says_when_the_contract_dropped_a_variant():
    selection = select_variants(_contract_manifest(lm_on=("avx2",)), _hardware(isa=("avx2", "avx512_vnni")))
    assert _precisions(selection) == {"lm_decoder": "fp32", "embedder": "int8"}
    assert selection.components["lm_decoder"].reason == (
        "fp32: int8 would be preferred (CPU has avx512_vnni), but its variant is not accurate here; "
        "the accuracy of int8 is not shown to hold with vnni int8 kernels"
    )


def test_contract_applies_on_gpus_too():
    # Dynamically quantized MatMulInteger has no CUDA kernel: those nodes run on the host CPU.
    with pytest.raises(ProviderUnavailableError, match="this CPU runs avx2 ones"):
        select_variants(_contract_manifest(), _hardware(providers=CUDA), precision="int8")
    assert _precisions(select_variants(_contract_manifest(lm_on=("avx2",)), _hardware(providers=CUDA),
                                       precision="int8")) == {"lm_decoder": "int8", "embedder": "int8"}


def test_a_single_int8_variant_outside_its_contract_is_refused_whatever_is_asked():
    manifest = Manifest("m", "1", "clip", ("embed",), {
        "text": Component("text", (_variant("fp32", 1000),)),
        "vision": Component("vision", (Variant("int8", "v.onnx", "0" * 64, 1000, accurate_on=("vnni",)),)),
    })
    for precision in ("fp32", "auto"):
        with pytest.raises(ProviderUnavailableError, match="This bundle has no variant of it that holds here"):
            select_variants(manifest, _hardware(isa=("avx2",)), precision=precision)


# --- rule 4 by benchmark figures (issue 13) ------------------------------------------------------

def _figure(kernels, speed, accuracy, floor=0.95):
    return Measurement(kernels, speed, "tokens/s", accuracy, "top-1 agreement with fp32", floor,
                       "test cpu; 2 threads", "bench/lm_fused.py", "0" * 64)


def _measured_manifest(fp32=(), int8=(), int4=(), int4_on=("vnni",)):
    return Manifest("reader", "1", "reader", ("read",), {"lm_decoder": Component("lm_decoder", (
        Variant("fp32", "fp32.onnx", "0" * 64, 540_000_000, name="fp32", measured=fp32),
        Variant("int8", "int8.onnx", "0" * 64, 137_000_000, name="quantized", accurate_on=("vnni",), measured=int8),
        Variant("int4", "int4.onnx", "0" * 64, 120_000_000, name="fused-q4", accurate_on=int4_on, measured=int4),
    ))})


VNNI = ("avx2", "avx512f", "avx512_vnni")


def test_the_fastest_measured_variant_that_keeps_accuracy_wins():
    manifest = _measured_manifest(fp32=(_figure("vnni", 32.4, 1.0),), int8=(_figure("vnni", 51.9, 0.591),),
                                  int4=(_figure("vnni", 85.5, 0.970),))
    choice = select_variants(manifest, _hardware(isa=VNNI)).components["lm_decoder"]
    assert choice.variant.label == "fused-q4"
    assert choice.reason.startswith("fastest measured on vnni int8-kernel CPUs that keeps accuracy: 85.5 tokens/s "
                                    "(vs fp32 32.4, quantized 51.9); top-1 agreement with fp32 0.970 >= 0.95")
    assert "bench/lm_fused.py" in choice.reason and "test cpu" in choice.reason


def test_a_faster_variant_under_its_floor_is_not_picked():
    # int8 measured fastest but inaccurate; int4 measured accurate but slower than int8.
    manifest = _measured_manifest(fp32=(_figure("vnni", 30.0, 1.0),), int8=(_figure("vnni", 90.0, 0.59),),
                                  int4=(_figure("vnni", 60.0, 0.97),))
    assert select_variants(manifest, _hardware(isa=VNNI)).components["lm_decoder"].variant.label == "fused-q4"
    manifest = _measured_manifest(fp32=(_figure("vnni", 30.0, 1.0),), int8=(_figure("vnni", 90.0, 0.59),),
                                  int4=(_figure("vnni", 60.0, 0.90),))
    assert select_variants(manifest, _hardware(isa=VNNI)).components["lm_decoder"].variant.label == "fp32"


def test_figures_from_another_kernel_family_do_not_decide():
    manifest = _measured_manifest(fp32=(_figure("vnni", 32.4, 1.0),), int4=(_figure("vnni", 85.5, 0.97),),
                                  int4_on=("vnni", "avx2"))
    choice = select_variants(manifest, _hardware(isa=("avx2",))).components["lm_decoder"]
    assert choice.variant.label == "fp32" and "lacks VNNI" in choice.reason  # the order rule, not the figures
    measured_here = _measured_manifest(fp32=(_figure("avx2", 25.0, 1.0),), int4=(_figure("avx2", 110.0, 0.96),),
                                       int4_on=("vnni", "avx2"))
    choice = select_variants(measured_here, _hardware(isa=("avx2",))).components["lm_decoder"]
    assert choice.variant.label == "fused-q4" and "on avx2 int8-kernel CPUs" in choice.reason


def test_figures_never_bring_back_a_variant_outside_its_contract():
    manifest = _measured_manifest(fp32=(_figure("avx2", 25.0, 1.0),), int4=(_figure("avx2", 110.0, 0.96),))
    choice = select_variants(manifest, _hardware(isa=("avx2",))).components["lm_decoder"]
    assert choice.variant.label == "fp32"
    assert "fused-q4/quantized is not shown to hold with avx2" in choice.reason


def test_unmeasured_variants_come_after_measured_ones_that_keep_accuracy():
    manifest = _measured_manifest(fp32=(_figure("vnni", 32.4, 1.0),))
    # int8 would win by the order rule on a VNNI CPU; only fp32 is measured here.
    assert select_variants(manifest, _hardware(isa=VNNI)).components["lm_decoder"].variant.label == "fp32"


def test_explicit_precision_ignores_figures():
    manifest = _measured_manifest(fp32=(_figure("vnni", 32.4, 1.0),), int4=(_figure("vnni", 85.5, 0.97),))
    selection = select_variants(manifest, _hardware(isa=VNNI), precision="fp32")
    assert selection.components["lm_decoder"].variant.label == "fp32"


def test_measurements_round_trip_through_bundle_json():
    import json

    from runtime.bundle import parse_manifest
    from runtime.errors import BundleError

    manifest = _measured_manifest(int4=(_figure("vnni", 85.5, 0.97),))
    data = json.loads(manifest.to_json())
    data.update(format=1)
    again = parse_manifest(data)
    assert again.components["lm_decoder"].variant("fused-q4").measured == (_figure("vnni", 85.5, 0.97),)

    def refused(match, **changes):
        broken = json.loads(json.dumps(data))
        broken["components"]["lm_decoder"]["variants"][2]["measured"][0].update(changes)
        with pytest.raises(BundleError, match=match):
            parse_manifest(broken)

    refused("kernels 'sse' invalid", kernels="sse")
    refused("speed must be positive", speed=0)
    refused("must be finite numbers", speed=float("nan"))
    refused("must be finite numbers", accuracy=float("inf"))
    refused("must be finite numbers", speed=True)
    refused("fractions", accuracy=97.0)
    refused("measured on another file", sha256="1" * 64)


def test_figures_that_measure_different_things_are_refused():
    from runtime.bundle import parse_manifest
    from runtime.errors import BundleError

    cosine = Measurement("vnni", 300.0, "texts/s", 0.99, "cosine with fp32", 0.97, "cpu", "bench", "0" * 64)
    manifest = _measured_manifest(fp32=(_figure("vnni", 32.4, 1.0),), int4=(cosine,))
    import json

    data = {**json.loads(manifest.to_json()), "format": 1}
    with pytest.raises(BundleError, match="vnni figures of its variants are not comparable"):
        parse_manifest(data)
