"""The reader bundle's recogniser (PP-OCRv6 small), issue 13.

As served it reads each crop at its own width (its `recognition` metadata): the texts must be
those RapidOCR's batching (groups of six padded to the widest) reads. Batched that way and run
in pieces, a page's crops run two at a time, each padded to its group's width, give the same
texts and confidences, bit for bit, as the whole batches of six. (Runs of a single row moved
confidences by ~2e-6 on this recogniser, which is why a lone last row joins the piece before
it.)"""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from docvqa import make_documents  # noqa: E402

from runtime import load_model  # noqa: E402
from runtime.ocr.pipeline import OcrPipeline  # noqa: E402
from runtime.ocr.recognize import RecognizeConfig  # noqa: E402


@pytest.fixture(scope="module")
def pipelines(reader_bundle):
    model = load_model(reader_bundle, precision="fp32")
    served = model._adapter._ocr

    def with_run_size(size: int) -> OcrPipeline:
        config = dataclasses.replace(served.config, recognize=RecognizeConfig(run_size=size))
        return OcrPipeline(served._det, served._cls, served._rec, config)

    return served, with_run_size(2), with_run_size(6)


def test_served_reads_each_crop_at_its_own_width(pipelines):
    served, _, _ = pipelines
    config = served.config.recognize
    assert (config.batch_size, config.image_shape[2]) == (1, 96)


def test_own_widths_read_the_texts_rapidocrs_batches_read(pipelines):
    served, _, batched = pipelines
    same = regions = 0
    for document in make_documents(seed=2, count=6):
        expected = [line.text for line in batched.read_regions(document.image)]
        got = [line.text for line in served.read_regions(document.image)]
        same += sum((Counter(got) & Counter(expected)).values())  # a faint box may be kept by one only
        regions += max(len(got), len(expected))
    assert regions >= 100 and same >= 0.95 * regions, (same, regions)  # 123 of 123 on a 2-core Xeon


def test_pieces_read_as_whole_batches(pipelines):
    _, pieces, whole = pipelines
    assert pieces.config.recognize.run_size == 2
    regions = 0
    for document in make_documents(seed=2, count=6):
        expected = [(line.text, line.confidence) for line in whole.read_regions(document.image)]
        assert [(line.text, line.confidence) for line in pieces.read_regions(document.image)] == expected
        regions += len(expected)
    assert regions >= 100
