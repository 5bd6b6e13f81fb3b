"""Rows and columns of OCR regions (`runtime.ocr.grid`) on hand-made boxes."""

from __future__ import annotations

import math

from runtime.ocr.grid import Grid, GridConfig, group_regions


def _box(x, y, width, height=20, degrees=0.0, pivot=(0.0, 0.0)):
    """An upright box, turned clockwise (image y down) by `degrees` about `pivot`."""
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    corners = ((x - pivot[0], y - pivot[1]), (x + width - pivot[0], y - pivot[1]),
               (x + width - pivot[0], y + height - pivot[1]), (x - pivot[0], y + height - pivot[1]))
    return tuple((pivot[0] + dx * cos - dy * sin, pivot[1] + dx * sin + dy * cos) for dx, dy in corners)


def test_nothing_gives_an_empty_grid():
    assert group_regions([]) == Grid((), ())


def test_one_region_is_one_row_and_one_column():
    assert group_regions([_box(10, 10, 100)]) == Grid(((0,),), ((0,),))


def test_rows_run_top_to_bottom_and_left_to_right_whatever_the_input_order():
    boxes = [_box(300, 52, 60), _box(0, 50, 100), _box(0, 0, 100), _box(300, 3, 60)]
    assert group_regions(boxes).rows == ((2, 3), (1, 0))


def test_touching_rows_stay_apart():
    # Each box's bottom edge is the next one's top edge: centres one height apart.
    boxes = [_box(0, 20 * row, 150) for row in range(4)]
    assert group_regions(boxes).rows == ((0,), (1,), (2,), (3,))


def test_rows_allow_half_a_height_between_centres():
    boxes = [_box(0, 0, 100), _box(200, 10, 100), _box(400, 21, 100)]
    # 10 px from the first box joins; the third is 11 px from the second, more than half of 20.
    assert group_regions(boxes).rows == ((0, 1), (2,))
    assert group_regions(boxes, GridConfig(row_offset_ratio=0.6)).rows == ((0, 1, 2),)


def test_a_slightly_turned_page_keeps_its_rows():
    # Three rows 30 px apart, label and value 500 px apart, turned by 4 degrees: the value's
    # box sits 35 px below its label's, more than a row pitch, yet stays in the label's row.
    boxes = []
    for row in range(3):
        boxes += [_box(0, 30 * row, 120, degrees=4), _box(500, 30 * row, 80, degrees=4)]
    grid = group_regions(boxes)
    assert grid.rows == ((0, 1), (2, 3), (4, 5))
    assert grid.columns == ((0, 2, 4), (1, 3, 5))


def test_a_tilted_line_split_by_the_detector_is_one_row():
    words = [_box(x, 100, 90, degrees=-3, pivot=(0, 100)) for x in (0, 110, 220, 330, 440)]
    below = _box(0, 140, 500, degrees=-3, pivot=(0, 100))
    assert group_regions([*words, below]).rows == ((0, 1, 2, 3, 4), (5,))


def test_two_columns_of_text_under_a_heading():
    boxes = [_box(100, 0, 400)]  # a heading across both columns
    for row in range(3):
        boxes += [_box(0, 50 + 30 * row, 200), _box(320, 50 + 30 * row, 200)]
    grid = group_regions(boxes)
    assert grid.rows == ((0,), (1, 2), (3, 4), (5, 6))
    assert grid.columns == ((1, 3, 5), (2, 4, 6))  # the heading spans both: in neither


def test_a_table_with_left_and_right_aligned_columns():
    header = [_box(0, 0, 60), _box(250, 0, 40), _box(420, 0, 80)]  # Item | Qty | Price
    body = []
    for row, (name_width, qty_width, price_width) in enumerate(((150, 12, 50), (90, 24, 70), (120, 36, 60))):
        y = 30 * (row + 1)
        body += [_box(0, y, name_width), _box(290 - qty_width, y, qty_width), _box(500 - price_width, y, price_width)]
    grid = group_regions(header + body)
    assert grid.rows == ((0, 1, 2), (3, 4, 5), (6, 7, 8), (9, 10, 11))
    assert grid.columns == ((0, 3, 6, 9), (1, 4, 7, 10), (2, 5, 8, 11))


def test_a_header_read_as_one_box_spans_the_columns_below():
    boxes = [_box(0, 0, 60), _box(250, 0, 250)]  # "Item" | "Qty Unit price Amount"
    boxes += [_box(0, 30, 100), _box(270, 30, 20), _box(360, 30, 50), _box(450, 30, 50)]
    grid = group_regions(boxes)
    assert grid.rows == ((0, 1), (2, 3, 4, 5))
    assert grid.columns == ((0, 2), (3,), (4,), (5,))


def test_columns_do_not_chain_through_staggered_regions():
    boxes = [_box(0, 0, 100), _box(90, 30, 100), _box(180, 60, 100)]  # each overlaps the next by 10 px
    assert group_regions(boxes).columns == ((0,), (1,), (2,))


def test_a_number_stamped_up_the_margin_is_a_row_of_its_own():
    """A scan's Bates number written up its left margin (a box 24 wide, 200 tall): with the
    height of several lines it joined the first row within half its height (the top row
    here, read "stamp" first), and a row of its own it keeps no other region."""
    rows = [_box(60, 40 * row, 200) for row in range(5)] + [_box(300, 40 * row, 80) for row in range(5)]
    stamp = _box(0, 0, 24, 200)
    grid = group_regions([*rows, stamp])
    assert sorted(grid.rows, key=len) == [(10,), *[(row, row + 5) for row in range(5)]]
    # A lone tall letter or digit is no stamp: it joins its row.
    assert group_regions([_box(0, 0, 100), _box(110, 0, 9, 20)]).rows == ((0, 1),)
