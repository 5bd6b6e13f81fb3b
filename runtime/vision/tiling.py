"""Detection over overlapping tiles as well as the whole image, for pictures whose objects
are small.

NanoDet sees every image at 416 pixels on its long side: in a 768-pixel collage of six
photos each is ~140 pixels, where the detector misses a cat it finds at 250. A large image is
also cut into tiles of about `TILE_SCALE` x the detector's input, overlapping by `OVERLAP`
(one batch with the whole image). As in slicing-aided inference (SAHI, Akyon et al. 2022,
https://arxiv.org/abs/2202.06934), a tile's box that touches an edge the tile shares with
its neighbours is a cut object and is dropped (the overlap shows smaller objects whole in
another tile; larger ones are the whole image's). The rest are mapped back and merged with
the whole image's boxes by class-wise NMS; a box mostly inside a better box of its class is
the same object seen twice and is dropped too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .boxes import class_wise_nms, one_label_per_object
from .detector import Detection, DetectorConfig

# An image is tiled when its long side is at least this many times the detector's input.
MIN_TILING_RATIO = 1.5
TILE_SCALE = 1.25
OVERLAP = 0.25
MERGE_IOU = 0.5
HELD = 0.8  # share of a box's area inside a better box of its class: the same object
SAME_OBJECT_IOU = DetectorConfig.same_object_iou  # two classes on one box: one object, as in the detector
EDGE_PX = 3  # a box this close to a shared tile edge touches it


def tiles(size: tuple[int, int], tile: int) -> list[tuple[int, int, int, int]]:
    """Overlapping windows (x0, y0, x1, y1) of about `tile` pixels covering an image."""
    spans = []
    for length in size:
        count = max(1, math.ceil((length - tile * OVERLAP) / (tile * (1 - OVERLAP))))
        side = length if count == 1 else math.ceil(length / (count - (count - 1) * OVERLAP))
        step = 0 if count == 1 else (length - side) / (count - 1)
        spans.append([(round(i * step), min(length, round(i * step) + side)) for i in range(count)])
    return [(x0, y0, x1, y1) for (y0, y1) in spans[1] for (x0, x1) in spans[0]]


def _held(inner, outer) -> float:
    """Share of `inner`'s area inside `outer`."""
    width = min(inner[2], outer[2]) - max(inner[0], outer[0])
    height = min(inner[3], outer[3]) - max(inner[1], outer[1])
    area = max(inner[2] - inner[0], 0.0) * max(inner[3] - inner[1], 0.0)
    return max(width, 0.0) * max(height, 0.0) / max(area, 1e-9)


def _touches_shared_edge(box, window, size) -> bool:
    x0, y0, x1, y1 = window
    width, height = size
    return ((x0 > 0 and box[0] <= x0 + EDGE_PX) or (y0 > 0 and box[1] <= y0 + EDGE_PX)
            or (x1 < width and box[2] >= x1 - EDGE_PX) or (y1 < height and box[3] >= y1 - EDGE_PX))


def merge(detections: list[Detection], max_detections: int = 100) -> list[Detection]:
    """One box per object out of the whole image's and the tiles' detections, best first."""
    if not detections:
        return []
    boxes = np.asarray([d.box for d in detections], dtype=np.float32)
    scores = np.asarray([d.score for d in detections], dtype=np.float32)
    classes = np.asarray([d.class_id for d in detections], dtype=np.int64)
    indices = class_wise_nms(boxes, scores, classes, MERGE_IOU, max_detections)
    kept = [detections[i] for i in one_label_per_object(boxes, indices, SAME_OBJECT_IOU)]
    return [d for i, d in enumerate(kept)
            if not any(b.label == d.label and _held(d.box, b.box) >= HELD for b in kept[:i])]


def detect_tiled(detector, image, input_size: int = 416, whole: list[Detection] | None = None) -> list[Detection]:
    """The detector's objects in `image`, tiled when it is large (see the module docstring).
    `whole`: the whole image's detections, when already run."""
    if max(image.size) < MIN_TILING_RATIO * input_size:
        return whole if whole is not None else detector.detect([image])[0]
    windows = tiles(image.size, round(input_size * TILE_SCALE))
    crops = [image.crop(window) for window in windows]
    found = [whole, *detector.detect(crops)] if whole is not None else detector.detect([image] + crops)
    detections = list(found[0])
    for window, part in zip(windows, found[1:]):
        x0, y0 = window[0], window[1]
        for d in part:
            box = (d.box[0] + x0, d.box[1] + y0, d.box[2] + x0, d.box[3] + y0)
            if not _touches_shared_edge(box, window, image.size):
                detections.append(Detection(d.label, d.class_id, d.score, box))
    return merge(detections)


@dataclass(frozen=True)
class Found:
    """What the detector found in a picture, and whether the tiles ran (every object) or only
    the whole image (enough to tell a page of text from a photo)."""

    detections: tuple[Detection, ...]
    complete: bool


def detect_large_first(detector, image, min_fraction: float, counts, input_size: int = 416) -> Found:
    """The whole image's detections alone when none that `counts` covers `min_fraction` of the
    image and no tile could hold such an object (each window smaller than that): the caller
    only asks whether a large object is there (a page of text: runtime/vision/scene.py).
    Otherwise every detection, tiles included (`detect_tiled`), the whole image not run twice.
    A page then costs one detector call instead of one per tile."""
    whole = detector.detect([image])[0]
    area = image.size[0] * image.size[1]
    large = [d for d in counts(whole) if (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]) >= min_fraction * area]
    tiled = max(image.size) >= MIN_TILING_RATIO * input_size
    windows = tiles(image.size, round(input_size * TILE_SCALE)) if tiled else []
    if not large and all((x1 - x0) * (y1 - y0) < min_fraction * area for x0, y0, x1, y1 in windows):
        return Found(tuple(whole), not tiled)
    return Found(tuple(detect_tiled(detector, image, input_size, whole=whole)), True)
