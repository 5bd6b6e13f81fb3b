"""Request bodies by Content-Type: JSON, or for the native image routes a form (multipart
with an `image` file part, or url-encoded text fields).

Transport-free: a host passes the Content-Type header and a coroutine that reads the body
(bounded by --max-body-bytes, its 413), and gets back what the route parses. The aiohttp
server and the ASGI ingress both read bodies here, so they take the same bodies and refuse
the same ones with the same errors (DESIGN §6, issue 16).

Multipart bodies are split in memory, never spooled to a temporary file (aiohttp's own form
reader spooled files over 1 MiB, and a full or read-only temp folder turned an upload into
a 500: issue 12).
"""

from __future__ import annotations

import base64
import binascii
import email.message
import email.parser
import email.utils
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from runtime.errors import InvalidRequestError

from .bodies import parse_json
from .errors import ApiError
from .native import form_to_body

JSON = "application/json"
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
FORM_TYPES = frozenset({MULTIPART, URLENCODED})

Fields = dict[str, list[str]]
Files = dict[str, list[bytes]]


def media_type(content_type: str | None) -> str:
    """'type/subtype' of a Content-Type header, lower case; a body without one is bytes."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind or "application/octet-stream"


async def read_body(content_type: str | None, read: Callable[[], Awaitable[bytes]], forms: bool) -> object:
    """The body as the route parses it: JSON objects, or a `native.FormBody` for a form.

    Args:
        content_type: the request's Content-Type header (None when absent).
        read: returns the whole body; it raises the host's 413 past --max-body-bytes.
        forms: the route also takes forms (runtime/api/routes.py's `PostRoute.forms`).

    Raises:
        ApiError: 415 for a Content-Type the route does not take (before reading the body).
        InvalidRequestError: a body that is not valid JSON, or a malformed form.
    """
    kind = media_type(content_type)
    if kind != JSON and not (forms and kind in FORM_TYPES):
        if forms:
            accepted = f"{JSON}, {MULTIPART} or {URLENCODED}"
            advice = "send a JSON body, or the image as a multipart field named 'image' (curl -F image=@page.png)"
        else:
            accepted, advice = JSON, f"send the body as JSON with the header 'Content-Type: {JSON}'"
        raise ApiError(415, f"Content-Type must be {accepted} (got '{kind}'): {advice}.",
                       error_type="invalid_request_error", code="unsupported_media_type")
    raw = await read()
    if kind == JSON:
        return parse_json(raw)
    return form_to_body(*parse_form(content_type or "", raw))


def parse_form(content_type: str, raw: bytes) -> tuple[Fields, Files]:
    """The text fields and the files (parts with a filename) of a form body.

    Raises:
        InvalidRequestError: a malformed body, or a text field that is not text.
    """
    if media_type(content_type) == URLENCODED:
        return _urlencoded(content_type, raw), {}
    boundary = _parameter(content_type, "boundary")
    if not boundary or not boundary.isascii():
        raise InvalidRequestError(
            "The multipart body is malformed: the Content-Type header names no boundary "
            "(multipart/form-data; boundary=...).")
    fields: Fields = {}
    files: Files = {}
    for part in _parts(raw, boundary.encode("ascii")):
        headers, content = _split_part(part)
        if headers.get_content_maintype() == "multipart":
            raise InvalidRequestError("The multipart body is malformed: nested multipart parts are not accepted.")
        name = _parameter_of(headers, "name")
        if not name:
            raise InvalidRequestError(
                "The multipart body is malformed: a part has no name (Content-Disposition: form-data; name=...).")
        value = _decoded(name, headers, content)
        if _parameter_of(headers, "filename"):
            files.setdefault(name, []).append(value)
        else:
            fields.setdefault(name, []).append(_text(name, headers, value))
    return fields, files


def _parts(raw: bytes, boundary: bytes) -> list[bytes]:
    """Each part's bytes (headers, blank line, content) between the boundary lines (RFC 2046
    §5.1.1); the preamble and the epilogue are dropped."""
    delimiter = b"--" + boundary
    position = 0 if raw.startswith(delimiter) else _find_delimiter(raw, delimiter, 0)
    if position < 0:
        raise InvalidRequestError("The multipart body is malformed: it has no boundary line.")
    parts = []
    while True:
        position += len(delimiter)
        if raw.startswith(b"--", position):
            return parts  # the close delimiter
        line_end = raw.find(b"\r\n", position)
        if line_end < 0 or raw[position:line_end].strip(b" \t"):
            raise InvalidRequestError("The multipart body is malformed: a boundary line does not end in CRLF.")
        start = line_end + 2
        end = _find_delimiter(raw, delimiter, start)
        if end < 0:
            raise InvalidRequestError("The multipart body is malformed: it has no closing boundary line.")
        parts.append(raw[start:end - 2])  # the CRLF before a delimiter belongs to it
        position = end


def _find_delimiter(raw: bytes, delimiter: bytes, start: int) -> int:
    """Where the next CRLF + delimiter's delimiter begins (-1: none): the boundary followed
    by '--' or the end of its line, not merely a prefix of a longer line."""
    while (found := raw.find(b"\r\n" + delimiter, start)) >= 0:
        after = found + 2 + len(delimiter)
        if raw[after:after + 2] == b"--" or raw[after:after + 1] in (b"\r", b" ", b"\t"):
            return found + 2
        start = after
    return -1


def _split_part(part: bytes) -> tuple[email.message.Message, bytes]:
    if part.startswith(b"\r\n"):
        head, content = b"", part[2:]
    else:
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            raise InvalidRequestError("The multipart body is malformed: a part's headers do not end in a blank line.")
    headers = email.parser.HeaderParser().parsestr(head.decode("utf-8", "replace") + "\r\n\r\n")
    if headers.defects:
        raise InvalidRequestError(f"The multipart body is malformed: a part's headers cannot be read "
                                  f"({type(headers.defects[0]).__name__}).")
    return headers, content


def _parameter(header_value: str, name: str) -> str | None:
    message = email.message.Message()
    message["Content-Type"] = header_value
    value = message.get_param(name)
    return email.utils.collapse_rfc2231_value(value) if value else None


def _parameter_of(headers: email.message.Message, name: str) -> str | None:
    """A Content-Disposition parameter (RFC 2231's `name*=` form included)."""
    value = headers.get_param(name, header="content-disposition")
    return email.utils.collapse_rfc2231_value(value) if value else None


def _decoded(name: str, headers: email.message.Message, content: bytes) -> bytes:
    """The part's bytes with its Content-Transfer-Encoding (base64, quoted-printable) undone."""
    encoding = headers.get("Content-Transfer-Encoding", "").strip().lower()
    try:
        if encoding == "base64":
            # Strictly: a lenient decoder drops bad characters, turning junk into b"".
            return base64.b64decode(b"".join(content.split()), validate=True)
        if encoding == "quoted-printable":
            return binascii.a2b_qp(content)
        if encoding in ("", "binary", "8bit", "7bit"):
            return content
        error = f"unknown content transfer encoding: {encoding}"
    except binascii.Error as bad:
        error = str(bad)
    raise InvalidRequestError(
        f"The multipart part '{name}' cannot be decoded ({error}); send it without a "
        "Content-Transfer-Encoding, or with base64.")


def _text(name: str, headers: email.message.Message, value: bytes) -> str:
    charset = headers.get_content_charset("utf-8")
    try:
        return value.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise InvalidRequestError(
            f"The multipart body is malformed: form field '{name}' is not valid {charset} text. "
            "Send text fields as UTF-8, and the image as a file part (curl -F image=@photo.png).",
            param=name,
        ) from None


def _urlencoded(content_type: str, raw: bytes) -> Fields:
    charset = _parameter(content_type, "charset") or "utf-8"
    try:
        pairs = parse_qsl(raw.rstrip().decode(charset), keep_blank_values=True, encoding=charset)
    except (UnicodeDecodeError, LookupError, ValueError) as error:
        raise InvalidRequestError(f"The form body is malformed: {error}.") from None
    fields: Fields = {}
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return fields
