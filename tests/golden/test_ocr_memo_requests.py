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
    read_regions = adapter._ocr.read_regions  # noqa: SLF001

    def counting(image):
        reads.append(image.size)
        return read_regions(image)

    adapter._ocr.read_regions = counting  # noqa: SLF001
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
