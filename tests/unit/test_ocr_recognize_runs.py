"""How the OCR recogniser splits a page's crops into onnxruntime runs (issue 13): each crop
is padded to the widest ratio of its group of `batch_size` (RapidOCR's batches, which its
text depends on), a run holds `run_size` crops of one group (a short last piece joins the
one before it), and the costliest runs come first so that workers sharing them finish
together."""

from __future__ import annotations

import numpy as np

from runtime.ocr.classify import ClassifyConfig, turned_scores
from runtime.ocr.recognize import RecognizeConfig, _pieces, recognize_crops

ALPHABET = ("", "a", "b", " ")


class _Recogniser:
    """Records each run's input shape; every row reads "a"."""

    inputs = {"x": None}

    def __init__(self):
        self.shapes = []

    def run(self, feeds):
        (batch,) = feeds.values()
        self.shapes.append(batch.shape)
        probabilities = np.zeros((batch.shape[0], 4, len(ALPHABET)), dtype=np.float32)
        probabilities[:, 0, 1] = 1.0
        probabilities[:, 1:, 0] = 1.0
        return {"y": probabilities}


def _crops(widths: list[int], height: int = 48) -> list[np.ndarray]:
    return [np.full((height, width, 3), 255, dtype=np.uint8) for width in widths]


def test_runs_keep_their_groups_width_and_come_costliest_first():
    widths = [100, 960, 200, 480, 150, 300, 2400, 120]  # ratios 2.1 .. 50
    session = _Recogniser()
    texts = recognize_crops(session, _crops(widths), ALPHABET, RecognizeConfig(batch_size=3, run_size=2))
    assert texts == [("a", 1.0)] * len(widths)
    # Groups by ratio: (100, 120, 150) padded to 320 (the minimum), (200, 300, 480) to 480,
    # (960, 2400) to 2400; a group of 3 stays one run (a piece of one row joins the one before).
    assert sorted(session.shapes) == sorted([(3, 3, 48, 320), (3, 3, 48, 480), (2, 3, 48, 2400)])
    costs = [shape[0] * shape[3] for shape in session.shapes]
    assert costs == sorted(costs, reverse=True)


def test_the_runs_are_handed_to_the_callers_workers():
    handed = []

    def run_batches(function, items):
        handed.append(len(items))
        return [function(item) for item in items]

    recognize_crops(_Recogniser(), _crops([100, 200, 300]), ALPHABET, RecognizeConfig(run_size=1), run_batches)
    cls_session = _Recogniser()
    cls_session.run = lambda feeds: {"y": np.tile([[1.0, 0.0]], (next(iter(feeds.values())).shape[0], 1))}
    turned_scores(cls_session, _crops([100] * 8), ClassifyConfig(batch_size=6), run_batches)
    assert handed == [3, 2]


def test_a_short_last_piece_joins_the_one_before_it():
    sizes = {count: [len(piece) for piece in _pieces(np.arange(count), 2)] for count in range(1, 8)}
    assert sizes == {1: [1], 2: [2], 3: [3], 4: [2, 2], 5: [2, 3], 6: [2, 2, 2], 7: [2, 2, 3]}
    assert [len(piece) for piece in _pieces(np.arange(6), 1)] == [1] * 6
    assert [list(piece) for piece in _pieces(np.arange(5), 6)] == [[0, 1, 2, 3, 4]]
