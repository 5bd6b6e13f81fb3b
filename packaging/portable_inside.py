"""The part of the portable build that runs inside the Debian 11 tree (packaging/portable.py).

    /opt/wan-venv/bin/python /src/packaging/portable_inside.py WORK BUNDLE

Freezes the app with PyInstaller (freeze.py, as the --native build does) into
WORK/pyinstaller, then collects the third-party licenses into WORK/licenses: here, because
the frozen distributions' metadata, the interpreter's LICENSE.txt and the Debian copyright
files of the bundled system libraries are in this tree, not on the machine that started it.
BUNDLE is the model bundle (only its license notes are read).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "licenses")]

import collect_licenses  # noqa: E402
import freeze  # noqa: E402
from runtime.bundle import read_manifest  # noqa: E402


def main(work: Path, bundle: Path) -> int:
    folder = freeze.freeze(work / "pyinstaller", int(os.environ["SOURCE_DATE_EPOCH"]))
    records = collect_licenses.collect_licenses(work / "licenses", freeze.frozen_record(folder), read_manifest(bundle))
    print(f"[portable] licenses of {len(records)} components collected", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
