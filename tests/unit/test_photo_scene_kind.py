"""A page of text is a document even when the detector sees objects in it (issue 11): the
scanned forms and receipts of the real-document sets showed kites, birds and books at
0.4-0.7 over their lines, stamps and logos."""

from runtime.results import TextLine
from runtime.vision import Detection
from runtime.vision.scene import BOTH, DOCUMENT, PHOTO, Look, beside_text, text_cover, text_mask


def _line(x, y, width=300, height=24):
    return TextLine("Total 42.50", ((x, y), (x + width, y), (x + width, y + height), (x, y + height)), 0.9)


def _thing(label, box, score=0.6):
    return Detection(label, 0, score, box)


PAGE = tuple(_line(40, 40 + 40 * row) for row in range(12))  # 12 lines down a 600 x 800 page


def test_a_detection_over_the_text_is_the_text():
    kite = _thing("kite", (40, 40, 340, 300))  # over the lines
    person = _thing("person", (380, 40, 590, 700))  # beside them
    mask = text_mask(PAGE, (600, 800))
    assert text_cover(kite.box, mask) > 0.5 and text_cover(person.box, mask) == 0.0
    assert beside_text((kite, person), PAGE, (600, 800)) == (person,)
    assert beside_text((kite,), (), (600, 800)) == (kite,)  # no text, nothing to mistake


def test_a_page_of_text_with_a_small_object_is_a_document_and_a_large_one_makes_it_both():
    stamp = _thing("bird", (500, 700, 560, 760))
    assert Look((stamp,), (), PAGE, (600, 800)).kind == DOCUMENT
    assert Look((_thing("person", (350, 100, 600, 800)),), (), PAGE, (600, 800)).kind == BOTH
    sign = PAGE[:1]  # one line of text in a street: a few lines are no page
    assert Look((stamp,), (), sign, (600, 800)).kind == BOTH
    assert Look((stamp,), (), (), (600, 800)).kind == PHOTO
