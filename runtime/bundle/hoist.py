"""Step-invariant work moved out of a decoder's step graph at import (issue 13, comparison 5).

Optimum's with-past GPT-2 decoder (ViT-GPT2 captioners) takes the cross-attention keys and
values as `past_key_values.<n>.encoder_key/value` inputs but never reads them: every step
recomputes them from the encoder's hidden states, 12 Gemms of 197x768 by 768x1536, 28 of a
step's 52 ms on a 2-core EPYC. `hoist` splits such a graph in two, with no names matched:
every node whose inputs come only from the `varying` input (the encoder's hidden states),
initializers and constants moves to a graph run once per request; the float tensors it
hands to the rest become inputs of the step graph (shape arithmetic stays in both, it is
cheap). `check` runs the original and the split graphs side by side on random inputs and
accepts the split only if every output agrees; import keeps the original graphs otherwise.

Needs the `onnx` package (a build and test dependency, not in the frozen binary): without
it, import keeps the graphs as exported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger("runtime.bundle")

_TOLERANCE = 1e-5  # absolute, on logits and presents; the split graphs agreed to 0.0 on ViT-GPT2
_PAST = "past_key_values."


@dataclass(frozen=True)
class Hoisted:
    once: Path  # varying input -> the step graph's new inputs
    step: Path  # the original step graph's inputs (the varying one kept) + the new ones
    moved_nodes: int
    boundary: tuple[str, ...]


def hoist(step_path: Path, varying: str, once_path: Path, new_step_path: Path) -> Hoisted | None:
    """Split `step_path` (see the module docstring) into `once_path` and `new_step_path`;
    None when nothing heavy depends on `varying` alone, the graph cannot be split (logged)
    or `onnx` is not installed."""
    try:
        import onnx  # noqa: F401 - only to know whether it is there
    except ImportError:
        logger.info("import: the onnx package is not installed; decoder graphs are kept as exported")
        return None
    try:
        return _split(step_path, varying, once_path, new_step_path)
    except Exception as error:  # noqa: BLE001 - an optimisation: the exported graphs still work
        logger.warning("import: could not move %s's step-invariant work out (%s); kept as exported", step_path, error)
        return None


def _split(step_path: Path, varying: str, once_path: Path, new_step_path: Path) -> Hoisted | None:
    import onnx
    from onnx import helper, shape_inference

    model = onnx.load(str(step_path))
    graph = model.graph
    if varying not in {i.name for i in graph.input}:
        return None
    static = {i.name for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            static.update(node.output)
    invariant, moved = {varying}, []
    for node in graph.node:
        inputs = [name for name in node.input if name]
        if node.op_type == "Constant" or not all(name in invariant or name in static for name in inputs):
            continue
        if any(name in invariant for name in inputs):
            moved.append(node)
            invariant.update(node.output)
        else:
            static.update(node.output)  # computed from constants alone: stays where it is
    inferred = shape_inference.infer_shapes(model)
    infos = {value.name: value for value in [*inferred.graph.input, *inferred.graph.output, *inferred.graph.value_info]}
    types = {name: value.type.tensor_type.elem_type for name, value in infos.items()}
    floating = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE, onnx.TensorProto.BFLOAT16}
    # Shape arithmetic (integer outputs) is cheap: it stays in the step graph, and the once
    # graph gets its own copy of what it reads.
    heavy = [node for node in moved if all(types.get(out) in floating for out in node.output)]
    if not any(node.op_type in ("Gemm", "MatMul", "Conv") for node in heavy):
        return None
    heavy_ids = {id(node) for node in heavy}
    step_nodes = _live([node for node in graph.node if id(node) not in heavy_ids], {out.name for out in graph.output})
    wanted = {name for node in step_nodes for name in node.input} | {out.name for out in graph.output}
    boundary = tuple(dict.fromkeys(out for node in heavy for out in node.output if out in wanted))
    if not boundary or any(name not in infos or not infos[name].type.tensor_type.HasField("shape") for name in boundary):
        return None  # the new inputs need a type and a rank

    # The once graph: the heavy nodes with what they read (constants, shape arithmetic) before them.
    needed = {name for node in heavy for name in node.input}
    once_nodes: list = []
    for node in reversed(graph.node):
        if id(node) in heavy_ids or (set(node.output) & needed and node.op_type != "Constant" and
                                     all(name in invariant or name in static for name in node.input if name)):
            once_nodes.append(node)
            needed.update(node.input)
        elif node.op_type == "Constant" and set(node.output) & needed:
            once_nodes.append(node)
    once_nodes.reverse()
    varying_input = next(i for i in graph.input if i.name == varying)
    once_graph = helper.make_graph(
        once_nodes, "hoisted_once", [varying_input],
        [infos[name] for name in boundary],
        [tensor for tensor in graph.initializer if tensor.name in needed])
    step_inputs = list(graph.input) + [infos[name] for name in boundary]
    used = {name for node in step_nodes for name in node.input}
    step_graph = helper.make_graph(step_nodes, graph.name, step_inputs, list(graph.output),
                                   [tensor for tensor in graph.initializer if tensor.name in used])
    for target, new_graph in ((once_path, once_graph), (new_step_path, step_graph)):
        new_model = helper.make_model(new_graph, opset_imports=model.opset_import, ir_version=model.ir_version,
                                      producer_name="wan2.2-turbo import (hoisted)")
        onnx.save(new_model, str(target))
    return Hoisted(once_path, new_step_path, len(heavy), boundary)


def _live(nodes: list, outputs: set[str]) -> list:
    """`nodes` without those whose outputs nothing reads (what fed only the moved work)."""
    while True:
        read = {name for node in nodes for name in node.input} | outputs
        kept = [node for node in nodes if any(name in read for name in node.output)]
        if len(kept) == len(nodes):
            return nodes
        nodes = kept


def check(original: Path, hoisted: Hoisted, varying: str, varying_length: int = 7) -> str | None:
    """None when the split graphs give the original's outputs on random inputs (batch 1 and 2,
    past length 0 and 3) and every hoisted tensor is batch first; else why not."""
    import onnxruntime as ort

    def session(path: Path):
        options = ort.SessionOptions()
        options.log_severity_level = 3
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    reference, once, step = session(original), session(hoisted.once), session(hoisted.step)
    rng = np.random.default_rng(0)
    spec = {i.name: i for i in reference.get_inputs()}
    hidden = spec[varying].shape[-1]
    if not isinstance(hidden, int):
        return f"{varying} has no fixed width"
    for batch in (1, 2):
        states = rng.standard_normal((batch, varying_length, hidden)).astype(np.float32)
        moved = dict(zip([o.name for o in once.get_outputs()], once.run(None, {varying: states})))
        for name, value in moved.items():
            if value.ndim == 0 or value.shape[0] != batch:
                return f"the hoisted tensor {name} is not batch first ({value.shape})"
        for past_length in (0, 3):
            feeds = {}
            for name, item in spec.items():
                if name == varying:
                    feeds[name] = states
                elif name == "input_ids":
                    feeds[name] = rng.integers(0, 100, (batch, 1), dtype=np.int64)
                elif name.startswith(_PAST):
                    dims = [batch, *[d if isinstance(d, int) else past_length for d in item.shape[1:]]]
                    if ".encoder" in name:
                        dims[2] = varying_length
                    feeds[name] = rng.standard_normal(dims).astype(np.float32)
                elif name == "use_cache_branch":
                    feeds[name] = np.array([True])
                else:
                    return f"the step graph takes {name}, which the check cannot fill"
            expected = reference.run(None, feeds)
            got = step.run(None, {**{n: v for n, v in feeds.items() if n in {i.name for i in step.get_inputs()}},
                                  **moved})
            for output, want, have in zip(reference.get_outputs(), expected, got):
                if want.shape != have.shape or float(np.max(np.abs(want - have), initial=0.0)) > _TOLERANCE:
                    return f"output {output.name} differs (batch {batch}, past {past_length})"
    return None
