"""int8 variants of an imported captioner, measured on this CPU (`import --int8`, issue 13).

A ViT-GPT2 captioner's time goes to two places: the encoder (a ViT-B/16's 197 positions:
matrix products that are compute bound) and the decoder step (one position a row: it reads
every weight once a token, memory bound). Each gets the int8 form that helps it:
- the encoder, dynamic int8 (onnxruntime's quantize_dynamic, per-channel 7-bit weights: AVX2's
  saturating kernels then compute the same integers as VNNI ones); an image is encoded alone,
  so its per-tensor activation scale couples nothing;
- the fused step (runtime.bundle.fuse_gpt2), 8-bit weights (MatMulNBits, blocks of 32, the
  token matrix of the head included; accuracy level 4 quantizes activations per block of
  one row, so rows stay independent and a lockstep batch decodes what each row would alone).
Neither is assumed good: both are measured here against fp32 on pictures made here (seeded
noise and gradients: no real image ships with the engine), greedy, teacher-forced on the
fp32 tokens up to the caption's end-of-text: top-1 agreement with the variant in place (the
other component fp32; both together is logged), and its speed on every core. Every variant of
the two components gets its figures (`Measurement`, this CPU's int8 kernel family), so
variant selection takes, per component, the fastest that keeps `TOP1_FLOOR`; the int8 ones
are held to that family (`accurate_on`): on a CPU of another, `import --int8` measures anew.

Needs the `onnx` package (the `build` extra), like the rest of import's graph work.
"""

from __future__ import annotations

import contextlib
import logging
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runtime.errors import BundleError

from .fuse_gpt2 import plain_gemm
from .hoist import save_model
from .manifest import Measurement, Variant, file_entry

logger = logging.getLogger("runtime.bundle")

TOP1_FLOOR = 0.95  # as the language model's variants (packaging/fused_lm.py)
PICTURES = 6
NEW_TOKENS = 20
BLOCK = 32
SOURCE = "wan2.2-turbo import --int8"
ENCODER_FILE = "encoder_dynamic_int8.onnx"
STEP_FILE = "decoder_with_past_fused_int8.onnx"


def add_variants(root: Path, components: dict[str, list[Variant]], generation: dict,
                 preprocessor: Path) -> dict[str, list[Variant]]:
    """`components` with int8 variants of `encoder` and of the fused `decoder_with_past`, every
    variant of the two measured (see the module docstring). Raises BundleError where the
    folder has no fused step, no fp32 encoder, or the onnx package or a recent enough
    onnxruntime is missing."""
    import onnxruntime

    step = components.get("decoder_with_past", [])
    encoders = [variant for variant in components.get("encoder", []) if variant.precision == "fp32"]
    if len(step) != 1 or not step[0].file.endswith("_fused.onnx"):
        raise BundleError(
            "import --int8 needs the GPT-2 step that import rebuilds of fused operators, and it did not for this "
            "folder: that takes an fp32 Optimum export of a GPT-2 decoder with cross-attention "
            "(decoder_with_past_model.onnx holding its own weights, no quantised decoder beside it) and the onnx "
            "package (the build extra; not in the frozen binary). bundle.json was written without int8 variants; "
            "import's log (the lines above, from the command line) says why the step was not rebuilt.")
    if len(encoders) != 1:
        raise BundleError("import --int8 needs one fp32 encoder (encoder_model.onnx); bundle.json was written "
                          "without int8 variants.")
    if tuple(int(part) for part in onnxruntime.__version__.split(".")[:2]) < (1, 22):
        raise BundleError(f"import --int8 needs onnxruntime 1.22 or later (8-bit MatMulNBits kernels); this is "
                          f"{onnxruntime.__version__}.")
    onnx_dir = (root / step[0].file).parent
    encoder_fp32, step_fp32 = root / encoders[0].file, root / step[0].file
    encoder_int8, step_int8 = onnx_dir / ENCODER_FILE, onnx_dir / STEP_FILE
    discard(root, components)
    began = time.monotonic()
    try:
        _dynamic_int8(encoder_fp32, encoder_int8)
        count = weights_8bit(step_fp32, step_int8)
        logger.info("import --int8: %s (dynamic int8) and %s (%d MatMulNBits) written in %.0f s",
                    encoder_int8.name, step_int8.name, count, time.monotonic() - began)
        figures = measure(encoder_fp32, encoder_int8, root / components["decoder_cross"][0].file, step_fp32,
                          step_int8, generation, preprocessor)
    except BundleError:
        discard(root, components)
        raise
    except Exception as error:  # a graph that cannot be read or run: say which, keep the plain import
        discard(root, components)
        raise BundleError(f"import --int8 could not quantize and measure {encoder_fp32.name} and {step_fp32.name} "
                          f"({type(error).__name__}: {error}); bundle.json was written without int8 variants. Check "
                          "that the ONNX files are complete (the folder's exporter wrote them whole).") from error
    result = dict(components)
    others = [variant for variant in components["encoder"] if variant is not encoders[0]]
    result["encoder"] = [_measured(encoders[0], figures["encoder"]["fp32"]),
                         _measured(_int8(root, encoder_int8), figures["encoder"]["int8"]), *others]
    result["decoder_with_past"] = [_measured(step[0], figures["step"]["fp32"]),
                                   _measured(_int8(root, step_int8), figures["step"]["int8"])]
    return result


def discard(root: Path, components: dict[str, list[Variant]]) -> None:
    """Remove int8 files an earlier `import --int8` wrote beside the step graph (and what an
    interrupted one left: partial files, the quantizer's shape-inferred copy)."""
    step = components.get("decoder_with_past", [])
    onnx_dir = (root / step[0].file).parent if step else (root / "onnx" if (root / "onnx").is_dir() else root)
    for name in (ENCODER_FILE, STEP_FILE):
        for path in (onnx_dir / name, onnx_dir / (name + ".partial")):
            path.unlink(missing_ok=True)
    for variant in components.get("encoder", []):
        (root / variant.file).with_name(Path(variant.file).stem + "-inferred.onnx").unlink(missing_ok=True)


def _int8(root: Path, path: Path) -> Variant:
    entry = file_entry(root, path.relative_to(root).as_posix())
    return Variant("int8", entry.file, entry.sha256, entry.bytes, name="int8")


def _measured(variant: Variant, figure: Measurement) -> Variant:
    """`variant` with `figure`; an int8 one is also held to the int8 kernel family it was
    measured on (`accurate_on`: selection drops it on CPUs of another family)."""
    from dataclasses import replace

    accurate_on = (figure.kernels,) if variant.precision == "int8" else variant.accurate_on
    return replace(variant, measured=(replace(figure, sha256=variant.sha256),), accurate_on=accurate_on)


# ------------------------------------------------------------------ quantization


def _dynamic_int8(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_name(target.name + ".partial")
    try:
        # given the model, not its path, the quantizer infers shapes in a temporary folder of its
        # own (from a path it writes <model>-inferred.onnx beside it, left there by an interrupt)
        with _quiet_root_logger():  # its advice to pre-process, and a line per unquantized tensor
            quantize_dynamic(onnx.load(str(source)), str(partial), weight_type=QuantType.QInt8, per_channel=True,
                             reduce_range=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


@contextlib.contextmanager
def _quiet_root_logger():
    """onnxruntime's quantizer logs through the root logger (and sets it up if nothing has):
    keep its warnings and notes out of import's output, errors excepted."""
    root = logging.getLogger()

    def errors_only(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR

    root.addFilter(errors_only)
    try:
        yield
    finally:
        root.removeFilter(errors_only)


def weights_8bit(source: Path, target: Path, accuracy_level: int = 4) -> int:
    """Write `source` with every matrix product by a constant 2-D weight (MatMul, Gemm without
    transposed input or scaling, MatMul by a Transpose of a weight) as MatMulNBits: 8-bit
    weights, asymmetric per block of `BLOCK` inputs. Returns how many it replaced."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    stored = {tensor.name: tensor for tensor in graph.initializer}
    transposed = {node.output[0]: node.input[0] for node in graph.node
                  if node.op_type == "Transpose" and node.input[0] in stored and len(stored[node.input[0]].dims) == 2}
    blocks: dict[str, tuple[str, str, str]] = {}
    nodes, replaced = [], 0
    for node in graph.node:
        weight_name, weight = _weight(node, stored, transposed, numpy_helper)
        if weight is None or weight.shape[0] % BLOCK:
            nodes.append(node)
            continue
        inputs, outputs = weight.shape
        if weight_name not in blocks:
            quantized, scales, zero_points = quantize_blocks(weight)
            names = tuple(f"{weight_name}.{part}" for part in ("q8", "scales", "zero_points"))
            graph.initializer.extend(numpy_helper.from_array(array, name)
                                     for array, name in zip((quantized, scales, zero_points), names))
            blocks[weight_name] = names
        bias = [node.input[2]] if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2] else []
        nodes.append(helper.make_node("MatMulNBits", [node.input[0], *blocks[weight_name], *(["", *bias] if bias else [])],
                                      list(node.output), name=f"{node.name or node.op_type}_{replaced}/MatMulNBits",
                                      domain="com.microsoft",
                                      K=inputs, N=outputs, bits=8, block_size=BLOCK, accuracy_level=accuracy_level))
        replaced += 1
    read = {name for node in nodes for name in node.input} | {value.name for value in graph.output}
    nodes = [node for node in nodes if not (node.op_type == "Transpose" and node.output[0] in transposed
                                            and node.output[0] not in read)]
    read = {name for node in nodes for name in node.input}
    kept = [tensor for tensor in graph.initializer if tensor.name in read]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    save_model(model, target)
    return replaced


def _weight(node, stored: dict, transposed: dict, numpy_helper) -> tuple[str, np.ndarray | None]:
    """(a name for it, weight [inputs, outputs]) when `node` multiplies by a constant matrix."""
    if node.op_type == "MatMul" and node.input[1] in transposed:
        name = transposed[node.input[1]]
        return f"{name}.T", numpy_helper.to_array(stored[name]).T
    if (node.op_type == "MatMul" or plain_gemm(node)) and node.input[1] in stored and len(stored[node.input[1]].dims) == 2:
        weight = numpy_helper.to_array(stored[node.input[1]])
        if weight.dtype != np.float32:
            return "", None
        if any(a.name == "transB" and a.i for a in node.attribute):
            return f"{node.input[1]}.T", weight.T
        return node.input[1], weight
    return "", None


def quantize_blocks(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MatMulNBits' 8-bit B [outputs, blocks, BLOCK], scales and zero points [outputs * blocks]
    for `weight` [inputs, outputs]: per block, uint8 q with w ~ scale * (q - zero_point), the
    block's range stretched to include 0 (so zero stays exact)."""
    inputs, outputs = weight.shape
    blocks = weight.T.reshape(outputs, inputs // BLOCK, BLOCK).astype(np.float64)
    low, high = np.minimum(blocks.min(-1), 0.0), np.maximum(blocks.max(-1), 0.0)
    scales = (high - low) / 255.0
    scales[scales == 0] = 1.0
    zero_points = np.clip(np.round(-low / scales), 0, 255)
    quantized = np.clip(np.round(blocks / scales[..., None]) + zero_points[..., None], 0, 255)
    return (quantized.astype(np.uint8), scales.astype(np.float32).reshape(-1),
            zero_points.astype(np.uint8).reshape(-1))


# ------------------------------------------------------------------ measurement


@dataclass
class _Run:
    tokens: list[int]
    step_s: list[float]


def measure(encoder_fp32: Path, encoder_int8: Path, cross: Path, step_fp32: Path, step_int8: Path,
            generation: dict, preprocessor: Path) -> dict[str, dict[str, Measurement]]:
    """Figures per component ("encoder", "step") and precision ("fp32", "int8"): see the module
    docstring. sha256 is left empty for the caller to fill in."""
    from runtime.placement import detect_hardware
    from runtime.preprocess import ImageProcessorConfig, preprocess

    from .hoist import cpu_session

    start = generation.get("decoder_start_token_id", generation.get("bos_token_id"))
    if isinstance(start, list):
        start = start[0]
    if not isinstance(start, int):
        raise BundleError("import --int8 needs decoder_start_token_id in config.json or generation_config.json.")
    ends = generation.get("eos_token_id")
    ends = set(ends if isinstance(ends, list) else [ends])
    hardware = detect_hardware()
    threads = max(1, hardware.usable_cores)
    sessions = {name: cpu_session(path, threads) for name, path in (
        ("encoder fp32", encoder_fp32), ("encoder int8", encoder_int8), ("cross", cross),
        ("step fp32", step_fp32), ("step int8", step_int8))}
    config = ImageProcessorConfig.from_file(preprocessor)
    encode_s = {"fp32": [], "int8": []}
    agree = {"encoder": 0, "step": 0, "both": 0}
    steps_s = {"fp32": [], "int8": []}
    total = 0
    for picture in _pictures():
        pixels = preprocess([picture], config)
        states = {}
        for precision in ("fp32", "int8"):
            session = sessions[f"encoder {precision}"]
            session.run(None, {"pixel_values": pixels})  # warm
            began = time.perf_counter()
            states[precision] = session.run(None, {"pixel_values": pixels})[0]
            encode_s[precision].append(time.perf_counter() - began)
        keys = {precision: _cross(sessions["cross"], states[precision]) for precision in states}
        reference = _decode(sessions["step fp32"], keys["fp32"], start)
        variants = {"step": _decode(sessions["step int8"], keys["fp32"], start, reference.tokens),
                    "encoder": _decode(sessions["step fp32"], keys["int8"], start, reference.tokens),
                    "both": _decode(sessions["step int8"], keys["int8"], start, reference.tokens)}
        steps_s["fp32"].extend(reference.step_s)
        steps_s["int8"].extend(variants["step"].step_s)
        # the caption's tokens up to its end-of-text: what follows it is never shown
        length = next((index + 1 for index, token in enumerate(reference.tokens) if token in ends), NEW_TOKENS)
        for name, run in variants.items():
            agree[name] += sum(a == b for a, b in zip(reference.tokens[:length], run.tokens[:length]))
        total += length
    cpu = (f"CPU: {hardware.cpu_model}; usable cores {hardware.usable_cores}; flags {', '.join(sorted(hardware.isa))}; "
           f"{threads} threads")
    metric = (f"top-1 agreement with fp32 (teacher-forced, {PICTURES} pictures made at import x {NEW_TOKENS} tokens, "
              "the other component fp32)")

    def figure(component: str, precision: str, seconds: list[float], unit: str) -> Measurement:
        accuracy = 1.0 if precision == "fp32" else agree[component] / total
        return Measurement(hardware.int8_kernels, round(1.0 / statistics.median(seconds), 2), unit, round(accuracy, 4),
                           metric, TOP1_FLOOR, cpu, SOURCE, "")

    figures = {"encoder": {p: figure("encoder", p, encode_s[p], "images/s") for p in ("fp32", "int8")},
               "step": {p: figure("step", p, steps_s[p], "steps/s") for p in ("fp32", "int8")}}
    for component, by_precision in figures.items():
        logger.info("import --int8: %s fp32 %.1f %s, int8 %.1f (top-1 agreement %.3f, floor %.2f)", component,
                    by_precision["fp32"].speed, by_precision["fp32"].unit, by_precision["int8"].speed,
                    by_precision["int8"].accuracy, TOP1_FLOOR)
    logger.info("import --int8: both int8 together, top-1 agreement %.3f over %d tokens", agree["both"] / total, total)
    return figures


def _pictures() -> list:
    """`PICTURES` pictures made here: seeded noise, and gradients with blocks of colour."""
    from PIL import Image

    rng = np.random.default_rng(0)
    height, width = 240, 320
    pictures = []
    for index in range(PICTURES):
        if index % 2:
            pixels = rng.integers(0, 256, (height, width, 3))
        else:
            ys, xs = np.mgrid[0:height, 0:width]
            pixels = np.stack([xs * 255 // width, ys * 255 // height, np.full_like(xs, 40 * index)], axis=-1)
            for _ in range(3):
                top, left = rng.integers(0, height - 60), rng.integers(0, width - 80)
                pixels[top:top + 60, left:left + 80] = rng.integers(0, 256, 3)
        pictures.append(Image.fromarray(pixels.astype(np.uint8)))
    return pictures


def _cross(session, states: np.ndarray) -> dict[str, np.ndarray]:
    return dict(zip([output.name for output in session.get_outputs()],
                    session.run(None, {"encoder_hidden_states": states})))


def _decode(session, cross: dict[str, np.ndarray], start: int, forced: list[int] | None = None) -> _Run:
    """Greedy `NEW_TOKENS` tokens (the choices), fed `forced` instead where given."""
    past_names = [item.name for item in session.get_inputs() if item.name.startswith("past_key_values.")]
    shapes = {item.name: item.shape for item in session.get_inputs()}
    past = {name: np.zeros([1, shapes[name][1], 0, shapes[name][3]], np.float32) for name in past_names}
    outputs = [item.name for item in session.get_outputs()]
    token, run = start, _Run([], [])
    for position in range(NEW_TOKENS):
        feeds = {"input_ids": np.array([[token]], np.int64), "position_ids": np.array([[position]], np.int64),
                 **past, **cross}
        began = time.perf_counter()
        results = session.run(None, feeds)
        run.step_s.append(time.perf_counter() - began)
        chosen = int(np.argmax(results[0][0, -1]))
        run.tokens.append(chosen)
        past = {name.replace("present.", "past_key_values.", 1): value
                for name, value in zip(outputs[1:], results[1:]) if name.startswith("present.")}
        token = forced[position] if forced is not None else chosen
    return run
