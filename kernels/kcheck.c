/* kernels/kcheck.c - the generic ISA-vs-reference checker (see kcheck.h).
 *
 * Layout of this file: guarded buffers and the comparison rule first, then
 * one harness per signature (each with its battery of shapes), then the
 * table that maps a kernel to its harness.
 *
 * The comparison rule for one output value, ref from the reference table
 * and got from the table under test, u = 2^-24 (float unit roundoff):
 *   NaN matches only NaN, an infinity only the same infinity;
 *   EXACT:  identical bits;
 *   ELEM, TRANSC (factor f): ulps(ref, got) <= f, or |got-ref| <= f*u*mag,
 *           or |got-ref| < FLT_MIN (differences below the normal range);
 *   SUM (factor f, length K): ulps <= f, or |got-ref| <= f*K*u*mag, or
 *           |got-ref| < FLT_MIN;
 * where mag is the sum of the magnitudes of the terms that form the value
 * (computed here in double) and K the number of roundings in its longest
 * chain (the reduction length plus a few).
 *
 * A value that passes both ways is judged by the bound it is the smaller
 * fraction of, and the statistics say which (kcheck.h, bp_kcheck_by): the
 * ULP count is reported only over values the ULP bound judged, since near
 * zero a correct value can be millions of ULPs away.
 *
 * Compiled with baseline flags; it only calls kernels through tables.
 */
#include "kernels/kcheck.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kernels/base/rng.h"

#define U 0x1.0p-24
#define PRE 16 /* sentinel floats before every buffer */

/* ---------------------------------------------------------------------- */
/* Guarded buffers                                                         */

typedef struct gbuf {
    float *p;
    size_t len;
    void *map;
    size_t maplen;
    size_t body; /* bytes before the guard page */
} gbuf;

static const uint32_t SENTINEL_BITS = 0x7fc0dead; /* a quiet NaN */

static float sentinel(void)
{
    float f;
    memcpy(&f, &SENTINEL_BITS, sizeof f);
    return f;
}

static bool is_sentinel(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b == SENTINEL_BITS;
}

/* mode 0: the buffer ends exactly at a PROT_NONE page (any start
 * alignment); mode 1: it starts 64-byte aligned. Everything else in the
 * mapping holds the sentinel. */
static bool gbuf_alloc(gbuf *b, size_t len, int mode)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t bytes = (len + PRE) * sizeof(float) + 64;
    b->body = (bytes + page - 1) / page * page;
    b->maplen = b->body + page;
    b->map = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b->map == MAP_FAILED) {
        b->map = NULL;
        return false;
    }
    if (mprotect((char *)b->map + b->body, page, PROT_NONE) != 0) {
        munmap(b->map, b->maplen);
        b->map = NULL;
        return false;
    }
    float *all = b->map;
    for (size_t i = 0; i < b->body / sizeof(float); i++)
        all[i] = sentinel();
    if (mode == 0)
        b->p = (float *)((char *)b->map + b->body) - len;
    else
        b->p = all + PRE;
    b->len = len;
    return true;
}

static void gbuf_free(gbuf *b)
{
    if (b->map)
        munmap(b->map, b->maplen);
    b->map = NULL;
}

/* A second buffer with the same placement and contents as `src`. */
static bool gbuf_clone(gbuf *dst, const gbuf *src, int mode)
{
    if (!gbuf_alloc(dst, src->len, mode))
        return false;
    memcpy(dst->p, src->p, src->len * sizeof(float));
    return true;
}

/* Elements in a rows x cols matrix with leading dimension ld, up to the
 * last valid element (so that an over-read past it faults in mode 0). */
static size_t mat_len(size_t rows, size_t cols, size_t ld)
{
    return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
}

/* ---------------------------------------------------------------------- */
/* Comparison                                                              */

typedef struct ctx {
    const bp_kernel_desc *d;
    bp_kcheck_stats *st;
    const bp_gemm_ctx *gc; /* the GEMM's threads and workspaces */
    char name[200]; /* kernel, isa and case, for messages */
} ctx;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void fault(ctx *c, const char *fmt, ...)
{
    c->st->failures++;
    if (c->st->first_failure[0])
        return;
    char what[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->st->first_failure, sizeof c->st->first_failure, "%s: %s",
             c->name, what);
}

/* Distance in ULPs between two finite floats (mapped to a monotone line). */
static double ulp_dist(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
    int64_t lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return (double)(la > lb ? la - lb : lb - la);
}

/* Compare one value. K: reduction length for SUM (ignored otherwise);
 * mag: sum of magnitudes of the terms (>= |ref|). */
static void cmp_value(ctx *c, const char *what, size_t r, size_t col,
                      double ref, double got, bool is_float, double mag,
                      double K)
{
    c->st->compared++;
    bool ok;
    double diff = 0, ulps = 0, bound = 0;
    if (isnan(ref) || isnan(got)) {
        ok = isnan(ref) && isnan(got);
    } else if (isinf(ref) || isinf(got)) {
        ok = ref == got;
    } else {
        diff = fabs(got - ref);
        ulps = is_float ? ulp_dist((float)ref, (float)got) : 0;
        if (c->d->tol == BP_TOL_EXACT) {
            ok = is_float ? (ulps == 0 && signbit(ref) == signbit(got))
                          : ref == got;
            c->st->worst_by = BP_BY_EXACT;
        } else {
            double f = c->d->tol_factor;
            bound = c->d->tol == BP_TOL_SUM ? f * K * U * mag : f * U * mag;
            if (bound < FLT_MIN)
                bound = FLT_MIN;
            ok = diff <= bound || (is_float && ulps <= f);
            /* judged by the bound it is the smaller fraction of (kcheck.h) */
            double r_abs = diff / bound;
            double r_ulp = is_float ? ulps / f : INFINITY;
            bool by_ulp = r_ulp <= r_abs;
            double ratio = by_ulp ? r_ulp : r_abs;
            if (ratio > c->st->max_ratio) {
                c->st->max_ratio = ratio;
                c->st->worst_by = by_ulp ? BP_BY_ULP : BP_BY_ABS;
            }
            if (by_ulp) {
                c->st->ulp_judged++;
                if (ulps > c->st->max_ulp_judged)
                    c->st->max_ulp_judged = ulps;
            }
        }
        /* the relative statistic describes the normal range; below
         * FLT_MIN only the absolute difference is meaningful */
        if (diff > c->st->max_abs)
            c->st->max_abs = diff;
        if (fabs(ref) >= FLT_MIN && diff / fabs(ref) > c->st->max_rel)
            c->st->max_rel = diff / fabs(ref);
    }
    if (!ok)
        fault(c, "%s[%zu,%zu] ref=%.9g got=%.9g (|diff|=%.3g, %.0f ulp, "
                 "bound %.3g)",
              what, r, col, ref, got, diff, ulps, bound);
}

/* Compare the valid part of two rows x cols output matrices; mag[r*cols+c]
 * gives each element's magnitude (NULL: |ref|). */
static void cmp_mat(ctx *c, const char *what, const float *ref,
                    const float *got, size_t rows, size_t cols, size_t ld,
                    const double *mag, double K)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < cols; j++) {
            float a = ref[r * ld + j], b = got[r * ld + j];
            double m = mag ? mag[r * cols + j] : fabs((double)a);
            cmp_value(c, what, r, j, a, b, true, m, K);
        }
}

/* Everything in the mapping outside the valid rows x cols region of `b`
 * must still hold the sentinel. */
static void check_untouched(ctx *c, const char *what, const gbuf *b,
                            size_t rows, size_t cols, size_t ld)
{
    const float *all = b->map;
    size_t total = b->body / sizeof(float);
    size_t start = (size_t)(b->p - all);
    for (size_t i = 0; i < total; i++) {
        bool inside = false;
        if (i >= start && i < start + b->len) {
            size_t off = i - start;
            inside = off % ld < cols && off / ld < rows;
        }
        if (!inside && !is_sentinel(all[i])) {
            long rel = (long)i - (long)start;
            fault(c, "%s: wrote outside its output (element %ld relative to "
                     "the start, rows=%zu cols=%zu ld=%zu)",
                  what, rel, rows, cols, ld);
            return;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Input generation                                                        */

typedef enum dist {
    D_NORMAL,  /* N(0, 1) */
    D_WIDE,    /* N(0, 5) */
    D_UNIFORM, /* U(-30, 30) */
    D_HUGE,    /* U(-120, 120): past exp's range on both sides */
    D_SPECIAL, /* N(0,1) with one in six values special */
    D_TINY,    /* N(0, 1e-3) with denormals */
    D_COUNT
} dist;

static const float specials[] = {
    0.0f,      -0.0f,     INFINITY, -INFINITY, NAN,       FLT_MAX,
    -FLT_MAX,  FLT_MIN,   -FLT_MIN, 1e-40f,    -1e-40f,   88.72f,
    -88.72f,   89.0f,     -103.9f,  -87.3f,    20.0f,     -20.0f,
    9.01f,     -9.01f,    1e-8f,    -1e-8f,    0.5f,      -0.5f,
    15.9424f,  -15.9424f, 44.36f,   -44.36f,   1e30f,     -1e30f,
};

static float draw(bp_rng *g, dist d)
{
    switch (d) {
    case D_NORMAL: return (float)bp_rng_normal(g);
    case D_WIDE: return (float)(5.0 * bp_rng_normal(g));
    case D_UNIFORM: return (float)(60.0 * bp_rng_uniform(g) - 30.0);
    case D_HUGE: return (float)(240.0 * bp_rng_uniform(g) - 120.0);
    case D_SPECIAL:
        if (bp_rng_below(g, 6) == 0)
            return specials[bp_rng_below(g, sizeof specials / sizeof *specials)];
        return (float)bp_rng_normal(g);
    case D_TINY:
        if (bp_rng_below(g, 4) == 0)
            return (float)(1e-39 * bp_rng_normal(g));
        return (float)(1e-3 * bp_rng_normal(g));
    case D_COUNT: break;
    }
    return 0.0f;
}

static void fill(float *p, size_t n, bp_rng *g, dist d)
{
    for (size_t i = 0; i < n; i++)
        p[i] = draw(g, d);
}

static void fill_mat(float *p, size_t rows, size_t cols, size_t ld,
                     bp_rng *g, dist d)
{
    for (size_t r = 0; r < rows; r++)
        fill(p + r * ld, cols, g, d);
}

static void fill_uniform(float *p, size_t n, bp_rng *g, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(lo + (hi - lo) * bp_rng_uniform(g));
}

/* ---------------------------------------------------------------------- */
/* Case batteries                                                          */

/* One case, interpreted by each harness as it needs. */
typedef struct kcase {
    size_t m, n, k; /* gemm: m n k; matrices: rows = m, cols = n; vectors: n */
    bool ta, tb;
    float alpha, beta;
    size_t pad;   /* extra elements per row in leading dimensions */
    int mode;     /* buffer placement, see gbuf_alloc */
    bool inplace; /* call with the output aliasing an input */
    dist dist;
    bp_conv_geom geom; /* window kernels */
} kcase;

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* Element count for malloc: at least one, so that size 0 is not NULL. */
static size_t at_least1(size_t n)
{
    return n ? n : 1;
}

/* Vector lengths: everything up to 70 (every tail of every width up to an
 * AVX-512 register times 4), block edges, primes and one DRAM-ish size. */
static const size_t vec_lens[] = {
    71, 72, 95, 96, 97, 127, 128, 129, 255, 256, 257, 511, 512, 513,
    1000, 1021, 4093, 4096, 4099, 65537,
};
#define VEC_SMALL 71 /* lengths 0..70 come first */

static size_t vec_len(size_t i)
{
    return i < VEC_SMALL ? i : vec_lens[i - VEC_SMALL];
}

#define VEC_NLEN (VEC_SMALL + COUNT(vec_lens))

/* Vector battery: each length x {end at guard, aligned} x {separate,
 * in place}, distributions cycling. */
static size_t cases_vec(size_t i, kcase *c, bool allow_inplace)
{
    size_t per = allow_inplace ? 4 : 2;
    if (c) {
        size_t li = i / per, v = i % per;
        c->n = vec_len(li);
        c->mode = (int)(v & 1);
        c->inplace = allow_inplace && (v >> 1);
        c->dist = (dist)(i % D_COUNT);
    }
    return VEC_NLEN * per;
}

/* Matrix battery for row-wise kernels (softmax, losses, bias, BN). */
static const size_t mat_rows[] = {0, 1, 2, 3, 7, 8, 9, 16, 17, 33, 128, 129};
static const size_t mat_cols[] = {1,  2,  3,  5,   7,   8,   9,   10,
                                  15, 16, 17, 23,  24,  31,  32,  33,
                                  47, 48, 49, 63,  64,  65,  100, 127,
                                  128, 129, 256, 257, 784, 1000};

static size_t cases_mat(size_t i, kcase *c, size_t min_rows)
{
    size_t nr = COUNT(mat_rows), nc = COUNT(mat_cols);
    size_t skip = 0;
    while (skip < nr && mat_rows[skip] < min_rows)
        skip++;
    size_t total = (nr - skip) * nc * 2;
    if (c) {
        size_t v = i % 2, rc = i / 2;
        c->m = mat_rows[skip + rc / nc];
        c->n = mat_cols[rc % nc];
        c->pad = v ? 0 : (rc % 3) * 5 + 1;
        c->mode = (int)((rc + v) & 1);
        c->inplace = v;
        c->dist = (dist)(rc % D_COUNT);
    }
    return total;
}

/* GEMM battery. Every row: (m, n, k) x 4 layouts (NN NT TN TT), with
 * alpha/beta, padding and placement cycling. */
static const size_t gemm_tile_m[] = {1,  2,  3,  4,  5,  6,  7,  8,
                                     9,  11, 12, 13, 14, 15, 16, 17,
                                     23, 24, 25, 31, 32, 33};
static const size_t gemm_tile_n[] = {1,  2,  3,  5,  7,  8,  9,  12,
                                     15, 16, 17, 23, 24, 25, 31, 32,
                                     33, 47, 48, 49, 63, 64, 65};
static const size_t gemm_tile_k[] = {1, 2, 3, 7, 8, 16, 17, 31};
static const size_t gemm_big_k[] = {0,   1,   63,  64,  65,  127, 128,
                                    129, 191, 192, 193, 255, 256, 257,
                                    383, 384, 385, 511, 512, 513, 767,
                                    768, 769, 1023, 1024, 1025};
static const size_t gemm_big_m[] = {0,   63,  64,  65,  95,  96,  97,
                                    127, 128, 129, 143, 144, 145, 191,
                                    192, 193, 255, 256, 257, 383, 385};
static const size_t gemm_big_n[] = {0,    255,  256,  257,  511,  512,
                                    513,  1023, 1024, 1025, 2047, 2048,
                                    2049, 4095, 4096, 4097};
/* The reference workload's GEMMs (784-256-128-10) at batches 1, 32, 100
 * and 128: forward NN, input gradient NT, weight gradient TN. */
static const size_t gemm_mlp[][3] = {
    {128, 256, 784}, {128, 128, 256}, {128, 10, 128},  {784, 256, 128},
    {256, 128, 128}, {128, 10, 128},  {128, 256, 128}, {128, 128, 10},
    {32, 256, 784},  {784, 256, 32},  {32, 128, 10},   {100, 256, 784},
    {784, 256, 100}, {1, 256, 784},   {784, 256, 1},   {1, 10, 128},
    /* large enough for the packed (BLIS) nest of the SIMD GEMMs: m > 2 MC
     * and a B over 1 MiB */
    {397, 1100, 250},
};
static const float gemm_ab[][2] = {
    {1.0f, 0.0f}, {1.0f, 1.0f}, {-0.5f, 0.0f}, {0.75f, -0.5f},
    {1.0f, 0.0f}, {2.0f, 1.0f}, {0.0f, -0.5f},
};

#define GT_M COUNT(gemm_tile_m)
#define GT_N COUNT(gemm_tile_n)
#define G_TILE (GT_M * GT_N * 4)
#define G_BIGK (COUNT(gemm_big_k) * 4)
#define G_BIGM (COUNT(gemm_big_m) * 4)
#define G_BIGN (COUNT(gemm_big_n) * 4)
#define G_MLP (COUNT(gemm_mlp) * 2)

static size_t cases_gemm(size_t i, kcase *c)
{
    size_t total = G_TILE + G_BIGK + G_BIGM + G_BIGN + G_MLP;
    if (!c)
        return total;
    size_t j = i;
    int layout = (int)(j % 4);
    if (j < G_TILE) {
        size_t mn = j / 4;
        c->m = gemm_tile_m[mn / GT_N];
        c->n = gemm_tile_n[mn % GT_N];
        c->k = gemm_tile_k[(mn + (size_t)layout) % COUNT(gemm_tile_k)];
    } else if ((j -= G_TILE) < G_BIGK) {
        c->m = 13, c->n = 37, c->k = gemm_big_k[j / 4];
    } else if ((j -= G_BIGK) < G_BIGM) {
        c->m = gemm_big_m[j / 4], c->n = 19, c->k = 23;
    } else if ((j -= G_BIGM) < G_BIGN) {
        c->m = 5, c->n = gemm_big_n[j / 4], c->k = 7;
    } else {
        j -= G_BIGN;
        const size_t *s = gemm_mlp[j / 2];
        c->m = s[0], c->n = s[1], c->k = s[2];
        /* the MLP shapes as used: rows 0-2, 8, 11, 13, 15: NN; 3-5, 9, 12,
         * 14: TN; 6-7, 10: NT; each also once with padding; the large
         * shape as NN and as TT. */
        size_t row = j / 2;
        static const int lay[] = {0, 0, 0, 2, 2, 2, 1, 1,
                                  0, 2, 1, 0, 2, 0, 2, 0, 0};
        layout = lay[row] | (row == 16 && j % 2 ? 3 : 0);
        c->pad = (j % 2) * 3;
        c->mode = (int)(j % 2);
        c->alpha = 1.0f;
        c->beta = (j % 2) ? 1.0f : 0.0f;
        c->ta = layout & 2;
        c->tb = layout & 1;
        c->dist = D_NORMAL;
        return total;
    }
    c->ta = layout & 2;
    c->tb = layout & 1;
    const float *ab = gemm_ab[(i / 4) % COUNT(gemm_ab)];
    c->alpha = ab[0];
    c->beta = ab[1];
    c->pad = (i / 4) % 3 == 0 ? 0 : (i % 7) + 1;
    c->mode = (int)((i / 4) & 1);
    c->dist = D_NORMAL;
    return total;
}

/* ---------------------------------------------------------------------- */
/* Harness plumbing                                                        */

typedef struct harness {
    size_t (*cases)(size_t i, kcase *c); /* battery */
    /* run case c: allocate, run ref and test, compare */
    bool (*run)(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                bp_kernel_id k, const kcase *c, bp_rng *g);
    void (*describe)(const kcase *c, char *buf, size_t size);
} harness;

static void describe_vec(const kcase *c, char *buf, size_t size)
{
    snprintf(buf, size, "n=%zu%s%s", c->n, c->mode ? " aligned" : "",
             c->inplace ? " in-place" : "");
}

static void describe_mat(const kcase *c, char *buf, size_t size)
{
    snprintf(buf, size, "rows=%zu cols=%zu ld=%zu%s%s", c->m, c->n,
             c->n + c->pad, c->mode ? " aligned" : "",
             c->inplace ? " in-place" : "");
}

static void describe_gemm(const kcase *c, char *buf, size_t size)
{
    snprintf(buf, size, "%c%c m=%zu n=%zu k=%zu alpha=%g beta=%g pad=%zu%s",
             c->ta ? 'T' : 'N', c->tb ? 'T' : 'N', c->m, c->n, c->k,
             (double)c->alpha, (double)c->beta, c->pad,
             c->mode ? " aligned" : "");
}

/* Allocation helper: a fixed array of buffers freed together. */
typedef struct bufs {
    gbuf b[16];
    int n;
    bool ok;
} bufs;

static float *balloc(bufs *bs, size_t len, int mode)
{
    if (!bs->ok || bs->n >= 16) {
        bs->ok = false;
        return NULL;
    }
    gbuf *b = &bs->b[bs->n];
    if (!gbuf_alloc(b, len, mode)) {
        bs->ok = false;
        return NULL;
    }
    bs->n++;
    return b->p;
}

static float *bclone(bufs *bs, const float *src, int mode)
{
    for (int i = 0; i < bs->n; i++)
        if (bs->b[i].p == src) {
            if (!bs->ok || bs->n >= 16 ||
                !gbuf_clone(&bs->b[bs->n], &bs->b[i], mode)) {
                bs->ok = false;
                return NULL;
            }
            return bs->b[bs->n++].p;
        }
    bs->ok = false;
    return NULL;
}

static const gbuf *bfind(const bufs *bs, const float *p)
{
    for (int i = 0; i < bs->n; i++)
        if (bs->b[i].p == p)
            return &bs->b[i];
    return NULL;
}

static void bfree(bufs *bs)
{
    for (int i = 0; i < bs->n; i++)
        gbuf_free(&bs->b[i]);
    bs->n = 0;
}

static void untouched(ctx *cx, const char *what, const bufs *bs,
                      const float *p, size_t rows, size_t cols, size_t ld)
{
    const gbuf *b = bfind(bs, p);
    if (b)
        check_untouched(cx, what, b, rows, cols, ld);
}

/* ---------------------------------------------------------------------- */
/* GEMM                                                                    */

/* The same product with an epilogue (kernels.h bp_gemm_post): the fused
 * call of the table under test against the scalar reference, which
 * applies it unfused. The activation and the bias's presence follow from
 * the shape, so the cases cover every combination; the column sums come
 * with every !tb case. After a bias and an activation an element may be
 * off by the product's bound plus the activation's (its derivative is at
 * most 1): |bias| and 4 |result| join the product's magnitude. */
static bool run_gemm_post(ctx *cx, const bp_kernels *ref,
                          const bp_kernels *test, const kcase *c, bp_rng *g,
                          bufs *bs, const float *A, const float *B,
                          const float *C0, const double *mag)
{
    size_t m = c->m, n = c->n, kk = c->k;
    size_t lda = (c->ta ? m : kk) + c->pad, ldb = (c->tb ? kk : n) + c->pad;
    size_t ldc = n + c->pad;
    float *bias = balloc(bs, n, c->mode);
    float *sr = balloc(bs, n, c->mode), *st = balloc(bs, n, c->mode ^ 1);
    float *Cr = bclone(bs, C0, c->mode), *Ct = bclone(bs, C0, c->mode ^ 1);
    double *mp = malloc(at_least1(m * n) * sizeof *mp);
    double *ms = malloc(at_least1(n) * sizeof *ms);
    if (!bs->ok || !mp || !ms) {
        free(mp), free(ms);
        return false;
    }
    fill(bias, n, g, D_NORMAL);
    bp_gemm_post post = {.bias = (m + kk) % 2 ? NULL : bias,
                         .act = (bp_kact)((m + n + kk) % 4),
                         .colsum = NULL};
    bp_gemm_post pr = post, pt = post;
    if (!c->tb)
        pr.colsum = sr, pt.colsum = st;
    ref->gemm(cx->gc, c->ta, c->tb, m, n, kk, c->alpha, A, lda, B, ldb,
              c->beta, Cr, ldc, &pr);
    test->gemm(cx->gc, c->ta, c->tb, m, n, kk, c->alpha, A, lda, B, ldb,
               c->beta, Ct, ldc, &pt);
    for (size_t r = 0; r < m; r++)
        for (size_t j = 0; j < n; j++)
            mp[r * n + j] = mag[r * n + j] +
                            (post.bias ? fabs((double)bias[j]) : 0) +
                            4 * fabs((double)Cr[r * ldc + j]);
    cmp_mat(cx, "C after the epilogue", Cr, Ct, m, n, ldc, mp,
            (double)kk + 2);
    untouched(cx, "C after the epilogue", bs, Ct, m, n, ldc);
    if (!c->tb) {
        for (size_t j = 0; j < n; j++) {
            ms[j] = 0;
            for (size_t p = 0; p < kk; p++)
                ms[j] += fabs((double)B[p * ldb + j]);
        }
        cmp_mat(cx, "column sums of B", sr, st, 1, n, n, ms, (double)kk + 2);
        untouched(cx, "column sums of B", bs, st, 1, n, n);
    }
    free(mp), free(ms);
    return true;
}

static bool run_gemm(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                     bp_kernel_id k, const kcase *c, bp_rng *g)
{
    (void)k;
    size_t m = c->m, n = c->n, kk = c->k;
    size_t ar = c->ta ? kk : m, ac = c->ta ? m : kk;
    size_t br = c->tb ? n : kk, bc = c->tb ? kk : n;
    size_t lda = ac + c->pad, ldb = bc + c->pad, ldc = n + c->pad;
    bufs bs = {.ok = true};
    float *A = balloc(&bs, mat_len(ar, ac, lda), c->mode);
    float *B = balloc(&bs, mat_len(br, bc, ldb), c->mode ^ 1);
    float *C0 = balloc(&bs, mat_len(m, n, ldc), c->mode);
    double *mag = malloc(at_least1(m * n) * sizeof *mag);
    if (!bs.ok || !mag) {
        bfree(&bs);
        free(mag);
        return false;
    }
    bool ab_unused = c->alpha == 0.0f;
    if (ab_unused) { /* must not be read: NaN would poison C */
        for (size_t i = 0; i < mat_len(ar, ac, lda); i++) A[i] = NAN;
        for (size_t i = 0; i < mat_len(br, bc, ldb); i++) B[i] = NAN;
    } else {
        fill_mat(A, ar, ac, lda, g, c->dist);
        fill_mat(B, br, bc, ldb, g, c->dist);
    }
    if (c->beta == 0.0f) /* C must not be read: NaN would leak */
        for (size_t r = 0; r < m; r++)
            for (size_t j = 0; j < n; j++)
                C0[r * ldc + j] = NAN;
    else
        fill_mat(C0, m, n, ldc, g, D_NORMAL);
    for (size_t r = 0; r < m; r++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            if (!ab_unused)
                for (size_t p = 0; p < kk; p++) {
                    double a = c->ta ? A[p * lda + r] : A[r * lda + p];
                    double b = c->tb ? B[j * ldb + p] : B[p * ldb + j];
                    s += fabs(a * b);
                }
            s *= fabs((double)c->alpha);
            if (c->beta != 0.0f)
                s += fabs((double)c->beta * C0[r * ldc + j]);
            mag[r * n + j] = s;
        }
    float *Cr = bclone(&bs, C0, c->mode);
    float *Ct = bclone(&bs, C0, c->mode);
    if (!bs.ok) {
        bfree(&bs);
        free(mag);
        return false;
    }
    ref->gemm(cx->gc, c->ta, c->tb, m, n, kk, c->alpha, A, lda, B, ldb,
              c->beta, Cr, ldc, NULL);
    test->gemm(cx->gc, c->ta, c->tb, m, n, kk, c->alpha, A, lda, B, ldb,
               c->beta, Ct, ldc, NULL);
    cmp_mat(cx, "C", Cr, Ct, m, n, ldc, mag, (double)kk + 2);
    untouched(cx, "C", &bs, Ct, m, n, ldc);
    untouched(cx, "C (reference)", &bs, Cr, m, n, ldc);
    bool ok = run_gemm_post(cx, ref, test, c, g, &bs, A, B, C0, mag);
    free(mag);
    bfree(&bs);
    return ok;
}

/* ---------------------------------------------------------------------- */
/* Element-wise: unary forward, unary backward, vmul, scale, clip          */

static size_t cases_vec_inplace(size_t i, kcase *c) { return cases_vec(i, c, true); }
static size_t cases_vec_plain(size_t i, kcase *c) { return cases_vec(i, c, false); }

static bp_unary_fn *unary_of(const bp_kernels *t, bp_kernel_id k)
{
    return (bp_unary_fn *)bp_kernel_ptr(t, k);
}

static bool run_unary(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                      bp_kernel_id k, const kcase *c, bp_rng *g)
{
    size_t n = c->n;
    bufs bs = {.ok = true};
    float *x = balloc(&bs, n, c->mode);
    if (!bs.ok)
        return bfree(&bs), false;
    fill(x, n, g, c->dist);
    float *yr = bclone(&bs, x, c->mode);
    float *yt = bclone(&bs, x, c->mode ^ 1);
    if (!bs.ok)
        return bfree(&bs), false;
    if (c->inplace) {
        unary_of(ref, k)(n, yr, yr);
        unary_of(test, k)(n, yt, yt);
    } else {
        unary_of(ref, k)(n, x, yr);
        unary_of(test, k)(n, x, yt);
    }
    cmp_mat(cx, "y", yr, yt, 1, n, n, NULL, 1);
    untouched(cx, "y", &bs, yt, 1, n, n);
    bfree(&bs);
    return true;
}

/* y as the forward pass of act leaves it (relu: >= 0, many exactly 0;
 * sigmoid in (0, 1); tanh in (-1, 1); none: the case's values) */
static void fill_act_out(float *y, size_t n, bp_kact act, bp_rng *g, dist d)
{
    if (act == BP_KACT_SIGMOID)
        fill_uniform(y, n, g, 0.0, 1.0);
    else if (act == BP_KACT_TANH)
        fill_uniform(y, n, g, -1.0, 1.0);
    else
        fill(y, n, g, d);
    for (size_t i = 0; i < n && act == BP_KACT_RELU; i++)
        if (y[i] < 0)
            y[i] = 0;
}

static bool run_unary_bwd(ctx *cx, const bp_kernels *ref,
                          const bp_kernels *test, bp_kernel_id k,
                          const kcase *c, bp_rng *g)
{
    size_t n = c->n;
    bufs bs = {.ok = true};
    float *y = balloc(&bs, n, c->mode);
    float *dy = balloc(&bs, n, c->mode ^ 1);
    if (!bs.ok)
        return bfree(&bs), false;
    /* y as the forward pass produces it: the kernel's own output range */
    fill_act_out(y, n,
                 k == BP_K_sigmoid_bwd ? BP_KACT_SIGMOID
                 : k == BP_K_tanh_bwd  ? BP_KACT_TANH
                 : k == BP_K_relu_bwd  ? BP_KACT_RELU
                                       : BP_KACT_NONE,
                 g, c->dist);
    fill(dy, n, g, c->dist == D_SPECIAL ? D_NORMAL : c->dist);
    float *dr = bclone(&bs, dy, c->mode);
    float *dt = bclone(&bs, dy, c->mode);
    if (!bs.ok)
        return bfree(&bs), false;
    bp_unary_bwd_fn *fr = (bp_unary_bwd_fn *)bp_kernel_ptr(ref, k);
    bp_unary_bwd_fn *ft = (bp_unary_bwd_fn *)bp_kernel_ptr(test, k);
    if (c->inplace) {
        fr(n, y, dr, dr);
        ft(n, y, dt, dt);
    } else {
        fr(n, y, dy, dr);
        ft(n, y, dy, dt);
    }
    cmp_mat(cx, "dx", dr, dt, 1, n, n, NULL, 1);
    untouched(cx, "dx", &bs, dt, 1, n, n);
    bfree(&bs);
    return true;
}

static bool run_vmul(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                     bp_kernel_id k, const kcase *c, bp_rng *g)
{
    size_t n = c->n;
    bufs bs = {.ok = true};
    float *a = balloc(&bs, n, c->mode);
    float *b = balloc(&bs, n, c->mode ^ 1);
    if (!bs.ok)
        return bfree(&bs), false;
    fill(a, n, g, c->dist);
    fill(b, n, g, D_NORMAL);
    float *outr = bclone(&bs, a, c->mode);
    float *outt = bclone(&bs, a, c->mode);
    if (!bs.ok)
        return bfree(&bs), false;
    bp_vmul_fn *fr = (bp_vmul_fn *)bp_kernel_ptr(ref, k);
    bp_vmul_fn *ft = (bp_vmul_fn *)bp_kernel_ptr(test, k);
    if (c->inplace) {
        fr(n, outr, b, outr);
        ft(n, outt, b, outt);
    } else {
        fr(n, a, b, outr);
        ft(n, a, b, outt);
    }
    cmp_mat(cx, "out", outr, outt, 1, n, n, NULL, 1);
    untouched(cx, "out", &bs, outt, 1, n, n);
    bfree(&bs);
    return true;
}

/* scale and clip_value: in place on x with one float parameter. */
static bool run_scale_clip(ctx *cx, const bp_kernels *ref,
                           const bp_kernels *test, bp_kernel_id k,
                           const kcase *c, bp_rng *g)
{
    size_t n = c->n;
    bufs bs = {.ok = true};
    float *x = balloc(&bs, n, c->mode);
    if (!bs.ok)
        return bfree(&bs), false;
    fill(x, n, g, c->dist);
    float *xr = bclone(&bs, x, c->mode);
    float *xt = bclone(&bs, x, c->mode);
    if (!bs.ok)
        return bfree(&bs), false;
    static const float params[] = {0.5f, 1.0f, 0.0f, 3.25f, 1e-3f, 7.0f};
    float s = params[n % COUNT(params)];
    if (k == BP_K_scale) {
        ref->scale(n, s, xr);
        test->scale(n, s, xt);
    } else {
        ref->clip_value(n, s, xr);
        test->clip_value(n, s, xt);
    }
    cmp_mat(cx, "x", xr, xt, 1, n, n, NULL, 1);
    untouched(cx, "x", &bs, xt, 1, n, n);
    bfree(&bs);
    return true;
}

/* max_norm on a rows x cols matrix (leading dimension past the row) with
 * c below the median column norm, so that some columns are scaled and
 * some are left as they are (and, for c below every norm or above, all or
 * none) */
static bool run_maxnorm(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                        bp_kernel_id k, const kcase *c, bp_rng *g)
{
    (void)k;
    size_t rows = c->m, cols = c->n, ld = cols + c->pad;
    bufs bs = {.ok = true};
    float *w = balloc(&bs, mat_len(rows, cols, ld), c->mode);
    double *norm = malloc(at_least1(cols) * sizeof *norm);
    if (!bs.ok || !norm)
        return bfree(&bs), free(norm), false;
    fill_mat(w, rows, cols, ld, g, c->dist);
    float *wr = bclone(&bs, w, c->mode);
    float *wt = bclone(&bs, w, c->mode);
    if (!bs.ok)
        return bfree(&bs), free(norm), false;
    /* c: the sorted column norms' value at a quarter, a half, or beyond */
    size_t finite = 0;
    for (size_t j = 0; j < cols; j++) {
        double s = 0;
        for (size_t r = 0; r < rows; r++)
            s += (double)w[r * ld + j] * w[r * ld + j];
        if (isfinite(s) && s > 0)
            norm[finite++] = sqrt(s);
    }
    for (size_t i = 1; i < finite; i++)
        for (size_t j = i; j > 0 && norm[j] < norm[j - 1]; j--) {
            double t = norm[j];
            norm[j] = norm[j - 1];
            norm[j - 1] = t;
        }
    static const double at[] = {0.25, 0.5, 0.0, 1.0};
    double q = at[(rows + cols) % COUNT(at)];
    float cv = finite ? (float)(q >= 1.0 ? 2 * norm[finite - 1]
                                        : 0.999 * norm[(size_t)(q * (double)(finite - 1))])
                      : 1.0f;
    if (!(cv > 0) || !isfinite(cv))
        cv = 1.0f;
    ref->max_norm(rows, cols, wr, ld, cv);
    test->max_norm(rows, cols, wt, ld, cv);
    cmp_mat(cx, "w", wr, wt, rows, cols, ld, NULL, 1);
    untouched(cx, "w", &bs, wt, rows, cols, ld);
    free(norm);
    bfree(&bs);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Reductions returning double: sumsq, mse, bce                            */

static bool run_sumsq(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                      bp_kernel_id k, const kcase *c, bp_rng *g)
{
    (void)k;
    size_t n = c->n;
    bufs bs = {.ok = true};
    float *x = balloc(&bs, n, c->mode);
    if (!bs.ok)
        return bfree(&bs), false;
    fill(x, n, g, c->dist == D_SPECIAL ? D_WIDE : c->dist);
    double mag = 0;
    for (size_t i = 0; i < n; i++)
        mag += (double)x[i] * x[i];
    cmp_value(cx, "sumsq", 0, 0, ref->sumsq(n, x), test->sumsq(n, x), false,
              mag, (double)n + 1);
    bfree(&bs);
    return true;
}

static bool run_mse_bce(ctx *cx, const bp_kernels *ref,
                        const bp_kernels *test, bp_kernel_id k,
                        const kcase *c, bp_rng *g)
{
    size_t n = c->n;
    bool bce = k == BP_K_sigmoid_bce;
    bufs bs = {.ok = true};
    float *y = balloc(&bs, n, c->mode);
    float *t = balloc(&bs, n, c->mode ^ 1);
    float *dr = balloc(&bs, n, c->mode);
    float *dt = balloc(&bs, n, c->mode);
    double *mag = malloc(at_least1(n) * sizeof *mag);
    if (!bs.ok || !mag)
        return bfree(&bs), free(mag), false;
    fill(y, n, g, c->dist == D_SPECIAL ? D_HUGE : c->dist);
    if (bce)
        fill_uniform(t, n, g, 0.0, 1.0);
    else
        fill(t, n, g, D_NORMAL);
    for (size_t i = 0; i < n; i++)
        if (bce && i % 3 == 0) t[i] = (float)(i % 2); /* hard labels too */
    float scale = n ? 1.0f / (float)n : 1.0f;
    bool with_delta = !c->inplace; /* the "in place" slot tests delta = NULL */
    double lr, lt;
    if (bce) {
        lr = ref->sigmoid_bce(n, y, t, scale, with_delta ? dr : NULL);
        lt = test->sigmoid_bce(n, y, t, scale, with_delta ? dt : NULL);
    } else {
        lr = ref->mse(n, y, t, scale, with_delta ? dr : NULL);
        lt = test->mse(n, y, t, scale, with_delta ? dt : NULL);
    }
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double z = y[i], tt = t[i];
        if (bce) {
            total += fabs(z > 0 ? z : 0) + fabs(z * tt) + log1p(exp(-fabs(z)));
            mag[i] = fabs((double)scale) * (1.0 + fabs(tt));
        } else {
            total += (z - tt) * (z - tt);
            mag[i] = fabs((double)scale * (z - tt));
        }
    }
    cmp_value(cx, "loss", 0, 0, lr, lt, false, total, (double)n + 8);
    if (with_delta) {
        cmp_mat(cx, "delta", dr, dt, 1, n, n, mag, 8);
        untouched(cx, "delta", &bs, dt, 1, n, n);
    } else {
        untouched(cx, "delta (NULL: untouched)", &bs, dt, 0, 0, 1);
    }
    free(mag);
    bfree(&bs);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Row-wise: softmax, softmax backward, cross-entropy                      */

static size_t cases_mat0(size_t i, kcase *c) { return cases_mat(i, c, 0); }
static size_t cases_mat1(size_t i, kcase *c) { return cases_mat(i, c, 1); }

static bool run_softmax(ctx *cx, const bp_kernels *ref,
                        const bp_kernels *test, bp_kernel_id k,
                        const kcase *c, bp_rng *g)
{
    (void)k;
    size_t rows = c->m, cols = c->n, ld = cols + (c->inplace ? 0 : c->pad);
    bufs bs = {.ok = true};
    float *x = balloc(&bs, mat_len(rows, cols, ld), c->mode);
    if (!bs.ok)
        return bfree(&bs), false;
    /* logits: normal, wide, huge (1e30-scale rows) and tiny; no inf/NaN */
    for (size_t r = 0; r < rows; r++) {
        dist d = c->dist == D_SPECIAL ? D_HUGE : c->dist;
        fill(x + r * ld, cols, g, d);
        if (r % 5 == 4)
            for (size_t j = 0; j < cols; j++)
                x[r * ld + j] *= 1e30f; /* exercises the max subtraction */
    }
    float *yr = bclone(&bs, x, c->mode);
    float *yt = bclone(&bs, x, c->mode ^ 1);
    if (!bs.ok)
        return bfree(&bs), false;
    if (c->inplace) {
        ref->softmax_fwd(rows, cols, yr, ld, yr, ld);
        test->softmax_fwd(rows, cols, yt, ld, yt, ld);
    } else {
        ref->softmax_fwd(rows, cols, x, ld, yr, ld);
        test->softmax_fwd(rows, cols, x, ld, yt, ld);
    }
    /* every y is relative to its own row sum: K = cols, mag = |y| */
    cmp_mat(cx, "y", yr, yt, rows, cols, ld, NULL, (double)cols + 4);
    if (!c->inplace)
        untouched(cx, "y", &bs, yt, rows, cols, ld);
    bfree(&bs);
    return true;
}

static bool run_softmax_bwd(ctx *cx, const bp_kernels *ref,
                            const bp_kernels *test, bp_kernel_id k,
                            const kcase *c, bp_rng *g)
{
    (void)k;
    size_t rows = c->m, cols = c->n, ld = cols + c->pad;
    size_t ldd = c->inplace ? ld : cols + (c->pad ? c->pad + 2 : 0);
    bufs bs = {.ok = true};
    float *y = balloc(&bs, mat_len(rows, cols, ld), c->mode);
    float *dy = balloc(&bs, mat_len(rows, cols, ldd), c->mode ^ 1);
    double *mag = malloc(at_least1(rows * cols) * sizeof *mag);
    if (!bs.ok || !mag)
        return bfree(&bs), free(mag), false;
    fill_mat(y, rows, cols, ld, g, D_NORMAL);
    ref->softmax_fwd(rows, cols, y, ld, y, ld); /* a valid softmax output */
    fill_mat(dy, rows, cols, ldd, g, c->dist == D_SPECIAL ? D_WIDE : c->dist);
    for (size_t r = 0; r < rows; r++) {
        double dot = 0;
        for (size_t j = 0; j < cols; j++)
            dot += fabs((double)y[r * ld + j] * dy[r * ldd + j]);
        for (size_t j = 0; j < cols; j++)
            mag[r * cols + j] =
                fabs((double)y[r * ld + j]) * (fabs((double)dy[r * ldd + j]) + dot);
    }
    float *dxr = bclone(&bs, dy, c->mode);
    float *dxt = bclone(&bs, dy, c->mode);
    if (!bs.ok)
        return bfree(&bs), free(mag), false;
    if (c->inplace) {
        ref->softmax_bwd(rows, cols, y, ld, dxr, ldd, dxr, ldd);
        test->softmax_bwd(rows, cols, y, ld, dxt, ldd, dxt, ldd);
    } else {
        ref->softmax_bwd(rows, cols, y, ld, dy, ldd, dxr, ldd);
        test->softmax_bwd(rows, cols, y, ld, dy, ldd, dxt, ldd);
    }
    cmp_mat(cx, "dx", dxr, dxt, rows, cols, ldd, mag, (double)cols + 4);
    free(mag);
    bfree(&bs);
    return true;
}

static bool run_xent(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                     bp_kernel_id k, const kcase *c, bp_rng *g)
{
    (void)k;
    size_t rows = c->m, cols = c->n, ld = cols + c->pad;
    size_t ldd = cols + (c->pad ? c->pad + 1 : 0);
    bufs bs = {.ok = true};
    float *z = balloc(&bs, mat_len(rows, cols, ld), c->mode);
    float *lab = balloc(&bs, rows, c->mode ^ 1); /* int32 storage */
    float *dr = balloc(&bs, mat_len(rows, cols, ldd), c->mode);
    float *dt = balloc(&bs, mat_len(rows, cols, ldd), c->mode);
    double *mag = malloc(at_least1(rows * cols) * sizeof *mag);
    if (!bs.ok || !mag)
        return bfree(&bs), free(mag), false;
    int32_t *labels = (int32_t *)lab;
    for (size_t r = 0; r < rows; r++) {
        dist d = c->dist == D_SPECIAL ? D_HUGE : c->dist;
        fill(z + r * ld, cols, g, d);
        if (r % 5 == 4)
            for (size_t j = 0; j < cols; j++)
                z[r * ld + j] *= 1e30f;
        labels[r] = (int32_t)bp_rng_below(g, cols);
    }
    float scale = rows ? 1.0f / (float)rows : 1.0f;
    bool with_delta = !c->inplace;
    double lr = ref->softmax_xent(rows, cols, z, ld, labels, scale,
                                  with_delta ? dr : NULL, ldd);
    double lt = test->softmax_xent(rows, cols, z, ld, labels, scale,
                                   with_delta ? dt : NULL, ldd);
    /* loss: each row is lse - (z_label - max); its error is relative to
     * |lse| + |z_label - max|, with lse's sum over cols terms */
    double total = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *zr = z + r * ld;
        double mx = zr[0], s = 0;
        for (size_t j = 1; j < cols; j++)
            mx = zr[j] > mx ? zr[j] : mx;
        for (size_t j = 0; j < cols; j++)
            s += exp((double)zr[j] - mx);
        total += fabs(log(s)) + fabs((double)zr[labels[r]] - mx) + 1.0;
        for (size_t j = 0; j < cols; j++)
            mag[r * cols + j] = fabs((double)scale) *
                                (exp((double)zr[j] - mx) / s +
                                 ((size_t)labels[r] == j ? 1.0 : 0.0));
    }
    cmp_value(cx, "loss", 0, 0, lr, lt, false, total, (double)cols + 8);
    if (with_delta) {
        cmp_mat(cx, "delta", dr, dt, rows, cols, ldd, mag, (double)cols + 8);
        untouched(cx, "delta", &bs, dt, rows, cols, ldd);
    } else {
        untouched(cx, "delta (NULL: untouched)", &bs, dt, 0, 0, 1);
    }
    free(mag);
    bfree(&bs);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Bias add and bias gradient                                              */

static bool run_bias(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                     bp_kernel_id k, const kcase *c, bp_rng *g)
{
    size_t rows = c->m, cols = c->n, ld = cols + c->pad;
    bufs bs = {.ok = true};
    float *y = balloc(&bs, mat_len(rows, cols, ld), c->mode);
    float *b = balloc(&bs, cols, c->mode ^ 1);
    double *mag = malloc(at_least1(cols) * sizeof *mag);
    if (!bs.ok || !mag)
        return bfree(&bs), free(mag), false;
    fill_mat(y, rows, cols, ld, g, c->dist == D_SPECIAL ? D_WIDE : c->dist);
    fill(b, cols, g, D_NORMAL);
    if (k == BP_K_bias_add) {
        float *yr = bclone(&bs, y, c->mode);
        float *yt = bclone(&bs, y, c->mode);
        if (!bs.ok)
            return bfree(&bs), free(mag), false;
        ref->bias_add(rows, cols, b, yr, ld);
        test->bias_add(rows, cols, b, yt, ld);
        cmp_mat(cx, "y", yr, yt, rows, cols, ld, NULL, 1);
        untouched(cx, "y", &bs, yt, rows, cols, ld);
    } else if (k == BP_K_bias_act) {
        float *yr = bclone(&bs, y, c->mode);
        float *yt = bclone(&bs, y, c->mode);
        if (!bs.ok)
            return bfree(&bs), free(mag), false;
        /* every activation, with and without a bias */
        for (int v = 0; v < 8; v++) {
            bp_kact act = (bp_kact)(v / 2);
            const float *bv = v % 2 ? b : NULL;
            for (size_t r = 0; r < rows; r++) {
                memcpy(yr + r * ld, y + r * ld, cols * sizeof *y);
                memcpy(yt + r * ld, y + r * ld, cols * sizeof *y);
            }
            ref->bias_act(rows, cols, bv, act, yr, ld);
            test->bias_act(rows, cols, bv, act, yt, ld);
            cmp_mat(cx, "y", yr, yt, rows, cols, ld, NULL, 1);
            untouched(cx, "y", &bs, yt, rows, cols, ld);
        }
    } else {
        float *dbr = bclone(&bs, b, c->mode);
        float *dbt = bclone(&bs, b, c->mode ^ 1);
        if (!bs.ok)
            return bfree(&bs), free(mag), false;
        for (size_t j = 0; j < cols; j++) {
            mag[j] = 0;
            for (size_t r = 0; r < rows; r++)
                mag[j] += fabs((double)y[r * ld + j]);
        }
        ref->bias_grad(rows, cols, y, ld, dbr);
        test->bias_grad(rows, cols, y, ld, dbt);
        cmp_mat(cx, "db", dbr, dbt, 1, cols, cols, mag, (double)rows + 1);
        untouched(cx, "db", &bs, dbt, 1, cols, cols);
    }
    free(mag);
    bfree(&bs);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Dropout                                                                 */

static bool run_dropout(ctx *cx, const bp_kernels *ref,
                        const bp_kernels *test, bp_kernel_id k,
                        const kcase *c, bp_rng *g)
{
    (void)k;
    size_t n = c->n;
    bufs bs = {.ok = true};
    float *x = balloc(&bs, n, c->mode);
    float *mr = balloc(&bs, n, c->mode);
    float *mt = balloc(&bs, n, c->mode ^ 1);
    if (!bs.ok)
        return bfree(&bs), false;
    fill(x, n, g, c->dist);
    float *yr = bclone(&bs, x, c->mode);
    float *yt = bclone(&bs, x, c->mode ^ 1);
    if (!bs.ok)
        return bfree(&bs), false;
    static const float ps[] = {0.5f, 0.0f, 0.2f, 0.9f, 0.1f, 0.999f, 0.33f};
    float p = ps[n % COUNT(ps)];
    uint64_t key = bp_rng_u64(g);
    if (c->inplace) {
        ref->dropout_fwd(n, key, p, yr, yr, mr);
        test->dropout_fwd(n, key, p, yt, yt, mt);
    } else {
        ref->dropout_fwd(n, key, p, x, yr, mr);
        test->dropout_fwd(n, key, p, x, yt, mt);
    }
    cmp_mat(cx, "y", yr, yt, 1, n, n, NULL, 1);
    cmp_mat(cx, "mask", mr, mt, 1, n, n, NULL, 1);
    untouched(cx, "y", &bs, yt, 1, n, n);
    untouched(cx, "mask", &bs, mt, 1, n, n);
    bfree(&bs);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Batch normalisation                                                     */

static bool run_bn(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                   bp_kernel_id k, const kcase *c, bp_rng *g)
{
    size_t rows = c->m, cols = c->n, ld = cols + c->pad;
    size_t ldo = cols + (c->pad ? c->pad + 2 : 0);
    bufs bs = {.ok = true};
    float *x = balloc(&bs, mat_len(rows, cols, ld), c->mode);
    float *gamma = balloc(&bs, cols, c->mode ^ 1);
    float *beta = balloc(&bs, cols, c->mode);
    float *rm = balloc(&bs, cols, c->mode ^ 1);
    float *rv = balloc(&bs, cols, c->mode);
    float *yr = balloc(&bs, mat_len(rows, cols, ldo), c->mode);
    float *yt = balloc(&bs, mat_len(rows, cols, ldo), c->mode ^ 1);
    size_t ncell = at_least1(rows * cols);
    double *mag = malloc(ncell * sizeof *mag);
    double *cmag = malloc(at_least1(cols) * 2 * sizeof *cmag);
    if (!bs.ok || !mag || !cmag)
        return bfree(&bs), free(mag), free(cmag), false;
    fill_mat(x, rows, cols, ld, g, c->dist == D_SPECIAL ? D_WIDE : c->dist);
    /* some constant columns (var = 0) and an offset column (mean >> std) */
    for (size_t j = 0; j < cols && rows > 0; j += 7) {
        float v = j % 14 ? 3.5f : x[j];
        for (size_t r = 0; r < rows; r++)
            x[r * ld + j] = v;
    }
    for (size_t j = 3; j < cols; j += 11)
        for (size_t r = 0; r < rows; r++)
            x[r * ld + j] += 100.0f;
    fill_uniform(gamma, cols, g, 0.5, 1.5);
    fill(beta, cols, g, D_NORMAL);
    fill(rm, cols, g, D_NORMAL);
    fill_uniform(rv, cols, g, 0.1, 3.0);
    const float eps = 1e-5f, momentum = 0.1f;
    /* per-column double statistics for the magnitudes */
    for (size_t j = 0; j < cols; j++) {
        double s = 0, sa = 0, ss = 0;
        for (size_t r = 0; r < rows; r++) {
            s += x[r * ld + j];
            sa += fabs((double)x[r * ld + j]);
        }
        double mu = rows ? s / (double)rows : 0;
        for (size_t r = 0; r < rows; r++)
            ss += (x[r * ld + j] - mu) * (x[r * ld + j] - mu);
        double var = rows ? ss / (double)rows : 0;
        double is = 1.0 / sqrt(var + eps);
        cmag[2 * j] = rows ? sa / (double)rows : 0; /* mean(|x|) */
        cmag[2 * j + 1] = is;
        for (size_t r = 0; r < rows; r++) {
            double xr = x[r * ld + j];
            if (k == BP_K_bn_fwd_infer) {
                double isr = 1.0 / sqrt((double)rv[j] + eps);
                mag[r * cols + j] =
                    (fabs(xr) + fabs((double)rm[j])) * isr * gamma[j] +
                    fabs((double)beta[j]);
            } else {
                mag[r * cols + j] =
                    (fabs(xr - mu) + cmag[2 * j]) * is * gamma[j] +
                    fabs((double)beta[j]);
            }
        }
    }
    if (k == BP_K_bn_fwd_infer) {
        if (c->inplace) {
            float *xr2 = bclone(&bs, x, c->mode);
            float *xt2 = bclone(&bs, x, c->mode);
            if (!bs.ok)
                return bfree(&bs), free(mag), free(cmag), false;
            ref->bn_fwd_infer(rows, cols, xr2, ld, gamma, beta, rm, rv, eps,
                              xr2, ld);
            test->bn_fwd_infer(rows, cols, xt2, ld, gamma, beta, rm, rv, eps,
                               xt2, ld);
            cmp_mat(cx, "y", xr2, xt2, rows, cols, ld, mag, 1);
        } else {
            ref->bn_fwd_infer(rows, cols, x, ld, gamma, beta, rm, rv, eps, yr,
                              ldo);
            test->bn_fwd_infer(rows, cols, x, ld, gamma, beta, rm, rv, eps,
                               yt, ldo);
            cmp_mat(cx, "y", yr, yt, rows, cols, ldo, mag, 1);
            untouched(cx, "y", &bs, yt, rows, cols, ldo);
        }
    } else if (k == BP_K_bn_fwd_train) {
        float *mr = balloc(&bs, cols, c->mode);
        float *mt = balloc(&bs, cols, c->mode ^ 1);
        float *ir = balloc(&bs, cols, c->mode);
        float *it = balloc(&bs, cols, c->mode ^ 1);
        float *rmr = bclone(&bs, rm, c->mode);
        float *rmt = bclone(&bs, rm, c->mode);
        float *rvr = bclone(&bs, rv, c->mode);
        float *rvt = bclone(&bs, rv, c->mode);
        if (!bs.ok)
            return bfree(&bs), free(mag), free(cmag), false;
        bool with_running = !c->inplace; /* the other slot: running = NULL */
        ref->bn_fwd_train(rows, cols, x, ld, gamma, beta, eps, momentum, yr,
                          ldo, mr, ir, with_running ? rmr : NULL,
                          with_running ? rvr : NULL);
        test->bn_fwd_train(rows, cols, x, ld, gamma, beta, eps, momentum, yt,
                           ldo, mt, it, with_running ? rmt : NULL,
                           with_running ? rvt : NULL);
        double K = (double)rows + 8;
        cmp_mat(cx, "y", yr, yt, rows, cols, ldo, mag, K);
        untouched(cx, "y", &bs, yt, rows, cols, ldo);
        double *vm = malloc(at_least1(cols) * 3 * sizeof *vm);
        if (!vm)
            return bfree(&bs), free(mag), free(cmag), false;
        for (size_t j = 0; j < cols; j++) {
            vm[j] = cmag[2 * j];                                /* mean */
            vm[cols + j] = cmag[2 * j + 1];                     /* invstd */
            vm[2 * cols + j] = fabs((double)rvr[j]) * 2 + 1e-30; /* run var */
        }
        cmp_mat(cx, "mean", mr, mt, 1, cols, cols, vm, K);
        cmp_mat(cx, "invstd", ir, it, 1, cols, cols, vm + cols, K);
        if (with_running) {
            cmp_mat(cx, "run_mean", rmr, rmt, 1, cols, cols, NULL, K);
            cmp_mat(cx, "run_var", rvr, rvt, 1, cols, cols, vm + 2 * cols, K);
        } else {
            cmp_mat(cx, "run_mean (NULL: untouched)", rm, rmt, 1, cols, cols,
                    NULL, 1);
        }
        untouched(cx, "mean", &bs, mt, 1, cols, cols);
        untouched(cx, "invstd", &bs, it, 1, cols, cols);
        free(vm);
    } else { /* bn_bwd */
        float *dy = balloc(&bs, mat_len(rows, cols, ldo), c->mode ^ 1);
        float *mean = balloc(&bs, cols, c->mode);
        float *invstd = balloc(&bs, cols, c->mode);
        float *dgr = balloc(&bs, cols, c->mode);
        float *dgt = balloc(&bs, cols, c->mode ^ 1);
        float *dbr = balloc(&bs, cols, c->mode);
        float *dbt = balloc(&bs, cols, c->mode ^ 1);
        double *gmag = malloc(at_least1(cols) * 2 * sizeof *gmag);
        if (!bs.ok || !gmag)
            return bfree(&bs), free(mag), free(cmag), free(gmag), false;
        fill_mat(dy, rows, cols, ldo, g, D_NORMAL);
        /* the reference's own statistics, as the training pass saves them */
        ref->bn_fwd_train(rows, cols, x, ld, gamma, beta, eps, momentum, yr,
                          ldo, mean, invstd, NULL, NULL);
        for (size_t j = 0; j < cols; j++) {
            double sdy = 0, sdx = 0;
            for (size_t r = 0; r < rows; r++) {
                double xh = ((double)x[r * ld + j] - mean[j]) * invstd[j];
                sdy += fabs((double)dy[r * ldo + j]);
                sdx += fabs(dy[r * ldo + j] * xh);
            }
            gmag[j] = sdx + sdy * 1e-30;
            gmag[cols + j] = sdy;
            double kk = gamma[j] * (double)invstd[j] / (double)rows;
            for (size_t r = 0; r < rows; r++) {
                double xh = ((double)x[r * ld + j] - mean[j]) * invstd[j];
                mag[r * cols + j] =
                    kk * ((double)rows * fabs((double)dy[r * ldo + j]) + sdy +
                          (fabs(xh) + cmag[2 * j] * invstd[j]) * sdx);
            }
        }
        ref->bn_bwd(rows, cols, x, ld, dy, ldo, gamma, mean, invstd, yr, ldo,
                    dgr, dbr);
        test->bn_bwd(rows, cols, x, ld, dy, ldo, gamma, mean, invstd, yt, ldo,
                     dgt, dbt);
        double K = (double)rows + 8;
        cmp_mat(cx, "dx", yr, yt, rows, cols, ldo, mag, K);
        cmp_mat(cx, "dgamma", dgr, dgt, 1, cols, cols, gmag, K);
        cmp_mat(cx, "dbeta", dbr, dbt, 1, cols, cols, gmag + cols, K);
        untouched(cx, "dx", &bs, yt, rows, cols, ldo);
        untouched(cx, "dgamma", &bs, dgt, 1, cols, cols);
        untouched(cx, "dbeta", &bs, dbt, 1, cols, cols);
        free(gmag);
    }
    free(mag);
    free(cmag);
    bfree(&bs);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Optimizers                                                              */

/* Hyper-parameter sets cycled over the cases: plain, L2, L1, both,
 * Nesterov, a large rate. */
static bp_opt_params opt_params_for(size_t i)
{
    bp_opt_params p = {.lr = 0.05f, .momentum = 0.9f, .beta1 = 0.9f,
                       .beta2 = 0.999f, .eps = 1e-8f};
    int t = (int)(i % 7) + 1;
    p.bc1 = (float)(1.0 - pow(0.9, t));
    p.bc2 = (float)(1.0 - pow(0.999, t));
    switch (i % 6) {
    case 1: p.l2 = 1e-3f; break;
    case 2: p.l1 = 1e-4f; break;
    case 3: p.l2 = 5e-4f, p.l1 = 1e-5f, p.nesterov = true; break;
    case 4: p.nesterov = true, p.lr = 1.0f; break;
    case 5: p.lr = 1e-3f, p.momentum = 0.5f; break;
    default: break;
    }
    return p;
}

static bool run_optim(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                      bp_kernel_id k, const kcase *c, bp_rng *g)
{
    size_t n = c->n;
    bufs bs = {.ok = true};
    float *w = balloc(&bs, n, c->mode);
    float *gr = balloc(&bs, n, c->mode ^ 1);
    float *m = balloc(&bs, n, c->mode);
    float *v = balloc(&bs, n, c->mode ^ 1);
    double *mw = malloc(at_least1(n) * 3 * sizeof *mw);
    if (!bs.ok || !mw)
        return bfree(&bs), free(mw), false;
    fill(w, n, g, D_NORMAL);
    for (size_t i = 0; i < n; i += 9)
        w[i] = 0.0f; /* sign(0) = 0 for L1 */
    fill(gr, n, g, c->dist == D_SPECIAL ? D_WIDE : c->dist);
    fill(m, n, g, D_NORMAL);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(0.01 * bp_rng_uniform(g)); /* second moments >= 0 */
    bp_opt_params p = opt_params_for(n + (size_t)c->mode);
    float *wr = bclone(&bs, w, c->mode), *wt = bclone(&bs, w, c->mode);
    float *mr = bclone(&bs, m, c->mode), *mt = bclone(&bs, m, c->mode);
    float *vr = bclone(&bs, v, c->mode), *vt = bclone(&bs, v, c->mode);
    if (!bs.ok)
        return bfree(&bs), free(mw), false;
    double *mm = mw + n, *mv = mw + 2 * n;
    for (size_t i = 0; i < n; i++) {
        double gi = fabs((double)gr[i]) + fabs((double)p.l2 * w[i]) + p.l1;
        switch (k) {
        case BP_K_sgd_update:
            mw[i] = fabs((double)w[i]) + p.lr * gi;
            break;
        case BP_K_momentum_update: {
            double vn = p.momentum * fabs((double)m[i]) + gi;
            mm[i] = vn;
            mw[i] = fabs((double)w[i]) + p.lr * (vn + gi + p.momentum * vn);
            break;
        }
        default: { /* adam */
            double mn = p.beta1 * fabs((double)m[i]) + (1 - p.beta1) * gi;
            double vn = p.beta2 * v[i] + (1 - p.beta2) * gi * gi;
            mm[i] = mn;
            mv[i] = vn;
            double den = sqrt(vn) / sqrt((double)p.bc2) + p.eps;
            mw[i] = fabs((double)w[i]) + p.lr / p.bc1 * mn / den;
            break;
        }
        }
    }
    double ssr, sst, ssmag = 0;
    for (size_t i = 0; i < n; i++)
        ssmag += (double)gr[i] * gr[i];
    if (k == BP_K_sgd_update) {
        ssr = ref->sgd_update(n, wr, gr, &p);
        sst = test->sgd_update(n, wt, gr, &p);
    } else if (k == BP_K_momentum_update) {
        ssr = ref->momentum_update(n, wr, gr, mr, &p);
        sst = test->momentum_update(n, wt, gr, mt, &p);
        cmp_mat(cx, "v", mr, mt, 1, n, n, mm, 1);
        untouched(cx, "v", &bs, mt, 1, n, n);
    } else {
        ssr = ref->adam_update(n, wr, gr, mr, vr, &p);
        sst = test->adam_update(n, wt, gr, mt, vt, &p);
        cmp_mat(cx, "m", mr, mt, 1, n, n, mm, 1);
        cmp_mat(cx, "v", vr, vt, 1, n, n, mv, 1);
        untouched(cx, "m", &bs, mt, 1, n, n);
        untouched(cx, "v", &bs, vt, 1, n, n);
    }
    cmp_mat(cx, "w", wr, wt, 1, n, n, mw, 1);
    /* the returned sum of squares of g (both sum in double) */
    cmp_value(cx, "sum g^2", 0, 0, ssr, sst, false, ssmag, 1);
    untouched(cx, "w", &bs, wt, 1, n, n);
    free(mw);
    bfree(&bs);
    return true;
}

/* ---------------------------------------------------------------------- */
/* LSTM cell                                                               */

/* Rows x hidden sizes; each with padded leading dimensions or not, and
 * with or without a previous cell state (c_prev NULL: the first step). */
static const size_t lstm_rows[] = {0, 1, 2, 3, 7, 8, 9, 17, 33, 128};
static const size_t lstm_h[] = {1,  2,  3,  5,  7,  8,  9,  15, 16,
                                17, 23, 31, 32, 33, 64, 100, 128};

static size_t cases_lstm(size_t i, kcase *c)
{
    size_t nr = COUNT(lstm_rows), nh = COUNT(lstm_h);
    if (c) {
        size_t v = i % 4, rc = i / 4;
        c->m = lstm_rows[rc / nh];
        c->n = lstm_h[rc % nh];
        c->pad = v & 1 ? (rc % 3) * 5 + 1 : 0;
        c->mode = (int)((rc + v) & 1);
        c->inplace = v >> 1; /* here: c_prev is NULL */
        c->dist = (dist)(rc % D_COUNT);
    }
    return nr * nh * 4;
}

static void describe_lstm(const kcase *c, char *buf, size_t size)
{
    snprintf(buf, size, "rows=%zu h=%zu pad=%zu%s%s", c->m, c->n, c->pad,
             c->mode ? " aligned" : "", c->inplace ? " c_prev=NULL" : "");
}

static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Magnitudes (see the comparison rule at the top): a gate value's own;
 * c = f c_prev + i g: |f c_prev| + |i g|; h = o tanh(c): |h| plus c's
 * magnitude carried through tanh'. Backward, d = dc + dh o (1 - tc^2):
 * |dc| + |dh o| (1 + tc^2), carried into each delta by its other factors.
 * A gate or tanh may differ by up to FLT_MIN below the normal range (the
 * rule ignores such differences); SLACK(m) lets a product carry that
 * difference times its other factor m. */
#define SLACK(m) ((m) * FLT_MIN / U)
static bool run_lstm(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                     bp_kernel_id k, const kcase *c, bp_rng *g)
{
    size_t rows = c->m, h = c->n;
    size_t ldz = 4 * h + c->pad, ldc = h + c->pad, ldh = h + 2 * c->pad;
    bool no_prev = c->inplace;
    bufs bs = {.ok = true};
    float *z = balloc(&bs, mat_len(rows, 4 * h, ldz), c->mode);
    float *cp = balloc(&bs, mat_len(rows, h, ldc), c->mode ^ 1);
    float *cc = balloc(&bs, mat_len(rows, h, ldc), c->mode);
    float *dh = balloc(&bs, mat_len(rows, h, ldh), c->mode ^ 1);
    float *dc = balloc(&bs, mat_len(rows, h, ldh), c->mode);
    size_t ncell = at_least1(rows * h);
    double *mag = malloc(ncell * 6 * sizeof *mag);
    if (!bs.ok || !mag)
        return bfree(&bs), free(mag), false;
    double *mg = mag, *mc = mag + ncell, *mh = mag + 2 * ncell;
    fill_mat(cp, rows, h, ldc, g, D_WIDE);
    const float *cpv = no_prev ? NULL : cp;
    if (k == BP_K_lstm_fwd) {
        fill_mat(z, rows, 4 * h, ldz, g, c->dist);
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < h; j++) {
                const float *zr = z + r * ldz;
                double i = sigmoid_d(zr[j]), f = sigmoid_d(zr[h + j]);
                double gg = tanh((double)zr[2 * h + j]);
                double o = sigmoid_d(zr[3 * h + j]);
                double p = no_prev ? 0.0 : cp[r * ldc + j];
                double cn = f * p + i * gg, tc = tanh(cn);
                mc[r * h + j] = fabs(f * p) + fabs(i * gg) +
                                SLACK(fabs(p) + 2);
                mh[r * h + j] = fabs(o * tc) +
                                fabs(o) * (1 - tc * tc) * mc[r * h + j] +
                                SLACK(2);
            }
        float *zr = bclone(&bs, z, c->mode), *zt = bclone(&bs, z, c->mode);
        float *cr = balloc(&bs, mat_len(rows, h, ldc), c->mode);
        float *ct = balloc(&bs, mat_len(rows, h, ldc), c->mode ^ 1);
        float *hr = balloc(&bs, mat_len(rows, h, ldh), c->mode);
        float *ht = balloc(&bs, mat_len(rows, h, ldh), c->mode ^ 1);
        if (!bs.ok)
            return bfree(&bs), free(mag), false;
        ref->lstm_fwd(rows, h, zr, ldz, cpv, cr, ldc, hr, ldh);
        test->lstm_fwd(rows, h, zt, ldz, cpv, ct, ldc, ht, ldh);
        cmp_mat(cx, "gates", zr, zt, rows, 4 * h, ldz, NULL, 1);
        cmp_mat(cx, "c", cr, ct, rows, h, ldc, mc, 1);
        cmp_mat(cx, "h", hr, ht, rows, h, ldh, mh, 1);
        untouched(cx, "gates", &bs, zt, rows, 4 * h, ldz);
        untouched(cx, "c", &bs, ct, rows, h, ldc);
        untouched(cx, "h", &bs, ht, rows, h, ldh);
    } else {
        /* gate values as the forward step leaves them: i f o in (0, 1),
         * g in (-1, 1); saturated ones now and then */
        for (size_t r = 0; r < rows; r++) {
            float *zr = z + r * ldz;
            for (size_t j = 0; j < 4 * h; j++) {
                double u = bp_rng_uniform(g);
                if (j % 13 == 5)
                    u = j % 2 ? 1.0 : 0.0;
                zr[j] = (float)(j / h == 2 ? 2 * u - 1 : u);
            }
        }
        fill_mat(cc, rows, h, ldc, g, D_WIDE);
        /* no infinities here: inf * (1 - tc^2) is NaN or inf depending on
         * whether tanh rounded to exactly 1, which a 1-ulp difference
         * decides */
        dist dd = c->dist == D_SPECIAL ? D_WIDE : c->dist;
        fill_mat(dh, rows, h, ldh, g, dd);
        fill_mat(dc, rows, h, ldh, g, dd);
        double *mi = mag + 3 * ncell, *mf = mag + 4 * ncell,
               *mgg = mag + 5 * ncell;
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < h; j++) {
                const float *zr = z + r * ldz;
                double i = zr[j], f = zr[h + j], gg = zr[2 * h + j];
                double o = zr[3 * h + j];
                double p = no_prev ? 0.0 : cp[r * ldc + j];
                double tc = tanh((double)cc[r * ldc + j]);
                double dhv = dh[r * ldh + j];
                double md = fabs((double)dc[r * ldh + j]) +
                            fabs(dhv * o) * (1 + tc * tc) + SLACK(fabs(dhv));
                size_t e = r * h + j;
                mi[e] = md * fabs(gg) * i * (1 - i);
                mf[e] = md * fabs(p) * f * (1 - f);
                mgg[e] = md * i * (1 - gg * gg);
                mg[e] = (fabs(dhv * tc) + SLACK(fabs(dhv))) * o * (1 - o);
                mc[e] = md * f;
            }
        float *zr = bclone(&bs, z, c->mode), *zt = bclone(&bs, z, c->mode);
        float *dcr = bclone(&bs, dc, c->mode), *dct = bclone(&bs, dc, c->mode);
        if (!bs.ok)
            return bfree(&bs), free(mag), false;
        ref->lstm_bwd(rows, h, zr, ldz, cpv, cc, ldc, dh, ldh, dcr, ldh);
        test->lstm_bwd(rows, h, zt, ldz, cpv, cc, ldc, dh, ldh, dct, ldh);
        const char *names[4] = {"dz_i", "dz_f", "dz_g", "dz_o"};
        const double *mags[4] = {mi, mf, mgg, mg};
        for (int q = 0; q < 4; q++)
            cmp_mat(cx, names[q], zr + (size_t)q * h, zt + (size_t)q * h,
                    rows, h, ldz, mags[q], 1);
        cmp_mat(cx, "dc_prev", dcr, dct, rows, h, ldh, mc, 1);
        untouched(cx, "dz", &bs, zt, rows, 4 * h, ldz);
        untouched(cx, "dc_prev", &bs, dct, rows, h, ldh);
    }
    free(mag);
    bfree(&bs);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Window kernels: im2col, col2im, max and average pooling                 */

/* Image sizes, channel counts (every tail of an AVX-512 register and a
 * few full ones) and windows (size x size or rectangular, stride, padding:
 * the layers' cases, windows that overlap, padding that reaches past a
 * window's middle, strides that skip pixels) */
static const size_t conv_hw[][2] = {{1, 1}, {2, 3}, {3, 3},  {5, 4},
                                    {7, 7}, {8, 9}, {13, 11}, {16, 15}};
static const size_t conv_c[] = {1, 2, 3, 7, 8, 15, 16, 17, 32, 33};
static const size_t conv_win[][4] = {/* kh, kw, stride, pad */
    {1, 1, 1, 0}, {2, 2, 2, 0}, {3, 3, 1, 1}, {3, 3, 2, 1}, {3, 3, 1, 0},
    {2, 2, 1, 1}, {5, 5, 1, 2}, {3, 3, 3, 2}, {4, 4, 2, 1}, {2, 3, 1, 1}};

static size_t cases_conv(size_t i, kcase *c)
{
    size_t nhw = COUNT(conv_hw), nc = COUNT(conv_c), nw = COUNT(conv_win);
    size_t total = nhw * nc * nw * 2;
    if (c) {
        size_t v = i % 2, r = i / 2;
        size_t w = r % nw, ch = r / nw % nc, hw = r / nw / nc;
        bp_conv_geom *g = &c->geom;
        g->n = 1 + r % 2;
        g->kh = conv_win[w][0], g->kw = conv_win[w][1];
        g->stride = conv_win[w][2], g->pad = conv_win[w][3];
        /* an image smaller than the window grows to it */
        g->h = conv_hw[hw][0] < g->kh ? g->kh : conv_hw[hw][0];
        g->w = conv_hw[hw][1] < g->kw ? g->kw : conv_hw[hw][1];
        g->c = conv_c[ch];
        bp_conv_geom_make(g);
        c->mode = (int)v;
        c->dist = (dist)(r % D_COUNT);
    }
    return total;
}

static void describe_conv(const kcase *c, char *buf, size_t size)
{
    const bp_conv_geom *g = &c->geom;
    snprintf(buf, size, "%zu x %zux%zux%zu window %zux%zu stride %zu pad %zu%s",
             g->n, g->h, g->w, g->c, g->kh, g->kw, g->stride, g->pad,
             c->mode ? " aligned" : "");
}

static bool run_conv(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                     bp_kernel_id k, const kcase *c, bp_rng *g)
{
    const bp_conv_geom *ge = &c->geom;
    size_t img = ge->n * ge->h * ge->w * ge->c;
    size_t rows = ge->n * ge->oh * ge->ow;
    size_t patch = ge->kh * ge->kw * ge->c, out = rows * ge->c;
    bufs bs = {.ok = true};
    if (k == BP_K_im2col || k == BP_K_col2im) {
        bool fwd = k == BP_K_im2col;
        float *in = balloc(&bs, fwd ? img : rows * patch, c->mode);
        float *outr = balloc(&bs, fwd ? rows * patch : img, c->mode ^ 1);
        float *outt = balloc(&bs, fwd ? rows * patch : img, c->mode);
        if (!bs.ok)
            return bfree(&bs), false;
        fill(in, fwd ? img : rows * patch, g, c->dist);
        if (fwd) {
            ref->im2col(ge, in, outr);
            test->im2col(ge, in, outt);
            cmp_mat(cx, "col", outr, outt, rows, patch, patch, NULL, 1);
            untouched(cx, "col", &bs, outt, rows, patch, patch);
        } else {
            ref->col2im(ge, in, outr);
            test->col2im(ge, in, outt);
            cmp_mat(cx, "dx", outr, outt, 1, img, img, NULL, 1);
            untouched(cx, "dx", &bs, outt, 1, img, img);
        }
        bfree(&bs);
        return true;
    }
    if (k == BP_K_avgpool_fwd || k == BP_K_avgpool_bwd) {
        bool fwd = k == BP_K_avgpool_fwd;
        size_t nin = fwd ? img : out, nout = fwd ? out : img;
        float *in = balloc(&bs, nin, c->mode);
        float *outr = balloc(&bs, nout, c->mode ^ 1);
        float *outt = balloc(&bs, nout, c->mode);
        if (!bs.ok)
            return bfree(&bs), false;
        fill(in, nin, g, c->dist);
        if (fwd) {
            ref->avgpool_fwd(ge, in, outr);
            test->avgpool_fwd(ge, in, outt);
            cmp_mat(cx, "y", outr, outt, rows, ge->c, ge->c, NULL, 1);
            untouched(cx, "y", &bs, outt, rows, ge->c, ge->c);
        } else {
            ref->avgpool_bwd(ge, in, outr);
            test->avgpool_bwd(ge, in, outt);
            cmp_mat(cx, "dx", outr, outt, 1, img, img, NULL, 1);
            untouched(cx, "dx", &bs, outt, 1, img, img);
        }
        bfree(&bs);
        return true;
    }
    float *x = balloc(&bs, img, c->mode);
    float *yr = balloc(&bs, out, c->mode), *ar = balloc(&bs, out, c->mode);
    if (!bs.ok)
        return bfree(&bs), false;
    fill(x, img, g, c->dist);
    ref->maxpool_fwd(ge, x, yr, ar);
    if (k == BP_K_maxpool_fwd) {
        float *yt = balloc(&bs, out, c->mode ^ 1);
        float *at = balloc(&bs, out, c->mode);
        if (!bs.ok)
            return bfree(&bs), false;
        test->maxpool_fwd(ge, x, yt, at);
        cmp_mat(cx, "y", yr, yt, rows, ge->c, ge->c, NULL, 1);
        cmp_mat(cx, "arg", ar, at, rows, ge->c, ge->c, NULL, 1);
        untouched(cx, "y", &bs, yt, rows, ge->c, ge->c);
        untouched(cx, "arg", &bs, at, rows, ge->c, ge->c);
    } else {
        float *dy = balloc(&bs, out, c->mode ^ 1);
        float *dxr = balloc(&bs, img, c->mode);
        float *dxt = balloc(&bs, img, c->mode ^ 1);
        if (!bs.ok)
            return bfree(&bs), false;
        /* the case's values, signed zeros among them: a pixel gets
         * 0 + dy, never dy itself */
        fill(dy, out, g, c->dist);
        ref->maxpool_bwd(ge, dy, ar, dxr);
        test->maxpool_bwd(ge, dy, ar, dxt);
        cmp_mat(cx, "dx", dxr, dxt, 1, img, img, NULL, 1);
        untouched(cx, "dx", &bs, dxt, 1, img, img);
    }
    bfree(&bs);
    return true;
}

/* The direct convolution and its weight gradient: the window battery,
 * each case with a count of output channels (1, a vector's tails, two
 * vectors and more: the kernels' chunks are two vectors wide), each
 * activation (forward: applied; wgrad: its delta taken), a bias or none
 * (wgrad: the bias gradient or none), cycling. The bound is GEMM's on the same
 * product (the patches, made by the reference im2col, times w; their
 * transpose times dy), with the epilogue's terms as run_gemm_post's. */
static const size_t dconv_co[] = {1, 5, 16, 17, 32, 33, 64};

static size_t cases_dconv(size_t i, kcase *c)
{
    size_t total = cases_conv(i, c);
    if (c)
        c->n = dconv_co[i / 2 % COUNT(dconv_co)];
    return total;
}

static void describe_dconv(const kcase *c, char *buf, size_t size)
{
    char geom[160];
    describe_conv(c, geom, sizeof geom);
    snprintf(buf, size, "%s, %zu outputs", geom, c->n);
}

/* mag[r][j] = sum_p |A[r][p] B[p][j]|, A r x p (or its transpose, ta) */
static void abs_product(const float *A, bool ta, const float *B, size_t m,
                        size_t n, size_t k, double *mag)
{
    for (size_t r = 0; r < m; r++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t p = 0; p < k; p++) {
                double a = ta ? A[p * m + r] : A[r * k + p];
                /* a zero of the patches may be padding, never multiplied
                 * (an infinite weight would make the bound NaN) */
                s += a == 0 ? 0 : fabs(a * (double)B[p * n + j]);
            }
            mag[r * n + j] = s;
        }
}

static bool run_dconv(ctx *cx, const bp_kernels *ref, const bp_kernels *test,
                      bp_kernel_id k, const kcase *c, bp_rng *g)
{
    const bp_conv_geom *ge = &c->geom;
    size_t co = c->n, img = ge->n * ge->h * ge->w * ge->c;
    size_t rows = ge->n * ge->oh * ge->ow, patch = ge->kh * ge->kw * ge->c;
    bool fwd = k == BP_K_conv_direct;
    size_t v = ge->h + ge->w + co;
    bp_kact act = (bp_kact)(v % 4);
    bufs bs = {.ok = true};
    float *x = balloc(&bs, img, c->mode);
    float *col = balloc(&bs, rows * patch, 0);
    /* forward: the weights and bias; wgrad: dy, y and dy's delta */
    float *w = balloc(&bs, fwd ? patch * co : rows * co, c->mode ^ 1);
    float *b = balloc(&bs, co, c->mode);
    float *y = balloc(&bs, rows * co, c->mode);
    float *dp = balloc(&bs, rows * co, 0);
    size_t nout = fwd ? rows * co : patch * co;
    float *outr = balloc(&bs, nout, c->mode ^ 1);
    float *outt = balloc(&bs, nout, c->mode);
    float *gbr = balloc(&bs, co, c->mode), *gbt = balloc(&bs, co, c->mode ^ 1);
    double *mag = calloc(at_least1(nout), sizeof *mag);
    double *mb = calloc(at_least1(co), sizeof *mb);
    if (!bs.ok || !mag || !mb) {
        free(mag), free(mb);
        return bfree(&bs), false;
    }
    /* specials (infinities, NaN, FLT_MAX) in x only: two of them in one
     * sum would overflow, in the reference's rounded products, to
     * infinities of both signs (NaN) where a fused chain stays finite */
    fill(x, img, g, c->dist);
    if (c->dist == D_SPECIAL)
        fill_uniform(w, fwd ? patch * co : rows * co, g, -1, 1);
    else
        fill(w, fwd ? patch * co : rows * co, g, c->dist);
    fill(b, co, g, D_NORMAL);
    ref->im2col(ge, x, col);
    if (fwd) {
        const float *bias = v % 3 ? b : NULL;
        ref->conv_direct(ge, co, x, w, bias, act, outr);
        test->conv_direct(ge, co, x, w, bias, act, outt);
        abs_product(col, false, w, rows, co, patch, mag);
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < co; j++)
                mag[r * co + j] += (bias ? fabs((double)bias[j]) : 0) +
                                   4 * fabs((double)outr[r * co + j]);
        cmp_mat(cx, "y", outr, outt, rows, co, co, mag, (double)patch + 2);
        untouched(cx, "y", &bs, outt, rows, co, co);
    } else {
        /* every other case without the bias gradient; every other pair
         * continuing sums already in gw and gb */
        bool sums = v % 2, acc = v / 2 % 2;
        if (acc) {
            fill(outr, patch * co, g, D_NORMAL);
            memcpy(outt, outr, patch * co * sizeof *outt);
            if (sums) {
                fill(gbr, co, g, D_NORMAL);
                memcpy(gbt, gbr, co * sizeof *gbt);
            }
        }
        fill_act_out(y, rows * co, act, g,
                     c->dist == D_SPECIAL ? D_NORMAL : c->dist);
        switch (act) { /* the delta the kernels take, for the bound */
        case BP_KACT_NONE: memcpy(dp, w, rows * co * sizeof *dp); break;
        case BP_KACT_RELU: ref->relu_bwd(rows * co, y, w, dp); break;
        case BP_KACT_SIGMOID: ref->sigmoid_bwd(rows * co, y, w, dp); break;
        case BP_KACT_TANH: ref->tanh_bwd(rows * co, y, w, dp); break;
        }
        /* the terms: the products, and the entry values (acc) */
        abs_product(col, true, dp, patch, co, rows, mag);
        for (size_t j = 0; j < co; j++) {
            mb[j] = acc ? fabs((double)gbr[j]) : 0;
            for (size_t r = 0; r < rows; r++)
                mb[j] += fabs((double)dp[r * co + j]);
        }
        for (size_t e = 0; e < patch * co && acc; e++)
            mag[e] += fabs((double)outr[e]);
        ref->conv_direct_wgrad(ge, co, x, w, y, act, acc, outr,
                               sums ? gbr : NULL);
        test->conv_direct_wgrad(ge, co, x, w, y, act, acc, outt,
                                sums ? gbt : NULL);
        cmp_mat(cx, "gw", outr, outt, patch, co, co, mag, (double)rows + 2);
        untouched(cx, "gw", &bs, outt, patch, co, co);
        if (sums)
            cmp_mat(cx, "gb", gbr, gbt, 1, co, co, mb, (double)rows + 2);
        untouched(cx, "gb", &bs, gbt, sums ? 1 : 0, co, co);
    }
    free(mag), free(mb);
    bfree(&bs);
    return true;
}

/* ---------------------------------------------------------------------- */
/* The signature table                                                     */

static const harness harnesses[] = {
    [BP_SIG_GEMM] = {cases_gemm, run_gemm, describe_gemm},
    [BP_SIG_UNARY] = {cases_vec_inplace, run_unary, describe_vec},
    [BP_SIG_UNARY_BWD] = {cases_vec_inplace, run_unary_bwd, describe_vec},
    [BP_SIG_SOFTMAX] = {cases_mat0, run_softmax, describe_mat},
    [BP_SIG_SOFTMAX_BWD] = {cases_mat0, run_softmax_bwd, describe_mat},
    [BP_SIG_XENT] = {cases_mat0, run_xent, describe_mat},
    [BP_SIG_BCE] = {cases_vec_inplace, run_mse_bce, describe_vec},
    [BP_SIG_MSE] = {cases_vec_inplace, run_mse_bce, describe_vec},
    [BP_SIG_BIAS_ADD] = {cases_mat0, run_bias, describe_mat},
    [BP_SIG_BIAS_ACT] = {cases_mat0, run_bias, describe_mat},
    [BP_SIG_BIAS_GRAD] = {cases_mat0, run_bias, describe_mat},
    [BP_SIG_DROPOUT] = {cases_vec_inplace, run_dropout, describe_vec},
    [BP_SIG_VMUL] = {cases_vec_inplace, run_vmul, describe_vec},
    [BP_SIG_BN_TRAIN] = {cases_mat1, run_bn, describe_mat},
    [BP_SIG_BN_INFER] = {cases_mat0, run_bn, describe_mat},
    [BP_SIG_BN_BWD] = {cases_mat1, run_bn, describe_mat},
    [BP_SIG_SGD] = {cases_vec_plain, run_optim, describe_vec},
    [BP_SIG_MOMENTUM] = {cases_vec_plain, run_optim, describe_vec},
    [BP_SIG_ADAM] = {cases_vec_plain, run_optim, describe_vec},
    [BP_SIG_SUMSQ] = {cases_vec_plain, run_sumsq, describe_vec},
    [BP_SIG_SCALE] = {cases_vec_plain, run_scale_clip, describe_vec},
    [BP_SIG_CLIP] = {cases_vec_plain, run_scale_clip, describe_vec},
    [BP_SIG_LSTM_FWD] = {cases_lstm, run_lstm, describe_lstm},
    [BP_SIG_LSTM_BWD] = {cases_lstm, run_lstm, describe_lstm},
    [BP_SIG_MAXNORM] = {cases_mat0, run_maxnorm, describe_mat},
    [BP_SIG_IM2COL] = {cases_conv, run_conv, describe_conv},
    [BP_SIG_COL2IM] = {cases_conv, run_conv, describe_conv},
    [BP_SIG_POOL_FWD] = {cases_conv, run_conv, describe_conv},
    [BP_SIG_POOL_BWD] = {cases_conv, run_conv, describe_conv},
    [BP_SIG_AVGPOOL_FWD] = {cases_conv, run_conv, describe_conv},
    [BP_SIG_AVGPOOL_BWD] = {cases_conv, run_conv, describe_conv},
    [BP_SIG_CONV_DIRECT] = {cases_dconv, run_dconv, describe_dconv},
    [BP_SIG_CONV_WGRAD] = {cases_dconv, run_dconv, describe_dconv},
};

static const harness *harness_of(bp_kernel_id k)
{
    const bp_kernel_desc *d = bp_kernel_desc_of(k);
    return d ? &harnesses[d->sig] : NULL;
}

/* Quick mode runs every QUICK_STRIDE-th case (a prime, so that cycling
 * parameters are not aliased) plus the first and the last. */
#define QUICK_STRIDE 7

static size_t full_index(bp_kernel_id k, size_t i, bool quick)
{
    if (!quick)
        return i;
    size_t total = harness_of(k)->cases(0, NULL);
    size_t j = i * QUICK_STRIDE;
    return j < total ? j : total - 1;
}

size_t bp_kcheck_num_cases(bp_kernel_id k, bool quick)
{
    const harness *h = harness_of(k);
    if (!h)
        return 0;
    size_t total = h->cases(0, NULL);
    if (!quick)
        return total;
    /* indices 0, 7, 14, ... plus the last case */
    return (total - 1) / QUICK_STRIDE + 1 + ((total - 1) % QUICK_STRIDE != 0);
}

static kcase case_of(bp_kernel_id k, size_t i, bool quick)
{
    kcase c = {0};
    c.alpha = 1.0f;
    harness_of(k)->cases(full_index(k, i, quick), &c);
    return c;
}

void bp_kcheck_case_name(bp_kernel_id k, size_t i, bool quick, char *buf,
                         size_t size)
{
    if (!harness_of(k)) {
        snprintf(buf, size, "?");
        return;
    }
    kcase c = case_of(k, i, quick);
    harness_of(k)->describe(&c, buf, size);
}

bp_status bp_kcheck_case(const bp_kernels *ref, const bp_kernels *test,
                         const bp_gemm_ctx *gc, bp_kernel_id k, size_t i,
                         bool quick, bp_kcheck_stats *st, bp_err *err)
{
    const harness *h = harness_of(k);
    if (!h || !ref || !test)
        return bp_fail(err, BP_ERR_INVALID_ARG, "kcheck: bad kernel or table");
    ctx cx = {.d = bp_kernel_desc_of(k), .st = st, .gc = gc};
    char cname[160];
    bp_kcheck_case_name(k, i, quick, cname, sizeof cname);
    snprintf(cx.name, sizeof cx.name, "%s/%s [%s]", cx.d->name,
             test->isa_name, cname);
    kcase c = case_of(k, i, quick);
    size_t fi = full_index(k, i, quick);
    bp_rng g = bp_rng_stream(0x6b636865636bull ^ (uint64_t)k, fi);
    st->cases++;
    if (!h->run(&cx, ref, test, k, &c, &g))
        return bp_fail(err, BP_ERR_NOMEM, "kcheck: cannot map buffers for %s",
                       cx.name);
    return BP_OK;
}

bp_status bp_kcheck_kernel(const bp_kernels *ref, const bp_kernels *test,
                           const bp_gemm_ctx *gc, bp_kernel_id k, bool quick,
                           bp_kcheck_stats *st, bp_err *err)
{
    memset(st, 0, sizeof *st);
    size_t n = bp_kcheck_num_cases(k, quick);
    for (size_t i = 0; i < n; i++) {
        bp_status s = bp_kcheck_case(ref, test, gc, k, i, quick, st, err);
        if (s != BP_OK)
            return s;
    }
    return BP_OK;
}

void bp_kcheck_tolerance_str(bp_kernel_id k, char *buf, size_t size)
{
    const bp_kernel_desc *d = bp_kernel_desc_of(k);
    if (!d) {
        snprintf(buf, size, "?");
        return;
    }
    switch (d->tol) {
    case BP_TOL_EXACT: snprintf(buf, size, "bit-identical"); break;
    case BP_TOL_ELEM:
    case BP_TOL_TRANSC:
        snprintf(buf, size, "<= %g ulp or %g*u*|terms|", d->tol_factor,
                 d->tol_factor);
        break;
    case BP_TOL_SUM:
        snprintf(buf, size, "<= %g ulp or %g*K*u*sum|terms|", d->tol_factor,
                 d->tol_factor);
        break;
    }
}

const char *bp_kcheck_by_name(bp_kcheck_by by)
{
    switch (by) {
    case BP_BY_EXACT: return "exact";
    case BP_BY_ULP: return "ulp";
    case BP_BY_ABS: return "abs";
    case BP_BY_NONE: break;
    }
    return "-";
}
