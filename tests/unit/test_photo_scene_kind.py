"""A page of text is a document even when the detector sees objects in it (issue 11): the
scanned forms and receipts of the real-document sets showed kites, birds and books at
0.4-0.7 over their lines, stamps and logos."""

import numpy as np
from PIL import Image, ImageDraw

from runtime.results import TextLine
from runtime.vision import Detection
from runtime.vision.scene import BOTH, DOCUMENT, PHOTO, Look, beside_text, text_cover, text_mask


def _line(x, y, width=300, height=24):
    return TextLine("Total 42.50", ((x, y), (x + width, y), (x + width, y + height), (x, y + height)), 0.9)


def _thing(label, box, score=0.6):
    return Detection(label, 0, score, box)


PAGE = tuple(_line(40, 40 + 40 * row) for row in range(12))  # 12 lines down a 600 x 800 page


def _photo(size=(600, 800), seed=0):
    """A picture of many tones, as a photograph has (the paper-and-ink test keeps its objects)."""
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def _scan(lines, size=(600, 800), paper=(246, 246, 246)):
    """A scanned page: paper with each line's box inked in strokes."""
    page = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(page)
    for line in lines:
        (x0, y0), _, (x1, y1), _ = line.box
        for x in range(int(x0), int(x1), 9):
            draw.rectangle((x, y0 + 4, x + 4, y1 - 4), fill=(20, 20, 20))
    return page


def test_a_detection_over_the_text_is_the_text():
    kite = _thing("kite", (40, 40, 340, 300))  # over the lines
    person = _thing("person", (380, 40, 590, 700))  # beside them
    mask = text_mask(PAGE, (600, 800))
    assert text_cover(kite.box, mask) > 0.5 and text_cover(person.box, mask) == 0.0
    assert beside_text((kite, person), PAGE, _photo()) == (person,)
    assert beside_text((kite,), (), _photo()) == (kite,)  # no text, nothing to mistake


def test_a_detection_that_fills_the_frame_around_a_page_is_the_page():
    """SROIE receipts scanned edge to edge were boxed as a "book" over 98-99% of the image with
    every line inside it; a receipt is mostly blank, so the text covers under a fifth of it."""
    sparse = tuple(_line(40, 40 + 60 * row, width=120) for row in range(12))  # a thin column of lines
    page = _thing("book", (2, 2, 598, 798), score=0.47)
    assert text_cover(page.box, text_mask(sparse, (600, 800))) < 0.2  # the text rule alone keeps it
    picture = _photo()  # not the paper-and-ink test: it fills the frame
    assert beside_text((page,), sparse, picture) == ()
    assert Look(beside_text((page,), sparse, picture), (), sparse, (600, 800)).kind == DOCUMENT
    # a large object that leaves the text outside, or a frame-filling one around a few words, stays
    person = _thing("person", (200, 20, 598, 798))
    assert beside_text((person,), sparse, picture) == (person,)
    assert beside_text((page,), sparse[:3], picture) == (page,)


def test_an_object_over_a_page_that_shows_only_paper_and_ink_is_the_page():
    """FUNSD's scanned forms were boxed as a "tv" or "laptop" over 53-89% of the image (not the
    frame), which made "Describe this image." say "A photo of a laptop with the text ...": a
    scan has two tones, paper and ink, where a photographed object has many."""
    sparse = tuple(_line(40, 60 + 60 * row, width=160) for row in range(12))
    laptop = _thing("laptop", (20, 100, 580, 760), score=0.54)  # 77% of the image, the text inside
    scan = _scan(sparse)
    assert beside_text((laptop,), sparse, scan) == ()
    assert Look(beside_text((laptop,), sparse, scan), (), sparse, (600, 800)).kind == DOCUMENT
    dark_paper = _scan(sparse, paper=(200, 205, 200))  # a grey scan: its paper is its commonest tone
    assert beside_text((laptop,), sparse, dark_paper) == ()
    # The same page pasted on a photograph (a receipt lying on a laptop): the object has many tones
    photo = _photo()
    photo.paste(scan.crop((20, 40, 220, 780)), (20, 40))
    assert beside_text((laptop,), sparse, photo) == (laptop,)
    assert Look(beside_text((laptop,), sparse, photo), (), sparse, (600, 800)).kind == BOTH
    # A few words are no page: an object there is kept whatever its tones
    assert beside_text((laptop,), sparse[:3], scan) == (laptop,)
    # A dark object is all "ink": beside the text, or over it, it stays an object
    dark = scan.copy()
    ImageDraw.Draw(dark).rectangle((300, 100, 580, 760), fill=(30, 30, 30))
    cup = _thing("cup", (300, 100, 580, 760))
    assert beside_text((cup,), sparse, dark) == (cup,)
    blackout = scan.copy()
    ImageDraw.Draw(blackout).rectangle((20, 100, 580, 760), fill=(25, 25, 25))
    assert beside_text((laptop,), sparse, blackout) == (laptop,)


def test_a_page_of_text_with_a_small_object_is_a_document_and_a_large_one_makes_it_both():
    stamp = _thing("bird", (500, 700, 560, 760))
    assert Look((stamp,), (), PAGE, (600, 800)).kind == DOCUMENT
    assert Look((_thing("person", (350, 100, 600, 800)),), (), PAGE, (600, 800)).kind == BOTH
    sign = PAGE[:1]  # one line of text in a street: a few lines are no page
    assert Look((stamp,), (), sign, (600, 800)).kind == BOTH
    assert Look((stamp,), (), (), (600, 800)).kind == PHOTO


class _CountingDetector:
    """Answers every image with `by_size[image.size]` (tiles are smaller than the page)."""

    def __init__(self, whole, tile=()):
        self.whole, self.tile, self.calls = list(whole), list(tile), []

    def detect(self, images):
        self.calls.append([image.size for image in images])
        return [self.whole if i == 0 and images[0].size == (1700, 2200) else list(self.tile) for i in range(len(images))]


def test_a_page_runs_the_tiles_only_when_the_whole_image_shows_a_large_object():
    """Tiles find small objects; on a page only a large one changes its kind, so a page with
    none is settled by one detector call, and what it returns says it is not every object."""
    from PIL import Image

    from runtime.vision.tiling import detect_large_first, detect_tiled

    page = Image.new("RGB", (1700, 2200), "white")
    stamp = _thing("bird", (1500, 2000, 1600, 2100))
    detector = _CountingDetector([stamp], tile=[_thing("cat", (10, 10, 60, 60))])
    found = detect_large_first(detector, page, 0.15, lambda found: found)
    assert found.detections == (stamp,) and not found.complete and detector.calls == [[(1700, 2200)]]

    person = _thing("person", (0, 0, 1200, 2200))  # over half the page
    detector = _CountingDetector([person], tile=[_thing("cat", (10, 10, 60, 60))])
    found = detect_large_first(detector, page, 0.15, lambda found: found)
    assert found.complete and len(detector.calls) == 2 and len(detector.calls[1]) > 1  # tiles, whole not again
    assert list(found.detections) == detect_tiled(_CountingDetector([person], tile=[_thing("cat", (10, 10, 60, 60))]), page)

    # A large object the caller does not count (text seen as an object) does not run the tiles.
    detector = _CountingDetector([person])
    assert not detect_large_first(detector, page, 0.15, lambda found: ()).complete

    # A small picture has no tiles: its one call is every object.
    small = Image.new("RGB", (400, 300), "white")
    assert detect_large_first(_CountingDetector([]), small, 0.15, lambda found: found).complete
