"""Whole document questions through the HTTP server vs the same questions in-process (issue 13,
comparison 4).

    .venv/bin/python bench/http_requests.py [--bundle DIR] [--requests 48] [--clients 16]
        [--out bench/results/http_requests.md] [--json PATH]

Questions: generated pages of a development seed (tests/golden/docvqa.py, seed 1), each
request a different (page, question) pair, and every image made unique by one changed
pixel, so the reader's picture memos never answer from an earlier request: every request
reads its page.
- in-process: `runtime.load_model` as `run` loads it (one request at a time), `model.ask`
  one after another: the floor the server adds its cost to;
- through the server: `python -m launcher.cli serve` on loopback, `POST /v1/chat/completions`
  with the page as a `data:` URI, first one client sending the requests one after another,
  then `--clients` clients at once sharing the same list.
Reported: p50 latency at concurrency 1 over in-process p50 (target <= 1.2x), throughput
with `--clients` clients over throughput with one (target >= 2x), p99 / p50 latency with
`--clients` clients (target <= 10x), with the CPU flags. Medians and percentiles are of
single requests (nearest rank); one run of each phase after a warm-up request. Also where an
in-process request's time goes: the time inside each component's onnxruntime runs, and the
rest (Python).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import io
import json
import math
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "golden"))

import docvqa  # noqa: E402
from bench_common import Figure, add_json_argument, cpu_line, default_bundle, report, write_figures  # noqa: E402
from soak import ServerProcess  # noqa: E402

from runtime import load_model  # noqa: E402
from runtime.placement import detect_hardware  # noqa: E402


def requests_from_pages(count: int, pages: int, offset: int = 0) -> list[tuple[object, str]]:
    """`count` (image, question) pairs over `pages` generated pages, every image unique (and
    unique across calls with different `offset`s: a phase never finds another's memo)."""
    documents = docvqa.make_documents(seed=1, count=pages)
    pairs = []
    for index in range(count):
        document = documents[index % len(documents)]
        question = document.questions[(index // len(documents)) % len(document.questions)]
        image = document.image.convert("RGB")
        mark = offset + index
        image.putpixel((0, 0), (mark % 251, (mark // 251) % 251, 7))  # a new picture for the memos
        pairs.append((image, question.text))
    return pairs


def _png(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def chat_body(image, question: str) -> bytes:
    return json.dumps({"model": "reader", "max_tokens": 64, "temperature": 0, "messages": [{"role": "user", "content": [
        {"type": "text", "text": question},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + _png(image)}},
    ]}]}).encode()


class Client:
    """One keep-alive connection to the server, as a chat client holds one."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)

    def ask(self, body: bytes) -> tuple[float, str]:
        began = time.perf_counter()
        self.connection.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - began
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
        return elapsed, json.loads(payload)["choices"][0]["message"]["content"]


def run_clients(url: str, bodies: list[bytes], clients: int) -> tuple[list[float], float, list[str]]:
    """Latencies, wall seconds and replies of `bodies` sent by `clients` clients at once."""
    pending = list(enumerate(bodies))
    replies: list[str] = [""] * len(bodies)
    latencies: list[float] = []

    def work() -> None:
        client = Client(url)
        while pending:
            try:
                index, body = pending.pop(0)
            except IndexError:
                return
            latency, replies[index] = client.ask(body)
            latencies.append(latency)

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(work) for _ in range(clients)]:
            future.result()
    return latencies, time.perf_counter() - began, replies


def percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


class _Spent:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.runs: dict[str, int] = {}


@contextlib.contextmanager
def session_time():
    """Time spent inside each component's onnxruntime runs while the block runs, by component
    (`ComponentSession.picked` wraps every run, `FusedDecoder`'s bound ones included)."""
    from runtime.session import ComponentSession

    spent, original = _Spent(), ComponentSession.picked

    @contextlib.contextmanager
    def picked(self):
        began = time.perf_counter()
        with original(self) as session:
            yield session
        spent.seconds[self.component] = spent.seconds.get(self.component, 0.0) + time.perf_counter() - began
        spent.runs[self.component] = spent.runs.get(self.component, 0) + 1

    ComponentSession.picked = picked
    try:
        yield spent
    finally:
        ComponentSession.picked = original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=default_bundle())
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--out", type=Path, default=None)
    add_json_argument(parser)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]  # other work on the machine moves these latencies a lot: say how much
    hardware = detect_hardware()
    pairs = requests_from_pages(args.requests, args.pages)
    bodies = [chat_body(image, question) for image, question in pairs]  # the same pictures as in-process
    others = [chat_body(image, question) for image, question in requests_from_pages(args.requests, args.pages,
                                                                                    offset=args.requests)]
    warm_up = requests_from_pages(1, 1, offset=2 * args.requests)[0]

    model = load_model(args.bundle, max_concurrent=1)
    model.ask(*warm_up)
    inprocess, local_replies = [], []
    with session_time() as spent:
        for image, question in pairs:
            began = time.perf_counter()
            local_replies.append(model.ask(image, question).text)
            inprocess.append(time.perf_counter() - began)
    del model

    server = ServerProcess(args.bundle, max_queue=4 * args.clients)
    try:
        url = server.wait_until_serving()
        Client(url).ask(chat_body(*warm_up))
        single, single_wall, replies_1 = run_clients(url, bodies, 1)
        many, many_wall, replies_n = run_clients(url, others, args.clients)  # new pictures: no memo hits
    finally:
        server.stop()

    p50_local, p50_1, p50_n, p99_n = (statistics.median(inprocess), statistics.median(single),
                                      statistics.median(many), percentile(many, 99))
    rate_1, rate_n = len(bodies) / single_wall, len(bodies) / many_wall
    same = sum(a == b == c for a, b, c in zip(local_replies, replies_1, replies_n))
    comparison = "4. Document questions through the HTTP server"
    write_figures([
        Figure(comparison, "p50 latency, HTTP (1 client) / in-process", p50_1 / p50_local, "x", at_most=1.2,
               note=f"{p50_1 * 1000:.0f} vs {p50_local * 1000:.0f} ms"),
        Figure(comparison, f"throughput, {args.clients} clients / 1 client", rate_n / rate_1, "x", at_least=2.0,
               note=f"{rate_n:.2f} vs {rate_1:.2f} requests/s"),
        Figure(comparison, f"p99 / p50 latency with {args.clients} clients", p99_n / p50_n, "x", at_most=10.0,
               note=f"p99 {p99_n * 1000:.0f} ms, p50 {p50_n * 1000:.0f} ms"),
    ], args.json)
    text = "\n".join([
        f"# Document questions through the HTTP server vs in-process ({args.bundle.name} bundle, auto precision)",
        "",
        f"{cpu_line(hardware)}. Load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after. "
        f"{len(bodies)} requests over {args.pages} generated pages (seed 1), every image unique. "
        f"`.venv/bin/python bench/http_requests.py --requests {args.requests} --clients {args.clients}`",
        "",
        "| path | clients | p50 ms | p99 ms | requests/s |",
        "|---|---:|---:|---:|---:|",
        f"| in-process (`model.ask`) | 1 | {p50_local * 1000:.0f} | {percentile(inprocess, 99) * 1000:.0f} | "
        f"{len(pairs) / sum(inprocess):.2f} |",
        f"| HTTP `/v1/chat/completions` | 1 | {p50_1 * 1000:.0f} | {percentile(single, 99) * 1000:.0f} | {rate_1:.2f} |",
        f"| HTTP `/v1/chat/completions` | {args.clients} | {p50_n * 1000:.0f} | {p99_n * 1000:.0f} | {rate_n:.2f} |",
        "",
        f"HTTP p50 / in-process p50 **{p50_1 / p50_local:.2f}** (target <= 1.2); throughput {args.clients} clients / 1 "
        f"**{rate_n / rate_1:.2f}** (target >= 2); p99 / p50 with {args.clients} clients **{p99_n / p50_n:.2f}** "
        f"(target <= 10). Replies equal in all three runs: {same}/{len(bodies)}.",
        "",
        "Where an in-process request's time goes (time inside each component's onnxruntime runs, per "
        "request; the rest is Python: decoding the picture, preprocessing, layout, answering):",
        "",
        "| component | ms per request | runs per request |",
        "|---|---:|---:|",
        *[f"| {name} | {1000 * seconds / len(pairs):.0f} | {spent.runs[name] / len(pairs):.1f} |"
          for name, seconds in sorted(spent.seconds.items(), key=lambda item: -item[1])],
        f"| everything else | {1000 * (sum(inprocess) - sum(spent.seconds.values())) / len(pairs):.0f} | |",
        "",
    ])
    return report(text, args.out)


if __name__ == "__main__":
    sys.exit(main())
