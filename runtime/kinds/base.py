"""The interface every model kind implements."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image

from runtime.bundle import Manifest
from runtime.chat import Message
from runtime.config import ModelConfig
from runtime.errors import BundleError, TaskNotSupportedError
from runtime.params import GenerationParams
from runtime.results import GenerationResult, ReadResult, TextDelta
from runtime.scheduler import WorkerPool
from runtime.session import ComponentSession
from runtime.tokenizer import Tokenizer

#: Tasks whose text a language model reads; their text counts against `max_seq_len`.
PROMPT_TASKS = frozenset({"vqa", "generate"})


@dataclass(frozen=True)
class LoadContext:
    """What an adapter gets at load: the verified bundle and one session per component, and
    the engine's worker pool (idle workers may run independent pieces of one request)."""

    bundle_dir: Path
    manifest: Manifest
    sessions: Mapping[str, ComponentSession]
    config: ModelConfig
    pool: WorkerPool = field(default_factory=lambda: WorkerPool(1))
    preloaded: Mapping[str, object] = field(default_factory=dict)  # what the kind's `preload` returned

    def path(self, relative: str | None, what: str) -> Path:
        if relative is None:
            raise BundleError(f"bundle.json names no {what}, which kind '{self.manifest.kind}' needs.")
        return self.bundle_dir / relative


@dataclass(frozen=True)
class GenerationRequest:
    """One text-generation request (caption, vqa or generate) after parsing."""

    task: str
    image: Image.Image | None
    prompt: str
    params: GenerationParams
    # A chat's turns before `prompt` (a system turn first, then user and assistant turns
    # alternating up to the prompt's), which free generation continues; other tasks answer
    # the prompt alone.
    history: tuple[Message, ...] = ()
    # Whether the caller set `params.max_new_tokens` (otherwise it is the bundle's default,
    # which bounds what a model generates, not a reply copied whole from the page).
    budget_given: bool = False


@dataclass(frozen=True)
class ImportPlan:
    """What `import` writes for a folder of this kind, decided from its config.json."""

    tasks: tuple[str, ...]
    max_seq_len: int | None
    drop_components: tuple[str, ...] = ()


class KindAdapter:
    """Base class for kinds. Subclasses set the class attributes and override the tasks.

    Adapters are read-only after `__init__`: per-request state lives in local variables
    and per-request objects, so one adapter serves concurrent requests.
    """

    kind_name: ClassVar[str]
    kind_tasks: ClassVar[frozenset[str]]  # the most this kind can do
    required_components: ClassVar[tuple[str, ...]] = ()
    optional_components: ClassVar[tuple[str, ...]] = ()
    # Components run one image at a time whose passes cannot be split between workers (a
    # detector): they get a twin session on all the cores for a run alone in flight
    # (runtime.scheduler.RunGauge). Kept to small graphs: each twin is another copy of the weights.
    wide_components: ClassVar[tuple[str, ...]] = ()
    # A decoder's step components, which a batched decode thread runs for every request when a
    # server takes several at once (runtime.batching, lockstep): one batched step at a time does
    # the decoding work the workers did side by side, so where the workers split the cores these
    # sessions get all of them, no twin (`LoadPlan.batched_components`; the kind steps a request
    # decoded outside the batch, beam search, one at a time).
    batched_components: ClassVar[tuple[str, ...]] = ()
    #: For `import`: config.json model_type values of this kind, ONNX file stem → component.
    import_model_types: ClassVar[tuple[str, ...]] = ()
    #: For `import`: (step component, the input its per-request work depends on, the component
    #: that does that work once) when the step graph may be split (runtime.bundle.hoist), and
    #: the components the split replaces.
    import_hoist: ClassVar[tuple[str, str, str] | None] = None
    import_hoist_replaces: ClassVar[tuple[str, ...]] = ()
    import_layout: ClassVar[dict[str, str]] = {}

    def __init__(self, context: LoadContext):
        self.context = context
        self.tasks = context.manifest.tasks
        manifest = context.manifest
        # Counts a request's text in the tokens `max_seq_len` limits (issue 12: counting
        # words let 200,000 characters without a space through). A kind that takes
        # prompts and names its tokenizer in bundle.json gets it on first use, unless the
        # adapter hands over the copy it loaded already (the reader's is ~23 MB).
        self._prompt_tokenizer: Tokenizer | None = None
        self._prompt_tokenizer_path = None
        if manifest.tokenizer is not None and PROMPT_TASKS & set(manifest.tasks):
            self._prompt_tokenizer_path = context.path(manifest.tokenizer, "tokenizer")

    @property
    def prompt_tokenizer(self) -> Tokenizer | None:
        if self._prompt_tokenizer is None and self._prompt_tokenizer_path is not None:
            self._prompt_tokenizer = Tokenizer.from_file(self._prompt_tokenizer_path)
        return self._prompt_tokenizer

    @prompt_tokenizer.setter
    def prompt_tokenizer(self, tokenizer: Tokenizer | None) -> None:
        self._prompt_tokenizer = tokenizer

    @classmethod
    def preload(cls, bundle_dir: Path, manifest: Manifest) -> dict[str, object]:
        """What the adapter can read from the verified bundle before its sessions exist
        (tokenizers): `load_model` runs this while onnxruntime builds the sessions on other
        threads, and hands the result over as `LoadContext.preloaded`."""
        return {}

    @classmethod
    def check_manifest(cls, manifest: Manifest) -> None:
        """Refuse bundles whose tasks or components this kind cannot serve."""
        extra_tasks = set(manifest.tasks) - cls.kind_tasks
        if extra_tasks:
            raise BundleError(
                f"bundle.json declares tasks {sorted(extra_tasks)} that kind '{cls.kind_name}' "
                f"cannot do (it can do: {', '.join(sorted(cls.kind_tasks))})."
            )
        names = set(manifest.components)
        missing = [c for c in cls.required_components if c not in names]
        if missing:
            raise BundleError(f"Kind '{cls.kind_name}' needs components {missing}; bundle.json lacks them.")
        unknown = names - set(cls.required_components) - set(cls.optional_components)
        if unknown:
            raise BundleError(
                f"Kind '{cls.kind_name}' does not use components {sorted(unknown)}; "
                f"it knows {sorted({*cls.required_components, *cls.optional_components})}."
            )

    @classmethod
    def import_fuse(cls, config: dict, step_path: Path, once_path: Path, fused_path: Path):
        """For `import`, with `import_hoist`: write a step graph of fused operators for the
        exported step graph `step_path` at `fused_path` and its once-per-request graph at
        `once_path`, and return what runtime.bundle.fuse_gpt2.check needs (a `Fused`); None
        where the kind has none for this model (the exported graph is then split instead)."""
        return None

    @classmethod
    def import_int8(cls, root: Path, components: dict, inputs) -> dict:
        """For `import --int8` (`inputs`: generation settings and preprocessor path): `components`
        (name -> variants) with int8 variants written and measured against fp32 on this CPU;
        kinds without them refuse. With `inputs` None (a plain import), the kind removes int8
        files an earlier `--int8` import wrote and returns `components` as they are."""
        if inputs is None:
            return components
        raise BundleError(f"import --int8 is not available for kind '{cls.kind_name}'.")

    @classmethod
    def import_plan(cls, config: dict, components: set[str]) -> ImportPlan:
        """Tasks, sequence limit and redundant components for an imported folder."""
        raise BundleError(f"Kind '{cls.kind_name}' cannot be imported from a model folder.")

    def _unsupported(self, task: str):
        return TaskNotSupportedError(task, self.tasks)

    # --- tasks; adapters override what they support ---------------------------------

    def generate(self, request: GenerationRequest) -> Iterator[TextDelta | GenerationResult]:
        """Stream text deltas, then yield the final `GenerationResult` last."""
        raise self._unsupported(request.task)

    def read(self, image: Image.Image) -> ReadResult:
        raise self._unsupported("read")

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        raise self._unsupported("embed")

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise self._unsupported("embed")

    def count_prompt_tokens(self, texts: list[str], limit: int) -> tuple[int, bool] | None:
        """Tokens of a request's texts where `max_seq_len` counts them (`Tokenizer.count_up_to`),
        or None for a kind with no prompt tokenizer."""
        if self.prompt_tokenizer is None:
            return None
        return self.prompt_tokenizer.count_up_to(texts, limit)

    def count_tokens(self, texts: list[str]) -> int:
        """Tokens `embed_texts` would feed for `texts` (for truthful usage)."""
        raise self._unsupported("embed")
