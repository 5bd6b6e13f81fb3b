"""Form bodies (multipart and url-encoded) → text fields and uploaded files, in memory.

aiohttp's `request.post()` spools every uploaded file over 1 MiB to a temporary file, so
a full or read-only temp folder turned an ordinary upload into a 500 (issue 12). Here
every part is read into memory instead, bounded by `--max-body-bytes` (the bound that
JSON bodies, read whole, already have), and nothing touches the disk.
"""

from __future__ import annotations

import base64
import binascii

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.http_exceptions import HttpProcessingError

from runtime.errors import InvalidRequestError

MULTIPART = "multipart/form-data"


async def read_form(request: web.Request, max_bytes: int) -> tuple[dict[str, list[str]], dict[str, list[bytes]]]:
    """The text fields and the files (parts with a filename) of a form body.

    Raises:
        web.HTTPRequestEntityTooLarge: the body is over `max_bytes`.
        InvalidRequestError: a malformed body, or a text field that is not text.
    """
    if request.content_type != MULTIPART:
        return await _read_urlencoded(request), {}
    fields: dict[str, list[str]] = {}
    files: dict[str, list[bytes]] = {}
    try:
        reader = await request.multipart()
        received = 0
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise InvalidRequestError("The multipart body is malformed: nested multipart parts are not accepted.")
            if not part.name:
                raise InvalidRequestError(
                    "The multipart body is malformed: a part has no name (Content-Disposition: form-data; name=...)."
                )
            data = bytearray()
            while chunk := await part.read_chunk():
                received += len(chunk)
                if received > max_bytes:
                    raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=received)
                data.extend(chunk)
            value = _decoded(part, data)
            if part.filename:
                files.setdefault(part.name, []).append(value)
            else:
                fields.setdefault(part.name, []).append(_text(part, value))
    except (HttpProcessingError, ValueError) as error:
        # Raised by aiohttp's multipart parser on the client's bytes, nowhere else: a
        # malformed body, not a server fault.
        raise InvalidRequestError(f"The multipart body is malformed: {error}.") from None
    return fields, files


def _decoded(part: BodyPartReader, data: bytearray) -> bytes:
    """The part's bytes with its Content-Transfer-Encoding (base64, quoted-printable) undone."""
    try:
        if part.headers.get(hdrs.CONTENT_TRANSFER_ENCODING, "").strip().lower() == "base64":
            # Strictly: aiohttp's decoder drops bad characters, turning junk into b"".
            return base64.b64decode(b"".join(bytes(data).split()), validate=True)
        return bytes(part.decode(data))
    except (RuntimeError, binascii.Error) as error:
        # aiohttp raises RuntimeError for an encoding it does not know: the client's header.
        raise InvalidRequestError(
            f"The multipart part '{part.name}' cannot be decoded ({error}); send it without a "
            "Content-Transfer-Encoding, or with base64."
        ) from None


def _text(part: BodyPartReader, value: bytes) -> str:
    charset = part.get_charset(default="utf-8")
    try:
        return value.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise InvalidRequestError(
            f"The multipart body is malformed: form field '{part.name}' is not valid {charset} text. "
            "Send text fields as UTF-8, and the image as a file part (curl -F image=@photo.png).",
            param=part.name,
        ) from None


async def _read_urlencoded(request: web.Request) -> dict[str, list[str]]:
    try:
        form = await request.post()  # url-encoded: read into memory by aiohttp, no temp files
    except (HttpProcessingError, ValueError) as error:
        raise InvalidRequestError(f"The form body is malformed: {error}.") from None
    fields: dict[str, list[str]] = {}
    for key, value in form.items():
        fields.setdefault(key, []).append(str(value))
    return fields
