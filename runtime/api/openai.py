"""The transport-free OpenAI API layer: request bodies → engine calls, results → responses.

Nothing here imports aiohttp (DESIGN §6): the same functions can sit behind another host
(a Starlette / Ray Serve ingress). Bodies are decoded through the structures in schemas.py
(unknown keys are a 400 naming the key; OpenAI keys we cannot honour are accepted only at
their default value); this module adds the checks a schema cannot express.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec
import numpy as np

from runtime.chat import Message, out_of_turn
from runtime.errors import ContextLengthExceededError, InvalidRequestError, TaskNotSupportedError
from runtime.results import GenerationResult, StepLogprobs, Usage

from . import schemas
from .bodies import check_model, decode
from .schemas import MAX_SEED, MIN_TEMPERATURE

IMAGE_TASKS = frozenset({"caption", "vqa", "generate", "read", "embed", "rank"})
TEXT_TASKS = frozenset({"vqa", "generate", "embed", "rank", "seed"})
OWNER = "wan2.2-turbo"


def check_temperature(temperature: float | None) -> None:
    if temperature is not None and 0 < temperature < MIN_TEMPERATURE:
        raise InvalidRequestError(
            f"'temperature' must be 0 (greedy) or at least {MIN_TEMPERATURE}.", param="temperature"
        )


def check_seed(seed: int | None) -> None:
    if seed is not None and seed > MAX_SEED:
        raise InvalidRequestError(f"'seed' must be at most {MAX_SEED} (an unsigned 64-bit integer).", param="seed")


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
    prompt: str  # the last user message's text: what is asked
    overrides: dict
    stream: bool = False
    include_usage: bool = False
    logprobs: bool = False
    top_logprobs: int = 0
    budget_field: str = "max_tokens"  # the field errors name: max_tokens or max_completion_tokens
    history: tuple[Message, ...] = ()  # free generation's turns before the prompt, system messages first


@dataclass(frozen=True)
class EmbeddingCall:
    """Parsed `/v1/embeddings` input: each item is a text or an image, in request order."""

    items: tuple[str | ImageInput, ...]
    encoding_format: str = "float"
    dimensions: int | None = None


# --- /v1/chat/completions ------------------------------------------------------------

_OTHER_ENDPOINTS = "embed, rank and seed have their own endpoints (POST /v1/embeddings, /v1/rank, /v1/seed)"
# Messages for params (regular expressions) where the schema's wording would not say how to fix them.
_CHAT_MESSAGES = {
    **{
        rf"{key}\b.*": f"'{key}' is not supported by this server; leave it out (or at its default)."
        for key in schemas.UNSUPPORTED_CHAT_KEYS
    },
    "n": "Only n=1 is supported: send one request per completion.",
    r"stream_options\.include_obfuscation": "'include_obfuscation' is not supported; leave it out.",
    "task": f"'task' must be caption, vqa, generate or read (or left out to infer it); {_OTHER_ENDPOINTS}.",
}


def parse_chat_request(
    body: object, served_ids: tuple[str, ...], tasks: Sequence[str], max_seq_len: int | None = None,
    count_tokens: TokenCounter | None = None,
) -> ChatCall:
    """Validate a chat-completions body and decide the task, image, prompt and options.

    `max_seq_len` (the model's token limit) bounds the tokens of every message, not only
    the question, as `count_tokens` counts them: see `check_text_length`.
    """
    request = decode(body, schemas.ChatCompletionRequest, _CHAT_MESSAGES)
    check_model(request.model, served_ids)
    check_turn_order([message.role for message in request.messages])
    texts, last_user_text, image = _read_messages(request.messages)
    check_text_length(texts, max_seq_len, "messages", count_tokens)
    budget = "max_completion_tokens" if request.max_completion_tokens is not None else "max_tokens"
    check_new_tokens(getattr(request, budget), max_seq_len, budget)
    # the question about an image is the last user turn; a chat without one may say all it
    # asks in a system message
    asked = last_user_text.strip() if image is not None else "".join(texts).strip()
    task = request.task or infer_task(image is not None, bool(asked), tasks)
    if task not in tasks:
        # text beside an image reads as a question (vqa); a captioner takes the image alone
        hint = ("A question about the image needs a model that answers them; this one captions: send the image "
                "with no text for its caption." if request.task is None and task == "vqa" and "caption" in tasks
                else "")
        raise TaskNotSupportedError(task, tasks, hint)
    if task in ("caption", "vqa", "read") and image is None:
        raise InvalidRequestError(f"Task '{task}' needs an image (an image_url part).", param="messages")
    # A question about the image is the last user turn: a system message or earlier turns
    # do not change what is asked. Free generation continues the whole conversation.
    history = _history(request.messages, texts) if task == "generate" else ()
    stream = bool(request.stream)
    options = request.stream_options
    if options is not None and not stream:
        raise InvalidRequestError("'stream_options' is only allowed with 'stream': true.", param="stream_options")
    include_usage = bool(options is not None and options.include_usage)
    logprobs = bool(request.logprobs)
    if request.top_logprobs is not None and not logprobs:
        raise InvalidRequestError("'top_logprobs' needs 'logprobs': true.", param="top_logprobs")
    overrides = sampling_overrides(request, request.max_completion_tokens or request.max_tokens)
    if logprobs:
        # The engine records the chosen token's log-prob only when it records a top-k.
        overrides["top_logprobs"] = max(1, request.top_logprobs or 0)
    return ChatCall(task, image, last_user_text, overrides, stream, include_usage, logprobs, request.top_logprobs or 0,
                    budget, history)


def _history(messages: list[schemas.ChatMessage], texts: list[str]) -> tuple[Message, ...]:
    """The turns before the last user message (`check_turn_order` made it the last), with
    their roles: system and developer messages joined into the one system turn chat templates
    hold, then the user and assistant turns."""
    system = [t for m, t in zip(messages, texts) if m.role in _SYSTEM_ROLES]
    turns = [Message(m.role, t) for m, t in zip(messages[:-1], texts) if m.role not in _SYSTEM_ROLES]
    # an empty system message is still the system turn, as chat templates write it
    return ((Message("system", "\n".join(t for t in system if t)),) if system else ()) + tuple(turns)


def sampling_overrides(request, max_new_tokens: int | None) -> dict:
    """The engine's generation overrides from an OpenAI request's sampling fields (chat and
    legacy completions share them); `max_new_tokens` is the budget the request sent."""
    check_temperature(request.temperature)
    check_seed(request.seed)
    temperature, top_p = request.temperature, request.top_p
    overrides = {
        "max_new_tokens": max_new_tokens,
        "top_p": top_p,
        "seed": request.seed,
        "stop": stop_strings(request.stop),
        "top_k": request.top_k,
        "num_beams": request.num_beams,
        "repetition_penalty": request.repetition_penalty,
        "frequency_penalty": request.frequency_penalty,
        "presence_penalty": request.presence_penalty,
    }
    if temperature is not None:
        overrides["do_sample"] = temperature > 0
        if temperature > 0:
            overrides["temperature"] = temperature
    elif top_p is not None and top_p < 1:
        overrides["do_sample"] = True
    return {k: v for k, v in overrides.items() if v is not None}


def stop_strings(stop: str | list[str] | None) -> tuple[str, ...] | None:
    if stop is None:
        return None
    return (stop,) if isinstance(stop, str) else tuple(stop)


_SYSTEM_ROLES = frozenset({"system", "developer"})


def check_turn_order(roles: Sequence[str]) -> None:
    """System (or developer) messages first, then user and assistant turns alternating from
    a user turn (`chat.out_of_turn`) to a last user turn, which is what a completion answers.
    llama.cpp's server refuses the same shapes ("Conversation roles must alternate
    user/assistant/...")."""
    index = out_of_turn(roles, _SYSTEM_ROLES)
    if index is not None:
        role, where = roles[index], f"messages[{index}].role"
        if role in _SYSTEM_ROLES:
            raise InvalidRequestError(
                f"messages[{index}] is {_a(role)} message after the conversation started: put system "
                "and developer messages first, before the first user message.",
                param=where,
            )
        after = f"after {_a(roles[index - 1])} message" if index else "first"
        raise InvalidRequestError(
            f"messages[{index}] is {_a(role)} message {after}: after any system messages, turns must "
            "alternate user, assistant, user, ... starting and ending with a user message.",
            param=where,
        )
    if not roles or roles[-1] != "user":
        raise InvalidRequestError(
            "The last message must be a user message (the turn this completion answers); "
            + ("send at least one." if not roles or roles[-1] in _SYSTEM_ROLES else "the conversation ends with an assistant turn."),
            param="messages",
        )


def _a(word: str) -> str:
    """The word with its article by sound: "an assistant", "a user"."""
    vowel = word[:1] in "aeio" or word[:1] == "u" and not re.match(r"u(?:s|ni|ti)", word)
    return ("an " if vowel else "a ") + word


def check_new_tokens(value: int | None, max_seq_len: int | None, param: str) -> None:
    """Refuse a token budget that cannot fit the sequence whatever the prompt: the message
    names the field the client sent (`max_tokens`, `max_completion_tokens` or
    `max_new_tokens`) rather than the engine's own name for it."""
    if value is None or max_seq_len is None or value <= max_seq_len:
        return
    raise ContextLengthExceededError(
        value, max_seq_len, f"{param}={value} new tokens plus the prompt's",
        advice=f"Lower {param} to less than {max_seq_len} (the server's --max-seq-len, or the model's own "
        "limit when that flag is not given), leaving room for the prompt.",
        param=param,
    )

#: `Model.count_prompt_tokens`: (texts, limit) -> (tokens, exact), or None without a tokenizer.
TokenCounter = Callable[[Sequence[str], int], "tuple[int, bool] | None"]


def check_text_length(
    texts: Sequence[str], max_seq_len: int | None, param: str, count_tokens: TokenCounter | None = None
) -> None:
    """Refuse text that cannot fit the model's token limit, whichever part of the request
    carries it (system message, earlier turns, question, prompt), even where a kind does
    not feed all of it to a language model.

    `count_tokens` counts with the model's own tokenizer (exactly while the text can fit;
    past the limit a lower bound that needs no full tokenization). Without it, a bound
    that needs no tokenizer: BPE, WordPiece and SentencePiece pre-tokenizers split text at
    whitespace before merging pieces, so each whitespace-separated word is at least one
    token. Words alone are no bound on text without spaces (issue 12: 200,000 characters
    and an image took 190 s), so the server passes the model's counter.
    """
    if max_seq_len is None:
        return
    counted = count_tokens(texts, max_seq_len) if count_tokens is not None else None
    if counted is None:
        tokens, exact, how = sum(len(text.split()) for text in texts), False, "words, each at least one token"
    else:
        (tokens, exact), how = counted, "tokens by the model's tokenizer"
    if tokens <= max_seq_len:
        return
    raise ContextLengthExceededError(
        tokens, max_seq_len, f"{'' if exact else 'at least: '}the text of '{param}' alone holds {tokens} {how}",
        advice=f"Shorten the text to fewer than {max_seq_len} tokens, leaving room for the reply, or start the "
        "server with a larger --max-seq-len (the model's own limit caps it; without the flag the limit is "
        "the model's own).",
        param=param,
    )


def infer_task(has_image: bool, has_text: bool, tasks: Sequence[str]) -> str:
    if has_image and has_text:
        return "vqa"
    if has_image:
        return "caption"
    if has_text:
        return "generate"
    raise InvalidRequestError("The messages hold neither text nor an image.", param="messages")


def _read_messages(messages: list[schemas.ChatMessage]) -> tuple[list[str], str, ImageInput | None]:
    """All message texts in order, the last user message's text, and the one image."""
    texts: list[str] = []
    last_user_text = ""
    images: list[ImageInput] = []
    for index, message in enumerate(messages):
        text, message_images = _read_content(message, f"messages[{index}]")
        texts.append(text)
        images.extend(message_images)
        if message.role == "user":
            last_user_text = text
    if len(images) > 1:
        raise InvalidRequestError("At most one image per request is supported.", param="messages")
    return texts, last_user_text, images[0] if images else None


def _read_content(message: schemas.ChatMessage, where: str) -> tuple[str, list[ImageInput]]:
    content = message.content
    if content is None:
        if message.role == "assistant":
            return "", []
        raise InvalidRequestError(
            f"'{where}.content' must be a string or a list of parts (only an assistant message may have none).",
            param=f"{where}.content",
        )
    if isinstance(content, str):
        return content, []
    texts, images = [], []
    for index, part in enumerate(content):
        part_where = f"{where}.content[{index}]"
        if isinstance(part, schemas.TextPart):
            texts.append(part.text)
        elif message.role != "user":
            raise InvalidRequestError(f"Images are only accepted in user messages ({part_where}).", param=part_where)
        else:
            images.append(image_input(part.image_url, f"{part_where}.image_url"))
    return "\n".join(texts), images


def image_input(image_url: str | schemas.ImageUrl, where: str) -> ImageInput:
    """`image_url` as `{"url": ..., "detail": ...}` or as a bare string."""
    if isinstance(image_url, schemas.ImageUrl):
        return ImageInput(url=image_url.url, param=where)
    return ImageInput(url=image_url, param=where)


# --- chat responses ------------------------------------------------------------------

def usage_object(usage: Usage) -> schemas.Usage:
    return schemas.Usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


def _token_entry(token: str, logprob: float) -> schemas.TokenLogprob:
    return schemas.TokenLogprob(token, float(logprob), list(token.encode("utf-8")))


def openai_logprobs(steps: Sequence[StepLogprobs] | None, top_n: int) -> schemas.ChoiceLogprobs:
    """OpenAI's `choices[].logprobs`: one entry per generated token with its top-n."""
    content = [
        schemas.ChosenTokenLogprob(
            step.chosen.token, float(step.chosen.logprob), list(step.chosen.token.encode("utf-8")),
            [_token_entry(item.token, item.logprob) for item in step.top[:top_n]],
        )
        for step in steps or ()
    ]
    return schemas.ChoiceLogprobs(content)


def evidence_lines(evidence) -> list[schemas.EvidenceLine] | msgspec.UnsetType:
    """The lines a reply was copied from (UNSET, left out of the JSON, when there are none)."""
    if not evidence:
        return msgspec.UNSET
    return [schemas.EvidenceLine(line.text, [[float(x) for x in corner] for corner in line.box], float(line.confidence))
            for line in evidence]

@dataclass
class ChatResponder:
    """Builds the completion object, or the chunks of a streamed one, for one request."""

    model_id: str
    call: ChatCall
    completion_id: str
    created: int = field(default_factory=lambda: int(time.time()))
    streamed_steps: int = 0  # log-prob steps already sent in text chunks

    def completion(self, result: GenerationResult) -> schemas.ChatCompletion:
        # A reply decided as a whole (a reader's answer copied from the image's text) was
        # not sampled token by token: it has no log-probs (`result.logprobs` None), and an
        # empty list beside non-empty content would claim the tokens joined are "".
        logprobs = None
        if self.call.logprobs and result.logprobs is not None:
            logprobs = openai_logprobs(result.logprobs, self.call.top_logprobs)
        choice = schemas.ChatChoice(
            0, schemas.AssistantMessage("assistant", result.text), logprobs, result.finish_reason,
            evidence_lines(result.evidence),
        )
        return schemas.ChatCompletion(
            self.completion_id, "chat.completion", self.created, self.model_id, [choice], usage_object(result.usage)
        )

    def _chunk(self, choices: list, usage=msgspec.UNSET) -> schemas.ChatCompletionChunk:
        if self.call.include_usage and usage is msgspec.UNSET:
            usage = None  # OpenAI sends `"usage": null` on every chunk but the usage chunk
        return schemas.ChatCompletionChunk(
            self.completion_id, "chat.completion.chunk", self.created, self.model_id, choices, usage
        )

    def _delta_chunk(self, delta: schemas.ChunkDelta, finish_reason=None, logprobs=None,
                     evidence=msgspec.UNSET) -> schemas.ChatCompletionChunk:
        return self._chunk([schemas.ChunkChoice(0, delta, logprobs, finish_reason, evidence)])

    def first_chunk(self) -> schemas.ChatCompletionChunk:
        return self._delta_chunk(schemas.ChunkDelta(role="assistant", content=""))

    def text_chunk(self, text: str, steps: Sequence[StepLogprobs] = ()) -> schemas.ChatCompletionChunk:
        """A content chunk with the log-probs of the tokens that produced it."""
        logprobs = None
        if self.call.logprobs and steps:  # none: a decided reply, or beam search's (sent last)
            logprobs = openai_logprobs(steps, self.call.top_logprobs)
            self.streamed_steps += len(steps)
        return self._delta_chunk(schemas.ChunkDelta(content=text), logprobs=logprobs)

    def last_chunk(self, result: GenerationResult) -> schemas.ChatCompletionChunk:
        # Tokens that produced no text (eos, a stop string) still have log-probs: send them here.
        logprobs = None
        if self.call.logprobs and result.logprobs is not None:
            logprobs = openai_logprobs(result.logprobs[self.streamed_steps :], self.call.top_logprobs)
        # The lines the answer was read from ride on the chunk that ends the choice, as on the
        # whole completion's choice.
        return self._delta_chunk(schemas.ChunkDelta(), result.finish_reason, logprobs, evidence_lines(result.evidence))

    def usage_chunk(self, result: GenerationResult) -> schemas.ChatCompletionChunk:
        return self._chunk([], usage_object(result.usage))


# --- /v1/embeddings ------------------------------------------------------------------

_EMBEDDING_MESSAGES = {
    r"input(\[\d+\])?": "'input' must be a non-empty text, one item ({\"content\": [one text or image_url part]}), "
    f"or a list of 1 to {schemas.MAX_EMBEDDING_ITEMS} of these; token-id inputs are not supported.",
}


def parse_embeddings_request(body: object, served_ids: tuple[str, ...]) -> EmbeddingCall:
    request = decode(body, schemas.EmbeddingRequest, _EMBEDDING_MESSAGES)
    check_model(request.model, served_ids)
    if isinstance(request.input, list):
        items = tuple(_embedding_item(item, f"input[{index}]") for index, item in enumerate(request.input))
    else:  # one text or one item alone (llama.cpp also takes a lone item): a list of one
        items = (_embedding_item(request.input, "input"),)
    return EmbeddingCall(items, request.encoding_format or "float", request.dimensions)


def _embedding_item(item: str | schemas.EmbeddingImageItem, where: str) -> str | ImageInput:
    if isinstance(item, str):
        return item
    part = item.content[0]
    if isinstance(part, schemas.ImagePart):
        return image_input(part.image_url, f"{where}.content[0].image_url")
    if not part.text:
        raise InvalidRequestError(f"'{where}.content[0].text' is an empty string.", param=f"{where}.content[0].text")
    return part.text


def embeddings_response(
    call: EmbeddingCall, vectors: np.ndarray, model_id: str, prompt_tokens: int
) -> schemas.EmbeddingList:
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
            value = vector.tolist()
        data.append(schemas.Embedding("embedding", index, value))
    usage = schemas.EmbeddingUsage(prompt_tokens, prompt_tokens)
    return schemas.EmbeddingList("list", data, model_id, usage)


# --- /v1/models ----------------------------------------------------------------------

def input_modalities(tasks: Sequence[str]) -> list[str]:
    modalities = []
    if IMAGE_TASKS & set(tasks):
        modalities.append("image")
    if TEXT_TASKS & set(tasks):
        modalities.append("text")
    return modalities


def model_card(model, model_id: str, created: int) -> schemas.ModelCard:
    """One `/v1/models` entry: the OpenAI fields plus what was loaded and why."""
    components = [
        schemas.Component(c.name, c.precision, c.variant, c.file, c.provider, c.reason) for c in model.components
    ]
    return schemas.ModelCard(
        model_id, "model", created, OWNER, model.kind, list(model.tasks), input_modalities(model.tasks),
        model.max_seq_len, components,
    )


def models_response(model, model_id: str, created: int) -> schemas.ModelList:
    return schemas.ModelList("list", [model_card(model, model_id, created)])
