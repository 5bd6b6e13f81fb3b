"""bench/isa_mask.py: a process that sees an AVX2-only CPU, in its CPUID and its /proc/cpuinfo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import isa_mask  # noqa: E402

CPUINFO = """processor\t: 0
model name\t: Some CPU
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_vnni avx_vnni amx_int8 amx_tile avx512_bf16 cpuid_fault

processor\t: 1
model name\t: Some CPU
flags\t\t: fpu avx2 avx512f
"""


def test_the_masked_cpuinfo_keeps_avx2_and_drops_every_newer_set():
    masked = isa_mask.masked_cpuinfo(CPUINFO)
    flags = [line.split(":", 1)[1].split() for line in masked.splitlines() if line.startswith("flags")]
    assert flags == [["fpu", "sse2", "avx", "avx2", "fma", "cpuid_fault"], ["fpu", "avx2"]]
    assert masked.count("Some CPU" + isa_mask.MASKED_NOTE) == 2


def _masked_run(code: str) -> subprocess.CompletedProcess:
    argv, environment = isa_mask.masked_command([sys.executable, "-c", code])
    return subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(isa_mask.why_not(Path("/proc/cpuinfo").read_text()) is not None,
                    reason="this machine cannot mask CPUID")
def test_a_masked_process_runs_avx2_kernels_and_files_its_figures_under_avx2():
    code = ("from numpy._core._multiarray_umath import __cpu_features__ as f\n"
            "from runtime.placement.hardware import detect_hardware\n"
            "h = detect_hardware()\n"
            "print(f['AVX2'], f['AVX512F'], f['AVX512_SKX'], h.int8_kernels, ' '.join(sorted(h.isa)))\n")
    done = _masked_run(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "False", "avx2", "avx2"]
    # A real invalid access still kills the process: the handler only steps over CPUID.
    crashed = _masked_run("import ctypes; ctypes.string_at(0)")
    assert crashed.returncode == -11
