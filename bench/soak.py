"""Load and soak (issue 12): many concurrent clients, valid and invalid requests, against a
real server process on loopback.

    .venv/bin/python bench/soak.py [--duration-s 300] [--clients 64] [--max-queue 8]
        [--model DIR] [--out bench/results/soak.md]

Starts `python -m launcher.cli serve` on a free port (default model: the tiny random-weight
ViT-GPT2 captioner that the contract tests build, cached under .cache/tests/contract), with
a small --max-queue so that 64 clients overflow it. Each client loops over a weighted mix
of requests (chat, streamed chat, native generate, listings; malformed JSON, unknown
fields, absurd numbers, corrupt images, wrong content types, unknown routes, bodies over
--max-body-bytes; streams abandoned after the first chunk) and checks every reply: a
valid request gets 200 with the right shape, or 503 `overloaded` with Retry-After; an
invalid one gets its 4xx in the error envelope (or the 503, where the check runs in the
engine, behind the queue). After a 503 a client waits a random fraction of Retry-After.

The first `--warmup-s` seconds run the same load; the server's RSS is read then and again
once the load has stopped. Reports p50/p99 latency of valid answered requests (per case
and overall), requests/s, the 503s, the RSS figures, and /metrics' cancellation count, to
stdout and (with the CPU flags) to bench/results/soak.md. tests/http/test_soak_load.py runs
the same for 60 s and asserts the outcome; figures are never asserted. Linux only (RSS from
/proc/<pid>/status).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "bench" / "results" / "soak.md"
MAX_BODY_BYTES = 1_000_000  # --max-body-bytes: small, so the oversized case stays cheap


@dataclass(frozen=True)
class Case:
    """One kind of request. `expected`: the statuses it may get besides 503 `overloaded`
    (which a valid request, or one whose check runs behind the queue, may also get)."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    content_type: str = "application/json"
    valid: bool = True
    expected: frozenset[int] = frozenset({200})
    behind_queue: bool = True  # may be refused 503 because the queue is full
    stream: bool = False
    disconnect: bool = False  # read the first chunk, then hang up
    weight: int = 1


def _png(color=(200, 30, 30), size=(40, 50)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def _chat(content: list | str, **extra) -> bytes:
    return json.dumps({"model": "any", "messages": [{"role": "user", "content": content}], **extra}).encode()


def build_cases() -> list[Case]:
    """The request mix for a captioning bundle (the tiny ViT-GPT2: task `caption` only)."""
    png = _png()
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    image = {"type": "image_url", "image_url": {"url": uri}}
    bad = frozenset({400})
    return [
        Case("chat", "POST", "/v1/chat/completions", _chat([image], max_tokens=8), weight=6),
        Case("chat_system", "POST", "/v1/chat/completions", json.dumps({"messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": [image]}], "max_tokens": 8, "temperature": 0.7, "seed": 3}).encode(), weight=2),
        Case("chat_stream", "POST", "/v1/chat/completions",
             _chat([image], max_tokens=12, stream=True, stream_options={"include_usage": True}), stream=True, weight=4),
        Case("stream_hang_up", "POST", "/v1/chat/completions", _chat([image], max_tokens=60, stream=True),
             stream=True, disconnect=True, weight=2),
        Case("generate", "POST", "/v1/generate",
             json.dumps({"task": "caption", "image": base64.b64encode(png).decode(), "max_new_tokens": 6}).encode(),
             weight=2),
        Case("models", "GET", "/v1/models", behind_queue=False),
        Case("health", "GET", "/health", behind_queue=False),
        Case("metrics", "GET", "/metrics", behind_queue=False),
        # Invalid: refused while parsing, before the queue (never a 503).
        Case("malformed_json", "POST", "/v1/chat/completions", b'{"messages": [', valid=False, expected=bad,
             behind_queue=False),
        Case("unknown_field", "POST", "/v1/chat/completions", _chat([image], max_tokenz=3), valid=False,
             expected=bad, behind_queue=False),
        Case("absurd_max_tokens", "POST", "/v1/chat/completions", _chat([image], max_tokens=10**12), valid=False,
             expected=bad, behind_queue=False),
        Case("negative_temperature", "POST", "/v1/chat/completions", _chat([image], temperature=-1), valid=False,
             expected=bad, behind_queue=False),
        Case("question_to_captioner", "POST", "/v1/chat/completions", _chat([image, {"type": "text", "text": "Why?"}]),
             valid=False, expected=bad, behind_queue=False),
        Case("wrong_content_type", "POST", "/v1/chat/completions", _chat([image]), content_type="text/plain",
             valid=False, expected=frozenset({415}), behind_queue=False),
        Case("unknown_route", "GET", "/v1/nothing", valid=False, expected=frozenset({404}), behind_queue=False),
        Case("wrong_method", "GET", "/v1/chat/completions", valid=False, expected=frozenset({405}),
             behind_queue=False),
        Case("over_body_limit", "POST", "/v1/chat/completions", _chat("x" * MAX_BODY_BYTES), valid=False,
             expected=frozenset({413}), behind_queue=False),
        # Invalid: found when the image is decoded, on an engine thread behind the queue, so
        # a full queue answers 503 first.
        Case("corrupt_png", "POST", "/v1/chat/completions",
             _chat([{"type": "image_url", "image_url": {"url": "data:image/png;base64,"
                                                          + base64.b64encode(png[:60]).decode()}}]),
             valid=False, expected=bad),
        Case("bad_base64", "POST", "/v1/chat/completions",
             _chat([{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@not-base64@@@"}}]),
             valid=False, expected=bad),
    ]


@dataclass
class Outcome:
    case: str
    valid: bool
    status: int
    latency_s: float
    problem: str | None = None


@dataclass
class SoakReport:
    """What one run saw. `problems`: every reply that broke its case's contract."""

    duration_s: float  # measured: from the end of the warm-up to the last reply
    clients: int
    max_queue: int
    outcomes: list[Outcome] = field(default_factory=list)
    warm_index: int = 0  # outcomes before it came during the warm-up: checked, not counted in figures
    rss_warm_bytes: int = 0
    rss_end_bytes: int = 0
    rss_max_bytes: int = 0
    cancelled_requests: float = 0.0
    queue_depth_end: float = -1.0
    exit_code: int | None = None
    server_log_problems: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"{o.case}: {o.problem}" for o in self.outcomes if o.problem]

    @property
    def measured(self) -> list[Outcome]:
        return self.outcomes[self.warm_index:]

    @property
    def overloaded(self) -> int:
        return sum(1 for o in self.measured if o.status == 503 and not o.problem)

    def statuses(self) -> Counter:
        return Counter((o.case, o.status) for o in self.measured)

    def latencies(self, case: str | None = None) -> list[float]:
        return sorted(o.latency_s for o in self.measured
                      if o.valid and o.status == 200 and not o.problem and case in (None, o.case))

    @property
    def rss_growth(self) -> float:
        return self.rss_end_bytes / self.rss_warm_bytes - 1 if self.rss_warm_bytes else float("nan")

    def lines(self) -> list[str]:
        total = len(self.measured)
        return [
            f"{total} requests in {self.duration_s:.0f} s ({total / self.duration_s:.0f}/s) from {self.clients} "
            f"clients, --max-queue {self.max_queue}: {self.overloaded} answered 503 overloaded + Retry-After; "
            f"{len(self.problems)} broke their contract",
            f"RSS after warm-up {self.rss_warm_bytes / 2**20:.1f} MiB, at the end {self.rss_end_bytes / 2**20:.1f} MiB "
            f"({self.rss_growth:+.1%}), peak {self.rss_max_bytes / 2**20:.1f} MiB",
            f"/metrics: {self.cancelled_requests:.0f} request(s) cancelled by their client; queue depth at the end "
            f"{self.queue_depth_end:.0f}; exit code after SIGTERM {self.exit_code}",
        ]

    def latency_rows(self) -> list[tuple[str, int, float, float]]:
        names = sorted({o.case for o in self.measured if o.valid})
        rows = []
        for name in [None, *names]:
            values = self.latencies(name)
            if values:
                rows.append((name or "all valid", len(values), _percentile(values, 50), _percentile(values, 99)))
        return rows


def _percentile(sorted_values: list[float], percent: float) -> float:
    """Nearest rank: the smallest value with at least `percent`% of the values at or below it."""
    return sorted_values[max(0, math.ceil(percent / 100 * len(sorted_values)) - 1)]


# --- the server process ------------------------------------------------------------------------

class ServerProcess:
    """`python -m launcher.cli serve` on a free loopback port; its log goes to a temp file."""

    def __init__(self, model_dir: Path, max_queue: int):
        self.log = tempfile.TemporaryFile(mode="w+")
        command = [sys.executable, "-m", "launcher.cli", "serve", "--model", str(model_dir), "--port", "0",
                   "--max-queue", str(max_queue), "--max-body-bytes", str(MAX_BODY_BYTES)]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("WAN_TURBO_")}
        self.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                        env={**environment, "PYTHONUNBUFFERED": "1"})
        self.url = ""

    def wait_until_serving(self) -> str:
        for _ in range(2):  # "Loading model; listening on URL", then "Serving NAME on URL"
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the server exited before serving:\n{self.log_text()}")
        self.url = line.rsplit(" on ", 1)[1].strip()
        return self.url

    def rss_bytes(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) * 1024

    def stop(self, timeout_s: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        finally:
            self.process.kill()
            self.process.stdout.close()

    def log_text(self) -> str:
        self.log.seek(0)
        return self.log.read()


# --- the clients ---------------------------------------------------------------------------------

async def _send(session, url: str, case: Case) -> Outcome:
    headers = {"Content-Type": case.content_type} if case.body is not None else {}
    began = time.perf_counter()
    async with session.request(case.method, url + case.path, data=case.body, headers=headers) as response:
        if case.disconnect and response.status == 200:
            first = await response.content.readline()
            latency = time.perf_counter() - began
            response.close()  # hang up mid-stream
            problem = None if first.startswith(b"data: ") else f"first line {first[:80]!r}"
            return Outcome(case.name, case.valid, 200, latency, problem)
        body = await response.read()
        latency = time.perf_counter() - began
        return Outcome(case.name, case.valid, response.status, latency, _check(case, response, body))


def _check(case: Case, response, body: bytes) -> str | None:
    """Why this reply breaks the case's contract, or None."""
    status = response.status
    if status == 503 and case.behind_queue:
        if "Retry-After" not in response.headers:
            return "503 without Retry-After"
        return None if _error_code(body) == "overloaded" else f"503 {body[:200]!r}"
    if status not in case.expected:
        return f"status {status}: {body[:200]!r}"
    if status >= 400:
        error = json.loads(body).get("error", {})
        return None if error.get("message") and error.get("type") else f"no error envelope: {body[:200]!r}"
    if case.stream:
        text = body.decode()
        if not text.endswith("data: [DONE]\n\n"):
            return f"stream does not end with [DONE]: {text[-120:]!r}"
        chunks = [json.loads(b[6:]) for b in text.split("\n\n") if b.startswith("data: {")]
        return None if chunks and chunks[-1].get("usage") else "no usage chunk"
    if case.path == "/v1/chat/completions":
        choice = json.loads(body)["choices"][0]
        return None if isinstance(choice["message"]["content"], str) else f"no content: {body[:200]!r}"
    return None


def _error_code(body: bytes) -> str | None:
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


async def _client(session, url: str, cases: list[Case], weights: list[int], rng: random.Random, stop_at: float,
                  outcomes: list[Outcome]) -> None:
    while time.monotonic() < stop_at:
        case = rng.choices(cases, weights)[0]
        try:
            outcome = await _send(session, url, case)
        except Exception as error:  # noqa: BLE001 - a dropped connection is an outcome to report
            outcome = Outcome(case.name, case.valid, 0, 0.0, f"{type(error).__name__}: {error}")
        outcomes.append(outcome)
        if outcome.status == 503:
            await asyncio.sleep(rng.uniform(0, 1.0))  # a fraction of Retry-After (1 s)


async def _drive(url: str, clients: int, duration_s: float, warmup_s: float, server: ServerProcess,
                 report: SoakReport, seed: int) -> None:
    import aiohttp

    cases = build_cases()
    weights = [case.weight for case in cases]
    began = time.monotonic()
    stop_at = began + warmup_s + duration_s
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        tasks = [asyncio.create_task(_client(session, url, cases, weights, random.Random(seed + i), stop_at,
                                             report.outcomes))
                 for i in range(clients)]
        await asyncio.sleep(warmup_s)
        report.rss_warm_bytes = server.rss_bytes()
        report.warm_index = len(report.outcomes)
        while not all(task.done() for task in tasks):
            report.rss_max_bytes = max(report.rss_max_bytes, server.rss_bytes())
            await asyncio.wait(tasks, timeout=1.0)
        for task in tasks:
            task.result()
        await asyncio.sleep(1.0)  # abandoned streams: let the server notice and free their slots
        async with session.get(url + "/metrics") as response:
            metrics = await response.text()
    report.duration_s = time.monotonic() - began - warmup_s
    report.rss_end_bytes = server.rss_bytes()
    report.rss_max_bytes = max(report.rss_max_bytes, report.rss_end_bytes)
    report.cancelled_requests = _metric(metrics, "wan_cancelled_requests_total")
    report.queue_depth_end = _metric(metrics, "wan_queue_depth")


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(match.group(1)) if match else float("nan")


def run_soak(model_dir: Path, duration_s: float, clients: int = 64, max_queue: int = 8, warmup_s: float = 10.0,
             seed: int = 0) -> SoakReport:
    """Serve `model_dir`, load it for `warmup_s` + `duration_s`, stop it with SIGTERM.

    Returns:
        The `SoakReport` (figures cover the time after the warm-up; problems cover all of it).
    """
    report = SoakReport(duration_s, clients, max_queue)
    server = ServerProcess(model_dir, max_queue)
    try:
        url = server.wait_until_serving()
        asyncio.run(_drive(url, clients, duration_s, warmup_s, server, report, seed))
    finally:
        report.exit_code = server.stop()
        log = server.log_text()
        server.log.close()
    report.server_log_problems = [line for line in log.splitlines()
                                  if "Traceback" in line or " ERROR " in line or "Unexpected error" in line]
    return report


def default_model() -> Path:
    """The tiny ViT-GPT2 captioner of the contract tests (built once, then cached)."""
    sys.path.insert(0, str(REPO / "tests" / "contract"))
    import factory

    return factory.cached_build("vit_gpt2", REPO / ".cache" / "tests" / "contract").folder


def markdown(report: SoakReport, requested_s: float, model_dir: Path, hardware_line: str) -> str:
    rows = "\n".join(f"| {name} | {count} | {p50 * 1000:.1f} | {p99 * 1000:.1f} |"
                     for name, count, p50, p99 in report.latency_rows())
    by_case: dict[str, Counter] = {}
    for (name, status), count in report.statuses().items():
        by_case.setdefault(name, Counter())[status] = count
    cases = {case.name: case for case in build_cases()}
    status_rows = "\n".join(
        f"| {name} | {'valid' if cases[name].valid else 'invalid'} | "
        + ", ".join(f"{status}: {count}" for status, count in sorted(counts.items())) + " |"
        for name, counts in sorted(by_case.items()))
    findings = "\n".join(f"- {line}" for line in report.lines())
    distinct = Counter(report.problems + report.server_log_problems)
    problems = "\n".join(f"- {count} x {problem}" for problem, count in distinct.most_common(20)) or "- none"
    return f"""# Load and soak

`.venv/bin/python bench/soak.py --duration-s {requested_s:g} --clients {report.clients} \
--max-queue {report.max_queue}` against `serve --model {model_dir.name}` (the tiny random-weight captioner:
the figures measure the server, not a network; status 0: the connection failed).
{hardware_line}

{findings}

| requests answered 200 (valid) | count | p50 ms | p99 ms |
|---|---:|---:|---:|
{rows}

Latency is from sending the request to the last byte (chat_stream: `[DONE]`), except
stream_hang_up: to the first SSE line, after which the client hangs up.

| case | kind | statuses |
|---|---|---|
{status_rows}

Replies that broke their case's contract, and server log errors:
{problems}
"""


def hardware_line() -> str:
    sys.path.insert(0, str(REPO))
    from runtime.placement import detect_hardware

    hardware = detect_hardware()
    return (f"CPU: {hardware.cpu_model}; usable cores {hardware.usable_cores}; "
            f"flags: {', '.join(sorted(hardware.isa))}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration-s", type=float, default=300.0)
    parser.add_argument("--warmup-s", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--max-queue", type=int, default=8)
    parser.add_argument("--model", type=Path, help="model folder (default: the tiny test captioner)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    model_dir = args.model or default_model()
    report = run_soak(model_dir, args.duration_s, args.clients, args.max_queue, args.warmup_s)
    text = markdown(report, args.duration_s, model_dir, hardware_line())
    print(text)
    args.out.write_text(text)
    return 1 if report.problems or report.server_log_problems else 0


if __name__ == "__main__":
    sys.exit(main())
