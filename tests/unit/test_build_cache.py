"""The cache entry protocol the model builders share (packaging/build_lock.cached_entry)."""

import build_lock  # packaging/ is on sys.path (tests/conftest.py)
import pytest


def test_an_entry_is_built_once_per_stamp_and_its_record_lands_with_its_files(tmp_path):
    builds = []

    def build(staging):
        builds.append(staging)
        (staging / "model").mkdir()
        (staging / "model" / "weights.bin").write_bytes(b"x")
        return {"files": ["weights.bin"]}

    entry, record, cached = build_lock.cached_entry(tmp_path, "a" * 64, build)
    assert not cached and record == {"files": ["weights.bin"], "stamp": "a" * 64}
    assert (entry / "model" / "weights.bin").read_bytes() == b"x" and (entry / "record.json").exists()
    again, record_again, cached = build_lock.cached_entry(tmp_path, "a" * 64, build)
    assert cached and again == entry and record_again == record and len(builds) == 1
    _, _, cached = build_lock.cached_entry(tmp_path, "b" * 64, build)  # new inputs, new build
    assert not cached and len(builds) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != ".lock"]  # no staging left


def test_a_failed_build_leaves_no_entry(tmp_path):
    def build(staging):
        raise RuntimeError("converter crashed")

    with pytest.raises(RuntimeError, match="converter crashed"):
        build_lock.cached_entry(tmp_path, "c" * 64, build)
    assert not (tmp_path / ("c" * 20)).exists()
