"""The order of a chat's turns: one rule (`chat.out_of_turn`) behind the engine's history
check and the API's messages check."""

import pytest

from runtime.chat import Message, out_of_turn
from runtime.errors import InvalidRequestError
from runtime.model import _checked_history


@pytest.mark.parametrize("roles, index", [
    ((), None),
    (("user",), None),
    (("system", "user", "assistant", "user"), None),
    (("system", "system", "user"), None),  # several system roles first: the caller decides
    (("assistant",), 0),
    (("user", "user"), 1),
    (("user", "system"), 1),
    (("system", "assistant"), 1),
    (("user", "assistant", "assistant"), 2),
])
def test_the_first_role_out_of_order(roles, index):
    assert out_of_turn(roles) == index


def test_the_api_counts_developer_messages_as_system_ones():
    assert out_of_turn(("developer", "system", "user"), frozenset({"system", "developer"})) is None
    assert out_of_turn(("developer", "user")) == 0


@pytest.mark.parametrize("roles, index", [
    (("system", "system", "assistant"), 1),  # the second system turn comes first
    (("user", "assistant", "system"), 2),
    (("assistant",), 0),
    (("developer", "user", "assistant"), 0),
])
def test_the_engine_history_names_the_first_turn_out_of_order(roles, index):
    with pytest.raises(InvalidRequestError, match=rf"history\[{index}\] is a {roles[index]} turn"):
        _checked_history([Message(role, "x") for role in roles])


def test_the_engine_history_ends_with_an_assistant_turn():
    assert _checked_history([Message("system", "Be brief."), Message("user", "Hi"), Message("assistant", "Hello")])
    with pytest.raises(InvalidRequestError, match="must end with an assistant turn"):
        _checked_history([Message("user", "Hi")])
