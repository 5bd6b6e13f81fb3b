"""A recogniser file's own reading settings (its `recognition` metadata) reach the pipeline:
the reader's PP-OCRv6 recogniser reads each crop at its own width (packaging/ocr_bundle.py,
V6_RECOGNITION), PP-OCRv4's files carry none and read as RapidOCR batches them. A malformed
entry stops loading."""

from __future__ import annotations

import json

import numpy as np
import pytest

from runtime.errors import BundleError
from runtime.ocr.pipeline import OcrConfig, OcrPipeline
from runtime.ocr.recognize import RecognizeConfig, recognize_crops, settings_from_metadata


class _Session:
    path = "rec.onnx"
    inputs = {"x": None}

    def __init__(self, metadata):
        self.metadata = metadata
        self.widths = []

    def run(self, feeds):
        batch = feeds["x"]
        self.widths.append((len(batch), batch.shape[-1]))
        steps = batch.shape[-1] // 8
        probabilities = np.zeros((len(batch), steps, 4), dtype=np.float32)
        probabilities[:, :, 0] = 1.0  # blank everywhere: reads ""
        return {"out": probabilities}


def test_a_file_without_settings_keeps_rapidocrs_batching():
    assert settings_from_metadata(RecognizeConfig(), {"character": "a"}, "rec.onnx") == RecognizeConfig()


def test_the_files_settings_replace_batch_and_width_and_nothing_else():
    config = settings_from_metadata(RecognizeConfig(run_size=3), {"recognition": '{"batch_size": 1, "min_width": 96}'},
                                    "rec.onnx")
    assert (config.batch_size, config.image_shape, config.run_size) == (1, (3, 48, 96), 3)


def test_the_pipeline_reads_them_and_each_crop_runs_at_its_own_width():
    rec = _Session({"character": "a\nb", "recognition": json.dumps({"batch_size": 1, "min_width": 96})})
    pipeline = OcrPipeline(_Session({}), None, rec, OcrConfig())
    assert pipeline.config.recognize.batch_size == 1 and pipeline.config.recognize.image_shape[2] == 96
    crops = [np.full((48, width, 3), 200, dtype=np.uint8) for width in (40, 150, 480)]
    recognize_crops(rec, crops, ("", "a", "b", " "), pipeline.config.recognize)
    assert sorted(rec.widths) == [(1, 96), (1, 150), (1, 480)]  # the short crop padded to 96, none to 480
    # a caller's explicit settings are used as given
    explicit = OcrPipeline(_Session({}), None, rec, OcrConfig(recognize=RecognizeConfig())).config.recognize
    assert explicit == RecognizeConfig()


@pytest.mark.parametrize("entry", ["not json", "[1]", '{"batch_size": 0}', '{"batch_size": 1.5}', '{"batch_size": true}',
                                   '{"min_width": 4}', '{"min_width": "96"}', '{"height": 32}',
                                   '{"batch_size": 1, "batch_size": 6}', '[' * 100_000])
def test_a_malformed_entry_stops_loading_and_names_the_file(entry):
    with pytest.raises(BundleError, match="rec.onnx.*'recognition' metadata"):
        settings_from_metadata(RecognizeConfig(), {"recognition": entry}, "rec.onnx")
