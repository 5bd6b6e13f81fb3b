"""Kind `ocr`: PP-OCR detection + direction classifier + recognition (DESIGN §2, item 1)."""

from __future__ import annotations

from runtime.ocr.pipeline import OcrPipeline
from runtime.results import ReadResult

from . import register_kind
from .base import KindAdapter, LoadContext


@register_kind
class OcrAdapter(KindAdapter):
    kind_name = "ocr"
    kind_tasks = frozenset({"read"})
    required_components = ("ocr_det", "ocr_rec")
    optional_components = ("ocr_cls",)
    wide_components = ("ocr_det",)

    def __init__(self, context: LoadContext):
        super().__init__(context)
        sessions = context.sessions
        self._pipeline = OcrPipeline(sessions["ocr_det"], sessions.get("ocr_cls"), sessions["ocr_rec"], pool=context.pool)

    def read(self, image) -> ReadResult:
        page = self._pipeline.read_page(image)
        return ReadResult(lines=page.to_image(self._pipeline.order(page.regions)), turns=page.turns)
