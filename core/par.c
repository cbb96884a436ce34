/* core/par.c - chunked parallel loops (par.h). */
#include "core/par.h"

#include <omp.h>

static size_t chunks_of(size_t n)
{
    return (n + BP_PAR_CHUNK - 1) / BP_PAR_CHUNK;
}

static size_t len_of(size_t n, size_t c)
{
    size_t lo = c * BP_PAR_CHUNK;
    return n - lo < BP_PAR_CHUNK ? n - lo : BP_PAR_CHUNK;
}

double bp_par_sumsq(const bp_ctx *ctx, size_t n, const float *x)
{
    const bp_kernels *k = ctx->k;
    size_t nc = chunks_of(n);
    if (nc <= 1)
        return k->sumsq(n, x);
    double part[4096];
    if (nc > sizeof part / sizeof *part)
        return k->sumsq(n, x);
#pragma omp parallel for schedule(static) num_threads(ctx->threads) if (nc >= 2)
    for (size_t c = 0; c < nc; c++)
        part[c] = k->sumsq(len_of(n, c), x + c * BP_PAR_CHUNK);
    double s = 0.0;
    for (size_t c = 0; c < nc; c++)
        s += part[c];
    return s;
}

void bp_par_scale(const bp_ctx *ctx, size_t n, float s, float *x)
{
    const bp_kernels *k = ctx->k;
    size_t nc = chunks_of(n);
#pragma omp parallel for schedule(static) num_threads(ctx->threads) if (nc >= 2)
    for (size_t c = 0; c < nc; c++)
        k->scale(len_of(n, c), s, x + c * BP_PAR_CHUNK);
}

void bp_par_clip(const bp_ctx *ctx, size_t n, float cv, float *x)
{
    const bp_kernels *k = ctx->k;
    size_t nc = chunks_of(n);
#pragma omp parallel for schedule(static) num_threads(ctx->threads) if (nc >= 2)
    for (size_t c = 0; c < nc; c++)
        k->clip_value(len_of(n, c), cv, x + c * BP_PAR_CHUNK);
}

static double update_chunk(const bp_kernels *k, int kind, size_t len,
                           float *w, const float *g, float *m, float *v,
                           const bp_opt_params *p)
{
    if (kind == 0)
        return k->sgd_update(len, w, g, p);
    if (kind == 1)
        return k->momentum_update(len, w, g, m, p);
    return k->adam_update(len, w, g, m, v, p);
}

double bp_par_update(const bp_ctx *ctx, int kind, size_t n, float *w,
                     const float *g, float *m, float *v,
                     const bp_opt_params *p)
{
    size_t nc = chunks_of(n);
    double part[4096];
    if (nc <= 1 || nc > sizeof part / sizeof *part)
        return update_chunk(ctx->k, kind, n, w, g, m, v, p);
#pragma omp parallel for schedule(static) num_threads(ctx->threads)
    for (size_t c = 0; c < nc; c++) {
        size_t o = c * BP_PAR_CHUNK;
        part[c] = update_chunk(ctx->k, kind, len_of(n, c), w + o, g + o,
                               m ? m + o : NULL, v ? v + o : NULL, p);
    }
    double s = 0.0;
    for (size_t c = 0; c < nc; c++)
        s += part[c];
    return s;
}

void bp_par_map(const bp_ctx *ctx, bp_unary_fn *f, size_t n, const float *x,
                float *y)
{
    size_t nc = chunks_of(n);
#pragma omp parallel for schedule(static) num_threads(ctx->threads) \
    if (nc >= BP_PAR_MAP_CHUNKS)
    for (size_t c = 0; c < nc; c++)
        f(len_of(n, c), x + c * BP_PAR_CHUNK, y + c * BP_PAR_CHUNK);
}

void bp_par_map_bwd(const bp_ctx *ctx, bp_unary_bwd_fn *f, size_t n,
                    const float *y, const float *dy, float *dx)
{
    size_t nc = chunks_of(n);
#pragma omp parallel for schedule(static) num_threads(ctx->threads) \
    if (nc >= BP_PAR_MAP_CHUNKS)
    for (size_t c = 0; c < nc; c++) {
        size_t o = c * BP_PAR_CHUNK;
        f(len_of(n, c), y + o, dy + o, dx + o);
    }
}

void bp_par_bias_grad(const bp_ctx *ctx, size_t rows, size_t cols,
                      const float *d, size_t ldd, float *g)
{
    int T = ctx->threads;
    if ((size_t)T > cols)
        T = (int)cols;
    if (T < 2 || chunks_of(rows * cols) < BP_PAR_MAP_CHUNKS) {
        ctx->k->bias_grad(rows, cols, d, ldd, g);
        return;
    }
#pragma omp parallel num_threads(T)
    {
        size_t t = (size_t)omp_get_thread_num();
        size_t lo = cols * t / (size_t)T, hi = cols * (t + 1) / (size_t)T;
        if (hi > lo)
            ctx->k->bias_grad(rows, hi - lo, d + lo, ldd, g + lo);
    }
}
