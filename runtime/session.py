"""One onnxruntime session per component variant, with a checked boundary.

Input/output names, shapes and dtypes are read once at load. `run` checks that every
required input is present with a compatible rank, casts to the declared dtype, and wraps
onnxruntime failures in `InferenceError` naming the component. The session object is
safe to share between threads (onnxruntime's `run` is); after construction only a deferred
wide twin changes it, once, from None to a session (`make_twin`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import onnxruntime as ort

from .errors import InferenceError, ProviderUnavailableError
from .placement.providers import provider_for_device
from .scheduler import RunGauge

logger = logging.getLogger(__name__)

_ORT_TO_NUMPY = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}

@dataclass(frozen=True)
class SessionConfig:
    """Start-up settings shared by every session of a model."""

    device: str = "cpu"
    intra_op_threads: int = 0  # 0 lets onnxruntime decide; load plans pass the thread budget's share
    inter_op_threads: int = 1
    allow_fallback: bool = False
    extra_session_options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple  # ints for fixed axes, strings or None for dynamic ones
    dtype: type


class ComponentSession:
    """A loaded ONNX graph for one component variant."""

    def __init__(self, component: str, path: str | os.PathLike, config: SessionConfig, precision: str | None = None,
                 wide_threads: int = 0, gauge: RunGauge | None = None, wide_spinning: bool = False,
                 defer_twin: bool = False):
        """`precision`: the bundle variant's (fp32, int8 ...), None when not known.

        `wide_threads` above `config.intra_op_threads` (with the model's `gauge`) adds a twin
        session on that many threads, used for a run that is the only one of the model in
        flight (`RunGauge`): the same graph and weights, so the same outputs (checked for the
        OCR detector and the fused LM, bit for bit), on the cores the other workers leave
        idle. Its pool threads do not spin, so a request arriving meanwhile loses little to
        them, unless `wide_spinning`: a graph of hundreds of small kernels per run (a decoder
        step) pays a thread wake-up for each of them, more than the spinning costs. With
        `defer_twin` it is not created until `make_twin()`: runs use the narrow
        session until the twin exists (a load then serves without waiting for the twins,
        issue 13's cold start: the fused LM's takes 0.4-0.5 s).
        """
        self.component = component
        self.path = os.fspath(path)
        self.precision = precision
        self.intra_op_threads = config.intra_op_threads  # of the session runs use unless a twin is picked
        options = _options(config, config.intra_op_threads)
        wanted = provider_for_device(config.device)
        available = ort.get_available_providers()
        if wanted not in available:
            raise ProviderUnavailableError(
                f"Device '{config.device}' needs onnxruntime's {wanted}, which this "
                f"installation does not have (available: {', '.join(available)}). "
                "Use --device cpu or install an onnxruntime build with that provider."
            )
        providers = [wanted] if wanted == "CPUExecutionProvider" else [wanted, "CPUExecutionProvider"]
        wide = None
        if gauge is not None and wide_threads > max(config.intra_op_threads, 1):
            wide = _options(config, wide_threads)
            if not wide_spinning and "session.intra_op.allow_spinning" not in config.extra_session_options:
                wide.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._deferred_twin = (wide, providers) if wide and defer_twin else None
        self._session = self._create(options, providers)
        self._wide = self._create(wide, providers) if wide and not defer_twin else None
        self._gauge = gauge or RunGauge()
        obtained = self._session.get_providers()
        if obtained[0] != wanted and not config.allow_fallback:
            raise ProviderUnavailableError(
                f"Component '{component}' asked for {wanted} but onnxruntime gave "
                f"{obtained[0]}; refusing the silent fallback."
            )
        self.provider = obtained[0]
        self.inputs = {i.name: _spec(i) for i in self._session.get_inputs()}
        self.outputs = {o.name: _spec(o) for o in self._session.get_outputs()}
        self.metadata = dict(self._session.get_modelmeta().custom_metadata_map)

    def run(self, feeds: dict[str, np.ndarray], output_names: list[str] | None = None) -> dict[str, np.ndarray]:
        """Run the graph; returns outputs by name (all of them unless `output_names`)."""
        checked = {}
        for name, spec in self.inputs.items():
            if name not in feeds:
                raise InferenceError(self.component, f"missing input '{name}'")
            value = np.asarray(feeds[name])
            if value.ndim != len(spec.shape):
                raise InferenceError(
                    self.component,
                    f"input '{name}' has rank {value.ndim}, the graph expects {len(spec.shape)} {spec.shape}",
                )
            checked[name] = value if value.dtype == spec.dtype else value.astype(spec.dtype)
        unknown = set(feeds) - set(self.inputs)
        if unknown:
            raise InferenceError(self.component, f"unknown inputs {sorted(unknown)}")
        names = output_names or list(self.outputs)
        with self.picked() as session:
            try:
                values = session.run(names, checked)
            except Exception as error:
                raise InferenceError(self.component, str(error)) from error
        return dict(zip(names, values))

    @property
    def couples_rows(self) -> bool:
        """Whether the graph quantizes activations per tensor at run time (onnxruntime's
        dynamic quantization: one scale over every row of a batch), so that a row's numbers
        depend on the rows run with it. Weight-only quantized graphs (MatMulNBits) do not."""
        return graph_couples_rows(self.path)

    @property
    def twin_pending(self) -> bool:
        """True while a deferred wide twin has not been made (`make_twin`)."""
        return self._deferred_twin is not None

    def make_twin(self) -> None:
        """Create the deferred wide twin (blocking; call it on a thread of its own). Runs pick
        it up once it exists. A twin that cannot be created is logged and left out: the
        component's runs stay on the narrow session, which answers the same."""
        if self._deferred_twin is None:
            return
        options, providers = self._deferred_twin
        self._deferred_twin = None
        try:
            self._wide = self._create(options, providers)
        except Exception as error:  # noqa: BLE001 - a missing twin costs speed, never a reply
            logger.warning("%s: no wide twin session (%s); runs alone in flight stay on the narrow session.",
                           self.component, error)

    @contextlib.contextmanager
    def picked(self) -> Iterator[ort.InferenceSession]:
        """The onnxruntime session for one run, counted in the model's gauge while the block
        runs: the wide twin when this run is alone in flight. For callers that bind their
        own inputs and outputs (`FusedDecoder`'s shared KV buffers); `run` uses it too."""
        with self._gauge.running() as alone:
            yield self._wide if alone and self._wide is not None else self._session

    def _create(self, options: ort.SessionOptions, providers: list[str]) -> ort.InferenceSession:
        try:
            return ort.InferenceSession(self.path, sess_options=options, providers=providers)
        except Exception as error:  # onnxruntime raises several unrelated types here
            raise InferenceError(self.component, f"could not load {self.path}: {error}") from error


def _options(config: SessionConfig, intra_op_threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    if intra_op_threads:
        options.intra_op_num_threads = intra_op_threads
    if config.inter_op_threads:
        options.inter_op_num_threads = config.inter_op_threads
    options.log_severity_level = 3
    for key, value in config.extra_session_options.items():
        options.add_session_config_entry(key, str(value))
    return options


def _spec(node) -> TensorSpec:
    dtype = _ORT_TO_NUMPY.get(node.type)
    if dtype is None:
        raise InferenceError("session", f"unsupported tensor type {node.type} for '{node.name}'")
    return TensorSpec(node.name, tuple(node.shape), dtype)


# What names the operators that quantize activations with one scale per tensor taken at run
# time, over every row of a batch: onnxruntime's dynamic quantization (DynamicQuantizeLinear,
# DynamicQuantizeMatMul, DynamicQuantizeLSTM) and QAttention.
_BATCH_COUPLED_NAMES = (b"DynamicQuantize", b"QAttention")


def graph_couples_rows(path: str) -> bool:
    """Whether the graph at `path` quantizes activations per tensor at run time (its protobuf
    names the operator; an op type is stored as plain text). A path that cannot be read
    counts as coupled: nothing says its rows are independent. Asked by the load plan and by
    the sessions, it scans a file once while the file stays as it is (0.1 s a name over an
    imported captioner's 317 MB 8-bit step)."""
    try:
        status = os.stat(path)
    except OSError:
        return True
    return _scanned_couples_rows(os.fspath(path), status.st_size, status.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _scanned_couples_rows(path: str, size: int, modified_ns: int) -> bool:
    try:
        with open(path, "rb") as graph, mmap.mmap(graph.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return any(mapped.find(name) != -1 for name in _BATCH_COUPLED_NAMES)  # paged in, not read whole
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return True
