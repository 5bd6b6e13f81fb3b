"""Elongated images through shortest-edge preprocessing (issue 12's 1x60000 images):
CLIP's resize keeps the aspect ratio, so a 1x60000 image became 224x13440000 pixels
before the crop. Past `RESIZE_LIMIT_PX` only the crop window is resampled; it must give
nearly the pixels of the full resize and crop (which transformers would need gigabytes for)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from runtime import preprocess as pre
from runtime.errors import UnsupportedImageError

CLIP = {
    "image_processor_type": "CLIPImageProcessor", "do_resize": True, "size": {"shortest_edge": 224},
    "resample": 3, "do_center_crop": True, "crop_size": {"height": 224, "width": 224},
    "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
}


def _noise(width: int, height: int) -> Image.Image:
    rng = np.random.default_rng(width * 7 + height)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.mark.parametrize("size", [(3, 900), (900, 3), (10, 1000), (1000, 17), (300, 290), (50, 120)])
@pytest.mark.parametrize("crop", [{"height": 224, "width": 224}, {"height": 200, "width": 260}])
def test_resampling_only_the_crop_window_equals_the_full_resize(monkeypatch, size, crop):
    config = pre.ImageProcessorConfig.from_dict({**CLIP, "crop_size": crop})
    image = _noise(*size)
    full = pre.preprocess_one(image, config)
    monkeypatch.setattr(pre, "RESIZE_LIMIT_PX", 1)  # every image takes the window path
    windowed = pre.preprocess_one(image, config)
    assert windowed.shape == full.shape == (3, crop["height"], crop["width"])
    # Same filter over the same source pixels, but PIL rounds its two passes to 8 bits at
    # different rows: measured on noise, at most 3% of values move by more than one 8-bit
    # level and the mean moves by under half a level (wide images come out identical).
    levels = np.abs(windowed - full) * 255 * np.asarray(CLIP["image_std"], dtype=np.float32)[:, None, None]
    assert float(levels.mean()) < 0.5
    assert float((levels > 1.01).mean()) < 0.05


@pytest.mark.parametrize("size", [(1, 60000), (60000, 1), (2, 40000)])
def test_an_extremely_elongated_image_preprocesses_to_the_crop(size):
    config = pre.ImageProcessorConfig.from_dict(CLIP)
    width, height = size
    assert width * height <= 120_000
    out = pre.preprocess_one(Image.new("RGB", size, (250, 10, 10)), config)
    assert out.shape == (3, 224, 224)
    red = (250 / 255 - CLIP["image_mean"][0]) / CLIP["image_std"][0]
    assert np.allclose(out[0], red, atol=0.02)


def test_without_a_crop_an_extremely_elongated_image_is_refused():
    config = pre.ImageProcessorConfig.from_dict({**CLIP, "do_center_crop": False})
    with pytest.raises(UnsupportedImageError, match=r"1x60000 pixels.*224x13440000.*less elongated"):
        pre.preprocess_one(Image.new("RGB", (1, 60000)), config)
    assert pre.preprocess_one(Image.new("RGB", (50, 100)), config).shape == (3, 448, 224)
