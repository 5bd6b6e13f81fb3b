"""Recorded benchmark figures (bench/results/variant_measurements.json): the benches merge them
one entry per variant and int8 kernel family, and the embedder's entries are ones bundle.json
accepts and variant selection ranks by, so an AVX2 machine's figures can move the embedder's
fp32 variant out of the release's default download (issue 15)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import embed_throughput  # noqa: E402
import release_parts  # noqa: E402  (packaging/ is on sys.path: tests/conftest.py)
from bench_common import record_figures, too_busy_to_record  # noqa: E402

from runtime.bundle import Component, parse_manifest, sha256_file  # noqa: E402
from runtime.placement.hardware import HardwareInfo  # noqa: E402

AVX2 = HardwareInfo("Linux", "x86_64", "test", 2, 2, frozenset({"avx2"}), 8 << 30, 8 << 30, ("CPUExecutionProvider",))


def test_record_figures_keeps_one_entry_per_variant_and_family(tmp_path):
    path = tmp_path / "measurements.json"
    path.write_text(json.dumps({"lm_decoder": {"fp32": [{"kernels": "vnni", "speed": 1}]}}))
    record_figures("embedder", {"fp32": {"kernels": "vnni", "speed": 2}}, path)
    record_figures("embedder", {"fp32": {"kernels": "avx2", "speed": 3}}, path)
    message = record_figures("embedder", {"fp32": {"kernels": "vnni", "speed": 4}}, path)
    data = json.loads(path.read_text())
    assert data["lm_decoder"] == {"fp32": [{"kernels": "vnni", "speed": 1}]}  # other components untouched
    assert data["embedder"]["fp32"] == [{"kernels": "avx2", "speed": 3}, {"kernels": "vnni", "speed": 4}]
    assert message == "recorded embedder figures for vnni int8 kernels in measurements.json"


def test_a_busy_machine_is_not_recorded():
    assert too_busy_to_record(0.8, 2) is None
    assert "Not recorded" in too_busy_to_record(1.5, 2)


def _embedder_rows(tmp_path):
    """Two bench rows (fp32 and the shipped int8) with their files and vectors."""
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(8, 16))
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    close = reference + 0.01 * rng.normal(size=reference.shape)
    close /= np.linalg.norm(close, axis=1, keepdims=True)
    paths = {}
    for label, content in (("fp32", b"fp32 graph"), (embed_throughput.SHIPPED_INT8, b"int8 graph")):
        paths[label] = tmp_path / f"{len(paths)}.onnx"
        paths[label].write_bytes(content)
    rows = [{"label": "fp32", "vectors": reference, "median": 400.0},
            {"label": embed_throughput.SHIPPED_INT8, "vectors": close, "median": 560.0}]
    return rows, paths


def test_embedder_figures_parse_and_decide_the_avx2_pick(tmp_path):
    rows, paths = _embedder_rows(tmp_path)
    args = argparse.Namespace(threads=2, batch_size=32, repeats=7, spinning=True, out=embed_throughput.REPO / "bench" / "results" / "embed_throughput.md")
    entries = embed_throughput.shipped_figures(rows, paths, args, hardware=AVX2)
    assert set(entries) == {"fp32", "quantized"}
    assert entries["fp32"]["accuracy"] == 1.0 and 0.97 <= entries["quantized"]["accuracy"] < 1.0
    assert entries["quantized"]["floor"] == 0.97 and entries["quantized"]["kernels"] == "avx2"
    assert entries["fp32"]["source"] == "bench/embed_throughput.py --repeats 7 --threads 2 (bench/results/embed_throughput.md)"

    def variant(precision, label, path, contract=()):
        return {"precision": precision, "name": label, "file": path.name, "sha256": sha256_file(path),
                "bytes": path.stat().st_size, "measured": [entries[label]], **({"accurate_on": contract} if contract else {})}

    data = {"name": "m", "version": "1", "kind": "reader", "tasks": ["embed"], "components": {"embedder": {"variants": [
        variant("fp32", "fp32", paths["fp32"]),
        variant("int8", "quantized", paths[embed_throughput.SHIPPED_INT8], ["avx2", "vnni"])]}}}
    manifest = parse_manifest(data)  # bundle.json accepts what the bench records
    split = release_parts.split_bundle(manifest, "x86_64")
    assert ("embedder", "fp32") not in split.default  # AVX2 now picks int8 by its figures, VNNI by the rule
    assert [(name, v.label) for name, v in split.optional] == [("embedder", "fp32")]
    without = dataclasses.replace(manifest, components={"embedder": Component("embedder", tuple(
        dataclasses.replace(v, measured=()) for v in manifest.components["embedder"].variants))})
    assert ("embedder", "fp32") in release_parts.split_bundle(without, "x86_64").default  # today's state
