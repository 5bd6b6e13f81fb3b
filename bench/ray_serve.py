"""Ray Serve vs the single-process server, side by side in one run (issue 16).

    .venv/bin/python bench/ray_serve.py [--bundle DIR] [--requests 24] [--clients 4] [--probes 60]
        [--out bench/results/ray_serve.md] [--json PATH]

Four deployments of the same bundle on this machine, one after another, on loopback:
- `serve`: `python -m launcher.cli serve --max-batch-size 2` (one process, every core);
- `ray`, 1 replica x 2 CPUs, and `ray`, 2 replicas x 1 CPU (`--address local`, `--max-batch-size 2`
  and 1: the same cores as `serve`);
- `ray` on two Ray nodes of this machine (head 127.0.0.2, worker 127.0.0.3, 1 CPU each; one
  replica on each), for the memory each node holds.
`--rounds` times, the order reversed every other round.
For each: the added cost of a request (p50 of `--probes` sequential `POST /v1/embeddings`
with one short text, the cheapest model call, so the path's overhead shows), throughput of
document questions (`/v1/chat/completions` with a generated page and its question, every
picture unique so no memo answers; `--clients` clients at once, requests/s over the batch,
after one warm-up request), and memory: resident set size of every process of the
deployment (for Ray: the command, Ray's own processes and the replicas), per node, read
while serving. Replies must be equal across all four (greedy decoding).
The load averages before and after are printed: figures from a busy machine compare only
with each other.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "golden"))

from bench_common import Figure, add_json_argument, cpu_line, default_bundle, report, write_figures  # noqa: E402
from http_requests import Client, chat_body, percentile, requests_from_pages, run_clients  # noqa: E402

from runtime.placement import detect_hardware  # noqa: E402

URL = re.compile(r"(http://[0-9.:]+)\s*$")
TWO_NODES = "ray, 2 nodes (127.0.0.2, .3) x 1 replica x 1 CPU"


class Deployment:
    """`python -m launcher.cli ARGS` in its own process group until it prints its URL."""

    def __init__(self, name: str, args: list[str], ready_s: float = 600):
        self.name = name
        self.log = tempfile.TemporaryFile(mode="w+")
        environment = {k: v for k, v in os.environ.items() if not k.startswith("WAN_TURBO_")}
        self.process = subprocess.Popen([sys.executable, "-m", "launcher.cli", *args], cwd=REPO, text=True,
                                        stdout=subprocess.PIPE, stderr=self.log, start_new_session=True,
                                        env={**environment, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + ready_s
        self.url = ""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                self.log.seek(0)
                raise RuntimeError(f"{name} exited before serving:\n{self.log.read()[-3000:]}")
            match = URL.search(line)
            if line.startswith("Serving") and match:
                self.url = match.group(1)
                return
        raise RuntimeError(f"{name}: no URL within {ready_s} s")

    def rss_bytes(self) -> tuple[int, dict[str, int]]:
        """Resident bytes of the command and every process under it, and per model replica."""
        return tree_rss([self.process.pid])

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this bench started
            return self.process.wait(30)
        finally:
            self.process.stdout.close()


def tree_rss(roots: list[int]) -> tuple[int, dict[str, int]]:
    """Resident bytes of the processes `roots` and every process under them, and per model replica."""
    parents, names = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                names[int(entry.name)] = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = set(roots), list(roots)
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    total, replicas = 0, {}
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        rss = int(match.group(1)) * 1024 if match else 0
        total += rss
        if "ServeReplica" in names.get(pid, "") and "wan-model" in names[pid]:
            replicas[str(pid)] = rss
    return total, replicas


class TwoNodes:
    """Two Ray nodes on this machine, head on 127.0.0.2 and worker on 127.0.0.3, 1 CPU each
    (`ray.cluster_utils.Cluster`, as tests/ray/test_two_nodes.py)."""

    HEAD_IP, WORKER_IP = "127.0.0.2", "127.0.0.3"

    def __init__(self):
        from ray.cluster_utils import Cluster

        self.cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 1, "node_ip_address": self.HEAD_IP, "include_dashboard": False})
        self.worker = self.cluster.add_node(num_cpus=1, node_ip_address=self.WORKER_IP)

    @staticmethod
    def _roots(node) -> list[int]:
        return [info.process.pid for infos in node.all_processes.values() for info in infos if info.process]

    def rss_by_node(self, driver: Deployment) -> dict[str, int]:
        """The head's processes (with the `ray` command, its driver) and the worker's."""
        return {"head": tree_rss([driver.process.pid, *self._roots(self.cluster.head_node)])[0],
                "worker": tree_rss(self._roots(self.worker))[0]}

    def shutdown(self) -> None:
        self.cluster.shutdown()


def _probe(url: str, probes: int) -> list[float]:
    """Latencies of `probes` sequential one-text embeddings on one keep-alive connection."""
    client = Client(url)
    body = json.dumps({"model": "reader", "input": ["total due"]}).encode()
    times = []
    for index in range(probes + 1):
        began = time.perf_counter()
        client.connection.request("POST", "/v1/embeddings", body, {"Content-Type": "application/json"})
        response = client.connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
        if index:  # the first one warms the connection
            times.append(time.perf_counter() - began)
    return times


def _measure(deployment: Deployment, bodies: list[bytes], warm_up: bytes, clients: int, probes: int,
             nodes: TwoNodes | None = None) -> dict:
    Client(deployment.url).ask(warm_up)
    latencies = _probe(deployment.url, probes)
    chat_latencies, wall_s, replies = run_clients(deployment.url, bodies, clients)
    total, replicas = deployment.rss_bytes()
    by_node = nodes.rss_by_node(deployment) if nodes else {"this node": total}
    if nodes:
        total, replicas = sum(by_node.values()), {**tree_rss(TwoNodes._roots(nodes.cluster.head_node))[1],
                                                  **tree_rss(TwoNodes._roots(nodes.worker))[1]}
    return {"probe_p50_s": statistics.median(latencies), "probe_p99_s": percentile(latencies, 99),
            "chat_p50_s": statistics.median(chat_latencies), "rate": len(bodies) / wall_s, "replies": replies,
            "rss_total": total, "rss_replicas": replicas, "rss_nodes": by_node}


def _combine(measured: list[dict]) -> dict:
    """One row from the rounds: medians of the latencies and rates, the largest memory."""
    middle = {key: statistics.median(m[key] for m in measured)
              for key in ("probe_p50_s", "probe_p99_s", "chat_p50_s", "rate")}
    largest = max(measured, key=lambda m: m["rss_total"])
    return {**middle, "rss_total": largest["rss_total"], "rss_replicas": largest["rss_replicas"],
            "rss_nodes": largest["rss_nodes"],
            "replies": [reply for m in measured for reply in m["replies"]], "rates": [m["rate"] for m in measured]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=default_bundle())
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    add_json_argument(parser)
    args = parser.parse_args(argv)
    hardware = detect_hardware()
    load_before = os.getloadavg()
    common = ["--model", str(args.bundle), "--port", "0", "--max-queue", str(4 * args.clients)]
    plans = [
        ("serve (1 process, --max-batch-size 2)", ["serve", *common, "--max-batch-size", "2"]),
        ("ray, 1 replica x 2 CPUs", ["ray", *common, "--replicas", "1", "--num-cpus", "2", "--max-batch-size", "2"]),
        ("ray, 2 replicas x 1 CPU", ["ray", *common, "--replicas", "2", "--num-cpus", "1", "--max-batch-size", "1"]),
        (TWO_NODES, ["ray", *common, "--replicas", "2", "--num-cpus", "1", "--max-batch-size", "1",
                     "--host", TwoNodes.HEAD_IP]),
    ]
    runs: dict[str, list[dict]] = {name: [] for name, _ in plans}
    phase = 0
    for round_index in range(args.rounds):  # the order reverses each round: a busier moment hits each in turn
        for name, command in (plans if round_index % 2 == 0 else plans[::-1]):
            phase += 1
            pairs = requests_from_pages(args.requests, args.pages, offset=phase * 10_000)
            bodies = [chat_body(image, question) for image, question in pairs]
            warm_up = chat_body(*requests_from_pages(1, 1, offset=phase + 500)[0])
            nodes = TwoNodes() if name == TWO_NODES else None
            try:
                if nodes:
                    command = [*command, "--address", nodes.cluster.gcs_address]
                deployment = Deployment(name, command)
                try:
                    runs[name].append(_measure(deployment, bodies, warm_up, args.clients, args.probes, nodes))
                finally:
                    deployment.stop()
            finally:
                if nodes:
                    nodes.shutdown()
    load_after = os.getloadavg()
    results = {name: _combine(measured) for name, measured in runs.items()}

    serve_name, one_name, two_name, _ = (name for name, _ in plans)
    base = results[serve_name]
    replies = [r["replies"] for r in results.values()]
    # Each phase asks about differently marked pictures; the marks change no answer, so the
    # replies of the four deployments are compared item by item.
    same = sum(len({run[i] for run in replies}) == 1 for i in range(args.requests * args.rounds))
    nodes = results[TWO_NODES]["rss_nodes"]
    rows = []
    for name, r in results.items():
        replicas = ", ".join(f"{v / 2**20:.0f}" for v in r["rss_replicas"].values()) or "-"
        rates = " / ".join(f"{rate:.2f}" for rate in r["rates"])
        per_node = ", ".join(f"{node} {value / 2**20:.0f}" for node, value in r["rss_nodes"].items())
        rows.append(f"| {name} | {r['probe_p50_s'] * 1000:.1f} | {r['probe_p99_s'] * 1000:.1f} | "
                    f"{r['chat_p50_s'] * 1000:.0f} | {r['rate']:.2f} ({rates}) | {per_node} | {replicas} |")
    added_ms = (results[one_name]["probe_p50_s"] - base["probe_p50_s"]) * 1000
    comparison = "7. Ray Serve vs the single-process server"  # bench/run_all.py's numbering
    write_figures([
        Figure(comparison, "added latency per request (ray 1 replica - serve, p50)", added_ms, "ms"),
        Figure(comparison, "throughput ray 2x1 / serve", results[two_name]["rate"] / base["rate"], "x"),
        Figure(comparison, "throughput ray 1x2 / serve", results[one_name]["rate"] / base["rate"], "x"),
        Figure(comparison, "memory ray 2x1 / serve (this node)", results[two_name]["rss_total"] / base["rss_total"], "x"),
        Figure(comparison, "memory per node, 2 nodes: head", nodes["head"] / 2**20, "MiB"),
        Figure(comparison, "memory per node, 2 nodes: worker", nodes["worker"] / 2**20, "MiB"),
    ], args.json)
    text = "\n".join([
        f"# Ray Serve vs the single-process server ({args.bundle.name} bundle, auto precision)",
        "",
        f"{cpu_line(hardware)}. Load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min). "
        f"`.venv/bin/python bench/ray_serve.py --bundle {args.bundle} --requests {args.requests} --clients {args.clients} "
        f"--probes {args.probes} "
        f"--rounds {args.rounds}`. Each row: medians over the rounds (requests/s of each round in brackets), the "
        "largest memory seen.",
        "",
        "| deployment | embed p50 ms | embed p99 ms | chat p50 ms | chat requests/s (rounds) | RSS MiB per node | RSS MiB per replica |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Added latency per request through Ray Serve (proxy, ingress, handle; 1 replica vs `serve`, p50 of "
        f"{args.probes} one-text embeddings): **{added_ms:.1f} ms**. Document questions ({args.requests} requests, "
        f"{args.clients} clients): 2 replicas x 1 CPU **{results[two_name]['rate'] / base['rate']:.2f}x** and 1 replica x "
        f"2 CPUs **{results[one_name]['rate'] / base['rate']:.2f}x** the single process's requests/s. Memory on this "
        f"node: {results[two_name]['rss_total'] / base['rss_total']:.2f}x (2 replicas) and "
        f"{results[one_name]['rss_total'] / base['rss_total']:.2f}x (1 replica) the single process's; with 2 nodes "
        f"the head (Ray's cluster processes, the `ray` command, the ingress, a replica) held {nodes['head'] / 2**20:.0f} "
        f"MiB and the worker {nodes['worker'] / 2**20:.0f} MiB. Replies equal in all four: "
        f"{same}/{args.requests * args.rounds}.",
        "",
    ])
    return report(text, args.out)


if __name__ == "__main__":
    sys.exit(main())
