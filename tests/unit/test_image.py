"""Tests for runtime.image: safe decoding of untrusted image input into RGB."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from runtime.errors import ImageTooLargeError, InvalidRequestError, UnsupportedImageError
from runtime.image import load_image, sniff_image_format

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but whose pixel data is a few bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00"))
        + png_chunk(b"IEND", b"")
    )


def striped(size=(40, 30)) -> Image.Image:
    array = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    array[..., 0] = np.arange(size[0], dtype=np.uint8)[None, :] * 5
    array[..., 1] = np.arange(size[1], dtype=np.uint8)[:, None] * 7
    return Image.fromarray(array)


# --- broken and hostile input ------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"this is not an image\n" * 20, bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n" + b"junk" * 10],
    ids=["empty", "one-byte", "text", "random", "png-signature-then-junk"],
)
def test_non_image_bytes_are_unsupported(data):
    with pytest.raises(UnsupportedImageError) as info:
        load_image(data)
    assert "PNG, JPEG" in str(info.value)
    assert info.value.param == "image"


def test_empty_input_says_it_is_empty():
    with pytest.raises(UnsupportedImageError, match="empty"):
        load_image(b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_is_unsupported(fmt):
    data = encode(striped((64, 64)), fmt)
    with pytest.raises(UnsupportedImageError, match="corrupt or truncated"):
        load_image(data[: len(data) // 2])


def test_text_file_and_empty_file_paths(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("hello, I am text pretending to be a PNG\n")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedImageError):
        load_image(text)
    with pytest.raises(UnsupportedImageError, match="empty"):
        load_image(str(empty))


def test_missing_path_is_invalid_request(tmp_path):
    with pytest.raises(InvalidRequestError, match="Cannot read image file"):
        load_image(tmp_path / "nope.png")


def test_pdf_is_named_in_the_error():
    with pytest.raises(UnsupportedImageError, match="PDF"):
        load_image(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")


def test_formats_pil_knows_but_we_do_not_accept_are_rejected():
    data = encode(Image.new("RGB", (16, 16), RED), "ICO")
    assert Image.open(io.BytesIO(data)).format == "ICO"  # PIL itself would decode it
    with pytest.raises(UnsupportedImageError, match="ICO"):
        load_image(data)


def test_header_claiming_huge_dimensions_fails_fast_without_allocating():
    data = png_header_only(100_000, 100_000)
    start = time.perf_counter()
    with pytest.raises(ImageTooLargeError) as info:
        load_image(data)
    assert time.perf_counter() - start < 0.5
    assert "10000000000" in str(info.value)


def test_header_between_pil_warning_and_error_limits_uses_our_limit_and_no_warning():
    # 10000 x 10000 is above PIL's warning threshold (~89M) but under its error threshold,
    # so PIL warns; with -W error an escaping warning would fail this test.
    data = png_header_only(10_000, 10_000)
    with pytest.raises(ImageTooLargeError) as info:
        load_image(data)
    message = str(info.value)
    assert "10000x10000" in message and "50000000" in message and "max_pixels" in message


def test_max_pixels_is_checked_before_decoding():
    data = png_header_only(300, 200)  # pixel data is missing: decoding would fail
    with pytest.raises(ImageTooLargeError, match="300x200"):
        load_image(data, max_pixels=300 * 200 - 1)
    with pytest.raises(UnsupportedImageError):
        load_image(data, max_pixels=300 * 200)


def test_zero_dimension_header_is_unsupported():
    with pytest.raises(UnsupportedImageError):
        load_image(png_header_only(0, 10))


def test_max_bytes(tmp_path):
    data = encode(striped(), "PNG")
    path = tmp_path / "a.png"
    path.write_bytes(data)
    for source in (data, path, io.BytesIO(data)):
        with pytest.raises(ImageTooLargeError, match="max_bytes"):
            load_image(source, max_bytes=len(data) - 1)
        if hasattr(source, "seek"):
            source.seek(0)
        assert load_image(source, max_bytes=len(data)).size == (40, 30)


def test_unknown_source_type_is_invalid_request():
    with pytest.raises(InvalidRequestError):
        load_image(12345)


# --- good input ----------------------------------------------------------------------------


def test_one_pixel_png():
    image = load_image(encode(Image.new("RGB", (1, 1), (10, 20, 30)), "PNG"))
    assert image.mode == "RGB" and image.size == (1, 1)
    assert image.getpixel((0, 0)) == (10, 20, 30)


def test_sources_bytes_path_filelike_give_same_pixels(tmp_path):
    original = striped()
    data = encode(original, "PNG")
    path = tmp_path / "s.png"
    path.write_bytes(data)
    expected = np.asarray(original)
    for source in (data, bytearray(data), path, str(path), io.BytesIO(data)):
        np.testing.assert_array_equal(np.asarray(load_image(source)), expected)


def test_cmyk_jpeg_red_stays_red():
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    pixel = np.asarray(load_image(data))[8, 8].astype(int)
    assert np.abs(pixel - np.array(RED)).max() <= 6, pixel


def test_rgba_transparency_becomes_white():
    array = np.zeros((2, 3, 4), dtype=np.uint8)
    array[0, 0] = (255, 0, 0, 255)  # opaque red
    array[0, 1] = (0, 0, 0, 0)  # fully transparent black
    array[0, 2] = (0, 0, 0, 128)  # half-transparent black
    image = load_image(encode(Image.fromarray(array), "PNG"))
    pixels = np.asarray(image)
    assert tuple(pixels[0, 0]) == RED
    assert tuple(pixels[0, 1]) == WHITE
    assert np.all(np.abs(pixels[0, 2].astype(int) - 127) <= 1)


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_with_transparency_becomes_white(fmt):
    palette_image = Image.new("P", (2, 1))
    palette_image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    palette_image.putpixel((0, 0), 0)
    palette_image.putpixel((1, 0), 1)
    data = encode(palette_image, fmt, transparency=0)
    pixels = np.asarray(load_image(data))
    assert tuple(pixels[0, 0]) == WHITE
    assert tuple(pixels[0, 1]) == GREEN


def test_palette_without_transparency():
    image = Image.new("RGB", (4, 4), BLUE).convert("P")
    assert load_image(encode(image, "PNG")).getpixel((1, 1)) == BLUE


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped():
    array = np.array([[65535, 32768, 0, 257]], dtype=np.uint16)
    data = encode(Image.fromarray(array), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    pixels = np.asarray(load_image(data))
    assert pixels[0, :, 0].tolist() == [255, 128, 0, 1]
    assert np.all(pixels[..., 0] == pixels[..., 2])


def test_thirty_two_bit_and_float_greyscale_images():
    as_int = Image.fromarray(np.array([[65535, 0]], dtype=np.int32))
    assert as_int.mode == "I"
    assert np.asarray(load_image(as_int))[0, :, 0].tolist() == [255, 0]
    as_float = Image.fromarray(np.array([[1.0, 0.5, 0.0]], dtype=np.float32))
    assert as_float.mode == "F"
    assert np.asarray(load_image(as_float))[0, :, 0].tolist() == [255, 128, 0]


@pytest.mark.parametrize("mode", ["L", "1", "LA"])
def test_greyscale_and_bilevel_pngs_convert_to_rgb(mode):
    source = striped().convert(mode)
    image = load_image(encode(source, "PNG"))
    assert image.mode == "RGB" and image.size == (40, 30)
    expected = np.asarray(source.convert("L"))
    np.testing.assert_array_equal(np.asarray(image)[..., 1], expected)


def test_ycbcr_image_converts_to_rgb():
    source = Image.new("RGB", (4, 4), (200, 30, 60))
    image = load_image(source.convert("YCbCr"))
    assert np.abs(np.asarray(image)[0, 0].astype(int) - (200, 30, 60)).max() <= 3


def test_exif_orientation_six_rotates_clockwise():
    array = np.zeros((2, 4, 3), dtype=np.uint8)  # 4 wide, 2 tall
    array[...] = BLUE
    array[0, 0] = RED  # top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    data = encode(Image.fromarray(array), "PNG", exif=exif)
    image = load_image(data)
    assert image.size == (2, 4)
    assert image.getpixel((1, 0)) == RED  # stored top-left ends up top-right
    assert image.getpixel((0, 0)) == BLUE


def test_animated_gif_and_webp_give_first_frame():
    frames = [Image.new("RGB", (8, 8), colour) for colour in (RED, GREEN, BLUE)]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    webp = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert Image.open(io.BytesIO(gif)).n_frames == 3
    for data in (gif, webp):
        assert load_image(data).getpixel((4, 4)) == RED


# --- numpy and PIL input -------------------------------------------------------------------


def test_numpy_arrays():
    grey = np.full((3, 5), 77, dtype=np.uint8)
    assert load_image(grey).getpixel((0, 0)) == (77, 77, 77)
    assert load_image(grey[..., None]).size == (5, 3)
    rgb = np.zeros((3, 5, 3), dtype=np.uint8)
    rgb[1, 2] = (1, 2, 3)
    image = load_image(rgb)
    assert image.size == (5, 3) and image.getpixel((2, 1)) == (1, 2, 3)
    rgba = np.zeros((3, 5, 4), dtype=np.uint8)  # fully transparent
    assert load_image(rgba).getpixel((0, 0)) == WHITE


def test_numpy_result_does_not_alias_the_caller_array():
    rgb = np.zeros((3, 5, 3), dtype=np.uint8)
    image = load_image(rgb)
    rgb[...] = 255
    assert image.getpixel((0, 0)) == (0, 0, 0)


@pytest.mark.parametrize(
    "array",
    [np.zeros((3, 5, 3), dtype=np.float32), np.zeros((3, 5, 2), dtype=np.uint8),
     np.zeros((0, 5, 3), dtype=np.uint8), np.zeros((2, 2, 2, 3), dtype=np.uint8), np.zeros(5, np.uint8)],
    ids=["float", "two-channels", "zero-height", "4d", "1d"],
)
def test_bad_numpy_arrays(array):
    with pytest.raises(UnsupportedImageError):
        load_image(array)


def test_numpy_pixel_limit():
    with pytest.raises(ImageTooLargeError):
        load_image(np.zeros((10, 10), dtype=np.uint8), max_pixels=99)


def test_pil_input_returns_a_new_rgb_image():
    source = Image.new("RGB", (3, 3), RED)
    result = load_image(source)
    assert result is not source and result.getpixel((0, 0)) == RED
    with pytest.raises(ImageTooLargeError):
        load_image(source, max_pixels=8)


def test_sniff_image_format():
    assert sniff_image_format(encode(Image.new("RGB", (1, 1)), "PNG")) == "png"
    assert sniff_image_format(encode(Image.new("RGB", (1, 1)), "JPEG")) == "jpeg"
    assert sniff_image_format(encode(Image.new("RGB", (1, 1)), "WEBP")) == "webp"
    assert sniff_image_format(b"%PDF-1.4") == "pdf"
    assert sniff_image_format(b"hello") is None
