"""Our PP-OCR pipeline on real weights (the `ocr` bundle's files: the rapidocr wheel's ONNX
graphs as packaging/conv_graph.py rewrites them), on drawn images and scikit-image's `page`,
against exact strings and against RapidOCR's own pipeline on the wheel's files as shipped.

The Chinese PP-OCRv4 recogniser often drops spaces in English text (FACTS.md), so texts are
compared with whitespace removed; line order and line merging are compared exactly.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from runtime.ocr import OcrConfig, OcrPipeline
from runtime.ocr.recognize import RecognizeConfig
from runtime.session import ComponentSession, SessionConfig

_SPEC = importlib.util.find_spec("rapidocr_onnxruntime")
if _SPEC is None:
    pytest.skip("rapidocr-onnxruntime (which carries the weights) is not installed", allow_module_level=True)
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOX_TOLERANCE_PX = 3


def _font(size: int):
    if os.path.exists(FONT_PATH):
        return ImageFont.truetype(FONT_PATH, size)
    return ImageFont.load_default(size=size)


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def sessions(ocr_bundle) -> dict[str, ComponentSession]:
    config = SessionConfig(intra_op_threads=2)
    files = {"det": "ch_PP-OCRv4_det_infer.onnx", "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
             "rec": "ch_PP-OCRv4_rec_infer.onnx"}  # fmt: skip
    return {name: ComponentSession(f"ocr-{name}", str(ocr_bundle / "models" / file), config) for name, file in files.items()}


@pytest.fixture(scope="module")
def pipeline(sessions) -> OcrPipeline:
    return OcrPipeline(sessions["det"], sessions["cls"], sessions["rec"], OcrConfig())


@pytest.fixture(scope="module")
def rapidocr_boxes(sessions) -> OcrPipeline:
    """Only the boxes RapidOCR reads (no faint ones): the configuration its results match."""
    return OcrPipeline(sessions["det"], sessions["cls"], sessions["rec"], OcrConfig(faint_box_thresh=None))


@pytest.fixture(scope="module")
def reference():
    rapidocr = pytest.importorskip("rapidocr_onnxruntime")
    return rapidocr.RapidOCR()


def invoice_image() -> Image.Image:
    image = Image.new("RGB", (900, 80), "white")
    ImageDraw.Draw(image).text((20, 20), "Invoice INV-20417  Total due: 42.50 EUR", font=_font(28), fill="black")
    return image


def receipt_image() -> Image.Image:
    image = Image.new("RGB", (460, 420), "white")
    draw = ImageDraw.Draw(image)
    font = _font(26)
    rows = [("CORNER CAFE", None), ("Espresso", "2.80"), ("Croissant", "3.20"), ("Orange juice", "4.50"),
            ("Total", "10.50"), ("Thank you!", None)]  # fmt: skip
    for index, (item, price) in enumerate(rows):
        y = 20 + 62 * index
        draw.text((30, y), item, font=font, fill="black")
        if price:
            item_right = draw.textbbox((30, y), item, font=font)[2]
            draw.text((item_right + 30, y), price, font=font, fill="black")  # a gap of about one line height
    draw.text((300, 20 + 62 * 4), "paid", font=font, fill="black")  # far right: a separate line
    return image


COLUMN_LEFT = ["Apples are red", "Bananas are long", "Cherries are small", "Dates are sweet"]
COLUMN_RIGHT = ["Mountains are high", "Rivers flow down", "Oceans are deep", "Deserts are dry"]


def columns_image() -> Image.Image:
    image = Image.new("RGB", (1000, 560), "white")
    draw = ImageDraw.Draw(image)
    font = _font(28)
    draw.text((330, 20), "Field Notes Weekly", font=font, fill="black")
    for index, (left, right) in enumerate(zip(COLUMN_LEFT, COLUMN_RIGHT)):
        draw.text((30, 110 + 90 * index), left, font=font, fill="black")
        draw.text((560, 110 + 90 * index), right, font=font, fill="black")
    draw.text((340, 490), "Printed in Lisbon", font=font, fill="black")
    return image


def page_image() -> Image.Image:
    skimage_data = pytest.importorskip("skimage.data")
    return Image.fromarray(skimage_data.page())


EXPECTED = {
    "invoice": ["Invoice INV-20417 Total due: 42.50 EUR"],
    "receipt": ["CORNER CAFE", "Espresso 2.80", "Croissant 3.20", "Orange juice 4.50", "Total 10.50", "paid",
                "Thank you!"],  # fmt: skip
    "columns": ["Field Notes Weekly", *COLUMN_LEFT, *COLUMN_RIGHT, "Printed in Lisbon"],
}
IMAGES = {"invoice": invoice_image, "receipt": receipt_image, "columns": columns_image, "page": page_image}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_drawn_text_is_read_exactly_in_reading_order(pipeline, name):
    lines = pipeline.read(IMAGES[name]())
    assert [_squash(line.text) for line in lines] == [_squash(text) for text in EXPECTED[name]]
    for line in lines:
        assert len(line.box) == 4 and 0.5 <= line.confidence <= 1.0


def test_invoice_words_are_merged_into_one_line(pipeline):
    regions = pipeline.read_regions(invoice_image())
    assert len(regions) >= 2  # the detector splits it at the double space...
    (line,) = pipeline.read(invoice_image())  # ...the layout step joins it again
    (left, top), top_right, (right, bottom), bottom_left = line.box
    assert left < 30 and right > 570 and top_right[0] == right and bottom_left[0] == left
    assert 15 < top < 35 and 40 < bottom < 65


def test_first_lines_of_page(pipeline):
    texts = [_squash(line.text) for line in pipeline.read(page_image())]
    assert texts[:4] == [
        "Region-basedsegmentation",
        "Letusfirstdeterminemarkersofthecoinsandthe",
        "background.Thesemarkersarepixelsthatwecanlabel",
        "unambiguouslyaseitherobjectorbackground.Here,",
    ]


def test_upside_down_text_is_turned_by_the_classifier(pipeline, sessions):
    upside_down = invoice_image().rotate(180)
    # The classifier finds both boxes upside down: the page is turned half round and read in
    # order; the boxes are the upside-down image's, clockwise from the page's top-left as read.
    page = pipeline.read_page(upside_down)
    assert page.turns == 2
    regions = pipeline.read_regions(upside_down)
    assert [_squash(line.text) for line in regions] == ["InvoiceINV-20417", "Totaldue:42.50EUR"]
    invoice, total = (np.asarray(line.box) for line in regions)
    assert invoice[:, 0].min() > total[:, 0].max()  # "Invoice" is on the right of the turned image
    assert invoice[0][0] > invoice[1][0] and invoice[0][1] > invoice[3][1]  # top-left as read: bottom-right
    without_classifier = OcrPipeline(sessions["det"], None, sessions["rec"])
    assert without_classifier.read_page(upside_down).turns == 0
    assert [_squash(line.text) for line in without_classifier.read_regions(upside_down)] != \
        ["Totaldue:42.50EUR", "InvoiceINV-20417"]


@pytest.mark.parametrize("degrees, turns", [(90, 3), (180, 2), (270, 1)])
def test_a_page_on_its_side_or_upside_down_is_read_upright(pipeline, degrees, turns):
    """A receipt photographed sideways read column by column ("Espresso Croissant ..." as one
    line, its prices as another); turned upright it reads as it does upright, and every box
    lands on its text in the image as sent."""
    upright = receipt_image()
    expected = pipeline.read(upright)
    turned = upright.rotate(degrees, expand=True)
    page = pipeline.read_page(turned)
    assert page.turns == turns
    lines = pipeline.read(turned)
    assert [_squash(line.text) for line in lines] == [_squash(line.text) for line in expected]
    width, height = upright.size
    for line, reference in zip(lines, expected):
        # the upright box's corners, turned as the image was, are the box we give
        corners = []
        for x, y in reference.box:
            for _ in range(degrees // 90):  # Pillow's rotate(90, expand=True) is counter-clockwise
                x, y = y, (width if _ % 2 == 0 else height) - x
            corners.append((x, y))
        assert np.abs(np.asarray(line.box) - np.asarray(corners)).max() <= BOX_TOLERANCE_PX, line.text


def letter_image() -> Image.Image:
    image = Image.new("RGB", (850, 560), "white")
    draw = ImageDraw.Draw(image)
    lines = ["Dear Ms Novak,", "Thank you for your order of 14 March. The parcel left",
             "our warehouse on Friday and should arrive by Tuesday.", "Please keep this letter with your receipt: it holds",
             "the order number you will need for any return or claim.", "With kind regards,", "Tomas Lindqvist"]
    for index, line in enumerate(lines):
        draw.text((40, 30 + 72 * index), line, font=_font(26), fill="black")
    return image


@pytest.mark.parametrize("degrees, turns", [(84, 3), (96, 3), (177, 2), (264, 1), (276, 1)])
def test_a_sideways_page_also_tilted_a_few_degrees_is_turned(pipeline, degrees, turns):
    """A page photographed on its side is seldom square to the camera. Tilted, a standing
    line's box may start at another corner, so that its first edge is its long one: which
    way the page runs is taken from the direction its crop is read in, not from the order
    of its corners (a letter turned 84 or 96 degrees was left sideways, one turned 264
    read upside down)."""
    turned = letter_image().rotate(degrees, expand=True, fillcolor="white")
    assert pipeline.read_page(turned).turns == turns
    assert "Novak" in pipeline.read(turned)[0].text


@pytest.mark.parametrize("marks", [1, 2])
def test_a_table_with_headings_written_up_its_columns_is_read_as_sent(pipeline, marks):
    """Six long headings standing over a row or two of one-digit marks: far more text by
    length stands than lies, but the page is upright (it was turned a quarter, its marks lost)."""
    image = Image.new("RGB", (500, 320 + 40 * marks), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 15), "Grades", font=_font(24), fill="black")
    for column, heading in enumerate(["Attendance rate", "Homework completed", "Midterm examination",
                                      "Final examination", "Laboratory reports", "Class participation"]):
        label = Image.new("RGB", (240, 30), "white")
        ImageDraw.Draw(label).text((2, 3), heading, font=_font(20), fill="black")
        image.paste(label.rotate(90, expand=True), (180 + 50 * column, 55))
    for row, name in enumerate(["Ann", "Bob"][:marks]):
        draw.text((20, 310 + 40 * row), name, font=_font(20), fill="black")
        for column in range(6):
            draw.text((188 + 50 * column, 310 + 40 * row), str((row * 7 + column * 3) % 10), font=_font(20), fill="black")
    assert pipeline.read_page(image).turns == 0
    assert [line.text for line in pipeline.read(image)][0] == "Grades"


@pytest.mark.parametrize("degrees, turns", [(90, 3), (180, 2), (270, 1)])
def test_where_the_classifier_is_split_the_recogniser_decides_which_way_up(pipeline, monkeypatch, degrees, turns):
    """Sideways scans leave the direction classifier unsure of most lines (FUNSD development
    scans: 4 of 50 turned a quarter got split votes); the recogniser reads upright text at
    0.95-1.0 and upside-down text at 0.3-0.7, so its confidence decides."""
    turned = receipt_image().rotate(degrees, expand=True)
    monkeypatch.setattr(pipeline, "_turned_scores", lambda crops: [0.5] * len(crops))
    assert pipeline.read_page(turned).turns == turns


def test_faint_lines_are_read_and_rapidocrs_lines_are_kept_as_they_are(pipeline, rapidocr_boxes):
    """Two lines of scikit-image's page lie on its darkening lower half: the detector scores
    them 0.40 and 0.45, under its box threshold, and RapidOCR drops them; the recogniser reads
    them confidently (PP-OCRv6 both at 0.95-0.99, PP-OCRv4 the prose line), so they are kept,
    each in its place, and the other lines are unchanged."""
    ours = [_squash(line.text) for line in pipeline.read_regions(page_image())]
    strong = [_squash(line.text) for line in rapidocr_boxes.read_regions(page_image())]
    assert "themarkersarefoundatthetwoextremepartsofthe" in ours and len(ours) > len(strong)
    assert [text for text in ours if text in strong] == strong
    assert ours.index("themarkersarefoundatthetwoextremepartsofthe") == ours.index("histogramofgreyvalues:") - 1
    assert all(line.confidence >= 0.9 for line in pipeline.read_regions(page_image()) if _squash(line.text) not in strong)


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_regions_match_rapidocr(rapidocr_boxes, reference, name):
    pipeline = rapidocr_boxes
    image = IMAGES[name]()
    ours = pipeline.read_regions(image)
    theirs, _ = reference(np.asarray(image.convert("RGB"))[:, :, ::-1].copy())
    assert [_squash(line.text) for line in ours] == [_squash(text) for _, text, _ in theirs]
    for line, (box, _, confidence) in zip(ours, theirs):
        assert np.abs(np.asarray(line.box) - np.asarray(box)).max() <= BOX_TOLERANCE_PX
        assert line.confidence == pytest.approx(confidence, abs=0.05)
    merged = "".join(_squash(line.text) for line in pipeline.read(image))
    assert sorted(merged) == sorted("".join(_squash(text) for _, text, _ in theirs))


@pytest.mark.parametrize("size", [(1, 1), (3, 200), (640, 480)])
def test_blank_or_tiny_images_give_no_lines(pipeline, size):
    assert pipeline.read(Image.new("RGB", size, "white")) == ()
    assert pipeline.read(Image.new("L", size, 0)) == ()


def test_grayscale_and_transparent_inputs(pipeline):
    invoice = invoice_image()
    transparent = Image.new("RGBA", invoice.size, (0, 0, 0, 0))
    ImageDraw.Draw(transparent).text((20, 20), "Invoice INV-20417  Total due: 42.50 EUR", font=_font(28), fill="black")
    for image in (invoice.convert("L"), transparent):
        assert [_squash(line.text) for line in pipeline.read(image)] == [_squash(EXPECTED["invoice"][0])]


def test_concurrent_calls_do_not_share_state(pipeline):
    images = [IMAGES[name]() for name in ("invoice", "receipt", "columns")] * 2
    expected = [pipeline.read(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(pipeline.read, images)) == expected


def test_page_timing_is_reported(pipeline, reference, capsys):
    """Information only (benchmarks live in bench/): median of 5 reads of page.png."""
    image = page_image()
    bgr = np.asarray(image.convert("RGB"))[:, :, ::-1].copy()

    def median_s(function) -> float:
        function()
        durations = []
        for _ in range(5):
            started = time.perf_counter()
            function()
            durations.append(time.perf_counter() - started)
        return statistics.median(durations)

    ours_s = median_s(lambda: pipeline.read(image))
    theirs_s = median_s(lambda: reference(bgr))
    with capsys.disabled():
        print(f"\npage.png read: ours {ours_s * 1000:.0f} ms, rapidocr {theirs_s * 1000:.0f} ms (median of 5)")
    assert ours_s > 0 and theirs_s > 0


def test_a_crop_run_alone_reads_as_in_its_whole_batch(sessions):
    """The recogniser's rows are independent but for the width they are padded to, so a
    page read in runs of one crop (padded to its group's width) gives RapidOCR's batches'
    very texts and confidences, bit for bit, and so does every other run size."""
    whole = OcrPipeline(sessions["det"], sessions["cls"], sessions["rec"],
                        OcrConfig(recognize=RecognizeConfig(run_size=6)))  # fmt: skip
    for name in ("receipt", "columns", "page"):
        image = IMAGES[name]()
        expected = [(line.text, line.confidence) for line in whole.read_regions(image)]
        assert len(expected) >= 4, name
        for run_size in (1, 2, 5):
            config = dataclasses.replace(whole.config, recognize=RecognizeConfig(run_size=run_size))
            pieces = OcrPipeline(sessions["det"], sessions["cls"], sessions["rec"], config)
            assert [(line.text, line.confidence) for line in pieces.read_regions(image)] == expected, (name, run_size)
