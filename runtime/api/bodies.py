"""Request bodies → typed structures (schemas.py), every failure a 400 naming the field.

msgspec's `ValidationError` ends with "- at `$.messages[0].content[1].type`"; that path
becomes the error's `param` and the rest a message that says what to send instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TypeVar

import msgspec
import msgspec.inspect as mi

from runtime.errors import InvalidRequestError, UnknownModelError

Body = TypeVar("Body", bound=msgspec.Struct)

_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_PATH_PART = re.compile(r"\.(\w+)|\[(\d+|\.\.\.)\]")
_TYPE_WORDS = {
    "int": "an integer", "float": "a number", "str": "a string", "bool": "true or false",
    "array": "a list", "object": "an object", "null": "null", "bytes": "bytes",
}


# A `\uD800`-`\uDFFF` escape not preceded by a backslash of its own (an odd run of them).
_SURROGATE_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u([dD][89a-fA-F][0-9a-fA-F]{2})")


def parse_json(raw: bytes) -> object:
    """A JSON body as Python objects. NaN, Infinity and numbers out of range are refused,
    and so are lone UTF-16 surrogates and bodies nested deeper than the parser's stack."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        lone = _lone_surrogate(raw)
        if lone is not None:
            raise InvalidRequestError(
                f"The body holds a lone UTF-16 surrogate (\\u{lone}): text must be valid Unicode. Escape a "
                "character above U+FFFF as a pair (a \\ud800-\\udbff escape followed by a \\udc00-\\udfff "
                "one), or send it as UTF-8."
            ) from None
        raise InvalidRequestError(f"The body is not valid JSON: {error}.") from None
    except RecursionError:
        # msgspec recurses once per level; a body nested deeper than the interpreter's
        # stack allows (`[[[[...]]]]`) is refused here rather than escaping as a 500.
        raise InvalidRequestError(
            "The JSON body is nested too deeply to parse; no request body of this API needs more "
            "than a few levels of arrays and objects."
        ) from None


def _lone_surrogate(raw: bytes) -> str | None:
    """The first surrogate escape that is not half of a high-low pair, if any."""
    escapes = list(_SURROGATE_ESCAPE.finditer(raw))
    index = 0
    while index < len(escapes):
        unit = int(escapes[index][1], 16)
        following = escapes[index + 1] if index + 1 < len(escapes) else None
        if unit <= 0xDBFF and following is not None and following.start(1) - 2 == escapes[index].end(1) \
                and int(following[1], 16) >= 0xDC00:
            index += 2
            continue
        return escapes[index][1].decode("ascii").lower()
    return None


def decode(body: object, body_type: type[Body], messages: Mapping[str, str] | None = None) -> Body:
    """`body` (parsed JSON, or a converted form) as `body_type`, or a 400 naming the field.

    `messages` maps a pattern of `param` (a regular expression for `re.fullmatch`) to the
    message to use where the schema's wording would not say how to fix it, e.g. for an
    OpenAI key accepted only at its default.
    """
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.", param=None)
    try:
        return msgspec.convert(body, body_type)
    except msgspec.ValidationError as error:
        raise invalid_request(str(error), body_type, body, messages or {}) from None


def invalid_request(text: str, body_type: type, body: object, messages: Mapping[str, str]) -> InvalidRequestError:
    """Translate one msgspec validation message into our error with a precise `param`."""
    match = _AT.match(text)
    what, path = match["what"], (match["path"] or "").lstrip(".")
    field = re.match(r"Object (contains unknown|missing required) field `(.*)`$", what, re.DOTALL)
    param = _join(path, field[2]) if field else (path or None)
    for pattern, message in messages.items():
        if param is not None and re.fullmatch(pattern, param):
            return InvalidRequestError(message, param=param)
    if field and field[1] == "contains unknown":
        accepted = _field_names(_type_at(body_type, body, path))
        listing = f" Accepted fields: {', '.join(accepted)}." if accepted else ""
        if not field[2]:
            where = f" in '{path}'" if path else ""
            return InvalidRequestError(f"A field with an empty name (\"\"){where} is not accepted.{listing}", param=path or None)
        return InvalidRequestError(f"Unknown field '{param}'.{listing}", param=param)
    if field:
        return InvalidRequestError(f"'{param}' is required.", param=param)
    return InvalidRequestError(f"'{param or 'The body'}' {_explain(what, body_type, body, path)}", param=param)


def _explain(what: str, body_type: type, body: object, path: str) -> str:
    """msgspec's description of a wrong value → what the value must be."""
    wrong_type = re.match(r"Expected `([^`]+)`, got `([^`]+)`$", what)
    if wrong_type:
        return f"must be {_words(wrong_type[1])}, not {_words(wrong_type[2])}."
    bound = re.match(r"Expected `(\w+)` (>=|<=|>|<) (\S+)$", what)
    if bound:
        relation = {">=": "at least", "<=": "at most", ">": "greater than", "<": "less than"}[bound[2]]
        return f"must be {relation} {_number(bound[3])}."
    length = re.match(r"Expected `(\w+)` of length (>=|<=) (\d+)$", what)
    if length:
        return _length_rule(length[1], length[2], int(length[3]))
    if what.startswith(("Invalid enum value", "Invalid value")):
        allowed = _allowed_values(body_type, body, path, tag=what.startswith("Invalid value"))
        got = what.rsplit(" ", 1)[-1]
        return f"must be {_either(allowed)}, not {got}." if allowed else f"is not allowed ({got})."
    pattern = re.match(r"Expected `str` matching regex '(.+)'$", what)
    if pattern:
        return f"must match the regular expression {pattern[1]}."
    return f"is invalid: {what}."


def _length_rule(kind: str, relation: str, size: int) -> str:
    if kind == "str":
        return "must not be empty." if (relation, size) == (">=", 1) else f"must be {relation} {size} characters long."
    if relation == "<=" and size == 0:
        return "must be empty."
    unit = "item" if size == 1 else "items"
    return f"must hold {'at least' if relation == '>=' else 'at most'} {size} {unit}."


def _words(types: str) -> str:
    names = [_TYPE_WORDS.get(name.strip(), name.strip()) for name in types.split("|")]
    if len(names) > 1:
        names = [name for name in names if name != "null"] or names  # null only means "leave it out"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _either(values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    listing = ", ".join(values[:-1]) + " or " + values[-1]
    return listing if len(values) == 2 else "one of " + listing


def _number(text: str) -> str:
    return text[:-2] if text.endswith(".0") else text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- walking the body type along an error path (for the accepted names it lists) -----------

@functools.cache
def _info(body_type: type) -> mi.Type:
    return mi.type_info(body_type)


def _type_at(body_type: type, body: object, path: str, *, last_union: bool = False) -> mi.Type | None:
    """The type at `path` of `body_type`, choosing union variants by the value in `body`."""
    info, value = _info(body_type), body
    parts = [key or (index if index == "..." else int(index)) for key, index in _PATH_PART.findall("." + path if path else "")]
    for part in parts:
        info = _variant(info, value)
        if isinstance(info, mi.StructType) and isinstance(part, str):
            fields = {field.encode_name: field.type for field in info.fields}
            if part not in fields:
                return None
            info, value = fields[part], value.get(part) if isinstance(value, dict) else None
        elif isinstance(info, (mi.ListType, mi.TupleType, mi.VarTupleType)) and isinstance(part, int):
            info = info.item_type
            value = value[part] if isinstance(value, list) and part < len(value) else None
        elif isinstance(info, mi.DictType):
            info, value = info.value_type, None
        else:
            return None
    return _unwrap(info) if last_union else _variant(info, value)


def _unwrap(info: mi.Type) -> mi.Type:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info


def _variant(info: mi.Type, value: object) -> mi.Type:
    """The member of a union that `value` was decoded as (for a dict: by its tag)."""
    info = _unwrap(info)
    if not isinstance(info, mi.UnionType):
        return info
    members = [_unwrap(member) for member in info.types]
    if isinstance(value, dict):
        structs = [m for m in members if isinstance(m, mi.StructType)]
        tagged = [m for m in structs if m.tag_field and value.get(m.tag_field) == m.tag]
        if tagged or structs:
            return (tagged or structs)[0]
    if isinstance(value, list):
        lists = [m for m in members if isinstance(m, mi.ListType)]
        if lists:
            return lists[0]
    return info


def _field_names(info: mi.Type | None) -> list[str]:
    if not isinstance(info, mi.StructType):
        return []
    names = [field.encode_name for field in info.fields]
    return sorted(names + ([info.tag_field] if info.tag_field else []))


def _allowed_values(body_type: type, body: object, path: str, *, tag: bool) -> list[str]:
    """The literal values (or, for a tag, the tag values) that `path` accepts."""
    if tag:
        parent = _type_at(body_type, body, path.rpartition(".")[0], last_union=True)
        members = parent.types if isinstance(parent, mi.UnionType) else (parent,)
        return [repr(m.tag) for m in map(_unwrap, members) if isinstance(m, mi.StructType) and m.tag]
    info = _type_at(body_type, body, path, last_union=True)
    members = info.types if isinstance(info, mi.UnionType) else (info,)
    values = []
    for member in map(_unwrap, members):
        if isinstance(member, mi.LiteralType):
            values.extend(repr(value) for value in member.values)
    return values


def check_model(name: str | None, served_ids: tuple[str, ...], other_models: tuple[str, ...] = ()) -> None:
    """The model a request names. This server loads one model, so any name reaches it, as
    on llama.cpp's server (clients send "gpt-4o" or their own default) and the response
    says which model answered. A host that mounts several models passes the ids of the
    others as `other_models`; then a name that none of them answers to is a 404.
    """
    if name is None or not other_models or name in served_ids or name in other_models:
        return
    raise UnknownModelError(
        f"The model '{name}' does not exist here. This server serves "
        f"{', '.join(repr(i) for i in (served_ids[0], *other_models))} (GET /v1/models lists them)."
    )


def find_model(name: str, served_ids: tuple[str, ...]) -> None:
    """`GET /v1/models/{id}` looks a model up by its name: an unknown one is a 404."""
    if name not in served_ids:
        raise UnknownModelError(
            f"The model '{name}' does not exist here. This server serves '{served_ids[0]}' "
            "(GET /v1/models lists it)."
        )
