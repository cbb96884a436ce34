/* bench/bench_kernels.c - every kernel family, per usable ISA, beside its
 * peers, through Google Benchmark (bench/shim).
 *
 * Names are family/impl/shape so that --benchmark_filter=/avx2/ works:
 *   sgemm/<isa|openblas|onednn>/<NN|NT|TN>/<m>x<n>x<k>[/threads:2]
 *   fma_peak/<isa>                       the FMA throughput ceiling
 *   <kernel>/<isa>/<n>                   element-wise kernels, at a
 *                                        cache-resident n (16Ki floats per
 *                                        array) and a DRAM n (16Mi)
 *   copy/<n>, stream2/<n>                the plain-copy baselines
 *   sigmoid_libmvec/<avx2|avx512>/<n>    glibc's vectorised expf sigmoid
 * Every bplab kernel is checked once against the scalar reference before
 * it is timed (llm.c's dev/cpu habit); a mismatch fails the benchmark.
 * Counters: GFLOP/s for GEMM (2mnk per call), Gelem/s and GB/s (bytes read
 * plus written) for the others. Operands are allocated and filled before
 * the timing loop, which measures warm caches for the cache-resident sizes
 * and memory bandwidth for the DRAM ones.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/peak.h"
#include "bench/shim/bench_shim.h"
#include "core/net.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "kernels/kernels.h"

#ifdef BPLAB_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef BPLAB_HAVE_DNNL
#include <dnnl.h>
#endif

/* ---------------------------------------------------------------------- */

static float *alloc_fill(size_t n, uint64_t seed, float lo, float hi)
{
    float *p = NULL;
    if (posix_memalign((void **)&p, 64, (n ? n : 1) * sizeof *p))
        return NULL;
    bp_rng g = bp_rng_stream(seed, 3);
    for (size_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * (float)bp_rng_uniform(&g);
    return p;
}

/* Contexts live for the whole run: registered once, never freed before
 * exit. */
static void *ctx_dup(const void *src, size_t size)
{
    void *p = malloc(size);
    if (!p) {
        fprintf(stderr, "bench_kernels: out of memory\n");
        exit(1);
    }
    memcpy(p, src, size);
    return p;
}

/* ---------------------------------------------------------------------- */
/* GEMM                                                                    */

enum impl { IMPL_BPLAB, IMPL_OPENBLAS, IMPL_ONEDNN };

typedef struct gemm_ctx {
    enum impl impl;
    const bp_kernels *t; /* IMPL_BPLAB */
    bool ta, tb;
    size_t m, n, k;
    int threads;
} gemm_ctx;

static void set_threads(int n)
{
    omp_set_num_threads(n);
#ifdef BPLAB_HAVE_OPENBLAS
    openblas_set_num_threads(n);
#endif
}

static void run_gemm(const gemm_ctx *g, const float *A, const float *B,
                     float *C)
{
    size_t lda = g->ta ? g->m : g->k, ldb = g->tb ? g->k : g->n;
    switch (g->impl) {
    case IMPL_BPLAB:
        g->t->gemm(g->ta, g->tb, g->m, g->n, g->k, 1.0f, A, lda, B, ldb, 0.0f,
                   C, g->n);
        break;
    case IMPL_OPENBLAS:
#ifdef BPLAB_HAVE_OPENBLAS
        cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
                    g->tb ? CblasTrans : CblasNoTrans, (int)g->m, (int)g->n,
                    (int)g->k, 1.0f, A, (int)lda, B, (int)ldb, 0.0f, C,
                    (int)g->n);
#endif
        break;
    case IMPL_ONEDNN:
#ifdef BPLAB_HAVE_DNNL
        dnnl_sgemm(g->ta ? 'T' : 'N', g->tb ? 'T' : 'N', (dnnl_dim_t)g->m,
                   (dnnl_dim_t)g->n, (dnnl_dim_t)g->k, 1.0f, A,
                   (dnnl_dim_t)lda, B, (dnnl_dim_t)ldb, 0.0f, C,
                   (dnnl_dim_t)g->n);
#endif
        break;
    }
}

static void bm_gemm(bp_bench_state *st, void *vctx)
{
    const gemm_ctx *g = vctx;
    size_t m = g->m, n = g->n, k = g->k;
    float *A = alloc_fill(m * k, 1, -1, 1), *B = alloc_fill(k * n, 2, -1, 1);
    float *C = alloc_fill(m * n, 3, 0, 0), *R = alloc_fill(m * n, 4, 0, 0);
    if (!A || !B || !C || !R) {
        bp_bench_skip(st, "out of memory");
        goto done;
    }
    set_threads(g->threads);
    /* validate once against the scalar reference (small enough shapes) */
    if ((double)m * n * k <= 3e8) {
        gemm_ctx ref = *g;
        ref.impl = IMPL_BPLAB;
        ref.t = bp_kernels_for(BP_ISA_SCALAR);
        run_gemm(&ref, A, B, R);
        run_gemm(g, A, B, C);
        for (size_t i = 0; i < m * n; i++)
            if (fabsf(C[i] - R[i]) > 1e-3f * (1.0f + fabsf(R[i])) ||
                isnan(C[i])) {
                bp_bench_skip(st, "result differs from the scalar reference");
                goto done;
            }
    }
    while (bp_bench_keep_running(st))
        run_gemm(g, A, B, C);
    bp_bench_counter(st, "GFLOP/s", 2e-9 * (double)m * n * k,
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
done:
    set_threads(1);
    free(A), free(B), free(C), free(R);
}

static void register_gemm(enum impl impl, const bp_kernels *t,
                          const char *who, bool ta, bool tb, size_t m,
                          size_t n, size_t k, int threads)
{
    gemm_ctx g = {impl, t, ta, tb, m, n, k, threads};
    char name[160];
    snprintf(name, sizeof name, "sgemm/%s/%c%c/%zux%zux%zu%s", who,
             ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k,
             threads > 1 ? "/threads:2" : "");
    bp_bench_register(name, bm_gemm, ctx_dup(&g, sizeof g));
}

/* The reference workload's GEMMs at one batch size: forward NN, weight
 * gradient TN, input gradient NT (784-256-128-10). {layout, m, n, k},
 * layout bit 1 = ta, bit 0 = tb. */
static void mlp_shapes(size_t b, size_t out[8][4])
{
    const size_t s[8][4] = {
        {0, b, 256, 784}, {0, b, 128, 256}, {0, b, 10, 128},
        {2, 784, 256, b}, {2, 256, 128, b}, {2, 128, 10, b},
        {1, b, 256, 128}, {1, b, 128, 10},
    };
    memcpy(out, s, sizeof s);
}

/* One shape for every implementation, back to back, so that ratios come
 * from neighbouring measurements. The scalar reference runs only where it
 * takes milliseconds, not seconds. */
static void register_shape(const size_t s[4], int threads, bool with_scalar)
{
    bool ta = s[0] & 2, tb = s[0] & 1;
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (t && (i != BP_ISA_SCALAR || with_scalar))
            register_gemm(IMPL_BPLAB, t, t->isa_name, ta, tb, s[1], s[2], s[3],
                          threads);
    }
#ifdef BPLAB_HAVE_OPENBLAS
    register_gemm(IMPL_OPENBLAS, NULL, "openblas", ta, tb, s[1], s[2], s[3],
                  threads);
#endif
#ifdef BPLAB_HAVE_DNNL
    register_gemm(IMPL_ONEDNN, NULL, "onednn", ta, tb, s[1], s[2], s[3],
                  threads);
#endif
}

static void register_gemms(void)
{
    static const size_t batches[] = {32, 128, 512};
    static const size_t squares[] = {256, 512, 1024, 2048};
    size_t sh[8][4];
    for (size_t b = 0; b < 3; b++) {
        mlp_shapes(batches[b], sh);
        for (int i = 0; i < 8; i++)
            register_shape(sh[i], 1, batches[b] == 128);
    }
    for (size_t q = 0; q < 4; q++) {
        size_t s[4] = {0, squares[q], squares[q], squares[q]};
        register_shape(s, 1, squares[q] <= 256);
    }
    mlp_shapes(128, sh);
    for (int i = 0; i < 8; i++)
        register_shape(sh[i], 2, false);
    size_t s[4] = {0, 1024, 1024, 1024};
    register_shape(s, 2, false);
}

/* ---------------------------------------------------------------------- */
/* FMA peak                                                                */

static void bm_fma_peak(bp_bench_state *st, void *vctx)
{
    bp_isa isa = *(const bp_isa *)vctx;
    double flops = 0;
    while (bp_bench_keep_running(st))
        flops = isa == BP_ISA_AVX512 ? bp_bench_fma_avx512(1 << 20)
                                     : bp_bench_fma_avx2(1 << 20);
    bp_bench_counter(st, "GFLOP/s", flops * 1e-9,
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
}

static void register_peaks(void)
{
#if defined(__x86_64__)
    static const bp_isa isas[] = {BP_ISA_AVX2, BP_ISA_AVX512};
    for (int i = 0; i < 2; i++) {
        if (!bp_isa_supported(isas[i]))
            continue;
        char name[64];
        snprintf(name, sizeof name, "fma_peak/%s", bp_isa_name(isas[i]));
        bp_bench_register(name, bm_fma_peak, ctx_dup(&isas[i], sizeof isas[i]));
    }
#endif
}

/* ---------------------------------------------------------------------- */
/* Element-wise and row-wise kernels                                       */

typedef struct ew_ctx {
    const bp_kernels *t; /* NULL: a baseline */
    bp_kernel_id k;      /* BP_NUM_KERNELS: baseline `base` */
    int base;            /* 0 copy, 1 stream2, 2 libmvec avx2, 3 libmvec avx512 */
} ew_ctx;

/* bytes moved per element (reads + writes) and the rows x cols shape used
 * for the row-wise kernels */
static size_t ew_bytes(const ew_ctx *e)
{
    if (e->k == BP_NUM_KERNELS)
        return e->base == 1 ? 12 : 8;
    switch (e->k) {
    case BP_K_relu_bwd: case BP_K_sigmoid_bwd: case BP_K_tanh_bwd:
    case BP_K_dropout_bwd: case BP_K_sgd_update:
        return 12;
    case BP_K_dropout_fwd: case BP_K_bias_add: return 12;
    case BP_K_momentum_update: return 20;
    case BP_K_adam_update: return 28;
    case BP_K_sumsq: return 4;
    case BP_K_scale: case BP_K_clip_value: return 8;
    default: return 8;
    }
}

static void run_ew(const ew_ctx *e, size_t n, float *x, float *y, float *z,
                   float *w)
{
    const bp_kernels *t = e->t;
    bp_opt_params p = {.lr = 0.01f, .momentum = 0.9f, .beta1 = 0.9f,
                       .beta2 = 0.999f, .eps = 1e-8f, .bc1 = 0.1f,
                       .bc2 = 0.001f};
    size_t cols = 256, rows = n / cols;
    if (e->k == BP_NUM_KERNELS) {
        switch (e->base) {
        case 0: memcpy(y, x, n * sizeof *x); break;
        case 1:
            for (size_t i = 0; i < n; i++)
                z[i] = x[i] + y[i];
            break;
        case 2: bp_bench_libmvec_sigmoid_avx2(n, x, y); break;
        case 3: bp_bench_libmvec_sigmoid_avx512(n, x, y); break;
        }
        return;
    }
    switch (e->k) {
    case BP_K_sigmoid_fwd: t->sigmoid_fwd(n, x, y); break;
    case BP_K_tanh_fwd: t->tanh_fwd(n, x, y); break;
    case BP_K_relu_fwd: t->relu_fwd(n, x, y); break;
    case BP_K_sigmoid_bwd: t->sigmoid_bwd(n, x, y, z); break;
    case BP_K_tanh_bwd: t->tanh_bwd(n, x, y, z); break;
    case BP_K_relu_bwd: t->relu_bwd(n, x, y, z); break;
    case BP_K_bias_add: t->bias_add(rows, cols, x, y, cols); break;
    case BP_K_bias_grad: t->bias_grad(rows, cols, x, cols, y); break;
    case BP_K_dropout_fwd: t->dropout_fwd(n, 12345, 0.5f, x, y, z); break;
    case BP_K_dropout_bwd: t->dropout_bwd(n, x, y, z); break;
    case BP_K_sgd_update: t->sgd_update(n, y, x, &p); break;
    case BP_K_momentum_update: t->momentum_update(n, y, x, z, &p); break;
    case BP_K_adam_update: t->adam_update(n, y, x, z, w, &p); break;
    case BP_K_sumsq: {
        volatile double s = t->sumsq(n, x);
        (void)s;
        break;
    }
    /* -1: a factor below 1 would decay y into denormals over the
     * iterations and time the denormal path instead */
    case BP_K_scale: t->scale(n, -1.0f, y); break;
    case BP_K_clip_value: t->clip_value(n, 0.5f, y); break;
    default: break;
    }
}

static void bm_ew(bp_bench_state *st, void *vctx)
{
    const ew_ctx *e = vctx;
    size_t n = (size_t)bp_bench_arg(st);
    /* x in the activations' useful range; y in (0, 1) so that it is a valid
     * sigmoid/tanh output and a positive second moment */
    float *x = alloc_fill(n, 11, -4, 4), *y = alloc_fill(n, 12, 0.01f, 0.99f);
    float *z = alloc_fill(n, 13, 0.01f, 0.99f), *w = alloc_fill(n, 14, 0.01f, 0.99f);
    if (!x || !y || !z || !w) {
        bp_bench_skip(st, "out of memory");
        goto done;
    }
    if (e->t && e->t->isa != BP_ISA_SCALAR) {
        /* validate the entry against scalar on this input first */
        float *y2 = alloc_fill(n, 12, 0.01f, 0.99f), *z2 = alloc_fill(n, 13, 0.01f, 0.99f);
        float *w2 = alloc_fill(n, 14, 0.01f, 0.99f);
        ew_ctx ref = *e;
        ref.t = bp_kernels_for(BP_ISA_SCALAR);
        run_ew(&ref, n, x, y2, z2, w2);
        run_ew(e, n, x, y, z, w);
        bool ok = y2 && z2 && w2;
        for (size_t i = 0; ok && i < n; i++)
            ok = fabsf(y[i] - y2[i]) <= 1e-5f * (1.0f + fabsf(y2[i])) &&
                 fabsf(z[i] - z2[i]) <= 1e-5f * (1.0f + fabsf(z2[i]));
        free(y2), free(z2), free(w2);
        if (!ok) {
            bp_bench_skip(st, "result differs from the scalar reference");
            goto done;
        }
    }
    while (bp_bench_keep_running(st))
        run_ew(e, n, x, y, z, w);
    bp_bench_counter(st, "Gelem/s", 1e-9 * (double)n,
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
    bp_bench_counter(st, "GB/s", 1e-9 * (double)n * (double)ew_bytes(e),
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
done:
    free(x), free(y), free(z), free(w);
}

#define EW_CACHE ((int64_t)1 << 14) /* 64 KiB per array */
#define EW_DRAM ((int64_t)1 << 24)  /* 64 MiB per array */

static void register_ew(void)
{
    static const bp_kernel_id ks[] = {
        BP_K_sigmoid_fwd, BP_K_tanh_fwd, BP_K_relu_fwd, BP_K_sigmoid_bwd,
        BP_K_tanh_bwd, BP_K_relu_bwd, BP_K_bias_add, BP_K_bias_grad,
        BP_K_dropout_fwd, BP_K_dropout_bwd, BP_K_sgd_update,
        BP_K_momentum_update, BP_K_adam_update, BP_K_sumsq, BP_K_scale,
        BP_K_clip_value,
    };
    const char *base_names[] = {"copy", "stream2", "sigmoid_libmvec/avx2",
                                "sigmoid_libmvec/avx512"};
    for (int b = 0; b < 4; b++) {
        if ((b == 2 && !bp_isa_supported(BP_ISA_AVX2)) ||
            (b == 3 && !bp_isa_supported(BP_ISA_AVX512)))
            continue;
        ew_ctx e = {NULL, BP_NUM_KERNELS, b};
        bp_bench_register_range(base_names[b], bm_ew, ctx_dup(&e, sizeof e),
                                EW_CACHE, EW_DRAM, 1024);
    }
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (!t)
            continue;
        for (size_t j = 0; j < sizeof ks / sizeof *ks; j++) {
            char name[96];
            snprintf(name, sizeof name, "%s/%s",
                     bp_kernel_desc_of(ks[j])->name, t->isa_name);
            ew_ctx e = {t, ks[j], 0};
            bp_bench_register_range(name, bm_ew, ctx_dup(&e, sizeof e),
                                    EW_CACHE, EW_DRAM, 1024);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Row-wise: the output layer's softmax + cross-entropy and batch norm at
 * the reference batch (128 x 10 and 128 x 256).                           */

typedef struct row_ctx {
    const bp_kernels *t;
    bp_kernel_id k;
    size_t rows, cols;
} row_ctx;

static void bm_row(bp_bench_state *st, void *vctx)
{
    const row_ctx *r = vctx;
    size_t n = r->rows * r->cols;
    float *x = alloc_fill(n, 21, -3, 3), *y = alloc_fill(n, 22, -1, 1);
    float *dx = alloc_fill(n, 23, 0, 0), *g = alloc_fill(r->cols, 24, 0.5f, 1.5f);
    float *b = alloc_fill(r->cols, 25, -1, 1), *mean = alloc_fill(r->cols, 26, 0, 0);
    float *is = alloc_fill(r->cols, 27, 0, 0), *rm = alloc_fill(r->cols, 28, 0, 0);
    float *rv = alloc_fill(r->cols, 29, 1, 1), *dg = alloc_fill(r->cols, 30, 0, 0);
    float *db = alloc_fill(r->cols, 31, 0, 0);
    int32_t *labels = malloc(r->rows * sizeof *labels);
    if (!x || !y || !dx || !g || !b || !mean || !is || !rm || !rv || !dg ||
        !db || !labels) {
        bp_bench_skip(st, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < r->rows; i++)
        labels[i] = (int32_t)(i % r->cols);
    r->t->bn_fwd_train(r->rows, r->cols, x, r->cols, g, b, 1e-5f, 0.1f, y,
                       r->cols, mean, is, rm, rv);
    while (bp_bench_keep_running(st)) {
        switch (r->k) {
        case BP_K_softmax_xent: {
            volatile double l = r->t->softmax_xent(r->rows, r->cols, x, r->cols,
                                                   labels, 1.0f / (float)r->rows,
                                                   dx, r->cols);
            (void)l;
            break;
        }
        case BP_K_softmax_fwd:
            r->t->softmax_fwd(r->rows, r->cols, x, r->cols, dx, r->cols);
            break;
        case BP_K_bn_fwd_train:
            r->t->bn_fwd_train(r->rows, r->cols, x, r->cols, g, b, 1e-5f, 0.1f,
                               dx, r->cols, mean, is, rm, rv);
            break;
        case BP_K_bn_bwd:
            r->t->bn_bwd(r->rows, r->cols, x, r->cols, y, r->cols, g, mean, is,
                         dx, r->cols, dg, db);
            break;
        default: break;
        }
    }
    bp_bench_counter(st, "Gelem/s", 1e-9 * (double)n,
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
done:
    free(x), free(y), free(dx), free(g), free(b), free(mean), free(is);
    free(rm), free(rv), free(dg), free(db), free(labels);
}

static void register_rows(void)
{
    const struct { bp_kernel_id k; size_t rows, cols; } rs[] = {
        {BP_K_softmax_xent, 128, 10}, {BP_K_softmax_fwd, 128, 10},
        {BP_K_bn_fwd_train, 128, 256}, {BP_K_bn_bwd, 128, 256},
    };
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (!t)
            continue;
        for (size_t j = 0; j < sizeof rs / sizeof *rs; j++) {
            char name[96];
            snprintf(name, sizeof name, "%s/%s/%zux%zu",
                     bp_kernel_desc_of(rs[j].k)->name, t->isa_name,
                     rs[j].rows, rs[j].cols);
            row_ctx r = {t, rs[j].k, rs[j].rows, rs[j].cols};
            bp_bench_register(name, bm_row, ctx_dup(&r, sizeof r));
        }
    }
}

/* ---------------------------------------------------------------------- */
/* The LSTM cell at the LSTM benchmark's shape (batch 128, 128 units): one
 * time step forward, and one backward (whose gate buffer it overwrites is
 * restored outside the timing, so every iteration sees gate values).     */

static void bm_lstm(bp_bench_state *st, void *vctx)
{
    const row_ctx *r = vctx;
    size_t rows = r->rows, h = r->cols, n = rows * h;
    float *z0 = alloc_fill(4 * n, 41, 0.02f, 0.98f), *z = alloc_fill(4 * n, 41, 0, 0);
    float *cp = alloc_fill(n, 42, -2, 2), *c = alloc_fill(n, 43, -2, 2);
    float *ho = alloc_fill(n, 44, 0, 0), *dh = alloc_fill(n, 45, -1, 1);
    float *dc = alloc_fill(n, 46, -1, 1);
    if (!z0 || !z || !cp || !c || !ho || !dh || !dc) {
        bp_bench_skip(st, "out of memory");
        goto done;
    }
    memcpy(z, z0, 4 * n * sizeof *z);
    while (bp_bench_keep_running(st)) {
        if (r->k == BP_K_lstm_fwd) {
            r->t->lstm_fwd(rows, h, z, 4 * h, cp, c, h, ho, h);
        } else {
            r->t->lstm_bwd(rows, h, z, 4 * h, cp, c, h, dh, h, dc, h);
            bp_bench_pause(st);
            memcpy(z, z0, 4 * n * sizeof *z);
            memcpy(dc, dh, n * sizeof *dc);
            bp_bench_resume(st);
        }
    }
    bp_bench_counter(st, "Gelem/s", 1e-9 * (double)n,
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
done:
    free(z0), free(z), free(cp), free(c), free(ho), free(dh), free(dc);
}

static void register_lstm(void)
{
    const bp_kernel_id ks[2] = {BP_K_lstm_fwd, BP_K_lstm_bwd};
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (!t)
            continue;
        for (int j = 0; j < 2; j++) {
            char name[96];
            snprintf(name, sizeof name, "%s/%s/128x128",
                     bp_kernel_desc_of(ks[j])->name, t->isa_name);
            row_ctx r = {t, ks[j], 128, 128};
            bp_bench_register(name, bm_lstm, ctx_dup(&r, sizeof r));
        }
    }
}

/* ---------------------------------------------------------------------- */
/* A whole training step of the reference workload, and its GEMMs alone.   */

typedef struct step_ctx {
    const bp_kernels *t;
    int threads;
    bool gemms_only;
} step_ctx;

static void bm_step(bp_bench_state *st, void *vctx)
{
    const step_ctx *c = vctx;
    enum { B = 128 };
    bp_net_spec spec = {.inputs = 784, .classes = 10, .nhidden = 2,
                        .hidden = {256, 128}, .act = BP_ACT_RELU,
                        .loss = BP_LOSS_CE, .init_gain = 1.0f};
    bp_optim_spec os;
    bp_optim_defaults(&os);
    bp_net *net = NULL;
    bp_optim *opt = NULL;
    bp_err err = {0};
    float *x = alloc_fill(B * 784, 41, 0, 1);
    int32_t y[B];
    for (int i = 0; i < B; i++)
        y[i] = i % 10;
    set_threads(c->threads);
    bool flushed = bp_flush_denormals(true);
    if (!x || bp_net_create(&spec, B, 0, c->t, &net, &err) != BP_OK ||
        bp_optim_create(&os, net->nparams, &opt, &err) != BP_OK) {
        bp_bench_skip(st, "cannot build the network");
        goto done;
    }
    double dense[BP_MAX_DENSE];
    /* the GEMMs of one step, on the step's own buffers: forward NN per
     * layer, weight gradients TN, input gradients NT (not for layer 1) */
    const size_t dims[4] = {784, 256, 128, 10};
    float *act[3];
    for (int l = 0; l < 3; l++)
        act[l] = net->layers[l == 0 ? 0 : l == 1 ? 2 : 4].y;
    while (bp_bench_keep_running(st)) {
        if (c->gemms_only) {
            const float *in = x;
            for (int l = 0; l < 3; l++) {
                const bp_layer *L = &net->layers[l == 0 ? 0 : l == 1 ? 2 : 4];
                c->t->gemm(false, false, B, dims[l + 1], dims[l], 1.0f, in,
                           dims[l], net->params + L->w, dims[l + 1], 0.0f,
                           act[l], dims[l + 1]);
                in = act[l];
            }
            for (int l = 2; l >= 0; l--) {
                const bp_layer *L = &net->layers[l == 0 ? 0 : l == 1 ? 2 : 4];
                const float *input = l ? act[l - 1] : x;
                c->t->gemm(true, false, dims[l], dims[l + 1], B, 1.0f, input,
                           dims[l], net->delta[0], dims[l + 1], 0.0f,
                           net->grads + L->w, dims[l + 1]);
                if (l)
                    c->t->gemm(false, true, B, dims[l], dims[l + 1], 1.0f,
                               net->delta[0], dims[l + 1], net->params + L->w,
                               dims[l + 1], 0.0f, net->delta[1], dims[l]);
            }
        } else {
            bp_net_forward(net, x, B, true, 1);
            bp_net_loss(net, y, NULL, B, true, NULL);
            bp_net_backward(net, x, B);
            bp_optim_step(opt, net, 0.05f, 0.0, dense);
        }
    }
    bp_bench_counter(st, "samples/s", (double)B, BP_BENCH_RATE | BP_BENCH_PER_ITER);
done:
    bp_flush_denormals(flushed);
    set_threads(1);
    bp_optim_destroy(opt);
    bp_net_destroy(net);
    free(x);
}

static void register_steps(void)
{
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (!t)
            continue;
        for (int threads = 1; threads <= 2; threads++)
            for (int g = 0; g < 2; g++) {
                if (i == BP_ISA_SCALAR && threads == 2)
                    continue;
                char name[96];
                snprintf(name, sizeof name, "%s/%s/batch128/threads:%d",
                         g ? "train_step_gemms" : "train_step", t->isa_name,
                         threads);
                step_ctx c = {t, threads, g};
                bp_bench_register(name, bm_step, ctx_dup(&c, sizeof c));
            }
    }
}

int main(int argc, char **argv)
{
    set_threads(1);
    register_steps();
    register_peaks();
    register_gemms();
    register_ew();
    register_rows();
    register_lstm();
    return bp_bench_main(argc, argv);
}
