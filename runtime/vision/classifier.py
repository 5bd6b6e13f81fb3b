"""ImageNet-1k classification with EfficientNet-Lite0 (one ONNX graph, exported from PyTorch).

Preprocessing as the model was trained (TF's EfficientNet-Lite): resize so the short side is
256, take the centre 224 x 224, RGB, (x - 127) / 128. Only the centre window is resampled
(PIL's `box`), so a 1 x 60000 image costs no more than a square one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import BundleError
from ..session import ComponentSession
from .detector import metadata_labels

RESIZE_SHORT_SIDE = 256
CROP = 224
MEAN, STD = 127.0, 128.0


@dataclass(frozen=True)
class ClassifierConfig:
    top_k: int = 5
    batch_size: int = 16


@dataclass(frozen=True)
class Label:
    """One ImageNet class with its probability; `name` is the first of its synonyms."""

    label: str
    class_id: int
    score: float

    @property
    def name(self) -> str:
        return self.label.split(",")[0].strip()


def centre_crop(image: Image.Image) -> np.ndarray:
    """(3, 224, 224) normalised RGB input: short side to 256, then the centre 224."""
    width, height = image.size
    scale = RESIZE_SHORT_SIDE / min(width, height)
    resized_width, resized_height = max(CROP, round(width * scale)), max(CROP, round(height * scale))
    left, top = (resized_width - CROP) / 2, (resized_height - CROP) / 2
    box = (left / scale, top / scale, (left + CROP) / scale, (top + CROP) / scale)
    crop = image.convert("RGB").resize((CROP, CROP), Image.BILINEAR, box=box)
    return ((np.asarray(crop, dtype=np.float32) - MEAN) / STD).transpose(2, 0, 1)


class ImageClassifier:
    """EfficientNet-Lite0 over a batch of images. Read-only after construction (thread-safe)."""

    def __init__(self, session: ComponentSession, config: ClassifierConfig = ClassifierConfig()):
        if len(session.inputs) != 1 or len(session.outputs) != 1:
            raise BundleError(f"Component '{session.component}' is not an image classifier: it needs one input "
                              f"and one output (logits); it has {sorted(session.inputs)} and {sorted(session.outputs)}.")
        self._input = next(iter(session.inputs))
        self._output = next(iter(session.outputs))
        self._labels = metadata_labels(session, 1000)
        self._session = session
        self._config = config

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def classify(self, images: Sequence[Image.Image], top_k: int | None = None) -> list[list[Label]]:
        """The `top_k` most probable labels of each image, best first."""
        top_k = self._config.top_k if top_k is None else top_k
        results: list[list[Label]] = []
        for start in range(0, len(images), self._config.batch_size):
            batch = np.stack([centre_crop(image) for image in images[start : start + self._config.batch_size]])
            logits = self._session.run({self._input: batch}, [self._output])[self._output]
            for row in softmax(logits):
                best = np.argsort(-row, kind="stable")[:top_k]
                results.append([Label(self._labels[i], int(i), float(row[i])) for i in best])
        return results


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.asarray(logits, dtype=np.float64) - np.max(logits, axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return (weights / weights.sum(axis=-1, keepdims=True)).astype(np.float32)
