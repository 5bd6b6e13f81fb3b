"""Graph surgery on tf2onnx's NanoDet graph (build time; packaging/photo_models.py calls it).

TF.js fixed the batch to 1 (its reshape targets are computed from constants: [1, 80, -1]),
tf2onnx names outputs `Identity_<n>:0` and numbers its generated names differently on every
run. `batched_detector` gives the graph a batch axis, names its outputs by what they hold, and
names inner tensors in graph order so that the same inputs give the same bytes.

Not an importable package: put packaging/ on ``sys.path`` and ``import nanodet_graph``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


class GraphError(RuntimeError):
    """The graph is not the NanoDet graph this surgery expects."""


def rename(graph, mapping: dict[str, str]) -> None:
    """Rename tensors everywhere they appear (nodes, graph inputs and outputs)."""
    for node in graph.node:
        node.input[:] = [mapping.get(n, n) for n in node.input]
        node.output[:] = [mapping.get(n, n) for n in node.output]
    for value in (*graph.input, *graph.output):
        value.name = mapping.get(value.name, value.name)


def canonical_names(graph) -> None:
    """Name every inner tensor `t<k>` and node `<op>_<k>` in graph order, and sort the
    initializers: tf2onnx's generated names differ from run to run, and the build should be
    reproducible (same inputs, same bytes)."""
    fixed = {value.name for value in (*graph.input, *graph.output)}
    names: dict[str, str] = {}

    def renamed(name: str) -> str:
        return name if name in fixed or not name else names.setdefault(name, f"t{len(names)}")

    for index, node in enumerate(graph.node):
        node.name = f"{node.op_type}_{index}"
        node.input[:] = [renamed(n) for n in node.input]
        node.output[:] = [renamed(n) for n in node.output]
    ordered = sorted(graph.initializer, key=lambda i: int(renamed(i.name)[1:]))
    copies = [type(i)() for i in ordered]
    for copy, initializer in zip(copies, ordered):
        copy.CopyFrom(initializer)
        copy.name = renamed(initializer.name)
    del graph.initializer[:]
    graph.initializer.extend(copies)


def prune(graph) -> None:
    """Drop nodes and initializers nothing reaches (the shape arithmetic replaced below)."""
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    unused = [i for i in graph.initializer if i.name not in needed]
    for initializer in unused:
        graph.initializer.remove(initializer)


def computed_values(model, names: list[str], input_shape) -> dict:
    """Values of intermediate tensors on a zero input (they are constants of the graph)."""

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in names:
        probe.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.INT64, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.zeros(input_shape, np.float32)}
    return dict(zip(names, session.run(names, feed)))


def batched_detector(raw: Path, target: Path, labels: tuple[str, ...], source: str) -> None:
    """tf2onnx's NanoDet graph with a dynamic batch axis, outputs named `scores_<stride>` /
    `boxes_<stride>`, canonical inner names and `labels` (JSON) in its metadata."""

    model = onnx.load(str(raw))
    graph = model.graph
    constants = {i.name for i in graph.initializer}
    (image,) = graph.input
    input_shape = [d.dim_value for d in image.type.tensor_type.shape.dim]
    reshapes = [n for n in graph.node if n.op_type == "Reshape" and n.input[1] not in constants]
    values = computed_values(model, sorted({n.input[1] for n in reshapes}), input_shape)
    targets = {}  # named by value: tf2onnx shares one of several equal computations, not always the same one
    for name, value in values.items():
        if value[0] != 1:
            raise GraphError(f"reshape target {name} = {value.tolist()} does not start with the batch of 1")
        targets[name] = "reshape_keep_batch_" + "_".join(str(v) for v in value[1:])
        if targets[name] not in {i.name for i in graph.initializer}:
            graph.initializer.append(numpy_helper.from_array(np.asarray([0, *value[1:]], np.int64), targets[name]))
    for node in reshapes:
        node.input[1] = targets[node.input[1]]  # 0 copies the input's batch axis (Reshape, allowzero=0)
    mapping = {image.name: "images"}
    size = input_shape[-1]
    shapes = output_shapes(raw)  # tf2onnx declares no output shapes; onnxruntime infers them
    for output in graph.output:
        cells, width = shapes[output.name][1:]
        stride = size // round(cells ** 0.5)
        mapping[output.name] = f"{'scores' if width == len(labels) else 'boxes'}_{stride}"
    if sorted(mapping.values()) != sorted(["images", *(f"{k}_{s}" for k in ("scores", "boxes") for s in (8, 16, 32))]):
        raise GraphError(f"unexpected NanoDet outputs: {mapping}")
    rename(graph, mapping)
    prune(graph)
    canonical_names(graph)
    del graph.value_info[:]
    graph.doc_string = f"converted by tf2onnx from {source}"  # not the build's path
    for value in (*graph.input, *graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    set_metadata(model, {"labels": json.dumps(list(labels)), "input_size": str(size), "strides": "8,16,32",
                         "source": source})
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def output_shapes(path: Path) -> dict[str, list]:

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return {o.name: o.shape for o in session.get_outputs()}


def set_metadata(model, entries: dict[str, str]) -> None:
    del model.metadata_props[:]
    for key, value in sorted(entries.items()):
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
