"""Recognized lines → rows → candidate fields (key, value) with their evidence.

A document's answers are spans of its recognized text. This module lists the spans that
can be answers, each with the words that label it (its key) and the line it came from:
- "Label: value" inside a line, or in the next cell or the next row ("Bill to:" above a name);
- a row of cells: the first cell labels the last one ("Total   42.50");
- a table: a header row labels the cells below it, the row's first cell names the row
  (the recognizer may merge a header's cells into one line: "Qty Unit price Amount");
- letter conventions: "Dear X," names the recipient, the line after a closing names the
  signer and the line after that the signer's title;
- a date or time inside a line ("Signed on March 24, 2025"), keyed by the rest of the line;
- every line on its own, unlabelled (vendor names, titles, addresses).
Pure Python: no models here. OCR reading order can run table columns one after another, so
rows are rebuilt from the boxes (`group_rows`) rather than taken from the line order.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from runtime.results import TextLine

from .types import DATE, PHONE, value_types

# Compared with spaces removed: the recognizer often drops them ("Bestregards,").
_CLOSINGS = re.compile(r"^(sincerely|regards|bestregards|kindregards|warmregards|yours(truly|faithfully|sincerely)|"
                       r"best|respectfully|thankyou)\b", re.I)
_GREETING = re.compile(r"^dear\s*(?P<name>[^,:]+)[,:.]?\s*$", re.I)
_KEY_VALUE = re.compile(r"^(?P<key>[^:]{1,40}?)\s*[:：]\s*(?P<value>.*)$")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_SPAN = re.compile(
    rf"(?<![\d/.-])(\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|"
    rf"(?:\d{{1,2}}\s*)?{_MONTH}\s*\d{{1,2}},?\s*\d{{4}}|\d{{1,2}}\s*{_MONTH}\s*\d{{4}})(?![\d/.-])",
    re.I,
)
_TIME_SPAN = re.compile(r"(?<![\d:.])\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?(?![\d:])", re.I)


@dataclass(frozen=True)
class Row:
    """Lines whose boxes share a horizontal band, left to right."""

    lines: tuple[int, ...]  # indices into the document's lines


@dataclass(frozen=True)
class Field:
    """A possible answer: `value` (a span of recognized text), labelled by `key`."""

    key: str
    value: str
    line: int  # index of the line the value comes from
    source: str  # "colon", "row", "table", "greeting", "closing", "title", "span", "line"


def _vertical_span(line: TextLine) -> tuple[float, float]:
    ys = [y for _, y in line.box]
    return min(ys), max(ys)


def _left(line: TextLine) -> float:
    return min(x for x, _ in line.box)


def _right(line: TextLine) -> float:
    return max(x for x, _ in line.box)


def group_rows(lines: tuple[TextLine, ...]) -> list[Row]:
    """Group lines into rows: a line joins a row when it overlaps the row's band by half its height."""
    rows: list[list[int]] = []
    bands: list[tuple[float, float]] = []
    for index in sorted(range(len(lines)), key=lambda i: _vertical_span(lines[i])[0]):
        top, bottom = _vertical_span(lines[index])
        height = max(bottom - top, 1.0)
        for row, (row_top, row_bottom) in zip(rows, bands):
            overlap = min(bottom, row_bottom) - max(top, row_top)
            if overlap >= 0.5 * min(height, row_bottom - row_top):
                row.append(index)
                break
        else:
            rows.append([index])
            bands.append((top, bottom))
    ordered = [sorted(row, key=lambda i: _left(lines[i])) for row in rows]
    ordered.sort(key=lambda row: min(_vertical_span(lines[i])[0] for i in row))
    return [Row(tuple(row)) for row in ordered]


def split_cells(lines: tuple[TextLine, ...]) -> tuple[tuple[TextLine, ...], tuple[int, ...]]:
    """Lines with merged value cells split apart, and the line each piece comes from.

    The detector can merge neighbouring cells into one line ("SKU-7567 136", "398.81
    3,988.10"); when every word of a line holds a digit and the line is not one phone number
    or date, each word becomes a cell with its share of the box (by character position).
    """
    cells, origin = [], []
    for index, line in enumerate(lines):
        words = list(re.finditer(r"\S+", line.text.strip()))
        merged = len(words) >= 2 and all(any(c.isdigit() for c in w.group()) and ":" not in w.group() for w in words)
        if not merged or value_types(line.text) & {PHONE, DATE}:
            cells.append(line)
            origin.append(index)
            continue
        left, right, length = _left(line), _right(line), max(len(line.text.strip()), 1)
        top, bottom = _vertical_span(line)
        for word in words:
            x0 = left + (right - left) * word.start() / length
            x1 = left + (right - left) * word.end() / length
            box = ((x0, top), (x1, top), (x1, bottom), (x0, bottom))
            cells.append(dataclasses.replace(line, text=word.group(), box=box))
            origin.append(index)
    return tuple(cells), tuple(origin)


def extract_fields(lines: tuple[TextLine, ...]) -> list[Field]:
    """Every candidate answer span of a document, with its key (see module docstring);
    `Field.line` indexes `lines`."""
    cells, origin = split_cells(lines)
    return [dataclasses.replace(f, line=origin[f.line]) for f in _fields(cells)]


def _fields(lines: tuple[TextLine, ...]) -> list[Field]:
    rows = group_rows(lines)
    fields: list[Field] = []
    for position, row in enumerate(rows):
        fields.extend(_colon_fields(lines, rows, position))
        cells = [lines[i].text.strip() for i in row.lines]
        if len(cells) >= 2 and ":" not in cells[0]:
            fields.append(Field(cells[0], cells[-1], row.lines[-1], "row"))
    fields.extend(_table_fields(lines, rows))
    fields.extend(_letter_fields(lines, rows))
    fields.extend(_span_fields(lines))
    for row in rows:  # in reading order, top to bottom, left to right
        fields.extend(Field("", lines[index].text.strip(), index, "line") for index in row.lines)
    return [f for f in fields if f.value]


def _colon_fields(lines, rows: list[Row], position: int) -> list[Field]:
    fields = []
    row = rows[position]
    for cell, index in enumerate(row.lines):
        match = _KEY_VALUE.match(lines[index].text.strip())
        if not match:
            continue
        key, value = match["key"].strip(), match["value"].strip()
        if not value and cell + 1 < len(row.lines):  # "Name:" | "Ada Lovelace"
            index = row.lines[cell + 1]
            value = lines[index].text.strip()
        elif not value and len(row.lines) == 1 and position + 1 < len(rows):  # "Bill to:" above the name
            index = rows[position + 1].lines[0]
            value = lines[index].text.strip()
        if value:
            fields.append(Field(key, value, index, "colon"))
    return fields


def _is_header(lines, row: Row) -> bool:
    return len(row.lines) >= 2 and not any(ch.isdigit() for i in row.lines for ch in lines[i].text)


def _header_words(lines, header: Row) -> list[tuple[str, float]]:
    """Each header word with its estimated x centre: merged cells are split by character position."""
    words = []
    for index in header.lines:
        text, left, right = lines[index].text.strip(), _left(lines[index]), _right(lines[index])
        for match in re.finditer(r"\S+", text):
            middle = (match.start() + match.end()) / 2 / max(len(text), 1)
            words.append((match.group(), left + middle * (right - left)))
    return words


def _table_fields(lines, rows: list[Row]) -> list[Field]:
    """Cells under a header row, keyed '<row label> <column header>'."""
    fields = []
    for header_position, header in enumerate(rows):
        if not _is_header(lines, header) or header_position + 1 >= len(rows) or len(rows[header_position + 1].lines) < 3:
            continue
        words = _header_words(lines, header)
        for row in rows[header_position + 1 :]:
            if len(row.lines) < 2:
                break
            centers = [(_left(lines[i]) + _right(lines[i])) / 2 for i in row.lines]
            titles: dict[int, list[str]] = {}
            for word, x in words:  # each header word titles the cell nearest to it
                nearest = min(range(len(centers)), key=lambda c: abs(centers[c] - x))
                titles.setdefault(nearest, []).append(word)
            label = lines[row.lines[0]].text.strip()
            for cell, index in enumerate(row.lines[1:], 1):
                title = " ".join(titles.get(cell, []))
                fields.append(Field(f"{label} {title}".strip(), lines[index].text.strip(), index, "table"))
    return fields


def _letter_fields(lines, rows: list[Row]) -> list[Field]:
    fields = []
    for position, row in enumerate(rows):
        text = " ".join(lines[i].text.strip() for i in row.lines)
        greeting = _GREETING.match(text)
        if greeting:
            fields.append(Field("recipient addressed to dear", greeting["name"].strip(), row.lines[0], "greeting"))
        if _CLOSINGS.match(re.sub(r"\s+", "", text)) and position + 1 < len(rows):
            signer = rows[position + 1].lines[0]
            fields.append(Field("signer signed by", lines[signer].text.strip(), signer, "closing"))
            if position + 2 < len(rows):
                title = rows[position + 2].lines[0]
                fields.append(Field("signer title position", lines[title].text.strip(), title, "title"))
    return fields


def _span_fields(lines) -> list[Field]:
    """Dates and times inside longer lines, keyed by the words around them."""
    fields = []
    for index, line in enumerate(lines):
        text = line.text.strip()
        for pattern in (_DATE_SPAN, _TIME_SPAN):
            for match in pattern.finditer(text):
                if match.group().strip() != text:
                    key = (text[: match.start()] + " " + text[match.end() :]).strip(" :,-")
                    fields.append(Field(key, match.group().strip(), index, "span"))
    return fields


def row_label(lines: tuple[TextLine, ...], token: str) -> tuple[str, int] | None:
    """The first cell of the row that holds a cell reading `token` ("P2297" → "Steel bolts"),
    with the index in `lines` of the line it comes from."""
    wanted = re.sub(r"\s+", "", token).lower()
    cells, origin = split_cells(lines)
    for row in group_rows(cells):
        for index in row.lines[1:]:
            if re.sub(r"\s+", "", cells[index].text).lower() == wanted:
                first = row.lines[0]
                return cells[first].text.strip(), origin[first]
    return None
