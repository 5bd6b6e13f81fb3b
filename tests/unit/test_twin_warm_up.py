"""The server warms a model up once it serves (so /health says ok without waiting for it), on a
thread the shutdown waits for, and again once the wide twin sessions exist; a first warm-up
that fails marks the service failed, as a failed load does."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from runtime.api import service as service_module
from runtime.api.config import ServerConfig
from runtime.server import serve


class _Model:
    tasks = ("read",)
    config = SimpleNamespace(workers=1)

    def __init__(self, deferred: bool):
        self.twins_deferred = deferred
        self.twins_made = threading.Event()
        self.first_read = threading.Event()
        self.reads: list[bool] = []  # per warm-up read: were the twins made by then
        self.threads: list[str] = []

    def wait_for_twins(self, timeout=None) -> bool:
        return self.twins_made.wait(timeout)

    def read(self, picture):
        self.threads.append(threading.current_thread().name)
        self.first_read.wait(10)
        self.reads.append(self.twins_made.is_set())


def _serving(model, warmup: bool = True) -> service_module.ApiService:
    """What the server does once a load returns: serve the model, then warm it up."""
    service = service_module.ApiService(ServerConfig(warmup=warmup))
    assert service.load(lambda: model) is model
    service.set_model(model)
    service.warm_up_later(model)
    _started.append(service)
    return service


_started: list[service_module.ApiService] = []


def teardown_function():
    while _started:
        _started.pop().engine.shutdown()


def _wait_for(condition) -> None:
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_model_serves_before_its_warm_up_which_runs_again_on_the_twins():
    model = _Model(deferred=True)
    service = _serving(model)
    assert service.health()[0] == 200 and model.reads == []  # the warm-up is held in its first read
    _wait_for(lambda: model.threads)  # the warm-up thread may not have reached its read yet
    assert model.threads and model.threads[0].startswith(serve._OUR_THREADS)  # waited for at exit
    model.first_read.set()
    _wait_for(lambda: len(model.reads) == 1)
    assert model.reads == [False]  # the first warm-up, on the narrow sessions
    model.twins_made.set()
    _wait_for(lambda: len(model.reads) == 2)
    assert model.reads == [False, True]
    assert service.health()[0] == 200


def test_no_second_warm_up_without_deferred_twins_and_none_when_turned_off():
    model = _Model(deferred=False)
    model.first_read.set()
    _serving(model)
    _wait_for(lambda: len(model.reads) == 1)
    time.sleep(0.1)
    assert model.reads == [False]
    quiet = _Model(deferred=False)
    quiet.first_read.set()
    _serving(quiet, warmup=False)
    time.sleep(0.1)
    assert quiet.reads == []


def test_a_failing_first_warm_up_marks_the_service_failed():
    class _Broken(_Model):
        def read(self, picture):
            raise RuntimeError("the graph cannot run")

    service = _serving(_Broken(deferred=False))
    _wait_for(lambda: service.status == "failed")
    status, body = service.health()
    assert status == 503 and body.status == "failed"
    assert "cannot run" in str(service.load_error)
