"""Prometheus metrics, one `CollectorRegistry` per app (so apps and tests never share counts)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServerMetrics:
    """Everything `/metrics` reports (DESIGN §6)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "wan_http_requests", "HTTP requests by route and status.", ["route", "method", "status"], registry=registry
        )
        self.errors = Counter("wan_errors", "Error responses by error code.", ["code"], registry=registry)
        self.queue_depth = Gauge("wan_queue_depth", "Requests holding a queue slot (waiting or running).", registry=registry)
        # The two parts of the queue depth, read from the engine's scheduler at each scrape: what a
        # cluster autoscales on (issue 16).
        self.requests_waiting = Gauge(
            "wan_requests_waiting", "Requests holding a queue slot whose engine work has not started yet.",
            registry=registry,
        )
        self.requests_running = Gauge(
            "wan_requests_running", "Requests whose engine work has started and that have not finished.",
            registry=registry,
        )
        self.batch_size = Histogram(
            "wan_batch_size", "Items per engine call (images or texts).", ["task"], buckets=_BATCH_BUCKETS, registry=registry
        )
        self.tokens = Counter("wan_tokens", "Tokens processed, by direction (prompt, completion).", ["direction"], registry=registry)
        self.time_to_first_token = Histogram(
            "wan_time_to_first_token_seconds", "From request start to the first streamed token.",
            buckets=_LATENCY_BUCKETS, registry=registry,
        )
        self.image_decode = Histogram(
            "wan_image_decode_seconds", "Time to decode one request image.", buckets=_LATENCY_BUCKETS, registry=registry
        )
        self.task_latency = Histogram(
            "wan_task_latency_seconds", "Engine time per task.", ["task"], buckets=_LATENCY_BUCKETS, registry=registry
        )
        self.cancelled = Counter(
            "wan_cancelled_requests", "Requests cancelled because the client went away.", registry=registry
        )
        self.timeouts = Counter("wan_timed_out_requests", "Requests that ran past the request timeout.", registry=registry)

    def watch_queue(self, runner) -> None:
        """Report `runner`'s (a `runtime.scheduler.EngineRunner`) waiting and running requests."""
        self.requests_waiting.set_function(lambda: runner.waiting)
        self.requests_running.set_function(lambda: runner.running)

    def count_usage(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.tokens.labels("prompt").inc(prompt_tokens)
        self.tokens.labels("completion").inc(completion_tokens)

    def render(self) -> bytes:
        return generate_latest(self.registry)
