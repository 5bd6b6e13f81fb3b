"""Recognized regions → rows → candidate fields (key, value) with their evidence.

A document's answers are spans of its recognized text. The regions are the OCR detector's
boxes, each read on its own. A cell is one region, or the neighbouring regions of a row
that stand closer than a word gap (the detector splits "63.47 USD" and "(578) 470-8659" at
a space); never a piece cut out of a region's text. This module lists the spans that can
be answers, each with the words that label it (its key) and the cell it came from:
- "Label: value" inside a cell, or in the next cell or the next row ("Bill to:" above a name);
- a row of cells: the first cell labels the last one ("Total   42.50");
- a table: a header row labels the cells of its columns below it, the row's first cell
  names the row;
- letter conventions: "Dear X," names the recipient, the row after a closing names the
  signer (who sent the letter) and the row after that the signer's title;
- a date or time inside a cell ("Signed on March 24, 2025"), keyed by the rest of it;
- sections, where a page has two or more: a heading of a few words over a column of
  "Key: value" cells keys each of them with the heading too ("Guardian" over "Phone: ..."
  also gives "Guardian Phone");
- every cell on its own, unlabelled (vendor names, titles, addresses).
Pure Python: no models here. Rows and columns come from the boxes (`runtime.ocr.grid`), not
from the order the regions arrive in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from runtime.ocr.grid import Grid, group_regions, split_runs
from runtime.ocr.layout import join_lines, transcript_rows
from runtime.results import TextLine

from . import linking
from .values import currency_mark, find_dates, find_times, parse_money
from .types import COUNTED, ADDRESS, AMOUNT, DATE, EMAIL, PERCENT, PHONE, TEXT, TIME, is_street_line, value_types
from .vocabulary import GENERIC

# Regions of one row closer than this × their height are one cell: a word gap is about a
# third of a box's height, cells of a row or table stand further apart.
_CELL_GAP_RATIO = 0.5
# Lines of a block stand at most this × their height apart (a paragraph's line spacing).
_BLOCK_GAP_RATIO = 1.5
_BLOCK_MAX_LINES = 4
# Values that may go on over the next lines, and how many lines a value may take.
_CONTINUED_SOURCES = frozenset({"colon", "neighbour", "pair"})
_MAX_CONTINUED = 3
_ALIGN_RATIO = 1.5  # left edges this × a line height apart still line up
_COMPLETE_TYPES = frozenset({AMOUNT, DATE, TIME, PHONE, EMAIL, PERCENT})
# A column of this many cells or more says whether its cells are keys or values.
_MIN_COLUMN = 4
# A value written under its key starts at most this × the key's height below the key's bottom.
_UNDER_GAP_RATIO = 1.0
# A value typed or written under a form's printed key stands taller than the key by this ratio.
_TYPED_RATIO = 1.1

# Compared with spaces removed: the recognizer often drops them ("Bestregards,").
_CLOSINGS = re.compile(r"^(sincerely|regards|bestregards|kindregards|warmregards|yours(truly|faithfully|sincerely)|"
                       r"best|respectfully|thankyou)\b", re.I)
# "Dear Ms. Raman,", "Hi Marcus,": after "hi" or "hello" a name in capitals of one to three
# words, so that "Hello and welcome to Quick Mart" and "Hi all," greet nobody.
_GREETING = re.compile(r"^(?:dear\s*|(?:hi|hello)\s+(?=(?-i:[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,2})\s*[,:.!]?\s*$))"
                       r"(?P<name>[^,:]+)[,:.!]?\s*$", re.I)
_KEY_VALUE = re.compile(r"^(?P<key>[^:]{1,40}?)\s*[:：]\s*(?P<value>.*)$")
# A form's fill-in line read as underscores: "Project Leader_Mann", "Project Name_".
_UNDERLINED = re.compile(r"^(?P<key>[^:_,]{1,40}?[^\W\d_][^:_,]*?)\s*_+\s*(?P<value>.*)$")

@dataclass(frozen=True)
class Field:
    """A possible answer: `value` (a span of recognized text), labelled by `key`."""

    key: str
    value: str
    line: int  # index of the (first) cell the value comes from
    source: str  # "colon", "row", "table", "column", "greeting", "closing", "title", "span", "block", "line"
    span: tuple[int, ...] = ()  # every cell of a value over several lines (a "block")
    key_line: int = -1  # the cell of the key when it is a cell of its own, else -1
    row: str = ""  # a table cell's row label ("Muffin" of "Muffin Qty"), else ""
    link: float = -1.0  # the linker's probability that the key cell's value is this cell (`linking`), or -1
    section: int = -1  # the cell of the section heading the field stands under (`_sections`), or -1

    @property
    def lines(self) -> tuple[int, ...]:
        return self.span or (self.line,)


def read_cells(regions: tuple[TextLine, ...]) -> tuple[TextLine, ...]:
    """The cells of OCR regions (see the module docstring), row by row, left to right."""
    boxes = [region.box for region in regions]
    cells = []
    for row in group_regions(boxes).rows:
        members = [regions[index] for index in row]
        for run in split_runs([region.box for region in members], _CELL_GAP_RATIO):
            for part in _at_keys(members, run):
                cells.append(join_lines([members[position] for position in part]))
    return tuple(cells)


def _at_keys(row: list[TextLine], run: tuple[int, ...]) -> list[list[int]]:
    """A run of close regions of a row split where a value ends and a key of two words or more
    begins that ends the run, with a value next in the row ("84 mm" | "Total Cigt. Wt." |
    "974"): the detector saw two boxes, and the second labels what follows it, not the first."""
    texts = [region.text.strip() for region in row]
    parts = [[run[0]]]
    for left, right in zip(run, run[1:]):
        # the key ends its run, and the next region of the row is a value ("974"); a value that
        # goes on ("12 Oak Street," | "Springfield IL 62704") does not end in a comma
        ends_run = right == run[-1] and right + 1 < len(row) and not is_label(texts[right + 1])
        if ends_run and not is_label(texts[left]) and not texts[left].endswith((",", "-", "&")) \
                and is_label(texts[right]) and len(texts[right].split()) >= 2:
            parts.append([right])
        else:
            parts[-1].append(right)
    return parts


def transcript(lines: tuple[TextLine, ...]) -> str:
    """The text of lines in reading order: one row of the page per line, its pieces
    separated by a tab ("Flat white<TAB>3.20"); two columns of prose one after the other
    (`runtime.ocr.layout.transcript_rows`)."""
    return "\n".join("\t".join(" ".join(line.text.split()) for line in row) for row in transcript_rows(lines))


def extract_fields(cells: tuple[TextLine, ...]) -> list[Field]:
    """Every candidate answer span of a document, with its key (see module docstring);
    `Field.line` indexes `cells` (from `read_cells`)."""
    grid = group_regions([cell.box for cell in cells])
    keys = key_cells(cells, grid.rows)
    header_rows, fields = _header_rows(cells, keys, grid.rows)
    tables = _tables(cells, grid, keys, header_rows)
    # the header rows of tables of several rows: their cells title the columns under them
    titled = {position for position, data in tables.items() if len(data) >= 2}
    for position, row in enumerate(grid.rows):
        fields.extend(_colon_fields(cells, grid.rows, position, keys))
        texts = [cells[i].text.strip() for i in row]
        # A row of keys over a row of their values pairs no neighbours (`_header_rows`).
        labels = [keys[i] and position not in header_rows for i in row]
        # "Total | 2 | 42.50": the first cell labels the row's last one, unless another label
        # stands between them ("Brand | BELAIR | Project # | 72-31": pairs of neighbours).
        # The titles of a table of three columns or more ("Week 1 | ... | Week 4") label the
        # columns under them, not one another.
        titles = len(row) >= 3 and position in titled
        if len(texts) >= 2 and ":" not in texts[0] and not any(labels[1:-1]) and position not in header_rows and not titles:
            fields.append(Field(texts[0], texts[-1], row[-1], "row", key_line=row[0]))
        for slot in range(len(texts) - 1):  # a cell of words labels its right neighbour
            if labels[slot] and not labels[slot + 1] and (slot > 0 or len(texts) > 2):
                fields.append(Field(texts[slot].rstrip(" :"), texts[slot + 1], row[slot + 1], "neighbour", key_line=row[slot]))
        if len(texts) >= 4:  # "Color | White | Quality of Bloom | Good": pairs
            for slot in _pairs(cells, row, labels):
                fields.append(Field(texts[slot].rstrip(" :"), texts[slot + 1], row[slot + 1], "pair", key_line=row[slot]))
        for index, text in zip(row, texts):  # "Total Sample 285", "PDC C273-82-7": words, then a figure
            inline = _inline(text)
            if inline is not None and index == row[0] and len(row) >= 2 and parse_money(texts[-1], currency_optional=True) \
                    and value_types(inline[1]) == {TEXT}:
                continue  # "TOTAL 6% SUPPLIES | 25.68": the row's label whole, its amount at the right
            if inline is not None:
                fields.append(Field(*inline, index, "inline"))
    for position, row in enumerate(grid.rows[:-1]):  # "Market(s)/Zone(s)" over "South Korea"
        below = grid.rows[position + 1]
        text = cells[row[0]].text.strip()
        # A cell that holds its own "Key: value" ("Full name: Amelia Weiß") labels no line under it.
        holds_value = _own_value(text) is not None
        under = cells[below[0]].text.strip()  # "Updated: 12/30/22" under the page's heading is a key of its own
        if len(row) == 1 and keys[row[0]] and not text.endswith(":") and not holds_value and not (position == 0 and _holds_key(under)) \
                and overlap_across(cells[row[0]], cells[below[0]]) and adjacent(cells[row[0]], cells[below[0]]):
            fields.append(Field(text, under, below[0], "below", key_line=row[0]))
    fields.extend(_under_fields(cells, keys, fields))
    # The cell under a column title of a table of several rows is one row's ("column"): the
    # table's own fields key it with its row label too ("Ladder Unit price").
    titles = {index for position in titled for index in grid.rows[position]}
    fields = [replace(f, source="column") if f.source == "below" and f.key_line in titles else f for f in fields]
    # a table's rows are keyed by their column titles and row labels (`_table_fields`), and a row
    # of keys over their values by the cells under them (`_header_rows`): not linked
    in_tables = {index for data in tables.values() for position in data for index in grid.rows[position]} \
        | {index for position in header_rows for index in grid.rows[position]}
    headers = {index for position in tables for index in grid.rows[position]}
    fields = _linked(cells, keys, fields, in_tables, headers)
    fields.extend(_table_fields(cells, grid, keys, tables))
    fields = _sectioned(cells, grid, fields)
    fields.extend(_letter_fields(cells, grid.rows))
    fields.extend(_span_fields(cells))
    fields.extend(_block_fields(cells, grid.rows))
    for row in grid.rows:  # in reading order, top to bottom, left to right
        fields.extend(Field("", cells[index].text.strip(), index, "line") for index in row)
    # A cell that ends in a colon is a key waiting for its value, never a value itself; nor is a
    # speck of punctuation the recognizer read ("." beside "To:"), though a tick mark is (and a
    # blank line to fill keeps its key a key).
    fields = [f for f in fields if f.value and (f.source == "line" or not f.value.endswith((":", "："))
                                                and _MARKED.search(f.value))]
    row_of = {index: position for position, row in enumerate(grid.rows) for index in row}
    return [_continued(cells, grid.rows, row_of, f) if f.source in _CONTINUED_SOURCES else f for f in fields]


# The linker's probability that a cell holds a key's value (`linking`): at least LINK_MIN
# for the best candidate to key its value; a rule's value that reads like a key itself and
# scores under LINK_DROP times the best is dropped (a key's right neighbour that is the next
# key of a row of keys). Chosen on the development forms, cross-fitted (bench/reader_dev.py).
LINK_MIN = 0.15
LINK_DROP = 0.2
LINKING = True  # False: the layout rules alone (bench/fit_linker.py compares the two)
_LINK_RULES = frozenset({"row", "pair", "neighbour", "below", "column", "colon"})
_MARKED = re.compile(r"[^\W_]|[✓✔☑☒✗✘]|__")  # a letter or a digit of any script, a tick, a blank to fill
_OWN_KEY = re.compile(r"[^\W\d_]\s*[:：](?!//)(\s*\S|$)")  # not a web address's "https://"


def _linked(cells, keys: list[bool], fields: list[Field], skipped: set[int], titles: set[int]) -> list[Field]:
    """The fields of key cells as the learned linker pairs them: each key-like cell's most
    likely value where it is likely enough, instead of the rules' values that read like keys
    themselves and that it finds unlikely. The cells of a table's rows (`skipped`) link
    nothing, and a column title (`titles`) is no value."""
    if not LINKING:
        return fields
    labels = [is_label(cell.text.strip()) for cell in cells]
    key_like = [index for index, cell in enumerate(cells) if index not in skipped and is_key_like(cell.text.strip())]
    scores = linking.link_scores(cells, keys, labels, key_like)
    probabilities = {key: dict(found) for key, found in scores.items()}
    # a cell that holds a key of its own ("Invoice No: 4417", "Remarks:") is a pair, no value
    paired = {index for index, cell in enumerate(cells) if _OWN_KEY.search(cell.text.strip())}
    best = {}
    for key, found in scores.items():
        found = [(value, probability) for value, probability in found if value not in titles and value not in paired]
        if not found:
            continue
        value, probability = max(found, key=lambda item: item[1])
        if probability >= LINK_MIN:
            best[key] = (value, probability, dict(found))

    def unlikely(field: Field) -> bool:
        if field.key_line not in best or field.source not in _LINK_RULES or field.line == field.key_line:
            return False
        _, probability, found = best[field.key_line]
        return found.get(field.line, 0.0) < LINK_DROP * probability and is_label(field.value)

    kept = [f for f in fields if not unlikely(f)]
    kept = [replace(f, link=probabilities[f.key_line].get(f.line, 0.0)) if f.key_line in scores and f.line != f.key_line else f
            for f in kept]
    held = {(f.key_line, f.line) for f in kept}
    for key, (value, _, _) in best.items():
        if (key, value) not in held:
            kept.append(Field(cells[key].text.strip().rstrip(" :："), cells[value].text.strip(), value, "linked",
                              key_line=key, link=best[key][1]))
    return kept


def is_key_like(text: str) -> bool:
    """Whether a cell may be a key the linker pairs: words that read like a label, or a text
    ending in a colon."""
    return is_label(text) or text.endswith((":", "："))


def _pairs(cells, row: tuple[int, ...], labels: list[bool]) -> list[int]:
    """The slots of a row that key their right neighbour when its cells go in pairs: a key
    stands nearer its value than the cells either side of the two, so where the gaps narrower
    than their neighbours pair every cell ("Brand | BELAIR | Code | 72" with its wide gap
    between the pairs), those; else every other cell from the first label (a long value can
    stand as near the next key as its own: "Name | Johnathan Smithers | Title | Chemist")."""
    extents = [extent(cells[i]) for i in row]
    gaps = [right[0] - left[1] for left, right in zip(extents, extents[1:])]
    heights = [cell_height(cells[i]) for i in row]
    tolerance = 0.5 * min(heights)  # gaps this close are alike
    narrow = [slot for slot, gap in enumerate(gaps)
              if (slot == 0 or gap < gaps[slot - 1] - tolerance) and (slot + 1 == len(gaps) or gap < gaps[slot + 1] - tolerance)]
    if 2 * len(narrow) == len(row) and all(labels[i] for i in narrow):
        return narrow  # the narrow gaps pair every cell
    # A label at most a third as far from its right neighbour as the cells either side are from
    # the two is keyed to it, whatever stands around them ("COMPANY | LOCATION | STAMFORD, CT |
    # AUTHORIZATION NO.", the first cell a logo's last word; a long value's word gap to the next
    # key is not so much narrower); the other cells pair every other one from a label.
    # Not where the cell after the two is a value: it would lose its key ("DIVISION | MARKETING |
    # DATE | 5/1/90", MARKETING standing near DATE).
    held = {slot for slot in narrow if labels[slot] and (slot + 2 >= len(row) or labels[slot + 2]) and all(
        3 * gaps[slot] <= gaps[side] for side in (slot - 1, slot + 1) if 0 <= side < len(gaps))}
    slots, slot = [], 0
    while slot < len(row) - 1:
        if slot in held or labels[slot] and slot + 1 not in held:
            slots.append(slot)
            slot += 2
        else:
            slot += 1
    return slots


def cell_height(cell: TextLine) -> float:
    """The height of a cell's box (at least 1)."""
    return max(1.0, max(p[1] for p in cell.box) - min(p[1] for p in cell.box))


def extent(cell: TextLine) -> tuple[float, float]:
    """(left, right) of a cell's box."""
    return min(p[0] for p in cell.box), max(p[0] for p in cell.box)


def overlap_across(first: TextLine, second: TextLine) -> bool:
    """Whether two cells' boxes share some stretch from left to right (one stands under the other)."""
    (left, right), (other_left, other_right) = extent(first), extent(second)
    return min(right, other_right) > max(left, other_left)


def _continued(cells, rows, row_of: dict[int, int], field: Field) -> Field:
    """A value with the lines that continue it below ("Client Contact | Alberto Marcheggiano"
    over "Kyu Yeon Hwang"): each the only cell of the next row under the value, within a line
    gap, with nothing of that row under the key (a key there starts the next field)."""
    if value_types(field.value) & _COMPLETE_TYPES:  # a date, an amount, a phone number is whole on its line
        return field
    value_left, value_right = extent(cells[field.line])
    if field.key_line == field.line:  # "BRAND: General Merchandising": the key is the cell's start
        text = cells[field.line].text.strip()
        cut = value_left + (value_right - value_left) * (len(text) - len(field.value)) / max(len(text), 1)
        key_stretch, value_left = (value_left, cut), cut
    elif field.key_line >= 0:
        key_stretch = (extent(cells[field.key_line])[0], value_left)
    else:
        return field
    members, position = [field.line], row_of[field.line]
    while len(members) < _MAX_CONTINUED and position + 1 < len(rows):
        below = rows[position + 1]
        extents = {i: extent(cells[i]) for i in below}
        under = [i for i, (left, right) in extents.items() if min(right, value_right) - max(left, value_left) > 0]
        # something under the key, more than a sliver (a measured cut of a "cc: R. Schoenfein"
        # cell may end a pixel past where the next line starts)
        if len(under) != 1 or any(min(right, key_stretch[1]) - max(left, key_stretch[0]) > _SLIVER * cell_height(cells[i])
                                  for i, (left, right) in extents.items()):
            break
        text = cells[under[0]].text.strip()
        if not adjacent(cells[members[-1]], cells[under[0]]) or _KEY_VALUE.match(text) or text.endswith((":", "!")):
            break  # a key of its own, or an exclamation ("Thank you!") that closes the page
        # Left-aligned with the value (a centred "Thank you!" is not), and words under words:
        # a line that opens with a figure under one of words starts an address or an amount.
        if abs(extent(cells[under[0]])[0] - value_left) > cell_height(cells[under[0]]) * _ALIGN_RATIO or (
                text[:1].isdigit() and not field.value[:1].isdigit()):
            break
        members.append(under[0])
        position += 1
    if len(members) == 1:
        return field
    value = " ".join([field.value, *(cells[i].text.strip() for i in members[1:])])
    return replace(field, value=value, span=tuple(members))


_SLIVER = 0.3  # of a line's height


def _inline(text: str) -> tuple[str, str] | None:
    """(key, value) of a cell whose leading words without figures label the rest, which
    starts with a figure: "Total Sample 285", "PROJECT# 1982102KL", "Type Of Ad PARADE,1 Page"."""
    if ":" in text:
        return None
    tokens = text.split()
    for position, token in enumerate(tokens):
        if any(ch.isdigit() for ch in token):
            key = " ".join(tokens[:position])
            if position and re.search(r"[^\W\d_]{2}", key) and len(key) <= 40:
                return key, " ".join(tokens[position:])
            return None
    return None


def key_cells(cells: tuple[TextLine, ...], rows: tuple[tuple[int, ...], ...] | None = None) -> list[bool]:
    """Which cells are keys: words without figures (`is_label`) that do not stand in a
    column of values. A form aligns its keys on the left edges of a few columns and its
    values on others; "Good" and "White" read like labels, but in a column of figures and
    other entries they are the values of the keys to their left ("Firmness of Rod | Good").
    A column is the cells whose left edges line up (within a line height); one of at least
    `_MIN_COLUMN` cells where fewer than half read like labels is a column of values; its
    top cell may still be its header, and so may a label over two values of it in a row of
    three labels or more over a row that opens with a value (a table's header row: "Qty | Item
    | Amount" over "1 | Salad bowl | 5.83", under the receipt's date)."""
    labels = [is_label(cell.text.strip()) for cell in cells]
    keys = list(labels)
    tops = [min(p[1] for p in cell.box) for cell in cells]
    rows = group_regions([cell.box for cell in cells]).rows if rows is None else rows  # the caller's grid, if it has one
    position_of = {index: position for position, row in enumerate(rows) for index in row}

    def header_row(index: int) -> bool:
        """A row of three labels or more over a row that opens with a value ("1 | Salad bowl");
        or one that opens a block (the row above it has two cells at most) over a row of as
        many cells or more, not all labels ("Test | Result | Unit | Reference Range" over
        "Hemoglobin | 11.2 | g/dL | 12.0 - 15.5"). Inside a form's grid of keys and values, a
        row of them is no header ("Color | White | Quality of Bloom | Good")."""
        position = position_of[index]
        row = rows[position]
        if len(row) < 3 or not all(labels[i] for i in row) or position + 1 >= len(rows):
            return False
        below = rows[position + 1]
        opens = position == 0 or len(rows[position - 1]) <= 2
        # a row label and its values ("Monday | 2025-03-10 | 07:00 | 15:30"): three values or more, most of the row
        valued = sum(not labels[i] for i in below)
        return not labels[below[0]] or valued >= 3 and 2 * valued > len(below) \
            or opens and len(below) >= len(row) and not all(labels[i] for i in below)

    for column in left_aligned(cells):
        if len(column) >= _MIN_COLUMN and sum(labels[i] for i in column) < 0.5 * len(column):
            order = sorted(column, key=lambda i: tops[i])
            # a header has a run of values under it ("Qty" over "1", "4"), not one value and a
            # label (a form grid's "Station | Patio" over an item row)
            headers = {order[0]} | {index for index, below, next_below in zip(order, order[1:], order[2:])
                                    if not labels[below] and not labels[next_below] and header_row(index)}
            for index in column:
                keys[index] = keys[index] and index in headers
    for position, row in enumerate(rows[:-1]):
        for index in _captioned(cells, row, rows[position + 1], labels):
            keys[index] = False
    return keys


# Captions in small print over values in large ("PASSENGER" over "HANSEN/ERIK MR" on a
# boarding pass, "CLASS" over "ECONOMY"): the values' print stands at least this × taller.
_CAPTION_RATIO = 1.2


def _captioned(cells, row: tuple[int, ...], below: tuple[int, ...], labels: list[bool]) -> list[int]:
    """The cells of `below` that are values captioned by the labels of `row` right above,
    though they read like labels themselves: two labels or more, none with a colon (a key
    with a colon has its value beside it), over two cells or more that each start within a
    line of them and stand under one of them, every one in a taller print than every
    caption, the lower row's `_CAPTION_RATIO` times the upper's or taller (median box
    heights). A cell that ends in a colon stays a key. Else none."""
    if len(row) < 2 or len(below) < 2 or not all(labels[i] for i in row) or not any(labels[i] for i in below):
        return []
    if any(":" in cells[i].text or "：" in cells[i].text for i in row):
        return []
    upper, lower = sorted(cell_height(cells[i]) for i in row), sorted(cell_height(cells[i]) for i in below)
    if lower[0] <= upper[-1] or lower[len(lower) // 2] < _CAPTION_RATIO * upper[len(upper) // 2]:
        return []
    for index in below:
        if not any(overlap_across(cells[key], cells[index]) and adjacent(cells[key], cells[index]) for key in row):
            return []
    return [index for index in below if labels[index] and not cells[index].text.rstrip().endswith((":", "："))]


def left_aligned(cells: tuple[TextLine, ...]) -> list[list[int]]:
    """Groups of cells whose left edges line up: sorted by left edge, a cell joins the group
    of the previous one when it starts within the median line height of it."""
    if not cells:
        return []
    lefts = [extent(cell)[0] for cell in cells]
    heights = sorted(max(p[1] for p in cell.box) - min(p[1] for p in cell.box) for cell in cells)
    tolerance = max(1.0, heights[len(heights) // 2])
    order = sorted(range(len(cells)), key=lambda i: lefts[i])
    groups = [[order[0]]]
    for previous, index in zip(order, order[1:]):
        if lefts[index] - lefts[previous] <= tolerance:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def is_label(text: str) -> bool:
    """Words short enough to name a field ("Project #", "Brand", "F.O.B."), without figures but for a
    numbered word inside ("F.P.M. No.1 Roller", "Line 2 Address"): a text that ends in a figure
    reads as a value ("Room 101", "March 25, 1974"). A currency alone ("RM", "USD") is part
    of the amount beside it, not its label."""
    if currency_mark(text):
        return False
    tokens = text.split()
    numbered = [position for position, token in enumerate(tokens) if any(ch.isdigit() for ch in token)]
    # a word: two letters together, or an initialism's dotted letters ("F.O.B.", "P.O. No.")
    if not re.search(r"[^\W\d_]{2}|[^\W\d_]\.[^\W\d_]\.", text) or len(tokens) > 5 or len(numbered) > 1:
        return False
    if not numbered:
        return True
    # One numbered word, before the last: inside the text ("Line 2 Address") or a word that
    # opens with letters ("No.1 Roller"); "400 FPM" and "12 Oak Street" open with a figure.
    position = numbered[0]
    return position < len(tokens) - 1 and (position > 0 or tokens[0][0].isalpha()) and bool(re.search(r"[^\W\d_]{2}", tokens[-1]))


def _colon_fields(cells, rows: tuple[tuple[int, ...], ...], position: int, keys: list[bool]) -> list[Field]:
    fields = []
    row = rows[position]
    for slot, index in enumerate(row):
        text = cells[index].text.strip()
        # a time or a date before a key ("14:52 Cashier: Anna") is no key: the key follows it
        text = re.sub(r"^(?:[\d.,/:-]+\s+)+(?=[^\W\d_][^:]*:)", "", text)
        match = _KEY_VALUE.match(text) or _UNDERLINED.match(text)
        if not match or not re.search(r"[^\W\d_]", match["key"]):
            continue  # a time ("14:52") or a ratio holds no key
        # A fill-in line after the colon ("SALES:____") is no value: the value stands beyond it.
        key, value = match["key"].strip(), match["value"].strip(" _")
        key_index = index
        if not value and slot + 1 < len(row):  # "Name:" | "Ada Lovelace"
            below = _cell_below(cells, rows, position, index)
            under = cells[below].text.strip() if below is not None else ""
            following = cells[row[slot + 1]].text.strip()
            if under and not _KEY_VALUE.match(under) and (following.endswith(":") or following.lower() in GENERIC):
                # "Approved By: | Date" over "L.E.Gravely": when the next cell is a key (it ends
                # in a colon or names a kind of value), the value stands under the key.
                fields.append(Field(key, under, below, "colon"))
                continue
            index = row[slot + 1]
            value = cells[index].text.strip()
        elif slot + 1 < len(row) and len(value) <= 3 and re.search(r"[^\W\d_]|[^\w\s+-]", value) and parse_money(f"{value} {cells[row[slot + 1]].text.strip()}"):
            index = row[slot + 1]  # "TOTAL:RM" | "83.55": the currency, then its amount
            value = f"{value} {cells[index].text.strip()}"
        elif not value and len(row) == 1 and position + 1 < len(rows):  # "Bill to:" above the name
            index = rows[position + 1][0]
            value = cells[index].text.strip()
        elif not value and slot + 1 == len(row):
            # the row's last cell, a key over its value ("Total debits: | €2,313.77 | Closing
            # balance (28 Feb 2025):" over "€5,114.50"), unless that is a key too
            below = _cell_below(cells, rows, position, index)
            under = cells[below].text.strip() if below is not None else ""
            if under and not _holds_key(under) and not under.endswith(":"):
                index, value = below, under
        if value:
            for key, value in _pairs_in(key, value):
                fields.append(Field(key, value, index, "colon", key_line=key_index))
    return fields


_MAX_INNER_KEY = 4  # words
# A word that ends a value: one with a figure, ending in ";" or ",", or a web or e-mail
# address ("brighton-hove.gov.uk/pcn Phone: 01273 290 000").
_ENDS_VALUE = re.compile(r"\d|[;,]$|@|^https?://|^www\.|[a-z0-9-]\.[a-z]{2,}(?:/|$)")


def _pairs_in(key: str, value: str) -> list[tuple[str, str]]:
    """A cell's value that holds a second "Key: value" ("(201) 923-9208 BEEPER NUMBER: (201)
    698-1780", "P 4/C; Newspapers: 1/2 B/W") split into its pairs. The second key is the run
    of up to four words without figures before its colon, after a word that ends a value (one
    with a figure, ending in ";" or ",", or an address on the web); where words alone lead up to the colon there is no
    telling where the value ends, and the value stays whole."""
    tokens = re.sub(r"(?<=[^\W\d_])[:：](?=\S)", ": ", value).split()
    for end, token in enumerate(tokens):
        if not token.endswith((":", "：")) or end == 0:
            continue
        start = end
        while start > 0 and end - start < _MAX_INNER_KEY - 1 and not _ENDS_VALUE.search(tokens[start - 1]):
            start -= 1
        inner = " ".join(tokens[start:end + 1])
        if start > 0 and _ENDS_VALUE.search(tokens[start - 1]) and re.search(r"[^\W\d_]{2}", inner) and not re.search(r"\d", inner):
            rest = " ".join(tokens[end + 1:])
            inner_key = inner.rstrip(":： ")
            first = [(key, " ".join(tokens[:start]))]
            return first + (_pairs_in(inner_key, rest) if rest else [])
    return [(key, value)]


def _holds_key(text: str) -> bool:
    """Whether a cell holds a key of words and its colon ("Updated: 12/30/22"; not "12:30")."""
    match = _KEY_VALUE.match(text)
    return match is not None and re.search(r"[^\W\d_]", match["key"]) is not None


def _under_fields(cells, keys: list[bool], fields: list[Field]) -> list[Field]:
    """A form's key with its value written under it ("DEPARTMENT CHARGED" over "Brand
    Operations"), by the boxes alone: a key cell that labels nothing else yet takes the cell
    `_under` finds, unless that cell labels a value of its own."""
    labelled = {f.key_line for f in fields if f.key_line >= 0} | {f.line for f in fields if f.source == "colon"}
    spans = _spans(cells)
    found = []
    for index, cell in enumerate(cells):
        if not keys[index] or index in labelled:
            continue
        below = _under(index, keys, spans)
        if below is not None:
            text = cells[below].text.strip()
            if text and below not in labelled and not text.endswith(":") and not _KEY_VALUE.match(text):
                found.append(Field(cell.text.strip().rstrip(" :"), text, below, "below", key_line=index))
    return found


def _spans(cells) -> list[tuple[float, float, float, float]]:
    """(left, right, top, bottom) of each cell."""
    return [(*extent(cell), min(p[1] for p in cell.box), max(p[1] for p in cell.box)) for cell in cells]


def _under(index: int, keys: list[bool], spans) -> int | None:
    """The cell written under the key `index`: of the cells that start within one key height
    of the key's bottom, overlap its width and start no more than a key height left of it,
    the one with the highest top, unless it reads like a key in the key's own print (no
    taller than `_TYPED_RATIO` × the key: a blank form's next row of keys). Rows grouped
    from slightly skewed boxes may put such a value in the key's row or in another's (a
    form's small printed keys and the larger typed values overlap in height)."""
    left, right, top, bottom = spans[index]
    height = bottom - top
    best = None
    for other, (c_left, c_right, c_top, c_bottom) in enumerate(spans):
        gap = c_top - bottom
        if other == index or c_top < top + 0.5 * height or gap > _UNDER_GAP_RATIO * height:
            continue
        if keys[other] and c_bottom - c_top <= _TYPED_RATIO * height:
            continue  # a key of the same print under a key: a blank form's next row of keys
        if min(right, c_right) - max(left, c_left) <= 0 or c_left < left - height:
            continue
        if best is None or c_top < best[0]:
            best = (c_top, other)
    return None if best is None else best[1]


def _header_rows(cells, keys: list[bool], rows: tuple[tuple[int, ...], ...]) -> tuple[set[int], list[Field]]:
    """A form's row of keys over a row of their values ("TEST MATERIAL(s) | LOT NO.(s) |
    RECEIPT DATE(s)" over "B166 | 9/28/83"): a row of labels where two keys or more have
    values written under them (`_under`, cells that read as no key), all in the next row,
    fewer than half of whose cells are keys. Each cell of that row
    that is no key goes to the key nearest it across the page (values are centred in their
    boxes, so one may start right of its key's end), within two line heights or less than
    half as far as from the key next nearest. The keys of
    such a row label no neighbour of theirs; the values' row keeps its own rules (an item
    row "Coffee | 7.00" under "Item | Price" still prices its item). Returns the positions
    of the key rows (left out of the row rules) and the fields."""
    spans = _spans(cells)
    row_of = {index: position for position, row in enumerate(rows) for index in row}
    skipped: set[int] = set()
    fields = []
    for position, row in enumerate(rows[:-1]):
        labelling = tuple(i for i in row if is_label(cells[i].text.strip()))
        if len(labelling) < 2:
            continue
        if len(labelling) < len(row):
            # Cells right of the labels and of the next row's cells under them, further off
            # than any label from the next, are another block beside them (a boarding pass's
            # stub: "Date | Departure | Boarding Time | Gate   14MAR25"); else the row is no
            # row of labels.
            edge = max(spans[i][1] for i in (*labelling, *rows[position + 1]) if spans[i][0] < spans[labelling[-1]][1])
            widest = max(spans[b][0] - spans[a][1] for a, b in zip(labelling, labelling[1:]))
            if any(spans[i][0] <= edge + max(widest, 0.0) for i in row if i not in labelling):
                continue
            row = labelling
        under = [_under(i, keys, spans) for i in row if keys[i]]
        under = [u for u in under if u is not None and not keys[u]]
        if len(set(under)) < 2 or {row_of[u] for u in under} != {position + 1}:
            continue
        if 2 * sum(keys[i] for i in rows[position + 1]) >= len(rows[position + 1]):
            continue  # a row of keys and their values ("Total Cost | $1,340.00 | Year | 1994") under one
        skipped.add(position)
        for value in rows[position + 1]:
            v_left, v_right, v_top, v_bottom = spans[value]
            if keys[value] and value not in under:
                continue

            def distance(key: int) -> float:
                return max(0.0, spans[key][0] - v_right, v_left - spans[key][1])

            key, second = sorted(row, key=distance)[:2]
            text = cells[value].text.strip()
            near = distance(key) <= 2 * (v_bottom - v_top) or distance(key) <= 0.5 * distance(second)
            if near and adjacent(cells[key], cells[value]) and text:
                fields.append(Field(cells[key].text.strip().rstrip(" :"), text, value, "below", key_line=key))
    return skipped, fields


def _cell_below(cells, rows: tuple[tuple[int, ...], ...], position: int, index: int) -> int | None:
    """The cell of the next row under the key `index`'s stretch of its row (from the key's
    left edge to the next cell's), its top within a line gap of the key's bottom, if any."""
    if position + 1 >= len(rows):
        return None
    row = rows[position]
    after = row.index(index) + 1
    left = extent(cells[index])[0]
    right = extent(cells[row[after]])[0] if after < len(row) else float("inf")
    for below in rows[position + 1]:
        b_left, b_right = extent(cells[below])
        if min(right, b_right) > max(left, b_left) and adjacent(cells[index], cells[below]):
            return below
    return None


_YEAR_TITLE = re.compile(r"(?:FY\s?)?(?:19|20)\d\d(?:\s?[/-]\s?(?:\d\d){1,2})?", re.I)


def _is_header(cells, keys: list[bool], row: tuple[int, ...]) -> bool:
    """A row of two titles or more ("Item | Qty | Price", "Week 1 | Week 2", "2023 | 2024"):
    each a key or words with a number that no value reads as ("Week 3", "Q4"); or a row of
    years only (a budget's or report's columns: "FY2024", "2023/24"). A word that reads like a
    label but stands in a column of values ("White" under "T.E") is no title."""
    def title(index: int) -> bool:
        text = cells[index].text.strip()
        return keys[index] or (not is_label(text) and re.search(r"[^\W\d_]", text) is not None
                               and not value_types(text) & _COMPLETE_TYPES and len(text.split()) <= 3)

    def year(index: int) -> bool:
        return _YEAR_TITLE.fullmatch(cells[index].text.strip()) is not None

    def paired(position: int) -> bool:  # "Employee:" | "Aoife Ní Bhriain": a key and its value
        text = cells[row[position]].text.strip()
        if _own_value(text) is not None:
            return True
        return text.endswith((":", "：")) and position + 1 < len(row) \
            and not cells[row[position + 1]].text.strip().endswith((":", "："))

    # a year among keys is a value of theirs ("Budget | 1985"); a row of years titles columns;
    # a row of keys each with its value is no header, though its values read like titles
    return len(row) >= 2 and (all(title(i) for i in row) or all(year(i) for i in row)) \
        and not any(paired(position) for position in range(len(row)))


_HEADING = re.compile(r"[^\W\d_]+(?:[ &/'-]+[^\W\d_]+){0,2}")


def _own_value(text: str) -> str | None:
    """The value of a cell that holds its own "Key: value" (not blanks after the colon), else None."""
    match = _KEY_VALUE.match(text)
    return match["value"] if match is not None and match["value"].strip(" _") else None


def _sections(cells, grid: Grid) -> dict[int, int]:
    """Each cell under a section heading -> the heading's cell, where a page has two sections
    or more (the applicant's block beside the guardian's; one "section" is a title over its
    lines). A heading is a cell of one to three words (no colon, no figure) at the top of a
    column of two cells or more that hold their own "Key: value" ("Guardian" over "Name: ...",
    "Phone: ..."); the section runs down its column to the first cell that is no such pair,
    or to anything else standing across the column between two of them."""
    row_of = {index: position for position, row in enumerate(grid.rows) for index in row}

    def pair(index: int) -> bool:
        value = _own_value(cells[index].text.strip())
        return value is not None and not value.startswith("//")  # not a web address's "https://"

    def apart(upper: int, lower: int) -> bool:  # another cell stands between them, across the column
        return any(overlap_across(cells[other], cells[upper]) or overlap_across(cells[other], cells[lower])
                   for position in range(row_of[upper] + 1, row_of[lower]) for other in grid.rows[position])

    section_of: dict[int, int] = {}
    for column in grid.columns:  # top to bottom
        position = 0
        while position < len(column):
            heading, block = column[position], []
            if _HEADING.fullmatch(cells[heading].text.strip()):
                last = heading
                for index in column[position + 1:]:
                    if not pair(index) or apart(last, index):
                        break
                    block.append(index)
                    last = index
            if len(block) >= 2:
                section_of.update((index, heading) for index in block)
            position += 1 + len(block)
    return section_of if len(set(section_of.values())) >= 2 else {}


def _sectioned(cells, grid: Grid, fields: list[Field]) -> list[Field]:
    """`fields`, each keyed field of a cell under a section heading (`_sections`) marked with
    it (`Field.section`) and copied with the heading in its key too ("Guardian Phone"), for
    questions that name the section; none keyed by a heading or holding one (the row of two
    headings side by side is no key and its value)."""
    section_of = _sections(cells, grid)
    headings = set(section_of.values())
    marked, copies = [], []
    for field in fields:
        if field.line in headings or field.key_line in headings:
            continue  # a heading names its block: no key of the next heading's text, no value
        anchor = field.key_line if field.key_line >= 0 else field.line
        heading = section_of.get(anchor)
        if field.key and heading is not None and field.source in ("colon", "inline", "span"):
            field = replace(field, section=heading)
            copies.append(replace(field, key=f"{cells[heading].text.strip()} {field.key}"))
        marked.append(field)
    return marked + copies


def _tables(cells, grid: Grid, keys: list[bool], captions: set[int]) -> dict[int, list[int]]:
    """The page's tables: the position of each header row (`_is_header`) followed by a row of
    three cells or more, with the positions of its rows of data (those of two cells or more
    that follow it, up to the first shorter row or the next row of keys over their values,
    `captions`: a boarding pass's "GATE | SEAT" under "PASSENGER | FLIGHT" and its values
    are no table's row)."""
    rows, tables = grid.rows, {}
    for position, header in enumerate(rows):
        if _is_header(cells, keys, header) and position + 1 < len(rows) and len(rows[position + 1]) >= 3:
            data = []
            for below in range(position + 1, len(rows)):
                if len(rows[below]) < 2 or below in captions:
                    break  # a shorter row, or the header of the next table or block
                data.append(below)
            if data:
                tables[position] = data
    return tables


def _table_fields(cells, grid: Grid, keys: list[bool], tables: dict[int, list[int]]) -> list[Field]:
    """Cells under a header row, keyed '<row label> <title of the cell's column>' (`_under_titles`);
    the row's label is its first cell, unless that holds no word (a line number, a part code;
    a date is a label) and a cell of words follows ("4 | Muffin | 59.40", "3 | KP-0907 |
    Servo motor 750 W | 8"). A first column numbering the rows 1, 2, 3 ... gives no fields."""
    rows, fields = grid.rows, []
    for header_position, data in tables.items():
        header = rows[header_position]
        # a first column that numbers the rows 1, 2, 3 ... holds no values anyone asks about
        # (the rows it numbers come first; totals and notes may follow them)
        firsts = []
        for position in data:
            text = cells[rows[position][0]].text.strip()
            if not (text.isascii() and text.isdigit()):
                break
            firsts.append(int(text))
        numbered = len(firsts) >= 3 and firsts == list(range(firsts[0], firsts[0] + len(firsts))) \
            and any(COUNTED.fullmatch(cells[i].text.strip()) for position in data[:len(firsts)] for i in rows[position][1:])
        # ... where another column counts the pieces ("24 pcs"); else 1, 2, 3 may be the quantities
        for row in (rows[position] for position in data):
            named = row[0]
            first = cells[row[0]].text
            if not _WORD.search(first) and (first.strip().isdigit() or re.search(r"[^\W\d_]", first)):
                # a line number or a part code; a date ("06/03/2025", "11/03") names its row
                named = next((i for i in row if is_label(cells[i].text.strip())),
                             next((i for i in row if _WORD.search(cells[i].text)), row[0]))
            label = cells[named].text.strip()
            for index, title in _under_titles(cells, header, row).items():
                if index != named and not (numbered and index == row[0]):
                    fields.append(Field(f"{label} {cells[title].text.strip()}".strip(), cells[index].text.strip(),
                                        index, "table", row=label))
    return fields


_WORD = re.compile(r"[^\W\d_]{3}")


def _under_titles(cells, header: tuple[int, ...], row: tuple[int, ...]) -> dict[int, int]:
    """Each cell of a table's row with the title it stands under: the title it overlaps most
    across the page; else the last title that starts left of it, within half a line height
    (titles stand over the left of a column of words and numbers are set flush right, often
    past their title's end: "86.4" under "Net kg", not under "Gross kg" beside it), unless
    the next title starts much nearer than that one ends (a value set flush left under a
    centred title: "0.08" just before "Unit price"). A cell left of every title stands under
    none."""
    spans = {i: extent(cells[i]) for i in header + row}
    under = {}
    for cell in row:
        left, right = spans[cell]
        overlaps = [(min(right, spans[t][1]) - max(left, spans[t][0]), t) for t in header]
        most, title = max(overlaps)
        if most <= 0:
            started = [t for t in header if spans[t][0] <= left + cell_height(cells[cell]) / 2]
            if not started:
                continue
            title = max(started, key=lambda t: spans[t][0])
            after = [t for t in header if spans[t][0] > spans[title][0]]
            if after:
                # a value set flush left a little before a centred title ("0.08" under "Unit price")
                following = min(after, key=lambda t: spans[t][0])
                if 3 * (spans[following][0] - right) < left - spans[title][1]:
                    title = following
        under[cell] = title
    return under


# What a letter's two people are called: each name is a key of its own, so that a question
# naming one of them ("Who is it addressed to?", "Who is the sender?") covers the key in full.
_RECIPIENT_KEYS = ("recipient", "addressed to", "dear", "greeting")
_SIGNER_KEYS = ("signer", "signed by", "sender", "from", "written by", "author")
PEOPLE_SOURCES = frozenset({"greeting", "closing"})  # fields whose value is a person by its place


def _letter_fields(cells, rows: tuple[tuple[int, ...], ...]) -> list[Field]:
    fields = []
    for position, row in enumerate(rows):
        text = " ".join(cells[i].text.strip() for i in row)
        greeting = _GREETING.match(text)
        if greeting:
            fields += [Field(key, greeting["name"].strip(), row[0], "greeting") for key in _RECIPIENT_KEYS]
        if _CLOSINGS.match(re.sub(r"\s+", "", text)) and position + 1 < len(rows):
            signer = rows[position + 1][0]
            name = cells[signer].text.strip()
            if not re.search(r"[^\W\d_]{2}", name) or value_types(name) & _COMPLETE_TYPES:
                continue  # a phone number or a page number under "Thank you" signs nothing
            fields += [Field(key, name, signer, "closing") for key in _SIGNER_KEYS]
            if position + 2 < len(rows):
                title = rows[position + 2][0]
                fields.append(Field("signer title position", cells[title].text.strip(), title, "title"))
    return fields


def _span_fields(cells) -> list[Field]:
    """Dates and times inside longer cells, keyed by the words around them."""
    fields = []
    for index, cell in enumerate(cells):
        text = cell.text.strip()
        for start, end, _ in [*find_dates(text), *find_times(text)]:
            if text[start:end].strip() != text:
                key = (text[:start] + " " + text[end:]).strip(" :,-")
                fields.append(Field(key, text[start:end].strip(), index, "span"))
    return fields


def _block_fields(cells, rows: tuple[tuple[int, ...], ...]) -> list[Field]:
    """Two to four consecutive one-cell rows that stand as close as lines of one paragraph
    (an address over three lines, a company name over two), joined with ", "."""
    fields = []
    single = [len(row) == 1 for row in rows]
    for start in range(len(rows)):
        members = [rows[start][0]]
        for position in range(start + 1, min(start + _BLOCK_MAX_LINES, len(rows))):
            if not (single[start] and single[position]) or not adjacent(cells[members[-1]], cells[rows[position][0]]):
                break
            members.append(rows[position][0])
            text = ", ".join(cells[i].text.strip().rstrip(",") for i in members)
            fields.append(Field("", text, members[0], "block", tuple(members)))
    return fields


@dataclass(frozen=True)
class Party:
    """A block of lines under a key of its own ("Bill to:" over a name, a street and a town):
    someone the page names besides its issuer. `lines` index the cells, the name first."""

    key: str
    key_line: int
    lines: tuple[int, ...]


def party_blocks(cells: tuple[TextLine, ...]) -> list[Party]:
    """The page's parties (`Party`), in reading order: a cell that is only a key and its colon
    ("Ship to:"), with two to four lines under it, each left-aligned with the key and within a
    line gap of the one above, none a key of its own nor in a row of more cells than the key's
    (a table's header under the block), where the first line has no figures and a later one
    reads as an address (a street line or words with a postal code): a name over its address. Side by side
    blocks ("Bill to:" beside "Ship to:") are told apart by their left edges."""
    rows = group_regions([cell.box for cell in cells]).rows
    parties = []
    for position, row in enumerate(rows):
        for index in row:
            text = cells[index].text.strip()
            match = _KEY_VALUE.match(text)
            if not match or match["value"].strip() or not is_label(match["key"]):
                continue
            members = []
            for below in rows[position + 1:position + 1 + _BLOCK_MAX_LINES]:
                upper = cells[members[-1] if members else index]
                left = extent(upper)[0]
                line = [i for i in below if abs(extent(cells[i])[0] - left) <= _ALIGN_RATIO * cell_height(cells[i])]
                if not line or not adjacent(upper, cells[line[0]]):
                    break
                said = cells[line[0]].text.strip()
                if said.endswith((":", "：")) or _KEY_VALUE.match(said) or len(below) > len(row):
                    break  # a key of its own; a row of more cells than the key's starts a table
                members.append(line[0])
            addressed = any(is_street_line(cells[i].text) or ADDRESS in value_types(cells[i].text) for i in members[1:])
            named = bool(members) and not re.search(r"\d", cells[members[0]].text)
            if len(members) >= 2 and addressed and named:
                parties.append(Party(match["key"].strip(), index, tuple(members)))
    return parties


def adjacent(upper: TextLine, lower: TextLine, max_gap_ratio: float = _BLOCK_GAP_RATIO) -> bool:
    """Whether `lower` starts within about one line height below `upper` (lines of a paragraph;
    `max_gap_ratio` × the mean height is the largest gap allowed)."""
    top_a, bottom_a = min(p[1] for p in upper.box), max(p[1] for p in upper.box)
    top_b, bottom_b = min(p[1] for p in lower.box), max(p[1] for p in lower.box)
    height = max(1.0, (bottom_a - top_a + bottom_b - top_b) / 2)
    return 0 <= top_b - bottom_a + 0.5 * height <= max_gap_ratio * height


def row_label(cells: tuple[TextLine, ...], token: str) -> tuple[str, int] | None:
    """The first cell of the row that holds a cell reading `token` ("P2297" → "Steel bolts"),
    with its index in `cells` (from `read_cells`). A table's header row labels no row: "2024"
    over a column of amounts is the column's title."""
    wanted = re.sub(r"\s+", "", token).lower()
    rows = group_regions([cell.box for cell in cells]).rows
    keys = key_cells(cells, rows)
    for row in rows:
        if _is_header(cells, keys, row):
            continue
        for index in row[1:]:
            if re.sub(r"\s+", "", cells[index].text).lower() == wanted:
                return cells[row[0]].text.strip(), row[0]
    return None
