"""ImageMemo: OCR results remembered by the picture's pixels, least recently used first out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from runtime.ocr.memo import ImageMemo, image_key


def _image(colour, size=(40, 30)) -> Image.Image:
    return Image.new("RGB", size, colour)


def test_the_same_pixels_are_one_entry_and_any_change_is_another():
    memo, calls = ImageMemo(4), []

    def read(name):
        return lambda: calls.append(name) or name

    assert memo.get(_image("white"), read("a")) == "a"
    assert memo.get(_image("white"), read("b")) == "a"  # a new object, the same pixels
    changed = _image("white")
    changed.putpixel((3, 3), (0, 0, 0))
    assert memo.get(changed, read("c")) == "c"
    assert memo.get(_image("white", (40, 31)), read("d")) == "d"  # another size
    assert memo.get(_image("white").convert("L"), read("e")) == "e"  # another mode
    assert calls == ["a", "c", "d", "e"] and (memo.hits, memo.misses) == (1, 4)


def test_least_recently_used_goes_first():
    memo, calls = ImageMemo(2), []
    colours = ["red", "green", "blue"]
    for colour in colours:
        memo.get(_image(colour), lambda c=colour: calls.append(c) or c)
    memo.get(_image("red"), lambda: calls.append("red again") or "red")  # evicted by blue
    memo.get(_image("blue"), lambda: calls.append("blue again") or "blue")  # still there
    assert calls == ["red", "green", "blue", "red again"]


def test_size_zero_keeps_nothing_and_threads_share_one_memo():
    memo, calls = ImageMemo(0), []
    memo.get(_image("red"), lambda: calls.append(1))
    memo.get(_image("red"), lambda: calls.append(2))
    assert calls == [1, 2]
    shared = ImageMemo(8)
    images = [_image(c) for c in ("red", "green", "blue", "red", "green", "blue") * 4]
    with ThreadPoolExecutor(4) as pool:
        keys = list(pool.map(lambda image: shared.get(image, lambda: image_key(image)), images))
    assert keys == [image_key(image) for image in images]


def test_a_remembered_result_that_is_not_enough_is_computed_again():
    from PIL import Image

    from runtime.ocr.memo import ImageMemo

    memo, picture = ImageMemo(4), Image.new("RGB", (8, 8), "red")
    assert memo.get(picture, lambda: ("whole image only", False)) == ("whole image only", False)
    assert memo.get(picture, lambda: ("never", True)) == ("whole image only", False)  # enough for this caller
    every = memo.get(picture, lambda: ("with the tiles", True), enough=lambda remembered: remembered[1])
    assert every == ("with the tiles", True)
    assert memo.get(picture, lambda: ("never", True), enough=lambda remembered: remembered[1]) == every
    assert (memo.hits, memo.misses) == (2, 2)
