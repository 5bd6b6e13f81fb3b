"""Log-prob tokens are named by the text they produced (issue 12): joined, they equal the
returned text, whatever byte-level BPE, multi-byte characters and stop strings do."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tokenizers import Tokenizer as Backend
from tokenizers import decoders, models, pre_tokenizers, trainers

from runtime.generation import TokenTexts, run_generation
from runtime.params import GenerationParams
from runtime.results import GenerationResult, TextDelta
from runtime.tokenizer import Tokenizer

CORPUS = ["the best café in town 😀 costs 3 €", "best wishes, naïve façade", "emoji 🎉👍🏽 ok"] * 20
TEXT = "the best café 😀 costs 3 €, best wishes"


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    backend = Backend(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    backend.train_from_iterator(CORPUS, trainer)
    return Tokenizer(backend, eos_token_ids=[backend.token_to_id("</s>")])


class ChainModel:
    """Greedy follows `chain`, then eos."""

    def __init__(self, vocab_size: int, chain: list[int], eos: int):
        self.vocab_size, self.chain, self.eos = vocab_size, chain, eos

    def start(self, batch_size):
        return [0] * batch_size

    def step(self, token_ids, state):
        rows = []
        for count in state:  # tokens generated so far on this row
            target = self.chain[count] if count < len(self.chain) else self.eos
            row = np.full(self.vocab_size, math.log(0.1 / self.vocab_size), dtype=np.float32)
            row[target] = math.log(0.9)
            rows.append(row)
        return np.stack(rows), [count + 1 for count in state]

    def reorder(self, state, rows):
        return [state[r] for r in rows]


def _run(tokenizer, **params):
    chain = tokenizer.encode(TEXT, add_special_tokens=False)
    eos = tokenizer.eos_token_ids[0]
    model = ChainModel(tokenizer.vocab_size, chain, eos)
    events = list(run_generation(model, [eos], GenerationParams(max_new_tokens=len(chain) + 2, **params),
                                 tokenizer, [eos]))
    result = events[-1]
    assert isinstance(result, GenerationResult)
    return [e for e in events if isinstance(e, TextDelta)], result, chain


def test_the_text_holds_bytes_split_across_tokens(tokenizer):
    # The case under test: some tokens hold only part of a character.
    pieces = [tokenizer.decode([i]) for i in tokenizer.encode(TEXT, add_special_tokens=False)]
    assert any("\ufffd" in piece for piece in pieces)
    assert any(tokenizer.id_to_token(i).startswith("Ġ") for i in tokenizer.encode(TEXT, add_special_tokens=False))


@pytest.mark.parametrize("stop", [(), ("costs",), ("😀",), ("€, b",)])
def test_streamed_token_texts_join_to_each_delta_and_to_the_text(tokenizer, stop):
    deltas, result, _ = _run(tokenizer, top_logprobs=3, stop=stop)
    expected = TEXT.split(stop[0])[0] if stop else TEXT
    assert result.text == expected == "".join(d.text for d in deltas)
    for delta in deltas:
        assert "".join(step.chosen.token for step in delta.logprobs) == delta.text
    assert "".join(step.chosen.token for step in result.logprobs) == result.text
    assert not any("Ġ" in step.chosen.token for step in result.logprobs)
    for step in result.logprobs:
        chosen = [t for t in step.top if t.token_id == step.chosen.token_id]
        assert chosen and chosen[0].token == step.chosen.token


def test_beam_search_token_texts_join_to_the_text(tokenizer):
    _, result, chain = _run(tokenizer, top_logprobs=2, num_beams=2)
    assert result.text == TEXT
    assert [s.chosen.token_id for s in result.logprobs][: len(chain)] == chain
    assert "".join(step.chosen.token for step in result.logprobs) == TEXT


def test_token_texts_give_held_text_to_the_token_shown_with_it():
    texts = TokenTexts()
    assert texts.split(["", "é"], "é") == ["", "é"]
    assert texts.split([" sto"], "") == [""]  # held: maybe a stop string
    assert texts.split(["p!"], " stop!") == [" stop!"]
    assert texts.split([" end", "</s>"], " en") == [" en", ""]  # a stop string cut " end"
