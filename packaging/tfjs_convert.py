"""Runs in the photo build environment (tensorflow-cpu + tf2onnx), never in .venv.

    python tfjs_convert.py MODEL_JSON OUT_ONNX INPUTS_NPZ REFERENCE_NPZ

1. Converts a TF.js graph model to ONNX with tf2onnx (`--tfjs`, opset 17).
2. Runs the same TF.js graph in TensorFlow itself (its GraphDef JSON and weights loaded as
   a TF graph, no conversion involved) on each input of INPUTS_NPZ (key `images`,
   (n, 3, 416, 416)), one image per run (the graph's batch is 1), and writes every output
   to REFERENCE_NPZ: the reference photo_models.py compares the ONNX graph against.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

OPSET = "17"
if not hasattr(np, "product"):
    np.product = np.prod  # tf2onnx 1.17 still calls np.product, removed in numpy 2


def convert(model_json: Path, output: Path) -> None:
    from tf2onnx import convert as tf2onnx_convert

    sys.argv = ["tf2onnx", "--tfjs", str(model_json), "--output", str(output), "--opset", OPSET]
    tf2onnx_convert.main()


def _weights(model: dict, folder: Path) -> dict[str, np.ndarray]:
    """Every weight of a TF.js graph model, dequantized (float16-stored floats included)."""
    values = {}
    for group in model["weightsManifest"]:
        data = b"".join((folder / path).read_bytes() for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"], dtype=np.int64))
            quantization = spec.get("quantization")
            stored = np.dtype(quantization["dtype"] if quantization else spec["dtype"])
            if quantization and quantization["dtype"] not in ("float16",):
                raise SystemExit(f"weight {spec['name']}: quantization {quantization} is not handled")
            raw = np.frombuffer(data, dtype=stored, count=count, offset=offset)
            offset += count * stored.itemsize
            values[spec["name"]] = raw.astype(spec["dtype"]).reshape(spec["shape"])
    return values


def tensorflow_outputs(model_json: Path, images: np.ndarray) -> dict[str, np.ndarray]:
    import tensorflow as tf
    from google.protobuf import json_format

    model = json.loads(model_json.read_text())
    graph_def = json_format.ParseDict(model["modelTopology"], tf.compat.v1.GraphDef())
    weights = _weights(model, model_json.parent)
    for node in graph_def.node:
        if node.op == "Const" and node.name in weights:
            # TF.js stores int64 constants as int32: give each its graph's declared dtype back.
            dtype = tf.dtypes.as_dtype(node.attr["dtype"].type)
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name].astype(dtype.as_numpy_dtype)))
    missing = [n.name for n in graph_def.node if n.op == "Const" and not n.attr["value"].HasField("tensor")]
    if missing:
        raise SystemExit(f"constants without weights: {missing[:5]}")
    inputs = list(model["signature"]["inputs"])
    outputs = sorted(model["signature"]["outputs"])
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        runs = [session.run(outputs, {inputs[0]: image[None]}) for image in images]
    return {name: np.concatenate([run[i] for run in runs]) for i, name in enumerate(outputs)}


if __name__ == "__main__":
    model_json, output, inputs, reference = map(Path, sys.argv[1:5])
    convert(model_json, output)
    np.savez(reference, **tensorflow_outputs(model_json, np.load(inputs)["images"]))
