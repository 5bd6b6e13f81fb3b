"""Vision-model input preprocessing, driven by a Hugging Face `preprocessor_config.json`.

Reproduces the *slow* (PIL + numpy) image processors of transformers 4.57 for ViT, DeiT,
CLIP, SigLIP and ConvNeXt, step by step and in the same dtypes, so that our pixel values
equal theirs (tests check 1e-5 max abs):

1. resize the uint8 RGB image with PIL and the configured filter (exact height x width, or
   shortest edge with HF's `int()` truncation of the long edge);
2. center crop in uint8, padding with zeros when the crop is bigger than the image;
3. rescale in float64, then cast to float32;
4. normalize in float32: (x - mean) / std;
5. HWC -> CHW, stacked to (N, 3, H, W).

The config is parsed strictly. Defaults and the meaning of an integer `size` differ per
processor class, so the class is read from `image_processor_type` (or the older
`feature_extractor_type`); `...Fast` names are accepted and processed the slow way, which
is what those models were trained with. Without a type, every pixel key must be explicit.
Keys that change pixels in a way we do not implement raise `BundleError`; keys that never
change pixels (`_INFORMATIONAL_KEYS`) are accepted and ignored.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image

from runtime.errors import BundleError, InvalidRequestError, UnsupportedImageError

_IMAGENET_STANDARD = (0.5, 0.5, 0.5)
_IMAGENET_DEFAULT_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_DEFAULT_STD = (0.229, 0.224, 0.225)
_OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
_OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

_NEAREST, _BILINEAR, _BICUBIC = 0, 2, 3
_RESAMPLE_NAMES = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


@dataclass(frozen=True)
class _Family:
    """One transformers processor class: its defaults and how it reads `size`."""

    name: str
    size: Any
    int_size_is_square: bool  # get_size_dict(default_to_square=...) for an int `size`
    size_kinds: frozenset  # which size dicts its resize accepts: "exact", "shortest_edge"
    resample: int
    crops: bool
    do_center_crop: bool = False
    crop_size: Any = None
    mean: tuple = _IMAGENET_STANDARD
    std: tuple = _IMAGENET_STANDARD
    uses_crop_pct: bool = False


_EXACT = frozenset({"exact"})
_FAMILIES = {
    "ViT": _Family("ViTImageProcessor", {"height": 224, "width": 224}, True, _EXACT, _BILINEAR, False),
    "DeiT": _Family(
        "DeiTImageProcessor", {"height": 256, "width": 256}, True, _EXACT, _BICUBIC, True,
        do_center_crop=True, crop_size={"height": 224, "width": 224},
    ),
    "CLIP": _Family(
        "CLIPImageProcessor", {"shortest_edge": 224}, False, frozenset({"exact", "shortest_edge"}),
        _BICUBIC, True, do_center_crop=True, crop_size={"height": 224, "width": 224},
        mean=_OPENAI_CLIP_MEAN, std=_OPENAI_CLIP_STD,
    ),
    # SigLIP reads an int size as {"shortest_edge"} and then fails on size["height"].
    "Siglip": _Family("SiglipImageProcessor", {"height": 224, "width": 224}, False, _EXACT, _BICUBIC, False),
    "ConvNext": _Family(
        "ConvNextImageProcessor", {"shortest_edge": 384}, False, frozenset({"shortest_edge"}),
        _BILINEAR, False, uses_crop_pct=True,
    ),
}

#: Keys that never change pixel values: bookkeeping, output-tensor options, label options.
_INFORMATIONAL_KEYS = frozenset({
    "processor_class", "_processor_class", "image_processor_type", "feature_extractor_type",
    "_valid_processor_keys", "model_input_names", "image_seq_length", "return_tensors",
    "device", "disable_grouping", "do_reduce_labels", "reduce_labels",
})

#: Pixel keys that we accept only in their "off" state (the listed values).
_NEUTRAL_VALUES = {
    "do_pad": (None, False), "pad_size": (None,), "do_thumbnail": (None, False),
    "do_align_long_axis": (None, False), "data_format": (None, "channels_first"),
    "input_data_format": (None, "channels_last"),
}

_PIXEL_KEYS = frozenset({
    "do_resize", "size", "resample", "do_center_crop", "crop_size", "do_rescale",
    "rescale_factor", "do_normalize", "image_mean", "image_std", "do_convert_rgb",
    "crop_pct", "default_to_square", "use_square_size",
})


@dataclass(frozen=True)
class ImageProcessorConfig:
    """How to turn RGB images into model input, resolved from a preprocessor config.

    Exactly one of (`resize_height`, `resize_width`) or `resize_shortest_edge` is set when
    `do_resize` is true. ConvNeXt's `crop_pct` is resolved into an ordinary shortest-edge
    resize plus center crop at parse time.
    """

    processor_type: str
    do_resize: bool
    resize_height: int | None
    resize_width: int | None
    resize_shortest_edge: int | None
    resample: int
    do_center_crop: bool
    crop_height: int | None
    crop_width: int | None
    do_rescale: bool
    rescale_factor: float
    do_normalize: bool
    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]
    do_convert_rgb: bool

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> ImageProcessorConfig:
        """Read and strictly parse a `preprocessor_config.json`.

        Raises:
            BundleError: the file is missing, not JSON, or not a config we can reproduce.
        """
        try:
            with open(path, encoding="utf-8") as handle:
                raw = json.load(handle)
        except (OSError, ValueError) as error:
            raise BundleError(f"Cannot read preprocessor config {os.fspath(path)!r}: {error}.") from None
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ImageProcessorConfig:
        """Strictly parse a preprocessor config dict (the JSON object).

        Raises:
            BundleError: naming the offending key, for unknown pixel-affecting keys, values of
                the wrong type, or processor classes we do not reproduce.
        """
        if not isinstance(raw, Mapping):
            raise BundleError("preprocessor_config.json must hold a JSON object.")
        family = _family_of(raw)
        _check_keys(raw, family)
        values = _with_defaults(raw, family)
        do_resize = _bool(values, "do_resize")
        resize = _parse_resize(values, family) if do_resize else (None, None, None, False, None)
        height, width, shortest, forced_crop, forced_crop_size = resize
        do_center_crop = forced_crop or ((family is None or family.crops) and _bool(values, "do_center_crop"))
        crop = forced_crop_size or (_parse_crop(values) if do_center_crop else (None, None))
        do_rescale = _bool(values, "do_rescale")
        do_normalize = _bool(values, "do_normalize")
        return cls(
            processor_type=family.name if family else "unspecified",
            do_resize=do_resize,
            resize_height=height,
            resize_width=width,
            resize_shortest_edge=shortest,
            resample=_parse_resample(values.get("resample")),
            do_center_crop=do_center_crop,
            crop_height=crop[0],
            crop_width=crop[1],
            do_rescale=do_rescale,
            rescale_factor=_number(values, "rescale_factor") if do_rescale else 1.0,
            do_normalize=do_normalize,
            image_mean=_channels(values, "image_mean") if do_normalize else (0.0, 0.0, 0.0),
            image_std=_channels(values, "image_std", nonzero=True) if do_normalize else (1.0, 1.0, 1.0),
            do_convert_rgb=_bool(values, "do_convert_rgb"),
        )

    @property
    def output_size(self) -> tuple[int, int] | None:
        """(height, width) of every output image, or None when it depends on the input."""
        if self.do_center_crop:
            return (self.crop_height, self.crop_width)
        if self.do_resize and self.resize_shortest_edge is None:
            return (self.resize_height, self.resize_width)
        return None


def _family_of(raw: Mapping[str, Any]) -> _Family | None:
    name = raw.get("image_processor_type") or raw.get("feature_extractor_type")
    if name is None:
        return None
    if not isinstance(name, str):
        raise BundleError(f"image_processor_type must be a string, got {name!r}.")
    stem = name.removesuffix("Fast").removesuffix("ImageProcessor").removesuffix("FeatureExtractor")
    if stem not in _FAMILIES:
        known = ", ".join(family.name for family in _FAMILIES.values())
        raise BundleError(
            f"Image processor {name!r} is not supported; supported: {known}. Re-export the "
            "model with one of these, or add its preprocessing to runtime/preprocess.py."
        )
    return _FAMILIES[stem]


def _check_keys(raw: Mapping[str, Any], family: _Family | None) -> None:
    for key, value in raw.items():
        if key in _INFORMATIONAL_KEYS or key in _PIXEL_KEYS:
            continue
        if key in _NEUTRAL_VALUES:
            if value not in _NEUTRAL_VALUES[key]:
                raise BundleError(
                    f"preprocessor_config.json sets {key}={value!r}, which changes pixels in a way "
                    f"this runtime does not implement; only {_NEUTRAL_VALUES[key]} are supported."
                )
            continue
        raise BundleError(
            f"preprocessor_config.json has unknown key {key!r}. It may change the pixels, so the "
            "runtime refuses to guess; remove it if it is informational, or add support for it."
        )
    if family is not None and not family.crops and raw.get("do_center_crop") is True:
        raise BundleError(
            f"{family.name} never center-crops, but the config sets do_center_crop=true; "
            "set it to false or use a processor class that crops."
        )


def _with_defaults(raw: Mapping[str, Any], family: _Family | None) -> dict[str, Any]:
    """Fill in what the processor class's __init__ would, keeping transformers' None rules."""
    values = dict(raw)
    if family is None:
        required = ["do_resize", "do_rescale", "do_normalize"]
        required += [key for key, flag in (("size", "do_resize"), ("resample", "do_resize"),
                     ("rescale_factor", "do_rescale"), ("image_mean", "do_normalize"),
                     ("image_std", "do_normalize"), ("crop_size", "do_center_crop")) if raw.get(flag)]
        for key in required:
            if raw.get(key) is None:
                raise BundleError(
                    f"preprocessor_config.json names no image_processor_type, so {key!r} must be "
                    "given explicitly (defaults differ between processor classes)."
                )
        return values
    # transformers replaces a None size/crop/mean/std with the class default, but uses the
    # given value for the flags (None then means off) and for resample (None -> bilinear).
    defaults = {"do_resize": True, "do_rescale": True, "do_normalize": True, "rescale_factor": 1 / 255,
                "resample": family.resample, "do_center_crop": family.do_center_crop}
    for key, default in defaults.items():
        values.setdefault(key, default)
    for key, default in (("size", family.size), ("crop_size", family.crop_size),
                         ("image_mean", family.mean), ("image_std", family.std)):
        if values.get(key) is None:
            values[key] = default
    if family.uses_crop_pct and values.get("crop_pct") is None:
        values["crop_pct"] = 224 / 256
    values.setdefault("do_convert_rgb", family.name == "CLIPImageProcessor")
    return values


def _parse_resize(values: Mapping[str, Any], family: _Family | None) -> tuple:
    """(height, width, shortest_edge, crop_forced, (crop_h, crop_w) | None)."""
    square = values.get("default_to_square")
    for key in ("default_to_square", "use_square_size"):
        _bool(values, key)  # type check only
    if square is None and family is not None:
        square = family.int_size_is_square
    if square is None and _is_int(values.get("size")):
        raise BundleError(
            "An integer size is ambiguous without image_processor_type (square or shortest "
            "edge?); give size as {'height', 'width'} or {'shortest_edge'}."
        )
    size = _size_dict(values.get("size"), "size", bool(square))
    if values.get("use_square_size") and "shortest_edge" in size:
        # CLIP's Kosmos-2 compatibility switch: the shortest edge becomes a square.
        size = {"height": size["shortest_edge"], "width": size["shortest_edge"]}
    kind = "shortest_edge" if "shortest_edge" in size else "exact"
    if family is not None and kind not in family.size_kinds:
        wanted = " or ".join(sorted(family.size_kinds))
        raise BundleError(
            f"{family.name} cannot resize with size={values.get('size')!r}; it needs a size of "
            f"kind {wanted} ('exact' is {{'height', 'width'}})."
        )
    if family is not None and family.uses_crop_pct:
        return _convnext_resize(size["shortest_edge"], values.get("crop_pct"))
    if kind == "exact":
        return (size["height"], size["width"], None, False, None)
    return (None, None, size["shortest_edge"], False, None)


def _convnext_resize(shortest_edge: int, crop_pct: Any) -> tuple:
    if shortest_edge >= 384:
        # ConvNeXt warps to a square at 384 and above, without cropping.
        return (shortest_edge, shortest_edge, None, False, None)
    if not isinstance(crop_pct, (int, float)) or isinstance(crop_pct, bool) or not 0 < crop_pct <= 1:
        raise BundleError(f"crop_pct must be a number in (0, 1], got {crop_pct!r}.")
    return (None, None, int(shortest_edge / crop_pct), True, (shortest_edge, shortest_edge))


def _parse_crop(values: Mapping[str, Any]) -> tuple[int, int]:
    size = _size_dict(values.get("crop_size"), "crop_size", square=True)
    if "height" not in size:
        raise BundleError(f"crop_size must give height and width, got {values.get('crop_size')!r}.")
    return (size["height"], size["width"])


def _size_dict(size: Any, key: str, square: bool) -> dict[str, int]:
    """transformers' get_size_dict, restricted to the forms its processors can use."""
    if _is_int(size):
        size = {"height": size, "width": size} if square else {"shortest_edge": size}
    elif isinstance(size, (list, tuple)) and len(size) == 2:
        size = {"height": size[0], "width": size[1]}
    if not isinstance(size, Mapping) or set(size) not in ({"height", "width"}, {"shortest_edge"}):
        raise BundleError(
            f"{key} must be an int, [height, width], {{'height', 'width'}} or "
            f"{{'shortest_edge'}}; got {size!r}."
        )
    for name, value in size.items():
        if not _is_int(value) or value <= 0:
            raise BundleError(f"{key}[{name!r}] must be a positive integer, got {value!r}.")
    return dict(size)


def _parse_resample(value: Any) -> int:
    if value is None:
        return _BILINEAR  # transformers' resize() falls back to bilinear for None
    if not _is_int(value) or value not in _RESAMPLE_NAMES:
        raise BundleError(f"resample must be a PIL filter number 0-5, got {value!r}.")
    return value


def _bool(values: Mapping[str, Any], key: str) -> bool:
    value = values.get(key)
    if value is not None and not isinstance(value, bool):
        raise BundleError(f"{key} must be true, false or null, got {value!r}.")
    return bool(value)


def _number(values: Mapping[str, Any], key: str) -> float:
    value = values.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise BundleError(f"{key} must be a number, got {value!r}.")
    return float(value)


def _channels(values: Mapping[str, Any], key: str, nonzero: bool = False) -> tuple[float, float, float]:
    value = values.get(key)
    items = [value] * 3 if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    if not isinstance(items, (list, tuple)) or len(items) != 3:
        raise BundleError(f"{key} must be a number or a list of 3 numbers, got {value!r}.")
    numbers = tuple(_number({key: item}, key) for item in items)
    if nonzero and 0.0 in numbers:
        raise BundleError(f"{key} must not contain 0, got {value!r}.")
    return numbers


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def preprocess(images: Sequence[Image.Image], config: ImageProcessorConfig) -> np.ndarray:
    """Turn RGB images into the model's `pixel_values`.

    Args:
        images: PIL images, normally from `runtime.image.load_image`. Images in other modes
            are converted with PIL's `convert("RGB")`, as transformers does.
        config: the parsed preprocessor config.

    Returns:
        float32 array of shape (N, 3, H, W).

    Raises:
        InvalidRequestError: no images, or images that end up with different sizes (a
            shortest-edge resize without a crop keeps the aspect ratio).
    """
    if len(images) == 0:
        raise InvalidRequestError("At least one image is needed.", param="image")
    arrays = [preprocess_one(image, config) for image in images]
    shapes = {array.shape for array in arrays}
    if len(shapes) > 1:
        raise InvalidRequestError(
            f"These images preprocess to different sizes {sorted(shapes)}; send them in "
            "separate requests.",
            param="image",
        )
    return np.stack(arrays)


def preprocess_one(image: Image.Image, config: ImageProcessorConfig) -> np.ndarray:
    """Preprocess one image into a float32 (3, H, W) array; see `preprocess`."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    if config.do_resize:
        image = _resize(image, config)
    pixels = np.asarray(image)
    if config.do_center_crop:
        pixels = center_crop(pixels, config.crop_height, config.crop_width)
    values = pixels.astype(np.float32)
    if config.do_rescale:
        # float64 multiply, then float32, exactly like transformers' rescale().
        values = (pixels.astype(np.float64) * config.rescale_factor).astype(np.float32)
    if config.do_normalize:
        mean = np.array(config.image_mean, dtype=np.float32)
        std = np.array(config.image_std, dtype=np.float32)
        values = (values - mean) / std
    return np.ascontiguousarray(values.transpose(2, 0, 1), dtype=np.float32)


# A shortest-edge resize keeps the aspect ratio: a 1x60000 image became 224x13440000 pixels
# (9 GB) before the center crop kept 224x224 of them (issue 12). Past this size (for CLIP's
# 224, images over ~330:1) only the crop window is resampled; without a crop such an image
# is refused.
RESIZE_LIMIT_PX = 16 * 1024 * 1024


def _resize(image: Image.Image, config: ImageProcessorConfig) -> Image.Image:
    height, width = resize_output_size(image.height, image.width, config)
    if height * width <= RESIZE_LIMIT_PX:
        return image.resize((width, height), resample=config.resample)
    if not config.do_center_crop:
        raise UnsupportedImageError(
            f"The image is {image.width}x{image.height} pixels; this model resizes it to "
            f"{width}x{height}, over {RESIZE_LIMIT_PX} pixels. Crop it to a less elongated shape "
            "before sending."
        )
    # The part of the full resize that center_crop keeps, resampled alone: PIL's `box`
    # scales by the same factors and reads the same source pixels around the window. Not
    # bit-identical (PIL rounds between its two passes at other rows: a few values move by
    # some 8-bit levels, the mean by under half a level), but only images whose full
    # resize would take gigabytes come here (tests/unit/test_preprocess_elongated.py).
    top, bottom = _window(height, config.crop_height)
    left, right = _window(width, config.crop_width)
    scale_y, scale_x = image.height / height, image.width / width
    box = (left * scale_x, top * scale_y, right * scale_x, bottom * scale_y)
    return image.resize((right - left, bottom - top), resample=config.resample, box=box)


def _window(size: int, crop: int) -> tuple[int, int]:
    """The span of `size` that center_crop keeps of it (all of it when the crop is larger)."""
    start = max(0, (size - crop) // 2)
    return start, min(size, start + crop)


def resize_output_size(height: int, width: int, config: ImageProcessorConfig) -> tuple[int, int]:
    """(height, width) after the configured resize, with transformers' rounding."""
    if config.resize_shortest_edge is None:
        return (config.resize_height, config.resize_width)
    short, long = (width, height) if width <= height else (height, width)
    new_short = config.resize_shortest_edge
    new_long = int(new_short * long / short)  # truncation, as get_resize_output_image_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


def center_crop(pixels: np.ndarray, crop_height: int, crop_width: int) -> np.ndarray:
    """transformers' center_crop on an HxWxC array, zero-padding images smaller than the crop."""
    height, width = pixels.shape[:2]
    top = (height - crop_height) // 2
    left = (width - crop_width) // 2
    if top >= 0 and left >= 0:
        return pixels[top : top + crop_height, left : left + crop_width]
    padded_height, padded_width = max(crop_height, height), max(crop_width, width)
    padded = np.zeros((padded_height, padded_width) + pixels.shape[2:], dtype=pixels.dtype)
    top_pad = math.ceil((padded_height - height) / 2)
    left_pad = math.ceil((padded_width - width) / 2)
    padded[top_pad : top_pad + height, left_pad : left_pad + width] = pixels
    top, left = top + top_pad, left + left_pad
    return padded[max(0, top) : top + crop_height, max(0, left) : left + crop_width]
