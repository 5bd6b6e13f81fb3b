"""`Model`: the public face of a loaded bundle, one method per task."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass

import numpy as np

from .chat import Message, out_of_turn
from .config import ModelConfig
from .errors import InvalidRequestError, TaskNotSupportedError
from .image import load_image
from .kinds.base import GenerationRequest, KindAdapter
from .params import GenerationParams
from .results import GenerationResult, RankResult, ReadResult, SeedResult, TextDelta
from .scheduler import WorkerPool


def _checked_history(history: Sequence[Message]) -> tuple[Message, ...]:
    """`history` as the chat templates take it: at most one system turn, first, then user
    and assistant turns alternating from a user turn (`chat.out_of_turn`), so that the prompt
    is the next user turn."""
    turns = tuple(history)
    for index, turn in enumerate(turns):
        if not isinstance(turn, Message):
            raise InvalidRequestError(f"history[{index}] must be a runtime.chat.Message.", param="history")
    roles = [turn.role for turn in turns]
    # one system turn at most: a second is out of order wherever it stands
    systems = [i for i, role in enumerate(roles) if role == "system"]
    wrong = [i for i in (out_of_turn(roles), *systems[1:2]) if i is not None]
    if wrong:
        index = min(wrong)
        raise InvalidRequestError(
            f"history[{index}] is a {roles[index]} turn: history holds one system turn first, then user and "
            "assistant turns alternating from a user turn and ending with an assistant turn.", param="history")
    if turns and turns[-1].role == "user":
        raise InvalidRequestError("history must end with an assistant turn: the prompt is the next user turn.",
                                  param="history")
    return turns


@dataclass(frozen=True)
class ComponentInfo:
    """What was loaded for one component and why (shown by `info` and `/v1/models`)."""

    name: str
    precision: str
    variant: str
    file: str
    provider: str
    reason: str


class Model:
    """A loaded bundle. Thread-safe: methods keep per-call state local.

    Images may be bytes, paths, file objects, PIL images or uint8 numpy arrays.
    Generation methods take `GenerationParams` fields as keyword arguments.
    """

    def __init__(self, adapter: KindAdapter, components: Sequence[ComponentInfo], config: ModelConfig,
                 worker_pool: WorkerPool | None = None, twins: Future | None = None):
        """`worker_pool`: the engine's workers (a server runs its requests on them too).
        `twins`: done once the wide twin sessions a load defers exist (`runtime.loading._start_twins`)."""
        self._adapter = adapter
        self._twins = twins
        self.worker_pool = worker_pool or WorkerPool(config.workers)
        manifest = adapter.context.manifest
        self.name = manifest.name
        self.version = manifest.version
        self.kind = manifest.kind
        self.tasks = manifest.tasks
        self.components = tuple(components)
        self.config = config
        self.default_params = _default_params(manifest.generation)
        self.max_seq_len = config.max_seq_len

    @property
    def twins_deferred(self) -> bool:
        """Whether the load made wide twin sessions after returning (`wait_for_twins`)."""
        return self._twins is not None

    def wait_for_twins(self, timeout: float | None = None) -> bool:
        """Wait until the wide twin sessions a load deferred exist (or were given up, which is
        logged); True when none is left. Requests need not wait: they run on the narrow
        sessions meanwhile. Benchmarks wait, so that they time the sessions a server settles on."""
        return self._twins is None or not wait([self._twins], timeout).not_done

    # --- text generation -------------------------------------------------------------

    def caption(self, image, **params) -> GenerationResult:
        return self._finish(self.stream("caption", image, "", **params))

    def ask(self, image, question: str, **params) -> GenerationResult:
        return self._finish(self.stream("vqa", image, question, **params))

    def generate(self, image, prompt: str, history: Sequence[Message] = (), **params) -> GenerationResult:
        """Free generation: a reply to `prompt`, continuing the chat turns in `history` (a
        `Message("system", ...)` first replaces the bundle's default system prompt)."""
        return self._finish(self.stream("generate", image, prompt, history, **params))

    def stream(self, task: str, image, prompt: str = "", history: Sequence[Message] = (),
               **params) -> Iterator[TextDelta | GenerationResult]:
        """Yield `TextDelta`s as text is decided, then the `GenerationResult` last. `history`:
        the chat turns before `prompt`, which free generation (task `generate`) continues."""
        self._require(task)
        # a chat's system message may say everything that is asked of an empty last turn
        if (task == "vqa" or task == "generate" and not history) and not prompt.strip():
            raise InvalidRequestError(f"Task '{task}' needs a non-empty prompt.", param="prompt")
        request = GenerationRequest(
            task=task,
            image=self._image(image) if image is not None else None,
            prompt=prompt,
            params=self.params(**params),
            history=_checked_history(history),
            budget_given=params.get("max_new_tokens") is not None,
        )
        return self._adapter.generate(request)

    def params(self, **overrides) -> GenerationParams:
        """The bundle's generation defaults with per-request overrides applied."""
        try:
            return self.default_params.with_overrides(**overrides)
        except TypeError as error:
            raise InvalidRequestError(f"Unknown generation option: {error}") from None

    # --- reading, embedding, ranking ---------------------------------------------------

    def read(self, image) -> ReadResult:
        self._require("read")
        return self._adapter.read(self._image(image))

    @property
    def has_detector(self) -> bool:
        """Whether the bundle's kind carries an object detector (the default reader's does)."""
        return bool(getattr(self._adapter, "has_detector", False))

    def detect(self, images: Sequence) -> list:
        """The objects in each image (`runtime.vision.Detection`: label, score, box), when the
        bundle has a detector; else the error naming the tasks it can do."""
        if not self.has_detector:
            raise TaskNotSupportedError("detect", self.tasks)
        return self._adapter.detect([self._image(image) for image in images])

    def embed_images(self, images: Sequence) -> np.ndarray:
        self._require("embed")
        return self._adapter.embed_images([self._image(image) for image in images])

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        self._require("embed")
        if not texts or any(not isinstance(t, str) for t in texts):
            raise InvalidRequestError("embed_texts needs a non-empty list of strings.", param="input")
        return self._adapter.embed_texts(list(texts))

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Tokens the embedder feeds for `texts`, special tokens included."""
        self._require("embed")
        return self._adapter.count_tokens(list(texts))

    def count_prompt_tokens(self, texts: Sequence[str], limit: int) -> tuple[int, bool] | None:
        """Tokens of `texts` as the language model counts them against `max_seq_len`:
        `(tokens, exact)`, exact while at most `limit`, else a lower bound over it; None
        when this model has no language-model tokenizer (the server then bounds words)."""
        return self._adapter.count_prompt_tokens(list(texts), limit)

    def rank_images(self, query: str, images: Sequence) -> RankResult:
        """Score images against one text; `order` is best first."""
        self._require("rank")
        query_vector = self.embed_texts([query])[0]
        return _rank(self._adapter.embed_images([self._image(i) for i in images]) @ query_vector)

    def rank_texts(self, image, texts: Sequence[str]) -> RankResult:
        """Score texts against one image; `order` is best first."""
        self._require("rank")
        image_vector = self._adapter.embed_images([self._image(image)])[0]
        return _rank(self.embed_texts(texts) @ image_vector)

    def seed(self, text: str) -> SeedResult:
        """A deterministic text-guided seed: the normalized embedding and a 64-bit seed.

        The seed is the first 8 bytes (big-endian) of SHA-256 over the embedding rounded
        to 4 decimals and stored as little-endian float32, so tiny float noise across
        machines does not change it.
        """
        self._require("seed")
        vector = self.embed_texts([text])[0]
        quantized = np.round(vector.astype(np.float64), 4).astype("<f4").tobytes()
        seed = int.from_bytes(hashlib.sha256(quantized).digest()[:8], "big")
        return SeedResult(embedding=vector, seed=seed)

    # --- helpers -----------------------------------------------------------------------

    def _require(self, task: str) -> None:
        if task not in self.tasks:
            raise TaskNotSupportedError(task, self.tasks)

    def _image(self, image):
        return load_image(image, max_pixels=self.config.max_image_pixels)

    @staticmethod
    def _finish(events) -> GenerationResult:
        result = None
        for event in events:
            result = event
        assert isinstance(result, GenerationResult)
        return result


def _rank(scores: np.ndarray) -> RankResult:
    order = np.argsort(-scores, kind="stable")
    return RankResult(scores=tuple(float(s) for s in scores), order=tuple(int(i) for i in order))


_PARAM_KEYS = {
    "max_new_tokens", "num_beams", "do_sample", "temperature", "top_k", "top_p",
    "repetition_penalty", "length_penalty",
}


def _default_params(generation: dict) -> GenerationParams:
    """Generation defaults from bundle.json, keeping only the decoding fields."""
    return GenerationParams(**{k: v for k, v in generation.items() if k in _PARAM_KEYS})
