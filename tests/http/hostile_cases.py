"""The hostile-input corpus (issue 12): every case, what it sends and what it must get back.

One table. tests/http/test_hostile_corpus.py sends each case to the real aiohttp app
(over the scripted FakeModel, `--max-seq-len` 64) and asserts the status, the error code
and a piece of the message that says what to change; packaging/readme_hostile.py prints
the same table into the README. The inputs are made here, from code, so nothing binary is
stored in the repository.

A case's `send` is a `Json` (an object, serialised here), a `Raw` body with its
Content-Type, or an `Upload` (a multipart form whose `image` part holds the bytes).
`@MEDIA@` in a body stands for the server's --media-dir (a temporary folder the test
fills: ok.png, a folder `sub/`, a symlink `escape.png` to a PNG outside it, and a
`secret.png` beside the media folder).
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

MAX_SEQ_LEN = 64  # FakeModel's limit, the server's --max-seq-len in this corpus
MAX_BODY_BYTES = 2 * 1024 * 1024  # --max-body-bytes in this corpus


# --- how a case is sent ---------------------------------------------------------------------

@dataclass(frozen=True)
class Json:
    body: object


@dataclass(frozen=True)
class Raw:
    body: bytes
    content_type: str = "application/json"


@dataclass(frozen=True)
class Upload:
    image: bytes
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One hostile input. `status` 200 means the input is valid and must be answered."""

    name: str  # what the input is, as the README lists it
    route: str
    send: Json | Raw | Upload
    status: int
    code: str | None = None  # the error envelope's `code`; None for a 200
    advice: str = ""  # a piece of the message that says what to change (required for errors)
    group: str = ""


# --- images, drawn here ---------------------------------------------------------------------

def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _picture(width: int = 32, height: int = 24, mode: str = "RGB") -> Image.Image:
    ramp = np.linspace(0, 255, width * height * 3).reshape(height, width, 3).astype(np.uint8)
    return Image.fromarray(ramp, "RGB").convert(mode)


def png() -> bytes:
    return _encode(_picture(), "PNG")


def jpeg() -> bytes:
    return _encode(_picture(), "JPEG", quality=90)


def webp() -> bytes:
    return _encode(_picture(), "WEBP", quality=80)


def gif() -> bytes:
    return _encode(_picture().convert("P"), "GIF")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_raw(width: int, height: int, bit_depth: int, colour_type: int, row: bytes) -> bytes:
    """A PNG written by hand (PIL cannot write every bit depth), each row `row`."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    pixels = zlib.compress((b"\x00" + row) * height)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def png_claiming(width: int, height: int) -> bytes:
    """A 60-byte PNG whose header claims `width` x `height` pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + _chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG with its frame header (SOF0) rewritten to claim `width` x `height`."""
    data = bytearray(jpeg())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_claiming(width: int, height: int) -> bytes:
    data = bytearray(gif())
    data[6:10] = struct.pack("<HH", width, height)  # the logical screen
    return bytes(data)


def png_zlib_bomb() -> bytes:
    """A 4000x4000 PNG of zeros: ~16 kB on the wire, 48 MB once decoded (under the limit)."""
    return png_raw(4000, 4000, 8, 2, b"\x00" * 12000)


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (20, 20), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return _encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def cmyk_jpeg() -> bytes:
    return _encode(_picture(mode="CMYK"), "JPEG")


def cmyk_tiff() -> bytes:
    return _encode(_picture(mode="CMYK"), "TIFF")


def grey16_png() -> bytes:
    return png_raw(16, 8, 16, 0, b"".join(struct.pack(">H", 4096 * i) for i in range(16)))


def rgb48_png() -> bytes:
    return png_raw(8, 8, 16, 2, struct.pack(">3H", 65535, 32768, 0) * 8)


def rgba64_png() -> bytes:
    return png_raw(8, 8, 16, 6, struct.pack(">4H", 65535, 0, 0, 32768) * 8)


def corrupt(data: bytes, start: int, count: int = 16) -> bytes:
    """`data` with `count` bytes from `start` replaced by 0xAA (a checksum no longer matches)."""
    return data[:start] + b"\xaa" * count + data[start + count :]


def zip_file() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buffer.getvalue()


HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


# --- bodies ---------------------------------------------------------------------------------

def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def uri(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{b64(data)}"


def chat(text="What is this?", image: str | None = None, **extra) -> Json:
    parts = [{"type": "text", "text": text}]
    if image is not None:
        parts.append({"type": "image_url", "image_url": {"url": image}})
    return Json({"model": "fake-vlm", "messages": [{"role": "user", "content": parts}], **extra})


def chat_image(data: bytes, media_type: str = "image/png") -> Json:
    return chat(image=uri(data, media_type))


def raw_json(text: str | bytes) -> Raw:
    return Raw(text.encode("utf-8") if isinstance(text, str) else text)


def multipart(*parts: tuple[str, bytes]) -> Raw:
    """A multipart/form-data body written by hand: each part is (its header lines, its bytes)."""
    body = b"".join(b"--XyZ\r\n" + headers.encode() + b"\r\n\r\n" + data + b"\r\n" for headers, data in parts)
    return Raw(body + b"--XyZ--\r\n", "multipart/form-data; boundary=XyZ")


def file_part(data: bytes, name: str = "image", extra: str = "") -> tuple[str, bytes]:
    return (f'Content-Disposition: form-data; name="{name}"; filename="a.png"\r\nContent-Type: image/png{extra}', data)


def text_part(name: str, data: bytes, extra: str = "") -> tuple[str, bytes]:
    return (f'Content-Disposition: form-data; name="{name}"{extra}', data)


WORDS = " ".join(["word"] * (MAX_SEQ_LEN + 36))
CHAT, GENERATE, READ = "/v1/chat/completions", "/v1/generate", "/v1/read"
EMBED, SEED, RANK, COMPLETE = "/v1/embeddings", "/v1/seed", "/v1/rank", "/v1/completions"

CORRUPT = "unsupported_image"
BAD = "invalid_request"
ACCEPTED = "PNG, JPEG, GIF, WebP, BMP or TIFF"


def _cases() -> list[Case]:
    p, j, w, g = png(), jpeg(), webp(), gif()
    images = [
        # Truncated and corrupt files of every accepted format.
        Case("PNG cut in half", READ, Json({"image": b64(p[: len(p) // 2])}), 400, CORRUPT, ACCEPTED),
        Case("PNG signature only (8 bytes)", READ, Json({"image": b64(p[:8])}), 400, CORRUPT, ACCEPTED),
        Case("PNG with its pixel data overwritten", READ, Json({"image": b64(corrupt(p, len(p) - 40))}), 400, CORRUPT, ACCEPTED),
        Case("PNG with a corrupt header chunk", READ, Json({"image": b64(corrupt(p, 12, 8))}), 400, CORRUPT, ACCEPTED),
        Case("JPEG cut in half", READ, Json({"image": b64(j[: len(j) // 2])}), 400, CORRUPT, ACCEPTED),
        Case("JPEG start marker only", READ, Json({"image": b64(j[:3])}), 400, CORRUPT, ACCEPTED),
        Case("JPEG with garbage after its header", READ, Json({"image": b64(j[:200] + bytes(range(256)) * 4)}), 400, CORRUPT, ACCEPTED),
        Case("WebP cut in half", READ, Json({"image": b64(w[: len(w) // 2])}), 400, CORRUPT, ACCEPTED),
        Case("WebP RIFF header only", READ, Json({"image": b64(w[:16])}), 400, CORRUPT, ACCEPTED),
        Case("GIF cut in half", READ, Json({"image": b64(g[: len(g) // 2])}), 400, CORRUPT, ACCEPTED),
        Case("GIF header only", READ, Json({"image": b64(g[:13])}), 400, CORRUPT, ACCEPTED),
        Case("BMP header only", READ, Json({"image": b64(_encode(_picture(), "BMP")[:20])}), 400, CORRUPT, ACCEPTED),
        Case("TIFF cut in half", READ, Json({"image": b64(_encode(_picture(), "TIFF")[:300])}), 400, CORRUPT, ACCEPTED),
        # Nothing, or not an image at all.
        Case("zero-byte upload", READ, Upload(b""), 400, CORRUPT, "send the image file's bytes"),
        Case("zero-byte image (empty base64)", GENERATE, Json({"task": "caption", "image": ""}), 400, BAD, "must not be empty"),
        Case("empty data: URI", CHAT, chat(image="data:image/png;base64,"), 400, BAD, "Put the base64-encoded image there"),
        Case("text, not an image", READ, Json({"image": b64(b"hello, world\n" * 8)}), 400, CORRUPT, ACCEPTED),
        Case("SVG", READ, Json({"image": b64(SVG)}), 400, CORRUPT, "not supported"),
        Case("PDF", READ, Upload(b"%PDF-1.7\n" + b"0" * 64), 400, CORRUPT, "not supported"),
        Case("ICO (a decoder kept off the attack surface)", READ, Json({"image": b64(_encode(_picture(16, 16), "ICO"))}), 400, CORRUPT, "not supported"),
        # Polyglots: what decodes as an image is an image; what does not start as one is refused.
        Case("PNG with a ZIP appended", READ, Json({"image": b64(p + zip_file())}), 200),
        Case("PNG with HTML appended", READ, Json({"image": b64(p + HTML)}), 200),
        Case("HTML with a PNG appended", READ, Json({"image": b64(HTML + p)}), 400, CORRUPT, ACCEPTED),
        Case("ZIP with a PNG appended", READ, Json({"image": b64(zip_file() + p)}), 400, CORRUPT, ACCEPTED),
        Case("GIF/JavaScript polyglot header", READ, Json({"image": b64(b"GIF89a/*" + b"\x00" * 8 + b"*/=alert(1);")}), 400, CORRUPT, ACCEPTED),
        # Decompression bombs: a huge declared size in a tiny file is refused from the header.
        Case("PNG claiming 100000x100000 pixels (60 bytes)", READ, Json({"image": b64(png_claiming(100_000, 100_000))}), 413, "image_too_large", "Downscale"),
        Case("PNG claiming 10000x10000 pixels", CHAT, chat_image(png_claiming(10_000, 10_000)), 413, "image_too_large", "--max-image-pixels"),
        Case("JPEG claiming 65000x65000 pixels", READ, Json({"image": b64(jpeg_claiming(65_000, 65_000))}), 413, "image_too_large", "Downscale"),
        Case("GIF claiming 65535x65535 pixels", READ, Json({"image": b64(gif_claiming(65_535, 65_535))}), 413, "image_too_large", "Downscale"),
        Case("PNG of 4000x4000 zeros (16 kB deflated, 48 MB decoded)", READ, Upload(png_zlib_bomb()), 200),
        # Odd but valid images are decoded and answered.
        Case("1x1 PNG", CHAT, chat_image(_encode(_picture(1, 1), "PNG")), 200),
        Case("1x60000 PNG", READ, Upload(_encode(_picture(1, 60_000), "PNG")), 200),
        Case("60000x1 PNG", CHAT, chat_image(_encode(_picture(60_000, 1), "PNG")), 200),
        Case("animated GIF (first frame)", CHAT, chat_image(animated("GIF"), "image/gif"), 200),
        Case("animated WebP (first frame)", READ, Json({"image": b64(animated("WEBP"))}), 200),
        Case("animated PNG (first frame)", READ, Json({"image": b64(animated("PNG"))}), 200),
        Case("CMYK JPEG", CHAT, chat_image(cmyk_jpeg(), "image/jpeg"), 200),
        Case("CMYK TIFF", READ, Upload(cmyk_tiff()), 200),
        Case("16-bit greyscale PNG", CHAT, chat_image(grey16_png()), 200),
        Case("16-bit RGB PNG", READ, Json({"image": b64(rgb48_png())}), 200),
        Case("16-bit RGBA PNG", GENERATE, Json({"task": "caption", "image": b64(rgba64_png())}), 200),
        Case("1-bit PNG", READ, Json({"image": b64(_encode(_picture().convert("1"), "PNG"))}), 200),
        Case("palette PNG with transparency", READ, Json({"image": b64(_encode(_picture().convert("P"), "PNG", transparency=0))}), 200),
    ]
    encodings = [
        Case("invalid base64 characters", READ, Json({"image": "!!not*base64!!"}), 400, BAD, "data: URI, base64"),
        Case("base64 with wrong padding", READ, Json({"image": b64(p)[:-3]}), 400, BAD, "base64 encoding is invalid"),
        Case("base64 of a PNG, wrapped over lines", READ, Json({"image": "\n".join(b64(p)[i : i + 76] for i in range(0, len(b64(p)), 76))}), 200),
        Case("data: URI without ';base64'", CHAT, chat(image="data:image/png," + b64(p)), 400, BAD, "data:image/png;base64,"),
        Case("data: URI without a ','", CHAT, chat(image="data:image/png;base64" + b64(p)), 400, BAD, "needs a ','"),
        Case("data: URI of text/html", CHAT, chat_image(p, "text/html"), 400, CORRUPT, "not an image"),
        Case("data: URI with a bad payload", CHAT, chat(image="data:image/png;base64,%%%%"), 400, BAD, "payload is not base64"),
        Case("data: URI in capitals", CHAT, chat(image="DATA:IMAGE/PNG;BASE64," + b64(p)), 200),
        Case("data: URI with parameters", CHAT, chat(image="data:image/png;charset=utf-8;base64," + b64(p)), 200),
        Case("data: URI with no media type", CHAT, chat(image="data:;base64," + b64(p)), 200),
        Case("JPEG sent as image/png", CHAT, chat_image(j, "image/png"), 200),
        Case("javascript: URL", CHAT, chat(image="javascript:alert(1)"), 400, BAD, "use a data: URI"),
        Case("ftp:// URL", CHAT, chat(image="ftp://127.0.0.1/a.png"), 400, BAD, "use a data: URI"),
    ]
    sources = [
        Case("http:// URL without --allow-remote-images", CHAT, chat(image="http://127.0.0.1:9/a.png"), 400, BAD, "--allow-remote-images"),
        Case("https:// URL without --allow-remote-images", READ, Json({"image": "https://example.com/a.png"}), 400, BAD, "--allow-remote-images"),
        Case("file:// inside --media-dir", CHAT, chat(image="file://@MEDIA@/ok.png"), 200),
        Case("file:// with ../ out of --media-dir", CHAT, chat(image="file://@MEDIA@/../secret.png"), 400, BAD, "inside the media directory"),
        Case("file:// with %2e%2e%2f out of --media-dir", READ, Json({"image": "file://@MEDIA@/%2e%2e%2fsecret.png"}), 400, BAD, "inside the media directory"),
        Case("file:///etc/passwd", READ, Json({"image": "file:///etc/passwd"}), 400, BAD, "inside the media directory"),
        Case("file:// symlink leading out of --media-dir", READ, Json({"image": "file://@MEDIA@/escape.png"}), 400, BAD, "inside the media directory"),
        Case("file:// on another host", READ, Json({"image": "file://evil.example/@MEDIA@/ok.png"}), 400, BAD, "file:///"),
        Case("file:// naming a folder", READ, Json({"image": "file://@MEDIA@/sub"}), 400, BAD, "Cannot read"),
        Case("file:// naming a missing file", READ, Json({"image": "file://@MEDIA@/missing.png"}), 400, BAD, "Cannot read"),
        Case("file:// with a NUL byte", READ, Json({"image": "file://@MEDIA@/ok.png%00.txt"}), 400, BAD, "must not contain a NUL byte"),
    ]
    json_cases = [
        Case("malformed JSON", CHAT, raw_json('{"messages": ['), 400, BAD, "not valid JSON"),
        Case("empty body", CHAT, raw_json(b""), 400, BAD, "not valid JSON"),
        Case("JSON array instead of an object", EMBED, raw_json("[1, 2]"), 400, BAD, "must be a JSON object"),
        Case("JSON null", SEED, raw_json("null"), 400, BAD, "must be a JSON object"),
        Case("trailing garbage after the object", EMBED, raw_json('{"input": "a"} x'), 400, BAD, "not valid JSON"),
        Case("NaN as a number", CHAT, raw_json('{"messages": [{"role": "user", "content": "hi"}], "temperature": NaN}'), 400, BAD, "not valid JSON"),
        Case("1e400 (out of float range)", CHAT, raw_json('{"messages": [{"role": "user", "content": "hi"}], "top_p": 1e400}'), 400, BAD, "not valid JSON"),
        Case("arrays nested 100000 deep", CHAT, raw_json("[" * 100_000 + "]" * 100_000), 400, BAD, "nested too deeply"),
        Case("objects nested 100000 deep", GENERATE, raw_json('{"a":' * 100_000 + "1" + "}" * 100_000), 400, BAD, "nested too deeply"),
        Case("nesting 100000 deep inside a message", CHAT, raw_json('{"messages": [{"role": "user", "content": ' + "[" * 100_000 + "]" * 100_000 + "}]}"), 400, BAD, "nested too deeply"),
        Case("invalid UTF-8 in a string", EMBED, Raw(b'{"input": "caf\xc3\x28"}'), 400, BAD, "not valid JSON"),
        Case("UTF-8 encoded surrogate (ED A0 80)", EMBED, Raw(b'{"input": "\xed\xa0\x80"}'), 400, BAD, "not valid JSON"),
        Case("lone surrogate escape \\ud800", CHAT, raw_json('{"messages": [{"role": "user", "content": "a\\ud800"}]}'), 400, BAD, "send it as UTF-8"),
        Case("lone low surrogate \\udc00 in a seed", SEED, raw_json('{"text": "\\udc00"}'), 400, BAD, "send it as UTF-8"),
        Case("Content-Type text/plain", CHAT, Raw(json.dumps(chat().body).encode(), "text/plain"), 415, "unsupported_media_type", "application/json"),
        Case("multipart without a boundary", READ, Raw(b"--x\r\n\r\n", "multipart/form-data"), 400, BAD, "malformed"),
        Case("multipart part in an unknown Content-Transfer-Encoding", READ, multipart(file_part(p, extra="\r\nContent-Transfer-Encoding: x-evil")), 400, BAD, "without a Content-Transfer-Encoding"),
        Case("multipart image part in base64 transfer encoding", READ, multipart(file_part(b64(p).encode(), extra="\r\nContent-Transfer-Encoding: base64")), 200),
        Case("multipart part with broken base64 transfer encoding", READ, multipart(file_part(b"@@@", extra="\r\nContent-Transfer-Encoding: base64")), 400, BAD, "without a Content-Transfer-Encoding"),
        Case("multipart part without a name", READ, multipart(("Content-Disposition: form-data", p)), 400, BAD, "name=..."),
        Case("multipart text field in invalid UTF-8", GENERATE, multipart(text_part("prompt", b"caf\xe9"), file_part(p)), 400, BAD, "Send text fields as UTF-8"),
        Case("multipart text field in an unknown charset", GENERATE, multipart(text_part("prompt", b"hi", "\r\nContent-Type: text/plain; charset=klingon"), file_part(p)), 400, BAD, "Send text fields as UTF-8"),
        Case("multipart with two image parts", READ, multipart(file_part(p), file_part(p)), 400, BAD, "more than once"),
        Case("multipart file part not named image", READ, multipart(file_part(p, name="photo")), 400, BAD, "send the image as 'image'"),
        Case("multipart with no closing boundary", READ, Raw(multipart(file_part(p)).body[:-9], "multipart/form-data; boundary=XyZ"), 400, BAD, "malformed"),
        Case("upload over --max-body-bytes", READ, Upload(p + b"\x00" * MAX_BODY_BYTES), 413, "request_too_large", "--max-body-bytes"),
        Case("body over --max-body-bytes", EMBED, raw_json('{"input": "' + "a" * (MAX_BODY_BYTES + 10) + '"}'), 413, "request_too_large", "--max-body-bytes"),
    ]
    fields = [
        Case("unknown top-level field", CHAT, chat(foo=1), 400, BAD, "Accepted fields"),
        Case("unknown field in a message", CHAT, Json({"messages": [{"role": "user", "content": "hi", "mood": "x"}]}), 400, BAD, "Accepted fields"),
        Case("unknown field in image_url", CHAT, Json({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": uri(p), "x": 1}}]}]}), 400, BAD, "Accepted fields"),
        Case("unknown content part type", CHAT, Json({"messages": [{"role": "user", "content": [{"type": "video", "video": "x"}]}]}), 400, BAD, "must be"),
        Case("a field with an empty name", CHAT, Json({"messages": [{"role": "user", "content": "hi", "": 1}]}), 400, BAD, "empty name"),
        Case("unknown field on /v1/generate", GENERATE, Json({"prompt": "hi", "beam": 2}), 400, BAD, "Accepted fields"),
        Case("messages is a string", CHAT, Json({"messages": "hi"}), 400, BAD, "must be a list"),
        Case("messages is empty", CHAT, Json({"messages": []}), 400, BAD, "at least 1 item"),
        Case("content is a number", CHAT, Json({"messages": [{"role": "user", "content": 5}]}), 400, BAD, "must be"),
        Case("role is unknown", CHAT, Json({"messages": [{"role": "wizard", "content": "hi"}]}), 400, BAD, "must be"),
        Case("max_tokens is a string", CHAT, chat(max_tokens="10"), 400, BAD, "must be an integer"),
        Case("temperature is a string", GENERATE, Json({"prompt": "hi", "temperature": "hot"}), 400, BAD, "must be a number"),
        Case("stream is a string", CHAT, chat(stream="yes"), 400, BAD, "must be true or false"),
        Case("image is a number", READ, Json({"image": 12}), 400, BAD, "must be"),
        Case("input is a number", EMBED, Json({"input": 5}), 400, BAD, "'input' must be"),
        Case("texts is empty", RANK, Json({"image": uri(p), "texts": []}), 400, BAD, "at least 1 item"),
        Case("seed text is blank", SEED, Json({"text": "   "}), 400, BAD, "not empty"),
        Case("/v1/generate with neither prompt nor image", GENERATE, Json({"max_new_tokens": 4}), 400, BAD, "send a prompt to generate from"),
        Case("form field max_new_tokens is not a number", GENERATE, Upload(p, {"prompt": "hi", "max_new_tokens": "many"}), 400, BAD, "must be a finite number"),
        Case("form field temperature is inf", GENERATE, Upload(p, {"prompt": "hi", "temperature": "inf"}), 400, BAD, "must be a finite number"),
    ]
    numbers = [
        Case("max_tokens 10**12", CHAT, chat(max_tokens=10**12), 400, "context_length_exceeded", "Lower max_tokens to less than 64"),
        Case("max_tokens 10**30 (over 64 bits)", CHAT, chat(max_tokens=10**30), 400, "context_length_exceeded", "Lower max_tokens"),
        Case("max_tokens 0", CHAT, chat(max_tokens=0), 400, BAD, "at least 1"),
        Case("max_completion_tokens 10**12", CHAT, chat(max_completion_tokens=10**12), 400, "context_length_exceeded", "Lower max_completion_tokens"),
        Case("max_new_tokens 10**12 in a form", GENERATE, Upload(p, {"prompt": "hi", "max_new_tokens": str(10**12)}), 400, "context_length_exceeded", "Lower max_new_tokens"),
        Case("completion max_tokens 10**12", COMPLETE, Json({"prompt": "hi", "max_tokens": 10**12}), 400, "context_length_exceeded", "Lower max_tokens"),
        Case("max_tokens -1", COMPLETE, Json({"prompt": "hi", "max_tokens": -1}), 400, BAD, "at least 1"),
        Case("top_p 2", CHAT, chat(top_p=2), 400, BAD, "at most 1"),
        Case("top_p -0.5", GENERATE, Json({"prompt": "hi", "top_p": -0.5}), 400, BAD, "must be"),
        Case("temperature -1", CHAT, chat(temperature=-1), 400, BAD, "at least 0"),
        Case("temperature 1e308", CHAT, chat(temperature=1e308), 400, BAD, "at most 2"),
        Case("n 1000", CHAT, chat(n=1000), 400, BAD, "Only n=1 is supported"),
        Case("top_logprobs 1000", CHAT, chat(logprobs=True, top_logprobs=1000), 400, BAD, "at most"),
        Case("top_k -5", GENERATE, Json({"prompt": "hi", "top_k": -5}), 400, BAD, "must be"),
        Case("num_beams 10**6", GENERATE, Json({"prompt": "hi", "num_beams": 10**6}), 400, BAD, "at most"),
        Case("seed -1", CHAT, chat(seed=-1), 400, BAD, "at least 0"),
        Case("frequency_penalty 100", CHAT, chat(frequency_penalty=100), 400, BAD, "at most 2"),
        Case("repetition_penalty 0", GENERATE, Json({"prompt": "hi", "repetition_penalty": 0}), 400, BAD, "must be"),
    ]
    lengths = [
        Case("chat prompt over --max-seq-len", CHAT, chat(WORDS), 400, "context_length_exceeded", "Shorten"),
        Case("system message over --max-seq-len", CHAT, Json({"messages": [{"role": "system", "content": WORDS}, {"role": "user", "content": "hi"}]}), 400, "context_length_exceeded", "Shorten"),
        Case("question over --max-seq-len, with an image", CHAT, chat(WORDS, image=uri(p)), 400, "context_length_exceeded", "Shorten"),
        Case("question of 200,000 characters without a space, with an image", CHAT, chat("x" * 200_000, image=uri(p)), 400, "context_length_exceeded", "--max-seq-len"),
        Case("completion prompt over --max-seq-len", COMPLETE, Json({"prompt": WORDS}), 400, "context_length_exceeded", "Shorten"),
        Case("generate prompt over --max-seq-len", GENERATE, Json({"prompt": WORDS}), 400, "context_length_exceeded", "Shorten"),
        Case("form prompt over --max-seq-len", GENERATE, Upload(p, {"prompt": WORDS}), 400, "context_length_exceeded", "Shorten"),
    ]
    groups = {
        "images": images, "encodings": encodings, "image sources": sources, "bodies": json_cases,
        "fields and types": fields, "numbers": numbers, "lengths": lengths,
    }
    return [Case(c.name, c.route, c.send, c.status, c.code, c.advice, group) for group, cases in groups.items() for c in cases]


CASES: tuple[Case, ...] = tuple(_cases())


# --- the README table -------------------------------------------------------------------------

START, END = "<!-- hostile:start -->", "<!-- hostile:end -->"
REGENERATE = "python packaging/readme_hostile.py"


def render_table() -> str:
    """Markdown: one row per case, in the corpus's order."""
    lines = [
        f"<!-- generated by {REGENERATE} from tests/http/hostile_cases.py; each row is asserted by "
        "tests/http/test_hostile_corpus.py; do not edit by hand -->",
        "",
        f"{len(CASES)} cases, sent to the real app by `tests/http/test_hostile_corpus.py`; after them the "
        "server still answers `/health` and a valid request.",
        "",
        "| Input | Route | Status | Error code |",
        "|---|---|---|---|",
    ]
    for case in CASES:
        name = case.name.replace("|", "\\|")
        lines.append(f"| {name} | `{case.route}` | {case.status} | {f'`{case.code}`' if case.code else '—'} |")
    return "\n".join(lines)
