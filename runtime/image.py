"""Safe image decoding: untrusted bytes, paths, PIL images or arrays in, an RGB PIL image out.

Every failure is one of our own errors: `UnsupportedImageError` for data that is not a
decodable image of an accepted format, `ImageTooLargeError` for images over the byte or
pixel limit. The pixel limit is checked from the header, before any pixel is decoded
(`Image.open` only parses the header), so a 100000x100000 "bomb" costs a few bytes of work.

We never touch PIL's process-global `Image.MAX_IMAGE_PIXELS`: our `max_pixels` argument is
the limit. PIL still runs its own check inside `Image.open` (a warning above its limit, an
error above twice its limit); we silence the warning and turn the error into
`ImageTooLargeError`, so PIL's limit can only make us stricter, never looser.
"""

from __future__ import annotations

import io
import os
import re
import threading
import warnings
from contextlib import contextmanager
from typing import IO, Iterator, Union

import numpy as np
from PIL import Image, ImageOps

from runtime.errors import ImageTooLargeError, InvalidRequestError, UnsupportedImageError

#: PIL format names we let `Image.open` try. A short list keeps rarely-audited decoders
#: (EPS, which shells out to Ghostscript; ICO; PSD; ...) off the attack surface. The JPEG
#: opener also yields MPO, the multi-picture JPEG many phone cameras write.
ACCEPTED_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")

_ACCEPTED_TEXT = "PNG, JPEG, GIF, WebP, BMP or TIFF"

ImageSource = Union[bytes, bytearray, memoryview, str, os.PathLike, IO[bytes], Image.Image, np.ndarray]

# (magic prefix, offset, name) for sniff_image_format; names of formats we reject are
# listed too, so the error can say what the data actually is.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
    (b"WEBP", 8, "webp"),
    (b"BM", 0, "bmp"),
    (b"II*\x00", 0, "tiff"),
    (b"MM\x00*", 0, "tiff"),
    (b"%PDF", 0, "pdf"),
    (b"ftypheic", 4, "heic"),
    (b"ftypheix", 4, "heic"),
    (b"ftypmif1", 4, "heif"),
    (b"ftypavif", 4, "avif"),
    (b"<svg", 0, "svg"),
    (b"<?xml", 0, "xml"),
    (b"8BPS", 0, "psd"),
    (b"\x00\x00\x01\x00", 0, "ico"),
)

_WHITE = (255, 255, 255, 255)
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})

# warnings.catch_warnings swaps the process-wide filter list on entry and exit; the lock
# keeps our own concurrent decodes from restoring each other's lists out of order.
_WARNINGS_LOCK = threading.Lock()


def sniff_image_format(data: bytes) -> str | None:
    """Guess a file format from its first bytes.

    Args:
        data: the start of the file (16 bytes are enough).

    Returns:
        A lower-case name ("png", "jpeg", "gif", "webp", "bmp", "tiff", or a format we
        reject such as "pdf", "heic", "svg"), or None when the bytes match nothing known.
    """
    head = bytes(data[:32])
    for magic, offset, name in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def load_image(
    source: ImageSource,
    *,
    max_pixels: int = 50_000_000,
    max_bytes: int | None = None,
) -> Image.Image:
    """Decode an image from untrusted input into a new RGB PIL image.

    EXIF orientation is applied; transparency is composited on white; palette, greyscale,
    1-bit, 16-bit, float, CMYK and YCbCr images are converted to 8-bit RGB; animated GIF
    and WebP give their first frame.

    Args:
        source: encoded bytes, a file path (str or PathLike), a binary file-like object, a
            PIL image (its current frame is used), or a uint8 numpy array shaped HxW, HxWx1,
            HxWx3 or HxWx4.
        max_pixels: the most pixels (width x height) accepted, checked before decoding.
        max_bytes: the most encoded bytes accepted (bytes, paths and file-like objects
            only); None for no limit.

    Returns:
        A new RGB image; the caller's object is never returned or modified.

    Raises:
        UnsupportedImageError: empty, corrupt, truncated or non-image data, or a format or
            array layout we do not accept.
        ImageTooLargeError: over `max_pixels` or `max_bytes`.
        InvalidRequestError: a path that cannot be read, or a source of an unknown type.
    """
    if isinstance(source, Image.Image):
        _check_dimensions(source.width, source.height, max_pixels)
        return _finish(source)
    if isinstance(source, np.ndarray):
        return _from_array(source, max_pixels)
    data = _read_source(source, max_bytes)
    return _decode(data, max_pixels)


def _read_source(source: object, max_bytes: int | None) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        data = _read_path(source, max_bytes)
    elif hasattr(source, "read"):
        limit = -1 if max_bytes is None else max_bytes + 1
        try:
            data = source.read(limit)
        except (OSError, ValueError) as error:
            raise InvalidRequestError(f"Cannot read the image stream: {error}.", param="image") from None
        if not isinstance(data, (bytes, bytearray)):
            raise InvalidRequestError("The image stream must be opened in binary mode ('rb').", "image")
    else:
        raise InvalidRequestError(
            f"Cannot read an image from a {type(source).__name__}; pass bytes, a file path, a "
            "binary file object, a PIL image or a uint8 numpy array.",
            param="image",
        )
    _check_byte_size(len(data), max_bytes)
    return bytes(data)


def _read_path(path: str | os.PathLike, max_bytes: int | None) -> bytes:
    try:
        # Check the size before reading so a huge file is never loaded into memory.
        if max_bytes is not None:
            _check_byte_size(os.stat(path).st_size, max_bytes)
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        reason = error.strerror or error
        raise InvalidRequestError(f"Cannot read image file {os.fspath(path)!r}: {reason}.", "image") from None


def _check_byte_size(size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise ImageTooLargeError(
            f"The image file is {size} bytes (or more), over the limit of {max_bytes} bytes. "
            "Send a smaller or more compressed image, or raise the byte limit (max_bytes)."
        )


def _check_dimensions(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise UnsupportedImageError(f"The image has no pixels (size {width}x{height}).")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"The image is {width}x{height} = {width * height} pixels, over the limit of "
            f"{max_pixels} pixels. Downscale it before sending, or raise the pixel limit "
            "(max_pixels)."
        )


@contextmanager
def _pil_bomb_warnings_silenced() -> Iterator[None]:
    # PIL warns (DecompressionBombWarning) for images above its own global limit. Our
    # max_pixels check follows, so the warning is noise at best and an exception under
    # `-W error` at worst.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    if not data:
        raise UnsupportedImageError(f"The image is empty (0 bytes). Send a {_ACCEPTED_TEXT} file.")
    image = _open_header(data, max_pixels)
    try:
        _check_dimensions(image.width, image.height, max_pixels)
        _load_pixels(image)
        return _finish(image)
    finally:
        image.close()


def _open_header(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with _pil_bomb_warnings_silenced():
            return Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as error:
        pixels = re.search(r"\((\d+) pixels\)", str(error))
        count = f"{pixels.group(1)} pixels" if pixels else "too many pixels"
        raise ImageTooLargeError(
            f"The image header claims {count}, over the limit of {max_pixels} pixels and over "
            f"the decoder's hard safety limit of {2 * (Image.MAX_IMAGE_PIXELS or 0)} pixels, "
            "which max_pixels cannot raise. Downscale the image before sending it."
        ) from None
    # PIL's format plugins raise many unrelated exception types (SyntaxError, struct.error,
    # IndexError, ...) on hostile input; none of them may escape as a 500.
    except Exception as error:
        raise UnsupportedImageError(_describe_unreadable(data, error)) from None


def _describe_unreadable(data: bytes, error: Exception) -> str:
    sniffed = sniff_image_format(data)
    if sniffed is None:
        what = "The data is not a recognised image"
    elif sniffed.upper() in ACCEPTED_FORMATS:
        what = f"The data starts like a {sniffed.upper()} file but its header is corrupt ({error})"
    else:
        what = f"The data looks like {sniffed.upper()}, which is not supported"
    return f"{what}. Send a {_ACCEPTED_TEXT} image."


def _load_pixels(image: Image.Image) -> None:
    try:
        if image.width * image.height > (Image.MAX_IMAGE_PIXELS or 0):
            # Only needed when max_pixels was raised above PIL's limit; loading then may
            # warn again (GIF/TIFF re-check sizes while decoding).
            with _pil_bomb_warnings_silenced():
                image.load()
        else:
            image.load()
    except Image.DecompressionBombError:
        raise ImageTooLargeError("The image is over the decoder's safety limit. Downscale it.") from None
    except Exception as error:  # see _open_header: any decoder failure means bad data
        raise UnsupportedImageError(
            f"The {image.format or 'image'} data is corrupt or truncated ({error}). "
            f"Send a complete {_ACCEPTED_TEXT} file."
        ) from None


def _finish(image: Image.Image) -> Image.Image:
    """Apply EXIF orientation and convert to RGB, always returning a new image."""
    try:
        image.load()
        upright = _apply_exif_orientation(image)
        rgb = _to_rgb(upright)
    except (UnsupportedImageError, ImageTooLargeError):
        raise
    except Exception as error:  # decoder failures on lazily-loaded caller images
        raise UnsupportedImageError(f"The image cannot be decoded ({error}).") from None
    return rgb.copy() if rgb is image else rgb


def _apply_exif_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    # Malformed EXIF is common in the wild and says nothing about the pixels: keep them.
    except Exception:
        return image


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode == "RGB" and "transparency" not in image.info:
        return image
    if mode in _ALPHA_MODES or "transparency" in image.info:
        return _composite_on_white(image.convert("RGBA"))
    if mode in _SIXTEEN_BIT_MODES:
        # Full 16-bit range to 8 bits: 65535 -> 255, 32768 -> 128 (PIL's own convert
        # clips at 255 instead, turning most 16-bit images white).
        values = np.asarray(image, dtype=np.float64)
        return _grey_to_rgb(np.clip(values, 0, 65535) / 257.0)
    if mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        # Float images are usually either 0..1 (scientific/HDR exports) or 0..255.
        scale = 255.0 if values.size and values.max() <= 1.0 else 1.0
        return _grey_to_rgb(np.clip(values * scale, 0, 255))
    try:
        return image.convert("RGB")
    except ValueError:
        raise UnsupportedImageError(
            f"Images in colour mode {mode!r} are not supported. Convert it to RGB first."
        ) from None


def _grey_to_rgb(values: np.ndarray) -> Image.Image:
    grey = np.round(values).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _composite_on_white(rgba: Image.Image) -> Image.Image:
    background = Image.new("RGBA", rgba.size, _WHITE)
    return Image.alpha_composite(background, rgba).convert("RGB")


def _from_array(array: np.ndarray, max_pixels: int) -> Image.Image:
    if array.dtype != np.uint8:
        raise UnsupportedImageError(
            f"Image arrays must be uint8 (0..255), got {array.dtype}. Scale and cast with "
            "np.clip(a, 0, 255).astype(np.uint8)."
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise UnsupportedImageError(
            f"Image arrays must be shaped HxW, HxWx1, HxWx3 or HxWx4; got {array.shape}."
        )
    _check_dimensions(array.shape[1], array.shape[0], max_pixels)
    # The copy detaches the image from the caller's buffer (fromarray may share it).
    image = Image.fromarray(np.ascontiguousarray(array).copy())
    return _to_rgb(image) if image.mode != "RGB" else image
