"""Decode speed of the SmolLM2-135M-Instruct decoder, fp32 vs int8 vs int4, on onnxruntime CPU.

    .venv/bin/python bench/lm_decode.py [--runs 5] [--threads 2] [--new-tokens 128]
        [--bundle .cache/bench/bundles/reader-lm]

Assembles the LM through packaging/smollm2.py's cache, then for every variant generates
`--new-tokens` tokens greedily (eos ignored, so every run has the same length) from a
chat-templated prompt through runtime.cached_decoder + runtime.decoding, after one
warm-up run. Reports the median of `--runs` for decode tokens/s (the tokens after the
first, over the time after the first), time to first token and end-to-end tokens/s, and
writes a markdown table to bench/results/lm_decode.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "packaging"))

import onnxruntime  # noqa: E402
import smollm2  # noqa: E402

from runtime.cached_decoder import CachedDecoder  # noqa: E402
from runtime.decoding import generate_stream  # noqa: E402
from runtime.params import GenerationParams  # noqa: E402
from runtime.session import ComponentSession, SessionConfig  # noqa: E402

PROMPT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
          "<|im_end|>\n<|im_start|>user\nWrite a short story about a lighthouse keeper who finds "
          "a message in a bottle.<|im_end|>\n<|im_start|>assistant\n")
VARIANTS = (("fp32", smollm2.FP32_FILE), ("int8", smollm2.INT8_FILE), ("int4", smollm2.INT4_FILE))


def timed_run(decoder: CachedDecoder, prompt_ids: list[int], new_tokens: int) -> tuple[float, float]:
    """Seconds to the first token and for the whole run."""
    params = GenerationParams(max_new_tokens=new_tokens)
    start = time.perf_counter()
    first = None
    count = 0
    for _ in generate_stream(decoder.bind({}), prompt_ids, params, eos_token_ids=()):
        count += 1
        if first is None:
            first = time.perf_counter() - start
    assert count == new_tokens
    return first, time.perf_counter() - start


def load_decoder(path: Path, threads: int) -> CachedDecoder:
    session = ComponentSession("lm_decoder", path, SessionConfig(intra_op_threads=threads))
    # A graph with past inputs but no use_cache_branch serves both steps (empty past first).
    return CachedDecoder(session, None if "use_cache_branch" in session.inputs else session)


def measure_all(paths: dict[str, Path], prompt_ids: list[int], args) -> dict[str, dict]:
    """Runs interleaved (variant after variant, `runs` rounds): the machine is shared, so
    any slowdown hits every variant alike instead of whichever ran during it."""
    decoders = {label: load_decoder(path, args.threads) for label, path in paths.items()}
    for decoder in decoders.values():
        timed_run(decoder, prompt_ids, args.new_tokens)  # warm-up
    firsts = {label: [] for label in paths}
    totals = {label: [] for label in paths}
    for _ in range(args.runs):
        for label, decoder in decoders.items():
            first, total = timed_run(decoder, prompt_ids, args.new_tokens)
            firsts[label].append(first)
            totals[label].append(total)
    results = {}
    for label, path in paths.items():
        decode = [(args.new_tokens - 1) / (t - f) for f, t in zip(firsts[label], totals[label])]
        results[label] = {
            "bytes": path.stat().st_size,
            "decode_tps": statistics.median(decode),
            "decode_tps_min": min(decode),
            "decode_tps_max": max(decode),
            "first_ms": statistics.median(firsts[label]) * 1000,
            "e2e_tps": statistics.median(args.new_tokens / t for t in totals[label]),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--bundle", type=Path, default=REPO / ".cache" / "bench" / "bundles" / "reader-lm")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "lm_decode.md")
    parser.add_argument("--no-int4", action="store_true", help="skip the 4-bit variant")
    parser.add_argument("--alternatives", action="store_true",
                        help="also time an unshipped 8-bit MatMulNBits variant (int8-nbits)")
    args = parser.parse_args()

    import importlib.util

    if importlib.util.find_spec("onnx_ir") is None and not args.no_int4:
        print("onnx-ir is not installed: the int4 variant is skipped (pip install onnx-ir==1.1.0)")
        args.no_int4 = True
    smollm2.assemble_lm(args.bundle, int4=not args.no_int4)
    lm_dir = args.bundle / smollm2.LM_FOLDER
    from runtime.tokenizer import Tokenizer

    prompt_ids = Tokenizer.from_file(lm_dir / "tokenizer.json").encode(PROMPT)
    paths = {label: lm_dir / name for label, name in VARIANTS if (lm_dir / name).is_file()}
    if args.alternatives and not args.no_int4:
        alternative = args.bundle / "int8_nbits.onnx"
        if not alternative.is_file():
            smollm2.quantize_nbits(lm_dir / smollm2.FP32_FILE, alternative, bits=8)
        paths["int8-nbits (not shipped)"] = alternative
    load_before = os.getloadavg()[0]
    results = measure_all(paths, prompt_ids, args)
    load_after = os.getloadavg()[0]
    for label, result in results.items():
        print(label, {k: round(v, 2) for k, v in result.items()}, flush=True)

    base = results["fp32"]["decode_tps"]
    lines = [
        "# SmolLM2-135M-Instruct decode speed (onnxruntime CPU)",
        "",
        f"`python bench/lm_decode.py --runs {args.runs} --threads {args.threads} "
        f"--new-tokens {args.new_tokens}` — {platform.processor() or platform.machine()}, "
        f"{args.threads} intra-op threads, onnxruntime {onnxruntime.__version__}, greedy, "
        f"prompt {len(prompt_ids)} tokens, {args.new_tokens} new tokens (eos ignored), KV cache "
        f"through runtime.cached_decoder; medians of {args.runs} interleaved runs after one "
        f"warm-up. Load average {load_before:.1f} before, {load_after:.1f} after (2-core "
        "machine shared with other jobs: compare within one table only).",
        "",
        "| variant | file MB | decode tok/s (median) | min–max | vs fp32 | first token ms | end-to-end tok/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, r in results.items():
        lines.append(
            f"| {label} | {r['bytes'] / 1e6:.1f} | {r['decode_tps']:.1f} | "
            f"{r['decode_tps_min']:.1f}–{r['decode_tps_max']:.1f} | {r['decode_tps'] / base:.2f}× | "
            f"{r['first_ms']:.0f} | {r['e2e_tps']:.1f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
