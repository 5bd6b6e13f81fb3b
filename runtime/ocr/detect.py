"""Text detection: PP-OCR's DB model and its post-processing, without OpenCV.

The steps follow RapidOCR 1.4.4 (`ch_ppocr_det`), itself PaddleOCR's `DBPostProcess`:
probability map → threshold → 2×2 dilation → 8-connected components → minimum-area
rectangle → mean probability inside it ("fast" box score) → unclip by
area × ratio / perimeter → scale to the image → clip, order corners, drop slivers.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..session import ComponentSession
from . import geometry
from .model_settings import file_settings

_MIN_SIDE_PX = 3  # PaddleOCR's `min_size`


@dataclass(frozen=True)
class DetectionConfig:
    limit_side_len: int = 736
    limit_type: str = "min"
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    thresh: float = 0.3
    box_thresh: float = 0.5
    max_candidates: int = 1000
    unclip_ratio: float = 1.6
    use_dilation: bool = True
    # Ours, not RapidOCR's: "min" grows the short side to limit_side_len, so a 5x2000 strip
    # (a 100-byte PNG) became a 736x294400 float input, gigabytes before the network even
    # ran. The long side stops here; only strips thinner than 1:11 ever reach it (issue 12).
    max_input_side: int = 8192

    def __post_init__(self):
        if self.limit_type not in ("min", "max"):
            raise ValueError(f"limit_type must be 'min' or 'max', not {self.limit_type!r}")


# What a detector file may say about itself in its `detection` metadata (JSON): the
# normalisation it was trained with and the post-processing its authors tuned for it, each
# with the values it may take: mean in [0, 1] per channel, std in (0, 10], probability
# thresholds in (0, 1], an unclip ratio in (0, 10], a whole number of candidates.
_MODEL_SETTINGS = {"mean": (0.0, 1.0), "std": (1e-6, 10.0), "thresh": (1e-6, 1.0), "box_thresh": (1e-6, 1.0),
                   "unclip_ratio": (1e-6, 10.0), "max_candidates": (1, 100_000)}


def _setting(key: str, value):
    low, high = _MODEL_SETTINGS[key]

    def number(item) -> float:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item) or not low <= item <= high:
            raise ValueError(f"{key} must be {'a whole number' if key == 'max_candidates' else 'a number'} "
                             f"in [{low:g}, {high:g}], not {item!r}")
        return float(item)

    if key in ("mean", "std"):
        if not (isinstance(value, list) and len(value) == 3):
            raise ValueError(f"{key} must be three numbers, one per channel")
        return tuple(number(item) for item in value)
    if key == "max_candidates":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"max_candidates must be a whole number, not {value!r}")
        return int(number(value))
    return number(value)


def settings_from_metadata(config: DetectionConfig, metadata: dict[str, str], path) -> DetectionConfig:
    """`config` with the detector file's own settings (its `detection` metadata entry) applied.

    PP-OCRv6's detector, for one, expects ImageNet normalisation and thresholds of its own
    (its inference.yml), where PP-OCRv4's files carry none and take RapidOCR's defaults.
    """
    values = file_settings(metadata, "detection", _MODEL_SETTINGS, _setting, path, "text detector")
    return config if values is None else dataclasses.replace(config, **values)


def detect_boxes(session: ComponentSession, image_bgr: np.ndarray, config: DetectionConfig) -> np.ndarray:
    """Text boxes of a BGR uint8 image as a (n, 4, 2) float32 array, corners TL, TR, BR, BL."""
    return detect_boxes_and_faint(session, image_bgr, config, None)[0]


def detect_boxes_and_faint(session: ComponentSession, image_bgr: np.ndarray, config: DetectionConfig,
                           faint_thresh: float | None) -> tuple[np.ndarray, np.ndarray]:
    """`detect_boxes`' boxes, and the faint ones: boxes whose mean probability is at least
    `faint_thresh` but under `config.box_thresh` (none when `faint_thresh` is None). A line of
    text on a darkening background scores 0.40-0.47 where the page's other lines score
    0.5-0.8 (scikit-image's `page`), and is dropped by the threshold alone; the caller keeps
    what the recogniser reads confidently in them (`OcrConfig.faint_box_thresh`)."""
    empty = np.zeros((0, 4, 2), dtype=np.float32)
    height, width = image_bgr.shape[:2]
    tensor = prepare_detection_input(image_bgr, config)
    if tensor is None:
        return empty, empty
    output = next(iter(session.run({next(iter(session.inputs)): tensor}).values()))
    probability = output[0, 0]
    if faint_thresh is None or faint_thresh >= config.box_thresh:
        boxes, _ = boxes_from_probability(probability, width, height, config)
        return filter_boxes(boxes, width, height), empty
    boxes, scores = boxes_from_probability(probability, width, height, dataclasses.replace(config, box_thresh=faint_thresh))
    # the same boxes as a pass at box_thresh gives, in the same order: a box's score does not
    # depend on the threshold
    strong = [box for box, score in zip(boxes, scores) if score >= config.box_thresh]
    faint = [box for box, score in zip(boxes, scores) if score < config.box_thresh]
    return filter_boxes(strong, width, height), filter_boxes(faint, width, height)


def prepare_detection_input(image_bgr: np.ndarray, config: DetectionConfig) -> np.ndarray | None:
    """Resize so the limited side meets `limit_side_len`, both sides multiples of 32; normalise."""
    height, width = image_bgr.shape[:2]
    ratio = 1.0
    if config.limit_type == "max" and max(height, width) > config.limit_side_len:
        ratio = config.limit_side_len / max(height, width)
    elif config.limit_type == "min" and min(height, width) < config.limit_side_len:
        ratio = config.limit_side_len / min(height, width)
    ratio = min(ratio, config.max_input_side / max(height, width))
    resized_h = int(round(int(height * ratio) / 32) * 32)
    resized_w = int(round(int(width * ratio) / 32) * 32)
    if resized_h <= 0 or resized_w <= 0:
        return None
    resized = geometry.resize_bilinear(image_bgr, resized_w, resized_h)
    # (v / 255 - mean) / std in float32 for each of the 256 grey levels, looked up straight
    # into the (1, 3, H, W) layout: the same values as computing it pixel by pixel.
    levels = np.arange(256, dtype=np.float32)[:, None]
    table = (levels / 255.0 - np.asarray(config.mean, dtype=np.float32)) / np.asarray(config.std, dtype=np.float32)
    tensor = np.empty((1, 3, resized_h, resized_w), dtype=np.float32)
    for channel in range(3):
        np.take(table[:, channel], resized[:, :, channel], out=tensor[0, channel])
    return tensor


def boxes_from_probability(
    probability: np.ndarray, dest_width: int, dest_height: int, config: DetectionConfig
) -> tuple[list[np.ndarray], list[float]]:
    """DB post-processing of one (H, W) probability map into boxes in destination pixels."""
    mask = probability > config.thresh
    if config.use_dilation:
        mask = dilate_2x2(mask)
    map_height, map_width = mask.shape
    boxes, scores = [], []
    for points in geometry.component_points(mask)[: config.max_candidates]:
        corners, side_a, side_b = geometry.min_area_rect(points)
        if min(side_a, side_b) < _MIN_SIDE_PX:
            continue
        score = box_score_fast(probability, corners)
        if score < config.box_thresh:
            continue
        expanded, short_side = unclip(corners, config.unclip_ratio)
        if short_side < _MIN_SIDE_PX + 2:
            continue
        expanded[:, 0] = np.clip(np.round(expanded[:, 0] / map_width * dest_width), 0, dest_width)
        expanded[:, 1] = np.clip(np.round(expanded[:, 1] / map_height * dest_height), 0, dest_height)
        boxes.append(expanded.astype(np.int32))
        scores.append(score)
    return boxes, scores


def dilate_2x2(mask: np.ndarray) -> np.ndarray:
    """`cv2.dilate` with a 2×2 kernel and the default anchor: each pixel ORs itself with its
    upper, left and upper-left neighbours."""
    grown = mask.copy()
    grown[1:, :] |= mask[:-1, :]
    result = grown.copy()
    result[:, 1:] |= grown[:, :-1]
    return result


def box_score_fast(probability: np.ndarray, corners: np.ndarray) -> float:
    """Mean probability inside the box, over the box's bounding window (PaddleOCR's "fast")."""
    height, width = probability.shape
    x_min = int(np.clip(np.floor(corners[:, 0].min()), 0, width - 1))
    x_max = int(np.clip(np.ceil(corners[:, 0].max()), 0, width - 1))
    y_min = int(np.clip(np.floor(corners[:, 1].min()), 0, height - 1))
    y_max = int(np.clip(np.ceil(corners[:, 1].max()), 0, height - 1))
    local = (corners - [x_min, y_min]).astype(np.int32)  # truncation, as the reference does
    window = probability[y_min : y_max + 1, x_min : x_max + 1]
    inside = geometry.convex_polygon_mask(local, window.shape)
    if not inside.any():
        return 0.0
    return float(window[inside].mean())


def unclip(corners: np.ndarray, unclip_ratio: float) -> tuple[np.ndarray, float]:
    """Grow the box by area × ratio / perimeter; returns (rectangle, its shorter side).

    The grown outline is pyclipper's round-joined offset of the (truncated) box, vertex for
    vertex (`geometry.offset_polygon_round`), and the rectangle its minimum-area one, as the
    reference computes them: approximating the outline by the box grown by the distance on
    every side moved box edges by a pixel or two, and the recogniser's crops with them.
    """
    area, perimeter = geometry.polygon_area_perimeter(corners)
    distance = area * unclip_ratio / perimeter if perimeter > 0 else 0.0
    outline = geometry.offset_polygon_round(corners, distance)
    if len(outline) == 0:  # a box that truncates to a line or a point: grow it as a rectangle
        rect, side_a, side_b = geometry.min_area_rect(corners)
        return geometry.expand_rect(rect, distance), min(side_a, side_b) + 2 * distance
    rect, side_a, side_b = geometry.min_area_rect(outline.astype(np.float64))
    return rect, min(side_a, side_b)


def filter_boxes(boxes: list[np.ndarray], width: int, height: int) -> np.ndarray:
    """Order corners clockwise, clip to the image, drop boxes 3 px or thinner."""
    kept = []
    for box in boxes:
        ordered = geometry.order_points_clockwise(box)
        ordered[:, 0] = np.clip(ordered[:, 0], 0, width - 1).astype(np.int32)
        ordered[:, 1] = np.clip(ordered[:, 1], 0, height - 1).astype(np.int32)
        box_width = int(np.hypot(*(ordered[0] - ordered[1])))
        box_height = int(np.hypot(*(ordered[0] - ordered[3])))
        if box_width <= 3 or box_height <= 3:
            continue
        kept.append(ordered)
    if not kept:
        return np.zeros((0, 4, 2), dtype=np.float32)
    return np.stack(kept).astype(np.float32)

