"""The Serve deployment: each replica loads the bundle with the launcher's planner and serves
the ASGI ingress (runtime/asgi/) over its own `ApiService` (issue 16)."""

from __future__ import annotations

import dataclasses
import logging
import os

from ray import serve
from ray.serve import Application
from ray.serve.exceptions import RayServeException

from runtime.api.config import ServerConfig
from runtime.api.service import ApiService
from runtime.asgi import call_app, create_asgi_app
from runtime.loading import load_model, plan_load
from runtime.placement import detect_hardware
from runtime.server.remote import fetch_remote_image

from .config import ReplicaSpec, ScalingSpec

logger = logging.getLogger("runtime.server")

DEPLOYMENT_NAME = "wan-model"


@serve.deployment(name=DEPLOYMENT_NAME)
@serve.ingress()
class ModelReplica:
    """One replica: the model planned and loaded from `spec`, warmed up, behind the API.

    The planner sees `spec.num_cpus` usable cores (what Ray reserved for the replica), so
    workers x intra-op threads stay within them. Every response carries the replica's id in
    `X-Wan-Replica`.
    """

    def __init__(self, spec: ReplicaSpec, server: ServerConfig):
        hardware = dataclasses.replace(detect_hardware(), usable_cores=spec.num_cpus)
        plan = plan_load(spec.model_dir, spec.precision, spec.device, spec.max_seq_len,
                         max_concurrent=spec.max_batch_size, max_image_pixels=spec.max_image_pixels,
                         hardware=hardware, verify=True)
        self.replica = _replica_name()
        for line in plan.lines():
            logger.info("replica %s: %s", self.replica, line)
        self.service = ApiService(server, None, fetch_remote_image)
        self.service.set_model(self.service.load(lambda: load_model(plan)))  # load, then the warm-up request
        self.threads = plan.budget
        self.ingress = create_asgi_app(self.service, replica=self.replica)

    def __serve_build_asgi_app__(self):
        return self.ingress

    async def call(self, method: str, path: str, body: bytes = b"",
                   headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One API request without the HTTP proxy, for deployment-handle callers (another
        deployment, or tests): (status, headers, body); a streamed reply comes back whole."""
        return await call_app(self.ingress, method, path, body, headers)

    def thread_budget(self) -> dict:
        """How this replica split its `num_cpus` (workers, intra-op threads, reason)."""
        return dataclasses.asdict(self.threads)


def _replica_name() -> str:
    """Serve's id of this replica; in Serve's local testing mode (no cluster) there is none,
    and the process id names the one in-process replica."""
    try:
        return serve.get_replica_context().replica_tag
    except RayServeException:
        return f"local-{os.getpid()}"


def build_application(spec: ReplicaSpec, server: ServerConfig, scaling: ScalingSpec) -> Application:
    """The Serve application: `ModelReplica` with its CPUs and replica count.

    Serve lets a replica take up to twice its `--max-queue` at once, so Serve forwards
    requests rather than holding them in its own (unbounded) queue: each replica's queue is
    the bound, and past it the replica answers 503 with Retry-After as the single-process
    server does.
    """
    options = {
        "ray_actor_options": {"num_cpus": spec.num_cpus},
        "max_ongoing_requests": 2 * server.max_queue,
        **scaling.serve_options(),
    }
    return ModelReplica.options(**options).bind(spec, server)
