"""Two Ray nodes on one machine, head on 127.0.0.2 and worker on 127.0.0.3 (issue 16): one
deployment with a replica on each node; when the worker node is killed mid-load every request
completes or fails cleanly (503, or a stream that closes) within its timeout, none hangs, and
new requests are served by the head node's replica."""

from __future__ import annotations

import ray_support  # noqa: F401  (first: it imports Ray with its one known warning allowed)
from ray_support import CliProcess  # noqa: F401

import collections
import threading
import time

import openai
import pytest
from ray.cluster_utils import Cluster

from ray_support import MAX_TOKENS, MODEL_REPLICA, ask, messages, pictures

pytestmark = pytest.mark.slow  # two Ray nodes and a deployment start (~20 s)

HEAD_IP, WORKER_IP = "127.0.0.2", "127.0.0.3"


def _replicas_under(process: CliProcess, raylet_pid: int) -> set[int]:
    """Model replica processes that the raylet with `raylet_pid` started."""
    return {pid for pid, command in process.descendants(raylet_pid).items() if MODEL_REPLICA in command}


@pytest.fixture(scope="module")
def nodes():
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": HEAD_IP, "include_dashboard": False})
    try:
        worker = cluster.add_node(num_cpus=1, node_ip_address=WORKER_IP)
        yield cluster, worker
    finally:
        cluster.shutdown()


def _stream_text(client, picture) -> str:
    stream = client.chat.completions.create(model="m", messages=messages(picture), max_tokens=MAX_TOKENS,
                                            temperature=0, stream=True)
    return "".join(choice.delta.content or "" for chunk in stream for choice in chunk.choices)


def test_killing_the_worker_node_mid_load_fails_requests_cleanly_and_the_head_replica_serves_on(nodes, tiny_models):
    cluster, worker = nodes
    captioner = tiny_models("vit_gpt2")
    process = CliProcess("ray", "--address", cluster.gcs_address, "--model", str(captioner.folder), "--precision",
                         "fp32", "--replicas", "2", "--num-cpus", "1", "--max-batch-size", "1",
                         "--host", HEAD_IP, "--port", "0")
    client = openai.OpenAI(base_url=process.url + "/v1", api_key="unused", max_retries=0, timeout=60)
    try:
        head_raylet = cluster.head_node.all_processes["raylet"][0].process.pid
        worker_raylet = worker.all_processes["raylet"][0].process.pid
        assert len(_replicas_under(process, head_raylet)) == 1 and len(_replicas_under(process, worker_raylet)) == 1
        assert process.url.startswith(f"http://{HEAD_IP}:")

        images = pictures(captioner, 6)
        expected, initial_tags = {}, set()
        for index in range(40):
            answer, tag = ask(client, images[index % len(images)])
            expected[index % len(images)] = answer
            initial_tags.add(tag)
            if len(expected) == len(images) and len(initial_tags) == 2:
                break
        assert len(initial_tags) == 2  # both nodes' replicas answer

        outcomes: list[tuple] = []
        load_ends = time.monotonic() + 12

        def load(worker_index: int, streamed: bool) -> None:
            index = worker_index
            while time.monotonic() < load_ends:
                index = (index + 1) % len(images)
                began = time.monotonic()
                try:
                    if streamed:
                        text, tag = _stream_text(client, images[index]), None
                    else:
                        text, tag = ask(client, images[index])
                    outcomes.append(("ok", text == expected[index], tag, time.monotonic() - began))
                except openai.APIStatusError as error:
                    outcomes.append((error.status_code, error.response.text[:200], None, time.monotonic() - began))
                except openai.APIConnectionError as error:  # a stream (or reply) cut off: a clean failure
                    kind = "closed" if "incomplete" in repr(error).lower() or streamed else "no reply"
                    outcomes.append((kind, repr(error)[:200], None, time.monotonic() - began))
                except openai.APIError as error:
                    outcomes.append(("other", repr(error)[:200], None, time.monotonic() - began))

        threads = [threading.Thread(target=load, args=(i, i == 3)) for i in range(4)]  # one client streams
        for thread in threads:
            thread.start()
        time.sleep(3)
        cluster.remove_node(worker, allow_graceful=False)  # SIGKILL every process of the worker node
        for thread in threads:
            thread.join(90)  # each request times out after 60 s
        assert not any(thread.is_alive() for thread in threads), "a request hung"

        kinds = collections.Counter(outcome[0] for outcome in outcomes)
        assert set(kinds) <= {"ok", 503, "closed"}, [o for o in outcomes if o[0] not in ("ok", 503, "closed")][:5]
        assert all(outcome[1] for outcome in outcomes if outcome[0] == "ok"), "a wrong answer under load"
        assert max(outcome[3] for outcome in outcomes) < 60

        # New requests: all answered, by the head node's replica (the one left).
        tags = collections.Counter(ask(client, images[i % len(images)])[1] for i in range(10))
        assert len(tags) == 1 and set(tags) <= initial_tags, tags
        assert len(_replicas_under(process, head_raylet)) == 1
    finally:
        client.close()
        assert process.stop() == 0, "".join(process.stderr)[-3000:]
