#!/usr/bin/env python3
"""Build orchestration for wan2.2-turbo. Logic lives in packaging/; this file only sequences it.

    python3 build.py          build the release into dist/ (the default tarball, the optional one with the
                              other precisions, named by them: ...-fp32.tar.gz, SHA256SUMS, release notes); on Linux
                              frozen inside a cached Debian 11 tree, so it runs on glibc >= 2.31
    python3 build.py --native the same, frozen with this machine's Python (no root or debootstrap; the
                              binary then needs this machine's glibc)
    python3 build.py test     set up .venv and run the whole test suite (offline where possible)
    python3 build.py serve    set up .venv (the bundle build's packages only), assemble the default bundle, start the main job
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "packaging"))

import environment  # noqa: E402  (packaging/ is a folder of build files, not a package)


def _selects_e2e(pytest_args: list[str]) -> bool:
    """Whether the tests asked for include tests/e2e (no path given: the whole suite does)."""
    paths = [Path(arg.split("::")[0]).resolve() for arg in pytest_args if Path(arg.split("::")[0]).exists()]
    e2e = (Path(__file__).resolve().parent / "tests" / "e2e")
    return not paths or any(path == e2e or path in e2e.parents or e2e in path.parents for path in paths)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "release"
    if command in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if command.startswith("-"):  # `python3 build.py --native ...`: options of the release build
        command, argv = "release", ["release", *argv]
    if command == "release":
        python = environment.ensure_environment(environment.TEST_EXTRAS)
        return environment.run_in_environment(python, [str(Path("packaging") / "release.py"), *argv[1:]])
    if command == "test":
        python = environment.ensure_environment(environment.TEST_EXTRAS)
        if platform.system() == "Linux" and _selects_e2e(argv[1:]):
            # The e2e tests build the portable release; its Debian trees, CPython and wheels come from
            # the network, so they are made (or found in the cache) before the suite goes offline.
            code = environment.run_in_environment(python, [str(Path("packaging") / "portable.py"), "prepare"])
            if code != 0:
                return code
        return environment.run_tests_offline(python, argv[1:])
    if command == "serve":
        python = environment.ensure_environment(environment.SERVE_EXTRAS)
        # exec, not a child process: SIGTERM to `python3 build.py serve` must stop the server.
        return environment.exec_in_environment(python, [str(Path("packaging") / "main_job.py"), *argv[1:]])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
