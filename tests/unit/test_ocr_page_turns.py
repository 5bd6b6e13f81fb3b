"""Which way a page is turned (`page_lines`), and how its upright frame maps back (`Page`)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from runtime.ocr.pipeline import Page, page_lines
from runtime.results import TextLine


def _box(x: float, y: float, width: float, height: float) -> np.ndarray:
    return np.array([[x, y], [x + width, y], [x + width, y + height], [x, y + height]], dtype=np.float32)


LYING = [_box(10, 10 + 40 * i, 200, 24) for i in range(5)]
STANDING = [_box(10 + 40 * i, 10, 24, 200) for i in range(5)]
# A grade table: column headings written up the page over rows of names and one-digit marks
# (a digit's box is taller than wide on an upright page).
HEADINGS = [_box(160 + 60 * i, 60, 22, 110) for i in range(8)]
MARKS = [_box(165 + 60 * i, 200 + 40 * row, 11, 18) for i in range(8) for row in range(5)]
NAMES = [_box(20, 200 + 40 * row, 40, 18) for row in range(5)]


@pytest.mark.parametrize("boxes, scores, turns", [
    (LYING, [0.0] * 5, 0),                                 # an upright page
    (LYING, [0.95] * 5, 2),                                # every line upside down
    (LYING, [0.7, 0.8, 0.6, 0.9, 0.75], 2),                # unsure line by line, sure as a page
    (LYING, [0.95, 0.95, 0.1, 0.2, 0.3], 0),               # no clear majority: left as it is
    (LYING[:1], [0.99], 0),                                # one line says nothing of the page's order
    (STANDING, [0.05] * 5, 1),                             # the crops' quarter turn set them upright
    (STANDING, [0.9] * 5, 3),                              # ... or upside down
    (STANDING, [0.5] * 5, 0),                              # the classifier cannot tell
    (STANDING[:1], [0.0], 0),                              # one standing word: a label on its side
    (LYING + STANDING[:2], [0.0] * 7, 0),                  # a form with a stamp up its margin
    ([_box(10, 10, 30, 28), _box(60, 10, 28, 30)], [0.99, 0.99], 0),  # digits, no lines
    (MARKS, [0.0] * 40, 0),                                # ... nor tall ones
    (HEADINGS + MARKS + NAMES, [0.0] * 53, 0),             # headings up a table: a few lines among many boxes
    (HEADINGS + MARKS + NAMES, [0.99] * 53, 0),
    (STANDING + MARKS[:3], [0.05] * 8, 1),                 # a page on its side with a few digits on it
    (STANDING[:3] + MARKS[:3], [0.05] * 6, 0),             # as many short boxes as lines: no page on its side
])  # fmt: skip
def test_page_turns(boxes, scores, turns):
    lines = page_lines(boxes, scores)  # the turns the classifier's votes decide, 0 where none
    assert ((lines.decided() if lines is not None else None) or 0) == turns


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_point_of_the_upright_frame_is_found_in_the_image_as_sent(turns):
    image = Image.new("L", (40, 30), 0)
    image.putpixel((7, 3), 255)
    upright = Page((), turns, image.size).upright(image)
    x, y = np.argwhere(np.asarray(upright) == 255)[0][::-1]
    # the pixel's centre in the upright frame maps to its centre in the image
    assert Page((), turns, image.size).point_in_image(x + 0.5, y + 0.5) == (7.5, 3.5)


def test_lines_keep_their_text_and_turn_their_boxes():
    line = TextLine("TOTAL 9.00", ((0.0, 0.0), (20.0, 0.0), (20.0, 5.0), (0.0, 5.0)), 0.9)
    assert Page((line,), 0, (40, 30)).to_image((line,)) == (line,)
    (turned,) = Page((line,), 1, (40, 30)).to_image((line,))
    assert turned.text == line.text and turned.confidence == line.confidence
    assert turned.box == ((40.0, 0.0), (40.0, 20.0), (35.0, 20.0), (35.0, 0.0))
