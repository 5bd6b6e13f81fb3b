"""bench/run_all.py's table: headline figures, their targets, and benches that did not run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import run_all  # noqa: E402
from bench_common import Figure, write_figures  # noqa: E402


def test_targets_decide_met():
    assert Figure("1", "ratio", 0.85, "x", at_most=0.9).met is True
    assert Figure("1", "ratio", 0.95, "x", at_most=0.9).met is False
    assert Figure("2", "speed-up", 4.0, "x", at_least=4.0).met is True
    assert Figure("2", "speed-up", 2.7, "x", at_least=4.0).met is False
    assert Figure("2", "first token", 120.0, "ms").met is None


def test_figures_round_trip_into_the_table(tmp_path):
    path = tmp_path / "figures.json"
    write_figures([Figure("2. LM", "tok/s ours / llama.cpp", 0.89, "x", at_least=1.3, note="90 vs 101"),
                   Figure("3. Embeddings", "cosine min", 0.985, "", at_least=0.97)], path)
    figures = json.loads(path.read_text())
    record = {"cpu": "CPU: test", "commit": "abc", "date": "today", "versions": {"onnxruntime": "1"},
              "load": [0.1, 0.2], "quick": False, "figures": figures,
              "runs": [{"comparison": 6, "label": "cold start", "status": "no release tarball in dist/"}]}
    table = run_all.markdown(record)
    assert "| 2. LM | tok/s ours / llama.cpp | 0.89 x | >= 1.3 | **no** | 90 vs 101 |" in table
    assert "| 3. Embeddings | cosine min | 0.985  | >= 0.97 | yes |  |" in table
    assert "| 6. cold start | not measured | | | | no release tarball in dist/ |" in table


def test_every_comparison_has_a_step_or_says_why_not():
    numbers = {number for number, _, _ in run_all.steps(quick=True)}
    assert numbers == {1, 2, 3, 4, 5, 6, 7}
    for _, _, command in run_all.steps(quick=False):
        source = (BENCH.parent / command[0]).read_text(encoding="utf-8")
        assert "add_json_argument(parser)" in source and "write_figures(" in source, command[0]


def test_ray_serve_runs_only_where_ray_is_installed(monkeypatch):
    real_find_spec = run_all.importlib.util.find_spec
    monkeypatch.setattr(run_all.importlib.util, "find_spec", lambda name: None if name == "ray" else real_find_spec(name))
    assert "pip install" in run_all.missing_requirement(7, dist=[])
    assert run_all.missing_requirement(6, dist=[]).startswith("no release tarball")
    monkeypatch.setattr(run_all.importlib.util, "find_spec", lambda name: object())
    assert run_all.missing_requirement(7, dist=[]) is None
    assert run_all.missing_requirement(6, dist=[Path("dist/x.tar.gz")]) is None


def test_lm_accuracy_interval_and_paired_sign_test():
    import lm_fused

    low, high = lm_fused.wilson_interval(5, 10)  # textbook values of the 95% Wilson interval
    assert round(low, 4) == 0.2366 and round(high, 4) == 0.7634
    assert lm_fused.wilson_interval(0, 10)[0] == 0.0 and round(lm_fused.wilson_interval(0, 10)[1], 4) == 0.2775
    # six positions where only the other variant picks fp32's token, none the other way: p = 2 / 2**6
    pair = lm_fused.paired([True] * 4 + [False] * 6, [True] * 10)
    assert pair == {"only_ours": 0, "only_theirs": 6, "p_value": 2 / 64}
    assert lm_fused.paired([True, False], [False, True])["p_value"] == 1.0
    assert lm_fused.paired([True], [True])["p_value"] == 1.0  # no discordant position: no evidence either way
