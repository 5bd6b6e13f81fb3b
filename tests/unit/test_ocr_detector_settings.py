"""A detector file's own settings (its `detection` metadata) reach the pipeline: PP-OCRv6's
detector was trained with ImageNet normalisation and tuned with thresholds of its own, which
RapidOCR's PP-OCRv4 defaults would silently replace. A malformed entry stops loading."""

from __future__ import annotations

import json

import pytest

from runtime.errors import BundleError
from runtime.ocr.detect import DetectionConfig, settings_from_metadata
from runtime.ocr.pipeline import OcrConfig, OcrPipeline

V6 = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "thresh": 0.2, "box_thresh": 0.45,
      "unclip_ratio": 1.4, "max_candidates": 3000}


class _Session:
    path = "det.onnx"
    inputs = {"x": None}

    def __init__(self, metadata):
        self.metadata = metadata


def test_a_file_without_settings_keeps_the_defaults():
    assert settings_from_metadata(DetectionConfig(), {}, "det.onnx") == DetectionConfig()


def test_the_files_settings_replace_the_defaults_and_nothing_else():
    config = settings_from_metadata(DetectionConfig(limit_side_len=640), {"detection": json.dumps(V6)}, "det.onnx")
    assert config.mean == (0.485, 0.456, 0.406) and config.std == (0.229, 0.224, 0.225)
    assert (config.thresh, config.box_thresh, config.unclip_ratio, config.max_candidates) == (0.2, 0.45, 1.4, 3000)
    assert config.limit_side_len == 640 and config.limit_type == DetectionConfig().limit_type


def test_the_pipeline_reads_them_from_its_detector():
    rec = _Session({"character": "a\nb"})
    pipeline = OcrPipeline(_Session({"detection": json.dumps({"thresh": 0.2})}), None, rec, OcrConfig())
    assert pipeline.config.detection.thresh == 0.2
    assert pipeline.config.detection.box_thresh == DetectionConfig().box_thresh
    # a caller's explicit settings are used as given
    explicit = OcrConfig(detection=DetectionConfig(thresh=0.35))
    assert OcrPipeline(_Session({"detection": json.dumps({"thresh": 0.2})}), None, rec, explicit).config.detection.thresh == 0.35


@pytest.mark.parametrize("entry", ["not json", "[1, 2]", '{"thresh": "high"}', '{"thresh": -1}', '{"thresh": true}',
                                   '{"mean": [0.5, 0.5]}', '{"std": [0, 1, 1]}', '{"limit_side_len": 960}',
                                   '{"thresh": NaN}', '{"unclip_ratio": Infinity}', '{"std": [-1, 1, 1]}',
                                   '{"mean": [true, 0, 0]}', '{"thresh": 7}', '{"box_thresh": 1.5}',
                                   '{"max_candidates": 2.7}', '{"max_candidates": Infinity}',
                                   '{"thresh": 0.2, "thresh": 0.3}', '[' * 100_000])
def test_a_malformed_entry_stops_loading_and_names_the_file(entry):
    with pytest.raises(BundleError, match="det.onnx.*'detection' metadata"):
        settings_from_metadata(DetectionConfig(), {"detection": entry}, "det.onnx")
