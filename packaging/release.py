"""Build the release: bundle → frozen binary → tarball, SHA256SUMS, release notes (DESIGN §7).

    python packaging/release.py [--bundle reader|ocr|DIR] [--dist DIR] [--work DIR] [--no-smoke] [--native]
    python packaging/release.py checksums DIR        write DIR/SHA256SUMS over the files in DIR
    python packaging/release.py compare A B          which members of two archives differ
    python packaging/release.py reproducibility      build twice, compare the archives

`python3 build.py` (no arguments) runs the first form. On Linux the binary is frozen inside a
Debian 11 tree (packaging/portable.py), so it runs on glibc >= 2.31 (issue 15); `--native`
freezes with this machine's Python instead (no root or debootstrap needed, but the binary
needs this machine's glibc), as builds on macOS and Windows always do. The archive is reproducible: members
sorted by name, mtime SOURCE_DATE_EPOCH (the last commit's time), owner/group 0, permissions
normalized to 0755/0644, gzip header without name or time.

Not an importable package: put packaging/ on ``sys.path`` and ``import release``.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import importlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(HERE / "licenses"), str(REPO)]

from runtime.bundle import read_manifest, sha256_file  # noqa: E402

import collect_licenses  # noqa: E402
import elf_files  # noqa: E402
import freeze  # noqa: E402
import release_parts  # noqa: E402
import smoke  # noqa: E402

APP_NAME = "wan2.2-turbo"
ARGS_FILE = f"{APP_NAME}.args"
SUMS_FILE = "SHA256SUMS"
NOTES_FILE = "RELEASE_NOTES.md"
ARGS_TEXT = """\
# Default arguments of ./wan2.2-turbo, one per line. The command line and WAN_TURBO_*
# environment variables win over these. Relative paths are relative to this folder.
--model
bundle
"""
FALLBACK_EPOCH = 315532800  # 1980-01-01, the earliest time a zip file can hold
PORTABLE_GLIBC_LIMIT = (2, 31)  # Debian 11, Ubuntu 20.04: the oldest glibc the portable build promises
_HASH_CHUNK_BYTES = 1 << 20


# --- what and where -----------------------------------------------------------------------------

def read_version(init_file: Path = REPO / "runtime" / "__init__.py") -> str:
    """`__version__` from runtime/__init__.py, parsed (never imported, never from metadata)."""
    for node in ast.parse(init_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"no __version__ in {init_file}")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def source_date_epoch() -> int:
    """SOURCE_DATE_EPOCH if set, else the last commit's time."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    committed = _git("log", "-1", "--format=%ct")
    if committed:
        return int(committed)
    print(f"[release] no git history: SOURCE_DATE_EPOCH={FALLBACK_EPOCH}", flush=True)
    return FALLBACK_EPOCH


def platform_tag() -> tuple[str, str]:
    system = {"Linux": "linux", "Darwin": "macos", "Windows": "windows"}.get(platform.system(), platform.system().lower())
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "x86_64": "x86_64", "x64": "x86_64", "aarch64": "aarch64",
            "arm64": "aarch64" if system == "linux" else "arm64"}.get(machine, machine)
    return system, arch


def archive_name(version: str, part: str = "") -> str:
    """The default archive's name; with `part` the optional archive's, which unpacks into the
    same folder: `part` names the precisions it carries (release_parts.optional_part), e.g.
    `wan2.2-turbo-<ver>-<os>-<arch>-fp32.tar.gz` (issue 15)."""
    system, arch = platform_tag()
    suffix = f"-{part}" if part else ""
    return f"{APP_NAME}-{version}-{system}-{arch}{suffix}" + (".zip" if system == "windows" else ".tar.gz")


def default_bundle() -> str:
    """`reader` once its assembly module exists, else `ocr`."""
    return "reader" if (HERE / "reader_bundle.py").is_file() else "ocr"


def assemble_bundle(choice: str) -> Path:
    """A bundle folder: an existing folder as given, or `<name>_bundle.assemble_<name>_bundle()` (cached)."""
    if Path(choice).is_dir():
        return Path(choice).resolve()
    module = importlib.import_module(f"{choice}_bundle")
    return Path(getattr(module, f"assemble_{choice}_bundle")(REPO / "build" / "bundles" / choice))


# --- the release folder -----------------------------------------------------------------------------

def stage_release(frozen: Path, bundle_dir: Path, stage: Path, record: dict, licenses: Path | None = None) -> Path:
    """Lay out `<stage>/wan2.2-turbo/`: binary folder, bundle/, args file, LICENSE, the user README
    (packaging/README.release.md), licenses/.
    `licenses`: a licenses/ folder already collected where the freeze ran (the portable build)."""
    from runtime.bundle import MANIFEST_NAME, read_manifest, verify_files

    shutil.rmtree(stage, ignore_errors=True)
    app = stage / APP_NAME
    shutil.copytree(frozen, app, symlinks=True)
    manifest = read_manifest(bundle_dir)
    entries = manifest.all_files()
    verify_files(bundle_dir, entries)  # never ship a bundle that would refuse to load
    for name in [MANIFEST_NAME, *(entry.file for entry in entries)]:
        target = app / "bundle" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle_dir / name, target)
    (app / ARGS_FILE).write_text(ARGS_TEXT, encoding="utf-8", newline="\n")
    shutil.copyfile(REPO / "LICENSE", app / "LICENSE")
    shutil.copyfile(HERE / "README.release.md", app / "README.md")  # the user README, not the contributors' one
    if licenses is not None:
        shutil.copytree(licenses, app / "licenses")
    else:
        collect_licenses.collect_licenses(app / "licenses", record, manifest)
    return app


def _members(root: Path) -> list[tuple[str, Path]]:
    """(archive name, path) for `root` and everything under it, sorted by name (parents first)."""
    paths = [root, *root.rglob("*")]
    return sorted(((Path(root.name) / p.relative_to(root)).as_posix(), p) for p in paths)


def _mode(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        return 0o755
    return 0o755 if path.lstat().st_mode & 0o111 else 0o644


def write_tarball(root: Path, target: Path, epoch: int) -> Path:
    """Reproducible `.tar.gz` of `root`: sorted, fixed mtime/owners/modes, gzip without name/time."""
    with open(target, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as packed, \
            tarfile.open(fileobj=packed, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, path in _members(root):
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
            info.mode = _mode(path)
            if path.is_symlink():
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, os.readlink(path), 0o777
                archive.addfile(info)
            elif path.is_dir():
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = path.stat().st_size
                with open(path, "rb") as handle:
                    archive.addfile(info, handle)
    return target


def write_zip(root: Path, target: Path, epoch: int) -> Path:
    """Reproducible `.zip` (Windows): sorted, fixed timestamps, Unix modes recorded."""
    stamp = time.gmtime(max(epoch, FALLBACK_EPOCH))[:6]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in _members(root):
            is_dir = path.is_dir()
            info = zipfile.ZipInfo(name + ("/" if is_dir else ""), date_time=stamp)
            info.create_system = 3  # Unix, so that the modes below mean something
            info.external_attr = ((0o40000 if is_dir else 0o100000) | _mode(path)) << 16
            info.compress_type = zipfile.ZIP_STORED if is_dir else zipfile.ZIP_DEFLATED
            archive.writestr(info, b"" if is_dir else path.read_bytes())
    return target


def write_archive(root: Path, target: Path, epoch: int) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_zip(root, target, epoch) if target.suffix == ".zip" else write_tarball(root, target, epoch)


def unpack(archive: Path, into: Path) -> Path:
    """Unpack as a user would; returns `<into>/wan2.2-turbo`."""
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as handle:
            handle.extractall(into)
    else:
        with tarfile.open(archive) as handle:
            handle.extractall(into, filter="data") if hasattr(tarfile, "data_filter") else handle.extractall(into)
    return into / APP_NAME


# --- checksums, requirements, notes --------------------------------------------------------------------

def write_checksums(folder: Path) -> Path:
    """`SHA256SUMS` (`sha256sum -c` format) over every other file in `folder`."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != SUMS_FILE)
    lines = [f"{sha256_file(p)}  {p.name}\n" for p in files]
    target = folder / SUMS_FILE
    target.write_text("".join(lines), encoding="utf-8", newline="\n")
    return target


def folder_bytes(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass(frozen=True)
class Requirements:
    """Minimal runtime requirements, measured from the release folder."""

    glibc: str | None  # "2.36", None when no ELF file needs glibc (macOS, Windows)
    glibc_files: tuple[str, ...]
    glibc_by_file: tuple[tuple[str, str], ...]  # the files that need the most, highest first
    glibc_wheels: str | None  # the highest needed by libraries that came from wheels (site-packages)
    cpu: str
    system_libraries: tuple[str, ...] = ()  # what ELF files need that the release does not carry


def _cpu_requirement() -> str:
    """What the frozen numpy was compiled for (the same numpy this script imports)."""
    import numpy
    from numpy._core import _multiarray_umath as umath

    baseline = ", ".join(umath.__cpu_baseline__) or "none"
    dispatch = ", ".join(umath.__cpu_dispatch__) or "none"
    names = {"X86_V2": "x86-64-v2: SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, CX16",
             "X86_V3": "x86-64-v3: AVX, AVX2, FMA3, BMI1/2, F16C"}
    explained = "; ".join(names.get(item, item) for item in umath.__cpu_baseline__)
    return (f"numpy {numpy.__version__} is compiled for the baseline [{baseline}] ({explained}) and refuses to "
            f"import on a CPU without it, so this is the hard minimum; it selects [{dispatch}] kernels at run time. "
            "onnxruntime's MLAS kernels likewise pick SSE/AVX/AVX2/AVX-512/VNNI (x86) or NEON/dotprod (Arm) at "
            "run time from cpuid; its own compile baseline was not measured separately. int8 variants are "
            "preferred only on CPUs with VNNI/AMX.")


def measure_requirements(app: Path, record: dict | None = None) -> Requirements:
    """`record` (freeze.frozen_record) tells which libraries came from wheels."""
    from_wheels = {f"_internal/{dest}" for dest, source in (record or {}).get("binaries", [])
                   if "site-packages" in Path(source).parts}
    per_file: list[tuple[tuple[int, ...], str]] = []
    for path in sorted(p for p in app.rglob("*") if p.is_file() and not p.is_symlink()):
        if elf_files.is_elf(path):
            versions = [v for _, name in elf_files.required_versions(path) if (v := elf_files.glibc_version(name))]
            if versions:
                per_file.append((max(versions), path.relative_to(app).as_posix()))
    per_file.sort(key=lambda item: (tuple(-x for x in item[0]), item[1]))
    if not per_file:
        return Requirements(None, (), (), None, _cpu_requirement())
    top = per_file[0][0]
    wheels = [version for version, name in per_file if name in from_wheels]
    return Requirements(
        ".".join(map(str, top)), tuple(name for version, name in per_file if version == top),
        tuple((name, ".".join(map(str, version))) for version, name in per_file[:8]),
        ".".join(map(str, max(wheels))) if wheels else None, _cpu_requirement(),
        tuple(elf_files.system_libraries(app)),
    )


def check_portable_floor(requirements: Requirements) -> None:
    """Stop a portable build whose binary would need a newer glibc than it promises."""
    if requirements.glibc and tuple(map(int, requirements.glibc.split("."))) > PORTABLE_GLIBC_LIMIT:
        limit = ".".join(map(str, PORTABLE_GLIBC_LIMIT))
        raise SystemExit(f"the portable build needs glibc {requirements.glibc} (> {limit}): "
                         f"{dict(requirements.glibc_by_file)}. A library came from outside the Debian 11 tree, "
                         f"or a wheel needs a newer manylinux: pin an older one in packaging/portable-requirements-*.txt.")


@dataclass(frozen=True)
class Parts:
    """How the bundle was split between the default and the optional archive (release_parts)."""

    split: release_parts.Split
    optional: Path | None  # the optional archive; None when every variant is in the default one


def _parts_lines(parts: Parts, manifest) -> list[str]:
    """The notes' section on what each download holds and why (from the selection rule)."""
    lines = ["## What each download holds", ""]
    if not parts.split.picks:
        return lines + ["Everything: this architecture has no reference CPUs to pick variants for.", ""]
    lines += ["The default download carries, per component, the variants that `--precision auto` picks on these "
              "reference CPUs (computed at build time by the selection rule from the figures recorded in "
              "bundle.json, not listed by hand):", "", *parts.split.lines(manifest)]
    if parts.optional is None:
        return lines + ["", "There is no optional download: every released variant is picked on some reference CPU.", ""]
    added = sum(e.bytes for _, v in parts.split.optional for e in v.files())
    precisions = release_parts.optional_part(parts.split).replace("-", ", ")
    lines += ["", f"The optional download `{parts.optional.name}` ({parts.optional.stat().st_size / 1e6:.0f} MB, "
              f"{added / 1e6:.0f} MB unpacked; named by the precisions it carries: {precisions}) adds the other "
              "variants:", ""]
    lines += [f"- {name}: {v.label} ({v.precision}, `{v.file}`, {v.bytes / 1e6:.0f} MB)"
              for name, v in parts.split.optional]
    lines += ["", f"Unpack it where you unpacked the default one (`tar -xzf {parts.optional.name}`): it adds files to "
              f"`{APP_NAME}/bundle/`. `{APP_NAME} info` lists what is installed and what is available to download; "
              "`--precision` for a variant that is not installed stops with the name of this file.", ""]
    return lines


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def lock_pins(lock: Path) -> dict[str, tuple[str, str]]:
    """{normalized name: (version, sha256)} of a requirements file pinned with hashes."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            requirement, _, digest = line.partition(" --hash=sha256:")
            name, _, pinned = requirement.partition("==")
            pins[_normalized(name)] = (pinned.strip(), digest.strip())
    return pins


def _components_lines(app: Path, built_on: dict | None) -> list[str]:
    """Each third-party component frozen into the binary (licenses/README.md's rows), with
    whether the lock file pins it; a frozen package at another version than its pin stops the build."""
    lock = HERE / built_on["requirements"] if built_on else None
    pins = lock_pins(lock) if lock else {}
    rows, moved = [], []
    for record in collect_licenses.read_index(app / "licenses" / "README.md"):
        pin = pins.get(_normalized(record.component.replace("PyInstaller bootloader", "pyinstaller")))
        if pin and pin[0] != record.version:
            moved.append(f"{record.component} {record.version} (pinned {pin[0]})")
        if record.note.startswith("copied from"):  # a system library: its row names the Debian package
            version = f"package {record.version}" if record.version else "—"
            pinned = "Debian 11 tree" if lock else "build machine"
        else:
            version = record.version or "—"
            pinned = f"{pin[0]}, sha256 `{pin[1][:12]}…`" if pin else ("—" if lock else "not pinned (--native build)")
        rows.append(f"| {record.component} | {version} | {record.license} | {pinned} |")
    if moved:
        raise SystemExit(f"frozen packages differ from the lock file {lock}: {', '.join(moved)}")
    where = (f"`packaging/{lock.name}`: one version and the sha256 of one wheel each, installed with "
             "`pip install --require-hashes --no-deps` and nothing else (a file with another hash stops the build)"
             if lock else "nowhere: a --native build freezes whatever this machine's .venv holds")
    return ["## Bundled third-party components", "",
            f"Everything frozen into the binary that wan2.2-turbo did not write, as listed in "
            f"`{APP_NAME}/licenses/README.md` (the license texts are beside it). Python packages are pinned in {where}; "
            f"the system libraries come from {'the Debian 11 tree' if lock else 'the build machine'}'s packages "
            "(their copyright files are in `licenses/system/`).", "",
            "| component | version | license | pinned in the lock file |", "| --- | --- | --- | --- |", *rows, ""]


def write_notes(dist: Path, archive: Path, version: str, epoch: int, app: Path, requirements: Requirements,
                built_on: dict | None = None, parts: Parts | None = None) -> Path:
    """RELEASE_NOTES.md. `built_on`: the portable build's facts (portable.PortableFreeze.facts);
    None for a --native build. `parts`: the default/optional split (None: one archive)."""
    from runtime.bundle import read_manifest

    manifest = read_manifest(app / "bundle")
    system, arch = platform_tag()
    commit = _git("rev-parse", "HEAD") or "unknown"
    archives = [archive, *([parts.optional] if parts and parts.optional else [])]
    lines = [
        f"# wan2.2-turbo {version}", "",
        f"Built from commit `{commit}` (SOURCE_DATE_EPOCH={epoch}) for {system} {arch}.", "",
        "## Files", "", "| file | bytes | sha256 |", "| --- | --- | --- |",
        *(f"| {path.name} | {path.stat().st_size} | `{sha256_file(path)}` |" for path in archives), "",
        "Check what you downloaded with `sha256sum -c --ignore-missing SHA256SUMS` (macOS: `shasum -a 256 -c "
        "--ignore-missing SHA256SUMS`; without the optional download, plain `-c` reports it missing), unpack it "
        f"and run `./{APP_NAME}/{APP_NAME}`: it serves the bundled model on http://127.0.0.1:8000.", "",
        *(_parts_lines(parts, manifest) if parts else []),
        "## Minimal runtime requirements (measured from the built binary)", "",
        f"- Download size: {archive.stat().st_size / 1e6:.0f} MB; unpacked size: {folder_bytes(app) / 1e6:.0f} MB "
        f"(binary folder {(folder_bytes(app) - folder_bytes(app / 'bundle')) / 1e6:.0f} MB, bundle "
        f"{folder_bytes(app / 'bundle') / 1e6:.0f} MB).",
    ]
    if requirements.glibc:
        lines.append(f"- glibc ≥ {requirements.glibc}: the highest `GLIBC_x.y` symbol version needed by any ELF file "
                     f"in the release (read from `.gnu.version_r`), needed by {', '.join(requirements.glibc_files)}. "
                     "The libraries that need the most:")
        lines += [f"  - `{name}`: GLIBC_{needed}" for name, needed in requirements.glibc_by_file]
        wheels = (f"the libraries that came from wheels need at most GLIBC_{requirements.glibc_wheels}"
                  if requirements.glibc_wheels else "the wheels' own libraries were not told apart")
        if built_on:
            lines.append(f"  Built inside a Debian 11 ({built_on['suite']}) tree, libc6 {built_on['libc6']}: the Python "
                         f"runtime (CPython {built_on['python']}, compiled there from Debian's {built_on['python_source']} "
                         f"source package), libstdc++, libssl and the other system libraries come from that tree; "
                         f"{wheels} (pinned with hashes in packaging/{built_on['requirements']}).")
        else:
            lines.append(f"  The Python runtime, libstdc++ and the other system libraries come from the build machine "
                         f"(a --native build); {wheels}. The portable build (`python3 build.py`) lowers the minimum.")
        if requirements.system_libraries:
            lines.append(f"- Libraries taken from the system it runs on (needed, not carried): "
                         f"{', '.join(requirements.system_libraries)}.")
    else:
        lines.append("- No glibc requirement (not a glibc system); OS version: that of the build machine's Python.")
    lines += [f"- CPU ({arch}): {requirements.cpu}", "", "## Model bundle", "",
              f"`{manifest.name}` {manifest.version} (kind `{manifest.kind}`): tasks {', '.join(manifest.tasks)}.", "",
              manifest.license or "", "",
              f"Third-party licenses: `{APP_NAME}/licenses/README.md` inside the archive.", "",
              *_components_lines(app, built_on)]
    target = dist / NOTES_FILE
    target.write_text("\n".join(lines), encoding="utf-8", newline="\n")
    return target


def compare_archives(first: Path, second: Path) -> list[str]:
    """Names of members whose metadata or content differ (empty: same members, same bytes)."""
    def read(path: Path) -> dict[str, tuple]:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as handle:
                return {i.filename: (i.external_attr, i.date_time, hashlib.sha256(handle.read(i)).hexdigest())
                        for i in handle.infolist()}
        found = {}
        with tarfile.open(path) as handle:
            for info in handle:
                data = handle.extractfile(info).read() if info.isfile() else info.linkname.encode()
                found[info.name] = (info.mode, info.mtime, info.uid, info.gid, hashlib.sha256(data).hexdigest())
        return found

    a, b = read(first), read(second)
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))


# --- the whole build ---------------------------------------------------------------------------------

FROZEN_SOURCES = ("runtime", "launcher", "packaging")  # the checkout's folders that the binary and the archive take


def inputs_digest(bundle_dir: Path) -> str:
    """sha256 over what a build takes from the checkout (FROZEN_SOURCES' files, the bundle's
    bundle.json): two builds with the same digest must give the same archives. Printed with
    each build, so that a comparison can tell a changed checkout from a build that drifts."""
    digest = hashlib.sha256()
    files = sorted(path for name in FROZEN_SOURCES for path in (REPO / name).rglob("*")
                   if path.is_file() and "__pycache__" not in path.parts)
    for name, path in [*((f.relative_to(REPO).as_posix(), f) for f in files), ("bundle.json", bundle_dir / "bundle.json")]:
        digest.update(f"{name}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def portable_applies(native: bool) -> bool:
    """Whether this build freezes inside the Debian 11 tree: on Linux unless --native."""
    return platform.system() == "Linux" and not native


def build_release(bundle: str, dist: Path, work: Path, run_smoke: bool = True, native: bool = False) -> Path:
    """Build the release into `dist`; returns the archive."""
    started = time.monotonic()
    version, epoch = read_version(), source_date_epoch()
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    bundle_dir = assemble_bundle(bundle)
    portable_build = portable_applies(native)
    print(f"[release] {APP_NAME} {version}, bundle {bundle_dir}, SOURCE_DATE_EPOCH={epoch}, "
          f"{'portable (Debian 11 tree)' if portable_build else 'native'} freeze", flush=True)
    print(f"[release] inputs sha256 {inputs_digest(bundle_dir)}", flush=True)
    built_on, licenses = None, None
    if portable_build:
        import portable

        result = portable.freeze_portable(work / "portable", epoch, bundle_dir)
        frozen, record, licenses, built_on = result.folder, result.record, result.licenses, result.facts
    else:
        frozen = freeze.freeze(work / "pyinstaller", epoch)
        record = freeze.frozen_record(frozen)
    app = stage_release(frozen, bundle_dir, work / "stage", record, licenses)
    split = release_parts.split_bundle(read_manifest(app / "bundle"), platform_tag()[1])
    optional_name = archive_name(version, release_parts.optional_part(split))
    release_parts.split_release(app, work / "stage-optional" / APP_NAME, split, optional_name)
    for name, variant in split.withheld:
        print(f"[release] not released: {name} {variant.label} ({variant.precision}), under the accuracy floor of "
              "automatic selection on every CPU kind it was measured on", flush=True)
    requirements = measure_requirements(app, record)
    print(f"[release] glibc floor {requirements.glibc} (highest GLIBC_ version over every ELF file); "
          f"from the system: {', '.join(requirements.system_libraries) or 'nothing'}", flush=True)
    if portable_build:
        check_portable_floor(requirements)
    dist.mkdir(parents=True, exist_ok=True)
    for old in [*dist.glob(f"{APP_NAME}-*"), dist / SUMS_FILE, dist / NOTES_FILE]:
        old.unlink(missing_ok=True)
    archive = write_archive(app, dist / archive_name(version), epoch)
    print(f"[release] {archive} ({archive.stat().st_size / 1e6:.1f} MB; unpacked {folder_bytes(app) / 1e6:.1f} MB)",
          flush=True)
    optional = None
    if split.optional:
        optional = write_archive(work / "stage-optional" / APP_NAME, dist / optional_name, epoch)
        print(f"[release] {optional} ({optional.stat().st_size / 1e6:.1f} MB; optional: "
              f"{', '.join(f'{name} {v.label}' for name, v in split.optional)})", flush=True)
    if run_smoke:
        with tempfile.TemporaryDirectory(prefix="wan-release-smoke-") as scratch:
            unpacked = unpack(archive, Path(scratch))
            smoke.run_checks(unpacked)
            if portable_build:  # and where it is meant to run: a bare Debian 11, no network
                import portable_check

                print(f"[release] in Debian 11: {portable_check.check_in_tree(unpacked)}", flush=True)
    write_notes(dist, archive, version, epoch, app, requirements, built_on, Parts(split, optional))
    sums = write_checksums(dist)
    print(f"[release] {sums}:\n{sums.read_text()}[release] done in {time.monotonic() - started:.0f} s", flush=True)
    return archive


def check_reproducible(bundle: str, work: Path, native: bool = False) -> int:
    """Build twice from scratch and compare the archives (the default one and the optional
    one) and SHA256SUMS; 0 when the bytes are identical."""
    dists = []
    for attempt in (1, 2):
        dists.append(build_release(bundle, work / f"repro-{attempt}" / "dist", work / f"repro-{attempt}",
                                   run_smoke=False, native=native).parent)
    names = sorted({p.name for dist in dists for p in dist.glob(f"{APP_NAME}-*")} | {SUMS_FILE})
    differing = 0
    for name in names:
        first, second = (dist / name for dist in dists)
        hashes = [sha256_file(p) if p.is_file() else "missing" for p in (first, second)]
        if hashes[0] == hashes[1]:
            print(f"[release] reproducible: {name} has sha256 {hashes[0]} in both builds")
            continue
        differing += 1
        print(f"[release] NOT reproducible: {name} ({hashes[0]} vs {hashes[1]})")
        if "missing" not in hashes and name != SUMS_FILE:
            for member in compare_archives(first, second):
                print(f"  {member}")
    return 1 if differing else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["checksums"] and len(argv) == 2:
        print(write_checksums(Path(argv[1])).read_text(), end="")
        return 0
    if argv[:1] == ["compare"] and len(argv) == 3:
        differing = compare_archives(Path(argv[1]), Path(argv[2]))
        print("\n".join(differing) or "identical members")
        return 1 if differing else 0
    parser = argparse.ArgumentParser(prog="release.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["build", "reproducibility"], default="build")
    parser.add_argument("--bundle", default=default_bundle(), help="bundle name (reader, ocr) or a bundle folder")
    parser.add_argument("--dist", type=Path, default=REPO / "dist")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "release")
    parser.add_argument("--no-smoke", action="store_true", help="skip the smoke test of the unpacked archive")
    parser.add_argument("--native", action="store_true",
                        help="freeze with this machine's Python instead of inside the Debian 11 tree (Linux): no root "
                             "or debootstrap needed, but the binary needs this machine's glibc")
    args = parser.parse_args(argv)
    if args.command == "reproducibility":
        return check_reproducible(args.bundle, args.work.resolve(), args.native)
    build_release(args.bundle, args.dist.resolve(), args.work.resolve(), run_smoke=not args.no_smoke,
                  native=args.native)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
