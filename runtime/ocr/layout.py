"""Reading order and line merging for detected text boxes.

The rule, applied to boxes already in RapidOCR's top-to-bottom, left-to-right order:

1. Rows: consecutive boxes whose vertical extents overlap by at least half the smaller
   box's height belong to one row.
2. Blocks and columns: walking down the rows, a block grows while the x-projection of its
   boxes keeps an interior gap ("gutter") at least `column_gap_ratio` × the median line
   height wide, with at least `min_column_width_ratio` × that height of text on each side
   (so a narrow price column on a receipt is not mistaken for a page column). The first
   row that would close every gutter starts a new block; a row whose joining would end
   the block sooner than starting just below it (a centred heading over columns) is read
   on its own first. A block with a gutter is split
   at its leftmost gutter and each side is ordered by this same rule, left side first;
   so a two-column page reads down the left column, then down the right one, and a
   full-width heading or footer stays in its place above or below.
3. Merging: within a row, neighbours left to right whose horizontal gap is at most
   `merge_gap_ratio` × their mean height are joined into one line with a single space
   (the recogniser tends to split "Total due: 42.50" into several boxes). Wider gaps keep
   separate lines, left before right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..results import TextLine


@dataclass(frozen=True)
class LayoutConfig:
    merge_gap_ratio: float = 2.0
    column_gap_ratio: float = 2.0
    min_column_width_ratio: float = 6.0
    row_overlap: float = 0.5


@dataclass(frozen=True)
class _Box:
    line: TextLine
    left: float
    right: float
    top: float
    bottom: float
    height: float


def order_lines(lines: list[TextLine] | tuple[TextLine, ...], config: LayoutConfig = LayoutConfig()) -> tuple[TextLine, ...]:
    """Lines in reading order, same-row neighbours merged (see the module docstring)."""
    boxes = [_measure(line) for line in lines]
    if not boxes:
        return ()
    unit = float(np.median([box.height for box in boxes])) or 1.0
    ordered_rows = _order(boxes, unit, config)
    merged: list[TextLine] = []
    for row in ordered_rows:
        merged.extend(_merge_row(row, config))
    return tuple(merged)


def _measure(line: TextLine) -> _Box:
    corners = np.asarray(line.box, dtype=np.float64)
    left_edge = np.hypot(*(corners[3] - corners[0]))
    right_edge = np.hypot(*(corners[2] - corners[1]))
    height = max((left_edge + right_edge) / 2, 1.0)
    return _Box(line, corners[:, 0].min(), corners[:, 0].max(), corners[:, 1].min(), corners[:, 1].max(), height)


def _order(boxes: list[_Box], unit: float, config: LayoutConfig) -> list[list[_Box]]:
    rows = _group_rows(boxes, config)
    reach: dict[int, tuple[int, float | None]] = {}

    def grow(start: int) -> tuple[int, float | None]:
        if start not in reach:
            reach[start] = _grow_block(rows, start, unit, config)
        return reach[start]

    ordered: list[list[_Box]] = []
    start = 0
    while start < len(rows):
        end, gutter = grow(start)
        if start + 1 < len(rows) and grow(start + 1)[0] > end:
            # This row (a centred heading, say) would cut the column section below short:
            # it is read on its own, before the section.
            end, gutter = start + 1, None
        block = [box for row in rows[start:end] for box in row]
        if gutter is None:
            ordered.append(sorted(block, key=lambda box: box.left))
        else:
            ordered.extend(_order([box for box in block if box.right <= gutter], unit, config))
            ordered.extend(_order([box for box in block if box.right > gutter], unit, config))
        start = end
    return ordered


def _grow_block(rows: list[list[_Box]], start: int, unit: float, config: LayoutConfig) -> tuple[int, float | None]:
    """End (exclusive) of the block starting at row `start`, and its gutter (None: one row)."""
    end, gutter = start + 1, _find_gutter(rows[start], unit, config)
    while end < len(rows):
        wider = _find_gutter([box for row in rows[start : end + 1] for box in row], unit, config)
        if wider is None:
            break
        end, gutter = end + 1, wider
    return end, gutter


def _group_rows(boxes: list[_Box], config: LayoutConfig) -> list[list[_Box]]:
    rows: list[list[_Box]] = []
    for box in boxes:
        if rows:
            last = rows[-1][-1]
            overlap = min(box.bottom, last.bottom) - max(box.top, last.top)
            if overlap >= config.row_overlap * min(box.height, last.height):
                rows[-1].append(box)
                continue
        rows.append([box])
    return rows


def _find_gutter(boxes: list[_Box], unit: float, config: LayoutConfig) -> float | None:
    """Right edge of the leftmost qualifying column's text, or None without a gutter."""
    spans = sorted((box.left, box.right) for box in boxes)
    block_left = spans[0][0]
    block_right = max(right for _, right in spans)
    covered_right = spans[0][1]
    for left, right in spans[1:]:
        gap = left - covered_right
        if (
            gap >= config.column_gap_ratio * unit
            and covered_right - block_left >= config.min_column_width_ratio * unit
            and block_right - left >= config.min_column_width_ratio * unit
        ):
            return covered_right
        covered_right = max(covered_right, right)
    return None


def _merge_row(row: list[_Box], config: LayoutConfig) -> list[TextLine]:
    groups: list[list[_Box]] = [[row[0]]]
    for box in row[1:]:
        previous = groups[-1][-1]
        gap = box.left - previous.right
        if gap <= config.merge_gap_ratio * (box.height + previous.height) / 2:
            groups[-1].append(box)
        else:
            groups.append([box])
    return [_join(group) for group in groups]


def _join(group: list[_Box]) -> TextLine:
    if len(group) == 1:
        return group[0].line
    first, last = group[0].line.box, group[-1].line.box
    box = (first[0], last[1], last[2], first[3])
    text = " ".join(item.line.text for item in group)
    weights = [max(len(item.line.text), 1) for item in group]
    confidence = float(np.average([item.line.confidence for item in group], weights=weights))
    return TextLine(text=text, box=box, confidence=confidence)
