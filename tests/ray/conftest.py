"""Fixtures for the Ray Serve host (issue 16): the fakes and tiny models of the HTTP tests
(helpers are in ray_support.py). Ray and Starlette come with the `ray` extra, which
`python3 build.py test` installs with the test extras."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

# Ray Serve 2.60 defines its config models with a pydantic 1 idiom that pydantic 2 warns about
# once, at import; the suite turns warnings into errors, so import it here with that one allowed.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using extra keyword arguments on `Field` is deprecated")
    import ray.serve  # noqa: F401

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "http"))  # http_fakes.py: the scripted model
sys.path.insert(0, str(HERE.parent / "contract"))  # factory.py: tiny models built at test time


@pytest.fixture(scope="session")
def tiny_models(cache_dir):
    """tiny_models(kind) -> factory reference of a cached tiny export (vit_gpt2, clip_split)."""
    import factory

    cache = {}

    def get(kind: str):
        if kind not in cache:
            cache[kind] = factory.cached_build(kind, cache_dir / "contract")
        return cache[kind]

    return get
