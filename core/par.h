/* core/par.h - thread-count-independent parallel loops for the core.
 *
 * Element-wise work on a long array is split into fixed chunks of
 * BP_PAR_CHUNK elements, handed to the context's threads statically. Reductions
 * keep one partial per chunk and add the partials in chunk order, so the
 * result depends on the chunk size (a constant) and never on the thread
 * count. Arrays shorter than two chunks run on the calling thread.
 */
#ifndef BPLAB_PAR_H
#define BPLAB_PAR_H

#include <stddef.h>

#include "core/ctx.h"

#define BP_PAR_CHUNK ((size_t)16384)

/* sum of squares of x[0:n] through the table's sumsq, chunk by chunk */
double bp_par_sumsq(const bp_ctx *c, size_t n, const float *x);

/* x[0:n] *= s, and clip to [-c, c], in chunks */
void bp_par_scale(const bp_ctx *c, size_t n, float s, float *x);
void bp_par_clip(const bp_ctx *c, size_t n, float cv, float *x);

/* One optimizer update over [0, n) in chunks (m, v may be NULL when the
 * optimizer does not use them). kind: 0 sgd, 1 momentum, 2 adam. Returns
 * the sum of squares of g (chunk partials added in order). */
double bp_par_update(const bp_ctx *c, int kind, size_t n, float *w,
                     const float *g, float *m, float *v,
                     const bp_opt_params *p);

/* Element-wise maps through a kernel of the table, in chunks: the same
 * bits as one call. They fork only from BP_PAR_MAP_CHUNKS chunks (a
 * quarter of a million elements), below which a fork's few microseconds
 * are not repaid. */
#define BP_PAR_MAP_CHUNKS ((size_t)16)
void bp_par_map(const bp_ctx *c, bp_unary_fn *f, size_t n, const float *x,
                float *y);
void bp_par_map_bwd(const bp_ctx *c, bp_unary_bwd_fn *f, size_t n,
                    const float *y, const float *dy, float *dx);

/* bias_grad (kernels.h) of a rows x cols matrix, its columns shared among
 * the threads: each column's sum is one chain, so the bits are one
 * call's. Forks from BP_PAR_MAP_CHUNKS chunks of elements. */
void bp_par_bias_grad(const bp_ctx *c, size_t rows, size_t cols,
                      const float *d, size_t ldd, float *g);

#endif
