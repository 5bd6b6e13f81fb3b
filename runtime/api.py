"""`load_model`: verify a bundle, choose variants, create sessions, build the kind adapter."""

from __future__ import annotations

import os
from pathlib import Path

from launcher.bundle import MANIFEST_NAME, read_manifest, verify_files
from launcher.hardware import HardwareInfo, detect_hardware
from launcher.importer import describe_folder
from launcher.selection import select_variants

from .config import ModelConfig
from .errors import BundleError, InvalidRequestError
from .kinds import LoadContext, adapter_for
from .model import ComponentInfo, Model
from .session import ComponentSession, SessionConfig


def load_model(
    path: str | os.PathLike,
    precision: str = "auto",
    device: str = "auto",
    max_seq_len: int | None = None,
    *,
    threads: int | None = None,
    max_image_pixels: int = 50_000_000,
    hardware: HardwareInfo | None = None,
    verified: bool = False,
) -> Model:
    """Load a bundle folder (one with `bundle.json`) and return a ready `Model`.

    Args:
        path: the bundle folder.
        precision: "auto" or one of fp32/fp16/int8/int4; explicit values are honoured
            exactly or refused with `ProviderUnavailableError`.
        device: "auto", "cpu", "cuda", ...; same rule.
        max_seq_len: cap on prompt + image + generated tokens per request; must not exceed
            the model's own limit.
        threads: intra-op threads per session (default: the cores this process may use).
        max_image_pixels: decoded images above this many pixels are refused.
        hardware: detected facts to select with (tests pass fake hardware).
        verified: the caller already ran `verify_bundle` (the launcher does, before it
            starts listening), so the files are not hashed twice.

    Every file the bundle lists is checked against its sha256 before any session is
    created; a mismatch raises `IntegrityError`. A model folder without
    bundle.json but with config.json (Optimum / transformers.js layout) is described on the
    fly, as `wan2.2-turbo import` would, and loaded without a recorded hash to check.
    """
    bundle_dir = Path(path)
    imported = (bundle_dir / MANIFEST_NAME).is_file() or not (bundle_dir / "config.json").is_file()
    if imported:
        manifest = read_manifest(bundle_dir)
    else:
        # An Optimum / transformers.js folder used as it is: described now, so there are no
        # recorded hashes to check against ('wan2.2-turbo import' records them).
        manifest = describe_folder(bundle_dir)
    adapter_class = adapter_for(manifest.kind)
    adapter_class.check_manifest(manifest)
    hardware = hardware or detect_hardware()
    selection = select_variants(manifest, hardware, precision, device)
    if imported and not verified:
        verify_bundle(bundle_dir, manifest)
    if max_seq_len is not None and max_seq_len < 1:
        raise InvalidRequestError("max_seq_len must be a positive integer.", param="max_seq_len")
    session_config = SessionConfig(device=selection.device, intra_op_threads=threads or hardware.usable_cores)
    config = ModelConfig(session=session_config, max_seq_len=max_seq_len, max_image_pixels=max_image_pixels)
    sessions = {
        name: ComponentSession(name, bundle_dir / choice.variant.file, session_config)
        for name, choice in selection.components.items()
    }
    adapter = adapter_class(LoadContext(bundle_dir, manifest, sessions, config))
    limit = adapter.model_max_seq_len
    if max_seq_len is not None and limit is not None and max_seq_len > limit:
        raise BundleError(
            f"max_seq_len {max_seq_len} is above the model's own limit of {limit} tokens; "
            f"use at most {limit}."
        )
    components = [
        ComponentInfo(name, c.variant.precision, c.variant.label, c.variant.file, sessions[name].provider, c.reason)
        for name, c in selection.components.items()
    ]
    return Model(adapter, components, config)


def verify_bundle(bundle_dir: Path, manifest) -> None:
    """Hash-check every file the manifest lists, chosen variants or not: a bundle with any
    tampered file is refused whole (IntegrityError), not just the parts in use."""
    verify_files(bundle_dir, manifest.all_files())
