"""What the release says about itself (issue 15): the user README it carries, and release notes
that list every bundled component with its version, license and lock-file pin."""

from __future__ import annotations

import sys

import pytest

import collect_licenses
import readme_cli
import release

pytestmark = pytest.mark.slow


def test_carries_the_user_readme_with_the_current_cli_help(app):
    text = (app / "README.md").read_text(encoding="utf-8")
    assert text == readme_cli.RELEASE_README.read_text(encoding="utf-8")
    assert readme_cli.render_help() in text
    for section in ("## Download and verify", "## Run", "## HTTP API", "## Command line",
                    "## What the bundled model can and cannot do"):
        assert section in text
    assert "build.py" not in text  # the contributors' commands stay in the repository's README


def test_notes_list_every_bundled_component_with_its_pin(release_build, app):
    notes = (release_build / release.NOTES_FILE).read_text(encoding="utf-8")
    records = collect_licenses.read_index(app / "licenses" / "README.md")
    # The packages (license folders named <name>-<version>/), not the interpreter (Python-3.11.2/).
    distributions = [r for r in records if r.component != "Python"
                     and any(f.startswith(f"{r.component}-{r.version}/") for f in r.files)]
    # click is pure Python: frozen as .pyc files (noarchive), it is found only through the
    # modules PyInstaller collected outside an archive (packaging/wan.spec)
    assert {"onnxruntime", "numpy", "aiohttp", "tokenizers", "click"} <= {r.component for r in distributions}
    for record in records:
        assert f"| {record.component} | " in notes and f" | {record.license} | " in notes, record
    if not sys.platform.startswith("linux"):
        return  # only the portable Linux build installs from the lock file
    lock = release.HERE / f"portable-requirements-{release.platform_tag()[1]}.txt"
    pins = release.lock_pins(lock)
    for record in distributions:
        version, digest = pins[release._normalized(record.component)]  # every frozen package is pinned
        assert version == record.version
        assert f"| {record.component} | {version} | {record.license} | {version}, sha256 `{digest[:12]}…` |" in notes
    assert f"`packaging/{lock.name}`" in notes and "--require-hashes" in notes
