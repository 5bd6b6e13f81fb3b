"""NanoDet's box decoding (GFL distribution head) and class-wise non-maximum suppression.

The head predicts, per feature-map cell and side (left, top, right, bottom), a distribution
over `reg_max + 1` distances in units of the stride; the distance is its expectation
(softmax, then the integral over 0..reg_max), as in Generalized Focal Loss
(Li et al. 2020, https://arxiv.org/abs/2006.04388) and NanoDet's `Integral` module. Cells are
numbered row by row; a cell's centre is ((column + 0.5) * stride, (row + 0.5) * stride).
"""

from __future__ import annotations

import math

import numpy as np


def expected_distances(distributions: np.ndarray, reg_max: int) -> np.ndarray:
    """(n, 4 * (reg_max + 1)) logits → (n, 4) expected distances, in bins (not pixels)."""
    logits = np.asarray(distributions, dtype=np.float32).reshape(-1, 4, reg_max + 1)
    logits = logits - logits.max(axis=2, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=2, keepdims=True)
    return weights @ np.arange(reg_max + 1, dtype=np.float32)


def cell_centres(cells: int, stride: int) -> np.ndarray:
    """(cells, 2) x, y centres of a square feature map of `cells` cells, row by row."""
    side = math.isqrt(cells)
    if side * side != cells:
        raise ValueError(f"a feature map of {cells} cells is not square")
    rows, columns = np.divmod(np.arange(cells), side)
    return np.stack([(columns + 0.5) * stride, (rows + 0.5) * stride], axis=1).astype(np.float32)


def decode_level(scores: np.ndarray, distributions: np.ndarray, stride: int, threshold: float,
                 reg_max: int, max_candidates: int = 1000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates of one image at one stride: every (cell, class) scoring at least `threshold`.

    Args:
        scores: (cells, classes) class probabilities (the graph applies the sigmoid).
        distributions: (cells, 4 * (reg_max + 1)) distance logits.
        stride: the level's stride in input pixels.
        threshold: lowest score kept.
        reg_max: the largest distance bin (10 for NanoDet-g: 11 bins).
        max_candidates: most candidates kept, best first (NanoDet keeps 1000 per level).
    Returns:
        boxes (k, 4) x0, y0, x1, y1 in input pixels; scores (k,); class ids (k,).
    """
    cells, classes = np.nonzero(scores >= threshold)
    values = scores[cells, classes].astype(np.float32)
    if len(values) > max_candidates:
        best = np.argsort(-values, kind="stable")[:max_candidates]
        cells, classes, values = cells[best], classes[best], values[best]
    distances = expected_distances(distributions[cells], reg_max) * stride
    centres = cell_centres(scores.shape[0], stride)[cells]
    boxes = np.concatenate([centres - distances[:, :2], centres + distances[:, 2:]], axis=1)
    return boxes.astype(np.float32), values, classes.astype(np.int64)


def box_iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one x0, y0, x1, y1 box with each of `others` (n, 4)."""
    left = np.maximum(box[0], others[:, 0])
    top = np.maximum(box[1], others[:, 1])
    right = np.minimum(box[2], others[:, 2])
    bottom = np.minimum(box[3], others[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area = max(float(box[2] - box[0]), 0.0) * max(float(box[3] - box[1]), 0.0)
    areas = np.clip(others[:, 2] - others[:, 0], 0, None) * np.clip(others[:, 3] - others[:, 1], 0, None)
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first
    (ties keep the earlier box)."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    kept = []
    while len(order):
        best, order = order[0], order[1:]
        kept.append(best)
        order = order[box_iou(boxes[best], boxes[order]) <= iou_threshold]
    return np.asarray(kept, dtype=np.int64)


def class_wise_nms(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou_threshold: float,
                   max_detections: int) -> np.ndarray:
    """NMS within each class only (a person box never suppresses the horse under it);
    returns indices, best score first, at most `max_detections`."""
    kept = [np.nonzero(class_ids == c)[0][nms(boxes[class_ids == c], scores[class_ids == c], iou_threshold)]
            for c in np.unique(class_ids)]
    if not kept:
        return np.zeros(0, dtype=np.int64)
    indices = np.concatenate(kept)
    order = np.argsort(-scores[indices], kind="stable")
    return indices[order][:max_detections]


def one_label_per_object(boxes: np.ndarray, kept: np.ndarray, iou_threshold: float) -> np.ndarray:
    """`kept` (indices, best score first) without a box that lies almost exactly on a better
    one (IoU above `iou_threshold`), whatever the classes: one object seen as two ("a cat and
    a dog" over the same cat in a JPEG; same-class twins class-wise NMS has already merged).
    A rider and a horse, a cup on a table, overlap far less."""
    chosen: list[int] = []
    for index in kept:
        if not chosen or not (box_iou(boxes[index], boxes[chosen]) > iou_threshold).any():
            chosen.append(int(index))
    return np.asarray(chosen, dtype=np.int64)
