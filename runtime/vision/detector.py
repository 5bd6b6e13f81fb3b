"""COCO-80 object detection with NanoDet-g (one ONNX graph, converted from TF.js at build time).

Preprocessing follows NanoDet: the image is scaled so its longer side is 416 and centred on a
416 x 416 canvas (letterbox; the border is the mean colour, i.e. zero after normalisation),
channels in BGR order, (x - mean) / std with NanoDet's ImageNet statistics. The graph returns,
per stride 8, 16 and 32, class probabilities `scores_<stride>` (batch, cells, 80) and distance
logits `boxes_<stride>` (batch, cells, 44) (see packaging/photo_models.py for the names);
`runtime.vision.boxes` decodes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import BundleError
from ..session import ComponentSession
from . import boxes

MEAN_BGR = (103.53, 116.28, 123.675)
STD_BGR = (57.375, 57.12, 58.395)
STRIDES = (8, 16, 32)
REG_MAX = 10  # 11 distance bins per side


@dataclass(frozen=True)
class DetectorConfig:
    """Start-up settings of the detector.

    `score_threshold` was calibrated on real photos (scikit-image's astronaut, chelsea, coffee,
    camera, rocket, the left stereo_motorcycle and the horse silhouette): the right detections
    scored 0.49 (dining table under the coffee) to 0.88 (the cameraman); the best wrong ones
    0.39 (a dog for the cat), 0.36 (a car behind the cameraman), 0.35 (a second horse). The
    cup under the coffee (0.27) is lost, below wrong ones that no threshold could separate.
    """

    score_threshold: float = 0.4
    iou_threshold: float = 0.6  # NanoDet's own NMS setting
    same_object_iou: float = 0.85  # boxes of two classes this alike are one object (`boxes.one_label_per_object`)
    max_detections: int = 100
    batch_size: int = 8


@dataclass(frozen=True)
class Detection:
    """One object: its COCO label, score and box (x0, y0, x1, y1) in the original image's pixels."""

    label: str
    class_id: int
    score: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Letterbox:
    """Where an image went on the square canvas: scale, then offset."""

    scale: float
    left: int
    top: int


def letterbox(image: Image.Image, size: int) -> tuple[np.ndarray, Letterbox]:
    """(3, size, size) normalised BGR input for one RGB image, and where it was placed."""
    width, height = image.size
    scale = size / max(width, height)
    new_width, new_height = max(1, round(width * scale)), max(1, round(height * scale))
    resized = np.asarray(image.convert("RGB").resize((new_width, new_height), Image.BILINEAR), dtype=np.float32)
    mean, std = np.asarray(MEAN_BGR, np.float32), np.asarray(STD_BGR, np.float32)
    canvas = np.zeros((size, size, 3), dtype=np.float32)
    left, top = (size - new_width) // 2, (size - new_height) // 2
    canvas[top : top + new_height, left : left + new_width] = (resized[:, :, ::-1] - mean) / std
    return canvas.transpose(2, 0, 1), Letterbox(scale, left, top)


class ObjectDetector:
    """NanoDet-g over a batch of images. Read-only after construction (thread-safe)."""

    def __init__(self, session: ComponentSession, config: DetectorConfig = DetectorConfig()):
        expected = {f"{kind}_{stride}" for kind in ("scores", "boxes") for stride in STRIDES}
        if len(session.inputs) != 1 or not expected <= set(session.outputs):
            raise BundleError(
                f"Component '{session.component}' is not a NanoDet detector: it needs one image input and "
                f"outputs {sorted(expected)}; it has inputs {sorted(session.inputs)} and outputs {sorted(session.outputs)}."
            )
        self._labels = metadata_labels(session, 80)
        self._input = next(iter(session.inputs))
        size = session.inputs[self._input].shape[-1]
        self._size = size if isinstance(size, int) else 416
        self._session = session
        self._config = config

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def detect(self, images: Sequence[Image.Image]) -> list[list[Detection]]:
        """Objects in each image, best score first; one session call per `batch_size` images."""
        results: list[list[Detection]] = []
        for start in range(0, len(images), self._config.batch_size):
            chunk = images[start : start + self._config.batch_size]
            placed = [letterbox(image, self._size) for image in chunk]
            outputs = self._session.run({self._input: np.stack([pixels for pixels, _ in placed])})
            for row, (image, (_, where)) in enumerate(zip(chunk, placed)):
                per_level = {s: (outputs[f"scores_{s}"][row], outputs[f"boxes_{s}"][row]) for s in STRIDES}
                results.append(self._decode(per_level, where, image.size))
        return results

    def _decode(self, per_level, where: Letterbox, image_size) -> list[Detection]:
        config = self._config
        parts = [boxes.decode_level(scores, distributions, stride, config.score_threshold, REG_MAX)
                 for stride, (scores, distributions) in per_level.items()]
        found = np.concatenate([p[0] for p in parts])
        scores = np.concatenate([p[1] for p in parts])
        class_ids = np.concatenate([p[2] for p in parts])
        kept = boxes.class_wise_nms(found, scores, class_ids, config.iou_threshold, config.max_detections)
        kept = boxes.one_label_per_object(found, kept, config.same_object_iou)
        width, height = image_size
        offset = np.asarray([where.left, where.top, where.left, where.top], dtype=np.float32)
        limits = np.asarray([width, height, width, height], dtype=np.float32)
        mapped = np.clip((found[kept] - offset) / where.scale, 0, limits)
        return [
            Detection(self._labels[int(class_ids[i])], int(class_ids[i]), float(scores[i]), tuple(float(v) for v in box))
            for i, box in zip(kept, mapped)
        ]


def metadata_labels(session: ComponentSession, count: int) -> tuple[str, ...]:
    """The class names the build wrote into the graph's metadata (`labels`, a JSON list)."""
    try:
        labels = json.loads(session.metadata["labels"])
    except (KeyError, ValueError):
        labels = None
    if not isinstance(labels, list) or len(labels) != count or not all(isinstance(x, str) for x in labels):
        raise BundleError(f"Component '{session.component}' carries no list of {count} class names in its "
                          "metadata ('labels'); rebuild it with packaging/photo_models.py.")
    return tuple(labels)
