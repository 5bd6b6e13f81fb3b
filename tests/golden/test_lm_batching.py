"""The default bundle's SmolLM2 decoded in one batch: replies equal those decoded alone.

fp32 and the fused int4 graph (row-independent) are batched when a model is loaded for
several requests at once, the exported graph with a left-padded cache, the fused one in its
shared GQA buffers; the dynamically quantized int8 graph is not (its activation scales span
the batch). Speed is a benchmark's business: bench/lm_batching.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import pytest

from runtime import load_model, plan_load
from runtime.batching import SharedBufferCache
from runtime.bundle import read_manifest
from runtime.chat import Message
from runtime.params import GenerationParams
from runtime.placement.hardware import detect_hardware
from runtime.reader.language_model import LanguageModel
from runtime.results import GenerationResult, TextDelta
from runtime.session import ComponentSession, SessionConfig
from runtime.tokenizer import Tokenizer

pytestmark = pytest.mark.slow

PROMPTS = ("What is the capital of France?", "Write a haiku about rain.", "List three fruits.",
           "Explain what an invoice is in one sentence.", "Count from one to five.")  # fmt: skip
NEW_TOKENS = 24


@pytest.fixture(scope="module")
def alone(reader_bundle):
    return load_model(reader_bundle, precision="fp32", max_concurrent=1)


@pytest.fixture(scope="module")
def together(reader_bundle):
    return load_model(reader_bundle, precision="fp32", max_concurrent=4)


@pytest.fixture(scope="module")
def int4_language_models(reader_bundle):
    """The bundle's fused int4 LM alone and with 3 rows, built directly: the launcher keeps
    int4 off CPUs whose int8 kernels its accuracy was not measured on, batching works anywhere."""
    manifest = read_manifest(reader_bundle)
    variant = manifest.components["lm_decoder"].variant("fused-q4")
    session = ComponentSession("lm_decoder", reader_bundle / variant.file, SessionConfig(intra_op_threads=2), "int4")
    tokenizer = Tokenizer.from_file(reader_bundle / manifest.tokenizer, eos_token_ids=manifest.generation["eos_token_id"])

    def language_model(max_batch):
        return LanguageModel(session, tokenizer, "chatml", manifest.extra["default_system"],
                             manifest.generation["eos_token_id"], manifest.max_seq_len, max_batch=max_batch)
    return language_model(1), language_model(3)


def _reply(model, prompt: str, **params) -> GenerationResult:
    return model.generate(None, prompt, **{"max_new_tokens": NEW_TOKENS, "do_sample": False, **params})


def test_fp32_replies_in_a_batch_equal_replies_alone(alone, together):
    batcher = together._adapter._lm.batcher  # noqa: SLF001
    assert batcher is not None and alone._adapter._lm.batcher is None  # noqa: SLF001
    expected = [_reply(alone, prompt) for prompt in PROMPTS]
    with ThreadPoolExecutor(len(PROMPTS)) as pool:
        got = list(pool.map(lambda prompt: _reply(together, prompt), PROMPTS))
    assert [r.text for r in got] == [r.text for r in expected]
    assert [r.token_ids for r in got] == [r.token_ids for r in expected]
    assert [r.usage for r in got] == [r.usage for r in expected]
    assert max(batcher.step_sizes) > 1 and max(batcher.step_sizes) <= 4, batcher.step_sizes


def test_fused_int4_replies_in_a_batch_equal_replies_alone(int4_language_models):
    alone, together = int4_language_models
    assert alone.batcher is None and isinstance(together.batcher._cache, SharedBufferCache)  # noqa: SLF001
    params = GenerationParams(max_new_tokens=40, do_sample=False)

    def reply(model, prompt):
        *_, result = model.generate([Message("user", prompt)], params)
        return result

    expected = [reply(alone, prompt) for prompt in PROMPTS]
    # 5 clients, 3 rows: three share the batch, joining as each prompt is run and leaving at their
    # own lengths; the two that find it full decode alone beside it.
    with ThreadPoolExecutor(len(PROMPTS)) as pool:
        got = list(pool.map(lambda prompt: reply(together, prompt), PROMPTS))
    assert [r.token_ids for r in got] == [r.token_ids for r in expected]
    assert [r.text for r in got] == [r.text for r in expected]
    steps = together.batcher.step_sizes
    assert max(steps) > 1 and max(steps) <= 3, steps
    # The joining prompts shared the chat template's prefix: equal replies with it reused where
    # this CPU's kernels give a prompt run from a past its logits run whole, else run whole.
    cache = together.batcher._cache  # noqa: SLF001
    assert cache.reuse_exact is not None
    assert (cache.prefill_positions["reused"] > 0) == cache.reuse_exact


def test_a_seeded_reply_does_not_depend_on_the_request_before_it(int4_language_models):
    # The same prompt again after itself (its whole prefix remembered) and after another: a
    # sampled reply is the one decoded alone either way.
    alone, together = int4_language_models
    params = GenerationParams(max_new_tokens=20, do_sample=True, temperature=0.8, seed=5)

    def reply(model, prompt):
        *_, result = model.generate([Message("user", prompt)], params)
        return result.token_ids

    expected = {prompt: reply(alone, prompt) for prompt in PROMPTS[:2]}
    for prompt in (PROMPTS[0], PROMPTS[0], PROMPTS[1], PROMPTS[0]):
        assert reply(together, prompt) == expected[prompt], prompt


def test_stop_strings_logprobs_and_seeded_sampling_survive_batching(alone, together):
    options = [dict(stop=["Paris"]), dict(top_logprobs=2), dict(do_sample=True, seed=7, temperature=0.8)]

    def reply(model, option):
        merged = {"do_sample": False, **option}
        return model.generate(None, PROMPTS[0], max_new_tokens=NEW_TOKENS, **merged)

    expected = [reply(alone, option) for option in options]
    with ThreadPoolExecutor(len(options)) as pool:
        got = list(pool.map(lambda option: reply(together, option), options))
    assert [r.text for r in got] == [r.text for r in expected]
    assert [r.finish_reason for r in got] == [r.finish_reason for r in expected]
    steps, expected_steps = got[1].logprobs, expected[1].logprobs
    assert [s.chosen.token for s in steps] == [s.chosen.token for s in expected_steps]
    assert [s.chosen.logprob for s in steps] == pytest.approx([s.chosen.logprob for s in expected_steps], abs=1e-3)


def test_a_stream_stopped_early_leaves_the_others_intact(alone, together):
    expected = _reply(alone, PROMPTS[1]).text
    early = together.stream("generate", None, PROMPTS[2], max_new_tokens=200, do_sample=False)
    assert isinstance(next(early), TextDelta)
    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(_reply, together, PROMPTS[1])
        early.close()
        assert other.result(timeout=120).text == expected


def test_int8_is_not_batched_and_the_plan_says_which(reader_bundle):
    model = load_model(reader_bundle, precision="int8", max_concurrent=4)
    assert model._adapter._lm.batcher is None  # noqa: SLF001
    int8 = plan_load(reader_bundle, precision="int8", max_concurrent=4).lines()[-1]
    assert "(int8, dynamic quantization) decodes each reply alone" in int8
    assert "decodes up to 4 replies per batched step" in plan_load(reader_bundle, precision="fp32", max_concurrent=4).lines()[-1]
    assert "replies" not in plan_load(reader_bundle, precision="fp32", max_concurrent=1).lines()[-1]
    if detect_hardware().int8_kernels in read_manifest(reader_bundle).components["lm_decoder"].variant("fused-q4").accurate_on:
        int4 = plan_load(reader_bundle, precision="int4", max_concurrent=4).lines()[-1]
        assert "decodes up to 4 replies per batched step" in int4


def test_the_batched_lm_gets_a_twin_on_every_core_when_its_weights_are_small(reader_bundle):
    # The batched step runs on one decode thread for every stream: on 2 cores split 2 x 1 it
    # gets both when alone in flight (runtime.session.ComponentSession's wide twin). The
    # fused int4 graph is small enough to hold twice; the 540 MB fp32 export is not.
    hardware = dataclasses.replace(detect_hardware(), usable_cores=2, logical_cores=2)
    fp32 = plan_load(reader_bundle, precision="fp32", max_concurrent=4, hardware=hardware)
    assert "lm_decoder" not in fp32.wide_components()
    assert "lm_decoder" not in plan_load(reader_bundle, precision="fp32", max_concurrent=1, hardware=hardware).wide_components()
    if hardware.int8_kernels in read_manifest(reader_bundle).components["lm_decoder"].variant("fused-q4").accurate_on:
        int4 = plan_load(reader_bundle, precision="int4", max_concurrent=4, hardware=hardware)
        assert "lm_decoder" in int4.wide_components()
        assert "lm_decoder on 2 when alone in flight" in int4.lines()[-1]
        model = load_model(int4)
        assert model.twins_deferred and model.wait_for_twins(timeout=120)  # made after the load returned
        assert model._adapter.context.sessions["lm_decoder"]._wide is not None


def test_a_script_that_exits_while_twins_are_made_exits_cleanly(reader_bundle):
    # A process leaving while a daemon thread created an onnxruntime session aborted
    # ("terminate called without an active exception", status 134): runtime.loading finishes
    # the twin being made at exit and starts no other.
    import subprocess
    import sys

    script = ("import sys\nfrom runtime import load_model\n"
              f"model = load_model({str(reader_bundle)!r}, max_concurrent=4)\n"
              "print('deferred' if model.twins_deferred else 'none')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=str(Path(__file__).resolve().parents[2]))
    if done.stdout.strip() == "none":
        pytest.skip("no twin is deferred on this CPU (cores enough for every worker)")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "terminate called" not in done.stderr and done.stdout.strip() == "deferred"
