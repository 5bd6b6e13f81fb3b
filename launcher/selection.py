"""Variant selection: a pure function of (bundle, hardware, flags). DESIGN §4.

The launcher decides here and the runtime obeys. An explicit `precision` or `device` is
honoured exactly or refused with `ProviderUnavailableError`; never a silent fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

from runtime.errors import ProviderUnavailableError
from runtime.session import provider_for_device

from .bundle import Manifest, Variant
from .hardware import HardwareInfo

_GPU_DEVICES = ("cuda", "tensorrt", "rocm", "directml", "coreml")


@dataclass(frozen=True)
class Choice:
    variant: Variant
    reason: str


@dataclass(frozen=True)
class Selection:
    device: str
    provider: str
    components: dict[str, Choice]


def choose_device(hardware: HardwareInfo, device: str) -> str:
    if device != "auto":
        provider = provider_for_device(device)
        if provider not in hardware.providers:
            raise ProviderUnavailableError(
                f"--device {device} needs onnxruntime's {provider}, which is not available here "
                f"(available: {', '.join(hardware.providers)}). Use --device auto or cpu."
            )
        return device
    for candidate in _GPU_DEVICES[:3]:
        if provider_for_device(candidate) in hardware.providers:
            return candidate
    return "cpu"


def _preference(hardware: HardwareInfo, device: str) -> tuple[tuple[str, ...], str]:
    if device != "cpu":
        return ("fp16", "fp32", "bf16", "int8", "uint8", "int4"), f"{device}: fp16/fp32 preferred on GPUs"
    if hardware.has_fast_int8:
        fast = "/".join(sorted(hardware.isa & {"avx512_vnni", "avx_vnni", "amx", "dotprod"}))
        return ("int8", "uint8", "fp32", "int4", "bf16", "fp16"), f"int8 preferred: CPU has {fast}"
    return ("fp32", "int8", "uint8", "int4", "bf16", "fp16"), "fp32 preferred: CPU lacks VNNI/AMX for fast int8"


def select_variants(
    manifest: Manifest, hardware: HardwareInfo, precision: str = "auto", device: str = "auto"
) -> Selection:
    """Pick one variant per component; see the module docstring for the rules."""
    chosen_device = choose_device(hardware, device)
    if precision != "auto" and not any(
        v.precision == precision for c in manifest.components.values() for v in c.variants
    ):
        offered = sorted({v.precision for c in manifest.components.values() for v in c.variants})
        raise ProviderUnavailableError(
            f"--precision {precision} was asked for, but bundle '{manifest.name}' has no {precision} "
            f"variant (it has: {', '.join(offered)})."
        )
    order, why = _preference(hardware, chosen_device)
    budget = hardware.ram_available_bytes
    choices = {}
    for name, component in manifest.components.items():
        precisions = {v.precision for v in component.variants}
        if precision != "auto":
            if precision in precisions:
                variant = next(v for v in component.variants if v.precision == precision)
                choices[name] = Choice(variant, f"--precision {precision}")
                continue
            if len(precisions) > 1:
                raise ProviderUnavailableError(
                    f"Component '{name}' has no {precision} variant (it has: {', '.join(sorted(precisions))})."
                )
            choices[name] = Choice(component.variants[0], f"only {component.variants[0].precision} available")
            continue
        fitting = [v for v in component.variants if not budget or _memory_need(v) <= budget] or []
        if not fitting:
            smallest = min(component.variants, key=_memory_need)
            raise ProviderUnavailableError(
                f"Component '{name}' needs at least {_memory_need(smallest)} bytes of memory; "
                f"{budget} are available."
            )
        best = min(fitting, key=lambda v: (order.index(v.precision), -v.bytes))
        reason = why if len(precisions) > 1 else f"only {best.precision} available"
        if len(fitting) < len(component.variants):
            reason += "; larger variants do not fit in available memory"
        choices[name] = Choice(best, reason)
    return Selection(chosen_device, provider_for_device(chosen_device), choices)


def _memory_need(variant: Variant) -> int:
    return variant.min_memory_bytes or 2 * variant.bytes
