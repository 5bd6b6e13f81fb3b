"""`ApiService`: the transport-free serving logic behind every route (DESIGN §6).

It holds the model (or its loading status), the bounded engine runner and the metrics,
and turns parsed calls (openai.py / native.py) into response objects or SSE bytes. Hosts
(the aiohttp app here; a Starlette ingress later) only read bodies and write responses.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from runtime.chat import Message
from runtime.errors import ContextLengthExceededError, InvalidRequestError, TaskNotSupportedError
from runtime.results import GenerationResult, TextDelta, Usage
from runtime.scheduler import END, EngineRunner, EngineStream

from . import completions, images, native, openai, schemas, sse
from .config import ServerConfig
from .errors import ClientGoneError, ModelLoadingError, RequestTimeoutError, error_reply
from .metrics import ServerMetrics

logger = logging.getLogger("runtime.server")  # the name operators filter the server log by

_POLL_S = 0.5  # how often a waiting request checks whether its client is still there


@dataclass
class RequestContext:
    """Per-request facts the service needs from the host."""

    request_id: str
    started: float = field(default_factory=time.monotonic)
    gone: Callable[[], bool] = lambda: False
    timeout_s: float = 300.0

    @property
    def deadline(self) -> float:
        return self.started + self.timeout_s


RemoteFetcher = Callable[[images.RemoteImage, images.ImagePolicy], Awaitable[bytes]]


async def _no_remote_fetcher(remote: images.RemoteImage, policy: images.ImagePolicy) -> bytes:
    raise InvalidRequestError(
        "This host cannot fetch remote images; send the image inline as a data: URI or base64.",
        param="image_url",
    )


class ApiService:
    """Serves one model; thread-safe where the engine runs, loop-bound elsewhere.

    `fetch_remote` fetches an http(s) image that `--allow-remote-images` allows; the host
    supplies it because it needs an HTTP client (the aiohttp one: runtime/server/remote.py).
    """

    def __init__(self, config: ServerConfig, model=None, fetch_remote: RemoteFetcher = _no_remote_fetcher):
        self.config = config
        self.fetch_remote = fetch_remote
        self.metrics = ServerMetrics()
        self.engine = EngineRunner(config.max_queue, self.metrics.queue_depth.set)
        self.metrics.watch_queue(self.engine)
        self.policy = images.ImagePolicy(
            max_bytes=config.max_body_bytes,
            max_pixels=config.max_image_pixels,
            media_dir=config.media_dir,
            allow_remote=config.allow_remote_images,
        )
        self.created = int(time.time())
        self.model = None
        self.status = "loading"
        self.load_error: BaseException | None = None
        if model is not None:
            self.set_model(model)

    # --- lifecycle ---------------------------------------------------------------------

    def set_model(self, model) -> None:
        # the model's thread budget (runtime.scheduler), on the model's own workers when it has them
        self.engine.start(model.config.workers, getattr(model, "worker_pool", None))
        self.model = model
        self.status = "ok"

    def load(self, loader: Callable[[], object]) -> object:
        """Load (blocking; run it on a thread). Returns the model; `set_model` then serves it
        and `warm_up_later` warms it up."""
        return loader()

    def warm_up_later(self, model) -> None:
        """Run the warm-up request on a thread of its own once the model serves (/health says
        ok), and again once the deferred wide twin sessions exist (a first request alone in
        flight would otherwise pay their first-run allocations). On the reader bundle it did
        not shorten the first real question (1486 vs 1489 ms, measured) and it cost a quarter
        of a second of every start before /health said ok (issue 13, comparison 6). A first
        warm-up that fails marks the service failed (/health 503), as a failed load does."""
        if self.config.warmup:
            threading.Thread(target=self._warm_up, args=(model,), name="wan-warm-up", daemon=True).start()

    def _warm_up(self, model) -> None:
        try:
            warm_up(model)
        except Exception as error:  # noqa: BLE001 - reported through /health, as a failed load is
            self.status, self.load_error = "failed", error
            logger.exception("The model's first request (the warm-up) failed; /health now says failed.")
            return
        try:
            if getattr(model, "twins_deferred", False):
                model.wait_for_twins()
                warm_up(model)
        except Exception:  # noqa: BLE001 - a cold twin costs one slower request, never a reply
            logger.exception("Warming up the wide twin sessions failed; serving anyway.")

    @property
    def model_id(self) -> str:
        return self.config.model_id or (self.model.name if self.model is not None else "loading")

    @property
    def served_ids(self) -> tuple[str, ...]:
        return (self.model_id, self.model.name)

    def require_model(self):
        if self.model is None:
            raise ModelLoadingError("The model is still loading; retry in a few seconds.")
        return self.model

    def health(self) -> tuple[int, schemas.Health]:
        if self.status == "ok":
            return 200, schemas.Health("ok")
        if self.status == "failed":
            return 503, schemas.Health("failed", "Model failed to load")
        return 503, schemas.Health("loading", "Loading model")

    def models(self) -> schemas.ModelList:
        return openai.models_response(self.require_model(), self.model_id, self.created)

    # --- helpers -----------------------------------------------------------------------

    async def body(self, read: Awaitable[object], context: RequestContext) -> object:
        """The request's body as the host reads it (`read`), given up at the request's deadline
        as its computation would be: a body that stops arriving (headers, a few bytes, then
        nothing) gets the timeout error instead of holding its connection for ever."""
        try:
            return await asyncio.wait_for(read, max(context.deadline - time.monotonic(), 0.0))
        except asyncio.TimeoutError:
            self.metrics.timeouts.inc()
            raise RequestTimeoutError(
                f"The request's body did not arrive within the server's timeout of {context.timeout_s:g} s; "
                "send the whole body at once.") from None

    async def _wait(self, future: asyncio.Future, context: RequestContext):
        """Await an engine future, giving up at the deadline or when the client is gone (the
        job then stops where it can, `runtime.scheduler.RequestAbandoned`: what it raises
        is nobody's)."""
        try:
            while True:
                remaining = context.deadline - time.monotonic()
                if remaining <= 0:
                    self.metrics.timeouts.inc()
                    raise RequestTimeoutError(
                        f"The request took longer than the server's timeout of {self.config.request_timeout_s:g} s."
                    )
                done, _ = await asyncio.wait({future}, timeout=min(remaining, _POLL_S))
                if done:
                    return future.result()
                if context.gone():
                    self.metrics.cancelled.inc()
                    raise ClientGoneError()
        except BaseException:  # timed out, client gone, or the handler cancelled: nobody awaits it now
            _given_up(future)
            raise

    async def _image(self, image: openai.ImageInput, context: RequestContext) -> Image.Image:
        located = await self._wait(self.engine.submit(images.locate, image, self.policy), context)
        if isinstance(located, images.RemoteImage):
            located = await self.fetch_remote(located, self.policy)
        began = time.perf_counter()
        decoded = await self._wait(self.engine.submit(images.decode, located, self.policy), context)
        self.metrics.image_decode.observe(time.perf_counter() - began)
        return decoded

    def _metadata(self, task: str, timings_ms: dict) -> schemas.Metadata:
        components = self.model.components
        return schemas.Metadata(
            model=self.model_id,
            task=task,
            precision=",".join(sorted({c.precision for c in components})),
            provider=",".join(sorted({c.provider for c in components})),
            timings_ms={k: round(v, 3) for k, v in timings_ms.items()},
        )

    def _count_result(self, task: str, result: GenerationResult, began: float) -> None:
        self.metrics.task_latency.labels(task).observe(time.perf_counter() - began)
        self.metrics.count_usage(result.usage.prompt_tokens, result.usage.completion_tokens)
        self.metrics.batch_size.labels(task).observe(1)

    async def _run(self, task: str, context: RequestContext, function, *args):
        began = time.perf_counter()
        result = await self._wait(self.engine.submit(function, *args), context)
        self.metrics.task_latency.labels(task).observe(time.perf_counter() - began)
        return result

    # --- text generation ---------------------------------------------------------------

    async def _begin(self, task: str, decoded, prompt: str, overrides: dict, context: RequestContext,
                      fields: tuple[str, str], history: tuple[Message, ...] = ()):
        """Start a generation on the engine; `fields` name the token budget and the text as the
        client sent them (the engine says `max_new_tokens` and `prompt`); `history` holds a
        chat's turns before `prompt` (`Model.stream`)."""
        try:
            return await self._wait(self.engine.submit(_events, self.model, task, decoded, prompt, overrides, history),
                                    context)
        except ContextLengthExceededError as error:
            raise _in_client_terms(error, *fields) from None

    async def _start(self, task: str, image, prompt: str, overrides: dict, context: RequestContext,
                     fields: tuple[str, str], history: tuple[Message, ...] = ()) -> EngineStream:
        decoded = await self._image(image, context) if image is not None else None
        return self.engine.stream(await self._begin(task, decoded, prompt, overrides, context, fields, history))

    async def _collect(self, stream: EngineStream, context: RequestContext) -> GenerationResult:
        try:
            while True:
                item = await self._wait(stream.step(), context)
                stream.take()
                if item is END:
                    raise RuntimeError("the generation ended without a GenerationResult")  # a bug: 500
                if isinstance(item, GenerationResult):
                    return item
        finally:
            stream.close()

    async def chat(self, call: openai.ChatCall, context: RequestContext) -> schemas.ChatCompletion:
        """A non-streamed chat completion."""
        self.require_model()
        with self.engine.acquire():
            began = time.perf_counter()
            stream = await self._start(call.task, call.image, call.prompt, call.overrides, context,
                                       (call.budget_field, "messages"), call.history)
            result = await self._collect(stream, context)
            self._count_result(call.task, result, began)
        responder = openai.ChatResponder(self.model_id, call, "chatcmpl-" + context.request_id)
        return responder.completion(result)

    async def _generation_items(
        self, task: str, image, prompt: str, overrides: dict, context: RequestContext, stream_box: list,
        fields: tuple[str, str], history: tuple[Message, ...] = (),
    ) -> AsyncIterator[TextDelta | GenerationResult | None]:
        """One generation's items as they come, with None for every keep-alive interval spent
        waiting. The engine stream is put in `stream_box` so the caller closes it."""
        starting = asyncio.ensure_future(self._start(task, image, prompt, overrides, context, fields, history))
        try:
            while not starting.done():
                done, _ = await asyncio.wait({starting}, timeout=self.config.keepalive_interval_s)
                if not done:
                    yield None
        finally:
            if not starting.done():
                starting.cancel()
        stream = starting.result()
        stream_box.append(stream)
        while True:
            future = stream.step()
            done, _ = await asyncio.wait({future}, timeout=self.config.keepalive_interval_s)
            if not done:
                if time.monotonic() > context.deadline:
                    self.metrics.timeouts.inc()
                    raise RequestTimeoutError("The stream ran past the server's request timeout.")
                yield None
                continue
            item = stream.take()
            if item is END:
                return
            yield item

    async def chat_stream(self, call: openai.ChatCall, context: RequestContext) -> AsyncIterator[bytes]:
        """SSE bytes: keep-alives while waiting, chunks, the usage chunk, `[DONE]`.

        Errors before the first yield propagate (the host answers with a JSON error);
        later ones are sent as an `error` event. Closing the generator early (the client
        went away; the host counts it in `metrics.cancelled`) stops the generation; the slot
        is free once the engine step in flight, if any, has ended (`runtime.scheduler.Slot`).
        """
        self.require_model()
        slot = self.engine.acquire()
        streams: list[EngineStream] = []
        responder = openai.ChatResponder(self.model_id, call, "chatcmpl-" + context.request_id)
        began = time.perf_counter()
        yielded = False
        try:
            yield_role = True
            items = self._generation_items(call.task, call.image, call.prompt, call.overrides, context, streams,
                                           (call.budget_field, "messages"), call.history)
            async with aclosing(items):
                async for item in items:
                    if item is None:
                        yielded = True
                        yield sse.KEEP_ALIVE
                        continue
                    if yield_role:
                        yield_role, yielded = False, True
                        self.metrics.time_to_first_token.observe(time.monotonic() - context.started)
                        yield sse.event(responder.first_chunk())
                    if isinstance(item, TextDelta):
                        if item.text:
                            yield sse.event(responder.text_chunk(item.text, item.logprobs))
                    elif isinstance(item, GenerationResult):
                        self._count_result(call.task, item, began)
                        yield sse.event(responder.last_chunk(item))
                        if call.include_usage:
                            yield sse.event(responder.usage_chunk(item))
            yield sse.DONE
        except Exception as error:  # noqa: BLE001 - after the first byte, errors travel in the stream
            if not yielded:
                raise
            yield self._stream_error(error, context)
            yield sse.DONE
        finally:
            for stream in streams:
                stream.close()
            slot.release()

    def _stream_error(self, error: Exception, context: RequestContext) -> bytes:
        reply = error_reply(error, context.request_id)
        if reply.unexpected:
            logger.error("Stream failed (request %s)", context.request_id, exc_info=error)
        self.metrics.errors.labels(reply.body["error"]["code"] or "unknown").inc()
        return sse.event(reply.body)

    # --- legacy text completions ---------------------------------------------------------

    async def completions(self, call: completions.CompletionCall, context: RequestContext) -> schemas.Completion:
        """A non-streamed `/v1/completions` reply: one choice per prompt, run in turn."""
        self.require_model()
        results = []
        with self.engine.acquire():
            for index, prompt in enumerate(call.prompts):
                began = time.perf_counter()
                stream = await self._start("generate", None, prompt, call.overrides, context,
                                           ("max_tokens", completions.prompt_field(call, index)))
                result = await self._collect(stream, context)
                self._count_result("generate", result, began)
                results.append(result)
        return completions.CompletionResponder(self.model_id, call, "cmpl-" + context.request_id).completion(results)

    async def completions_stream(self, call: completions.CompletionCall, context: RequestContext) -> AsyncIterator[bytes]:
        """SSE bytes of `/v1/completions`: each prompt's chunks in turn (its `index` tells
        them apart), the usage chunk, `[DONE]`; errors and disconnects as in `chat_stream`."""
        self.require_model()
        slot = self.engine.acquire()
        streams: list[EngineStream] = []
        responder = completions.CompletionResponder(self.model_id, call, "cmpl-" + context.request_id)
        yielded = False
        try:
            for index, prompt in enumerate(call.prompts):
                began = time.perf_counter()
                items = self._generation_items("generate", None, prompt, call.overrides, context, streams,
                                               ("max_tokens", completions.prompt_field(call, index)))
                async with aclosing(items):
                    async for item in items:
                        yielded = True
                        if item is None:
                            yield sse.KEEP_ALIVE
                        elif isinstance(item, TextDelta):
                            if item.text:
                                yield sse.event(responder.text_chunk(index, item.text, item.logprobs))
                        elif isinstance(item, GenerationResult):
                            self._count_result("generate", item, began)
                            yield sse.event(responder.last_chunk(index, item))
            if call.include_usage:
                yield sse.event(responder.usage_chunk())
            yield sse.DONE
        except Exception as error:  # noqa: BLE001 - after the first byte, errors travel in the stream
            if not yielded:
                raise
            yield self._stream_error(error, context)
            yield sse.DONE
        finally:
            for stream in streams:
                stream.close()
            slot.release()

    async def generate(self, call: native.GenerateCall, context: RequestContext) -> schemas.GenerateResponse:
        self.require_model()
        with self.engine.acquire():
            began = time.perf_counter()
            image_ms = 0.0
            decoded = None
            if call.image is not None:
                decoded = await self._image(call.image, context)
                image_ms = (time.perf_counter() - began) * 1000
            events = await self._begin(call.task, decoded, call.prompt, call.overrides, context,
                                        (call.budget_field, "prompt"))
            result = await self._collect(self.engine.stream(events), context)
            self._count_result(call.task, result, began)
        total_ms = (time.perf_counter() - began) * 1000
        timings = {"image_decode": image_ms, "inference": total_ms - image_ms, "total": total_ms}
        return native.generate_response(call, result, self._metadata(call.task, timings))

    # --- other tasks -------------------------------------------------------------------

    async def read(self, image: openai.ImageInput, context: RequestContext) -> schemas.ReadResponse:
        model = self.require_model()
        with self.engine.acquire():
            began = time.perf_counter()
            decoded = await self._image(image, context)
            result = await self._run("read", context, model.read, decoded)
        return native.read_response(result, self._metadata("read", {"total": (time.perf_counter() - began) * 1000}))

    async def detect(self, image: openai.ImageInput, context: RequestContext) -> schemas.DetectResponse:
        model = self.require_model()
        detect = _detector(model)
        with self.engine.acquire():
            began = time.perf_counter()
            decoded = await self._image(image, context)
            found = await self._run("detect", context, detect, [decoded])
        metadata = self._metadata("detect", {"total": (time.perf_counter() - began) * 1000})
        return native.detect_response(found[0], metadata)

    async def rank(self, call: native.RankCall, context: RequestContext) -> schemas.RankResponse:
        model = self.require_model()
        with self.engine.acquire():
            began = time.perf_counter()
            if call.query is not None:
                decoded = [await self._image(image, context) for image in call.images]
                self.metrics.batch_size.labels("rank").observe(len(decoded))
                with _input_named("query"):
                    result = await self._run("rank", context, model.rank_images, call.query, decoded)
            else:
                decoded = await self._image(call.image, context)
                self.metrics.batch_size.labels("rank").observe(len(call.texts))
                with _input_named("texts"):
                    result = await self._run("rank", context, model.rank_texts, decoded, list(call.texts))
        return native.rank_response(result, self._metadata("rank", {"total": (time.perf_counter() - began) * 1000}))

    async def seed(self, text: str, context: RequestContext) -> schemas.SeedResponse:
        model = self.require_model()
        with self.engine.acquire():
            began = time.perf_counter()
            with _input_named("text"):
                result = await self._run("seed", context, model.seed, text)
        return native.seed_response(result, self._metadata("seed", {"total": (time.perf_counter() - began) * 1000}))

    async def embeddings(self, call: openai.EmbeddingCall, context: RequestContext) -> schemas.EmbeddingList:
        model = self.require_model()
        texts = [(i, item) for i, item in enumerate(call.items) if isinstance(item, str)]
        pictures = [(i, item) for i, item in enumerate(call.items) if not isinstance(item, str)]
        vectors: dict[int, object] = {}
        with self.engine.acquire():
            if texts:
                self.metrics.batch_size.labels("embed").observe(len(texts))
                embedded = await self._run("embed", context, model.embed_texts, [t for _, t in texts])
                vectors.update({i: v for (i, _), v in zip(texts, embedded)})
            if pictures:
                decoded = [await self._image(image, context) for _, image in pictures]
                self.metrics.batch_size.labels("embed").observe(len(decoded))
                embedded = await self._run("embed", context, model.embed_images, decoded)
                vectors.update({i: v for (i, _), v in zip(pictures, embedded)})
        stacked = np.stack([vectors[i] for i in range(len(call.items))])
        prompt_tokens = _count_tokens(model, [t for _, t in texts])
        self.metrics.count_usage(prompt_tokens, 0)
        return openai.embeddings_response(call, stacked, self.model_id, prompt_tokens)


def _given_up(future: asyncio.Future) -> None:
    """Nobody will await `future`: its exception, if it ends with one, is retrieved when it
    ends, so asyncio does not log it as never retrieved."""
    future.add_done_callback(lambda done: done.cancelled() or done.exception())


def _in_client_terms(error: ContextLengthExceededError, budget_field: str, text_field: str) -> ContextLengthExceededError:
    """The engine's context error with the client's field names (`max_tokens` for the
    budget, `messages` for a chat's text); its message already says what the text holds."""
    renamed = error.naming(budget_field)
    if renamed.param == "prompt":
        renamed.param = text_field
    return renamed


@contextmanager
def _input_named(field: str) -> Iterator[None]:
    """The embedder names the text it refuses `input` (/v1/embeddings' field); on routes that
    send it as another field, an error names that field."""
    try:
        yield
    except InvalidRequestError as error:
        if error.param == "input":
            error.param = field
        raise


def _detector(model):
    """The model's object detector (`detect(images)`), or a 400 naming the tasks it can do.
    A bundle has one when its kind carries a `detector` component (the default reader's)."""
    detect = getattr(model, "detect", None)
    if detect is None or not getattr(model, "has_detector", True):
        raise TaskNotSupportedError("detect", model.tasks)
    return detect


def _count_tokens(model, texts: list[str]) -> int:
    """Text tokens embedded, when the model can count them (images count as none)."""
    counter = getattr(model, "count_tokens", None)
    if counter is None or not texts:
        return 0
    return int(counter(texts))


def _events(model, task: str, image, prompt: str, overrides: dict, history: tuple[Message, ...] = ()):
    """Start a generation (on an engine thread); `read` answers as one final result."""
    if task == "read":
        text = model.read(image).text
        return iter([GenerationResult(text, (), (), "stop", Usage(0, 0))])
    return model.stream(task, image, prompt, history=history, **overrides)


def warm_up(model) -> None:
    """One tiny request per kind of work, so the first user request is not the slow one."""
    picture = Image.new("RGB", (32, 32), (128, 128, 128))
    tasks = set(model.tasks)
    try:
        if "caption" in tasks:
            model.caption(picture, max_new_tokens=1)
        elif "vqa" in tasks:
            model.ask(picture, "What is this?", max_new_tokens=1)
        elif "generate" in tasks:
            model.generate(picture, "Hello", max_new_tokens=1)
        if "read" in tasks:
            model.read(picture)
        if "embed" in tasks:
            model.embed_texts(["warm-up"])
            model.embed_images([picture])
    except InvalidRequestError as error:
        logger.warning("Warm-up request refused (%s); serving anyway.", error)
