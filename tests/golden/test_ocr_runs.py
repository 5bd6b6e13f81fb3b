"""The reader bundle's recogniser (PP-OCRv6 small) read in pieces (issue 13): a page's crops
run two at a time, each padded to its group's width, give the same texts and confidences,
bit for bit, as RapidOCR's whole batches of six. (Runs of a single row moved confidences by
~2e-6 on this recogniser, which is why a lone last row joins the piece before it.)"""

from __future__ import annotations

import dataclasses
import sys
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
    assert served.config.recognize.run_size == 2  # what the bundle runs

    def with_run_size(size: int) -> OcrPipeline:
        config = dataclasses.replace(served.config, recognize=RecognizeConfig(run_size=size))
        return OcrPipeline(served._det, served._cls, served._rec, config)

    return served, with_run_size(6)


def test_pieces_read_as_whole_batches(pipelines):
    served, whole = pipelines
    regions = 0
    for document in make_documents(seed=2, count=6):
        expected = [(line.text, line.confidence) for line in whole.read_regions(document.image)]
        assert [(line.text, line.confidence) for line in served.read_regions(document.image)] == expected
        regions += len(expected)
    assert regions >= 100
