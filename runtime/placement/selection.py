"""Variant selection: a pure function of (bundle, hardware, flags). DESIGN §4.

The runtime's plan (runtime.loading.plan_load) decides here; sessions obey. The rules, in order:

1. Device. An explicit `--device` is used if onnxruntime offers its provider here, else
   `ProviderUnavailableError`. `auto` takes CUDA, then TensorRT, then ROCm when the
   provider is available and a GPU was detected (onnxruntime-gpu lists CUDA even on
   machines without one); otherwise the CPU. CoreML and DirectML are used only when asked
   for, since their operator coverage leaves parts of most graphs on the CPU.
2. Drop what cannot run. Every precision runs on CPU, CUDA, TensorRT and ROCm (fp16 and
   bf16 on a CPU run through casts: slow, but correct, so they stay in, last). CoreML and
   DirectML cannot run the integer kernels of int8/uint8/int4 graphs, so those variants
   are dropped there. An integer variant whose `accurate_on` names the int8 kernel
   families its accuracy contract was measured on is dropped where this CPU runs another
   family (an int8 graph that holds on VNNI can lose its answers where AVX2's 16-bit sums
   saturate); even an explicit `--precision` does not bring it back. This holds on GPU
   devices too: dynamically quantized graphs (uint8 activations) have no CUDA kernel for
   MatMulInteger, so onnxruntime runs those nodes on the host CPU's int8 kernels.
   `preferred_isa` never drops a variant; it only orders.
3. Drop what does not fit: a variant needs `min_memory_bytes`, or twice its file size when
   the bundle does not say. The budget is the free memory of the largest GPU on GPU
   devices (RAM where GPU memory cannot be read) and available RAM on the CPU.
4. Prefer, on CPUs, by measurement: where variants carry benchmark figures (`measured`)
   for this CPU's int8 kernel family, the fastest measured variant whose accuracy meets its
   floor wins; unmeasured variants come next (by the order below), measured ones under
   their floor last. The reason names the figures and the benchmark. Without figures for
   this family: on CPUs with VNNI/AMX/dot-product int8 (unless the variant's
   `preferred_isa` names instructions this CPU lacks: such a variant comes after every
   other), else fp32 first — int8 without VNNI has been no faster and has given wrong
   answers where it was measured. On GPUs fp16, then fp32. Ties go to the largest variant.

Variants not installed (optional downloads whose files are absent: `absent`, from
runtime.bundle.optional) are left out before rule 2, and the reason names what they are and
the archive that carries them. An explicit `--precision` that needs one is refused with that
archive's name (after rule 2's accuracy check: nobody should download a variant that would
be refused here anyway).

An explicit `--precision` is honoured exactly: every component that offers that precision
gets it (even when memory looks short — the estimate is a heuristic, and the user asked);
a component that does not offer it keeps what auto picks, and its reason says so (the
bundle's LM has an int4 variant, its embedder none); a precision no component offers, or
one this device or CPU cannot run accurately, is a `ProviderUnavailableError`. Never a
silent fallback.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from runtime.bundle import Manifest, Variant, install_advice
from runtime.errors import BundleError, ProviderUnavailableError

from .hardware import FAST_INT8_ISA, HardwareInfo
from .providers import provider_for_device

_AUTO_GPU_DEVICES = ("cuda", "tensorrt", "rocm")
_INTEGER_PRECISIONS = frozenset({"int8", "uint8", "int4"})
_NO_INTEGER_KERNELS = frozenset({"coreml", "directml"})
_GPU_ORDER = ("fp16", "fp32", "bf16", "int8", "uint8", "int4")
_CPU_FAST_INT8_ORDER = ("int8", "uint8", "fp32", "int4", "bf16", "fp16")
_CPU_ORDER = ("fp32", "int8", "uint8", "int4", "bf16", "fp16")


@dataclass(frozen=True)
class Choice:
    variant: Variant
    reason: str


@dataclass(frozen=True)
class Selection:
    device: str
    provider: str
    components: dict[str, Choice]
    device_reason: str = ""

    def to_dict(self) -> dict:
        """JSON-ready: device, provider and per component the variant and why."""
        return {
            "device": self.device,
            "provider": self.provider,
            "device_reason": self.device_reason,
            "components": {
                name: {"variant": c.variant.label, "precision": c.variant.precision, "file": c.variant.file,
                       "bytes": c.variant.bytes, "reason": c.reason}
                for name, c in self.components.items()
            },
        }

    def lines(self) -> list[str]:
        """Human-readable: one line for the device, one per component."""
        found = [f"device: {self.device} ({self.provider}) — {self.device_reason}"]
        found += [f"  {name}: {c.variant.label} ({c.variant.file}) — {c.reason}"
                  for name, c in self.components.items()]
        return found


def choose_device(hardware: HardwareInfo, device: str = "auto") -> tuple[str, str]:
    """(device, reason) by rule 1 of the module docstring."""
    if device != "auto":
        provider = provider_for_device(device)
        if provider not in hardware.providers:
            raise ProviderUnavailableError(
                f"--device {device} needs onnxruntime's {provider}, which is not available here "
                f"(available: {', '.join(hardware.providers) or 'none'}). "
                "Use --device auto or cpu, or install the onnxruntime build for that device."
            )
        return device, f"--device {device}"
    for candidate in _AUTO_GPU_DEVICES:
        if provider_for_device(candidate) in hardware.providers:
            if hardware.gpus:
                return candidate, f"{provider_for_device(candidate)} available and a GPU ({hardware.gpus[0].name}) found"
            return "cpu", f"{provider_for_device(candidate)} is installed but no GPU was found"
    return "cpu", "no GPU execution provider available"


def can_run(precision: str, device: str) -> bool:
    """Rule 2: whether `device` runs a graph of this precision at all."""
    return not (device in _NO_INTEGER_KERNELS and precision in _INTEGER_PRECISIONS)


def holds_contract(variant: Variant, hardware: HardwareInfo) -> bool:
    """Rule 2: whether the variant's accuracy contract covers this CPU's int8 kernels."""
    if variant.precision not in _INTEGER_PRECISIONS or not variant.accurate_on:
        return True
    return hardware.int8_kernels in variant.accurate_on


def _contract_refusal(name: str, variant: Variant, variants, hardware: HardwareInfo) -> str:
    usable = sorted({v.precision for v in variants if holds_contract(v, hardware)})
    advice = f"Use --precision auto{' or ' + ', '.join(usable) if usable else ''}" if usable else \
        "This bundle has no variant of it that holds here"
    return (
        f"component '{name}': its {variant.precision} variant keeps its accuracy only with "
        f"{'/'.join(variant.accurate_on)} int8 kernels, and this CPU runs {hardware.int8_kernels} ones. {advice}."
    )


def memory_budget(hardware: HardwareInfo, device: str) -> tuple[int, str]:
    """(bytes, what they are) that variants must fit in on `device` (rule 3)."""
    if device != "cpu":
        free = [g.memory_free_bytes for g in hardware.gpus if g.memory_free_bytes is not None]
        if free:
            return max(free), "free GPU memory"
    return hardware.ram_available_bytes, "available RAM"


def memory_need(variant: Variant) -> int:
    return variant.min_memory_bytes or 2 * variant.bytes


def select_variants(
    manifest: Manifest, hardware: HardwareInfo, precision: str = "auto", device: str = "auto",
    absent: Collection[tuple[str, str]] = (),
) -> Selection:
    """Pick one variant per component by the rules of the module docstring.

    `absent`: (component, variant label) of the variants that are not installed.

    Raises `ProviderUnavailableError` when an explicit device or precision cannot be
    honoured, or when no variant of a component fits; `BundleError` when what is needed is
    not installed (the message names the archive that carries it).
    """
    chosen_device, device_reason = choose_device(hardware, device)
    offered = sorted({v.precision for c in manifest.components.values() for v in c.variants})
    if precision != "auto" and precision not in offered:
        raise ProviderUnavailableError(
            f"--precision {precision} was asked for, but bundle '{manifest.name}' has no {precision} "
            f"variant (it has: {', '.join(offered)}). Use --precision auto or one of those."
        )
    if precision != "auto" and not can_run(precision, chosen_device):
        raise ProviderUnavailableError(
            f"--precision {precision} cannot run on --device {chosen_device} (no integer kernels there). "
            "Use --precision fp32 or fp16, or --device cpu."
        )
    budget = memory_budget(hardware, chosen_device)
    choose = _choose_explicit if precision != "auto" else _choose_auto
    choices = {}
    for name, component in manifest.components.items():
        missing = [v for v in component.variants if (name, v.label) in absent]
        present = tuple(v for v in component.variants if v not in missing)
        if precision != "auto":
            _require_installed(name, precision, component.variants, present, hardware)
        if not present:
            archives = ", ".join(sorted({v.archive for v in missing}))
            raise BundleError(f"Component '{name}' has no variant installed. {install_advice(archives)}")
        choice = choose(name, present, hardware, chosen_device, budget, precision)
        if missing:
            listed = ", ".join(f"{v.label} (in {v.archive})" for v in missing)
            choice = Choice(choice.variant, f"{choice.reason}; not installed: {listed}")
        choices[name] = choice
    return Selection(chosen_device, provider_for_device(chosen_device), choices, device_reason)


def _require_installed(name, precision, variants, present, hardware) -> None:
    """An explicit precision whose variants of this component are all absent: refused, naming
    the archive to get (unless rule 2 would refuse it here anyway: then that is the message)."""
    matching = [v for v in variants if v.precision == precision]
    if not matching or any(v in present for v in matching):
        return
    broken = [v for v in matching if not holds_contract(v, hardware)]
    if broken:
        raise ProviderUnavailableError(f"--precision {precision}: {_contract_refusal(name, broken[0], variants, hardware)}")
    raise BundleError(
        f"--precision {precision}: the {precision} variant of component '{name}' ({matching[0].file}) is not "
        f"installed. {install_advice(matching[0].archive)} Or use --precision auto."
    )


def _choose_explicit(name, variants, hardware, device, budget, precision) -> Choice:
    matching = [v for v in variants if v.precision == precision]
    broken = [v for v in (matching or variants[:1]) if not holds_contract(v, hardware)]
    if broken and (matching or len(variants) == 1):
        raise ProviderUnavailableError(f"--precision {precision}: {_contract_refusal(name, broken[0], variants, hardware)}")
    if not matching:
        if len(variants) > 1:  # the precision is the bundle's other components' business
            auto = _choose_auto(name, variants, hardware, device, budget, "auto")
            return Choice(auto.variant, f"no {precision} variant, so as with auto: {auto.reason}")
        return Choice(variants[0], f"only {variants[0].precision} available")
    best = max(matching, key=lambda v: v.bytes)
    reason = f"--precision {precision}"
    if budget[0] and memory_need(best) > budget[0]:
        reason += f" (needs ~{_gib(memory_need(best))} GiB, {_gib(budget[0])} GiB {budget[1]})"
    return Choice(best, reason)


def _choose_auto(name, variants, hardware, device, budget, precision) -> Choice:
    executable = [v for v in variants if can_run(v.precision, device)]
    if not executable:
        have = ", ".join(sorted({v.precision for v in variants}))
        raise ProviderUnavailableError(
            f"Component '{name}' has only {have} variants, which --device {device} cannot run. "
            "Use --device cpu."
        )
    runnable = [v for v in executable if holds_contract(v, hardware)]
    if not runnable:
        raise ProviderUnavailableError(f"Nothing to run: {_contract_refusal(name, executable[0], variants, hardware)}")
    bytes_free, budget_name = budget
    fitting = [v for v in runnable if not bytes_free or memory_need(v) <= bytes_free]
    if not fitting:
        smallest = min(runnable, key=memory_need)
        raise ProviderUnavailableError(
            f"Component '{name}' needs at least {memory_need(smallest)} bytes "
            f"(~{_gib(memory_need(smallest))} GiB) of memory; {bytes_free} bytes of {budget_name} are left."
        )
    rank, why = _measured_ranking(hardware, device, fitting) or _ranking(hardware, device, variants)
    best = min(fitting, key=lambda v: (rank(v), -v.bytes))
    if len({v.precision for v in variants}) == 1:
        reason = f"only {best.precision} available"
    else:
        reason = why(best, fitting)
    dropped = []
    if len(executable) < len(variants):
        dropped.append(f"{device} cannot run integer variants")
    if len(runnable) < len(executable):
        held_back = "/".join(sorted({v.label for v in executable if v not in runnable}))
        dropped.append(f"the accuracy of {held_back} is not shown to hold with {hardware.int8_kernels} int8 kernels")
    if len(fitting) < len(runnable):
        dropped.append(f"larger variants do not fit in {budget_name}")
    return Choice(best, "; ".join([reason, *dropped]))


def _ranking(hardware: HardwareInfo, device: str, offered: tuple[Variant, ...]):
    """(rank(variant), why(best, candidates) -> str) for rule 4; lower ranks win."""
    if device != "cpu":
        return (lambda v: _GPU_ORDER.index(v.precision)), (lambda best, _: f"{device}: fp16/fp32 preferred on GPUs")
    if not hardware.has_fast_int8:
        return (
            lambda v: _CPU_ORDER.index(v.precision),
            lambda best, _: "fp32 preferred: CPU lacks VNNI/AMX for fast int8",
        )
    fast = "/".join(sorted(hardware.isa & FAST_INT8_ISA))

    def rank(variant: Variant) -> tuple[bool, int]:
        # A variant meant for instructions this CPU lacks comes after every other.
        unmet = variant.precision in _INTEGER_PRECISIONS and not _isa_met(variant, hardware)
        return unmet, _CPU_FAST_INT8_ORDER.index(variant.precision)

    def why(best: Variant, candidates: list[Variant]) -> str:
        if best.precision in _INTEGER_PRECISIONS:
            return f"int8 preferred: CPU has {fast}"
        unmet = sorted({isa for v in candidates if v.precision in _INTEGER_PRECISIONS
                        and not _isa_met(v, hardware) for isa in v.preferred_isa})
        if unmet:
            return f"{best.precision}: the int8 variants are meant for {'/'.join(unmet)}, which this CPU lacks"
        if any(v.precision in _INTEGER_PRECISIONS for v in offered):
            return f"{best.precision}: int8 would be preferred (CPU has {fast}), but its variant is not accurate here"
        return f"{best.precision}: int8 would be preferred (CPU has {fast}) but none is offered"

    return rank, why


def _measured_ranking(hardware: HardwareInfo, device: str, candidates: list[Variant]):
    """Rule 4 by benchmark figures for this CPU's int8 kernel family; None without any."""
    kernels = hardware.int8_kernels
    if device != "cpu" or not any(v.measurement(kernels) for v in candidates):
        return None
    fallback, _ = _ranking(hardware, device, candidates)

    def rank(variant: Variant) -> tuple:
        figure = variant.measurement(kernels)
        if figure is None:
            return (1, fallback(variant))
        return (0 if figure.meets_floor else 2, -figure.speed)

    def why(best: Variant, others: list[Variant]) -> str:
        figure = best.measurement(kernels)
        if figure is None or not figure.meets_floor:
            return f"{best.label}: no measured variant meets its accuracy floor on {kernels} CPUs"
        rivals = [f"{v.label} {v.measurement(kernels).speed:.1f}" for v in others
                  if v is not best and v.measurement(kernels)]
        versus = f" (vs {', '.join(rivals)})" if rivals else ""
        return (f"fastest measured on {kernels} int8-kernel CPUs that keeps accuracy: {figure.speed:.1f} "
                f"{figure.unit}{versus}; {figure.metric} {figure.accuracy:.3f} >= {figure.floor:.2f} "
                f"[{figure.source}; {figure.cpu}]")

    return rank, why


def _isa_met(variant: Variant, hardware: HardwareInfo) -> bool:
    return not variant.preferred_isa or bool(set(variant.preferred_isa) & hardware.isa)


def _gib(value: int) -> str:
    return f"{value / 2**30:.1f}"
