"""Collect the third-party licenses of everything frozen into the release (`licenses/`).

Sources, in order:
- each distribution that provides a frozen top-level module: the license files its wheel
  installed (PEP 639 `*.dist-info/licenses/`, LICENSE/COPYING/NOTICE files it lists), plus
  notices kept inside the package itself (onnxruntime's LICENSE and ThirdPartyNotices.txt
  are not bundled by PyInstaller — FACTS);
- distributions whose wheel carries no license file: the text of the license their metadata
  declares, from this folder (`FALLBACK_TEXTS`), marked as such;
- the Python interpreter (its LICENSE.txt) and PyInstaller (its bootloader is in the binary);
- system libraries copied from the build machine (libstdc++, libssl, ...): their Debian
  copyright files where dpkg knows them, otherwise named in the index as not collected;
- the model bundle's license notes from bundle.json (MODELS.md).

A frozen distribution with no license text at all stops the build.

Not an importable package: put packaging/licenses/ on ``sys.path`` and ``import collect_licenses``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
OWN_DISTRIBUTIONS = {"wan2.2-turbo"}  # our LICENSE sits at the release's root
# Wheels that install no license file: (declared license, text in this folder).
FALLBACK_TEXTS = {"tokenizers": ("Apache-2.0", "Apache-2.0.txt")}
_LICENSE_WORDS = ("LICEN", "COPYING", "NOTICE", "THIRDPARTY", "AUTHORS")


class LicenseError(RuntimeError):
    """A frozen component's license could not be found."""


@dataclass(frozen=True)
class LicenseRecord:
    """One row of licenses/README.md."""

    component: str
    version: str
    license: str
    files: tuple[str, ...]
    note: str = ""


def _is_license_file(name: str) -> bool:
    upper = name.upper().replace("_", "").replace("-", "")
    return any(word in upper for word in _LICENSE_WORDS)


def _declared_license(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    expression = meta.get("License-Expression")
    if expression:
        return expression
    classifiers = [c.rsplit("::", 1)[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    short = (meta.get("License") or "").strip()
    return short if short and len(short) < 60 and "\n" not in short else ", ".join(classifiers) or "unknown"


def _distribution_files(dist: metadata.Distribution) -> list[Path]:
    found = []
    for entry in dist.files or []:
        parts = Path(str(entry)).parts
        in_dist_info = parts[0].endswith(".dist-info")
        if in_dist_info and parts[1:2] == ("licenses",) or _is_license_file(entry.name):
            # Inside the package only top-level notices (not e.g. numpy's test data).
            if in_dist_info or len(parts) == 2:
                found.append(Path(dist.locate_file(entry)))
    return sorted({path for path in found if path.is_file()})


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def collect_distributions(modules: list[str], out_dir: Path) -> list[LicenseRecord]:
    providers = metadata.packages_distributions()
    names = sorted({dist for module in modules for dist in providers.get(module, [])} - OWN_DISTRIBUTIONS,
                   key=str.lower)
    records, missing = [], []
    for name in names:
        dist = metadata.distribution(name)
        folder = f"{dist.metadata['Name']}-{dist.version}"
        files, note = [], ""
        for source in _distribution_files(dist):
            relative = Path(*[p for p in source.relative_to(dist.locate_file("")).parts
                              if not p.endswith(".dist-info") and p != "licenses"])
            _copy(source, out_dir / folder / relative)
            files.append(f"{folder}/{relative.as_posix()}")
        if not files and name in FALLBACK_TEXTS:
            declared, text = FALLBACK_TEXTS[name]
            _copy(HERE / text, out_dir / folder / "LICENSE")
            files.append(f"{folder}/LICENSE")
            note = f"the wheel installs no license file; this is the text of its declared license ({declared})"
        if not files:
            missing.append(f"{name} {dist.version}")
        records.append(LicenseRecord(dist.metadata["Name"], dist.version, _declared_license(dist), tuple(files), note))
    if missing:
        raise LicenseError(
            f"no license text found for frozen distributions: {', '.join(missing)}. Add the text of the "
            f"declared license to {HERE} and name it in FALLBACK_TEXTS."
        )
    return records


def python_license_file() -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(sys.base_prefix)
    candidates = [base / "lib" / version / "LICENSE.txt", base / "LICENSE.txt",
                  Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt",
                  Path("/usr/share/doc") / version / "copyright"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise LicenseError(f"the Python interpreter's license was not found (looked at {[str(c) for c in candidates]}).")


def collect_python_and_pyinstaller(out_dir: Path) -> list[LicenseRecord]:
    python = f"Python-{sys.version.split()[0]}"
    _copy(python_license_file(), out_dir / python / "LICENSE.txt")
    records = [LicenseRecord("Python", sys.version.split()[0], "PSF-2.0", (f"{python}/LICENSE.txt",),
                             "the interpreter and standard library in _internal/")]
    dist = metadata.distribution("pyinstaller")
    folder = f"PyInstaller-{dist.version}"
    files = []
    for source in _distribution_files(dist):
        _copy(source, out_dir / folder / source.name)
        files.append(f"{folder}/{source.name}")
    if not files:
        raise LicenseError("PyInstaller's COPYING.txt was not found.")
    records.append(LicenseRecord("PyInstaller bootloader", dist.version, "GPL-2.0-or-later WITH Bootloader-exception",
                                 tuple(files), "the wan2.2-turbo executable is PyInstaller's bootloader"))
    return records


def _dpkg_package(path: Path) -> str | None:
    if shutil.which("dpkg-query") is None:
        return None
    for candidate in dict.fromkeys([path, path.resolve()]):
        done = subprocess.run(["dpkg-query", "-S", str(candidate)], capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout:
            return done.stdout.split(":", 1)[0].strip()
    return None


def collect_system_libraries(binaries: list[list[str]], out_dir: Path) -> list[LicenseRecord]:
    """Libraries copied from outside the Python installation (the build machine's /usr/lib)."""
    roots = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}
    records = []
    for dest, source in binaries:
        path = Path(source)
        if any(root in path.resolve().parents for root in roots):
            continue  # site-packages (covered by its distribution) or the interpreter (Python's license)
        package = _dpkg_package(path)
        copyright_file = Path("/usr/share/doc") / package / "copyright" if package else None
        if copyright_file is not None and copyright_file.is_file():
            target = f"system/{package}/copyright"
            _copy(copyright_file, out_dir / target)
            records.append(LicenseRecord(dest, package, "see file", (target,), f"copied from {source}"))
        else:
            records.append(LicenseRecord(dest, "", "not collected", (), f"copied from {source}; no license file found"))
    return records


def write_models_notes(manifest, out_dir: Path) -> LicenseRecord:
    text = (f"# Model bundle `{manifest.name}` {manifest.version}\n\n"
            f"{manifest.license or 'bundle.json declares no license notes.'}\n")
    (out_dir / "MODELS.md").write_text(text, encoding="utf-8")
    return LicenseRecord(f"bundle {manifest.name}", manifest.version, "see MODELS.md", ("MODELS.md",))


_INDEX_HEADER = "| component | version | license | files | note |"


def read_index(index: Path) -> list[LicenseRecord]:
    """The rows of an index that `collect_licenses` wrote (licenses/README.md), read back."""
    lines = index.read_text(encoding="utf-8").splitlines()
    rows = lines[lines.index(_INDEX_HEADER) + 2:]
    records = []
    for row in rows:
        if not row.startswith("| "):
            break
        component, version, declared, files, note = (cell.strip() for cell in row[2:-2].split(" | ", 4))
        records.append(LicenseRecord(component, version, declared,
                                     () if files == "—" else tuple(files.split(", ")), note))
    return records


def collect_licenses(out_dir: Path, frozen: dict, manifest) -> list[LicenseRecord]:
    """Fill `out_dir` with license texts and an index (README.md); return the index rows."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    records = [
        *collect_python_and_pyinstaller(out_dir),
        *collect_distributions(frozen["modules"], out_dir),
        *collect_system_libraries(frozen["binaries"], out_dir),
        write_models_notes(manifest, out_dir),
    ]
    lines = ["# Third-party licenses", "",
             "Everything inside this release that wan2.2-turbo (MIT, see ../LICENSE) did not write.", "",
             _INDEX_HEADER, "| --- | --- | --- | --- | --- |"]
    for record in records:
        files = ", ".join(record.files) or "—"
        lines.append(f"| {record.component} | {record.version} | {record.license} | {files} | {record.note} |")
    (out_dir / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return records
