/* Hide AVX-512, AVX-VNNI and AMX from every CPUID this process executes (bench/isa_mask.py).
 *
 * Linux's CPUID faulting (arch_prctl ARCH_SET_CPUID, CPUs whose /proc/cpuinfo lists
 * cpuid_fault) makes the CPUID instruction raise SIGSEGV. The handler below executes the
 * real instruction with faulting briefly off, clears the feature bits of the instruction
 * sets this mask hides, writes the registers back and steps over the two-byte instruction.
 * Libraries that pick kernels by CPUID at run time (onnxruntime's MLAS, numpy, oneDNN)
 * then pick their AVX2 paths. The setting survives fork and clone (threads) and is reset
 * by execve, where LD_PRELOAD loads this file again.
 *
 * Leaf 7 sub-leaf 0: EBX avx512f/dq/ifma/pf/er/cd/bw/vl, ECX avx512_vbmi/vbmi2/vnni/bitalg/
 * vpopcntdq, EDX avx512_4vnniw/4fmaps/vp2intersect, amx_bf16, avx512_fp16, amx_tile,
 * amx_int8. Sub-leaf 1: EAX avx_vnni, avx512_bf16, avx_ifma; EDX avx_vnni_int8,
 * avx_ne_convert, avx_vnni_int16. AVX, AVX2, FMA and F16C stay.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ARCH_SET_CPUID 0x1012
#define BIT(n) (1u << (n))

static const uint32_t LEAF7_EBX = BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31);
static const uint32_t LEAF7_ECX = BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14);
static const uint32_t LEAF7_EDX = BIT(2) | BIT(3) | BIT(8) | BIT(22) | BIT(23) | BIT(24) | BIT(25);
static const uint32_t LEAF7_1_EAX = BIT(4) | BIT(5) | BIT(23);
static const uint32_t LEAF7_1_EDX = BIT(4) | BIT(5) | BIT(10);

static long cpuid_faulting(int on) { return syscall(SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1); }

static void on_segv(int signo, siginfo_t *info, void *context) {
    (void)signo;
    (void)info;
    greg_t *reg = ((ucontext_t *)context)->uc_mcontext.gregs;
    const uint8_t *ip = (const uint8_t *)reg[REG_RIP];
    if (ip[0] != 0x0f || ip[1] != 0xa2) {  /* a real fault: let it kill the process as usual */
        signal(SIGSEGV, SIG_DFL);
        return;
    }
    unsigned leaf = (unsigned)reg[REG_RAX], sub = (unsigned)reg[REG_RCX], a, b, c, d;
    cpuid_faulting(0);
    __cpuid_count(leaf, sub, a, b, c, d);
    cpuid_faulting(1);
    if (leaf == 7 && sub == 0) {
        b &= ~LEAF7_EBX;
        c &= ~LEAF7_ECX;
        d &= ~LEAF7_EDX;
    } else if (leaf == 7 && sub == 1) {
        a &= ~LEAF7_1_EAX;
        d &= ~LEAF7_1_EDX;
    }
    reg[REG_RAX] = a;
    reg[REG_RBX] = b;
    reg[REG_RCX] = c;
    reg[REG_RDX] = d;
    reg[REG_RIP] += 2;
}

__attribute__((constructor)) static void mask_cpuid(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &action, NULL);
    if (cpuid_faulting(1) != 0) {
        static const char message[] = "cpuid_mask: this CPU or kernel refuses CPUID faulting; nothing is masked\n";
        write(2, message, sizeof message - 1);
        _exit(70);
    }
}
