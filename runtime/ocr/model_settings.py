"""What an OCR model file says about how to run it: a JSON object in one of its metadata
entries (the detector's `detection`, the recogniser's `recognition`), read the same way for
both: an absent entry leaves the caller's defaults; a malformed one stops loading and names
the file."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection

from ..errors import BundleError


def _unique_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key is given twice ({sorted(keys)})")
    return dict(pairs)


def file_settings(metadata: dict[str, str], entry: str, allowed: Collection[str], check: Callable[[str, object], object],
                  path, component: str) -> dict | None:
    """The settings in `metadata[entry]`, each value as `check(key, value)` returns it (it raises
    ValueError for a value out of bounds), or None when the file has no such entry. A key given
    twice, one not in `allowed`, anything but a JSON object or a bad value raises BundleError
    naming `component` and `path`."""
    if entry not in metadata:
        return None
    try:
        given = json.loads(metadata[entry], object_pairs_hook=_unique_keys)
        if not isinstance(given, dict) or not set(given) <= set(allowed):
            raise ValueError(f"keys must be among {sorted(allowed)}")
        return {key: check(key, value) for key, value in given.items()}
    except (ValueError, OverflowError, RecursionError) as error:  # json.JSONDecodeError is a ValueError; deep nesting recurses
        raise BundleError(f"The {component} {path} has a malformed '{entry}' metadata entry ({error}); "
                          "rebuild the bundle.") from None
