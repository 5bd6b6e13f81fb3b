"""One MatMulNBits node alone, at the fused LM's shapes: what a row more costs (issue 13: what
limits 8 streams at once to ~2.5x one stream, bench/lm_graph_rows.py).

    .venv/bin/python bench/matmul_nbits_rows.py [--threads 2] [--repeats 7] [--out FILE]

Each node is built here with random weights (the timing does not depend on their values) at
the shapes of packaging/fused_lm.py's SmolLM2-135M graph: the packed q/k/v projection
(576 -> 960), gate/up (576 -> 3072), down (1536 -> 576) and the 8-bit LM head (576 -> 49152),
4-bit and 8-bit weights in blocks of 32 with uint8 zero points, and the two compute types
onnxruntime offers on the CPU: accuracy level 4 (activations quantized to int8 per block, what
the shipped graph uses) and 0 (fp32). Each configuration: the median of `--repeats` rounds of
20 calls, µs a call, for 1, 2, 4, 8, 16 and 32 rows; the last column is the 8-row call's
cost over the 1-row call's (8.0 would be no gain from batching at all). A node's weights stay
in the cache between calls here, which they do not in a whole decode step: read the ratios,
not the absolute times. The LM head is measured at level 4 only (level 0 dequantizes the
whole 28M-weight matrix on every call).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_common import cpu_line, report  # noqa: E402

BLOCK = 32
ROWS = (1, 2, 4, 8, 16, 32)
SHAPES = (("q/k/v", 576, 960), ("gate/up", 576, 3072), ("down", 1536, 576), ("LM head", 576, 49152))


def node(inputs: int, outputs: int, bits: int, accuracy_level: int) -> bytes:
    """A one-node graph Y = MatMulNBits(X, B) with random `bits`-bit weights, serialized."""
    from onnx import TensorProto, helper, numpy_helper

    blocks = inputs // BLOCK
    rng = np.random.default_rng(0)
    weights = rng.integers(0, 256, size=(outputs, blocks, BLOCK * bits // 8), dtype=np.uint8)
    zero_points = rng.integers(0, 256, size=(outputs * ((blocks * bits + 7) // 8),), dtype=np.uint8)
    scales = rng.random(outputs * blocks, dtype=np.float32) * 0.01
    matmul = helper.make_node("MatMulNBits", ["X", "B", "scales", "zero_points"], ["Y"], domain="com.microsoft",
                              K=inputs, N=outputs, bits=bits, block_size=BLOCK, accuracy_level=accuracy_level)
    graph = helper.make_graph([matmul], "matmul_nbits",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["rows", inputs])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["rows", outputs])],
                              [numpy_helper.from_array(weights, "B"), numpy_helper.from_array(scales, "scales"),
                               numpy_helper.from_array(zero_points, "zero_points")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    return model.SerializeToString()


def call_us(session, rows: int, inputs: int, repeats: int) -> float:
    """Median µs of one call with `rows` rows, over `repeats` rounds of 20 calls after 5 warm ones."""
    x = np.random.default_rng(1).standard_normal((rows, inputs)).astype(np.float32)
    for _ in range(5):
        session.run(None, {"X": x})
    rounds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(20):
            session.run(None, {"X": x})
        rounds.append((time.perf_counter() - started) / 20 * 1e6)
    return statistics.median(rounds)


def main() -> int:
    import onnxruntime as ort

    from runtime.placement import detect_hardware

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads (the LM's twin uses every usable core)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    lines = [
        "# MatMulNBits alone at the fused LM's shapes: µs a call by rows", "",
        f"{cpu_line(detect_hardware())}; onnxruntime {ort.__version__}. "
        f"`.venv/bin/python bench/matmul_nbits_rows.py --threads {args.threads} --repeats {args.repeats}`; "
        f"medians of {args.repeats} rounds of 20 calls, random weights, the node's weights warm in the cache.", "",
        "| layer (in -> out) | bits | compute | " + " | ".join(f"{rows} row{'s' if rows > 1 else ''}" for rows in ROWS)
        + " | 8 rows ÷ 1 row |",
        "|---|---:|---|" + "---:|" * (len(ROWS) + 1),
    ]
    for name, inputs, outputs in SHAPES:
        for bits in (4, 8):
            for level in ((4,) if name == "LM head" else (4, 0)):
                session = ort.InferenceSession(node(inputs, outputs, bits, level), options,
                                               providers=["CPUExecutionProvider"])
                times = {rows: call_us(session, rows, inputs, args.repeats) for rows in ROWS}
                compute = "int8 (level 4)" if level == 4 else "fp32 (level 0)"
                lines.append(f"| {name} ({inputs} -> {outputs}) | {bits} | {compute} | "
                             + " | ".join(f"{times[rows]:.0f}" for rows in ROWS) + f" | {times[8] / times[1]:.2f}x |")
                print(lines[-1], flush=True)
    return report("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    raise SystemExit(main())
