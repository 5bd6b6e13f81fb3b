"""Where request images come from: data: URIs, bare base64, file:// in the media dir, http(s).

Remote URLs are refused unless `--allow-remote-images` was given (nothing is fetched by
default: DESIGN §1). `file://` URLs must resolve, symlinks followed, inside `--media-dir`.
Decoding goes through `load_image` with the server's byte and pixel limits. Fetching an
allowed remote URL is the host's job (runtime/server/remote.py): it needs an HTTP client.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image

from runtime.errors import ImageTooLargeError, InvalidRequestError, UnsupportedImageError
from runtime.image import load_image

from .openai import ImageInput

_BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/=\s]+$")


@dataclass(frozen=True)
class ImagePolicy:
    """The server's image limits and sources, from `ServerConfig`."""

    max_bytes: int
    max_pixels: int
    media_dir: Path | None = None
    allow_remote: bool = False
    fetch_timeout_s: float = 10.0


@dataclass(frozen=True)
class RemoteImage:
    """An http(s) URL that the policy allows fetching."""

    url: str


def locate(image: ImageInput, policy: ImagePolicy) -> bytes | RemoteImage:
    """The encoded bytes of a request image, or the remote URL still to fetch."""
    if image.data is not None:
        return check_size(image.data, policy)
    text = (image.url or "").strip()
    scheme = text.split(":", 1)[0].lower() if ":" in text[:16] else ""
    if scheme == "data":
        return check_size(_from_data_uri(text, image.param), policy)
    if scheme in ("http", "https"):
        if not policy.allow_remote:
            raise InvalidRequestError(
                "Remote image URLs are refused: this server never touches the network unless it is "
                "started with --allow-remote-images. Send the image inline as a data: URI or base64.",
                param=image.param,
            )
        return RemoteImage(text)
    if scheme == "file":
        return _from_file_url(text, image.param, policy)
    if scheme:
        raise InvalidRequestError(
            f"Unsupported image URL scheme '{scheme}:'; use a data: URI, base64 bytes or file://.",
            param=image.param,
        )
    return check_size(_from_base64(text, image.param), policy)


def decode(data: bytes, policy: ImagePolicy) -> Image.Image:
    """Decode with the server's limits (CPU work: call it off the event loop)."""
    check_size(data, policy)
    try:
        # The byte limit is checked above, so the only limit load_image can still hit is
        # the pixel limit; its message names the library argument, ours the server flag.
        return load_image(data, max_pixels=policy.max_pixels)
    except ImageTooLargeError:
        raise ImageTooLargeError(
            f"The image{_dimensions(data)} is over the server's limit of {policy.max_pixels} pixels "
            "(--max-image-pixels). Downscale it before sending, or start the server with a larger "
            "--max-image-pixels."
        ) from None


def _dimensions(data: bytes) -> str:
    """' (W x H pixels)' from the image header, or '' when the header does not say."""
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
    except Exception:  # noqa: BLE001 - only for the wording of an error already raised
        return ""
    return f" ({width}x{height} = {width * height} pixels)"


def check_size(data: bytes, policy: ImagePolicy) -> bytes:
    if len(data) > policy.max_bytes:
        raise ImageTooLargeError(
            f"The image is {len(data)} bytes, over the server's limit of {policy.max_bytes} bytes "
            "(--max-body-bytes). Send a smaller or more compressed image."
        )
    if not data:
        raise UnsupportedImageError("The image is empty (0 bytes); send the image file's bytes.")
    return data


def _from_data_uri(text: str, param: str) -> bytes:
    header, sep, payload = text.partition(",")
    if not sep:
        raise InvalidRequestError("A data: URI needs a ',' before its payload.", param=param)
    if not payload.strip():
        raise InvalidRequestError(
            "The data: URI is empty: it has no image bytes after the ','. Put the base64-encoded "
            "image there (data:image/png;base64,iVBORw0...).",
            param=param,
        )
    media = header[5:].split(";")
    if "base64" not in [p.strip().lower() for p in media[1:]]:
        raise InvalidRequestError("Only base64 data: URIs are accepted (data:image/png;base64,...).", param=param)
    media_type = media[0].strip().lower()
    if media_type and not (media_type.startswith("image/") or media_type == "application/octet-stream"):
        raise UnsupportedImageError(f"The data: URI holds '{media_type}', not an image.")
    if not _BASE64_CHARS.match(payload):
        odd = next(ch for ch in payload if not _BASE64_CHARS.match(ch))
        raise InvalidRequestError(
            f"The data: URI's payload is not base64: it holds {odd!r}, which base64 never does (only "
            "A-Z, a-z, 0-9, '+', '/' and '='). Encode the image file's bytes with base64 after the ','.",
            param=param,
        )
    return _from_base64(payload, param)


def _from_base64(text: str, param: str) -> bytes:
    if not text or not _BASE64_CHARS.match(text):
        raise InvalidRequestError(
            "The image must be a data: URI, base64-encoded bytes, or a file:// URL inside --media-dir.",
            param=param,
        )
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError("The image's base64 encoding is invalid.", param=param) from None


def _from_file_url(text: str, param: str, policy: ImagePolicy) -> bytes:
    if policy.media_dir is None:
        raise InvalidRequestError(
            "file:// image URLs are refused: start the server with --media-dir DIR to allow files "
            "inside DIR.",
            param=param,
        )
    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost"):
        raise InvalidRequestError("file:// URLs must name a local path (file:///...).", param=param)
    root = policy.media_dir.resolve()
    name = unquote(parts.path)
    if "\x00" in name:
        # resolve() and open() raise ValueError on a NUL byte (%00): no file has one.
        raise InvalidRequestError("file:// URLs must not contain a NUL byte (%00).", param=param)
    path = Path(name).resolve()
    if not path.is_relative_to(root):
        raise InvalidRequestError(f"file:// URLs must point inside the media directory {root}.", param=param)
    try:
        size = path.stat().st_size
        if size > policy.max_bytes:
            raise ImageTooLargeError(
                f"The image file is {size} bytes, over the server's limit of {policy.max_bytes} bytes "
                "(--max-body-bytes)."
            )
        data = path.read_bytes()
    except OSError:
        raise InvalidRequestError(f"Cannot read {path.relative_to(root)} in the media directory.", param=param) from None
    return check_size(data, policy)
