"""The thread budget: workers x intra-op threads never exceed the usable cores unless asked."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from runtime.scheduler import EngineRunner, RunGauge, WorkerPool, thread_budget


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


@pytest.mark.parametrize(("cores", "concurrent", "threads", "wide"), [
    (2, 8, None, 2),   # cores split between workers: a pass alone in flight may take them all
    (16, 8, None, 16),
    (2, 1, None, 0),   # one worker has every core already
    (8, 8, 2, 0),      # an explicit --threads is honoured exactly
])
def test_wide_threads(cores, concurrent, threads, wide):
    assert thread_budget(cores, concurrent, threads).wide_threads == wide


def test_run_gauge_says_whether_a_run_is_alone():
    gauge = RunGauge()
    with gauge.running() as first:
        with gauge.running() as second:
            assert (first, second) == (True, False)
    with gauge.running() as again:
        assert again


def test_pool_map_keeps_order_and_idle_workers_take_part():
    pool = WorkerPool(2)
    both = threading.Barrier(2, timeout=10)  # passes only when two items run at the same time
    threads = set()

    def work(item):
        threads.add(threading.current_thread().name)
        if item < 2:
            both.wait()
        return item * 10

    assert pool.map(work, range(6)) == [0, 10, 20, 30, 40, 50]
    assert len(threads) == 2
    pool.shutdown()


def test_pool_map_on_one_worker_runs_in_the_caller():
    caller = threading.current_thread().name
    assert WorkerPool(1).map(lambda item: (item, threading.current_thread().name), [1, 2]) == [(1, caller), (2, caller)]


def test_pool_map_from_busy_workers_does_not_wait_for_helpers():
    # Both workers run a request that maps: the helpers queue behind them, so each caller
    # runs its own items and returns (a caller waiting for its helpers would never return).
    pool = WorkerPool(2)
    futures = [pool.executor.submit(pool.map, lambda item: item + 1, range(5)) for _ in range(2)]
    assert [future.result(timeout=10) for future in futures] == [[1, 2, 3, 4, 5]] * 2
    pool.shutdown()


def test_a_long_pool_map_lets_a_waiting_job_have_the_worker_after_one_item():
    # A request mapping 40 items from a worker of a 2-worker pool; another request's job
    # arrives meanwhile: the helper hands the second worker over after its current item (it
    # used to run items until none was left) and the caller finishes the list alone. Spare
    # threads as a loaded model's pool has (runtime.loading), so the job waits for a permit.
    pool = WorkerPool(2, spare=2)
    started, seen_by_other = [], []
    first_items = threading.Event()

    def work(item):
        started.append(item)
        if len(started) == 4:
            first_items.set()
        time.sleep(0.01)
        return item

    def request():
        return pool.map(work, range(40))

    mapping = pool.executor.submit(request)
    assert first_items.wait(10)
    other = pool.executor.submit(lambda: seen_by_other.append(len(started)))
    assert mapping.result(timeout=30) == list(range(40))
    other.result(timeout=30)
    assert seen_by_other[0] <= 30, "the other job waited until the list was nearly done"
    pool.shutdown()


def test_pool_map_raises_the_first_error_after_the_started_items_finish_and_starts_no_more():
    pool = WorkerPool(2)
    started, finished = [], []

    def work(item):
        started.append(item)
        if item == 0:
            raise ValueError("item 0")
        time.sleep(0.05)
        finished.append(item)

    with pytest.raises(ValueError, match="item 0"):
        pool.map(work, range(20))
    # at most the one item the helper took before item 0 raised; every started item finished
    assert len(started) <= 2 and sorted(finished) == sorted(started)[1:]
    pool.shutdown()


def test_runner_runs_requests_on_the_model_pool():
    pool = WorkerPool(3)
    runner = EngineRunner(max_queue=4)
    runner.start(1, pool)
    assert runner.workers == 3

    async def name():
        return await runner.call(lambda: threading.current_thread())

    assert asyncio.run(name()) in pool.executor._threads
    runner.shutdown()


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


def test_a_slot_waits_until_its_first_engine_job_starts_then_runs_until_released():
    """The queue-depth gauges (issue 16): with the one worker busy, a second request's job is
    queued, so that request is waiting; once its job has started it is running, and releasing
    a slot takes it off the counts."""
    import asyncio
    import threading

    async def scenario():
        runner = EngineRunner(max_queue=4)
        runner.start(1)
        gate = threading.Event()
        release = {"first": asyncio.Event(), "second": asyncio.Event()}
        done = {"first": asyncio.Event(), "second": asyncio.Event()}
        seen = {}

        async def request(name, function):
            with runner.acquire():
                seen[f"{name} acquired"] = (runner.waiting, runner.running)
                await runner.submit(function)
                done[name].set()
                await release[name].wait()

        first = asyncio.ensure_future(request("first", lambda: gate.wait(10)))
        while runner.running < 1:  # the worker has picked the first job up
            await asyncio.sleep(0.01)
        second = asyncio.ensure_future(request("second", lambda: None))
        while "second acquired" not in seen:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        seen["second queued behind the first"] = (runner.waiting, runner.running)
        gate.set()
        await done["first"].wait()
        await done["second"].wait()
        seen["both jobs done"] = (runner.waiting, runner.running)
        release["first"].set()
        await first
        seen["first released"] = (runner.waiting, runner.running)
        release["second"].set()
        await second
        seen["all released"] = (runner.waiting, runner.running, runner.depth)
        runner.shutdown()
        return seen

    assert asyncio.run(scenario()) == {
        "first acquired": (1, 0),
        "second acquired": (1, 1),
        "second queued behind the first": (1, 1),
        "both jobs done": (0, 2),
        "first released": (0, 1),
        "all released": (0, 0, 0),
    }


def test_work_submitted_outside_any_slot_counts_as_neither():
    import asyncio

    async def scenario():
        runner = EngineRunner(max_queue=2)
        runner.start(1)
        result = await runner.submit(lambda: 7)
        counts = (runner.waiting, runner.running, runner.depth)
        runner.shutdown()
        return result, counts

    assert asyncio.run(scenario()) == (7, (0, 0, 0))


def test_a_job_waiting_on_another_thread_lets_the_next_job_compute():
    # A request whose stream waits for a batched decoder's token (runtime.batching) gives its
    # permit back: another request's job runs on a spare thread, and never more than
    # `workers` jobs compute at once.
    from runtime.scheduler import BudgetedExecutor, waiting

    executor = BudgetedExecutor(workers=1, spare=2)
    token, computing, most = threading.Event(), [0], [0]
    lock = threading.Lock()

    def compute():
        with lock:
            computing[0] += 1
            most[0] = max(most[0], computing[0])
        time.sleep(0.02)
        with lock:
            computing[0] -= 1

    def waits_for_its_token():
        compute()
        with waiting():
            assert token.wait(10), "nobody produced the token"
        compute()  # holds the permit again
        return "streamed"

    first = executor.submit(waits_for_its_token)
    others = [executor.submit(compute) for _ in range(2)]
    for other in others:
        other.result(timeout=10)  # ran while the first waited: it never would on one plain worker
    token.set()
    assert first.result(timeout=10) == "streamed"
    assert most[0] == 1
    executor.shutdown()


def test_waiting_outside_an_engine_job_does_nothing():
    from runtime.scheduler import waiting

    with waiting():
        pass


def test_permits_go_first_come_first_served_and_a_resuming_stream_first():
    # A released permit passes to the longest waiter: the thread that gives it back cannot take
    # it again while others wait (a semaphore let jobs submitted later run first, and a stream
    # back from waiting() wait as long as new jobs kept coming).
    from runtime.scheduler import BudgetedExecutor, waiting

    executor = BudgetedExecutor(workers=1, spare=4)
    gate, token, started = threading.Event(), threading.Event(), []
    lock = threading.Lock()

    def job(name, wait_for=None):
        def run():
            with lock:
                started.append(name)
            if wait_for is not None:
                assert wait_for.wait(10)
        return run

    def stream():
        with lock:
            started.append("stream")
        with waiting():
            assert token.wait(10)
        with lock:
            started.append("stream again")

    first = executor.submit(stream)
    while "stream" not in started:
        time.sleep(0.001)
    holder = executor.submit(job("holder", gate))  # takes the permit the stream gave back
    while "holder" not in started:
        time.sleep(0.001)
    queued = []
    for i in range(3):  # each on a spare thread, waiting for the permit, in this order
        queued.append(executor.submit(job(f"job {i}")))
        _until(lambda: _waiting_for_permits(executor) == i + 1)
    token.set()  # the stream's token came: it waits for the permit too, ahead of them
    _until(lambda: _waiting_for_permits(executor) == 4)
    gate.set()
    for future in (first, holder, *queued):
        future.result(timeout=10)
    assert started == ["stream", "holder", "stream again", "job 0", "job 1", "job 2"]
    executor.shutdown()


def test_jobs_waiting_for_a_permit_at_shutdown_do_not_run():
    from runtime.scheduler import BudgetedExecutor

    executor = BudgetedExecutor(workers=1, spare=2)
    gate, ran = threading.Event(), []
    holder = executor.submit(lambda: gate.wait(10))
    later = [executor.submit(lambda: ran.append(1)) for _ in range(2)]  # on spare threads, no permit
    _until(lambda: _waiting_for_permits(executor) == 2)
    executor.shutdown(wait=False, cancel_futures=True)
    gate.set()
    holder.result(timeout=10)
    for future in later:
        with pytest.raises(RuntimeError, match="shutting down"):
            future.result(timeout=10)
    assert ran == []


def _waiting_for_permits(executor) -> int:
    return len(executor._permits._waiters)  # noqa: SLF001 - how many jobs wait for a permit


def _until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the threads never got there"
        time.sleep(0.001)


def test_a_request_that_lets_go_while_its_job_computes_keeps_its_place_until_the_job_ends():
    """A client that leaves does not stop its job (onnxruntime runs to the end): until the job
    ends its place stays taken, so `max_queue` bounds the work really in flight. (Before, the
    place was freed at once and dropped requests piled work up past the limit.)"""
    import asyncio

    from runtime.errors import OverloadedError

    async def scenario():
        runner = EngineRunner(max_queue=1)
        runner.start(1)
        gate, started = threading.Event(), threading.Event()

        def slow():
            started.set()
            gate.wait(10)
            return "done"

        seen = {}
        with runner.acquire():
            future = runner.submit(slow)
            while not started.is_set():
                await asyncio.sleep(0.01)
        seen["after letting go"] = (runner.depth, runner.running)
        try:
            runner.acquire()
            seen["second request"] = "admitted"
        except OverloadedError:
            seen["second request"] = "refused"
        gate.set()
        assert await future == "done"
        await asyncio.sleep(0)
        seen["after the job"] = (runner.depth, runner.running)
        with runner.acquire():
            seen["third request"] = await runner.submit(lambda: "ran")
        runner.shutdown()
        return seen

    assert asyncio.run(scenario()) == {
        "after letting go": (1, 1),
        "second request": "refused",
        "after the job": (0, 0),
        "third request": "ran",
    }


def test_a_job_whose_request_let_go_before_it_started_never_runs_and_keeps_no_place():
    import asyncio

    async def scenario():
        runner = EngineRunner(max_queue=2)
        runner.start(1)
        gate, ran = threading.Event(), []
        blocker = runner.submit(lambda: gate.wait(10))  # the one worker is busy, outside any slot
        with runner.acquire():
            queued = runner.submit(lambda: ran.append("abandoned job"))
        depth = runner.depth
        gate.set()
        await blocker
        await queued
        with runner.acquire():
            await runner.submit(lambda: ran.append("later job"))
        runner.shutdown()
        return depth, ran

    assert asyncio.run(scenario()) == (0, ["later job"])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_requests_list_of_pieces_stops_once_the_request_lets_go(workers):
    """A dropped request's long list of pieces (an embedding of thousands of texts, OCR
    batches) starts no further piece once the request let go of its slot, on one worker
    (`in_turn`) and over several (`WorkerPool.map`): its job ends with `RequestAbandoned`
    after the pieces in flight, and its place is free."""
    import asyncio

    from runtime.scheduler import RequestAbandoned, in_turn

    pool = WorkerPool(workers)

    async def scenario():
        runner = EngineRunner(max_queue=2)
        runner.start(workers, pool)
        ran = []

        def piece(item):
            ran.append(item)
            time.sleep(0.02)
            return item

        def job():
            return pool.map(piece, range(100)) if workers > 1 else in_turn(piece, range(100))

        with runner.acquire():
            future = runner.submit(job)
            while len(ran) < 5:
                await asyncio.sleep(0.005)
        with pytest.raises(RequestAbandoned):
            await future
        stopped_at = len(ran)
        await asyncio.sleep(0.1)
        return stopped_at, len(ran), runner.depth

    stopped_at, later, depth = asyncio.run(scenario())
    pool.shutdown()
    assert stopped_at < 20 and later == stopped_at and depth == 0


def test_pieces_of_work_outside_any_request_run_to_the_end():
    from runtime.scheduler import in_turn

    pool = WorkerPool(2)
    assert pool.map(lambda item: item * 2, range(40)) == [item * 2 for item in range(40)]
    assert in_turn(lambda item: item + 1, range(3)) == [1, 2, 3]
    pool.shutdown()


def test_a_pool_thread_forgets_the_request_whose_job_it_ran():
    """A worker that ran a request's job and is reused by work outside any request (or after
    it, in the same task) runs that work to the end: the request it served let go long ago."""
    import asyncio

    from runtime.scheduler import in_turn

    pool = WorkerPool(1)

    async def scenario():
        runner = EngineRunner(max_queue=2)
        runner.start(1, pool)
        with runner.acquire():
            await runner.submit(lambda: None)
        # the same task after the release, and the one worker reused
        later = await runner.submit(lambda: in_turn(lambda item: item, range(5)))
        outside = await asyncio.get_running_loop().run_in_executor(
            pool.executor, lambda: in_turn(lambda item: item * 2, range(3)))
        return later, outside, runner.depth

    assert asyncio.run(scenario()) == ([0, 1, 2, 3, 4], [0, 2, 4], 0)
    pool.shutdown()


def test_the_depth_reported_last_is_the_depth_when_dropped_jobs_end_together():
    """Places given back on worker threads as dropped requests' jobs end report the depth in
    the order it changed: an idle server's gauge reads 0, however the threads interleave."""
    import asyncio

    reported = []

    def slow_gauge(depth):  # a report that takes a while, as a preempted thread's would:
        time.sleep(0.02 * depth)  # the larger depth's longer, so out of order it lands last
        reported.append(depth)

    async def scenario():
        runner = EngineRunner(max_queue=4, on_depth=slow_gauge)
        runner.start(2)
        gate, started = threading.Event(), threading.Semaphore(0)

        def job():
            started.release()
            gate.wait(10)

        futures = []
        for _ in range(2):
            with runner.acquire():
                futures.append(runner.submit(job))
                await asyncio.to_thread(started.acquire, True, 10)
        gate.set()
        await asyncio.gather(*futures)
        await asyncio.sleep(0.05)
        runner.shutdown()
        return runner.depth

    assert asyncio.run(scenario()) == 0
    assert reported[-2:] == [1, 0], reported
