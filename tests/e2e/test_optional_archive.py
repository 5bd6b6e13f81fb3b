"""The release's two downloads (issue 15): the default archive carries what auto picks on the
reference CPUs, the optional one the other precisions (named by them, `...-fp32.tar.gz` when
it carries fp32: conftest.py checks the name) and unpacks into the same folder. The
frozen binary says what is installed and what to download, refuses a precision that is not
installed by naming the archive, and once the archive is unpacked selects, verifies and hashes
its files like every other."""

from __future__ import annotations

import json
import subprocess
import tarfile

import pytest

import release
import release_parts
import smoke
from runtime.bundle import read_manifest, sha256_file

pytestmark = pytest.mark.slow

APP = release.APP_NAME


@pytest.fixture
def optional(optional_archive, app) -> list[tuple[str, object]]:
    """(component, variant) of each optional variant, as the release's bundle.json names them."""
    if optional_archive is None:
        pytest.skip("this build has no optional archive: every variant is picked on a reference CPU")
    manifest = read_manifest(app / "bundle")
    return [(name, v) for name, c in manifest.components.items() for v in c.variants if v.archive]


def _info(app, cwd, *args) -> subprocess.CompletedProcess:
    return smoke.run_app(app, ["info", *args], cwd, offline=False)


def _holds_here(variant, int8_kernels: str) -> bool:
    return variant.precision not in ("int8", "uint8", "int4") or not variant.accurate_on \
        or int8_kernels in variant.accurate_on


def test_the_split_follows_the_selection_rule(app, archive, optional_archive, optional, release_build):
    manifest = read_manifest(app / "bundle")
    split = release_parts.split_bundle(manifest, release.platform_tag()[1])
    assert [(name, v.label) for name, v in split.optional] == [(name, v.label) for name, v in optional]
    assert {v.archive for _, v in optional} == {optional_archive.name}
    with tarfile.open(optional_archive) as handle:
        members = handle.getmembers()
    files = sorted(m.name for m in members if m.isfile())
    assert files == sorted(f"{APP}/bundle/{e.file}" for _, v in optional for e in v.files())
    with tarfile.open(archive) as handle:
        default_members = handle.getmembers()
    assert not {m.name for m in default_members} & set(files)
    # Written like the default archive: sorted, owner 0, the same fixed time.
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(m.uid, m.gid, m.mtime) for m in default_members[:1]} \
        == {(0, 0, default_members[0].mtime)}
    sums = (release_build / release.SUMS_FILE).read_text().splitlines()
    for path in (archive, optional_archive):  # each archive its own line, as `sha256sum -c` reads it
        assert f"{sha256_file(path)}  {path.name}" in sums, sums
    notes = (release_build / release.NOTES_FILE).read_text()
    assert f"| {optional_archive.name} | {optional_archive.stat().st_size} |" in notes
    assert "## What each download holds" in notes and "--ignore-missing" in notes


def test_optional_archive_adds_its_precisions(linked_app, optional_archive, optional, int8_kernels, tmp_path):
    app, cwd = linked_app, tmp_path
    # The fp32 variant when the archive has one: issue 15's `--precision fp32` without the archive.
    component, variant = next(((name, v) for name, v in optional if v.precision == "fp32"), optional[0])
    report = json.loads(_info(app, cwd, "--json").stdout)
    assert [(item["component"], item["variant"], item["archive"]) for item in report["precisions"]["to_download"]] \
        == [(name, v.label, optional_archive.name) for name, v in optional]
    text = _info(app, cwd).stdout
    assert f"available to download: {variant.precision} for {component}" in text and optional_archive.name in text
    verified = smoke.run_app(app, ["verify", str(app / "bundle")], cwd, offline=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{variant.file}: not installed" in verified.stdout

    refused = _info(app, cwd, "--precision", variant.precision)
    if _holds_here(variant, int8_kernels):
        assert refused.returncode == 3, refused.stderr
        assert f"the {variant.precision} variant of component '{component}' ({variant.file}) is not installed" \
            in refused.stderr and optional_archive.name in refused.stderr
    else:  # refused for accuracy on this CPU, before any download advice
        assert refused.returncode == 5 and "keeps its accuracy only with" in refused.stderr, refused.stderr

    subprocess.run(["tar", "-xzf", str(optional_archive), "-C", str(app.parent)], check=True)
    report = json.loads(_info(app, cwd, "--json").stdout)
    assert report["precisions"]["to_download"] == []
    assert component in report["precisions"]["installed"][variant.precision]
    verified = smoke.run_app(app, ["verify", str(app / "bundle")], cwd, offline=False)
    assert verified.returncode == 0 and "not installed" not in verified.stdout, verified.stdout + verified.stderr
    assert f"{variant.file}: OK" in verified.stdout

    chosen = _info(app, cwd, "--json", "--precision", variant.precision)
    if _holds_here(variant, int8_kernels):
        assert chosen.returncode == 0, chosen.stderr
        assert json.loads(chosen.stdout)["selection"]["components"][component]["file"] == variant.file
    else:
        assert chosen.returncode == 5 and "keeps its accuracy only with" in chosen.stderr, chosen.stderr

    path = app / "bundle" / variant.file  # unpacked by tar above: this copy's own file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert smoke.run_app(app, ["verify", str(app / "bundle")], cwd, offline=False).returncode == 4
    if _holds_here(variant, int8_kernels):  # start-up hashes the files it loads
        tampered = _info(app, cwd, "--precision", variant.precision)
        assert tampered.returncode == 4 and variant.file.split("/")[-1] in tampered.stderr, tampered.stderr
