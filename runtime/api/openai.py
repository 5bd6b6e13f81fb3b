"""The transport-free OpenAI API layer: request bodies → engine calls, results → responses.

Nothing here imports aiohttp (DESIGN §6): the same functions can sit behind another host
(a Starlette / Ray Serve ingress). Parsing is strict: unknown keys are a 400 naming the key;
OpenAI keys we cannot honour are accepted only at their default value.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from runtime.errors import InvalidRequestError, TaskNotSupportedError
from runtime.results import GenerationResult, StepLogprobs, TokenLogprob, Usage

from .fields import (
    check_model,
    get_bool,
    get_int,
    get_number,
    get_stop,
    get_str,
    refuse_unknown,
    require_object,
)

GENERATION_TASKS = ("caption", "vqa", "generate")
IMAGE_TASKS = frozenset({"caption", "vqa", "generate", "read", "embed", "rank"})
TEXT_TASKS = frozenset({"vqa", "generate", "embed", "rank", "seed"})
OWNER = "wan2.2-turbo"
# Bounds the engine can honour; outside them a request is a 400 rather than a numeric accident.
MAX_SEED = 2**64 - 1
MAX_TOP_K = 1000
MAX_BEAMS = 16
MIN_TEMPERATURE = 0.01


def check_temperature(temperature: float | None) -> None:
    if temperature is not None and 0 < temperature < MIN_TEMPERATURE:
        raise InvalidRequestError(
            f"'temperature' must be 0 (greedy) or at least {MIN_TEMPERATURE}.", param="temperature"
        )


@dataclass(frozen=True)
class ImageInput:
    """An image as the client sent it: a URL / base64 string, or uploaded bytes."""

    url: str | None = None
    data: bytes | None = None
    param: str = "image"


@dataclass(frozen=True)
class ChatCall:
    """A parsed chat-completion request, ready for `Model.stream`."""

    task: str
    image: ImageInput | None
    prompt: str
    overrides: dict
    stream: bool = False
    include_usage: bool = False
    logprobs: bool = False
    top_logprobs: int = 0


@dataclass(frozen=True)
class EmbeddingCall:
    """Parsed `/v1/embeddings` input: each item is a text or an image, in request order."""

    items: tuple[str | ImageInput, ...]
    encoding_format: str = "float"
    dimensions: int | None = None


# --- /v1/chat/completions ------------------------------------------------------------

def _default_only(value, defaults) -> bool:
    return value is None or any(value == d for d in defaults)


# OpenAI keys we accept only at values that change nothing here (anything else is a 400).
_CHAT_DEFAULT_ONLY: dict[str, tuple] = {
    "frequency_penalty": (0, 0.0),
    "presence_penalty": (0, 0.0),
    "logit_bias": ({},),
    "response_format": ({"type": "text"},),
    "tools": ([],),
    "tool_choice": ("none",),
    "functions": ([],),
    "function_call": ("none",),
    "service_tier": ("auto", "default"),
    "store": (False,),
    "metadata": ({},),
    "modalities": (["text"],),
    "audio": (),
    "prediction": (),
    "reasoning_effort": (),
    "web_search_options": (),
    "verbosity": (),
}
# OpenAI keys with no effect on the output, accepted as they come.
_CHAT_IGNORABLE = frozenset({"user", "parallel_tool_calls", "prompt_cache_key", "safety_identifier"})
_CHAT_KEYS = frozenset({
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed",
    "stop", "n", "stream", "stream_options", "logprobs", "top_logprobs",
    # Extensions (not OpenAI): pick the task, and decoding options the engine has.
    "task", "top_k", "num_beams", "repetition_penalty",
}) | _CHAT_IGNORABLE | frozenset(_CHAT_DEFAULT_ONLY)
_ROLES = frozenset({"system", "developer", "user", "assistant"})


def parse_chat_request(body: object, served_ids: tuple[str, ...], tasks: Sequence[str]) -> ChatCall:
    """Validate a chat-completions body and decide the task, image, prompt and options."""
    body = require_object(body)
    refuse_unknown(body, _CHAT_KEYS)
    check_model(body, served_ids)
    for key, defaults in _CHAT_DEFAULT_ONLY.items():
        if not _default_only(body.get(key), defaults):
            raise InvalidRequestError(
                f"'{key}' is not supported by this server; leave it out (or at its default).", param=key
            )
    n = get_int(body, "n")
    if n is not None and n != 1:
        raise InvalidRequestError("Only n=1 is supported: send one request per completion.", param="n")
    texts, last_user_text, image = _read_messages(body.get("messages"))
    task = get_str(body, "task") or infer_task(image is not None, bool(last_user_text.strip()), tasks)
    _check_chat_task(task, tasks, image is not None)
    prompt = "" if task == "caption" and not last_user_text.strip() else "\n".join(t for t in texts if t)
    stream = get_bool(body, "stream")
    include_usage = _read_stream_options(body, stream)
    logprobs = get_bool(body, "logprobs")
    top_logprobs = get_int(body, "top_logprobs", minimum=0, maximum=20)
    if top_logprobs is not None and not logprobs:
        raise InvalidRequestError("'top_logprobs' needs 'logprobs': true.", param="top_logprobs")
    overrides = _chat_overrides(body)
    if logprobs:
        # The engine records the chosen token's log-prob only when it records a top-k.
        overrides["top_logprobs"] = max(1, top_logprobs or 0)
    return ChatCall(task, image, prompt, overrides, stream, include_usage, logprobs, top_logprobs or 0)


def _read_stream_options(body: dict, stream: bool) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    options = require_object(options, "'stream_options'")
    refuse_unknown(options, {"include_usage", "include_obfuscation"}, "stream_options.")
    if not stream:
        raise InvalidRequestError("'stream_options' is only allowed with 'stream': true.", param="stream_options")
    if get_bool(options, "include_obfuscation"):
        raise InvalidRequestError("'include_obfuscation' is not supported.", param="stream_options.include_obfuscation")
    return get_bool(options, "include_usage")


def _chat_overrides(body: dict) -> dict:
    max_tokens = get_int(body, "max_completion_tokens", minimum=1)
    if max_tokens is None:
        max_tokens = get_int(body, "max_tokens", minimum=1)
    temperature = get_number(body, "temperature", minimum=0, maximum=2)
    top_p = get_number(body, "top_p", minimum=0, maximum=1)
    overrides = {
        "max_new_tokens": max_tokens,
        "top_p": top_p,
        "seed": get_int(body, "seed", minimum=0, maximum=MAX_SEED),
        "stop": get_stop(body),
        "top_k": get_int(body, "top_k", minimum=0, maximum=MAX_TOP_K),
        "num_beams": get_int(body, "num_beams", minimum=1, maximum=MAX_BEAMS),
        "repetition_penalty": get_number(body, "repetition_penalty", minimum=0.01, maximum=100),
    }
    check_temperature(temperature)
    if temperature is not None:
        overrides["do_sample"] = temperature > 0
        if temperature > 0:
            overrides["temperature"] = temperature
    elif top_p is not None and top_p < 1:
        overrides["do_sample"] = True
    return {k: v for k, v in overrides.items() if v is not None}


_OTHER_ENDPOINTS = {"embed": "/v1/embeddings", "rank": "/v1/rank", "seed": "/v1/seed"}


def _check_chat_task(task: str, tasks: Sequence[str], has_image: bool) -> None:
    if task not in tasks:
        raise TaskNotSupportedError(task, tasks)
    if task in _OTHER_ENDPOINTS:
        raise InvalidRequestError(
            f"Task '{task}' does not produce a chat answer; use POST {_OTHER_ENDPOINTS[task]}.", param="task"
        )
    if task in ("caption", "vqa", "read") and not has_image:
        raise InvalidRequestError(f"Task '{task}' needs an image (an image_url part).", param="messages")


def infer_task(has_image: bool, has_text: bool, tasks: Sequence[str]) -> str:
    if has_image and has_text:
        return "vqa"
    if has_image:
        return "caption"
    if has_text:
        return "generate"
    raise InvalidRequestError("The messages hold neither text nor an image.", param="messages")


def _read_messages(messages: object) -> tuple[list[str], str, ImageInput | None]:
    """All message texts in order, the last user message's text, and the one image."""
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError("'messages' must be a non-empty list.", param="messages")
    texts: list[str] = []
    last_user_text = ""
    images: list[ImageInput] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        message = require_object(message, f"'{where}'")
        refuse_unknown(message, {"role", "content", "name"}, f"{where}.")
        role = message.get("role")
        if role not in _ROLES:
            raise InvalidRequestError(
                f"'{where}.role' must be one of {', '.join(sorted(_ROLES))}.", param=f"{where}.role"
            )
        name = message.get("name")
        if name is not None and not isinstance(name, str):
            raise InvalidRequestError(f"'{where}.name' must be a string.", param=f"{where}.name")
        text, message_images = _read_content(message.get("content"), where, role)
        texts.append(text)
        images.extend(message_images)
        if role == "user":
            last_user_text = text
    if len(images) > 1:
        raise InvalidRequestError("At most one image per request is supported.", param="messages")
    return texts, last_user_text, images[0] if images else None


def _read_content(content: object, where: str, role: str) -> tuple[str, list[ImageInput]]:
    if content is None and role == "assistant":
        return "", []
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise InvalidRequestError(f"'{where}.content' must be a string or a list of parts.", param=f"{where}.content")
    texts, images = [], []
    for index, part in enumerate(content):
        part_where = f"{where}.content[{index}]"
        part = require_object(part, f"'{part_where}'")
        kind = part.get("type")
        if kind == "text":
            refuse_unknown(part, {"type", "text"}, f"{part_where}.")
            text = get_str(part, "text", required=True)
            texts.append(text)
        elif kind == "image_url":
            if role != "user":
                raise InvalidRequestError(f"Images are only accepted in user messages ({part_where}).", param=part_where)
            refuse_unknown(part, {"type", "image_url"}, f"{part_where}.")
            images.append(_read_image_url(part.get("image_url"), f"{part_where}.image_url"))
        else:
            raise InvalidRequestError(
                f"'{part_where}.type' must be 'text' or 'image_url'.", param=f"{part_where}.type"
            )
    return "\n".join(texts), images


def _read_image_url(value: object, where: str) -> ImageInput:
    """`image_url` as `{"url": ..., "detail": ...}` or as a bare string."""
    if isinstance(value, str):
        url = value
    elif isinstance(value, dict):
        refuse_unknown(value, {"url", "detail"}, f"{where}.")
        url = get_str(value, "url", required=True)
        detail = value.get("detail")
        if detail is not None and detail not in ("auto", "low", "high"):
            raise InvalidRequestError(f"'{where}.detail' must be auto, low or high.", param=f"{where}.detail")
    else:
        raise InvalidRequestError(f"'{where}' must be an object with 'url' or a string.", param=where)
    if not url:
        raise InvalidRequestError(f"'{where}' is empty.", param=where)
    return ImageInput(url=url, param=where)


# --- chat responses ------------------------------------------------------------------

def usage_object(usage: Usage) -> dict:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _token_entry(item: TokenLogprob) -> dict:
    return {"token": item.token, "logprob": item.logprob, "bytes": list(item.token.encode("utf-8"))}


def openai_logprobs(steps: Sequence[StepLogprobs] | None, top_n: int) -> dict:
    """OpenAI's `choices[].logprobs`: one entry per generated token with its top-n."""
    content = []
    for step in steps or ():
        entry = _token_entry(step.chosen)
        entry["top_logprobs"] = [_token_entry(item) for item in step.top[:top_n]]
        content.append(entry)
    return {"content": content, "refusal": None}


@dataclass
class ChatResponder:
    """Builds the completion object, or the chunks of a streamed one, for one request."""

    model_id: str
    call: ChatCall
    completion_id: str
    created: int = field(default_factory=lambda: int(time.time()))
    streamed_steps: int = 0  # log-prob steps already sent in text chunks

    def _base(self, kind: str) -> dict:
        return {"id": self.completion_id, "object": kind, "created": self.created, "model": self.model_id}

    def completion(self, result: GenerationResult) -> dict:
        body = self._base("chat.completion")
        body["choices"] = [{
            "index": 0,
            "message": {"role": "assistant", "content": result.text, "refusal": None},
            "logprobs": openai_logprobs(result.logprobs, self.call.top_logprobs) if self.call.logprobs else None,
            "finish_reason": result.finish_reason,
        }]
        body["usage"] = usage_object(result.usage)
        return body

    def _chunk(self, delta: dict, finish_reason: str | None = None, logprobs: dict | None = None) -> dict:
        body = self._base("chat.completion.chunk")
        body["choices"] = [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}]
        if self.call.include_usage:
            body["usage"] = None
        return body

    def first_chunk(self) -> dict:
        return self._chunk({"role": "assistant", "content": ""})

    def text_chunk(self, text: str, steps: Sequence[StepLogprobs] = ()) -> dict:
        """A content chunk with the log-probs of the tokens that produced it."""
        logprobs = None
        if self.call.logprobs:
            logprobs = openai_logprobs(steps, self.call.top_logprobs)
            self.streamed_steps += len(steps)
        return self._chunk({"content": text}, logprobs=logprobs)

    def last_chunk(self, result: GenerationResult) -> dict:
        # Tokens that produced no text (eos, a stop string) still have log-probs: send them here.
        logprobs = None
        if self.call.logprobs:
            logprobs = openai_logprobs((result.logprobs or ())[self.streamed_steps :], self.call.top_logprobs)
        return self._chunk({}, result.finish_reason, logprobs)

    def usage_chunk(self, result: GenerationResult) -> dict:
        body = self._base("chat.completion.chunk")
        body["choices"] = []
        body["usage"] = usage_object(result.usage)
        return body


# --- /v1/embeddings ------------------------------------------------------------------

_EMBEDDING_KEYS = frozenset({"input", "model", "encoding_format", "dimensions", "user"})
MAX_EMBEDDING_ITEMS = 2048


def parse_embeddings_request(body: object, served_ids: tuple[str, ...]) -> EmbeddingCall:
    body = require_object(body)
    refuse_unknown(body, _EMBEDDING_KEYS)
    check_model(body, served_ids)
    encoding = get_str(body, "encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise InvalidRequestError("'encoding_format' must be 'float' or 'base64'.", param="encoding_format")
    dimensions = get_int(body, "dimensions", minimum=1)
    get_str(body, "user")
    raw = body.get("input")
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise InvalidRequestError("'input' must be a string or a non-empty list.", param="input")
    if len(raw) > MAX_EMBEDDING_ITEMS:
        raise InvalidRequestError(f"'input' holds more than {MAX_EMBEDDING_ITEMS} items.", param="input")
    items = tuple(_embedding_item(item, f"input[{index}]") for index, item in enumerate(raw))
    return EmbeddingCall(items, encoding, dimensions)


def _embedding_item(item: object, where: str) -> str | ImageInput:
    if isinstance(item, str):
        if not item:
            raise InvalidRequestError(f"'{where}' is an empty string.", param=where)
        return item
    if isinstance(item, dict):
        refuse_unknown(item, {"content"}, f"{where}.")
        parts = item.get("content")
        if not isinstance(parts, list) or len(parts) != 1:
            raise InvalidRequestError(f"'{where}.content' must hold exactly one part.", param=f"{where}.content")
        part = require_object(parts[0], f"'{where}.content[0]'")
        if part.get("type") == "text":
            refuse_unknown(part, {"type", "text"}, f"{where}.content[0].")
            return _embedding_item(get_str(part, "text", required=True), f"{where}.content[0].text")
        if part.get("type") == "image_url":
            refuse_unknown(part, {"type", "image_url"}, f"{where}.content[0].")
            return _read_image_url(part.get("image_url"), f"{where}.content[0].image_url")
        raise InvalidRequestError(f"'{where}.content[0].type' must be 'text' or 'image_url'.", param=where)
    if isinstance(item, (int, list)) and not isinstance(item, bool):
        raise InvalidRequestError(
            "Token-id inputs are not supported; send text strings or image items.", param=where
        )
    raise InvalidRequestError(f"'{where}' must be a string or an image item.", param=where)


def embeddings_response(call: EmbeddingCall, vectors: np.ndarray, model_id: str, prompt_tokens: int) -> dict:
    if call.dimensions is not None and call.dimensions != vectors.shape[1]:
        raise InvalidRequestError(
            f"This model's embeddings have {vectors.shape[1]} dimensions; 'dimensions' must be that "
            "or left out (shortening is not supported).",
            param="dimensions",
        )
    data = []
    for index, vector in enumerate(vectors.astype("<f4")):
        if call.encoding_format == "base64":
            value = base64.b64encode(vector.tobytes()).decode("ascii")
        else:
            value = [float(x) for x in vector]
        data.append({"object": "embedding", "index": index, "embedding": value})
    return {
        "object": "list",
        "data": data,
        "model": model_id,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


# --- /v1/models ----------------------------------------------------------------------

def input_modalities(tasks: Sequence[str]) -> list[str]:
    modalities = []
    if IMAGE_TASKS & set(tasks):
        modalities.append("image")
    if TEXT_TASKS & set(tasks):
        modalities.append("text")
    return modalities


def model_card(model, model_id: str, created: int) -> dict:
    """One `/v1/models` entry: the OpenAI fields plus what was loaded and why."""
    return {
        "id": model_id,
        "object": "model",
        "created": created,
        "owned_by": OWNER,
        "kind": model.kind,
        "tasks": list(model.tasks),
        "input_modalities": input_modalities(model.tasks),
        "max_seq_len": model.max_seq_len,
        "components": [
            {
                "name": c.name,
                "precision": c.precision,
                "variant": c.variant,
                "file": c.file,
                "provider": c.provider,
                "reason": c.reason,
            }
            for c in model.components
        ],
    }


def models_response(model, model_id: str, created: int) -> dict:
    return {"object": "list", "data": [model_card(model, model_id, created)]}
