/* kernels/arm/neon/gemm.c - NEON (AArch64 AdvSIMD) GEMM: register-tiled
 * micro-kernels and packers, run by the blocked driver in
 * kernels/gemm/gemm_driver.c (loop nest and determinism argument in
 * kernels/gemm/gemm_internal.h).
 *
 * Target class: a generic Cortex-A7x / Neoverse core: 32 q registers of
 * 4 floats, 2 FMA pipes, 2 loads per cycle, 64 KiB L1D, 1 MiB private L2
 * (Cortex-A76/A78, Neoverse N1; a 32 KiB L1D still holds the L1 working
 * set below). Nothing here is tuned on hardware: the shapes and blocks
 * follow the BLIS analytical model (Low et al., TOMS 2016) for this class.
 *
 * Tiles:
 *   wide    8 x 12: 24 accumulators + 3 B vectors + 2 A vectors = 29 of
 *           the 32 registers. Per k, with A contiguous (col, packed):
 *           5 loads for 24 FMAs, each A value broadcast by FMLA's lane
 *           operand; with A in rows: 8 scalar loads + 3 B loads for 24
 *           FMAs (the load pipes still keep up with the FMA pipes). This
 *           is the shape OpenBLAS and BLIS use for sgemm on these cores.
 *   narrow  12 x 8: for n <= 8 with A in rows (NN, NT), where a 12-wide
 *           tile would waste a third or more of its lanes; 24 accumulators
 *           + 2 B + 3 A vectors.
 *   colvec  8 x n, n <= 12: for TN/TT with a narrow n (the 10-class
 *           layer's weight gradient), vectors down the columns of C, so
 *           all lanes work; 2n accumulators, per k 2 A loads and
 *           ceil(n/4) B loads broadcast by lane.
 * Default blocking, used when the context sets none (a run's context has
 * the one kernels/gemm/blocking.c derives from the caches; the bits are
 * the same either way), all multiples of 24 = lcm(8, 12):
 *   KC 256 for the direct nest: the B micro-panel (256 x 12 floats =
 *     12 KiB) and an A tile (8 x 256 = 8 KiB) sit in L1 while A streams
 *     from L2 (the same KC as the x86 tables);
 *   KC 384 for the packed nest: B micro-panel 18 KiB + A micro-panel
 *     12 KiB = 30 KiB, half of L1 as the BLIS model asks, leaving room for
 *     the C tile and the next panels;
 *   MC 192: the packed A block (192 x 384 floats = 288 KiB) takes about a
 *     quarter of L2;
 *   NC 384: the packed B block (384 x 384 floats = 576 KiB) is meant to
 *     share L2 with the A block (864 KiB of 1 MiB; x86 uses NC 1024 with
 *     2 MiB). These cores have no guaranteed L3 behind L2, so B is kept in
 *     L2 rather than BLIS's usual L3-sized NC; a smaller NC only means A is
 *     packed once per 384 columns, 1/384 of the FMA work.
 * Partial tiles: n < NR is handled by loading and storing C one 64-bit or
 * 32-bit piece at a time (never past column n); m < MR by storing only m
 * rows (the driver pads A). The packers never read past the operand.
 */
#include <arm_neon.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernels/arm/neon/neon_list.h"
#include "kernels/gemm/gemm_internal.h"

/* The first w <= 4 floats at p (the other lanes 0); nothing at or past
 * p + w is read. */
static inline float32x4_t load_n(const float *p, size_t w)
{
    float32x4_t z = vdupq_n_f32(0.0f);
    switch (w) {
    case 1: return vld1q_lane_f32(p, z, 0);
    case 2: return vcombine_f32(vld1_f32(p), vget_low_f32(z));
    case 3: return vld1q_lane_f32(p + 2, vcombine_f32(vld1_f32(p), vget_low_f32(z)), 2);
    case 4: return vld1q_f32(p);
    default: return z;
    }
}

/* Store the first w <= 4 lanes of x; nothing at or past p + w is written. */
static inline void store_n(float *p, float32x4_t x, size_t w)
{
    switch (w) {
    case 1: vst1q_lane_f32(p, x, 0); break;
    case 2: vst1_f32(p, vget_low_f32(x)); break;
    case 3:
        vst1_f32(p, vget_low_f32(x));
        vst1q_lane_f32(p + 2, x, 2);
        break;
    case 4: vst1q_f32(p, x); break;
    default: break;
    }
}

/* c = alpha * t + beta * c for w <= 4 floats at c (beta == 0: c not read).
 * alpha == 1 and beta in {0, 1} (every call of a training step) skip the
 * multiplies that would round nothing anyway. */
static inline void update_c(float *c, float32x4_t t, size_t w, float alpha,
                            float beta)
{
    if (alpha != 1.0f)
        t = vmulq_n_f32(t, alpha);
    if (beta == 1.0f)
        t = vaddq_f32(load_n(c, w), t);
    else if (beta != 0.0f)
        t = vfmaq_n_f32(t, load_n(c, w), beta);
    store_n(c, t, w);
}

#define UKR_NAME ukr_8x12_row
#define UKR_R 8
#define UKR_V 3
#define UKR_COL 0
#include "kernels/arm/neon/gemm_ukr.inc"

#define UKR_NAME ukr_8x12_col
#define UKR_R 8
#define UKR_V 3
#define UKR_COL 1
#include "kernels/arm/neon/gemm_ukr.inc"

#define UKR_NAME ukr_8x12_packed
#define UKR_R 8
#define UKR_V 3
#define UKR_COL 2
#include "kernels/arm/neon/gemm_ukr.inc"

#define UKR_NAME ukr_12x8_row
#define UKR_R 12
#define UKR_V 2
#define UKR_COL 0
#include "kernels/arm/neon/gemm_ukr.inc"

#define UKR_NAME ukr_12x8_col
#define UKR_R 12
#define UKR_V 2
#define UKR_COL 1
#include "kernels/arm/neon/gemm_ukr.inc"

#define UKR_NAME ukr_12x8_packed
#define UKR_R 12
#define UKR_V 2
#define UKR_COL 2
#include "kernels/arm/neon/gemm_ukr.inc"

/* ---- 4 x 4 transpose in registers: r[i][j] -> r[j][i] */

static inline __attribute__((always_inline)) void
transpose4(float32x4_t r[4])
{
    float32x4_t t0 = vtrn1q_f32(r[0], r[1]); /* r00 r10 r02 r12 */
    float32x4_t t1 = vtrn2q_f32(r[0], r[1]); /* r01 r11 r03 r13 */
    float32x4_t t2 = vtrn1q_f32(r[2], r[3]); /* r20 r30 r22 r32 */
    float32x4_t t3 = vtrn2q_f32(r[2], r[3]); /* r21 r31 r23 r33 */
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0),
                                            vreinterpretq_f64_f32(t2)));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1),
                                            vreinterpretq_f64_f32(t3)));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0),
                                            vreinterpretq_f64_f32(t2)));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1),
                                            vreinterpretq_f64_f32(t3)));
}

/* ---- column-vector kernels: C rows 0..7 of column j are acc[j][0..1];
 * per k two loads of A, ceil(nj/4) loads of the packed B row, and 2*nj
 * FMAs broadcasting B by lane. */

/* Column j's two FMAs, with the lane of B as a literal. */
#define CV_FMA(j)                                                             \
    if ((j) < nj) {                                                           \
        acc[j][0] = vfmaq_laneq_f32(acc[j][0], a0, bq[(j) / 4], (j) % 4);    \
        acc[j][1] = vfmaq_laneq_f32(acc[j][1], a1, bq[(j) / 4], (j) % 4);    \
    }
#define CV_STEP                                                               \
    do {                                                                      \
        _Pragma("GCC unroll 3") for (int q = 0; q < 3; q++)                   \
            bq[q] = load_n(b + 4 * q,                                         \
                           nj > 4 * q ? (nj - 4 * q > 4 ? 4 : (size_t)(nj - 4 * q)) : 0); \
        CV_FMA(0) CV_FMA(1) CV_FMA(2) CV_FMA(3) CV_FMA(4) CV_FMA(5)           \
        CV_FMA(6) CV_FMA(7) CV_FMA(8) CV_FMA(9) CV_FMA(10) CV_FMA(11)         \
        a += lda;                                                             \
        b += nj;                                                              \
    } while (0)

static inline __attribute__((always_inline)) void
colvec_run(const int nj, size_t kc, const float *a, size_t lda,
           const float *b, float *c, size_t ldc, size_t m, bool cont,
           float alpha, float beta)
{
    float32x4_t acc[BP_GEMM_COLVEC_MAX][2], bq[3];
#pragma GCC unroll 12
    for (int j = 0; j < nj; j++)
        acc[j][0] = acc[j][1] = vdupq_n_f32(0.0f);
    /* continuing a chain: C's 4 x 4 blocks transposed into the columns,
     * the inverse of the store below (rows past m read as 0) */
    if (cont)
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++)
#pragma GCC unroll 3
            for (int j0 = 0; j0 < BP_GEMM_COLVEC_MAX; j0 += 4) {
                if (j0 >= nj)
                    continue;
                size_t w = nj - j0 < 4 ? (size_t)(nj - j0) : 4;
                float32x4_t r[4];
#pragma GCC unroll 4
                for (size_t i = 0; i < 4; i++)
                    r[i] = 4 * (size_t)h + i < m
                               ? load_n(c + (4 * (size_t)h + i) * ldc + j0, w)
                               : vdupq_n_f32(0.0f);
                transpose4(r);
#pragma GCC unroll 4
                for (int j = 0; j < 4; j++)
                    if (j0 + j < nj)
                        acc[j0 + j][h] = r[j];
            }
    if (m >= 8) {
#pragma GCC unroll 2
        for (size_t p = 0; p < kc; p++) {
            float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
            CV_STEP;
        }
    } else {
        /* the edge tile: only the m valid columns of A are read */
        size_t w0 = m < 4 ? m : 4, w1 = m > 4 ? m - 4 : 0;
        for (size_t p = 0; p < kc; p++) {
            float32x4_t a0 = load_n(a, w0), a1 = load_n(a + 4, w1);
            CV_STEP;
        }
    }
    /* acc[j][h] holds rows 4h..4h+3 of column j: transpose 4 x 4 blocks
     * back to rows of C and store the first m rows. acc is indexed by
     * constants only (after unrolling) so that it stays in registers. */
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 3
        for (int j0 = 0; j0 < BP_GEMM_COLVEC_MAX; j0 += 4) {
            if (j0 >= nj)
                continue;
            size_t w = nj - j0 < 4 ? (size_t)(nj - j0) : 4;
            float32x4_t r[4];
#pragma GCC unroll 4
            for (int j = 0; j < 4; j++)
                r[j] = j0 + j < nj ? acc[j0 + j][h] : vdupq_n_f32(0.0f);
            transpose4(r);
#pragma GCC unroll 4
            for (size_t i = 0; i < 4; i++)
                if (4 * (size_t)h + i < m)
                    update_c(c + (4 * (size_t)h + i) * ldc + j0, r[i], w,
                             alpha, beta);
        }
}

#undef CV_STEP
#undef CV_FMA

#define COLVEC(NJ)                                                            \
    static void colvec_##NJ(size_t kc, const float *a, size_t lda,           \
                            const float *b, float *c, size_t ldc, size_t m,  \
                            bool cont, float alpha, float beta)              \
    {                                                                         \
        colvec_run(NJ, kc, a, lda, b, c, ldc, m, cont, alpha, beta);          \
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

/* Copy n <= nr floats of src to dst and zero dst[n..nr). */
static inline void copy_pad(const float *src, size_t n, size_t nr, float *dst)
{
    for (size_t j = 0; j < nr; j += 4) {
        size_t w = nr - j < 4 ? nr - j : 4, v = n > j ? n - j : 0;
        store_n(dst + j, load_n(src + j, v < w ? v : w), w);
    }
}

/* out[p*ld + i] = src[i*lds + p] for i < rows (zero for rows <= i < width),
 * p < kc: a transposed copy, 4 x 4 blocks at a time. */
static void pack_transposed(size_t width, size_t rows, size_t kc,
                            const float *src, size_t lds, float *out)
{
    for (size_t i0 = 0; i0 < width; i0 += 4) {
        size_t w = width - i0 < 4 ? width - i0 : 4;
        for (size_t p0 = 0; p0 < kc; p0 += 4) {
            size_t pw = kc - p0 < 4 ? kc - p0 : 4;
            float32x4_t r[4];
            for (size_t i = 0; i < 4; i++)
                r[i] = i0 + i < rows ? load_n(src + (i0 + i) * lds + p0, pw)
                                     : vdupq_n_f32(0.0f);
            transpose4(r);
            for (size_t p = 0; p < pw; p++)
                store_n(out + (p0 + p) * width + i0, r[p], w);
        }
    }
}

static void pack_b(bool tb, size_t kc, size_t nr, size_t n, const float *b,
                   size_t ldb, float *out)
{
    if (tb) {
        pack_transposed(nr, n, kc, b, ldb, out);
        return;
    }
    for (size_t p = 0; p < kc; p++)
        copy_pad(b + p * ldb, n, nr, out + p * nr);
}

static void pack_a(bool ta, size_t mr, size_t m, size_t kc, const float *a,
                   size_t lda, float *out)
{
    if (!ta) {
        pack_transposed(mr, m, kc, a, lda, out);
        return;
    }
    for (size_t p = 0; p < kc; p++)
        copy_pad(a + p * lda, m, mr, out + p * mr);
}

const bp_gemm_arch bp_gemm_arch__neon = {
    .name = "neon",
    .wide = {8, 12, ukr_8x12_row, ukr_8x12_col, ukr_8x12_packed},
    .narrow = {12, 8, ukr_12x8_row, ukr_12x8_col, ukr_12x8_packed},
    .pack_a = pack_a,
    .pack_b = pack_b,
    .kc = 256,
    .mc = 192,
    .nc = 384,
    .kc_packed = 1024,
    .colvec_mr = 8,
    .colvec = {NULL, colvec_1, colvec_2, colvec_3, colvec_4, colvec_5,
               colvec_6, colvec_7, colvec_8, colvec_9, colvec_10, colvec_11,
               colvec_12},
    .bias_act = bp_bias_act__neon,
    .colsum = bp_gemm_colsum__neon,
};

void bp_gemm__neon(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m,
                   size_t n, size_t k, float alpha, const float *A,
                   size_t lda, const float *B, size_t ldb, float beta,
                   float *C, size_t ldc, const bp_gemm_post *post)
{
    bp__gemm_run(&bp_gemm_arch__neon, gc, ta, tb, m, n, k, alpha, A, lda, B,
                 ldb, beta, C, ldc, post);
}
