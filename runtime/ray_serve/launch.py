"""`serve_on_ray`: start or join a Ray cluster, deploy the model application, print its URL,
serve until SIGTERM/SIGINT, then take the application down (issue 16).

Ray pitfalls this avoids (measured, ../shared/FACTS.md "Scale-out engines"): a replica that
asks for more CPUs than the cluster has waits forever, so the CPUs are checked before
deploying; weights never travel through Ray (replicas load the bundle by path); onnxruntime
does not see Ray's CPU accounting, so each replica sizes its threads from `num_cpus`.
"""

from __future__ import annotations

import logging
import re
import signal
import socket
import threading
from collections.abc import Callable

import ray
from ray import serve

from runtime.api.config import ServerConfig
from runtime.errors import InvalidRequestError, WanError

from .config import ReplicaSpec, ScalingSpec
from .deployment import DEPLOYMENT_NAME, build_application

logger = logging.getLogger("runtime.server")

APP_NAME = "wan2.2-turbo"


def serve_on_ray(spec: ReplicaSpec, server: ServerConfig, scaling: ScalingSpec, address: str = "local",
                 announce: Callable[[str], None] = print, stop: threading.Event | None = None) -> int:
    """Deploy the model on Ray Serve and serve until stopped; return the exit code (0).

    Args:
        spec: what each replica loads, and its CPUs.
        server: the API settings (host and port are the Serve proxy's, on the head node).
        scaling: fixed replicas or autoscaling bounds.
        address: "local" starts a one-machine cluster in this process (stopped at the end);
            "auto" joins the cluster this machine belongs to; "HOST:PORT" joins that head.
        announce: prints the URL once every replica is ready.
        stop: set it to stop (tests); SIGTERM and SIGINT set it too when called on the
            main thread.

    Raises:
        InvalidRequestError: the cluster has fewer CPUs than the replicas need.
    """
    stop = stop or threading.Event()
    started_here = address == "local"
    ray.init(address=address, include_dashboard=False if started_here else None, log_to_driver=False)
    _on_signals(stop)  # after ray.init, which installs a SIGTERM handler that exits at once
    try:
        _check_cpus(spec, scaling)
        port = server.port or _free_port(server.host)
        serve.start(http_options={"host": server.host, "port": port}, proxy_location="HeadOnly")
        try:
            serve.run(build_application(spec, server, scaling), name=APP_NAME, route_prefix="/")
        except RuntimeError:  # Serve gave up starting the replicas (DEPLOY_FAILED)
            raise WanError(f"The replicas could not start: {_replica_error()} (each replica's log is in Ray's "
                           "session folder, logs/serve/, on its node).") from None
        announce(f"Serving {spec.model_dir} on Ray Serve ({scaling.describe()}, {spec.num_cpus} CPU(s) each) "
                 f"at {_url()}")
        stop.wait()
        logger.info("Stopping: taking the application down.")
        serve.delete(APP_NAME)
        if started_here:
            serve.shutdown()
        return 0
    finally:
        ray.shutdown()


def _check_cpus(spec: ReplicaSpec, scaling: ScalingSpec) -> None:
    """Refuse a deployment whose replicas cannot all get their CPUs (Ray would wait forever)."""
    total = int(ray.cluster_resources().get("CPU", 0))
    needed = spec.num_cpus * scaling.fewest
    if needed > total:
        raise InvalidRequestError(
            f"{scaling.fewest} replica(s) x {spec.num_cpus} CPU(s) need {needed} CPUs, but the Ray cluster has "
            f"{total}; lower --replicas (or --min-replicas) or --num-cpus, or add nodes. (Ray would wait for "
            "them forever.)", param="num_cpus")
    if scaling.autoscaling and spec.num_cpus * scaling.max_replicas > total:
        logger.warning("--max-replicas %d x %d CPU(s) is more than the cluster's %d CPUs: it will not scale that "
                       "far unless nodes are added.", scaling.max_replicas, spec.num_cpus, total)


def _replica_error() -> str:
    """The model deployment's own error, out of Serve's status (which carries its traceback)."""
    application = serve.status().applications.get(APP_NAME)
    deployment = application.deployments.get(DEPLOYMENT_NAME) if application else None
    lines = [line.strip() for line in (deployment.message if deployment else "").splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception):", line)]
    return errors[-1] if errors else (lines[-1] if lines else "Serve gave no reason")


def _free_port(host: str) -> int:
    """A port free on `host` now (Serve's proxy needs a number; --port 0 means any free one)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _url() -> str:
    """The proxy's address as Serve runs it (an existing Serve instance keeps its own)."""
    from ray.serve.context import _get_global_client

    config = _get_global_client().http_config
    host = f"[{config.host}]" if ":" in config.host else config.host
    return f"http://{host}:{config.port}"


def _on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
