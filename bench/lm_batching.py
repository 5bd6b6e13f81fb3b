"""Continuous batching of the reader's language model: tokens/s with 1 and 8 streams (issue 13).

    .venv/bin/python bench/lm_batching.py [--bundle DIR] [--streams 8] [--new-tokens 48]
        [--repeats 3] [--out bench/results/lm_batching.md]

For each LM precision in the bundle (fp32, int8, int4; `--precision` to choose), side by side in one run:
- one stream: one client sending `--rounds` requests back to back to a model loaded as `run`
  loads it (one request at a time, all usable cores per session);
- `--streams` clients at once, each sending `--rounds` requests back to back (a sustained
  load: a finished reply's row is taken by the next request) to a model loaded as `serve
  --max-batch-size <streams>` loads it. Where the graph is batched (`runtime.batching`:
  fp32 with a left-padded cache, the fused int4 graph in its shared GQA buffers), their steps
  share one batched step; where it is not (dynamic int8: rows would share activation
  scales), the requests run on the thread budget's workers, as the server does. A precision
  the launcher refuses on this CPU (an accuracy contract not measured for its int8 kernels)
  gets a row saying so.
Greedy decoding (`do_sample=False`); reported: aggregate generated tokens/s (median of
`--repeats`), the ratio to the one-stream rate, time to first token (median over streams), and
whether every reply equals the one-stream reply (it must, where batched, for fp32).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_common import Figure, add_json_argument, cpu_line, default_bundle, report, write_figures  # noqa: E402
from runtime import load_model, plan_load  # noqa: E402
from runtime.errors import ProviderUnavailableError  # noqa: E402
from runtime.placement import detect_hardware  # noqa: E402
from runtime.results import TextDelta  # noqa: E402

# Every prompt must reach the language model: the reader answers 'Explain what a receipt is.'
# itself (no image attached, 37 tokens at once), which made one client's every third request
# free, raised the one-stream rate by ~30% and left the batch a tail of 5 rows.
PROMPTS = (
    "Write a short poem about the sea.", "Give three tips for sleeping well.", "Explain what a rainbow is.",
    "Tell me a story about a lighthouse keeper.", "List the planets of the solar system.",
    "How do I boil an egg?", "Why is the sky blue?", "Describe a busy market in the morning.",
)


def one_reply(model, prompt: str, new_tokens: int) -> tuple[str, int, float]:
    """(text, generated tokens, seconds to the first text) for one streamed request."""
    began, first = time.perf_counter(), None
    for item in model.stream("generate", None, prompt, max_new_tokens=new_tokens, do_sample=False):
        if isinstance(item, TextDelta):
            first = first if first is not None else time.perf_counter() - began
        else:
            return item.text, item.usage.completion_tokens, first if first is not None else time.perf_counter() - began
    raise RuntimeError("the stream ended without a result")


def measure(model, prompts, new_tokens: int, clients: int, workers: int, rounds: int, repeats: int):
    """Median aggregate tokens/s over `repeats` runs of `clients` clients, each sending
    `rounds` requests back to back (client c starts at prompt c), with at most `workers` of
    them running at a time (as the server's engine runner allows); the replies of each
    client's first round, and the median time to first text, a wait for a worker included."""
    rates, firsts, replies = [], [], None
    engine = ThreadPoolExecutor(workers)  # first come, first served, as the engine runner's pool

    def job(prompt: str, submitted: float) -> tuple[str, int, float]:
        started = time.perf_counter()
        text, tokens, first = one_reply(model, prompt, new_tokens)
        return text, tokens, started - submitted + first

    def client(index: int) -> list[tuple[str, int, float]]:
        return [engine.submit(job, prompts[(index + round_) % len(prompts)], time.perf_counter()).result()
                for round_ in range(rounds)]

    for _ in range(repeats):
        began = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            done = list(pool.map(client, range(clients)))
        elapsed = time.perf_counter() - began
        rates.append(sum(tokens for results in done for _, tokens, _ in results) / elapsed)
        firsts += [first for results in done for _, _, first in results]
        replies = [results[0][0] for results in done]
    engine.shutdown()
    return statistics.median(rates), replies, statistics.median(firsts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=default_bundle())
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3, help="requests each client sends back to back")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads per session (default: the thread budget)")
    parser.add_argument("--precision", action="append", choices=("fp32", "int8", "int4"),
                        help="LM precision to run (repeatable; default: all three)")
    parser.add_argument("--out", type=Path, default=None)
    add_json_argument(parser)
    args = parser.parse_args(argv)
    hardware = detect_hardware()
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(args.streams)]
    rows, figures = [], []
    auto = plan_load(args.bundle).selection.components["lm_decoder"].variant.precision
    for precision in args.precision or ("fp32", "int8", "int4"):
        try:
            alone = load_model(args.bundle, precision=precision, max_concurrent=1)
        except ProviderUnavailableError as error:
            rows.append(f"| {precision} | not run on this CPU: {error} | | | | | | |")
            print(rows[-1], flush=True)
            continue
        together = load_model(args.bundle, precision=precision, max_concurrent=args.streams, threads=args.threads)
        batched = together._adapter._lm.batcher is not None  # noqa: SLF001 - a bench may look inside
        for model in (alone, together):  # warm-up: first runs allocate (the wide twins' too, once made)
            model.wait_for_twins()
            one_reply(model, prompts[0], 4)
        _, replies_1, _ = measure(alone, prompts, args.new_tokens, len(prompts), 1, 1, 1)  # each prompt once
        rate_1, _, first_1 = measure(alone, prompts, args.new_tokens, 1, 1, args.rounds, args.repeats)
        workers = args.streams if batched else together.config.workers
        rate_n, replies_n, first_n = measure(together, prompts, args.new_tokens, args.streams, workers,
                                             args.rounds, args.repeats)
        same = sum(a == b for a, b in zip(replies_1, replies_n))
        rows.append(
            f"| {precision} | {'batched' if batched else f'{workers} workers, not batched'} | {rate_1:.1f} | "
            f"{rate_n:.1f} | **{rate_n / rate_1:.2f}** | {first_1 * 1000:.0f} | {first_n * 1000:.0f} | {same}/{len(prompts)} |"
        )
        print(rows[-1], flush=True)
        if precision == auto:
            comparison = f"2. LM decode, {args.streams} concurrent streams (auto's {precision} LM)"
            figures += [
                Figure(comparison, f"aggregate tok/s with {args.streams} streams / one stream's", rate_n / rate_1, "x",
                       at_least=4.0),
                Figure(comparison, f"time to first token, 1 / {args.streams} streams", first_1 * 1000, "ms",
                       note=f"{first_n * 1000:.0f} ms with {args.streams} streams"),
                Figure(comparison, "replies equal to decoding alone", same, f"of {len(prompts)}", at_least=len(prompts)),
            ]
    write_figures(figures, args.json)
    text = "\n".join([
        f"# Language model, {args.streams} streams at once vs one at a time ({args.bundle.name} bundle's SmolLM2-135M)",
        "",
        f"{cpu_line(hardware)}. "
        f"Greedy, up to {args.new_tokens} new tokens per reply, {args.rounds} requests per client, medians of {args.repeats} runs. "
        f"`.venv/bin/python bench/lm_batching.py --streams {args.streams}`",
        "",
        f"| LM | {args.streams} streams run | 1 stream tok/s | {args.streams} streams tok/s | ratio | "
        f"first token ms (1) | first token ms ({args.streams}) | same replies |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])
    return report(text, args.out)


if __name__ == "__main__":
    sys.exit(main())
