"""Loading a bundle in two steps: `plan_load` decides, `load_model` obeys.

`plan_load` is where every start-up decision is made once — the manifest (or the
description of an Optimum / transformers.js folder), the variant and device per component,
the effective `max_seq_len`, the thread budget — and, when asked, where the bundle's hashes
are checked. It creates no session, so the CLI can print the plan (and refuse a tampered
bundle) before anything loads or listens. `load_model` turns a plan into a `Model`.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .bundle import MANIFEST_NAME, Manifest, NotInstalled, VerifiedFiles, not_installed, read_manifest, verify_files
from .batching import rows_independent
from .bundle.importer import describe_folder
from .config import ModelConfig
from .errors import BundleError, InvalidRequestError
from .kinds import LoadContext, adapter_for
from .model import ComponentInfo, Model
from .placement import HardwareInfo, Selection, detect_hardware, select_variants
from .scheduler import RunGauge, ThreadBudget, WorkerPool, thread_budget
from .session import ComponentSession, SessionConfig

LANGUAGE_MODEL = "lm_decoder"  # the reader kind's chat model: the component continuous batching serves
# A twin session holds a second copy of its weights (the fused int4 LM: 120 MB file, +180 MB
# resident): the batched LM gets one only up to this size (not the 540 MB fp32 export).
WIDE_LM_MAX_BYTES = 256 << 20


@dataclass(frozen=True)
class LoadPlan:
    """What would be loaded, where, and why; `load_model(plan)` carries it out.

    `max_seq_len` is the effective cap (the requested one, else the model's own limit;
    None when neither exists). `has_manifest` is False for a model folder described on the
    fly (it has no recorded hashes to check); `verified` says the hashes were checked.
    """

    bundle_dir: Path
    manifest: Manifest
    hardware: HardwareInfo
    selection: Selection
    budget: ThreadBudget
    max_seq_len: int | None
    max_image_pixels: int
    has_manifest: bool
    not_installed: tuple[NotInstalled, ...] = ()  # optional variants whose files are absent (another download)
    # Set only by plan_load(verify=True): what was verified, and when (each file's stat), so
    # that load_model refuses a file changed since. A dataclasses.replace copy is unverified.
    verified: VerifiedFiles | None = field(default=None, init=False)

    def lines(self) -> list[str]:
        """Human-readable: the device and each component's variant with its reason, then threads
        (and, for a language model, whether replies are batched)."""
        return [*self.selection.lines(), f"threads: {self.budget.reason}{self._wide()}{self._batching()}"]

    def wide_components(self) -> tuple[str, ...]:
        """Components that get a twin session on `budget.wide_threads` threads (see `RunGauge`):
        the kind's, and a batched language model up to `WIDE_LM_MAX_BYTES`. Its batched step
        runs on one decode thread for every stream (`runtime.batching`), while the workers that
        read those streams wait: on one worker's share of the cores, 8 streams decoded at
        1.0-1.3x one stream's rate (issue 13); alone in flight, the step takes every core."""
        if not self.budget.wide_threads:
            return ()
        wide = [name for name in adapter_for(self.manifest.kind).wide_components if name in self.selection.components]
        lm = self.selection.components.get(LANGUAGE_MODEL)
        if self._lm_batched() and lm.variant.bytes <= WIDE_LM_MAX_BYTES and LANGUAGE_MODEL not in wide:
            wide.append(LANGUAGE_MODEL)
        return tuple(wide)

    def batched_components(self) -> tuple[str, ...]:
        """The kind's `batched_components` when its decoder batches: several requests at once,
        every one of them a graph whose rows stay independent (`batching.rows_independent`;
        `batching.supports_lockstep` decides the same from the sessions). Where the workers split the cores, their sessions
        run on `budget.wide_threads` threads."""
        names = [name for name in adapter_for(self.manifest.kind).batched_components
                 if name in self.selection.components]
        independent = all(self._rows_independent(name) for name in names)
        if not names or not independent or self.budget.max_concurrent < 2:
            return ()
        return tuple(names)

    def _lm_batched(self) -> bool:
        return (LANGUAGE_MODEL in self.selection.components and self.budget.max_concurrent >= 2
                and self._rows_independent(LANGUAGE_MODEL))

    def _rows_independent(self, name: str) -> bool:
        variant = self.selection.components[name].variant
        return rows_independent(variant.precision, self.bundle_dir / variant.file)

    def _wide(self) -> str:
        wide, batched = self.wide_components(), self.batched_components()
        text = f"; {', '.join(wide)} on {self.budget.wide_threads} when alone in flight" if wide else ""
        if batched:
            threads = f" on {self.budget.wide_threads}" if self.budget.wide_threads else ""
            text += (f"; {', '.join(batched)}{threads} in one decode thread that steps up to "
                     f"{self.budget.max_concurrent} captions started together (beam search: one at a time, alone)")
        return text

    def _batching(self) -> str:
        lm = self.selection.components.get(LANGUAGE_MODEL)
        if lm is None or self.budget.max_concurrent < 2:
            return ""
        if self._lm_batched():
            return f"; the language model decodes up to {self.budget.max_concurrent} replies per batched step"
        return (f"; the language model ({lm.variant.precision}, dynamic quantization) decodes each reply alone: "
                "batched rows would share activation scales")

    def to_dict(self) -> dict:
        """JSON-ready: the selection plus the thread budget and the effective limits."""
        budget = self.budget
        return {
            **self.selection.to_dict(),
            "threads": {"workers": budget.workers, "intra_op_threads": budget.intra_op_threads,
                        "usable_cores": budget.usable_cores, "reason": budget.reason},
            "max_seq_len": self.max_seq_len,
        }

    def precisions(self) -> dict:
        """Which precisions are installed (precision -> components that have it here) and which
        variants are available to download (with the archive that carries each)."""
        absent = {(item.component, item.variant.label) for item in self.not_installed}
        installed: dict[str, list[str]] = {}
        for name, component in self.manifest.components.items():
            for precision in dict.fromkeys(v.precision for v in component.variants if (name, v.label) not in absent):
                installed.setdefault(precision, []).append(name)
        return {"installed": dict(sorted(installed.items())),
                "to_download": [item.to_dict() for item in self.not_installed]}


def read_bundle(path: str | os.PathLike) -> tuple[Manifest, bool]:
    """(manifest, has_manifest) for a bundle folder or an Optimum / transformers.js folder.

    A folder without bundle.json but with config.json is described now, as
    `wan2.2-turbo import` would (hashes computed, nothing written).
    """
    folder = Path(path)
    if not (folder / MANIFEST_NAME).is_file() and (folder / "config.json").is_file():
        return describe_folder(folder), False
    return read_manifest(folder), True


def loaded_files(manifest: Manifest, selection: Selection) -> tuple:
    """The files a load with `selection` reads: the bundle's listed non-model files and the
    chosen variant of each component (other precisions are never opened, so never hashed at
    start: a bundle's unused fp32 LM alone is 540 MB)."""
    chosen = [f for choice in selection.components.values() for f in choice.variant.files()]
    return (*manifest.files, *chosen)


def plan_load(
    path: str | os.PathLike,
    precision: str = "auto",
    device: str = "auto",
    max_seq_len: int | None = None,
    *,
    threads: int | None = None,
    max_concurrent: int = 1,
    max_image_pixels: int = ModelConfig.max_image_pixels,
    hardware: HardwareInfo | None = None,
    verify: bool = False,
) -> LoadPlan:
    """Decide how to load the bundle at `path`, without creating any session.

    Args:
        path: a bundle folder (bundle.json), or an Optimum / transformers.js model folder.
        precision: "auto" or one of fp32/fp16/int8/int4; an explicit value is honoured
            exactly or refused with `ProviderUnavailableError`.
        device: "auto", "cpu", "cuda", ...; same rule.
        max_seq_len: cap on prompt + image + generated tokens per request; at most the
            model's own limit (`BundleError` above it).
        threads: intra-op threads per session (default: the thread budget decides).
        max_concurrent: most requests a server will run at once; the thread budget gives
            each its share of the usable cores (`runtime.scheduler.thread_budget`).
        max_image_pixels: decoded images above this many pixels are refused.
        hardware: detected facts to decide with (tests pass fake hardware).
        verify: check every file the plan would load (`loaded_files`) against its sha256
            now (`IntegrityError` on a mismatch).

    Returns:
        The `LoadPlan`.
    """
    if max_seq_len is not None and max_seq_len < 1:
        raise InvalidRequestError("max_seq_len must be a positive integer.", param="max_seq_len")
    if threads is not None and threads < 1:
        raise InvalidRequestError("threads must be a positive integer (or None for the thread budget).", param="threads")
    bundle_dir = Path(path)
    manifest, has_manifest = read_bundle(bundle_dir)
    adapter_for(manifest.kind).check_manifest(manifest)
    hardware = hardware or detect_hardware()
    absent = not_installed(bundle_dir, manifest) if has_manifest else ()
    selection = select_variants(manifest, hardware, precision, device,
                                absent={(item.component, item.variant.label) for item in absent})
    limit = manifest.max_seq_len
    if max_seq_len is not None and limit is not None and max_seq_len > limit:
        raise BundleError(
            f"--max-seq-len {max_seq_len} is above the model's own limit of {limit} tokens "
            f"(bundle '{manifest.name}'); use at most {limit}, or leave it out to use {limit}."
        )
    verified = (verify_files(bundle_dir, loaded_files(manifest, selection), hardware.usable_cores)
                if verify and has_manifest else None)
    plan = LoadPlan(
        bundle_dir=bundle_dir,
        manifest=manifest,
        hardware=hardware,
        selection=selection,
        budget=thread_budget(hardware.usable_cores, max_concurrent, threads),
        max_seq_len=max_seq_len or limit,
        max_image_pixels=max_image_pixels,
        has_manifest=has_manifest,
        not_installed=absent,
    )
    object.__setattr__(plan, "verified", verified)
    return plan


def _create_sessions(create, selection: Selection, cores: int, meanwhile=lambda: None):
    """One session per component (`create(name)`), created on up to `cores` threads, largest
    file first, while this thread runs `meanwhile()` (the kind's `preload`): onnxruntime
    releases the GIL while it builds a session, so the small graphs and the tokenizers load
    while the language model does (reader bundle, 2 cores: 0.5 s instead of 0.75). Returns
    (sessions, what `meanwhile` returned); the first component's error, in the selection's
    order, is raised after every creation ended, then `meanwhile`'s."""
    names = list(selection.components)
    if cores <= 1 or len(names) <= 1:
        return {name: create(name) for name in names}, meanwhile()
    with ThreadPoolExecutor(max_workers=min(cores, len(names)), thread_name_prefix="wan-model-loader") as pool:
        futures = {name: pool.submit(create, name) for name in _largest_first(names, selection)}
        try:
            extra, failure = meanwhile(), None
        except Exception as error:  # raised once the sessions' errors, which come first, are known
            extra, failure = None, error
    for name in names:
        if futures[name].exception() is not None:
            raise futures[name].exception()
    if failure is not None:
        raise failure
    return {name: futures[name].result() for name in names}, extra


def _largest_first(names, selection: Selection) -> list[str]:
    """`names` by their selected variant's file size, largest first (it takes longest to load)."""
    return sorted(names, key=lambda name: -selection.components[name].variant.bytes)


def _start_twins(sessions: dict[str, ComponentSession], selection: Selection) -> Future | None:
    """Create the deferred wide twins (`ComponentSession.make_twin`) one after another, largest
    first, on a daemon thread (a stopping server does not wait for them), once the model can
    serve: until a twin exists its component's runs use the narrow session. They are extra
    copies for speed, not needed to answer, so a load does not wait for them (the fused LM's
    took 0.4-0.5 s of a 1.45 s cold start when it was made beside the others). Returns a
    future done when every twin was made or given up, None when there are none."""
    pending = _largest_first([name for name, session in sessions.items() if session.twin_pending], selection)
    if not pending:
        return None
    done: Future = Future()

    def make_all() -> None:
        for name in pending:
            if _EXITING.is_set():
                break
            sessions[name].make_twin()  # logs and leaves out a twin it cannot make
        done.set_result(None)

    thread = threading.Thread(target=make_all, name="wan-twin-sessions", daemon=True)
    _TWIN_THREADS.add(thread)
    thread.start()
    return done


# A process that exits while a daemon thread is creating an onnxruntime session aborts ("terminate
# called without an active exception", exit status 134: a script that loaded a model for several
# requests and returned at once). At exit, the twin being made is finished and no other started.
_EXITING = threading.Event()
_TWIN_THREADS: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _finish_twins() -> None:
    _EXITING.set()
    for thread in list(_TWIN_THREADS):
        thread.join(timeout=60)


def load_model(path_or_plan: str | os.PathLike | LoadPlan, precision: str = "auto", device: str = "auto",
               max_seq_len: int | None = None, **plan_options) -> Model:
    """Load a bundle and return a ready `Model`.

    Args:
        path_or_plan: a `LoadPlan` from `plan_load`, or a folder (then the other arguments
            go to `plan_load`, see there).

    Every file it loads (`loaded_files`: the selected variants' and the bundle's tokenizer,
    config and other listed files) is checked against its sha256 before any session is
    created (a plan made with `verify=True` checked them already: then only files changed
    on disk since, by size, modification time or inode, are hashed again); a mismatch
    raises `IntegrityError`. Variants it does not load are not hashed (`wan2.2-turbo verify`
    checks every file). A folder described on the fly has no recorded hashes.
    """
    if isinstance(path_or_plan, LoadPlan):
        if precision != "auto" or device != "auto" or max_seq_len is not None or plan_options:
            raise TypeError("load_model(plan) takes no other options: they are decided in plan_load")
        plan = path_or_plan
    else:
        plan = plan_load(path_or_plan, precision, device, max_seq_len, **plan_options)
    if plan.has_manifest and plan.verified is None:
        verify_files(plan.bundle_dir, loaded_files(plan.manifest, plan.selection), plan.budget.usable_cores)
    elif plan.has_manifest:
        plan.verified.recheck()  # a file changed on disk since the plan verified it is refused
    selection = plan.selection
    session_config = SessionConfig(device=selection.device, intra_op_threads=plan.budget.intra_op_threads)
    config = ModelConfig(session=session_config, max_seq_len=plan.max_seq_len,
                         max_image_pixels=plan.max_image_pixels, workers=plan.budget.workers,
                         max_batch=plan.budget.max_concurrent)
    gauge, wide, batched = RunGauge(), plan.wide_components(), plan.batched_components()
    # The batch's step runs on every core. Its pool threads spin as onnxruntime's do by default:
    # without spinning a ViT-GPT2 step of 8 rows took 34 ms instead of 25 (2-core EPYC), and 8
    # clients' captions came 4.9-5.1/s instead of 5.4-5.7 though images are encoded beside it.
    batched_config = SessionConfig(device=selection.device, intra_op_threads=plan.budget.wide_threads)

    def create(name: str) -> ComponentSession:
        choice = selection.components[name]
        if name in batched and plan.budget.wide_threads:
            return ComponentSession(name, plan.bundle_dir / choice.variant.file, batched_config,
                                    choice.variant.precision, gauge=gauge)
        # The LM's twin spins: a decode step is ~600 small kernels, each a thread wake-up otherwise
        # (SmolLM2 int4, 2 threads: 10.8 ms a step not spinning, 6.7 spinning, 10.3 on one thread).
        return ComponentSession(name, plan.bundle_dir / choice.variant.file, session_config, choice.variant.precision,
                                plan.budget.wide_threads if name in wide else 0, gauge,
                                wide_spinning=name == LANGUAGE_MODEL, defer_twin=True)

    adapter_class = adapter_for(plan.manifest.kind)
    sessions, preloaded = _create_sessions(create, selection, plan.budget.usable_cores,
                                           lambda: adapter_class.preload(plan.bundle_dir, plan.manifest))
    # A request whose stream waits on a batched decoder gives its worker's share of the cores
    # back meanwhile; spare threads (as many as requests a batcher may hold, running or queued)
    # take other requests' work.
    pool = WorkerPool(plan.budget.workers, spare=2 * plan.budget.max_concurrent)
    adapter = adapter_class(LoadContext(plan.bundle_dir, plan.manifest, sessions, config, pool, preloaded))
    components = [
        ComponentInfo(name, c.variant.precision, c.variant.label, c.variant.file, sessions[name].provider, c.reason)
        for name, c in selection.components.items()
    ]
    return Model(adapter, components, config, pool, twins=_start_twins(sessions, selection))
