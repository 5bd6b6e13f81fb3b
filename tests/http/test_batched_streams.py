"""Chat streams that share the language model's batch, through the live server and `openai`.

The default bundle at fp32 with --max-batch-size 4: concurrent streamed replies equal the
same requests answered one at a time, and a client that closes its stream takes its reply
out of the batch without disturbing the others.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import LiveServer
from runtime import batching
from runtime.server import ServerConfig

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.slow

QUESTIONS = ("What is the capital of France?", "Name three kinds of trees.", "What does a thermometer measure?")


@pytest.fixture(scope="module")
def batched_server(reader_bundle):
    from runtime import load_model

    model = load_model(reader_bundle, precision="fp32", max_concurrent=4)
    assert model._adapter._lm.batcher is not None  # noqa: SLF001
    with LiveServer(model, ServerConfig(keepalive_interval_s=0.5)) as server:
        server.model = model
        yield server


def _client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120)


def _streamed(server, question: str) -> str:
    stream = _client(server).chat.completions.create(
        model="reader", messages=[{"role": "user", "content": question}], max_tokens=24, temperature=0, stream=True)
    return "".join(choice.delta.content or "" for chunk in stream for choice in chunk.choices)


def test_concurrent_streams_equal_replies_one_at_a_time(batched_server):
    alone = [_streamed(batched_server, question) for question in QUESTIONS]
    batcher = batched_server.model._adapter._lm.batcher  # noqa: SLF001
    batcher.step_sizes.clear()
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        together = list(pool.map(lambda question: _streamed(batched_server, question), QUESTIONS))
    assert together == alone and all(together)
    assert max(batcher.step_sizes) > 1, batcher.step_sizes


def test_a_closed_stream_leaves_the_batch(batched_server):
    batcher = batched_server.model._adapter._lm.batcher  # noqa: SLF001
    expected = _streamed(batched_server, QUESTIONS[1])
    long = _client(batched_server).chat.completions.create(
        model="reader", messages=[{"role": "user", "content": "Tell me a long story about a ship."}],
        max_tokens=400, temperature=0, stream=True)
    next(iter(long))
    (story,) = batcher._running  # noqa: SLF001 - the long reply's place in the batch
    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(_streamed, batched_server, QUESTIONS[1])
        long.close()  # the client goes away
        assert other.result(timeout=120) == expected
    deadline = time.monotonic() + 60
    while story in batcher._running and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.1)
    assert story not in batcher._running and story.cancelled  # noqa: SLF001
    left = []
    while not story.events.empty():
        left.append(story.events.get())
    assert batching._DONE not in left, "the closed reply ran on to its end"  # noqa: SLF001
    assert story.tokens.generated < 400
