"""`wan2.2-turbo ray --min-replicas 1 --max-replicas 2 --target-ongoing-requests 1
--upscale-delay-s 3` (issue 16): one replica while idle; under load from 4 clients Serve adds
the second once the load has lasted 3 s, and both answer."""

from __future__ import annotations

import ray_support  # noqa: F401  (first: it imports Ray with its one known warning allowed)
from ray_support import CliProcess  # noqa: F401

import threading
import time

import openai
import pytest

from ray_support import MODEL_REPLICA, ask, pictures

pytestmark = pytest.mark.slow  # a local cluster, a replica added under load


def test_load_adds_a_replica_up_to_the_maximum(tiny_models):
    captioner = tiny_models("vit_gpt2")
    process = CliProcess("ray", "--model", str(captioner.folder), "--precision", "fp32", "--min-replicas", "1",
                         "--max-replicas", "2", "--target-ongoing-requests", "1", "--upscale-delay-s", "3",
                         "--num-cpus", "1", "--max-batch-size", "1", "--port", "0")
    client = openai.OpenAI(base_url=process.url + "/v1", api_key="unused", max_retries=0, timeout=60)
    stop = threading.Event()
    tags: set[str] = set()
    failures: list[str] = []
    try:
        assert len([c for c in process.descendants().values() if MODEL_REPLICA in c]) == 1
        images = pictures(captioner, 4)

        def load(worker: int) -> None:
            while not stop.is_set():
                try:
                    tags.add(ask(client, images[worker])[1])
                except openai.APIError as error:
                    failures.append(repr(error))

        threads = [threading.Thread(target=load, args=(worker,)) for worker in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 150
        while len(tags) < 2:
            assert time.monotonic() < deadline, f"no second replica answered; replicas seen {tags}"
            time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(90)
        assert failures == []
        assert len([c for c in process.descendants().values() if MODEL_REPLICA in c]) == 2
    finally:
        stop.set()
        client.close()
        assert process.stop() == 0
