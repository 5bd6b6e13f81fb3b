"""Text recognition: PP-OCR's CRNN/SVTR line recogniser with greedy CTC decoding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import BundleError
from ..session import ComponentSession
from .classify import normalise_crop


@dataclass(frozen=True)
class RecognizeConfig:
    image_shape: tuple[int, int, int] = (3, 48, 320)  # channels, height, minimum width
    batch_size: int = 6


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

    `run_batches(function, batches)` returns `[function(batch) for batch in batches]`; the
    engine passes `WorkerPool.map`, so idle workers recognise some of the batches.

    Crops are batched by increasing width/height ratio; each batch is padded to the widest
    ratio in it (never narrower than the configured width), as PaddleOCR does. Ties are
    ordered by numpy's default sort, as RapidOCR orders them: a batch's padding changes
    its crops' texts.
    """
    _, height, base_width = config.image_shape
    ratios = [crop.shape[1] / crop.shape[0] for crop in crops]
    order = np.argsort(np.array(ratios))
    results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
    input_name = next(iter(session.inputs))

    def recognize_batch(indices: np.ndarray) -> list[tuple[str, float]]:
        max_ratio = max([base_width / height] + [ratios[i] for i in indices])
        width = int(height * max_ratio)
        batch = np.stack([normalise_crop(crops[i], height, width, width) for i in indices])
        probabilities = next(iter(session.run({input_name: batch}).values()))
        return ctc_greedy_decode(probabilities, alphabet)

    batches = [order[begin : begin + config.batch_size] for begin in range(0, len(order), config.batch_size)]
    run = run_batches or (lambda function, items: [function(item) for item in items])
    for indices, decoded in zip(batches, run(recognize_batch, batches)):
        for index, text in zip(indices, decoded):
            results[index] = text
    return results


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
