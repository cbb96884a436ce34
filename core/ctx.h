/* core/ctx.h - the context a run computes in: which kernel table, how many
 * threads.
 *
 * BLIS hands a context (cntx_t) to every call instead of letting code read
 * a global; bplab does the same. A bp_ctx is made once per run (from --isa
 * or BPLAB_ISA and --threads) and handed down: the network, the optimizer
 * and the trainer compute through it, every parallel region forks
 * ctx->threads threads, and nothing flips a process-wide setting. Two runs
 * with different instruction sets or thread counts can therefore live in
 * one process (the experiment programs do). A context is read-only after
 * creation and may be shared by any number of networks.
 */
#ifndef BPLAB_CTX_H
#define BPLAB_CTX_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"
#include "kernels/kernels.h"

typedef struct bp_ctx {
    const bp_kernels *k; /* the kernel table every call goes through */
    int threads;         /* OpenMP threads of parallel regions, >= 1 */
} bp_ctx;

/* Most threads a context may ask for. */
#define BP_MAX_THREADS 1024

/* A context on the table named `isa` ("scalar", "avx2", ..., "auto"; NULL:
 * the BPLAB_ISA environment variable if set, else the best the CPU runs)
 * with `threads` threads (0: the OpenMP default, OMP_NUM_THREADS or one
 * per CPU). `what` names the setting in messages (e.g. "--isa"). */
bp_status bp_ctx_create(const char *isa, const char *what, long long threads,
                        bp_ctx **out, bp_err *err);

/* A context on a given table (NULL: the active one, bp_kernels_active). */
bp_status bp_ctx_create_for(const bp_kernels *k, long long threads,
                            bp_ctx **out, bp_err *err);

void bp_ctx_destroy(bp_ctx *c);

/* C = alpha op(A) op(B) + beta C through the context (kernels.h bp_gemm_fn). */
static inline void bp_gemm(const bp_ctx *c, bool ta, bool tb, size_t m,
                           size_t n, size_t k, float alpha, const float *A,
                           size_t lda, const float *B, size_t ldb, float beta,
                           float *C, size_t ldc)
{
    c->k->gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

#endif
