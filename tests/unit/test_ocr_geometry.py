"""Geometry helpers of our OCR pipeline against known shapes and against OpenCV (tests only)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from runtime.ocr import geometry
from runtime.ocr.detect import DetectionConfig, boxes_from_probability, dilate_2x2
from runtime.ocr.layout import order_lines
from runtime.ocr.recognize import ctc_greedy_decode
from runtime.results import TextLine

cv2 = pytest.importorskip("cv2")


def _blobs(seed: int, size: int = 96, count: int = 6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    for _ in range(count):
        x, y = rng.integers(0, size - 10, 2)
        w, h = rng.integers(3, 40, 2)
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + w, y + h), fill=255)
        else:
            angle = rng.uniform(0, math.pi)
            cx, cy = x + w / 2, y + h / 2
            corners = [
                (cx + dx * math.cos(angle) - dy * math.sin(angle), cy + dx * math.sin(angle) + dy * math.cos(angle))
                for dx, dy in ((-w / 2, -h / 4), (w / 2, -h / 4), (w / 2, h / 4), (-w / 2, h / 4))
            ]
            draw.polygon(corners, fill=255)
    return np.asarray(image) > 0


def test_runs_of_a_known_row():
    mask = np.array([[0, 1, 1, 0, 1], [1, 1, 1, 1, 1]], dtype=bool)
    rows, starts, ends = geometry.find_runs(mask)
    assert rows.tolist() == [0, 0, 1]
    assert starts.tolist() == [1, 4, 0]
    assert ends.tolist() == [3, 5, 5]


def test_components_are_eight_connected():
    mask = np.zeros((6, 6), dtype=bool)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = True  # one diagonal chain
    mask[0, 4:6] = True  # a second piece
    mask[5, 0:6] = True  # a third
    labels, count = geometry.connected_components(mask)
    assert count == 3
    assert labels[0, 0] == labels[2, 2] != labels[0, 4]


def test_u_shape_is_one_component():
    mask = np.zeros((10, 10), dtype=bool)
    mask[1:9, 1] = mask[1:9, 8] = mask[8, 1:9] = True  # the arms join only at the bottom
    _, count = geometry.connected_components(mask)
    assert count == 1


@pytest.mark.parametrize("seed", range(8))
def test_component_count_matches_opencv(seed):
    mask = _blobs(seed)
    labels, count = geometry.connected_components(mask)
    expected_count, expected_labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    assert count == expected_count - 1
    # Same partition: a one-to-one map between our labels and OpenCV's.
    pairs = set(zip(labels[mask].tolist(), expected_labels[mask].tolist()))
    assert len(pairs) == count


def test_components_of_a_large_map_are_fast_enough():
    import time

    mask = np.zeros((736, 1024), dtype=bool)
    for row in range(20, 700, 30):  # 23 lines of 40 "words"
        for column in range(10, 1000, 25):
            mask[row : row + 14, column : column + 20] = True
    started = time.perf_counter()
    points = geometry.component_points(mask)
    elapsed_s = time.perf_counter() - started
    assert len(points) == 23 * 40
    assert elapsed_s < 1.0


def test_hull_of_a_square_with_inner_points():
    points = np.array([[0, 0], [4, 0], [4, 4], [0, 4], [2, 2], [1, 3], [2, 0]])
    hull = geometry.convex_hull(points)
    assert sorted(map(tuple, hull.tolist())) == [(0, 0), (0, 4), (4, 0), (4, 4)]


@pytest.mark.parametrize("seed", range(5))
def test_hull_matches_opencv(seed):
    points = np.random.default_rng(seed).integers(0, 100, (60, 2))
    ours = geometry.convex_hull(points)
    theirs = cv2.convexHull(points.astype(np.int32)).reshape(-1, 2)
    assert sorted(map(tuple, ours.astype(int).tolist())) == sorted(map(tuple, theirs.tolist()))


def test_min_area_rect_of_a_rotated_rectangle():
    angle = math.radians(30)
    u = np.array([math.cos(angle), math.sin(angle)])
    v = np.array([-math.sin(angle), math.cos(angle)])
    corners = np.array([u * a + v * b for a, b in ((0, 0), (40, 0), (40, 10), (0, 10))]) + 50
    inside = corners.mean(axis=0) + np.random.default_rng(0).uniform(-3, 3, (20, 2))
    rect, width, height = geometry.min_area_rect(np.concatenate([corners, inside]))
    assert sorted([width, height]) == pytest.approx([10, 40])
    assert sorted(map(tuple, np.round(rect, 6).tolist())) == sorted(map(tuple, np.round(corners, 6).tolist()))


@pytest.mark.parametrize("seed", range(6))
def test_min_area_rect_matches_opencv_on_blobs(seed):
    mask = _blobs(seed, count=1) | _blobs(seed + 100, count=1)
    for points in geometry.component_points(mask):
        _, width, height = geometry.min_area_rect(points)
        (_, _), (cv_w, cv_h), _ = cv2.minAreaRect(points.astype(np.float32))
        assert width * height == pytest.approx(cv_w * cv_h, rel=1e-3, abs=1e-3)
        assert sorted([width, height]) == pytest.approx(sorted([cv_w, cv_h]), rel=1e-3, abs=1e-3)


@pytest.mark.parametrize("seed", range(6))
def test_component_points_give_the_contours_rectangle(seed):
    mask = _blobs(seed)
    contours, _ = cv2.findContours(mask.astype(np.uint8) * 255, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    ours = sorted(round(w * h, 3) for w, h in (geometry.min_area_rect(p)[1:] for p in geometry.component_points(mask)))
    theirs = sorted(round(w * h, 3) for _, (w, h), _ in map(cv2.minAreaRect, contours))
    assert ours == pytest.approx(theirs, rel=1e-3, abs=1e-3)


def test_min_area_rect_of_a_single_point_is_empty():
    _, width, height = geometry.min_area_rect(np.array([[3.0, 4.0], [3.0, 4.0]]))
    assert (width, height) == (0.0, 0.0)


def test_expand_rect_grows_every_side():
    rect = np.array([[10, 10], [30, 10], [30, 20], [10, 20]], dtype=float)
    assert geometry.expand_rect(rect, 2).tolist() == [[8, 8], [32, 8], [32, 22], [8, 22]]


def test_convex_polygon_mask_matches_fill_poly():
    polygon = np.array([[2, 3], [17, 1], [19, 12], [4, 14]])
    ours = geometry.convex_polygon_mask(polygon, (16, 22))
    theirs = np.zeros((16, 22), np.uint8)
    cv2.fillPoly(theirs, polygon.reshape(1, -1, 2).astype(np.int32), 1)
    assert np.mean(ours != theirs.astype(bool)) < 0.03


def test_dilation_matches_opencv():
    mask = _blobs(3)
    theirs = cv2.dilate(mask.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
    assert np.array_equal(dilate_2x2(mask), theirs)


@pytest.mark.parametrize(("shape", "size"), [
    ((60, 80, 3), (37, 53)), ((60, 80, 3), (200, 90)), ((60, 80, 3), (7, 300)),  # shrink, grow, both
    ((27, 164, 3), (288, 48)), ((31, 97, 3), (153, 48)),  # a text line to the recogniser's height
    ((818, 701, 3), (704, 832)),  # a page to the detector's multiple of 32
    ((40, 50), (23, 61)),  # one channel
    ((2200, 1700, 3), (480, 608)),  # a large scan shrunk: most source rows are skipped
])
def test_bilinear_resize_equals_opencv(shape, size):
    image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    assert np.array_equal(geometry.resize_bilinear(image, *size), cv2.resize(image, size))


def test_bilinear_resize_of_extreme_values_equals_opencv():
    """Black and white stripes: the largest sums the integer mixing makes."""
    image = np.zeros((63, 91, 3), dtype=np.uint8)
    image[::2] = 255
    image[:, ::3] = 255 - image[:, ::3]
    for size in ((40, 31), (200, 130), (91, 63)):
        assert np.array_equal(geometry.resize_bilinear(image, *size), cv2.resize(image, size))


def test_float_resize_stays_within_rounding_of_opencv():
    image = np.random.default_rng(1).random((60, 80, 3), dtype=np.float32)
    assert np.abs(geometry.resize_bilinear(image, 37, 53) - cv2.resize(image, (37, 53))).max() < 1e-5


def test_order_points_clockwise():
    shuffled = np.array([[10, 20], [0, 0], [10, 0], [0, 20]], dtype=np.float32)
    assert geometry.order_points_clockwise(shuffled).tolist() == [[0, 0], [10, 0], [10, 20], [0, 20]]


def test_crop_quad_of_an_axis_aligned_box_is_a_plain_crop():
    pixels = np.random.default_rng(2).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    crop = geometry.crop_quad(pixels, np.array([[10, 5], [40, 5], [40, 20], [10, 20]]))
    assert crop.shape == (15, 30, 3)
    assert np.array_equal(crop, pixels[5:20, 10:40])


def _quads(rng, count: int, image_w: int, image_h: int):
    for index in range(count):
        center = rng.uniform([10, 10], [image_w - 10, image_h - 10])
        angle, length, height = rng.uniform(-0.6, 0.6), rng.uniform(5, 150), rng.uniform(3, 40)
        along = np.array([math.cos(angle), math.sin(angle)])
        across = np.array([-along[1], along[0]])
        quad = np.array([center - along * length / 2 - across * height / 2, center + along * length / 2 - across * height / 2,
                         center + along * length / 2 + across * height / 2, center - along * length / 2 + across * height / 2])
        yield (np.round(quad) if index % 3 == 0 else quad).astype(np.float32)


@pytest.mark.parametrize(("shape", "box"), [
    ((40, 60, 3), ([10.5, 5.25], [40.75, 5.25], [40.75, 20.5], [10.5, 20.5])),  # a text line, fractional corners
    ((30, 50), ([-3, -2], [55, -2], [55, 33], [-3, 33])),  # past every border, one channel
    ((20, 20, 3), ([2, 3], [6, 3], [6, 17], [2, 17])),  # tall: enlarged
])
def test_an_upright_crop_takes_the_same_pixels_as_the_general_warp(shape, box):
    """An upright box's transform has exact zeros off the diagonal: the column-and-row path
    gives the pixel-by-pixel path's result to the last bit."""
    pixels = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    quad = np.array(box, dtype=np.float32)
    width, height = 37, 23
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    m = geometry.perspective_transform(corners, quad)
    assert m[0, 1] == m[1, 0] == m[2, 0] == m[2, 1] == 0
    fast = geometry.warp_perspective_cubic(pixels, m, width, height)
    assert np.array_equal(fast, geometry._warp_any(pixels, m.ravel(), width, height))


def test_crop_quad_matches_opencv_perspective_crops():
    # RapidOCR's get_rotate_crop_image: warpPerspective, bicubic, border replicated, rotated
    # when tall. Rotated quads reaching past the border included.
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    differing = total = 0
    for quad in _quads(rng, 200, 200, 120):
        width = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
        height = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
        target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
        theirs = cv2.warpPerspective(pixels, cv2.getPerspectiveTransform(quad, target), (width, height),
                                     borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
        if height / width >= 1.5:
            theirs = np.rot90(theirs)
        ours = geometry.crop_quad(pixels, quad)
        assert ours.shape == theirs.shape
        difference = np.abs(ours.astype(int) - theirs)
        assert difference.max() <= 1
        differing += int((difference > 0).sum())
        total += difference.size
    assert differing <= total // 1000  # OpenCV rounds a few sums that sit on .5 the other way


def test_round_offset_matches_pyclipper():
    pyclipper = pytest.importorskip("pyclipper")
    rng = np.random.default_rng(6)
    for quad in _quads(rng, 300, 400, 300):
        area, perimeter = geometry.polygon_area_perimeter(quad)
        distance = area * 1.6 / perimeter
        offset = pyclipper.PyclipperOffset()
        offset.AddPath(quad.tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
        (theirs,) = offset.Execute(distance)
        ours = geometry.offset_polygon_round(quad, distance)
        # Clipper's closing union only drops vertices on straight runs: theirs are ours, and
        # the minimum-area rectangle (all the detector takes from the outline) is the same.
        assert {tuple(point) for point in theirs} <= {tuple(point) for point in ours.tolist()}
        rect_theirs = geometry.min_area_rect(np.array(theirs, dtype=np.float64))
        rect_ours = geometry.min_area_rect(ours.astype(np.float64))
        assert sorted(map(tuple, rect_ours[0].round(6))) == sorted(map(tuple, rect_theirs[0].round(6)))


def test_db_postprocess_finds_a_bar_and_unclips_it():
    probability = np.zeros((64, 128), dtype=np.float32)
    probability[20:30, 10:110] = 0.9
    boxes, scores = boxes_from_probability(probability, 256, 128, DetectionConfig())
    assert len(boxes) == 1 and scores[0] > 0.8
    xs, ys = boxes[0][:, 0], boxes[0][:, 1]
    # Dilated, the bar covers pixel centres x 10..110, y 20..30: a 100 × 10 rectangle,
    # unclipped by 100·10·1.6 / 220 ≈ 7.27 px into pyclipper's integer outline (edges at
    # x 3 and 117, y 13 and 37), then doubled to the 256 × 128 destination: RapidOCR's
    # DBPostProcess gives the same [[6, 26], [234, 26], [234, 74], [6, 74]].
    distance = 100 * 10 * 1.6 / 220
    assert sorted(set(xs.tolist())) == [2 * round(10 - distance), 2 * round(110 + distance)] == [6, 234]
    assert sorted(set(ys.tolist())) == [2 * round(20 - distance), 2 * round(30 + distance)] == [26, 74]


def test_db_postprocess_drops_faint_regions():
    probability = np.zeros((64, 128), dtype=np.float32)
    probability[20:30, 10:110] = 0.35  # above the 0.3 bitmap threshold, below the 0.5 box score
    assert boxes_from_probability(probability, 128, 64, DetectionConfig()) == ([], [])


def test_ctc_greedy_decode_collapses_repeats_and_blanks():
    alphabet = ("", "a", "b", " ")
    steps = [1, 1, 0, 1, 2, 2, 3, 0]
    probabilities = np.full((1, len(steps), 4), 0.01, dtype=np.float32)
    for index, symbol in enumerate(steps):
        probabilities[0, index, symbol] = 0.9
    assert ctc_greedy_decode(probabilities, alphabet) == [("aab ", pytest.approx(0.9))]
    assert ctc_greedy_decode(np.eye(4, dtype=np.float32)[[0, 0]][None], alphabet) == [("", 0.0)]


def _line(text, x, y, w, h=20):
    return TextLine(text, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)), 0.9)


def test_layout_merges_close_words_and_keeps_far_ones():
    lines = [_line("Total", 0, 0, 60), _line("42.50", 90, 2, 60), _line("far", 400, 0, 40)]
    assert [line.text for line in order_lines(lines)] == ["Total 42.50", "far"]
    merged = order_lines(lines)[0]
    assert merged.box == ((0, 0), (150, 2), (150, 22), (0, 20))


def test_a_glyph_two_overlapping_boxes_both_read_is_kept_once():
    # the detector cut "225 Cedar Way" into boxes sharing the "5" (a real page of the
    # generated set): 11 px of overlap, 0.7 of the first box's 16 px characters
    street = [_line("225", 489, 291, 47), _line("5 Cedar Way", 525, 291, 154)]
    assert [line.text for line in order_lines(street)] == ["225 Cedar Way"]
    # inside a word the rest joins without a space: two characters of overlap, two repeated
    assert order_lines([_line("INV-49", 0, 0, 96), _line("49821", 64, 0, 80)])[0].text == "INV-49821"
    # not where the overlap is under 0.6 of a character, or the repeated text differs
    assert order_lines([_line("Qty", 0, 0, 45), _line("y", 37, 0, 30)])[0].text == "Qty y"
    assert order_lines([_line("225", 0, 0, 48), _line("6 Oak Way", 36, 0, 135)])[0].text == "225 6 Oak Way"
    # neither when the two boxes do not overlap, whichever end the box's corners start from
    flipped = TextLine("12", ((40, 20), (0, 20), (0, 0), (40, 0)), 0.9)
    assert order_lines([flipped, _line("12", 70, 0, 40)])[0].text == "12 12"


def test_layout_reads_columns_one_after_the_other_under_a_heading():
    lines = [_line("Heading across both", 100, 0, 400)]
    for row in range(3):
        lines += [_line(f"left {row}", 0, 50 + 30 * row, 200), _line(f"right {row}", 320, 50 + 30 * row, 200)]
    lines.append(_line("Footer across both", 100, 200, 400))
    expected = ["Heading across both", "left 0", "left 1", "left 2", "right 0", "right 1", "right 2", "Footer across both"]
    assert [line.text for line in order_lines(lines)] == expected
    assert [line.text for line in order_lines(lines[::-1])] == expected  # rows come from the boxes, not the order


def test_layout_reads_a_form_or_a_table_across_its_gutter():
    # keys ending in a colon, their values far to the right (a FUNSD-like form)
    form = []
    for row, (key, value) in enumerate([("Name of Event:", "Spring Fair"), ("City/Town:", "Dundee"),
                                        ("Type of Event:", "Beauty Contest")]):
        form += [_line(key, 0, 40 * row, 180), _line(value, 400, 40 * row, 160)]
    assert [line.text for line in order_lines(form)] == [
        "Name of Event:", "Spring Fair", "City/Town:", "Dundee", "Type of Event:", "Beauty Contest"]
    # a table whose cells right of the gutter are figures, under a header row
    table = [_line("Description", 0, 0, 160), _line("Qty", 400, 0, 50), _line("Amount", 500, 0, 90)]
    for row, (item, qty, amount) in enumerate([("Network setup", "11", "1,121.67"), ("Delivery fee", "2", "691.98")]):
        table += [_line(item, 0, 40 + 40 * row, 180), _line(qty, 400, 40 + 40 * row, 30),
                  _line(amount, 500, 40 + 40 * row, 90)]
    assert [line.text for line in order_lines(table)] == [
        "Description", "Qty", "Amount", "Network setup", "11", "1,121.67", "Delivery fee", "2", "691.98"]


def _two_sides(rows, right_at=400, height=40):
    lines = []
    for row, (left, right) in enumerate(rows):
        if left:
            lines.append(_line(left, 0, height * row, 12 * len(left)))
        for offset, text in enumerate(right if isinstance(right, tuple) else (right,) if right else ()):
            lines.append(_line(text, right_at + 200 * offset, height * row, 12 * len(text)))
    return [line.text for line in order_lines(lines)]


def test_layout_reads_blocks_that_are_not_forms_column_by_column():
    # side-by-side address blocks: a key row and a phone row of six are no form (postcodes are
    # half digits: not figures)
    addresses = [("Bill to:", "Ship to:"), ("Ana Lopes", "Ben Ortiz"), ("12 Rue Mercier", "4 Quai Perrache"),
                 ("75001 Paris", "69002 Lyon"), ("Cedex 75008", "Cedex 69009"), ("Tel 01 42 68 53", "Tel 04 72 00 11")]
    # (the narrow heading row alone has no gutter: it is read across, before the block)
    assert _two_sides(addresses) == ["Bill to:", "Ship to:", *[left for left, _ in addresses[1:]],
                                     *[right for _, right in addresses[1:]]]
    # an article beside a sidebar whose rows open with a year: the rest of the row is words
    article = [("The river rose after", ("2017", "Flood peak")), ("three days of rain", ("2019", "Dry summer")),
               ("and the bridge closed", ("2021", "New levee"))]
    assert _two_sides(article, right_at=320) == [
        "The river rose after", "three days of rain", "and the bridge closed",
        "2017", "Flood peak", "2019", "Dry summer", "2021", "New levee"]
    # two short address blocks under two headings that both end in a colon: one phone row of three
    short = [("Send the bill to:", "Deliver the goods to:"), ("Camille Dubois", "Atelier Moreau SARL"),
             ("Tel 01 42 68 53 00", "Tel 04 78 28 11 90")]
    assert _two_sides(short) == [left for left, _ in short] + [right for _, right in short]
    # an article beside a table of figures, its lines set close: the article first
    story = ["Rain fell on the valley", "for most of the year and", "the river rose twice before", "the new levee was built"]
    figures = [("2017", "812"), ("2018", "640"), ("2019", "905"), ("2020", "777")]
    assert _two_sides(list(zip(story, figures)), height=30)[:4] == story
    assert _two_sides(list(zip(story, figures)), height=60)[:4] == story  # double-spaced
    # keys of four words and more, ending in a colon, are a form's, not running text
    guests = [("Name of the guest staying:", "Ana Maria Lopes"), ("Date of the first night:", "12 May 2024"),
              ("Number of nights booked:", "three nights"), ("Room asked for by guest:", "a double room")]
    assert _two_sides(guests, height=30)[:2] == ["Name of the guest staying:", "Ana Maria Lopes"]
    # a form whose keys end in a full-width colon
    assert _two_sides([("Name of the buyer\uff1a", "Ana Maria Lopes"), ("Town of the buyer\uff1a", "Porto")])[:2] == [
        "Name of the buyer\uff1a", "Ana Maria Lopes"]
    # keys in only half of the rows that have both sides, or both sides in only half the rows
    half_keyed = [("Name of the buyer:", "Ana Maria Lopes"), ("Town of the buyer:", "Porto in Portugal"),
                  ("blue and yellow", "red and orange"), ("green and brown", "black and white")]
    assert _two_sides(half_keyed)[:4] == ["Name of the buyer:", "Town of the buyer:", "blue and yellow", "green and brown"]
    half_paired = [("Name of the buyer:", "Ana Maria Lopes"), ("Town of the buyer:", "Porto in Portugal"),
                   ("a note on the left", None), ("and more of it here", None)]
    assert _two_sides(half_paired) == ["Name of the buyer:", "Town of the buyer:", "a note on the left",
                                       "and more of it here", "Ana Maria Lopes", "Porto in Portugal"]
    # with a third paired row keyed, the same blocks read across
    date = ("Date of the sale:", "the fourth of May")
    assert _two_sides([*half_keyed[:3], date])[:2] == ["Name of the buyer:", "Ana Maria Lopes"]
    assert _two_sides([*half_paired[:3], date])[:2] == ["Name of the buyer:", "Ana Maria Lopes"]


def test_layout_keeps_a_narrow_price_column_in_rows():
    lines = []
    for row in range(3):
        lines += [_line(f"item {row}", 0, 30 * row, 160), _line(f"{row}.50", 300, 30 * row, 50)]
    assert [line.text for line in order_lines(lines)] == ["item 0", "0.50", "item 1", "1.50", "item 2", "2.50"]


def test_layout_of_nothing_is_empty():
    assert order_lines([]) == ()


def test_a_table_whose_figures_carry_units_currencies_or_dashes_is_read_across():
    """"2 pcs", "9.00 EUR" and a dash for no quantity are a table row's figures: an invoice's
    items are read with their quantities and prices, not all the descriptions first."""
    items = [("Desk lamp", ("2 pcs", "9.00 EUR")), ("Cable set", ("1 pcs", "4.50 EUR")),
             ("Shipping", ("-", "6.00 EUR")), ("Mouse pad", ("3 pcs", "2.00 EUR"))]
    assert _two_sides(items) == [text for left, right in items for text in (left, *right)]
    weights = [("Flour", "12 kg"), ("Sugar", "4 kg"), ("Rice", "25 KG"), ("Oats", "2 kg")]
    assert _two_sides(weights) == [text for row in weights for text in row]
    from runtime.ocr.layout import _figures

    assert all(map(_figures, ("9.00 EUR", "EUR 1.200,00", "€ 12,50", "3 hrs.", "-", "\u2014", "Tel 01 42 68 53")))
    # a list's numbered item, a street, a town: words, not a figure and its unit
    assert not any(map(_figures, ("5. Jam", "12 Rue Mercier", "75001 Paris", "6. Pack the tent", "USD")))
