"""NanoDet decoding, NMS and the photo components' pre- and post-processing, on scripted
outputs (no weights): runtime/vision/."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from runtime.errors import BundleError
from runtime.session import TensorSpec
from runtime.vision import ClassifierConfig, DetectorConfig, ImageClassifier, ObjectDetector, boxes
from runtime.vision.classifier import centre_crop
from runtime.vision.detector import MEAN_BGR, STD_BGR, STRIDES, letterbox


def one_hot_distances(bins, reg_max=10):
    """Distance logits that put (almost) all weight on one bin per side."""
    logits = np.full((4, reg_max + 1), -50.0, dtype=np.float32)
    for side, value in enumerate(bins):
        logits[side, value] = 50.0
    return logits.reshape(-1)


def test_expected_distances_is_the_softmax_integral():
    logits = np.stack([one_hot_distances([0, 3, 7, 10]), np.zeros(44, np.float32)])
    distances = boxes.expected_distances(logits, 10)
    np.testing.assert_allclose(distances[0], [0, 3, 7, 10], atol=1e-5)
    np.testing.assert_allclose(distances[1], [5, 5, 5, 5], atol=1e-5)  # uniform over 0..10


def test_cell_centres_are_row_major_and_half_a_stride_in():
    np.testing.assert_array_equal(boxes.cell_centres(4, 8), [[4, 4], [12, 4], [4, 12], [12, 12]])
    with pytest.raises(ValueError, match="not square"):
        boxes.cell_centres(6, 8)


def test_decode_level_keeps_each_class_above_the_threshold():
    scores = np.zeros((4, 80), np.float32)
    scores[3, 15] = 0.9   # cat at the bottom-right cell
    scores[3, 16] = 0.5   # dog at the same cell
    scores[0, 0] = 0.39   # under the threshold
    distributions = np.zeros((4, 44), np.float32)
    distributions[3] = one_hot_distances([1, 2, 3, 4])
    found, values, classes = boxes.decode_level(scores, distributions, stride=8, threshold=0.4, reg_max=10)
    assert classes.tolist() == [15, 16]
    np.testing.assert_allclose(values, [0.9, 0.5])
    # centre (12, 12); left 1*8, top 2*8, right 3*8, bottom 4*8
    np.testing.assert_allclose(found, [[4, -4, 36, 44]] * 2, atol=1e-4)


def test_decode_level_caps_candidates_best_first():
    scores = np.linspace(0.5, 0.9, 16, dtype=np.float32).reshape(16, 1) * np.ones((1, 80), np.float32)
    _, values, _ = boxes.decode_level(scores, np.zeros((16, 44), np.float32), 8, 0.4, 10, max_candidates=3)
    np.testing.assert_allclose(values, [0.9, 0.9, 0.9])


def test_iou():
    ious = boxes.box_iou(np.array([0, 0, 10, 10.0]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30.0]]))
    np.testing.assert_allclose(ious, [1.0, 50 / 150, 0.0])


def test_nms_suppresses_overlaps_within_a_class_only():
    found = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [0, 0, 10, 10], [50, 50, 60, 60.0]], np.float32)
    scores = np.array([0.8, 0.9, 0.7, 0.6], np.float32)
    classes = np.array([0, 0, 1, 0])
    assert boxes.nms(found[:2], scores[:2], 0.6).tolist() == [1]
    assert boxes.class_wise_nms(found, scores, classes, 0.6, 100).tolist() == [1, 2, 3]
    assert boxes.class_wise_nms(found, scores, classes, 0.6, 2).tolist() == [1, 2]
    assert boxes.class_wise_nms(found[:0], scores[:0], classes[:0], 0.6, 100).tolist() == []


class FakeSession:
    """The ComponentSession interface with scripted outputs; records each batch it is given."""

    def __init__(self, inputs, outputs, labels, script):
        self.component = "fake"
        self.inputs = {name: TensorSpec(name, shape, np.float32) for name, shape in inputs.items()}
        self.outputs = {name: TensorSpec(name, shape, np.float32) for name, shape in outputs.items()}
        self.metadata = {"labels": json.dumps(labels)}
        self.script = script
        self.batches = []

    def run(self, feeds, output_names=None):
        (batch,) = feeds.values()
        self.batches.append(batch)
        return self.script(batch)


COCO = [f"class{i}" for i in range(80)]
COCO[0], COCO[15] = "person", "cat"


def detector_session(script):
    outputs = {f"{kind}_{s}": ("batch", (416 // s) ** 2, 80 if kind == "scores" else 44)
               for kind in ("scores", "boxes") for s in STRIDES}
    return FakeSession({"images": ("batch", 3, 416, 416)}, outputs, COCO, script)


def scripted_detections(batch):
    """Image 0: a cat at stride-32 cell (row 6, column 2), distances 2, 1, 2, 3 bins.
    Image 1: nothing."""
    outputs = {}
    for stride in STRIDES:
        cells = (416 // stride) ** 2
        outputs[f"scores_{stride}"] = np.zeros((len(batch), cells, 80), np.float32)
        outputs[f"boxes_{stride}"] = np.zeros((len(batch), cells, 44), np.float32)
    outputs["scores_32"][0, 6 * 13 + 2, 15] = 0.8
    outputs["boxes_32"][0, 6 * 13 + 2] = one_hot_distances([2, 1, 2, 3])
    return outputs


def test_detector_maps_boxes_back_to_the_original_image():
    session = detector_session(scripted_detections)
    detector = ObjectDetector(session, DetectorConfig(score_threshold=0.4))
    wide = Image.new("RGB", (832, 416), (10, 20, 30))  # scale 0.5, placed 104 px down
    found = detector.detect([wide, Image.new("RGB", (100, 100))])
    assert len(session.batches) == 1 and session.batches[0].shape == (2, 3, 416, 416)  # one call per batch
    assert found[1] == []
    (cat,) = found[0]
    assert (cat.label, cat.class_id) == ("cat", 15)
    assert cat.score == pytest.approx(0.8)
    # letterbox box: centre (2.5*32, 6.5*32) = (80, 208); minus (64, 32), plus (64, 96)
    # -> (16, 176, 144, 304); original: (x / 0.5, (y - 104) / 0.5)
    assert cat.box == pytest.approx((32, 144, 288, 400), abs=1e-3)


def test_detector_clips_boxes_to_the_image():
    def script(batch):
        outputs = scripted_detections(batch)
        outputs["boxes_32"][0, 6 * 13 + 2] = one_hot_distances([10, 10, 10, 10])
        return outputs

    (cat,) = ObjectDetector(detector_session(script)).detect([Image.new("RGB", (832, 416))])[0]
    # letterbox box (80 - 320, 208 - 320, 80 + 320, 208 + 320) -> (-480, -432, 800, 848): x1 fits
    assert cat.box == pytest.approx((0, 0, 800, 416), abs=1e-3)


def test_detector_batches_and_refuses_graphs_without_labels():
    session = detector_session(scripted_detections)
    detector = ObjectDetector(session, DetectorConfig(batch_size=2))
    detector.detect([Image.new("RGB", (50, 50))] * 5)
    assert [len(batch) for batch in session.batches] == [2, 2, 1]
    session.metadata = {}
    with pytest.raises(BundleError, match="class names"):
        ObjectDetector(session)
    with pytest.raises(BundleError, match="not a NanoDet detector"):
        ObjectDetector(FakeSession({"images": (1, 3, 416, 416)}, {"logits": (1, 80)}, COCO, None))


def test_letterbox_normalises_bgr_and_pads_with_the_mean():
    pixels, where = letterbox(Image.new("RGB", (200, 100), (200, 100, 50)), 416)
    assert (where.scale, where.left, where.top) == (2.08, 0, 104)
    rgb = np.array([200, 100, 50], np.float32)
    expected = (rgb[::-1] - np.array(MEAN_BGR, np.float32)) / np.array(STD_BGR, np.float32)
    np.testing.assert_allclose(pixels[:, 208, 208], expected, rtol=1e-6)
    np.testing.assert_array_equal(pixels[:, 50, 208], [0, 0, 0])  # the border, above the image


def test_centre_crop_takes_the_middle_224_after_the_short_side_is_256():
    values = (np.arange(256 * 512 * 3) % 251).reshape(256, 512, 3).astype(np.uint8)
    crop = centre_crop(Image.fromarray(values))
    expected = (values[16:240, 144:368].astype(np.float32) - 127) / 128
    np.testing.assert_allclose(crop, expected.transpose(2, 0, 1), atol=1e-6)
    assert centre_crop(Image.new("RGB", (1, 60000))).shape == (3, 224, 224)  # no 256 x 15 M resize


def test_classifier_returns_top_k_probabilities_in_one_call_per_batch():
    labels = [f"label {i}, synonym" for i in range(1000)]
    logits = np.zeros(1000, np.float32)
    logits[[7, 3, 9]] = [5.0, 4.0, 3.0]
    session = FakeSession({"images": ("batch", 3, 224, 224)}, {"logits": ("batch", 1000)}, labels,
                          lambda batch: {"logits": np.tile(logits, (len(batch), 1))})
    found = ImageClassifier(session, ClassifierConfig(top_k=2)).classify([Image.new("RGB", (300, 300))] * 3)
    assert len(session.batches) == 1 and len(found) == 3
    assert [(x.class_id, x.name) for x in found[0]] == [(7, "label 7"), (3, "label 3")]
    total = np.exp(5.0) + np.exp(4.0) + np.exp(3.0) + 997
    assert found[0][0].score == pytest.approx(np.exp(5.0) / total, rel=1e-5)
