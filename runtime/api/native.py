"""The native API (seed README): `/v1/generate`, `/v1/read`, `/v1/rank`, `/v1/seed`.

Transport-free like openai.py. Bodies come as JSON objects, or — for generate and read —
as multipart forms whose text fields are converted to the JSON types first, so both
shapes go through one validator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runtime.errors import InvalidRequestError, TaskNotSupportedError
from runtime.results import GenerationResult, RankResult, ReadResult, SeedResult

from .fields import (
    check_model,
    get_bool,
    get_int,
    get_number,
    get_stop,
    get_str,
    get_str_list,
    refuse_unknown,
    require_object,
)
from .openai import MAX_BEAMS, MAX_SEED, MAX_TOP_K, ImageInput, check_temperature, infer_task, usage_object

_INT_FIELDS = frozenset({"max_new_tokens", "max_tokens", "num_beams", "top_k", "seed"})
_FLOAT_FIELDS = frozenset({"temperature", "top_p", "repetition_penalty", "length_penalty"})
_BOOL_FIELDS = frozenset({"do_sample", "return_tokens", "return_attention"})
_GENERATE_KEYS = frozenset({
    "model", "task", "prompt", "image", "stop", "return_logits",
}) | _INT_FIELDS | _FLOAT_FIELDS | _BOOL_FIELDS


@dataclass(frozen=True)
class GenerateCall:
    task: str
    image: ImageInput | None
    prompt: str
    overrides: dict
    return_tokens: bool = False
    return_logits: int = 0  # top-k log-probs per step; 0: none


@dataclass(frozen=True)
class RankCall:
    query: str | None = None
    images: tuple[ImageInput, ...] = ()
    image: ImageInput | None = None
    texts: tuple[str, ...] = ()


def form_to_body(fields: dict[str, list[str]], files: dict[str, bytes]) -> dict:
    """Multipart text fields → JSON-typed values (a bad number is a 400 naming the field)."""
    body: dict = {}
    for key, values in fields.items():
        if key == "stop":
            body[key] = values
            continue
        if len(values) > 1:
            raise InvalidRequestError(f"Form field '{key}' is given more than once.", param=key)
        body[key] = _convert_form_value(key, values[0])
    for key, data in files.items():
        if key != "image":
            raise InvalidRequestError(f"Unexpected file field '{key}'; send the image as 'image'.", param=key)
        body["image"] = ImageInput(data=data, param="image")
    return body


def _convert_form_value(key: str, text: str):
    try:
        if key in _INT_FIELDS:
            return int(text)
        if key in _FLOAT_FIELDS:
            return float(text)
    except ValueError:
        raise InvalidRequestError(f"Form field '{key}' must be a number, got {text!r}.", param=key) from None
    if key in _BOOL_FIELDS or key == "return_logits":
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off", ""):
            return False
        if key == "return_logits" and lowered.isdigit():
            return int(lowered)
        raise InvalidRequestError(f"Form field '{key}' must be true or false, got {text!r}.", param=key)
    return text


def _image_field(body: dict, key: str = "image", *, required: bool = True) -> ImageInput | None:
    value = body.get(key)
    if value is None:
        if required:
            raise InvalidRequestError(f"'{key}' is required (base64 image bytes or a data: URI).", param=key)
        return None
    if isinstance(value, ImageInput):
        return value
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"'{key}' must be a base64 string or a data: URI.", param=key)
    return ImageInput(url=value, param=key)


def parse_generate_request(body: object, served_ids: tuple[str, ...], tasks: Sequence[str]) -> GenerateCall:
    body = require_object(body)
    refuse_unknown(body, _GENERATE_KEYS)
    check_model(body, served_ids)
    if get_bool(body, "return_attention"):
        raise InvalidRequestError(
            "return_attention is not available: no graph of this model exposes attention maps. "
            "Leave it out or set it to false.",
            param="return_attention",
        )
    image = _image_field(body, required=False)
    prompt = get_str(body, "prompt") or ""
    task = get_str(body, "task") or infer_task(image is not None, bool(prompt.strip()), tasks)
    if task not in tasks:
        raise TaskNotSupportedError(task, tasks)
    if task not in ("caption", "vqa", "generate"):
        raise InvalidRequestError(
            f"Task '{task}' has its own endpoint: POST /v1/{task if task != 'embed' else 'embeddings'}.",
            param="task",
        )
    if task in ("caption", "vqa") and image is None:
        raise InvalidRequestError(f"Task '{task}' needs an image.", param="image")
    return_logits = body.get("return_logits")
    if return_logits is None or return_logits is False:
        top_k = 0
    elif return_logits is True:
        top_k = 5
    else:
        top_k = get_int(body, "return_logits", minimum=1, maximum=20)
    max_new_tokens = get_int(body, "max_new_tokens", minimum=1)
    overrides = {
        "max_new_tokens": max_new_tokens if max_new_tokens is not None else get_int(body, "max_tokens", minimum=1),
        "num_beams": get_int(body, "num_beams", minimum=1, maximum=MAX_BEAMS),
        "do_sample": get_bool(body, "do_sample") if body.get("do_sample") is not None else None,
        "temperature": get_number(body, "temperature", minimum=0, maximum=100),
        "top_k": get_int(body, "top_k", minimum=0, maximum=MAX_TOP_K),
        "top_p": get_number(body, "top_p", minimum=0, maximum=1),
        "seed": get_int(body, "seed", minimum=0, maximum=MAX_SEED),
        "repetition_penalty": get_number(body, "repetition_penalty", minimum=0.01, maximum=100),
        "length_penalty": get_number(body, "length_penalty", minimum=-100, maximum=100),
        "stop": get_stop(body),
        "top_logprobs": top_k or None,
    }
    check_temperature(overrides["temperature"])
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return GenerateCall(task, image, prompt, overrides, get_bool(body, "return_tokens"), top_k)


def generate_response(call: GenerateCall, result: GenerationResult, metadata: dict) -> dict:
    body: dict = {"text": result.text, "finish_reason": result.finish_reason}
    if call.return_tokens:
        body["tokens"] = [{"id": i, "text": t} for i, t in zip(result.token_ids, result.tokens)]
    if call.return_logits:
        body["logits"] = [
            {
                "token_id": step.chosen.token_id,
                "token": step.chosen.token,
                "logprob": step.chosen.logprob,
                "top": [
                    {"token_id": t.token_id, "token": t.token, "logprob": t.logprob}
                    for t in step.top[: call.return_logits]
                ],
            }
            for step in result.logprobs or ()
        ]
    body["metadata"] = {**metadata, "usage": usage_object(result.usage)}
    return body


def parse_read_request(body: object, served_ids: tuple[str, ...]) -> ImageInput:
    body = require_object(body)
    refuse_unknown(body, {"model", "image"})
    check_model(body, served_ids)
    return _image_field(body)


def read_response(result: ReadResult, metadata: dict) -> dict:
    return {
        "text": result.text,
        "lines": [
            {"text": line.text, "box": [list(corner) for corner in line.box], "confidence": line.confidence}
            for line in result.lines
        ],
        "metadata": metadata,
    }


def parse_rank_request(body: object, served_ids: tuple[str, ...]) -> RankCall:
    body = require_object(body)
    refuse_unknown(body, {"model", "query", "images", "image", "texts"})
    check_model(body, served_ids)
    query = get_str(body, "query")
    if query is not None:
        if "image" in body or "texts" in body:
            raise InvalidRequestError("Send either 'query' + 'images', or 'image' + 'texts'.", param="query")
        raw = body.get("images")
        if not isinstance(raw, list) or not raw or len(raw) > 256:
            raise InvalidRequestError("'images' must be a list of 1 to 256 images.", param="images")
        images = tuple(_image_field({"images": item}, "images") for item in raw)
        return RankCall(query=query, images=images)
    if "images" in body:
        raise InvalidRequestError("'images' needs a 'query' text to rank them against.", param="query")
    image = _image_field(body)
    texts = get_str_list(body, "texts", required=True)
    return RankCall(image=image, texts=tuple(texts))


def rank_response(result: RankResult, metadata: dict) -> dict:
    return {"scores": list(result.scores), "order": list(result.order), "metadata": metadata}


def parse_seed_request(body: object, served_ids: tuple[str, ...]) -> str:
    body = require_object(body)
    refuse_unknown(body, {"model", "text"})
    check_model(body, served_ids)
    text = get_str(body, "text", required=True)
    if not text.strip():
        raise InvalidRequestError("'text' must not be empty.", param="text")
    return text


def seed_response(result: SeedResult, metadata: dict) -> dict:
    return {
        "seed": result.seed,
        "embedding": [float(x) for x in result.embedding],
        "metadata": metadata,
    }
