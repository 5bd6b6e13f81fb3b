"""Our own PP-OCR pipeline (detection, direction, recognition) over onnxruntime + numpy.

Runtime dependencies are onnxruntime, numpy and Pillow only; the algorithms follow
RapidOCR 1.4.4 / PaddleOCR so the same ONNX weights give the same lines.
"""

from .classify import ClassifyConfig
from .detect import DetectionConfig
from .layout import LayoutConfig, order_lines
from .pipeline import OcrConfig, OcrPipeline
from .recognize import RecognizeConfig

__all__ = [
    "ClassifyConfig",
    "DetectionConfig",
    "LayoutConfig",
    "OcrConfig",
    "OcrPipeline",
    "RecognizeConfig",
    "order_lines",
]
