/* core/runtime.h - the one process-wide setting (denormal flushing) and
 * build facts. The kernel table and the thread count are not here: they
 * belong to a run's context (core/ctx.h). */
#ifndef BPLAB_RUNTIME_H
#define BPLAB_RUNTIME_H

#include <stdbool.h>

#include "core/ctx.h"
#include "core/status.h"

/* Flush denormals to zero (x86: MXCSR FTZ and DAZ; AArch64: FPCR.FZ) in
 * the calling thread and every OpenMP worker, or restore IEEE behaviour.
 * Training runs flushed: a denormal operand costs x86 ~100 cycles of
 * microcode, and momentum buffers of weights whose gradient is exactly 0
 * (dead ReLU units) decay through the denormal range for ~150 steps, which
 * made the optimizer step 8x slower. Values that small are zero for any
 * purpose of training. Reaches the workers of the context `c` (the
 * c->threads its parallel regions fork). Returns the previous setting. */
bool bp_flush_denormals(const bp_ctx *c, bool on);

/* Build facts, fixed at build time. */
const char *bp_version(void);
const char *bp_git_commit(void);  /* short hash, or "unknown" */
int bp_git_dirty(void);           /* 1 if built from a modified tree */
const char *bp_build_type(void);
const char *bp_compiler(void);
const char *bp_c_flags(void);
const char *bp_sanitizers(void);  /* "" when none */

#endif
