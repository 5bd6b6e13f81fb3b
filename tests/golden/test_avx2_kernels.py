"""The accuracy contracts the bundle declares for AVX2-only CPUs, checked with AVX2's kernels.

Selection lets an integer variant run only on the int8 kernel families its contract names
(runtime/placement/selection.py rule 2), and the contract tests assert each family's floor on
the CPU they run on. These sessions' machines have had AVX-512 VNNI, so the AVX2 entries are
checked here by running those same tests under bench/isa_mask.py, which hides AVX-512,
AVX-VNNI and AMX from CPUID (onnxruntime then runs its AVX2 kernels, with their rounding and
16-bit saturation) and from /proc/cpuinfo (the tests then assert the avx2 contract). Needs
CPUID faulting and root; skipped where the CPU is AVX2-only already (the tests themselves
check it there) or cannot be masked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import isa_mask  # noqa: E402

pytestmark = pytest.mark.slow

CONTRACT_TESTS = (
    "tests/golden/test_fused_lm.py::test_teacher_forced_agreement_with_fp32",
    "tests/golden/test_minilm.py::test_int8_agrees_with_fp32_as_its_contract_says_for_this_cpu",
)


@pytest.mark.parametrize("test_id", CONTRACT_TESTS)
def test_contract_holds_with_avx2_kernels(test_id, int8_kernels):
    refusal = isa_mask.why_not(Path("/proc/cpuinfo").read_text())
    if refusal:
        pytest.skip(f"cannot mask this CPU to AVX2: {refusal}")
    if int8_kernels == "avx2":
        pytest.skip("this CPU runs AVX2 kernels already: the contract test itself checks them")
    # No faulthandler in the child: its SIGSEGV handler would replace the mask's.
    argv, environment = isa_mask.masked_command(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:faulthandler", "-p", "no:cacheprovider", test_id])
    done = subprocess.run(argv, env=environment, cwd=REPO, capture_output=True, text=True, timeout=1200)
    report = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    assert "1 passed" in done.stdout and "skipped" not in done.stdout, report
