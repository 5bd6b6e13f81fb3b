"""Photos answer requests (issue 11, stage 2): captions, counts, presence, where, honest
replies, photo search, on the default reader bundle's real detector and classifier.

The photos are scikit-image's samples (inside its wheel). Counting runs on collages this
test composes from them with known numbers of people (astronaut, camera) and cats
(chelsea), 0-4 each, the other cells coffee or rocket (photos with neither; the motorcycle
photo is left out: the detector finds a small person at its edge), each photo padded into
its cell with a white margin, over three grid layouts and two cell sizes; every question is
phrased three ways. `-s` prints the tables.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import photo_models
import pytest
from PIL import Image, ImageOps

from runtime import load_model

sys.path.insert(0, str(Path(__file__).parent))

pytestmark = pytest.mark.slow

NOT_FOUND = "Not found in the image."
CAPTION_SUBJECTS = {
    "astronaut": ("person", "people", "astronaut", "woman"),
    "chelsea": ("cat",),
    "coffee": ("cup", "espresso", "coffee", "mug"),
    "camera": ("person", "people", "man", "cameraman"),
    "rocket": ("rocket", "missile", "space shuttle", "projectile"),
    "motorcycle": ("motorcycle", "moped", "motor scooter"),
}
LAYOUTS = ((2, 2), (2, 3), (3, 3))
CELL_SIZES = (256, 320)
COLLAGES_PER_LAYOUT = 4
MARGIN = 12
PEOPLE, CATS, FILLERS = ("astronaut", "camera"), ("chelsea",), ("coffee", "rocket")
COUNT_QUESTIONS = {
    "person": ("How many people are there?", "Count the people in this picture.",
               "What is the number of persons in the image?"),
    "cat": ("How many cats are in the photo?", "Count the cats.", "Tell me the number of cats you can see."),
}
PRESENCE_QUESTIONS = {
    "person": ("Is there a person in the picture?", "Do you see any people?", "Are there people in this image?"),
    "cat": ("Is there a cat?", "Can you see any cats?", "Does this photo show a cat?"),
}
# Issue 11's targets.
MIN_EXACT_COUNT = 0.90
MIN_PRESENCE = 0.95
_NUMBER_WORDS = {"no": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10}


@pytest.fixture(scope="module")
def model(reader_bundle):
    return load_model(reader_bundle, precision="fp32")


@pytest.fixture(scope="module")
def photos():
    return {name: photo_models.photo(name) for name in (*CAPTION_SUBJECTS, "horse")}


def beside_a_cup(page: Image.Image, photos) -> Image.Image:
    """`page` with a photo of a cup of coffee to its right, as tall as the page (cropped square:
    the cup takes a fifth of the picture, a large object beside a page of text)."""
    cup = ImageOps.fit(photos["coffee"].convert("RGB"), (page.height, page.height))
    picture = Image.new("RGB", (page.width + cup.width, page.height), (255, 255, 255))
    picture.paste(page, (0, 0))
    picture.paste(cup, (page.width, 0))
    return picture


def compose(photos, layout, cell, people, cats, rng) -> Image.Image:
    rows, columns = layout
    kinds = ["person"] * people + ["cat"] * cats + ["filler"] * (rows * columns - people - cats)
    rng.shuffle(kinds)
    canvas = Image.new("RGB", (columns * cell, rows * cell), (255, 255, 255))
    for index, kind in enumerate(kinds):
        name = rng.choice(PEOPLE if kind == "person" else CATS if kind == "cat" else FILLERS)
        image = ImageOps.mirror(photos[name]) if rng.random() < 0.5 else photos[name]
        inner = cell - 2 * MARGIN
        canvas.paste(ImageOps.pad(image, (inner, inner), Image.BILINEAR, color=(255, 255, 255)),
                     ((index % columns) * cell + MARGIN, (index // columns) * cell + MARGIN))
    return canvas


@pytest.fixture(scope="module")
def collages(model, photos):
    """(layout, cell, people, cats, look) for every collage; each is looked at once (OCR,
    detector, classifier) and asked all its questions from that look."""
    adapter, rng, made = model._adapter, random.Random(11), []
    for layout in LAYOUTS:
        cells = layout[0] * layout[1]
        for cell in CELL_SIZES:
            for _ in range(COLLAGES_PER_LAYOUT):
                people = rng.randint(0, min(4, cells))
                cats = rng.randint(0, min(4, cells - people))
                image = compose(photos, layout, cell, people, cats, rng)
                made.append((layout, cell, people, cats, adapter.look(image, adapter._regions(image))))
    return made


def read_count(reply: str, nouns: str) -> int | None:
    found = re.search(rf"\b(\d+|{'|'.join(_NUMBER_WORDS)})\s+(?:{nouns})\b", reply, re.I)
    if found is None:
        return None
    word = found.group(1).lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def test_captions_name_the_subject(model, photos):
    rows, right = [], 0
    for name, subjects in CAPTION_SUBJECTS.items():
        reply = model.caption(photos[name])
        named = any(re.search(rf"\b{subject}\b", reply.text, re.I) for subject in subjects)
        right += named
        rows.append((name, reply.text, named))
        assert reply.text.startswith("A photo of") and "Not found" not in reply.text
    print("\n| photo | caption | names the subject |\n| --- | --- | --- |")
    for name, text, named in rows:
        print(f"| {name} | {text} | {'yes' if named else 'no'} |")
    assert right >= 5, rows
    with_box = model.caption(photos["chelsea"])
    (evidence,) = with_box.evidence
    assert evidence.text == "cat" and len(evidence.box) == 4


def test_counting_and_presence_on_collages(model, collages):
    adapter = model._adapter
    exact = asked = present = presence_asked = 0
    table = {}
    for layout, cell, people, cats, look in collages:
        for label, truth, nouns in (("person", people, "people|persons?"), ("cat", cats, "cats?")):
            for question in COUNT_QUESTIONS[label]:
                reply = adapter.answer_photo("vqa", question, look)
                got = read_count(reply.text, nouns)
                exact += got == truth
                asked += 1
                key = (f"{layout[0]}x{layout[1]}", cell)
                table.setdefault(key, [0, 0])
                table[key][0] += got == truth
                table[key][1] += 1
                if got:
                    assert len(reply.evidence) == got and {e.text for e in reply.evidence} == {label}
            for question in PRESENCE_QUESTIONS[label]:
                reply = adapter.answer_photo("vqa", question, look)
                assert reply.text.startswith(("Yes", "No")), (question, reply.text)
                present += reply.text.startswith("Yes") == (truth > 0)
                presence_asked += 1
    print("\n| layout | cell px | exact counts |\n| --- | --- | --- |")
    for (layout, cell), (right, total) in sorted(table.items()):
        print(f"| {layout} | {cell} | {right}/{total} |")
    print(f"exact count {exact}/{asked} = {exact / asked:.1%}; presence {present}/{presence_asked} = "
          f"{present / presence_asked:.1%}")
    assert exact / asked >= MIN_EXACT_COUNT
    assert present / presence_asked >= MIN_PRESENCE


def test_questions_through_the_public_path(model, photos):
    # One collage and the single photos, through model.ask (routing, OCR, models).
    rng = random.Random(5)
    collage = compose(photos, (2, 2), 256, 2, 1, rng)
    assert read_count(model.ask(collage, "How many people are in this picture?").text, "people|persons?") == 2
    assert model.ask(collage, "Is there a cat?").text.startswith("Yes")
    assert model.ask(photos["chelsea"], "Is there a dog?").text.startswith("No")
    where = model.ask(photos["camera"], "Where is the person?")
    assert "left" in where.text and where.evidence[0].text == "person"
    animal = model.ask(photos["chelsea"], "What animal is this?").text
    assert "cat" in animal
    described = model.ask(photos["horse"], "What is in this image?").text
    assert "horse" in described
    # A group by COCO's own name: the cat counts as an animal, the astronaut does not.
    assert model.ask(photos["chelsea"], "How many animals are there?").text == "There is an animal in the picture: a cat."
    assert model.ask(photos["astronaut"], "Is there an animal?").text.startswith("No")
    # A "no" says what was seen instead (the espresso the detector does not box as a cup).
    assert "espresso" in model.ask(photos["coffee"], "Is there a cup?").text
    # "What is in the cup?" reads like a request to read; with no text it asks what is seen
    for question in ("What is in the cup?", "What is on the table?"):
        reply = model.ask(photos["coffee"], question).text
        assert "espresso" in reply and "No text" not in reply, (question, reply)


@pytest.mark.parametrize("question", ["What colour is the cat?", "Is the cat happy?", "What is the cat doing?",
                                      "How many clouds are there?", "How old is this cat?"])
def test_what_the_models_cannot_see_gets_an_honest_reply(model, photos, question):
    reply = model.ask(photos["chelsea"], question).text
    assert reply != NOT_FOUND and "No text was found" not in reply
    assert "80 COCO" in reply and "cat" in reply, reply


def test_photo_search_puts_the_cat_first(model, photos):
    from docvqa import make_documents

    documents = [document.image for document in make_documents(seed=1, count=3)]
    images = [photos[name] for name in CAPTION_SUBJECTS] + documents
    vectors = model.embed_images(images)
    assert all(abs(float((v * v).sum()) - 1) < 1e-4 for v in vectors)  # no image embeds as zeros
    ranked = model.rank_images("a cat", images)
    assert ranked.order[0] == list(CAPTION_SUBJECTS).index("chelsea"), ranked.scores
    ranked = model.rank_images("a motorcycle", images)
    assert ranked.order[0] == list(CAPTION_SUBJECTS).index("motorcycle"), ranked.scores


def test_documents_are_answered_as_before(model):
    from docvqa import make_documents

    document = make_documents(seed=1, count=1)[0]
    adapter = model._adapter
    regions = adapter._regions(document.image)
    assert adapter.look(document.image, regions).kind == "document"
    for question in document.questions[:3]:
        assert model.ask(document.image, question.text).text == adapter.answer_regions(question.text, regions).text


def test_text_in_a_photo_is_read_when_asked(model, photos):
    # A sign drawn into the cat photo: asked what is written, the text; asked about the cat, the cat.
    from PIL import ImageDraw, ImageFont

    photo = photos["chelsea"].convert("RGB").copy()
    canvas = ImageDraw.Draw(photo)
    canvas.rectangle((10, 10, 200, 60), fill="white")
    canvas.text((20, 15), "KEEP OUT", fill="black", font=ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 30))
    assert "KEEP" in model.ask(photo, "What is written on it?").text.upper()
    assert "cat" in model.ask(photo, "What animal is this?").text
    assert "No text was found" in model.ask(photos["chelsea"], "What is written on it?").text
    # Whether there is text, asked yes/no: the text, or that there is none.
    assert "KEEP" in model.ask(photo, "Is there any text?").text.upper()
    assert "No text was found" in model.ask(photos["chelsea"], "Is there any text in this picture?").text


def test_a_page_of_text_beside_an_object_answers_text_questions_from_the_text(model, photos):
    # A generated receipt beside a cup of coffee: the picture is both, but a question about a
    # value the text lacks ("flight number") or about an object that is not there (a vehicle's
    # plate) is about the text, which was read: "Not found in the image.", not an object reply.
    from docvqa import make_documents

    document = make_documents(seed=1, count=1)[0]
    page = document.image.convert("RGB")
    picture = beside_a_cup(page, photos)
    adapter = model._adapter
    regions = adapter._regions(picture)
    assert adapter.look(picture, regions).kind == "both"
    assert model.ask(picture, "What is the flight number?").text == NOT_FOUND
    assert model.ask(picture, "What is the vehicle's licence plate?").text == NOT_FOUND
    assert model.ask(picture, "Is there a cup?").text.startswith("Yes")
    answerable = next(q for q in document.questions if q.answer is not None)
    assert model.ask(picture, answerable.text).text == adapter.answer_regions(answerable.text, adapter._regions(page)).text


def test_a_page_question_the_text_answers_runs_no_photo_model(model, monkeypatch):
    """A question about a page of text is answered from the text before the photo models are
    run: they could not change that reply. A request about an object still runs them."""
    from docvqa import make_documents

    document = make_documents(seed=1, count=1)[0]
    page = document.image.convert("RGB")
    page.putpixel((0, 0), (1, 2, 3))  # a picture no memo has seen
    adapter = model._adapter
    runs = []
    session = adapter._detector._session
    original = session.run
    monkeypatch.setattr(session, "run", lambda *args, **kwargs: runs.append(1) or original(*args, **kwargs))
    regions = adapter._regions(page)
    assert model.ask(page, "What is the total amount?").text == adapter.answer_regions("What is the total amount?", regions).text
    assert model.ask(page, "What is the patient's blood type?").text == NOT_FOUND
    assert not runs
    # Naming an object the text does not answer for ("flight"), the photo models are asked.
    assert model.ask(page, "What is the flight number?").text == NOT_FOUND
    assert runs


def test_a_page_beside_an_object_with_a_speck_gets_the_full_paths_reply(model, photos, monkeypatch):
    """The full path answers a page beside a large object without its specks (a texture read
    as 'M6') and a page alone with them; answering from the text first must not pick one:
    each request gets what the photo models' path gives."""
    from docvqa import make_documents
    from runtime.ocr.pipeline import Page
    from runtime.results import TextLine

    document = make_documents(seed=1, count=1)[0]
    page = document.image.convert("RGB")
    picture = beside_a_cup(page, photos)
    adapter = model._adapter
    speck = TextLine("M6", ((5.0, 5.0), (25.0, 5.0), (25.0, 15.0), (5.0, 15.0)), 0.6)
    regions = (speck, *adapter._page(picture).regions)
    monkeypatch.setattr(adapter, "_page", lambda image: Page(regions, 0, image.size))
    assert adapter.look(picture, adapter._regions(picture)).kind == "both"
    for request in ("Read the text.", "What does it say?", "What is the total amount?", "What is the patient's blood type?"):
        first = model.ask(picture, request)
        with monkeypatch.context() as full_path:
            full_path.setattr(adapter, "_page_answer", lambda prompt, regions: None)
            assert model.ask(picture, request).text == first.text, request


def test_free_writing_about_a_photo_is_told_what_the_photo_models_see(model, photos, monkeypatch):
    """`task: generate` with a photo: the language model is told the photo models' description
    ("a cat"), not the specks of texture the recognizer reads as letters on its fur; a page
    still gives its text."""
    from docvqa import make_documents
    from runtime.ocr.pipeline import Page
    from runtime.results import TextLine

    adapter = model._adapter
    told = []
    original = adapter._lm.generate
    monkeypatch.setattr(adapter._lm, "generate", lambda messages, params, held: told.append(messages[-1].content)
                        or original(messages, params.with_overrides(max_new_tokens=4), held))
    speck = TextLine("O 9", ((300.0, 200.0), (330.0, 200.0), (330.0, 215.0), (300.0, 215.0)), 0.6)
    cat = photos["chelsea"].convert("RGB")
    regions = (speck,)
    with monkeypatch.context() as specked:
        specked.setattr(adapter, "_page", lambda image: Page(regions, 0, image.size))
        model.generate(cat, "Write a short poem about this picture.")
    assert re.search(r"\bcat\b", told[-1]) and "O 9" not in told[-1], told[-1]
    assert told[-1].endswith("Write a short poem about this picture.")
    page = make_documents(seed=1, count=1)[0].image.convert("RGB")
    model.generate(page, "Write one sentence about this page.")
    lines = [line.text for line in adapter._lines(adapter._page(page))]
    assert "recognized by OCR" in told[-1] and all(line in told[-1] for line in lines)
