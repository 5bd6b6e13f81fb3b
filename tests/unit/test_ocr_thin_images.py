"""Extreme aspect ratios through the OCR pipeline (issue 12's 1x60000 images): a thin
strip is no text, never a crash (a 4x60000 image raised AttributeError, a 500) and never
a giant detector input (a 5x2000 strip asked for a 736x294400 float tensor)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from runtime.ocr.detect import DetectionConfig, prepare_detection_input
from runtime.ocr.pipeline import OcrConfig, OcrPipeline


class _Session:
    """Stands in for a ComponentSession: records the detector inputs, finds no text."""

    path = "fake.onnx"
    inputs = {"x": None}
    metadata = {"character": "a\nb"}

    def __init__(self):
        self.shapes = []

    def run(self, feeds):
        (tensor,) = feeds.values()
        self.shapes.append(tensor.shape)
        return {"y": np.zeros((1, 1, *tensor.shape[2:]), dtype=np.float32)}


@pytest.mark.parametrize("size", [(1, 60000), (60000, 1), (4, 60000), (60000, 4), (60, 60000), (5, 2000), (4, 1999),
                                  (2000, 5), (33, 2000), (4, 4)])
def test_a_thin_image_is_read_as_no_text_with_a_bounded_detector_input(size):
    det = _Session()
    pipeline = OcrPipeline(det, None, _Session(), OcrConfig())
    assert pipeline.read(Image.new("RGB", size, "white")) == ()
    for shape in det.shapes:
        assert max(shape[2:]) <= DetectionConfig().max_input_side, (size, shape)


def test_the_cap_leaves_ordinary_images_as_rapidocr_sizes_them():
    uncapped = DetectionConfig(max_input_side=10**9)
    for height, width in [(600, 800), (2000, 300), (300, 1000), (32, 32)]:
        image = np.zeros((height, width, 3), dtype=np.uint8)
        assert prepare_detection_input(image, DetectionConfig()).shape == prepare_detection_input(image, uncapped).shape


def test_a_strip_is_capped_on_its_long_side():
    # Uncapped, "min" would grow the 5 px side to 736 and the 2000 px side to 294400.
    strip = np.zeros((2000, 5, 3), dtype=np.uint8)
    assert prepare_detection_input(strip, DetectionConfig()).shape == (1, 3, 8192, 32)
    assert prepare_detection_input(strip, DetectionConfig(max_input_side=4096)) is None  # 5 px -> 10 px -> 0


def test_detection_input_is_each_pixel_normalised():
    """(v / 255 - mean) / std per channel, channels first: the lookup table gives the values
    the pixel-by-pixel formula gives, in the layout the detector reads."""
    from runtime.ocr import geometry

    image = np.random.default_rng(4).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    config = DetectionConfig(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    tensor = prepare_detection_input(image, config)
    resized = geometry.resize_bilinear(image, tensor.shape[3], tensor.shape[2])
    expected = (resized.astype(np.float32) / 255.0 - np.float32(config.mean)) / np.float32(config.std)
    assert tensor.dtype == np.float32 and tensor.flags.c_contiguous
    assert np.array_equal(tensor, expected.transpose(2, 0, 1)[None])
