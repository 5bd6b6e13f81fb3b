"""One table from exception type to HTTP status, and the one error envelope (DESIGN §6).

Transport-free: no aiohttp here. Mapping is by exception type only, never by message
text, and a bare `ValueError` (or anything else that is not ours) is a 500.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import msgspec
from msgspec import UNSET

from runtime.errors import (
    ContextLengthExceededError,
    ImageTooLargeError,
    InvalidRequestError,
    OverloadedError,
    UnknownModelError,
    UnsupportedImageError,
    WanError,
)

from .schemas import ErrorDetail, ErrorEnvelope


class ApiError(Exception):
    """An HTTP-level failure that is not an engine error (auth, body size, media type, ...)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str,
        code: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.code = code
        self.param = param
        self.headers = dict(headers or {})


class ModelLoadingError(WanError):
    """The model is still loading; retry shortly."""

    code = "model_loading"


class RequestTimeoutError(WanError):
    """The request ran past the server's per-request timeout."""

    code = "timeout"


@dataclass(frozen=True)
class ErrorReply:
    """What the transport sends for a failed request."""

    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    unexpected: bool = False  # True: a bug or infrastructure failure; log the traceback once


# Most specific first: the first matching row wins.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (ContextLengthExceededError, 400, "invalid_request_error"),
    (ImageTooLargeError, 413, "invalid_request_error"),
    (UnsupportedImageError, 400, "invalid_request_error"),
    (InvalidRequestError, 400, "invalid_request_error"),
    (UnknownModelError, 404, "invalid_request_error"),
    (OverloadedError, 503, "overloaded_error"),
    (ModelLoadingError, 503, "overloaded_error"),
    (RequestTimeoutError, 504, "timeout_error"),
)


def envelope(
    message: str, error_type: str, code: str | None, param: str | None = None, request_id: str | None = None
) -> dict:
    """The one error body: `{"error": {"message", "type", "param", "code"}}` (schemas.ErrorEnvelope)."""
    detail = ErrorDetail(message, error_type, param, code, UNSET if request_id is None else request_id)
    return msgspec.to_builtins(ErrorEnvelope(detail))


def error_reply(error: BaseException, request_id: str) -> ErrorReply:
    """Map an exception to its status, envelope and headers by type (never by message)."""
    if isinstance(error, ClientGoneError):
        # Nobody reads this; the status (nginx's 499) only shows in logs and metrics.
        return ErrorReply(499, envelope("The client closed the request.", "client_closed_request", "cancelled"))
    if isinstance(error, ApiError):
        return ErrorReply(error.status, envelope(str(error), error.error_type, error.code, error.param), error.headers)
    for error_class, status, error_type in ERROR_TABLE:
        if isinstance(error, error_class):
            headers = {}
            if isinstance(error, OverloadedError):
                headers["Retry-After"] = str(max(1, round(error.retry_after_s)))
            elif isinstance(error, ModelLoadingError):
                headers["Retry-After"] = "5"
            param = getattr(error, "param", None)
            return ErrorReply(status, envelope(str(error), error_type, error.code, param), headers)
    code = error.code if isinstance(error, WanError) else "internal_error"
    message = (
        f"Internal server error (request id {request_id}). "
        "The details are in the server log under this id."
    )
    return ErrorReply(500, envelope(message, "server_error", code, request_id=request_id), {}, unexpected=True)


_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id_from(header_value: str | None) -> str:
    """The client's `X-Request-Id` when it is short and plain, else a fresh one."""
    if header_value and _CLIENT_ID.match(header_value):
        return header_value
    return new_request_id()


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex[:24]


class ClientGoneError(Exception):
    """The client closed the connection before the answer was ready."""
