"""The contract-test factory builds what it claims: loadable ONNX folders in the
transformers.js layout, quantized variants, and PyTorch references that onnxruntime agrees with."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import factory  # noqa: E402

sys.path.insert(0, str(factory.ONNX_TOOLS_DIR))
import onnx_tools  # noqa: E402

CAPTIONERS = ("vit_gpt2", "trocr")
JSON_FILES = {
    "config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
}
EXPECTED_ONNX = {
    "vit_gpt2": {
        "encoder_model.onnx",
        "decoder_model.onnx",
        "decoder_with_past_model.onnx",
        "decoder_model_merged.onnx",
        "encoder_model_quantized.onnx",
        "decoder_model_merged_quantized.onnx",
    },
    "clip": {"model.onnx", "model_quantized.onnx"},
    "clip_split": {
        "vision_model.onnx",
        "text_model.onnx",
        "vision_model_quantized.onnx",
        "text_model_quantized.onnx",
    },
}
EXPECTED_ONNX["trocr"] = EXPECTED_ONNX["vit_gpt2"]
QUANTIZED = onnx_tools.QUANTIZED_OP_TYPES


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("kind", factory.KINDS)
def test_folder_has_transformers_js_layout(built, kind):
    folder = built(kind).folder
    root_files = {path.name for path in folder.iterdir() if path.is_file()}
    expected_json = JSON_FILES | ({"generation_config.json"} if kind in CAPTIONERS else set())
    assert expected_json <= root_files
    assert not any(name.endswith(".onnx") for name in root_files)
    assert {path.name for path in (folder / "onnx").iterdir()} == EXPECTED_ONNX[kind]


@pytest.mark.parametrize("kind", factory.KINDS)
def test_every_onnx_file_loads(built, kind):
    for path in sorted((built(kind).folder / "onnx").glob("*.onnx")):
        assert _session(path).get_outputs(), path.name


@pytest.mark.parametrize("kind", CAPTIONERS)
def test_merged_decoder_is_quantized_inside_its_if_branches(built, kind):
    onnx_dir = built(kind).folder / "onnx"
    quantized = onnx_dir / "decoder_model_merged_quantized.onnx"
    top_level = [node.op_type for node in onnx.load(str(quantized), load_external_data=False).graph.node]
    assert "If" in top_level
    nested = onnx_tools.count_subgraph_ops(quantized)
    assert nested["MatMulInteger"] > 0 and nested["DynamicQuantizeLinear"] > 0
    total = onnx_tools.count_ops(quantized)["MatMulInteger"]
    assert total == nested["MatMulInteger"] + top_level.count("MatMulInteger")
    assert not QUANTIZED & set(onnx_tools.count_ops(onnx_dir / "decoder_model_merged.onnx"))
    # The tiny decoder's graph is mostly shape arithmetic, so its file may not shrink; the
    # encoder is dominated by weights and must.
    encoder = onnx_dir / "encoder_model.onnx"
    assert (onnx_dir / "encoder_model_quantized.onnx").stat().st_size < encoder.stat().st_size


@pytest.mark.parametrize("kind", ("clip", "clip_split"))
def test_clip_variants_are_quantized(built, kind):
    for path in (built(kind).folder / "onnx").glob("*_quantized.onnx"):
        counts = onnx_tools.count_ops(path)
        assert counts["MatMulInteger"] > 0, path.name


def test_quantize_int8_raises_when_nothing_is_quantized(tmp_path):
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Add", ["x", "x"], ["y"])],
        "add_only",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    onnx.save(model, tmp_path / "add.onnx")
    with pytest.raises(onnx_tools.QuantizationError, match="no quantized ops"):
        onnx_tools.quantize_int8(tmp_path / "add.onnx", tmp_path / "add_quantized.onnx")


def _two_layer_graph(path: Path, rng: np.random.Generator) -> None:
    """x (batch, rows, 16) @ w1 + b1 -> Relu -> @ w2: two MatMuls quantize_dynamic quantizes."""
    w1, b1, w2 = rng.normal(size=(16, 24)), rng.normal(size=24), rng.normal(size=(24, 8))
    constants = [onnx.numpy_helper.from_array(a.astype(np.float32), n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"))]
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("MatMul", ["x", "w1"], ["h"]), onnx.helper.make_node("Add", ["h", "b1"], ["hb"]),
         onnx.helper.make_node("Relu", ["hb"], ["r"]), onnx.helper.make_node("MatMul", ["r", "w2"], ["y"])],
        "two_layers",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", "rows", 16])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["batch", "rows", 8])],
        initializer=constants,
    )
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)]), path)


def test_per_token_activations_scale_each_row_on_its_own(tmp_path):
    rng = np.random.default_rng(7)
    _two_layer_graph(tmp_path / "fp32.onnx", rng)
    onnx_tools.quantize_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx", per_channel=True, reduce_range=True)
    assert onnx_tools.per_token_activations(tmp_path / "int8.onnx", tmp_path / "rows.onnx") == 2
    ops = onnx_tools.count_ops(tmp_path / "rows.onnx")
    assert ops["DynamicQuantizeLinear"] == 0 and ops["MatMulInteger"] == 0 and ops["MatMulIntegerToFloat"] == 2
    session = _session(tmp_path / "rows.onnx")
    # rows of very different magnitude, one mostly negative: a per-tensor scale would crush the
    # small ones, a scale taken from the maximum alone would clip the negative one
    x = rng.normal(size=(2, 4, 16)).astype(np.float32) * np.array([1e-3, 1.0, 50.0, 1.0], np.float32)[None, :, None]
    x[:, 3] = -np.abs(x[:, 3]) + 0.1
    (together,) = session.run(["y"], {"x": x})
    for b in range(2):
        for r in range(4):
            (alone,) = session.run(["y"], {"x": x[b:b + 1, r:r + 1]})
            np.testing.assert_array_equal(alone[0, 0], together[b, r])  # no row depends on another
    np.testing.assert_allclose(together, _per_row_reference(tmp_path / "int8.onnx", x), rtol=1e-4, atol=1e-5)


def _per_row_reference(int8_path: Path, x: np.ndarray) -> np.ndarray:
    """The two-layer graph computed in numpy as the rewrite means it: each row quantized on
    its own (scale max|x| / 127, codes round(x / scale) + 128), integer products with the
    graph's own int8 weights, then the row's and the weights' scales."""
    constants = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(int8_path).graph.initializer}

    def layer(rows: np.ndarray, weight: str) -> np.ndarray:
        scale = np.maximum(np.abs(rows).max(axis=-1, keepdims=True) / 127, 1e-12).astype(np.float32)
        codes = np.clip(np.round(rows / scale) + 128, 0, 255).astype(np.int64) - 128
        weights = constants[f"{weight}_quantized"].astype(np.int64) - constants[f"{weight}_zero_point"].astype(np.int64)
        return (codes @ weights).astype(np.float32) * scale * constants[f"{weight}_scale"]

    hidden = np.maximum(layer(x, "w1") + constants["b1"], 0)
    return layer(hidden, "w2")


def test_per_token_activations_refuse_a_pattern_they_do_not_know(tmp_path):
    rng = np.random.default_rng(8)
    _two_layer_graph(tmp_path / "fp32.onnx", rng)
    onnx_tools.quantize_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    model = onnx.load(tmp_path / "int8.onnx")
    quantize = next(n for n in model.graph.node if n.op_type == "DynamicQuantizeLinear")
    model.graph.node.append(onnx.helper.make_node("Identity", [quantize.output[2]], ["stray"]))
    model.graph.output.append(onnx.helper.make_tensor_value_info("stray", onnx.TensorProto.UINT8, []))
    onnx.save(model, tmp_path / "odd.onnx")
    with pytest.raises(onnx_tools.QuantizationError, match="used beyond MatMulInteger"):
        onnx_tools.per_token_activations(tmp_path / "odd.onnx", tmp_path / "rows.onnx")
    model = onnx.load(tmp_path / "int8.onnx")
    model.opset_import[0].version = 18  # ReduceMax takes its axes as an input there
    onnx.save(model, tmp_path / "opset18.onnx")
    with pytest.raises(onnx_tools.QuantizationError, match="opset 18"):
        onnx_tools.per_token_activations(tmp_path / "opset18.onnx", tmp_path / "rows.onnx")


@pytest.mark.parametrize("kind", CAPTIONERS)
def test_encoder_matches_pytorch(built, kind):
    reference = built(kind)
    session = _session(reference.folder / "onnx" / "encoder_model.onnx")
    (hidden,) = session.run(["last_hidden_state"], {"pixel_values": reference.pixel_values})
    np.testing.assert_allclose(hidden, reference.encoder_hidden_states, atol=1e-4, rtol=0)


def _greedy_with_merged_decoder(reference) -> list:
    """Greedy decoding with onnxruntime alone, cache included, one image at a time."""
    onnx_dir = reference.folder / "onnx"
    encoder = _session(onnx_dir / "encoder_model.onnx")
    decoder = _session(onnx_dir / "decoder_model_merged.onnx")
    past_inputs = [i for i in decoder.get_inputs() if i.name.startswith("past_key_values.")]
    results = []
    for row in range(reference.pixel_values.shape[0]):
        (hidden,) = encoder.run(None, {"pixel_values": reference.pixel_values[row : row + 1]})
        ids = [reference.decoder_start_token_id]
        past = {i.name: np.zeros((1, i.shape[1], 0, i.shape[3]), np.float32) for i in past_inputs}
        for step in range(reference.max_new_tokens):
            feeds = {
                "input_ids": np.array([[ids[-1]]], dtype=np.int64),
                "encoder_hidden_states": hidden,
                "use_cache_branch": np.array([step > 0]),
                **past,
            }
            outputs = dict(zip([o.name for o in decoder.get_outputs()], decoder.run(None, feeds)))
            ids.append(int(outputs["logits"][0, -1].argmax()))
            # Cross-attention entries (TrOCR's "*.encoder.*") come from the first step only:
            # the with-past branch does not recompute them (transformers.js keeps them too).
            present = {name: outputs[name.replace("past_key_values", "present")] for name in past}
            past = {name: past[name] if step > 0 and ".encoder." in name else present[name] for name in past}
            if ids[-1] == reference.eos_token_id:
                break
        results.append(ids)
    return results


@pytest.mark.parametrize("kind", CAPTIONERS)
def test_references_are_long_and_onnx_greedy_agrees(built, kind):
    reference = built(kind)
    assert max(len(ids) for ids in reference.greedy_ids) >= factory.MIN_GREEDY_TOKENS + 1
    starts = {ids[0] for ids in reference.greedy_ids + reference.beam_ids}
    assert starts == {reference.decoder_start_token_id}
    assert _greedy_with_merged_decoder(reference) == reference.greedy_ids


def test_reference_images_are_the_processor_inputs(built):
    from transformers import ViTImageProcessor

    reference = built("vit_gpt2")
    assert [image.shape for image in reference.images] == [(50, 40, 3), (48, 64, 3)]
    processor = ViTImageProcessor.from_pretrained(str(reference.folder))
    pixel_values = processor(images=reference.pil_images(), return_tensors="np")["pixel_values"]
    np.testing.assert_array_equal(pixel_values, reference.pixel_values)


def test_generation_config_names_the_special_tokens(built):
    for kind in CAPTIONERS:
        reference = built(kind)
        generation = json.loads((reference.folder / "generation_config.json").read_text())
        assert generation["decoder_start_token_id"] == reference.decoder_start_token_id
        assert generation["eos_token_id"] == reference.eos_token_id
        assert generation["pad_token_id"] == reference.pad_token_id


def test_clip_combined_matches_pytorch(built):
    reference = built("clip")
    session = _session(reference.folder / "onnx" / "model.onnx")
    names = ["image_embeds", "text_embeds", "logits_per_image"]
    image_embeds, text_embeds, logits = session.run(
        names,
        {
            "pixel_values": reference.pixel_values,
            "input_ids": reference.input_ids,
            "attention_mask": reference.attention_mask,
        },
    )
    np.testing.assert_allclose(image_embeds, reference.image_embeds, atol=1e-4, rtol=0)
    np.testing.assert_allclose(text_embeds, reference.text_embeds, atol=1e-4, rtol=0)
    np.testing.assert_allclose(logits, reference.logits_per_image, atol=1e-3, rtol=0)


def test_clip_split_matches_pytorch(built):
    reference = built("clip_split")
    onnx_dir = reference.folder / "onnx"
    (image_embeds,) = _session(onnx_dir / "vision_model.onnx").run(
        ["image_embeds"], {"pixel_values": reference.pixel_values}
    )
    (text_embeds,) = _session(onnx_dir / "text_model.onnx").run(
        ["text_embeds"], {"input_ids": reference.input_ids, "attention_mask": reference.attention_mask}
    )
    normalise = factory._l2_normalise
    np.testing.assert_allclose(normalise(image_embeds), reference.image_embeds, atol=1e-4, rtol=0)
    np.testing.assert_allclose(normalise(text_embeds), reference.text_embeds, atol=1e-4, rtol=0)
    # The split graphs take any batch and sequence length (dynamic axes really dynamic).
    length = int(reference.attention_mask[0].sum())
    assert length < reference.input_ids.shape[1]
    (one_text,) = _session(onnx_dir / "text_model.onnx").run(
        ["text_embeds"],
        {
            "input_ids": reference.input_ids[:1, :length],
            "attention_mask": reference.attention_mask[:1, :length],
        },
    )
    np.testing.assert_allclose(normalise(one_text), reference.text_embeds[:1], atol=1e-4, rtol=0)


def test_builds_are_deterministic_and_cached(built, contract_dir, tmp_path):
    assert factory.cached_build("clip", contract_dir) is built("clip")
    assert (contract_dir / "clip.stamp").read_text() == factory.build_stamp("clip")
    fresh = factory.build_clip(tmp_path / "clip")
    np.testing.assert_array_equal(fresh.input_ids, built("clip").input_ids)
    np.testing.assert_array_equal(fresh.image_embeds, built("clip").image_embeds)
    tokenizer_json = (tmp_path / "clip" / "tokenizer.json").read_bytes()
    assert tokenizer_json == (built("clip").folder / "tokenizer.json").read_bytes()
