"""Model kinds: one adapter per kind, registered under the name `bundle.json` uses."""

from __future__ import annotations

from runtime.errors import BundleError

from .base import KindAdapter, LoadContext

_REGISTRY: dict[str, type[KindAdapter]] = {}


def register_kind(cls: type[KindAdapter]) -> type[KindAdapter]:
    """Class decorator: make an adapter loadable by its `kind_name`."""
    if cls.kind_name in _REGISTRY:
        raise RuntimeError(f"kind '{cls.kind_name}' registered twice")
    _REGISTRY[cls.kind_name] = cls
    return cls


def adapter_for(kind: str) -> type[KindAdapter]:
    _load_builtin_kinds()
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise BundleError(f"Unknown model kind '{kind}'. Kinds this build knows: {known}.") from None


def known_kinds() -> tuple[str, ...]:
    _load_builtin_kinds()
    return tuple(sorted(_REGISTRY))


def _load_builtin_kinds() -> None:
    # Imported lazily so that `runtime.kinds` can be imported by the kinds themselves.
    from . import clip, ocr, reader, vision_encoder_decoder  # noqa: F401


__all__ = ["KindAdapter", "LoadContext", "adapter_for", "known_kinds", "register_kind"]
