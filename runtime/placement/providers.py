"""Execution devices and the onnxruntime providers that serve them."""

from __future__ import annotations

from runtime.errors import ProviderUnavailableError

DEVICE_PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
}


def provider_for_device(device: str) -> str:
    try:
        return DEVICE_PROVIDERS[device]
    except KeyError:
        raise ProviderUnavailableError(
            f"Unknown device '{device}'. Known devices: {', '.join(DEVICE_PROVIDERS)}."
        ) from None
