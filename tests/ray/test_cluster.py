"""`wan2.2-turbo ray` on a local 2-replica cluster on loopback (issue 16): the official
`openai` client's chat requests with images reach both replicas (X-Wan-Replica), streamed and
not, with the single-process server's answers under greedy decoding."""

from __future__ import annotations

import base64
import collections
import io

import openai
import pytest

from conftest import CliProcess

pytestmark = pytest.mark.slow  # a Ray cluster starts (~10 s) and two replicas load a model

MAX_TOKENS = 12


def _data_uri(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _pictures(reference, count: int):
    """`count` different pictures of the size the tiny captioner takes."""
    from PIL import Image

    base = reference.pil_images()
    pictures = []
    for index in range(count):
        picture = base[index % len(base)].copy()
        picture.paste(Image.new("RGB", (6, 6), ((37 * index) % 256, (91 * index) % 256, 128)), (index % 20, 3))
        pictures.append(picture)
    return pictures


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


def _messages(picture) -> list:
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": _data_uri(picture)}}]}]


def _ask(client, picture) -> tuple[str, str | None]:
    """(answer, replica) of one chat request; the single-process server names no replica."""
    raw = client.chat.completions.with_raw_response.create(model="m", messages=_messages(picture),
                                                           max_tokens=MAX_TOKENS, temperature=0)
    return raw.parse().choices[0].message.content, raw.headers.get("x-wan-replica")


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
    pictures = _pictures(captioner, 40)
    # Serve routes each request to the less busy of two replicas picked at random: asked one
    # after another, both are seen within a few requests (40 all on one: p = 2**-39).
    for picture in pictures:
        answer, replica = _ask(ray_client, picture)
        replicas[replica] += 1
        assert answer == _ask(single_client, picture)[0]
        if len(replicas) == 2 and sum(replicas.values()) >= 6:
            break
    assert len(replicas) == 2, replicas


def test_streamed_answers_equal_the_single_server(cluster, single_server, captioner):
    for picture in _pictures(captioner, 3):
        expected = _ask(_clients(single_server.url), picture)[0]
        stream = _clients(cluster.url).chat.completions.create(
            model="m", messages=_messages(picture), max_tokens=MAX_TOKENS, temperature=0, stream=True,
            stream_options={"include_usage": True})
        pieces, usage = [], None
        for chunk in stream:
            usage = chunk.usage or usage
            pieces += [choice.delta.content or "" for choice in chunk.choices]
        assert "".join(pieces) == expected
        assert usage is not None and usage.completion_tokens > 0
