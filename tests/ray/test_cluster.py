"""`wan2.2-turbo ray` on a local 2-replica cluster on loopback (issue 16): the official
`openai` client's chat requests with images reach both replicas (X-Wan-Replica), streamed and
not, with the single-process server's answers under greedy decoding; /metrics is the answering
replica's own, not the cluster's; a replica killed during a bounded load run costs no hung
request (each succeeds or gets a clean 503) and is replaced."""

from __future__ import annotations

import ray_support  # noqa: F401  (first: it imports Ray with its one known warning allowed)
from ray_support import ask, CliProcess, MAX_TOKENS, messages, MODEL_REPLICA, pictures  # noqa: F401

import collections
import os
import re
import signal
import threading
import time
import urllib.request

import openai
import pytest


pytestmark = pytest.mark.slow  # a Ray cluster starts (~10 s) and two replicas load a model

_CLIENTS: list[openai.OpenAI] = []


def _clients(url: str) -> openai.OpenAI:
    """An `openai` client of `url`, closed when the module's tests end."""
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=60)
    _CLIENTS.append(client)
    return client


@pytest.fixture(scope="module", autouse=True)
def _close_clients():
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


@pytest.fixture(scope="module")
def captioner(tiny_models):
    return tiny_models("vit_gpt2")


@pytest.fixture(scope="module")
def cluster(captioner):
    process = CliProcess("ray", "--model", str(captioner.folder), "--precision", "fp32", "--replicas", "2",
                         "--num-cpus", "1", "--max-batch-size", "1", "--port", "0", "--host", "127.0.0.1")
    try:
        yield process
    finally:
        assert process.stop() == 0, "".join(process.stderr)[-3000:]
        assert not process.descendants(), "the local cluster's processes outlived the command"


@pytest.fixture(scope="module")
def single_server(captioner):
    process = CliProcess("serve", "--model", str(captioner.folder), "--precision", "fp32", "--port", "0")
    try:
        yield process
    finally:
        assert process.stop() == 0


def test_chats_with_images_spread_over_both_replicas_and_answer_as_the_single_server(cluster, single_server, captioner):
    ray_client, single_client = _clients(cluster.url), _clients(single_server.url)
    replicas = collections.Counter()
    images = pictures(captioner, 40)
    # Serve routes each request to the less busy of two replicas picked at random: asked one
    # after another, both are seen within a few requests (40 all on one: p = 2**-39).
    for picture in images:
        answer, replica = ask(ray_client, picture)
        replicas[replica] += 1
        assert answer == ask(single_client, picture)[0]
        if len(replicas) == 2 and sum(replicas.values()) >= 6:
            break
    assert len(replicas) == 2, replicas


def test_streamed_answers_equal_the_single_server(cluster, single_server, captioner):
    for picture in pictures(captioner, 3):
        expected = ask(_clients(single_server.url), picture)[0]
        stream = _clients(cluster.url).chat.completions.create(
            model="m", messages=messages(picture), max_tokens=MAX_TOKENS, temperature=0, stream=True,
            stream_options={"include_usage": True})
        pieces, usage = [], None
        for chunk in stream:
            usage = chunk.usage or usage
            pieces += [choice.delta.content or "" for choice in chunk.choices]
        assert "".join(pieces) == expected
        assert usage is not None and usage.completion_tokens > 0


def _metrics_by_replica(url: str, replicas: int = 2, tries: int = 60) -> dict[str, str]:
    """GET /metrics until `replicas` different replicas answered: X-Wan-Replica -> its text."""
    seen: dict[str, str] = {}
    for _ in range(tries):  # Serve picks the replica: 60 tries all on one of two is p = 2**-59
        with urllib.request.urlopen(url + "/metrics", timeout=30) as response:
            seen[response.headers["X-Wan-Replica"]] = response.read().decode()
        if len(seen) == replicas:
            break
    assert len(seen) == replicas, seen.keys()
    return seen


def _chats_answered(metrics: str) -> float:
    found = re.search(r'^wan_http_requests_total\{method="POST",route="/v1/chat/completions",status="200"\} (\S+)$',
                      metrics, re.M)
    return float(found.group(1)) if found else 0.0


def test_metrics_through_ray_are_the_answering_replicas_own(cluster, captioner):
    """What README and docs/kubernetes.md say: /metrics is per replica, not the cluster's sum;
    each scrape is one replica's (named by X-Wan-Replica)."""
    client = _clients(cluster.url)
    before = _metrics_by_replica(cluster.url)
    sent = collections.Counter()
    for picture in pictures(captioner, 40):  # until both replicas answered some: a sum would then differ
        sent[ask(client, picture)[1]] += 1
        if len(sent) == 2 and sum(sent.values()) >= 6:
            break
    after = _metrics_by_replica(cluster.url)
    assert set(after) == set(before) == set(sent)
    for replica, text in after.items():
        assert _chats_answered(text) - _chats_answered(before[replica]) == sent[replica], (replica, sent)
        assert "wan_requests_waiting" in text and "wan_requests_running" in text


def test_a_replica_killed_under_load_costs_no_hung_request_and_is_replaced(cluster, captioner):
    replicas = {pid for pid, command in cluster.descendants().items() if MODEL_REPLICA in command}
    assert len(replicas) == 2, cluster.descendants()
    images = pictures(captioner, 8)
    client = _clients(cluster.url)
    expected, initial_tags = {}, set()
    for index in range(40):  # every picture's answer, and both replicas' tags
        answer, tag = ask(client, images[index % len(images)])
        expected[index % len(images)] = answer
        initial_tags.add(tag)
        if len(expected) == len(images) and len(initial_tags) == 2:
            break
    assert len(initial_tags) == 2
    outcomes: list[tuple] = []
    load_ends = time.monotonic() + 12  # a bounded load run: 4 clients for 12 s

    def load(worker: int) -> None:
        index = worker
        while time.monotonic() < load_ends:
            index = (index + 1) % len(images)
            began = time.monotonic()
            try:
                answer, replica = ask(client, images[index])
                outcomes.append(("ok", answer == expected[index], replica, time.monotonic() - began))
            except openai.APIStatusError as error:  # a reply, but not 200
                outcomes.append((error.status_code, error.response.text[:200], None, time.monotonic() - began))
            except openai.APIError as error:  # no reply: a timeout or a dropped connection
                outcomes.append(("no reply", repr(error)[:200], None, time.monotonic() - began))

    clients = [threading.Thread(target=load, args=(worker,)) for worker in range(4)]
    for thread in clients:
        thread.start()
    time.sleep(3)
    victim = min(replicas)
    signal_time = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    for thread in clients:
        thread.join(90)  # each request times out after 60 s: nothing can hang past this
    assert not any(thread.is_alive() for thread in clients)

    kinds = collections.Counter(outcome[0] for outcome in outcomes)
    assert set(kinds) <= {"ok", 503}, [o for o in outcomes if o[0] not in ("ok", 503)][:5]
    assert all(outcome[1] for outcome in outcomes if outcome[0] == "ok"), "a wrong answer under load"
    assert kinds["ok"] > 0

    # Replaced: Ray starts a new replica process, and it answers (a tag neither had before).
    deadline = signal_time + 120
    while True:
        now = {pid for pid, command in cluster.descendants().items() if MODEL_REPLICA in command}
        if len(now) == 2 and now - replicas:
            tags = {ask(client, images[i % len(images)])[1] for i in range(12)}
            if tags - initial_tags:
                break
        assert time.monotonic() < deadline, f"not replaced: replica processes {now}, was {replicas}"
        time.sleep(0.5)
