"""The official `openai` client against a live server running real tiny models."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest

openai = pytest.importorskip("openai")


def _data_uri(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=60)


def _image_message(image) -> list:
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": _data_uri(image)}}]}]


def test_models_list(captioner_server):
    models = _client(captioner_server).models.list()
    assert [m.id for m in models.data] == ["vit_gpt2"]
    card = models.data[0].model_dump()
    assert card["kind"] == "vision-encoder-decoder" and card["tasks"] == ["caption"]
    assert {c["name"] for c in card["components"]} == {"encoder", "decoder_merged"}
    assert all(c["precision"] == "fp32" for c in card["components"])


def test_chat_completion_with_an_image_streamed_and_not(captioner_server, tiny_models):
    from runtime import load_model

    reference = tiny_models("vit_gpt2")
    image = reference.pil_images()[0]
    client = _client(captioner_server)
    completion = client.chat.completions.create(model="vit_gpt2", messages=_image_message(image), max_tokens=12)
    text = completion.choices[0].message.content
    expected = load_model(reference.folder, precision="fp32").caption(image, max_new_tokens=12)
    assert text == expected.text
    assert completion.usage.completion_tokens == len(expected.token_ids)
    assert completion.usage.prompt_tokens == expected.usage.prompt_tokens
    assert completion.usage.total_tokens == expected.usage.total_tokens

    stream = client.chat.completions.create(
        model="vit_gpt2", messages=_image_message(image), max_tokens=12, stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage, finish = [], None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(pieces) == text
    assert usage is not None and usage.completion_tokens == completion.usage.completion_tokens
    assert finish == completion.choices[0].finish_reason


def test_chat_errors_surface_as_openai_exceptions(captioner_server, tiny_models):
    client = _client(captioner_server)
    image = tiny_models("vit_gpt2").pil_images()[0]
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")
    # One model is loaded, so any model name reaches it and the reply names the real one.
    assert client.chat.completions.create(model="gpt-4o", messages=_image_message(image), max_tokens=3).model == "vit_gpt2"
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="vit_gpt2", messages=[{"role": "user", "content": "hello"}])
    assert "caption" in str(raised.value)


def test_embeddings_for_text_and_image(clip_server, tiny_models):
    reference = tiny_models("clip_split")
    client = _client(clip_server)
    texts = client.embeddings.create(model="clip_split", input=list(reference.texts))
    vectors = np.array([d.embedding for d in texts.data])
    np.testing.assert_allclose(vectors, reference.text_embeds, atol=1e-4)
    image_items = [
        {"content": [{"type": "image_url", "image_url": {"url": _data_uri(image)}}]}
        for image in reference.pil_images()
    ]
    images = client.embeddings.create(model="clip_split", input=image_items)
    vectors = np.array([d.embedding for d in images.data])
    np.testing.assert_allclose(vectors, reference.image_embeds, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The client asks for base64 by default when numpy is installed and decodes it itself.
    encoded = client.embeddings.create(model="clip_split", input="a photo of a cat", encoding_format="base64")
    assert isinstance(encoded.data[0].embedding, (str, list))


def test_streamed_logprobs_arrive_with_their_text_and_equal_the_whole(captioner_server, tiny_models):
    image = tiny_models("vit_gpt2").pil_images()[1]
    client = _client(captioner_server)
    options = {"model": "vit_gpt2", "messages": _image_message(image), "max_tokens": 10,
               "logprobs": True, "top_logprobs": 2}
    whole = client.chat.completions.create(**options).choices[0].logprobs.content
    streamed, chunks_with_text = [], 0
    for chunk in client.chat.completions.create(**options, stream=True):
        for choice in chunk.choices:
            if choice.delta.content:
                chunks_with_text += 1
                assert choice.logprobs is not None and choice.logprobs.content, "a text chunk without its log-probs"
            if choice.logprobs is not None:
                streamed.extend(choice.logprobs.content)
    assert chunks_with_text > 1  # they really arrive along the stream, not all at the end
    assert [(e.token, e.logprob) for e in streamed] == [(e.token, e.logprob) for e in whole]
    assert all(len(e.top_logprobs) == 2 for e in streamed)
