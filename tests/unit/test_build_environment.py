"""packaging/environment.py: which pinned extras each command installs, and when it skips."""

from __future__ import annotations

import hashlib

import environment  # packaging/ is on sys.path (tests/conftest.py)
import pytest


@pytest.fixture
def venv_dir(tmp_path, monkeypatch):
    folder = tmp_path / ".venv"
    python = folder / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    monkeypatch.setattr(environment, "VENV", folder)
    monkeypatch.setattr(environment, "venv_python", lambda: python)
    return folder


def _digest() -> str:
    return hashlib.sha256((environment.REPO / "pyproject.toml").read_bytes()).hexdigest()


def _pip_calls(monkeypatch) -> list[list[str]]:
    calls: list[list[str]] = []
    monkeypatch.setattr(environment.subprocess, "run", lambda command, check: calls.append(command))
    return calls


def test_serving_installs_the_build_extra_only(venv_dir, monkeypatch):
    calls = _pip_calls(monkeypatch)
    environment.ensure_environment(environment.SERVE_EXTRAS)
    assert calls[0][-1] == "torch==2.13.0"  # pinned first: nothing later resolves a CUDA build
    assert calls[-1][-1].endswith("[build]")
    assert (venv_dir / ".installed-build").read_text() == _digest()


def test_a_tested_checkout_serves_without_installing(venv_dir, monkeypatch):
    (venv_dir / ".installed-build,test,ray").write_text(_digest())
    calls = _pip_calls(monkeypatch)
    environment.ensure_environment(environment.SERVE_EXTRAS)
    environment.ensure_environment(environment.TEST_EXTRAS)
    assert calls == []


def test_more_extras_or_a_changed_pyproject_install_again(venv_dir, monkeypatch):
    (venv_dir / ".installed-build").write_text(_digest())
    calls = _pip_calls(monkeypatch)
    environment.ensure_environment(environment.TEST_EXTRAS)  # the test tools are missing
    assert calls[-1][-1].endswith("[build,test,ray]")
    assert [p.name for p in venv_dir.glob(".installed-*")] == [".installed-build,test,ray"]
    (venv_dir / ".installed-build,test,ray").write_text("an older pyproject.toml")
    calls.clear()
    environment.ensure_environment(environment.SERVE_EXTRAS)
    assert calls and calls[-1][-1].endswith("[build]")
