"""Cold start of the released binary: process start to /health 200 and to a first answer, median of N.

    python bench/cold_start.py [dist/wan2.2-turbo-*.tar.gz] [--runs 5] [--baseline OLD.tar.gz]

Unpacks the tarball into a temporary folder, then starts `./wan2.2-turbo/wan2.2-turbo
--port P` N times (bundle hashing and model load included), polls /health every 20 ms, then
at once asks one document question over /v1/chat/completions (a generated page, seed 1: the
time to a first answer, so that work moved past /health 200 still counts), stops the server
with SIGTERM and records the times and the exit code.
Side by side, the floor: a plain Python script (this checkout's interpreter) that creates
onnxruntime sessions for the same files the binary's start-up plan selects from the unpacked
bundle, timed from process start to its exit (issue 13, comparison 6: the binary's /health
200 within 1.3x of it). `--baseline` starts another build's binary (an earlier commit's
release) in the same turns, for a before/after measured side by side. `--json PATH` writes
the headline figures.
Writes bench/results/cold_start.md.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
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


def first_question() -> bytes:
    """A chat request about a generated page (seed 1, a development seed)."""
    sys.path.insert(0, str(REPO / "bench"))
    sys.path.insert(0, str(REPO / "tests" / "golden"))
    from docvqa import make_documents
    from http_requests import chat_body

    document = make_documents(seed=1, count=1)[0]
    return chat_body(document.image.convert("RGB"), document.questions[0].text)


def ask(port: int, body: bytes) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", body,
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        if response.status != 200:
            raise RuntimeError(f"the first question got HTTP {response.status}")
        response.read()


def one_start(binary: Path, question: bytes, timeout_s: float = 120.0) -> tuple[float, float, float, int]:
    """(seconds to first answer on /health, seconds to 200, seconds to the first question's
    answer, exit code after SIGTERM)."""
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
        ask(port, question)
        answered = time.perf_counter() - start
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
    return listening, ready, answered, code


PLAIN_SCRIPT = """
import sys, onnxruntime as ort
options = ort.SessionOptions()
options.intra_op_num_threads = int(sys.argv[1])
for path in sys.argv[2:]:
    ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
"""


def plain_load(bundle: Path) -> tuple[float, list[str]]:
    """Seconds for a fresh Python process to create a session per selected file, and the files."""
    sys.path.insert(0, str(REPO))
    from runtime import plan_load

    plan = plan_load(bundle)
    files = [str(bundle / choice.variant.file) for choice in plan.selection.components.values()]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, str(plan.budget.intra_op_threads), *files], check=True)
    return time.perf_counter() - start, files


def unpack(tarball: Path, folder: Path) -> Path:
    with tarfile.open(tarball) as archive:
        archive.extractall(folder, filter="data")
    return folder / "wan2.2-turbo" / "wan2.2-turbo"


def main() -> None:
    from bench_common import add_json_argument, cpu_line  # this script's folder is on sys.path

    parser = argparse.ArgumentParser()
    parser.add_argument("tarball", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, default=None, help="another release tarball, started in turns")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "cold_start.md")
    add_json_argument(parser)
    args = parser.parse_args()
    # The newest release, not the optional download of the other precisions (bundle files only).
    releases = [path for path in (REPO / "dist").glob("wan2.2-turbo-*.tar.gz")
                if not re.search(r"-(fp32|fp16|int8|int4)\.tar\.gz$", path.name)]
    tarball = args.tarball or max(releases, key=lambda p: p.stat().st_mtime)
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as old_folder:
        binary = unpack(tarball, Path(folder))
        old_binary = unpack(args.baseline, Path(old_folder)) if args.baseline else None
        runs, plain, old_runs = [], [], []
        question = first_question()
        for _ in range(args.runs):  # in turns, so that drift of the machine hits all alike
            runs.append(one_start(binary, question))
            plain.append(plain_load(Path(folder) / "wan2.2-turbo" / "bundle")[0])
            if old_binary is not None:
                old_runs.append(one_start(old_binary, question))
    listening = statistics.median(r[0] for r in runs)
    ready = statistics.median(r[1] for r in runs)
    answered = statistics.median(r[2] for r in runs)
    floor = statistics.median(plain)
    from runtime.placement import detect_hardware

    lines = [
        "# Cold start of the released binary", "",
        f"`python bench/cold_start.py {tarball.name} --runs {args.runs}"
        + (f" --baseline {args.baseline.name}" if args.baseline else "")
        + "` — start to /health and to a first answer, default bundle (hashing the files it loads, loading); "
        f"{cpu_line(detect_hardware())}; 1-min load average {os.getloadavg()[0]:.2f} at the end.", "",
        "| measure | median | all runs |", "| --- | ---: | --- |",
        f"| process start → listening (/health 503) | {listening:.2f} s | {', '.join(f'{r[0]:.2f}' for r in runs)} |",
        f"| process start → /health 200 | {ready:.2f} s | {', '.join(f'{r[1]:.2f}' for r in runs)} |",
        f"| process start → first document question answered | {answered:.2f} s | "
        f"{', '.join(f'{r[2]:.2f}' for r in runs)} |",
        f"| plain script: python start → sessions for the same files created | {floor:.2f} s | "
        f"{', '.join(f'{t:.2f}' for t in plain)} |",
        f"| exit code after SIGTERM | {', '.join(str(r[3]) for r in runs)} | |",
    ]
    if old_runs:
        old_ready = statistics.median(r[1] for r in old_runs)
        lines += [
            f"| baseline {args.baseline.name}: process start → listening | "
            f"{statistics.median(r[0] for r in old_runs):.2f} s | {', '.join(f'{r[0]:.2f}' for r in old_runs)} |",
            f"| baseline: process start → /health 200 | {old_ready:.2f} s | "
            f"{', '.join(f'{r[1]:.2f}' for r in old_runs)} |",
            f"| baseline: process start → first document question answered | "
            f"{statistics.median(r[2] for r in old_runs):.2f} s | {', '.join(f'{r[2]:.2f}' for r in old_runs)} |",
            f"| baseline: exit code after SIGTERM | {', '.join(str(r[3]) for r in old_runs)} | |",
        ]
    lines += [
        "", f"/health 200 / plain script: **{ready / floor:.2f}x** (issue 13's target <= 1.3x)"
        + (f"; the baseline's {old_ready / floor:.2f}x" if old_runs else "")
        + ". The binary also hashes the files it loads before /health says 200; its warm-up request runs after.", "",
    ]
    sys.path.insert(0, str(REPO / "bench"))
    from bench_common import Figure, write_figures

    write_figures([Figure("6. Cold start of the frozen binary", "/health 200 / plain script creating the same sessions",
                          ready / floor, "x", at_most=1.3, note=f"{ready:.2f} s vs {floor:.2f} s"),
                   Figure("6. Cold start of the frozen binary", "process start to a first document question answered",
                          answered, "s")], args.json)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
