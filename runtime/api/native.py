"""The native API (seed README): `/v1/generate`, `/v1/read`, `/v1/detect`, `/v1/rank`, `/v1/seed`.

Transport-free like openai.py. Bodies come as JSON objects, or — for generate and read —
as multipart forms whose text fields are converted to the JSON types first, so both
shapes are decoded through the same structures (schemas.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from runtime.errors import InvalidRequestError, TaskNotSupportedError
from runtime.results import GenerationResult, RankResult, ReadResult, SeedResult
from runtime.vision import Detection

from . import schemas
from .bodies import check_model, decode
from .openai import (
    ImageInput,
    check_new_tokens,
    check_seed,
    check_temperature,
    check_text_length,
    evidence_lines,
    infer_task,
    stop_strings,
    usage_object,
)

_INT_FIELDS = frozenset({"max_new_tokens", "max_tokens", "num_beams", "top_k", "seed"})
_FLOAT_FIELDS = frozenset(
    {"temperature", "top_p", "repetition_penalty", "frequency_penalty", "presence_penalty", "length_penalty"}
)
_BOOL_FIELDS = frozenset({"do_sample", "return_tokens", "return_attention"})
# Stands in for the uploaded file while the form is decoded as the JSON body type.
_UPLOADED_FILE = "(the uploaded file)"
_GENERATE_MESSAGES = {
    "return_attention": "return_attention is not available: no graph of this model exposes attention maps. "
    "Leave it out or set it to false.",
    "task": "'task' must be caption, vqa or generate (or left out to infer it); read, embed, rank and seed "
    "have their own endpoints (POST /v1/read, /v1/embeddings, /v1/rank, /v1/seed).",
}


@dataclass(frozen=True)
class GenerateCall:
    task: str
    image: ImageInput | None
    prompt: str
    overrides: dict
    return_tokens: bool = False
    return_logits: int = 0  # top-k log-probs per step; 0: none
    budget_field: str = "max_new_tokens"  # the field errors name (max_tokens where that was sent)


@dataclass(frozen=True)
class RankCall:
    query: str | None = None
    images: tuple[ImageInput, ...] = ()
    image: ImageInput | None = None
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormBody:
    """A multipart form as the JSON body it stands for, and the uploaded image."""

    body: dict
    upload: ImageInput | None = None


def form_to_body(fields: dict[str, list[str]], files: dict[str, list[bytes]]) -> FormBody:
    """Multipart text fields → JSON-typed values (a bad number is a 400 naming the field)."""
    body: dict = {}
    for key, values in fields.items():
        if key == "stop":
            body[key] = values
            continue
        if len(values) > 1 or key in files:
            raise InvalidRequestError(f"Form field '{key}' is given more than once.", param=key)
        body[key] = _convert_form_value(key, values[0])
    upload = None
    for key, uploads in files.items():
        if key != "image":
            raise InvalidRequestError(f"Unexpected file field '{key}'; send the image as 'image'.", param=key)
        if len(uploads) > 1:
            raise InvalidRequestError("Form field 'image' is given more than once.", param=key)
        body["image"] = _UPLOADED_FILE
        upload = ImageInput(data=uploads[0], param="image")
    return FormBody(body, upload)


def _convert_form_value(key: str, text: str):
    try:
        if key in _INT_FIELDS:
            return int(text)
        if key in _FLOAT_FIELDS:
            number = float(text)
            if not math.isfinite(number):
                raise ValueError(text)
            return number
    except ValueError:
        raise InvalidRequestError(f"Form field '{key}' must be a finite number, got {text!r}.", param=key) from None
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


def _image(source: str | None, param: str, form: FormBody | None) -> ImageInput | None:
    if source is None:
        return None
    if form is not None and form.upload is not None and source == _UPLOADED_FILE:
        return form.upload
    return ImageInput(url=source, param=param)


def _body(body: object) -> tuple[object, FormBody | None]:
    return (body.body, body) if isinstance(body, FormBody) else (body, None)


def _missing_image(what: str, form: FormBody | None) -> InvalidRequestError:
    """`what` needs an image the request lacks; a form is told which part to add."""
    if form is not None:
        return InvalidRequestError(
            f"{what} needs an image, and the form has no 'image' part: add the image file as a "
            "multipart field named 'image' (curl -F image=@photo.png).",
            param="image",
        )
    return InvalidRequestError(f"{what} needs an image: send 'image' (base64 image bytes or a data: URI).", param="image")


def parse_generate_request(
    body: object, served_ids: tuple[str, ...], tasks: Sequence[str], max_seq_len: int | None = None,
    count_tokens: TokenCounter | None = None,
) -> GenerateCall:
    """A JSON body or a `FormBody` → what to generate and how (`max_seq_len`: see
    `openai.check_text_length`)."""
    body, form = _body(body)
    request = decode(body, schemas.GenerateRequest, _GENERATE_MESSAGES)
    check_model(request.model, served_ids)
    image = _image(request.image, "image", form)
    prompt = request.prompt or ""
    check_text_length([prompt], max_seq_len, "prompt", count_tokens)
    budget = "max_tokens" if request.max_new_tokens is None and request.max_tokens is not None else "max_new_tokens"
    check_new_tokens(getattr(request, budget), max_seq_len, budget)
    if request.task is None and image is None and not prompt.strip():
        # infer_task's own wording speaks of chat messages; this body has none.
        where = "an 'image' part (curl -F image=@photo.png)" if form is not None else "an 'image'"
        raise InvalidRequestError(
            f"The request has neither a 'prompt' nor an image: send a prompt to generate from, {where} to "
            "caption, or both to ask about the image.",
            param="prompt",
        )
    task = request.task or infer_task(image is not None, bool(prompt.strip()), tasks)
    if task not in tasks:
        raise TaskNotSupportedError(task, tasks)
    if task in ("caption", "vqa") and image is None:
        raise _missing_image(f"Task '{task}'", form)
    return_logits = request.return_logits
    top_k = (5 if return_logits else 0) if isinstance(return_logits, bool) or return_logits is None else return_logits
    check_temperature(request.temperature)
    check_seed(request.seed)
    overrides = {
        "max_new_tokens": request.max_new_tokens if request.max_new_tokens is not None else request.max_tokens,
        "num_beams": request.num_beams,
        "do_sample": request.do_sample,
        "temperature": request.temperature,
        "top_k": request.top_k,
        "top_p": request.top_p,
        "seed": request.seed,
        "repetition_penalty": request.repetition_penalty,
        "length_penalty": request.length_penalty,
        "frequency_penalty": request.frequency_penalty,
        "presence_penalty": request.presence_penalty,
        "stop": stop_strings(request.stop),
        "top_logprobs": top_k or None,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return GenerateCall(task, image, prompt, overrides, bool(request.return_tokens), top_k, budget)


def generate_response(call: GenerateCall, result: GenerationResult, metadata: schemas.Metadata) -> schemas.GenerateResponse:
    tokens = logits = msgspec.UNSET
    if call.return_tokens:
        tokens = [schemas.GeneratedToken(i, t) for i, t in zip(result.token_ids, result.tokens)]
    if call.return_logits:
        logits = [
            schemas.StepLogits(
                step.chosen.token_id, step.chosen.token, float(step.chosen.logprob),
                [schemas.TopToken(t.token_id, t.token, float(t.logprob)) for t in step.top[: call.return_logits]],
            )
            for step in result.logprobs or ()
        ]
    metadata = msgspec.structs.replace(metadata, usage=usage_object(result.usage))
    return schemas.GenerateResponse(
        text=result.text, finish_reason=result.finish_reason, tokens=tokens, logits=logits,
        evidence=evidence_lines(result.evidence), metadata=metadata,
    )



def _image_request(body: object, served_ids: tuple[str, ...], schema: type, what: str) -> ImageInput:
    """The image of a request that carries only an image and a model (read, detect)."""
    body, form = _body(body)
    if isinstance(body, dict) and "image" not in body:
        raise _missing_image(what, form)
    request = decode(body, schema)
    check_model(request.model, served_ids)
    return _image(request.image, "image", form)


def parse_read_request(body: object, served_ids: tuple[str, ...]) -> ImageInput:
    return _image_request(body, served_ids, schemas.ReadRequest, "Reading")


def read_response(result: ReadResult, metadata: schemas.Metadata) -> schemas.ReadResponse:
    lines = [
        schemas.ReadLine(line.text, [[float(x) for x in corner] for corner in line.box], float(line.confidence))
        for line in result.lines
    ]
    return schemas.ReadResponse(result.text, lines, metadata, rotation=90 * result.turns)


def parse_detect_request(body: object, served_ids: tuple[str, ...]) -> ImageInput:
    return _image_request(body, served_ids, schemas.DetectRequest, "Detection")


def detect_response(detections: Sequence[Detection], metadata: schemas.Metadata) -> schemas.DetectResponse:
    objects = [schemas.DetectedObject(d.label, [float(v) for v in d.box], float(d.score)) for d in detections]
    return schemas.DetectResponse(objects, metadata)


def parse_rank_request(body: object, served_ids: tuple[str, ...]) -> RankCall:
    request = decode(body, schemas.RankRequest)
    check_model(request.model, served_ids)
    if request.query is not None:
        if request.image is not None or request.texts is not None:
            raise InvalidRequestError("Send either 'query' + 'images', or 'image' + 'texts'.", param="query")
        if request.images is None:
            raise InvalidRequestError(
                f"'images' must be a list of 1 to {schemas.MAX_RANK_IMAGES} images.", param="images"
            )
        images = tuple(ImageInput(url=image, param=f"images[{i}]") for i, image in enumerate(request.images))
        return RankCall(query=request.query, images=images)
    if request.images is not None:
        raise InvalidRequestError("'images' needs a 'query' text to rank them against.", param="query")
    if request.image is None:
        raise InvalidRequestError("'image' is required (base64 image bytes or a data: URI).", param="image")
    if request.texts is None:
        raise InvalidRequestError("'texts' is required.", param="texts")
    return RankCall(image=ImageInput(url=request.image, param="image"), texts=tuple(request.texts))


def rank_response(result: RankResult, metadata: schemas.Metadata) -> schemas.RankResponse:
    return schemas.RankResponse([float(s) for s in result.scores], [int(i) for i in result.order], metadata)


def parse_seed_request(body: object, served_ids: tuple[str, ...]) -> str:
    request = decode(body, schemas.SeedRequest, {"text": "'text' must be a string that is not empty (nor only whitespace)."})
    check_model(request.model, served_ids)
    return request.text


def seed_response(result: SeedResult, metadata: schemas.Metadata) -> schemas.SeedResponse:
    return schemas.SeedResponse(int(result.seed), [float(x) for x in result.embedding], metadata)
