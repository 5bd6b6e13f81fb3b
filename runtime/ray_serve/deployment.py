"""The Serve application (issue 16): `ModelReplica`s each load the bundle with the launcher's
planner and answer through the ASGI app (runtime/asgi/) over their own `ApiService`; one
`Ingress` relays HTTP requests to them through a deployment handle."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import AsyncIterator

from ray import serve
from ray.serve import Application
from ray.serve.exceptions import RayServeException
from ray.serve.handle import DeploymentHandle

from runtime.api.config import ServerConfig
from runtime.api.service import ApiService
from runtime.asgi import call_app, create_asgi_app, stream_app
from runtime.loading import load_model, plan_load
from runtime.placement import detect_hardware
from runtime.server.remote import fetch_remote_image

from .config import ReplicaSpec, ScalingSpec
from .forwarding import ForwardingApp

logger = logging.getLogger("runtime.server")

DEPLOYMENT_NAME = "wan-model"
INGRESS_NAME = "wan-ingress"


@serve.deployment(name=DEPLOYMENT_NAME)
class ModelReplica:
    """One replica: the model planned and loaded from `spec` (then warmed up on a thread), behind the API.

    The planner sees `spec.num_cpus` usable cores (what Ray reserved for the replica), so
    workers x intra-op threads stay within them. Requests reach it from the `Ingress`
    through a deployment handle (`stream`); every response carries the replica's id in
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
        model = self.service.load(lambda: load_model(plan))
        self.service.set_model(model)
        self.service.warm_up_later(model)  # on a thread: the replica serves meanwhile
        self.budget = plan.budget
        self.api = create_asgi_app(self.service, replica=self.replica)

    async def stream(self, method: str, path: str, body: bytes = b"",
                     headers: list[tuple[str, str]] | None = None) -> AsyncIterator[tuple[int, list] | bytes]:
        """One API request: `(status, headers)`, then the body as it is written (SSE too)."""
        async for item in stream_app(self.api, method, path, body, headers):
            yield item

    async def call(self, method: str, path: str, body: bytes = b"",
                   headers: list[tuple[str, str]] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One API request, its reply whole: (status, headers, body)."""
        return await call_app(self.api, method, path, body, headers)

    def thread_budget(self) -> dict:
        """How this replica split its `num_cpus` (workers, intra-op threads, reason)."""
        return dataclasses.asdict(self.budget)


@serve.deployment(name=INGRESS_NAME)
@serve.ingress()
class Ingress:
    """Serve's HTTP entry: relays each request to a `ModelReplica` (runtime/ray_serve/forwarding.py)."""

    def __init__(self, model: DeploymentHandle, server: ServerConfig):
        self.forwarding = ForwardingApp(model, server.max_body_bytes)

    def __serve_build_asgi_app__(self):
        return self.forwarding

    async def call(self, method: str, path: str, body: bytes = b"",
                   headers: list[tuple[str, str]] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request through the ingress and a replica, without Serve's HTTP proxy."""
        return await call_app(self.forwarding, method, path, body, headers)


def _replica_name() -> str:
    """Serve's id of this replica; in Serve's local testing mode (no cluster) there is none,
    and the process id names the one in-process replica."""
    try:
        return serve.get_replica_context().replica_tag
    except RayServeException:
        return f"local-{os.getpid()}"


def build_application(spec: ReplicaSpec, server: ServerConfig, scaling: ScalingSpec) -> Application:
    """The Serve application: one `Ingress` on the head node (no CPU reserved) in front of the
    `ModelReplica` deployment with its CPUs and replica count.

    Serve lets a replica take up to twice its `--max-queue` at once, so Serve forwards
    requests rather than holding them in its own (unbounded) queue: each replica's queue is
    the bound, and past it the replica answers 503 with Retry-After as the single-process
    server does.
    """
    model = ModelReplica.options(
        ray_actor_options={"num_cpus": spec.num_cpus},
        max_ongoing_requests=2 * server.max_queue,
        **scaling.serve_options(),
    ).bind(spec, server)
    # The head node carries Ray's `node:__internal_head__` resource: the ingress lives beside the
    # proxy (HeadOnly, launch.py), so losing a worker node never takes the entry point with it.
    return Ingress.options(
        num_replicas=1,
        ray_actor_options={"num_cpus": 0, "resources": {"node:__internal_head__": 0.001}},
        max_ongoing_requests=100_000,
    ).bind(model, server)
