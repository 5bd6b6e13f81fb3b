"""The README's CLI section is generated from --help (packaging/readme_cli.py) and must be current."""

from __future__ import annotations

import pytest

import readme_cli  # packaging/ is on sys.path (tests/conftest.py)


def test_readme_cli_section_is_up_to_date():
    text = readme_cli.README.read_text(encoding="utf-8") if readme_cli.README.is_file() else ""
    if readme_cli.START not in text:
        pytest.skip("README.md has no <!-- cli:start --> marker yet")
    assert readme_cli.update(text, readme_cli.render_help()) == text, (
        f"README.md's CLI section is out of date; regenerate it with: {readme_cli.REGENERATE}"
    )


def test_section_holds_the_help_of_every_command():
    section = readme_cli.render_help()
    for title in ("wan2.2-turbo`", "wan2.2-turbo serve`", "wan2.2-turbo run`", "wan2.2-turbo info`",
                  "wan2.2-turbo verify`", "wan2.2-turbo import`"):
        assert f"### `{title}" in section
    assert "Usage: wan2.2-turbo serve [OPTIONS]" in section
    assert "WAN_TURBO_MAX_SEQ_LEN" in section
    assert section == readme_cli.render_help()  # deterministic


def test_update_replaces_only_between_the_markers():
    text = f"# Title\n\nintro\n\n{readme_cli.START}\nold help\n{readme_cli.END}\n\n## After\n"
    updated = readme_cli.update(text, "NEW")
    assert updated == f"# Title\n\nintro\n\n{readme_cli.START}\nNEW\n{readme_cli.END}\n\n## After\n"
    assert readme_cli.update(updated, "NEW") == updated
    with pytest.raises(ValueError, match="needs exactly one"):
        readme_cli.update("no markers here", "NEW")


def test_release_readme_cli_section_is_up_to_date():
    """The user README that the release carries (packaging/README.release.md)."""
    text = readme_cli.RELEASE_README.read_text(encoding="utf-8")
    assert readme_cli.update(text, readme_cli.render_help()) == text, (
        f"packaging/README.release.md's CLI section is out of date; regenerate it with: {readme_cli.REGENERATE}"
    )


def test_check_mode_fails_on_a_stale_readme(tmp_path, monkeypatch, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"x\n{readme_cli.START}\nstale\n{readme_cli.END}\n")
    monkeypatch.setattr(readme_cli, "README", readme)
    release_readme = tmp_path / "README.release.md"
    release_readme.write_text(f"y\n{readme_cli.START}\n{readme_cli.render_help()}\n{readme_cli.END}\n")
    monkeypatch.setattr(readme_cli, "RELEASE_README", release_readme)
    assert readme_cli.main(["--check"]) == 1
    assert "python packaging/readme_cli.py" in capsys.readouterr().err
    assert readme_cli.main([]) == 0
    assert readme_cli.main(["--check"]) == 0
    assert "Usage: wan2.2-turbo run" in readme.read_text()
