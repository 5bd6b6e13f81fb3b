"""Cold start of the released binary: process start to /health 200, median of N.

    python bench/cold_start.py [dist/wan2.2-turbo-*.tar.gz] [--runs 5]

Unpacks the tarball into a temporary folder, then starts `./wan2.2-turbo/wan2.2-turbo
--port P` N times (bundle hashing, model load and warm-up included), polls /health every
20 ms, stops the server with SIGTERM and records the time to 200 and the exit code.
Writes bench/results/cold_start.md.
"""

from __future__ import annotations

import argparse
import signal
import socket
import statistics
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health_status(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def one_start(binary: Path, timeout_s: float = 120.0) -> tuple[float, float, int]:
    """(seconds to first answer on /health, seconds to 200, exit code after SIGTERM)."""
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen([str(binary), "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    listening = None
    try:
        while time.perf_counter() - start < timeout_s:
            status = health_status(port)
            if status is not None and listening is None:
                listening = time.perf_counter() - start
            if status == 200:
                ready = time.perf_counter() - start
                break
            time.sleep(0.02)
        else:
            raise RuntimeError(f"no /health 200 within {timeout_s} s")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
    return listening, ready, code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tarball", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tarball = args.tarball or max((REPO / "dist").glob("wan2.2-turbo-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    with tempfile.TemporaryDirectory() as folder:
        with tarfile.open(tarball) as archive:
            archive.extractall(folder, filter="data")
        binary = Path(folder) / "wan2.2-turbo" / "wan2.2-turbo"
        runs = [one_start(binary) for _ in range(args.runs)]
    listening = statistics.median(r[0] for r in runs)
    ready = statistics.median(r[1] for r in runs)
    lines = [
        "# Cold start of the released binary", "",
        f"`python bench/cold_start.py {tarball.name} --runs {args.runs}` — start to /health, default bundle "
        "(hashing every bundle file, loading, warming up), 2-core x86_64.", "",
        "| measure | median | all runs |", "| --- | ---: | --- |",
        f"| process start → listening (/health 503) | {listening:.2f} s | {', '.join(f'{r[0]:.2f}' for r in runs)} |",
        f"| process start → /health 200 | {ready:.2f} s | {', '.join(f'{r[1]:.2f}' for r in runs)} |",
        f"| exit code after SIGTERM | {', '.join(str(r[2]) for r in runs)} | |", "",
    ]
    (REPO / "bench" / "results" / "cold_start.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
