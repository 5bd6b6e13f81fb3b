"""Client compatibility (issue 12): any model name reaches the one model loaded, turns must
alternate as llama.cpp's server requires, and every text a request carries counts against
--max-seq-len. Cases follow llama.cpp's server (tools/server/README.md: "model" is accepted
and ignored with one model loaded; chat templates refuse roles that do not alternate)."""

from __future__ import annotations

import pytest
from http_fakes import FakeModel, chat_body, data_uri

from runtime.api.bodies import check_model
from runtime.api.openai import check_turn_order
from runtime.chat import Message
from runtime.errors import ContextLengthExceededError, InvalidRequestError, UnknownModelError

pytestmark = pytest.mark.asyncio
IMAGE = {"type": "image_url", "image_url": {"url": data_uri()}}


async def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status == status, await response.text()
    error = (await response.json())["error"]
    if code is not None:
        assert error["code"] == code
    return error


# --- model names -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["gpt-4o", "llama", "", "fake-vlm"])
async def test_any_model_name_reaches_the_one_model_and_the_reply_names_it(client, name):
    body = chat_body(image=data_uri())
    body["model"] = name
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status == 200, await response.text()
    assert (await response.json())["model"] == "fake-vlm"
    for path, other in (("/v1/embeddings", {"input": "hello"}), ("/v1/generate", {"prompt": "hi"}),
                        ("/v1/seed", {"text": "hi"})):
        response = await client.post(path, json={**other, "model": name})
        assert response.status == 200, await response.text()


async def test_the_configured_id_is_what_replies_name(make_client):
    client = await make_client(model_id="my-model")
    response = await client.post("/v1/chat/completions", json=chat_body(model="gpt-4o"))
    assert (await response.json())["model"] == "my-model"
    streamed = await client.post("/v1/chat/completions", json=chat_body(model="gpt-4o", stream=True))
    assert '"model":"my-model"' in await streamed.text()


async def test_with_several_models_an_unknown_name_is_404():
    check_model("gpt-4o", ("fake-vlm",))  # one model: accepted
    check_model("other", ("fake-vlm",), other_models=("other",))
    with pytest.raises(UnknownModelError, match="'fake-vlm', 'other'"):
        check_model("gpt-4o", ("fake-vlm",), other_models=("other",))


# --- turn order ------------------------------------------------------------------------

@pytest.mark.parametrize(("roles", "param"), [
    (["user", "assistant", "assistant"], "messages[2].role"),
    (["system", "assistant", "user"], "messages[1].role"),
    (["assistant", "user"], "messages[0].role"),
    (["user", "user"], "messages[1].role"),
    (["user", "assistant"], "messages"),
    (["system"], "messages"),
    (["user", "system", "user"], "messages[1].role"),
    (["user", "assistant", "developer", "user"], "messages[2].role"),
])
async def test_messages_out_of_order_are_400(client, roles, param):
    messages = [{"role": role, "content": f"turn {i}"} for i, role in enumerate(roles)]
    error = await _error(await client.post("/v1/chat/completions", json={"messages": messages}), 400)
    assert error["param"] == param
    assert "user" in error["message"]


@pytest.mark.parametrize("roles", [
    ["user"], ["system", "user"], ["developer", "system", "user"],
    ["system", "user", "assistant", "user"], ["user", "assistant", "user", "assistant", "user"],
])
async def test_messages_in_order_are_accepted(roles):
    check_turn_order(roles)


async def test_the_turn_error_says_which_message_and_what_order(client):
    messages = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                {"role": "assistant", "content": "c"}]
    error = await _error(await client.post("/v1/chat/completions", json={"messages": messages}), 400)
    assert error["message"].startswith("messages[2] is an assistant message after an assistant message")
    assert "alternate" in error["message"]
    messages = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    error = await _error(await client.post("/v1/chat/completions", json={"messages": messages}), 400)
    assert error["message"].startswith("messages[1] is a user message after a user message")


# --- the question is the last user turn, whatever surrounds it ----------------------------

@pytest.mark.parametrize("system", [None, "You are a helpful assistant.", "Answer in French."])
async def test_a_system_message_does_not_change_what_the_model_is_asked(client, fake_model, system):
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is the total due?"}, IMAGE]}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    response = await client.post("/v1/chat/completions", json={"messages": messages})
    assert response.status == 200, await response.text()
    task, prompt, _ = fake_model.calls[-1]
    assert (task, prompt) == ("vqa", "What is the total due?")


async def test_an_image_in_an_earlier_turn_is_asked_about_by_the_last_one(client, fake_model):
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": [IMAGE, {"type": "text", "text": "What is the invoice number?"}]},
        {"role": "assistant", "content": "INV-7"},
        {"role": "user", "content": "And what is the total due?"},
    ]
    response = await client.post("/v1/chat/completions", json={"messages": messages})
    assert response.status == 200, await response.text()
    task, prompt, _ = fake_model.calls[-1]
    assert (task, prompt) == ("vqa", "And what is the total due?")
    messages.append({"role": "assistant", "content": "17"})
    messages.append({"role": "user", "content": [{"type": "text", "text": "And the date?"}]})
    assert (await client.post("/v1/chat/completions", json={"messages": messages})).status == 200
    assert fake_model.calls[-1][:2] == ("vqa", "And the date?")


@pytest.mark.parametrize("stream", [False, True])
async def test_a_text_chat_reaches_the_model_as_turns_with_their_roles(client, fake_model, stream):
    messages = [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another?"},
    ]
    response = await client.post("/v1/chat/completions", json={"messages": messages, "stream": stream})
    assert response.status == 200, await response.text()
    assert fake_model.calls[-1][:2] == ("generate", "Another?")
    assert fake_model.histories[-1] == (Message("system", "Answer in one word."), Message("user", "Name a colour."),
                                        Message("assistant", "Blue."))
    # the system message may say everything that is asked of an empty last turn
    messages = [{"role": "system", "content": "Write a haiku about rain."}, {"role": "user", "content": ""}]
    response = await client.post("/v1/chat/completions", json={"messages": messages, "stream": stream})
    assert response.status == 200, await response.text()


# --- --max-seq-len covers every text ----------------------------------------------------

async def test_a_huge_question_with_an_image_is_400_naming_the_flag(client):
    question = " ".join(["word"] * 200_000)
    body = chat_body(question, image=data_uri())
    error = await _error(await client.post("/v1/chat/completions", json=body), 400, "context_length_exceeded")
    assert "--max-seq-len" in error["message"] and "200000 tokens" in error["message"]
    assert error["param"] == "messages"


@pytest.mark.parametrize("route, body, param", [
    ("/v1/chat/completions", chat_body("x" * 200_000, image=data_uri()), "messages"),
    ("/v1/completions", {"prompt": "x" * 200_000}, "prompt"),
    ("/v1/generate", {"prompt": "x" * 200_000, "image": data_uri()}, "prompt"),
])
async def test_text_without_spaces_is_counted_in_tokens_not_words(client, fake_model, route, body, param):
    # One 'word' of 200,000 characters was answered after 190 s of engine time: the bound
    # counted words. The model's tokenizer counts it (the fake: a token per 8 characters).
    error = await _error(await client.post(route, json=body), 400, "context_length_exceeded")
    assert "25000 tokens" in error["message"] and "--max-seq-len" in error["message"]
    assert "Shorten the text to fewer than 64 tokens" in error["message"]
    assert error["param"] == param and fake_model.calls == []


def _conversation(where: str, text: str) -> list[dict]:
    return {
        "system": [{"role": "system", "content": text},
                   {"role": "user", "content": [IMAGE, {"type": "text", "text": "Total?"}]}],
        "earlier_user": [{"role": "user", "content": [IMAGE, {"type": "text", "text": text}]},
                         {"role": "assistant", "content": "ok"}, {"role": "user", "content": "Total?"}],
        "assistant": [{"role": "user", "content": [IMAGE, {"type": "text", "text": "Read it"}]},
                      {"role": "assistant", "content": text}, {"role": "user", "content": "Total?"}],
    }[where]


@pytest.mark.parametrize("where", ["system", "earlier_user", "assistant"])
async def test_text_outside_the_question_counts_too(client, fake_model, where):
    calls = len(fake_model.calls)
    # The fake model's limit is 64 tokens; the question itself is one word.
    too_long = {"messages": _conversation(where, " ".join(["word"] * 65))}
    error = await _error(await client.post("/v1/chat/completions", json=too_long), 400, "context_length_exceeded")
    assert "--max-seq-len" in error["message"]
    assert len(fake_model.calls) == calls  # refused before the model ran
    within = {"messages": _conversation(where, "word")}
    assert (await client.post("/v1/chat/completions", json=within)).status == 200


async def test_the_native_prompt_counts_too(make_client):
    client = await make_client(FakeModel(max_seq_len=1000))
    error = await _error(await client.post("/v1/generate", json={"prompt": "w " * 1001, "image": data_uri()}), 400,
                         "context_length_exceeded")
    assert "--max-seq-len" in error["message"] and error["param"] == "prompt"


async def test_the_word_bound_is_only_a_lower_bound():
    from runtime.api.openai import check_text_length

    check_text_length(["a " * 10, "b " * 10], 20, "messages")
    check_text_length(["a" * 1000], 20, "messages", lambda texts, limit: None)  # no tokenizer: words
    check_text_length(["a " * 10_000], None, "messages")  # a model with no stated limit
    with pytest.raises(ContextLengthExceededError):
        check_text_length(["a " * 10, "b " * 11], 20, "messages")
    with pytest.raises(InvalidRequestError):
        check_turn_order(["assistant"])


# --- frequency and presence penalties ---------------------------------------------------

@pytest.mark.parametrize("name", ["frequency_penalty", "presence_penalty"])
async def test_penalties_reach_the_decoder(client, fake_model, name):
    response = await client.post("/v1/chat/completions", json=chat_body(image=data_uri(), **{name: -1.25}))
    assert response.status == 200, await response.text()
    assert getattr(fake_model.calls[-1][2], name) == -1.25
    response = await client.post("/v1/generate", json={"prompt": "hi", name: 1.5})
    assert response.status == 200, await response.text()
    assert getattr(fake_model.calls[-1][2], name) == 1.5


@pytest.mark.parametrize("name", ["frequency_penalty", "presence_penalty"])
@pytest.mark.parametrize("value", [-2.5, 2.01])
async def test_penalties_outside_openais_range_are_400(client, name, value):
    error = await _error(await client.post("/v1/chat/completions", json=chat_body(**{name: value})), 400)
    assert error["param"] == name
    assert "at least -2" in error["message"] or "at most 2" in error["message"]


# --- the engine's context error in the client's words -----------------------------------

@pytest.mark.parametrize("route, body, field", [
    ("/v1/completions", {"prompt": "a b c", "max_tokens": 63}, "max_tokens"),
    ("/v1/completions", {"prompt": "a b c", "max_tokens": 63, "stream": True}, "max_tokens"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "a b c"}], "max_tokens": 63}, "max_tokens"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "a b c"}], "max_completion_tokens": 63,
                              "stream": True}, "max_completion_tokens"),
    ("/v1/generate", {"prompt": "a b c", "max_new_tokens": 63}, "max_new_tokens"),
    ("/v1/generate", {"prompt": "a b c", "max_tokens": 63}, "max_tokens"),
])
async def test_prompt_plus_budget_over_the_limit_names_the_field_sent(client, route, body, field):
    # 3 prompt tokens + 63 > the fake's 64: the engine refuses; it calls the budget
    # max_new_tokens, which an OpenAI client never sent, and there is no image here.
    error = await _error(await client.post(route, json=body), 400, "context_length_exceeded")
    assert error["param"] == field
    assert f"{field} 63" in error["message"] and f"Lower {field} to at most 61" in error["message"]
    assert "tokens of the prompt" in error["message"] and "image" not in error["message"]
    assert field == "max_new_tokens" or "max_new_tokens" not in error["message"]


async def test_with_an_image_the_message_says_so(client):
    body = {"prompt": "a b c", "image": data_uri(), "max_new_tokens": 60}
    error = await _error(await client.post("/v1/generate", json=body), 400, "context_length_exceeded")
    assert "13 tokens of the image and the prompt + max_new_tokens 60" in error["message"]


# --- the embedder's errors name the field sent -------------------------------------------

@pytest.mark.parametrize("route, body, field", [
    ("/v1/seed", {"text": "w " * 300}, "text"),
    ("/v1/rank", {"query": "w " * 300, "images": [data_uri()]}, "query"),
    ("/v1/rank", {"image": data_uri(), "texts": ["ok", "w " * 300]}, "texts"),
    ("/v1/embeddings", {"input": "w " * 300}, "input"),
])
async def test_an_over_long_text_to_embed_names_the_field_sent(client, route, body, field):
    # The embedder refuses it as 'input' (the /v1/embeddings field): /v1/seed sends 'text'.
    error = await _error(await client.post(route, json=body), 400, "context_length_exceeded")
    assert error["param"] == field
