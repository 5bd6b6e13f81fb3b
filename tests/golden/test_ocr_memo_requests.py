"""A follow-up question about the same picture does not read it again, and gets the same reply."""

from __future__ import annotations

import pytest

import docvqa
from runtime import load_model

pytestmark = pytest.mark.slow


def test_follow_up_questions_reuse_the_first_reading(reader_bundle):
    model = load_model(reader_bundle, precision="fp32")
    adapter = model._adapter  # noqa: SLF001
    reads = []
    read_page = adapter._ocr.read_page  # noqa: SLF001

    def counting(image):
        reads.append(image.size)
        return read_page(image)

    adapter._ocr.read_page = counting  # noqa: SLF001
    first, second = docvqa.make_documents(seed=1, count=2)
    questions = [q.text for q in first.questions[:3]]
    replies = [model.ask(first.image, q).text for q in questions]
    assert len(reads) == 1
    assert [model.ask(first.image.copy(), q).text for q in questions] == replies  # the same pixels again
    assert model.read(first.image).lines and len(reads) == 1  # read and ask share the reading
    model.ask(second.image, second.questions[0].text)
    assert len(reads) == 2  # another picture is read
    adapter._ocr_memo.size = 0  # noqa: SLF001 - remembering nothing: every reply as it was
    assert [model.ask(first.image, q).text for q in questions] == replies and len(reads) == 5


def test_follow_up_questions_about_a_photo_reuse_what_the_photo_models_saw(reader_bundle):
    from skimage import data

    from PIL import Image

    model = load_model(reader_bundle, precision="fp32")
    adapter = model._adapter  # noqa: SLF001
    if adapter._detector is None:  # noqa: SLF001
        pytest.skip("this bundle has no photo models")
    runs = []
    detector_run = adapter._detector.detect  # noqa: SLF001
    classify = adapter._classifier.classify  # noqa: SLF001
    adapter._detector.detect = lambda *a, **k: runs.append("detect") or detector_run(*a, **k)  # noqa: SLF001
    adapter._classifier.classify = lambda *a, **k: runs.append("classify") or classify(*a, **k)  # noqa: SLF001
    cat = Image.fromarray(data.chelsea())
    first = [model.ask(cat, q).text for q in ("What animal is this?", "How many cats are there?")]
    seen = list(runs)
    assert "classify" in seen and "detect" in seen
    assert [model.ask(cat.copy(), q).text for q in ("What animal is this?", "How many cats are there?")] == first
    assert runs == seen  # neither model ran again
