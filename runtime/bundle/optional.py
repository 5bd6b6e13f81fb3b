"""Optional downloads: variants whose files ship in a second release archive (issue 15).

A release's default archive carries the variants that auto picks on common CPUs; the other
precisions name, in bundle.json, the optional archive that carries them (`archive`), which
unpacks into the same folder. Such a variant whose file is not in the folder is *not
installed*: selection leaves it out (runtime.placement.selection), `info` lists it as
available to download, `verify` reports it without failing, and an explicit `--precision`
that needs it is refused with the name of the archive to get. Whatever is present is hashed
before it is loaded, as every bundle file is. A variant that names no archive is always
expected: a missing file stops loading, as before.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .manifest import Manifest, Variant


@dataclass(frozen=True)
class NotInstalled:
    """An optional variant whose file is not in the bundle folder."""

    component: str
    variant: Variant

    def to_dict(self) -> dict:
        return {"component": self.component, "variant": self.variant.label, "precision": self.variant.precision,
                "file": self.variant.file, "bytes": sum(entry.bytes for entry in self.variant.files()),
                "archive": self.variant.archive}


def not_installed(bundle_dir: str | os.PathLike, manifest: Manifest) -> tuple[NotInstalled, ...]:
    """The optional variants (those naming an `archive`) whose file is absent from `bundle_dir`.

    Presence is judged by the variant's main file only: a variant present in part (its
    external-data file missing) counts as installed, so loading it fails loudly on the
    missing file instead of its being skipped in silence."""
    folder = Path(bundle_dir)
    return tuple(
        NotInstalled(name, variant)
        for name, component in manifest.components.items()
        for variant in component.variants
        if variant.archive and not (folder / variant.file).exists()
    )


def install_advice(archive: str) -> str:
    """How to add an optional archive to an unpacked release, in one sentence."""
    unpack = f"unzip {archive}" if archive.endswith(".zip") else f"tar -xzf {archive}"
    return (f"It ships in the optional download {archive}: get it from the same release as this one, check it "
            f"with `sha256sum -c --ignore-missing SHA256SUMS` and unpack it where you unpacked this release "
            f"(`{unpack}`: it adds files to wan2.2-turbo/bundle/).")
