"""Tiny random-weight models exported to ONNX in the Optimum / transformers.js layout.

Each ``build_*`` function is deterministic (fixed seeds), writes one model folder and returns a
small frozen dataclass with the folder and reference outputs computed with PyTorch:

    <folder>/config.json, generation_config.json (captioners), preprocessor_config.json,
             tokenizer.json, tokenizer_config.json, special_tokens_map.json
    <folder>/onnx/*.onnx           fp32 graphs
    <folder>/onnx/*_quantized.onnx dynamic int8 variants (transformers.js "q8" suffix)

``cached_build(kind, base_dir)`` reuses a folder built earlier by the same factory source and
library versions, so repeated test runs skip the export (tens of seconds per model).
No network is used: every config, tokenizer and weight is built here.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
ONNX_TOOLS_DIR = REPO_ROOT / "packaging"

# Small English corpus for the tokenizers: enough text to learn a few dozen merges.
CORPUS = [
    "a photo of a cat sitting on a red sofa",
    "a photo of a dog running in the green park",
    "two people walking on the beach at sunset",
    "a man riding a bicycle down the street",
    "a woman holding an umbrella in the rain",
    "a bowl of fruit on a wooden table",
    "the quick brown fox jumps over the lazy dog",
    "an old train waiting at the station",
    "a small boat on a calm blue lake",
    "children playing football in the school yard",
    "a plate of pasta with tomato sauce",
    "a city skyline at night with bright lights",
    "a bird standing on the branch of a tree",
    "the invoice total is 42 dollars and 17 cents",
    "hello world, this is a test of the reading model",
    "North Wind Hardware Supply, 12 Main Street",
]
TEXTS = ["a photo of a cat", "a photo of a dog", "a red bicycle on the street"]
IMAGE_SIZES = [(40, 50), (64, 48)]  # PIL (width, height)
MAX_NEW_TOKENS = 20
MIN_GREEDY_TOKENS = 10
OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
KINDS = ("vit_gpt2", "trocr", "clip", "clip_split")


@dataclass(frozen=True)
class CaptionerReference:
    """A built image-to-text folder and its PyTorch references.

    ``greedy_ids`` / ``beam_ids`` hold one list per image, exactly as ``generate()`` returns
    them: the decoder start token first, eos last when generation stopped on it.
    """

    folder: Path
    images: np.ndarray  # object array of uint8 HxWx3 arrays (different sizes)
    pixel_values: np.ndarray  # (2, 3, 32, 32) float32, from the HF image processor
    encoder_hidden_states: np.ndarray  # (2, seq, hidden) float32
    greedy_ids: list
    beam_ids: list
    num_beams: int
    max_new_tokens: int
    decoder_start_token_id: int
    eos_token_id: int
    pad_token_id: int
    seed: int
    export_time_s: float

    def pil_images(self) -> list:
        """``images`` as RGB PIL images (what the HF processor was given)."""
        return _pil_images(self.images)


@dataclass(frozen=True)
class ClipReference:
    """A built CLIP folder (``layout`` "combined": onnx/model.onnx, or "split":
    onnx/vision_model.onnx + onnx/text_model.onnx, whose embeds are *not* normalised,
    as in transformers.js) and L2-normalised PyTorch references."""

    folder: Path
    layout: str
    images: np.ndarray
    pixel_values: np.ndarray
    texts: list
    input_ids: np.ndarray  # (3, seq) int64, padded to the longest text
    attention_mask: np.ndarray
    image_embeds: np.ndarray  # (2, 16) L2-normalised
    text_embeds: np.ndarray  # (3, 16) L2-normalised
    logits_per_image: np.ndarray  # (2, 3)
    seed: int
    export_time_s: float

    def pil_images(self) -> list:
        """``images`` as RGB PIL images (what the HF processor was given)."""
        return _pil_images(self.images)


# ---------------------------------------------------------------- images and tokenizers


def _pil_images(arrays) -> list:
    from PIL import Image

    return [Image.fromarray(array, "RGB") for array in arrays]


def make_test_images() -> list:
    """Two fixed RGB PIL images of different sizes (smooth gradients plus noise)."""
    from PIL import Image

    rng = np.random.RandomState(1234)
    images = []
    for width, height in IMAGE_SIZES:
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        base = np.stack([xs / width, ys / height, (xs + ys) / (width + height)], axis=-1) * 200
        noise = rng.randint(0, 56, size=(height, width, 3))
        images.append(Image.fromarray((base + noise).clip(0, 255).astype(np.uint8), "RGB"))
    return images


def _object_array(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for index, item in enumerate(items):
        out[index] = item
    return out


def _learn_merges(words: dict, num_merges: int) -> list:
    """Plain BPE training on {symbol tuple: count}. Ties go to the smallest pair, so the
    result is the same on every run (the tokenizers trainer breaks ties by hash order)."""
    words = dict(words)
    merges = []
    for _ in range(num_merges):
        pairs: dict = {}
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] = pairs.get(pair, 0) + count
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        merged_words = {}
        for word, count in words.items():
            symbols, index = [], 0
            while index < len(word):
                if word[index : index + 2] == best:
                    symbols.append(best[0] + best[1])
                    index += 2
                else:
                    symbols.append(word[index])
                    index += 1
            merged_words[tuple(symbols)] = merged_words.get(tuple(symbols), 0) + count
        words = merged_words
    return merges


def _byte_level_bpe(vocab_size: int, leading_specials: list, clip_style: bool = False):
    """A byte-level BPE ``tokenizers.Tokenizer`` trained on CORPUS (specials added later)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    if clip_style:
        # As openai/clip-vit-base-patch32's tokenizer.json: lower-case, split into words and
        # punctuation (spaces removed), bytes mapped by ByteLevel, "</w>" ends a word.
        normalizer = normalizers.Sequence(
            [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
        )
        pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(
                    Regex(r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"),
                    behavior="removed",
                    invert=True,
                ),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
        suffix = "</w>"
        alphabet = alphabet + [symbol + suffix for symbol in alphabet]
    else:
        normalizer, suffix = None, ""
        pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    words: dict = {}
    for line in CORPUS:
        text = normalizer.normalize_str(line) if normalizer else line
        for piece, _ in pre_tokenizer.pre_tokenize_str(text):
            symbols = tuple(piece[:-1]) + (piece[-1] + suffix,)
            words[symbols] = words.get(symbols, 0) + 1
    merges = _learn_merges(words, vocab_size - len(leading_specials) - len(alphabet))
    tokens = list(leading_specials) + alphabet + [left + right for left, right in merges]
    vocab = {token: index for index, token in enumerate(tokens)}
    if clip_style:
        model = models.BPE(vocab, merges, end_of_word_suffix=suffix, continuing_subword_prefix="")
    else:
        model = models.BPE(vocab, merges)
    tokenizer = Tokenizer(model)
    if normalizer:
        tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.ByteLevel()
    if clip_style:
        tokenizer.decoder = decoders.Sequence([decoders.BPEDecoder(suffix=suffix), decoders.ByteLevel()])
    tokenizer.add_special_tokens(list(leading_specials))
    return tokenizer


def make_gpt2_tokenizer():
    """GPT-2 style byte-level BPE (300 tokens); one special ``<|endoftext|>`` (bos = eos =
    pad), the last id, as in gpt2."""
    from transformers import PreTrainedTokenizerFast

    raw = _byte_level_bpe(299, [])
    raw.add_special_tokens(["<|endoftext|>"])
    return PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        model_max_length=64,
    )


def make_roberta_tokenizer():
    """TrOCR / RoBERTa style byte-level BPE (300 tokens): <s>=0, <pad>=1, </s>=2, <unk>=3."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    raw = _byte_level_bpe(300, ["<s>", "<pad>", "</s>", "<unk>"])
    raw.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), add_prefix_space=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=64,
    )


def make_clip_tokenizer():
    """CLIP style BPE: 512 byte symbols (with and without ``</w>``) + 60 merges, then
    ``<|startoftext|>``, ``<|endoftext|>`` at the end of the vocabulary as in openai/clip (eos
    is the largest id); pad = eos."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    raw = _byte_level_bpe(512 + 60, [], clip_style=True)
    raw.add_special_tokens(["<|startoftext|>", "<|endoftext|>"])
    bos_id = raw.token_to_id("<|startoftext|>")
    eos_id = raw.token_to_id("<|endoftext|>")
    raw.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>",
        special_tokens=[("<|startoftext|>", bos_id), ("<|endoftext|>", eos_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        model_max_length=32,
    )


def make_vit_image_processor():
    from transformers import ViTImageProcessor

    return ViTImageProcessor(
        size={"height": 32, "width": 32},
        resample=2,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )


def make_clip_image_processor():
    from transformers import CLIPImageProcessor

    return CLIPImageProcessor(
        size={"shortest_edge": 32},
        crop_size={"height": 32, "width": 32},
        resample=3,
        image_mean=OPENAI_CLIP_MEAN,
        image_std=OPENAI_CLIP_STD,
    )


# ---------------------------------------------------------------- export helpers


def _onnx_tools():
    if str(ONNX_TOOLS_DIR) not in sys.path:
        sys.path.insert(0, str(ONNX_TOOLS_DIR))
    import onnx_tools

    return onnx_tools


def _optimum_export(hf_dir: Path, export_dir: Path, task: str) -> None:
    from optimum.exporters.onnx import main_export

    # The exporter warns about tracing (TracerWarning), deprecated torch APIs and so on;
    # pytest runs with -W error, so silence them around the export only.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main_export(
            str(hf_dir),
            output=str(export_dir),
            task=task,
            opset=17,
            device="cpu",
            do_validation=False,
            local_files_only=True,
            library_name="transformers",
        )


def _assemble(hf_dir: Path, export_dir: Path, out_dir: Path) -> None:
    """json files in the root, ONNX files under onnx/ (the transformers.js repo layout)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "onnx").mkdir(parents=True)
    for path in sorted(hf_dir.iterdir()):
        if path.suffix == ".json":
            shutil.copy2(path, out_dir / path.name)
    for path in sorted(export_dir.iterdir()):
        if path.suffix == ".onnx" or path.name.endswith(".onnx_data"):
            shutil.move(str(path), out_dir / "onnx" / path.name)


def _quantize_all(onnx_dir: Path, names: list) -> None:
    onnx_tools = _onnx_tools()
    for name in names:
        onnx_tools.quantize_int8(onnx_dir / f"{name}.onnx", onnx_dir / f"{name}_quantized.onnx")


def _save_pretrained_quietly(obj, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj.save_pretrained(path)


# ---------------------------------------------------------------- captioners


def _vit_config():
    from transformers import ViTConfig

    return ViTConfig(
        image_size=32,
        patch_size=8,
        num_channels=3,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )


def _gpt2_decoder_config(tokenizer):
    from transformers import GPT2Config

    eos = tokenizer.eos_token_id
    return GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_inner=64,
        add_cross_attention=True,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
        decoder_start_token_id=eos,
        # A larger init than 0.02 gives peaked logits, so greedy/beam choices are not
        # decided by float noise between PyTorch and onnxruntime.
        initializer_range=0.2,
    )


def _trocr_decoder_config(tokenizer):
    from transformers import TrOCRConfig

    return TrOCRConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        decoder_layers=2,
        decoder_attention_heads=2,
        decoder_ffn_dim=64,
        max_position_embeddings=64,
        cross_attention_hidden_size=32,
        use_learned_position_embeddings=True,
        layernorm_embedding=True,
        scale_embedding=False,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,  # as microsoft/trocr-*: start with </s>
        init_std=0.2,
    )


def _make_vision_encoder_decoder(decoder_config, seed: int):
    import torch
    from transformers import GenerationConfig, VisionEncoderDecoderConfig, VisionEncoderDecoderModel

    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(_vit_config(), decoder_config)
    config.decoder_start_token_id = decoder_config.decoder_start_token_id
    config.bos_token_id = decoder_config.bos_token_id
    config.eos_token_id = decoder_config.eos_token_id
    config.pad_token_id = decoder_config.pad_token_id
    config.tie_word_embeddings = False
    torch.manual_seed(seed)
    model = VisionEncoderDecoderModel(config=config).eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=config.decoder_start_token_id,
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
        max_length=64,
    )
    return model


def _generate(model, pixel_values, num_beams: int) -> list:
    import torch

    sequences = []
    with torch.no_grad():
        for row in range(pixel_values.shape[0]):
            out = model.generate(
                pixel_values[row : row + 1],
                do_sample=False,
                num_beams=num_beams,
                max_new_tokens=MAX_NEW_TOKENS,
            )
            sequences.append([int(token) for token in out[0]])
    return sequences


def _pick_captioner(make_decoder_config, tokenizer, pixel_values, first_seed: int):
    """The first seed whose greedy output runs at least MIN_GREEDY_TOKENS for some image."""
    for seed in range(first_seed, first_seed + 20):
        model = _make_vision_encoder_decoder(make_decoder_config(tokenizer), seed)
        greedy = _generate(model, pixel_values, num_beams=1)
        if max(len(ids) - 1 for ids in greedy) >= MIN_GREEDY_TOKENS:
            return model, seed, greedy
    raise RuntimeError("no seed gave a greedy caption of at least %d tokens" % MIN_GREEDY_TOKENS)


def _build_captioner(out_dir, tokenizer, make_decoder_config, first_seed: int) -> CaptionerReference:
    import torch

    out_dir = Path(out_dir)
    processor = make_vit_image_processor()
    images = make_test_images()
    pixel_values = processor(images=images, return_tensors="pt")["pixel_values"]
    model, seed, greedy = _pick_captioner(make_decoder_config, tokenizer, pixel_values, first_seed)
    beam = _generate(model, pixel_values, num_beams=3)
    with torch.no_grad():
        encoder_hidden_states = model.encoder(pixel_values=pixel_values).last_hidden_state.numpy()

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".stage-") as stage:
        hf_dir, export_dir = Path(stage) / "hf", Path(stage) / "export"
        _save_pretrained_quietly(model, hf_dir)
        tokenizer.save_pretrained(hf_dir)
        processor.save_pretrained(hf_dir)
        _optimum_export(hf_dir, export_dir, task="image-to-text-with-past")
        _assemble(hf_dir, export_dir, out_dir)
    _quantize_all(out_dir / "onnx", ["encoder_model", "decoder_model_merged"])
    model.eval()
    return CaptionerReference(
        folder=out_dir,
        images=_object_array([np.asarray(image) for image in images]),
        pixel_values=pixel_values.numpy(),
        encoder_hidden_states=encoder_hidden_states,
        greedy_ids=greedy,
        beam_ids=beam,
        num_beams=3,
        max_new_tokens=MAX_NEW_TOKENS,
        decoder_start_token_id=int(model.config.decoder_start_token_id),
        eos_token_id=int(model.config.eos_token_id),
        pad_token_id=int(model.config.pad_token_id),
        seed=seed,
        export_time_s=round(time.perf_counter() - started, 2),
    )


def build_vit_gpt2(out_dir) -> CaptionerReference:
    """Tiny ViT + GPT-2 captioner (like nlpconnect/vit-gpt2-image-captioning) in ``out_dir``."""
    return _build_captioner(out_dir, make_gpt2_tokenizer(), _gpt2_decoder_config, first_seed=0)


def build_trocr(out_dir) -> CaptionerReference:
    """Tiny ViT + TrOCRForCausalLM reader (like microsoft/trocr-*) in ``out_dir``."""
    return _build_captioner(out_dir, make_roberta_tokenizer(), _trocr_decoder_config, first_seed=100)


# ---------------------------------------------------------------- CLIP


def _clip_model(tokenizer, seed: int):
    import torch
    from transformers import CLIPConfig, CLIPModel

    text_config = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "max_position_embeddings": 32,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "projection_dim": 16,
    }
    vision_config = {
        "image_size": 32,
        "patch_size": 8,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "projection_dim": 16,
    }
    config = CLIPConfig(text_config=text_config, vision_config=vision_config, projection_dim=16)
    torch.manual_seed(seed)
    return CLIPModel(config).eval()


def _l2_normalise(array: np.ndarray) -> np.ndarray:
    return array / np.linalg.norm(array, axis=-1, keepdims=True)


def _split_wrappers(model):
    import torch
    from transformers import CLIPTextModelWithProjection, CLIPVisionModelWithProjection

    vision = CLIPVisionModelWithProjection(model.config.vision_config).eval()
    vision.vision_model.load_state_dict(model.vision_model.state_dict())
    vision.visual_projection.load_state_dict(model.visual_projection.state_dict())
    text = CLIPTextModelWithProjection(model.config.text_config).eval()
    text.text_model.load_state_dict(model.text_model.state_dict())
    text.text_projection.load_state_dict(model.text_projection.state_dict())

    class VisionWrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values):
            out = self.inner(pixel_values=pixel_values, return_dict=True)
            return out.image_embeds, out.last_hidden_state

    class TextWrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
            return out.text_embeds, out.last_hidden_state

    return VisionWrapper(vision).eval(), TextWrapper(text).eval()


def _export_clip_split(model, pixel_values, input_ids, attention_mask, onnx_dir: Path) -> None:
    import torch

    vision, text = _split_wrappers(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            vision,
            (pixel_values,),
            str(onnx_dir / "vision_model.onnx"),
            input_names=["pixel_values"],
            output_names=["image_embeds", "last_hidden_state"],
            dynamic_axes={
                "pixel_values": {0: "batch_size"},
                "image_embeds": {0: "batch_size"},
                "last_hidden_state": {0: "batch_size"},
            },
            opset_version=17,
            dynamo=False,
        )
        torch.onnx.export(
            text,
            (input_ids, attention_mask),
            str(onnx_dir / "text_model.onnx"),
            input_names=["input_ids", "attention_mask"],
            output_names=["text_embeds", "last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch_size", 1: "sequence_length"},
                "attention_mask": {0: "batch_size", 1: "sequence_length"},
                "text_embeds": {0: "batch_size"},
                "last_hidden_state": {0: "batch_size", 1: "sequence_length"},
            },
            opset_version=17,
            dynamo=False,
        )


def build_clip(out_dir, layout: str = "combined") -> ClipReference:
    """Tiny CLIP in ``out_dir``.

    Args:
        out_dir: folder to (re)create.
        layout: "combined" (optimum's onnx/model.onnx: input_ids, attention_mask,
            pixel_values -> logits_per_image, logits_per_text, text_embeds, image_embeds) or
            "split" (transformers.js: onnx/vision_model.onnx and onnx/text_model.onnx, both
            from hand-written wrappers around the *WithProjection models, same weights).
    """
    import torch

    if layout not in ("combined", "split"):
        raise ValueError(f"layout must be 'combined' or 'split', not {layout!r}")
    out_dir = Path(out_dir)
    seed = 7
    tokenizer = make_clip_tokenizer()
    processor = make_clip_image_processor()
    model = _clip_model(tokenizer, seed)
    images = make_test_images()
    pixel_values = processor(images=images, return_tensors="pt")["pixel_values"]
    text_inputs = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(
            input_ids=text_inputs["input_ids"],
            attention_mask=text_inputs["attention_mask"],
            pixel_values=pixel_values,
        )

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".stage-") as stage:
        hf_dir, export_dir = Path(stage) / "hf", Path(stage) / "export"
        _save_pretrained_quietly(model, hf_dir)
        tokenizer.save_pretrained(hf_dir)
        processor.save_pretrained(hf_dir)
        if layout == "combined":
            _optimum_export(hf_dir, export_dir, task="zero-shot-image-classification")
        else:
            export_dir.mkdir()
            _export_clip_split(
                model, pixel_values, text_inputs["input_ids"], text_inputs["attention_mask"], export_dir
            )
        _assemble(hf_dir, export_dir, out_dir)
    names = ["model"] if layout == "combined" else ["vision_model", "text_model"]
    _quantize_all(out_dir / "onnx", names)
    model.eval()
    return ClipReference(
        folder=out_dir,
        layout=layout,
        images=_object_array([np.asarray(image) for image in images]),
        pixel_values=pixel_values.numpy(),
        texts=list(TEXTS),
        input_ids=text_inputs["input_ids"].numpy(),
        attention_mask=text_inputs["attention_mask"].numpy(),
        image_embeds=_l2_normalise(out.image_embeds.numpy()),
        text_embeds=_l2_normalise(out.text_embeds.numpy()),
        logits_per_image=out.logits_per_image.numpy(),
        seed=seed,
        export_time_s=round(time.perf_counter() - started, 2),
    )


def build_clip_split(out_dir) -> ClipReference:
    """``build_clip(out_dir, layout="split")``."""
    return build_clip(out_dir, layout="split")


# ---------------------------------------------------------------- cache

BUILDERS = {
    "vit_gpt2": (build_vit_gpt2, CaptionerReference),
    "trocr": (build_trocr, CaptionerReference),
    "clip": (build_clip, ClipReference),
    "clip_split": (build_clip_split, ClipReference),
}
_VERSIONED_PACKAGES = (
    "torch",
    "transformers",
    "optimum",
    "optimum-onnx",
    "onnx",
    "onnxruntime",
    "tokenizers",
    "numpy",
    "pillow",
)
_IN_PROCESS: dict = {}


def build_stamp(kind: str) -> str:
    """Hash of this file, onnx_tools.py and the library versions that shape the output."""
    return _onnx_tools().build_stamp([Path(__file__)], _VERSIONED_PACKAGES, salt=kind)


def _save_reference(reference, json_path: Path, npz_path: Path) -> None:
    plain, arrays = {}, {}
    for field in dataclasses.fields(reference):
        value = getattr(reference, field.name)
        if isinstance(value, np.ndarray) and value.dtype == object:
            plain[field.name] = {"object_array": len(value)}
            for index, item in enumerate(value):
                arrays[f"{field.name}.{index}"] = item
        elif isinstance(value, np.ndarray):
            arrays[field.name] = value
        elif isinstance(value, Path):
            plain[field.name] = {"path": value.name}
        else:
            plain[field.name] = {"value": value}
    np.savez(npz_path, **arrays)
    json_path.write_text(json.dumps(plain, indent=1))


def _load_reference(reference_type, folder: Path, json_path: Path, npz_path: Path):
    plain = json.loads(json_path.read_text())
    values = {}
    with np.load(npz_path, allow_pickle=False) as arrays:
        for field in dataclasses.fields(reference_type):
            entry = plain.get(field.name)
            if entry is None:
                values[field.name] = arrays[field.name]
            elif "object_array" in entry:
                values[field.name] = _object_array(
                    [arrays[f"{field.name}.{index}"] for index in range(entry["object_array"])]
                )
            elif "path" in entry:
                values[field.name] = folder
            else:
                values[field.name] = entry["value"]
    return reference_type(**values)


def cached_build(kind: str, base_dir):
    """Build ``kind`` into ``base_dir/kind`` unless an earlier build there has the same stamp.

    Args:
        kind: one of KINDS ("vit_gpt2", "trocr", "clip", "clip_split").
        base_dir: cache folder, e.g. ``<repo>/.cache/contract`` (gitignored).
    Returns:
        The builder's reference dataclass; ``export_time_s`` is that of the original build.
    """
    import fcntl

    if kind not in BUILDERS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    builder, reference_type = BUILDERS[kind]
    base_dir = Path(base_dir).resolve()
    key = (kind, str(base_dir))
    if key in _IN_PROCESS:
        return _IN_PROCESS[key]
    base_dir.mkdir(parents=True, exist_ok=True)
    folder = base_dir / kind
    stamp_path = base_dir / f"{kind}.stamp"
    json_path, npz_path = base_dir / f"{kind}.reference.json", base_dir / f"{kind}.reference.npz"
    stamp = build_stamp(kind)
    # One builder at a time per kind (pytest-xdist workers may share the cache).
    with open(base_dir / f"{kind}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fresh = (
            stamp_path.exists()
            and stamp_path.read_text() == stamp
            and folder.is_dir()
            and json_path.exists()
            and npz_path.exists()
        )
        if fresh:
            reference = _load_reference(reference_type, folder, json_path, npz_path)
        else:
            stamp_path.unlink(missing_ok=True)
            reference = builder(folder)
            _save_reference(reference, json_path, npz_path)
            stamp_path.write_text(stamp)
    _IN_PROCESS[key] = reference
    return reference
