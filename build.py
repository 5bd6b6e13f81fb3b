#!/usr/bin/env python3
"""Build orchestration for wan2.2-turbo. Logic lives in packaging/; this file only sequences it.

    python3 build.py          build the release into dist/ (tarball, SHA256SUMS, release notes)
    python3 build.py test     set up .venv and run the whole test suite (offline where possible)
    python3 build.py serve    set up .venv (the bundle build's packages only), assemble the default bundle, start the main job
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "packaging"))

import environment  # noqa: E402  (packaging/ is a folder of build files, not a package)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "release"
    if command == "release":
        python = environment.ensure_environment(environment.TEST_EXTRAS)
        return environment.run_in_environment(python, [str(Path("packaging") / "release.py"), *argv[1:]])
    if command == "test":
        python = environment.ensure_environment(environment.TEST_EXTRAS)
        return environment.run_tests_offline(python, argv[1:])
    if command == "serve":
        python = environment.ensure_environment(environment.SERVE_EXTRAS)
        # exec, not a child process: SIGTERM to `python3 build.py serve` must stop the server.
        return environment.exec_in_environment(python, [str(Path("packaging") / "main_job.py"), *argv[1:]])
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
