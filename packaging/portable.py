"""The portable Linux build: freeze the release inside a Debian 11 tree (glibc 2.31), issue 15.

    python packaging/portable.py [WORK]     build the cached layers and freeze into WORK
    python packaging/portable.py prepare    only build (or find) the cached layers: needs the network
    python packaging/portable.py pins       print portable-requirements-<arch>.txt with fresh hashes

A binary frozen on this machine bundles its libpython, libstdc++ and libssl and so needs its
glibc (FACTS, Packaging). Here everything the binary carries comes from Debian 11 instead:

1. `bullseye-minbase`: `debootstrap --variant=minbase bullseye` (debian_tree.py);
2. `bullseye-python`: that tree plus bullseye's compilers and -dev libraries (with
   bullseye-security's updates: their libssl/libffi/zlib are what the release carries) and a
   shared CPython 3.11 built from Debian's own `python3.11` source package of bookworm
   (`apt-get source`: upstream's tarball and Debian's patches, security fixes included,
   checked against the archive's signed index), configured by us (not Debian's rules, which
   build three variants and run the test suite) with `--enable-shared` into /opt/python3.11;
3. `wheels`: the pinned wheels of portable-requirements-<arch>.txt (sha256-checked),
   downloaded on this machine for CPython 3.11 on manylinux <= 2.31;
4. `venv`: a venv of that Python with exactly those wheels, installed with no network.

Each layer is a cache entry keyed by its inputs (debian_tree.cached_entry), so a warm build
only freezes: PyInstaller runs in the tree (no network, the layers mounted read-only), then
the third-party licenses are collected there too (the frozen packages' metadata and the
Debian copyright files live in the tree, not on this machine).

Why not Debian 11's own Python 3.9: onnxruntime publishes no cp39 wheel after 1.19.2, and
pyproject.toml needs onnxruntime >= 1.20 (the release freezes 1.32); numpy, Pillow, aiohttp
and msgspec would drop back too. Compiling 3.11 costs minutes once per cache.

Not an importable package: put packaging/ on ``sys.path`` and ``import portable``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import debian_tree  # noqa: E402
import elf_files  # noqa: E402
from debian_tree import Bind, TreeError, step  # noqa: E402

# Debian's python3.11 source package: pinned. The archive keeps only the newest revision of
# each suite, so when this one is superseded `apt-get source` fails and says which exist:
# put that version here (the cache key changes and the interpreter is rebuilt).
PYTHON_SOURCE_PACKAGE = "python3.11"
PYTHON_SOURCE_VERSION = "3.11.2-6+deb12u8"
# bookworm only: bookworm-security's newer revision (deb12u9) was listed but not served here
# (404 for its .dsc); point releases fold security updates into bookworm.
PYTHON_SOURCE_SUITES = (("http://deb.debian.org/debian", "bookworm"),)
PYTHON_MINOR = "3.11"
PYTHON_PREFIX = f"/opt/python{PYTHON_MINOR}"
# Debian's own configure options where its patches depend on them (pyexpat does not build against
# the bundled expat once they are applied), plus a shared libpython found through its rpath.
PYTHON_CONFIGURE = ("--enable-shared", "--with-ensurepip=no", "--without-static-libpython", "--enable-ipv6",
                    "--with-computed-gotos", "--with-system-expat", "--with-system-ffi",
                    "--with-ssl-default-suites=openssl", f"LDFLAGS=-Wl,-rpath,{PYTHON_PREFIX}/lib")
# What compiling CPython needs, and what its extension modules link: these -dev packages'
# libraries (libssl1.1, libffi7, zlib, liblzma, libbz2, libuuid, libexpat) are the ones the release
# bundles. Debian's patches build pyexpat against the system's expat: without libexpat1-dev there
# is no pyexpat (and pip cannot install wheels). No sqlite, curses, readline, dbm or tk: the app
# imports none of them.
BUILD_PACKAGES = ("gcc", "make", "libc6-dev", "binutils", "dpkg-dev", "patch", "xz-utils", "pkg-config",
                  "libssl-dev", "zlib1g-dev", "libffi-dev", "libbz2-dev", "liblzma-dev", "uuid-dev", "libexpat1-dev")
BUILD_SUITES = (("http://deb.debian.org/debian", "bullseye"), ("http://deb.debian.org/debian", "bullseye-updates"),
                ("http://deb.debian.org/debian-security", "bullseye-security"))
# The modules the frozen app needs from the interpreter: the build fails if one did not compile.
PYTHON_CHECK = "import ssl, ctypes, lzma, bz2, zlib, uuid, hashlib, json, asyncio, pyexpat, xml.etree.ElementTree"

# Where each layer sits inside the tree (mount points made when the tree is built).
VENV_INSIDE, WHEELS_INSIDE, SOURCE_INSIDE, WORK_INSIDE, BUNDLE_INSIDE = (
    "/opt/wan-venv", "/wheels", "/src", "/work", "/bundle")
MOUNT_POINTS = (VENV_INSIDE, WHEELS_INSIDE, SOURCE_INSIDE, WORK_INSIDE, BUNDLE_INSIDE)
APP_NAME = "wan2.2-turbo"
FROZEN_SOURCES = ("runtime", "launcher", "packaging")  # what the freeze reads from the checkout
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def requirements_file() -> Path:
    arch = platform.machine().lower()
    path = HERE / f"portable-requirements-{arch}.txt"
    if not path.is_file():
        raise TreeError(f"no pinned wheels for {arch}: {path.name} is missing. Copy portable-requirements-x86_64.txt "
                        f"to it without the --hash options, run `python packaging/portable.py pins` on a {arch} "
                        "machine and write what it prints into it.")
    return path


def wheel_platforms() -> list[str]:
    """pip's --platform tags for manylinux wheels that run on glibc <= 2.31 (pip 23 does not
    widen `manylinux_2_31` to the older tags by itself)."""
    arch = platform.machine().lower()
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(31, 16, -1)] + [f"manylinux2014_{arch}"]
    if arch in ("x86_64", "i686"):
        tags += [f"manylinux_2_12_{arch}", f"manylinux2010_{arch}", f"manylinux_2_5_{arch}", f"manylinux1_{arch}"]
    return tags


def _pip_download(requirements: Path, target: Path, hashed: bool) -> None:
    command = [sys.executable, "-m", "pip", "download", "--progress-bar", "off", "--no-deps", "--only-binary=:all:",
               "--python-version", PYTHON_MINOR, "--implementation", "cp", "--abi", f"cp{PYTHON_MINOR.replace('.', '')}",
               *(arg for tag in wheel_platforms() for arg in ("--platform", tag)),
               *(["--require-hashes"] if hashed else []), "-r", str(requirements), "-d", str(target)]
    done = subprocess.run(["nice", "-n", "19", *command], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TreeError(f"downloading the pinned wheels failed (exit {done.returncode}); a hash mismatch means "
                        f"the file changed or a pin moved (see {requirements.name}):\n{done.stdout[-2000:]}\n"
                        f"{done.stderr[-3000:]}")


# --- layer 2: the build tree with CPython ------------------------------------------------------------

def _sources_list() -> str:
    lines = [f"deb {mirror} {suite} main" for mirror, suite in BUILD_SUITES]
    lines += [f"deb-src {mirror} {suite} main" for mirror, suite in PYTHON_SOURCE_SUITES]
    return "\n".join(lines) + "\n"


def _build_python(minbase: Path, target: Path) -> dict:
    debian_tree.copy_tree(minbase, target)
    (target / "etc" / "apt" / "sources.list").write_text(_sources_list())
    log = target.parent / f"{target.name}.log"  # kept when a step fails: the error names it
    run = lambda argv, **kw: debian_tree.run_in_tree(target, argv, env=APT_ENV, log=log, **kw)  # noqa: E731
    with step("apt: bullseye's updates and the packages CPython's build needs"):
        run(["apt-get", "update"])
        run(["apt-get", "-y", "upgrade"])
        run(["apt-get", "install", "-y", "--no-install-recommends", *BUILD_PACKAGES])
    source = "/usr/src/python"
    with step(f"apt-get source {PYTHON_SOURCE_PACKAGE}={PYTHON_SOURCE_VERSION} (Debian's patches applied)"):
        (target / source.lstrip("/")).mkdir(parents=True)
        try:
            run(["apt-get", "source", "--only-source", f"{PYTHON_SOURCE_PACKAGE}={PYTHON_SOURCE_VERSION}"],
                cwd=source)
        except TreeError as error:
            raise TreeError(f"{error}\nDebian's archive may have superseded {PYTHON_SOURCE_VERSION}: "
                            f"`apt-cache showsrc {PYTHON_SOURCE_PACKAGE}` in a tree with these deb-src lines "
                            f"lists what it has; set PYTHON_SOURCE_VERSION in {Path(__file__).name}.") from None
    upstream = PYTHON_SOURCE_VERSION.split("-")[0]
    unpacked = f"{source}/{PYTHON_SOURCE_PACKAGE}-{upstream}"
    _mark_pyexpat_as_core_module(target / unpacked.lstrip("/") / "Modules" / "pyexpat.c")
    jobs = str(os.cpu_count() or 2)
    with step(f"compile CPython {upstream} (shared libpython, make -j{jobs}; ~4-5 min on 2 cores)"):
        run(["./configure", f"--prefix={PYTHON_PREFIX}", *PYTHON_CONFIGURE], cwd=unpacked)
        run(["make", f"-j{jobs}"], cwd=unpacked)
        run(["make", "install"], cwd=unpacked)
    python = f"{PYTHON_PREFIX}/bin/python{PYTHON_MINOR}"
    run([python, "-c", f"{PYTHON_CHECK}; import sys; print(sys.version)"])
    shutil.rmtree(target / source.lstrip("/"))
    run(["apt-get", "clean"])
    for point in MOUNT_POINTS:
        (target / point.lstrip("/")).mkdir(parents=True, exist_ok=True)
    version = subprocess.run(["chroot", str(target), python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    log.unlink()
    floor = elf_files.highest_glibc(target / PYTHON_PREFIX.lstrip("/"))
    return {"python": version, "python_source": f"{PYTHON_SOURCE_PACKAGE} {PYTHON_SOURCE_VERSION}",
            "python_glibc": ".".join(map(str, floor[0])) if floor else None,
            "libc6": _package_version(target, "libc6")}


def _mark_pyexpat_as_core_module(path: Path) -> None:
    """Debian's CVE-2026-4224 backport makes pyexpat.c include an internal header, which needs
    Py_BUILD_CORE_MODULE. Debian's rules build pyexpat from Modules/Setup, which defines it; a
    plain `configure && make` builds it through setup.py, which does not, and pyexpat is then
    silently left out. Define it the way CPython's other stdlib modules do, in the file."""
    text = path.read_text()
    if "pycore_" in text and "Py_BUILD_CORE_MODULE" not in text:
        path.write_text("#ifndef Py_BUILD_CORE_BUILTIN\n#  define Py_BUILD_CORE_MODULE 1\n#endif\n" + text)


def _package_version(tree: Path, package: str) -> str:
    return subprocess.run(["chroot", str(tree), "dpkg-query", "-W", "-f=${Version}", package],
                          capture_output=True, text=True, check=True).stdout.strip()


def python_tree() -> tuple[Path, dict]:
    minbase, _ = debian_tree.minbase_tree()
    inputs = {"minbase": minbase.name, "sources": _sources_list(), "packages": BUILD_PACKAGES,
              "pyexpat": debian_tree.source_of(_mark_pyexpat_as_core_module),
              "python": [PYTHON_SOURCE_PACKAGE, PYTHON_SOURCE_VERSION, PYTHON_PREFIX, PYTHON_CONFIGURE],
              "mount_points": MOUNT_POINTS, "script": debian_tree.source_of(_build_python)}
    return debian_tree.cached_entry(f"{debian_tree.SUITE}-python{PYTHON_MINOR}", inputs,
                                    lambda target: _build_python(minbase, target))


# --- layers 3 and 4: the pinned wheels and the venv ---------------------------------------------------

def wheelhouse() -> tuple[Path, dict]:
    requirements = requirements_file()

    def download(target: Path) -> dict:
        target.mkdir(parents=True)
        _pip_download(requirements, target, hashed=True)
        shutil.copyfile(requirements, target / "requirements.txt")
        return {"wheels": sorted(p.name for p in target.glob("*.whl"))}

    inputs = {"requirements": requirements.read_text(), "platforms": wheel_platforms(), "python": PYTHON_MINOR,
              "script": debian_tree.source_of(_pip_download)}
    return debian_tree.cached_entry("wheels", inputs, download)


def _make_venv(tree: Path, wheels: Path, target: Path) -> dict:
    target.mkdir(parents=True)
    pip = sorted(wheels.glob("pip-*.whl"))
    if not pip:
        raise TreeError(f"no pip wheel in {wheels}: pin pip in {requirements_file().name}")
    with tempfile.TemporaryDirectory(prefix="portable_venv_", dir=target.parent) as scratch:
        binds = [Bind(target, VENV_INSIDE, read_only=False), Bind(wheels, WHEELS_INSIDE),
                 Bind(Path(scratch), "/tmp", read_only=False)]
        env = {"HOME": "/tmp", "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        run = lambda argv: debian_tree.run_in_tree(tree, argv, binds=binds, env=env, network=False)  # noqa: E731
        run([f"{PYTHON_PREFIX}/bin/python{PYTHON_MINOR}", "-m", "venv", "--without-pip", VENV_INSIDE])
        # pip runs from its wheel: no pip in the interpreter, and the venv gets the pinned one.
        run([f"{VENV_INSIDE}/bin/python", f"{WHEELS_INSIDE}/{pip[-1].name}/pip", "install", "--no-index", "--no-deps",
             "--require-hashes", "--find-links", WHEELS_INSIDE, "-r", f"{WHEELS_INSIDE}/requirements.txt"])
        run([f"{VENV_INSIDE}/bin/python", "-m", "pip", "check"])
    return {}


def venv(tree: Path | None = None) -> tuple[Path, dict]:
    """The venv entry for `tree` (python_tree()'s, found or built when not given)."""
    tree = tree or python_tree()[0]
    wheels, _ = wheelhouse()
    inputs = {"tree": tree.name, "wheels": wheels.name, "script": debian_tree.source_of(_make_venv)}
    return debian_tree.cached_entry("venv", inputs, lambda target: _make_venv(tree, wheels, target))


# --- the freeze -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PortableFreeze:
    """What the freeze in the tree produced (paths on this machine)."""

    folder: Path  # the onedir folder, as freeze.freeze returns it
    record: dict  # freeze.frozen_record: frozen modules and where each library came from (paths in the tree)
    licenses: Path  # licenses/ collected in the tree (collect_licenses)
    facts: dict  # the base, the interpreter, the pins: for the release notes


def stage_sources(target: Path) -> Path:
    """A copy of what the freeze reads from the checkout (bind-mounted read-only as /src)."""
    shutil.rmtree(target, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in FROZEN_SOURCES:
        shutil.copytree(REPO / name, target / name, ignore=ignore)
    return target


def freeze_portable(work: Path, epoch: int, bundle_dir: Path) -> PortableFreeze:
    """Freeze the app inside the Debian 11 tree into `work`; build the cached layers first if needed."""
    work = work.resolve()
    tree, tree_record = python_tree()
    environment, _ = venv(tree)
    shutil.rmtree(work, ignore_errors=True)
    out = work / "out"
    out.mkdir(parents=True)
    (work / "tmp").mkdir()
    sources = stage_sources(work / "src")
    binds = [Bind(environment, VENV_INSIDE), Bind(sources, SOURCE_INSIDE), Bind(bundle_dir.resolve(), BUNDLE_INSIDE),
             Bind(out, WORK_INSIDE, read_only=False), Bind(work / "tmp", "/tmp", read_only=False)]
    env = {"HOME": "/tmp", "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": str(epoch), "PYTHONPATH": SOURCE_INSIDE,
           "PYTHONDONTWRITEBYTECODE": "1"}
    with step(f"freeze in the {debian_tree.SUITE} tree (PyInstaller, no network), collect licenses"):
        debian_tree.run_in_tree(tree, [f"{VENV_INSIDE}/bin/python", f"{SOURCE_INSIDE}/packaging/portable_inside.py",
                                       WORK_INSIDE, BUNDLE_INSIDE], binds=binds, env=env, network=False)
    folder = out / "pyinstaller" / "dist" / APP_NAME
    record = json.loads((out / "pyinstaller" / "build" / "wan" / "frozen.json").read_text())
    facts = {"suite": debian_tree.SUITE, "libc6": tree_record["libc6"], "python": tree_record["python"],
             "python_source": tree_record["python_source"], "requirements": requirements_file().name}
    shutil.rmtree(sources)
    shutil.rmtree(work / "tmp")
    return PortableFreeze(folder, record, out / "licenses", facts)


def print_pins() -> int:
    """Download the pinned versions (no hash check) and print the requirements lines with hashes."""
    import hashlib

    requirements = requirements_file()
    with tempfile.TemporaryDirectory(prefix="portable_pins_") as scratch:
        bare = Path(scratch) / "requirements.txt"
        lines = [line.split(" --hash")[0] for line in requirements.read_text().splitlines()
                 if line.strip() and not line.startswith("#")]
        bare.write_text("\n".join(lines) + "\n")
        _pip_download(bare, Path(scratch) / "wheels", hashed=False)
        pins = []
        for wheel in (Path(scratch) / "wheels").glob("*.whl"):
            name, version = wheel.name.split("-")[:2]
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            pins.append(f"{name.replace('_', '-').lower()}=={version} --hash=sha256:{digest}")
    print("\n".join(sorted(pins)))
    return 0


def prepare() -> int:
    """Build or find every cached layer (the network is needed only here: the freeze and the
    tests run without it). `python3 build.py test` calls this before the suite goes offline."""
    with step("the portable build's cached layers (Debian 11 trees, CPython, pinned wheels, venv)"):
        venv()
        debian_tree.minbase_tree()
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["pins"]:
        return print_pins()
    if argv[:1] == ["prepare"]:
        return prepare()
    import release

    work = Path(argv[0]) if argv else REPO / "build" / "portable"
    bundle = release.assemble_bundle(release.default_bundle())
    result = freeze_portable(work, release.source_date_epoch(), bundle)
    print(result.folder)
    print(json.dumps(result.facts, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
