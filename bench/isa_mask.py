"""Run a command as if this CPU had AVX2 but no AVX-512, AVX-VNNI or AMX (issues 13 and 15).

    python3 bench/isa_mask.py -- .venv/bin/python bench/lm_fused.py --runs 5 --record

The variant selection (runtime/placement/selection.py) follows figures measured per int8
kernel family, and the kernels onnxruntime runs are chosen by CPUID when a process starts:
VNNI/AMX machines run other int8 and int4 code than AVX2-only ones, with other speed and
other rounding (AVX2's 16-bit sums saturate). When no AVX2-only machine is at hand, this
makes one out of a newer x86 CPU for the command it runs and everything that starts:

- every CPUID instruction the command executes reports those instruction sets absent
  (bench/cpuid_mask.c, loaded with LD_PRELOAD; Linux CPUID faulting: the CPU must list
  `cpuid_fault` in /proc/cpuinfo), so onnxruntime's MLAS, numpy and oneDNN take their AVX2
  kernels;
- /proc/cpuinfo, in a private mount namespace (root, `unshare -m`), is a copy without those
  flags and with the model name saying it is masked, so `detect_hardware()` files the
  figures under the `avx2` kernel family and every figure's CPU line tells what it was.

What this shows and what it does not: the kernels and their numerics are exactly the AVX2
ones, so accuracy figures hold for AVX2-only CPUs, and speeds compare variants with each
other on AVX2 kernels. The core, its caches, clock and memory stay the newer machine's, so
absolute rates are not those of an older CPU; and code compiled for the host ahead of time
(llama.cpp built with GGML_NATIVE, glibc's string functions picked before this loads) keeps
its AVX-512. The C file is compiled with the system `cc` into .cache/isa_mask/.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = HERE / "cpuid_mask.c"
CACHE = REPO / ".cache" / "isa_mask"
# /proc/cpuinfo flags of the instruction sets the C file hides from CPUID.
HIDDEN_PREFIXES = ("avx512", "avx_vnni", "amx", "avx_ifma", "avx_ne_convert")
MASKED_NOTE = " [CPUID masked to AVX2 by bench/isa_mask.py]"


def masked_cpuinfo(text: str) -> str:
    """/proc/cpuinfo without the hidden flags, each model name marked as masked."""
    lines = []
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        name = key.strip()
        if colon and name == "flags":
            kept = [flag for flag in value.split() if not flag.startswith(HIDDEN_PREFIXES)]
            line = f"{key}: {' '.join(kept)}"
        elif colon and name == "model name":
            line = f"{key}: {value.strip()}{MASKED_NOTE}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def why_not(cpuinfo: str) -> str | None:
    """Why this machine cannot run the mask, or None."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return f"needs Linux on x86_64, not {platform.system()} on {platform.machine()}"
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    if "cpuid_fault" not in flags:
        return "this CPU (or its hypervisor) does not offer CPUID faulting (no cpuid_fault in /proc/cpuinfo)"
    if "avx2" not in flags:
        return "this CPU has no AVX2 to keep"
    if os.geteuid() != 0:
        return "needs root for a private mount namespace (unshare -m) over /proc/cpuinfo"
    for tool in ("cc", "unshare", "mount"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed"
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:  # root without CAP_SYS_ADMIN
        return "this process may not make a mount namespace (unshare -m failed)"
    return None


def build_library() -> Path:
    """The compiled mask, cached by the C file's hash."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    library = CACHE / f"cpuid_mask-{digest}.so"
    if not library.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = library.with_suffix(".partial")
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(partial), str(SOURCE)], check=True)
        partial.replace(library)
    return library


def masked_command(command: list[str]) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run `command` masked (raises SystemExit where it cannot)."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    refusal = why_not(cpuinfo)
    if refusal:
        raise SystemExit(f"isa_mask: {refusal}")
    library = build_library()
    fake = CACHE / "cpuinfo-avx2"
    fake.write_text(masked_cpuinfo(cpuinfo))
    environment = dict(os.environ)
    environment["LD_PRELOAD"] = " ".join(filter(None, [str(library), environment.get("LD_PRELOAD", "")]))
    environment["WAN_ISA_MASK"] = "avx2"  # for the reader of a report; nothing in runtime/ reads it
    # The mask's SIGSEGV handler must stay the process's: Python's faulthandler would replace it
    # and turn the first CPUID into a fatal error. (Programs that install their own SIGSEGV
    # handler cannot run masked.)
    environment.pop("PYTHONFAULTHANDLER", None)
    script = 'mount --bind "$0" /proc/cpuinfo && exec "$@"'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, str(fake), *command], environment


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    argv, environment = masked_command(command)
    return subprocess.run(argv, env=environment).returncode


if __name__ == "__main__":
    sys.exit(main())
