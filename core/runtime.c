/* core/runtime.c - denormal flushing and build facts. */
#include "core/runtime.h"

#include <omp.h>
#include <stdint.h>

#include "build_info.h"
#include "core/ctx.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define MXCSR_FTZ_DAZ 0x8040u
static bool get_flush(void) { return (_mm_getcsr() & MXCSR_FTZ_DAZ) == MXCSR_FTZ_DAZ; }
static void set_flush(bool on)
{
    unsigned csr = _mm_getcsr();
    _mm_setcsr(on ? csr | MXCSR_FTZ_DAZ : csr & ~MXCSR_FTZ_DAZ);
}
#elif defined(__aarch64__)
#define FPCR_FZ (1ull << 24)
static uint64_t get_fpcr(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, fpcr" : "=r"(v));
    return v;
}
static bool get_flush(void) { return (get_fpcr() & FPCR_FZ) != 0; }
static void set_flush(bool on)
{
    uint64_t v = get_fpcr();
    v = on ? v | FPCR_FZ : v & ~FPCR_FZ;
    __asm__ volatile("msr fpcr, %0" ::"r"(v));
}
#else
static bool get_flush(void) { return false; }
static void set_flush(bool on) { (void)on; }
#endif

bool bp_flush_denormals(const bp_ctx *c, bool on)
{
    bool was = get_flush();
    set_flush(on);
    /* every worker the context forks (its regions ask for c->threads) */
#pragma omp parallel num_threads(c->threads)
    set_flush(on);
    return was;
}

const char *bp_version(void) { return BPLAB_VERSION; }
const char *bp_git_commit(void) { return BPLAB_GIT_COMMIT; }
int bp_git_dirty(void) { return BPLAB_GIT_DIRTY; }
const char *bp_build_type(void) { return BPLAB_BUILD_TYPE; }
const char *bp_compiler(void) { return BPLAB_COMPILER; }
const char *bp_c_flags(void) { return BPLAB_C_FLAGS; }
const char *bp_sanitizers(void) { return BPLAB_SANITIZE; }
