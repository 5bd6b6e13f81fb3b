"""The engine's context-length error: what the prompt holds, and the budget in the client's words."""

from __future__ import annotations

import pytest

from runtime.errors import ContextLengthExceededError
from runtime.generation import check_context_length
from runtime.params import GenerationParams


def test_the_engine_says_what_the_prompt_holds_and_how_much_room_is_left():
    with pytest.raises(ContextLengthExceededError) as caught:
        check_context_length(30, GenerationParams(max_new_tokens=40), 64, "the prompt")
    error = caught.value
    assert str(error) == (
        "This request needs 70 tokens (30 tokens of the prompt + max_new_tokens 40), but the limit is 64. "
        "Lower max_new_tokens to at most 34 (the limit less the 30 tokens of the prompt)."
    )
    assert error.param == "max_new_tokens"
    renamed = error.naming("max_tokens")
    assert "max_tokens 40" in str(renamed) and "max_new_tokens" not in str(renamed)
    assert renamed.param == "max_tokens" and renamed.requested_tokens == 70


def test_a_prompt_that_fills_the_limit_is_to_be_shortened():
    with pytest.raises(ContextLengthExceededError) as caught:
        check_context_length(64, GenerationParams(max_new_tokens=1), 64, "the image's text and the prompt")
    assert "Shorten the image's text and the prompt: 64 tokens alone reach the limit" in str(caught.value)
    # no budget would fit: the error names the text, not the budget (a host renames it: `messages`)
    assert caught.value.param == "prompt" and caught.value.naming("max_tokens").param == "prompt"


def test_an_error_not_about_the_budget_is_named_as_it_is():
    error = ContextLengthExceededError(300, 256, "text 0 has 300 tokens", advice="Split it.", param="input")
    assert error.naming("max_tokens") is error
