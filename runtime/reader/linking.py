"""Which cell holds a key's value, learned from the geometry of real forms.

A form puts a value right of its key, under it, or in a box below a row of keys; which one
the rules of `document` pick is a guess where several cells could be the value (a row of
two keys, a key over another key's value). This module scores each (key cell, candidate
cell) pair with gradient-boosted trees over the two boxes and a few traits of their text
(`pair_features`). The trees were fitted by `bench/fit_linker.py` on the key→answer links
of FUNSD's development forms only (research data kept outside the repository; the held-out
third of the forms is never read by it), and live in `link_model.py` as plain numbers.

Candidates of a key are the cells whose middle is no more than half a key height above the
key's top, whose top is at most `_BELOW_RATIO` key heights below the key's bottom, and whose
right edge is right of `_LEFT_RATIO` key heights before the key's left edge. Pure numpy: the trees run as arrays, every candidate of a page
at once.
"""

from __future__ import annotations

import numpy as np

from runtime.ocr.grid import upright
from runtime.results import TextLine

# The trees were fitted on the image frame of scans turned by 1.8 degrees at most: pages
# within that keep it (their features are what the trees know), pages turned further are
# measured upright.
_FITTED_SKEW_DEGREES = 2.0
_BELOW_RATIO = 8.0
_LEFT_RATIO = 3.0
_UNDER_RATIO = 1.5

FEATURES = ("gap_right", "gap_below", "left_offset", "centre_offset", "row_overlap", "column_overlap",
            "log_height_ratio", "key_is_label", "value_is_label", "key_has_colon", "value_has_colon",
            "value_has_digit", "cells_between", "nearer_cells", "value_words", "value_upper", "key_upper",
            "key_is_key", "value_is_key", "value_has_under", "value_under_is_label", "key_has_under",
            "key_under_is_label", "value_is_under_key", "value_is_right_neighbour", "right_neighbour_is_label",
            "cells_right_in_row")


def _spans(cells: tuple[TextLine, ...]) -> np.ndarray:
    """(left, top, right, bottom) of each cell, in the page's own frame (`grid.upright`) where
    the page is turned by more than `_FITTED_SKEW_DEGREES`: on a receipt photographed 9
    degrees askew, the next row's value is level with a key in the image's frame, and was
    linked to it ("TOTAL" -> the cash given)."""
    if not cells:
        return np.zeros((0, 4), dtype=np.float64)
    corners = upright([cell.box for cell in cells], _FITTED_SKEW_DEGREES)
    return np.column_stack([corners[:, :, 0].min(axis=1), corners[:, :, 1].min(axis=1),
                            corners[:, :, 0].max(axis=1), corners[:, :, 1].max(axis=1)])


def candidates(spans: np.ndarray, key: int) -> np.ndarray:
    """The cells that may hold the value of the key cell `key` (indices into `spans`)."""
    left, top, right, bottom = spans[key]
    height = max(1.0, bottom - top)
    middle = (spans[:, 1] + spans[:, 3]) / 2
    near = (middle >= top - 0.5 * height) & (spans[:, 1] <= bottom + _BELOW_RATIO * height) \
        & (spans[:, 2] >= left - _LEFT_RATIO * height)
    near[key] = False
    return np.flatnonzero(near)


def cells_under(spans: np.ndarray) -> np.ndarray:
    """For each cell, the cell right under it (overlapping it across, its top within
    `_UNDER_RATIO` of the cell's height below the cell's bottom, the highest such), or -1."""
    under = np.full(len(spans), -1, dtype=np.int64)
    for index, (left, top, right, bottom) in enumerate(spans):
        height = max(1.0, bottom - top)
        below = (spans[:, 1] >= top + 0.5 * height) & (spans[:, 1] <= bottom + _UNDER_RATIO * height) \
            & (np.minimum(right, spans[:, 2]) > np.maximum(left, spans[:, 0]))
        below[index] = False
        if below.any():
            chosen = np.flatnonzero(below)
            under[index] = chosen[np.argmin(spans[chosen, 1])]
    return under


def pair_features(cells: tuple[TextLine, ...], spans: np.ndarray, keys: list[bool], labels: list[bool],
                  key: int, found: np.ndarray, under: np.ndarray) -> np.ndarray:
    """One row of `FEATURES` per candidate in `found` of the key cell `key`; `under` is
    `cells_under(spans)`."""
    left, top, right, bottom = spans[key]
    height = max(1.0, bottom - top)
    s = spans[found]
    heights = np.maximum(1.0, s[:, 3] - s[:, 1])
    row_overlap = np.maximum(0.0, np.minimum(bottom, s[:, 3]) - np.maximum(top, s[:, 1])) / np.minimum(height, heights)
    widths = np.maximum(1.0, np.minimum(right - left, s[:, 2] - s[:, 0]))
    column_overlap = np.maximum(0.0, np.minimum(right, s[:, 2]) - np.maximum(left, s[:, 0])) / widths
    gap_right = (s[:, 0] - right) / height
    gap_below = (s[:, 1] - bottom) / height
    distance = np.hypot(np.maximum(0.0, gap_right), np.maximum(0.0, gap_below))
    nearer = (distance[None, :] < distance[:, None]).sum(axis=1)
    # cells standing between the key and a candidate: across the row for a candidate in the
    # key's row, down the column for one below
    same_row = row_overlap > 0.3
    w_left, w_top, w_right, w_bottom = s[:, 0][None, :], s[:, 1][None, :], s[:, 2][None, :], s[:, 3][None, :]
    across = (w_left >= right - 0.2 * height) & (w_right <= s[:, 0][:, None] + 0.2 * height) \
        & (np.minimum(bottom, w_bottom) - np.maximum(top, w_top) > 0.3 * height)
    down = (w_top >= bottom - 0.2 * height) & (w_bottom <= s[:, 1][:, None] + 0.2 * height) \
        & (np.minimum(s[:, 2][:, None], w_right) - np.maximum(s[:, 0][:, None], w_left) > 0)
    between = np.where(same_row[:, None], across, down)
    np.fill_diagonal(between, False)
    key_text = cells[key].text.strip()
    texts = [cells[index].text.strip() for index in found]
    right_of = np.flatnonzero(same_row & (gap_right > -0.5))
    neighbour = found[right_of[np.argmin(gap_right[right_of])]] if len(right_of) else -1
    labelled = np.append(np.asarray(labels, dtype=bool), False)  # index -1: no cell
    below_value = under[found]
    return np.column_stack([
        gap_right, gap_below, (s[:, 0] - left) / height, ((s[:, 0] + s[:, 2]) - (left + right)) / (2 * height),
        row_overlap, column_overlap, np.log(heights / height),
        np.full(len(found), float(labels[key])), [float(labels[index]) for index in found],
        np.full(len(found), float(key_text.endswith(":"))), [float(text.endswith(":")) for text in texts],
        [float(any(ch.isdigit() for ch in text)) for text in texts],
        between.sum(axis=1), nearer, [float(len(text.split())) for text in texts],
        [float(text.isupper()) for text in texts], np.full(len(found), float(key_text.isupper())),
        np.full(len(found), float(keys[key])), [float(keys[index]) for index in found],
        below_value >= 0, labelled[below_value], np.full(len(found), float(under[key] >= 0)),
        np.full(len(found), float(labelled[under[key]])), found == under[key], found == neighbour,
        np.full(len(found), float(labelled[neighbour])), np.full(len(found), float(len(right_of))),
    ])


class Trees:
    """Gradient-boosted regression trees (sklearn's binomial deviance): a log-odds prior plus
    `rate` × the leaf each tree sends a row to; arrays per tree, padded to one node count."""

    def __init__(self, prior: float, rate: float, feature, threshold, left, right, value):
        self.prior, self.rate = prior, rate
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.value = np.asarray(value, dtype=np.float64)

    def probability(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0)
        trees = np.arange(len(self.feature))[:, None]
        node = np.zeros((len(self.feature), len(rows)), dtype=np.int64)
        for _ in range(self.feature.shape[1]):  # never deeper than the node count
            leaf = self.left[trees, node] < 0
            if leaf.all():
                break
            goes_left = rows[np.arange(len(rows))[None, :], np.maximum(0, self.feature[trees, node])] <= self.threshold[trees, node]
            node = np.where(leaf, node, np.where(goes_left, self.left[trees, node], self.right[trees, node]))
        logit = self.prior + self.rate * self.value[trees, node].sum(axis=0)
        return 1.0 / (1.0 + np.exp(-logit))


def _model() -> Trees:
    from . import link_model

    if tuple(link_model.FEATURES) != FEATURES:
        raise RuntimeError("runtime/reader/link_model.py was fitted on other features than linking.FEATURES: "
                           "refit it with bench/fit_linker.py --write")
    return Trees(link_model.PRIOR, link_model.RATE, link_model.FEATURE, link_model.THRESHOLD,
                 link_model.LEFT, link_model.RIGHT, link_model.VALUE)


_TREES: Trees | None = None


def trees() -> Trees:
    global _TREES
    if _TREES is None:
        _TREES = _model()
    return _TREES


def link_scores(cells: tuple[TextLine, ...], keys: list[bool], labels: list[bool], key_cells: list[int],
                model: Trees | None = None) -> dict[int, list[tuple[int, float]]]:
    """For each key cell, its candidates and the probability that each holds its value."""
    spans = _spans(cells)
    model = model or trees()
    found = {key: candidates(spans, key) for key in key_cells}
    found = {key: cells_ for key, cells_ in found.items() if len(cells_)}
    if not found:
        return {}
    under = cells_under(spans)
    rows = np.vstack([pair_features(cells, spans, keys, labels, key, cells_, under) for key, cells_ in found.items()])
    probability = model.probability(rows)
    scores, start = {}, 0
    for key, cells_ in found.items():
        scores[key] = list(zip(cells_.tolist(), probability[start:start + len(cells_)].tolist()))
        start += len(cells_)
    return scores
