"""Where things live: the binary, the bundle that ships beside it, the defaults file, caches.

Frozen (PyInstaller onedir, DESIGN §7) the binary's folder holds `wan2.2-turbo.args` and
`bundle/`. From a source checkout the packaging step assembles bundles under
`<repo>/build/bundles/` (`reader` when built, else `ocr`). Caches never go inside the
install folder: it may be read-only and is replaced on upgrade.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Mapping

APP_NAME = "wan2.2-turbo"
ARGS_FILE_NAME = f"{APP_NAME}.args"
REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE_BUNDLES = ("reader", "ocr")  # first that exists wins


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def binary_dir() -> Path | None:
    """The folder of the frozen binary, None when running from source."""
    return Path(sys.executable).resolve().parent if is_frozen() else None


def defaults_file() -> Path | None:
    """`wan2.2-turbo.args` beside the frozen binary (None from source: nothing baked)."""
    folder = binary_dir()
    return folder / ARGS_FILE_NAME if folder is not None else None


def default_bundle_dir(repo_root: Path = REPO_ROOT) -> Path:
    """The bundle used without `--model`: `<binary dir>/bundle`, or the newest source build."""
    folder = binary_dir()
    if folder is not None:
        return folder / "bundle"
    candidates = [repo_root / "build" / "bundles" / name for name in SOURCE_BUNDLES]
    return next((c for c in candidates if c.is_dir()), candidates[-1])


def user_cache_dir(system: str, env: Mapping[str, str], home: Path) -> Path:
    """Per-user cache folder: XDG on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows."""
    if system == "Windows":
        base = env.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / APP_NAME / "Cache"
    if system == "Darwin":
        return home / "Library" / "Caches" / APP_NAME
    xdg = env.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache") / APP_NAME
