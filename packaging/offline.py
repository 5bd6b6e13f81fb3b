"""Run Python with no network at all: a fresh Linux network namespace with only loopback.

    unshare -n python packaging/offline.py -m pytest ...

`offline_prefix()` finds a working `unshare` form; inside the namespace `loopback_up()`
does `ip link set lo up` without needing `ip`, so local servers still work. Used by
`python3 build.py test` (the whole suite runs offline where the machine allows it) and
by packaging/smoke.py (the frozen binary is smoke-tested offline).
"""

from __future__ import annotations

import functools
import os
import platform
import shutil
import socket
import subprocess
import sys


@functools.lru_cache(maxsize=1)
def offline_prefix() -> tuple[str, ...] | None:
    """A command prefix that runs a process with no network at all, or None where none works."""
    if platform.system() != "Linux" or shutil.which("unshare") is None:
        return None
    for prefix in (("unshare", "-n"), ("unshare", "-r", "-n")):  # -r: unprivileged user namespaces
        done = subprocess.run([*prefix, "true"], capture_output=True, check=False)
        if done.returncode == 0:
            return prefix
    return None


def loopback_up() -> None:
    """`ip link set lo up`, without needing `ip`: a new network namespace starts with lo down."""
    import fcntl
    import struct

    get_flags, set_flags, up = 0x8913, 0x8914, 0x1  # SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, get_flags, request))[1]
        fcntl.ioctl(sock, set_flags, struct.pack("16sH14x", b"lo", flags | up))


#: Set for the command run inside the namespace, so a test can check it really is offline.
MARKER = "WAN_TURBO_TESTS_OFFLINE"

if __name__ == "__main__":  # called inside the namespace: bring lo up, become the real command
    loopback_up()
    os.environ[MARKER] = "1"
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
