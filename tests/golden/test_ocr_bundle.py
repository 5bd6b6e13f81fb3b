"""The `ocr` bundle through the public API: load, read, integrity, task errors."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image, ImageDraw, ImageFont

import runtime.session
from runtime import load_model
from runtime.errors import IntegrityError, TaskNotSupportedError


@pytest.fixture(scope="module")
def model(ocr_bundle):
    return load_model(ocr_bundle)


def _invoice_line() -> Image.Image:
    image = Image.new("RGB", (900, 90), "white")
    font = ImageFont.load_default(size=36)
    ImageDraw.Draw(image).text((20, 20), "Total due: 42.50 EUR", fill="black", font=font)
    return image


def test_read_through_public_api(model):
    result = model.read(_invoice_line())
    assert "".join(result.text.split()) == "Totaldue:42.50EUR"
    line = result.lines[0]
    assert 0.8 < line.confidence <= 1.0
    xs = [x for x, _ in line.box]
    assert min(xs) < 60 and max(xs) < 900


def test_components_report_choice(model):
    names = {c.name: c for c in model.components}
    assert set(names) == {"ocr_det", "ocr_cls", "ocr_rec"}
    assert all(c.provider == "CPUExecutionProvider" and c.precision == "fp32" for c in names.values())
    assert model.tasks == ("read",)


def test_task_the_bundle_cannot_do_names_what_it_can(model):
    with pytest.raises(TaskNotSupportedError, match="cannot do 'caption'. Tasks it can do: read"):
        model.caption(_invoice_line())


def test_flipped_byte_refused_before_any_session(ocr_bundle, tmp_path, monkeypatch):
    bundle = tmp_path / "ocr"
    shutil.copytree(ocr_bundle, bundle)
    target = bundle / "models" / "ch_PP-OCRv4_rec_infer.onnx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))

    def no_session(*args, **kwargs):
        raise AssertionError("a session was created for a tampered bundle")

    monkeypatch.setattr(runtime.session.ComponentSession, "__init__", no_session)
    with pytest.raises(IntegrityError) as caught:
        load_model(bundle)
    assert caught.value.path.endswith("ch_PP-OCRv4_rec_infer.onnx")
    assert caught.value.expected != caught.value.actual


def test_shipped_graphs_are_the_wheels_rewritten(ocr_bundle):
    import onnx

    import ocr_bundle as assembly

    for name in ("ch_PP-OCRv4_det_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"):
        shipped = onnx.load(str(ocr_bundle / "models" / name), load_external_data=False)
        notes = {entry.key: entry.value for entry in shipped.metadata_props}
        assert notes["rewritten"].startswith(f"from {name} (sha256 ")
        assert (ocr_bundle / "models" / name).read_bytes() != (assembly.rapidocr_models_dir() / name).read_bytes()
        assert not any(node.op_type == "Clip" for node in shipped.graph.node)  # every hard-swish rewritten


def test_a_rewrite_that_changes_the_function_stops_the_build(tmp_path, monkeypatch):
    """Folding a shift into a padded convolution's bias is wrong at the borders; the detector's
    map hides it on a random batch (it stays near 0), its logits do not."""
    import conv_graph
    import ocr_bundle as assembly

    monkeypatch.setattr(assembly, "FOLDED_CACHE", tmp_path)
    monkeypatch.setattr(conv_graph, "_pads", lambda conv: False)
    with pytest.raises(SystemExit, match="computes something else"):
        assembly.prepare_folded(assembly.rapidocr_models_dir() / "ch_PP-OCRv4_det_infer.onnx")
    assert not list(tmp_path.rglob("*.onnx"))

