"""Run an unpacked release inside a bare Debian 11 tree, as on a user's older Linux (issue 15).

    python packaging/portable_check.py DIR      DIR: the unpacked `wan2.2-turbo/`

The tree is the cached `debootstrap --variant=minbase bullseye` (glibc 2.31, no Python):
only the release's own files and that tree's libraries are there to load. In a private mount
namespace and a fresh network namespace (loopback only), the release folder is bind-mounted
read-only at /mnt of the tree with /proc, /sys and /dev; then packaging/smoke.py's server
check runs against it: start `chroot TREE /mnt/wan2.2-turbo --port N`, wait for /health, ask
the drawn invoice's total through /v1/chat/completions and, with the reader bundle's photo
models, a question about a photo, SIGTERM → exit 0, nothing left running.
Used by tests/e2e/test_portable.py.

Not an importable package: put packaging/ on ``sys.path`` and ``import portable_check``.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import debian_tree  # noqa: E402
import smoke  # noqa: E402
from offline import loopback_up  # noqa: E402

APP_INSIDE = "/mnt"  # exists, empty, in every debootstrapped tree: the cached tree is never changed
HOME_INSIDE = "/tmp"  # a scratch folder of this machine is mounted there, so the tree stays as it was


def python_in_tree(tree: Path) -> list[str]:
    """Any Python interpreter or libpython in the tree (a minbase tree has none)."""
    found = []
    for folder in ("usr/bin", "usr/local/bin", "usr/lib", "usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu"):
        found += [p.relative_to(tree).as_posix() for p in (tree / folder).glob("*python*")]
    return found


def _mount(tree: Path, app: Path, home: Path) -> None:
    commands = [["mount", "-t", "proc", "proc", str(tree / "proc")],
                ["mount", "--rbind", "/sys", str(tree / "sys")],
                ["mount", "--rbind", "/dev", str(tree / "dev")],
                ["mount", "--bind", str(app), str(tree / APP_INSIDE.lstrip("/"))],
                ["mount", "-o", "remount,bind,ro", str(tree / APP_INSIDE.lstrip("/"))],
                ["mount", "--bind", str(home), str(tree / HOME_INSIDE.lstrip("/"))]]
    for command in commands:
        subprocess.run(command, check=True)


def _launcher(tree: Path, into: Path) -> Path:
    """A folder whose `wan2.2-turbo` execs the release's binary chrooted into `tree`, with an
    environment of the tree's own: smoke.serve_steps starts it as it starts a release folder.
    Each step execs the next, so the process smoke signals is the binary itself."""
    into.mkdir(parents=True, exist_ok=True)
    script = into / smoke.APP_NAME
    env = [f"PATH={debian_tree.PATH_INSIDE}", f"HOME={HOME_INSIDE}", "LANG=C.UTF-8"]
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    script.write_text("#!/bin/sh\n" + shlex.join(["exec", chroot, str(tree), "/usr/bin/env", "-i", *env,
                                                   f"{APP_INSIDE}/{smoke.APP_NAME}"]) + ' "$@"\n')
    script.chmod(0o755)
    return into


def serve_inside(tree: Path, app: Path, scratch: Path) -> dict:
    """Inside the namespaces: mount, then smoke's server check against the chrooted binary."""
    home = scratch / "home"
    home.mkdir()
    _mount(tree, app, home)
    loopback_up()
    return smoke.serve_steps(_launcher(tree, scratch / "launcher"), scratch, photo=smoke.serves_photos(app))


def check_in_tree(app: Path) -> dict:
    """Serve `app` inside the cached Debian 11 minbase tree with no network; returns smoke's
    timings and answer. Raises smoke.SmokeError (with the server's log) when a step fails."""
    tree, record = debian_tree.minbase_tree()
    leaked = python_in_tree(tree)
    if leaked:
        raise smoke.SmokeError(f"the test tree {tree} has Python in it ({leaked}): it must be a bare minbase tree")
    with tempfile.TemporaryDirectory(prefix="portable_check_") as scratch:
        command = ["unshare", "--mount", "--propagation", "private", "--net",
                   sys.executable, __file__, "serve-inside", str(tree), str(app.resolve()), scratch]
        done = subprocess.run(command, capture_output=True, text=True, timeout=smoke.START_LIMIT_S + 120, check=False)
    if done.returncode != 0:
        raise smoke.SmokeError(f"serving inside {tree} failed:\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "tree": str(tree), "libc6": record["libc6"]}


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve-inside"]:
        print(json.dumps(serve_inside(Path(argv[1]), Path(argv[2]), Path(argv[3]))))
        return 0
    if len(argv) != 1:
        print(__doc__)
        return 2
    try:
        print(json.dumps(check_in_tree(Path(argv[0])), indent=1))
    except smoke.SmokeError as error:
        print(f"[portable] FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
