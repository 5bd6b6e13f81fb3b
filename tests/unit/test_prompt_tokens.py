"""The tokens a request's text counts against max_seq_len come from the bundle's tokenizer
(issue 12: a bound on words let 200,000 characters without a space through)."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer as Backend
from tokenizers import models, pre_tokenizers, trainers

from runtime.bundle import Manifest
from runtime.config import ModelConfig
from runtime.kinds.base import KindAdapter, LoadContext


def _bundle(tmp_path, tasks) -> LoadContext:
    backend = Backend(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.train_from_iterator(["hello world, the quick brown fox"] * 10, trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    backend.save(str(tmp_path / "tokenizer.json"))
    manifest = Manifest("m", "1", "test", tuple(tasks), {}, tokenizer="tokenizer.json")
    return LoadContext(tmp_path, manifest, {}, ModelConfig())


def test_a_kind_that_takes_prompts_counts_with_its_tokenizer(tmp_path):
    adapter = KindAdapter(_bundle(tmp_path, ["vqa", "read"]))
    assert adapter.count_prompt_tokens(["hello world"], 100) == (2, True)
    tokens, exact = adapter.count_prompt_tokens(["x" * 200_000], 100)
    assert tokens > 100 and not exact  # one 'word', thousands of tokens


@pytest.mark.parametrize("tasks", [["caption", "read"], ["embed", "seed"]])
def test_a_kind_without_prompts_has_no_counter(tmp_path, tasks):
    assert KindAdapter(_bundle(tmp_path, tasks)).count_prompt_tokens(["hello"], 100) is None
