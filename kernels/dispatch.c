/* kernels/dispatch.c - CPU detection, table assembly and ISA selection.
 *
 * Compiled with baseline flags only: nothing here may execute an AVX
 * instruction. Detection runs once (pthread_once). On x86 an ISA counts as
 * supported only when CPUID reports the instructions *and* XCR0 shows that
 * the OS saves the registers they use (YMM for AVX2; opmask and ZMM too for
 * AVX-512): without the XCR0 check a VM or an old kernel gives SIGILL.
 *
 * Tables, in the order of BP_ISAS (kernels/kernel_list.h): scalar is
 * filled from kernels/scalar; every other table starts as a copy of its
 * base (avx2 and neon: scalar; avx512: avx2) and, if this build compiles
 * its folder (the generated isas_built.h), replaces the entries its
 * <isa>_list.h names. impl[] records which ISA's code each entry runs, for
 * `bplab info`.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dispatch_internal.h"
#include "kernels/kernels.h"
#include "kernels/scalar/scalar.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define BP_ARCH_X86 1
#elif defined(__aarch64__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
#define BP_ARCH_ARM64 1
#endif

/* BP_BUILT_ISAS(X): X(name, ENUM) for each ISA folder this build compiles,
 * with its <name>_list.h included; written by CMakeLists.txt. */
#include "isas_built.h"

/* ---------------------------------------------------------------------- */
/* Kernel descriptions                                                     */

static const bp_kernel_desc kernel_descs[BP_NUM_KERNELS] = {
#define X(name, type, sig, tol, fac) {#name, sig, tol, fac},
    BP_KERNELS(X)
#undef X
};

const bp_kernel_desc *bp_kernel_desc_of(bp_kernel_id k)
{
    return (unsigned)k < BP_NUM_KERNELS ? &kernel_descs[k] : NULL;
}

bp_kernel_id bp_kernel_parse(const char *name)
{
    for (int k = 0; k < BP_NUM_KERNELS; k++)
        if (name && strcmp(name, kernel_descs[k].name) == 0)
            return (bp_kernel_id)k;
    return BP_NUM_KERNELS;
}

const void *bp_kernel_ptr(const bp_kernels *t, bp_kernel_id k)
{
    switch (k) {
#define X(name, type, sig, tol, fac) \
    case BP_K_##name: return (const void *)t->name;
        BP_KERNELS(X)
#undef X
    case BP_NUM_KERNELS: break;
    }
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* ISA names                                                               */

static const char *const isa_names[BP_ISA_COUNT] = {
#define X(name, ENUM, base, lacks) #name,
    BP_ISAS(X)
#undef X
};

static const bp_isa isa_bases[BP_ISA_COUNT] = {
#define X(name, ENUM, base, lacks) BP_ISA_##base,
    BP_ISAS(X)
#undef X
};

/* A base must come earlier in the list (the tables are built in order). */
#define X(name, ENUM, base, lacks)                                   \
    _Static_assert(BP_ISA_##base < BP_ISA_##ENUM ||                  \
                       BP_ISA_##ENUM == BP_ISA_SCALAR,               \
                   "BP_ISAS: the base of " #name " must come before it");
BP_ISAS(X)
#undef X

static const bool isa_built[BP_ISA_COUNT] = {
    [BP_ISA_SCALAR] = true,
#define X(name, ENUM) [BP_ISA_##ENUM] = true,
    BP_BUILT_ISAS(X)
#undef X
};

const char *bp_isa_name(bp_isa isa)
{
    return (unsigned)isa < BP_ISA_COUNT ? isa_names[isa] : "?";
}

bp_isa bp_isa_parse(const char *name)
{
    if (!name)
        return BP_ISA_COUNT;
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const char *a = isa_names[i], *b = name;
        while (*a && tolower((unsigned char)*b) == *a)
            a++, b++;
        if (*a == '\0' && *b == '\0')
            return (bp_isa)i;
    }
    return BP_ISA_COUNT;
}

bp_isa bp_isa_base(bp_isa isa)
{
    return (unsigned)isa < BP_ISA_COUNT ? isa_bases[isa] : BP_ISA_COUNT;
}

bool bp_isa_built(bp_isa isa)
{
    return (unsigned)isa < BP_ISA_COUNT && isa_built[isa];
}

/* ---------------------------------------------------------------------- */
/* CPU detection                                                           */

static bp_cpu_info cpu;

#ifdef BP_ARCH_X86
static uint64_t read_xcr0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static void detect_x86(void)
{
    unsigned a, b, c, d;
    snprintf(cpu.arch, sizeof cpu.arch, "x86_64");
    if ((unsigned)__get_cpuid_max(0x80000000u, NULL) >= 0x80000004u) {
        unsigned brand[12];
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &brand[4 * i], &brand[4 * i + 1],
                        &brand[4 * i + 2], &brand[4 * i + 3]);
        char s[49];
        memcpy(s, brand, 48);
        s[48] = '\0';
        /* the brand string is padded with blanks, on either side */
        const char *p = s;
        while (*p == ' ')
            p++;
        size_t n = strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        snprintf(cpu.model, sizeof cpu.model, "%.*s", (int)n, p);
    } else {
        snprintf(cpu.model, sizeof cpu.model, "unknown x86-64 CPU");
    }
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    bool osxsave = (c >> 27) & 1;
    cpu.has_avx = (c >> 28) & 1;
    cpu.has_fma = (c >> 12) & 1;
    if (osxsave) {
        uint64_t xcr0 = read_xcr0();
        cpu.os_ymm = (xcr0 & 0x6) == 0x6;             /* SSE and AVX state */
        cpu.os_zmm = cpu.os_ymm && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM */
    }
    if ((unsigned)__get_cpuid_max(0, NULL) >= 7 &&
        __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        cpu.has_avx2 = (b >> 5) & 1;
        cpu.has_avx512f = (b >> 16) & 1;
        cpu.has_avx512dq = (b >> 17) & 1;
        cpu.has_avx512bw = (b >> 30) & 1;
        cpu.has_avx512vl = (b >> 31) & 1;
    }
}
#endif

#ifdef BP_ARCH_ARM64
static void detect_arm64(void)
{
    snprintf(cpu.arch, sizeof cpu.arch, "aarch64");
    snprintf(cpu.model, sizeof cpu.model, "AArch64 CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        unsigned impl = 0, part = 0;
        while (fgets(line, sizeof line, f)) {
            sscanf(line, "CPU implementer : %x", &impl);
            sscanf(line, "CPU part : %x", &part);
        }
        fclose(f);
        if (impl || part)
            snprintf(cpu.model, sizeof cpu.model,
                     "AArch64 CPU (implementer 0x%02x, part 0x%03x)", impl,
                     part);
    }
    cpu.has_neon = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
}
#endif

/* The detection predicates of BP_ISAS: why the CPU cannot run the ISA, or
 * NULL if it can. They read `cpu`, filled by detect_*() first. */
static const char *cpu_lacks_nothing(void)
{
    return NULL;
}

static const char *cpu_lacks_avx2(void)
{
    if (!cpu.has_avx2) return "CPU lacks AVX2";
    if (!cpu.has_fma) return "CPU lacks FMA";
    if (!cpu.os_ymm) return "OS does not enable AVX (YMM) state";
    return NULL;
}

static const char *cpu_lacks_avx512(void)
{
    const char *why = cpu_lacks_avx2();
    if (why) return why;
    if (!cpu.has_avx512f) return "CPU lacks AVX-512F";
    if (!cpu.has_avx512dq) return "CPU lacks AVX-512DQ";
    if (!cpu.has_avx512bw) return "CPU lacks AVX-512BW";
    if (!cpu.has_avx512vl) return "CPU lacks AVX-512VL";
    if (!cpu.os_zmm) return "OS does not enable AVX-512 (ZMM) state";
    return NULL;
}

static const char *cpu_lacks_neon(void)
{
    return cpu.has_neon ? NULL : "CPU lacks NEON (AdvSIMD)";
}

static const char *(*const cpu_lacks_fn[BP_ISA_COUNT])(void) = {
#define X(name, ENUM, base, lacks) lacks,
    BP_ISAS(X)
#undef X
};

/* Why the CPU cannot run `isa`, or NULL if it can. */
static const char *cpu_lacks(bp_isa isa)
{
    return (unsigned)isa < BP_ISA_COUNT ? cpu_lacks_fn[isa]() : "unknown ISA";
}

/* ---------------------------------------------------------------------- */
/* Tables                                                                  */

static bp_kernels tables[BP_ISA_COUNT];
static bool usable[BP_ISA_COUNT];
static uint32_t test_disabled; /* bit per ISA, see dispatch_internal.h */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void fill_scalar(bp_kernels *t)
{
    t->isa = BP_ISA_SCALAR;
#define X(name, type, sig, tol, fac) \
    t->name = bp_##name##__scalar;   \
    t->impl[BP_K_##name] = BP_ISA_SCALAR;
    BP_KERNELS(X)
#undef X
}

/* Start `t` as a copy of `base`, then, if this build compiles the ISA's
 * folder, let its list (BP_<ENUM>_KERNELS) override entries. */
static void derive(bp_kernels *t, const bp_kernels *base, bp_isa isa)
{
    *t = *base;
    t->isa = isa;
#define OVERRIDE(kname, suffix)          \
    t->kname = bp_##kname##__##suffix;   \
    t->impl[BP_K_##kname] = isa;
    switch (isa) {
#define X(name, ENUM)                    \
    case BP_ISA_##ENUM:                  \
        BP_##ENUM##_KERNELS(OVERRIDE, name) \
        break;
        BP_BUILT_ISAS(X)
#undef X
    default: break;
    }
#undef OVERRIDE
}

static void init(void)
{
#if defined(BP_ARCH_X86)
    detect_x86();
#elif defined(BP_ARCH_ARM64)
    detect_arm64();
#else
    snprintf(cpu.arch, sizeof cpu.arch, "unknown");
    snprintf(cpu.model, sizeof cpu.model, "unknown CPU");
#endif
    fill_scalar(&tables[BP_ISA_SCALAR]);
    for (int i = 0; i < BP_ISA_COUNT; i++)
        if (i != BP_ISA_SCALAR)
            derive(&tables[i], &tables[isa_bases[i]], (bp_isa)i);
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        tables[i].isa_name = isa_names[i];
        usable[i] = bp_isa_built((bp_isa)i) && cpu_lacks((bp_isa)i) == NULL;
    }
}

static void ensure_init(void)
{
    pthread_once(&init_once, init);
}

const bp_cpu_info *bp_cpu(void)
{
    ensure_init();
    return &cpu;
}

bool bp_isa_supported(bp_isa isa)
{
    ensure_init();
    return (unsigned)isa < BP_ISA_COUNT && usable[isa] &&
           !(test_disabled & (1u << isa));
}

const char *bp_isa_unsupported_reason(bp_isa isa)
{
    ensure_init();
    if ((unsigned)isa >= BP_ISA_COUNT)
        return "unknown ISA";
    if (!bp_isa_built(isa))
        return "not built into this binary";
    if (test_disabled & (1u << isa))
        return "disabled for testing";
    return cpu_lacks(isa);
}

bp_isa bp_isa_best(void)
{
    bp_isa best = BP_ISA_SCALAR;
    for (int i = 0; i < BP_ISA_COUNT; i++)
        if (bp_isa_supported((bp_isa)i))
            best = (bp_isa)i;
    return best;
}

const bp_kernels *bp_kernels_for(bp_isa isa)
{
    return bp_isa_supported(isa) ? &tables[isa] : NULL;
}


/* Each ISA folder's FMA-throughput loop (<folder>/peak.c). */
#define X(name, ENUM) bp_fma_loop_fn bp_fma_loop__##name;
BP_BUILT_ISAS(X)
#undef X

static bp_fma_loop_fn *const fma_loops[BP_ISA_COUNT] = {
    [BP_ISA_SCALAR] = bp_fma_loop__scalar,
#define X(name, ENUM) [BP_ISA_##ENUM] = bp_fma_loop__##name,
    BP_BUILT_ISAS(X)
#undef X
};

bp_fma_loop_fn *bp_isa_fma_loop(bp_isa isa)
{
    return bp_isa_supported(isa) ? fma_loops[isa] : NULL;
}

/* "scalar avx2 avx512" style lists for messages. */
static void list_isas(char *buf, size_t size, bool only_usable)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        if (only_usable && !bp_isa_supported((bp_isa)i))
            continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? " " : "",
                         isa_names[i]);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
}

bp_status bp_kernels_lookup(const char *name, const char *what,
                            const bp_kernels **out, bp_err *err)
{
    ensure_init();
    if (!what)
        what = "ISA";
    char names[64];
    if (!name || !*name || strcmp(name, "auto") == 0) {
        *out = &tables[bp_isa_best()];
        return BP_OK;
    }
    bp_isa isa = bp_isa_parse(name);
    if (isa == BP_ISA_COUNT) {
        list_isas(names, sizeof names, false);
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "%s=%.40s: unknown instruction set (valid: auto %s)",
                       what, name, names);
    }
    if (!bp_isa_supported(isa)) {
        list_isas(names, sizeof names, true);
        return bp_fail(err, BP_ERR_UNSUPPORTED, "%s=%s: %s (usable: %s)",
                       what, isa_names[isa], bp_isa_unsupported_reason(isa),
                       names);
    }
    *out = &tables[isa];
    return BP_OK;
}

const bp_kernels *bp_kernels_active(void)
{
    const bp_kernels *t;
    const char *env = getenv("BPLAB_ISA");
    if (env && bp_kernels_lookup(env, "BPLAB_ISA", &t, NULL) == BP_OK)
        return t;
    return &tables[bp_isa_best()];
}

void bp__dispatch_disable_for_test(uint32_t isa_mask)
{
    ensure_init();
    test_disabled = isa_mask;
}
