"""Chat prompt formats, implemented in code (no template engine in the runtime)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import BundleError, InvalidRequestError

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Message:
    role: str
    content: str


def format_chatml(messages: Sequence[Message], default_system: str | None) -> str:
    """ChatML as SmolLM2's template writes it, ending with an open assistant turn."""
    parts = []
    if default_system and (not messages or messages[0].role != "system"):
        parts.append(f"<|im_start|>system\n{default_system}<|im_end|>\n")
    for message in messages:
        if message.role not in ROLES:
            raise InvalidRequestError(f"Unknown chat role '{message.role}'; use one of {', '.join(ROLES)}.", param="messages")
        parts.append(f"<|im_start|>{message.role}\n{message.content}<|im_end|>\n")
    parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def out_of_turn(roles: Sequence[str], system: frozenset[str] = frozenset({"system"})) -> int | None:
    """The index of the first role out of the order every chat format here takes: `system`
    roles first, then user and assistant turns alternating from a user turn; None when all
    are in order. Where the turns must end is the caller's rule (the API's messages end with
    the user turn answered, the engine's history with an assistant turn before the prompt)."""
    expected = "user"
    for index, role in enumerate(roles):
        if role in system:
            if index and roles[index - 1] not in system:
                return index
            continue
        if role != expected:
            return index
        expected = "assistant" if role == "user" else "user"
    return None


FORMATS = {"chatml": format_chatml}
END_OF_TURN = {"chatml": "<|im_end|>"}


def chat_formatter(name: str):
    try:
        return FORMATS[name]
    except KeyError:
        raise BundleError(f"Unknown chat format '{name}'; known: {', '.join(FORMATS)}.") from None
