"""Model bundles (DESIGN §3): the strict `bundle.json` manifest, file hashes, the importer
for Optimum / transformers.js folders, and a release's `SHA256SUMS`."""

from .manifest import (
    MANIFEST_NAME,
    Component,
    FileCheck,
    FileEntry,
    Manifest,
    Measurement,
    Variant,
    VerifiedFiles,
    check_files,
    file_entry,
    parse_manifest,
    read_manifest,
    sha256_file,
    verify_files,
)
from .optional import NotInstalled, install_advice, not_installed

__all__ = [
    "MANIFEST_NAME", "Component", "FileCheck", "FileEntry", "Manifest", "Measurement", "Variant", "VerifiedFiles", "check_files",
    "file_entry", "parse_manifest", "read_manifest", "sha256_file", "verify_files", "NotInstalled", "install_advice",
    "not_installed",
]
