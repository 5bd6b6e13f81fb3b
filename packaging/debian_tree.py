"""Debian trees made with `debootstrap`, cached outside the checkout, and commands run in them.

The portable Linux build (packaging/portable.py) compiles and freezes inside a Debian 11
(bullseye, glibc 2.31) tree so that the release runs on glibc >= 2.31 (issue 15); its test
starts the release inside a bare minbase tree of the same suite. No container runtime is
needed: `debootstrap` into a folder, then `chroot` inside a private mount namespace
(`unshare -m`), where /proc, /sys, /dev and the folders a step needs are bind-mounted; the
mounts vanish with the namespace, so nothing is left mounted on the host when a step fails.

Every tree is a cache entry keyed by its inputs: `<cache>/portable/<name>-<key>`, where
`<cache>` is `$WAN_BUILD_CACHE` or `~/.cache/wan2.2-turbo` (outside the clone: CI starts
from a fresh clone every time). An entry is built in a temporary folder beside it and
renamed into place, so a half-built tree is never taken for a finished one; an entry is
never changed after it is renamed.

Not an importable package: put packaging/ on ``sys.path`` and ``import debian_tree``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_lock  # noqa: E402

SUITE = "bullseye"  # Debian 11: glibc 2.31, the oldest glibc the release promises to run on
MIRROR = "http://deb.debian.org/debian"
RECORD_FILE = "wan-tree.json"  # written at the root of each finished entry
PATH_INSIDE = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class TreeError(RuntimeError):
    """A tree could not be made or a command in it failed; the message says what to do."""


def cache_root() -> Path:
    """Where the trees live: `$WAN_BUILD_CACHE/portable`, else `~/.cache/wan2.2-turbo/portable`."""
    base = os.environ.get("WAN_BUILD_CACHE") or str(Path.home() / ".cache" / "wan2.2-turbo")
    return Path(base).resolve() / "portable"


def say(message: str) -> None:
    print(f"[portable] {message}", flush=True)


@contextmanager
def step(what: str) -> Iterator[None]:
    """Print `what`, then its time when done (or that it failed after how long)."""
    say(f"{what} ...")
    started = time.monotonic()
    try:
        yield
    except BaseException:
        say(f"{what}: FAILED after {time.monotonic() - started:.0f} s")
        raise
    say(f"{what}: done in {time.monotonic() - started:.0f} s")


def inputs_key(inputs: dict) -> str:
    """A short stable key for a dict of inputs (JSON with sorted keys, sha256, 16 hex digits)."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def source_of(*functions: Callable) -> str:
    """sha256 of the source text of `functions`: a cache key input, so that changing how an
    entry is built rebuilds it, while editing unrelated code in the same file does not."""
    return hashlib.sha256("\n".join(inspect.getsource(f) for f in functions).encode()).hexdigest()


def cached_entry(name: str, inputs: dict, build: Callable[[Path], dict]) -> tuple[Path, dict]:
    """The entry `<cache>/<name>-<key of inputs>`, built by `build(staging)` when missing.

    `build` fills the folder it is given (which does not exist yet when called: debootstrap
    wants to create its target) and returns facts to keep in the entry's record. One builder
    at a time per entry (a lock file beside it); the staging folder is renamed into place when done.
    """
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    entry = root / f"{name}-{inputs_key(inputs)}"
    with build_lock.exclusive(root / f".{entry.name}.lock"):
        if (entry / RECORD_FILE).is_file():
            record = json.loads((entry / RECORD_FILE).read_text())
            say(f"{name}: cached at {entry} (built in {record.get('build_s', '?')} s)")
            return entry, record
        staging = root / f".{entry.name}.{os.getpid()}"
        remove_tree(staging)
        started = time.monotonic()
        try:
            with step(f"{name}: building into {staging}"):
                facts = build(staging)
        except BaseException:
            remove_tree(staging)
            raise
        record = {"name": name, "inputs": inputs, "build_s": round(time.monotonic() - started), **facts}
        (staging / RECORD_FILE).write_text(json.dumps(record, indent=1, sort_keys=True))
        remove_tree(entry)  # a folder without a record was not made by this function: never take it for an entry
        os.replace(staging, entry)
        say(f"{name}: {entry} ({folder_megabytes(entry):.0f} MB)")
    return entry, record


def remove_tree(path: Path) -> None:
    """Remove a tree made here. Refuses a path with something mounted under it (a bind mount
    of the checkout would be deleted with it); mounts here are made only in private mount
    namespaces, so this is a bug check."""
    if not path.exists() and not path.is_symlink():
        return
    resolved = str(path.resolve())
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        inside = [line.split()[1] for line in mounts if line.split()[1].startswith(resolved + "/")]
    if inside:
        raise TreeError(f"refusing to remove {path}: mounted under it: {inside}. Unmount them (umount -R) first.")
    shutil.rmtree(path)


def folder_megabytes(folder: Path) -> float:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def require_tools(*names: str) -> None:
    """Fail with the fix when a host tool the portable build needs is missing."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise TreeError(f"the portable Linux build needs {', '.join(missing)} on this machine: install with "
                        f"`apt-get install debootstrap util-linux` (Debian/Ubuntu), or build with --native "
                        "(the binary then needs this machine's glibc).")
    if os.geteuid() != 0:
        raise TreeError("the portable Linux build runs debootstrap and chroot, which need root: run it as root "
                        "(CI does), or build with --native (the binary then needs this machine's glibc).")


def debian_architecture() -> str:
    done = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=False)
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


# --- the minbase tree -----------------------------------------------------------------------------

@dataclass(frozen=True)
class TreeSpec:
    """What `debootstrap` is asked for."""

    suite: str = SUITE
    mirror: str = MIRROR
    variant: str = "minbase"
    architecture: str = ""  # "" = this machine's

    def resolved(self) -> TreeSpec:
        return TreeSpec(self.suite, self.mirror, self.variant, self.architecture or debian_architecture())


def _debootstrap(spec: TreeSpec, target: Path) -> dict:
    command = ["debootstrap", f"--variant={spec.variant}", f"--arch={spec.architecture}", spec.suite,
               str(target), spec.mirror]
    log = target.parent / f"{target.name}.debootstrap.log"
    with open(log, "wb") as handle:
        done = subprocess.run(["nice", "-n", "19", *command], stdout=handle, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise TreeError(f"`{shlex.join(command)}` failed with exit {done.returncode} (is {spec.mirror} reachable?). "
                        f"Its log ({log}) ends:\n{tail}")
    log.unlink()
    # Nothing in the tree may come from here at run time: no Python at all in a minbase tree.
    glibc = subprocess.run(["chroot", str(target), "dpkg-query", "-W", "-f=${Version}", "libc6"],
                           capture_output=True, text=True, check=True).stdout.strip()
    return {"libc6": glibc, "debootstrap": _debootstrap_version()}


def _debootstrap_version() -> str:
    done = subprocess.run(["debootstrap", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def minbase_tree(spec: TreeSpec = TreeSpec()) -> tuple[Path, dict]:
    """A cached `debootstrap --variant=minbase` tree (no Python in it); returns (tree, record)."""
    require_tools("debootstrap", "chroot", "unshare", "mount")
    spec = spec.resolved()
    inputs = {"spec": asdict(spec), "debootstrap": _debootstrap_version(), "script": source_of(_debootstrap)}
    return cached_entry(f"{spec.suite}-{spec.variant}", inputs, lambda target: _debootstrap(spec, target))


def copy_tree(source: Path, target: Path) -> None:
    """A full copy (`cp -a`: device nodes, owners, hard links kept) that the caller may change."""
    subprocess.run(["cp", "-a", "--", str(source), str(target)], check=True)


# --- running commands inside a tree ---------------------------------------------------------------

@dataclass(frozen=True)
class Bind:
    """`host` mounted at `inside` (an absolute path in the tree) for one command."""

    host: Path
    inside: str
    read_only: bool = True


def _mount_script(tree: Path, binds: Iterable[Bind], network: bool) -> list[str]:
    lines = ["set -e", f"T={shlex.quote(str(tree))}",
             'mount -t proc proc "$T/proc"', 'mount --rbind /sys "$T/sys"', 'mount --rbind /dev "$T/dev"']
    for bind in binds:
        source = Path(bind.host)
        target = f'"$T"{shlex.quote(bind.inside)}'
        make = f"mkdir -p {target}" if source.is_dir() else f"mkdir -p \"$(dirname {target})\"; touch {target}"
        lines += [make, f"mount --bind {shlex.quote(str(source))} {target}"]
        if bind.read_only:
            lines.append(f"mount -o remount,bind,ro {target}")
    if not network:  # a fresh network namespace starts with loopback down
        up = f"import sys; sys.path.insert(0, {str(HERE)!r}); import offline; offline.loopback_up()"
        lines.append(f"{shlex.quote(sys.executable)} -c {shlex.quote(up)}")
    return lines


def run_in_tree(tree: Path, argv: list[str], binds: Iterable[Bind] = (), env: dict[str, str] | None = None,
                network: bool = True, log: Path | None = None, cwd: str = "/") -> None:
    """Run `argv` chrooted into `tree` in a private mount namespace (and a fresh network
    namespace with only loopback unless `network`). The environment is `env` only (plus PATH,
    HOME, LANG): nothing of this machine's leaks in. Output goes to `log` if given; raises
    TreeError with its tail when the command fails.

    Mount points for `binds` are created inside the tree: pass a tree made for this build,
    never a cached entry that must stay as it is (bind to folders that exist there instead).
    """
    full_env = {"PATH": PATH_INSIDE, "HOME": "/root", "LANG": "C.UTF-8", **(env or {})}
    inner = " ".join(["exec", "chroot", '"$T"', "/usr/bin/env", "-i",
                      *(shlex.quote(f"{k}={v}") for k, v in sorted(full_env.items())),
                      "/bin/sh", "-c", shlex.quote(f"cd {shlex.quote(cwd)} && exec {shlex.join(argv)}")])
    script = "\n".join([*_mount_script(tree, binds, network), inner])
    namespaces = ["unshare", "--mount", "--propagation", "private", *([] if network else ["--net"])]
    command = ["nice", "-n", "19", *namespaces, "/bin/sh", "-c", script]
    if log is None:
        done = subprocess.run(command, check=False)
        tail = ""
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as handle:
            handle.write(f"\n$ {shlex.join(argv)}\n".encode())
            handle.flush()
            done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=False)
        tail = log.read_text(errors="replace")[-4000:]
    if done.returncode != 0:
        raise TreeError(f"`{shlex.join(argv)}` failed with exit {done.returncode} inside {tree}"
                        + (f"; the end of {log}:\n{tail}" if log else ""))


if __name__ == "__main__":
    tree, record = minbase_tree()
    print(tree)
    print(json.dumps(record, indent=1))
