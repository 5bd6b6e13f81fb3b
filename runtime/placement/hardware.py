"""What this machine can do: cores usable by this process, ISA flags, memory, GPUs, providers.

Every fact comes through a probe (`Probes`): a function that reads a file, lists a folder,
runs a command or asks the OS. Tests replace the probes with sample /proc, /sys, cgroup,
`sysctl` and Windows answers, so all three systems are tested on any machine. A probe that
fails returns None; detection then reports less, and never raises.

Usable cores. A cgroup CPU quota of `Q` microseconds per period `P` allows `Q/P` CPUs.
We round up (`ceil`) and cap by the affinity mask: a quota of 1.5 CPUs gives 2 usable
cores, because two threads each get 75% of a CPU, where one thread would leave half a CPU
idle. Onnxruntime's intra-op threads default to this number and never exceed it unless
`--threads` asks for more.

Available memory is the smallest of MemAvailable and, under a cgroup memory limit, the
limit minus the cgroup's current usage (cgroup v1 and v2, every level from this process's
cgroup up to the root, since a parent's limit binds too).
"""

from __future__ import annotations

import math
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

_LINUX_ISA_FLAGS = {
    "avx2": "avx2",
    "avx512f": "avx512f",
    "avx512_vnni": "avx512_vnni",
    "avx512vnni": "avx512_vnni",
    "avx_vnni": "avx_vnni",
    "amx_tile": "amx",
    "amx_int8": "amx",
    "asimddp": "dotprod",
    "asimd": "neon",
}
FAST_INT8_ISA = frozenset({"avx512_vnni", "avx_vnni", "amx", "dotprod"})


def int8_kernels(isa: frozenset[str]) -> str:
    """The family of onnxruntime CPU int8 kernels a CPU with these flags runs (one of
    runtime.bundle.manifest.INT8_KERNELS): what an int8 variant's accuracy contract names."""
    if isa & {"avx512_vnni", "avx_vnni", "amx"}:
        return "vnni"
    for flag, family in (("avx512f", "avx512"), ("avx2", "avx2"), ("dotprod", "dotprod"), ("neon", "neon")):
        if flag in isa:
            return family
    return "generic"

_MACOS_ISA_SYSCTLS = {
    "hw.optional.avx2_0": "avx2",
    "hw.optional.avx512f": "avx512f",
    "hw.optional.avx512vnni": "avx512_vnni",
    "hw.optional.neon": "neon",
    "hw.optional.AdvSIMD": "neon",
    "hw.optional.arm.FEAT_DotProd": "dotprod",
}
# IsProcessorFeaturePresent constants (winnt.h). Windows exposes no VNNI/AMX flag, so
# Windows x86 machines rank int8 as a CPU without fast int8 would (the safe choice).
_WINDOWS_ISA_FEATURES = {40: "avx2", 41: "avx512f", 19: "neon", 43: "dotprod"}

_CGROUP_ROOT = "/sys/fs/cgroup"
_V1_UNLIMITED_BYTES = 1 << 60  # v1 reports "no limit" as a huge page-rounded number


@dataclass(frozen=True)
class GpuInfo:
    """One GPU as the driver reports it; memory is None where it cannot be read."""

    name: str
    vendor: str = ""
    memory_total_bytes: int | None = None
    memory_free_bytes: int | None = None


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
    gpus: tuple[GpuInfo, ...] = ()
    physical_cores: int | None = None
    cpu_quota: float | None = None  # CPUs allowed by the cgroup quota, None if unlimited
    memory_limit_bytes: int | None = None  # cgroup memory limit, None if unlimited

    @property
    def has_fast_int8(self) -> bool:
        """True where int8 matmuls have dedicated instructions (VNNI, AMX, dot-product)."""
        return bool(self.isa & FAST_INT8_ISA)

    @property
    def int8_kernels(self) -> str:
        """onnxruntime's int8 kernel family on this CPU (see `int8_kernels`)."""
        return int8_kernels(self.isa)

    def to_dict(self) -> dict:
        """Plain JSON-ready facts (for `info --json`)."""
        return {
            "os": self.os, "arch": self.arch, "cpu_model": self.cpu_model,
            "physical_cores": self.physical_cores, "logical_cores": self.logical_cores,
            "usable_cores": self.usable_cores, "cpu_quota": self.cpu_quota, "isa": sorted(self.isa),
            "int8_kernels": self.int8_kernels,
            "ram_total_bytes": self.ram_total_bytes, "ram_available_bytes": self.ram_available_bytes,
            "memory_limit_bytes": self.memory_limit_bytes, "providers": list(self.providers),
            "gpus": [vars(gpu) for gpu in self.gpus],
        }


# --- default probes ------------------------------------------------------------------------

def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return None


def _list_dir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _run_command(argv: list[str]) -> str | None:
    """stdout of a short command, or None if it is absent, fails or hangs."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _onnxruntime_providers() -> tuple[str, ...]:
    try:
        import onnxruntime
    except ImportError:
        return ()
    return tuple(onnxruntime.get_available_providers())


def _affinity_count() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return None


def _windows_memory() -> tuple[int, int] | None:
    """(total, available) bytes from GlobalMemoryStatusEx."""
    if sys.platform != "win32":
        return None
    import ctypes

    class MemoryStatusEx(ctypes.Structure):
        _fields_ = [
            ("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatusEx()
    status.dwLength = ctypes.sizeof(MemoryStatusEx)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return None
    return int(status.ullTotalPhys), int(status.ullAvailPhys)


def _windows_feature(feature: int) -> bool:
    if sys.platform != "win32":
        return False
    import ctypes

    return bool(ctypes.windll.kernel32.IsProcessorFeaturePresent(feature))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Probes:
    """Where detection gets its facts; tests replace any of these."""

    read_text: Callable[[str], str | None] = _read_text
    cpu_count: Callable[[], int | None] = os.cpu_count
    affinity_count: Callable[[], int | None] = _affinity_count
    providers: Callable[[], tuple[str, ...]] = _onnxruntime_providers
    system: Callable[[], str] = platform.system
    machine: Callable[[], str] = platform.machine
    processor: Callable[[], str] = platform.processor
    list_dir: Callable[[str], list[str]] = _list_dir
    run: Callable[[list[str]], str | None] = _run_command
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    windows_memory: Callable[[], tuple[int, int] | None] = _windows_memory
    windows_feature: Callable[[int], bool] = _windows_feature
    extra: dict = field(default_factory=dict)


# --- cgroups ---------------------------------------------------------------------------------

def _cgroup_paths(read_text, controller: str) -> tuple[list[str], list[str]]:
    """(v2 folders, v1 folders) to read for `controller`, innermost first, root last."""
    text = read_text("/proc/self/cgroup") or ""
    v2, v1 = [], []
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            v2 = [f"{_CGROUP_ROOT}{p}" for p in _ancestors(path)]
        elif controller in controllers.split(","):
            mounts = [f"{_CGROUP_ROOT}/{controllers}", f"{_CGROUP_ROOT}/{controller}"]
            v1 = [f"{mount}{p}" for p in _ancestors(path) for mount in dict.fromkeys(mounts)]
    # Inside a container the cgroup namespace makes the root folder our own cgroup.
    v2.append(_CGROUP_ROOT)
    v1 += [f"{_CGROUP_ROOT}/{controller}", f"{_CGROUP_ROOT}/cpu,cpuacct" if controller == "cpu" else ""]
    return list(dict.fromkeys(v2)), [p for p in dict.fromkeys(v1) if p]


def _ancestors(path: str) -> list[str]:
    """'/a/b' -> ['/a/b', '/a', '']."""
    path = path.rstrip("/")
    found = []
    while path:
        found.append(path)
        path = path.rsplit("/", 1)[0]
    return [*found, ""]


def _int(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def cgroup_cpu_limit(read_text: Callable[[str], str | None]) -> float | None:
    """CPUs allowed by the tightest cgroup quota (v2 `cpu.max`, v1 cfs files); None if unlimited."""
    v2_dirs, v1_dirs = _cgroup_paths(read_text, "cpu")
    limits = []
    for folder in v2_dirs:
        text = read_text(f"{folder}/cpu.max")
        if text:
            quota, _, period = text.strip().partition(" ")
            if quota != "max" and _int(quota) and _int(period or "100000"):
                limits.append(int(quota) / int(period or "100000"))
    for folder in v1_dirs:
        quota = _int(read_text(f"{folder}/cpu.cfs_quota_us"))
        period = _int(read_text(f"{folder}/cpu.cfs_period_us"))
        if quota and quota > 0 and period:
            limits.append(quota / period)
    return min(limits) if limits else None


def cgroup_memory(read_text: Callable[[str], str | None]) -> tuple[int, int] | None:
    """(limit, current usage) bytes of the tightest cgroup memory limit; None if unlimited."""
    v2_dirs, v1_dirs = _cgroup_paths(read_text, "memory")
    found = []
    for folder, limit_file, usage_file in (
        *((d, "memory.max", "memory.current") for d in v2_dirs),
        *((d, "memory.limit_in_bytes", "memory.usage_in_bytes") for d in v1_dirs),
    ):
        limit = _int(read_text(f"{folder}/{limit_file}"))  # "max" parses as None
        if limit is not None and 0 < limit < _V1_UNLIMITED_BYTES:
            usage = _int(read_text(f"{folder}/{usage_file}")) or 0
            found.append((limit - usage, limit, usage))
    if not found:
        return None
    _, limit, usage = min(found)
    return limit, usage


def cgroup_memory_limit(read_text: Callable[[str], str | None]) -> int | None:
    memory = cgroup_memory(read_text)
    return memory[0] if memory else None


# --- Linux -----------------------------------------------------------------------------------

def parse_meminfo(text: str) -> tuple[int, int]:
    """(MemTotal, MemAvailable) bytes from /proc/meminfo text."""
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            values[key.strip()] = int(fields[0]) * (1024 if rest.strip().endswith("kB") else 1)
    return values.get("MemTotal", 0), values.get("MemAvailable", values.get("MemFree", 0))


@dataclass(frozen=True)
class CpuInfo:
    model: str
    isa: frozenset[str]
    physical_cores: int | None


def parse_cpuinfo(text: str) -> CpuInfo:
    """CPU model, ISA flags and physical cores (distinct `physical id`/`core id` pairs)."""
    model, flags, cores = "", set(), set()
    physical_id = "0"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key in ("model name", "Model", "cpu model", "Hardware") and not model:
            model = value
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
        elif key == "physical id":
            physical_id = value
        elif key == "core id":
            cores.add((physical_id, value))
    isa = frozenset(name for flag, name in _LINUX_ISA_FLAGS.items() if flag in flags)
    return CpuInfo(model, isa, len(cores) or None)


def _sys_physical_cores(probes: Probes) -> int | None:
    """Distinct sibling sets under /sys/devices/system/cpu (for CPUs without `core id`)."""
    base = "/sys/devices/system/cpu"
    siblings = set()
    for name in probes.list_dir(base):
        if re.fullmatch(r"cpu\d+", name):
            text = probes.read_text(f"{base}/{name}/topology/core_cpus_list") or probes.read_text(
                f"{base}/{name}/topology/thread_siblings_list"
            )
            if text:
                siblings.add(text.strip())
    return len(siblings) or None


def parse_nvidia_smi(text: str) -> tuple[GpuInfo, ...]:
    """`nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits`."""
    gpus = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) == 3 and fields[0] and fields[1].isdigit() and fields[2].isdigit():
            gpus.append(GpuInfo(fields[0], "nvidia", int(fields[1]) << 20, int(fields[2]) << 20))
    return tuple(gpus)


def _nvidia_gpus(probes: Probes) -> tuple[GpuInfo, ...]:
    output = probes.run(
        ["nvidia-smi", "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"]
    )
    gpus = parse_nvidia_smi(output or "")
    if gpus:
        return gpus
    # Without nvidia-smi the driver still names its GPUs (but not their memory).
    base = "/proc/driver/nvidia/gpus"
    for bus in probes.list_dir(base):
        text = probes.read_text(f"{base}/{bus}/information") or ""
        model = re.search(r"^Model:\s*(.+)$", text, re.MULTILINE)
        if model:
            gpus += (GpuInfo(model.group(1).strip(), "nvidia"),)
    return gpus


def _detect_linux(probes: Probes) -> dict:
    cpu = parse_cpuinfo(probes.read_text("/proc/cpuinfo") or "")
    total, available = parse_meminfo(probes.read_text("/proc/meminfo") or "")
    memory = cgroup_memory(probes.read_text)
    limit = None
    if memory is not None:
        limit, usage = memory
        total = min(total or limit, limit)
        available = max(0, min(available or limit, limit - usage))
    return {
        "cpu_model": cpu.model or probes.processor() or probes.machine(),
        "isa": cpu.isa,
        "physical_cores": cpu.physical_cores or _sys_physical_cores(probes),
        "ram_total_bytes": total,
        "ram_available_bytes": available,
        "memory_limit_bytes": limit,
        "cpu_quota": cgroup_cpu_limit(probes.read_text),
        "gpus": _nvidia_gpus(probes),
    }


# --- macOS -----------------------------------------------------------------------------------

def _sysctl(probes: Probes, name: str) -> str | None:
    output = probes.run(["sysctl", "-n", name])
    return output.strip() if output and output.strip() else None


def parse_vm_stat(text: str) -> int | None:
    """Bytes free + inactive + speculative from `vm_stat` (what macOS can hand out now)."""
    page = re.search(r"page size of (\d+) bytes", text)
    if not page:
        return None
    pages = 0
    for key in ("Pages free", "Pages inactive", "Pages speculative"):
        match = re.search(rf"^{key}:\s+(\d+)", text, re.MULTILINE)
        pages += int(match.group(1)) if match else 0
    return pages * int(page.group(1))


def _detect_macos(probes: Probes) -> dict:
    isa = frozenset(name for key, name in _MACOS_ISA_SYSCTLS.items() if _sysctl(probes, key) == "1")
    total = _int(_sysctl(probes, "hw.memsize")) or 0
    available = parse_vm_stat(probes.run(["vm_stat"]) or "")
    arm = probes.machine() in ("arm64", "aarch64")
    return {
        "cpu_model": _sysctl(probes, "machdep.cpu.brand_string") or probes.processor() or probes.machine(),
        "isa": isa | ({"neon"} if arm else set()),  # every Apple silicon core has NEON
        "physical_cores": _int(_sysctl(probes, "hw.physicalcpu")),
        "logical_cores": _int(_sysctl(probes, "hw.logicalcpu")),
        "ram_total_bytes": total,
        "ram_available_bytes": min(available, total) if available is not None and total else total,
        # Apple silicon GPUs share RAM with the CPU; CoreML is the provider that uses them.
        "gpus": (GpuInfo("Apple GPU (unified memory)", "apple"),) if arm else (),
    }


# --- Windows ---------------------------------------------------------------------------------

def _detect_windows(probes: Probes) -> dict:
    memory = probes.windows_memory() or (0, 0)
    output = probes.run(["wmic", "cpu", "get", "NumberOfCores", "/value"]) or ""
    physical = sum(int(n) for n in re.findall(r"NumberOfCores=(\d+)", output)) or None
    isa = frozenset(name for feature, name in _WINDOWS_ISA_FEATURES.items() if probes.windows_feature(feature))
    return {
        "cpu_model": probes.processor() or probes.env.get("PROCESSOR_IDENTIFIER", "") or probes.machine(),
        "isa": isa,
        "physical_cores": physical,
        "logical_cores": _int(probes.env.get("NUMBER_OF_PROCESSORS")),
        "ram_total_bytes": memory[0],
        "ram_available_bytes": memory[1],
        "gpus": _nvidia_gpus(probes),
    }


# --- all systems -----------------------------------------------------------------------------

def detect_hardware(probes: Probes | None = None) -> HardwareInfo:
    """Everything `info` shows and selection needs; see the module docstring for the rules."""
    probes = probes or Probes()
    system = probes.system()
    detect = {"Darwin": _detect_macos, "Windows": _detect_windows}.get(system, _detect_linux)
    facts = detect(probes)
    logical = facts.pop("logical_cores", None) or probes.cpu_count() or 1
    usable = min(probes.affinity_count() or logical, logical)
    quota = facts.get("cpu_quota")
    if quota is not None:
        usable = min(usable, math.ceil(quota))
    return HardwareInfo(
        os=system,
        arch=probes.machine(),
        logical_cores=logical,
        usable_cores=max(1, usable),
        providers=tuple(probes.providers()),
        **facts,
    )
