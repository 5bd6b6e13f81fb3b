"""Concurrency, decided in one place: the thread budget, and engine calls off the event loop.

The budget (`thread_budget`) splits the cores this process may use between worker threads
(requests running at once) and onnxruntime's intra-op threads per session run, so that
workers x intra-op threads never exceeds the usable cores: 8 requests on a 2-core machine
no longer run 8 x 2 threads. It is fixed when the model loads (sessions are created with
their thread count) and the `EngineRunner` of a server runs that many workers.

`EngineRunner` is transport-free (asyncio only). At most `max_queue` requests hold a slot
(waiting or running); the next one is refused with `OverloadedError` (503 + Retry-After).
A slot is *waiting* until the first engine job submitted under it starts on a worker thread,
then *running* until it is released: `waiting` and `running` are the queue-depth gauges a
cluster autoscales on (issue 16). The slot a job belongs to is the one the submitting task
acquired last (a context variable), so hosts need not pass it along.
Streams advance one `next()` per executor job, so a caller that stops iterating (a client
gone) stops the generation after the step in flight. A job that waits for a batched
decoder's next token gives its share of the cores back meanwhile (`waiting`,
`BudgetedExecutor`): the model's pool has spare threads that run other requests' jobs then. Requests are not batched together
across requests here: decoders' steps are (`runtime.batching`, up to `max_concurrent`
sequences per step: a language model's continuously, a captioner's in lockstep); other
calls run one request's work per worker, and
a request may hand independent pieces of it (OCR recognition batches) to idle workers of
the same pool (`WorkerPool.map`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from runtime.errors import OverloadedError

_END = object()


@dataclass(frozen=True)
class ThreadBudget:
    """How the usable cores are split: `workers` requests at once, each session run on
    `intra_op_threads` threads. `reason` says how it was decided (shown at start-up)."""

    workers: int
    intra_op_threads: int
    usable_cores: int
    reason: str
    max_concurrent: int = 1  # requests a server takes at once: also the most sequences a decoder batches
    wide_threads: int = 0  # intra-op threads of a run alone in flight (`RunGauge`); 0: none


    @property
    def total_threads(self) -> int:
        return self.workers * self.intra_op_threads


def thread_budget(usable_cores: int, max_concurrent: int = 1, threads: int | None = None) -> ThreadBudget:
    """Split `usable_cores` between at most `max_concurrent` workers and their intra-op threads.

    Without `threads`: as many workers as allowed up to one per core, and the cores divided
    evenly between them (2 cores, up to 8 requests: 2 workers x 1 thread; 16 cores: 8 x 2).
    With `threads` (an explicit `--threads`): that many intra-op threads, and as many
    workers as fit in the cores beside them (at least one: a `threads` above the core count
    is honoured as asked, over budget, and the reason says so).
    Without `threads` and with cores split between workers, `wide_threads` is the core
    count: the sessions a kind names (`KindAdapter.wide_components`) get a twin on all the
    cores for a run that is alone in flight (`RunGauge`).
    """
    cores = max(1, usable_cores)
    wanted = max(1, max_concurrent)
    wide = 0
    if threads is None:
        workers = min(wanted, cores)
        intra = max(1, cores // workers)
        reason = f"{cores} usable cores: {workers} worker(s) x {intra} intra-op thread(s)"
        if intra < cores:
            wide = cores
    else:
        intra = max(1, threads)
        workers = max(1, min(wanted, cores // intra))
        reason = f"--threads {intra}: {workers} worker(s) x {intra} intra-op thread(s) on {cores} usable cores"
        if workers * intra > cores:
            reason += " (over the cores: the threads will compete)"
    return ThreadBudget(workers, intra, cores, reason, wanted, wide)


class RunGauge:
    """How many session runs of one model are in flight, across all its sessions and threads.

    A session with a wide twin (`ComponentSession`, `wide_threads`) runs on all the usable
    cores when its run is the only one in flight: a request alone on a server whose budget
    splits the cores (2 workers x 1 thread) then gets both cores for its detector passes
    instead of one, and two requests at once still run one thread each.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._running = 0

    @contextlib.contextmanager
    def running(self) -> Iterator[bool]:
        """Counts one run while the block runs; yields whether it was the only one at its start."""
        with self._lock:
            self._running += 1
            alone = self._running == 1
        try:
            yield alone
        finally:
            with self._lock:
                self._running -= 1


_job = threading.local()  # `permits`: the semaphore whose permit this thread's engine job holds


class Permits:
    """`count` permits handed out first come, first served: a permit given back goes straight
    to the longest waiter (a `threading.Semaphore` lets the thread that gives one back take
    it again at once, so a waiter could wait as long as jobs keep coming). A job coming
    back from `waiting()` (`resuming`) goes before jobs that have not started."""

    def __init__(self, count: int):
        self._lock = threading.Lock()
        self._free = count
        self._waiters: collections.deque[threading.Event] = collections.deque()

    def acquire(self, resuming: bool = False) -> None:
        with self._lock:
            if self._free > 0:
                self._free -= 1
                return
            handed = threading.Event()
            (self._waiters.appendleft if resuming else self._waiters.append)(handed)
        handed.wait()

    def contended(self) -> bool:
        """Whether a job waits for a permit now."""
        with self._lock:
            return bool(self._waiters)

    def release(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()  # the permit passes to it, never back to the pool
            else:
                self._free += 1


class BudgetedExecutor(ThreadPoolExecutor):
    """A thread pool whose jobs compute at most `workers` at a time: each holds one of
    `workers` permits while it runs, and gives it back while it waits for work done on
    another thread (`waiting()`: a batched decoder's next token). `spare` more threads take
    jobs meanwhile, so that a request whose caption waits for the next batch does not keep
    another request from encoding its image. Jobs get their permits in the order they were
    taken off the queue, a job resuming after `waiting()` first; one whose permit comes after
    `shutdown()` does not run."""

    def __init__(self, workers: int, spare: int = 0):
        super().__init__(max_workers=workers + max(0, spare), thread_name_prefix="wan-engine")
        self._permits = Permits(workers)
        self._stopping = False

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(self._permitted, fn, args, kwargs)

    def contended(self) -> bool:
        """Whether a job waits for a worker's permit now (another request's, or one resuming
        after `waiting()`)."""
        return self._permits.contended()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._stopping = self._stopping or cancel_futures
        super().shutdown(wait=wait, cancel_futures=cancel_futures)

    def _permitted(self, fn, args, kwargs):
        self._permits.acquire()
        try:
            if self._stopping:  # taken off the queue before the shutdown, cancelled by it
                raise RuntimeError("The engine is shutting down.")
            _job.permits = self._permits
            try:
                return fn(*args, **kwargs)
            finally:
                _job.permits = None
        finally:
            self._permits.release()


@contextlib.contextmanager
def waiting() -> Iterator[None]:
    """Around a wait for work another thread does: an engine job's permit is given back
    meanwhile (`BudgetedExecutor`) and taken again before it goes on. Elsewhere, nothing."""
    permits = getattr(_job, "permits", None)
    if permits is None:
        yield
        return
    _job.permits = None
    permits.release()
    try:
        yield
    finally:
        permits.acquire(resuming=True)
        _job.permits = permits


class RequestAbandoned(Exception):
    """Raised between the pieces of a request's work (`in_turn`, `WorkerPool.map`) once the
    request has let go of its slot (its client left, its time ran out): nobody awaits the
    rest, so it is not computed."""

    def __init__(self, message: str = "the request let go before its work was done"):
        super().__init__(message)


_request = threading.local()  # `slot`: the Slot whose engine job this thread runs (`EngineRunner`)


def abandoned() -> bool:
    """Whether this thread runs an engine job of a request that has let go of its slot."""
    slot = getattr(_request, "slot", None)
    return slot is not None and not slot._held


def in_turn(function: Callable, items) -> list:
    """`[function(item) for item in items]`: how a caller without the engine's workers runs
    independent pieces of its work (`WorkerPool.map` spreads them over idle workers).
    Stops with `RequestAbandoned` before an item once the request it works for let go."""
    results = []
    for item in items:
        if abandoned():
            raise RequestAbandoned()
        results.append(function(item))
    return results


class WorkerPool:
    """The engine's worker threads, `workers` of them (the thread budget's), shared by the
    server's request jobs (`EngineRunner` runs them here) and by `map`, which lets a
    request hand independent pieces of its own work to workers that are idle.

    Why: the budget gives each worker a 1/workers share of the cores as intra-op threads,
    so a request alone on a 2-core server ran its sessions on one core while the other
    sat idle (a document question over HTTP took 1.37x the in-process time, which runs
    one worker on both cores; issue 13). Independent pieces (the OCR recogniser's batches)
    now run on both workers, and never on more computing jobs than the budget: helpers are
    jobs of this pool, not threads of their own (the pool's `spare` threads only take jobs
    while others wait, `BudgetedExecutor`). Threads start on first use.
    """

    def __init__(self, workers: int, spare: int = 0):
        """`spare`: threads beyond `workers` for jobs while others wait (`BudgetedExecutor`)."""
        self.workers = max(1, workers)
        self.spare = max(0, spare)
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = BudgetedExecutor(self.workers, self.spare)
            return self._executor

    def map(self, function: Callable, items) -> list:
        """`[function(item) for item in items]`, in order, with idle workers taking part.

        The caller runs items itself until none is left unclaimed, and up to `workers - 1`
        helper jobs are queued on the pool: a helper runs items only while no other job
        waits for a worker, and ends as soon as one does (a long list, say thousands of
        texts to embed, keeps a worker from another request for one item at most, and from
        then on runs on the caller's worker alone); one that starts when none is left, or
        while others wait, ends at once.
        The caller never waits for an item nobody has started, so a caller that is itself a
        pool worker cannot deadlock. Once an item has raised, no further item is started;
        the first exception is raised once every started item has finished. Nor is one
        started once the request the caller works for has let go of its slot (its client
        left): then `RequestAbandoned` is raised.
        """
        items = list(items)
        helpers = min(self.workers - 1, len(items) - 1)
        if helpers < 1:
            return in_turn(function, items)
        results: list = [None] * len(items)
        errors: list[BaseException] = []
        lock = threading.Lock()
        state = {"next": 0, "unfinished": len(items)}
        finished = threading.Event()

        slot = getattr(_request, "slot", None)  # the caller's request, if it runs one's job

        def claim() -> int | None:
            with lock:
                if slot is not None and not slot._held and not errors:
                    errors.append(RequestAbandoned())
                if errors or state["next"] == len(items):
                    # what nobody will start now counts as done: the caller waits only for started items
                    state["unfinished"] -= len(items) - state["next"]
                    state["next"] = len(items)
                    if state["unfinished"] == 0:
                        finished.set()
                    return None
                state["next"] += 1
                return state["next"] - 1

        def run(index: int) -> None:
            try:
                results[index] = function(items[index])
            except BaseException as error:  # noqa: BLE001 - raised by the caller below
                with lock:
                    errors.append(error)
            with lock:
                state["unfinished"] -= 1
                if state["unfinished"] == 0:
                    finished.set()

        def help_while_idle() -> None:
            executor = self.executor
            while not executor.contended() and (index := claim()) is not None:
                run(index)

        try:
            for _ in range(helpers):
                self.executor.submit(help_while_idle)
        except RuntimeError:  # the pool is shut down (the server is stopping): run alone
            pass
        while (index := claim()) is not None:
            run(index)
        finished.wait()
        if errors:
            raise errors[0]
        return results

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


class Slot:
    """One request's place in the queue. `release()` (idempotent) ends the request's hold; the
    place itself is given back once none of the request's engine jobs is running. A job
    keeps computing after its client has gone (onnxruntime cannot be stopped mid-run), so
    a client that leaves frees no place for another request before that work is done, and
    `max_queue` bounds the work the server really has. A job of a released slot that has not
    started yet never starts (nobody awaits it), so it keeps no place."""

    def __init__(self, runner: "EngineRunner"):
        self._runner = runner
        self._held = True  # the request holds it (under the runner's lock)
        self._jobs = 0  # its engine jobs running now (under the runner's lock)
        self.running = False  # set when its first engine job starts (under the runner's lock)

    def release(self) -> None:
        self._runner._release(self)

    def __enter__(self) -> "Slot":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class EngineRunner:
    """A bounded executor for one model's calls."""

    def __init__(self, max_queue: int, on_depth: Callable[[int], None] | None = None):
        self.max_queue = max(1, max_queue)
        self._executor: ThreadPoolExecutor | None = None
        self.workers = 0
        self._lock = threading.Lock()
        self._in_use = 0
        self._running = 0
        self._on_depth = on_depth or (lambda depth: None)
        self._current: contextvars.ContextVar[Slot | None] = contextvars.ContextVar("wan_slot", default=None)

    def start(self, workers: int, pool: WorkerPool | None = None) -> None:
        """Start the worker threads (once the model, and so its `ThreadBudget`, is known).

        With `pool` (the model's `WorkerPool`), requests run on its threads, so the model's
        own helper jobs (`WorkerPool.map`) share the budget's workers with them."""
        if self._executor is not None:
            raise RuntimeError("the engine runner is already started")
        if pool is not None:
            self.workers = pool.workers
            self._executor = pool.executor
            return
        self.workers = max(1, workers)
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="wan-engine")

    @property
    def depth(self) -> int:
        return self._in_use

    @property
    def running(self) -> int:
        """Requests whose engine work has started and whose place is still taken (by the
        request, or by a job that outlives it: `Slot`)."""
        return self._running

    @property
    def waiting(self) -> int:
        """Requests holding a place whose engine work has not started yet."""
        with self._lock:
            return self._in_use - self._running

    def acquire(self) -> Slot:
        """Take a slot or raise `OverloadedError` when all `max_queue` are taken."""
        with self._lock:
            if self._in_use >= self.max_queue:
                raise OverloadedError(
                    f"The server is busy ({self.max_queue} requests queued or running); retry shortly.",
                    retry_after_s=1.0,
                )
            self._in_use += 1
            self._on_depth(self._in_use)
        slot = Slot(self)
        self._current.set(slot)
        return slot

    def _release(self, slot: Slot) -> None:
        with self._lock:
            if not slot._held:
                return
            slot._held = False
            if slot._jobs:
                return  # given back when its last job ends (`_job`)
            self._give_back(slot)

    def _give_back(self, slot: Slot) -> None:
        """Under the lock: `slot`'s place is free again. The depth is reported under the lock
        too: a worker ending a dropped request's job reports it as well as the event loop, and
        two reports made outside it could land in the wrong order (an idle server's gauge
        left at 1)."""
        self._in_use -= 1
        if slot.running:
            self._running -= 1
        self._on_depth(self._in_use)

    def _job(self, function: Callable, args, kwargs) -> Callable:
        """`function(*args, **kwargs)` as a job of the request's slot (the one `acquire` set in
        this context), if it holds one: it keeps the slot's place taken while it runs and marks
        the request running when it starts; it is skipped if the request let go before it
        started (nobody awaits it: its client left, or its time ran out)."""
        slot = self._current.get()
        job = functools.partial(function, *args, **kwargs)
        if slot is None or not slot._held:  # no request, or work after it let go: not the request's
            return job

        def run_in_slot():
            with self._lock:
                if not slot._held:
                    return None
                slot._jobs += 1
                if not slot.running:
                    slot.running = True
                    self._running += 1
            outer, _request.slot = getattr(_request, "slot", None), slot
            try:
                return job()
            finally:
                _request.slot = outer
                with self._lock:
                    slot._jobs -= 1
                    if not slot._jobs and not slot._held:
                        self._give_back(slot)

        return run_in_slot

    async def call(self, function: Callable, *args, **kwargs):
        """Run `function(*args, **kwargs)` on an engine thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._started(), self._job(function, args, kwargs))

    def submit(self, function: Callable, *args, **kwargs) -> asyncio.Future:
        """Start `function(*args, **kwargs)` on an engine thread; await the future for its result."""
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._started(), self._job(function, args, kwargs))

    def stream(self, events: Iterator) -> "EngineStream":
        return EngineStream(self, events)

    def _started(self) -> ThreadPoolExecutor:
        if self._executor is None:  # asyncio would fall back to its own pool, outside the budget
            raise RuntimeError("the engine runner is not started: call start(workers) once the model is loaded")
        return self._executor

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


class EngineStream:
    """Steps a sync iterator on engine threads, one `next()` per job.

    `step()` returns the future of the next item (`END` when exhausted), starting it if
    none is in flight. `close()` closes the generator once the step in flight has finished,
    so a consumer that stops early stops the generation.
    """

    def __init__(self, runner: EngineRunner, events: Iterator):
        self._runner = runner
        self._events = events
        self._pending: asyncio.Future | None = None
        self._closed = False

    def step(self) -> asyncio.Future:
        if self._pending is None:
            self._pending = self._runner.submit(_next_or_end, self._events)
        return self._pending

    def take(self):
        """The finished step's item (or its exception); the next `step()` starts a new one."""
        finished, self._pending = self._pending, None
        return finished.result()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        close = getattr(self._events, "close", None)
        if close is None:
            return
        executor = self._runner._executor

        def submit(finished=None):
            if finished is not None and not finished.cancelled():
                finished.exception()  # retrieved: nobody awaits this step any more
            try:
                executor.submit(close)
            except RuntimeError:  # executor already shut down
                pass

        if self._pending is not None and not self._pending.done():
            self._pending.add_done_callback(submit)
        else:
            submit(self._pending)


END = _END


def _next_or_end(events: Iterator):
    try:
        return next(events)
    except StopIteration:
        return _END
