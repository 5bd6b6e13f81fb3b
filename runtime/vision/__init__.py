"""Photo models of the default bundle: a COCO-80 object detector (NanoDet-g) and an
ImageNet-1k classifier (EfficientNet-Lite0), both plain numpy around one ONNX session each.

- `boxes`: NanoDet's distribution-head decoding and class-wise non-maximum suppression
  (pure functions, unit-tested on scripted outputs).
- `detector.ObjectDetector`: letterbox, normalisation, one session call per batch, boxes
  in the original image's pixels.
- `classifier.ImageClassifier`: short side 256, centre crop 224, top-k labels.

Labels travel inside each graph's metadata (`labels`, a JSON list written at build time by
packaging/photo_models.py), so a component and its class names cannot drift apart.
"""

from .classifier import ClassifierConfig, ImageClassifier, Label
from .detector import Detection, DetectorConfig, ObjectDetector

__all__ = ["ClassifierConfig", "Detection", "DetectorConfig", "ImageClassifier", "Label", "ObjectDetector"]
