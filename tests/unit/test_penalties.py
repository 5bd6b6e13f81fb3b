"""OpenAI frequency and presence penalties in the decoder (issue 12), on scripted logits."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.decoding import apply_frequency_presence, generate
from runtime.errors import InvalidRequestError
from runtime.params import GenerationParams


class FixedModel:
    """Same logits every step, whatever was fed: token 0 best, then 1, 2, 3."""

    def __init__(self, row):
        self.row = np.asarray(row, dtype=np.float32)

    def start(self, batch_size):
        return batch_size

    def step(self, token_ids, state):
        return np.tile(self.row, (np.asarray(token_ids).shape[0], 1)), state

    def reorder(self, state, rows):
        return len(rows)


ROW = [4.0, 3.0, 1.0, 0.0]


def _greedy(num_beams: int = 1, **penalties) -> tuple[int, ...]:
    params = GenerationParams(max_new_tokens=6, num_beams=num_beams, **penalties)
    return generate(FixedModel(ROW), [3], params, eos_token_ids=[]).token_ids


def test_the_penalty_is_count_times_frequency_plus_presence_once_seen():
    scores = np.array([[4.0, 3.0, 1.0, 0.0]], dtype=np.float32)
    counts = np.array([[3, 1, 0, 0]], dtype=np.float32)
    out = apply_frequency_presence(scores, counts, 0.5, 0.25)
    np.testing.assert_array_equal(out, [[4.0 - 1.5 - 0.25, 3.0 - 0.5 - 0.25, 1.0, 0.0]])
    assert apply_frequency_presence(scores, counts, 0.0, 0.0) is scores


def test_no_penalty_repeats_the_best_token():
    assert _greedy() == (0,) * 6


def test_frequency_penalty_grows_with_each_repeat():
    # Token 0 (4.0) loses 1.5 per use: after one use 2.5 < 3.0, so token 1 comes; token 1
    # then falls to 1.5 < 2.5 and token 0 returns; and so on.
    assert _greedy(frequency_penalty=1.5) == (0, 1, 0, 1, 0, 2)


def test_presence_penalty_is_paid_once():
    # Seen tokens lose 2 once: 0 → 2.0, then 1 → 1.0, so 0 (2.0) stays best for good.
    assert _greedy(presence_penalty=2.0) == (0, 1, 0, 0, 0, 0)


def test_a_negative_penalty_encourages_repetition():
    row_model = FixedModel([3.0, 3.5, 0.0, 0.0])
    params = GenerationParams(max_new_tokens=3, frequency_penalty=-1.0)
    # Token 1 wins first; with the bonus it keeps winning.
    assert generate(row_model, [3], params, eos_token_ids=[]).token_ids == (1, 1, 1)


def test_the_prompt_does_not_count():
    # The prompt is token 0 three times; without generated repeats nothing is penalized.
    params = GenerationParams(max_new_tokens=1, frequency_penalty=2.0, presence_penalty=2.0)
    assert generate(FixedModel(ROW), [0, 0, 0], params, eos_token_ids=[]).token_ids == (0,)


def test_beam_search_applies_the_penalties_per_beam():
    assert _greedy(num_beams=2) == (0,) * 6
    assert len(set(_greedy(num_beams=2, frequency_penalty=2.0))) > 1


@pytest.mark.parametrize("name", ["frequency_penalty", "presence_penalty"])
@pytest.mark.parametrize("value", [-2.01, 2.5])
def test_penalties_are_bounded_by_two(name, value):
    with pytest.raises(InvalidRequestError, match="between -2 and 2"):
        GenerationParams(**{name: value})
