"""What a chat request asks: the question is the last user turn, whatever surrounds it."""

from __future__ import annotations

from runtime.api.openai import parse_chat_request
from runtime.chat import Message

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
TASKS = ("vqa", "caption", "generate", "read")


def _prompt(messages):
    call = parse_chat_request({"model": "m", "messages": messages}, ("m",), TASKS)
    return call.task, call.prompt


def test_a_system_message_does_not_change_the_question():
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": [{"type": "text", "text": "What is the total due?"}, IMAGE]}]
    assert _prompt(messages) == ("vqa", "What is the total due?")


def test_a_follow_up_asks_the_last_user_turn_about_the_earlier_image():
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is the invoice number?"}, IMAGE]},
                {"role": "assistant", "content": "INV-7"},
                {"role": "user", "content": "And what is the total due?"}]
    assert _prompt(messages) == ("vqa", "And what is the total due?")


def _call(messages):
    return parse_chat_request({"model": "m", "messages": messages}, ("m",), TASKS)


def test_free_generation_continues_the_conversation_with_its_roles():
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Write a haiku."},
                {"role": "assistant", "content": "Snow on the pine."},
                {"role": "user", "content": "Another one."}]
    call = _call(messages)
    assert (call.task, call.prompt) == ("generate", "Another one.")
    assert call.history == (Message("system", "Be brief."), Message("user", "Write a haiku."),
                            Message("assistant", "Snow on the pine."))


def test_system_and_developer_messages_become_one_system_turn():
    messages = [{"role": "system", "content": "Be brief."}, {"role": "developer", "content": "Answer in French."},
                {"role": "user", "content": "Name a colour."}]
    assert _call(messages).history == (Message("system", "Be brief.\nAnswer in French."),)
    # an empty one is still the system turn (in place of the model's default), as templates write it
    messages = [{"role": "system", "content": ""}, {"role": "user", "content": "Name a colour."}]
    assert _call(messages).history == (Message("system", ""),)


def test_a_question_about_an_image_carries_no_history():
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": [{"type": "text", "text": "What is the total due?"}, IMAGE]}]
    assert _call(messages).history == ()
