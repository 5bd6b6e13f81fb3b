"""The default download's variants come from the selection rule (issue 15), not from a list:
what auto picks on the reference CPUs ships by default, the rest in the optional archive, except
variants measured under their accuracy floor on every CPU kind (not released at all)."""

from __future__ import annotations

import dataclasses
import json

import release_parts  # packaging/ is on sys.path (tests/conftest.py)
from runtime.bundle import Component, Manifest, Measurement, Variant, read_manifest
from runtime.bundle.manifest import sha256_file

OPTIONAL = "wan2.2-turbo-0.1.0-linux-x86_64-fp32.tar.gz"


def _figure(kernels, speed, accuracy, sha):
    return Measurement(kernels, speed, "tokens/s", accuracy, "top-1 agreement with fp32", 0.95, "test cpu", "test",
                       sha)


def _variant(precision, label, size, accurate_on=(), figures=(), sha=None):
    sha = sha or f"{size:064x}"
    return Variant(precision, f"{label}.onnx", sha, size, name=label, accurate_on=tuple(accurate_on),
                   measured=tuple(_figure(*figure, sha) for figure in figures))


def _reader_like(int4_on=("vnni",), int4_figures=(("vnni", 67.3, 0.97),)) -> Manifest:
    """The shape of the reader bundle's choices: LM fp32 / dynamic int8 / fused int4, measured on
    VNNI; embedder fp32 / int8 accurate on VNNI and AVX2; a one-variant detector."""
    lm = Component("lm_decoder", (
        _variant("fp32", "fp32", 540, figures=(("vnni", 27.7, 1.0), ("avx2", 30.0, 1.0))),
        _variant("int8", "quantized", 140, ("vnni",), (("vnni", 43.8, 0.591),)),
        _variant("int4", "fused-q4", 100, int4_on, int4_figures),
    ))
    embedder = Component("embedder", (_variant("fp32", "fp32-embed", 90), _variant("int8", "q-embed", 23, ("vnni", "avx2"))))
    detector = Component("detector", (_variant("fp32", "det", 8),))
    return Manifest("reader", "1", "reader", ("read",), {"lm_decoder": lm, "embedder": embedder, "detector": detector})


def _optional(split):
    return [(name, variant.label) for name, variant in split.optional]


def test_default_set_is_what_auto_picks_on_avx2_and_on_vnni():
    split = release_parts.split_bundle(_reader_like(), "x86_64")
    assert split.default == {("lm_decoder", "fp32"), ("lm_decoder", "fused-q4"), ("embedder", "fp32-embed"),
                             ("embedder", "q-embed"), ("detector", "det")}
    # The dynamic int8 LM, measured under its floor (0.591 < 0.95) wherever it was measured, is not released.
    assert _optional(split) == [] and release_parts.optional_part(split) == ""
    assert [(name, v.label) for name, v in split.withheld] == [("lm_decoder", "quantized")]
    picks = {cpu: {name: c.variant.label for name, c in selection.components.items()}
             for cpu, _, selection in split.picks}
    assert picks["x86_64 with AVX2, no VNNI"]["lm_decoder"] == "fp32"
    assert picks["x86_64 with AVX-512 VNNI"]["lm_decoder"] == "fused-q4"
    notes = "\n".join(split.lines(_reader_like()))
    assert "AVX2, no VNNI gets lm_decoder fp32 (0 MB) because the smaller quantized (0 MB; contract: vnni), " \
           "fused-q4 (0 MB; contract: vnni) are not shown accurate with avx2 int8 kernels" in notes


def test_an_int4_measurement_on_avx2_takes_the_fp32_lm_out_of_the_default_download():
    """What the AVX2 session's measurement would do: nothing else has to change."""
    measured = _reader_like(int4_on=("vnni", "avx2"), int4_figures=(("vnni", 67.3, 0.97), ("avx2", 115.0, 0.96)))
    split = release_parts.split_bundle(measured, "x86_64")
    assert ("lm_decoder", "fp32") not in split.default
    assert _optional(split) == [("lm_decoder", "fp32")]
    assert release_parts.optional_part(split) == "fp32"  # the optional archive's name says what it holds


def test_only_a_variant_under_its_floor_on_every_measured_cpu_kind_is_withheld():
    lm = Component("lm_decoder", (
        _variant("fp32", "fp32", 540, figures=(("vnni", 27.7, 1.0),)),
        _variant("int8", "wrong-everywhere", 140, ("vnni", "avx2"), (("vnni", 43.8, 0.59), ("avx2", 50.0, 0.60))),
        _variant("int8", "right-on-avx2", 130, ("vnni", "avx2"), (("vnni", 20.0, 0.59), ("avx2", 20.0, 0.96))),
        _variant("int8", "unmeasured", 120, ("vnni",)),
        _variant("int4", "fused-q4", 100, ("vnni", "avx2"), (("vnni", 67.3, 0.97), ("avx2", 115.0, 0.96))),
    ))
    manifest = Manifest("reader", "1", "reader", ("read",), {"lm_decoder": lm})
    split = release_parts.split_bundle(manifest, "x86_64")
    assert [v.label for _, v in split.withheld] == ["wrong-everywhere"]
    assert _optional(split) == [("lm_decoder", "fp32"), ("lm_decoder", "right-on-avx2"), ("lm_decoder", "unmeasured")]
    assert "- Not released: lm_decoder wrong-everywhere (int8, 0 MB): top-1 agreement with fp32 0.59 with vnni " \
           "kernels, 0.6 with avx2 kernels, under the floor 0.95 that automatic selection requires" in "\n".join(split.lines(manifest))


def test_the_optional_archive_is_named_by_the_precisions_it_carries():
    """Issue 15's `-fp32.tar.gz` once the optional download holds the fp32 variants only; never
    a precision it does not hold."""
    int4 = _variant("int4", "fused-q4", 100, ("vnni", "avx2"), (("vnni", 67.3, 0.97), ("avx2", 115.0, 0.96)))
    lm = Component("lm_decoder", (_variant("fp32", "fp32", 540), int4))
    split = release_parts.split_bundle(Manifest("reader", "1", "reader", ("read",), {"lm_decoder": lm}), "x86_64")
    assert _optional(split) == [("lm_decoder", "fp32")] and release_parts.optional_part(split) == "fp32"
    assert release_parts.optional_part(release_parts.split_bundle(_reader_like(), "riscv64")) == ""


def test_an_architecture_without_reference_cpus_ships_everything():
    split = release_parts.split_bundle(_reader_like(), "riscv64")
    assert split.optional == () and len(split.default) == 6


def test_split_release_moves_the_optional_files_and_names_the_archive(tmp_path):
    app, optional = tmp_path / "stage" / "wan2.2-turbo", tmp_path / "stage-optional" / "wan2.2-turbo"
    bundle = app / "bundle"
    bundle.mkdir(parents=True)
    components = {}
    measured = _reader_like(int4_on=("vnni", "avx2"), int4_figures=(("vnni", 67.3, 0.97), ("avx2", 115.0, 0.96)))
    for name, component in measured.components.items():
        variants = []
        for variant in component.variants:
            (bundle / variant.file).write_bytes(variant.label.encode() * variant.bytes)
            sha = sha256_file(bundle / variant.file)
            figures = tuple(dataclasses.replace(m, sha256=sha) for m in variant.measured)
            variants.append(dataclasses.replace(variant, sha256=sha, bytes=(bundle / variant.file).stat().st_size,
                                                measured=figures))
        components[name] = Component(name, tuple(variants))
    manifest = dataclasses.replace(measured, components=components)
    (bundle / "bundle.json").write_text(manifest.to_json())

    split = release_parts.split_release(app, optional, release_parts.split_bundle(manifest, "x86_64"), OPTIONAL)
    assert _optional(split) == [("lm_decoder", "fp32")]
    assert sorted(p.name for p in (optional / "bundle").iterdir()) == ["fp32.onnx"]
    assert not (bundle / "fp32.onnx").exists() and (bundle / "fused-q4.onnx").exists()
    assert not (bundle / "quantized.onnx").exists()  # withheld: in neither archive
    written = read_manifest(bundle)
    archives = {(n, v.label): v.archive for n, c in written.components.items() for v in c.variants}
    assert ("lm_decoder", "quantized") not in archives
    assert archives.pop(("lm_decoder", "fp32")) == OPTIONAL
    assert set(archives.values()) == {""}
    assert release_parts.mark_optional(written, split, OPTIONAL) == written  # idempotent
    written_json = json.loads((bundle / "bundle.json").read_text())
    assert [v["name"] for v in written_json["components"]["lm_decoder"]["variants"]] == ["fp32", "fused-q4"]
    assert written_json["components"]["lm_decoder"]["variants"][0]["archive"] == OPTIONAL
