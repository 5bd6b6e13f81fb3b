"""Rows and columns of OCR regions: the one grouping rule that reading order and the reader share.

A region is one detector box: 4 corners clockwise from top-left, as in `TextLine.box`. Boxes
are measured in the page's own frame, so a page turned by a few degrees groups like a
straight one: the text direction `u` is the length-weighted median direction of the boxes'
long edges, `v` runs across it (down the page), and a region's height is the mean length of
its left and right edges.

- Rows: regions are taken left to right; each joins the row whose last region's centre is
  nearest across the text, if at most `row_offset_ratio` × the taller height away (for
  upright boxes, 0.5 is "their vertical extents overlap by at least half the smaller
  height"), else it starts a row. Comparing with a row's last region rather than its first
  lets a row follow a slightly curved or tilted line. A region written across the lines (a
  number stamped up the margin: `_standing`) is a row of its own. Rows run top to bottom,
  each left to right.
- Columns: two regions of different rows are aligned when their extents along the text
  overlap by at least `column_overlap_ratio` × the narrower one's width. A region aligned
  with two or more regions of one row spans columns (a heading, a header the detector read
  as one box) and belongs to no column. Columns are the connected groups of aligned regions,
  left to right, each top to bottom.
- Runs (`split_runs`): a row's neighbours whose gap along the text is at most a given
  multiple of their mean height. Reading order joins runs into lines; the reader joins
  regions closer than a word gap into one cell (the detector splits "63.47 USD" at its space).

Plain data in and out: boxes in, region indices out; no text, no models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_MAX_SKEW_RAD = np.pi / 4  # steeper boxes (vertical text, noise) do not vote for the direction
_STANDING_RATIO = 1.5  # a region this many times taller than long may be text written across the lines


@dataclass(frozen=True)
class GridConfig:
    row_offset_ratio: float = 0.5
    column_overlap_ratio: float = 0.5


@dataclass(frozen=True)
class Grid:
    """Indices of the regions passed to `group_regions`."""

    rows: tuple[tuple[int, ...], ...]  # top to bottom, each left to right; every region in one row
    columns: tuple[tuple[int, ...], ...]  # left to right, each top to bottom; spanning regions in none


@dataclass(frozen=True)
class _Measures:
    left: np.ndarray  # extent along the text direction
    right: np.ndarray
    middle: np.ndarray  # centre across the text direction
    height: np.ndarray


def group_regions(boxes: Sequence[Sequence[Sequence[float]]], config: GridConfig = GridConfig()) -> Grid:
    """Rows and columns of regions (see the module docstring).

    Args:
        boxes: one box per region, 4 (x, y) corners clockwise from top-left, in image pixels.
        config: how close centres must be to share a row, how much extents must overlap to
            share a column.
    Returns:
        A `Grid` of indices into `boxes`.
    """
    if len(boxes) == 0:
        return Grid((), ())
    measures = _measure(np.asarray(boxes, dtype=np.float64).reshape(-1, 4, 2))
    rows = _rows(measures, config)
    return Grid(rows, _columns(measures, rows, config))


def split_runs(boxes: Sequence[Sequence[Sequence[float]]], max_gap_ratio: float) -> tuple[tuple[int, ...], ...]:
    """A row's regions in runs of neighbours.

    Args:
        boxes: the row's boxes, left to right (a row of `group_regions`).
        max_gap_ratio: neighbours whose gap along the text is at most this × their mean
            height share a run.
    Returns:
        Runs of indices into `boxes`, left to right; every box in one run.
    """
    if len(boxes) == 0:
        return ()
    measures = _measure(np.asarray(boxes, dtype=np.float64).reshape(-1, 4, 2))
    runs = [[0]]
    for index in range(1, len(boxes)):
        gap = measures.left[index] - measures.right[index - 1]
        if gap <= max_gap_ratio * (measures.height[index] + measures.height[index - 1]) / 2:
            runs[-1].append(index)
        else:
            runs.append([index])
    return tuple(tuple(run) for run in runs)


def upright(boxes: Sequence[Sequence[Sequence[float]]], min_degrees: float = 0.0) -> np.ndarray:
    """The boxes' corners, (n, 4, 2), in the page's own frame: x along the text direction (the
    median of the boxes', as rows are grouped), y across it, down the page. An upright page's
    corners (or one turned by `min_degrees` or less) come back as they are; on a page turned
    by a few degrees, a value at the end of its key's row is level with its key here, not
    with the row above."""
    corners = np.asarray(boxes, dtype=np.float64).reshape(-1, 4, 2)
    if not len(corners):
        return corners
    angle, _ = _page_frame(corners)
    if abs(angle) <= np.radians(min_degrees):
        return corners
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    return np.stack([corners @ direction, corners @ normal], axis=-1)


def _page_frame(corners: np.ndarray) -> tuple[float, np.ndarray]:
    """The page's text angle (`_text_angle`) and each box's height (at least 1)."""
    along = (corners[:, 1] - corners[:, 0]) + (corners[:, 2] - corners[:, 3])  # top + bottom edge
    height = (np.hypot(*(corners[:, 3] - corners[:, 0]).T) + np.hypot(*(corners[:, 2] - corners[:, 1]).T)) / 2
    height = np.maximum(height, 1.0)
    return _text_angle(along, height), height


def _measure(corners: np.ndarray) -> _Measures:
    angle, height = _page_frame(corners)
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    u, v = corners @ direction, corners @ normal
    return _Measures(u.min(axis=1), u.max(axis=1), v.mean(axis=1), height)


def _text_angle(along: np.ndarray, height: np.ndarray) -> float:
    """Length-weighted median angle of the boxes wider than tall (0: upright page)."""
    length = np.hypot(along[:, 0], along[:, 1]) / 2
    angle = np.arctan2(along[:, 1], along[:, 0])
    voting = (length > height) & (np.abs(angle) < _MAX_SKEW_RAD)
    if not voting.any():
        return 0.0
    angle, length = angle[voting], length[voting]
    order = np.argsort(angle)
    cumulative = np.cumsum(length[order])
    return float(angle[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _rows(measures: _Measures, config: GridConfig) -> tuple[tuple[int, ...], ...]:
    middle, height = measures.middle, measures.height
    standing = _standing(measures)
    rows: list[list[int]] = []
    tails = np.empty(len(middle), dtype=np.int64)  # the last region of each row so far
    for index in np.lexsort((middle, measures.left)).tolist():
        last = tails[: len(rows)]
        offset = np.abs(middle[last] - middle[index])
        near = (offset <= config.row_offset_ratio * np.maximum(height[last], height[index])) & ~standing[last]
        if near.any() and not standing[index]:
            best = int(np.flatnonzero(near)[np.argmin(offset[near])])
            rows[best].append(index)
        else:
            best = len(rows)
            rows.append([index])
        tails[best] = index
    rows.sort(key=lambda row: (float(np.mean(middle[row])), float(measures.left[row[0]])))
    return tuple(tuple(row) for row in rows)


def _standing(measures: _Measures) -> np.ndarray:
    """Regions written across the page's lines (a number stamped up a scan's margin, a label
    along a spine): at least `_STANDING_RATIO` times taller than long and at least twice the
    page's median height, which a lone tall letter or digit ("1", "l") never is. Each is a
    row of its own, and no region joins it: with the height of several lines, it would join
    a row its middle is half its height from ("(202) 662-5942 Leslie L. Daniels - Secretary
    2064782104" on a FUNSD scan), and draw a row near it into its own."""
    length = measures.right - measures.left
    return (measures.height >= _STANDING_RATIO * np.maximum(length, 1.0)) & (
        measures.height >= 2.0 * float(np.median(measures.height)))


def _columns(measures: _Measures, rows: tuple[tuple[int, ...], ...], config: GridConfig) -> tuple[tuple[int, ...], ...]:
    count = len(measures.left)
    row_of = np.empty(count, dtype=np.int64)
    for position, row in enumerate(rows):
        row_of[list(row)] = position
    left, right = measures.left, measures.right
    overlap = np.minimum(right[:, None], right[None, :]) - np.maximum(left[:, None], left[None, :])
    width = np.maximum(right - left, 1.0)
    aligned = (overlap >= config.column_overlap_ratio * np.minimum(width[:, None], width[None, :])) & (
        row_of[:, None] != row_of[None, :]
    )
    first, second = np.nonzero(aligned)
    per_row = np.bincount(first * len(rows) + row_of[second], minlength=count * len(rows))
    spanning = (per_row.reshape(count, len(rows)) >= 2).any(axis=1)
    linked = aligned & ~spanning[:, None] & ~spanning[None, :]
    label = _connected(linked)
    groups: dict[int, list[int]] = {}
    for index in np.lexsort((left, row_of)).tolist():  # top to bottom, left to right in a row
        if not spanning[index]:
            groups.setdefault(int(label[index]), []).append(index)
    centre = (left + right) / 2
    ordered = sorted(groups.values(), key=lambda members: (float(np.mean(centre[members])), members[0]))
    return tuple(tuple(members) for members in ordered)


def _connected(linked: np.ndarray) -> np.ndarray:
    """Component label of each node of a symmetric adjacency matrix (its smallest member)."""
    label = np.arange(len(linked))
    for start in range(len(linked)):
        if label[start] != start:
            continue
        frontier = [start]
        while frontier:
            node = frontier.pop()
            for neighbour in np.flatnonzero(linked[node] & (label > start)).tolist():
                label[neighbour] = start
                frontier.append(neighbour)
    return label
