"""CLI fixtures: a clean environment, a drawn receipt image, the tiny captioner folder."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "contract"))

import factory  # noqa: E402


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No WAN_TURBO_* variables from the caller's shell, and not frozen."""
    for name in list(os.environ):
        if name.startswith("WAN_TURBO_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(sys, "frozen", False, raising=False)


@pytest.fixture
def invoke():
    """invoke(*args, env=None) -> click Result of `wan2.2-turbo args...` (stdout and stderr apart)."""
    from launcher.cli import main

    def run(*args, env=None):
        return CliRunner().invoke(main, [str(a) for a in args], env=env, prog_name="wan2.2-turbo")

    return run


@pytest.fixture(scope="session")
def receipt_image(tmp_path_factory) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (640, 120), "white")
    ImageDraw.Draw(image).text((20, 30), "Total due: 42.50 EUR", fill="black", font=ImageFont.load_default(size=36))
    path = tmp_path_factory.mktemp("images") / "receipt.png"
    image.save(path)
    return path


@pytest.fixture(scope="session")
def captioner_source(cache_dir) -> Path:
    """The tiny random-weight ViT-GPT2 captioner (Optimum layout; model limit 64 tokens)."""
    return factory.cached_build("vit_gpt2", cache_dir / "contract").folder


@pytest.fixture
def captioner(captioner_source, tmp_path) -> Path:
    """A private copy of the captioner folder, without bundle.json."""
    ignore = shutil.ignore_patterns("bundle.json", ".stamp*")
    return Path(shutil.copytree(captioner_source, tmp_path / "vit_gpt2", ignore=ignore))
