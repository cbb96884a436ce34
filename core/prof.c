/* core/prof.c - the profiling kernel table and its reports (prof.h). */
#include "core/prof.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/syscall.h>
#define BP_HAVE_PERF 1
#endif

#include "core/alloc.h"
#include "core/net.h"
#include "core/outfile.h"

/* ---------------------------------------------------------------------- */
/* Records                                                                 */

/* Where a call was made: inside a training step, an evaluation, neither,
 * or the profiler's own calibration (never reported). */
enum { SC_STEP, SC_EVAL, SC_OTHER, SC_CALIB, NSCOPE };

/* The median comes from a histogram of call durations: bins 0..15 are
 * 0..15 ns exactly, then 16 bins per octave (bin width 1/16 of an
 * octave's start: the median is good to 3%), up to 2^40 ns. */
#define HSUB 16
#define NBINS (HSUB + 37 * HSUB)

#define MAX_COUNTERS 4
#define MAX_EVENTS ((size_t)1 << 21) /* a trace keeps at most this many */

typedef struct cell {
    uint64_t calls, ns;
    double flops, bytes;
} cell;

typedef struct kstat {
    uint64_t min_ns;
    uint64_t ctr[MAX_COUNTERS]; /* hardware counts (thread 0 only) */
    uint32_t hist[NBINS];
} kstat;

/* One thread's records (allocated apart, so threads never share a line). */
typedef struct thr {
    cell *cells; /* [NSCOPE][layers + 1][BP_PASS_COUNT][BP_NUM_KERNELS] */
    kstat k[NSCOPE][BP_NUM_KERNELS];
} thr;

/* What a wrapper knows about a call: up to four sizes, GEMM's transposes,
 * and the flops and bytes the kernel's definition implies. */
typedef struct shape {
    uint64_t d[4];
    uint8_t nd, tag; /* tag: bit 0 A transposed, bit 1 B transposed,
                        bit 2 with an epilogue (bp_gemm_post) */
    double flops, bytes;
} shape;

typedef struct event {
    uint64_t t0, dur; /* ns since the profiler started */
    shape s;
    int32_t layer;
    uint16_t tid;
    uint8_t kernel, pass, scope;
} event;

enum { SPAN_STEP, SPAN_EPOCH, SPAN_EVAL };

typedef struct span {
    uint64_t t0, dur;
    unsigned long long n;
    int kind;
} span;

struct bp_prof {
    const bp_kernels *inner;
    bp_kernels table;
    int threads;
    size_t layers;
    thr **thr;
    uint64_t t_start;
    /* the current mark: written by the thread that runs the network
     * outside parallel regions, read by the kernel calls */
    int scope, pass;
    long layer;
    /* spans */
    uint64_t step_t0, eval_t0, epoch_t0;
    uint64_t step_ns, eval_ns;
    uint64_t gather_t0, gather_ns; /* the trainer's batch gather */
    unsigned long long nsteps, nevals, epoch;
    bool in_step, epoch_traced;
    /* the trace */
    size_t trace_steps;
    bool tracing;
    uint64_t trace_end; /* when tracing stopped (0: it has not) */
    event *ev;
    size_t cap;
    _Atomic size_t nev; /* calls offered; those past cap were dropped */
    size_t span_first, span_max; /* events of the current and the largest
                                    span (step or evaluation) */
    span *sp;
    size_t nsp, capsp, sp_dropped;
    /* calibration */
    bp_isa peak_isa;
    double peak_gflops;      /* one thread */
    double own_gflops;       /* one thread, the inner table's own loop */
    double bw[4];            /* copy GB/s of one thread ... */
    size_t bw_bytes[4];      /* ... moving this many bytes a copy */
    double call_ns;          /* what timing and recording a call costs */
    /* hardware counters (perf_event_open), on the creating thread */
    int nctr, fd[MAX_COUNTERS];
    const char *ctr_name[MAX_COUNTERS];
    char ctr_note[192];
};

static bp_prof *R; /* the live profiler the wrappers record into */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t cell_index(const bp_prof *p, int sc, long layer, int pass,
                         int k)
{
    return (((size_t)sc * (p->layers + 1) + (size_t)(layer + 1)) *
                BP_PASS_COUNT + (size_t)pass) * BP_NUM_KERNELS + (size_t)k;
}

static int bin_of(uint64_t d)
{
    if (d < HSUB)
        return (int)d;
    int e = 63 - __builtin_clzll(d); /* >= 4 */
    int b = HSUB + (e - 4) * HSUB + (int)((d >> (e - 4)) - HSUB);
    return b < NBINS ? b : NBINS - 1;
}

/* The middle of bin b, in ns. */
static double bin_mid(int b)
{
    if (b < HSUB)
        return b;
    int q = b - HSUB, e = q / HSUB + 4;
    double lo = (double)((uint64_t)(HSUB + q % HSUB) << (e - 4));
    return lo + 0.5 * ldexp(1.0, e - 4);
}

static void read_counters(const bp_prof *p, uint64_t *v)
{
#ifdef BP_HAVE_PERF
    uint64_t buf[1 + MAX_COUNTERS];
    if (read(p->fd[0], buf, sizeof buf) >= (ssize_t)sizeof(uint64_t)) {
        for (int i = 0; i < p->nctr && i < (int)buf[0]; i++)
            v[i] = buf[1 + i];
        return;
    }
#else
    (void)p;
#endif
    memset(v, 0, MAX_COUNTERS * sizeof *v);
}

typedef struct call {
    uint64_t t0;
    uint64_t ctr[MAX_COUNTERS];
    bool counted;
} call;

static inline void call_begin(call *c)
{
    c->counted = R->nctr > 0 && omp_get_thread_num() == 0;
    if (c->counted)
        read_counters(R, c->ctr);
    c->t0 = now_ns();
}

static void call_end(call *c, int k, const shape *s)
{
    uint64_t t1 = now_ns();
    bp_prof *p = R;
    uint64_t c1[MAX_COUNTERS];
    if (c->counted)
        read_counters(p, c1);
    int tid = omp_get_thread_num();
    if (tid >= p->threads) /* a region of the context forks no more */
        tid = p->threads - 1;
    thr *T = p->thr[tid];
    int sc = p->scope, pass = p->pass;
    long layer = p->layer;
    uint64_t d = t1 - c->t0;
    cell *ce = &T->cells[cell_index(p, sc, layer, pass, k)];
    ce->calls++;
    ce->ns += d;
    ce->flops += s->flops;
    ce->bytes += s->bytes;
    kstat *ks = &T->k[sc][k];
    if (d < ks->min_ns)
        ks->min_ns = d;
    ks->hist[bin_of(d)]++;
    if (c->counted)
        for (int i = 0; i < p->nctr; i++)
            ks->ctr[i] += c1[i] - c->ctr[i];
    if (p->tracing) {
        size_t i = atomic_fetch_add_explicit(&p->nev, 1, memory_order_relaxed);
        if (i < p->cap)
            p->ev[i] = (event){.t0 = c->t0 - p->t_start, .dur = d, .s = *s,
                               .layer = (int32_t)layer, .tid = (uint16_t)tid,
                               .kernel = (uint8_t)k, .pass = (uint8_t)pass,
                               .scope = (uint8_t)sc};
    }
}

/* ---------------------------------------------------------------------- */
/* The wrappers: one per kernel, by its function type                      */

#define D(x) ((double)(x))
#define BEGIN call c_; call_begin(&c_)
#define END(name, ...) call_end(&c_, BP_K_##name, &(shape){__VA_ARGS__})

/* A GEMM's flops are 2mnk; its bytes the operands once and C (read too
 * when beta != 0). An epilogue's work is the GEMM's: its time is in the
 * call, its flops are not counted (a bias and an activation a value). 
 * Element-wise kernels count the bytes their definition reads and writes
 * (kernels.h), once each. */
#define WRAP_bp_gemm_fn(name)                                               \
    static void pw_##name(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m, \
                          size_t n, size_t k, float alpha, const float *A,   \
                          size_t lda, const float *B, size_t ldb,            \
                          float beta, float *C, size_t ldc,                  \
                          const bp_gemm_post *post)                          \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(gc, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C,  \
                       ldc, post);                                           \
        END(name, {m, n, k}, 3, (uint8_t)(ta | tb << 1 | (post ? 4 : 0)),   \
            2 * D(m) * D(n) * D(k),                                          \
            4 * (D(m) * D(k) + D(k) * D(n) + (beta != 0 ? 2 : 1) * D(m) * D(n))); \
    }
#define WRAP_bp_unary_fn(name)                                              \
    static void pw_##name(size_t n, const float *x, float *y)                \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(n, x, y);                                             \
        END(name, {n}, 1, 0, 0, 8 * D(n));                                   \
    }
#define WRAP_bp_unary_bwd_fn(name)                                          \
    static void pw_##name(size_t n, const float *y, const float *dy,         \
                          float *dx)                                         \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(n, y, dy, dx);                                        \
        END(name, {n}, 1, 0, 0, 12 * D(n));                                  \
    }
#define WRAP_bp_softmax_fn(name)                                            \
    static void pw_##name(size_t rows, size_t cols, const float *x,          \
                          size_t ldx, float *y, size_t ldy)                  \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, cols, x, ldx, y, ldy);                          \
        END(name, {rows, cols}, 2, 0, 0, 8 * D(rows) * D(cols));             \
    }
#define WRAP_bp_softmax_bwd_fn(name)                                        \
    static void pw_##name(size_t rows, size_t cols, const float *y,          \
                          size_t ldy, const float *dy, size_t lddy,          \
                          float *dx, size_t lddx)                            \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, cols, y, ldy, dy, lddy, dx, lddx);              \
        END(name, {rows, cols}, 2, 0, 0, 12 * D(rows) * D(cols));            \
    }
#define WRAP_bp_xent_fn(name)                                               \
    static double pw_##name(size_t rows, size_t cols, const float *z,        \
                            size_t ldz, const int32_t *labels, float scale,  \
                            float *delta, size_t ldd)                        \
    {                                                                        \
        BEGIN;                                                               \
        double r = R->inner->name(rows, cols, z, ldz, labels, scale, delta,  \
                                  ldd);                                      \
        END(name, {rows, cols}, 2, 0, 0,                                     \
            (delta ? 8 : 4) * D(rows) * D(cols) + 4 * D(rows));              \
        return r;                                                            \
    }
#define WRAP_bp_bce_fn(name)                                                \
    static double pw_##name(size_t n, const float *z, const float *t,        \
                            float scale, float *delta)                       \
    {                                                                        \
        BEGIN;                                                               \
        double r = R->inner->name(n, z, t, scale, delta);                    \
        END(name, {n}, 1, 0, 0, (delta ? 12 : 8) * D(n));                    \
        return r;                                                            \
    }
#define WRAP_bp_mse_fn(name)                                                \
    static double pw_##name(size_t n, const float *y, const float *t,        \
                            float scale, float *delta)                       \
    {                                                                        \
        BEGIN;                                                               \
        double r = R->inner->name(n, y, t, scale, delta);                    \
        END(name, {n}, 1, 0, 0, (delta ? 12 : 8) * D(n));                    \
        return r;                                                            \
    }
#define WRAP_bp_bias_add_fn(name)                                           \
    static void pw_##name(size_t rows, size_t cols, const float *b,          \
                          float *y, size_t ldy)                              \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, cols, b, y, ldy);                               \
        END(name, {rows, cols}, 2, 0, 0, 8 * D(rows) * D(cols) + 4 * D(cols)); \
    }
#define WRAP_bp_bias_act_fn(name)                                           \
    static void pw_##name(size_t rows, size_t cols, const float *b,          \
                          bp_kact act, float *y, size_t ldy)                 \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, cols, b, act, y, ldy);                          \
        END(name, {rows, cols}, 2, 0, 0,                                     \
            8 * D(rows) * D(cols) + (b ? 4 * D(cols) : 0));                  \
    }
#define WRAP_bp_bias_grad_fn(name)                                          \
    static void pw_##name(size_t rows, size_t cols, const float *dy,         \
                          size_t lddy, float *db)                            \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, cols, dy, lddy, db);                            \
        END(name, {rows, cols}, 2, 0, 0, 4 * D(rows) * D(cols) + 4 * D(cols)); \
    }
#define WRAP_bp_dropout_fwd_fn(name)                                        \
    static void pw_##name(size_t n, uint64_t key, float p, const float *x,   \
                          float *y, float *mask)                             \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(n, key, p, x, y, mask);                               \
        END(name, {n}, 1, 0, 0, 12 * D(n));                                  \
    }
#define WRAP_bp_vmul_fn(name)                                               \
    static void pw_##name(size_t n, const float *a, const float *b,          \
                          float *out)                                        \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(n, a, b, out);                                        \
        END(name, {n}, 1, 0, 0, 12 * D(n));                                  \
    }
#define WRAP_bp_bn_train_fn(name)                                           \
    static void pw_##name(size_t rows, size_t cols, const float *x,          \
                          size_t ldx, const float *gamma, const float *beta, \
                          float eps, float momentum, float *y, size_t ldy,   \
                          float *mean, float *invstd, float *run_mean,       \
                          float *run_var)                                    \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, cols, x, ldx, gamma, beta, eps, momentum, y,    \
                       ldy, mean, invstd, run_mean, run_var);                \
        END(name, {rows, cols}, 2, 0, 0, 8 * D(rows) * D(cols) + 32 * D(cols)); \
    }
#define WRAP_bp_bn_infer_fn(name)                                           \
    static void pw_##name(size_t rows, size_t cols, const float *x,          \
                          size_t ldx, const float *gamma, const float *beta, \
                          const float *run_mean, const float *run_var,       \
                          float eps, float *y, size_t ldy)                   \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, cols, x, ldx, gamma, beta, run_mean, run_var,   \
                       eps, y, ldy);                                         \
        END(name, {rows, cols}, 2, 0, 0, 8 * D(rows) * D(cols) + 16 * D(cols)); \
    }
#define WRAP_bp_bn_bwd_fn(name)                                             \
    static void pw_##name(size_t rows, size_t cols, const float *x,          \
                          size_t ldx, const float *dy, size_t lddy,          \
                          const float *gamma, const float *mean,             \
                          const float *invstd, float *dx, size_t lddx,       \
                          float *dgamma, float *dbeta)                       \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, cols, x, ldx, dy, lddy, gamma, mean, invstd,    \
                       dx, lddx, dgamma, dbeta);                             \
        END(name, {rows, cols}, 2, 0, 0, 12 * D(rows) * D(cols) + 20 * D(cols)); \
    }
#define WRAP_bp_sgd_fn(name)                                                \
    static double pw_##name(size_t n, float *w, const float *g,              \
                            const bp_opt_params *p)                          \
    {                                                                        \
        BEGIN;                                                               \
        double r = R->inner->name(n, w, g, p);                               \
        END(name, {n}, 1, 0, 0, 12 * D(n));                                  \
        return r;                                                            \
    }
#define WRAP_bp_momentum_fn(name)                                           \
    static double pw_##name(size_t n, float *w, const float *g, float *v,    \
                            const bp_opt_params *p)                          \
    {                                                                        \
        BEGIN;                                                               \
        double r = R->inner->name(n, w, g, v, p);                            \
        END(name, {n}, 1, 0, 0, 20 * D(n));                                  \
        return r;                                                            \
    }
#define WRAP_bp_adam_fn(name)                                               \
    static double pw_##name(size_t n, float *w, const float *g, float *m,    \
                            float *v, const bp_opt_params *p)                \
    {                                                                        \
        BEGIN;                                                               \
        double r = R->inner->name(n, w, g, m, v, p);                         \
        END(name, {n}, 1, 0, 0, 28 * D(n));                                  \
        return r;                                                            \
    }
#define WRAP_bp_sumsq_fn(name)                                              \
    static double pw_##name(size_t n, const float *x)                        \
    {                                                                        \
        BEGIN;                                                               \
        double r = R->inner->name(n, x);                                     \
        END(name, {n}, 1, 0, 0, 4 * D(n));                                   \
        return r;                                                            \
    }
#define WRAP_bp_scale_fn(name)                                              \
    static void pw_##name(size_t n, float s, float *x)                       \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(n, s, x);                                             \
        END(name, {n}, 1, 0, 0, 8 * D(n));                                   \
    }
#define WRAP_bp_clip_fn(name)                                               \
    static void pw_##name(size_t n, float cv, float *x)                      \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(n, cv, x);                                            \
        END(name, {n}, 1, 0, 0, 8 * D(n));                                   \
    }
/* max_norm reads the matrix once and, where it scales, reads and writes
 * it again: counted as one read and one write. */
#define WRAP_bp_maxnorm_fn(name)                                            \
    static void pw_##name(size_t rows, size_t cols, float *w, size_t ldw,    \
                          float c)                                           \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, cols, w, ldw, c);                               \
        END(name, {rows, cols}, 2, 0, 0, 8 * D(rows) * D(cols));             \
    }
/* LSTM: the gate block (4h a row) read and written, the cell state read
 * and written, the output written (forward); the backward pass also reads
 * dh and reads and writes dc. */
#define WRAP_bp_lstm_fwd_fn(name)                                           \
    static void pw_##name(size_t rows, size_t h, float *z, size_t ldz,       \
                          const float *c_prev, float *c, size_t ldc,         \
                          float *hout, size_t ldh)                           \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, h, z, ldz, c_prev, c, ldc, hout, ldh);          \
        END(name, {rows, h}, 2, 0, 0, 44 * D(rows) * D(h));                  \
    }
#define WRAP_bp_lstm_bwd_fn(name)                                           \
    static void pw_##name(size_t rows, size_t h, float *gz, size_t ldz,      \
                          const float *c_prev, const float *c, size_t ldc,   \
                          const float *dh, size_t ldh, float *dc,            \
                          size_t lddc)                                       \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(rows, h, gz, ldz, c_prev, c, ldc, dh, ldh, dc, lddc); \
        END(name, {rows, h}, 2, 0, 0, 52 * D(rows) * D(h));                  \
    }

/* Window kernels, shaped as their patch matrix (rows = output pixels,
 * cols = window x channels): im2col writes every patch element and reads
 * the image once; col2im reads the patches and writes the image, read
 * and written again per addition (counted once); pooling reads the image
 * and writes y and arg (forward), reads dy and arg and writes dx
 * (backward). */
#define GEOM_ROWS(g) (D((g)->n) * D((g)->oh) * D((g)->ow))
#define GEOM_IMAGE(g) (D((g)->n) * D((g)->h) * D((g)->w) * D((g)->c))
#define WRAP_bp_im2col_fn(name)                                             \
    static void pw_##name(const bp_conv_geom *g, const float *x, float *col) \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(g, x, col);                                           \
        END(name, {(size_t)GEOM_ROWS(g), g->kh * g->kw * g->c}, 2, 0, 0,     \
            4 * (GEOM_IMAGE(g) + GEOM_ROWS(g) * D(g->kh * g->kw * g->c)));   \
    }
#define WRAP_bp_col2im_fn(name)                                             \
    static void pw_##name(const bp_conv_geom *g, const float *col, float *dx) \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(g, col, dx);                                          \
        END(name, {(size_t)GEOM_ROWS(g), g->kh * g->kw * g->c}, 2, 0, 0,     \
            4 * (GEOM_IMAGE(g) + GEOM_ROWS(g) * D(g->kh * g->kw * g->c)));   \
    }
#define WRAP_bp_pool_fwd_fn(name)                                           \
    static void pw_##name(const bp_conv_geom *g, const float *x, float *y,   \
                          float *arg)                                        \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(g, x, y, arg);                                        \
        END(name, {(size_t)GEOM_ROWS(g), g->c}, 2, 0, 0,                     \
            4 * (GEOM_IMAGE(g) + 2 * GEOM_ROWS(g) * D(g->c)));               \
    }
#define WRAP_bp_pool_bwd_fn(name)                                           \
    static void pw_##name(const bp_conv_geom *g, const float *dy,            \
                          const float *arg, float *dx)                       \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(g, dy, arg, dx);                                      \
        END(name, {(size_t)GEOM_ROWS(g), g->c}, 2, 0, 0,                     \
            4 * (GEOM_IMAGE(g) + 2 * GEOM_ROWS(g) * D(g->c)));               \
    }

/* Average pooling: one addition per in-image window pixel of each output
 * and one multiplication per output, forward and backward (kernels.h
 * bp_avgpool_fwd_fn); the forward pass reads the image and writes y, the
 * backward pass reads dy and writes dx. window_pixels: the window pixels
 * inside the image along one axis (n pixels, window k), summed over its o
 * output positions (the 2-D count is the product of the two axes'). */
static double window_pixels(const bp_conv_geom *g, size_t o, size_t k,
                            size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < o; i++) {
        size_t p = i * g->stride; /* the window's start, padded */
        size_t lo = p < g->pad ? g->pad : p;
        size_t hi = p + k < g->pad + n ? p + k : g->pad + n;
        sum += hi > lo ? D(hi - lo) : 0;
    }
    return sum;
}
#define AVGPOOL_FLOPS(g)                                                     \
    (D((g)->n) * D((g)->c) *                                                 \
     (window_pixels(g, (g)->oh, (g)->kh, (g)->h) *                           \
          window_pixels(g, (g)->ow, (g)->kw, (g)->w) +                       \
      D((g)->oh) * D((g)->ow)))
#define WRAP_bp_avgpool_fwd_fn(name)                                        \
    static void pw_##name(const bp_conv_geom *g, const float *x, float *y)   \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(g, x, y);                                             \
        END(name, {(size_t)GEOM_ROWS(g), g->c}, 2, 0, AVGPOOL_FLOPS(g),      \
            4 * (GEOM_IMAGE(g) + GEOM_ROWS(g) * D(g->c)));                   \
    }
#define WRAP_bp_avgpool_bwd_fn(name)                                        \
    static void pw_##name(const bp_conv_geom *g, const float *dy, float *dx) \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(g, dy, dx);                                           \
        END(name, {(size_t)GEOM_ROWS(g), g->c}, 2, 0, AVGPOOL_FLOPS(g),      \
            4 * (GEOM_IMAGE(g) + GEOM_ROWS(g) * D(g->c)));                   \
    }

/* The direct convolution: 2 flops a multiply-add of the window, padding
 * taps included (as for im2col's zeros and oneDNN's counts); it reads x
 * and w and writes y (wgrad: reads x, dy and y with an activation, writes
 * gw). */
#define DCONV_FLOPS(g, co)                                                   \
    (2 * GEOM_ROWS(g) * D(co) * D((g)->kh * (g)->kw * (g)->c))
#define WRAP_bp_conv_direct_fn(name)                                        \
    static void pw_##name(const bp_conv_geom *g, size_t co, const float *x,  \
                          const float *w, const float *b, bp_kact act,       \
                          float *y)                                          \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(g, co, x, w, b, act, y);                              \
        END(name, {(size_t)GEOM_ROWS(g), co, g->kh * g->kw * g->c}, 3, 0,    \
            DCONV_FLOPS(g, co),                                              \
            4 * (GEOM_IMAGE(g) + D(g->kh * g->kw * g->c) * D(co) +           \
                 GEOM_ROWS(g) * D(co)));                                     \
    }
#define WRAP_bp_conv_wgrad_fn(name)                                         \
    static void pw_##name(const bp_conv_geom *g, size_t co, const float *x,  \
                          const float *dy, const float *y, bp_kact act,      \
                          bool acc, float *gw, float *gb)                    \
    {                                                                        \
        BEGIN;                                                               \
        R->inner->name(g, co, x, dy, y, act, acc, gw, gb);                   \
        END(name, {g->kh * g->kw * g->c, co, (size_t)GEOM_ROWS(g)}, 3, 0,    \
            DCONV_FLOPS(g, co),                                              \
            4 * (GEOM_IMAGE(g) + D(g->kh * g->kw * g->c) * D(co) +           \
                 (act ? 2 : 1) * GEOM_ROWS(g) * D(co)));                     \
    }

#define X(name, type, sig, tol, fac) WRAP_##type(name)
BP_KERNELS(X)
#undef X

static void fill_table(bp_kernels *t, const bp_kernels *inner)
{
    *t = *inner; /* isa, its name and impl[] */
#define X(name, type, sig, tol, fac) t->name = pw_##name;
    BP_KERNELS(X)
#undef X
}

/* ---------------------------------------------------------------------- */
/* Hardware counters                                                       */

#ifdef BP_HAVE_PERF
typedef struct hw_event {
    uint32_t type;
    uint64_t config;
    const char *name;
} hw_event;

#define CACHE_MISS(c) \
    ((c) | PERF_COUNT_HW_CACHE_OP_READ << 8 | PERF_COUNT_HW_CACHE_RESULT_MISS << 16)

static const hw_event hw_events[MAX_COUNTERS] = {
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles"},
    {PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, "instructions"},
    {PERF_TYPE_HW_CACHE, CACHE_MISS(PERF_COUNT_HW_CACHE_L1D), "L1d misses"},
    {PERF_TYPE_HW_CACHE, CACHE_MISS(PERF_COUNT_HW_CACHE_LL), "LLC misses"},
};

/* BPLAB_PROF_EVENTS=software: the kernel's software events instead, which
 * every Linux counts (for testing the counter path where the PMU is
 * hidden; their per-kernel values mean little). */
static const hw_event sw_events[MAX_COUNTERS] = {
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, "task-clock ns"},
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, "page faults"},
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, "context switches"},
    {PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, "migrations"},
};

static int perf_open(const hw_event *e, int group)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = e->type;
    a.config = e->config;
    a.read_format = PERF_FORMAT_GROUP;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, group, 0);
}

static int paranoid(void)
{
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    int v = -99;
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = -99;
        fclose(f);
    }
    return v;
}
#endif

/* Open the counters (want) or only see whether they would open (!want):
 * p->nctr counters are read when want; ctr_note says what happened. */
static void open_counters(bp_prof *p, bool want)
{
    p->nctr = 0;
#ifdef BP_HAVE_PERF
    const char *env = getenv("BPLAB_PROF_EVENTS");
    const hw_event *ev = env && strcmp(env, "software") == 0 ? sw_events
                                                             : hw_events;
    int fd[MAX_COUNTERS], n = 0, err0 = 0;
    char missing[96] = "";
    for (int i = 0; i < MAX_COUNTERS; i++) {
        int f = perf_open(&ev[i], n ? fd[0] : -1);
        if (f >= 0) {
            fd[n] = f;
            p->ctr_name[n++] = ev[i].name;
        } else {
            if (i == 0)
                err0 = errno;
            size_t l = strlen(missing);
            snprintf(missing + l, sizeof missing - l, "%s%s", l ? ", " : "",
                     ev[i].name);
        }
    }
    if (n == 0) {
        int pv = paranoid();
        snprintf(p->ctr_note, sizeof p->ctr_note,
                 "hardware counters: unavailable here (perf_event_open: %s; "
                 "perf_event_paranoid %d%s)",
                 strerror(err0), pv,
                 err0 == ENOENT || err0 == EOPNOTSUPP
                     ? ": no PMU, as in many virtual machines" : "");
        return;
    }
    if (!want) {
        for (int i = 0; i < n; i++)
            close(fd[i]);
        snprintf(p->ctr_note, sizeof p->ctr_note,
                 "hardware counters: available (--counters reads them per "
                 "kernel call, at the cost of two system calls a call)");
        return;
    }
    for (int i = 0; i < n; i++)
        p->fd[i] = fd[i];
    p->nctr = n;
    if (*missing)
        snprintf(p->ctr_note, sizeof p->ctr_note,
                 "hardware counters: read on thread 0 (not available: %s)",
                 missing);
    else
        snprintf(p->ctr_note, sizeof p->ctr_note,
                 "hardware counters: read on thread 0");
#else
    (void)want;
    snprintf(p->ctr_note, sizeof p->ctr_note,
             "hardware counters: unavailable (not Linux)");
#endif
}

/* ---------------------------------------------------------------------- */
/* Calibration                                                             */

static double seconds_since(uint64_t t0)
{
    return (double)(now_ns() - t0) * 1e-9;
}

/* One thread's FMA throughput on the best table (GFLOP/s): the loop run
 * for about 5 ms, the best of three. */
static double fma_peak(bp_isa isa)
{
    bp_fma_loop_fn *loop = bp_isa_fma_loop(isa);
    if (!loop)
        return 0;
    long iters = 256;
    while (iters < (1L << 30)) {
        uint64_t t0 = now_ns();
        loop(iters);
        if (seconds_since(t0) > 2e-3)
            break;
        iters *= 2;
    }
    double best = 0;
    for (int r = 0; r < 3; r++) {
        uint64_t t0 = now_ns();
        double f = loop(iters);
        double s = seconds_since(t0);
        if (s > 0 && f / s > best)
            best = f / s;
    }
    return best * 1e-9;
}

/* One thread's memcpy bandwidth (bytes read plus written, GB/s) over
 * working sets of 16 KiB to 64 MiB: the best of three runs of >= 2 ms. */
static bool copy_bandwidth(bp_prof *p)
{
    static const size_t sizes[4] = {8 << 10, 128 << 10, 2 << 20, 32 << 20};
    char *a = bp_alloc(sizes[3]), *b = bp_alloc(sizes[3]);
    for (int i = 0; i < 4; i++) {
        p->bw_bytes[i] = 2 * sizes[i];
        p->bw[i] = 0;
    }
    if (!a || !b) {
        bp_free(a);
        bp_free(b);
        return false;
    }
    memset(a, 1, sizes[3]);
    memset(b, 0, sizes[3]);
    for (int i = 0; i < 4; i++) {
        size_t n = sizes[i], reps = 1;
        while (1) {
            uint64_t t0 = now_ns();
            for (size_t r = 0; r < reps; r++) {
                memcpy(b, a, n);
                __asm__ volatile("" ::"r"(b) : "memory");
            }
            if (seconds_since(t0) > 2e-3 || reps > (1u << 24))
                break;
            reps *= 2;
        }
        for (int r = 0; r < 3; r++) {
            uint64_t t0 = now_ns();
            for (size_t k = 0; k < reps; k++) {
                memcpy(b, a, n);
                __asm__ volatile("" ::"r"(b) : "memory");
            }
            double s = seconds_since(t0);
            double gbs = s > 0 ? 2.0 * (double)n * (double)reps / s * 1e-9 : 0;
            if (gbs > p->bw[i])
                p->bw[i] = gbs;
        }
    }
    bp_free(a);
    bp_free(b);
    return true;
}

/* What timing and recording one call costs (ns): a wrapped zero-length
 * call against the bare one, the best of five rounds. */
static void call_cost(bp_prof *p)
{
    enum { CALLS = 2048 };
    float x = 1.0f;
    int sc = p->scope;
    p->scope = SC_CALIB;
    double best = INFINITY;
    for (int r = 0; r < 5; r++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < CALLS; i++) {
            p->table.scale(0, 1.0f, &x);
            __asm__ volatile("" ::: "memory");
        }
        uint64_t t1 = now_ns();
        for (int i = 0; i < CALLS; i++) {
            p->inner->scale(0, 1.0f, &x);
            __asm__ volatile("" ::: "memory");
        }
        uint64_t t2 = now_ns();
        double c = ((double)(t1 - t0) - (double)(t2 - t1)) / CALLS;
        if (c < best)
            best = c;
    }
    p->call_ns = best > 0 ? best : 0;
    p->scope = sc;
}

/* ---------------------------------------------------------------------- */
/* Life                                                                    */

bp_status bp_prof_create(const bp_kernels *inner, const bp_prof_opts *o,
                         bp_prof **out, bp_err *err)
{
    *out = NULL;
    if (R)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "a profiler is already recording in this process");
    if (o->threads < 1 || o->layers > BP_MAX_LAYERS)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "profiler of %d threads and %zu layers", o->threads,
                       o->layers);
    bp_prof *p = bp_alloc_zero(sizeof *p);
    if (!p)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the profiler");
    p->inner = inner;
    p->threads = o->threads;
    p->layers = o->layers;
    p->scope = SC_OTHER;
    p->layer = -1;
    fill_table(&p->table, inner);
    size_t ncells = (size_t)NSCOPE * (p->layers + 1) * BP_PASS_COUNT *
                    BP_NUM_KERNELS;
    p->thr = bp_alloc_zero((size_t)p->threads * sizeof *p->thr);
    bool ok = p->thr != NULL;
    for (int t = 0; ok && t < p->threads; t++) {
        thr *T = bp_alloc_zero(sizeof *T);
        if (!T || !(T->cells = bp_alloc_zero(ncells * sizeof *T->cells))) {
            bp_free(T);
            ok = false;
            break;
        }
        for (int s = 0; s < NSCOPE; s++)
            for (int k = 0; k < BP_NUM_KERNELS; k++)
                T->k[s][k].min_ns = UINT64_MAX;
        p->thr[t] = T;
    }
    p->trace_steps = o->trace_steps;
    if (ok && p->trace_steps) {
        p->cap = 1 << 14;
        p->capsp = 256;
        p->ev = bp_alloc(p->cap * sizeof *p->ev);
        p->sp = bp_alloc(p->capsp * sizeof *p->sp);
        ok = p->ev && p->sp;
    }
    if (!ok || !copy_bandwidth(p)) {
        bp_prof_destroy(p);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the profiler");
    }
    R = p;
    p->peak_isa = bp_isa_best();
    p->peak_gflops = fma_peak(p->peak_isa);
    p->own_gflops = inner->isa == p->peak_isa ? p->peak_gflops
                                              : fma_peak(inner->isa);
    open_counters(p, o->counters);
    call_cost(p);
    p->t_start = now_ns();
    p->tracing = p->trace_steps > 0;
    *out = p;
    return BP_OK;
}

void bp_prof_destroy(bp_prof *p)
{
    if (!p)
        return;
    if (R == p)
        R = NULL;
    for (int i = 0; i < p->nctr; i++)
        close(p->fd[i]);
    for (int t = 0; p->thr && t < p->threads; t++) {
        if (p->thr[t])
            bp_free(p->thr[t]->cells);
        bp_free(p->thr[t]);
    }
    bp_free(p->thr);
    bp_free(p->ev);
    bp_free(p->sp);
    bp_free(p);
}

const bp_kernels *bp_prof_table(const bp_prof *p)
{
    return &p->table;
}

bp_status bp_ctx_profile(bp_ctx *c, const bp_prof_opts *o, bp_err *err)
{
    bp_prof_opts po = *o;
    po.threads = c->threads;
    bp_prof *p;
    bp_status s = bp_prof_create(c->k, &po, &p, err);
    if (s != BP_OK)
        return s;
    c->k = bp_prof_table(p);
    c->prof = p;
    return BP_OK;
}

/* ---------------------------------------------------------------------- */
/* Marks                                                                   */

void bp_prof_mark(bp_prof *p, long layer, bp_pass pass)
{
    p->layer = layer >= -1 && layer < (long)p->layers ? layer : -1;
    p->pass = pass;
}

/* Room for the coming span's events: twice the largest span so far (the
 * buffer grows between steps, never during one). */
static void reserve_events(bp_prof *p)
{
    size_t n = atomic_load(&p->nev);
    p->span_first = n;
    size_t want = n + 2 * (p->span_max > 4096 ? p->span_max : 4096);
    if (want <= p->cap || p->cap >= MAX_EVENTS)
        return;
    size_t cap = p->cap;
    while (cap < want && cap < MAX_EVENTS)
        cap *= 2;
    event *e = bp_alloc(cap * sizeof *e);
    if (!e)
        return; /* the calls that do not fit are counted as dropped */
    memcpy(e, p->ev, (n < p->cap ? n : p->cap) * sizeof *e);
    bp_free(p->ev);
    p->ev = e;
    p->cap = cap;
}

static void end_events(bp_prof *p)
{
    size_t n = atomic_load(&p->nev) - p->span_first;
    if (n > p->span_max)
        p->span_max = n;
}

static void push_span(bp_prof *p, int kind, unsigned long long n,
                      uint64_t t0, uint64_t t1)
{
    if (p->nsp == p->capsp) {
        span *s = bp_alloc(2 * p->capsp * sizeof *s);
        if (!s) {
            p->sp_dropped++;
            return;
        }
        memcpy(s, p->sp, p->nsp * sizeof *s);
        bp_free(p->sp);
        p->sp = s;
        p->capsp *= 2;
    }
    p->sp[p->nsp++] = (span){.t0 = t0 - p->t_start, .dur = t1 - t0, .n = n,
                             .kind = kind};
}

void bp_prof_step(bp_prof *p, bool begin)
{
    if (begin) {
        if (p->tracing)
            reserve_events(p);
        p->scope = SC_STEP;
        p->in_step = true;
        p->step_t0 = now_ns();
        return;
    }
    if (!p->in_step)
        return;
    uint64_t t1 = now_ns();
    p->step_ns += t1 - p->step_t0;
    p->nsteps++;
    p->scope = SC_OTHER;
    p->layer = -1;
    p->in_step = false;
    if (p->tracing) {
        end_events(p);
        push_span(p, SPAN_STEP, p->nsteps, p->step_t0, t1);
        if (p->nsteps >= p->trace_steps) {
            p->tracing = false;
            p->trace_end = t1;
        }
    }
}

void bp_prof_gather(bp_prof *p, bool begin)
{
    uint64_t t = now_ns();
    if (begin)
        p->gather_t0 = t;
    else
        p->gather_ns += t - p->gather_t0;
}

void bp_prof_epoch(bp_prof *p, bool begin, unsigned long long epoch)
{
    uint64_t t = now_ns();
    if (begin) {
        p->epoch = epoch;
        p->epoch_t0 = t;
        p->epoch_traced = p->tracing;
        return;
    }
    if (epoch != p->epoch)
        return;
    if (p->epoch_traced)
        push_span(p, SPAN_EPOCH, p->epoch, p->epoch_t0,
                  p->tracing ? t : p->trace_end);
    p->epoch_traced = false;
}

void bp_prof_eval(bp_prof *p, bool begin)
{
    if (begin) {
        if (p->tracing)
            reserve_events(p);
        p->scope = SC_EVAL;
        p->eval_t0 = now_ns();
        return;
    }
    uint64_t t1 = now_ns();
    p->eval_ns += t1 - p->eval_t0;
    p->nevals++;
    p->scope = SC_OTHER;
    p->layer = -1;
    if (p->tracing) {
        end_events(p);
        push_span(p, SPAN_EVAL, p->nevals, p->eval_t0, t1);
    }
}

/* ---------------------------------------------------------------------- */
/* Sums                                                                    */

typedef struct agg {
    uint64_t calls;
    double ns, flops, bytes; /* ns: the busiest thread's */
    int nthr;                /* threads that made calls */
} agg;

/* The calls of scope sc to kernel k in layer `layer` (-1: none) and pass
 * `pass`; ANY for any kernel, layer or pass. */
#define ANY (-2)
#define FMA_WORK (-3) /* the kernels fma_bound says */

/* Kernels whose work is multiply-adds, judged against the FMA peak. */
static bool fma_bound(int k)
{
    return k == BP_K_gemm || k == BP_K_conv_direct ||
           k == BP_K_conv_direct_wgrad;
}

static agg sum_cells(const bp_prof *p, int sc, long layer, int pass, int k)
{
    long l0 = layer == ANY ? -1 : layer;
    long l1 = layer == ANY ? (long)p->layers : layer + 1;
    int p0 = pass == ANY ? 0 : pass, p1 = pass == ANY ? BP_PASS_COUNT : pass + 1;
    bool all = k == ANY || k == FMA_WORK;
    int k0 = all ? 0 : k, k1 = all ? BP_NUM_KERNELS : k + 1;
    agg a = {0};
    for (int t = 0; t < p->threads; t++) {
        double ns = 0;
        uint64_t calls = a.calls;
        for (long l = l0; l < l1; l++)
            for (int ps = p0; ps < p1; ps++)
                for (int kk = k0; kk < k1; kk++) {
                    if (k == FMA_WORK && !fma_bound(kk))
                        continue;
                    const cell *c =
                        &p->thr[t]->cells[cell_index(p, sc, l, ps, kk)];
                    a.calls += c->calls;
                    ns += (double)c->ns;
                    a.flops += c->flops;
                    a.bytes += c->bytes;
                }
        if (ns > a.ns)
            a.ns = ns;
        a.nthr += a.calls > calls;
    }
    return a;
}

void bp_prof_get_totals(const bp_prof *p, bp_prof_totals *t)
{
    memset(t, 0, sizeof *t);
    for (int sc = 0; sc < SC_CALIB; sc++)
        t->calls += sum_cells(p, sc, ANY, ANY, ANY).calls;
    size_t n = atomic_load(&p->nev);
    t->events = n < p->cap ? n : p->cap;
    t->dropped = n - t->events;
    t->steps = p->nsteps;
    t->step_ns = (double)p->step_ns;
    t->kernel_ns = sum_cells(p, SC_STEP, ANY, ANY, ANY).ns;
}

/* ---------------------------------------------------------------------- */
/* The report                                                              */

static const char *const pass_names[BP_PASS_COUNT] = {"forward", "loss",
                                                      "backward", "update"};

/* The copy bandwidth at a working set of `bytes` (bytes read plus
 * written by one call): interpolated in log-log between the calibrated
 * sizes, flat beyond them. */
static double bw_at(const bp_prof *p, double bytes)
{
    if (bytes <= (double)p->bw_bytes[0])
        return p->bw[0];
    for (int i = 1; i < 4; i++)
        if (bytes <= (double)p->bw_bytes[i]) {
            if (p->bw[i - 1] <= 0 || p->bw[i] <= 0)
                return 0;
            double f = log(bytes / (double)p->bw_bytes[i - 1]) /
                       log((double)p->bw_bytes[i] / (double)p->bw_bytes[i - 1]);
            return p->bw[i - 1] * pow(p->bw[i] / p->bw[i - 1], f);
        }
    return p->bw[3];
}

static void size_text(size_t bytes, char *buf, size_t size)
{
    if (bytes >= (1u << 20))
        snprintf(buf, size, "%zu MiB", bytes >> 20);
    else
        snprintf(buf, size, "%zu KiB", bytes >> 10);
}

/* "98.1 GFLOP/s" and "40% FMA peak", or GB/s against the copy bandwidth
 * at the call's working set. A GEMM may fork every thread of the
 * context; element-wise kernels run on the threads that called them. */
static void rate_text(const bp_prof *p, const agg *a, bool fma, char *rate,
                      size_t rsize, char *bound, size_t bsize)
{
    *rate = *bound = '\0';
    if (a->ns <= 0 || a->calls == 0)
        return;
    if (fma) {
        double g = a->flops / a->ns;
        double peak = p->peak_gflops * p->threads;
        snprintf(rate, rsize, "%.1f GFLOP/s", g);
        if (peak > 0)
            snprintf(bound, bsize, "%3.0f%% FMA peak", 100 * g / peak);
    } else if (a->bytes > 0) {
        double g = a->bytes / a->ns;
        double bw = bw_at(p, a->bytes / (double)a->calls) *
                    (a->nthr > 1 ? a->nthr : 1);
        snprintf(rate, rsize, "%.1f GB/s", g);
        if (bw > 0)
            snprintf(bound, bsize, "%3.0f%% copy", 100 * g / bw);
    }
}

static void layer_text(const struct bp_net *net, long l, int pass, char *buf,
                       size_t size)
{
    if (net && l >= 0 && (size_t)l < net->nlayers)
        bp_net_layer_name(net, (size_t)l, buf, size);
    else if (pass == BP_PASS_LOSS)
        snprintf(buf, size, "loss");
    else if (pass == BP_PASS_UPDATE)
        snprintf(buf, size, "all layers at once");
    else
        snprintf(buf, size, "no layer");
}

static void report_scope(const bp_prof *p, const struct bp_net *net, int sc,
                         double scope_ns, unsigned long long spans,
                         const char *title, const char *per,
                         const char *pers, FILE *out)
{
    agg all = sum_cells(p, sc, ANY, ANY, ANY);
    if (all.calls == 0)
        return;
    double base = scope_ns > 0 ? scope_ns : all.ns;
    fprintf(out, "\n%s: %llu %s, %.1f ms", title, spans,
            spans == 1 ? per : pers, base * 1e-6);
    if (spans)
        fprintf(out, " (%.3f ms each)", base * 1e-6 / (double)spans);
    fprintf(out, "; kernels %.1f ms (%.1f%%)\n", all.ns * 1e-6,
            base > 0 ? 100 * all.ns / base : 0);
    /* the whole scope's multiply-adds (GEMMs, direct convolutions) over
     * its wall time: the rate a step achieves, against the threads' FMA
     * peak */
    agg fma = sum_cells(p, sc, ANY, ANY, FMA_WORK);
    double peak = p->peak_gflops * p->threads;
    if (fma.flops > 0 && base > 0 && spans)
        fprintf(out, "         %.3f GFLOP of multiply-adds a %s: %.1f GFLOP/s "
                     "over the whole %s, %.0f%% of the FMA peak (x %d "
                     "thread%s)\n",
                fma.flops * 1e-9 / (double)spans, per, fma.flops / base, per,
                peak > 0 ? 100 * fma.flops / base / peak : 0, p->threads,
                p->threads == 1 ? "" : "s");
    /* per kernel, the most time first */
    int order[BP_NUM_KERNELS], n = 0;
    agg ka[BP_NUM_KERNELS];
    for (int k = 0; k < BP_NUM_KERNELS; k++) {
        ka[k] = sum_cells(p, sc, ANY, ANY, k);
        if (ka[k].calls)
            order[n++] = k;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && ka[order[j]].ns > ka[order[j - 1]].ns; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    fprintf(out, "  %-16s %-7s %9s %10s %6s %9s %9s %14s  %s\n", "kernel",
            "code", "calls", "total ms", "share", "median us", "min us",
            "achieved", "of its bound");
    for (int i = 0; i < n; i++) {
        int k = order[i];
        uint64_t hist[NBINS] = {0}, mn = UINT64_MAX;
        for (int t = 0; t < p->threads; t++) {
            const kstat *ks = &p->thr[t]->k[sc][k];
            for (int b = 0; b < NBINS; b++)
                hist[b] += ks->hist[b];
            if (ks->min_ns < mn)
                mn = ks->min_ns;
        }
        uint64_t half = (ka[k].calls + 1) / 2, cum = 0;
        int mb = 0;
        for (; mb < NBINS; mb++)
            if ((cum += hist[mb]) >= half)
                break;
        char rate[32], bound[48];
        rate_text(p, &ka[k], fma_bound(k), rate, sizeof rate, bound,
                  sizeof bound);
        fprintf(out, "  %-16s %-7s %9llu %10.2f %5.1f%% %9.2f %9.2f %14s  %s\n",
                bp_kernel_desc_of((bp_kernel_id)k)->name,
                bp_isa_name(p->inner->impl[k]),
                (unsigned long long)ka[k].calls, ka[k].ns * 1e-6,
                base > 0 ? 100 * ka[k].ns / base : 0, bin_mid(mb) * 1e-3,
                (double)mn * 1e-3, rate, bound);
    }
    double gather = sc == SC_STEP ? (double)p->gather_ns : 0;
    if (gather > 0)
        fprintf(out, "  %-16s %-7s %9llu %10.2f %5.1f%%\n", "(batch gather)",
                "", spans, gather * 1e-6, 100 * gather / scope_ns);
    if (scope_ns > 0)
        fprintf(out, "  %-16s %-7s %9s %10.2f %5.1f%%\n", "(the rest)", "",
                "", (scope_ns - all.ns - gather) * 1e-6,
                100 * (scope_ns - all.ns - gather) / scope_ns);
    /* hardware counts (thread 0's calls) */
    if (p->nctr) {
        fprintf(out, "  hardware counts per call (thread 0):\n  %-16s", "kernel");
        for (int c = 0; c < p->nctr; c++)
            fprintf(out, " %16s", p->ctr_name[c]);
        fprintf(out, "\n");
        for (int i = 0; i < n; i++) {
            int k = order[i];
            const kstat *ks = &p->thr[0]->k[sc][k];
            uint64_t calls0 = 0;
            for (long l = -1; l < (long)p->layers; l++)
                for (int ps = 0; ps < BP_PASS_COUNT; ps++)
                    calls0 += p->thr[0]->cells[cell_index(p, sc, l, ps, k)].calls;
            fprintf(out, "  %-16s", bp_kernel_desc_of((bp_kernel_id)k)->name);
            for (int c = 0; c < p->nctr; c++)
                fprintf(out, " %16.1f",
                        calls0 ? (double)ks->ctr[c] / (double)calls0 : 0.0);
            fprintf(out, "\n");
        }
    }
    /* per layer and pass, in the order a step runs them */
    fprintf(out, "  %-34s %-8s %9s %10s %6s %14s  %s\n", "layer", "pass",
            "calls", "total ms", "share", "achieved", "most time in");
    long L = (long)p->layers;
    for (int ps = 0; ps < BP_PASS_COUNT; ps++) {
        bool down = ps == BP_PASS_BACKWARD || ps == BP_PASS_UPDATE;
        for (long i = 0; i <= L; i++) {
            /* forward: layers in order, then "no layer"; backward and
             * update: last layer first, then "no layer" */
            long l = i == L ? -1 : down ? L - 1 - i : i;
            agg a = sum_cells(p, sc, l, ps, ANY);
            if (!a.calls)
                continue;
            int top = 0;
            double topns = -1;
            for (int k = 0; k < BP_NUM_KERNELS; k++) {
                agg b = sum_cells(p, sc, l, ps, k);
                if (b.calls && b.ns > topns)
                    topns = b.ns, top = k;
            }
            agg g = sum_cells(p, sc, l, ps, FMA_WORK);
            char name[96], rate[32], bound[48], topt[64];
            layer_text(net, l, ps, name, sizeof name);
            rate_text(p, g.calls ? &g : &a, g.calls > 0, rate, sizeof rate,
                      bound, sizeof bound);
            snprintf(topt, sizeof topt, "%s %.0f%%",
                     bp_kernel_desc_of((bp_kernel_id)top)->name,
                     a.ns > 0 ? 100 * topns / a.ns : 0);
            fprintf(out, "  %-34s %-8s %9llu %10.2f %5.1f%% %14s  %s\n", name,
                    pass_names[ps], (unsigned long long)a.calls, a.ns * 1e-6,
                    base > 0 ? 100 * a.ns / base : 0, rate, topt);
        }
    }
}

void bp_prof_report(const bp_prof *p, const struct bp_net *net, FILE *out)
{
    char sz[4][32];
    for (int i = 0; i < 4; i++)
        size_text(p->bw_bytes[i] / 2, sz[i], sizeof sz[i]);
    fprintf(out, "\nprofile  %s table, %d thread%s\n", p->inner->isa_name,
            p->threads, p->threads == 1 ? "" : "s");
    fprintf(out, "bounds   FMA peak %.1f GFLOP/s a thread (the %s loop, "
                 "measured at start; GEMM's bound: x %d thread%s)\n",
            p->peak_gflops, bp_isa_name(p->peak_isa), p->threads,
            p->threads == 1 ? "" : "s");
    if (p->inner->isa != p->peak_isa)
        fprintf(out, "         (the %s table's own loop: %.1f GFLOP/s a "
                     "thread, %.0f%% of that)\n",
                p->inner->isa_name, p->own_gflops,
                p->peak_gflops > 0 ? 100 * p->own_gflops / p->peak_gflops : 0);
    fprintf(out, "         copy bandwidth of one thread (read + write) at "
                 "%s %.0f, %s %.0f, %s %.0f, %s %.0f GB/s\n",
            sz[0], p->bw[0], sz[1], p->bw[1], sz[2], p->bw[2], sz[3],
            p->bw[3]);
    bp_prof_totals t;
    bp_prof_get_totals(p, &t);
    double per_step = t.steps ? (double)t.step_ns / (double)t.steps : 0;
    double calls_step =
        t.steps ? (double)sum_cells(p, SC_STEP, ANY, ANY, ANY).calls /
                      (double)t.steps : 0;
    fprintf(out, "cost     timing a kernel call costs %.0f ns", p->call_ns);
    if (t.steps && per_step > 0)
        fprintf(out, "; %.0f calls a step: %.2f%% of a step's %.3f ms",
                calls_step, 100 * p->call_ns * calls_step / per_step,
                per_step * 1e-6);
    fprintf(out, "\n%s\n", p->ctr_note);
    report_scope(p, net, SC_STEP, (double)p->step_ns, p->nsteps,
                 "training steps", "step", "steps", out);
    report_scope(p, net, SC_EVAL, (double)p->eval_ns, p->nevals,
                 "evaluation passes", "pass", "passes", out);
    report_scope(p, net, SC_OTHER, 0, 0, "outside steps and evaluations",
                 "span", "spans", out);
    if (p->trace_steps) {
        fprintf(out, "\ntrace    %llu events", t.events);
        if (p->nsteps)
            fprintf(out, " of the first %llu steps",
                    (unsigned long long)(p->nsteps < p->trace_steps
                                             ? p->nsteps : p->trace_steps));
        if (t.dropped)
            fprintf(out, " (%llu more dropped: the buffer holds %zu)",
                    t.dropped, MAX_EVENTS);
        if (p->sp_dropped)
            fprintf(out, " (%zu step, epoch or evaluation spans dropped: "
                         "out of memory)", p->sp_dropped);
        fprintf(out, "\n");
    }
}

/* ---------------------------------------------------------------------- */
/* The trace                                                               */

static void shape_text(int k, const shape *s, char *buf, size_t size)
{
    size_t at = 0;
    if (k == BP_K_gemm)
        at = (size_t)snprintf(buf, size, "%c%c ", s->tag & 1 ? 'T' : 'N',
                              s->tag & 2 ? 'T' : 'N');
    for (int i = 0; i < s->nd && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%llu", i ? "x" : "",
                               (unsigned long long)s->d[i]);
    if (k == BP_K_gemm && (s->tag & 4) && at < size)
        snprintf(buf + at, size - at, " +epilogue");
}

static void json_us(FILE *f, const char *key, uint64_t ns)
{
    fprintf(f, "\"%s\":%llu.%03u", key, (unsigned long long)(ns / 1000),
            (unsigned)(ns % 1000));
}

bp_status bp_prof_write_trace(const bp_prof *p, const struct bp_net *net,
                              const char *path, bp_err *err)
{
    if (!p->trace_steps)
        return bp_fail(err, BP_ERR_INVALID_ARG, "no trace was recorded");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the trace");
    bp_prof_totals tot;
    bp_prof_get_totals(p, &tot);
    size_t n = (size_t)tot.events;
    /* otherData: the trace's own counts, so a reader can tell a complete
     * trace (events == calls, nothing dropped) from a window */
    fprintf(f, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"isa\":\"%s\","
               "\"threads\":%d,\"trace_steps\":%zu,\"steps\":%llu,"
               "\"events\":%zu,\"dropped\":%llu,\"calls\":%llu,"
               "\"fma_peak_gflops\":%.1f},\n\"traceEvents\":[\n",
            p->inner->isa_name, p->threads, p->trace_steps, tot.steps, n,
            tot.dropped, tot.calls, p->peak_gflops);
    fprintf(f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
               "\"args\":{\"name\":\"bplab\"}}");
    for (int t = 0; t < p->threads; t++)
        fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,"
                   "\"tid\":%d,\"args\":{\"name\":\"thread %d\"}}", t, t);
    static const char *const span_names[] = {"step", "epoch", "evaluation"};
    for (size_t i = 0; i < p->nsp; i++) {
        const span *s = &p->sp[i];
        fprintf(f, ",\n{\"name\":\"%s %llu\",\"cat\":\"%s\",\"ph\":\"X\",",
                span_names[s->kind], s->n, span_names[s->kind]);
        json_us(f, "ts", s->t0);
        fputc(',', f);
        json_us(f, "dur", s->dur);
        fprintf(f, ",\"pid\":1,\"tid\":0}");
    }
    char lname[BP_MAX_LAYERS + 1][96]; /* layer l's name at l + 1 */
    for (long l = 0; l < (long)p->layers; l++)
        layer_text(net, l, BP_PASS_FORWARD, lname[l + 1], sizeof lname[0]);
    for (size_t i = 0; i < n; i++) {
        const event *e = &p->ev[i];
        char sh[96];
        shape_text(e->kernel, &e->s, sh, sizeof sh);
        char none[32];
        if (e->layer < 0)
            layer_text(net, -1, e->pass, none, sizeof none);
        const char *ln = e->layer < 0 ? none : lname[e->layer + 1];
        fprintf(f, ",\n{\"name\":\"%s\",\"cat\":\"kernel\",\"ph\":\"X\",",
                bp_kernel_desc_of((bp_kernel_id)e->kernel)->name);
        json_us(f, "ts", e->t0);
        fputc(',', f);
        json_us(f, "dur", e->dur);
        fprintf(f, ",\"pid\":1,\"tid\":%u,\"args\":{\"shape\":\"%s\","
                   "\"layer\":\"%s\",\"pass\":\"%s\",\"scope\":\"%s\","
                   "\"code\":\"%s\",\"flops\":%.0f,\"bytes\":%.0f}}",
                (unsigned)e->tid, sh, ln, pass_names[e->pass],
                e->scope == SC_STEP ? "step"
                : e->scope == SC_EVAL ? "evaluation" : "other",
                bp_isa_name(p->inner->impl[e->kernel]), e->s.flops,
                e->s.bytes);
    }
    fprintf(f, "\n]}\n");
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the trace");
    }
    bp_status s = bp_write_file(path, buf, len, err);
    free(buf);
    return s;
}
