"""The server warms the wide twin sessions a load makes after returning, once they exist."""

from __future__ import annotations

import threading
import time

from runtime.api import service as service_module
from runtime.api.config import ServerConfig


class _Model:
    tasks = ("read",)

    def __init__(self, deferred: bool):
        self.twins_deferred = deferred
        self.twins_made = threading.Event()
        self.reads: list[bool] = []  # per warm-up read: were the twins made by then

    def wait_for_twins(self, timeout=None) -> bool:
        return self.twins_made.wait(timeout)

    def read(self, picture):
        self.reads.append(self.twins_made.is_set())


def _service():
    return service_module.ApiService(ServerConfig(warmup=True))


def test_twins_are_warmed_once_they_exist():
    model = _Model(deferred=True)
    assert _service().load(lambda: model) is model
    assert model.reads == [False]  # the load's warm-up, on the narrow sessions
    model.twins_made.set()
    deadline = time.monotonic() + 10
    while len(model.reads) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert model.reads == [False, True]


def test_no_second_warm_up_without_deferred_twins():
    model = _Model(deferred=False)
    _service().load(lambda: model)
    time.sleep(0.1)
    assert model.reads == [False]
