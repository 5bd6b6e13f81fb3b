"""What OCR read in the last few images, by their pixels: a chat sends its image again with
every turn, and a follow-up question about it need not read the page again.

Keys are a digest of the decoded pixels (mode, size and bytes), so the same picture arriving
as PNG, as JPEG-decoded-identically or as a new Pillow object is one entry, and two pictures
that differ in one pixel are two. Values are whatever the caller computed (the regions of
`OcrPipeline.read_regions`: immutable tuples). Least recently used entries go first.
Thread-safe; two threads asking for the same new image at once both compute it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from PIL import Image

T = TypeVar("T")


def image_key(image: Image.Image) -> tuple:
    """The image's identity by content: (mode, size, 128-bit BLAKE2b of its pixel bytes)."""
    return image.mode, image.size, hashlib.blake2b(image.tobytes(), digest_size=16).digest()


class ImageMemo:
    """An LRU map from image content to a computed result; `size` 0 keeps nothing."""

    def __init__(self, size: int):
        self.size = max(0, size)
        self._entries: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, image: Image.Image, compute: Callable[[], T], enough: Callable[[T], bool] | None = None) -> T:
        """The result for `image`, from memory or from `compute()` (then remembered). With
        `enough`, a remembered result it rejects is computed again and replaced (one caller
        remembered less than another needs)."""
        if self.size == 0:
            return compute()
        key = image_key(image)
        with self._lock:
            if key in self._entries and (enough is None or enough(self._entries[key])):
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value
