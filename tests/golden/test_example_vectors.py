"""The reader bundle's stored vectors of its example requests (packaging/reader_bundle.py,
runtime.embedder.KnownVectors): a load looks them up instead of embedding ~470 texts, a
first question that names an object looks up the classifier's 1,000 labels, and they are
the vectors this machine computes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from runtime import load_model
from runtime.embedder import KNOWN_VECTOR_TOLERANCE
from runtime.errors import BundleError


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_a_load_looks_up_every_example_and_gets_this_machines_vectors(reader_bundle, precision):
    adapter = load_model(reader_bundle, precision=precision)._adapter
    texts = list(adapter.startup_texts)
    assert len(texts) > 1300  # intent, party and amount examples, the photo models' labels
    assert all(adapter._match.knows(text) for text in texts)
    vocabulary = adapter._photos._vocabulary
    assert len(vocabulary.later_texts) == 1000 and set(vocabulary.later_texts) <= set(texts)
    assert vocabulary._classifier_vectors is None  # nothing looked them up yet
    embedded = []
    embed = adapter._match._embed
    adapter._match._embed = lambda batch: embedded.append(len(batch)) or embed(batch)
    assert len(vocabulary._vectors) == len(vocabulary.detector_labels) + 1000 and embedded == []
    stored = adapter._match(texts)
    fresh = adapter._embedder.embed(texts, truncate=True)
    assert float(np.max(np.abs(stored - fresh))) <= KNOWN_VECTOR_TOLERANCE


def test_a_bundle_without_stored_vectors_embeds_the_examples_and_decides_alike(reader_bundle, tmp_path):
    copy = tmp_path / "reader"
    shutil.copytree(reader_bundle, copy)
    manifest = json.loads((copy / "bundle.json").read_text())
    files = manifest["extra"].pop("embedder_vectors")
    manifest["files"] = [entry for entry in manifest["files"] if entry["file"] not in files]
    (copy / "bundle.json").write_text(json.dumps(manifest))
    plain = load_model(copy)._adapter
    stored = load_model(reader_bundle)._adapter
    assert not any(plain._match.knows(text) for text in plain.startup_texts)
    assert plain.startup_texts == stored.startup_texts
    for request in ("Transcribe the page.", "Give me an overview of this.", "Who signed it?", "What's this picture?"):
        assert plain._router.classify(request).name == stored._router.classify(request).name


def test_stored_vectors_must_be_listed_with_their_hash(reader_bundle, tmp_path):
    copy = tmp_path / "reader"
    shutil.copytree(reader_bundle, copy)
    manifest = json.loads((copy / "bundle.json").read_text())
    manifest["files"] = [entry for entry in manifest["files"] if not entry["file"].endswith(".json")
                         or entry["file"] not in manifest["extra"]["embedder_vectors"]]
    (copy / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="embedder_vectors names .* which 'files' does not list"):
        load_model(copy)


def test_a_second_assembly_keeps_the_stored_vectors(reader_bundle):
    import reader_bundle as assembly  # packaging/ is on sys.path (tests/conftest.py)

    listed = json.loads((reader_bundle / "bundle.json").read_text())["extra"]["embedder_vectors"]
    files = [reader_bundle / name for name in listed]
    before = [(path.stat().st_mtime_ns, path.read_bytes()) for path in files]
    assembly.assemble_reader_bundle(reader_bundle)  # nothing changed: the vectors are not computed again
    assert [(path.stat().st_mtime_ns, path.read_bytes()) for path in files] == before
