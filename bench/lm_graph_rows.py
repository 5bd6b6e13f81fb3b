"""The fused int4 LM graph alone, no batcher, no Python decoding loop: what one decode step costs
with more rows and with longer KV buffers (issue 13: what limits 8 streams at once).

    .venv/bin/python bench/lm_graph_rows.py [--graph PATH] [--threads 2] [--steps 64] [--repeats 5]
        [--out bench/results/lm_graph_rows.md]

The graph is the reader bundle's (packaging/fused_lm.py, built if needed) unless `--graph`.
It is run by runtime/fused_decoder.py's `FusedDecoder.run`, the server's own call: one KV
buffer per layer bound as both past and present (GQA buffer sharing), the bindings kept from
step to step, 2 intra-op threads spinning. Two tables, medians of `--repeats`
rounds in which every configuration runs in turn (so that other load hits them alike):
- rows 1, 2, 4, 8: a 46-token prompt in every row, then `--steps` decode steps; ms a step and
  tokens/s (rows / step time), and the ratio to one row;
- 1 and 8 rows with a 46-token prompt, one row with a 600-token prompt, in KV buffers of
  several lengths (the positions in use are the same): ms a decode step.

`--profile ROWS` instead runs onnxruntime's profiler over `--steps` decode steps of ROWS rows
and prints where a step's kernel time goes, by operator type (the profiler's own cost makes
every step slower: read the shares, not the times).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "packaging"))

from bench_common import cpu_line, report  # noqa: E402

PROMPT = 46


class Graph:
    def __init__(self, path: Path, threads: int):
        from runtime.fused_decoder import FusedDecoder
        from runtime.session import ComponentSession, SessionConfig

        self.decoder = FusedDecoder(ComponentSession("lm_decoder", path, SessionConfig(intra_op_threads=threads)))

    def step_ms(self, rows: int, prompt: int, capacity: int, steps: int) -> float:
        """Median ms of `steps` decode steps after a `prompt`-token prefill, `rows` rows."""
        from runtime.fused_decoder import allocate_kv

        kv, bindings = allocate_kv(self.decoder, rows, capacity), {}

        def run(ids: np.ndarray, total: int) -> None:
            self.decoder.run(ids, np.ones((rows, total), dtype=np.int64), kv, bindings)

        run(np.tile(np.arange(100, 100 + prompt, dtype=np.int64) % 40000, (rows, 1)), prompt)
        times, total = [], prompt
        for _ in range(steps):
            began = time.perf_counter()
            run(np.full((rows, 1), 5, dtype=np.int64), total + 1)
            times.append(time.perf_counter() - began)
            total += 1
        return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--profile", type=int, default=0, metavar="ROWS",
                        help="print the kernel time of ROWS-row decode steps by operator type, nothing else")
    args = parser.parse_args()
    if args.graph is None:
        import fused_lm

        args.graph = fused_lm.build_fused_lm()[0]
    if args.profile:
        profile(args)
        return
    graph = Graph(args.graph, args.threads)
    rows_configs = [(rows, PROMPT, 256) for rows in (1, 2, 4, 8)]
    length_configs = [(rows, PROMPT, capacity) for rows in (1, 8) for capacity in (128, 256, 1024)] + \
                     [(1, 600, capacity) for capacity in (768, 1536)]
    configs = list(dict.fromkeys(rows_configs + length_configs))
    load_before = os.getloadavg()[0]
    measured = {config: [] for config in configs}
    for _ in range(args.repeats):
        for config in configs:
            measured[config].append(graph.step_ms(*config, args.steps))
    ms = {config: statistics.median(values) for config, values in measured.items()}
    one = ms[rows_configs[0]]
    from runtime.placement import detect_hardware

    lines = [
        "# The fused int4 LM graph alone: a decode step with more rows and longer KV buffers",
        "",
        f"{cpu_line(detect_hardware())}. `.venv/bin/python bench/lm_graph_rows.py --threads {args.threads} "
        f"--steps {args.steps} --repeats {args.repeats}` on {args.graph.name}; medians of {args.repeats} rounds, "
        f"each the median of {args.steps} decode steps; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after.",
        "",
        f"| rows (prompt {PROMPT}, buffer 256) | ms a step | tokens/s | tokens/s ÷ one row's |",
        "|---:|---:|---:|---:|",
    ]
    for rows, _, _ in rows_configs:
        step = ms[(rows, PROMPT, 256)]
        lines.append(f"| {rows} | {step:.2f} | {1000 * rows / step:.0f} | {rows * one / step:.2f}× |")
    lines += ["", "| rows | prompt | KV buffer positions | ms a step |", "|---:|---:|---:|---:|"]
    for rows, prompt, capacity in length_configs:
        lines.append(f"| {rows} | {prompt} | {capacity} | {ms[(rows, prompt, capacity)]:.2f} |")
    report("\n".join(lines) + "\n", args.out)


def profile(args) -> None:
    """Kernel time per operator type over `args.steps` decode steps of `args.profile` rows
    (onnxruntime's profiler: the session is made with profiling on, its trace read back)."""
    import json
    import tempfile
    from collections import defaultdict

    import runtime.session as sessions

    made = sessions._options  # noqa: SLF001

    with tempfile.TemporaryDirectory() as folder:
        def profiled(config, threads):
            options = made(config, threads)
            options.enable_profiling = True
            options.profile_file_prefix = str(Path(folder) / "lm")
            return options

        sessions._options = profiled  # noqa: SLF001
        try:
            graph = Graph(args.graph, args.threads)
        finally:
            sessions._options = made  # noqa: SLF001
        rows = args.profile
        graph.step_ms(rows, PROMPT, 256, args.steps)  # the prompt, then the decode steps profiled
        with graph.decoder.session.picked() as session:
            trace = json.loads(Path(session.end_profiling()).read_text(encoding="utf-8"))
    # the first run is the prompt's: leave it out
    runs = sorted(event["ts"] for event in trace if event.get("cat") == "Session" and event["name"] == "model_run")
    decoding_from = runs[1] if len(runs) > 1 else 0
    by_op = defaultdict(float)
    for event in trace:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time") and event["ts"] >= decoding_from:
            by_op[event["args"]["op_name"]] += event["dur"]
    kernels = sum(by_op.values())
    print(f"{args.graph.name}, {rows} row(s), {args.steps} decode steps, {args.threads} threads; "
          f"kernel time {kernels / args.steps / 1000:.2f} ms a step under the profiler")
    for op, spent in sorted(by_op.items(), key=lambda item: -item[1]):
        print(f"  {op:34s} {100 * spent / kernels:5.1f}%  {spent / args.steps:8.1f} us a step")


if __name__ == "__main__":
    main()
