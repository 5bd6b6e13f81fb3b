"""The learned key→value linker (runtime/reader/linking.py): its trees, its features, and
what the reader does with its scores."""

import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from runtime.reader import linking
from runtime.reader.answering import Answerer, _says_in_full
from runtime.reader.document import extract_fields, is_label, key_cells, read_cells
from runtime.results import TextLine

REPO = Path(__file__).resolve().parents[2]


def _line(text, x, y, width=200, height=30):
    box = ((x, y), (x + width, y), (x + width, y + height), (x, y + height))
    return TextLine(text, box, 0.99)


def _answerer():
    """Label rules alone decide: an embedder that knows no meaning, a constant LM."""
    def unrelated(texts):
        rows = [np.random.default_rng(zlib.crc32(text.encode())).standard_normal(256) for text in texts]
        return np.array([row / np.linalg.norm(row) for row in rows], dtype=np.float32)

    return Answerer(unrelated, lambda question, context, answers: [0.0] * len(answers))


def test_trees_add_the_leaves_each_row_reaches_to_the_prior():
    # one tree: feature 1 <= 0.5 goes to leaf 1 (value -1), else to node 2, which splits
    # feature 0 at 2.0 into leaves 3 (+1) and 4 (+3); a second tree of one leaf (+0.5)
    trees = linking.Trees(prior=0.2, rate=0.5,
                          feature=[[1, -2, 0, -2, -2], [-2, -2, -2, -2, -2]],
                          threshold=[[0.5, 0, 2.0, 0, 0], [0, 0, 0, 0, 0]],
                          left=[[1, -1, 3, -1, -1], [-1, -1, -1, -1, -1]],
                          right=[[2, -1, 4, -1, -1], [-1, -1, -1, -1, -1]],
                          value=[[0, -1.0, 0, 1.0, 3.0], [0.5, 0, 0, 0, 0]])
    rows = np.array([[9.0, 0.0], [1.0, 1.0], [5.0, 1.0], [2.0, 0.5]])  # the last equals both thresholds: left
    logits = 0.2 + 0.5 * (np.array([-1.0, 1.0, 3.0, -1.0]) + 0.5)
    assert np.allclose(trees.probability(rows), 1 / (1 + np.exp(-logits)))
    assert trees.probability(np.zeros((0, 2))).shape == (0,)


def test_trees_read_back_from_sklearn_give_its_probabilities():
    pytest.importorskip("sklearn")
    sys.path.insert(0, str(REPO / "bench"))
    import fit_linker

    rng = np.random.default_rng(3)
    rows = rng.normal(size=(400, len(linking.FEATURES)))
    targets = (rows[:, 0] + 0.5 * rows[:, 3] > 0.2) | (rows[:, 5] > 1.5)
    fitted = fit_linker.fit(rows, targets)  # asserts its own read-back against predict_proba
    probability = fitted.probability(rows)
    assert probability.shape == (400,) and ((probability > 0.5) == targets).mean() > 0.9


def test_the_shipped_model_has_one_feature_per_name_and_scores_every_candidate():
    trees = linking.trees()
    assert trees.feature.shape == trees.threshold.shape == trees.value.shape
    assert trees.feature.max() < len(linking.FEATURES)
    cells = read_cells((_line("Name:", 20, 100, 80), _line("Ada Lovelace", 120, 100), _line("Date:", 20, 160, 80),
                        _line("12/03/1843", 120, 160)))
    labels = [is_label(cell.text.strip()) for cell in cells]
    scores = linking.link_scores(cells, key_cells(cells), labels, [0, 2])
    for key, found in scores.items():
        assert all(0.0 <= p <= 1.0 for _, p in found)
        assert key not in dict(found)
    # the value right of each key is its likeliest
    assert max(scores[0], key=lambda item: item[1])[0] == 1
    assert max(scores[2], key=lambda item: item[1])[0] == 3


def test_a_model_fitted_on_other_features_is_refused(monkeypatch):
    from runtime.reader import link_model

    monkeypatch.setattr(link_model, "FEATURES", list(reversed(linking.FEATURES)))
    with pytest.raises(RuntimeError, match="fit_linker"):
        linking._model()  # noqa: SLF001


def test_pair_features_give_one_row_of_every_feature_per_candidate():
    cells = read_cells((_line("TO:", 20, 100, 60), _line("Acme Corp", 100, 100), _line("Ref", 20, 140, 60),
                        _line("A-7", 20, 180, 60)))
    spans = linking._spans(cells)  # noqa: SLF001
    found = linking.candidates(spans, 0)
    rows = linking.pair_features(cells, spans, key_cells(cells), [is_label(c.text) for c in cells], 0, found,
                                 linking.cells_under(spans))
    assert rows.shape == (len(found), len(linking.FEATURES)) and np.isfinite(rows).all()
    column = dict(zip(linking.FEATURES, rows.T))
    right = list(found).index(1)
    assert column["value_is_right_neighbour"][right] == 1.0 and column["row_overlap"][right] == 1.0


def test_a_key_links_the_value_set_down_and_right_of_it_which_no_rule_pairs():
    # A typed-in value sits a little lower than its printed key, to its right (the geometry
    # of a scanned form's "Permit #:" box); no row or below rule pairs them (the colon rule
    # takes the cell under a row's last key, "Permit #:", and the linker the other).
    page = (_line("WATER BOARD CHEMICAL INVENTORY", 228, 53, 365, 18), _line("USAGE FACT SHEET", 301, 83, 213, 17),
            _line("Facility:", 108, 155, 50, 21), _line("Permit #:", 542, 157, 55, 18),
            _line("Northside plant", 160, 173, 190, 25), _line("0042", 610, 175, 33, 20))
    fields = extract_fields(page)
    assert ("Permit #", "0042") in {(f.key, f.value) for f in fields if f.source in ("linked", "colon")}
    assert ("Facility", "Northside plant") in {(f.key, f.value) for f in fields}
    answerer = _answerer()
    assert answerer.answer("What is the permit #?", page).text == "0042"
    assert answerer.answer("Facility?", page).text == "Northside plant"


def test_a_cell_holding_its_own_key_is_never_linked_as_a_value(monkeypatch):
    # an invoice's head: the issuer's name over its address, the invoice's own pairs at the right;
    # trees that find a candidate likely exactly when it holds a figure (only the pairs do here)
    digit = linking.FEATURES.index("value_has_digit")
    monkeypatch.setattr(linking, "_TREES", linking.Trees(0.0, 1.0, [[digit, -2, -2]], [[0.5, 0.0, 0.0]],
                                                         [[1, -1, -1]], [[2, -1, -1]], [[0.0, -4.0, 4.0]]))
    page = (_line("Harbourside Joinery Ltd", 55, 69, 392, 35), _line("INVOICE", 792, 70, 131, 31),
            _line("Quay Road", 53, 121, 168, 30), _line("Invoice No: HJ-2291", 671, 122, 252, 28),
            _line("Bristol", 53, 168, 171, 27), _line("Invoice date: 2025-03-07", 637, 168, 284, 27),
            _line("Due date: 2025-04-06", 672, 213, 250, 27), _line("Bill to:", 53, 278, 89, 32),
            _line("Marta Nowak", 53, 323, 172, 30))
    linked = {(f.key, f.value) for f in extract_fields(page) if f.source == "linked"}
    assert not [value for _, value in linked if ":" in value], linked


def test_a_key_of_common_words_said_in_full_names_that_key():
    assert _says_in_full("What is the Written by?", "Written by")
    assert _says_in_full("who is it written  by", "Written by:")
    assert not _says_in_full("Who has written this by hand?", "Written by")
    assert not _says_in_full("What is the statement?", "State")
    page = (_line("MEMO", 20, 20), _line("Written by", 20, 100, 140), _line("J. Doe", 200, 100),
            _line("Made", 20, 160, 80), _line("1987", 200, 160, 80))
    assert _answerer().answer("What is the Written by?", page).text == "J. Doe"
    assert _answerer().answer("Who made it?", page).text != "1987"  # a year is no one


def _turned(lines, degrees):
    """`lines` as a photo turned `degrees` counter-clockwise shows them (about the origin)."""
    angle = np.radians(-degrees)  # image y runs down
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return tuple(TextLine(line.text, tuple(tuple(float(v) for v in turn @ np.array(p, dtype=float) + (0, 200))
                                           for p in line.box), line.confidence) for line in lines)


def test_a_receipt_photographed_askew_links_each_key_to_its_own_rows_value():
    """A receipt turned 9 degrees: the end of each row (its value, 250 px right of its key)
    stands as high as the key of the row above. In the image's frame the linker paired
    "TOTAL" with the cash given under it, and "What is the total?" was answered "20.00"."""
    rows = [("Subtotal", "13.00"), ("VAT 20%", "2.60"), ("TOTAL", "15.60"), ("Cash", "20.00"), ("Change", "4.40")]
    receipt = tuple(line for row, (key, value) in enumerate(rows)
                    for line in (_line(key, 40, 300 + 42 * row, 110, 30), _line(value, 290, 300 + 42 * row, 70, 30)))
    for degrees in (0, 5, 9, -9):
        fields = extract_fields(read_cells(_turned(receipt, degrees)))
        pairs = {(f.key, f.value) for f in fields}
        assert ("TOTAL", "15.60") in pairs and ("TOTAL", "20.00") not in pairs and ("Cash", "4.40") not in pairs, degrees
