"""Pure parts of the photo answers (issue 11): noun forms, positions in words, captions from
scripted detections, tiles and their merge."""

from __future__ import annotations

from runtime.vision import Detection, Label
from runtime.vision.nouns import counted, joined, plural, singulars, with_article
from runtime.vision.scene import BOTH, DOCUMENT, PHOTO, Look, caption, position
from runtime.vision.tiling import merge, tiles


def test_noun_forms():
    assert [plural(n) for n in ("person", "bus", "wine glass", "knife", "giraffe", "sheep", "puppy", "couch")] == [
        "people", "buses", "wine glasses", "knives", "giraffes", "sheep", "puppies", "couches"]
    assert singulars("people") == ["person"] and "bus" in singulars("buses") and "knife" in singulars("knives")
    assert "cat" in singulars("cats") and singulars("glass")[0] == "glass"
    assert [with_article(n) for n in ("cat", "umbrella", "espresso", "unicycle")] == [
        "a cat", "an umbrella", "an espresso", "a unicycle"]
    assert (counted(0, "cat"), counted(1, "cat"), counted(2, "person"), counted(12, "cup")) == (
        "no cats", "a cat", "two people", "12 cups")
    assert joined(["a", "b", "c"]) == "a, b and c" and joined(["a"]) == "a"


_CLASS_IDS = {"person": 0, "horse": 17, "cat": 15, "dog": 16, "stop sign": 11}


def _detection(label, box, score=0.8):
    return Detection(label, _CLASS_IDS[label], score, box)


def test_caption_counts_detections_and_adds_a_new_confident_label():
    people = (_detection("person", (0, 0, 10, 10)), _detection("person", (20, 0, 30, 10)),
              _detection("horse", (40, 0, 90, 50)))
    look = Look(people, (Label("tripod", 1, 0.9),), (), (100, 100))
    assert caption(look, lambda a, b: 0.0) == "A photo of two people, a horse and a tripod."
    assert caption(look, lambda a, b: 0.9) == "A photo of two people and a horse."  # the label says nothing new
    alone = Look((), (Label("missile", 2, 0.37),), (), (100, 100))
    assert caption(alone, lambda a, b: 0.0) == "A photo of a missile."
    assert caption(Look((), (Label("missile", 2, 0.05),), (), (100, 100)), lambda a, b: 0.0).startswith(
        "A picture in which I recognise nothing.")


def test_kind_of_image():
    class Region:
        text = "STOP"

    assert Look((), (), (), (1, 1)).kind == PHOTO
    assert Look((), (), (Region(),), (1, 1)).kind == DOCUMENT
    assert Look((_detection("stop sign", (0, 0, 1, 1)),), (), (Region(),), (1, 1)).kind == BOTH


def test_position_in_words():
    assert position((0, 0, 20, 20), (300, 300)) == "in the top left"
    assert position((120, 120, 180, 180), (300, 300)) == "in the centre"
    assert position((250, 120, 300, 180), (300, 300)) == "on the right"
    assert position((10, 10, 290, 290), (300, 300)) == "in the centre, filling most of the picture"


def test_tiles_cover_the_image_with_overlap():
    for size in ((768, 512), (960, 960), (640, 640), (1024, 768)):
        windows = tiles(size, 520)
        assert len(windows) > 1
        points = [(x, y) for x in range(0, size[0], 16) for y in range(0, size[1], 16)]
        assert all(any(x0 <= x < x1 and y0 <= y < y1 for x0, y0, x1, y1 in windows) for x, y in points)
        lefts = sorted({x0 for x0, *_ in windows})
        rights = sorted({x1 for _, _, x1, _ in windows})
        side = rights[0] - lefts[0]
        assert all(right - left >= 0.2 * side for left, right in zip(lefts[1:], rights[:-1]))  # neighbours overlap
        assert all(x1 - x0 <= 520 and y1 - y0 <= 520 for x0, y0, x1, y1 in windows)


def test_merge_keeps_one_box_per_object():
    whole = _detection("cat", (0, 0, 100, 100), 0.7)
    same = _detection("cat", (2, 2, 98, 101), 0.6)  # the same cat seen in a tile
    part = _detection("cat", (10, 10, 60, 60), 0.5)  # a part of it
    other = _detection("cat", (200, 0, 300, 100), 0.45)
    dog = _detection("dog", (60, 0, 160, 100), 0.5)  # another class beside it is not merged away ...
    twin = _detection("dog", (1, 0, 100, 99), 0.55)  # ... but the same box read as another class is
    merged = merge([part, same, whole, other, dog, twin])
    assert [(d.label, d.score) for d in merged] == [("cat", 0.7), ("dog", 0.5), ("cat", 0.45)]


def _one_hot(texts, _axes={}):
    """A stand-in encoder: each distinct text its own axis (equal texts alike, others apart)."""
    import numpy as np

    for text in texts:
        _axes.setdefault(text, len(_axes))
    return np.eye(512, dtype=np.float32)[[_axes[text] % 512 for text in texts]]


def test_a_group_of_coco_labels_is_named_by_its_own_name_and_counted_whole():
    from runtime.vision.objects import ObjectVocabulary
    from runtime.vision.photo_answers import PhotoAnswerer

    vocabulary = ObjectVocabulary(_one_hot, ("person", "cat", "dog", "car"), (),
                                  frozenset({"animal", "cat", "dog", "vehicle", "person"}))
    named = vocabulary.named("How many animals are there?")
    assert named.label == "animal" and named.labels == ("cat", "dog")  # COCO's own grouping, of the detector's labels
    assert vocabulary.named("How many dogs?").labels == ("dog",)
    assert vocabulary.named("Is there a vehicle?").labels == ("car",)
    look = Look((_detection("cat", (0, 0, 40, 40)), _detection("dog", (50, 0, 90, 40)),
                 _detection("person", (0, 50, 40, 90))), (), (), (100, 100))
    photos = PhotoAnswerer(vocabulary)
    assert photos.count("How many animals?", look).text == "There are two animals in the picture: a cat and a dog."
    assert photos.presence("Is there an animal?", look).text == "Yes: two animals (a cat and a dog)."
    no_car = photos.presence("Is there a vehicle?", look)
    # a "no" says what was seen instead, with its boxes
    assert no_car.text.startswith("No, I see no vehicles. Here I can see") and len(no_car.evidence) == 3
    # more said of the object than the models see ("a firefighter") is no "yes: a person"
    for request in ("Is this person a firefighter?", "Is there a person wearing a uniform?"):
        reply = photos.presence(request, look).text
        assert reply.startswith("I can't tell that from this picture") and "Yes" not in reply, reply
    assert photos.presence("Is there a person?", look).text == "Yes: a person."


def test_one_object_seen_as_two_classes_is_kept_once():
    import numpy as np

    from runtime.vision.boxes import one_label_per_object

    found = np.array([[10, 10, 100, 100], [12, 11, 101, 99], [40, 40, 200, 200], [10, 10, 100, 100]], dtype=np.float32)
    # best first: a cat, the same box as a dog (dropped), a table under it, and the cat's twin
    kept = one_label_per_object(found, np.array([0, 1, 2, 3]), 0.85)
    assert kept.tolist() == [0, 2]


def test_a_caption_hedges_an_object_the_detector_was_unsure_of():
    sure = Look((_detection("cat", (0, 0, 40, 40), 0.6),), (), (), (100, 100))
    unsure = Look((Detection("giraffe", 23, 0.47, (0, 0, 40, 40)),), (), (), (100, 100))
    both = Look(sure.detections + unsure.detections, (), (), (100, 100))
    never = lambda a, b: 0.0  # noqa: E731 - no label alike
    assert caption(sure, never) == "A photo of a cat."
    assert caption(unsure, never) == "A photo of what may be a giraffe."
    assert caption(both, never) == "A photo of a cat and what may be a giraffe."


def test_what_kind_of_thing_says_when_none_of_that_kind_was_found():
    from runtime.vision.objects import ObjectVocabulary
    from runtime.vision.photo_answers import PhotoAnswerer

    vocabulary = ObjectVocabulary(_one_hot, ("person", "cat", "dog"), (), frozenset({"animal", "cat", "person"}))
    photos = PhotoAnswerer(vocabulary)
    person = Look((_detection("person", (0, 0, 40, 90)),), (), (), (100, 100))
    cat = Look((_detection("cat", (0, 0, 40, 40)),), (), (), (100, 100))
    assert photos.identify(person, "What animal is this?").text.startswith("I see no animal here. The detector found a person")
    assert photos.identify(cat, "What animal is this?").text == "The detector found a cat."
    assert photos.identify(person, "What object is this?").text == "The detector found a person."  # "object" names no class


def test_a_short_faint_reading_in_a_photo_is_a_speck_not_text():
    from runtime.kinds.reader import _speck
    from runtime.results import TextLine

    box = ((0, 0), (10, 0), (10, 10), (0, 10))
    assert _speck(TextLine("O", box, 0.54))  # JPEG blocks on fur
    assert not _speck(TextLine("O", box, 0.95))  # a confident letter stays
    assert not _speck(TextLine("STOP", box, 0.6))  # a word stays


def test_asking_whether_an_object_is_there_in_other_words_still_gets_yes():
    from runtime.vision.objects import ObjectVocabulary
    from runtime.vision.photo_answers import PhotoAnswerer

    vocabulary = ObjectVocabulary(_one_hot, ("person", "cat"), (), frozenset({"cat", "person"}))
    look = Look((_detection("cat", (0, 0, 40, 40)),), (), (), (100, 100))
    photos = PhotoAnswerer(vocabulary)
    for request in ("Does the picture contain a cat?", "Does the image include a cat?", "Is there a cat anywhere?",
                    "Can you spot a cat?", "Is there at least one cat?"):
        assert photos.presence(request, look).text == "Yes: a cat.", request
    assert photos.presence("Is there a cat lying down?", look).text.startswith("I can't tell that")
