/* kernels/x86/avx512/gemm.c - AVX-512 GEMM: register-tiled micro-kernels
 * and the transposed-B packer, run by the blocked driver in
 * kernels/gemm/gemm_driver.c (loop nest and determinism argument in
 * kernels/gemm/gemm_internal.h).
 *
 * Tiles (this machine class: 2 FMA ports x 16 lanes, 32 zmm registers,
 * 48 KiB L1D, 2 MiB L2):
 *   wide    12 x 32: 24 accumulators + 2 B vectors; per k 14 loads for 24
 *           FMAs, so the loop is FMA-bound with load ports to spare
 *           (measured in L1 on a Zen 4: 99% of the FMA peak; 6x64, 8x48
 *           and 14x32 reach the same, 12x32 fits the MLP's m = 128/784/256
 *           best);
 *   narrow  16 x 16: for n <= 16 with A in rows (NN, NT), where a 32-wide
 *           tile would waste two thirds of its lanes; 16 rows divide the
 *           batch of 128, where 24 left two thirds of the last tile idle
 *           (NN 128x10x128 on a Zen 4: 5.8 -> 5.0 us);
 *   colvec  32 x n, n <= 12: for TN/TT with a narrow n (the 10-class
 *           layer's weight gradient), vectors down the columns of C.
 * Default blocking (a call whose context sets none; a run's context has
 * the one kernels/gemm/blocking.c derives from the caches, and results
 * have the same bits either way): direct nest KC <= 256, so one B
 * micro-panel (KC x 32 floats = 32 KiB) stays in a 48 KiB L1 while the
 * tiles of A stream past it from L2 (a smaller L1 streams it from L2 too,
 * at no cost measured on a Zen 4); packed nest KC <= 384 (fewer passes over C;
 * measured best on 1024^3), MC 192, NC 1024 (A block 288 KiB + B block
 * 1.5 MiB in the 2 MiB L2).
 * Partial tiles: n < NR is handled by masked loads and stores of C;
 * m < MR by storing only m rows (the driver pads A).
 * Epilogue (gemm_internal.h bp_gemm_ep): bias and ReLU are added in
 * registers before the store; sigmoid and tanh go through store_tile_ep,
 * out of line, with the accumulators copied to the stack.
 */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/gemm/gemm_internal.h"
#include "kernels/x86/avx512/avx512_list.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/bias_act.inc"

/* The lanes of a tile row's vector v (columns 16v..16v+15) that lie in
 * the first n columns. */
static inline __mmask16 cols16(size_t n, int v)
{
    size_t lo = 16 * (size_t)v;
    return n >= lo + 16 ? (__mmask16)0xffff
           : n > lo     ? (__mmask16)((1u << (n - lo)) - 1)
                        : (__mmask16)0;
}

/* alpha * x + beta * old for one vector of a tile row at ci (lanes mk):
 * alpha == 1 and beta in {0, 1} (every call of a training step) skip the
 * multiplies that would round nothing anyway. */
static inline __attribute__((always_inline)) __m512
tile_value(__m512 x, const float *ci, __mmask16 mk, float alpha, float beta)
{
    __m512 t = alpha == 1.0f ? x : _mm512_mul_ps(_mm512_set1_ps(alpha), x);
    if (beta == 1.0f)
        t = _mm512_add_ps(_mm512_maskz_loadu_ps(mk, ci), t);
    else if (beta != 0.0f)
        t = _mm512_fmadd_ps(_mm512_set1_ps(beta),
                            _mm512_maskz_loadu_ps(mk, ci), t);
    return t;
}

/* The store masks of a tile n columns wide, and the bias of its columns
 * (zeros without one). */
static inline __attribute__((always_inline)) void
tile_setup(int V, size_t n, const bp_gemm_ep *ep, __mmask16 *mk, __m512 *bv)
{
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        mk[v] = cols16(n, v);
        bv[v] = ep && ep->bias
                    ? _mm512_maskz_loadu_ps(mk[v], ep->bias + 16 * v)
                    : _mm512_setzero_ps();
    }
}

/* store_tile with an epilogue (gemm_internal.h bp_gemm_ep): each value,
 * then act(value + bias) as bias_act computes it (kernels/simd/bias.inc
 * over vec.h), then the store. Out of line, so that the unrolled
 * micro-kernels do not carry a copy of exp each; the values come through
 * a stack copy of the accumulators (L1), C is written once. */
static __attribute__((noinline)) void
store_tile_ep(const __m512 *tmp, int R, int V, float *c, size_t ldc,
              size_t m, size_t n, float alpha, float beta,
              const bp_gemm_ep *ep)
{
    __mmask16 mk[4];
    __m512 bv[4];
    tile_setup(V, n, ep, mk, bv);
    for (int i = 0; i < R && (size_t)i < m; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int v = 0; v < V; v++) {
            __m512 t = tile_value(tmp[i * V + v], ci + 16 * v, mk[v], alpha,
                                  beta);
            _mm512_mask_storeu_ps(ci + 16 * v, mk[v],
                                  bias_act1(t, bv[v], ep->bias != NULL,
                                            ep->act));
        }
    }
}

/* The rows of a tile with no epilogue, or with a bias and ReLU (two
 * cheap operations in registers). Called with constants for a full tile
 * (m == R, every lane, alpha 1, beta 0: nearly every call of a training
 * step) so that it compiles to plain stores; acc is indexed by constants
 * once unrolled, so the accumulators never leave their registers. */
static inline __attribute__((always_inline)) void
store_rows(const __m512 *acc, int R, int V, float *c, size_t ldc, size_t m,
           const __mmask16 *mk, bool full, float alpha, float beta,
           bool bias, bool relu, const __m512 *bv)
{
#pragma GCC unroll 32
    for (int i = 0; i < R; i++) {
        if ((size_t)i >= m)
            break;
        float *ci = c + (size_t)i * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) {
            __m512 t = tile_value(acc[i * V + v], ci + 16 * v, mk[v], alpha,
                                  beta);
            if (bias || relu)
                t = bias_act1(t, bv[v], bias,
                              relu ? BP_KACT_RELU : BP_KACT_NONE);
            if (full)
                _mm512_storeu_ps(ci + 16 * v, t);
            else
                _mm512_mask_storeu_ps(ci + 16 * v, mk[v], t);
        }
    }
}

/* C[0:m][0:n] = alpha * acc + beta * C, with acc[i][v] the 16 floats of
 * row i, columns 16v..16v+15, then the epilogue ep (NULL: none). beta ==
 * 0: C is not read. */
static inline __attribute__((always_inline)) void
store_tile(const __m512 *acc, int R, int V, float *c, size_t ldc, size_t m,
           size_t n, float alpha, float beta, const bp_gemm_ep *ep)
{
    if (ep && (ep->act == BP_KACT_SIGMOID || ep->act == BP_KACT_TANH)) {
        /* copied element by element (constant indices once unrolled), so
         * that acc itself stays in registers through the k loop */
        __m512 tmp[32]; /* R * V <= 32 (12 x 2, 16 x 1) */
#pragma GCC unroll 32
        for (int i = 0; i < R * V; i++)
            tmp[i] = acc[i];
        store_tile_ep(tmp, R, V, c, ldc, m, n, alpha, beta, ep);
        return;
    }
    __mmask16 mk[4];
    __m512 bv[4];
    const bool bias = ep && ep->bias, relu = ep && ep->act == BP_KACT_RELU;
    tile_setup(V, n, ep, mk, bv);
    if (m == (size_t)R && n == (size_t)(16 * V) && alpha == 1.0f &&
        beta == 0.0f)
        store_rows(acc, R, V, c, ldc, (size_t)R, mk, true, 1.0f, 0.0f, bias,
                   relu, bv);
    else
        store_rows(acc, R, V, c, ldc, m, mk, false, alpha, beta, bias, relu,
                   bv);
}

#define UKR_NAME ukr_12x32_row
#define UKR_R 12
#define UKR_V 2
#define UKR_COL 0
#include "kernels/x86/avx512/gemm_ukr.inc"

#define UKR_NAME ukr_12x32_col
#define UKR_R 12
#define UKR_V 2
#define UKR_COL 1
#include "kernels/x86/avx512/gemm_ukr.inc"

#define UKR_NAME ukr_12x32_packed
#define UKR_R 12
#define UKR_V 2
#define UKR_COL 2
#include "kernels/x86/avx512/gemm_ukr.inc"

#define UKR_NAME ukr_16x16_packed
#define UKR_R 16
#define UKR_V 1
#define UKR_COL 2
#include "kernels/x86/avx512/gemm_ukr.inc"

#define UKR_NAME ukr_16x16_row
#define UKR_R 16
#define UKR_V 1
#define UKR_COL 0
#include "kernels/x86/avx512/gemm_ukr.inc"

#define UKR_NAME ukr_16x16_col
#define UKR_R 16
#define UKR_V 1
#define UKR_COL 1
#include "kernels/x86/avx512/gemm_ukr.inc"

/* ---- packing a transposed B: out[p*nr + j] = b[j*ldb + p] */

/* In-register transpose of 16 rows of 16 floats. */
static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
}

static inline __mmask16 lanes(size_t n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

/* Store two 16-row column tiles (lo: rows 0-15, hi: rows 16-31), nj
 * columns each, as rows of C: C[i][0:nj] = alpha * t[i] + beta * C[i]. */
static inline __attribute__((always_inline)) void
store_cols(const __m512 *lo, const __m512 *hi, int nj, float *c, size_t ldc,
           size_t m, float alpha, float beta)
{
    __mmask16 cols = lanes((size_t)nj);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int h = 0; h < 2 && (size_t)(16 * h) < m; h++) {
        __m512 r[16];
        for (int j = 0; j < 16; j++)
            r[j] = j < nj ? (h ? hi : lo)[j] : _mm512_setzero_ps();
        transpose16(r);
        for (size_t i = 0; i < 16 && 16 * (size_t)h + i < m; i++) {
            float *ci = c + (16 * (size_t)h + i) * ldc;
            __m512 t = alpha == 1.0f ? r[i] : _mm512_mul_ps(va, r[i]);
            if (beta != 0.0f)
                t = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(cols, ci), t);
            _mm512_mask_storeu_ps(ci, cols, t);
        }
    }
}

/* The inverse of store_cols: rows 0..m-1 of C's first nj columns into
 * two 16-row column tiles (rows past m read as 0). */
static inline __attribute__((always_inline)) void
load_cols(__m512 *lo, __m512 *hi, int nj, const float *c, size_t ldc,
          size_t m)
{
    __mmask16 cols = lanes((size_t)nj);
    for (int h = 0; h < 2 && (size_t)(16 * h) < m; h++) {
        __m512 r[16];
        for (size_t i = 0; i < 16; i++)
            r[i] = 16 * (size_t)h + i < m
                       ? _mm512_maskz_loadu_ps(
                             cols, c + (16 * (size_t)h + i) * ldc)
                       : _mm512_setzero_ps();
        transpose16(r);
        for (int j = 0; j < nj; j++)
            (h ? hi : lo)[j] = r[j];
    }
}

/* ---- column-vector kernels for a narrow C with a transposed A (TN, TT)
 *
 * C[0:m][0:NJ] (m <= 32): two 16-row vectors per column, NJ columns, so
 * 2*NJ accumulators; per k, two loads of A (contiguous down a row of the
 * stored A) and NJ broadcasts of the packed B row. All 16 lanes work even
 * for the 10-wide output layer, where a row-vector tile would idle 6 of 16.
 * The tile is transposed back to rows of C once, at the end. */

#define COLVEC(NJ)                                                            \
    static void colvec_##NJ(size_t kc, const float *a, size_t lda,           \
                            const float *b, float *c, size_t ldc, size_t m,  \
                            bool cont, float alpha, float beta)              \
    {                                                                         \
        __mmask16 m0 = lanes(m), m1 = lanes(m > 16 ? m - 16 : 0);            \
        __m512 acc[2][NJ];                                                    \
        _Pragma("GCC unroll 16") for (int j = 0; j < NJ; j++)                 \
            acc[0][j] = acc[1][j] = _mm512_setzero_ps();                      \
        if (cont) {                                                           \
            __m512 lo[NJ], hi[NJ];                                            \
            _Pragma("GCC unroll 16") for (int j = 0; j < NJ; j++)             \
                lo[j] = hi[j] = _mm512_setzero_ps();                          \
            load_cols(lo, hi, NJ, c, ldc, m);                                 \
            _Pragma("GCC unroll 16") for (int j = 0; j < NJ; j++)             \
                acc[0][j] = lo[j], acc[1][j] = hi[j];                         \
        }                                                                     \
        _Pragma("GCC unroll 4") for (size_t p = 0; p < kc; p++) {             \
            __m512 a0 = _mm512_maskz_loadu_ps(m0, a);                         \
            __m512 a1 = _mm512_maskz_loadu_ps(m1, a + 16);                    \
            _Pragma("GCC unroll 16") for (int j = 0; j < NJ; j++) {           \
                __m512 x = _mm512_set1_ps(b[j]);                              \
                acc[0][j] = _mm512_fmadd_ps(a0, x, acc[0][j]);                \
                acc[1][j] = _mm512_fmadd_ps(a1, x, acc[1][j]);                \
            }                                                                 \
            a += lda;                                                         \
            b += NJ;                                                          \
        }                                                                     \
        /* through copies: were acc's address taken, GCC would keep acc  \
         * in memory and store every accumulator on every k (3x slower)  \
         * */                                                                 \
        __m512 lo[NJ], hi[NJ];                                                \
        _Pragma("GCC unroll 16") for (int j = 0; j < NJ; j++)                 \
            lo[j] = acc[0][j], hi[j] = acc[1][j];                             \
        store_cols(lo, hi, NJ, c, ldc, m, alpha, beta);                       \
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

static void pack_b(bool tb, size_t kc, size_t nr, size_t n, const float *b,
                   size_t ldb, float *out)
{
    if (!tb) {
        for (size_t p = 0; p < kc; p++)
            for (size_t j = 0; j < nr; j += 16)
                _mm512_mask_storeu_ps(out + p * nr + j, lanes(nr - j),
                                      _mm512_maskz_loadu_ps(lanes(n > j ? n - j : 0),
                                                            b + p * ldb + j));
        return;
    }
    for (size_t j0 = 0; j0 < nr; j0 += 16) {
        for (size_t p0 = 0; p0 < kc; p0 += 16) {
            size_t pw = kc - p0 < 16 ? kc - p0 : 16;
            __m512 r[16];
            for (size_t j = 0; j < 16; j++)
                r[j] = j0 + j < n
                           ? _mm512_maskz_loadu_ps(lanes(pw), b + (j0 + j) * ldb + p0)
                           : _mm512_setzero_ps();
            transpose16(r);
            for (size_t p = 0; p < pw; p++)
                _mm512_mask_storeu_ps(out + (p0 + p) * nr + j0, lanes(nr - j0), r[p]);
        }
    }
}

static void pack_a(bool ta, size_t mr, size_t m, size_t kc, const float *a,
                   size_t lda, float *out)
{
    if (ta) {
        for (size_t p = 0; p < kc; p++)
            for (size_t i = 0; i < mr; i += 16)
                _mm512_mask_storeu_ps(
                    out + p * mr + i, lanes(mr - i),
                    _mm512_maskz_loadu_ps(lanes(m > i ? m - i : 0), a + p * lda + i));
        return;
    }
    for (size_t i0 = 0; i0 < mr; i0 += 16) {
        __mmask16 store = lanes(mr - i0);
        for (size_t p0 = 0; p0 < kc; p0 += 16) {
            size_t pw = kc - p0 < 16 ? kc - p0 : 16;
            __m512 r[16];
            for (size_t i = 0; i < 16; i++)
                r[i] = i0 + i < m
                           ? _mm512_maskz_loadu_ps(lanes(pw), a + (i0 + i) * lda + p0)
                           : _mm512_setzero_ps();
            transpose16(r);
            for (size_t p = 0; p < pw; p++)
                _mm512_mask_storeu_ps(out + (p0 + p) * mr + i0, store, r[p]);
        }
    }
}

const bp_gemm_arch bp_gemm_arch__avx512 = {
    .name = "avx512",
    .wide = {12, 32, ukr_12x32_row, ukr_12x32_col, ukr_12x32_packed},
    .narrow = {16, 16, ukr_16x16_row, ukr_16x16_col, ukr_16x16_packed},
    .pack_a = pack_a,
    .pack_b = pack_b,
    .kc = 256,
    .mc = 192,
    .nc = 1024,
    .kc_packed = 1024,
    .colvec_mr = 32,
    .colvec = {NULL, colvec_1, colvec_2, colvec_3, colvec_4, colvec_5,
               colvec_6, colvec_7, colvec_8, colvec_9, colvec_10, colvec_11,
               colvec_12},
    .ukr_ep = true,
    .bias_act = bp_bias_act__avx512,
    .colsum = bp_gemm_colsum__avx512,
};

void bp_gemm__avx512(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m,
                     size_t n, size_t k, float alpha, const float *A,
                     size_t lda, const float *B, size_t ldb, float beta,
                     float *C, size_t ldc, const bp_gemm_post *post)
{
    bp__gemm_run(&bp_gemm_arch__avx512, gc, ta, tb, m, n, k, alpha, A, lda, B,
                 ldb, beta, C, ldc, post);
}
