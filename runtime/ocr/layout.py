"""Reading order and line merging for detected text boxes.

1. Rows: `runtime.ocr.grid` (centres close across the text direction, relative to the
   boxes' heights), top to bottom, each left to right.
2. Blocks and columns: walking down the rows, a block grows while the x-projection of its
   boxes keeps an interior gap ("gutter") at least `column_gap_ratio` × the median line
   height wide, with at least `min_column_width_ratio` × that height of text on each side
   (so a narrow price column on a receipt is not mistaken for a page column). The first
   row that would close every gutter starts a new block; a row whose joining would end
   the block sooner than starting just below it (a centred heading over columns) is read
   on its own first. A block with a gutter is split
   at its leftmost gutter and each side is ordered by this same rule, left side first;
   so a two-column page reads down the left column, then down the right one, and a
   full-width heading or footer stays in its place above or below. Unless the block is a
   form or a table (`_read_across`): where its left side is no running text, most of its
   rows have text on both sides of the gutter and, in most of those, the text left of it is
   a key ending in a colon or all the text right of it is figures (amounts, quantities,
   dates), the rows are read across, left to right, not one column of keys and then one of
   values. (Columns further right of such a block are read across with it.)
3. Merging: within a row, neighbours left to right whose gap is at most `merge_gap_ratio`
   × their mean height (`grid.split_runs`) are joined into one line with a single space
   (the recogniser tends to split "Total due: 42.50" into several boxes). Wider gaps keep
   separate lines, left before right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..results import TextLine
from . import grid


@dataclass(frozen=True)
class LayoutConfig:
    merge_gap_ratio: float = 2.0
    column_gap_ratio: float = 2.0
    min_column_width_ratio: float = 6.0
    rows: grid.GridConfig = grid.GridConfig()


@dataclass(frozen=True)
class _Box:
    line: TextLine
    left: float
    right: float
    height: float


def order_lines(lines: list[TextLine] | tuple[TextLine, ...], config: LayoutConfig = LayoutConfig()) -> tuple[TextLine, ...]:
    """Lines in reading order, same-row neighbours merged (see the module docstring)."""
    return tuple(line for row in _rows_in_order(lines, config, columns_of_prose_only=False) for line in row)


def transcript_rows(lines: list[TextLine] | tuple[TextLine, ...], config: LayoutConfig = LayoutConfig()
                    ) -> tuple[tuple[TextLine, ...], ...]:
    """The rows a transcript writes, one per line of text, each left to right: the page's rows,
    except that two columns of running text (`_prose` on both sides) are written one after the
    other. A block of cells that `order_lines` reads column by column (a form whose keys have
    no colon, a questionnaire, address blocks side by side) keeps its rows here, so a key stays
    on the line of its value."""
    return _rows_in_order(lines, config, columns_of_prose_only=True)


def _rows_in_order(lines, config: LayoutConfig, columns_of_prose_only: bool) -> tuple[tuple[TextLine, ...], ...]:
    boxes = [_measure(line) for line in lines]
    if not boxes:
        return ()
    unit = float(np.median([box.height for box in boxes])) or 1.0
    ordered = _order(boxes, unit, config, columns_of_prose_only)
    return tuple(tuple(_merge_row(row, config)) for row in ordered)


def _measure(line: TextLine) -> _Box:
    corners = np.asarray(line.box, dtype=np.float64)
    left_edge = np.hypot(*(corners[3] - corners[0]))
    right_edge = np.hypot(*(corners[2] - corners[1]))
    height = max((left_edge + right_edge) / 2, 1.0)
    return _Box(line, corners[:, 0].min(), corners[:, 0].max(), height)


def _order(boxes: list[_Box], unit: float, config: LayoutConfig, columns_of_prose_only: bool) -> list[list[_Box]]:
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
        block, block_rows = [box for row in rows[start:end] for box in row], rows[start:end]
        start = end
        if gutter is None:  # one row, already left to right
            ordered.append(block)
            continue
        # A left side of running text is an article, never a form's keys (`_read_across`); a
        # transcript splits only running text from running text.
        prose_left = _prose(block_rows, lambda box: box.right <= gutter, config)
        if not prose_left and _read_across(block_rows, gutter) or columns_of_prose_only and not (
                prose_left and _prose(block_rows, lambda box: box.right > gutter, config)):
            ordered.extend(block_rows)
        else:
            for side in ([box for box in block if box.right <= gutter], [box for box in block if box.right > gutter]):
                ordered.extend(_order(side, unit, config, columns_of_prose_only))
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
    rows = grid.group_regions([box.line.box for box in boxes], config.rows).rows
    return [[boxes[index] for index in row] for row in rows]


def _read_across(rows: list[list[_Box]], gutter: float) -> bool:
    """Whether a block split by `gutter`, whose left side is no running text (`_order` checks
    it), is a form or a table, read row by row: more than half of its rows have text on both
    sides, and in more than half of those the text left of the gutter is a key (it ends with a colon, and
    the text right of it does not: "Bill to: | Ship to:" heads two blocks) or everything right
    of it is figures (`_figures`). Prose, address blocks side by side, an article beside a
    table of figures or a list continued in a second column read column by column."""
    paired = [row for row in rows if row[0].right <= gutter < row[-1].right]
    if 2 * len(paired) <= len(rows) or len(paired) < 2:
        return False
    across = 0
    for row in paired:
        key = [box for box in row if box.right <= gutter][-1].line.text.rstrip()
        values = [box.line.text.rstrip() for box in row if box.right > gutter]
        keyed = key.endswith(_COLONS) and not values[0].endswith(_COLONS)
        across += keyed or all(map(_figures, values))
    return 2 * across > len(paired)


_COLONS = (":", "\uff1a")  # ASCII and full-width


def _prose(rows: list[list[_Box]], on_side, config: LayoutConfig) -> bool:
    """Whether one side of a block is running text: at least three rows; in two thirds of them
    the side's text is one run of at least four words (a line of a paragraph); and at least
    half of the rows after the first open in lower case, as lines that carry a sentence on do
    (the cells of a form or a questionnaire open with capitals). Scripts without case never
    count as running text here: their blocks keep their rows."""
    runs = [_merge_row(side, config) for side in ([box for box in row if on_side(box)] for row in rows) if side]
    if len(runs) < 3:
        return False
    running = sum(len(run) == 1 and len(run[0].text.split()) >= 4 for run in runs)
    carried = sum(run[0].text.lstrip()[:1].islower() for run in runs[1:])
    return 3 * running >= 2 * len(runs) and 2 * carried >= len(runs) - 1


def _figures(text: str) -> bool:
    """A cell of figures: at least two thirds of its letters and digits are digits ("1,121.67",
    "2023-08-27", "11"; not "75001 Paris" or "6. Pack the tent"), or figures with one short
    word of a unit or a currency ("9.00 EUR", "2 pcs", "12 kg"), or a dash that stands for
    none ("-", "—")."""
    words = text.split()
    if words and all(set(word) <= _DASHES for word in words):
        return True
    figures = [word for word in words if _figure(word)]
    others = [word for word in words if not _figure(word)]
    return _figure(text) or bool(figures) and len(others) == 1 and _unit(others[0])


def _figure(text: str) -> bool:
    characters = [c for c in text if c.isalnum()]
    return bool(characters) and 3 * sum(c.isdigit() for c in characters) >= 2 * len(characters)


def _unit(word: str) -> bool:
    """A unit or currency written as a short word in one case ("EUR", "pcs", "kg", "hrs."; not
    "Tea", a list's item after its number)."""
    letters = word.strip(".,;:()")
    return 1 <= len(letters) <= 3 and letters.isalpha() and (letters.islower() or letters.isupper())


_DASHES = frozenset("-‐‑‒–—―−")


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
    runs = grid.split_runs([box.line.box for box in row], config.merge_gap_ratio)
    return [join_lines([row[index].line for index in run]) for run in runs]


def join_lines(lines: Sequence[TextLine]) -> TextLine:
    """Neighbouring lines of one row, left to right, as one line: texts joined by a space,
    the box from the first one's left edge to the last one's right edge, the confidence
    averaged by text length. Where two neighbours' boxes overlap and both read the
    characters in the overlap, those are kept once (`_past_overlap`)."""
    if len(lines) == 1:
        return lines[0]
    first, last = lines[0].box, lines[-1].box
    box = (first[0], last[1], last[2], first[3])
    text = lines[0].text
    for left, right in zip(lines, lines[1:]):
        rest, glued = _past_overlap(left, right)
        text = f"{text}{rest}" if glued else " ".join(part for part in (text, rest) if part)
    weights = [max(len(line.text), 1) for line in lines]
    confidence = float(np.average([line.confidence for line in lines], weights=weights))
    return TextLine(text=text, box=box, confidence=confidence)


def _past_overlap(left: TextLine, right: TextLine) -> tuple[str, bool]:
    """`right`'s text without the characters that `left` already read where their boxes
    overlap, and whether it continues `left`'s word: the detector may cut a line into two
    boxes that share a glyph, and the recogniser then reads it in both ("225" | "5 Cedar Way"
    for "225 Cedar Way", "INV-49" | "49821" for "INV-49821"). The overlap along the text, in
    `left`'s mean character widths, says how many characters may repeat (at least 0.6 of one
    for the first); they are dropped only when `right` opens with exactly `left`'s last ones."""
    corners = np.asarray(left.box, dtype=np.float64)
    others = np.asarray(right.box, dtype=np.float64)
    direction = corners[1] - corners[0]
    length = float(np.hypot(*direction))
    if length == 0 or not left.text or not right.text:
        return right.text, False
    direction /= length
    if (others.mean(axis=0) - corners.mean(axis=0)) @ direction < 0:
        direction = -direction  # corners listed from the other end: measure left to right
    along = corners @ direction
    left_end = float(along.max())
    width = (left_end - float(along.min())) / len(left.text)
    shared = int((left_end - float(np.min(others @ direction))) / width + 0.4) if width > 0 else 0
    shared = min(shared, len(left.text), len(right.text))
    if shared < 1 or left.text[-shared:] != right.text[:shared]:
        return right.text, False
    rest = right.text[shared:]
    return rest.strip(), bool(rest) and not rest[0].isspace()
