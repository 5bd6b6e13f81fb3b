"""Our decoding equals transformers' `generate()` token for token on tiny random models.

The models run in torch behind a `StepModel` with a KV cache, so these tests check the
algorithms (greedy, repetition penalty, beam search with eos and length penalty), not an
ONNX export.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from runtime.decoding import generate  # noqa: E402
from runtime.params import GenerationParams  # noqa: E402

VOCAB_SIZE = 96
PROMPT = [5, 17, 42, 8, 63, 21]
MAX_NEW_TOKENS = 20


class TorchStepModel:
    """StepModel over a transformers causal LM, with its DynamicCache as the state."""

    def __init__(self, model):
        self.model = model
        self.fed_lengths: list[int] = []

    def start(self, batch_size):
        return transformers.DynamicCache(config=self.model.config)

    def step(self, token_ids, cache):
        self.fed_lengths.append(token_ids.shape[1])
        with torch.no_grad():
            out = self.model(input_ids=torch.from_numpy(token_ids), past_key_values=cache,
                             use_cache=True, logits_to_keep=1)
        return out.logits[:, -1, :].float().numpy(), out.past_key_values

    def reorder(self, cache, rows):
        cache.reorder_cache(torch.from_numpy(np.asarray(rows, dtype=np.int64)))
        return cache


def _gpt2():
    config = transformers.GPT2Config(vocab_size=VOCAB_SIZE, n_embd=32, n_layer=2, n_head=2,
                                     n_positions=128, bos_token_id=0, eos_token_id=0,
                                     tie_word_embeddings=False)
    return transformers.GPT2LMHeadModel(config)


def _llama():
    config = transformers.LlamaConfig(vocab_size=VOCAB_SIZE, hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=2, num_attention_heads=4,
                                      num_key_value_heads=2, max_position_embeddings=128,
                                      bos_token_id=0, eos_token_id=0, pad_token_id=0)
    return transformers.LlamaForCausalLM(config)


@pytest.fixture(scope="module", autouse=True)
def _single_thread():
    # The models are tiny: thread start-up costs more than the math and makes the file slow.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def model(request):
    torch.manual_seed(1234)
    built = {"gpt2": _gpt2, "llama": _llama}[request.param]()
    # Random tiny models are nearly flat; sharper logits keep argmax/top-k away from
    # float ties, where torch and numpy may legitimately break differently.
    with torch.no_grad():
        built.get_output_embeddings().weight.mul_(8.0)
    return built.eval()


def _hf_generate(model, eos: int, **kwargs) -> tuple[int, ...]:
    prompt = torch.tensor([PROMPT])
    with torch.no_grad():
        out = model.generate(prompt, attention_mask=torch.ones_like(prompt), do_sample=False,
                             max_new_tokens=MAX_NEW_TOKENS, eos_token_id=eos, pad_token_id=eos,
                             **kwargs)
    return tuple(out[0, len(PROMPT):].tolist())


def _ours(model, eos: int, **params) -> tuple[int, ...]:
    params = GenerationParams(max_new_tokens=MAX_NEW_TOKENS, **params)
    return generate(TorchStepModel(model), PROMPT, params, eos_token_ids=[eos]).token_ids


_EARLY_EOS: dict = {}  # model -> eos id


def _early_eos(model) -> int:
    """A token greedy decoding produces early, so eos handling is really exercised."""
    if model not in _EARLY_EOS:
        greedy = _hf_generate(model, eos=VOCAB_SIZE - 1)
        _EARLY_EOS[model] = next(t for i, t in enumerate(greedy) if i >= 2 and t not in greedy[:i])
    return _EARLY_EOS[model]


def test_greedy_matches_hf(model):
    unused = VOCAB_SIZE - 1
    expected = _hf_generate(model, eos=unused)
    assert _ours(model, unused) == expected
    assert len(expected) == MAX_NEW_TOKENS or expected[-1] == unused


def test_greedy_with_eos_matches_hf(model):
    eos = _early_eos(model)
    expected = _hf_generate(model, eos=eos)
    assert expected[-1] == eos and len(expected) < MAX_NEW_TOKENS
    assert _ours(model, eos) == expected


def test_greedy_repetition_penalty_matches_hf(model):
    unused = VOCAB_SIZE - 1
    expected = _hf_generate(model, eos=unused, repetition_penalty=1.3)
    assert expected != _hf_generate(model, eos=unused)  # the penalty matters here
    assert _ours(model, unused, repetition_penalty=1.3) == expected


@pytest.mark.parametrize("num_beams", [3, 4])
@pytest.mark.parametrize("length_penalty", [1.0, 0.5, 2.0])
def test_beam_search_matches_hf(model, num_beams, length_penalty):
    eos = _early_eos(model)
    expected = _hf_generate(model, eos=eos, num_beams=num_beams, length_penalty=length_penalty)
    ours = _ours(model, eos, num_beams=num_beams, length_penalty=length_penalty)
    assert ours == expected


@pytest.mark.parametrize("num_beams", [3, 4])
def test_beam_search_without_reachable_eos_matches_hf(model, num_beams):
    unused = VOCAB_SIZE - 1
    expected = _hf_generate(model, eos=unused, num_beams=num_beams)
    assert _ours(model, unused, num_beams=num_beams) == expected


def test_beam_search_with_repetition_penalty_matches_hf(model):
    eos = _early_eos(model)
    expected = _hf_generate(model, eos=eos, num_beams=3, repetition_penalty=1.3)
    assert _ours(model, eos, num_beams=3, repetition_penalty=1.3) == expected


def test_some_beam_case_finishes_on_eos(model):
    # Guards the parity tests above against only ever exercising the max-length path.
    eos = _early_eos(model)
    endings = [_hf_generate(model, eos=eos, num_beams=k, length_penalty=lp)[-1]
               for k in (3, 4) for lp in (1.0, 0.5, 2.0)]
    assert eos in endings


def test_cache_is_fed_only_new_tokens(model):
    step_model = TorchStepModel(model)
    generate(step_model, PROMPT, GenerationParams(max_new_tokens=8), eos_token_ids=[VOCAB_SIZE - 1])
    assert step_model.fed_lengths == [len(PROMPT)] + [1] * 7
