"""What this machine can do: cores usable by this process, ISA flags, memory, providers.

Probes read files and call functions that tests replace (`Probes`), so detection is
testable with sample /proc and cgroup contents. Linux is read fully; other systems report
what Python's standard library can tell.
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

_ISA_FLAGS = {
    "avx2": "avx2",
    "avx512f": "avx512f",
    "avx512_vnni": "avx512_vnni",
    "avx_vnni": "avx_vnni",
    "amx_tile": "amx",
    "amx_int8": "amx",
    "asimddp": "dotprod",
    "asimd": "neon",
}


@dataclass(frozen=True)
class HardwareInfo:
    os: str
    arch: str
    cpu_model: str
    logical_cores: int
    usable_cores: int
    isa: frozenset[str]
    ram_total_bytes: int
    ram_available_bytes: int
    providers: tuple[str, ...]
    gpus: tuple[str, ...] = ()

    @property
    def has_fast_int8(self) -> bool:
        """True where int8 matmuls have dedicated instructions (VNNI, AMX, dot-product)."""
        return bool(self.isa & {"avx512_vnni", "avx_vnni", "amx", "dotprod"})


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def _onnxruntime_providers() -> tuple[str, ...]:
    import onnxruntime

    return tuple(onnxruntime.get_available_providers())


def _affinity_count() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return None


@dataclass(frozen=True)
class Probes:
    read_text: Callable[[str], str | None] = _read_text
    cpu_count: Callable[[], int | None] = os.cpu_count
    affinity_count: Callable[[], int | None] = _affinity_count
    providers: Callable[[], tuple[str, ...]] = _onnxruntime_providers
    system: Callable[[], str] = platform.system
    machine: Callable[[], str] = platform.machine
    extra: dict = field(default_factory=dict)


def cgroup_cpu_limit(read_text: Callable[[str], str | None]) -> float | None:
    """CPUs allowed by the cgroup quota (v2 `cpu.max` or v1 cfs files), None if unlimited."""
    v2 = read_text("/sys/fs/cgroup/cpu.max")
    if v2:
        quota, _, period = v2.strip().partition(" ")
        if quota != "max" and period:
            return int(quota) / int(period)
        return None
    quota = read_text("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") or read_text("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us")
    period = read_text("/sys/fs/cgroup/cpu/cpu.cfs_period_us") or read_text("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us")
    if quota and period and int(quota.strip()) > 0:
        return int(quota.strip()) / int(period.strip())
    return None


def cgroup_memory_limit(read_text: Callable[[str], str | None]) -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        text = read_text(path)
        if text and text.strip() != "max":
            value = int(text.strip())
            if value < 1 << 60:  # v1 reports "unlimited" as a huge number
                return value
    return None


def _meminfo(read_text) -> tuple[int, int]:
    text = read_text("/proc/meminfo") or ""
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            values[key] = int(rest.split()[0]) * 1024
    return values.get("MemTotal", 0), values.get("MemAvailable", values.get("MemFree", 0))


def _cpuinfo(read_text) -> tuple[str, frozenset[str]]:
    text = read_text("/proc/cpuinfo") or ""
    model, flags = "", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "Model", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    isa = frozenset(name for flag, name in _ISA_FLAGS.items() if flag in flags)
    return model or platform.processor(), isa


def detect_hardware(probes: Probes = Probes()) -> HardwareInfo:
    logical = probes.cpu_count() or 1
    usable = probes.affinity_count() or logical
    quota = cgroup_cpu_limit(probes.read_text)
    if quota is not None:
        usable = max(1, min(usable, math.ceil(quota)))
    cpu_model, isa = _cpuinfo(probes.read_text)
    total, available = _meminfo(probes.read_text)
    limit = cgroup_memory_limit(probes.read_text)
    if limit is not None:
        total, available = min(total or limit, limit), min(available or limit, limit)
    return HardwareInfo(
        os=probes.system(),
        arch=probes.machine(),
        cpu_model=cpu_model,
        logical_cores=logical,
        usable_cores=usable,
        isa=isa,
        ram_total_bytes=total,
        ram_available_bytes=available,
        providers=probes.providers(),
    )
