"""The bundle manifest (`bundle.json`): strict parsing, hashing and verification.

A bundle is a folder with `bundle.json` beside its files (DESIGN §3). Every file the model
reads is listed with its sha256 and size; `verify_files` checks them before any
onnxruntime session exists, so nothing tampered with is ever loaded.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from stat import S_ISREG

from runtime.errors import BundleError, IntegrityError

MANIFEST_NAME = "bundle.json"
FORMAT_VERSION = 1
PRECISIONS = ("fp32", "fp16", "bf16", "int8", "uint8", "int4")
TASKS = ("caption", "vqa", "generate", "read", "embed", "rank", "seed")
# onnxruntime's CPU int8 kernels, by family (runtime.placement.hardware.int8_kernels says
# which one a CPU gets). With VNNI or AMX, u8 x s8 products accumulate exactly in 32 bits;
# AVX2 and AVX-512 without VNNI add pairs of products in 16 bits with saturation
# (vpmaddubsw), so one int8 graph can be accurate on one family and not on another.
INT8_KERNELS = ("vnni", "avx512", "avx2", "dotprod", "neon", "generic")
_HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    """A file inside the bundle with its expected hash and size."""

    file: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Measurement:
    """One benchmark figure of a variant, measured on a CPU of one int8 kernel family: how
    fast it ran and how close it stayed to the component's full-precision variant.
    Variant selection ranks by these (runtime.placement.selection, rule 4)."""

    kernels: str  # INT8_KERNELS family of the CPU it ran on
    speed: float  # `unit`s per second, higher is faster
    unit: str  # e.g. "tokens/s"
    accuracy: float  # `metric` against the full-precision variant (1.0 for that variant itself)
    metric: str  # e.g. "top-1 agreement with fp32"
    floor: float  # the accuracy a variant needs to be picked automatically
    cpu: str  # the CPU model and flags it ran on, and with how many threads
    source: str  # the benchmark that measured it (and its results file)
    sha256: str  # of the file measured: it must be the variant's own

    @property
    def meets_floor(self) -> bool:
        return self.accuracy >= self.floor


@dataclass(frozen=True)
class Variant:
    """One way to run a component (a precision), with what it needs."""

    precision: str
    file: str
    sha256: str
    bytes: int
    name: str = ""  # distinguishes two variants of one precision (e.g. "quantized", "int8")
    min_memory_bytes: int = 0
    preferred_isa: tuple[str, ...] = ()
    data_files: tuple[FileEntry, ...] = ()  # ONNX external-data files
    # For integer variants: the int8 kernel families (INT8_KERNELS) on which the variant's
    # accuracy contract was measured to hold. Empty: not stated, so not restricted.
    accurate_on: tuple[str, ...] = ()
    measured: tuple[Measurement, ...] = ()  # benchmark figures, at most one per int8 kernel family
    # An optional download: the release archive that carries this variant's files when they
    # are not in the folder (runtime.bundle.optional). Empty: the files always ship with it.
    archive: str = ""

    @property
    def label(self) -> str:
        return self.name or self.precision

    def files(self) -> tuple[FileEntry, ...]:
        return (FileEntry(self.file, self.sha256, self.bytes), *self.data_files)

    def measurement(self, kernels: str) -> Measurement | None:
        """The figure measured on CPUs of this int8 kernel family, if any."""
        return next((m for m in self.measured if m.kernels == kernels), None)


@dataclass(frozen=True)
class Component:
    name: str
    variants: tuple[Variant, ...]

    def variant(self, label: str) -> Variant:
        for variant in self.variants:
            if variant.label == label:
                return variant
        raise BundleError(f"Component '{self.name}' has no variant '{label}'.")


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    kind: str
    tasks: tuple[str, ...]
    components: dict[str, Component]
    files: tuple[FileEntry, ...] = ()  # tokenizer, configs and other non-ONNX files
    license: str = ""
    tokenizer: str | None = None
    preprocessor: str | None = None
    config: str | None = None
    generation: dict = field(default_factory=dict)
    max_seq_len: int | None = None
    extra: dict = field(default_factory=dict)  # kind-specific settings, validated by the kind
    format: int = FORMAT_VERSION

    def all_files(self) -> tuple[FileEntry, ...]:
        entries = list(self.files)
        for component in self.components.values():
            for variant in component.variants:
                entries.extend(variant.files())
        return tuple(entries)

    def to_json(self) -> str:
        data = asdict(self)
        data["components"] = {
            name: {"variants": [_variant_to_dict(v) for v in c.variants]}
            for name, c in self.components.items()
        }
        data["files"] = [asdict(f) for f in self.files]
        data = {k: v for k, v in data.items() if v not in (None, "", {}, [])}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _variant_to_dict(variant: Variant) -> dict:
    data = asdict(variant)
    return {k: v for k, v in data.items() if v not in ("", 0, (), [])}


def sha256_file(path: str | os.PathLike) -> str:
    with open(path, "rb") as handle:
        return _sha256_read(handle)


def _sha256_read(handle) -> str:
    """The sha256 of what is left to read from an open binary file."""
    digest = hashlib.sha256()
    while chunk := handle.read(_HASH_CHUNK_BYTES):
        digest.update(chunk)
    return digest.hexdigest()


def _hash_opened(path: Path) -> tuple[tuple, str]:
    """(stamp, sha256) of the file at `path`, the stamp taken from the open handle, so that it
    describes the very file hashed (a name swapped between a stat and the open cannot pair one
    file's stamp with another's digest: `VerifiedFiles.recheck` trusts the stamp). A device
    or a pipe is no bundle file (/dev/zero would never end): refused."""
    with open(path, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return _stamp(status), _sha256_read(handle)


def file_entry(root: Path, relative: str) -> FileEntry:
    path = root / relative
    return FileEntry(relative, sha256_file(path), path.stat().st_size)


# --- strict parsing -------------------------------------------------------------------

def _take(data: dict, where: str, required: dict, optional: dict) -> dict:
    """Check keys and types of one JSON object; unknown keys are an error."""
    if not isinstance(data, dict):
        raise BundleError(f"{where} must be a JSON object.")
    unknown = set(data) - set(required) - set(optional)
    if unknown:
        known = ", ".join(sorted({*required, *optional}))
        raise BundleError(f"{where} has unknown keys {sorted(unknown)}; known keys: {known}.")
    missing = set(required) - set(data)
    if missing:
        raise BundleError(f"{where} is missing required keys {sorted(missing)}.")
    for key, value in data.items():
        expected = {**required, **optional}[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise BundleError(f"{where}.{key} has the wrong type ({type(value).__name__}).")
    return data


def _parse_file_entry(data, where: str) -> FileEntry:
    _take(data, where, {"file": str, "sha256": str, "bytes": int}, {})
    _check_relative(data["file"], where)
    if len(data["sha256"]) != 64 or any(c not in "0123456789abcdef" for c in data["sha256"]):
        raise BundleError(f"{where}.sha256 must be 64 lowercase hex digits.")
    return FileEntry(data["file"], data["sha256"], data["bytes"])


def _check_relative(path: str, where: str) -> None:
    parts = Path(path).parts
    if not path or Path(path).is_absolute() or ".." in parts or "\\" in path:
        raise BundleError(f"{where}: file paths must be relative and inside the bundle, got '{path}'.")


def _parse_variant(data, where: str) -> Variant:
    _take(
        data,
        where,
        {"precision": str, "file": str, "sha256": str, "bytes": int},
        {"name": str, "min_memory_bytes": int, "preferred_isa": list, "data_files": list, "accurate_on": list,
         "measured": list, "archive": str},
    )
    archive = data.get("archive", "")
    if archive and (archive != Path(archive).name or "\\" in archive or archive in (".", "..")):
        raise BundleError(f"{where}.archive must be a file name (the release archive to download), got '{archive}'.")
    unknown_kernels = [k for k in data.get("accurate_on", []) if k not in INT8_KERNELS]
    if unknown_kernels:
        raise BundleError(f"{where}.accurate_on {unknown_kernels} invalid; int8 kernel families: {', '.join(INT8_KERNELS)}.")
    if data["precision"] not in PRECISIONS:
        raise BundleError(f"{where}.precision '{data['precision']}' is not one of {', '.join(PRECISIONS)}.")
    entry = _parse_file_entry(
        {k: data[k] for k in ("file", "sha256", "bytes")}, where
    )
    data_files = tuple(
        _parse_file_entry(item, f"{where}.data_files[{i}]")
        for i, item in enumerate(data.get("data_files", []))
    )
    return Variant(
        precision=data["precision"],
        file=entry.file,
        sha256=entry.sha256,
        bytes=entry.bytes,
        name=data.get("name", ""),
        min_memory_bytes=data.get("min_memory_bytes", 0),
        preferred_isa=tuple(str(isa) for isa in data.get("preferred_isa", [])),
        data_files=data_files,
        accurate_on=tuple(data.get("accurate_on", [])),
        measured=_parse_measurements(data.get("measured", []), f"{where}.measured", entry.sha256),
        archive=archive,
    )


def _parse_measurements(items: list, where: str, variant_sha256: str) -> tuple[Measurement, ...]:
    found = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        _take(item, here, {"kernels": str, "speed": (int, float), "unit": str, "accuracy": (int, float),
                           "metric": str, "floor": (int, float), "cpu": str, "source": str, "sha256": str}, {})
        numbers = {key: item[key] for key in ("speed", "accuracy", "floor")}
        if any(isinstance(v, bool) or not math.isfinite(v) for v in numbers.values()):
            raise BundleError(f"{here}: speed, accuracy and floor must be finite numbers, got {numbers}.")
        if item["kernels"] not in INT8_KERNELS:
            raise BundleError(f"{here}.kernels '{item['kernels']}' invalid; int8 kernel families: "
                              f"{', '.join(INT8_KERNELS)}.")
        if item["speed"] <= 0:
            raise BundleError(f"{here}.speed must be positive, got {item['speed']}.")
        if not (0 <= item["accuracy"] <= 1 and 0 <= item["floor"] <= 1):
            raise BundleError(f"{here}: accuracy and floor are fractions (0 to 1), got {item['accuracy']} and "
                              f"{item['floor']}.")
        if item["sha256"] != variant_sha256:
            raise BundleError(f"{here} was measured on another file (sha256 {item['sha256'][:12]}…, the variant's is "
                              f"{variant_sha256[:12]}…): its figures say nothing about this one. Rebuild the bundle.")
        found.append(Measurement(**{**item, **{key: float(value) for key, value in numbers.items()}}))
    families = [m.kernels for m in found]
    if len(set(families)) < len(families):
        raise BundleError(f"{where} lists one int8 kernel family twice ({', '.join(families)}).")
    return tuple(found)


def _check_comparable(where: str, variants: tuple[Variant, ...]) -> None:
    """Figures that selection compares (one component, one kernel family) must measure the
    same thing against the same floor."""
    by_family: dict[str, set] = {}
    for variant in variants:
        for m in variant.measured:
            by_family.setdefault(m.kernels, set()).add((m.unit, m.metric, m.floor))
    for family, kinds in by_family.items():
        if len(kinds) > 1:
            raise BundleError(f"{where}: the {family} figures of its variants are not comparable (units, metrics or "
                              f"floors differ: {sorted(kinds)}).")


def _parse_component(name: str, data) -> Component:
    where = f"bundle.json components.{name}"
    _take(data, where, {"variants": list}, {})
    if not data["variants"]:
        raise BundleError(f"{where} has no variants.")
    variants = tuple(_parse_variant(v, f"{where}.variants[{i}]") for i, v in enumerate(data["variants"]))
    _check_comparable(where, variants)
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise BundleError(f"{where} has two variants with the same name: give them distinct 'name's.")
    return Component(name, variants)


def parse_manifest(data) -> Manifest:
    """Build a `Manifest` from decoded JSON, rejecting anything unexpected."""
    _take(
        data,
        "bundle.json",
        {"name": str, "version": str, "kind": str, "tasks": list, "components": dict},
        {
            "format": int, "files": list, "license": str, "tokenizer": str, "preprocessor": str,
            "config": str, "generation": dict, "max_seq_len": int, "extra": dict,
        },
    )
    if data.get("format", FORMAT_VERSION) != FORMAT_VERSION:
        raise BundleError(
            f"bundle.json format {data['format']} is not supported (this build reads format {FORMAT_VERSION})."
        )
    unknown_tasks = [t for t in data["tasks"] if t not in TASKS]
    if unknown_tasks or not data["tasks"]:
        raise BundleError(f"bundle.json tasks {unknown_tasks or '[]'} invalid; known tasks: {', '.join(TASKS)}.")
    if not data["components"]:
        raise BundleError("bundle.json has no components.")
    files = tuple(_parse_file_entry(f, f"bundle.json files[{i}]") for i, f in enumerate(data.get("files", [])))
    listed = {f.file for f in files}
    for key in ("tokenizer", "preprocessor", "config"):
        if key in data:
            _check_relative(data[key], f"bundle.json {key}")
            if data[key] not in listed:
                raise BundleError(f"bundle.json {key} '{data[key]}' must also be listed (with its hash) in 'files'.")
    max_seq_len = data.get("max_seq_len")
    if max_seq_len is not None and max_seq_len < 1:
        raise BundleError("bundle.json max_seq_len must be a positive integer.")
    return Manifest(
        name=data["name"],
        version=data["version"],
        kind=data["kind"],
        tasks=tuple(data["tasks"]),
        components={n: _parse_component(n, c) for n, c in data["components"].items()},
        files=files,
        license=data.get("license", ""),
        tokenizer=data.get("tokenizer"),
        preprocessor=data.get("preprocessor"),
        config=data.get("config"),
        generation=dict(data.get("generation", {})),
        max_seq_len=max_seq_len,
        extra=dict(data.get("extra", {})),
    )


def read_manifest(bundle_dir: str | os.PathLike) -> Manifest:
    path = Path(bundle_dir) / MANIFEST_NAME
    if not path.is_file():
        raise BundleError(
            f"No {MANIFEST_NAME} in {bundle_dir}. For an Optimum or transformers.js model folder, "
            f"run 'wan2.2-turbo import {bundle_dir}' first."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path} is not valid JSON: {error}") from error
    except OSError as error:
        raise BundleError(f"{path} cannot be read ({error.strerror or error}); check that this user may read it.") from error
    return parse_manifest(data)


@dataclass(frozen=True)
class FileCheck:
    """One listed file as found on disk: what it hashed to, or why it could not be read."""

    entry: FileEntry
    path: Path
    actual_sha256: str | None = None
    actual_bytes: int | None = None
    problem: str | None = None  # "missing", or why reading failed
    stamp: tuple | None = None  # (size, mtime_ns, inode, device) just before hashing

    @property
    def ok(self) -> bool:
        return self.problem is None and (self.actual_sha256, self.actual_bytes) == (self.entry.sha256, self.entry.bytes)

    def error(self) -> BundleError:
        """The error this file stops loading with (call only when not `ok`)."""
        if self.problem == "missing":
            return BundleError(f"Bundle file {self.path} is missing (listed in {MANIFEST_NAME}).")
        if self.problem is not None:
            return BundleError(f"Bundle file {self.path} cannot be read ({self.problem}); check that it is a "
                               "file this user may read, or reinstall the bundle.")
        return IntegrityError(str(self.path), self.entry.sha256, self.actual_sha256)

    def describe(self) -> str:
        """`OK`, or what is wrong, in a few words (one line per file in `verify`)."""
        if self.ok:
            return "OK"
        if self.problem is not None:
            return f"FAILED ({self.problem})"
        if self.actual_bytes != self.entry.bytes:
            return f"FAILED (size {self.actual_bytes} bytes, expected {self.entry.bytes})"
        return f"FAILED (sha256 {self.actual_sha256}, expected {self.entry.sha256})"


def _stamp(status: os.stat_result) -> tuple:
    return (status.st_size, status.st_mtime_ns, status.st_ino, status.st_dev)


def check_file(bundle_dir: str | os.PathLike, entry: FileEntry) -> FileCheck:
    """Hash one listed file; never raises for a missing or unreadable file (see `problem`)."""
    return _check_path(Path(bundle_dir) / entry.file, entry)


def _check_path(path: Path, entry: FileEntry) -> FileCheck:
    try:
        stamp, actual = _hash_opened(path)
    except FileNotFoundError:
        return FileCheck(entry, path, problem="missing")
    except OSError as error:  # a folder, no permission, an I/O error
        return FileCheck(entry, path, problem=error.strerror or str(error))
    return FileCheck(entry, path, actual, stamp[0], stamp=stamp)


def check_files(bundle_dir: str | os.PathLike, entries, threads: int = 1) -> list[FileCheck]:
    """Every listed file checked, bad ones included (`verify` reports them all), in the
    entries' order. Hashed on up to `threads` threads (the usable cores: HardwareInfo), largest
    file first: hashlib releases the GIL over each 1 MB chunk (reader bundle's 200 MB loaded at
    start, 2 cores: ~0.15 s instead of ~0.27). An interrupt cancels the files not started."""
    entries = list(entries)
    threads = min(threads, len(entries))
    if threads <= 1:
        return [check_file(bundle_dir, entry) for entry in entries]
    order = sorted(range(len(entries)), key=lambda index: -entries[index].bytes)
    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        futures = {index: pool.submit(check_file, bundle_dir, entries[index]) for index in order}
        return [futures[index].result() for index in range(len(entries))]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class VerifiedFiles:
    """What `verify_files` found: each file's hash and its stat stamp at the time."""

    checks: tuple[FileCheck, ...]

    def recheck(self) -> None:
        """Refuse files changed on disk since they were verified: any file whose size,
        modification time or inode differs is hashed again, and must still match."""
        for check in self.checks:
            try:
                unchanged = _stamp(check.path.stat()) == check.stamp
            except OSError:
                unchanged = False
            if not unchanged:
                again = _check_path(check.path, check.entry)
                if not again.ok:
                    raise again.error()


def verify_files(bundle_dir: str | os.PathLike, entries, threads: int = 1) -> VerifiedFiles:
    """Check each entry's size and sha256; raise for the first file that is missing,
    unreadable (`BundleError`) or different (`IntegrityError`). Returns what was verified,
    so that a later load can refuse files changed since (`VerifiedFiles.recheck`). The files
    are hashed on up to `threads` threads (`check_files`); the first bad one in the entries'
    order is raised."""
    checks = check_files(bundle_dir, entries, threads)
    for check in checks:
        if not check.ok:
            raise check.error()
    return VerifiedFiles(tuple(checks))
