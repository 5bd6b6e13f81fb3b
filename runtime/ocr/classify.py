"""Text direction: PP-OCR's 0°/180° classifier on rectified line crops."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..scheduler import in_turn
from ..session import ComponentSession
from . import geometry


@dataclass(frozen=True)
class ClassifyConfig:
    image_shape: tuple[int, int, int] = (3, 48, 192)  # channels, height, width
    batch_size: int = 6
    thresh: float = 0.9
    labels: tuple[str, ...] = ("0", "180")


def normalise_crop(crop: np.ndarray, height: int, width: int, max_width: int) -> np.ndarray:
    """Resize a BGR crop to `height` keeping its aspect ratio (at most `max_width` wide),
    scale to [-1, 1] and pad with zeros on the right to `width`: PP-OCR's `resize_norm_img`."""
    crop_h, crop_w = crop.shape[:2]
    resized_w = min(max_width, int(math.ceil(height * crop_w / crop_h)))
    resized = geometry.resize_bilinear(crop, resized_w, height).astype(np.float32)
    padded = np.zeros((3, height, width), dtype=np.float32)
    padded[:, :, :resized_w] = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    return padded


def half_turned(crop: np.ndarray) -> np.ndarray:
    """`crop` turned 180°."""
    return np.ascontiguousarray(crop[::-1, ::-1])


def upside_down(config: ClassifyConfig, scores: list[float]) -> list[bool]:
    """Per crop, whether the classifier is sure (above `config.thresh`) it is upside down,
    from its `turned_scores`."""
    return [score > config.thresh and score > 0.5 for score in scores]


def turned_scores(session: ComponentSession, crops: list[np.ndarray], config: ClassifyConfig,
                  run_batches: Callable[[Callable, list], list] | None = None) -> list[float]:
    """Per crop, the classifier's probability that it is upside down (its labels holding
    "180").

    Every crop is padded to the same width, so its score does not depend on its batch;
    `run_batches` (the engine's `WorkerPool.map`) lets idle workers take some batches.
    """
    _, height, width = config.image_shape
    result = [0.0] * len(crops)
    order = np.argsort([crop.shape[1] / crop.shape[0] for crop in crops], kind="stable")
    input_name = next(iter(session.inputs))
    turned = [index for index, label in enumerate(config.labels) if "180" in label]

    def classify(indices: np.ndarray) -> np.ndarray:
        batch = np.stack([normalise_crop(crops[i], height, width, width) for i in indices])
        return next(iter(session.run({input_name: batch}).values()))

    batches = [order[begin : begin + config.batch_size] for begin in range(0, len(order), config.batch_size)]
    for indices, probabilities in zip(batches, (run_batches or in_turn)(classify, batches)):
        for index, row in zip(indices, probabilities):
            result[index] = float(np.sum(row[turned]))
    return result
