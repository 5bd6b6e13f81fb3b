"""Our outputs equal the PyTorch reference for tiny exported models (issue 2 contract)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import copy_folder
import runtime.bundle.fuse_gpt2 as fuse_gpt2
import runtime.bundle.hoist as hoist
from runtime.bundle.importer import import_folder
from runtime import load_model

CAPTIONERS = ("vit_gpt2", "trocr")


def _generated(reference_ids: list, start_id: int) -> tuple:
    """HF returns the decoder start token first; we return generated tokens only."""
    assert reference_ids[0] == start_id
    return tuple(reference_ids[1:])


@pytest.fixture(scope="module", params=["as-exported", "imported"])
def layout(request):
    return request.param


def _folder(ref, layout, tmp_path_factory, kind):
    target = tmp_path_factory.mktemp(f"{kind}-{layout}") / kind
    folder = copy_folder(ref.folder, target)
    if layout == "imported":
        import_folder(folder)
    return folder


@pytest.mark.parametrize("kind", CAPTIONERS)
def test_greedy_and_beam_equal_transformers(kind, layout, built, tmp_path_factory):
    ref = built(kind)
    model = load_model(_folder(ref, layout, tmp_path_factory, kind), precision="fp32")
    assert {c.name for c in model.components} == {"encoder", "decoder_merged"}
    for index, image in enumerate(ref.images):
        greedy = model.caption(image, max_new_tokens=ref.max_new_tokens)
        assert greedy.token_ids == _generated(ref.greedy_ids[index], ref.decoder_start_token_id)
        beam = model.caption(image, max_new_tokens=ref.max_new_tokens, num_beams=ref.num_beams)
        assert beam.token_ids == _generated(ref.beam_ids[index], ref.decoder_start_token_id)


# Import splits a step graph whose per-request work was redone every step (ViT-GPT2's
# cross-attention keys and values); TrOCR's decoder reads its cached ones and is kept whole.
SPLIT_COMPONENTS = {"vit_gpt2": {"encoder", "decoder_with_past", "decoder_cross"},
                    "trocr": {"encoder", "decoder", "decoder_with_past"}}


@pytest.mark.parametrize("kind", CAPTIONERS)
def test_split_decoder_layout_equals_transformers(kind, built, tmp_path):
    ref = built(kind)
    folder = copy_folder(ref.folder, tmp_path / kind, skip=("decoder_model_merged*",))
    import_folder(folder)
    model = load_model(folder, precision="fp32")
    assert {c.name for c in model.components} == SPLIT_COMPONENTS[kind]
    for index, image in enumerate(ref.images):
        result = model.caption(image, max_new_tokens=ref.max_new_tokens)
        assert result.token_ids == _generated(ref.greedy_ids[index], ref.decoder_start_token_id)
        beam = model.caption(image, max_new_tokens=ref.max_new_tokens, num_beams=ref.num_beams)
        assert beam.token_ids == _generated(ref.beam_ids[index], ref.decoder_start_token_id)


@pytest.mark.parametrize("kind", CAPTIONERS)
@pytest.mark.parametrize("split", [False, True], ids=["merged", "split"])
def test_captions_decoded_together_equal_transformers(kind, split, built, tmp_path, monkeypatch):
    """A server taking several requests decodes their captions in one lockstep batch
    (runtime.batching): every caption is still the one transformers gives alone."""
    from concurrent.futures import ThreadPoolExecutor

    ref = built(kind)
    folder = copy_folder(ref.folder, tmp_path / kind, skip=("decoder_model_merged*",) if split else ())
    import_folder(folder)
    model = load_model(folder, precision="fp32", max_concurrent=len(ref.images))
    for index, tokens in enumerate(_captioned_together(model, ref, monkeypatch)):
        assert tokens == _generated(ref.greedy_ids[index], ref.decoder_start_token_id)
    # beam search decodes each caption alone (on the batch's sessions, one step at a time)
    with ThreadPoolExecutor(len(ref.images)) as pool:
        beams = list(pool.map(lambda image: model.caption(image, max_new_tokens=ref.max_new_tokens,
                                                          num_beams=ref.num_beams), ref.images))
    for index, beam in enumerate(beams):
        assert beam.token_ids == _generated(ref.beam_ids[index], ref.decoder_start_token_id)


def _captioned_together(model, ref, monkeypatch) -> list[tuple[int, ...]]:
    """The greedy tokens of `ref.images` captioned by as many threads at once, checked to have
    run in one lockstep batch (runtime.batching)."""
    import threading

    import runtime.batching as batching

    adapter = model._adapter  # noqa: SLF001
    assert adapter.batcher is not None
    # Every request has said it is coming before any encodes, so the first batch holds them all
    # (the batch waits for announced requests; a long wait here, ended by the last arrival).
    with monkeypatch.context() as patch:
        patch.setattr(batching, "LOCKSTEP_LINGER_S", 30.0)
        together = threading.Barrier(len(ref.images), timeout=30)
        encode = adapter.encode
        patch.setattr(adapter, "encode", lambda images: (together.wait(), encode(images))[1])
        results = [None] * len(ref.images)

        def caption(index):
            results[index] = model.caption(ref.images[index], max_new_tokens=ref.max_new_tokens).token_ids

        threads = [threading.Thread(target=caption, args=(i,)) for i in range(len(ref.images))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert max(adapter.batcher.step_sizes) == len(ref.images), adapter.batcher.step_sizes
    return results


@pytest.mark.parametrize("graphs", ["fused", "hoisted"])
def test_the_split_step_graph_no_longer_reads_the_encoder_weights(graphs, built, tmp_path, monkeypatch):
    """The ViT-GPT2 step graph's cross-attention projections moved to `decoder_cross`: the
    step graph takes their results as inputs and holds none of those weights. Import rebuilds
    a GPT-2 decoder of fused operators (runtime.bundle.fuse_gpt2); where it cannot, the
    exported graph is cut in two (runtime.bundle.hoist)."""
    import onnx
    from onnx import numpy_helper

    ref = built("vit_gpt2")
    if graphs == "hoisted":
        monkeypatch.setattr(fuse_gpt2, "build", lambda *args: None)
    folder = copy_folder(ref.folder, tmp_path / "vit_gpt2", skip=("decoder_model_merged*",))
    manifest = import_folder(folder)
    step_file = manifest.components["decoder_with_past"].variants[0].file
    assert step_file.endswith(f"_{graphs}.onnx")
    step = onnx.load(str(folder / step_file))
    once = onnx.load(str(folder / manifest.components["decoder_cross"].variants[0].file))
    exported = onnx.load(str(folder / "onnx" / "decoder_with_past_model.onnx"))
    cross_weights = [numpy_helper.to_array(t) for t in exported.graph.initializer if "crossattention.c_attn.weight" in t.name]
    assert cross_weights

    def holds(model, weight) -> bool:
        return any(t.dims == list(weight.shape) and np.array_equal(numpy_helper.to_array(t), weight)
                   for t in model.graph.initializer)

    assert all(holds(once, weight) for weight in cross_weights)
    assert not any(holds(step, weight) for weight in cross_weights)
    assert {output.name for output in once.graph.output} <= {value.name for value in step.graph.input}
    fused_ops = {node.op_type for node in step.graph.node} & {"MultiHeadAttention", "SkipLayerNormalization"}
    assert bool(fused_ops) == (graphs == "fused")


def test_without_onnx_or_with_a_split_that_disagrees_import_keeps_the_graphs(built, tmp_path, monkeypatch):
    ref = built("vit_gpt2")
    exported = {"encoder", "decoder", "decoder_with_past"}
    folder = copy_folder(ref.folder, tmp_path / "plain", skip=("decoder_model_merged*",))
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
        assert set(import_folder(folder).components) == exported
    model = load_model(folder, precision="fp32")  # the exported split pair still decodes right
    assert model.caption(ref.images[0], max_new_tokens=ref.max_new_tokens).token_ids == _generated(
        ref.greedy_ids[0], ref.decoder_start_token_id)
    for name, patch_it in (("strict", lambda: (monkeypatch.setattr(hoist, "_TOLERANCE", -1.0),
                                               monkeypatch.setattr(fuse_gpt2, "_TOLERANCE", -1.0))),
                           ("broken", lambda: (monkeypatch.setattr(hoist, "check", _raises),
                                               monkeypatch.setattr(fuse_gpt2, "check", _raises)))):
        patch_it()
        folder = copy_folder(ref.folder, tmp_path / name, skip=("decoder_model_merged*",))
        assert set(import_folder(folder).components) == exported, name
        left = [path.name for pattern in ("*_hoisted.onnx*", "*_once.onnx*", "*_fused.onnx*")
                for path in (folder / "onnx").glob(pattern)]
        assert not left, (name, left)


def test_a_fused_pair_that_disagrees_leaves_the_exported_graph_split(built, tmp_path, monkeypatch):
    ref = built("vit_gpt2")
    monkeypatch.setattr(fuse_gpt2, "_TOLERANCE", -1.0)
    folder = copy_folder(ref.folder, tmp_path / "vit_gpt2", skip=("decoder_model_merged*",))
    manifest = import_folder(folder)
    assert manifest.components["decoder_with_past"].variants[0].file.endswith("_hoisted.onnx")
    assert not list((folder / "onnx").glob("*_fused.onnx*"))


def _raises(*args, **kwargs):
    raise RuntimeError("a graph the check's inputs do not fit")


def test_loading_a_folder_without_bundle_json_writes_nothing(built, tmp_path):
    ref = built("vit_gpt2")
    folder = copy_folder(ref.folder, tmp_path / "unimported", skip=("decoder_model_merged*",))
    before = sorted(path.name for path in folder.rglob("*"))
    model = load_model(folder, precision="fp32")
    assert {c.name for c in model.components} == {"encoder", "decoder", "decoder_with_past"}
    assert sorted(path.name for path in folder.rglob("*")) == before


def test_encoder_matches_pytorch(built):
    ref = built("vit_gpt2")
    model = load_model(ref.folder, precision="fp32")
    hidden = model._adapter.encode(ref.pil_images()[:1])
    np.testing.assert_allclose(hidden[0], ref.encoder_hidden_states[0], atol=1e-4)


@pytest.mark.parametrize("kind", CAPTIONERS)
def test_int8_variant_loads_and_decodes(kind, built, tmp_path):
    ref = built(kind)
    folder = copy_folder(ref.folder, tmp_path / kind)
    import_folder(folder)
    model = load_model(folder, precision="int8")
    assert {c.precision for c in model.components} == {"int8"}
    result = model.caption(ref.images[0], max_new_tokens=ref.max_new_tokens)
    assert 1 <= len(result.token_ids) <= ref.max_new_tokens
    assert result.finish_reason in ("stop", "length")


def test_generation_cost_is_linear(built):
    """Every step after the first feeds one token and the past grows by one."""
    ref = built("vit_gpt2")
    model = load_model(ref.folder, precision="fp32")
    session = model._adapter._decoder.first
    calls = []
    original = session.run

    def counting_run(feeds, output_names=None):
        past = [v for k, v in feeds.items() if k.startswith("past_key_values.") and ".encoder." not in k]
        calls.append((feeds["input_ids"].shape[1], past[0].shape[2]))
        return original(feeds, output_names)

    session.run = counting_run
    try:
        result = model.caption(ref.images[0], max_new_tokens=ref.max_new_tokens, stop=())
    finally:
        del session.run
    generated = len(result.token_ids)
    assert len(calls) == generated
    assert calls[0] == (1, 0)
    assert calls[1:] == [(1, past) for past in range(1, generated)]


@pytest.mark.parametrize("kind", ["clip", "clip_split"])
def test_clip_embeddings_match_pytorch(kind, layout, built, tmp_path_factory):
    ref = built(kind)
    model = load_model(_folder(ref, layout, tmp_path_factory, kind), precision="fp32")
    images = model.embed_images(list(ref.images))
    np.testing.assert_allclose(images, ref.image_embeds, atol=1e-4)
    texts = model.embed_texts(list(ref.texts))
    np.testing.assert_allclose(texts, ref.text_embeds, atol=1e-4)
    ranking = model.rank_texts(ref.images[0], list(ref.texts))
    assert ranking.order == tuple(int(i) for i in np.argsort(-ref.logits_per_image[0], kind="stable"))
    assert model.count_tokens(["a red square"]) >= 3  # bos + text + eos
    first = model.seed("a red square")
    assert first.seed == model.seed("a red square").seed
    assert first.seed != model.seed("a blue circle").seed
    assert abs(np.linalg.norm(first.embedding) - 1) < 1e-5


@pytest.mark.parametrize("kind", ["clip", "clip_split"])
def test_clip_long_lists_run_in_pieces_over_the_workers(kind, built, tmp_path_factory):
    """A list longer than one run is embedded in runs that the model's idle workers share,
    each vector what the item gets alone."""
    from runtime.kinds import clip

    ref = built(kind)
    model = load_model(_folder(ref, "as-exported", tmp_path_factory, kind), precision="fp32", max_concurrent=2)
    texts = [ref.texts[i % len(ref.texts)] + " " * (i % 3) for i in range(2 * clip._RUN_ROWS + 5)]
    images = [ref.images[i % len(ref.images)] for i in range(clip._RUN_ROWS + 3)]
    pieces = []
    mapped = model.worker_pool.map
    model.worker_pool.map = lambda function, items: pieces.append(len(items)) or mapped(function, items)
    try:
        together_texts, together_images = model.embed_texts(texts), model.embed_images(images)
    finally:
        del model.worker_pool.map
    assert pieces == [3, 2]
    alone_texts = np.concatenate([model.embed_texts([text]) for text in texts])
    alone_images = np.concatenate([model.embed_images([image]) for image in images])
    np.testing.assert_allclose(together_texts, alone_texts, atol=1e-5)
    np.testing.assert_allclose(together_images, alone_images, atol=1e-5)


def test_import_int8_writes_measured_variants_that_decode_alone_and_together(built, tmp_path, monkeypatch):
    """`import --int8`: a dynamic int8 encoder and an 8-bit-weight fused step beside fp32, every
    variant of the two measured on this CPU (runtime.bundle.captioner_int8); the 8-bit step keeps
    rows independent, so captions decoded in one lockstep batch equal those decoded alone."""
    from runtime.bundle import read_manifest
    from runtime.placement import detect_hardware

    ref = built("vit_gpt2")
    folder = copy_folder(ref.folder, tmp_path / "vit_gpt2", skip=("decoder_model_merged*", "*_quantized*"))
    import_folder(folder, int8=True)
    manifest = read_manifest(folder)  # parsed again: figures tied to each file's sha256
    kernels = detect_hardware().int8_kernels
    for component in ("encoder", "decoder_with_past"):
        variants = {v.label: v for v in manifest.components[component].variants}
        assert set(variants) == {"fp32", "int8"}
        for label, variant in variants.items():
            (figure,) = variant.measured
            assert figure.kernels == kernels and figure.speed > 0 and figure.sha256 == variant.sha256
            assert figure.accuracy == 1.0 if label == "fp32" else 0.0 <= figure.accuracy <= 1.0
    model = load_model(folder, precision="int8", max_concurrent=len(ref.images))
    assert {c.name: c.precision for c in model.components} == {
        "encoder": "int8", "decoder_with_past": "int8", "decoder_cross": "fp32"}
    # MatMulNBits: no DynamicQuantizeLinear, rows independent, so the int8 step batches
    alone = [model.caption(image, max_new_tokens=ref.max_new_tokens).token_ids for image in ref.images]
    assert all(len(tokens) for tokens in alone)
    assert _captioned_together(model, ref, monkeypatch) == alone


def test_import_int8_needs_a_fused_step_and_leaves_a_bundle_that_loads(built, tmp_path, monkeypatch):
    """Refused where import wrote no fused step (a split GPT-2, TrOCR, a folder with quantised
    decoders beside it); bundle.json is then the plain import's, listing no removed graph."""
    from runtime.errors import BundleError

    cases = {"split": ("vit_gpt2", ("decoder_model_merged*", "*_quantized*")),
             "quantised beside it": ("vit_gpt2", ("decoder_model_merged.onnx",)),
             "trocr": ("trocr", ("decoder_model_merged*", "*_quantized*"))}
    for case, (kind, skip) in cases.items():
        ref = built(kind)
        folder = copy_folder(ref.folder, tmp_path / case.replace(" ", "_") / kind, skip=skip)
        import_folder(folder)  # an earlier plain import: its split graphs are listed
        with monkeypatch.context() as patch:
            if case == "split":
                patch.setattr(fuse_gpt2, "build", lambda *args: None)
            with pytest.raises(BundleError, match="fused operators"):
                import_folder(folder, int8=True)
        model = load_model(folder)  # every file bundle.json lists is there and loads
        tokens = model.caption(ref.images[0], max_new_tokens=ref.max_new_tokens).token_ids
        if case != "quantised beside it":  # (there the decoder is int8 alone)
            assert tokens == _generated(ref.greedy_ids[0], ref.decoder_start_token_id), case


def test_a_plain_import_after_int8_removes_the_int8_files(built, tmp_path):
    from runtime import plan_load
    from runtime.bundle import read_manifest

    ref = built("vit_gpt2")  # with the exporter's own quantised encoder beside the fp32 one
    folder = copy_folder(ref.folder, tmp_path / "vit_gpt2", skip=("decoder_model_merged*",))
    manifest = import_folder(folder, int8=True)
    int8 = [v for c in manifest.components.values() for v in c.variants if v.measured and v.precision == "int8"]
    assert len(int8) == 2 and all(v.accurate_on == (v.measured[0].kernels,) for v in int8)
    assert {v.file for v in manifest.components["encoder"].variants} >= {"onnx/encoder_model_quantized.onnx"}
    # the 8-bit step keeps rows apart: the plan batches it on every core like fp32
    assert plan_load(folder, precision="int8", max_concurrent=4).batched_components() == ("decoder_with_past",)
    import_folder(folder)
    assert not [path.name for path in (folder / "onnx").glob("*int8*")]
    assert not any(v.measured for c in read_manifest(folder).components.values() for v in c.variants)
