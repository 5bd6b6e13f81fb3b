"""Scale-out as a Ray Serve application (issue 16): replicas that load a bundle by path and
serve the API of runtime/api through the ASGI ingress (runtime/asgi/).

`config` needs nothing beyond the base install; `deployment` and `launch` need the `ray`
extra (`pip install ".[ray]"`), which the frozen binary does not include.
"""

from .config import ReplicaSpec, ScalingSpec

__all__ = ["ReplicaSpec", "ScalingSpec"]
