"""The server warms a model up after the load returns (so /health says ok without waiting
for it), on a thread of its own, and again once the wide twin sessions exist."""

from __future__ import annotations

import threading
import time

from runtime.api import service as service_module
from runtime.api.config import ServerConfig


class _Model:
    tasks = ("read",)

    def __init__(self, deferred: bool, first_read: threading.Event | None = None):
        self.twins_deferred = deferred
        self.twins_made = threading.Event()
        self.first_read = first_read or threading.Event()
        self.reads: list[bool] = []  # per warm-up read: were the twins made by then

    def wait_for_twins(self, timeout=None) -> bool:
        return self.twins_made.wait(timeout)

    def read(self, picture):
        self.first_read.wait(10)
        self.reads.append(self.twins_made.is_set())


def _service(warmup: bool = True):
    return service_module.ApiService(ServerConfig(warmup=warmup))


def _wait_for(condition) -> None:
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_load_returns_before_the_warm_up_which_runs_again_on_the_twins():
    model = _Model(deferred=True)
    assert _service().load(lambda: model) is model
    assert model.reads == []  # held in the first warm-up read: the load did not wait for it
    model.first_read.set()
    _wait_for(lambda: len(model.reads) == 1)
    assert model.reads == [False]  # the first warm-up, on the narrow sessions
    model.twins_made.set()
    _wait_for(lambda: len(model.reads) == 2)
    assert model.reads == [False, True]


def test_no_second_warm_up_without_deferred_twins_and_none_when_turned_off():
    model = _Model(deferred=False, first_read=threading.Event())
    model.first_read.set()
    _service().load(lambda: model)
    _wait_for(lambda: len(model.reads) == 1)
    time.sleep(0.1)
    assert model.reads == [False]
    quiet = _Model(deferred=False)
    quiet.first_read.set()
    _service(warmup=False).load(lambda: quiet)
    time.sleep(0.1)
    assert quiet.reads == []


def test_a_failing_warm_up_is_logged_and_the_model_still_serves(caplog):
    class _Broken(_Model):
        def read(self, picture):
            raise RuntimeError("boom")

    model = _Broken(deferred=False)
    with caplog.at_level("ERROR"):
        assert _service().load(lambda: model) is model
        _wait_for(lambda: any("Warming the model up failed" in record.message for record in caplog.records))
    assert any("Warming the model up failed" in record.message for record in caplog.records)
