"""PP-OCR (detect → direction → recognise) over onnxruntime, with our own reading order.

Pre-processing follows RapidOCR 1.4.4 so results match it: the image is shrunk to at most
`max_side_len`, grown to at least `min_side_len`, and a very flat image (height ≤
`min_height` or wider than `width_height_ratio` × its height) is padded with black rows
above and below before detection. The pipeline object is read-only after construction;
every call keeps its state in locals, so one instance may serve several threads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ..results import TextLine
from ..scheduler import WorkerPool
from ..session import ComponentSession
from . import geometry, grid
from .classify import ClassifyConfig, half_turned, turned_scores, upside_down
from .detect import DetectionConfig, detect_boxes_and_faint
from .detect import settings_from_metadata as detection_settings
from .layout import LayoutConfig, order_lines
from .recognize import RecognizeConfig, load_alphabet, recognize_crops
from .recognize import settings_from_metadata as recognition_settings

_MIN_READABLE_SIDE_PX = 4  # the detector drops boxes 3 px or thinner anyway
_LINE_RATIO = 2.0  # a box this much longer one way than the other holds a line of several characters
_TURN_MARGIN = 2.0  # lines turning a page outweigh the others this many times
_READ_TO_TURN = 8  # where the classifier is split, the longest lines read both ways up
_READ_MARGIN = 0.1  # ... and the way the recogniser reads with this much more mean confidence wins


@dataclass(frozen=True)
class OcrConfig:
    """Start-up settings; the defaults are RapidOCR 1.4.4's `config.yaml`, except that
    `detection` None takes the detector file's own settings where it names them (see
    `detect.settings_from_metadata`), and `recognize` None the recogniser's (see
    `recognize.settings_from_metadata`); an explicit config is used as given."""

    detection: DetectionConfig | None = None
    classify: ClassifyConfig = field(default_factory=ClassifyConfig)
    recognize: RecognizeConfig | None = None
    layout: LayoutConfig = field(default_factory=LayoutConfig)
    text_score: float = 0.5  # lines recognised with lower mean confidence are dropped
    min_height: int = 30
    width_height_ratio: float = 8.0
    max_side_len: int = 2000
    min_side_len: int = 30
    # Ours, not RapidOCR's: boxes the detector scores from this up to its box threshold are
    # read too, and kept where the recogniser reads at least `faint_min_chars` letters or
    # digits with `faint_min_confidence` (None: RapidOCR's boxes only). Lines on a shaded or
    # darkening background score under the threshold ("the markers are found at the two
    # extreme parts of the" on scikit-image's `page`, 0.40; "IN", "TO", names and headings on
    # FUNSD's development scans), texture in a photo reads as one letter at low confidence.
    faint_box_thresh: float | None = 0.3
    faint_min_confidence: float = 0.9
    faint_min_chars: int = 2


@dataclass(frozen=True)
class Page:
    """What OCR read in an image, in the frame of the image turned upright.

    `turns`: quarter turns counter-clockwise (`numpy.rot90`, Pillow's `rotate(90 * turns,
    expand=True)`) that set the image's text upright; `regions` are in that turned image's
    pixels, so rows and columns are the page's. `size`: the caller's image (width, height).
    """

    regions: tuple[TextLine, ...]
    turns: int
    size: tuple[int, int]

    def upright(self, image: Image.Image) -> Image.Image:
        """`image` (the one read) turned as its text was read."""
        return image.rotate(90 * self.turns, expand=True) if self.turns else image

    def to_image(self, lines) -> tuple[TextLine, ...]:
        """`lines` (in the upright frame) with their boxes in the caller's image pixels,
        corners still clockwise from the one top-left in the upright frame."""
        if not self.turns:
            return tuple(lines)
        return tuple(dataclasses.replace(line, box=tuple(self.point_in_image(x, y) for x, y in line.box))
                     for line in lines)

    def point_in_image(self, x: float, y: float) -> tuple[float, float]:
        """A point of the upright frame in the caller's image."""
        width, height = self.size
        if self.turns == 1:  # the image was turned a quarter counter-clockwise
            return float(width - y), float(x)
        if self.turns == 2:
            return float(width - x), float(height - y)
        return float(y), float(height - x)


@dataclass(frozen=True)
class PageLines:
    """The lines that set a page's direction (`page_lines`) and the classifier's votes.

    A line's crop (`geometry.crop_quad`) is read along one direction of the image
    (`geometry.crop_read_along`). Upright as cut, the page's text runs that way, and
    `as_cut` is the quarter turns counter-clockwise that set that direction running left
    to right; upside down, two more.
    """

    axis: int  # 0: the lines run across the image (turns 0 or 2 set the page upright); 1: up or down it (1 or 3)
    indices: tuple[int, ...]  # into the boxes, longest first
    as_cut: tuple[int, ...]  # per line, the page's turns if its crop is upright as cut
    votes: tuple[float, float]  # lengths weighted by the classifier, for turns `axis` and `axis + 2`

    def decided(self) -> int | None:
        """The turns the classifier's votes decide (one way `_TURN_MARGIN` times the
        other's), None where they do not."""
        first, second = self.votes
        if first > _TURN_MARGIN * second:
            return self.axis
        if second > _TURN_MARGIN * first:
            return self.axis + 2
        return None


def page_lines(boxes, scores: list[float]) -> PageLines | None:
    """The lines of one direction that outweigh everything else on a page, from its detected
    `boxes` (the corners `detect.filter_boxes` gives) and the direction classifier's
    probability that each box's crop is upside down (`scores`); None where no direction does.

    A box `_LINE_RATIO` times longer one way than the other holds a line of several
    characters; a shorter one (a digit, a short word: a lone digit's box is taller than
    wide on an upright page) says nothing of the page's direction. The lines running one
    way (across the image, or up and down it, whichever way their boxes' corners start)
    must outweigh everything else on the page `_TURN_MARGIN` times by length and outnumber
    its other boxes (column headings written up a table are a few long lines among many
    short boxes; a page on its side has most of its text standing: 1.24 lines to every other
    box on the FUNSD development scans, at the least), and be two at least (one
    line says nothing of the page's order, and a speck of texture in a photo must not turn
    it). Each votes with its length, split between its two ways up by its score (the
    classifier is unsure of many lines of a scan, and sure of few).
    """
    found: dict[int, list[tuple[float, int, int]]] = {0: [], 1: []}  # axis: (length, index, as cut)
    votes = {turns: 0.0 for turns in range(4)}
    total = 0.0
    for index, (box, score) in enumerate(zip(boxes, scores)):
        box = np.asarray(box, dtype=np.float64)
        across = max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3]))
        down = max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))
        total += max(across, down)
        if max(across, down) < _LINE_RATIO * min(across, down):
            continue
        along = geometry.crop_read_along(box)
        as_cut = int(round(np.arctan2(along[1], along[0]) / (np.pi / 2))) % 4
        found[as_cut % 2].append((max(across, down), index, as_cut))
        votes[as_cut] += max(across, down) * (1.0 - score)
        votes[(as_cut + 2) % 4] += max(across, down) * score
    for axis, lines in found.items():
        length = sum(line[0] for line in lines)
        if (len(lines) >= 2 and length > _TURN_MARGIN * (total - length)
                and len(lines) > len(boxes) - len(lines)):
            lines.sort(reverse=True)
            return PageLines(axis, tuple(index for _, index, _ in lines), tuple(turns for _, _, turns in lines),
                             (votes[axis], votes[axis + 2]))
    return None


@dataclass(frozen=True)
class _Prepared:
    """One call's working image and how to map its coordinates back to the input."""

    image: np.ndarray  # BGR uint8
    scale_x: float
    scale_y: float
    pad_top: int
    width: int  # the caller's image size
    height: int


class OcrPipeline:
    """Reads text lines from images with PP-OCR det (+ optional cls) + rec sessions."""

    def __init__(
        self,
        det: ComponentSession,
        cls: ComponentSession | None,
        rec: ComponentSession,
        config: OcrConfig = OcrConfig(),
        pool: WorkerPool | None = None,
    ):
        """`pool`: the engine's workers; idle ones recognise some of a page's batches."""
        self._det = det
        self._pool = pool or WorkerPool(1)
        self._cls = cls
        self._rec = rec
        if config.detection is None:
            config = dataclasses.replace(
                config, detection=detection_settings(DetectionConfig(), det.metadata, det.path))
        if config.recognize is None:
            config = dataclasses.replace(
                config, recognize=recognition_settings(RecognizeConfig(), rec.metadata, rec.path))
        self._config = config
        self._alphabet = load_alphabet(rec)

    @property
    def config(self) -> OcrConfig:
        return self._config

    def read(self, image: Image.Image) -> tuple[TextLine, ...]:
        """Text lines of `image` in reading order (see `runtime.ocr.layout`).

        Args:
            image: any Pillow image; transparency is composited over white.
        Returns:
            TextLines with corners in the image's pixels, clockwise from the corner that
            is top-left on the page as read (a page photographed on its side is read
            upright, see `read_page`); an empty tuple when there is no text.
        """
        page = self.read_page(image)
        return page.to_image(self.order(page.regions))

    def order(self, regions: tuple[TextLine, ...]) -> tuple[TextLine, ...]:
        """`read_regions`' regions merged into lines in reading order (what `read` returns)."""
        return order_lines(regions, self._config.layout)

    def read_regions(self, image: Image.Image) -> tuple[TextLine, ...]:
        """One TextLine per detected box, before merging, row by row (`runtime.ocr.grid`:
        rows top to bottom, each left to right, on the page turned upright), boxes in the
        caller's pixels."""
        page = self.read_page(image)
        return page.to_image(page.regions)

    def read_page(self, image: Image.Image) -> Page:
        """The regions of `image` turned upright (`Page`): a page whose lines stand on end
        (a receipt photographed sideways, a scan fed in turned) or whose lines the direction
        classifier finds upside down (`_turns`) is turned a quarter, half or three
        quarters before it is read; its rows and reading order are then the page's, not
        the sideways image's columns."""
        config = self._config
        array = _to_bgr(image)
        turns = 0
        while True:  # twice at most: as sent, and turned where the first pass says so
            prepared = self._prepare(np.ascontiguousarray(np.rot90(array, turns)) if turns else array)
            if prepared is None:
                return Page((), 0, image.size)
            boxes, faint = detect_boxes_and_faint(self._det, prepared.image, config.detection, config.faint_box_thresh)
            crops, kept = self._crops(prepared, boxes)
            scores = self._turned_scores(crops)
            turn = self._turns(crops, page_lines(kept, scores)) if turns == 0 and self._cls is not None else 0
            if turn == 0:
                break
            turns = turn
        lines = self._lines(prepared, crops, kept, upside_down(config.classify, scores), config.text_score, 0)
        # Faint boxes are read in runs of their own: the strong boxes' texts stay RapidOCR's
        # (a crop's text depends on the crops it is batched with).
        faint_crops, faint_kept = self._crops(prepared, faint)
        found = self._lines(prepared, faint_crops, faint_kept,
                            upside_down(config.classify, self._turned_scores(faint_crops)),
                            max(config.text_score, config.faint_min_confidence), config.faint_min_chars)
        if found:
            merged = lines + found
            lines = tuple(merged[index] for row in grid.group_regions([line.box for line in merged], config.layout.rows).rows
                          for index in row)
        return Page(lines, turns, image.size)

    def _turns(self, crops: list[np.ndarray], lines: PageLines | None) -> int:
        """Quarter turns that set the page upright: as the classifier decides (`page_lines`),
        or, where its votes are split (sideways scans: its sure verdicts are few), as the
        recogniser reads the page's longest lines more surely, as cut or turned half round
        (upside-down text reads at a clearly lower confidence). Where neither decides, none."""
        if lines is None:
            return 0
        decided = lines.decided()
        if decided is not None:
            return decided
        sample = lines.indices[:_READ_TO_TURN]
        as_cut = recognize_crops(self._rec, [crops[index] for index in sample], self._alphabet,
                                 self._config.recognize, self._pool.map)
        turned = recognize_crops(self._rec, [half_turned(crops[index]) for index in sample],
                                 self._alphabet, self._config.recognize, self._pool.map)
        read = {lines.axis: [], lines.axis + 2: []}  # per candidate turns, how surely each line reads under it
        for turns, (_, upright), (_, upside_down) in zip(lines.as_cut, as_cut, turned):
            read[turns].append(upright)
            read[(turns + 2) % 4].append(upside_down)
        first, second = (float(np.mean(read[turns])) for turns in (lines.axis, lines.axis + 2))
        if abs(first - second) < _READ_MARGIN:
            return 0
        return lines.axis if first > second else lines.axis + 2

    def _crops(self, prepared: _Prepared, boxes) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The rectified crops of `boxes` (working-image corners) row by row, and their boxes
        (a box too thin to crop is left out)."""
        if len(boxes) == 0:
            return [], []
        boxes = [boxes[index] for row in grid.group_regions(boxes, self._config.layout.rows).rows for index in row]
        crops, kept = [], []
        for box in boxes:
            crop = geometry.crop_quad(prepared.image, box)
            if crop is not None:
                crops.append(crop)
                kept.append(box)
        return crops, kept

    def _turned_scores(self, crops: list[np.ndarray]) -> list[float]:
        """The direction classifier's probability per crop that it is upside down (0 without one)."""
        if self._cls is None or not crops:
            return [0.0] * len(crops)
        return turned_scores(self._cls, crops, self._config.classify, self._pool.map)

    def _lines(self, prepared: _Prepared, crops, boxes, flips, min_confidence: float, min_chars: int) -> tuple[TextLine, ...]:
        """The lines read in `crops` (turned where `flips`), in the caller's pixels of the
        working image's frame: those read with `min_confidence` and `min_chars` letters or digits."""
        if not crops:
            return ()
        crops = [half_turned(crop) if flip else crop for crop, flip in zip(crops, flips)]
        texts = _recognize_in_scan_order(self._rec, crops, boxes, self._alphabet, self._config.recognize, self._pool.map)
        lines = []
        for box, (text, confidence) in zip(boxes, texts):
            if confidence >= min_confidence and text and sum(ch.isalnum() for ch in text) >= min_chars:
                lines.append(TextLine(text=text, box=_to_original(box, prepared), confidence=confidence))
        return tuple(lines)

    def _prepare(self, array: np.ndarray) -> _Prepared | None:
        config = self._config
        height, width = array.shape[:2]
        if min(height, width) < _MIN_READABLE_SIDE_PX:
            return None
        working = array
        if max(height, width) > config.max_side_len:
            working = _resize_to_multiple_of_32(working, config.max_side_len / max(height, width))
            if working is None:  # a strip (4x60000) whose short side shrinks to nothing: no text
                return None
        if min(working.shape[:2]) < config.min_side_len:
            ratio = config.min_side_len / min(working.shape[:2])
            # Growing a thin strip would make the long side explode; the letterbox below
            # gives the detector enough height instead.
            if max(working.shape[:2]) * ratio <= 2 * config.max_side_len:
                working = _resize_to_multiple_of_32(working, ratio)
        if working is None:
            return None
        scale_y = height / working.shape[0]
        scale_x = width / working.shape[1]
        working, pad_top = _letterbox(working, config)
        return _Prepared(working, scale_x, scale_y, pad_top, width, height)


def _recognize_in_scan_order(rec: ComponentSession, crops: list, boxes: list, alphabet, config, run_batches) -> list:
    """`recognize_crops` of `crops` (given in our row order), run in the order RapidOCR hands
    crops to its recogniser (`scan_order`), results back in ours. The recogniser pads a
    batch to its widest crop and its SVTR neck mixes the whole padded line, so a crop's text
    depends on its batch neighbours: the same batches as RapidOCR's give the same texts."""
    order = scan_order(boxes)
    texts = recognize_crops(rec, [crops[index] for index in order], alphabet, config, run_batches)
    result = [("", 0.0)] * len(crops)
    for index, text in zip(order, texts):
        result[index] = text
    return result


def scan_order(boxes: list) -> list[int]:
    """Indices of `boxes` (TL, TR, BR, BL corners) in PaddleOCR's `sorted_boxes` order: by
    the top-left corner's y then x, then each box moved left past neighbours whose top-left
    y is within 10 px and that start further right."""
    order = sorted(range(len(boxes)), key=lambda index: (boxes[index][0][1], boxes[index][0][0]))
    for i in range(len(order) - 1):
        for j in range(i, -1, -1):
            upper, lower = boxes[order[j]][0], boxes[order[j + 1]][0]
            if abs(lower[1] - upper[1]) < 10 and lower[0] < upper[0]:
                order[j], order[j + 1] = order[j + 1], order[j]
            else:
                break
    return order


def _to_bgr(image: Image.Image) -> np.ndarray:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _resize_to_multiple_of_32(image: np.ndarray, ratio: float) -> np.ndarray | None:
    height, width = image.shape[:2]
    resized_h = int(round(int(height * ratio) / 32) * 32)
    resized_w = int(round(int(width * ratio) / 32) * 32)
    if resized_h <= 0 or resized_w <= 0:
        return None
    return geometry.resize_bilinear(image, resized_w, resized_h)


def _letterbox(image: np.ndarray, config: OcrConfig) -> tuple[np.ndarray, int]:
    height, width = image.shape[:2]
    if height > config.min_height and width / height <= config.width_height_ratio:
        return image, 0
    target_h = max(int(width / config.width_height_ratio), config.min_height) * 2
    pad = int(abs(target_h - height) / 2)
    padded = np.zeros((height + 2 * pad, width, 3), dtype=np.uint8)
    padded[pad : pad + height] = image
    return padded, pad


def _to_original(box: np.ndarray, prepared: _Prepared) -> tuple[tuple[float, float], ...]:
    points = np.asarray(box, dtype=np.float64).copy()
    points[:, 1] -= prepared.pad_top
    points[:, 0] *= prepared.scale_x
    points[:, 1] *= prepared.scale_y
    points[:, 0] = np.clip(points[:, 0], 0, prepared.width)
    points[:, 1] = np.clip(points[:, 1], 0, prepared.height)
    return tuple((float(x), float(y)) for x, y in points)
