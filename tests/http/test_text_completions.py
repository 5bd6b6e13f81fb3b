"""`POST /v1/completions` (issue 12): OpenAI's legacy text completions over the generate task,
with the real `openai` client and raw HTTP, streamed and not."""

from __future__ import annotations

import json

import pytest
from conftest import LiveServer
from http_fakes import FakeModel

from runtime.server import ServerConfig

openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def fake_server():
    model = FakeModel(script=("Hello", " wörld", " 😀", "!"))
    with LiveServer(model, ServerConfig(keepalive_interval_s=0.5)) as server:
        server.model = model
        yield server


def _client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=30)


def test_a_text_prompt_is_completed(fake_server):
    reply = _client(fake_server).completions.create(model="anything", prompt="Once upon a time", max_tokens=8)
    assert reply.object == "text_completion" and reply.model == "fake-vlm"
    assert [(c.index, c.text, c.finish_reason) for c in reply.choices] == [(0, "Hello wörld 😀!", "stop")]
    assert reply.usage.prompt_tokens == 4 and reply.usage.completion_tokens == 4
    task, prompt, params = fake_server.model.calls[-1]
    assert (task, prompt, params.max_new_tokens) == ("generate", "Once upon a time", 8)


def test_a_list_of_prompts_gets_one_choice_each_in_order(fake_server):
    reply = _client(fake_server).completions.create(model="m", prompt=["one", "two words", "three more words"],
                                                    max_tokens=2)
    assert [(c.index, c.text, c.finish_reason) for c in reply.choices] == [
        (0, "Hello wörld", "length"), (1, "Hello wörld", "length"), (2, "Hello wörld", "length")]
    assert [call[1] for call in fake_server.model.calls[-3:]] == ["one", "two words", "three more words"]
    assert reply.usage.prompt_tokens == 1 + 2 + 3 and reply.usage.completion_tokens == 6


def test_sampling_options_reach_the_decoder(fake_server):
    _client(fake_server).completions.create(
        model="m", prompt="hi", temperature=0.7, top_p=0.9, seed=5, stop=["\n"], frequency_penalty=0.5,
        presence_penalty=-0.5, max_tokens=3)
    params = fake_server.model.calls[-1][2]
    assert (params.do_sample, params.temperature, params.top_p, params.seed, params.stop) == (True, 0.7, 0.9, 5, ("\n",))
    assert (params.frequency_penalty, params.presence_penalty, params.max_new_tokens) == (0.5, -0.5, 3)


def test_streamed_choices_join_to_the_whole_and_end_with_usage(fake_server):
    client = _client(fake_server)
    whole = client.completions.create(model="m", prompt=["a", "b"], logprobs=2)
    texts, finishes, usage = {0: "", 1: ""}, {}, None
    tokens = {0: [], 1: []}
    for chunk in client.completions.create(model="m", prompt=["a", "b"], logprobs=2, stream=True,
                                           stream_options={"include_usage": True}):
        assert chunk.object == "text_completion" and chunk.model == "fake-vlm"
        if chunk.usage is not None:
            usage = chunk.usage
            assert chunk.choices == []
        for choice in chunk.choices:
            texts[choice.index] += choice.text
            if choice.logprobs is not None:
                tokens[choice.index] += choice.logprobs.tokens
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert texts == {c.index: c.text for c in whole.choices}
    assert finishes == {0: "stop", 1: "stop"}
    assert usage is not None and usage.total_tokens == whole.usage.total_tokens
    assert all("".join(tokens[i]) == texts[i] for i in (0, 1))


def test_legacy_logprobs_shape(fake_server):
    choice = _client(fake_server).completions.create(model="m", prompt="abc", logprobs=3).choices[0]
    logprobs = choice.logprobs
    assert "".join(logprobs.tokens) == choice.text
    assert len(logprobs.token_logprobs) == len(logprobs.tokens) == len(logprobs.top_logprobs)
    assert all(len(top) == 3 for top in logprobs.top_logprobs)
    # Offsets count from the start of the prompt, as OpenAI's do.
    assert logprobs.text_offset[0] == len("abc")
    assert logprobs.text_offset[1] == len("abc") + len(logprobs.tokens[0])


@pytest.mark.parametrize(("body", "param", "words"), [
    ({"prompt": [1, 2, 3]}, "prompt[0]", "token-id prompts are not supported"),
    ({"prompt": ""}, "prompt", "non-empty text"),
    ({"prompt": []}, "prompt", "non-empty text"),
    ({"prompt": "hi", "echo": True}, "echo", "not supported"),
    ({"prompt": "hi", "suffix": "x"}, "suffix", "not supported"),
    ({"prompt": "hi", "best_of": 3}, "best_of", "best_of=1"),
    ({"prompt": "hi", "n": 2}, "n", "n=1"),
    ({"prompt": "hi", "logprobs": 6}, "logprobs", "at most 5"),
    ({"prompt": "hi", "frequency_penalty": 3}, "frequency_penalty", "at most 2"),
    ({"prompt": "hi", "stream_options": {"include_usage": True}}, "stream_options", "'stream': true"),
    ({"prompt": "w " * 65}, "prompt", "--max-seq-len"),
    ({"prompt": ["fine", "w " * 65]}, "prompt[1]", "--max-seq-len"),
    ({}, "prompt", "non-empty text"),
])
def test_bad_bodies_are_400_naming_the_field(fake_server, body, param, words):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(fake_server.url + "/v1/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)
    assert raised.value.code == 400
    error = json.loads(raised.value.read())["error"]
    assert error["param"] == param and words in error["message"], error


def test_a_model_that_cannot_generate_text_is_400_naming_its_tasks():
    model = FakeModel(tasks=("caption", "read"))
    with LiveServer(model, ServerConfig()) as server:
        with pytest.raises(openai.BadRequestError) as raised:
            _client(server).completions.create(model="m", prompt="hi")
    assert "generate" in str(raised.value) and "caption" in str(raised.value)


def test_the_route_is_in_the_openapi_document(fake_server):
    import urllib.request

    with urllib.request.urlopen(fake_server.url + "/openapi.json", timeout=30) as response:
        document = json.loads(response.read())
    operation = document["paths"]["/v1/completions"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CompletionRequest")
    assert "text/event-stream" in operation["responses"]["200"]["content"]
