/* bench/bench_kernels.c - every kernel family, per usable ISA, beside its
 * peers, through Google Benchmark (bench/shim).
 *
 * Every kernel of kernels/kernel_list.h is registered, on every usable
 * table, by its signature: one runner per signature (run_BP_SIG_*, with its
 * shape in sig_BP_SIG_*), never one per kernel, so a new kernel is
 * benchmarked with no new code here, and a new signature without a runner
 * does not compile. Names are family/impl/shape so that
 * --benchmark_filter=/avx2/ works:
 *   sgemm/<isa|openblas|onednn>/<NN|NT|TN>/<m>x<n>x<k>[/threads:2]
 *                                        the GEMM signature, beside its peers
 *   <kernel>/<isa>/<n>                   element-wise kernels, n = 16Ki
 *                                        floats per array (L1), 1Mi (L2/L3)
 *                                        and 16Mi (DRAM)
 *   <kernel>/<isa>/<rows>x<cols>         row-wise kernels at the reference
 *                                        batch (softmax, batch norm, LSTM)
 *   train_step[_gemms]/<isa>/batch128/threads:<t>   a whole training step
 *   conv_<pass>/<isa|onednn>/<conv1|conv2>/threads:<t>
 *                                        the reference CNN's convolutions,
 *                                        one pass of the layer (forward,
 *                                        bwd_weights, bwd_data, bwd: both
 *                                        gradients), beside oneDNN's
 *                                        convolution primitives
 *   fma_peak/<isa>                       the FMA throughput ceiling
 *   copy/<n>, stream2/<n>                the plain-copy baselines
 *   sigmoid_libmvec/<isa>/<n>            glibc's vectorised expf sigmoid
 *                                        (the ISAs of bench/peak.h)
 * Every bplab kernel is checked once against the scalar reference before
 * it is timed (llm.c's dev/cpu habit); a mismatch fails the benchmark. So
 * are the convolutions, bplab's and oneDNN's, against the scalar table's
 * conv layer.
 * Counters: GFLOP/s for GEMM (2mnk per call) and convolutions (2 per
 * multiply-add), Gelem/s and GB/s (bytes read plus written) for the
 * others. Operands are allocated and filled before the timing loop, which
 * measures warm caches for the cache-resident sizes and memory bandwidth
 * for the DRAM ones.
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

static void fill(float *p, size_t n, uint64_t seed, float lo, float hi)
{
    bp_rng g = bp_rng_stream(seed, 3);
    for (size_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * (float)bp_rng_uniform(&g);
}

static float *alloc_fill(size_t n, uint64_t seed, float lo, float hi)
{
    float *p = NULL;
    if (posix_memalign((void **)&p, 64, (n ? n : 1) * sizeof *p))
        return NULL;
    fill(p, n, seed, lo, hi);
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
/* Every kernel of kernels/kernel_list.h, by signature                     */

/* The operands of one benchmark call. SHAPE_N kernels see n elements (the
 * row-wise ones among them as rows = n / cols by cols = 256); SHAPE_ROWS
 * kernels a fixed rows x cols; SHAPE_GEMM kernels C (m x n) = op(A) op(B)
 * with A = x, B = y, C = z. */
typedef struct bench_io {
    size_t n, rows, cols;
    size_t m, k; /* GEMM */
    bool ta, tb; /* GEMM */
    const bp_gemm_ctx *gc; /* GEMM: its threads and workspaces */
    /* x in [-4, 4] (the activations' useful range); y, z, w, v in (0, 1),
     * so that y is a valid sigmoid/tanh output and w a positive second
     * moment. z holds zlen floats (4n for the LSTM's gates), v n floats
     * for the SHAPE_ROWS kernels only. */
    float *x, *y, *z, *w, *v;
    size_t zlen, vlen;
    float *gamma, *beta, *mean, *invstd, *rmean, *rvar, *dgamma, *dbeta;
    int32_t *labels;
} bench_io;

typedef enum { SHAPE_N, SHAPE_ROWS, SHAPE_GEMM } shape_kind;

/* What a signature's benchmarks look like. Every BP_SIG_<S> that a kernel
 * of the list uses needs sig_BP_SIG_<S> and run_BP_SIG_<S> below: a
 * missing one is a compile error ("'sig_BP_SIG_...' undeclared"), and a
 * runner whose parameter is not the kernel's function type is one too. */
typedef struct sig_bench {
    shape_kind shape;
    size_t rows, cols; /* SHAPE_ROWS */
    int zmul;          /* z holds zmul * n floats (default 1) */
    int bytes;         /* SHAPE_N: bytes read plus written per element */
    /* called between timed iterations (paused), for kernels that consume
     * their input; NULL if none */
    void (*reset)(bench_io *io);
} sig_bench;

static const bp_opt_params opt_params = {
    .lr = 0.01f, .momentum = 0.9f, .beta1 = 0.9f, .beta2 = 0.999f,
    .eps = 1e-8f, .bc1 = 0.1f, .bc2 = 0.001f};

/* The element-wise ones: a cache-resident n and a DRAM n (SHAPE_N). */
static const sig_bench sig_BP_SIG_UNARY = {.shape = SHAPE_N, .bytes = 8};
static void run_BP_SIG_UNARY(bp_unary_fn *f, bench_io *io)
{
    f(io->n, io->x, io->y);
}

static const sig_bench sig_BP_SIG_UNARY_BWD = {.shape = SHAPE_N, .bytes = 12};
static void run_BP_SIG_UNARY_BWD(bp_unary_bwd_fn *f, bench_io *io)
{
    f(io->n, io->x, io->y, io->z);
}

static const sig_bench sig_BP_SIG_BCE = {.shape = SHAPE_N, .bytes = 12};
static void run_BP_SIG_BCE(bp_bce_fn *f, bench_io *io)
{
    volatile double l = f(io->n, io->x, io->y, 1.0f / (float)io->n, io->z);
    (void)l;
}

static const sig_bench sig_BP_SIG_MSE = {.shape = SHAPE_N, .bytes = 12};
static void run_BP_SIG_MSE(bp_mse_fn *f, bench_io *io)
{
    volatile double l = f(io->n, io->x, io->y, 1.0f / (float)io->n, io->z);
    (void)l;
}

static const sig_bench sig_BP_SIG_BIAS_ADD = {.shape = SHAPE_N, .bytes = 12};
static void run_BP_SIG_BIAS_ADD(bp_bias_add_fn *f, bench_io *io)
{
    f(io->rows, io->cols, io->x, io->y, io->cols);
}

/* the reference workload's epilogue: bias and ReLU (sigmoid and tanh
 * cost what sigmoid_fwd and tanh_fwd cost) */
static const sig_bench sig_BP_SIG_BIAS_ACT = {.shape = SHAPE_N, .bytes = 8};
static void run_BP_SIG_BIAS_ACT(bp_bias_act_fn *f, bench_io *io)
{
    f(io->rows, io->cols, io->x, BP_KACT_RELU, io->y, io->cols);
}

static const sig_bench sig_BP_SIG_BIAS_GRAD = {.shape = SHAPE_N, .bytes = 8};
static void run_BP_SIG_BIAS_GRAD(bp_bias_grad_fn *f, bench_io *io)
{
    f(io->rows, io->cols, io->x, io->cols, io->y);
}

static const sig_bench sig_BP_SIG_DROPOUT = {.shape = SHAPE_N, .bytes = 12};
static void run_BP_SIG_DROPOUT(bp_dropout_fwd_fn *f, bench_io *io)
{
    f(io->n, 12345, 0.5f, io->x, io->y, io->z);
}

static const sig_bench sig_BP_SIG_VMUL = {.shape = SHAPE_N, .bytes = 12};
static void run_BP_SIG_VMUL(bp_vmul_fn *f, bench_io *io)
{
    f(io->n, io->x, io->y, io->z);
}

static const sig_bench sig_BP_SIG_SGD = {.shape = SHAPE_N, .bytes = 12};
static void run_BP_SIG_SGD(bp_sgd_fn *f, bench_io *io)
{
    f(io->n, io->y, io->x, &opt_params);
}

static const sig_bench sig_BP_SIG_MOMENTUM = {.shape = SHAPE_N, .bytes = 20};
static void run_BP_SIG_MOMENTUM(bp_momentum_fn *f, bench_io *io)
{
    f(io->n, io->y, io->x, io->z, &opt_params);
}

static const sig_bench sig_BP_SIG_ADAM = {.shape = SHAPE_N, .bytes = 28};
static void run_BP_SIG_ADAM(bp_adam_fn *f, bench_io *io)
{
    f(io->n, io->y, io->x, io->z, io->w, &opt_params);
}

static const sig_bench sig_BP_SIG_SUMSQ = {.shape = SHAPE_N, .bytes = 4};
static void run_BP_SIG_SUMSQ(bp_sumsq_fn *f, bench_io *io)
{
    volatile double s = f(io->n, io->x);
    (void)s;
}

/* -1: a factor below 1 would decay y into denormals over the iterations
 * and time the denormal path instead */
static const sig_bench sig_BP_SIG_SCALE = {.shape = SHAPE_N, .bytes = 8};
static void run_BP_SIG_SCALE(bp_scale_fn *f, bench_io *io)
{
    f(io->n, -1.0f, io->y);
}

static const sig_bench sig_BP_SIG_CLIP = {.shape = SHAPE_N, .bytes = 8};
static void run_BP_SIG_CLIP(bp_clip_fn *f, bench_io *io)
{
    f(io->n, 0.5f, io->y);
}

/* Row-wise, at the reference batch: the output layer's softmax (+ cross-
 * entropy) at 128 x 10, batch norm at 128 x 256 (SHAPE_ROWS). */
static const sig_bench sig_BP_SIG_SOFTMAX = {SHAPE_ROWS, 128, 10, 1, 0, NULL};
static void run_BP_SIG_SOFTMAX(bp_softmax_fn *f, bench_io *io)
{
    f(io->rows, io->cols, io->x, io->cols, io->z, io->cols);
}

static const sig_bench sig_BP_SIG_SOFTMAX_BWD = {SHAPE_ROWS, 128, 10, 1, 0, NULL};
static void run_BP_SIG_SOFTMAX_BWD(bp_softmax_bwd_fn *f, bench_io *io)
{
    f(io->rows, io->cols, io->y, io->cols, io->x, io->cols, io->z, io->cols);
}

static const sig_bench sig_BP_SIG_XENT = {SHAPE_ROWS, 128, 10, 1, 0, NULL};
static void run_BP_SIG_XENT(bp_xent_fn *f, bench_io *io)
{
    volatile double l = f(io->rows, io->cols, io->x, io->cols, io->labels,
                          1.0f / (float)io->rows, io->z, io->cols);
    (void)l;
}

static const sig_bench sig_BP_SIG_BN_TRAIN = {SHAPE_ROWS, 128, 256, 1, 0, NULL};
static void run_BP_SIG_BN_TRAIN(bp_bn_train_fn *f, bench_io *io)
{
    f(io->rows, io->cols, io->x, io->cols, io->gamma, io->beta, 1e-5f, 0.1f,
      io->z, io->cols, io->mean, io->invstd, io->rmean, io->rvar);
}

static const sig_bench sig_BP_SIG_BN_INFER = {SHAPE_ROWS, 128, 256, 1, 0, NULL};
static void run_BP_SIG_BN_INFER(bp_bn_infer_fn *f, bench_io *io)
{
    f(io->rows, io->cols, io->x, io->cols, io->gamma, io->beta, io->rmean,
      io->rvar, 1e-5f, io->z, io->cols);
}

static const sig_bench sig_BP_SIG_BN_BWD = {SHAPE_ROWS, 128, 256, 1, 0, NULL};
static void run_BP_SIG_BN_BWD(bp_bn_bwd_fn *f, bench_io *io)
{
    f(io->rows, io->cols, io->x, io->cols, io->y, io->cols, io->gamma,
      io->mean, io->invstd, io->z, io->cols, io->dgamma, io->dbeta);
}

/* The LSTM cell at the LSTM benchmark's shape (batch 128, 128 units), one
 * time step: z holds the 4h gates per row, x c_prev, w c, y h (forward) or
 * dh (backward), v dc. The backward step overwrites the gates and dc, so
 * they are restored outside the timing and every iteration sees gate
 * values. */
static const sig_bench sig_BP_SIG_LSTM_FWD = {SHAPE_ROWS, 128, 128, 4, 0, NULL};
static void run_BP_SIG_LSTM_FWD(bp_lstm_fwd_fn *f, bench_io *io)
{
    size_t h = io->cols;
    f(io->rows, h, io->z, 4 * h, io->x, io->w, h, io->y, h);
}

static void lstm_bwd_reset(bench_io *io)
{
    fill(io->z, io->zlen, 13, 0.01f, 0.99f); /* as io_alloc filled it */
    memcpy(io->v, io->y, io->vlen * sizeof *io->v);
}

static const sig_bench sig_BP_SIG_LSTM_BWD = {SHAPE_ROWS, 128, 128, 4, 0,
                                              lstm_bwd_reset};
static void run_BP_SIG_LSTM_BWD(bp_lstm_bwd_fn *f, bench_io *io)
{
    size_t h = io->cols;
    f(io->rows, h, io->z, 4 * h, io->x, io->w, h, io->y, h, io->v, h);
}

/* max_norm on the reference network's first weight matrix (784 x 256),
 * x in [-4, 4]: every column is over c = 1 and scaled; the reset puts the
 * values back (as io_alloc filled them) */
static void max_norm_reset(bench_io *io)
{
    fill(io->x, io->n, 11, -4, 4);
}

static const sig_bench sig_BP_SIG_MAXNORM = {SHAPE_ROWS, 784, 256, 1, 0,
                                             max_norm_reset};
static void run_BP_SIG_MAXNORM(bp_maxnorm_fn *f, bench_io *io)
{
    f(io->rows, io->cols, io->x, io->cols, 1.0f);
}

/* Window kernels at the reference CNN's shapes, batch 128: im2col and
 * col2im of its second convolution (14 x 14 x 32 images, 3 x 3 window,
 * padding 1: x is the image, rows x cols = pixels x channels; z the
 * patches, 9 floats a pixel and channel), max pooling 2 x 2 after its
 * first (28 x 28 x 32: x the image, y the output, w where each maximum
 * came from, filled by the scalar reference before the backward pass). */
static const bp_conv_geom conv2_geom = {.n = 128, .h = 14, .w = 14, .c = 32,
                                        .kh = 3, .kw = 3, .stride = 1,
                                        .pad = 1, .oh = 14, .ow = 14};
static const bp_conv_geom pool1_geom = {.n = 128, .h = 28, .w = 28, .c = 32,
                                        .kh = 2, .kw = 2, .stride = 2,
                                        .pad = 0, .oh = 14, .ow = 14};

static const sig_bench sig_BP_SIG_IM2COL = {SHAPE_ROWS, 128 * 14 * 14, 32, 9,
                                            0, NULL};
static void run_BP_SIG_IM2COL(bp_im2col_fn *f, bench_io *io)
{
    f(&conv2_geom, io->x, io->z);
}

static const sig_bench sig_BP_SIG_COL2IM = {SHAPE_ROWS, 128 * 14 * 14, 32, 9,
                                            0, NULL};
static void run_BP_SIG_COL2IM(bp_col2im_fn *f, bench_io *io)
{
    f(&conv2_geom, io->z, io->y);
}

static const sig_bench sig_BP_SIG_POOL_FWD = {SHAPE_ROWS, 128 * 28 * 28, 32, 1,
                                              0, NULL};
static void run_BP_SIG_POOL_FWD(bp_pool_fwd_fn *f, bench_io *io)
{
    f(&pool1_geom, io->x, io->y, io->w);
}

static void pool_bwd_reset(bench_io *io)
{
    bp_kernels_for(BP_ISA_SCALAR)->maxpool_fwd(&pool1_geom, io->x, io->v,
                                              io->w);
}

static const sig_bench sig_BP_SIG_POOL_BWD = {SHAPE_ROWS, 128 * 28 * 28, 32, 1,
                                              0, pool_bwd_reset};
static void run_BP_SIG_POOL_BWD(bp_pool_bwd_fn *f, bench_io *io)
{
    f(&pool1_geom, io->y, io->w, io->z);
}

/* Average pooling at the same shape as max pooling (x the image, y the
 * output; backward: y the output gradient, z the image gradient). */
static const sig_bench sig_BP_SIG_AVGPOOL_FWD = {SHAPE_ROWS, 128 * 28 * 28,
                                                 32, 1, 0, NULL};
static void run_BP_SIG_AVGPOOL_FWD(bp_avgpool_fwd_fn *f, bench_io *io)
{
    f(&pool1_geom, io->x, io->y);
}

static const sig_bench sig_BP_SIG_AVGPOOL_BWD = {SHAPE_ROWS, 128 * 28 * 28,
                                                 32, 1, 0, NULL};
static void run_BP_SIG_AVGPOOL_BWD(bp_avgpool_bwd_fn *f, bench_io *io)
{
    f(&pool1_geom, io->y, io->z);
}

/* The direct convolution at the reference CNN's first convolution (grey
 * 28 x 28 images, 3 x 3 window, padding 1, 32 outputs; rows x cols =
 * pixels x outputs): x the image, w the weights, v the bias, y the output
 * (relu applied); the weight gradient reads x, y as dy and v as relu's
 * output into z (the weights', then the bias gradient). */
static const bp_conv_geom conv1_geom = {.n = 128, .h = 28, .w = 28, .c = 1,
                                        .kh = 3, .kw = 3, .stride = 1,
                                        .pad = 1, .oh = 28, .ow = 28};

static const sig_bench sig_BP_SIG_CONV_DIRECT = {SHAPE_ROWS, 128 * 28 * 28,
                                                 32, 1, 0, NULL};
static void run_BP_SIG_CONV_DIRECT(bp_conv_direct_fn *f, bench_io *io)
{
    f(&conv1_geom, 32, io->x, io->w, io->v, BP_KACT_RELU, io->y);
}

static const sig_bench sig_BP_SIG_CONV_WGRAD = {SHAPE_ROWS, 128 * 28 * 28,
                                                32, 1, 0, NULL};
static void run_BP_SIG_CONV_WGRAD(bp_conv_wgrad_fn *f, bench_io *io)
{
    f(&conv1_geom, 32, io->x, io->y, io->v, BP_KACT_RELU, false, io->z,
      io->z + 9 * 32);
}

/* GEMM: the family sgemm, beside the BLAS peers (register_gemms). */
static const sig_bench sig_BP_SIG_GEMM = {.shape = SHAPE_GEMM};
static void run_BP_SIG_GEMM(bp_gemm_fn *f, bench_io *io)
{
    size_t lda = io->ta ? io->m : io->k, ldb = io->tb ? io->k : io->n;
    f(io->gc, io->ta, io->tb, io->m, io->n, io->k, 1.0f, io->x, lda, io->y,
      ldb, 0.0f, io->z, io->n, NULL);
}

/* One entry per kernel of the list: its signature's shape and a call of
 * the table's entry through the signature's runner. */
typedef struct kbench {
    const char *name;
    const sig_bench *sig;
    void (*call)(const bp_kernels *t, bench_io *io);
} kbench;

#define X(name, type, sig, tol, fac)                                  \
    static void call_##name(const bp_kernels *t, bench_io *io)        \
    {                                                                 \
        run_##sig(t->name, io);                                       \
    }
BP_KERNELS(X)
#undef X

static const kbench kbenches[BP_NUM_KERNELS] = {
#define X(name, type, sig, tol, fac) {#name, &sig_##sig, call_##name},
    BP_KERNELS(X)
#undef X
};

/* ---------------------------------------------------------------------- */
/* GEMM                                                                    */

enum impl { IMPL_BPLAB, IMPL_OPENBLAS, IMPL_ONEDNN };

typedef struct gemm_ctx {
    enum impl impl;
    const kbench *kb;    /* IMPL_BPLAB: the kernel, */
    const bp_kernels *t; /* on this table */
    bool ta, tb;
    size_t m, n, k;
    int threads;
} gemm_ctx;

/* The peers' threads (bplab's GEMM takes its own from its context). */
static void set_threads(int n)
{
    omp_set_num_threads(n);
#ifdef BPLAB_HAVE_OPENBLAS
    openblas_set_num_threads(n);
#endif
}

static void run_gemm(const gemm_ctx *g, const bp_gemm_ctx *gc, const float *A,
                     const float *B, float *C)
{
    size_t lda = g->ta ? g->m : g->k, ldb = g->tb ? g->k : g->n;
    (void)lda, (void)ldb; /* the peers' alone: unused without them */
    switch (g->impl) {
    case IMPL_BPLAB: {
        bench_io io = {.m = g->m, .n = g->n, .k = g->k, .ta = g->ta,
                       .tb = g->tb, .gc = gc, .x = (float *)A,
                       .y = (float *)B, .z = C};
        g->kb->call(g->t, &io);
        break;
    }
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
    /* bplab's threads and workspaces, made before the timing */
    bp_ctx *ctx = NULL;
    if (!A || !B || !C || !R ||
        bp_ctx_create_for(g->t, g->threads, &ctx, NULL) != BP_OK) {
        bp_bench_skip(st, "out of memory");
        goto done;
    }
    set_threads(g->threads);
    /* validate once against the scalar reference (small enough shapes) */
    if ((double)m * n * k <= 3e8) {
        gemm_ctx ref = *g;
        ref.impl = IMPL_BPLAB;
        ref.t = bp_kernels_for(BP_ISA_SCALAR);
        run_gemm(&ref, &ctx->gemm, A, B, R);
        run_gemm(g, &ctx->gemm, A, B, C);
        for (size_t i = 0; i < m * n; i++)
            if (fabsf(C[i] - R[i]) > 1e-3f * (1.0f + fabsf(R[i])) ||
                isnan(C[i])) {
                bp_bench_skip(st, "result differs from the scalar reference");
                goto done;
            }
    }
    while (bp_bench_keep_running(st))
        run_gemm(g, &ctx->gemm, A, B, C);
    bp_bench_counter(st, "GFLOP/s", 2e-9 * (double)m * n * k,
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
done:
    set_threads(1);
    bp_ctx_destroy(ctx);
    free(A), free(B), free(C), free(R);
}

/* Named s<kernel>/<impl>/<layout>/<m>x<n>x<k>[/threads:2]: "sgemm" for
 * the kernel gemm, BLAS's name for the single-precision operation that the
 * peers compute too. */
static void register_gemm(enum impl impl, const kbench *kb,
                          const bp_kernels *t, const char *who, bool ta,
                          bool tb, size_t m, size_t n, size_t k, int threads)
{
    gemm_ctx g = {impl, kb, t, ta, tb, m, n, k, threads};
    char name[160];
    snprintf(name, sizeof name, "s%s/%s/%c%c/%zux%zux%zu%s", kb->name, who,
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
static void register_shape(const kbench *kb, const size_t s[4], int threads,
                           bool with_scalar)
{
    bool ta = s[0] & 2, tb = s[0] & 1;
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (t && (i != BP_ISA_SCALAR || with_scalar))
            register_gemm(IMPL_BPLAB, kb, t, t->isa_name, ta, tb, s[1], s[2],
                          s[3], threads);
    }
#ifdef BPLAB_HAVE_OPENBLAS
    register_gemm(IMPL_OPENBLAS, kb, NULL, "openblas", ta, tb, s[1], s[2],
                  s[3], threads);
#endif
#ifdef BPLAB_HAVE_DNNL
    register_gemm(IMPL_ONEDNN, kb, NULL, "onednn", ta, tb, s[1], s[2], s[3],
                  threads);
#endif
}

/* A kernel of the GEMM signature (bp_gemm_fn: the same contract as BLAS
 * sgemm, so the peers compute the same thing) at the reference workload's
 * shapes and squares, each shape on every table and the peers. */
static void register_gemms(const kbench *kb)
{
    static const size_t batches[] = {32, 128, 512};
    static const size_t squares[] = {256, 512, 1024, 2048};
    size_t sh[8][4];
    for (size_t b = 0; b < 3; b++) {
        mlp_shapes(batches[b], sh);
        for (int i = 0; i < 8; i++)
            register_shape(kb, sh[i], 1, batches[b] == 128);
    }
    for (size_t q = 0; q < 4; q++) {
        size_t s[4] = {0, squares[q], squares[q], squares[q]};
        register_shape(kb, s, 1, squares[q] <= 256);
    }
    mlp_shapes(128, sh);
    for (int i = 0; i < 8; i++)
        register_shape(kb, sh[i], 2, false);
    size_t s[4] = {0, 1024, 1024, 1024};
    register_shape(kb, s, 2, false);
}

/* ---------------------------------------------------------------------- */
/* FMA peak (kernels.h bp_isa_fma_loop, every SIMD ISA this CPU runs) and
 * the libmvec baselines (bench/peak.h: the ISAs with a bench/peak_<isa>.c) */

static const struct peak {
    bp_isa isa;
    void (*libmvec_sigmoid)(size_t n, const float *x, float *y);
} peaks[] = {
#define X(name, ENUM) {BP_ISA_##ENUM, bp_bench_libmvec_sigmoid_##name},
    BP_BENCH_PEAK_ISAS(X)
#undef X
    {BP_ISA_COUNT, NULL} /* keeps the array non-empty */
};

static void bm_fma_peak(bp_bench_state *st, void *vctx)
{
    bp_fma_loop_fn *const *fma = vctx;
    double flops = 0;
    while (bp_bench_keep_running(st))
        flops = (*fma)(1 << 20);
    bp_bench_counter(st, "GFLOP/s", flops * 1e-9,
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
}

static void register_peaks(void)
{
    static bp_fma_loop_fn *loops[BP_ISA_COUNT];
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        loops[i] = bp_isa_fma_loop((bp_isa)i);
        if (i == BP_ISA_SCALAR || !loops[i])
            continue;
        char name[64];
        snprintf(name, sizeof name, "fma_peak/%s", bp_isa_name((bp_isa)i));
        bp_bench_register(name, bm_fma_peak, &loops[i]);
    }
}

static void io_free(bench_io *io)
{
    free(io->x), free(io->y), free(io->z), free(io->w), free(io->v);
    free(io->gamma), free(io->beta), free(io->mean), free(io->invstd);
    free(io->rmean), free(io->rvar), free(io->dgamma), free(io->dbeta);
    free(io->labels);
    memset(io, 0, sizeof *io);
}

/* Allocate and fill the operands of kernel kb at n elements (SHAPE_N) or
 * its signature's shape; the same call always gives the same values. */
static bool io_alloc(bench_io *io, const kbench *kb, size_t n)
{
    const sig_bench *s = kb->sig;
    memset(io, 0, sizeof *io);
    if (s->shape == SHAPE_ROWS) {
        io->rows = s->rows, io->cols = s->cols;
        io->n = io->rows * io->cols;
        io->vlen = io->n;
    } else {
        io->n = n, io->cols = 256, io->rows = n / 256;
    }
    n = io->n;
    size_t c = io->cols;
    io->zlen = (s->zmul > 1 ? (size_t)s->zmul : 1) * n;
    io->x = alloc_fill(n, 11, -4, 4);
    io->y = alloc_fill(n, 12, 0.01f, 0.99f);
    io->z = alloc_fill(io->zlen, 13, 0.01f, 0.99f);
    io->w = alloc_fill(n, 14, 0.01f, 0.99f);
    io->v = alloc_fill(io->vlen, 15, 0.01f, 0.99f);
    io->gamma = alloc_fill(c, 24, 0.5f, 1.5f);
    io->beta = alloc_fill(c, 25, -1, 1);
    io->mean = alloc_fill(c, 26, -0.5f, 0.5f);
    io->invstd = alloc_fill(c, 27, 0.5f, 1.5f);
    io->rmean = alloc_fill(c, 28, -0.5f, 0.5f);
    io->rvar = alloc_fill(c, 29, 0.5f, 1.5f);
    io->dgamma = alloc_fill(c, 30, 0, 0);
    io->dbeta = alloc_fill(c, 31, 0, 0);
    io->labels = malloc((io->rows ? io->rows : 1) * sizeof *io->labels);
    if (!io->x || !io->y || !io->z || !io->w || !io->v || !io->gamma ||
        !io->beta || !io->mean || !io->invstd || !io->rmean || !io->rvar ||
        !io->dgamma || !io->dbeta || !io->labels) {
        io_free(io);
        return false;
    }
    for (size_t i = 0; i < io->rows; i++)
        io->labels[i] = (int32_t)(i % c);
    if (s->reset)
        s->reset(io);
    return true;
}

/* Every array of a against b: within 1e-4 relative (+ 1e-4 absolute). A
 * check that the entry computes the same thing as scalar on these
 * operands, not of its accuracy (that is `bplab check`). */
static bool io_close(const bench_io *a, const bench_io *b)
{
    const struct { const float *p, *q; size_t len; } arr[] = {
        {a->x, b->x, a->n},           {a->y, b->y, a->n},
        {a->z, b->z, a->zlen},        {a->w, b->w, a->n},
        {a->v, b->v, a->vlen},        {a->mean, b->mean, a->cols},
        {a->invstd, b->invstd, a->cols}, {a->rmean, b->rmean, a->cols},
        {a->rvar, b->rvar, a->cols},  {a->dgamma, b->dgamma, a->cols},
        {a->dbeta, b->dbeta, a->cols},
    };
    for (size_t j = 0; j < sizeof arr / sizeof *arr; j++)
        for (size_t i = 0; i < arr[j].len; i++)
            if (!(fabsf(arr[j].p[i] - arr[j].q[i]) <=
                  1e-4f * (1.0f + fabsf(arr[j].q[i]))))
                return false;
    return true;
}

typedef struct kernel_ctx {
    const kbench *kb;
    const bp_kernels *t;
    size_t n; /* SHAPE_ROWS: unused */
} kernel_ctx;

static void bm_kernel(bp_bench_state *st, void *vctx)
{
    const kernel_ctx *c = vctx;
    const kbench *kb = c->kb;
    size_t n = c->n ? c->n : (size_t)bp_bench_arg(st);
    bench_io io, ref;
    if (!io_alloc(&io, kb, n)) {
        bp_bench_skip(st, "out of memory");
        return;
    }
    if (c->t->isa != BP_ISA_SCALAR) {
        /* validate the entry against scalar on these operands first */
        bool ok = io_alloc(&ref, kb, n);
        if (ok) {
            kb->call(bp_kernels_for(BP_ISA_SCALAR), &ref);
            kb->call(c->t, &io);
            ok = io_close(&io, &ref);
            io_free(&ref);
        }
        if (!ok) {
            bp_bench_skip(st, "result differs from the scalar reference");
            io_free(&io);
            return;
        }
        if (kb->sig->reset)
            kb->sig->reset(&io);
    }
    while (bp_bench_keep_running(st)) {
        kb->call(c->t, &io);
        if (kb->sig->reset) {
            bp_bench_pause(st);
            kb->sig->reset(&io);
            bp_bench_resume(st);
        }
    }
    bp_bench_counter(st, "Gelem/s", 1e-9 * (double)io.n,
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
    if (kb->sig->shape == SHAPE_N)
        bp_bench_counter(st, "GB/s", 1e-9 * (double)io.n * kb->sig->bytes,
                         BP_BENCH_RATE | BP_BENCH_PER_ITER);
    io_free(&io);
}

#define EW_CACHE ((int64_t)1 << 14) /* 64 KiB per array */
#define EW_DRAM ((int64_t)1 << 24)  /* 64 MiB per array */

/* Kernel k on every usable table, named <kernel>/<isa>/<n> (SHAPE_N, at
 * EW_CACHE and EW_DRAM), <kernel>/<isa>/<rows>x<cols> (SHAPE_ROWS), or
 * the sgemm family (SHAPE_GEMM). */
static void register_kernel(bp_kernel_id k)
{
    const kbench *kb = &kbenches[k];
    if (kb->sig->shape == SHAPE_GEMM) {
        register_gemms(kb);
        return;
    }
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (!t)
            continue;
        kernel_ctx c = {kb, t, 0};
        char name[96];
        if (kb->sig->shape == SHAPE_N) {
            snprintf(name, sizeof name, "%s/%s", kb->name, t->isa_name);
            bp_bench_register_range(name, bm_kernel, ctx_dup(&c, sizeof c),
                                    EW_CACHE, EW_DRAM, 1024);
        } else {
            snprintf(name, sizeof name, "%s/%s/%zux%zu", kb->name,
                     t->isa_name, kb->sig->rows, kb->sig->cols);
            bp_bench_register(name, bm_kernel, ctx_dup(&c, sizeof c));
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Baselines: plain memory traffic, and glibc's vectorised expf sigmoid    */

typedef struct base_ctx {
    int kind; /* 0 copy, 1 stream2, 2 libmvec sigmoid */
    void (*sigmoid)(size_t n, const float *x, float *y);
} base_ctx;

static void bm_base(bp_bench_state *st, void *vctx)
{
    const base_ctx *b = vctx;
    size_t n = (size_t)bp_bench_arg(st);
    float *x = alloc_fill(n, 11, -4, 4), *y = alloc_fill(n, 12, 0.01f, 0.99f);
    float *z = alloc_fill(n, 13, 0.01f, 0.99f);
    if (!x || !y || !z) {
        bp_bench_skip(st, "out of memory");
        goto done;
    }
    while (bp_bench_keep_running(st)) {
        switch (b->kind) {
        case 0: memcpy(y, x, n * sizeof *x); break;
        case 1:
            for (size_t i = 0; i < n; i++)
                z[i] = x[i] + y[i];
            break;
        default: b->sigmoid(n, x, y); break;
        }
    }
    bp_bench_counter(st, "Gelem/s", 1e-9 * (double)n,
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
    bp_bench_counter(st, "GB/s", 1e-9 * (double)n * (b->kind == 1 ? 12 : 8),
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
done:
    free(x), free(y), free(z);
}

static void register_baselines(void)
{
    base_ctx copy = {0, NULL}, stream2 = {1, NULL};
    bp_bench_register_range("copy", bm_base, ctx_dup(&copy, sizeof copy),
                            EW_CACHE, EW_DRAM, 1024);
    bp_bench_register_range("stream2", bm_base,
                            ctx_dup(&stream2, sizeof stream2), EW_CACHE,
                            EW_DRAM, 1024);
    for (size_t i = 0; i < sizeof peaks / sizeof *peaks; i++) {
        if (!bp_isa_supported(peaks[i].isa))
            continue;
        char name[64];
        snprintf(name, sizeof name, "sigmoid_libmvec/%s",
                 bp_isa_name(peaks[i].isa));
        base_ctx b = {2, peaks[i].libmvec_sigmoid};
        bp_bench_register_range(name, bm_base, ctx_dup(&b, sizeof b),
                                EW_CACHE, EW_DRAM, 1024);
    }
}

/* ---------------------------------------------------------------------- */
/* A whole training step of the reference workload, and its GEMMs alone.   */

typedef struct step_ctx {
    const bp_kernels *t;
    int threads;
    bool gemms_only;
    bool unfused; /* every kernel on its own (bplab train --no-fuse) */
} step_ctx;

static void bm_step(bp_bench_state *st, void *vctx)
{
    const step_ctx *c = vctx;
    enum { B = 128 };
    bp_net_spec spec = {.input = {1, 1, 784}, .classes = 10,
                        .loss = BP_LOSS_CE, .init_gain = 1.0f};
    bp_net_spec_parse("dense:256,relu,dense:128,relu", &spec, NULL);
    bp_optim_spec os;
    bp_optim_defaults(&os);
    bp_net *net = NULL;
    bp_optim *opt = NULL;
    bp_err err = {0};
    float *x = alloc_fill(B * 784, 41, 0, 1);
    int32_t y[B];
    for (int i = 0; i < B; i++)
        y[i] = i % 10;
    bool flushed = false;
    bp_ctx *ctx = NULL;
    if (!x || bp_ctx_create_for(c->t, c->threads, &ctx, &err) != BP_OK) {
        bp_bench_skip(st, "cannot build the context");
        goto done;
    }
    ctx->unfused = c->unfused;
    flushed = bp_flush_denormals(ctx, true);
    if (bp_net_create(&spec, B, 0, ctx, &net, &err) != BP_OK ||
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
                bp_gemm(ctx, false, false, B, dims[l + 1], dims[l], 1.0f, in,
                        dims[l], net->params + net->wt[l].off, dims[l + 1],
                        0.0f, act[l], dims[l + 1]);
                in = act[l];
            }
            for (int l = 2; l >= 0; l--) {
                const float *input = l ? act[l - 1] : x;
                bp_gemm(ctx, true, false, dims[l], dims[l + 1], B, 1.0f, input,
                        dims[l], net->delta[0], dims[l + 1], 0.0f,
                        net->grads + net->wt[l].off, dims[l + 1]);
                if (l)
                    bp_gemm(ctx, false, true, B, dims[l], dims[l + 1], 1.0f,
                            net->delta[0], dims[l + 1],
                            net->params + net->wt[l].off, dims[l + 1], 0.0f,
                            net->delta[1], dims[l]);
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
    if (ctx)
        bp_flush_denormals(ctx, flushed);
    bp_optim_destroy(opt);
    bp_net_destroy(net);
    bp_ctx_destroy(ctx);
    free(x);
}

static void register_steps(void)
{
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (!t)
            continue;
        static const char *const kinds[] = {"train_step", "train_step_gemms",
                                            "train_step_unfused"};
        for (int threads = 1; threads <= 2; threads++)
            for (int g = 0; g < 3; g++) {
                if (i == BP_ISA_SCALAR && (threads == 2 || g == 2))
                    continue;
                char name[96];
                snprintf(name, sizeof name, "%s/%s/batch128/threads:%d",
                         kinds[g], t->isa_name, threads);
                step_ctx c = {t, threads, g == 1, g == 2};
                bp_bench_register(name, bm_step, ctx_dup(&c, sizeof c));
            }
    }
}

/* ---------------------------------------------------------------------- */
/* The reference CNN's convolutions, one layer's passes, beside oneDNN's    */
/* convolution primitives                                                   */

/* Both 3x3, stride 1, padding 1, batch 128, channels-last: conv1 takes
 * 28x28x1 to 28x28x32, conv2 14x14x32 to 14x14x64 (after the first 2x2
 * max pool). */
typedef struct conv_shape {
    const char *name;
    size_t h, w, cin, cout;
} conv_shape;

static const conv_shape conv_shapes[] = {{"conv1", 28, 28, 1, 32},
                                         {"conv2", 14, 14, 32, 64}};
#define NCONV (sizeof conv_shapes / sizeof *conv_shapes)
enum { CONV_B = 128, CONV_K = 3 };

/* What a row times (bench/README.md):
 *   CONV_FWD          the forward pass, bias included (bplab: im2col and
 *                     the NN GEMM with the bias in its epilogue, block by
 *                     block)
 *   CONV_BWD_WEIGHTS  the weight and bias gradients (bplab: backward with
 *                     need_dx false, as for a first layer: im2col again
 *                     and the TN GEMM)
 *   CONV_BWD_DATA     the input gradient (oneDNN only: bplab computes it
 *                     inside its backward, the report takes it as
 *                     conv_bwd - conv_bwd_weights)
 *   CONV_BWD          all three gradients (bplab: backward with need_dx
 *                     true, adding the NT GEMM and col2im; oneDNN: its
 *                     backward-data then its backward-weights primitive) */
typedef enum conv_pass {
    CONV_FWD, CONV_BWD_WEIGHTS, CONV_BWD_DATA, CONV_BWD, CONV_NPASS
} conv_pass;
static const char *const conv_pass_names[CONV_NPASS] = {
    "conv_fwd", "conv_bwd_weights", "conv_bwd_data", "conv_bwd"};

static size_t conv_in(const conv_shape *s) { return s->h * s->w * s->cin; }
static size_t conv_out(const conv_shape *s) { return s->h * s->w * s->cout; }
static size_t conv_nw(const conv_shape *s)
{
    return (size_t)CONV_K * CONV_K * s->cin * s->cout;
}

/* One pass's multiply-adds, twice: B x pixels x Cout x K*K*Cin, the same
 * for the forward pass, the weight gradient and the input gradient. */
static double conv_flops(const conv_shape *s, conv_pass p)
{
    double f = 2.0 * CONV_B * (double)(s->h * s->w) * (double)conv_nw(s);
    return p == CONV_BWD ? 2 * f : f;
}

/* A shape's operands and the scalar table's results on them, made once,
 * by the first benchmark of the shape that runs: x the images, w the
 * weights ((K*K*Cin) x Cout, rows (ky, kx, ci): oneDNN's hwio), b the
 * bias, d the output gradient; y, dw, db, dx what the scalar table's
 * conv layer computes from them at one thread. */
typedef struct conv_ref {
    bool tried, ok;
    float *x, *w, *b, *d;
    float *y, *dw, *db, *dx;
} conv_ref;

static conv_ref conv_refs[NCONV];

/* A network of that convolution alone (and the dense output layer the
 * network adds, which is never run) on context ctx, its weights and bias
 * set to r's. */
static bool conv_net(const conv_shape *s, const bp_ctx *ctx,
                     const conv_ref *r, bp_net **out)
{
    bp_net_spec spec = {.input = {s->h, s->w, s->cin}, .classes = 10,
                        .loss = BP_LOSS_CE, .init_gain = 1.0f};
    char text[48];
    snprintf(text, sizeof text, "conv:%zu:%d", s->cout, CONV_K);
    *out = NULL;
    if (bp_net_spec_parse(text, &spec, NULL) != BP_OK ||
        bp_net_create(&spec, CONV_B, 0, ctx, out, NULL) != BP_OK)
        return false;
    bp_layer *l = &(*out)->layers[0];
    int set = 0;
    for (size_t i = 0; i < l->ntensors; i++) {
        if (l->role[i] == BP_T_WEIGHT && l->n[i] == conv_nw(s)) {
            memcpy(l->t[i], r->w, conv_nw(s) * sizeof *r->w);
            set |= 1;
        } else if (l->role[i] == BP_T_PARAM && l->n[i] == s->cout) {
            memcpy(l->t[i], r->b, s->cout * sizeof *r->b);
            set |= 2;
        }
    }
    if (set != 3) {
        bp_net_destroy(*out);
        *out = NULL;
    }
    return set == 3;
}

/* The gradients of layer l's weights and bias (or NULL). */
static void conv_grads(const bp_layer *l, float **gw, float **gb)
{
    *gw = *gb = NULL;
    for (size_t i = 0; i < l->ntensors; i++) {
        if (l->role[i] == BP_T_WEIGHT)
            *gw = l->g[i];
        else if (l->role[i] == BP_T_PARAM)
            *gb = l->g[i];
    }
}

static const conv_ref *conv_ref_get(size_t k)
{
    conv_ref *r = &conv_refs[k];
    if (r->tried)
        return r->ok ? r : NULL;
    r->tried = true;
    const conv_shape *s = &conv_shapes[k];
    size_t nx = CONV_B * conv_in(s), ny = CONV_B * conv_out(s);
    r->x = alloc_fill(nx, 51, -1, 1);
    r->w = alloc_fill(conv_nw(s), 52, -0.5f, 0.5f);
    r->b = alloc_fill(s->cout, 53, -0.5f, 0.5f);
    r->d = alloc_fill(ny, 54, -1, 1);
    r->y = alloc_fill(ny, 0, 0, 0);
    r->dw = alloc_fill(conv_nw(s), 0, 0, 0);
    r->db = alloc_fill(s->cout, 0, 0, 0);
    r->dx = alloc_fill(nx, 0, 0, 0);
    float *dy = alloc_fill(ny, 0, 0, 0); /* d, for the layer to overwrite */
    bp_ctx *ctx = NULL;
    bp_net *net = NULL;
    if (r->x && r->w && r->b && r->d && r->y && r->dw && r->db && r->dx &&
        dy &&
        bp_ctx_create_for(bp_kernels_for(BP_ISA_SCALAR), 1, &ctx, NULL) ==
            BP_OK &&
        conv_net(s, ctx, r, &net)) {
        bp_layer *l = &net->layers[0];
        float *gw, *gb;
        conv_grads(l, &gw, &gb);
        l->ops->forward(l, ctx, r->x, CONV_B, true, 0);
        memcpy(r->y, l->y, ny * sizeof *r->y);
        memcpy(dy, r->d, ny * sizeof *dy);
        const float *dx = l->ops->backward(l, ctx, r->x, CONV_B, dy, r->dx,
                                           true);
        r->ok = gw && gb && dx == r->dx;
        if (r->ok) {
            memcpy(r->dw, gw, conv_nw(s) * sizeof *gw);
            memcpy(r->db, gb, s->cout * sizeof *gb);
        }
    }
    bp_net_destroy(net);
    bp_ctx_destroy(ctx);
    free(dy);
    return r->ok ? r : NULL;
}

/* got against the reference, normwise: max |got - ref| within 1e-4 of
 * max |ref| (the sums run in other orders: blocks, oneDNN's tiles). */
static bool conv_close(const float *got, const float *ref, size_t n)
{
    double err = 0, mag = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]);
        if (!(e <= err)) /* NaN too */
            err = isnan(e) ? INFINITY : e;
        if (fabs((double)ref[i]) > mag)
            mag = fabs((double)ref[i]);
    }
    return err <= 1e-4 * mag;
}

typedef struct conv_ctx {
    size_t shape;        /* index in conv_shapes */
    conv_pass pass;
    const bp_kernels *t; /* NULL: oneDNN */
    int threads;
    int checked;         /* 0: not yet; 1: agrees with the reference;
                            -1: differs (checked once per process) */
} conv_ctx;

static void bm_conv_bplab(bp_bench_state *st, void *vctx)
{
    conv_ctx *c = vctx;
    const conv_shape *s = &conv_shapes[c->shape];
    const conv_ref *r = conv_ref_get(c->shape);
    bp_ctx *ctx = NULL;
    bp_net *net = NULL;
    /* the output gradient is the layer's to overwrite (layer.h): a copy */
    float *dx = alloc_fill(CONV_B * conv_in(s), 0, 0, 0);
    float *dy = alloc_fill(CONV_B * conv_out(s), 0, 0, 0);
    if (!r || !dx || !dy ||
        bp_ctx_create_for(c->t, c->threads, &ctx, NULL) != BP_OK ||
        !conv_net(s, ctx, r, &net)) {
        bp_bench_skip(st, "cannot build the layer or its reference");
        goto done;
    }
    memcpy(dy, r->d, CONV_B * conv_out(s) * sizeof *dy);
    bp_layer *l = &net->layers[0];
    bool need_dx = c->pass == CONV_BWD;
    if (c->checked == 0) {
        float *gw, *gb;
        conv_grads(l, &gw, &gb);
        bool ok;
        if (c->pass == CONV_FWD) {
            l->ops->forward(l, ctx, r->x, CONV_B, true, 0);
            ok = conv_close(l->y, r->y, CONV_B * conv_out(s));
        } else {
            l->ops->backward(l, ctx, r->x, CONV_B, dy, dx, need_dx);
            ok = conv_close(gw, r->dw, conv_nw(s)) &&
                 conv_close(gb, r->db, s->cout) &&
                 (!need_dx || conv_close(dx, r->dx, CONV_B * conv_in(s)));
        }
        c->checked = ok ? 1 : -1;
    }
    if (c->checked < 0) {
        bp_bench_skip(st, "result differs from the scalar reference");
        goto done;
    }
    while (bp_bench_keep_running(st)) {
        if (c->pass == CONV_FWD)
            l->ops->forward(l, ctx, r->x, CONV_B, true, 0);
        else
            l->ops->backward(l, ctx, r->x, CONV_B, dy, dx, need_dx);
    }
    bp_bench_counter(st, "GFLOP/s", 1e-9 * conv_flops(s, c->pass),
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
done:
    bp_net_destroy(net);
    bp_ctx_destroy(ctx);
    free(dx), free(dy);
}

#ifdef BPLAB_HAVE_DNNL
/* oneDNN's three convolution primitives on one shape, through its C API:
 * activations in bplab's layout (nhwc), weights in the format each
 * primitive picks (format_tag any; bplab's (K*K*Cin) x Cout is hwio,
 * reordered before the timing), the direct or Winograd algorithm as
 * oneDNN chooses (convolution_auto), scratchpads allocated once (user
 * mode). The threads are OpenMP's, set before the primitives are made
 * (set_threads), as for the GEMM peer. */
typedef struct dn_conv {
    dnnl_engine_t eng;
    dnnl_stream_t str;
    dnnl_primitive_desc_t pd[3]; /* forward, backward data, weights */
    dnnl_primitive_t prim[3];
    dnnl_memory_t scratch[3];
    dnnl_memory_t src, wei_user, bias, dst, wei_fwd, wei_bwd, diff_dst,
        diff_src, diff_wei, diff_bias;
    dnnl_memory_t diff_wei_user; /* diff_wei reordered to hwio, in dw, */
    float *dw;                   /* for the check */
    dnnl_exec_arg_t args[3][5];
    int nargs[3];
    const char *failed; /* the first call that failed, or NULL */
} dn_conv;

#define DN(call)                                                        \
    do {                                                                \
        if (!d->failed && (call) != dnnl_success)                       \
            d->failed = #call;                                          \
    } while (0)

/* a memory of p's descriptor `what` (index i), allocated by oneDNN */
static dnnl_memory_t dn_mem(dn_conv *d, const_dnnl_primitive_desc_t p,
                            dnnl_query_t what, int i)
{
    dnnl_memory_t m = NULL;
    if (!d->failed)
        DN(dnnl_memory_create(&m, dnnl_primitive_desc_query_md(p, what, i),
                              d->eng, DNNL_MEMORY_ALLOCATE));
    return m;
}

/* from -> to, by one reorder primitive run once */
static void dn_reorder(dn_conv *d, dnnl_memory_t from, dnnl_memory_t to)
{
    const dnnl_memory_desc_t *a = NULL, *b = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t p = NULL;
    DN(dnnl_memory_get_memory_desc(from, &a));
    DN(dnnl_memory_get_memory_desc(to, &b));
    DN(dnnl_reorder_primitive_desc_create(&pd, a, d->eng, b, d->eng, NULL));
    DN(dnnl_primitive_create(&p, pd));
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    DN(dnnl_primitive_execute(p, d->str, 2, args));
    DN(dnnl_stream_wait(d->str));
    if (p)
        dnnl_primitive_destroy(p);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
}

static void dn_free(dn_conv *d)
{
    dnnl_memory_t mems[] = {d->src, d->wei_user, d->bias, d->dst,
                            d->wei_fwd, d->wei_bwd, d->diff_dst,
                            d->diff_src, d->diff_wei, d->diff_bias,
                            d->diff_wei_user, d->scratch[0], d->scratch[1],
                            d->scratch[2]};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i])
            dnnl_memory_destroy(mems[i]);
    for (int i = 0; i < 3; i++) {
        if (d->prim[i])
            dnnl_primitive_destroy(d->prim[i]);
        if (d->pd[i])
            dnnl_primitive_desc_destroy(d->pd[i]);
    }
    if (d->str)
        dnnl_stream_destroy(d->str);
    if (d->eng)
        dnnl_engine_destroy(d->eng);
    free(d->dw);
}

/* The three primitives and their memories for shape s on r's operands
 * (x, w, b and d used in place, never written), the weights reordered
 * into the formats the primitives chose. */
static void dn_make(dn_conv *d, const conv_shape *s, const conv_ref *r)
{
    const dnnl_dim_t B = CONV_B, H = (dnnl_dim_t)s->h,
                     W = (dnnl_dim_t)s->w, C = (dnnl_dim_t)s->cin,
                     O = (dnnl_dim_t)s->cout, K = CONV_K;
    /* oneDNN's dimensions are logical, NCHW and OIHW; the tags lay out */
    const dnnl_dims_t src_dims = {B, C, H, W}, dst_dims = {B, O, H, W},
                      wei_dims = {O, C, K, K}, bias_dims = {O},
                      strides = {1, 1}, pad = {1, 1};
    dnnl_memory_desc_t src_md, dst_md, wei_any, wei_hwio, bias_md;
    DN(dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32,
                                    dnnl_nhwc));
    DN(dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32,
                                    dnnl_nhwc));
    DN(dnnl_memory_desc_init_by_tag(&wei_any, 4, wei_dims, dnnl_f32,
                                    dnnl_format_tag_any));
    DN(dnnl_memory_desc_init_by_tag(&wei_hwio, 4, wei_dims, dnnl_f32,
                                    dnnl_hwio));
    DN(dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32,
                                    dnnl_x));
    dnnl_convolution_desc_t cd[3];
    DN(dnnl_convolution_forward_desc_init(
        &cd[0], dnnl_forward_training, dnnl_convolution_auto, &src_md,
        &wei_any, &bias_md, &dst_md, strides, pad, pad));
    DN(dnnl_convolution_backward_data_desc_init(
        &cd[1], dnnl_convolution_auto, &src_md, &wei_any, &dst_md, strides,
        pad, pad));
    DN(dnnl_convolution_backward_weights_desc_init(
        &cd[2], dnnl_convolution_auto, &src_md, &wei_any, &bias_md, &dst_md,
        strides, pad, pad));
    dnnl_primitive_attr_t attr = NULL;
    DN(dnnl_primitive_attr_create(&attr));
    DN(dnnl_primitive_attr_set_scratchpad_mode(attr,
                                               dnnl_scratchpad_mode_user));
    DN(dnnl_engine_create(&d->eng, dnnl_cpu, 0));
    DN(dnnl_stream_create(&d->str, d->eng, dnnl_stream_default_flags));
    for (int i = 0; i < 3 && !d->failed; i++) {
        /* the backward ones take the forward one as their hint */
        DN(dnnl_primitive_desc_create(&d->pd[i], &cd[i], attr, d->eng,
                                      i ? d->pd[0] : NULL));
        DN(dnnl_primitive_create(&d->prim[i], d->pd[i]));
        const dnnl_memory_desc_t *sm =
            d->failed ? NULL
                      : dnnl_primitive_desc_query_md(
                            d->pd[i], dnnl_query_scratchpad_md, 0);
        if (sm && dnnl_memory_desc_get_size(sm) > 0)
            DN(dnnl_memory_create(&d->scratch[i], sm, d->eng,
                                  DNNL_MEMORY_ALLOCATE));
    }
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (d->failed)
        return;
    DN(dnnl_memory_create(&d->src, &src_md, d->eng, r->x));
    DN(dnnl_memory_create(&d->wei_user, &wei_hwio, d->eng, r->w));
    DN(dnnl_memory_create(&d->bias, &bias_md, d->eng, r->b));
    DN(dnnl_memory_create(&d->diff_dst, &dst_md, d->eng, r->d));
    d->dw = alloc_fill(conv_nw(s), 0, 0, 0);
    if (!d->dw && !d->failed)
        d->failed = "out of memory";
    DN(dnnl_memory_create(&d->diff_wei_user, &wei_hwio, d->eng, d->dw));
    d->dst = dn_mem(d, d->pd[0], dnnl_query_dst_md, 0);
    d->wei_fwd = dn_mem(d, d->pd[0], dnnl_query_weights_md, 0);
    d->wei_bwd = dn_mem(d, d->pd[1], dnnl_query_weights_md, 0);
    d->diff_src = dn_mem(d, d->pd[1], dnnl_query_diff_src_md, 0);
    d->diff_wei = dn_mem(d, d->pd[2], dnnl_query_diff_weights_md, 0);
    d->diff_bias = dn_mem(d, d->pd[2], dnnl_query_diff_weights_md, 1);
    dn_reorder(d, d->wei_user, d->wei_fwd);
    dn_reorder(d, d->wei_user, d->wei_bwd);
    if (d->failed)
        return;
    dnnl_exec_arg_t a[3][5] = {
        {{DNNL_ARG_SRC, d->src}, {DNNL_ARG_WEIGHTS, d->wei_fwd},
         {DNNL_ARG_BIAS, d->bias}, {DNNL_ARG_DST, d->dst}},
        {{DNNL_ARG_DIFF_DST, d->diff_dst}, {DNNL_ARG_WEIGHTS, d->wei_bwd},
         {DNNL_ARG_DIFF_SRC, d->diff_src}},
        {{DNNL_ARG_SRC, d->src}, {DNNL_ARG_DIFF_DST, d->diff_dst},
         {DNNL_ARG_DIFF_WEIGHTS, d->diff_wei},
         {DNNL_ARG_DIFF_BIAS, d->diff_bias}}};
    const int n[3] = {4, 3, 4};
    memcpy(d->args, a, sizeof a);
    for (int i = 0; i < 3; i++) {
        d->nargs[i] = n[i];
        if (d->scratch[i])
            d->args[i][d->nargs[i]++] =
                (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, d->scratch[i]};
    }
}

/* Does pass p run primitive i (0 forward, 1 backward data, 2 backward
 * weights)? Both gradients: data, then weights. */
static bool dn_uses(conv_pass p, int i)
{
    return i == 0 ? p == CONV_FWD
           : i == 1 ? p == CONV_BWD_DATA || p == CONV_BWD
                    : p == CONV_BWD_WEIGHTS || p == CONV_BWD;
}

static void dn_run(dn_conv *d, conv_pass p)
{
    for (int i = 0; i < 3; i++)
        if (dn_uses(p, i))
            DN(dnnl_primitive_execute(d->prim[i], d->str, d->nargs[i],
                                      d->args[i]));
    DN(dnnl_stream_wait(d->str));
}

/* The pass's outputs against the reference (the weight gradient
 * reordered to hwio first). */
static bool dn_check(dn_conv *d, const conv_shape *s, const conv_ref *r,
                     conv_pass p)
{
    void *h = NULL;
    bool ok = true;
    if (p == CONV_FWD) {
        DN(dnnl_memory_get_data_handle(d->dst, &h));
        ok = h && conv_close(h, r->y, CONV_B * conv_out(s));
    }
    if (p == CONV_BWD_DATA || p == CONV_BWD) {
        DN(dnnl_memory_get_data_handle(d->diff_src, &h));
        ok = ok && h && conv_close(h, r->dx, CONV_B * conv_in(s));
    }
    if (p == CONV_BWD_WEIGHTS || p == CONV_BWD) {
        dn_reorder(d, d->diff_wei, d->diff_wei_user);
        h = NULL;
        DN(dnnl_memory_get_data_handle(d->diff_bias, &h));
        ok = ok && h && conv_close(d->dw, r->dw, conv_nw(s)) &&
             conv_close(h, r->db, s->cout);
    }
    return ok && !d->failed;
}

static void bm_conv_onednn(bp_bench_state *st, void *vctx)
{
    conv_ctx *c = vctx;
    const conv_shape *s = &conv_shapes[c->shape];
    const conv_ref *r = conv_ref_get(c->shape);
    static char why[200];
    dn_conv d = {0};
    set_threads(c->threads);
    if (!r) {
        bp_bench_skip(st, "cannot build the reference");
        goto done;
    }
    dn_make(&d, s, r);
    if (!d.failed && c->checked == 0) {
        dn_run(&d, c->pass);
        bool ok = dn_check(&d, s, r, c->pass);
        if (!d.failed)
            c->checked = ok ? 1 : -1;
    }
    if (d.failed) {
        snprintf(why, sizeof why, "oneDNN: %.160s failed", d.failed);
        bp_bench_skip(st, why);
        goto done;
    }
    if (c->checked < 0) {
        bp_bench_skip(st, "result differs from the scalar reference");
        goto done;
    }
    /* which implementations oneDNN chose, e.g. "jit:avx512_core" */
    char label[128] = "";
    for (int i = 0; i < 3; i++) {
        const char *impl = NULL;
        if (!dn_uses(c->pass, i) ||
            dnnl_primitive_desc_query(d.pd[i], dnnl_query_impl_info_str, 0,
                                      &impl) != dnnl_success || !impl)
            continue;
        size_t len = strlen(label);
        snprintf(label + len, sizeof label - len, "%s%s", len ? " + " : "",
                 impl);
    }
    bp_bench_label(st, label);
    while (bp_bench_keep_running(st))
        dn_run(&d, c->pass);
    if (d.failed) {
        snprintf(why, sizeof why, "oneDNN: %.160s failed", d.failed);
        bp_bench_skip(st, why);
        goto done;
    }
    bp_bench_counter(st, "GFLOP/s", 1e-9 * conv_flops(s, c->pass),
                     BP_BENCH_RATE | BP_BENCH_PER_ITER);
done:
    dn_free(&d);
    set_threads(1);
}
#undef DN
#endif

/* Named <pass>/<isa|onednn>/<conv1|conv2>/threads:<t>: each shape, thread
 * count and pass on every SIMD table and on oneDNN, back to back. The
 * scalar table is the reference (it would take seconds per row), and
 * conv_bwd_data is oneDNN's alone (see conv_pass). */
static void register_convs(void)
{
    for (size_t k = 0; k < NCONV; k++)
        for (int threads = 1; threads <= 2; threads++)
            for (int p = 0; p < CONV_NPASS; p++) {
                char name[96];
                for (int i = 0; i < BP_ISA_COUNT; i++) {
                    const bp_kernels *t = bp_kernels_for((bp_isa)i);
                    if (!t || i == BP_ISA_SCALAR || p == CONV_BWD_DATA)
                        continue;
                    conv_ctx c = {k, (conv_pass)p, t, threads, 0};
                    snprintf(name, sizeof name, "%s/%s/%s/threads:%d",
                             conv_pass_names[p], t->isa_name,
                             conv_shapes[k].name, threads);
                    bp_bench_register(name, bm_conv_bplab,
                                      ctx_dup(&c, sizeof c));
                }
#ifdef BPLAB_HAVE_DNNL
                conv_ctx c = {k, (conv_pass)p, NULL, threads, 0};
                snprintf(name, sizeof name, "%s/onednn/%s/threads:%d",
                         conv_pass_names[p], conv_shapes[k].name, threads);
                bp_bench_register(name, bm_conv_onednn,
                                  ctx_dup(&c, sizeof c));
#endif
            }
}

int main(int argc, char **argv)
{
    set_threads(1);
    register_steps();
    register_convs();
    register_peaks();
    for (int k = 0; k < BP_NUM_KERNELS; k++)
        register_kernel((bp_kernel_id)k);
    register_baselines();
    return bp_bench_main(argc, argv);
}
