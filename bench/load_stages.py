"""Where a server's start goes, from source: imports, planning and hashing, sessions, adapter,
warm-up (issue 13, comparison 6: what the cold start spends beside a plain script's sessions).

    .venv/bin/python bench/load_stages.py [--bundle DIR] [--runs 5] [--out PATH]

Each run is a fresh Python process (imports are only paid once per process) that does what
`serve` does before /health says 200 (runtime.api.service): `plan_load(verify=True)` (the
selection, the thread budget for 8 requests at once and every loaded file's sha256), then
`load_model` (sessions created with the kind's preload beside them, then the adapter); the
web server's own modules are timed apart (the binary imports them before it binds its port).
/health says 200 then; the warm-up request runs after it (the server runs it on a thread of
its own, this bench on its main thread, timed last) while the wide twin sessions are made. Prints per-stage medians and every run; the
frozen binary adds its own start-up (bench/cold_start.py measures it end to end).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_common import cpu_line, default_bundle, report  # noqa: E402

_ONE_RUN = """
import json, sys, time
began = time.perf_counter()
import runtime
import runtime.loading as loading
from runtime.api.service import warm_up
imported = time.perf_counter()
spans = {}
create = loading._create_sessions
def timed(*args, **kwargs):
    start = time.perf_counter()
    result = create(*args, **kwargs)
    spans["sessions"] = time.perf_counter() - start
    return result
loading._create_sessions = timed
plan = runtime.plan_load(sys.argv[1], verify=True, max_concurrent=8)
planned = time.perf_counter()
model = runtime.load_model(plan)
loaded = time.perf_counter()
from runtime.server import run_server
server = time.perf_counter()
warm_up(model)
warm = time.perf_counter()
model.wait_for_twins()
print(json.dumps({"imports": imported - began, "plan and hashes": planned - imported,
                  "sessions": spans["sessions"], "adapter": loaded - planned - spans["sessions"],
                  "web server imports": server - loaded, "warm-up (after /health 200)": warm - server}))
"""
STAGES = ("imports", "plan and hashes", "sessions", "adapter", "web server imports", "warm-up (after /health 200)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=default_bundle())
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    runs = []
    for _ in range(args.runs):
        output = subprocess.run([sys.executable, "-c", _ONE_RUN, str(args.bundle)], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    from runtime.placement import detect_hardware

    lines = [
        "# Where a server's start goes, from source",
        "",
        f"{cpu_line(detect_hardware())}. `.venv/bin/python bench/load_stages.py --runs {args.runs}` on "
        f"{args.bundle}; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after.",
        "",
        "| stage | median s | runs |",
        "|---|---:|---|",
    ]
    for stage in STAGES:
        values = [run[stage] for run in runs]
        lines.append(f"| {stage} | {statistics.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")
    total = [sum(run[stage] for stage in STAGES[:5]) for run in runs]
    lines.append(f"| until /health 200 (the first five) | {statistics.median(total):.2f} | "
                 f"{', '.join(f'{v:.2f}' for v in total)} |")
    report("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
