"""An exclusive lock on a file, on POSIX and Windows: one builder at a time per cache; and
the cache entry protocol the model builders share (`cached_entry`)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the `with` block."""
    with open(path, "a+b") as handle:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # retries for 10 s, then raises
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def cached_entry(cache_dir: Path, stamp: str, build: Callable[[Path], dict],
                 record_name: str = "record.json") -> tuple[Path, dict, bool]:
    """The cache entry of `stamp` under `cache_dir`, built by `build(staging)` if missing.

    `build` fills the empty folder it is given and returns the build record; the record is
    written beside the files with the stamp and the folder renamed into place, so a record
    never appears before its files. One builder at a time (parallel test workers).

    Returns:
        (entry folder, record, whether it came from the cache).
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    entry = cache_dir / stamp[:20]
    with exclusive(cache_dir / ".lock"):
        record_path = entry / record_name
        if record_path.exists():
            record = json.loads(record_path.read_text())
            if record.get("stamp") == stamp:
                return entry, record, True
        shutil.rmtree(entry, ignore_errors=True)
        staging = cache_dir / f".{stamp[:20]}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        record = build(staging)
        record["stamp"] = stamp
        (staging / record_name).write_text(json.dumps(record, indent=1, sort_keys=True))
        os.replace(staging, entry)  # the record appears with the files, never before
    return entry, record, False
