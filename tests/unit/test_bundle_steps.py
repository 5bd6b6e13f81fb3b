"""packaging/reader_bundle.py's steps say what they do, how long it took, and that a long one is still working."""

from __future__ import annotations

import time

import pytest

import reader_bundle


def test_a_long_step_says_it_is_still_working(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(reader_bundle, "HEARTBEAT_S", 0.05)
    assert reader_bundle._step("slow part", lambda out: (time.sleep(0.3), out)[1], tmp_path) == tmp_path
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[bundle] slow part ..." and lines[-1].startswith("[bundle] slow part: ready in ")
    assert any(line.startswith("[bundle] slow part: still working (") for line in lines[1:-1])


def test_a_failing_step_stops_its_heartbeat(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(reader_bundle, "HEARTBEAT_S", 0.05)

    def fail(out):
        time.sleep(0.1)
        raise RuntimeError("export failed")

    with pytest.raises(RuntimeError, match="export failed"):
        reader_bundle._step("broken part", fail, tmp_path)
    capsys.readouterr()
    time.sleep(0.2)
    assert "still working" not in capsys.readouterr().out  # nothing beats after the failure
