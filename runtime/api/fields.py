"""Strict readers for request-body fields: each wrong type or value is a 400 naming the field."""

from __future__ import annotations

from collections.abc import Mapping

from runtime.errors import InvalidRequestError, UnknownModelError

MISSING = object()


def require_object(body: object, what: str = "The request body") -> dict:
    if not isinstance(body, dict):
        raise InvalidRequestError(f"{what} must be a JSON object.", param=None)
    return body


def refuse_unknown(body: Mapping, known: frozenset[str] | set[str], where: str = "") -> None:
    unknown = sorted(set(body) - set(known))
    if unknown:
        name = unknown[0]
        raise InvalidRequestError(
            f"Unknown field '{where}{name}'. Accepted fields: {', '.join(sorted(known))}.",
            param=f"{where}{name}",
        )


def get_int(body: Mapping, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(f"'{key}' must be an integer.", param=key)
    if minimum is not None and value < minimum:
        raise InvalidRequestError(f"'{key}' must be at least {minimum}.", param=key)
    if maximum is not None and value > maximum:
        raise InvalidRequestError(f"'{key}' must be at most {maximum}.", param=key)
    return value


def get_number(body: Mapping, key: str, *, minimum: float | None = None, maximum: float | None = None) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(f"'{key}' must be a number.", param=key)
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidRequestError(f"'{key}' must be a finite number.", param=key)
    if minimum is not None and value < minimum:
        raise InvalidRequestError(f"'{key}' must be at least {minimum}.", param=key)
    if maximum is not None and value > maximum:
        raise InvalidRequestError(f"'{key}' must be at most {maximum}.", param=key)
    return float(value)


def get_bool(body: Mapping, key: str, default: bool = False) -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidRequestError(f"'{key}' must be true or false.", param=key)
    return value


def get_str(body: Mapping, key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise InvalidRequestError(f"'{key}' is required.", param=key)
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"'{key}' must be a string.", param=key)
    return value


def get_str_list(body: Mapping, key: str, *, required: bool = False) -> list[str] | None:
    value = body.get(key)
    if value is None:
        if required:
            raise InvalidRequestError(f"'{key}' is required.", param=key)
        return None
    if not isinstance(value, list) or not value or any(not isinstance(item, str) for item in value):
        raise InvalidRequestError(f"'{key}' must be a non-empty list of strings.", param=key)
    return value


def get_stop(body: Mapping, key: str = "stop") -> tuple[str, ...] | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise InvalidRequestError(f"'{key}' must be a string or a list of strings.", param=key)


def check_model(body: Mapping, served_ids: tuple[str, ...]) -> None:
    """A request may name the model; naming one we do not serve is a 404."""
    name = body.get("model")
    if name is None:
        return
    if not isinstance(name, str):
        raise InvalidRequestError("'model' must be a string.", param="model")
    if name not in served_ids:
        raise UnknownModelError(
            f"The model '{name}' does not exist here. This server serves '{served_ids[0]}' "
            "(GET /v1/models lists it)."
        )
