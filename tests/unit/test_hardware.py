"""Hardware detection on sample /proc, /sys, cgroup, sysctl and Windows answers (fake probes)."""

from __future__ import annotations

import pytest

from runtime.placement.hardware import (
    Probes, cgroup_cpu_limit, cgroup_memory, detect_hardware, parse_cpuinfo, parse_meminfo,
    parse_nvidia_smi, parse_vm_stat,
)
from launcher.paths import user_cache_dir

GIB = 1 << 30

X86_CPUINFO = "".join(
    f"processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
    f"physical id\t: {n // 4}\nsiblings\t: 4\ncore id\t\t: {(n % 4) // 2}\ncpu cores\t: 2\n"
    "flags\t\t: fpu sse sse2 avx avx2 fma avx512f avx512bw avx512_vnni avx_vnni amx_bf16 amx_tile amx_int8\n\n"
    for n in range(8)
)  # 2 sockets x 2 cores x 2 threads
AVX2_CPUINFO = "processor\t: 0\nmodel name\t: AMD Ryzen 5 3600\nphysical id\t: 0\ncore id\t: 0\nflags\t: sse avx avx2 fma\n"
AARCH64_CPUINFO = "".join(
    f"processor\t: {n}\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics "
    "fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\n"
    for n in range(4)
)  # Neoverse N1: no "model name", no "core id"
MEMINFO = "MemTotal:       32000000 kB\nMemFree:         1000000 kB\nMemAvailable:   16000000 kB\n"


def _probes(files: dict, system="Linux", machine="x86_64", cpu_count=8, affinity=None, commands=None,
            dirs=None, **extra) -> Probes:
    commands = commands or {}
    return Probes(
        read_text=files.get,
        cpu_count=lambda: cpu_count,
        affinity_count=lambda: affinity,
        providers=lambda: ("CPUExecutionProvider",),
        system=lambda: system,
        machine=lambda: machine,
        processor=lambda: "",
        list_dir=lambda path: (dirs or {}).get(path, []),
        run=lambda argv: commands.get(" ".join(argv)),
        **extra,
    )


# --- /proc/cpuinfo ------------------------------------------------------------------------------

def test_x86_cpuinfo_with_vnni_and_amx():
    cpu = parse_cpuinfo(X86_CPUINFO)
    assert cpu.model == "Intel(R) Xeon(R) Platinum 8480+"
    assert cpu.isa == {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx"}
    assert cpu.physical_cores == 4  # distinct (physical id, core id) pairs


def test_avx2_only_cpuinfo():
    assert parse_cpuinfo(AVX2_CPUINFO).isa == {"avx2"}


def test_aarch64_cpuinfo_neon_and_dotprod_and_sys_topology():
    cpu = parse_cpuinfo(AARCH64_CPUINFO)
    assert cpu.isa == {"neon", "dotprod"}
    assert cpu.physical_cores is None
    base = "/sys/devices/system/cpu"
    files = {"/proc/cpuinfo": AARCH64_CPUINFO, "/proc/meminfo": MEMINFO}
    files.update({f"{base}/cpu{n}/topology/core_cpus_list": f"{n}\n" for n in range(4)})
    dirs = {base: ["cpu0", "cpu1", "cpu2", "cpu3", "cpufreq", "online"]}
    hardware = detect_hardware(_probes(files, machine="aarch64", cpu_count=4, dirs=dirs))
    assert hardware.physical_cores == 4
    assert hardware.cpu_model == "aarch64"  # no model name on many ARM servers
    assert hardware.has_fast_int8


def test_sys_topology_counts_hyperthread_siblings_once():
    base = "/sys/devices/system/cpu"
    files = {f"{base}/cpu{n}/topology/thread_siblings_list": f"{n % 2},{n % 2 + 2}\n" for n in range(4)}
    hardware = detect_hardware(_probes(files, cpu_count=4, dirs={base: [f"cpu{n}" for n in range(4)]}))
    assert hardware.physical_cores == 2


def test_meminfo():
    assert parse_meminfo(MEMINFO) == (32000000 * 1024, 16000000 * 1024)
    assert parse_meminfo("MemTotal: 100 kB\nMemFree: 40 kB\n") == (102400, 40960)  # old kernels


# --- cgroup CPU quotas ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("files", "quota", "usable"),
    [
        ({"/sys/fs/cgroup/cpu.max": "max 100000\n"}, None, 8),
        ({"/sys/fs/cgroup/cpu.max": "200000 100000\n"}, 2.0, 2),
        ({"/sys/fs/cgroup/cpu.max": "150000 100000\n"}, 1.5, 2),  # ceil of a fractional quota
        ({"/sys/fs/cgroup/cpu.max": "50000 100000\n"}, 0.5, 1),
        ({"/sys/fs/cgroup/cpu.max": "1600000 100000\n"}, 16.0, 8),  # capped by the host
        ({"/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"},
         None, 8),
        ({"/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "250000\n", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"},
         2.5, 3),
        ({"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "300000\n",
          "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 3.0, 3),
    ],
    ids=["v2-max", "v2-2cpus", "v2-fractional", "v2-half", "v2-above-host", "v1-unlimited", "v1-fractional",
         "v1-cpu,cpuacct"],
)
def test_cgroup_cpu_quota(files, quota, usable):
    assert cgroup_cpu_limit(files.get) == quota
    hardware = detect_hardware(_probes({**files, "/proc/cpuinfo": X86_CPUINFO, "/proc/meminfo": MEMINFO}))
    assert (hardware.cpu_quota, hardware.usable_cores, hardware.logical_cores) == (quota, usable, 8)


def test_cgroup_v2_nested_path_and_parent_limits():
    files = {
        "/proc/self/cgroup": "0::/system.slice/app.service\n",
        "/sys/fs/cgroup/system.slice/app.service/cpu.max": "max 100000",
        "/sys/fs/cgroup/system.slice/cpu.max": "300000 100000",
        "/sys/fs/cgroup/system.slice/app.service/memory.max": "4294967296\n",
        "/sys/fs/cgroup/system.slice/app.service/memory.current": "1073741824\n",
        "/sys/fs/cgroup/system.slice/memory.max": "max\n",
    }
    assert cgroup_cpu_limit(files.get) == 3.0
    assert cgroup_memory(files.get) == (4 * GIB, 1 * GIB)


def test_cgroup_v1_nested_path():
    files = {
        "/proc/self/cgroup": "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n",
        "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "150000",
        "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000",
        "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "2147483648",
        "/sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes": "536870912",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712",  # v1 "unlimited"
    }
    assert cgroup_cpu_limit(files.get) == 1.5
    assert cgroup_memory(files.get) == (2 * GIB, GIB // 2)


def test_affinity_caps_usable_cores():
    hardware = detect_hardware(_probes({"/sys/fs/cgroup/cpu.max": "600000 100000"}, affinity=4))
    assert hardware.usable_cores == 4


# --- cgroup memory ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("files", "total", "available", "limit"),
    [
        ({"/sys/fs/cgroup/memory.max": "max\n"}, 32000000 * 1024, 16000000 * 1024, None),
        ({"/sys/fs/cgroup/memory.max": "8589934592\n", "/sys/fs/cgroup/memory.current": "2147483648\n"},
         8 * GIB, 6 * GIB, 8 * GIB),  # limit - usage is below MemAvailable
        ({"/sys/fs/cgroup/memory.max": "30000000000\n", "/sys/fs/cgroup/memory.current": "1000\n"},
         30000000000, 16000000 * 1024, 30000000000),  # MemAvailable is the tighter
        ({"/sys/fs/cgroup/memory/memory.limit_in_bytes": "4294967296\n",
          "/sys/fs/cgroup/memory/memory.usage_in_bytes": "3221225472\n"}, 4 * GIB, 1 * GIB, 4 * GIB),
        ({"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"},
         32000000 * 1024, 16000000 * 1024, None),
    ],
    ids=["v2-max", "v2-limit", "v2-meminfo-tighter", "v1-limit", "v1-unlimited"],
)
def test_cgroup_memory_limit_respected(files, total, available, limit):
    hardware = detect_hardware(_probes({**files, "/proc/meminfo": MEMINFO}))
    assert (hardware.ram_total_bytes, hardware.ram_available_bytes, hardware.memory_limit_bytes) == (
        total, available, limit)


# --- GPUs --------------------------------------------------------------------------------------------

NVIDIA_SMI = ["nvidia-smi", "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"]


def test_gpus_from_nvidia_smi():
    output = "NVIDIA H100 80GB HBM3, 81559, 81000\nNVIDIA H100 80GB HBM3, 81559, 1000\n"
    gpus = parse_nvidia_smi(output)
    assert [(g.name, g.memory_total_bytes, g.memory_free_bytes) for g in gpus] == [
        ("NVIDIA H100 80GB HBM3", 81559 << 20, 81000 << 20), ("NVIDIA H100 80GB HBM3", 81559 << 20, 1000 << 20)]
    hardware = detect_hardware(_probes({}, commands={" ".join(NVIDIA_SMI): output}))
    assert len(hardware.gpus) == 2


def test_gpus_from_proc_driver_without_nvidia_smi():
    base = "/proc/driver/nvidia/gpus"
    files = {f"{base}/0000:3b:00.0/information": "Model: \t\t NVIDIA A10\nIRQ:   120\nGPU UUID: GPU-1\n"}
    hardware = detect_hardware(_probes(files, dirs={base: ["0000:3b:00.0"]}))
    assert [(g.name, g.memory_total_bytes) for g in hardware.gpus] == [("NVIDIA A10", None)]


def test_no_gpu_and_nothing_readable_never_fails():
    hardware = detect_hardware(_probes({}, cpu_count=None))
    assert hardware.gpus == ()
    assert (hardware.logical_cores, hardware.usable_cores) == (1, 1)
    assert hardware.ram_total_bytes == 0


# --- macOS and Windows -------------------------------------------------------------------------------

def _sysctl(values: dict) -> dict:
    return {f"sysctl -n {key}": f"{value}\n" for key, value in values.items()}


VM_STAT = (
    "Mach Virtual Memory Statistics: (page size of 16384 bytes)\n"
    "Pages free:                               100000.\nPages active:                             500000.\n"
    "Pages inactive:                           200000.\nPages speculative:                         50000.\n"
)


def test_macos_apple_silicon():
    commands = _sysctl({
        "machdep.cpu.brand_string": "Apple M2 Pro", "hw.physicalcpu": 10, "hw.logicalcpu": 10,
        "hw.memsize": 17179869184, "hw.optional.arm.FEAT_DotProd": 1, "hw.optional.AdvSIMD": 1,
    })
    commands["vm_stat"] = VM_STAT
    hardware = detect_hardware(_probes({}, system="Darwin", machine="arm64", cpu_count=10, commands=commands))
    assert hardware.cpu_model == "Apple M2 Pro"
    assert (hardware.physical_cores, hardware.logical_cores, hardware.usable_cores) == (10, 10, 10)
    assert hardware.isa == {"neon", "dotprod"}
    assert hardware.ram_total_bytes == 16 * GIB
    assert hardware.ram_available_bytes == 350000 * 16384
    assert hardware.gpus[0].vendor == "apple"


def test_macos_intel_without_dotprod():
    commands = _sysctl({
        "machdep.cpu.brand_string": "Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz", "hw.physicalcpu": 8,
        "hw.logicalcpu": 16, "hw.memsize": 34359738368, "hw.optional.avx2_0": 1, "hw.optional.avx512f": 0,
    })
    hardware = detect_hardware(_probes({}, system="Darwin", machine="x86_64", cpu_count=16, commands=commands))
    assert hardware.isa == {"avx2"}
    assert not hardware.has_fast_int8
    assert (hardware.physical_cores, hardware.logical_cores) == (8, 16)
    assert hardware.ram_available_bytes == hardware.ram_total_bytes == 32 * GIB  # no vm_stat: total
    assert hardware.gpus == ()


def test_parse_vm_stat_without_page_size():
    assert parse_vm_stat("garbage") is None


def test_windows():
    features = {40: True, 41: False}
    probes = _probes(
        {}, system="Windows", machine="AMD64", cpu_count=None,
        commands={"wmic cpu get NumberOfCores /value": "\r\n\r\nNumberOfCores=6\r\n\r\n"},
        env={"NUMBER_OF_PROCESSORS": "12", "PROCESSOR_IDENTIFIER": "Intel64 Family 6 Model 158"},
        windows_memory=lambda: (16 * GIB, 9 * GIB),
        windows_feature=lambda feature: features.get(feature, False),
    )
    hardware = detect_hardware(probes)
    assert hardware.os == "Windows"
    assert hardware.cpu_model == "Intel64 Family 6 Model 158"
    assert (hardware.physical_cores, hardware.logical_cores, hardware.usable_cores) == (6, 12, 12)
    assert hardware.isa == {"avx2"}
    assert (hardware.ram_total_bytes, hardware.ram_available_bytes) == (16 * GIB, 9 * GIB)


def test_windows_when_every_probe_fails():
    probes = _probes({}, system="Windows", machine="ARM64", cpu_count=4, env={},
                     windows_memory=lambda: None, windows_feature=lambda feature: False)
    hardware = detect_hardware(probes)
    assert (hardware.cpu_model, hardware.logical_cores, hardware.ram_total_bytes) == ("ARM64", 4, 0)


def test_to_dict_is_plain_json():
    import json

    hardware = detect_hardware(_probes({"/proc/cpuinfo": X86_CPUINFO, "/proc/meminfo": MEMINFO}))
    data = json.loads(json.dumps(hardware.to_dict()))
    assert data["isa"] == sorted(hardware.isa) and data["physical_cores"] == 4


def test_this_machine_is_detected_without_errors():
    hardware = detect_hardware()
    assert hardware.usable_cores >= 1 and hardware.logical_cores >= hardware.usable_cores
    assert "CPUExecutionProvider" in hardware.providers


# --- cache folder ------------------------------------------------------------------------------------

def test_user_cache_dir_per_system(tmp_path):
    home = tmp_path
    assert user_cache_dir("Linux", {}, home) == home / ".cache" / "wan2.2-turbo"
    assert user_cache_dir("Linux", {"XDG_CACHE_HOME": "/xdg"}, home).as_posix() == "/xdg/wan2.2-turbo"
    assert user_cache_dir("Linux", {"XDG_CACHE_HOME": "relative"}, home) == home / ".cache" / "wan2.2-turbo"
    assert user_cache_dir("Darwin", {}, home) == home / "Library" / "Caches" / "wan2.2-turbo"
    assert user_cache_dir("Windows", {"LOCALAPPDATA": "C:/Users/u/AppData/Local"}, home).as_posix() == (
        "C:/Users/u/AppData/Local/wan2.2-turbo/Cache")
