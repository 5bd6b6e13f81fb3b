"""Read what the release needs from ELF files, in pure Python (no binutils needed).

- `section_names`: to tell libraries that carry debug sections (worth stripping) from those
  that do not (left byte-for-byte alone: rewriting numpy's patched OpenBLAS breaks it).
- `required_versions`: the symbol versions a file needs from its libraries, read from
  `.gnu.version_r` (SHT_GNU_verneed); the highest `GLIBC_x.y` over a folder is the oldest
  glibc the release runs on.
- `needed_libraries`: the libraries a file names as DT_NEEDED; those that no file of the
  release provides are what it takes from the system it runs on (`system_libraries`).

Not an importable package: put packaging/ on ``sys.path`` and ``import elf_files``.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
_SHT_GNU_VERNEED = 0x6FFFFFFE
_SHT_DYNAMIC = 6
_DT_NEEDED = 1
_GLIBC = re.compile(r"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class _Section:
    name_offset: int
    type: int
    offset: int
    size: int
    link: int
    info: int


def is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == ELF_MAGIC
    except OSError:
        return False


def _sections(data: bytes) -> list[_Section]:
    if data[:4] != ELF_MAGIC or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ValueError("not an ELF file")
    is64, order = data[4] == 2, "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", data, 0x3A)
        layout = order + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", data, 0x2E)
        layout = order + "IIIIIIIIII"
    if shoff == 0:
        return []

    def header(index: int) -> _Section:
        name, kind, _flags, _addr, offset, size, link, info, _align, _entsize = struct.unpack_from(
            layout, data, shoff + index * shentsize)
        return _Section(name, kind, offset, size, link, info)

    if shnum == 0:  # more than 0xff00 sections: the count lives in section 0 (ELF spec)
        shnum = header(0).size
    return [header(i) for i in range(shnum)]


def _string(data: bytes, table: _Section, offset: int) -> str:
    start = table.offset + offset
    return data[start:data.index(b"\0", start)].decode("ascii", "replace")


def section_names(path: Path) -> list[str]:
    data = Path(path).read_bytes()
    sections = _sections(data)
    if not sections:
        return []
    shstrndx, = struct.unpack_from(("<" if data[5] == 1 else ">") + "H", data, 0x3E if data[4] == 2 else 0x32)
    if shstrndx >= len(sections):
        return []
    table = sections[shstrndx]
    return [_string(data, table, s.name_offset) for s in sections]


def has_debug_info(path: Path) -> bool:
    return any(name.startswith((".debug_", ".zdebug_")) for name in section_names(path))


def required_versions(path: Path) -> set[tuple[str, str]]:
    """(library, version) pairs that `path` needs, e.g. ("libc.so.6", "GLIBC_2.34")."""
    data = Path(path).read_bytes()
    order = "<" if data[5] == 1 else ">"
    sections = _sections(data)
    needed: set[tuple[str, str]] = set()
    for section in sections:
        if section.type != _SHT_GNU_VERNEED or section.link >= len(sections):
            continue
        strings = sections[section.link]
        entry = section.offset
        for _ in range(section.info):  # sh_info = number of Verneed entries
            _version, count, file_offset, aux_offset, next_offset = struct.unpack_from(order + "HHIII", data, entry)
            library = _string(data, strings, file_offset)
            aux = entry + aux_offset
            for _ in range(count):
                _hash, _flags, _other, name_offset, aux_next = struct.unpack_from(order + "IHHII", data, aux)
                needed.add((library, _string(data, strings, name_offset)))
                aux += aux_next
            if next_offset == 0:
                break
            entry += next_offset
    return needed


def glibc_version(name: str) -> tuple[int, ...] | None:
    """(2, 34) for "GLIBC_2.34"; None for other version names (GLIBCXX_, CXXABI_, ...)."""
    match = _GLIBC.match(name)
    return tuple(int(part) for part in match.groups() if part is not None) if match else None


def highest_glibc(folder: Path) -> tuple[tuple[int, ...], list[str]] | None:
    """Highest GLIBC_x.y needed by any ELF under `folder`, with the files that need it."""
    best: tuple[int, ...] | None = None
    files: list[str] = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink()):
        if not is_elf(path):
            continue
        versions = [v for _, name in required_versions(path) if (v := glibc_version(name))]
        if not versions:
            continue
        top = max(versions)
        relative = path.relative_to(folder).as_posix()
        if best is None or top > best:
            best, files = top, [relative]
        elif top == best:
            files.append(relative)
    return (best, files) if best is not None else None


def needed_libraries(path: Path) -> list[str]:
    """The DT_NEEDED entries of `path` (e.g. ["libc.so.6", "libm.so.6"]), in file order."""
    data = Path(path).read_bytes()
    is64, order = data[4] == 2, "<" if data[5] == 1 else ">"
    entry_format = order + ("qQ" if is64 else "iI")
    entry_size = struct.calcsize(entry_format)
    sections = _sections(data)
    found: list[str] = []
    for section in sections:
        if section.type != _SHT_DYNAMIC or section.link >= len(sections):
            continue
        strings = sections[section.link]
        for offset in range(section.offset, section.offset + section.size - entry_size + 1, entry_size):
            tag, value = struct.unpack_from(entry_format, data, offset)
            if tag == 0:  # DT_NULL ends the table
                break
            if tag == _DT_NEEDED:
                found.append(_string(data, strings, value))
    return found


def system_libraries(folder: Path) -> dict[str, list[str]]:
    """Libraries that ELF files under `folder` need and that no file under `folder` is named:
    {library: [files that need it]}. These come from the system the release runs on."""
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p))
    present = {p.name for p in Path(folder).rglob("*")}
    wanted: dict[str, list[str]] = {}
    for path in files:
        for library in needed_libraries(path):
            if library not in present:
                wanted.setdefault(library, []).append(path.relative_to(folder).as_posix())
    return dict(sorted(wanted.items()))
