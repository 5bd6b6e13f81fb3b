"""What a replica loads and how many replicas run: frozen, picklable (Ray ships them to
each replica), and checked here so that bad values fail before a cluster is touched."""

from __future__ import annotations

from dataclasses import dataclass

from runtime.errors import InvalidRequestError


@dataclass(frozen=True)
class ReplicaSpec:
    """How each replica loads its model (the launcher's load options, per replica).

    `model_dir` must be readable at the same path on every node (shared storage or a baked
    image): weights are never shipped through Ray (its `working_dir` is capped at 512 MiB).
    `num_cpus` is what each replica reserves from Ray; the replica's thread budget splits
    those cores (not the node's) between its workers and onnxruntime's intra-op threads,
    because onnxruntime does not see Ray's CPU accounting.
    """

    model_dir: str
    precision: str = "auto"
    device: str = "auto"
    max_seq_len: int | None = None
    max_image_pixels: int = 50_000_000
    max_batch_size: int = 8
    num_cpus: int = 1

    def __post_init__(self):
        if isinstance(self.num_cpus, bool) or not isinstance(self.num_cpus, int) or self.num_cpus < 1:
            raise InvalidRequestError(f"num_cpus must be a whole number of CPUs, at least 1 (got {self.num_cpus!r}).",
                                      param="num_cpus")
        if self.max_batch_size < 1:
            raise InvalidRequestError("max_batch_size must be at least 1.", param="max_batch_size")


@dataclass(frozen=True)
class ScalingSpec:
    """A fixed number of replicas, or autoscaling between `min_replicas` and `max_replicas`
    on Serve's ongoing requests per replica (`target_ongoing_requests`), adding a replica once
    the load has lasted `upscale_delay_s` and removing one after `downscale_delay_s`."""

    replicas: int | None = 1
    min_replicas: int | None = None
    max_replicas: int | None = None
    target_ongoing_requests: float = 2.0
    upscale_delay_s: float = 30.0  # Serve's defaults: how long the load must last before it adds
    downscale_delay_s: float = 600.0  # or removes a replica

    def __post_init__(self):
        autoscaling = self.min_replicas is not None or self.max_replicas is not None
        if autoscaling and self.replicas is not None:
            raise InvalidRequestError("Give either a fixed number of replicas or --min-replicas/--max-replicas, "
                                      "not both.", param="replicas")
        if autoscaling:
            if self.min_replicas is None or self.max_replicas is None:
                raise InvalidRequestError("Autoscaling needs both --min-replicas and --max-replicas.",
                                          param="max_replicas")
            if not 0 <= self.min_replicas <= self.max_replicas or self.max_replicas < 1:
                raise InvalidRequestError(
                    f"Need 0 <= --min-replicas <= --max-replicas and --max-replicas >= 1 (got "
                    f"{self.min_replicas} and {self.max_replicas}).", param="max_replicas")
            if not self.target_ongoing_requests > 0:
                raise InvalidRequestError("--target-ongoing-requests must be above 0.", param="target_ongoing_requests")
            if self.upscale_delay_s < 0 or self.downscale_delay_s < 0:
                raise InvalidRequestError("--upscale-delay-s and --downscale-delay-s must be 0 or more.",
                                          param="upscale_delay_s")
        elif self.replicas is None or self.replicas < 1:
            raise InvalidRequestError(f"--replicas must be at least 1 (got {self.replicas}).", param="replicas")

    @property
    def autoscaling(self) -> bool:
        return self.min_replicas is not None

    @property
    def fewest(self) -> int:
        """The replicas that must fit in the cluster for the application to start."""
        return self.min_replicas if self.autoscaling else self.replicas

    def serve_options(self) -> dict:
        """The Serve deployment options that say how many replicas run."""
        if not self.autoscaling:
            return {"num_replicas": self.replicas}
        return {"autoscaling_config": {
            "min_replicas": self.min_replicas,
            "max_replicas": self.max_replicas,
            "initial_replicas": max(1, self.min_replicas),
            "target_ongoing_requests": self.target_ongoing_requests,
            "upscale_delay_s": self.upscale_delay_s,
            "downscale_delay_s": self.downscale_delay_s,
        }}

    def describe(self) -> str:
        if not self.autoscaling:
            return f"{self.replicas} replica(s)"
        return (f"{self.min_replicas}-{self.max_replicas} replicas, autoscaling at "
                f"{self.target_ongoing_requests:g} ongoing requests per replica")
