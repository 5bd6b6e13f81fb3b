"""Recognized lines → rows → candidate fields (key, value) with their evidence.

A document's answers are spans of its recognized text. This module lists the spans that
can be answers, each with the words that label it (its key) and the line it came from:
- "Label: value" inside a line (forms, invoices, receipts);
- a row of cells: the first cell labels the last one ("Total   42.50");
- a table: a header row labels the cells below it, the row's first cell names the row;
- letter conventions: "Dear X," names the recipient, the line after a closing names the
  signer;
- every line on its own, unlabelled (vendor names, titles, addresses).
Pure Python: no models here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtime.results import TextLine

_CLOSINGS = re.compile(r"^(sincerely|regards|best regards|kind regards|yours (truly|faithfully|sincerely)|best|respectfully|thank you)\b", re.I)
_GREETING = re.compile(r"^dear\s+(?P<name>[^,:]+)[,:]?\s*$", re.I)
_KEY_VALUE = re.compile(r"^(?P<key>[^:]{1,40}?)\s*[:：]\s*(?P<value>.*)$")


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
    source: str  # "colon", "row", "table", "greeting", "closing", "line"


def _vertical_span(line: TextLine) -> tuple[float, float]:
    ys = [y for _, y in line.box]
    return min(ys), max(ys)


def _left(line: TextLine) -> float:
    return min(x for x, _ in line.box)


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


def extract_fields(lines: tuple[TextLine, ...]) -> list[Field]:
    """Every candidate answer span of a document, with its key (see module docstring)."""
    rows = group_rows(lines)
    fields: list[Field] = []
    for position, row in enumerate(rows):
        cells = [lines[i].text.strip() for i in row.lines]
        fields.extend(_colon_fields(lines, row))
        if len(cells) >= 2 and ":" not in cells[0]:
            fields.append(Field(cells[0], cells[-1], row.lines[-1], "row"))
            for cell_index in range(1, len(cells) - 1):
                fields.append(Field(cells[0], cells[cell_index], row.lines[cell_index], "row"))
    fields.extend(_table_fields(lines, rows))
    fields.extend(_letter_fields(lines, rows))
    for index, line in enumerate(lines):
        fields.append(Field("", line.text.strip(), index, "line"))
    return [f for f in fields if f.value]


def _colon_fields(lines, row: Row) -> list[Field]:
    fields = []
    for position, index in enumerate(row.lines):
        match = _KEY_VALUE.match(lines[index].text.strip())
        if not match:
            continue
        key, value = match["key"].strip(), match["value"].strip()
        if not value and position + 1 < len(row.lines):
            value = lines[row.lines[position + 1]].text.strip()  # "Name:" | "Ada Lovelace"
            index = row.lines[position + 1]
        if value:
            fields.append(Field(key, value, index, "colon"))
    return fields


def _table_fields(lines, rows: list[Row]) -> list[Field]:
    """Cells under a header row, keyed '<row label> <column header>'."""
    fields = []
    for header_position, header in enumerate(rows):
        if len(header.lines) < 3:
            continue
        header_x = [_left(lines[i]) for i in header.lines]
        for row in rows[header_position + 1 :]:
            if len(row.lines) < 2:
                break
            label = lines[row.lines[0]].text.strip()
            for index in row.lines[1:]:
                column = min(range(len(header_x)), key=lambda c: abs(header_x[c] - _left(lines[index])))
                title = lines[header.lines[column]].text.strip()
                fields.append(Field(f"{label} {title}", lines[index].text.strip(), index, "table"))
    return fields


def _letter_fields(lines, rows: list[Row]) -> list[Field]:
    fields = []
    for position, row in enumerate(rows):
        text = " ".join(lines[i].text.strip() for i in row.lines)
        greeting = _GREETING.match(text)
        if greeting:
            fields.append(Field("recipient addressed to dear", greeting["name"].strip(), row.lines[0], "greeting"))
        if _CLOSINGS.match(text) and position + 1 < len(rows):
            signer = rows[position + 1].lines[0]
            fields.append(Field("sender signed by from", lines[signer].text.strip(), signer, "closing"))
    return fields
