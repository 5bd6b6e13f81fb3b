"""Vectors of the engine's own example requests, stored in the bundle (runtime.embedder.KnownVectors)."""

from __future__ import annotations

import hashlib
import json
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from runtime.embedder import (KNOWN_VECTOR_TOLERANCE, KnownVectors, VectorSource, load_known_vectors, read_vectors,
                              write_vectors)
from runtime.loading import _create_sessions

SHA = VectorSource("ab" * 32, "ef" * 32, 256)


class CountingEmbed:
    """A deterministic text -> unit vector function that counts the texts it embeds."""

    def __init__(self, offset: float = 0.0):
        self.texts: list[str] = []
        self.offset = offset

    def __call__(self, texts):
        self.texts += list(texts)
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
            row = np.random.default_rng(seed).standard_normal(8).astype(np.float32)
            rows.append(row / np.linalg.norm(row) + self.offset)
        return np.stack(rows)


def test_known_texts_are_looked_up_and_the_rest_embedded_in_order():
    embed = CountingEmbed()
    known = {"Read the text.": np.full(8, 0.5, np.float32)}
    vectors = KnownVectors(embed, known)
    out = vectors(["What is the total?", "Read the text.", "Who signed it?", "What is the total?"])
    assert embed.texts == ["What is the total?", "Who signed it?"]  # each unknown text once
    np.testing.assert_array_equal(out[1], known["Read the text."])
    np.testing.assert_array_equal(out[0], CountingEmbed()(["What is the total?"])[0])
    np.testing.assert_array_equal(out[0], out[3])
    assert vectors(["Read the text."]).shape == (1, 8) and len(embed.texts) == 2


def test_seen_records_the_texts_asked_until_frozen():
    vectors = KnownVectors(CountingEmbed())
    vectors(["b", "a"])
    vectors(["a", "c"])
    vectors.freeze()
    vectors(["d"])
    assert vectors.seen == ("b", "a", "c")


def test_stored_vectors_round_trip_and_are_spot_checked(tmp_path):
    embed = CountingEmbed()
    texts = [f"example {i}" for i in range(10)]
    path = tmp_path / "vectors.json"
    write_vectors(path, texts, embed(texts), SHA, "test machine")
    first = path.read_bytes()
    write_vectors(path, texts, embed(texts), SHA, "test machine")
    assert path.read_bytes() == first  # the same input, the same bytes
    embed.texts.clear()
    known, why = read_vectors(path, SHA, embed)
    assert why == "" and list(known) == texts
    assert len(embed.texts) == 3  # only the spot checks are embedded again
    np.testing.assert_array_equal(np.stack([known[t] for t in texts]), CountingEmbed()(texts))


def test_vectors_of_another_embedder_or_machine_are_not_used(tmp_path):
    texts = ["one", "two", "three"]
    path = tmp_path / "vectors.json"
    write_vectors(path, texts, CountingEmbed()(texts), SHA, "test machine")
    for other in (VectorSource("cd" * 32, SHA.tokenizer_sha256, 256), VectorSource(SHA.embedder_sha256, "cd" * 32, 256),
                  VectorSource(SHA.embedder_sha256, SHA.tokenizer_sha256, 128)):
        known, why = read_vectors(path, other, CountingEmbed())
        assert not known and "another embedder file, tokenizer or length limit" in why
    known, why = read_vectors(path, SHA, CountingEmbed(offset=10 * KNOWN_VECTOR_TOLERANCE))
    assert not known and "differ from those computed here by up to 1.0e-03" in why
    known, _ = read_vectors(path, SHA, CountingEmbed(offset=KNOWN_VECTOR_TOLERANCE / 10))
    assert list(known) == texts  # rounding differences between CPUs are within the tolerance


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"format": 1}', '{"format": 99}'])
def test_an_unreadable_vectors_file_is_ignored_with_a_reason(tmp_path, content):
    path = tmp_path / "vectors.json"
    path.write_text(content)
    known, why = read_vectors(path, SHA, CountingEmbed())
    assert not known and str(path) in why


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_vectors_that_are_not_numbers_are_ignored(tmp_path, bad):
    path = tmp_path / "vectors.json"
    vectors = CountingEmbed()(["one", "two", "three"])
    vectors[1, 3] = bad
    write_vectors(path, ["one", "two", "three"], vectors, SHA, "test machine")
    known, why = read_vectors(path, SHA, CountingEmbed())
    assert not known and "not finite numbers" in why


def test_vectors_of_another_width_are_ignored_and_the_next_file_tried(tmp_path):
    narrow, right = tmp_path / "narrow.json", tmp_path / "right.json"
    write_vectors(narrow, ["one", "two"], CountingEmbed()(["one", "two"])[:, :4], SHA, "test machine")
    known, why = read_vectors(narrow, SHA, CountingEmbed())
    assert not known and "4 dimensions, the embedder makes 8" in why
    write_vectors(right, ["one", "two"], CountingEmbed()(["one", "two"]), SHA, "test machine")
    known, why = load_known_vectors([narrow, right], SHA, CountingEmbed())
    assert list(known) == ["one", "two"] and why == ""
    known, why = load_known_vectors([narrow], SHA, CountingEmbed())
    assert not known and "4 dimensions" in why


def test_vectors_that_do_not_fit_their_texts_are_ignored(tmp_path):
    path = tmp_path / "vectors.json"
    write_vectors(path, ["one", "two"], CountingEmbed()(["one", "two"]), SHA, "test machine")
    data = json.loads(path.read_text())
    data["texts"].append("three")
    path.write_text(json.dumps(data))
    known, why = read_vectors(path, SHA, CountingEmbed())
    assert not known and "3 texts and 2 vectors" in why


def _selection(sizes: dict[str, int]):
    return SimpleNamespace(components={name: SimpleNamespace(variant=SimpleNamespace(bytes=size))
                                       for name, size in sizes.items()})


def test_sessions_are_created_largest_first_on_pool_threads_and_returned_in_selection_order():
    selection = _selection({"small": 1, "large": 100, "middle": 10})
    started, threads = [], set()

    def create(name):
        started.append(name)
        threads.add(threading.current_thread().name)
        return f"session {name}"

    created, extra = _create_sessions(create, selection, cores=2, meanwhile=lambda: 7)
    assert extra == 7
    assert list(created.items()) == [("small", "session small"), ("large", "session large"),
                                     ("middle", "session middle")]
    assert started[0] == "large"  # submitted first; the other pool thread may start the next at once
    assert threads and all(name.startswith("wan-model-loader_") for name in threads)  # serve.py waits on these


def test_the_first_failing_component_in_selection_order_is_raised_after_all_ended():
    selection = _selection({"a": 1, "b": 100, "c": 10, "d": 5})
    finished = []

    def create(name):
        if name in ("a", "c"):  # "a" is first in the selection but the smallest: submitted last
            raise ValueError(f"cannot load {name}")
        finished.append(name)
        return name

    with pytest.raises(ValueError, match="cannot load a"):
        _create_sessions(create, selection, cores=2)
    assert sorted(finished) == ["b", "d"]


def test_a_preload_error_comes_after_the_sessions_errors():
    def fail():
        raise KeyError("tokenizer")

    with pytest.raises(KeyError, match="tokenizer"):
        _create_sessions(lambda name: name, _selection({"a": 1, "b": 2}), cores=2, meanwhile=fail)
    with pytest.raises(ValueError, match="cannot load b"):
        _create_sessions(lambda name: (_ for _ in ()).throw(ValueError(f"cannot load {name}")) if name == "b"
                         else name, _selection({"a": 1, "b": 2}), cores=2, meanwhile=fail)
