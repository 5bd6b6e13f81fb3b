"""Tests for runtime.preprocess against transformers' slow image processors.

Tolerance: 1e-5 max abs is asserted; with transformers 4.57.6 the outputs are bit-identical
(max abs difference 0.0) for every case below.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import transformers
from PIL import Image

from runtime.errors import BundleError, InvalidRequestError
from runtime.preprocess import ImageProcessorConfig, center_crop, preprocess

TOLERANCE = 1e-5

CONFIGS = {
    "vit": {
        "image_processor_type": "ViTImageProcessor", "do_resize": True,
        "size": {"height": 224, "width": 224}, "resample": 2, "do_rescale": True,
        "rescale_factor": 0.00392156862745098, "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
    },
    "clip": {
        "image_processor_type": "CLIPImageProcessor", "processor_class": "CLIPProcessor",
        "do_resize": True, "size": {"shortest_edge": 224}, "resample": 3,
        "do_center_crop": True, "crop_size": {"height": 224, "width": 224},
        "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711], "do_convert_rgb": True,
    },
    "siglip": {
        "image_processor_type": "SiglipImageProcessor", "processor_class": "SiglipProcessor",
        "do_resize": True, "size": {"height": 384, "width": 384}, "resample": 3,
        "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
    },
    "deit": {
        "image_processor_type": "DeiTImageProcessor", "do_resize": True, "size": 438,
        "resample": 3, "do_center_crop": True, "crop_size": 384, "do_rescale": True,
        "do_normalize": True, "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
    },
    "clip-int-sizes-defaults": {
        "feature_extractor_type": "CLIPFeatureExtractor", "size": 256, "crop_size": 240,
    },
    "convnext-crop-pct": {
        "image_processor_type": "ConvNextImageProcessor", "size": {"shortest_edge": 224}, "crop_pct": 0.875,
    },
    "convnext-384-warp": {"image_processor_type": "ConvNextImageProcessor", "size": 384, "resample": 3},
    "vit-no-resize": {"image_processor_type": "ViTImageProcessor", "do_resize": False},
}


def random_image(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def smooth_image(width: int, height: int) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width]
    array = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) % 256], axis=-1)
    return Image.fromarray(array.astype(np.uint8))


def reference(config: dict, images: list[Image.Image], **call_options) -> np.ndarray:
    name = config.get("image_processor_type")
    name = name or config["feature_extractor_type"].replace("FeatureExtractor", "ImageProcessor")
    informational = ("image_processor_type", "feature_extractor_type", "processor_class")
    options = {key: value for key, value in config.items() if key not in informational}
    processor = getattr(transformers, name)(**options)
    return processor(images, return_tensors="np", **call_options)["pixel_values"]


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize(
    "image",
    [random_image(333, 517), smooth_image(517, 333), random_image(3, 5, seed=1), smooth_image(224, 224)],
    ids=["odd-portrait-333x517", "odd-landscape-517x333", "tiny-3x5", "square-224"],
)
def test_matches_transformers(name, image):
    config = ImageProcessorConfig.from_dict(CONFIGS[name])
    ours = preprocess([image], config)
    theirs = reference(CONFIGS[name], [image])
    assert ours.dtype == np.float32
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= TOLERANCE


@pytest.mark.parametrize("name", ["vit", "clip", "siglip", "deit"])
def test_three_pixel_tall_image_matches_transformers_given_channels_last(name):
    # transformers guesses channels-first for an HxWx3 array whose height is 3, so the
    # reference needs input_data_format to be told; we never guess.
    image = random_image(5, 3, seed=2)
    ours = preprocess([image], ImageProcessorConfig.from_dict(CONFIGS[name]))
    theirs = reference(CONFIGS[name], [image], input_data_format="channels_last")
    assert np.abs(ours - theirs).max() <= TOLERANCE


def test_batch_matches_transformers_and_non_rgb_input_is_converted():
    images = [random_image(333, 517), random_image(40, 30).convert("L"), random_image(64, 64).convert("RGBA")]
    config = ImageProcessorConfig.from_dict(CONFIGS["clip"])
    ours = preprocess(images, config)
    assert ours.shape == (3, 3, 224, 224)
    assert np.abs(ours - reference(CONFIGS["clip"], images)).max() <= TOLERANCE


def test_center_crop_pads_small_images_with_zeros_like_transformers():
    pixels = np.arange(5 * 3 * 3, dtype=np.uint8).reshape(5, 3, 3) + 1
    cropped = center_crop(pixels, 8, 2)
    assert cropped.shape == (8, 2, 3)
    expected = transformers.image_transforms.center_crop(pixels, (8, 2), input_data_format="channels_last")
    np.testing.assert_array_equal(cropped, expected)
    assert cropped[0].sum() == 0 and cropped[-1].sum() == 0


def test_parsed_fields_and_output_size():
    clip = ImageProcessorConfig.from_dict(CONFIGS["clip"])
    assert clip.resize_shortest_edge == 224 and clip.output_size == (224, 224)
    deit = ImageProcessorConfig.from_dict(CONFIGS["deit"])
    assert (deit.resize_height, deit.resize_width, deit.crop_height) == (438, 438, 384)
    convnext = ImageProcessorConfig.from_dict(CONFIGS["convnext-crop-pct"])
    assert convnext.resize_shortest_edge == 256 and convnext.output_size == (224, 224)
    no_crop = ImageProcessorConfig.from_dict({"image_processor_type": "CLIPImageProcessor", "do_center_crop": False})
    assert no_crop.output_size is None


def test_config_is_frozen():
    config = ImageProcessorConfig.from_dict(CONFIGS["vit"])
    with pytest.raises(AttributeError):
        config.do_resize = False  # type: ignore[misc]


def test_from_file(tmp_path):
    path = tmp_path / "preprocessor_config.json"
    path.write_text(json.dumps(CONFIGS["siglip"]))
    assert ImageProcessorConfig.from_file(path) == ImageProcessorConfig.from_dict(CONFIGS["siglip"])
    path.write_text("{not json")
    with pytest.raises(BundleError, match="preprocessor config"):
        ImageProcessorConfig.from_file(path)
    with pytest.raises(BundleError):
        ImageProcessorConfig.from_file(tmp_path / "missing.json")


def test_informational_keys_are_accepted():
    config = dict(CONFIGS["vit"], processor_class="ViTProcessor", feature_extractor_type="ViTFeatureExtractor",
                  _valid_processor_keys=["images"], image_seq_length=576, do_pad=False, data_format="channels_first")
    ImageProcessorConfig.from_dict(config)
    ImageProcessorConfig.from_dict(dict(CONFIGS["vit"], image_processor_type="ViTImageProcessorFast"))


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"do_magic_sharpen": True}, "do_magic_sharpen"),
        ({"auto_map": {"AutoImageProcessor": "custom.Proc"}}, "auto_map"),
        ({"do_pad": True}, "do_pad"),
        ({"data_format": "channels_last"}, "data_format"),
        ({"do_center_crop": True}, "do_center_crop"),  # ViT never crops
        ({"size": {"shortest_edge": 224}}, "ViTImageProcessor"),
        ({"size": {"height": 224}}, "size"),
        ({"size": {"height": 0, "width": 224}}, "size"),
        ({"resample": 9}, "resample"),
        ({"image_mean": [0.5, 0.5]}, "image_mean"),
        ({"image_std": [0.5, 0.0, 0.5]}, "image_std"),
        ({"do_resize": "yes"}, "do_resize"),
        ({"rescale_factor": "1/255"}, "rescale_factor"),
        ({"image_processor_type": "DonutImageProcessor"}, "DonutImageProcessor"),
    ],
)
def test_strict_parsing_rejects(extra, named):
    with pytest.raises(BundleError, match=named):
        ImageProcessorConfig.from_dict(dict(CONFIGS["vit"], **extra))


def test_without_processor_type_every_pixel_key_must_be_explicit():
    explicit = {key: value for key, value in CONFIGS["vit"].items() if key != "image_processor_type"}
    generic = ImageProcessorConfig.from_dict(explicit)
    typed = ImageProcessorConfig.from_dict(CONFIGS["vit"])
    image = random_image(50, 40)
    np.testing.assert_array_equal(preprocess([image], generic), preprocess([image], typed))
    with pytest.raises(BundleError, match="image_mean"):
        ImageProcessorConfig.from_dict({k: v for k, v in explicit.items() if k != "image_mean"})
    with pytest.raises(BundleError, match="ambiguous"):
        ImageProcessorConfig.from_dict(dict(explicit, size=224))


def test_empty_and_mixed_size_batches_are_invalid_requests():
    config = ImageProcessorConfig.from_dict({"image_processor_type": "CLIPImageProcessor", "do_center_crop": False})
    with pytest.raises(InvalidRequestError):
        preprocess([], config)
    with pytest.raises(InvalidRequestError, match="different sizes"):
        preprocess([random_image(300, 200), random_image(200, 300)], config)
