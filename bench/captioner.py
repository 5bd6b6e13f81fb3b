"""Captioning at real size: a random-weight ViT-B/16 + GPT-2 captioner exported by Optimum, run by
our engine, by transformers' `generate()` and by Optimum's ORTModelForVision2Seq on the ONNX
files of one export (issue 13, comparison 5). Ours imports that export as a user would: the
importer rebuilds the with-past decoder, whose cross-attention keys and values were recomputed
every step among some 3,000 nodes of shape arithmetic, as a graph run once per caption (those
keys and values) and a step of onnxruntime's fused operators (runtime/bundle/fuse_gpt2.py;
checked against the exported graph before it is used); ORTModelForVision2Seq runs the export
as is.

    .venv/bin/python bench/captioner.py [--runs 5] [--clients 8] [--rounds 2] [--http]
        [--out bench/results/captioner.md] [--json PATH]

The model: `ViTConfig()` (224x224, patch 16, 12 layers, 768 wide) and `GPT2Config()` (12 layers,
768 wide, 50,257-token vocabulary) with cross-attention, random weights (seed 0; no real
captioner is reachable here), a byte-level BPE tokenizer with GPT-2's vocabulary size made
of byte pairs, exported once with `optimum.exporters.onnx.main_export` (task
image-to-text-with-past) and imported with `wan2.2-turbo import --int8` (cached under
.cache/bench/captioner/, about 2.5 GB): ours runs the variants auto picks from import's
measurements, and `--precision fp32` beside them. Captions: greedy, 20 new tokens; the
others run with `min_new_tokens=20`, ours has no such setting, so the report says how many
of our captions stopped early at the end-of-text token (with random weights, about 1 in
50,000 per step).
- p50 latency of one caption at a time (image preprocessing included), ours (auto and fp32) vs
  transformers (PyTorch, fp32, eager) and vs ORTModelForVision2Seq, side by side, runs in turns;
  the top-1 agreement with fp32 import measured for auto's picks, and how many of the bench's
  captions equal fp32's;
- throughput with `--clients` clients each sending `--rounds` captions back to back vs one
  client, ours (the model loaded as `serve --max-batch-size <clients>` loads it: captions in
  flight together decode in one lockstep batch), and whether every caption equals the one
  decoded alone; with `--http` the same through `serve` (no target: reported).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_common import Figure, add_json_argument, cpu_line, report, write_figures  # noqa: E402

from runtime import load_model  # noqa: E402
from runtime.bundle import read_manifest  # noqa: E402
from runtime.placement import detect_hardware  # noqa: E402

CACHE = REPO / ".cache" / "bench" / "captioner"
NEW_TOKENS = 20
VOCAB = 50257  # GPT-2's


def byte_pair_tokenizer():
    """A GPT-2-sized byte-level BPE: the 256 byte symbols, then byte pairs as merges, then
    `<|endoftext|>` as the last id (as GPT-2's). Only its size and decoding matter here."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    merges = [(a, b) for a in alphabet for b in alphabet][: VOCAB - 1 - len(alphabet)]
    tokens = alphabet + [a + b for a, b in merges]
    raw = Tokenizer(models.BPE({token: index for index, token in enumerate(tokens)}, merges))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    raw.add_special_tokens(["<|endoftext|>"])
    return PreTrainedTokenizerFast(tokenizer_object=raw, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   unk_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=1024)


def build(cache: Path = CACHE) -> tuple[Path, Path, Path]:
    """(Hugging Face folder, Optimum export folder, our bundle folder), built once."""
    import shutil

    from runtime.bundle.importer import import_folder

    hf_dir, export_dir, bundle_dir = cache / "hf", cache / "onnx", cache / "bundle"
    if (bundle_dir / "bundle.json").is_file():
        step = read_manifest(bundle_dir).components.get("decoder_with_past")
        if step is None or not step.variants[0].file.endswith("_fused.onnx") or len(step.variants) < 2:
            # imported by an older importer (the exported or the split step graph, no int8): import again
            for path in export_dir.glob("*.onnx"):
                if not (bundle_dir / "onnx" / path.name).is_file():
                    shutil.copy2(path, bundle_dir / "onnx" / path.name)
            print("[captioner] importing again (import --int8) ...", flush=True)
            import_folder(bundle_dir, name="vit-b16-gpt2-random", int8=True)
        return hf_dir, export_dir, bundle_dir
    import torch
    from optimum.exporters.onnx import main_export
    from transformers import (GPT2Config, ViTConfig, ViTImageProcessor, VisionEncoderDecoderConfig,
                              VisionEncoderDecoderModel)

    for folder in (hf_dir, export_dir, bundle_dir):
        shutil.rmtree(folder, ignore_errors=True)
    tokenizer = byte_pair_tokenizer()
    eos = tokenizer.eos_token_id
    decoder = GPT2Config(vocab_size=VOCAB, add_cross_attention=True, bos_token_id=eos, eos_token_id=eos,
                         pad_token_id=eos, decoder_start_token_id=eos)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(ViTConfig(), decoder)
    config.decoder_start_token_id = config.bos_token_id = config.eos_token_id = config.pad_token_id = eos
    torch.manual_seed(0)
    print("[captioner] building ViT-B/16 + GPT-2 (random weights) and exporting with Optimum ...", flush=True)
    began = time.monotonic()
    model = VisionEncoderDecoderModel(config=config).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save_pretrained(hf_dir)
        tokenizer.save_pretrained(hf_dir)
        ViTImageProcessor().save_pretrained(hf_dir)
        main_export(str(hf_dir), output=str(export_dir), task="image-to-text-with-past", opset=17, device="cpu",
                    do_validation=False, local_files_only=True, library_name="transformers")
    bundle_dir.mkdir(parents=True)
    for path in hf_dir.iterdir():
        if path.suffix == ".json":
            shutil.copy2(path, bundle_dir / path.name)
    (bundle_dir / "onnx").mkdir()
    for path in export_dir.glob("*.onnx"):  # the folder as Optimum writes it; import picks what it loads
        shutil.copy2(path, bundle_dir / "onnx" / path.name)
    import_folder(bundle_dir, name="vit-b16-gpt2-random", int8=True)
    print(f"[captioner] built in {time.monotonic() - began:.0f} s", flush=True)
    return hf_dir, export_dir, bundle_dir


def images(count: int):
    from PIL import Image

    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (240 + 8 * i, 320, 3), dtype=np.uint8)) for i in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--http", action="store_true",
                        help="also measure the clients' throughput through `serve` (HTTP, chat completions)")
    parser.add_argument("--out", type=Path, default=None)
    add_json_argument(parser)
    args = parser.parse_args(argv)
    hf_dir, export_dir, bundle_dir = build()
    hardware = detect_hardware()
    threads = hardware.usable_cores

    import torch
    from optimum.onnxruntime import ORTModelForVision2Seq
    from transformers import ViTImageProcessor, VisionEncoderDecoderModel

    torch.set_num_threads(threads)
    processor = ViTImageProcessor.from_pretrained(hf_dir)
    reference = VisionEncoderDecoderModel.from_pretrained(hf_dir).eval()
    optimum_model = ORTModelForVision2Seq.from_pretrained(export_dir, use_cache=True, use_io_binding=False)
    ours = load_model(bundle_dir, max_concurrent=1)
    ours_fp32 = load_model(bundle_dir, max_concurrent=1, precision="fp32")
    pictures = images(args.runs)
    forced = {"max_new_tokens": NEW_TOKENS, "min_new_tokens": NEW_TOKENS, "do_sample": False, "num_beams": 1}

    def with_transformers(image):
        with torch.inference_mode():
            return reference.generate(processor(images=image, return_tensors="pt").pixel_values, **forced)

    def with_optimum(image):
        return optimum_model.generate(processor(images=image, return_tensors="pt").pixel_values, **forced)

    def with_ours(image):
        return ours.caption(image, max_new_tokens=NEW_TOKENS, do_sample=False)

    def with_ours_fp32(image):
        return ours_fp32.caption(image, max_new_tokens=NEW_TOKENS, do_sample=False)

    picked = ", ".join(f"{c.name} {c.variant}" for c in ours.components)
    runners = {f"ours, auto ({picked})": with_ours, "ours, --precision fp32": with_ours_fp32,
               "transformers generate() (PyTorch eager fp32)": with_transformers,
               "Optimum ORTModelForVision2Seq (the export ours imported)": with_optimum}
    for runner in runners.values():
        runner(pictures[0])  # warm-up
    times: dict[str, list[float]] = {label: [] for label in runners}
    early, same_as_fp32 = 0, 0
    for image in pictures:  # in turns: drift of the machine hits all of them alike
        tokens = {}
        for label, runner in runners.items():
            began = time.perf_counter()
            result = runner(image)
            times[label].append(time.perf_counter() - began)
            if runner in (with_ours, with_ours_fp32):
                tokens[runner] = result.token_ids
            if runner is with_ours:
                early += result.usage.completion_tokens < NEW_TOKENS
        same_as_fp32 += tokens[with_ours] == tokens[with_ours_fp32]
    p50 = {label: statistics.median(values) for label, values in times.items()}
    mine, fp32_label, torch_label, optimum_label = list(runners)
    kernels, manifest = hardware.int8_kernels, read_manifest(bundle_dir)
    figures = [m for c in ours.components for v in manifest.components[c.name].variants
               if v.label == c.variant for m in v.measured if m.kernels == kernels]
    agreement = min((m.accuracy for m in figures), default=1.0)

    many = load_model(bundle_dir, max_concurrent=args.clients)
    many.wait_for_twins()  # a server's twins exist by the time its clients come; warm them too
    many.caption(pictures[0], max_new_tokens=NEW_TOKENS)
    work = [pictures[i % len(pictures)] for i in range(args.clients * args.rounds)]

    def rate(model, clients: int) -> tuple[float, list[tuple[int, ...]]]:
        began = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            results = list(pool.map(lambda image: model.caption(image, max_new_tokens=NEW_TOKENS, do_sample=False),
                                    work))
        return len(work) / (time.perf_counter() - began), [result.token_ids for result in results]

    (rate_1, alone), (rate_n, together) = rate(ours, 1), rate(many, args.clients)
    same = sum(a == b for a, b in zip(alone, together))
    batcher = many._adapter.batcher  # noqa: SLF001 - how its steps were batched, for the report
    steps = batcher.step_sizes if batcher is not None else {}
    rows_per_step = sum(rows * count for rows, count in steps.items()) / max(1, sum(steps.values()))
    comparison = "5. Captioning, ViT-B/16 + GPT-2 (random weights), 224x224, 20 new tokens"
    write_figures([
        Figure(comparison, "p50 latency, ours / transformers generate()", p50[mine] / p50[torch_label], "x",
               at_most=0.7, note=f"{p50[mine] * 1000:.0f} vs {p50[torch_label] * 1000:.0f} ms; "
                                 f"--precision fp32 {p50[fp32_label] / p50[torch_label]:.2f}"),
        Figure(comparison, "top-1 agreement with fp32 of auto's variants (import's measurement, lowest)", agreement,
               "", at_least=0.95, note=f"captions equal to fp32's: {same_as_fp32}/{len(pictures)}"),
        Figure(comparison, "p50 latency, ours / ORTModelForVision2Seq", p50[mine] / p50[optimum_label], "x",
               at_most=0.8, note=f"{p50[mine] * 1000:.0f} vs {p50[optimum_label] * 1000:.0f} ms"),
        Figure(comparison, f"throughput, {args.clients} clients / 1 client (ours)", rate_n / rate_1, "x",
               at_least=2.0, note=f"{rate_n:.2f} vs {rate_1:.2f} captions/s"),
    ], args.json)
    served = _through_http(bundle_dir, work, args.clients) if args.http else None
    rows = [f"| {label} | {p50[label] * 1000:.0f} | {min(times[label]) * 1000:.0f}-{max(times[label]) * 1000:.0f} | "
            f"{p50[label] / p50[mine]:.2f} |" for label in runners]
    text = "\n".join([
        "# Captioning at real size: ViT-B/16 + GPT-2 (random weights), Optimum export", "",
        f"{cpu_line(hardware)}; {threads} threads for every runner. {args.runs} images (random pixels, about "
        f"320x240, resized to 224x224), greedy, {NEW_TOKENS} new tokens; medians of one caption at a time, "
        f"runners in turns after a warm-up. `.venv/bin/python bench/captioner.py --runs {args.runs} --clients "
        f"{args.clients} --rounds {args.rounds}{' --http' if args.http else ''}`", "",
        "| runner | p50 ms | min-max ms | vs ours |", "|---|---:|---:|---:|", *rows, "",
        f"Ours / transformers **{p50[mine] / p50[torch_label]:.2f}** (target <= 0.7); ours / ORTModelForVision2Seq "
        f"**{p50[mine] / p50[optimum_label]:.2f}** (target <= 0.8); with `--precision fp32` "
        f"{p50[fp32_label] / p50[torch_label]:.2f} and {p50[fp32_label] / p50[optimum_label]:.2f}. Our captions that "
        f"ended early at end-of-text: {early}/{len(pictures)}.", "",
        "The bundle is imported with `import --int8`: beside the fp32 graphs, a dynamic int8 encoder and a fused step "
        "with 8-bit weights, each measured at import against fp32 on this CPU (runtime/bundle/captioner_int8.py); "
        "auto picks, per component, the fastest variant whose top-1 agreement with fp32 is at least 0.95. "
        "Import's figures for auto's picks: " + "; ".join(
            f"{m.speed:g} {m.unit}, agreement {m.accuracy:.3f}" for m in figures) +
        f". Captions of this bench's pictures equal to `--precision fp32`'s: {same_as_fp32}/{len(pictures)} "
        "(random weights: a caption diverges for good after its first different token).", "",
        f"{args.clients} clients x {args.rounds} captions: {rate_n:.2f} captions/s vs one client {rate_1:.2f} "
        f"(**{rate_n / rate_1:.2f}x**, target >= 2); one client on the model loaded as `run` loads it, "
        f"{args.clients} on the model loaded as `serve --max-batch-size {args.clients}` loads it. Concurrent "
        "captions decode in one lockstep batch (runtime/batching.py: the step graph takes no attention mask, "
        "so a batch forms while none runs and its rows step together); "
        f"{rows_per_step:.1f} rows per decode step on average, captions equal to those decoded alone: "
        f"{same}/{len(work)}.", "",
        *([f"Through the HTTP server (`serve`, default `--max-batch-size 8`, non-streamed chat completions of "
           f"the same images, {len(work)} per run): {args.clients} clients {served[1]:.2f} captions/s vs one client "
           f"{served[0]:.2f} (**{served[1] / served[0]:.2f}x**; no target, the library figure above is "
           "comparison 5's).", ""] if served else []),
    ])
    return report(text, args.out)


def _through_http(bundle_dir: Path, work: list, clients: int) -> tuple[float, float]:
    """Captions per second through `serve` with one client and with `clients`, the same images."""
    import base64
    import io
    import json

    from http_requests import Client, run_clients
    from soak import ServerProcess

    def body(image) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
        return json.dumps({"model": "captioner", "max_tokens": NEW_TOKENS, "temperature": 0, "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]}).encode()

    bodies = [body(image) for image in work]
    server = ServerProcess(bundle_dir, max_queue=4 * clients)
    try:
        url = server.wait_until_serving()
        Client(url).ask(bodies[0])  # warm-up
        _, wall_1, _ = run_clients(url, bodies, 1)
        _, wall_n, _ = run_clients(url, bodies, clients)
    finally:
        server.stop()
    return len(bodies) / wall_1, len(bodies) / wall_n


if __name__ == "__main__":
    sys.exit(main())
