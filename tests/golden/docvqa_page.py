"""Drawing for the generated document-VQA set (`docvqa.py`): rows of anchored cells on a page.

A page is a list of `Row`s drawn top to bottom, one text line high each; a row's cells are
anchored at fractions of the content width (left, right or centre aligned), so a receipt's
price column, an invoice's two-column header and a table's columns are all rows of cells.
The font shrinks until no cell overflows the page or touches its neighbour, but never below
`MIN_FONT_PX`: PP-OCR's detector wants text at least ~20 px high (issue 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_ROOT = Path("/usr/share/fonts/truetype")
# Candidate families as (regular, bold) files under FONT_ROOT: DejaVu ships with the base
# image; Liberation (metric-compatible Arial/Times/Courier) and GNU FreeFont come from the
# Debian packages `.ci/run` installs (fonts-liberation fonts-dejavu-extra fonts-freefont-ttf).
# Every one covers Latin-1 and Latin Extended-A, so "Łukasz" and "Søren" draw in all of them.
FONT_CANDIDATES = {
    "dejavu-sans": ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf"),
    "dejavu-serif": ("dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
    "dejavu-mono": ("dejavu/DejaVuSansMono.ttf", "dejavu/DejaVuSansMono-Bold.ttf"),
    "dejavu-condensed": ("dejavu/DejaVuSansCondensed.ttf", "dejavu/DejaVuSansCondensed-Bold.ttf"),
    "dejavu-serif-condensed": ("dejavu/DejaVuSerifCondensed.ttf", "dejavu/DejaVuSerifCondensed-Bold.ttf"),
    "liberation-sans": ("liberation/LiberationSans-Regular.ttf", "liberation/LiberationSans-Bold.ttf"),
    "liberation-serif": ("liberation/LiberationSerif-Regular.ttf", "liberation/LiberationSerif-Bold.ttf"),
    "liberation-mono": ("liberation/LiberationMono-Regular.ttf", "liberation/LiberationMono-Bold.ttf"),
    "liberation-narrow": ("liberation/LiberationSansNarrow-Regular.ttf", "liberation/LiberationSansNarrow-Bold.ttf"),
    "free-sans": ("freefont/FreeSans.ttf", "freefont/FreeSansBold.ttf"),
    "free-serif": ("freefont/FreeSerif.ttf", "freefont/FreeSerifBold.ttf"),
    "free-mono": ("freefont/FreeMono.ttf", "freefont/FreeMonoBold.ttf"),
}
# The families whose both files are installed on this machine: the set a seed draws from, so
# one seed gives byte-identical pages per machine, and different pages where other fonts are
# installed (`font_note` says which). With none at all, Pillow's scalable default font.
FONT_FAMILIES = {
    name: pair for name, pair in FONT_CANDIDATES.items() if all((FONT_ROOT / path).is_file() for path in pair)
} or {"pillow-default": ("", "")}
MIN_FONT_PX = 22
_CELL_GAP_EM = 1.0  # cells in one row keep at least this many font sizes apart


@dataclass(frozen=True)
class Cell:
    text: str
    x: float  # anchor as a fraction of the content width
    align: str = "left"  # "left": x is the left edge; "right": the right edge; "center"
    bold: bool = False
    scale: float = 1.0  # font size relative to the page's base size


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...] = ()  # no cells: a blank half-line gap
    rule_below: bool = False  # a thin horizontal line under the row
    shade: bool = False  # a light band behind the row (table headers)


@dataclass(frozen=True)
class PageStyle:
    width_px: int
    family: str
    font_px: int  # the base size asked for; may shrink to fit (not below MIN_FONT_PX)
    line_spacing: float  # row pitch in font sizes
    margin_px: int
    ink: tuple[int, int, int]
    paper: tuple[int, int, int]


def row(*cells: Cell, rule_below: bool = False, shade: bool = False) -> Row:
    return Row(tuple(cells), rule_below, shade)


def left(text: str, x: float = 0.0, **kwargs) -> Cell:
    return Cell(text, x, "left", **kwargs)


def right(text: str, x: float = 1.0, **kwargs) -> Cell:
    return Cell(text, x, "right", **kwargs)


def center(text: str, x: float = 0.5, **kwargs) -> Cell:
    return Cell(text, x, "center", **kwargs)


def row_text(page_row: Row) -> str:
    """The row's text, cells (listed left to right) joined by single spaces; '' for a gap."""
    return " ".join(cell.text for cell in page_row.cells)


def render_page(rows: list[Row], style: PageStyle) -> Image.Image:
    """Draw `rows` on a page `style.width_px` wide and as tall as they need."""
    size = style.font_px
    while size > MIN_FONT_PX and not _fits(rows, style, size):
        size -= 1
    width = style.width_px
    if not _fits(rows, style, size):  # still too wide at the smallest size: widen the page
        while not _fits(rows, style, size, width):
            width += 40
    pitch = round(size * style.line_spacing)
    height = 2 * style.margin_px + sum(_row_height(r, size, pitch) + r.rule_below * _rule_strip(size) for r in rows)
    image = Image.new("RGB", (width, height), style.paper)
    draw = ImageDraw.Draw(image)
    content = width - 2 * style.margin_px
    y = style.margin_px
    for page_row in rows:
        row_height = _row_height(page_row, size, pitch)
        if page_row.shade:
            draw.rectangle((style.margin_px - 8, y, width - style.margin_px + 8, y + row_height), fill=_shade(style.paper))
        for cell in page_row.cells:
            font = _font(style.family, cell.bold, round(size * cell.scale))
            text_width = draw.textlength(cell.text, font=font)
            x = style.margin_px + cell.x * content - {"left": 0, "right": text_width, "center": text_width / 2}[cell.align]
            # Vertically centred in the row; the font's ascent sits on the row's top third.
            top = y + (row_height - round(size * cell.scale)) / 2
            draw.text((round(x), round(top)), cell.text, font=font, fill=style.ink)
        y += row_height
        if page_row.rule_below:
            # The rule gets its own strip so it never touches the text above or below.
            rule_y = y + _rule_strip(size) // 2
            draw.line((style.margin_px, rule_y, width - style.margin_px, rule_y), fill=_rule(style.ink), width=2)
            y += _rule_strip(size)
    return image


def _row_height(page_row: Row, size: int, pitch: int) -> int:
    """The row's own height, without the strip of its rule (see `_rule_strip`)."""
    if not page_row.cells:
        return pitch // 2
    return round(pitch * max(cell.scale for cell in page_row.cells))


def _rule_strip(size: int) -> int:
    return round(0.5 * size)


def _fits(rows: list[Row], style: PageStyle, size: int, width: int | None = None) -> bool:
    content = (width or style.width_px) - 2 * style.margin_px
    for page_row in rows:
        spans = []
        for cell in page_row.cells:
            font = _font(style.family, cell.bold, round(size * cell.scale))
            text_width = _measure(font, cell.text)
            start = cell.x * content - {"left": 0, "right": text_width, "center": text_width / 2}[cell.align]
            if start < 0 or start + text_width > content:
                return False
            spans.append((start, start + text_width))
        spans.sort()
        if any(b[0] - a[1] < _CELL_GAP_EM * size for a, b in zip(spans, spans[1:])):
            return False
    return True


_FONTS: dict[tuple[str, bool, int], ImageFont.ImageFont] = {}


def font_note() -> str:
    """Which font families the set is drawn in here, and what is missing (for reports)."""
    missing = sorted(set(FONT_CANDIDATES) - set(FONT_FAMILIES))
    note = f"{len(FONT_FAMILIES)} font families: {', '.join(sorted(FONT_FAMILIES))}"
    if missing:
        note += f"; not installed: {', '.join(missing)} (.ci/run installs them with apt-get)"
    return note


def _font(family: str, bold: bool, size: int):
    key = (family, bold, size)
    if key not in _FONTS:
        relative = FONT_FAMILIES[family][int(bold)]
        _FONTS[key] = ImageFont.truetype(str(FONT_ROOT / relative), size) if relative else ImageFont.load_default(size=size)
    return _FONTS[key]


def _measure(font, text: str) -> float:
    return ImageDraw.Draw(Image.new("L", (1, 1))).textlength(text, font=font)


def _shade(paper: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(max(0, c - 22) for c in paper)


def _rule(ink: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(min(255, c + 110) for c in ink)
