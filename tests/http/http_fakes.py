"""A scripted stand-in for `runtime.model.Model` (same public methods and attributes).

It validates what the real model validates (tasks, generation params, context length) and
answers with scripted text, so the HTTP tests check the server, not a network's weights.
"""

from __future__ import annotations

import base64
import io
import struct
import threading
import time
import zlib

import numpy as np
from PIL import Image

from runtime.config import ModelConfig
from runtime.errors import ContextLengthExceededError, InvalidRequestError, TaskNotSupportedError
from runtime.image import load_image
from runtime.model import ComponentInfo
from runtime.params import GenerationParams
from runtime.results import (
    GenerationResult,
    RankResult,
    ReadResult,
    SeedResult,
    StepLogprobs,
    TextDelta,
    TextLine,
    TokenLogprob,
    Usage,
)

ALL_TASKS = ("caption", "vqa", "generate", "read", "embed", "rank", "seed")
IMAGE_TOKENS = 10
EMBED_MAX_TOKENS = 256  # the embedder's own limit (a word is a token here)


class FakeModel:
    """Scripted outputs; `step_delay_s` slows each generated token; `fail_with` raises."""

    def __init__(
        self,
        tasks=ALL_TASKS,
        script=("Hello", " world", "!"),
        step_delay_s: float = 0.0,
        first_delay_s: float = 0.0,
        fail_with: BaseException | None = None,
        max_seq_len: int = 64,
        name: str = "fake-vlm",
        decided: bool = False,
    ):
        self.name = name
        self.version = "1.0"
        self.kind = "fake"
        self.tasks = tuple(tasks)
        self.components = (
            ComponentInfo("encoder", "fp32", "fp32", "onnx/encoder.onnx", "CPUExecutionProvider", "--precision fp32"),
            ComponentInfo("decoder", "int8", "int8", "onnx/decoder_int8.onnx", "CPUExecutionProvider", "VNNI"),
        )
        self.config = ModelConfig(max_image_pixels=50_000_000)
        self.default_params = GenerationParams(max_new_tokens=16)
        self.max_seq_len = max_seq_len
        self.script = tuple(script)
        self.step_delay_s = step_delay_s
        self.first_delay_s = first_delay_s
        self.fail_with = fail_with
        self.decided = decided  # replies decided as a whole (a reader's answers): no log-probs
        self.calls: list[tuple] = []
        self.histories: list[tuple] = []  # each call's chat turns before its prompt
        self.steps_taken = 0
        self.closed = threading.Event()

    # --- generation ----------------------------------------------------------------

    def caption(self, image, **params):
        return self._finish(self.stream("caption", image, "", **params))

    def ask(self, image, question, **params):
        return self._finish(self.stream("vqa", image, question, **params))

    def generate(self, image, prompt, **params):
        return self._finish(self.stream("generate", image, prompt, **params))

    def params(self, **overrides) -> GenerationParams:
        try:
            return self.default_params.with_overrides(**overrides)
        except TypeError as error:
            raise InvalidRequestError(f"Unknown generation option: {error}") from None

    def stream(self, task, image, prompt="", history=(), **params):
        self._require(task)
        if (task == "vqa" or task == "generate" and not history) and not prompt.strip():
            raise InvalidRequestError(f"Task '{task}' needs a non-empty prompt.", param="prompt")
        if image is not None:
            image = load_image(image, max_pixels=self.config.max_image_pixels)
        chosen = self.params(**params)
        self.calls.append((task, prompt, chosen))
        self.histories.append(tuple(history))
        if self.fail_with is not None:
            raise self.fail_with
        prompt_tokens = len(prompt.split()) + (IMAGE_TOKENS if image is not None else 0)
        if prompt_tokens + chosen.max_new_tokens > self.max_seq_len:
            raise ContextLengthExceededError.over_budget(
                prompt_tokens, chosen.max_new_tokens, self.max_seq_len,
                "the image and the prompt" if image is not None else "the prompt",
            )
        return self._events(chosen, prompt_tokens)

    def _events(self, params: GenerationParams, prompt_tokens: int):
        try:
            if self.first_delay_s:
                time.sleep(self.first_delay_s)
            pieces = self.script[: params.max_new_tokens]
            ids = []
            for index, piece in enumerate(pieces):
                if self.step_delay_s:
                    time.sleep(self.step_delay_s)
                self.steps_taken += 1
                ids.append(100 + index)
                yield TextDelta(piece, (100 + index,))
            finish = "length" if len(pieces) < len(self.script) else "stop"
            logprobs = None
            if params.top_logprobs and not self.decided:
                logprobs = tuple(
                    StepLogprobs(
                        TokenLogprob(i, p, -0.5),
                        tuple(TokenLogprob(i + k, f"{p}{k}", -0.5 - k) for k in range(params.top_logprobs)),
                    )
                    for i, p in zip(ids, pieces)
                )
            yield GenerationResult(
                text="".join(pieces),
                token_ids=tuple(ids),
                tokens=pieces,
                finish_reason=finish,
                usage=Usage(prompt_tokens, len(ids)),
                logprobs=logprobs,
            )
        finally:
            self.closed.set()

    # --- other tasks ---------------------------------------------------------------

    def read(self, image) -> ReadResult:
        self._require("read")
        load_image(image)
        box = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))
        return ReadResult(lines=(TextLine("INVOICE 42", box, 0.97), TextLine("Total 17", box, 0.88)))

    def detect(self, images):
        """One scripted object per image (the reader bundle's `detect`, issue 11)."""
        from runtime.vision import Detection

        for image in images:
            load_image(image)
        return [[Detection("cat", 15, 0.9, (1.0, 2.0, 30.0, 40.0))] for _ in images]

    def embed_images(self, images):
        self._require("embed")
        return _unit(np.stack([np.full(4, float(np.asarray(load_image(i)).mean()) + 1) for i in images]))

    def embed_texts(self, texts):
        self._require("embed")
        if not texts or any(not isinstance(t, str) for t in texts):
            raise InvalidRequestError("embed_texts needs a non-empty list of strings.", param="input")
        longest = max(len(t.split()) for t in texts)
        if longest > EMBED_MAX_TOKENS:  # as runtime.embedder refuses, naming its own 'input'
            raise ContextLengthExceededError(longest, EMBED_MAX_TOKENS, advice="Split it.", param="input")
        return _unit(np.stack([np.arange(1, 5, dtype=np.float32) * len(t) for t in texts]))

    def count_tokens(self, texts) -> int:
        return sum(len(t.split()) for t in texts)

    def count_prompt_tokens(self, texts, limit):
        """Like a BPE tokenizer: a word of n characters is ceil(n / 8) tokens, so text without
        spaces is many tokens, not one word."""
        return sum(-(-len(word) // 8) for text in texts for word in text.split()), True

    def rank_images(self, query, images) -> RankResult:
        self._require("rank")
        self.embed_texts([query])  # as Model.rank_images does (its limits, its errors)
        return RankResult(scores=tuple(float(i) for i in range(len(images))), order=tuple(reversed(range(len(images)))))

    def rank_texts(self, image, texts) -> RankResult:
        self._require("rank")
        self.embed_texts(texts)
        return RankResult(scores=tuple(float(len(t)) for t in texts), order=tuple(int(i) for i in np.argsort([-len(t) for t in texts])))

    def seed(self, text) -> SeedResult:
        self._require("seed")
        return SeedResult(embedding=self.embed_texts([text])[0], seed=2**63 + 5)

    def _require(self, task):
        if task not in self.tasks:
            raise TaskNotSupportedError(task, self.tasks)

    @staticmethod
    def _finish(events):
        result = None
        for result in events:
            pass
        return result


def _unit(vectors):
    vectors = vectors.astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# --- images --------------------------------------------------------------------------

def png_bytes(width: int = 16, height: int = 12, color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def data_uri(data: bytes | None = None) -> str:
    return "data:image/png;base64," + base64.b64encode(data or png_bytes()).decode()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` (a decompression-bomb header)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat_data = zlib.compress(b"\x00" * 16)
    idat = struct.pack(">I", len(idat_data)) + b"IDAT" + idat_data + struct.pack(">I", zlib.crc32(b"IDAT" + idat_data))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + end


def chat_body(text: str | None = "What is this?", image: str | None = None, **extra) -> dict:
    parts = []
    if text is not None:
        parts.append({"type": "text", "text": text})
    if image is not None:
        parts.append({"type": "image_url", "image_url": {"url": image}})
    return {"model": "fake-vlm", "messages": [{"role": "user", "content": parts}], **extra}
