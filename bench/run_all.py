"""Every comparison of issue 13 (and issue 16's Ray Serve) in one command: one table, JSON and Markdown.

    .venv/bin/python bench/run_all.py [--quick] [--only N ...] [--out-dir bench/results]

Runs, one after another (never two at once: they would share the cores), each comparison's
bench with `--json` and collects their headline figures:
1. OCR vs rapidocr-onnxruntime — bench/ocr.py
2. LM decode at batch 1 vs llama.cpp and transformers — bench/lm_fused.py (llama.cpp only
   when its venv exists, see that script); with 8 streams — bench/lm_batching.py
3. Embeddings vs sentence-transformers — bench/embed_throughput.py
4. Document questions through the HTTP server — bench/http_requests.py
5. Captioning at real size — bench/captioner.py (builds a 2 GB random-weight model once)
6. Cold start of the frozen binary — bench/cold_start.py (needs a release tarball in dist/:
   `python3 build.py`)
7. Ray Serve vs the single-process server (issue 16) — bench/ray_serve.py (needs the optional
   `ray` extra: `pip install ".[ray]"`; without it the table says so)
`--quick` runs each with fewer repeats (a smoke run; its figures are noisier, and its reports
go to `--out-dir`, never over the committed ones). Otherwise each bench writes its full
report under bench/results/. Writes `run_all.json` (machine, CPU flags, versions, load
averages, every figure with its target and whether it was met) and `run_all.md` to
`--out-dir`, and prints the table; a 1-minute load average above the CPU count before the
run is flagged in it (other work shared the machine: the figures are not this machine's). Exit status 1 if a bench failed, timed out or wrote no
figures (the others still run); a missed target is a result, not a failure.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_common import cpu_line  # noqa: E402

from runtime.placement import detect_hardware  # noqa: E402

LLAMA_PYTHON = REPO / ".cache" / "llama_bench" / "venv" / "bin" / "python"


TIMEOUT_S = 3600  # per bench: a hung server or worker must not hang the whole run


def steps(quick: bool, reports: Path = REPO / "bench" / "results") -> list[tuple[int, str, list[str]]]:
    """(comparison number, label, argv after the interpreter) per bench run; each writes its
    full report into `reports`."""
    runs = ["--runs", "2" if quick else "5"]
    lm_fused = ["bench/lm_fused.py", *runs, "--skip", "fused int4, minimums", "--skip", "fused int4, copying",
                "--out", str(reports / "lm_fused.md")]
    if quick:
        lm_fused += ["--new-tokens", "32"]
    if not LLAMA_PYTHON.is_file():
        lm_fused.append("--no-llama")
    return [
        (1, "OCR vs rapidocr", ["bench/ocr.py", "--repeats", "2" if quick else "5", "--out", str(reports / "ocr.md")]),
        (2, "LM batch 1", lm_fused),
        (2, "LM 8 streams", ["bench/lm_batching.py", "--repeats", "1" if quick else "3", "--out",
                             str(reports / "lm_batching.md")]),
        (3, "embeddings", ["bench/embed_throughput.py", "--repeats", "2" if quick else "7", "--out",
                           str(reports / "embed_throughput.md")]),
        (4, "HTTP requests", ["bench/http_requests.py", "--requests", "16" if quick else "48", "--out",
                              str(reports / "http_requests.md")]),
        (5, "captioning", ["bench/captioner.py", "--runs", "2" if quick else "5", "--out", str(reports / "captioner.md")]),
        (6, "cold start", ["bench/cold_start.py", "--runs", "2" if quick else "5", "--out",
                           str(reports / "cold_start.md")]),
        (7, "Ray Serve", ["bench/ray_serve.py", *(["--requests", "8", "--probes", "20", "--rounds", "1"]
                                                    if quick else []), "--out", str(reports / "ray_serve.md")]),
    ]


def missing_requirement(number: int, dist: list[Path]) -> str | None:
    """Why comparison `number` cannot run on this machine, or None."""
    if number == 6 and not dist:
        return "no release tarball in dist/: build one with `python3 build.py`"
    if number == 7 and importlib.util.find_spec("ray") is None:
        return 'Ray is not installed: pip install ".[ray]" (an optional extra)'
    return None


def versions() -> dict:
    from importlib import metadata

    found = {"python": platform.python_version()}
    for name in ("onnxruntime", "numpy", "torch", "transformers", "sentence-transformers", "rapidocr-onnxruntime"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                           text=True).stdout.strip()
    return result.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def markdown(record: dict) -> str:
    lines = [
        "# Issue 13's comparisons (and issue 16's Ray Serve), one run", "",
        f"{record['cpu']}. Commit {record['commit']}, {record['date']}; "
        + ", ".join(f"{k} {v}" for k, v in record["versions"].items()) + ".",
        f"Load average {record['load'][0]:.1f} before, {record['load'][1]:.1f} after"
        + (" — **other work was running before it: these figures are not this machine's**. "
           if record.get("loaded") else ". ")
        + 
        f"`.venv/bin/python bench/run_all.py{' --quick' if record['quick'] else ''}`", "",
        "| comparison | figure | value | target | met | note |", "|---|---|---:|---|---|---|",
    ]
    for figure in record["figures"]:
        target = (f"<= {figure['at_most']:g}" if figure["at_most"] is not None
                  else f">= {figure['at_least']:g}" if figure["at_least"] is not None else "")
        met = {True: "yes", False: "**no**", None: ""}[figure["met"]]
        lines.append(f"| {figure['comparison']} | {figure['name']} | {figure['value']:.3g} {figure['unit']} | "
                     f"{target} | {met} | {figure['note']} |")
    for run in record["runs"]:
        if run["status"] != "ok":
            lines.append(f"| {run['comparison']}. {run['label']} | not measured | | | | {run['status']} |")
    lines += ["", "Each bench's full report is in bench/results/ beside this file.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats: a smoke run")
    parser.add_argument("--only", type=int, action="append", help="comparison numbers to run (repeatable)")
    parser.add_argument("--out-dir", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)
    hardware = detect_hardware()
    load_before = os.getloadavg()[0]
    # before the benches run: a full run writes their reports over bench/results/*.md, which
    # would read as uncommitted changes
    measured_commit = commit()
    figures, runs, failed = [], [], False
    dist = sorted((REPO / "dist").glob("wan2.2-turbo-*.tar.gz"))
    reports = args.out_dir if args.quick else REPO / "bench" / "results"
    with tempfile.TemporaryDirectory() as scratch:
        for number, label, command in steps(args.quick, reports):
            if args.only and number not in args.only:
                continue
            missing = missing_requirement(number, dist)
            if missing:
                runs.append({"comparison": number, "label": label, "status": missing})
                continue
            out = Path(scratch) / f"{number}-{len(runs)}.json"
            print(f"[run_all] {number}. {label}: {' '.join(command)}", flush=True)
            began = time.monotonic()
            try:
                code = subprocess.run([sys.executable, *command, "--json", str(out)], cwd=REPO,
                                      timeout=TIMEOUT_S).returncode
            except subprocess.TimeoutExpired:
                code = None
            took = time.monotonic() - began
            found = json.loads(out.read_text(encoding="utf-8")) if code == 0 and out.is_file() else []
            status = ("ok" if found else "ran, but wrote no figures" if code == 0
                      else f"timed out after {TIMEOUT_S} s" if code is None else f"failed (exit {code})")
            failed |= status != "ok"
            runs.append({"comparison": number, "label": label, "command": command, "seconds": round(took, 1),
                         "status": status})
            print(f"[run_all] {number}. {label}: {status} in {took:.0f} s", flush=True)
            figures += found
    record = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": measured_commit, "cpu": cpu_line(hardware), "isa": sorted(hardware.isa),
        "int8_kernels": hardware.int8_kernels, "versions": versions(),
        "load": [load_before, os.getloadavg()[0]], "quick": args.quick, "runs": runs, "figures": figures,
        # The benches' own threads lift the load during the run: only the load before it says
        # whether other work shared the machine.
        "loaded": load_before > (os.cpu_count() or 1),
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "run_all.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    text = markdown(record)
    (args.out_dir / "run_all.md").write_text(text, encoding="utf-8")
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
