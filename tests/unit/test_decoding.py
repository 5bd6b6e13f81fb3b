"""Decoding algorithms against scripted logits, with exact expected token ids."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runtime.decoding import (
    StopMatcher,
    apply_repetition_penalty,
    apply_temperature,
    apply_top_k,
    apply_top_p,
    generate,
    generate_stream,
    log_softmax,
    top_indices,
)
from runtime.errors import InvalidRequestError
from runtime.params import GenerationParams

EOS = 0
NEG = -1e4  # "impossible" in scripted log-probabilities


def _logprobs(vocab_size: int, probs: dict[int, float]) -> np.ndarray:
    """Log-probabilities with the given mass on some ids, the rest spread evenly."""
    rest = (1.0 - sum(probs.values())) / max(1, vocab_size - len(probs))
    row = np.full(vocab_size, math.log(rest) if rest > 0 else NEG, dtype=np.float64)
    for token, p in probs.items():
        row[token] = math.log(p)
    return row.astype(np.float32)


class ScriptedModel:
    """StepModel whose logits are a function of the generated suffix (prompt excluded).

    Records every `step` call's input shape so tests can check the model is fed only new
    tokens. State is the list of generated-so-far tuples, one per row.
    """

    def __init__(self, vocab_size: int, script: dict[tuple[int, ...], dict[int, float]],
                 default: dict[int, float] | None = None):
        self.vocab_size = vocab_size
        self.script = script
        self.default = default or {}
        self.fed_shapes: list[tuple[int, ...]] = []
        self.prompt_len: int | None = None

    def start(self, batch_size):
        return [None] * batch_size

    def step(self, token_ids, state):
        token_ids = np.asarray(token_ids)
        assert token_ids.dtype == np.int64
        self.fed_shapes.append(token_ids.shape)
        rows = []
        for row, fed in zip(state, token_ids):
            rows.append(() if row is None else row + tuple(int(t) for t in fed))
        logits = np.stack([_logprobs(self.vocab_size, self.script.get(r, self.default)) for r in rows])
        return logits, rows

    def reorder(self, state, rows):
        return [state[r] for r in rows]


class PieceDetokenizer:
    """TextDecoder where token i decodes to pieces[i] (EOS to "")."""

    def __init__(self, pieces: dict[int, str]):
        self.pieces = pieces

    def push(self, token_id):
        return self.pieces.get(token_id, "")

    def finish(self):
        return ""


def _chain_model(vocab_size: int, chain: list[int], eos_prob: float = 0.0) -> ScriptedModel:
    """Greedy follows `chain` token by token with probability 0.6 each."""
    script = {tuple(chain[:i]): {chain[i]: 0.6} for i in range(len(chain))}
    return ScriptedModel(vocab_size, script, default={1: 0.6})


# ------------------------------------------------------------------ greedy


def test_greedy_follows_argmax_exactly():
    model = _chain_model(10, [3, 5, 7, 2])
    out = generate(model, [1, 2], GenerationParams(max_new_tokens=6), eos_token_ids=[EOS])
    assert out.token_ids == (3, 5, 7, 2, 1, 1)
    assert out.finish_reason == "length"
    assert out.num_steps == 6


def test_eos_stops_generation_with_stop_reason():
    model = _chain_model(10, [3, EOS, 4])
    out = generate(model, [1], GenerationParams(max_new_tokens=10), eos_token_ids=[EOS])
    assert out.token_ids == (3, EOS)
    assert out.finish_reason == "stop"


def test_any_of_several_eos_ids_stops():
    model = _chain_model(10, [3, 9, 4])
    out = generate(model, [1], GenerationParams(max_new_tokens=10), eos_token_ids=[EOS, 9])
    assert out.token_ids == (3, 9) and out.finish_reason == "stop"


def test_max_new_tokens_gives_length():
    model = _chain_model(10, [3, 4, 5, 6])
    out = generate(model, [1], GenerationParams(max_new_tokens=2), eos_token_ids=[EOS])
    assert out.token_ids == (3, 4) and out.finish_reason == "length"


def test_cost_is_linear_prompt_once_then_one_token_per_step():
    model = _chain_model(10, [])
    generate(model, [4, 5, 6, 7], GenerationParams(max_new_tokens=25), eos_token_ids=[EOS])
    assert model.fed_shapes == [(1, 4)] + [(1, 1)] * 24


def test_beam_search_feeds_prompt_once_then_one_token_per_beam():
    model = _chain_model(10, [])
    generate(model, [4, 5, 6], GenerationParams(max_new_tokens=5, num_beams=3), eos_token_ids=[EOS])
    assert model.fed_shapes == [(1, 3)] + [(3, 1)] * 4


# ------------------------------------------------------------------ processors


def test_repetition_penalty_divides_positive_and_multiplies_negative():
    scores = np.array([[2.0, -1.0, 1.5, -0.5]], dtype=np.float32)
    seen = np.array([[True, True, False, False]])
    out = apply_repetition_penalty(scores, seen, 2.0)
    np.testing.assert_array_equal(out, np.array([[1.0, -2.0, 1.5, -0.5]], dtype=np.float32))


def test_repetition_penalty_counts_prompt_and_changes_greedy_choice():
    # Token 2 (logit 2.0, in the prompt) beats token 3 (1.8) until 2.0 / 1.3 = 1.54 < 1.8.
    logits = {2: 0.5, 3: 0.45}
    model = ScriptedModel(6, {(): logits})
    plain = generate(model, [2], GenerationParams(max_new_tokens=1), eos_token_ids=[EOS])
    model = ScriptedModel(6, {(): logits})
    penalized = generate(model, [2], GenerationParams(max_new_tokens=1, repetition_penalty=1.3),
                         eos_token_ids=[EOS])
    assert plain.token_ids == (2,)
    assert penalized.token_ids == (3,)


def test_repetition_penalty_counts_generated_tokens():
    # Every step prefers 4 slightly over 5; once 4 was generated the penalty flips it, and
    # once both were generated 4 is ahead again (-0.92 * 1.5 = -1.37 > -0.97 * 1.5 = -1.45).
    model = ScriptedModel(6, {}, default={4: 0.40, 5: 0.38})
    out = generate(model, [1], GenerationParams(max_new_tokens=3, repetition_penalty=1.5),
                   eos_token_ids=[EOS])
    assert out.token_ids == (4, 5, 4)


def test_temperature_divides():
    out = apply_temperature(np.array([2.0, -4.0], dtype=np.float32), 2.0)
    np.testing.assert_array_equal(out, np.array([1.0, -2.0], dtype=np.float32))


def test_top_k_keeps_k_largest_and_ties():
    scores = np.array([1.0, 3.0, 2.0, 3.0, 0.0], dtype=np.float32)
    inf = -np.inf
    np.testing.assert_array_equal(apply_top_k(scores, 2), [inf, 3.0, inf, 3.0, inf])
    np.testing.assert_array_equal(apply_top_k(scores, 3), [inf, 3.0, 2.0, 3.0, inf])
    np.testing.assert_array_equal(apply_top_k(scores, 0), scores)


def test_top_p_removes_tail_below_one_minus_p():
    scores = np.log(np.array([0.5, 0.3, 0.15, 0.05], dtype=np.float32))
    out = apply_top_p(scores, 0.75)  # drops 0.05 and 0.15 (cumulative 0.2 <= 0.25)
    np.testing.assert_array_equal(out, [scores[0], scores[1], -np.inf, -np.inf])
    out = apply_top_p(scores, 0.01)  # the most likely token always survives
    np.testing.assert_array_equal(out, [scores[0], -np.inf, -np.inf, -np.inf])


def test_top_indices_is_descending_and_stable_on_ties():
    scores = np.array([1.0, 5.0, 3.0, 5.0, 3.0, 0.0], dtype=np.float32)
    assert top_indices(scores, 4).tolist() == [1, 3, 2, 4]
    assert top_indices(scores, 6).tolist() == [1, 3, 2, 4, 0, 5]


# ------------------------------------------------------------------ sampling


def _flat_model():
    return ScriptedModel(1000, {})


def _sample(seed, **overrides):
    params = GenerationParams(max_new_tokens=12, do_sample=True, seed=seed, **overrides)
    return generate(_flat_model(), [1], params, eos_token_ids=[]).token_ids


def test_same_seed_same_sample_different_seed_differs():
    assert _sample(7) == _sample(7)
    assert _sample(7) != _sample(8)


def test_no_seed_draws_fresh_entropy():
    assert _sample(None) != _sample(None)


def test_top_k_one_sampling_equals_greedy():
    model = _chain_model(10, [3, 5, 7])
    params = GenerationParams(max_new_tokens=3, do_sample=True, top_k=1, seed=1)
    assert generate(model, [1], params, eos_token_ids=[EOS]).token_ids == (3, 5, 7)


def test_sampling_follows_the_distribution_and_masks():
    model = ScriptedModel(4, {}, default={1: 0.7, 2: 0.2, 3: 0.1 - 1e-6})
    params = GenerationParams(max_new_tokens=3000, do_sample=True, seed=3, top_k=2)
    ids = np.array(generate(model, [1], params, eos_token_ids=[]).token_ids)
    assert set(ids.tolist()) == {1, 2}  # top_k removed 3 and 0
    assert abs((ids == 1).mean() - 0.7 / 0.9) < 0.03


def test_temperature_zero_sampling_is_greedy():
    model = _chain_model(10, [3, 5])
    params = GenerationParams(max_new_tokens=2, do_sample=True, temperature=0.0)
    assert generate(model, [1], params, eos_token_ids=[EOS]).token_ids == (3, 5)


# ------------------------------------------------------------------ beam search

A, B, C, D = 1, 2, 3, 4


def _tree_model():
    # Greedy takes A (0.5) then at best 0.3; beam search finds B (0.4) then C (0.9).
    return ScriptedModel(6, {
        (): {A: 0.5, B: 0.4},
        (A,): {C: 0.3, D: 0.3, EOS: 0.2},
        (B,): {C: 0.9},
        (A, C): {EOS: 0.9}, (A, D): {EOS: 0.9}, (B, C): {EOS: 0.9},
    })


def test_greedy_and_beam_differ_on_scripted_tree():
    greedy = generate(_tree_model(), [5], GenerationParams(max_new_tokens=5), eos_token_ids=[EOS])
    beam = generate(_tree_model(), [5], GenerationParams(max_new_tokens=5, num_beams=2),
                    eos_token_ids=[EOS])
    assert greedy.token_ids == (A, C, EOS)
    assert beam.token_ids == (B, C, EOS)
    assert beam.finish_reason == "stop"


def _length_model():
    # Short: EOS at once (0.5, score -0.69). Long: A, B, EOS (0.4 * 0.5 * 0.9, sum -1.71).
    return ScriptedModel(6, {
        (): {EOS: 0.5, A: 0.4},
        (A,): {B: 0.5, EOS: 0.01},
        (A, B): {EOS: 0.9},
    })


@pytest.mark.parametrize(("length_penalty", "expected"), [
    (1.0, (A, B, EOS)),  # -1.71 / 3 = -0.57 beats -0.69
    (0.0, (EOS,)),       # -1.71 loses to -0.69 without length normalization
])
def test_beam_length_penalty_decides_between_finished_hypotheses(length_penalty, expected):
    params = GenerationParams(max_new_tokens=3, num_beams=2, length_penalty=length_penalty)
    out = generate(_length_model(), [5], params, eos_token_ids=[EOS])
    assert out.token_ids == expected
    assert out.finish_reason == "stop"


def test_beam_search_without_eos_runs_to_length():
    params = GenerationParams(max_new_tokens=4, num_beams=3)
    out = generate(_chain_model(10, [3, 5, 7, 2]), [1], params, eos_token_ids=[])
    assert out.token_ids == (3, 5, 7, 2)
    assert out.finish_reason == "length"


def test_streaming_refuses_beam_search():
    with pytest.raises(InvalidRequestError):
        next(generate_stream(_tree_model(), [1], GenerationParams(num_beams=2), [EOS]))


# ------------------------------------------------------------------ stop strings


def test_stop_matcher_holds_back_possible_prefix_then_releases():
    matcher = StopMatcher(["STOP"])
    assert [matcher.push(t) for t in ["ab", "S", "T", "x"]] == ["ab", "", "", "STx"]
    assert matcher.matched is None


def test_stop_matcher_cuts_before_first_match():
    matcher = StopMatcher(["lo w", "world"])
    assert matcher.push("Hel") == "He"  # "l" could start "lo w"
    assert matcher.push("lo") == "l"
    assert matcher.push(" wo") == ""
    assert matcher.matched == "lo w"
    assert matcher.push("more") == "" and matcher.flush() == ""


def test_stop_matcher_flush_releases_held_text():
    matcher = StopMatcher(["</s>"])
    assert matcher.push("end</") == "end"
    assert matcher.flush() == "</"


_PIECES = {1: "Hel", 2: "lo", 3: " wo", 4: "rld", 5: "!", 6: "<", 7: "/"}


def test_stop_string_split_across_tokens_ends_generation():
    model = _chain_model(10, [1, 2, 3, 4, 5])
    params = GenerationParams(max_new_tokens=10, stop=("o w",))
    events = list(generate_stream(model, [9], params, [EOS], PieceDetokenizer(_PIECES)))
    assert [e.token_id for e in events] == [1, 2, 3]
    assert [e.text for e in events] == ["Hel", "l", ""]  # "o" held back: could start "o w"
    assert [e.finish_reason for e in events] == [None, None, "stop"]
    out = generate(_chain_model(10, [1, 2, 3, 4, 5]), [9], params, [EOS], PieceDetokenizer(_PIECES))
    assert out.text == "Hell" and out.finish_reason == "stop" and out.token_ids == (1, 2, 3)


def test_streamed_text_never_shows_a_stop_prefix_and_is_flushed_at_length():
    model = _chain_model(10, [1, 6, 7, 5])
    params = GenerationParams(max_new_tokens=3, stop=("</s>",))
    events = list(generate_stream(model, [9], params, [EOS], PieceDetokenizer(_PIECES)))
    assert [e.text for e in events] == ["Hel", "", "</"]
    assert events[-1].finish_reason == "length"


def test_stop_strings_need_a_detokenizer():
    with pytest.raises(InvalidRequestError):
        generate(_tree_model(), [1], GenerationParams(stop=("x",)), [EOS])


def test_beam_search_applies_stop_strings_to_the_best_hypothesis():
    params = GenerationParams(max_new_tokens=5, num_beams=2, stop=("oHel",))
    pieces = {A: "Hel", B: "lo", C: "Hel", EOS: ""}
    model = ScriptedModel(6, {(): {A: 0.9}, (A,): {B: 0.9}, (A, B): {C: 0.9}, (A, B, C): {EOS: 0.9}})
    out = generate(model, [5], params, [EOS], PieceDetokenizer(pieces))
    assert out.token_ids == (A, B, C) and out.text == "Hell" and out.finish_reason == "stop"


# ------------------------------------------------------------------ logprobs


def test_top_logprobs_are_raw_model_log_softmax():
    model = ScriptedModel(8, {}, default={3: 0.5, 6: 0.3, 2: 0.1})
    params = GenerationParams(max_new_tokens=2, top_logprobs=3, do_sample=True, temperature=5.0, seed=0)
    out = generate(model, [1], params, eos_token_ids=[])
    expected = log_softmax(_logprobs(8, {3: 0.5, 6: 0.3, 2: 0.1}))
    assert len(out.logprobs) == 2
    for step, token in zip(out.logprobs, out.token_ids):
        assert step.token_id == token
        assert step.top_ids == (3, 6, 2)
        np.testing.assert_allclose(step.top_logprobs, np.log([0.5, 0.3, 0.1]), rtol=1e-5)
        assert step.logprob == pytest.approx(float(expected[token]))
    result = out.logprobs[0].to_result(lambda i: f"t{i}")
    assert result.top[0].token == "t3" and len(result.top) == 3


def test_no_logprobs_unless_asked():
    out = generate(_chain_model(10, [3]), [1], GenerationParams(max_new_tokens=1), [EOS])
    assert out.logprobs is None


def test_beam_search_logprobs_follow_the_chosen_hypothesis():
    params = GenerationParams(max_new_tokens=5, num_beams=2, top_logprobs=2)
    out = generate(_tree_model(), [5], params, eos_token_ids=[EOS])
    assert [s.token_id for s in out.logprobs] == [B, C, EOS]
    np.testing.assert_allclose([s.logprob for s in out.logprobs], np.log([0.4, 0.9, 0.9]), rtol=1e-5)


def test_only_the_best_num_beams_candidates_may_finish():
    # EOS ranks 3rd of the 4 candidates at step 1 (score -3.0): HF keeps such candidates
    # only as spares, never as finished hypotheses, so the worse (A, C) (-3.69) wins.
    model = ScriptedModel(50, {(): {A: 0.5, B: 0.4, EOS: 0.05}, (A,): {C: 0.05}})
    params = GenerationParams(max_new_tokens=2, num_beams=2, length_penalty=0.0)
    out = generate(model, [5], params, eos_token_ids=[EOS])
    assert out.token_ids == (A, C) and out.finish_reason == "length"


def test_beam_search_stops_once_no_running_beam_can_win():
    # After step 2 both slots hold finished hypotheses better than any running beam, so
    # HF's heuristic ends the search early instead of running to max_new_tokens.
    model = ScriptedModel(6, {(): {A: 0.5, B: 0.5}, (A,): {EOS: 0.9}, (B,): {EOS: 0.9}})
    params = GenerationParams(max_new_tokens=50, num_beams=2)
    out = generate(model, [5], params, eos_token_ids=[EOS])
    assert out.token_ids == (A, EOS) and out.num_steps == 2


@pytest.mark.parametrize("num_beams", [1, 2])
def test_empty_prompt_is_an_invalid_request(num_beams):
    with pytest.raises(InvalidRequestError):
        generate(_tree_model(), [], GenerationParams(num_beams=num_beams), [EOS])
