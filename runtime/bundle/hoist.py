"""Step-invariant work moved out of a decoder's step graph at import (issue 13, comparison 5).

Optimum's with-past GPT-2 decoder (ViT-GPT2 captioners) has no inputs for cached
cross-attention keys and values: every step recomputes them from the encoder's hidden states,
12 Gemms of 197x768 by 768x1536, 28 of a step's 52 ms on a 2-core EPYC. `split` cuts such a
graph in two, with no names matched: every node whose inputs come only from the `varying`
input (the encoder's hidden states), initializers and constants, and whose outputs are
floats, moves to a graph run once per request; the tensors it hands to the rest become inputs
of the step graph (integer shape arithmetic stays in the step graph; the once graph gets its
own copy of what it reads). `check` runs the exported and the split graphs side by side on
random inputs and accepts the split only if every output agrees; import keeps the exported
graphs otherwise, and whenever anything here fails.

Needs the `onnx` package (the `build` extra, which `python3 build.py test` installs; not in
the frozen binary): without it, import keeps the graphs as exported.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runtime.cached_decoder import PAST_PREFIX

logger = logging.getLogger("runtime.bundle")

_TOLERANCE = 1e-5  # absolute, on logits and presents; the split graphs agreed to 0.0 on ViT-GPT2
_HEAVY_OPS = ("Gemm", "MatMul", "Conv")


@dataclass(frozen=True)
class Hoisted:
    once: Path  # varying input -> the step graph's new inputs
    step: Path  # the exported step graph's inputs + the new ones
    once_nodes: int
    boundary: tuple[str, ...]


def split(step_path: Path, varying: str, once_path: Path, new_step_path: Path) -> Hoisted | None:
    """Split `step_path` (see the module docstring) into `once_path` and `new_step_path`, or
    None (logged) when there is nothing to move, it cannot be split or `onnx` is missing.
    Neither file is left behind unless both were written."""
    try:
        import onnx  # noqa: F401 - only to know whether it is there
    except ImportError:
        logger.info("import: the onnx package is not installed; decoder graphs are kept as exported")
        return None
    try:
        result, reason = _split(step_path, varying, once_path, new_step_path)
    except Exception as error:  # noqa: BLE001 - an optimisation: the exported graphs still work
        result, reason = None, f"{type(error).__name__}: {error}"
    if result is None:
        discard(once_path, new_step_path)
        logger.info("import: %s kept as exported (%s)", step_path.name, reason)
    return result


def discard(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _split(step_path: Path, varying: str, once_path: Path, new_step_path: Path) -> tuple[Hoisted | None, str]:
    import onnx
    from onnx import shape_inference

    model = onnx.load(str(step_path))
    graph = model.graph
    nodes = list(graph.node)  # one wrapper per node, held: nodes are told apart by id()
    if varying not in {i.name for i in graph.input}:
        return None, f"it takes no {varying}"
    if any(attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
           for node in nodes for attribute in node.attribute):
        return None, "it has nodes with subgraphs (If, Loop, Scan)"
    invariant, static = _invariant(nodes, graph.initializer, varying)
    inferred = shape_inference.infer_shapes(model)
    infos = {value.name: value for value in [*inferred.graph.input, *inferred.graph.output, *inferred.graph.value_info]}
    floating = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE, onnx.TensorProto.BFLOAT16}
    heavy = [node for node in nodes if invariant.get(id(node)) and
             all(out in infos and infos[out].type.tensor_type.elem_type in floating for out in node.output)]
    if not any(node.op_type in _HEAVY_OPS for node in heavy):
        return None, f"no matrix product depends on {varying} alone"
    heavy_ids = {id(node) for node in heavy}
    step_nodes = _live([node for node in nodes if id(node) not in heavy_ids], {out.name for out in graph.output})
    wanted = {name for node in step_nodes for name in node.input} | {out.name for out in graph.output}
    boundary = tuple(dict.fromkeys(out for node in heavy for out in node.output if out in wanted))
    if not boundary or not all(infos[name].type.tensor_type.HasField("shape") for name in boundary):
        return None, "a tensor it would hand over has no known rank"
    once_nodes = _once_nodes(nodes, heavy_ids, invariant, static)
    _write(model, once_nodes, [next(i for i in graph.input if i.name == varying)], [infos[name] for name in boundary],
           "hoisted_once", once_path)
    step_inputs = [i for i in graph.input if i.name not in {t.name for t in graph.initializer}]  # IR < 4 lists them
    _write(model, step_nodes, step_inputs + [infos[name] for name in boundary], list(graph.output), graph.name,
           new_step_path)
    return Hoisted(once_path, new_step_path, len(once_nodes), boundary), ""


def _invariant(nodes: list, initializers, varying: str) -> tuple[dict[int, bool], set[str]]:
    """Per node id whether it depends on `varying` and nothing else but constants; and the
    names computed from constants alone."""
    static = {tensor.name for tensor in initializers}
    static.update(out for node in nodes if node.op_type == "Constant" for out in node.output)
    depends, invariant = {varying}, {}
    for node in nodes:
        inputs = [name for name in node.input if name]
        if node.op_type == "Constant" or not all(name in depends or name in static for name in inputs):
            continue
        if any(name in depends for name in inputs):
            invariant[id(node)] = True
            depends.update(node.output)
        else:
            static.update(node.output)
    return invariant, static


def _once_nodes(nodes: list, heavy_ids: set[int], invariant: dict[int, bool], static: set[str]) -> list:
    """The heavy nodes with what they read before them (constants, shape arithmetic), in order."""
    needed = {name for node in nodes if id(node) in heavy_ids for name in node.input}
    chosen = []
    for node in reversed(nodes):
        computable = node.op_type == "Constant" or invariant.get(id(node)) or all(out in static for out in node.output)
        if id(node) in heavy_ids or (computable and set(node.output) & needed):
            chosen.append(node)
            needed.update(node.input)
    return chosen[::-1]


def _live(nodes: list, outputs: set[str]) -> list:
    """`nodes` without those whose outputs nothing reads (what fed only the moved work)."""
    while True:
        read = {name for node in nodes for name in node.input} | outputs
        kept = [node for node in nodes if any(name in read for name in node.output)]
        if len(kept) == len(nodes):
            return nodes
        nodes = kept


def _write(model, nodes: list, inputs: list, outputs: list, name: str, target: Path) -> None:
    """A model of `nodes` with the initializers they read, `model`'s opsets, functions and
    metadata, written through a temporary file (`save_model`)."""
    from onnx import helper

    used = {item for node in nodes for item in node.input}
    graph = helper.make_graph(nodes, name, inputs, outputs, [t for t in model.graph.initializer if t.name in used])
    new_model = helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version,
                                  functions=model.functions, producer_name="wan2.2-turbo import (hoisted)")
    new_model.metadata_props.extend(model.metadata_props)
    save_model(new_model, target)


_NUMPY = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
          "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}


def check(original: Path, hoisted: Hoisted, varying: str, varying_length: int = 7) -> str | None:
    """None when the split graphs give the exported graph's outputs on random inputs (batch 1
    and 2, past length 0 and 3) and every hoisted tensor is batch first; else why not."""
    return compare(original, hoisted.once, hoisted.step, varying, lambda want: _TOLERANCE, varying_length)


def compare(original: Path, once_path: Path, step_path: Path, varying: str, allowed, varying_length: int = 7
            ) -> str | None:
    """None when a pair rebuilt from the exported step graph `original` (a graph run once on
    `varying`, whose outputs the step graph takes) gives `original`'s outputs on random inputs,
    batch 1 and 2, past length 0 and 3, each within `allowed(expected output)` at most, and
    every tensor the once graph hands over is batch first; else why not. A step graph that
    takes position_ids gets the past length (one new token a row)."""
    reference, once, step = cpu_session(original), cpu_session(once_path), cpu_session(step_path)
    rng = np.random.default_rng(0)
    spec = {i.name: i for i in reference.get_inputs()}
    if any(item.type not in _NUMPY for item in spec.values()) or not isinstance(spec[varying].shape[-1], int):
        return "its inputs are not all of types the check can fill"
    step_names = {i.name for i in step.get_inputs()}
    for batch in (1, 2):
        width, dtype = spec[varying].shape[-1], _NUMPY[spec[varying].type]
        states = rng.standard_normal((batch, varying_length, width)).astype(dtype)
        moved = dict(zip([o.name for o in once.get_outputs()], once.run(None, {varying: states})))
        for name, value in moved.items():
            if value.ndim == 0 or value.shape[0] != batch:
                return f"the hoisted tensor {name} is not batch first ({value.shape})"
        for past_length in (0, 3):
            feeds = random_feeds(spec, varying, states, batch, past_length, varying_length, rng)
            if feeds is None:
                return "the step graph takes inputs the check cannot fill"
            expected = reference.run(None, feeds)
            fed = {**{n: v for n, v in feeds.items() if n in step_names}, **moved}
            if "position_ids" in step_names:
                fed["position_ids"] = np.full((batch, 1), past_length, dtype=np.int64)
            for output, want, have in zip(reference.get_outputs(), expected, step.run(None, fed)):
                if want.shape != have.shape:
                    return f"output {output.name} has shape {have.shape}, not {want.shape}"
                error = float(np.max(np.abs(want - have), initial=0.0))
                if error > allowed(want):
                    return f"output {output.name} differs by {error:.2g} (batch {batch}, past {past_length})"
    return None


def save_model(model, target: Path) -> None:
    """Write an onnx `model` at `target` through a temporary file: a reader never sees half a
    file, and a failed write leaves none."""
    import onnx

    partial = target.with_name(target.name + ".partial")
    try:
        onnx.save(model, str(partial))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def cpu_session(path: Path, threads: int = 0):
    """A quiet onnxruntime CPU session of `path` (`threads` intra-op, 0: onnxruntime's
    default), for import's checks and measurements."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def random_feeds(spec: dict, varying: str, states: np.ndarray, batch: int, past_length: int, encoder_length: int,
                 rng) -> dict | None:
    """Feeds for an exported step graph whose inputs are `spec` (name -> onnxruntime NodeArg):
    `states` as `varying`, one random token a row, random pasts; None for an input it cannot fill."""
    feeds = {varying: states}
    for name, item in spec.items():
        dtype = _NUMPY[item.type]
        if name == varying:
            continue
        if name == "input_ids":
            feeds[name] = rng.integers(0, 100, (batch, 1)).astype(dtype)
        elif name.startswith(PAST_PREFIX):
            dims = [batch, *[d if isinstance(d, int) else past_length for d in item.shape[1:]]]
            if ".encoder" in name:
                dims[2] = encoder_length
            feeds[name] = rng.standard_normal(dims).astype(dtype)
        elif name == "use_cache_branch":
            feeds[name] = np.array([True])
        else:
            return None
    return feeds
