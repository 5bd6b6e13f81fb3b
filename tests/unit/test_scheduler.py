"""The thread budget: workers x intra-op threads never exceed the usable cores unless asked."""

from __future__ import annotations

import pytest

from runtime.scheduler import EngineRunner, thread_budget


@pytest.mark.parametrize(
    ("cores", "concurrent", "threads", "workers", "intra"),
    [
        (2, 8, None, 2, 1),    # the default on a 2-core machine: no 8 x 2 oversubscription
        (2, 1, None, 1, 2),    # one request at a time gets every core
        (16, 8, None, 8, 2),
        (6, 4, None, 4, 1),    # 6 // 4: the spare cores stay free rather than oversubscribe
        (1, 8, None, 1, 1),
        (8, 8, 2, 4, 2),       # --threads 2: as many workers as fit beside them
        (8, 2, 2, 2, 2),
        (2, 8, 4, 1, 4),       # --threads above the cores: honoured, one worker
    ],
)
def test_budget(cores, concurrent, threads, workers, intra):
    budget = thread_budget(cores, concurrent, threads)
    assert (budget.workers, budget.intra_op_threads) == (workers, intra)
    if threads is None or threads <= cores:
        assert budget.total_threads <= cores
    assert str(workers) in budget.reason and str(intra) in budget.reason


def test_over_budget_is_said():
    assert "over the cores" in thread_budget(2, 8, 4).reason
    assert "over the cores" not in thread_budget(2, 8, 2).reason


def test_runner_starts_once_with_the_budget():
    runner = EngineRunner(max_queue=4)
    runner.start(thread_budget(4, 8).workers)
    assert runner.workers == 4
    with pytest.raises(RuntimeError):
        runner.start(2)
    runner.shutdown()
