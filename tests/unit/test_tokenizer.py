"""Tokenizer wrapper and incremental detokenizer, on tokenizers built in code."""

from __future__ import annotations

import random

import pytest
from tokenizers import Tokenizer as Backend
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

from runtime.errors import BundleError, InvalidRequestError
from runtime.tokenizer import IncrementalDetokenizer, Tokenizer

CORPUS = [
    "héllo wörld, café crème brûlée",
    "日本語のテキストです。東京は大きい。",
    "emoji 😀🎉👍🏽 and flags 🇫🇷 mixed with text",
    "The quick brown fox jumps over the lazy dog.",
    "naïve façade — “quotes” ½ € ß",
] * 20
SPECIALS = ["<s>", "</s>", "<pad>"]


def _byte_level_backend() -> Backend:
    backend = Backend(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    backend.train_from_iterator(CORPUS, trainer)
    bos = backend.token_to_id("<s>")
    backend.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", bos)])
    return backend


def _wordpiece_backend() -> Backend:
    backend = Backend(models.WordPiece(unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[UNK]", "[SEP]"])
    backend.train_from_iterator(CORPUS, trainer)
    return backend


def _metaspace_backend() -> Backend:
    backend = Backend(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=200, special_tokens=["<unk>"])
    backend.train_from_iterator(CORPUS, trainer)
    return backend


@pytest.fixture(scope="module")
def byte_level() -> Tokenizer:
    backend = _byte_level_backend()
    return Tokenizer(backend, eos_token_ids=[backend.token_to_id("</s>")],
                     bos_token_id=backend.token_to_id("<s>"), pad_token_id=backend.token_to_id("<pad>"))


@pytest.fixture(scope="module")
def wordpiece() -> Tokenizer:
    return Tokenizer(_wordpiece_backend())


@pytest.fixture(scope="module")
def metaspace() -> Tokenizer:
    return Tokenizer(_metaspace_backend())


# ------------------------------------------------------------------ Tokenizer


def test_round_trip_and_special_tokens(byte_level):
    text = "héllo 日本語 😀"
    ids = byte_level.encode(text)
    assert ids[0] == byte_level.bos_token_id
    assert byte_level.encode(text, add_special_tokens=False) == ids[1:]
    assert byte_level.decode(ids) == text
    assert byte_level.decode(ids, skip_special_tokens=False) == "<s>" + text
    assert byte_level.special_token_ids == {byte_level.token_to_id(t) for t in SPECIALS}
    assert byte_level.eos_token_ids == (byte_level.token_to_id("</s>"),)
    assert byte_level.id_to_token(byte_level.bos_token_id) == "<s>"
    assert byte_level.vocab_size == 400


@pytest.mark.parametrize("texts", [["héllo wörld, café"], ["日本語のテキスト", "emoji 😀🎉 ok"], ["x" * 300]])
def test_count_up_to_is_exact_within_the_limit(byte_level, texts):
    exact = sum(len(byte_level.encode(t, add_special_tokens=False)) for t in texts)
    assert byte_level.count_up_to(texts, 1000) == (exact, True)


def test_count_up_to_bounds_text_without_spaces_without_tokenizing_it(byte_level, monkeypatch):
    # Issue 12: one 'word' of 200,000 characters passed a bound that counted words.
    longest = max(len(entry) for entry in _byte_level_backend().get_vocab(with_added_tokens=True))
    text = "é" * 200_000
    exact = len(byte_level.encode(text, add_special_tokens=False))
    monkeypatch.setattr(byte_level, "_backend", None)  # the floor alone decides: nothing is tokenized
    tokens, is_exact = byte_level.count_up_to([text], 64)
    assert tokens == -(-200_000 // longest) and not is_exact and 64 < tokens <= exact


def test_count_up_to_stops_once_over_the_limit(byte_level):
    tokens, exact = byte_level.count_up_to(["abc " * 30, "de " * 5], 40)
    assert tokens > 40 and exact is False  # the second text was floored, not tokenized


def test_wordpiece_has_no_character_bound(wordpiece):
    # A word over max_input_chars_per_word is one [UNK]: counting characters would lie.
    assert wordpiece.count_up_to(["x" * 10_000], 5) == (1, True)


def test_bad_input_is_an_invalid_request(byte_level):
    with pytest.raises(InvalidRequestError):
        byte_level.encode(None)
    with pytest.raises(InvalidRequestError):
        byte_level.decode([1, byte_level.vocab_size])
    with pytest.raises(InvalidRequestError):
        byte_level.decode([-1])
    with pytest.raises(InvalidRequestError):
        byte_level.decode(["x"])


def test_bad_file_is_a_bundle_error(tmp_path):
    with pytest.raises(BundleError, match="Cannot load tokenizer"):
        Tokenizer.from_file(tmp_path / "missing.json")
    garbage = tmp_path / "tokenizer.json"
    garbage.write_text("{not json")
    with pytest.raises(BundleError):
        Tokenizer.from_file(garbage)


def test_from_file_loads_and_checks_special_ids(tmp_path):
    path = tmp_path / "tokenizer.json"
    _byte_level_backend().save(str(path))
    assert Tokenizer.from_file(path, eos_token_ids=[1]).decode(Tokenizer.from_file(path).encode("café")) == "café"
    with pytest.raises(BundleError, match="eos"):
        Tokenizer.from_file(path, eos_token_ids=[10_000])


def test_truncation_in_the_file_is_switched_off(tmp_path):
    backend = _byte_level_backend()
    backend.enable_truncation(max_length=3)
    assert len(Tokenizer(backend).encode(CORPUS[0])) > 3


# ------------------------------------------------------------------ IncrementalDetokenizer


def _stream(tokenizer, ids, **kwargs) -> list[str]:
    detokenizer = IncrementalDetokenizer(tokenizer, **kwargs)
    deltas = [detokenizer.push(i) for i in ids]
    deltas.append(detokenizer.finish())
    assert detokenizer.text == "".join(deltas)
    return deltas


def _random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = sorted(set("".join(CORPUS)))
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(count)]


@pytest.mark.parametrize("name", ["byte_level", "wordpiece", "metaspace"])
def test_deltas_of_real_text_concatenate_to_decode_and_never_split_a_character(name, request):
    tokenizer = request.getfixturevalue(name)
    for text in _random_texts(seed=11, count=150):
        ids = tokenizer.encode(text)
        full = tokenizer.decode(ids)
        deltas = _stream(tokenizer, ids)
        assert "".join(deltas) == full
        if "\ufffd" not in full:
            assert not any("\ufffd" in d for d in deltas)


def test_multibyte_character_is_held_back_until_complete(byte_level):
    ids = byte_level.encode("😀", add_special_tokens=False)
    assert len(ids) > 1  # the emoji's 4 bytes span several tokens
    detokenizer = IncrementalDetokenizer(byte_level)
    assert [detokenizer.push(i) for i in ids[:-1]] == [""] * (len(ids) - 1)
    assert detokenizer.push(ids[-1]) == "😀"


@pytest.mark.parametrize("skip_special_tokens", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_deltas_of_random_ids_concatenate_to_decode(byte_level, skip_special_tokens, seed):
    # Random ids include lone continuation bytes and special tokens: the full decode has
    # U+FFFD where bytes never complete, and the deltas must reproduce it exactly.
    rng = random.Random(seed)
    for _ in range(50):
        ids = [rng.randrange(byte_level.vocab_size) for _ in range(rng.randint(1, 30))]
        deltas = _stream(byte_level, ids, skip_special_tokens=skip_special_tokens)
        assert "".join(deltas) == byte_level.decode(ids, skip_special_tokens=skip_special_tokens)


def test_wordpiece_random_ids_concatenate_to_decode(wordpiece):
    rng = random.Random(5)
    for _ in range(100):
        ids = [rng.randrange(wordpiece.vocab_size) for _ in range(rng.randint(1, 20))]
        assert "".join(_stream(wordpiece, ids)) == wordpiece.decode(ids)


def test_decoding_window_stays_bounded(byte_level):
    class CountingTokenizer(Tokenizer):
        longest = 0

        def decode(self, ids, skip_special_tokens=True):
            CountingTokenizer.longest = max(CountingTokenizer.longest, len(ids))
            return super().decode(ids, skip_special_tokens)

    counting = CountingTokenizer(_byte_level_backend())
    ids = counting.encode(" ".join(CORPUS), add_special_tokens=False)
    assert len(ids) > 500
    assert "".join(_stream(counting, ids)) == byte_level.decode(ids)
    assert CountingTokenizer.longest <= 8


def test_context_ids_give_the_leading_space_a_full_decode_has(metaspace):
    prompt = metaspace.encode("the quick")
    completion = metaspace.encode("the quick brown fox")[len(prompt):]
    expected = metaspace.decode(prompt + completion)[len(metaspace.decode(prompt)):]
    assert expected.startswith(" ")
    with_context = _stream(metaspace, completion, context_ids=prompt)
    assert "".join(with_context) == expected
    assert not "".join(_stream(metaspace, completion)).startswith(" ")


def test_whole_words_and_their_ranks(wordpiece):
    words = wordpiece.whole_words()
    ranks = wordpiece.word_ranks()
    assert words and set(ranks) == set(words)
    assert all(word.isalpha() and word.islower() and len(word) >= 2 for word in words)
    assert all(ranks[word] == wordpiece._backend.token_to_id(word) for word in words)  # noqa: SLF001
