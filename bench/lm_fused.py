"""SmolLM2-135M decode speed and accuracy: the fused int4 graph with the GGUF's own Q4_1 blocks
(packaging/fused_lm.py + runtime/fused_decoder.py) side by side with the project's fp32 and
int8 exports and with llama.cpp on the same GGUF (issue 13).

    .venv/bin/python bench/lm_fused.py [--runs 5] [--threads 2] [--new-tokens 128] [--no-llama]

Speed: batch 1, greedy, `--new-tokens` tokens (eos ignored) from a 46-token chat prompt,
after one warm-up; the variants run interleaved, round after round, so that load from other
jobs on the shared machine hits all of them alike; medians of `--runs`. The ONNX variants go
through runtime.decoding's `generate_stream` (the server's path); llama.cpp runs in its own
process with a minimal loop (eval one token, numpy argmax), so its figure has less Python.

Accuracy against the fp32 export (whose weights are the same GGUF dequantized): fp32's greedy
continuations (48 tokens) of 24 chat prompts, teacher forced, every position from the
prompt's last one on (1,176 positions): top-1 agreement with its 95% interval and mean
KL(fp32 || variant); each variant paired with llama.cpp position by position (where only
one of the two picks fp32's token, and an exact sign test of the difference); and the
greedy tokens each variant writes itself, as the length of the prefix equal to fp32's.

llama.cpp: `llama-cpp-python==0.3.36` compiled from the registry's source package into its
own venv under .cache/llama_bench/ (about 4 minutes on an idle 2-core machine, 57 on one
shared with three other test runs), never into .venv:

    python3 -m venv .cache/llama_bench/venv
    .cache/llama_bench/venv/bin/pip install llama-cpp-python==0.3.36

On a CPU that lists AMX (amx_tile, amx_int8), that build (`-march=native`) runs ggml's AMX
matmul, which died with SIGILL at its first `tilezero` on the 2-core Xeon here (session 36;
a C program that asks the kernel for the tile state and loads a tile config ran the same
instruction fine there). Build it without AMX on such a CPU, the other instruction sets on:

    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
      -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON \
      -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
      .cache/llama_bench/venv/bin/pip install --force-reinstall --no-deps llama-cpp-python==0.3.36

Writes bench/results/lm_fused.md (CPU model and flags, versions, medians, ratios). With
`--record`, also stores the shipped variants' figures for this CPU's int8 kernel family in
bench/results/variant_measurements.json, which the reader bundle's build copies into
bundle.json: variant selection ranks by them (runtime/placement/selection.py, rule 4). It
refuses to record when the 1-minute load average before the run was above the CPU count - 1
(other work running).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if __name__ == "__main__" and "--llama-worker" in sys.argv:
    WORKER = True  # runs in the llama.cpp venv: numpy and llama_cpp only
else:
    WORKER = False
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "packaging"))

PROMPT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
          "<|im_end|>\n<|im_start|>user\nWrite a short story about a lighthouse keeper who finds "
          "a message in a bottle.<|im_end|>\n<|im_start|>assistant\n")
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
# Also the prompts of tests/golden/test_fused_lm.py (it imports them).
QUESTIONS = (
    "What is the capital of France?",
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "Document:\nINVOICE No. 2024-0173\nDate: 12 March 2024\n3 x stainless hinges 4.50 EUR\n"
    "Total due: 13.50 EUR\n\nQuestion: What is the total due?",
    "Explain in two sentences why the sky is blue.",
)
# More prompts for the accuracy figures only (the speed prompt and the tests keep QUESTIONS):
# with 132 positions one position is 0.008 of top-1 agreement, as much as the gap between
# llama.cpp and us was; ~1,000 positions put the interval of each figure near +-0.01.
MORE_QUESTIONS = (
    "List four things to pack for a weekend hiking trip.",
    "Translate 'good morning, how are you?' into Spanish.",
    "What is 17 multiplied by 3? Show the steps.",
    "Write a Python function that returns the largest number in a list.",
    "Give me a two-line poem about autumn rain.",
    "Document:\nRECEIPT\nCorner Bakery, 18 Mill Lane\n2 croissants 5.20\n1 latte 3.40\nTOTAL 8.60\n"
    "Paid by card\n\nQuestion: Where was this bought?",
    "What causes the seasons on Earth?",
    "Summarize: The town council met on Tuesday and agreed to repair the old bridge over the river "
    "before winter. Work starts next month and the road will be closed for six weeks.",
    "Who wrote the play Romeo and Juliet?",
    "Write an email to a colleague asking to move our meeting from Monday to Wednesday.",
    "How do I boil an egg so the yolk stays soft?",
    "Document:\nMEMO\nTo: All staff\nFrom: Facilities\nDate: 3 May 2023\nThe car park will be resurfaced "
    "on Saturday.\n\nQuestion: Who sent the memo?",
    "Explain what a noun is to a child.",
    "Name three planets in our solar system and one fact about each.",
    "What is the difference between weather and climate?",
    "Suggest a name for a small cafe that sells books.",
    "Convert 5 kilometres to miles.",
    "Why do we need sleep?",
    "Describe a busy train station in the morning.",
    "What should I check before buying a used bicycle?",
)
CONTINUATION_TOKENS = 32  # the tests' continuation length
ACCURACY_TOKENS = 48  # the bench's, over QUESTIONS + MORE_QUESTIONS
GREEDY_TOKENS = 24
LLAMA_PYTHON = REPO / ".cache" / "llama_bench" / "venv" / "bin" / "python"
ISA_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def chat(question: str) -> str:
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n"
            "<|im_start|>assistant\n")


# ---------------------------------------------------------------- llama.cpp worker process


def llama_worker(gguf: str, threads: int) -> None:
    """Answer JSON commands on stdin, one per line (runs inside the llama.cpp venv)."""
    from llama_cpp import Llama

    fast = Llama(model_path=gguf, n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False)
    full = Llama(model_path=gguf, n_ctx=1024, n_threads=threads, n_threads_batch=threads, logits_all=True,
                 verbose=False)

    def last_logits(model):
        if model._logits_all:
            return model.scores[model.n_tokens - 1]
        # without logits_all, llama-cpp-python 0.3.36 no longer copies logits into `scores`
        return np.ctypeslib.as_array(model._ctx.get_logits_ith(-1), shape=(model.n_vocab(),))

    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "generate":
            fast.reset()
            start = time.perf_counter()
            fast.eval(command["prompt"])
            tokens = [int(np.argmax(last_logits(fast)))]
            first = time.perf_counter() - start
            while len(tokens) < command["new_tokens"]:
                fast.eval(tokens[-1:])
                tokens.append(int(np.argmax(last_logits(fast))))
            reply = {"first_s": first, "total_s": time.perf_counter() - start, "tokens": tokens}
        elif command["cmd"] == "logits":
            rows = []
            for sequence in command["sequences"]:
                full.reset()
                full.eval(sequence)
                rows.append(np.array(full.scores[:len(sequence)], dtype=np.float32))
            np.savez(command["out"], *rows)
            reply = {"saved": command["out"]}
        else:
            return
        print(json.dumps(reply), flush=True)


class LlamaCpp:
    """The worker process, driven over pipes."""

    def __init__(self, python: Path, gguf: Path, threads: int):
        self.process = subprocess.Popen([str(python), __file__, "--llama-worker", str(gguf), str(threads)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        import importlib.metadata  # noqa: F401  (version read through the worker's pip below)

        self.version = subprocess.run([str(python), "-c", "import llama_cpp; print(llama_cpp.__version__)"],
                                      capture_output=True, text=True, check=True).stdout.strip()

    def ask(self, command: dict) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the llama.cpp worker stopped")
        return json.loads(line)

    def generate(self, prompt: list[int], new_tokens: int) -> dict:
        return self.ask({"cmd": "generate", "prompt": prompt, "new_tokens": new_tokens})

    def logits(self, sequences: list[list[int]]) -> list[np.ndarray]:
        with tempfile.TemporaryDirectory() as folder:
            out = str(Path(folder) / "logits.npz")
            self.ask({"cmd": "logits", "sequences": sequences, "out": out})
            with np.load(out) as data:
                return [data[f"arr_{i}"] for i in range(len(sequences))]

    def close(self) -> None:
        self.process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
        self.process.stdin.close()
        self.process.wait(timeout=30)


# ---------------------------------------------------------------- transformers (PyTorch eager)


class TransformersEager:
    """The same weights (the GGUF dequantized, as the fp32 export) in transformers' own
    LlamaForCausalLM on PyTorch, eager mode, fp32, its default attention; a greedy loop with
    its KV cache (what `generate()` does, without its per-step bookkeeping)."""

    label = "transformers eager fp32 (PyTorch)"

    def __init__(self, threads: int):
        import smollm2
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        self.model = smollm2.load_reference_model(smollm2.gguf_path())
        self.version = f"torch {torch.__version__}"

    def generate(self, prompt: list[int], new_tokens: int) -> dict:
        torch = self.torch
        with torch.inference_mode():
            start = time.perf_counter()
            out = self.model(input_ids=torch.tensor([prompt]), use_cache=True)
            tokens = [int(out.logits[0, -1].argmax())]
            first = time.perf_counter() - start
            while len(tokens) < new_tokens:
                out = self.model(input_ids=torch.tensor([[tokens[-1]]]), past_key_values=out.past_key_values,
                                 use_cache=True)
                tokens.append(int(out.logits[0, -1].argmax()))
        return {"first_s": first, "total_s": time.perf_counter() - start, "tokens": tokens}

    def logits(self, sequences: list[list[int]]) -> list[np.ndarray]:
        with self.torch.inference_mode():
            return [self.model(input_ids=self.torch.tensor([s])).logits[0].float().numpy() for s in sequences]


# ---------------------------------------------------------------- ONNX variants


class OnnxVariant:
    def __init__(self, label: str, decoder, path: Path):
        self.label, self.decoder, self.path = label, decoder, path

    def generate(self, prompt: list[int], new_tokens: int) -> dict:
        from runtime.decoding import generate_stream
        from runtime.params import GenerationParams

        params = GenerationParams(max_new_tokens=new_tokens)
        start = time.perf_counter()
        first = None
        tokens = []
        for event in generate_stream(self.decoder.bind({}), prompt, params, eos_token_ids=()):
            tokens.append(event.token_id)
            if first is None:
                first = time.perf_counter() - start
        return {"first_s": first, "total_s": time.perf_counter() - start, "tokens": tokens}

    def logits(self, sequences: list[list[int]]) -> list[np.ndarray]:
        rows = []
        for sequence in sequences:
            bound = self.decoder.bind({})
            logits, _ = bound.step_all(np.asarray([sequence], dtype=np.int64), bound.start(1))
            rows.append(logits[0])
        return rows


def load_variants(threads: int, skip: list[str]) -> tuple[list[OnnxVariant], Path]:
    """The variants whose labels start with none of `skip`, their sessions created."""
    import fused_lm
    import smollm2

    from runtime.cached_decoder import CachedDecoder
    from runtime.fused_decoder import FusedDecoder
    from runtime.session import ComponentSession, SessionConfig

    bundle = REPO / ".cache" / "bench" / "bundles" / "reader-lm"
    smollm2.assemble_lm(bundle)
    lm_dir = bundle / smollm2.LM_FOLDER
    fused_path, _, _ = fused_lm.build_fused_lm()

    def session(path):
        return ComponentSession("lm_decoder", path, SessionConfig(intra_op_threads=threads))

    def built(minimums: str) -> Path:  # the other ways of applying the Q4_1 minimums, for comparison
        import onnx

        path = REPO / ".cache" / "bench" / f"fused_lm_{minimums}_minimums.onnx"
        if not path.is_file() or path.stat().st_mtime < fused_path.stat().st_mtime:
            graph = fused_lm.build_graph(fused_lm.GGUFModel.read(smollm2.gguf_path()), minimums=minimums)
            onnx.save_model(graph, str(path))
        return path

    fp32, int8 = lm_dir / smollm2.FP32_FILE, lm_dir / smollm2.INT8_FILE
    makers = [  # label, decoder class, path (made only when the variant runs)
        ("fp32 export", CachedDecoder, lambda: fp32),
        ("int8 export (dynamic)", CachedDecoder, lambda: int8),
        (SHIPPED_INT4, FusedDecoder, lambda: fused_path),
        ("fused int4, copying KV (CachedDecoder)", CachedDecoder, lambda: fused_path),
        ("fused int4, exact minimums (fp32 side product, not shipped)", FusedDecoder, lambda: built("exact")),
        ("fused int4, minimums rounded to integer zero points (not shipped)", FusedDecoder, lambda: built("rounded")),
    ]
    variants = []
    for label, decoder, path in makers:
        if not any(label.startswith(prefix) for prefix in skip):
            file = path()
            variants.append(OnnxVariant(label, decoder(session(file)), file))
    return variants, lm_dir


SHIPPED_INT4 = "fused int4 (GGUF Q4_1 blocks, pooled minimums), shared KV buffer"


def extra_variant(spec: str, threads: int) -> OnnxVariant:
    """`--graph LABEL=PATH`: a fused GQA graph run through FusedDecoder, as the shipped int4 one."""
    from runtime.fused_decoder import FusedDecoder
    from runtime.session import ComponentSession, SessionConfig

    label, sep, path = spec.partition("=")
    if not sep or not Path(path).is_file():
        sys.exit(f"--graph wants LABEL=PATH of an existing .onnx file, got {spec!r}")
    session = ComponentSession("lm_decoder", Path(path), SessionConfig(intra_op_threads=threads))
    return OnnxVariant(label, FusedDecoder(session), Path(path))


# ---------------------------------------------------------------- measurement


def cpu_facts() -> dict:
    flags, model = set(), platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            elif line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"model": model, "flags": {flag: flag in flags for flag in ISA_FLAGS}, "cpus": os.cpu_count()}


def measure_speed(runners: dict, prompt: list[int], args) -> dict:
    for runner in runners.values():
        runner.generate(prompt, args.new_tokens)  # warm-up
    samples = {label: [] for label in runners}
    for _ in range(args.runs):
        for label, runner in runners.items():
            result = runner.generate(prompt, args.new_tokens)
            assert len(result["tokens"]) == args.new_tokens
            samples[label].append(result)
    figures = {}
    for label, runs in samples.items():
        decode = [(args.new_tokens - 1) / (r["total_s"] - r["first_s"]) for r in runs]
        figures[label] = {"decode_tps": statistics.median(decode), "min": min(decode), "max": max(decode),
                          "first_ms": statistics.median(r["first_s"] for r in runs) * 1000}
    return figures


def measure_accuracy(runners: dict, reference_label: str, tokenizer) -> dict:
    import fused_lm

    reference = runners[reference_label]
    prompts = [tokenizer.encode(chat(q)) for q in QUESTIONS + MORE_QUESTIONS]
    sequences = [p + reference.generate(p, ACCURACY_TOKENS)["tokens"] for p in prompts]
    starts = [len(p) - 1 for p in prompts]
    ref_logits = np.concatenate([row[s:] for row, s in zip(reference.logits(sequences), starts)])
    ref_greedy = [reference.generate(p, GREEDY_TOKENS)["tokens"] for p in prompts]
    ref_tokens = ref_logits.argmax(-1)
    figures = {}
    for label, runner in runners.items():
        if label == reference_label:
            continue
        logits = np.concatenate([row[s:] for row, s in zip(runner.logits(sequences), starts)])
        figures[label] = fused_lm.compare_logits(ref_logits, logits)
        agree = ref_tokens == logits.argmax(-1)
        figures[label]["agree"] = agree.tolist()
        figures[label]["top1_interval"] = wilson_interval(int(agree.sum()), len(agree))
        prefixes = []
        for p, expected in zip(prompts, ref_greedy):
            got = runner.generate(p, GREEDY_TOKENS)["tokens"]
            prefixes.append(next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b), len(expected)))
        figures[label]["greedy_prefix"] = prefixes
    return figures


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion."""
    if not trials:
        return (0.0, 1.0)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return (max(0.0, float(centre - half)), min(1.0, float(centre + half)))


def paired(ours: list[bool], theirs: list[bool]) -> dict:
    """Positions where only one of two variants agrees with fp32, and the two-sided exact sign
    test's p-value that the two agree equally often (McNemar's test, exact)."""
    from math import comb

    only_ours = sum(a and not b for a, b in zip(ours, theirs))
    only_theirs = sum(b and not a for a, b in zip(ours, theirs))
    n = only_ours + only_theirs
    tail = sum(comb(n, k) for k in range(min(only_ours, only_theirs) + 1)) / 2 ** n if n else 1.0
    return {"only_ours": only_ours, "only_theirs": only_theirs, "p_value": min(1.0, 2 * tail)}


def write_table(path: Path, args, cpu: dict, versions: dict, speed: dict, accuracy: dict, sizes: dict,
                prompt_tokens: int, load: tuple) -> str:
    from bench_common import masked_prefix

    flags = ", ".join(f"{flag} {'yes' if on else 'no'}" for flag, on in cpu["flags"].items())
    llama_label = next((label for label in speed if label.startswith("llama.cpp")), None)
    base = speed["fp32 export"]["decode_tps"]
    lines = [
        "# SmolLM2-135M-Instruct: fused int4 with the GGUF's Q4_1 blocks vs the exports and llama.cpp",
        "",
        f"`{masked_prefix()}python bench/lm_fused.py {' '.join(shlex.quote(a) for a in sys.argv[1:])}`"
        f" — {cpu['model']}, {cpu['cpus']} CPUs ({flags}); {args.threads} threads; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + f". Batch 1, greedy, prompt {prompt_tokens} tokens, {args.new_tokens} new tokens (eos ignored); "
        f"medians of {args.runs} interleaved runs after one warm-up. Load average {load[0]:.1f} before, "
        f"{load[1]:.1f} after (shared machine: compare within this table only).",
        "",
        "llama.cpp's threads spin while they wait for each other; with more runnable processes than "
        "cores (load average above the CPU count) its decode rate collapses far more than "
        "onnxruntime's, so a ratio to it is only a fair figure when the load average stays under the "
        "CPU count.",
        "",
        "| variant | file MB | decode tok/s (median) | min–max | vs fp32 | vs llama.cpp | first token ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, r in speed.items():
        versus = f"{r['decode_tps'] / speed[llama_label]['decode_tps']:.2f}×" if llama_label else "–"
        size = f"{sizes[label] / 1e6:.1f}" if label in sizes else "–"
        lines.append(f"| {label} | {size} | {r['decode_tps']:.1f} | {r['min']:.1f}–{r['max']:.1f} | "
                     f"{r['decode_tps'] / base:.2f}× | {versus} | {r['first_ms']:.0f} |")
    prompts = len(QUESTIONS) + len(MORE_QUESTIONS)
    lines += [
        "",
        f"Accuracy against the fp32 export ({next(iter(accuracy.values()))['positions']} teacher-forced positions: "
        f"fp32's {ACCURACY_TOKENS}-token greedy continuations of {prompts} chat prompts, each position from the "
        f"prompt's last on; 95% Wilson interval of the top-1 agreement; greedy prefix = how many of the first "
        f"{GREEDY_TOKENS} tokens each variant writes itself equal fp32's, per prompt):",
        "",
        "| variant | top-1 agreement | 95% interval | mean KL | max abs logit diff | greedy prefix equal to fp32: "
        f"whole {GREEDY_TOKENS} tokens | median prefix |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, a in accuracy.items():
        low, high = a["top1_interval"]
        whole = sum(prefix == GREEDY_TOKENS for prefix in a["greedy_prefix"])
        lines.append(f"| {label} | {a['top1']:.3f} | {low:.3f}–{high:.3f} | {a['mean_kl']:.4f} | "
                     f"{a['max_abs_logit_diff']:.2f} | {whole} of {len(a['greedy_prefix'])} | "
                     f"{statistics.median(a['greedy_prefix']):g} |")
    if llama_label and llama_label in accuracy:
        lines += ["", f"Paired against {llama_label} (positions where only one of the two picks fp32's token; "
                  "p: exact two-sided sign test that both pick it equally often):", ""]
        for label, a in accuracy.items():
            if label != llama_label:
                pair = paired(a["agree"], accuracy[llama_label]["agree"])
                lines.append(f"- {label}: only it {pair['only_ours']}, only llama.cpp {pair['only_theirs']}, "
                             f"p = {pair['p_value']:.2g}")
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def main() -> None:
    from bench_common import MEASUREMENTS, add_json_argument  # not at the top: the llama.cpp worker runs this file too

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--llama-python", type=Path, default=LLAMA_PYTHON)
    parser.add_argument("--no-llama", action="store_true")
    parser.add_argument("--no-transformers", action="store_true", help="leave out transformers eager fp32 (PyTorch)")
    add_json_argument(parser)
    parser.add_argument("--skip", action="append", default=[], help="leave out variants whose label starts so")
    parser.add_argument("--graph", action="append", default=[], metavar="LABEL=PATH",
                        help="also measure this fused GQA graph (a candidate build), run like the shipped one")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "lm_fused.md")
    parser.add_argument("--record", action="store_true",
                        help="store the shipped variants' figures in " + str(MEASUREMENTS.relative_to(REPO)))
    args = parser.parse_args()

    import onnxruntime
    import smollm2

    from runtime.tokenizer import Tokenizer

    variants, lm_dir = load_variants(args.threads, args.skip)
    variants += [extra_variant(spec, args.threads) for spec in args.graph]
    labels = [v.label for v in variants]
    candidates = labels[len(labels) - len(args.graph):]
    if len(set(labels)) != len(labels) or any(label.startswith("llama.cpp") or label == TransformersEager.label
                                               or label in SHIPPED for label in candidates):
        sys.exit("--graph labels must differ from each other and from the built-in variants' labels")
    tokenizer = Tokenizer.from_file(lm_dir / "tokenizer.json")
    runners = {v.label: v for v in variants}
    sizes = {v.label: v.path.stat().st_size for v in variants}
    versions = {"onnxruntime": onnxruntime.__version__}
    llama = None
    if not args.no_llama:
        if not args.llama_python.is_file():
            sys.exit(f"{args.llama_python} missing: build llama.cpp as the docstring says, or pass --no-llama")
        gguf = smollm2.gguf_path()
        llama = LlamaCpp(args.llama_python, gguf, args.threads)
        label = "llama.cpp (same GGUF, Q4_1)"
        runners[label] = llama
        sizes[label] = gguf.stat().st_size
        versions["llama-cpp-python"] = llama.version
    if not args.no_transformers:
        eager = TransformersEager(args.threads)
        runners[eager.label] = eager
        sizes[eager.label] = sizes["fp32 export"]
        versions["transformers"] = __import__("transformers").__version__ + ", " + eager.version
    try:
        prompt = tokenizer.encode(PROMPT)
        load_before = os.getloadavg()[0]
        speed = measure_speed(runners, prompt, args)
        accuracy = measure_accuracy(runners, "fp32 export", tokenizer)
        load_after = os.getloadavg()[0]
    finally:
        if llama is not None:
            llama.close()
    print(write_table(args.out, args, cpu_facts(), versions, speed, accuracy, sizes, len(prompt),
                      (load_before, load_after)))
    from bench_common import write_figures

    write_figures(headline_figures(speed, accuracy, args), args.json)
    if args.record:
        from bench_common import too_busy_to_record

        refusal = too_busy_to_record(load_before, os.cpu_count() or 1)
        if refusal:
            sys.exit(refusal)
        print(record_measurements(speed, accuracy, args, {v.label: v.path for v in variants}))


# The shipped reader bundle's LM variants (packaging/reader_bundle.py labels) by bench label.
SHIPPED = {"fp32 export": "fp32", "int8 export (dynamic)": "quantized", SHIPPED_INT4: "fused-q4"}


def headline_figures(speed: dict, accuracy: dict, args) -> list:
    """Issue 13's comparison 2 at batch 1, for the variant auto picks from the default bundle here."""
    from bench_common import Figure, default_bundle

    from runtime import plan_load

    picked = plan_load(default_bundle()).selection.components["lm_decoder"].variant.label
    ours = next((bench for bench, label in SHIPPED.items() if label == picked), None)
    if ours not in speed:
        return []
    comparison = f"2. LM decode, batch 1, {args.threads} threads (auto's {picked} LM)"
    figures = []
    llama = next((label for label in speed if label.startswith("llama.cpp")), None)
    mine = speed[ours]["decode_tps"]
    if llama:
        figures.append(Figure(comparison, "decode tok/s, ours / llama.cpp (same GGUF)", mine / speed[llama]["decode_tps"],
                              "x", at_least=1.3, note=f"{mine:.1f} vs {speed[llama]['decode_tps']:.1f} tok/s"))
        top1 = 1.0 if ours == "fp32 export" else accuracy[ours]["top1"]
        note = ""
        if ours != "fp32 export":
            pair = paired(accuracy[ours]["agree"], accuracy[llama]["agree"])
            note = (f"{accuracy[ours]['positions']} positions; only ours agrees at {pair['only_ours']}, only llama.cpp "
                    f"at {pair['only_theirs']} (sign test p = {pair['p_value']:.2g})")
        figures.append(Figure(comparison, "top-1 agreement with fp32, ours (target: llama.cpp's own)", top1, "",
                              at_least=accuracy[llama]["top1"], note=note))
    if TransformersEager.label in speed:
        eager = speed[TransformersEager.label]["decode_tps"]
        figures.append(Figure(comparison, "decode tok/s, ours / transformers eager fp32", mine / eager, "x",
                              at_least=4.0, note=f"{mine:.1f} vs {eager:.1f} tok/s"))
    figures.append(Figure(comparison, "time to first token (46-token prompt)", speed[ours]["first_ms"], "ms"))
    return figures


def record_measurements(speed: dict, accuracy: dict, args, paths: dict) -> str:
    """Merge this run's figures for the shipped variants into bench_common.MEASUREMENTS (one
    entry per variant and int8 kernel family; a rerun on the same family replaces it)."""
    import fused_lm
    from bench_common import cpu_line, figure_source, record_figures

    from runtime.bundle import sha256_file
    from runtime.placement.hardware import detect_hardware

    hardware = detect_hardware()
    kernels = hardware.int8_kernels
    entries = {}
    for bench_label, variant in SHIPPED.items():
        if bench_label not in speed:
            continue
        top1 = 1.0 if bench_label == "fp32 export" else accuracy[bench_label]["top1"]
        entry = {"sha256": sha256_file(paths[bench_label]),
            "kernels": kernels, "speed": round(speed[bench_label]["decode_tps"], 1), "unit": "tokens/s",
            "accuracy": round(top1, 3), "metric": "top-1 agreement with fp32", "floor": fused_lm.TOP1_FLOOR,
            "cpu": f"{cpu_line(hardware)}; {args.threads} threads, batch 1",
            "source": figure_source(f"bench/lm_fused.py --runs {args.runs} --threads {args.threads}", args.out),
        }
        entries[variant] = entry
    return record_figures("lm_decoder", entries)


if __name__ == "__main__":
    if WORKER:
        llama_worker(sys.argv[sys.argv.index("--llama-worker") + 1], int(sys.argv[-1]))
    else:
        np.seterr(all="ignore")
        main()
