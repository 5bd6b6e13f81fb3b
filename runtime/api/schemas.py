"""Every request and response body of the HTTP API, defined once (DESIGN §6, STYLE seam 5).

Request bodies are decoded through these types (bodies.py: unknown fields, wrong types and
out-of-range values are a 400 naming the field), responses are built from them, and
`/openapi.json` is generated from them (openapi.py), so the document cannot drift from what
the server accepts. What a schema cannot say (the model name must be the served one,
`top_logprobs` needs `logprobs`, a caption needs an image) stays as code in openai.py and
native.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

# Bounds the engine can honour; outside them a request is a 400 rather than a numeric accident.
MAX_SEED = 2**64 - 1
MAX_TOP_K = 1000
MAX_BEAMS = 16
MIN_TEMPERATURE = 0.01
MAX_EMBEDDING_ITEMS = 2048
MAX_RANK_IMAGES = 256
MAX_TOP_LOGPROBS = 20

# A 2x2 PNG: the example image in the document, and what the contract test sends.
EXAMPLE_IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8ISfHwMDAxMDAwMDA"
    "AAANBAEIfXHKZgAAAABJRU5ErkJggg=="
)

PositiveInt = Annotated[int, Meta(ge=1)]
# msgspec cannot bound an int above int64, so the code checks MAX_SEED (openai.check_seed).
Seed = Annotated[int, Meta(ge=0, extra_json_schema={"maximum": MAX_SEED})]
TopK = Annotated[int, Meta(ge=0, le=MAX_TOP_K)]
Beams = Annotated[int, Meta(ge=1, le=MAX_BEAMS)]
TopP = Annotated[float, Meta(ge=0, le=1)]
RepetitionPenalty = Annotated[float, Meta(ge=0.01, le=100)]
# OpenAI's range: lowers a token's logit by count * frequency_penalty (+ presence_penalty once seen).
FrequencyPenalty = Annotated[
    float, Meta(ge=-2, le=2, description="Lowers each token's logit by this times its count in the output so far.")
]
PresencePenalty = Annotated[
    float, Meta(ge=-2, le=2, description="Lowers the logit of every token already in the output by this.")
]
NonEmptyText = Annotated[str, Meta(min_length=1)]
ImageSource = Annotated[
    str,
    Meta(min_length=1, examples=[EXAMPLE_IMAGE],
         description="A data: URI, bare base64 image bytes, or a file:// URL inside --media-dir."),
]
Stop = str | list[str]
Nothing = Annotated[dict[str, Any], Meta(max_length=0)]
NoTools = Annotated[list[dict[str, Any]], Meta(max_length=0)]


class RequestBody(Struct, forbid_unknown_fields=True, frozen=True, omit_defaults=True):
    """A request body: unknown fields are an error, not silently ignored."""


class ResponseBody(Struct, frozen=True):
    """A response body; UNSET fields are left out of the JSON."""


# --- chat completions: requests ----------------------------------------------------------

ChatTask = Literal["caption", "vqa", "generate", "read"]
Role = Literal["system", "developer", "user", "assistant"]


class TextPart(RequestBody, tag="text", tag_field="type"):
    text: str


class ImageUrl(RequestBody):
    url: ImageSource
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(RequestBody, tag="image_url", tag_field="type"):
    image_url: ImageSource | ImageUrl


ContentPart = TextPart | ImagePart


class ChatMessage(RequestBody):
    """`content` may be null only in an assistant message; images only in user messages.
    The task is inferred from the last user message (an image: caption; text too: vqa)."""

    role: Annotated[Role, Meta(examples=["user"])]
    content: str | list[ContentPart] | None
    name: str | None = None


class StreamOptions(RequestBody):
    include_usage: bool | None = None
    include_obfuscation: Literal[False] | None = None


class ResponseFormat(RequestBody):
    type: Literal["text"]


class ChatCompletionRequest(RequestBody):
    """OpenAI chat completions. OpenAI keys this server cannot honour are accepted only at
    the value that changes nothing (e.g. `logit_bias: {}`, `tools: []`)."""

    messages: Annotated[list[ChatMessage], Meta(min_length=1)]
    model: str | None = None
    max_tokens: PositiveInt | None = None
    max_completion_tokens: PositiveInt | None = None
    temperature: Annotated[float, Meta(ge=0, le=2, description="0 (greedy) or at least 0.01.")] | None = None
    top_p: TopP | None = None
    seed: Seed | None = None
    stop: Stop | None = None
    n: Annotated[int, Meta(ge=1, le=1)] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Meta(ge=0, le=MAX_TOP_LOGPROBS)] | None = None
    frequency_penalty: FrequencyPenalty | None = None
    presence_penalty: PresencePenalty | None = None
    # Extensions (not OpenAI): the task (default: inferred), and decoding options the engine has.
    task: ChatTask | None = None
    top_k: TopK | None = None
    num_beams: Beams | None = None
    repetition_penalty: RepetitionPenalty | None = None
    # OpenAI keys accepted only at their default.
    logit_bias: Annotated[dict[str, float], Meta(max_length=0)] | None = None
    response_format: ResponseFormat | None = None
    tools: NoTools | None = None
    tool_choice: Literal["none"] | None = None
    functions: NoTools | None = None
    function_call: Literal["none"] | None = None
    service_tier: Literal["auto", "default"] | None = None
    store: Literal[False] | None = None
    metadata: Nothing | None = None
    modalities: Annotated[list[Literal["text"]], Meta(min_length=1, max_length=1)] | None = None
    audio: None = None
    prediction: None = None
    reasoning_effort: None = None
    web_search_options: None = None
    verbosity: None = None
    # OpenAI keys with no effect on the output.
    user: str | None = None
    parallel_tool_calls: bool | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None


# The keys above "accepted only at their default": refusing one says so, not "must be 0".
UNSUPPORTED_CHAT_KEYS = (
    "logit_bias", "response_format", "tools", "tool_choice",
    "functions", "function_call", "service_tier", "store", "metadata", "modalities", "audio",
    "prediction", "reasoning_effort", "web_search_options", "verbosity",
)


# --- chat completions: responses ---------------------------------------------------------

FinishReason = Literal["stop", "length"]


class Usage(ResponseBody):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class TokenLogprob(ResponseBody):
    token: str
    logprob: float
    bytes: list[int]


class ChosenTokenLogprob(TokenLogprob):
    top_logprobs: list[TokenLogprob]


class ChoiceLogprobs(ResponseBody):
    content: list[ChosenTokenLogprob]
    refusal: None = None


class AssistantMessage(ResponseBody):
    role: Literal["assistant"]
    content: str
    refusal: None = None


class EvidenceLine(ResponseBody):
    """A line of the image's recognized text that a decided reply was copied from (extension)."""

    text: str
    box: list[list[float]]  # 4 corners (x, y) in image pixels, clockwise from top-left
    confidence: float


class ChatChoice(ResponseBody):
    index: int
    message: AssistantMessage
    logprobs: ChoiceLogprobs | None
    finish_reason: FinishReason
    evidence: list[EvidenceLine] | UnsetType = UNSET  # extension: where a reader's answer was read


class ChatCompletion(ResponseBody):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class ChunkDelta(ResponseBody):
    role: Literal["assistant"] | UnsetType = UNSET
    content: str | UnsetType = UNSET


class ChunkChoice(ResponseBody):
    index: int
    delta: ChunkDelta
    logprobs: ChoiceLogprobs | None
    finish_reason: FinishReason | None
    evidence: list[EvidenceLine] | UnsetType = UNSET  # extension, on the last chunk: where the answer was read


class ChatCompletionChunk(ResponseBody):
    """One SSE event of a streamed completion; `usage` is present (null until the last
    chunk) only with `stream_options.include_usage`."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None | UnsetType = UNSET


# --- legacy text completions -------------------------------------------------------------

MAX_COMPLETION_PROMPTS = 16
MAX_COMPLETION_LOGPROBS = 5  # OpenAI's bound for the legacy endpoint


class CompletionRequest(RequestBody):
    """OpenAI legacy completions for text prompts: a string, or a list of strings answered
    one choice each (in order). Sampling options as in chat; token-id prompts, `echo`,
    `suffix`, `best_of` above 1 and `logit_bias` are accepted only at their defaults."""

    prompt: NonEmptyText | Annotated[list[NonEmptyText], Meta(min_length=1, max_length=MAX_COMPLETION_PROMPTS)]
    model: str | None = None
    max_tokens: PositiveInt | None = None
    temperature: Annotated[float, Meta(ge=0, le=2, description="0 (greedy) or at least 0.01.")] | None = None
    top_p: TopP | None = None
    seed: Seed | None = None
    stop: Stop | None = None
    n: Annotated[int, Meta(ge=1, le=1)] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    logprobs: Annotated[int, Meta(ge=0, le=MAX_COMPLETION_LOGPROBS)] | None = None
    frequency_penalty: FrequencyPenalty | None = None
    presence_penalty: PresencePenalty | None = None
    # Extensions (not OpenAI), as in chat.
    top_k: TopK | None = None
    num_beams: Beams | None = None
    repetition_penalty: RepetitionPenalty | None = None
    # OpenAI keys accepted only at their default.
    echo: Literal[False] | None = None
    suffix: None = None
    best_of: Annotated[int, Meta(ge=1, le=1)] | None = None
    logit_bias: Annotated[dict[str, float], Meta(max_length=0)] | None = None
    user: str | None = None


UNSUPPORTED_COMPLETION_KEYS = ("echo", "suffix", "logit_bias")


class CompletionLogprobs(ResponseBody):
    """Legacy log-probs: per token its text, log-prob, top alternatives and the offset of
    the token in prompt + completion."""

    tokens: list[str]
    token_logprobs: list[float]
    top_logprobs: list[dict[str, float]]
    text_offset: list[int]


class CompletionChoice(ResponseBody):
    text: str
    index: int
    logprobs: CompletionLogprobs | None
    finish_reason: FinishReason | None


class Completion(ResponseBody):
    """A text completion, or (with `stream`) one SSE chunk of one: chunks have the same
    shape, `finish_reason` null until a choice ends, and `usage` (with
    `stream_options.include_usage`) null until the last chunk, whose `choices` is empty."""

    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None | UnsetType = UNSET


# --- embeddings --------------------------------------------------------------------------

class EmbeddingImageItem(RequestBody):
    """One text or image to embed, as a one-part content list."""

    content: Annotated[list[ContentPart], Meta(min_length=1, max_length=1)]


EmbeddingItems = Annotated[list[NonEmptyText | EmbeddingImageItem], Meta(min_length=1, max_length=MAX_EMBEDDING_ITEMS)]


class EmbeddingRequest(RequestBody):
    input: NonEmptyText | EmbeddingImageItem | EmbeddingItems
    model: str | None = None
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: PositiveInt | None = None
    user: str | None = None


class Embedding(ResponseBody):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str


class EmbeddingUsage(ResponseBody):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(ResponseBody):
    object: Literal["list"]
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


# --- models, health, errors --------------------------------------------------------------

class Component(ResponseBody):
    name: str
    precision: str
    variant: str
    file: str
    provider: str
    reason: str


class ModelCard(ResponseBody):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    kind: str
    tasks: list[str]
    input_modalities: list[Literal["image", "text"]]
    max_seq_len: int | None
    components: list[Component]


class ModelList(ResponseBody):
    object: Literal["list"]
    data: list[ModelCard]


class Health(ResponseBody):
    status: Literal["ok", "loading", "failed"]
    message: str | UnsetType = UNSET


class ErrorDetail(ResponseBody):
    message: str
    type: str
    param: str | None
    code: str | None
    request_id: str | UnsetType = UNSET


class ErrorEnvelope(ResponseBody):
    """The one error body (DESIGN §6)."""

    error: ErrorDetail


# --- native API ----------------------------------------------------------------------------

GenerateTask = Literal["caption", "vqa", "generate"]


class GenerateRequest(RequestBody):
    """Native generation. `image` or `prompt` is needed: caption needs an image, generate a prompt."""

    model: str | None = None
    task: GenerateTask | None = None
    prompt: str | None = None
    image: ImageSource | None = None
    stop: Stop | None = None
    return_tokens: bool | None = None
    return_logits: bool | Annotated[int, Meta(ge=1, le=MAX_TOP_LOGPROBS)] | None = None
    return_attention: Literal[False] | None = None
    max_new_tokens: PositiveInt | None = None
    max_tokens: PositiveInt | None = None
    num_beams: Beams | None = None
    do_sample: bool | None = None
    temperature: Annotated[float, Meta(ge=0, le=100, description="0 (greedy) or at least 0.01.")] | None = None
    top_k: TopK | None = None
    top_p: TopP | None = None
    seed: Seed | None = None
    repetition_penalty: RepetitionPenalty | None = None
    frequency_penalty: FrequencyPenalty | None = None
    presence_penalty: PresencePenalty | None = None
    length_penalty: Annotated[float, Meta(ge=-100, le=100)] | None = None


class Metadata(ResponseBody):
    model: str
    task: str
    precision: str
    provider: str
    timings_ms: dict[str, float]
    usage: Usage | UnsetType = UNSET


class GeneratedToken(ResponseBody):
    id: int
    text: str


class TopToken(ResponseBody):
    token_id: int
    token: str
    logprob: float


class StepLogits(TopToken):
    top: list[TopToken]


class GenerateResponse(ResponseBody, kw_only=True):
    text: str
    finish_reason: FinishReason
    tokens: list[GeneratedToken] | UnsetType = UNSET
    logits: list[StepLogits] | UnsetType = UNSET
    evidence: list[EvidenceLine] | UnsetType = UNSET  # the text lines a decided reply was copied from
    metadata: Metadata


class ReadRequest(RequestBody):
    image: ImageSource
    model: str | None = None


class ReadLine(ResponseBody):
    text: str
    box: list[list[float]]  # 4 corners in the image's pixels, clockwise, from the page's top-left as read
    confidence: float


class ReadResponse(ResponseBody):
    text: str
    lines: list[ReadLine]
    metadata: Metadata
    # Degrees the image was turned counter-clockwise to read its text upright (0, 90, 180 or
    # 270): a page photographed on its side or upside down. The boxes are in the image as sent.
    rotation: int = 0


class DetectRequest(RequestBody):
    image: ImageSource
    model: str | None = None


class DetectedObject(ResponseBody):
    """One object the detector found (COCO-80 label), its box and its score."""

    label: str
    box: list[float]  # x0, y0, x1, y1 in image pixels
    score: float


class DetectResponse(ResponseBody):
    objects: list[DetectedObject]  # best score first
    metadata: Metadata


class RankRequest(RequestBody):
    """Either `query` + `images` (rank the images), or `image` + `texts` (rank the texts)."""

    model: str | None = None
    query: str | None = None
    images: Annotated[list[ImageSource], Meta(min_length=1, max_length=MAX_RANK_IMAGES)] | None = None
    image: ImageSource | None = None
    texts: Annotated[list[str], Meta(min_length=1)] | None = None


class RankResponse(ResponseBody):
    scores: list[float]
    order: list[int]
    metadata: Metadata


class SeedRequest(RequestBody):
    text: Annotated[str, Meta(pattern=r"\S", description="Not empty or only whitespace.")]
    model: str | None = None


class SeedResponse(ResponseBody):
    seed: Annotated[int, Meta(ge=0)]
    embedding: list[float]
    metadata: Metadata
