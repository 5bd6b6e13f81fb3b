"""Shared fixtures: build-file modules on sys.path, a persistent cache, assembled bundles."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# packaging/ is a folder of build files, not a package: its modules are imported by path.
sys.path.insert(0, str(REPO / "packaging"))

CACHE = REPO / ".cache" / "tests"


def pytest_report_header(config):
    """The CPU the figures below were measured on: int8 results differ by kernel family."""
    from runtime.placement import detect_hardware

    hardware = detect_hardware()
    return [f"cpu: {hardware.cpu_model}; usable cores {hardware.usable_cores}; isa: {', '.join(sorted(hardware.isa))}; "
            f"int8 kernels: {hardware.int8_kernels}"]


@pytest.fixture(scope="session")
def int8_kernels() -> str:
    """onnxruntime's int8 kernel family on this CPU: which accuracy contract the tests assert."""
    from runtime.placement import detect_hardware

    return detect_hardware().int8_kernels


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    return CACHE


@pytest.fixture(scope="session")
def tiny_models(cache_dir):
    """tiny_models(kind) -> factory reference of a cached tiny export (vit_gpt2, clip_split).
    tests/contract/factory.py must be importable: the folders using this (tests/http,
    tests/ray) put tests/contract on sys.path."""
    import factory

    cache = {}

    def get(kind: str):
        if kind not in cache:
            cache[kind] = factory.cached_build(kind, cache_dir / "contract")
        return cache[kind]

    return get


@pytest.fixture(scope="session")
def ocr_bundle(cache_dir) -> Path:
    """The `ocr` bundle assembled from the pinned rapidocr wheel (copied fresh per session)."""
    import ocr_bundle as assembly

    target = cache_dir / "bundles" / "ocr"
    shutil.rmtree(target, ignore_errors=True)
    return assembly.assemble_ocr_bundle(target)


@pytest.fixture(scope="session")
def reader_bundle(cache_dir) -> Path:
    """The default `reader` bundle (OCR + SmolLM2 + MiniLM), assembled from the pinned wheels;
    each part is cached by its builder, so a repeated session only re-hashes files."""
    import reader_bundle as assembly

    return assembly.assemble_reader_bundle(cache_dir / "bundles" / "reader")
