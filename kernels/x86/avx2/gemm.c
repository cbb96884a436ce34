/* kernels/x86/avx2/gemm.c - AVX2 + FMA GEMM: register-tiled micro-kernels
 * and packers, run by the blocked driver in kernels/gemm/gemm_driver.c
 * (loop nest and determinism argument in kernels/gemm/gemm_internal.h).
 *
 * Tiles (16 ymm registers, 2 FMA ports x 8 lanes):
 *   wide    6 x 16: 12 accumulators + 2 B vectors + 1 broadcast; per k
 *           8 loads for 12 FMAs (the classic Haswell shape);
 *   narrow  12 x 8: for n <= 8 with A in rows (NN, NT);
 *   colvec  8 x n, n <= 12: for TN/TT with a narrow n, vectors down the
 *           columns of C so all 8 lanes work for the 10-class layer.
 * Default blocking (without one in the context; see
 * kernels/gemm/blocking.c) as for AVX-512: direct nest KC 256
 * (B micro-panel 256 x 16 floats = 16 KiB in L1), packed nest KC 384,
 * MC 192, NC 1024.
 * Partial tiles: C is read and written with vmaskmovps, which never
 * touches masked-out lanes; A and B are padded by the driver's packers.
 * Epilogue (gemm_internal.h bp_gemm_ep): bias and ReLU are added in
 * registers before the store; sigmoid and tanh go through store_tile_ep,
 * out of line, with the accumulators copied to the stack.
 */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/gemm/gemm_internal.h"
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/bias_act.inc"

/* Lane mask selecting the first n (<= 8) lanes, for vmaskmovps. */
static inline __m256i lanes(size_t n)
{
    static const int32_t ramp[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                     0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_loadu_si256((const __m256i *)(ramp + 8 - (n > 8 ? 8 : n)));
}

/* The first w floats at p in the low lanes (the others 0); nothing at or
 * past p + w is read. */
static inline __m256 load_c(const float *p, size_t w)
{
    return w >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lanes(w));
}

/* alpha * x + beta * old for one vector of a tile row at cv (lanes mk,
 * all 8 when full): alpha == 1 and beta in {0, 1} skip the multiplies. */
static inline __attribute__((always_inline)) __m256
tile_value(__m256 x, const float *cv, bool full, __m256i mk, float alpha,
           float beta)
{
    __m256 t = alpha == 1.0f ? x : _mm256_mul_ps(_mm256_set1_ps(alpha), x);
    if (beta != 0.0f) {
        __m256 old = full ? _mm256_loadu_ps(cv) : _mm256_maskload_ps(cv, mk);
        t = beta == 1.0f ? _mm256_add_ps(old, t)
                         : _mm256_fmadd_ps(_mm256_set1_ps(beta), old, t);
    }
    return t;
}

static inline __attribute__((always_inline)) void
store_vec(float *cv, bool full, __m256i mk, __m256 t)
{
    if (full)
        _mm256_storeu_ps(cv, t);
    else
        _mm256_maskstore_ps(cv, mk, t);
}

/* The store masks of a tile n columns wide, and the bias of its columns
 * (zeros without one). */
static inline __attribute__((always_inline)) void
tile_setup(int V, size_t n, const bp_gemm_ep *ep, bool *full, __m256i *mk,
           __m256 *bv)
{
#pragma GCC unroll 2
    for (int v = 0; v < V; v++) {
        size_t lo = 8 * (size_t)v;
        full[v] = n >= lo + 8;
        mk[v] = lanes(n > lo ? n - lo : 0);
        bv[v] = ep && ep->bias ? load_c(ep->bias + lo, n > lo ? n - lo : 0)
                               : _mm256_setzero_ps();
    }
}

/* store_tile with an epilogue (gemm_internal.h bp_gemm_ep): each value,
 * then act(value + bias) as bias_act computes it (kernels/simd/bias.inc
 * over vec.h), then the store. Out of line, so that the unrolled
 * micro-kernels do not carry a copy of exp each; the values come through
 * a stack copy of the accumulators (L1), C is written once. */
static __attribute__((noinline)) void
store_tile_ep(const __m256 *tmp, int R, int V, float *c, size_t ldc,
              size_t m, size_t n, float alpha, float beta,
              const bp_gemm_ep *ep)
{
    __m256i mk[2];
    bool full[2];
    __m256 bv[2];
    tile_setup(V, n, ep, full, mk, bv);
    for (int i = 0; i < R && (size_t)i < m; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int v = 0; v < V; v++) {
            float *cv = ci + 8 * v;
            __m256 t = tile_value(tmp[i * V + v], cv, full[v], mk[v], alpha,
                                  beta);
            store_vec(cv, full[v], mk[v],
                      bias_act1(t, bv[v], ep->bias != NULL, ep->act));
        }
    }
}

/* The rows of a tile with no epilogue, or with a bias and ReLU (two
 * cheap operations in registers). Called with constants for a full tile
 * (m == R, every lane, alpha 1, beta 0: nearly every call of a training
 * step) so that it compiles to plain stores; acc is indexed by constants
 * once unrolled, so the accumulators never leave their registers. */
static inline __attribute__((always_inline)) void
store_rows(const __m256 *acc, int R, int V, float *c, size_t ldc, size_t m,
           const bool *full, const __m256i *mk, float alpha, float beta,
           bool bias, bool relu, const __m256 *bv)
{
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) {
        if ((size_t)i >= m)
            break;
        float *ci = c + (size_t)i * ldc;
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            float *cv = ci + 8 * v;
            __m256 t = tile_value(acc[i * V + v], cv, full[v], mk[v], alpha,
                                  beta);
            if (bias || relu)
                t = bias_act1(t, bv[v], bias,
                              relu ? BP_KACT_RELU : BP_KACT_NONE);
            store_vec(cv, full[v], mk[v], t);
        }
    }
}

/* C[0:m][0:n] = alpha * acc + beta * C, acc[i*V + v] = row i, columns
 * 8v..8v+7, then the epilogue ep (NULL: none). beta == 0: C is not
 * read. */
static inline __attribute__((always_inline)) void
store_tile(const __m256 *acc, int R, int V, float *c, size_t ldc, size_t m,
           size_t n, float alpha, float beta, const bp_gemm_ep *ep)
{
    if (ep && (ep->act == BP_KACT_SIGMOID || ep->act == BP_KACT_TANH)) {
        /* copied element by element (constant indices once unrolled), so
         * that acc itself stays in registers through the k loop */
        __m256 tmp[16]; /* R * V <= 16 (6 x 2, 12 x 1) */
#pragma GCC unroll 16
        for (int i = 0; i < R * V; i++)
            tmp[i] = acc[i];
        store_tile_ep(tmp, R, V, c, ldc, m, n, alpha, beta, ep);
        return;
    }
    __m256i mk[2];
    bool full[2];
    __m256 bv[2];
    const bool bias = ep && ep->bias, relu = ep && ep->act == BP_KACT_RELU;
    tile_setup(V, n, ep, full, mk, bv);
    if (m == (size_t)R && n == (size_t)(8 * V) && alpha == 1.0f &&
        beta == 0.0f) {
        const bool all[2] = {true, true};
        store_rows(acc, R, V, c, ldc, (size_t)R, all, mk, 1.0f, 0.0f, bias,
                   relu, bv);
    } else {
        store_rows(acc, R, V, c, ldc, m, full, mk, alpha, beta, bias, relu,
                   bv);
    }
}

#define UKR_NAME ukr_6x16_row
#define UKR_R 6
#define UKR_V 2
#define UKR_COL 0
#include "kernels/x86/avx2/gemm_ukr.inc"

#define UKR_NAME ukr_6x16_col
#define UKR_R 6
#define UKR_V 2
#define UKR_COL 1
#include "kernels/x86/avx2/gemm_ukr.inc"

#define UKR_NAME ukr_6x16_packed
#define UKR_R 6
#define UKR_V 2
#define UKR_COL 2
#include "kernels/x86/avx2/gemm_ukr.inc"

#define UKR_NAME ukr_12x8_row
#define UKR_R 12
#define UKR_V 1
#define UKR_COL 0
#include "kernels/x86/avx2/gemm_ukr.inc"

#define UKR_NAME ukr_12x8_col
#define UKR_R 12
#define UKR_V 1
#define UKR_COL 1
#include "kernels/x86/avx2/gemm_ukr.inc"

#define UKR_NAME ukr_12x8_packed
#define UKR_R 12
#define UKR_V 1
#define UKR_COL 2
#include "kernels/x86/avx2/gemm_ukr.inc"

/* ---- 8 x 8 transpose in registers */

static inline void transpose8(__m256 r[8])
{
    __m256 t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++)
        r[i] = t[i];
}

/* ---- column-vector kernels (see kernels/x86/avx512/gemm.c): one 8-row
 * vector per column, NJ <= 12 columns, so NJ accumulators; per k one load
 * of A and NJ broadcasts of the packed B row. */

static inline __attribute__((always_inline)) void
store_cols(const __m256 *acc, int nj, float *c, size_t ldc, size_t m,
           float alpha, float beta)
{
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int j0 = 0; j0 < nj; j0 += 8) {
        int w = nj - j0 < 8 ? nj - j0 : 8;
        __m256i mk = lanes((size_t)w);
        __m256 r[8];
        for (int j = 0; j < 8; j++)
            r[j] = j < w ? acc[j0 + j] : _mm256_setzero_ps();
        transpose8(r);
        for (size_t i = 0; i < 8 && i < m; i++) {
            float *ci = c + i * ldc + j0;
            __m256 t = alpha == 1.0f ? r[i] : _mm256_mul_ps(va, r[i]);
            if (beta != 0.0f)
                t = _mm256_fmadd_ps(vb, _mm256_maskload_ps(ci, mk), t);
            _mm256_maskstore_ps(ci, mk, t);
        }
    }
}

/* The inverse of store_cols: rows 0..m-1 (m <= 8) of C's first nj
 * columns into column vectors (rows past m read as 0). */
static inline __attribute__((always_inline)) void
load_cols(__m256 *acc, int nj, const float *c, size_t ldc, size_t m)
{
    for (int j0 = 0; j0 < nj; j0 += 8) {
        int w = nj - j0 < 8 ? nj - j0 : 8;
        __m256 r[8];
        for (size_t i = 0; i < 8; i++)
            r[i] = i < m ? load_c(c + i * ldc + j0, (size_t)w)
                         : _mm256_setzero_ps();
        transpose8(r);
        for (int j = 0; j < w; j++)
            acc[j0 + j] = r[j];
    }
}

#define COLVEC(NJ)                                                            \
    static void colvec_##NJ(size_t kc, const float *a, size_t lda,           \
                            const float *b, float *c, size_t ldc, size_t m,  \
                            bool cont, float alpha, float beta)              \
    {                                                                         \
        __m256i mk = lanes(m);                                                \
        bool full = m >= 8;                                                   \
        __m256 acc[NJ];                                                       \
        _Pragma("GCC unroll 16") for (int j = 0; j < NJ; j++)                 \
            acc[j] = _mm256_setzero_ps();                                     \
        if (cont) {                                                           \
            __m256 in[NJ];                                                    \
            load_cols(in, NJ, c, ldc, m);                                     \
            _Pragma("GCC unroll 16") for (int j = 0; j < NJ; j++)             \
                acc[j] = in[j];                                               \
        }                                                                     \
        _Pragma("GCC unroll 4") for (size_t p = 0; p < kc; p++) {             \
            __m256 av = full ? _mm256_loadu_ps(a) : _mm256_maskload_ps(a, mk);\
            _Pragma("GCC unroll 16") for (int j = 0; j < NJ; j++)             \
                acc[j] = _mm256_fmadd_ps(av, _mm256_set1_ps(b[j]), acc[j]);   \
            a += lda;                                                         \
            b += NJ;                                                          \
        }                                                                     \
        /* through a copy: were acc's address taken, GCC would keep acc  \
         * in memory and store every accumulator on every k */             \
        __m256 out[NJ];                                                       \
        _Pragma("GCC unroll 16") for (int j = 0; j < NJ; j++)                 \
            out[j] = acc[j];                                                  \
        store_cols(out, NJ, c, ldc, m, alpha, beta);                          \
    }

COLVEC(1)
COLVEC(2)
COLVEC(3)
COLVEC(4)
COLVEC(5)
COLVEC(6)
COLVEC(7)
COLVEC(8)
COLVEC(9)
COLVEC(10)
COLVEC(11)
COLVEC(12)

/* ---- packers (contracts in gemm_internal.h) */

static void pack_b(bool tb, size_t kc, size_t nr, size_t n, const float *b,
                   size_t ldb, float *out)
{
    if (!tb) {
        for (size_t p = 0; p < kc; p++)
            for (size_t j = 0; j < nr; j += 8) {
                size_t w = nr - j < 8 ? nr - j : 8, v = n > j ? n - j : 0;
                __m256 x = _mm256_maskload_ps(b + p * ldb + j, lanes(v < w ? v : w));
                _mm256_maskstore_ps(out + p * nr + j, lanes(w), x);
            }
        return;
    }
    for (size_t j0 = 0; j0 < nr; j0 += 8) {
        size_t w = nr - j0 < 8 ? nr - j0 : 8;
        for (size_t p0 = 0; p0 < kc; p0 += 8) {
            size_t pw = kc - p0 < 8 ? kc - p0 : 8;
            __m256 r[8];
            for (size_t j = 0; j < 8; j++)
                r[j] = j0 + j < n ? _mm256_maskload_ps(b + (j0 + j) * ldb + p0, lanes(pw))
                                  : _mm256_setzero_ps();
            transpose8(r);
            for (size_t p = 0; p < pw; p++)
                _mm256_maskstore_ps(out + (p0 + p) * nr + j0, lanes(w), r[p]);
        }
    }
}

static void pack_a(bool ta, size_t mr, size_t m, size_t kc, const float *a,
                   size_t lda, float *out)
{
    if (ta) {
        for (size_t p = 0; p < kc; p++)
            for (size_t i = 0; i < mr; i += 8) {
                size_t w = mr - i < 8 ? mr - i : 8, v = m > i ? m - i : 0;
                __m256 x = _mm256_maskload_ps(a + p * lda + i, lanes(v < w ? v : w));
                _mm256_maskstore_ps(out + p * mr + i, lanes(w), x);
            }
        return;
    }
    for (size_t i0 = 0; i0 < mr; i0 += 8) {
        size_t w = mr - i0 < 8 ? mr - i0 : 8;
        for (size_t p0 = 0; p0 < kc; p0 += 8) {
            size_t pw = kc - p0 < 8 ? kc - p0 : 8;
            __m256 r[8];
            for (size_t i = 0; i < 8; i++)
                r[i] = i0 + i < m ? _mm256_maskload_ps(a + (i0 + i) * lda + p0, lanes(pw))
                                  : _mm256_setzero_ps();
            transpose8(r);
            for (size_t p = 0; p < pw; p++)
                _mm256_maskstore_ps(out + (p0 + p) * mr + i0, lanes(w), r[p]);
        }
    }
}

const bp_gemm_arch bp_gemm_arch__avx2 = {
    .name = "avx2",
    .wide = {6, 16, ukr_6x16_row, ukr_6x16_col, ukr_6x16_packed},
    .narrow = {12, 8, ukr_12x8_row, ukr_12x8_col, ukr_12x8_packed},
    .pack_a = pack_a,
    .pack_b = pack_b,
    .kc = 256,
    .mc = 192,
    .nc = 1024,
    .kc_packed = 1024,
    .colvec_mr = 8,
    .colvec = {NULL, colvec_1, colvec_2, colvec_3, colvec_4, colvec_5,
               colvec_6, colvec_7, colvec_8, colvec_9, colvec_10, colvec_11,
               colvec_12},
    .ukr_ep = true,
    .bias_act = bp_bias_act__avx2,
    .colsum = bp_gemm_colsum__avx2,
};

void bp_gemm__avx2(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m,
                   size_t n, size_t k, float alpha, const float *A,
                   size_t lda, const float *B, size_t ldb, float beta,
                   float *C, size_t ldc, const bp_gemm_post *post)
{
    bp__gemm_run(&bp_gemm_arch__avx2, gc, ta, tb, m, n, k, alpha, A, lda, B,
                 ldb, beta, C, ldc, post);
}
