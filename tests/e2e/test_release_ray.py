"""The release binary leaves Ray out (issue 16): the `ray` extra is for pip installs, so the
frozen folder carries none of Ray, Starlette or uvicorn, nor the two hosts that need them, and
its `ray` command says how to get the extra instead of failing obscurely."""

from __future__ import annotations

import pytest

import smoke

pytestmark = pytest.mark.slow

RAY_PACKAGES = {"ray", "starlette", "uvicorn", "fastapi", "grpc", "opencensus", "opentelemetry"}


def test_the_binary_carries_no_ray_and_its_ray_command_says_how_to_install_it(app, tmp_path):
    internal = {path.name for path in (app / "_internal").iterdir()}  # beside the binary (onedir)
    assert {"onnxruntime", "aiohttp"} <= internal  # the folder that would hold them
    assert not internal & RAY_PACKAGES, internal & RAY_PACKAGES
    done = smoke.run_app(app, ["ray", "--model", str(app / "bundle")], tmp_path, offline=False)
    assert done.returncode == 1, done.stderr
    assert 'pip install "wan2.2-turbo[ray]"' in done.stderr and "the release binary does not include Ray" in done.stderr
