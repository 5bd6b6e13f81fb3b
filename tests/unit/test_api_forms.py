"""Form bodies split by runtime/api/forms.py, the parser both HTTP hosts use (issue 16).
The hostile-input corpus (tests/http/hostile_cases.py) covers the refusals through the
servers; these are the RFC 2046 / 7578 details that the corpus does not send."""

from __future__ import annotations

import asyncio

import pytest

from runtime.api.errors import ApiError
from runtime.api.forms import media_type, parse_form, read_body
from runtime.errors import InvalidRequestError

TYPE = "multipart/form-data; boundary=XyZ"


def test_preamble_and_epilogue_are_dropped_and_a_longer_boundary_lookalike_is_content():
    body = (b"a preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n"
            b"line one\r\n--XyZabc is not the boundary\r\n--XyZ--\r\nan epilogue\r\n")
    assert parse_form(TYPE, body) == ({"prompt": ["line one\r\n--XyZabc is not the boundary"]}, {})


def test_file_parts_text_parts_and_their_encodings():
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename*=UTF-8''b%C3%A4r.png\r\n"
            b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x00\xff\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"prompt\"\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"stop\"\r\n"
            b"Content-Type: text/plain; charset=latin-1\r\n\r\nfin\xe9\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"stop\"\r\n\r\n\r\n--XyZ--")
    fields, files = parse_form(TYPE, body)
    assert files == {"image": [b"\x89PNG\r\n\x00\xff"]}
    assert fields == {"prompt": ["café"], "stop": ["finé", ""]}


@pytest.mark.parametrize("body, words", [
    (b"--XyZ\n\nno CRLF\n--XyZ--", "CRLF"),
    (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nb\r\n--XyZ--", "blank line"),
    (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: multipart/mixed; boundary=Q\r\n\r\n"
     b"--Q--\r\n--XyZ--", "nested"),
    (b"just text", "no boundary line"),
])
def test_malformed_bodies_say_what_is_wrong(body, words):
    with pytest.raises(InvalidRequestError, match="malformed") as error:
        parse_form(TYPE, body)
    assert words in str(error.value)


def test_urlencoded_fields_keep_blanks_and_repeats():
    fields, files = parse_form("application/x-www-form-urlencoded", b"prompt=a+b%21&stop=x&stop=&seed=3\r\n")
    assert (fields, files) == ({"prompt": ["a b!"], "stop": ["x", ""], "seed": ["3"]}, {})


def test_a_body_type_a_route_does_not_take_is_415_before_the_body_is_read():
    async def never_read() -> bytes:
        raise AssertionError("the body was read")

    for content_type, forms in (("text/plain", True), ("multipart/form-data; boundary=x", False), (None, False)):
        with pytest.raises(ApiError) as error:
            asyncio.run(read_body(content_type, never_read, forms))
        assert error.value.status == 415
    assert media_type(None) == "application/octet-stream"
    assert media_type("Application/JSON; charset=utf-8") == "application/json"
