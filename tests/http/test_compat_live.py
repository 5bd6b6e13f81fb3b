"""Client compatibility against a live server with a real tiny captioner (byte-level BPE,
GPT-2 style 'Ġ' pieces): log-prob tokens are text, penalties change the output."""

from __future__ import annotations

import base64
import io

import pytest

openai = pytest.importorskip("openai")


def _client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=60)


def _image_message(image) -> list:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": uri}}]}]


@pytest.mark.parametrize("image_index", [0, 1])
def test_logprob_tokens_are_text_that_joins_to_the_content(captioner_server, tiny_models, image_index):
    image = tiny_models("vit_gpt2").pil_images()[image_index]
    options = {"model": "vit_gpt2", "messages": _image_message(image), "max_tokens": 12,
               "logprobs": True, "top_logprobs": 3}
    choice = _client(captioner_server).chat.completions.create(**options).choices[0]
    tokens = choice.logprobs.content
    assert " " in choice.message.content  # several words, so BPE pieces would show 'Ġ'
    assert "".join(t.token for t in tokens) == choice.message.content
    assert not any("Ġ" in t.token for t in tokens)
    for entry in tokens:
        assert entry.bytes == list(entry.token.encode("utf-8"))
        assert all(top.bytes == list(top.token.encode("utf-8")) for top in entry.top_logprobs)
    streamed = []
    for chunk in _client(captioner_server).chat.completions.create(**options, stream=True):
        for part in chunk.choices:
            if part.logprobs is not None:
                streamed.extend(part.logprobs.content)
    assert "".join(t.token for t in streamed) == choice.message.content


def test_a_penalty_changes_a_repetitive_caption(captioner_server, tiny_models):
    client = _client(captioner_server)
    for image in tiny_models("vit_gpt2").pil_images():
        plain = client.chat.completions.create(model="vit_gpt2", messages=_image_message(image), max_tokens=20,
                                               logprobs=True)
        ids = [t.token for t in plain.choices[0].logprobs.content]
        if len(set(ids)) < len(ids):
            break
    else:
        pytest.fail("no caption of the tiny model repeats a token; the penalty cannot be observed")
    penalized = client.chat.completions.create(model="vit_gpt2", messages=_image_message(image), max_tokens=20,
                                               frequency_penalty=2.0, presence_penalty=2.0)
    assert penalized.choices[0].message.content != plain.choices[0].message.content
