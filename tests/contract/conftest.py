"""Tiny random-weight models built from transformers configs and exported to ONNX (cached)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import factory  # noqa: E402


@pytest.fixture(scope="session")
def contract_dir(cache_dir) -> Path:
    return cache_dir / "contract"


@pytest.fixture(scope="session")
def built(contract_dir):
    """built(kind) -> reference dataclass for a cached export of that kind."""
    cache = {}

    def get(kind: str):
        if kind not in cache:
            cache[kind] = factory.cached_build(kind, contract_dir)
        return cache[kind]

    return get


def copy_folder(source: Path, target: Path, skip=()) -> Path:
    """Copy an exported folder without bundle.json and without files named in `skip`."""
    ignore = shutil.ignore_patterns("bundle.json", ".stamp*", *skip)
    shutil.copytree(source, target, ignore=ignore)
    return target
