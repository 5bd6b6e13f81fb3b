"""Text recognition: PP-OCR's CRNN/SVTR line recogniser with greedy CTC decoding."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import BundleError
from ..session import ComponentSession
from ..scheduler import in_turn
from .classify import normalise_crop
from .model_settings import file_settings


@dataclass(frozen=True)
class RecognizeConfig:
    image_shape: tuple[int, int, int] = (3, 48, 320)  # channels, height, minimum width
    batch_size: int = 6  # crops padded to one width together (RapidOCR's rec_batch_num)
    # Crops per onnxruntime run. bench/ocr.py (EPYC): on one thread runs of 1 and 2 crops cost
    # the same and runs of 6 7% more; on two threads runs of 1 lose ~10% to thread syncs.
    run_size: int = 2


# What a recogniser file may say about how it reads best (its `recognition` metadata, JSON):
# crops per padded group and the narrowest width a crop is padded to, each a whole number in
# the range given.
_MODEL_SETTINGS = {"batch_size": (1, 64), "min_width": (8, 4096)}


def _setting(key: str, value) -> int:
    low, high = _MODEL_SETTINGS[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key} must be a whole number in [{low}, {high}], not {value!r}")
    return value


def settings_from_metadata(config: RecognizeConfig, metadata: dict[str, str], path) -> RecognizeConfig:
    """`config` with the recogniser file's own settings (its `recognition` entry) applied;
    PP-OCRv4's files carry none and read as RapidOCR batches them."""
    given = file_settings(metadata, "recognition", _MODEL_SETTINGS, _setting, path, "text recogniser")
    if given is None:
        return config
    channels, height, width = config.image_shape
    return dataclasses.replace(config, batch_size=given.get("batch_size", config.batch_size),
                               image_shape=(channels, height, given.get("min_width", width)))


def load_alphabet(session: ComponentSession, key: str = "character") -> tuple[str, ...]:
    """CTC alphabet: blank (index 0), the model's embedded dictionary, then a space."""
    if key not in session.metadata:
        raise BundleError(
            f"The recogniser {session.path} has no '{key}' entry in its metadata; "
            "use a PP-OCR rec model exported with its character dictionary embedded."
        )
    return ("", *session.metadata[key].splitlines(), " ")


def recognize_crops(
    session: ComponentSession, crops: list[np.ndarray], alphabet: tuple[str, ...], config: RecognizeConfig,
    run_batches: Callable[[Callable, list], list] | None = None,
) -> list[tuple[str, float]]:
    """(text, confidence) per BGR crop, in input order.

    `run_batches(function, runs)` returns `[function(run) for run in runs]`; the engine
    passes `WorkerPool.map`, so idle workers recognise some of the runs.

    Crops are grouped by increasing width/height ratio, `batch_size` to a group, and each
    crop is padded to the widest ratio in its group (never narrower than the configured
    width), as PaddleOCR batches them; ties are ordered by numpy's default sort, as
    RapidOCR orders them. The padding is what ties a crop's text to its neighbours (the
    SVTR neck mixes the whole padded line); the rows of a batch are otherwise independent in
    an fp32 graph, so a piece of a group run at the group's width gets the very same outputs
    (checked bit for bit on PP-OCRv4 and v6; see `_pieces` for single rows; a dynamically
    quantised recogniser, which scales over the whole batch, would not). The groups are therefore
    run in pieces of `run_size` crops, the costliest first, which spreads a page's work
    evenly over the workers (a page whose lines all fall in one group kept one core busy
    while the other idled) and, on one thread, runs a wide group faster than one batch.
    """
    _, height, base_width = config.image_shape
    ratios = [crop.shape[1] / crop.shape[0] for crop in crops]
    order = np.argsort(np.array(ratios))
    runs: list[tuple[int, np.ndarray]] = []  # (padded width, crop indices)
    for begin in range(0, len(order), config.batch_size):
        group = order[begin : begin + config.batch_size]
        width = int(height * max([base_width / height] + [ratios[i] for i in group]))
        runs += [(width, piece) for piece in _pieces(group, config.run_size)]
    # Costliest first (work grows with width x crops): the workers claim runs in this
    # order, and a costly run claimed last would leave the others idle while it ran.
    runs.sort(key=lambda run: run[0] * len(run[1]), reverse=True)
    input_name = next(iter(session.inputs))

    def recognize_run(run: tuple[int, np.ndarray]) -> list[tuple[str, float]]:
        width, indices = run
        batch = np.stack([normalise_crop(crops[i], height, width, width) for i in indices])
        probabilities = next(iter(session.run({input_name: batch}).values()))
        return ctc_greedy_decode(probabilities, alphabet)

    results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
    for (_, indices), decoded in zip(runs, (run_batches or in_turn)(recognize_run, runs)):
        for index, text in zip(indices, decoded):
            results[index] = text
    return results


def _pieces(group: np.ndarray, size: int) -> list[np.ndarray]:
    """`group` in pieces of `size`, a shorter last piece joined to the one before it: a run
    of one row takes other kernels than a batch in some recognisers (PP-OCRv6's outputs
    moved by 2e-6), where runs of two or more rows match the whole batch bit for bit."""
    starts = list(range(0, len(group), max(1, size)))
    if len(starts) > 1 and len(group) - starts[-1] < size:
        starts.pop()
    return [group[start:end] for start, end in zip(starts, [*starts[1:], len(group)])]


def ctc_greedy_decode(probabilities: np.ndarray, alphabet: tuple[str, ...]) -> list[tuple[str, float]]:
    """Best path per row of a (batch, steps, classes) array: collapse repeats, drop blanks.

    Confidence is the mean probability of the kept steps (0 when nothing is kept).
    """
    best = probabilities.argmax(axis=2)
    best_probability = probabilities.max(axis=2)
    decoded = []
    for indices, step_probabilities in zip(best, best_probability):
        keep = np.ones(len(indices), dtype=bool)
        keep[1:] = indices[1:] != indices[:-1]
        keep &= indices != 0
        text = "".join(alphabet[i] for i in indices[keep])
        confidence = float(step_probabilities[keep].mean()) if keep.any() else 0.0
        decoded.append((text, confidence))
    return decoded
