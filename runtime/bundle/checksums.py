"""A release's `SHA256SUMS` file (`sha256sum -c` format): parse it and check what it lists.

Each line is `<64 hex digits> <space or *><file name>`; names are relative to the folder
that holds the sums file. BSD-style lines (`SHA256 (name) = <hash>`) are read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from runtime.errors import BundleError

from .manifest import sha256_file

_GNU_LINE = re.compile(r"^(?P<hash>[0-9a-fA-F]{64}) [ *](?P<name>.+)$")
_BSD_LINE = re.compile(r"^SHA256 \((?P<name>.+)\) = (?P<hash>[0-9a-fA-F]{64})$")


@dataclass(frozen=True)
class SumCheck:
    """One listed file: expected hash and what was found (None: missing or unreadable)."""

    name: str
    path: Path
    expected: str
    actual: str | None

    @property
    def ok(self) -> bool:
        return self.actual == self.expected


def parse_sums(text: str, where: str) -> list[tuple[str, str]]:
    """(name, lowercase sha256) per line; a malformed line is a `BundleError`."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _GNU_LINE.match(line.rstrip("\r")) or _BSD_LINE.match(line.strip())
        if not match:
            raise BundleError(
                f"{where} line {number} is not in 'sha256sum' format ('<64 hex digits>  <file>'): {line[:80]!r}"
            )
        entries.append((match["name"], match["hash"].lower()))
    if not entries:
        raise BundleError(f"{where} lists no files.")
    return entries


def check_sums(sums_file: Path) -> list[SumCheck]:
    """Hash every file listed in `sums_file`, relative to the sums file's folder."""
    folder = sums_file.parent
    checks = []
    try:
        text = sums_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BundleError(f"{sums_file} cannot be read as a SHA256SUMS file: {error}") from error
    for name, expected in parse_sums(text, str(sums_file)):
        path = folder / name
        try:
            actual = sha256_file(path)
        except OSError:  # missing, a folder, no permission: reported as 'FAILED open or read'
            actual = None
        checks.append(SumCheck(name, path, expected, actual))
    return checks
