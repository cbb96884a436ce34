/* core/ctx.h - the context a run computes in: which kernel table, how many
 * threads, and the GEMM's per-thread workspaces.
 *
 * BLIS hands a context (cntx_t) to every call instead of letting code read
 * a global; bplab does the same. A bp_ctx is made once per run (from --isa
 * or BPLAB_ISA and --threads) and handed down: the network, the optimizer
 * and the trainer compute through it, every parallel region forks
 * ctx->threads threads, and nothing flips a process-wide setting. Two runs
 * with different instruction sets or thread counts can therefore live in
 * one process (the experiment programs do). The GEMM's packing buffers
 * (one workspace per thread, kernels.h bp_gemm_ctx) are allocated when the
 * context is created, so no kernel allocates and a training step never
 * does. A context is read-only after creation and may be shared by any
 * number of networks that do not compute at the same time (its workspaces
 * serve one GEMM at a time).
 */
#ifndef BPLAB_CTX_H
#define BPLAB_CTX_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"
#include "kernels/kernels.h"

typedef struct bp_prof bp_prof; /* core/prof.h */

typedef struct bp_ctx {
    const bp_kernels *k; /* the kernel table every call goes through */
    int threads;         /* OpenMP threads of parallel regions, >= 1 */
    bp_gemm_ctx gemm;    /* what bp_gemm hands the table's gemm: `threads`
                            threads and a workspace for each, owned here */
    bp_prof *prof;       /* NULL, or the profiler whose table k is, owned
                            here (core/prof.h bp_ctx_profile) */
    bool unfused;        /* false (the default): layers hand the work that
                            follows a GEMM to it as an epilogue (a dense
                            layer's bias, activation and bias gradient,
                            kernels.h bp_gemm_post); true: every kernel
                            runs on its own (--no-fuse, to profile each).
                            The bits are the same; set it before the
                            context computes */
    size_t conv_images;  /* 0 (the default): a convolution's patches are
                            made in blocks of its own size (core/layers/
                            conv.c); n > 0: of at most n images, which
                            sums the weight gradient in other blocks
                            (tests: gradient checks over several) */
} bp_ctx;

/* Most threads a context may ask for. */
#define BP_MAX_THREADS 1024

/* A context on the table named `isa` ("scalar", "avx2", ..., "auto"; NULL:
 * the BPLAB_ISA environment variable if set, else the best the CPU runs)
 * with `threads` threads (0: the OpenMP default, OMP_NUM_THREADS or one
 * per CPU). `what` names the setting in messages (e.g. "--isa"). Fails
 * with BP_ERR_INVALID_ARG or BP_ERR_UNSUPPORTED for a table it cannot
 * use, BP_ERR_NOMEM when the workspaces cannot be allocated. */
bp_status bp_ctx_create(const char *isa, const char *what, long long threads,
                        bp_ctx **out, bp_err *err);

/* The table bp_ctx_create(isa, what, ...) would use, with the same
 * errors, without making a context. */
bp_status bp_ctx_lookup(const char *isa, const char *what,
                        const bp_kernels **out, bp_err *err);

/* A context on a given table (NULL: the default one, bp_kernels_active). */
bp_status bp_ctx_create_for(const bp_kernels *k, long long threads,
                            bp_ctx **out, bp_err *err);

void bp_ctx_destroy(bp_ctx *c);

/* The data caches of this CPU (kernels.h bp_caches_detect), detected once
 * per process. */
const bp_caches *bp_ctx_caches(void);

/* The GEMM blocking a context on table k gets: the BLIS model's for the
 * detected caches (kernels.h bp_gemm_blocking_model; zeros for scalar),
 * or BPLAB_GEMM_BLOCKING=KC,MC,NC when set (*overridden, if not NULL,
 * says which), an error for a malformed value. The blocking decides speed
 * only, never the bits of a result. */
bp_status bp_ctx_blocking(const bp_kernels *k, bp_gemm_blocking *out,
                          bool *overridden, bp_err *err);

/* C = alpha op(A) op(B) + beta C through the context (kernels.h bp_gemm_fn):
 * its table, its threads and its workspaces. */
static inline void bp_gemm(const bp_ctx *c, bool ta, bool tb, size_t m,
                           size_t n, size_t k, float alpha, const float *A,
                           size_t lda, const float *B, size_t ldb, float beta,
                           float *C, size_t ldc)
{
    c->k->gemm(&c->gemm, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C,
               ldc, NULL);
}

/* bp_gemm with an epilogue (kernels.h bp_gemm_post): the same bits as
 * bp_gemm followed by the kernels the epilogue stands for. */
static inline void bp_gemm_fused(const bp_ctx *c, bool ta, bool tb,
                                 size_t m, size_t n, size_t k, float alpha,
                                 const float *A, size_t lda, const float *B,
                                 size_t ldb, float beta, float *C, size_t ldc,
                                 const bp_gemm_post *post)
{
    c->k->gemm(&c->gemm, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C,
               ldc, post);
}

#endif
