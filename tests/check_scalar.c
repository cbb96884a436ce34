/* tests/check_scalar.c - the scalar reference kernels against the truth.
 *
 * tests/check_kernels.c compares every SIMD table with the scalar table;
 * this suite is what makes the scalar table worth comparing with. Every
 * kernel of kernels/kernel_list.h is called directly as bp_<k>__scalar and
 * checked
 *   1. on small cases worked out by hand (exactly, where the arithmetic is
 *      exact in float: a 2x3 by 3x2 GEMM of small integers, sigmoid(0),
 *      sums of small integers, ...);
 *   2. against an independent oracle written here as plain loops in double,
 *      on deterministic random inputs (core/rng.h) of sizes 0, 1 and odd
 *      sizes, with leading dimensions larger than the row. Input padding and
 *      every input the kernel must not read hold NaN (a read shows up as a
 *      NaN result); output padding holds a sentinel that must survive;
 *   3. on the edge semantics of kernels/kernels.h: beta == 0 never reads C,
 *      alpha == 0 or k == 0 never reads A or B, in-place calls where they
 *      are allowed, ReLU(-0) = +0, ReLU(NaN) = NaN, clip keeps NaN, sign(0) = 0
 *      in the optimizers, size 0 reductions return 0, huge logits, batch
 *      norm of one row or of constant columns;
 *   4. every backward delta, loss delta and the batch-norm backward against
 *      central finite differences of the forward computed in double.
 *
 * Tolerance policy. u = 2^-24 is the unit roundoff of float. Each bound is
 * the textbook forward-error bound of the float formula (Higham 2002, ch. 3)
 * with a safety factor of about 2, evaluated per element from the actual
 * terms; every failure message prints the value, the oracle, the bound and
 * the rule:
 *   EXACT   relu fwd/bwd, bias_add, dropout fwd/bwd, scale, clip_value,
 *           max_norm:
 *           bit-identical to the oracle done in double and rounded once to
 *           float (for one +, * that is the correctly rounded float result).
 *   TRANSC  sigmoid_fwd, tanh_fwd: <= 4 ULP of the double oracle for
 *           |x| <= 88; beyond, |diff| <= FLT_MIN (sigmoid underflows).
 *   ELEM    sigmoid_bwd: |diff| <= 4u|dy y(1-y)|; tanh_bwd:
 *           4u|dy|(|1-y^2| + y^2); mse/bce deltas: 4u|scale|(|terms|);
 *           optimizers: |diff| <= c*u*(|w| + |w'| + |lr * terms of step|),
 *           c = 4 (sgd, momentum) or 16 (adam), for one step from the same
 *           float state (plus a 6-step pure-double trajectory within
 *           1e-5(1 + |w|)); bn_fwd_infer: 12u|x-m| invstd |gamma| +
 *           2u(|y| + |beta|).
 *   SUM     gemm: |diff| <= 2(k+2)u(|alpha| sum_p |a||b| + |beta c|);
 *           bias_grad: 2 rows u sum|dy|; softmax: (4(cols+2) + 2|x-max|)u y,
 *           rows sum to 1 within max(1e-6, 2(cols+2)u); softmax_bwd:
 *           2(cols+2)u y(|dy| + sum|y dy|); xent loss 4(cols+2)u(1 + |lse|
 *           + |z_label - max|) per row; bce 4u sum of |terms|; mse 4u sum d^2;
 *           sumsq (n+1) 2^-53 sum x^2 (it sums in double); batch norm: mean
 *           2(rows+2)u mean|x|, the variance, invstd and y bounds follow
 *           from it (see bn_col_oracle); bn_bwd 2(rows+6)u|gamma invstd/rows|
 *           (rows|dy| + sum|dy| + |xhat| sum|dy xhat|).
 *           Subnormal results get a few 2^-149 of absolute slack.
 *   FD      |an - fd| / max(|an|, |fd|, 1e-2 max_j |fd_j|) < 1e-3, with
 *           central differences (h = 1e-3) of a double re-implementation
 *           of the forward around the float inputs. Truncation error is
 *           O(h^2) ~ 1e-6 relative and the float kernels are accurate to
 *           ~1e-6 relative to their terms: the worst case measured is
 *           5e-5 (20x inside the bound), while a wrong term lands far
 *           outside.
 *           Inputs avoid the kinks of ReLU and the saturated tails of
 *           sigmoid/tanh, where a float y cannot carry f'(x).
 * Every test counts its comparisons and fails if it compared nothing.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/base/rng.h"
#include "kernels/kernels.h"
#include "kernels/scalar/scalar.h"
#include "test_util.h"

#define U 0x1p-24         /* unit roundoff of float */
#define DENORM 0x1p-149   /* smallest subnormal float */
#define SENTINEL 4242.25f /* output padding; must survive every call */
#define SEED 0x5ca1ab1eu

#define TOL_EXACT "bit-identical to the double oracle rounded to float"
#define TOL_TRANSC "<= 4 ULP of the double oracle (|x| > 88: |diff| <= FLT_MIN)"
#define TOL_GEMM "|diff| <= 2(k+2)u(|alpha| sum|a||b| + |beta c|)"
#define TOL_FD "|an-fd|/max(|an|,|fd|,1e-2 max|fd|) < 1e-3"

/* ---------------------------------------------------------------------- */
/* Comparison helpers                                                      */

static long g_compared;     /* comparisons made by the running test */
static char g_shape[192];   /* shape and parameters of the current call */

#define SHAPE(...) snprintf(g_shape, sizeof g_shape, __VA_ARGS__)

static void begin(void)
{
    g_compared = 0;
    g_shape[0] = '\0';
}

static void finish(const char *test)
{
    ck_assert_msg(g_compared > 0, "%s: compared nothing", test);
}

/* NaN matches only NaN, an infinity only itself, ±0 are equal. */
static bool within(double got, double want, double tol)
{
    if (isnan(want))
        return isnan(got);
    if (got == want)
        return true;
    return fabs(got - want) <= tol; /* false for a NaN or inf got */
}

#define EXPECT(kernel, what, idx, got, want, tol, rule)                       \
    expect_(__LINE__, kernel, what, (size_t)(idx), (double)(got),             \
            (double)(want), (double)(tol), rule)

static void expect_(int line, const char *kernel, const char *what,
                    size_t idx, double got, double want, double tol,
                    const char *rule)
{
    g_compared++;
    if (!within(got, want, tol))
        ck_abort_msg("line %d: %s [%s] %s[%zu]: got %.9g, expected %.9g "
                     "(|diff| %.3g > tol %.3g; rule: %s)",
                     line, kernel, g_shape, what, idx, got, want,
                     fabs(got - want), tol, rule);
}

/* Bit-identical floats (so +0 and -0 differ, NaN payloads too). */
#define EXPECT_BITS(kernel, what, idx, got, want)                             \
    expect_bits_(__LINE__, kernel, what, (size_t)(idx), got, want)

static void expect_bits_(int line, const char *kernel, const char *what,
                         size_t idx, float got, float want)
{
    uint32_t g, w;
    memcpy(&g, &got, 4);
    memcpy(&w, &want, 4);
    g_compared++;
    if (g != w)
        ck_abort_msg("line %d: %s [%s] %s[%zu]: got %.9g (%a, bits %08x), "
                     "expected %.9g (%a, bits %08x) (rule: %s)",
                     line, kernel, g_shape, what, idx, (double)got,
                     (double)got, (unsigned)g, (double)want, (double)want,
                     (unsigned)w, TOL_EXACT);
}

/* Within max_ulp ULPs of the oracle rounded to float, or |diff| <= abs_tol. */
#define EXPECT_ULPS(kernel, what, idx, got, want, max_ulp, abs_tol)           \
    expect_ulps_(__LINE__, kernel, what, (size_t)(idx), got, want, max_ulp,   \
                 abs_tol)

static void expect_ulps_(int line, const char *kernel, const char *what,
                         size_t idx, float got, double want, double max_ulp,
                         double abs_tol)
{
    float wf = (float)want;
    bool ok;
    double ulps = 0.0;
    if (isnan(want))
        ok = isnan(got);
    else if (!isfinite(got) || !isfinite(wf))
        ok = got == wf;
    else {
        ulps = bp_test_ulps(got, wf);
        ok = ulps <= max_ulp || fabs((double)got - want) <= abs_tol;
    }
    g_compared++;
    if (!ok)
        ck_abort_msg("line %d: %s [%s] %s[%zu]: got %.9g, expected %.17g "
                     "(%.0f ULP > %.0f and |diff| %.3g > %.3g)",
                     line, kernel, g_shape, what, idx, (double)got, want,
                     ulps, max_ulp, fabs((double)got - want), abs_tol);
}

/* The padding columns [cols, ld) of an output must still hold SENTINEL. */
static void expect_pad(const char *kernel, const char *what, const float *y,
                       size_t rows, size_t cols, size_t ld)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = cols; c < ld; c++)
            EXPECT_BITS(kernel, what, r * ld + c, y[r * ld + c], SENTINEL);
}

/* Analytic gradient (float) against finite differences (double). */
static void expect_grad(const char *kernel, const char *what, const float *an,
                        const double *fd, size_t n)
{
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs(fd[i]));
    ck_assert_msg(mx > 0.0, "%s [%s] %s: finite-difference gradient is all "
                  "zero, the check would be vacuous", kernel, g_shape, what);
    double floor_ = 1e-2 * mx;
    for (size_t i = 0; i < n; i++) {
        double a = an[i], f = fd[i];
        double den = fmax(fmax(fabs(a), fabs(f)), floor_);
        double rel = fabs(a - f) / den;
        g_compared++;
        if (!(rel < 1e-3))
            ck_abort_msg("%s [%s] %s[%zu]: analytic %.9g, finite difference "
                         "%.9g, relative error %.3g >= 1e-3 (rule: %s)",
                         kernel, g_shape, what, i, a, f, rel, TOL_FD);
    }
}

/* ---------------------------------------------------------------------- */
/* Buffers and random inputs                                               */

static float *fbuf(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_msg(p != NULL, "out of memory (%zu floats)", n);
    return p;
}

static double *dbuf(size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_msg(p != NULL, "out of memory (%zu doubles)", n);
    return p;
}

static float *fdup(const float *x, size_t n)
{
    float *p = fbuf(n);
    memcpy(p, x, (n ? n : 1) * sizeof *p);
    return p;
}

static void fill(float *x, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        x[i] = v;
}

static void fill_normal(bp_rng *r, float *x, size_t n, double sd,
                        double mean)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(mean + sd * bp_rng_normal(r));
}

static void fill_uniform(bp_rng *r, float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * bp_rng_uniform(r));
}

/* rows x cols with leading dimension ld: the matrix part N(mean, sd^2), the
 * padding `pad` (NaN for inputs, SENTINEL for outputs). */
static float *mat_normal(bp_rng *r, size_t rows, size_t cols, size_t ld,
                         double sd, double mean, float pad)
{
    float *a = fbuf(rows * ld);
    fill(a, rows * ld > 0 ? rows * ld : 1, pad);
    for (size_t i = 0; i < rows; i++)
        fill_normal(r, a + i * ld, cols, sd, mean);
    return a;
}

/* rows x cols with every element (matrix and padding) = v. */
static float *mat_const(size_t rows, size_t ld, float v)
{
    float *a = fbuf(rows * ld);
    fill(a, rows * ld > 0 ? rows * ld : 1, v);
    return a;
}

static double sgn(double w)
{
    return w > 0.0 ? 1.0 : (w < 0.0 ? -1.0 : 0.0);
}

/* Sizes for the flat kernels, and row/col sets for matrices. */
static const size_t flat_sizes[] = {0, 1, 7, 13, 33, 1000, 4099};
#define N_FLAT (sizeof flat_sizes / sizeof flat_sizes[0])
static const size_t mat_rows[] = {0, 1, 7, 13};
static const size_t mat_cols[] = {0, 1, 7, 13, 33};
#define N_MAT ((int)(4 * 5))
static const size_t pads[] = {0, 3, 1, 5};

/* Shape i of the rows x cols sweep, with leading dims > cols for most. */
static void mat_shape(int i, size_t *rows, size_t *cols, size_t *ld1,
                      size_t *ld2)
{
    *rows = mat_rows[i / 5];
    *cols = mat_cols[i % 5];
    *ld1 = *cols + pads[i % 4];
    *ld2 = *cols + pads[(i + 1) % 4];
}

/* ---------------------------------------------------------------------- */
/* GEMM                                                                    */

static const size_t gemm_dims[] = {0, 1, 7, 13, 33};
static const size_t gemm_kdims[] = {0, 1, 7, 13, 33, 100};
static const struct {
    float alpha, beta;
} gemm_ab[] = {{1.0f, 0.0f}, {-0.5f, 0.75f}, {0.0f, -0.5f}};

/* _i in [0, 12): layout NN, TN, NT, TT = _i % 4; alpha/beta = _i / 4.
 * Each iteration sweeps m, n in {0,1,7,13,33} and k in {0,1,7,13,33,100}. */
START_TEST(gemm_oracle)
{
    begin();
    bool ta = _i & 1, tb = (_i >> 1) & 1;
    float alpha = gemm_ab[_i / 4].alpha, beta = gemm_ab[_i / 4].beta;
    bp_rng rng = bp_rng_stream(SEED, 100 + (uint64_t)_i);
    size_t s = 0;
    for (size_t mi = 0; mi < 5; mi++)
        for (size_t ni = 0; ni < 5; ni++)
            for (size_t ki = 0; ki < 6; ki++, s++) {
                size_t m = gemm_dims[mi], n = gemm_dims[ni];
                size_t k = gemm_kdims[ki];
                size_t arows = ta ? k : m, acols = ta ? m : k;
                size_t brows = tb ? n : k, bcols = tb ? k : n;
                size_t lda = acols + pads[s % 4];
                size_t ldb = bcols + pads[(s + 1) % 4];
                size_t ldc = n + pads[(s + 2) % 4];
                /* alpha == 0: A and B must not be read, so all NaN. */
                float *A = alpha != 0.0f
                               ? mat_normal(&rng, arows, acols, lda, 1, 0, NAN)
                               : mat_const(arows, lda, NAN);
                float *B = alpha != 0.0f
                               ? mat_normal(&rng, brows, bcols, ldb, 1, 0, NAN)
                               : mat_const(brows, ldb, NAN);
                /* beta == 0: C must not be read, so its matrix part is NaN. */
                float *C = mat_normal(&rng, m, n, ldc, 1, 0, SENTINEL);
                if (beta == 0.0f)
                    for (size_t i = 0; i < m; i++)
                        fill(C + i * ldc, n, NAN);
                float *C0 = fdup(C, m * ldc);
                SHAPE("%c%c m=%zu n=%zu k=%zu lda=%zu ldb=%zu ldc=%zu "
                      "alpha=%g beta=%g",
                      ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, lda, ldb, ldc,
                      (double)alpha, (double)beta);
                bp_gemm__scalar(NULL, ta, tb, m, n, k, alpha, A, lda, B, ldb,
                                beta, C, ldc, NULL);
                for (size_t i = 0; i < m; i++)
                    for (size_t j = 0; j < n; j++) {
                        double sum = 0.0, mag = 0.0;
                        if (alpha != 0.0f)
                            for (size_t p = 0; p < k; p++) {
                                double a = ta ? A[p * lda + i] : A[i * lda + p];
                                double b = tb ? B[j * ldb + p] : B[p * ldb + j];
                                sum += a * b;
                                mag += fabs(a * b);
                            }
                        double c0 = beta != 0.0f ? C0[i * ldc + j] : 0.0;
                        double want = (double)alpha * sum + (double)beta * c0;
                        double tol = 2.0 * (double)(k + 2) * U *
                                     (fabs((double)alpha) * mag +
                                      fabs((double)beta * c0));
                        float got = C[i * ldc + j];
                        if (!isfinite(got))
                            ck_abort_msg("gemm [%s] C[%zu][%zu] = %g: C was "
                                         "pre-filled with NaN where beta == 0"
                                         " and A/B are NaN where alpha == 0",
                                         g_shape, i, j, (double)got);
                        EXPECT("gemm", "C", i * ldc + j, got, want, tol,
                               TOL_GEMM);
                    }
                expect_pad("gemm", "C", C, m, n, ldc);
                free(A);
                free(B);
                free(C);
                free(C0);
            }
    finish("gemm_oracle");
}
END_TEST

/* 2x3 times 3x2 of small integers: exact in float, in all four layouts. */
START_TEST(gemm_hand)
{
    begin();
    const float A[] = {1, 2, 3, 4, 5, 6};        /* 2x3 */
    const float At[] = {1, 4, 2, 5, 3, 6};       /* its transpose, 3x2 */
    const float B[] = {7, 8, 9, 10, 11, 12};     /* 3x2 */
    const float Bt[] = {7, 9, 11, 8, 10, 12};    /* its transpose, 2x3 */
    const float want1[] = {58, 64, 139, 154};    /* A B */
    const float want2[] = {115, 127, 277, 307};  /* 2 A B - 1 */
    for (int l = 0; l < 4; l++) {
        bool ta = l & 1, tb = (l >> 1) & 1;
        float C[4] = {1, 1, 1, 1};
        SHAPE("%c%c 2x3 * 3x2 alpha=1 beta=0", ta ? 'T' : 'N', tb ? 'T' : 'N');
        bp_gemm__scalar(NULL, ta, tb, 2, 2, 3, 1.0f, ta ? At : A, ta ? 2 : 3,
                        tb ? Bt : B, tb ? 3 : 2, 0.0f, C, 2, NULL);
        for (int i = 0; i < 4; i++)
            EXPECT("gemm", "C", i, C[i], want1[i], 0, TOL_EXACT);
        fill(C, 4, 1.0f);
        SHAPE("%c%c 2x3 * 3x2 alpha=2 beta=-1", ta ? 'T' : 'N',
              tb ? 'T' : 'N');
        bp_gemm__scalar(NULL, ta, tb, 2, 2, 3, 2.0f, ta ? At : A, ta ? 2 : 3,
                        tb ? Bt : B, tb ? 3 : 2, -1.0f, C, 2, NULL);
        for (int i = 0; i < 4; i++)
            EXPECT("gemm", "C", i, C[i], want2[i], 0, TOL_EXACT);
    }
    /* A 1x4 row times a 4x1 column with ldc > n: 1*5+2*6+3*7+4*8 = 70. */
    const float a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
    float c[3] = {NAN, SENTINEL, SENTINEL};
    SHAPE("NN 1x4 * 4x1 ldc=3");
    bp_gemm__scalar(NULL, false, false, 1, 1, 4, 1.0f, a, 4, b, 1, 0.0f, c, 3, NULL);
    EXPECT("gemm", "C", 0, c[0], 70, 0, TOL_EXACT);
    expect_pad("gemm", "C", c, 1, 1, 3);
    finish("gemm_hand");
}
END_TEST

/* The documented edge semantics, with NaN wherever a read would show. */
START_TEST(gemm_edges)
{
    begin();
    float nanA[16], nanB[16];
    fill(nanA, 16, NAN);
    fill(nanB, 16, NAN);
    for (int l = 0; l < 4; l++) {
        bool ta = l & 1, tb = (l >> 1) & 1;
        /* k == 0: C = beta * C, A and B not read (even with alpha != 0). */
        float C[4] = {1, 2, 3, 4};
        SHAPE("%c%c m=2 n=2 k=0 alpha=1 beta=0.5", ta ? 'T' : 'N',
              tb ? 'T' : 'N');
        bp_gemm__scalar(NULL, ta, tb, 2, 2, 0, 1.0f, nanA, 2, nanB, 2, 0.5f, C,
                        2, NULL);
        for (int i = 0; i < 4; i++)
            EXPECT("gemm", "C", i, C[i], 0.5 * (i + 1), 0, TOL_EXACT);
        /* k == 0, beta == 0: C = 0 without reading a NaN C. */
        fill(C, 4, NAN);
        SHAPE("%c%c m=2 n=2 k=0 alpha=1 beta=0", ta ? 'T' : 'N',
              tb ? 'T' : 'N');
        bp_gemm__scalar(NULL, ta, tb, 2, 2, 0, 1.0f, nanA, 2, nanB, 2, 0.0f, C,
                        2, NULL);
        for (int i = 0; i < 4; i++)
            EXPECT("gemm", "C", i, C[i], 0.0, 0, TOL_EXACT);
        /* alpha == 0, beta == 0: C = 0 with A, B and C all NaN. */
        fill(C, 4, NAN);
        SHAPE("%c%c m=2 n=2 k=3 alpha=0 beta=0", ta ? 'T' : 'N',
              tb ? 'T' : 'N');
        bp_gemm__scalar(NULL, ta, tb, 2, 2, 3, 0.0f, nanA, 3, nanB, 3, 0.0f, C,
                        2, NULL);
        for (int i = 0; i < 4; i++)
            EXPECT("gemm", "C", i, C[i], 0.0, 0, TOL_EXACT);
        /* alpha == 0, beta == -2: C = -2 C exactly, A and B NaN. */
        float D[4] = {1, -2, 0.5f, 3};
        SHAPE("%c%c m=2 n=2 k=3 alpha=0 beta=-2", ta ? 'T' : 'N',
              tb ? 'T' : 'N');
        bp_gemm__scalar(NULL, ta, tb, 2, 2, 3, 0.0f, nanA, 3, nanB, 3, -2.0f,
                        D, 2, NULL);
        const float wantD[] = {-2, 4, -1, -6};
        for (int i = 0; i < 4; i++)
            EXPECT("gemm", "C", i, D[i], wantD[i], 0, TOL_EXACT);
    }
    /* m == 0 or n == 0: nothing is written (C is one sentinel). */
    float one = SENTINEL;
    SHAPE("NN m=0 n=3 k=2");
    bp_gemm__scalar(NULL, false, false, 0, 3, 2, 1.0f, nanA, 2, nanB, 3, 0.0f,
                    &one, 3, NULL);
    EXPECT_BITS("gemm", "C", 0, one, SENTINEL);
    SHAPE("NN m=3 n=0 k=2");
    bp_gemm__scalar(NULL, false, false, 3, 0, 2, 1.0f, nanA, 2, nanB, 1, 0.0f,
                    &one, 1, NULL);
    EXPECT_BITS("gemm", "C", 0, one, SENTINEL);
    finish("gemm_edges");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Activations                                                             */

static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

typedef struct unary_k {
    const char *name;
    bp_unary_fn *fwd;
    bp_unary_bwd_fn *bwd;
    double (*f)(double);
} unary_k;

static double relu_d(double x) { return x > 0.0 ? x : 0.0; }

static const unary_k unaries[] = {
    {"sigmoid", bp_sigmoid_fwd__scalar, bp_sigmoid_bwd__scalar, sigmoid_d},
    {"tanh", bp_tanh_fwd__scalar, bp_tanh_bwd__scalar, tanh},
    {"relu", bp_relu_fwd__scalar, bp_relu_bwd__scalar, relu_d},
};

START_TEST(act_hand)
{
    begin();
    const float x[] = {0.0f, 2.0f, -2.0f, INFINITY, -INFINITY, 0.5f, -1.0f};
    const double sig[] = {0.5, 0.8807970779778823, 0.11920292202211755, 1.0,
                          0.0, 0.6224593312018546, 0.2689414213699951};
    const double th[] = {0.0, 0.9640275800758169, -0.9640275800758169, 1.0,
                         -1.0, 0.46211715726000974, -0.7615941559557649};
    float y[7];
    SHAPE("hand values n=7");
    bp_sigmoid_fwd__scalar(7, x, y);
    EXPECT_BITS("sigmoid_fwd", "y", 0, y[0], 0.5f); /* sigmoid(0) = 0.5 */
    for (int i = 0; i < 7; i++)
        EXPECT_ULPS("sigmoid_fwd", "y", i, y[i], sig[i], 4, 0);
    bp_tanh_fwd__scalar(7, x, y);
    for (int i = 0; i < 7; i++)
        EXPECT_ULPS("tanh_fwd", "y", i, y[i], th[i], 4, 0);
    /* tanh(-0) = -0, tanh(+-20) = +-1 in float */
    const float tx[] = {-0.0f, 20.0f, -20.0f};
    bp_tanh_fwd__scalar(3, tx, y);
    EXPECT_BITS("tanh_fwd", "y", 0, y[0], -0.0f);
    EXPECT_BITS("tanh_fwd", "y", 1, y[1], 1.0f);
    EXPECT_BITS("tanh_fwd", "y", 2, y[2], -1.0f);
    /* ReLU: -0 gives +0, NaN stays NaN (bit for bit); +-inf, subnormals
     * pass through or clamp. */
    const float rx[] = {-2.0f, -0.0f, 0.0f, 3.5f, NAN, INFINITY, -INFINITY,
                        0x1p-149f, -0x1p-149f, -NAN};
    const float ry[] = {0.0f, 0.0f, 0.0f, 3.5f, NAN, INFINITY, 0.0f,
                        0x1p-149f, 0.0f, -NAN};
    float r[10];
    SHAPE("hand values n=10");
    bp_relu_fwd__scalar(10, rx, r);
    for (int i = 0; i < 10; i++)
        EXPECT_BITS("relu_fwd", "y", i, r[i], ry[i]);
    memcpy(r, rx, sizeof r);
    SHAPE("hand values n=10, in place");
    bp_relu_fwd__scalar(10, r, r);
    for (int i = 0; i < 10; i++)
        EXPECT_BITS("relu_fwd", "y", i, r[i], ry[i]);
    /* Backward from the forward output, exact small cases. */
    const float sy[] = {0.5f, 0.25f, 1.0f, 0.0f};
    const float sdy[] = {2.0f, -4.0f, 3.0f, 3.0f};
    const float sdx[] = {0.5f, -0.75f, 0.0f, 0.0f};  /* dy y (1-y) */
    const float tdx[] = {1.5f, -3.75f, 0.0f, 3.0f};  /* dy (1-y^2) */
    const float rdx[] = {2.0f, -4.0f, 3.0f, 0.0f};   /* dy [y > 0] */
    float dx[4];
    SHAPE("hand values n=4");
    bp_sigmoid_bwd__scalar(4, sy, sdy, dx);
    for (int i = 0; i < 4; i++)
        EXPECT("sigmoid_bwd", "dx", i, dx[i], sdx[i], 0, TOL_EXACT);
    bp_tanh_bwd__scalar(4, sy, sdy, dx);
    for (int i = 0; i < 4; i++)
        EXPECT("tanh_bwd", "dx", i, dx[i], tdx[i], 0, TOL_EXACT);
    bp_relu_bwd__scalar(4, sy, sdy, dx);
    for (int i = 0; i < 4; i++)
        EXPECT_BITS("relu_bwd", "dx", i, dx[i], rdx[i]);
    const float ry2[] = {-0.0f, NAN, 1e-30f};
    const float rdy2[] = {5.0f, 5.0f, -5.0f};
    bp_relu_bwd__scalar(3, ry2, rdy2, dx);
    EXPECT_BITS("relu_bwd", "dx", 0, dx[0], 0.0f);
    EXPECT_BITS("relu_bwd", "dx", 1, dx[1], 0.0f);
    EXPECT_BITS("relu_bwd", "dx", 2, dx[2], -5.0f);
    finish("act_hand");
}
END_TEST

/* _i = size index: forward of each activation against the double oracle,
 * out of place and in place (y == x, which must give the same bits). */
START_TEST(act_fwd_oracle)
{
    begin();
    size_t n = flat_sizes[_i];
    bp_rng rng = bp_rng_stream(SEED, 200 + (uint64_t)_i);
    float *x = fbuf(n), *y = fbuf(n + 1), *z = fbuf(n);
    fill_normal(&rng, x, n, 6.0, 0.0);
    if (n >= 7) {
        x[0] = 0.0f;
        x[1] = -0.0f;
        x[2] = 1e-30f;
        x[3] = -20.0f;
        x[4] = 87.5f;
        x[5] = -87.5f;
    }
    for (size_t u = 0; u < 3; u++) {
        const unary_k *K = &unaries[u];
        char kname[32];
        snprintf(kname, sizeof kname, "%s_fwd", K->name);
        SHAPE("n=%zu", n);
        fill(y, n + 1, SENTINEL);
        K->fwd(n, x, y);
        EXPECT_BITS(kname, "y[n] (past the end)", n, y[n], SENTINEL);
        for (size_t i = 0; i < n; i++) {
            if (u == 2) /* relu: exact, +0 for x <= 0 */
                EXPECT_BITS(kname, "y", i, y[i], x[i] > 0.0f ? x[i] : 0.0f);
            else
                EXPECT_ULPS(kname, "y", i, y[i], K->f(x[i]), 4,
                            fabs(x[i]) > 88.0f ? FLT_MIN : 0.0);
        }
        memcpy(z, x, n * sizeof *z);
        SHAPE("n=%zu in place", n);
        K->fwd(n, z, z);
        for (size_t i = 0; i < n; i++)
            EXPECT_BITS(kname, "y (in place)", i, z[i], y[i]);
    }
    free(x);
    free(y);
    free(z);
    finish("act_fwd_oracle");
}
END_TEST

/* A dense sweep of [-100, 100] with step 2^-9 (102401 points). */
START_TEST(act_fwd_sweep)
{
    begin();
    size_t n = 102401;
    float *x = fbuf(n), *y = fbuf(n);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(-100.0 + (double)i * 0x1p-9);
    SHAPE("grid [-100, 100] step 2^-9");
    for (size_t u = 0; u < 2; u++) {
        char kname[32];
        snprintf(kname, sizeof kname, "%s_fwd", unaries[u].name);
        unaries[u].fwd(n, x, y);
        for (size_t i = 0; i < n; i++)
            EXPECT_ULPS(kname, "y", i, y[i], unaries[u].f(x[i]), 4,
                        fabs(x[i]) > 88.0f ? FLT_MIN : 0.0);
    }
    /* Far outside: saturate without NaN. */
    const float big[] = {1e4f, -1e4f, FLT_MAX, -FLT_MAX, 1e30f, -1e30f};
    const float sig_want[] = {1, 0, 1, 0, 1, 0};
    const float tanh_want[] = {1, -1, 1, -1, 1, -1};
    float yb[6];
    SHAPE("saturation");
    bp_sigmoid_fwd__scalar(6, big, yb);
    for (int i = 0; i < 6; i++)
        EXPECT("sigmoid_fwd", "y", i, yb[i], sig_want[i], 0, TOL_EXACT);
    bp_tanh_fwd__scalar(6, big, yb);
    for (int i = 0; i < 6; i++)
        EXPECT("tanh_fwd", "y", i, yb[i], tanh_want[i], 0, TOL_EXACT);
    free(x);
    free(y);
    finish("act_fwd_sweep");
}
END_TEST

/* _i = size index: backward deltas from the forward output vs double. */
START_TEST(act_bwd_oracle)
{
    begin();
    size_t n = flat_sizes[_i];
    bp_rng rng = bp_rng_stream(SEED, 300 + (uint64_t)_i);
    float *x = fbuf(n), *y = fbuf(n), *dy = fbuf(n), *dx = fbuf(n + 1);
    float *z = fbuf(n);
    fill_normal(&rng, x, n, 3.0, 0.0);
    fill_normal(&rng, dy, n, 1.0, 0.0);
    for (size_t u = 0; u < 3; u++) {
        const unary_k *K = &unaries[u];
        char kname[32];
        snprintf(kname, sizeof kname, "%s_bwd", K->name);
        K->fwd(n, x, y);
        SHAPE("n=%zu", n);
        dx[n] = SENTINEL;
        K->bwd(n, y, dy, dx);
        EXPECT_BITS(kname, "dx[n] (past the end)", n, dx[n], SENTINEL);
        for (size_t i = 0; i < n; i++) {
            double yi = y[i], g = dy[i];
            if (u == 0) {
                double want = g * yi * (1.0 - yi);
                EXPECT(kname, "dx", i, dx[i], want,
                       4 * U * fabs(want) + 4 * DENORM,
                       "|diff| <= 4u|dy y(1-y)|");
            } else if (u == 1) {
                double want = g * (1.0 - yi * yi);
                EXPECT(kname, "dx", i, dx[i], want,
                       4 * U * fabs(g) * (fabs(1.0 - yi * yi) + yi * yi) +
                           4 * DENORM,
                       "|diff| <= 4u|dy|(|1-y^2| + y^2)");
            } else {
                EXPECT_BITS(kname, "dx", i, dx[i], y[i] > 0.0f ? dy[i] : 0.0f);
            }
        }
        memcpy(z, dy, n * sizeof *z);
        SHAPE("n=%zu in place dx == dy", n);
        K->bwd(n, y, z, z);
        for (size_t i = 0; i < n; i++)
            EXPECT_BITS(kname, "dx (in place)", i, z[i], dx[i]);
    }
    free(x);
    free(y);
    free(dy);
    free(dx);
    free(z);
    finish("act_bwd_oracle");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Softmax                                                                 */

/* Softmax of one float row in double, max-subtracted. Writes the row into
 * out (if not NULL) and d[c] = x[c] - max (if not NULL); returns
 * log sum_c exp(x[c] - max). */
static double softmax_row_d(size_t cols, const float *x, double *out,
                            double *d)
{
    double mx = x[0];
    for (size_t c = 1; c < cols; c++)
        if (x[c] > mx)
            mx = x[c];
    double s = 0.0;
    for (size_t c = 0; c < cols; c++)
        s += exp((double)x[c] - mx);
    for (size_t c = 0; c < cols; c++) {
        if (out)
            out[c] = exp((double)x[c] - mx) / s;
        if (d)
            d[c] = (double)x[c] - mx;
    }
    return log(s);
}

static double softmax_tol(size_t cols, double d, double want)
{
    return (4.0 * (double)(cols + 2) + 2.0 * fabs(d)) * U * want +
           16 * DENORM;
}
#define TOL_SOFTMAX "|diff| <= (4(cols+2) + 2|x-max|)u y + 16*2^-149"

/* Check one softmax output (rows x cols, ldy) against the oracle; also the
 * row sums, within max(1e-6, 2(cols+2)u) (the sum's error is at most
 * (cols+2)u: the exps' own errors cancel in the normalisation). */
static void check_softmax(const float *x, size_t ldx, const float *y,
                          size_t ldy, size_t rows, size_t cols)
{
    double *want = dbuf(cols), *d = dbuf(cols);
    for (size_t r = 0; r < rows; r++) {
        if (cols == 0)
            continue;
        softmax_row_d(cols, x + r * ldx, want, d);
        double sum = 0.0;
        for (size_t c = 0; c < cols; c++) {
            float got = y[r * ldy + c];
            if (!isfinite(got) || got < 0.0f || got > 1.0f)
                ck_abort_msg("softmax_fwd [%s] y[%zu][%zu] = %g: not in "
                             "[0, 1] (x = %g)", g_shape, r, c, (double)got,
                             (double)x[r * ldx + c]);
            EXPECT("softmax_fwd", "y", r * ldy + c, got, want[c],
                   softmax_tol(cols, d[c], want[c]), TOL_SOFTMAX);
            sum += got;
        }
        EXPECT("softmax_fwd", "row sum", r, sum, 1.0,
               fmax(1e-6, 2.0 * (double)(cols + 2) * U),
               "row sums to 1 within max(1e-6, 2(cols+2)u)");
    }
    free(want);
    free(d);
}

START_TEST(softmax_hand)
{
    begin();
    /* rows 2, cols 3, ldx 4 (NaN padding), ldy 5 (sentinel padding) */
    const float x[] = {1, 2, 3, NAN, 0, 0, 0, NAN};
    float y[10];
    fill(y, 10, SENTINEL);
    SHAPE("rows=2 cols=3 ldx=4 ldy=5");
    bp_softmax_fwd__scalar(2, 3, x, 4, y, 5);
    const double w[] = {0.09003057317038046, 0.24472847105479764,
                        0.6652409557748218};
    for (int c = 0; c < 3; c++) {
        EXPECT("softmax_fwd", "y", c, y[c], w[c], softmax_tol(3, 2, w[c]),
               TOL_SOFTMAX);
        EXPECT("softmax_fwd", "y", 5 + c, y[5 + c], 1.0 / 3.0,
               softmax_tol(3, 0, 1.0 / 3.0), TOL_SOFTMAX);
    }
    expect_pad("softmax_fwd", "y", y, 2, 3, 5);
    /* Exact cases: a tie, and a logit 1e30 below the other. */
    const float x2[] = {1000, 1000, -1e30f, 0, 7, -1e30f};
    float y2[6];
    SHAPE("rows=3 cols=2 exact");
    bp_softmax_fwd__scalar(3, 2, x2, 2, y2, 2);
    const float w2[] = {0.5f, 0.5f, 0.0f, 1.0f, 1.0f, 0.0f};
    for (int i = 0; i < 6; i++)
        EXPECT("softmax_fwd", "y", i, y2[i], w2[i], 0, TOL_EXACT);
    /* cols == 1: always 1. */
    const float x3[] = {-5e37f, 3.0f};
    SHAPE("rows=2 cols=1");
    bp_softmax_fwd__scalar(2, 1, x3, 1, y2, 1);
    EXPECT("softmax_fwd", "y", 0, y2[0], 1.0, 0, TOL_EXACT);
    EXPECT("softmax_fwd", "y", 1, y2[1], 1.0, 0, TOL_EXACT);
    /* Backward: y = [0.5 0.5], dy = [1 0]: <y,dy> = 0.5, dx = [.25 -.25] */
    const float sy[] = {0.5f, 0.5f}, sdy[] = {1.0f, 0.0f};
    float sdx[2];
    SHAPE("rows=1 cols=2");
    bp_softmax_bwd__scalar(1, 2, sy, 2, sdy, 2, sdx, 2);
    EXPECT("softmax_bwd", "dx", 0, sdx[0], 0.25, 0, TOL_EXACT);
    EXPECT("softmax_bwd", "dx", 1, sdx[1], -0.25, 0, TOL_EXACT);
    finish("softmax_hand");
}
END_TEST

/* _i = shape index of the rows x cols sweep. */
START_TEST(softmax_fwd_oracle)
{
    begin();
    size_t rows, cols, ldx, ldy;
    mat_shape(_i, &rows, &cols, &ldx, &ldy);
    bp_rng rng = bp_rng_stream(SEED, 400 + (uint64_t)_i);
    float *x = mat_normal(&rng, rows, cols, ldx, 3.0, 0.0, NAN);
    for (size_t r = 0; r < rows; r++) /* rows on different scales */
        for (size_t c = 0; c < cols; c++)
            x[r * ldx + c] *= (float)(1 + r % 4) * (r % 2 ? 1.0f : 10.0f);
    float *y = mat_const(rows, ldy, SENTINEL);
    SHAPE("rows=%zu cols=%zu ldx=%zu ldy=%zu", rows, cols, ldx, ldy);
    bp_softmax_fwd__scalar(rows, cols, x, ldx, y, ldy);
    check_softmax(x, ldx, y, ldy, rows, cols);
    expect_pad("softmax_fwd", "y", y, rows, cols, ldy);
    /* In place: y == x, ldy == ldx, same bits as out of place. */
    float *z = fdup(x, rows * ldx);
    SHAPE("rows=%zu cols=%zu ld=%zu in place", rows, cols, ldx);
    bp_softmax_fwd__scalar(rows, cols, z, ldx, z, ldx);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            EXPECT_BITS("softmax_fwd", "y (in place)", r * ldx + c,
                        z[r * ldx + c], y[r * ldy + c]);
    if (rows * ldy == 0) /* an empty output: the one-float stub is intact */
        EXPECT_BITS("softmax_fwd", "y (empty)", 0, y[0], SENTINEL);
    free(x);
    free(y);
    free(z);
    finish("softmax_fwd_oracle");
}
END_TEST

/* Huge, tiny and equal logits: no inf/NaN, rows sum to 1, and the fused
 * cross-entropy on the same logits is finite and matches log-sum-exp in
 * double. cols = 7, so the row-sum bound (cols+2)u = 5.4e-7 < 1e-6. */
#define EDGE_ROWS 11
#define EDGE_COLS 7
static void edge_logits(float *z, int32_t *labels)
{
    bp_rng rng = bp_rng_stream(SEED, 450);
    const float rowsv[EDGE_ROWS][EDGE_COLS] = {
        {0}, /* 0: N(0, 1e30^2), filled below */
        {-1e30f, -1e30f, -1e30f, -1e30f, -1e30f, -1e30f, -1e30f},
        {1000, -1000, 999, 0, 1000, -999, 500},
        {1000, 1000, 1000, 1000, 1000, 1000, 1000},
        {-1000, -999, -1001, -1000.5f, -998, -1003, -1000},
        {0}, /* 5: N(0, 1e-30^2), filled below */
        {FLT_MAX, -FLT_MAX, 0, FLT_MAX, 1, -1, 3e38f},
        {1e30f, -1e30f, 1e30f, -1e30f, 0, 0, 0},
        {0}, /* 8: N(0, 50^2), filled below */
        {88, -88, 89, -104, 0, 87, -87},
        {1e30f, 1e30f, 1e30f, 1e30f, 1e30f, 1e30f, 1e30f},
    };
    memcpy(z, rowsv, sizeof rowsv);
    fill_normal(&rng, z + 0 * EDGE_COLS, EDGE_COLS, 1e30, 0.0);
    fill_normal(&rng, z + 5 * EDGE_COLS, EDGE_COLS, 1e-30, 0.0);
    fill_normal(&rng, z + 8 * EDGE_COLS, EDGE_COLS, 50.0, 0.0);
    /* Labels: mostly a non-maximal class (large loss); row 6 must pick a
     * maximum (a label at -FLT_MAX would make the true loss 2*FLT_MAX). */
    const int32_t lab[EDGE_ROWS] = {3, 6, 1, 4, 5, 2, 0, 1, 6, 3, 2};
    memcpy(labels, lab, sizeof lab);
}

START_TEST(softmax_edge)
{
    begin();
    float z[EDGE_ROWS * EDGE_COLS], y[EDGE_ROWS * EDGE_COLS];
    int32_t labels[EDGE_ROWS];
    edge_logits(z, labels);
    SHAPE("edge logits rows=%d cols=%d", EDGE_ROWS, EDGE_COLS);
    bp_softmax_fwd__scalar(EDGE_ROWS, EDGE_COLS, z, EDGE_COLS, y, EDGE_COLS);
    for (size_t r = 0; r < EDGE_ROWS; r++) {
        double sum = 0.0;
        for (size_t c = 0; c < EDGE_COLS; c++)
            sum += y[r * EDGE_COLS + c];
        EXPECT("softmax_fwd", "row sum", r, sum, 1.0, 1e-6,
               "rows sum to 1 within 1e-6");
    }
    check_softmax(z, EDGE_COLS, y, EDGE_COLS, EDGE_ROWS, EDGE_COLS);
    /* All-equal rows are exactly uniform. */
    EXPECT("softmax_fwd", "y", 1 * EDGE_COLS, y[1 * EDGE_COLS],
           (double)(1.0f / 7.0f), 0, TOL_EXACT);
    EXPECT("softmax_fwd", "y", 3 * EDGE_COLS, y[3 * EDGE_COLS],
           (double)(1.0f / 7.0f), 0, TOL_EXACT);
    /* Fused cross-entropy on the same rows. */
    float delta[EDGE_ROWS * EDGE_COLS];
    double loss = bp_softmax_xent__scalar(EDGE_ROWS, EDGE_COLS, z, EDGE_COLS,
                                          labels, 0.5f, delta, EDGE_COLS);
    ck_assert_msg(isfinite(loss), "softmax_xent [%s]: loss %g not finite",
                  g_shape, loss);
    double want = 0.0, tol = 0.0, d[EDGE_COLS], p[EDGE_COLS];
    for (size_t r = 0; r < EDGE_ROWS; r++) {
        const float *zr = z + r * EDGE_COLS;
        double lse = softmax_row_d(EDGE_COLS, zr, p, d);
        double dl = d[labels[r]];
        want += lse - dl;
        tol += 4.0 * (EDGE_COLS + 2) * U * (1.0 + fabs(lse) + fabs(dl));
        for (size_t c = 0; c < EDGE_COLS; c++) {
            double oh = (int32_t)c == labels[r] ? 1.0 : 0.0;
            double wd = 0.5 * (p[c] - oh);
            float got = delta[r * EDGE_COLS + c];
            ck_assert_msg(isfinite(got), "softmax_xent [%s] delta[%zu][%zu] "
                          "= %g not finite", g_shape, r, c, (double)got);
            EXPECT("softmax_xent", "delta", r * EDGE_COLS + c, got, wd,
                   0.5 * (softmax_tol(EDGE_COLS, d[c], p[c]) +
                          2 * U * fabs(p[c] - oh)),
                   "|diff| <= |scale|(softmax tol + 2u|p - onehot|)");
        }
    }
    EXPECT("softmax_xent", "loss", 0, loss, want, tol,
           "|diff| <= sum_r 4(cols+2)u(1 + |lse| + |z_label - max|)");
    finish("softmax_edge");
}
END_TEST

/* _i = shape index: softmax backward vs double, and in place dx == dy. */
START_TEST(softmax_bwd_oracle)
{
    begin();
    size_t rows, cols, ldy, lddy;
    mat_shape(_i, &rows, &cols, &ldy, &lddy);
    size_t lddx = cols + pads[(_i + 2) % 4];
    bp_rng rng = bp_rng_stream(SEED, 500 + (uint64_t)_i);
    float *x = mat_normal(&rng, rows, cols, ldy, 2.0, 0.0, NAN);
    float *y = mat_const(rows, ldy, NAN);
    if (rows * cols > 0)
        bp_softmax_fwd__scalar(rows, cols, x, ldy, y, ldy);
    float *dy = mat_normal(&rng, rows, cols, lddy, 1.0, 0.0, NAN);
    float *dx = mat_const(rows, lddx, SENTINEL);
    SHAPE("rows=%zu cols=%zu ldy=%zu lddy=%zu lddx=%zu", rows, cols, ldy,
          lddy, lddx);
    bp_softmax_bwd__scalar(rows, cols, y, ldy, dy, lddy, dx, lddx);
    for (size_t r = 0; r < rows; r++) {
        double dot = 0.0, mag = 0.0;
        for (size_t c = 0; c < cols; c++) {
            dot += (double)y[r * ldy + c] * dy[r * lddy + c];
            mag += fabs((double)y[r * ldy + c] * dy[r * lddy + c]);
        }
        for (size_t c = 0; c < cols; c++) {
            double yc = y[r * ldy + c], g = dy[r * lddy + c];
            EXPECT("softmax_bwd", "dx", r * lddx + c, dx[r * lddx + c],
                   yc * (g - dot),
                   2.0 * (double)(cols + 2) * U * yc * (fabs(g) + mag) +
                       4 * DENORM,
                   "|diff| <= 2(cols+2)u y(|dy| + sum|y dy|)");
        }
    }
    expect_pad("softmax_bwd", "dx", dx, rows, cols, lddx);
    float *z = fdup(dy, rows * lddy);
    SHAPE("rows=%zu cols=%zu in place dx == dy", rows, cols);
    bp_softmax_bwd__scalar(rows, cols, y, ldy, z, lddy, z, lddy);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            EXPECT_BITS("softmax_bwd", "dx (in place)", r * lddy + c,
                        z[r * lddy + c], dx[r * lddx + c]);
    if (rows * lddx == 0) /* an empty output: the one-float stub is intact */
        EXPECT_BITS("softmax_bwd", "dx (empty)", 0, dx[0], SENTINEL);
    free(x);
    free(y);
    free(dy);
    free(dx);
    free(z);
    finish("softmax_bwd_oracle");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Losses                                                                  */

START_TEST(losses_hand)
{
    begin();
    /* xent: row 0 = [0 0] label 0: ln 2, p = [.5 .5];
     *       row 1 = [1000 -1000] label 1: 2000, p = [1 0]. scale 0.5. */
    const float z[] = {0, 0, 1000, -1000};
    const int32_t lab[] = {0, 1};
    float delta[4];
    SHAPE("rows=2 cols=2 scale=0.5");
    double loss = bp_softmax_xent__scalar(2, 2, z, 2, lab, 0.5f, delta, 2);
    EXPECT("softmax_xent", "loss", 0, loss, 2000.0 + log(2.0),
           4 * U * 2001, "4u(|terms|)");
    const float wd[] = {-0.25f, 0.25f, 0.5f, -0.5f};
    for (int i = 0; i < 4; i++)
        EXPECT("softmax_xent", "delta", i, delta[i], wd[i], 0, TOL_EXACT);
    /* xent: [1 2 3] label 2: log(1 + e^-1 + e^-2). */
    const float z2[] = {1, 2, 3};
    const int32_t lab2[] = {2};
    SHAPE("rows=1 cols=3 scale=1");
    loss = bp_softmax_xent__scalar(1, 3, z2, 3, lab2, 1.0f, delta, 3);
    EXPECT("softmax_xent", "loss", 0, loss, 0.4076059644443804, 8 * U,
           "8u");
    const double wp[] = {0.09003057317038046, 0.24472847105479764,
                         0.6652409557748218 - 1.0};
    for (int i = 0; i < 3; i++)
        EXPECT("softmax_xent", "delta", i, delta[i], wp[i], 20 * U,
               "20u");
    /* xent with one class: loss 0, delta 0. */
    const float z3[] = {5, -1e30f};
    const int32_t lab3[] = {0, 0};
    SHAPE("rows=2 cols=1");
    loss = bp_softmax_xent__scalar(2, 1, z3, 1, lab3, 1.0f, delta, 1);
    EXPECT("softmax_xent", "loss", 0, loss, 0.0, 0, TOL_EXACT);
    EXPECT("softmax_xent", "delta", 0, delta[0], 0.0, 0, TOL_EXACT);
    EXPECT("softmax_xent", "delta", 1, delta[1], 0.0, 0, TOL_EXACT);
    /* bce: z = 0 -> ln 2 either way; z = +-100; z = 2, t = 0.25. */
    const float bz[] = {0, 0, 100, -100, 2};
    const float bt[] = {1, 0, 1, 1, 0.25f};
    float bd[5];
    SHAPE("n=5 scale=1");
    loss = bp_sigmoid_bce__scalar(5, bz, bt, 1.0f, bd);
    double wl = 2 * log(2.0) + 3.720075976020836e-44 + 100.0 +
                3.720075976020836e-44 + 1.5 + 0.1269280110429725;
    EXPECT("sigmoid_bce", "loss", 0, loss, wl, 4 * U * 104, "4u(|terms|)");
    const double wbd[] = {-0.5, 0.5, 0.0, -1.0, 0.8807970779778823 - 0.25};
    for (int i = 0; i < 5; i++)
        EXPECT("sigmoid_bce", "delta", i, bd[i], wbd[i], 8 * U, "8u");
    /* mse: d = [1 0 -2]: loss 5, delta (scale 0.5) = 2 * 0.5 * d. */
    const float my[] = {1, 2, 3}, mt[] = {0, 2, 5};
    float md[3];
    SHAPE("n=3 scale=0.5");
    loss = bp_mse__scalar(3, my, mt, 0.5f, md);
    EXPECT("mse", "loss", 0, loss, 5.0, 0, TOL_EXACT);
    const float wmd[] = {1.0f, 0.0f, -2.0f};
    for (int i = 0; i < 3; i++)
        EXPECT("mse", "delta", i, md[i], wmd[i], 0, TOL_EXACT);
    finish("losses_hand");
}
END_TEST

/* Size 0 returns 0 (and writes nothing); NULL delta gives the same loss. */
START_TEST(losses_zero)
{
    begin();
    float z = NAN, t = NAN, d = SENTINEL;
    int32_t lab = 0;
    SHAPE("size 0");
    EXPECT("softmax_xent", "loss", 0,
           bp_softmax_xent__scalar(0, 5, &z, 5, &lab, 1.0f, &d, 5), 0.0, 0,
           TOL_EXACT);
    EXPECT("softmax_xent", "loss (no delta)", 0,
           bp_softmax_xent__scalar(0, 5, &z, 5, &lab, 1.0f, NULL, 5), 0.0, 0,
           TOL_EXACT);
    EXPECT("sigmoid_bce", "loss", 0,
           bp_sigmoid_bce__scalar(0, &z, &t, 1.0f, &d), 0.0, 0, TOL_EXACT);
    EXPECT("mse", "loss", 0, bp_mse__scalar(0, &z, &t, 1.0f, &d), 0.0, 0,
           TOL_EXACT);
    EXPECT("sumsq", "sum", 0, bp_sumsq__scalar(0, &z), 0.0, 0, TOL_EXACT);
    EXPECT_BITS("losses", "delta untouched", 0, d, SENTINEL);
    finish("losses_zero");
}
END_TEST

static const size_t xent_rows[] = {0, 1, 7, 13};
static const size_t xent_cols[] = {1, 2, 7, 33};

/* _i in [0, 16): rows x cols; scale alternates 1, 1/rows, -0.5. */
START_TEST(xent_oracle)
{
    begin();
    size_t rows = xent_rows[_i / 4], cols = xent_cols[_i % 4];
    size_t ldz = cols + pads[_i % 4], ldd = cols + pads[(_i + 1) % 4];
    float scale = _i % 3 == 0 ? 1.0f
                  : _i % 3 == 1 ? 1.0f / (float)(rows ? rows : 1)
                                : -0.5f;
    bp_rng rng = bp_rng_stream(SEED, 600 + (uint64_t)_i);
    float *z = mat_normal(&rng, rows, cols, ldz, 4.0, 1.0, NAN);
    int32_t *lab = malloc((rows ? rows : 1) * sizeof *lab);
    ck_assert_ptr_nonnull(lab);
    for (size_t r = 0; r < rows; r++)
        lab[r] = (int32_t)bp_rng_below(&rng, cols);
    float *delta = mat_const(rows, ldd, SENTINEL);
    SHAPE("rows=%zu cols=%zu ldz=%zu ldd=%zu scale=%g", rows, cols, ldz, ldd,
          (double)scale);
    double loss = bp_softmax_xent__scalar(rows, cols, z, ldz, lab, scale,
                                          delta, ldd);
    double *p = dbuf(cols), *d = dbuf(cols);
    double want = 0.0, tol = 0.0;
    for (size_t r = 0; r < rows; r++) {
        double lse = softmax_row_d(cols, z + r * ldz, p, d);
        double dl = d[lab[r]];
        want += lse - dl;
        tol += 4.0 * (double)(cols + 2) * U * (1.0 + fabs(lse) + fabs(dl));
        for (size_t c = 0; c < cols; c++) {
            double oh = (int32_t)c == lab[r] ? 1.0 : 0.0;
            EXPECT("softmax_xent", "delta", r * ldd + c, delta[r * ldd + c],
                   (double)scale * (p[c] - oh),
                   fabs((double)scale) * (softmax_tol(cols, d[c], p[c]) +
                                          2 * U * fabs(p[c] - oh)),
                   "|diff| <= |scale|(softmax tol + 2u|p - onehot|)");
        }
    }
    EXPECT("softmax_xent", "loss", 0, loss, want, tol,
           "|diff| <= sum_r 4(cols+2)u(1 + |lse| + |z_label - max|)");
    expect_pad("softmax_xent", "delta", delta, rows, cols, ldd);
    double loss2 = bp_softmax_xent__scalar(rows, cols, z, ldz, lab, scale,
                                           NULL, ldd);
    EXPECT("softmax_xent", "loss (delta NULL)", 0, loss2, loss, 0,
           "same as with delta");
    free(z);
    free(lab);
    free(delta);
    free(p);
    free(d);
    finish("xent_oracle");
}
END_TEST

/* _i = size index: sigmoid_bce and mse against double, plus bce edges. */
START_TEST(bce_mse_oracle)
{
    begin();
    size_t n = flat_sizes[_i];
    bp_rng rng = bp_rng_stream(SEED, 700 + (uint64_t)_i);
    float *z = fbuf(n), *t = fbuf(n), *delta = fbuf(n + 1);
    fill_normal(&rng, z, n, 5.0, 0.0);
    fill_uniform(&rng, t, n, 0.0, 1.0);
    if (n >= 2) {
        t[0] = 0.0f;
        t[1] = 1.0f;
    }
    float scale = (float)(0.1 + bp_rng_uniform(&rng));
    delta[n] = SENTINEL;
    SHAPE("n=%zu scale=%g", n, (double)scale);
    double loss = bp_sigmoid_bce__scalar(n, z, t, scale, delta);
    double want = 0.0, tol = 0.0;
    for (size_t i = 0; i < n; i++) {
        double zi = z[i], ti = t[i];
        double pos = zi > 0 ? zi : 0.0, l = log1p(exp(-fabs(zi)));
        want += pos - zi * ti + l;
        tol += 4 * U * (pos + fabs(zi * ti) + l) + 4 * DENORM;
        double s = sigmoid_d(zi);
        EXPECT("sigmoid_bce", "delta", i, delta[i], (double)scale * (s - ti),
               (double)scale * (4 * U * s + 2 * U * fabs(s - ti)) + 4 * DENORM,
               "|diff| <= |scale|(4u sigmoid + 2u|sigmoid - t|)");
    }
    EXPECT("sigmoid_bce", "loss", 0, loss, want, tol,
           "|diff| <= 4u sum(max(z,0) + |z t| + log1p(e^-|z|))");
    EXPECT_BITS("sigmoid_bce", "delta", n, delta[n], SENTINEL);
    EXPECT("sigmoid_bce", "loss (delta NULL)", 0,
           bp_sigmoid_bce__scalar(n, z, t, scale, NULL), loss, 0,
           "same as with delta");
    /* mse on y = z / 5, t as above */
    for (size_t i = 0; i < n; i++)
        z[i] *= 0.2f;
    loss = bp_mse__scalar(n, z, t, scale, delta);
    want = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)z[i] - t[i];
        want += d * d;
        EXPECT("mse", "delta", i, delta[i], 2.0 * scale * d,
               4 * U * fabs(2.0 * scale * d) + 4 * DENORM,
               "|diff| <= 4u|2 scale (y - t)|");
    }
    EXPECT("mse", "loss", 0, loss, want, 4 * U * want,
           "|diff| <= 4u sum (y-t)^2");
    EXPECT_BITS("mse", "delta", n, delta[n], SENTINEL);
    EXPECT("mse", "loss (delta NULL)", 0,
           bp_mse__scalar(n, z, t, scale, NULL), loss, 0,
           "same as with delta");
    free(z);
    free(t);
    free(delta);
    finish("bce_mse_oracle");
}
END_TEST

/* sigmoid_bce on huge logits: finite loss and delta, matching double. */
START_TEST(bce_edge)
{
    begin();
    const float zs[] = {30, -30, 100, -100, 1000, -1000, 1e30f, -1e30f,
                        FLT_MAX, -FLT_MAX, 88.5f, -88.5f, -104};
    const float ts[] = {0.0f, 0.5f, 1.0f};
    for (size_t a = 0; a < sizeof zs / sizeof zs[0]; a++)
        for (size_t b = 0; b < 3; b++) {
            float d;
            SHAPE("n=1 z=%g t=%g scale=1", (double)zs[a], (double)ts[b]);
            double loss = bp_sigmoid_bce__scalar(1, &zs[a], &ts[b], 1.0f, &d);
            double zi = zs[a], ti = ts[b];
            double pos = zi > 0 ? zi : 0.0, l = log1p(exp(-fabs(zi)));
            ck_assert_msg(isfinite(loss) && isfinite(d),
                          "sigmoid_bce [%s]: loss %g delta %g", g_shape, loss,
                          (double)d);
            EXPECT("sigmoid_bce", "loss", 0, loss, pos - zi * ti + l,
                   4 * U * (pos + fabs(zi * ti) + l) + 4 * DENORM,
                   "|diff| <= 4u(max(z,0) + |z t| + log1p(e^-|z|))");
            double s = sigmoid_d(zi);
            EXPECT("sigmoid_bce", "delta", 0, d, s - ti,
                   4 * U * s + 2 * U * fabs(s - ti) + FLT_MIN,
                   "|diff| <= 4u s + 2u|s - t| + FLT_MIN");
        }
    finish("bce_edge");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Bias                                                                    */

START_TEST(bias_hand)
{
    begin();
    /* 2x3 in a 2x4 buffer */
    float y[8] = {0, 1, 2, SENTINEL, -1, -2, 0.5f, SENTINEL};
    const float b[] = {1, 2, 3};
    SHAPE("rows=2 cols=3 ldy=4");
    bp_bias_add__scalar(2, 3, b, y, 4);
    const float wy[] = {1, 3, 5, -0, 0, 3.5f};
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++)
            EXPECT("bias_add", "y", r * 4 + c, y[r * 4 + c], wy[r * 3 + c], 0,
                   TOL_EXACT);
    expect_pad("bias_add", "y", y, 2, 3, 4);
    const float dy[] = {1, 2, 3, NAN, 4, 5, 6, NAN};
    float db[3] = {NAN, NAN, NAN};
    bp_bias_grad__scalar(2, 3, dy, 4, db);
    const float wdb[] = {5, 7, 9};
    for (int c = 0; c < 3; c++)
        EXPECT("bias_grad", "db", c, db[c], wdb[c], 0, TOL_EXACT);
    /* rows == 0: db is overwritten with 0. */
    SHAPE("rows=0 cols=3");
    fill(db, 3, NAN);
    bp_bias_grad__scalar(0, 3, dy, 4, db);
    for (int c = 0; c < 3; c++)
        EXPECT_BITS("bias_grad", "db", c, db[c], 0.0f);
    finish("bias_hand");
}
END_TEST

/* _i = shape index: bias_add (exact) and bias_grad (SUM) vs double. */
START_TEST(bias_oracle)
{
    begin();
    size_t rows, cols, ldy, lddy;
    mat_shape(_i, &rows, &cols, &ldy, &lddy);
    bp_rng rng = bp_rng_stream(SEED, 800 + (uint64_t)_i);
    float *y = mat_normal(&rng, rows, cols, ldy, 3.0, 0.0, SENTINEL);
    float *y0 = fdup(y, rows * ldy);
    float *b = fbuf(cols);
    fill_normal(&rng, b, cols, 2.0, 0.0);
    SHAPE("rows=%zu cols=%zu ldy=%zu", rows, cols, ldy);
    bp_bias_add__scalar(rows, cols, b, y, ldy);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            EXPECT_BITS("bias_add", "y", r * ldy + c, y[r * ldy + c],
                        (float)((double)y0[r * ldy + c] + (double)b[c]));
    expect_pad("bias_add", "y", y, rows, cols, ldy);
    float *dy = mat_normal(&rng, rows, cols, lddy, 1.0, 0.5, NAN);
    float *db = fbuf(cols + 1);
    fill(db, cols, NAN); /* overwritten, not accumulated */
    db[cols] = SENTINEL;
    SHAPE("rows=%zu cols=%zu lddy=%zu", rows, cols, lddy);
    bp_bias_grad__scalar(rows, cols, dy, lddy, db);
    for (size_t c = 0; c < cols; c++) {
        double s = 0.0, mag = 0.0;
        for (size_t r = 0; r < rows; r++) {
            s += dy[r * lddy + c];
            mag += fabs((double)dy[r * lddy + c]);
        }
        EXPECT("bias_grad", "db", c, db[c], s, 2.0 * (double)rows * U * mag,
               "|diff| <= 2 rows u sum|dy|");
    }
    EXPECT_BITS("bias_grad", "db", cols, db[cols], SENTINEL);
    free(y);
    free(y0);
    free(b);
    free(dy);
    free(db);
    finish("bias_oracle");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Dropout                                                                 */

START_TEST(dropout_hand)
{
    begin();
    SHAPE("threshold/scale");
    EXPECT("bp_dropout_threshold", "p=0", 0, bp_dropout_threshold(0.0f), 0, 0,
           TOL_EXACT);
    EXPECT("bp_dropout_threshold", "p=0.5", 0, bp_dropout_threshold(0.5f),
           8388608, 0, TOL_EXACT);
    EXPECT("bp_dropout_threshold", "p=0.25", 0, bp_dropout_threshold(0.25f),
           4194304, 0, TOL_EXACT);
    EXPECT("bp_dropout_scale", "p=0.5", 0, bp_dropout_scale(0.5f), 2.0, 0,
           TOL_EXACT);
    EXPECT("bp_dropout_scale", "p=0.75", 0, bp_dropout_scale(0.75f), 4.0, 0,
           TOL_EXACT);
    /* mix32(0) = 0, so element 0 under key 0 has bits 0 and is dropped for
     * any p > 2^-24; element 0 is kept for p = 0. */
    EXPECT("bp_dropout_bits", "key=0 i=0", 0, bp_dropout_bits(0, 0), 0, 0,
           TOL_EXACT);
    const float x[] = {3.0f, -1.0f, 2.0f, 0.5f};
    float y[4], mask[4];
    SHAPE("n=4 key=0 p=0.1");
    bp_dropout_fwd__scalar(4, 0, 0.1f, x, y, mask);
    EXPECT_BITS("dropout_fwd", "mask", 0, mask[0], 0.0f);
    EXPECT_BITS("dropout_fwd", "y", 0, y[0], 0.0f);
    /* p = 0 keeps everything with mask 1, y == x. */
    SHAPE("n=4 key=0 p=0");
    bp_dropout_fwd__scalar(4, 0, 0.0f, x, y, mask);
    for (int i = 0; i < 4; i++) {
        EXPECT_BITS("dropout_fwd", "mask", i, mask[i], 1.0f);
        EXPECT_BITS("dropout_fwd", "y", i, y[i], x[i]);
    }
    /* backward: dx = dy * mask */
    const float dy[] = {1, 2, 3, 4}, m2[] = {0, 2, 2, 0};
    float dx[4];
    SHAPE("n=4");
    bp_dropout_bwd__scalar(4, dy, m2, dx);
    const float wdx[] = {0, 4, 6, 0};
    for (int i = 0; i < 4; i++)
        EXPECT("dropout_bwd", "dx", i, dx[i], wdx[i], 0, TOL_EXACT);
    finish("dropout_hand");
}
END_TEST

static const float drop_ps[] = {0.0f, 0.1f, 0.5f, 0.9f};

/* _i in [0, 4): p. Every size: mask[i] is exactly the kernels.h formula,
 * 0 or 1/(1-p); y = x*mask exactly; in-place forward; backward vmul. */
START_TEST(dropout_formula)
{
    begin();
    float p = drop_ps[_i];
    bp_rng rng = bp_rng_stream(SEED, 900 + (uint64_t)_i);
    float keep = bp_dropout_scale(p);
    SHAPE("p=%g", (double)p);
    EXPECT_ULPS("bp_dropout_scale", "1/(1-p)", 0, keep, 1.0 / (1.0 - p), 1, 0);
    uint32_t thr = bp_dropout_threshold(p);
    EXPECT("bp_dropout_threshold", "p*2^24", 0, thr,
           floor((double)p * 16777216.0), 0, TOL_EXACT);
    for (size_t s = 0; s < N_FLAT; s++) {
        size_t n = flat_sizes[s];
        uint64_t key = bp_rng_u64(&rng);
        float *x = fbuf(n), *y = fbuf(n), *mask = fbuf(n), *z = fbuf(n);
        float *dy = fbuf(n), *dx = fbuf(n), *w = fbuf(n);
        fill_normal(&rng, x, n, 2.0, 0.0);
        fill_normal(&rng, dy, n, 1.0, 0.0);
        SHAPE("n=%zu p=%g key=%016llx", n, (double)p,
              (unsigned long long)key);
        bp_dropout_fwd__scalar(n, key, p, x, y, mask);
        for (size_t i = 0; i < n; i++) {
            bool kept = (bp_dropout_bits(key, (uint32_t)i) >> 8) >= thr;
            float wm = kept ? keep : 0.0f;
            EXPECT_BITS("dropout_fwd", "mask", i, mask[i], wm);
            EXPECT_BITS("dropout_fwd", "y", i, y[i],
                        (float)((double)x[i] * (double)wm));
        }
        memcpy(z, x, n * sizeof *z);
        SHAPE("n=%zu p=%g in place", n, (double)p);
        bp_dropout_fwd__scalar(n, key, p, z, z, w);
        for (size_t i = 0; i < n; i++) {
            EXPECT_BITS("dropout_fwd", "y (in place)", i, z[i], y[i]);
            EXPECT_BITS("dropout_fwd", "mask (in place)", i, w[i], mask[i]);
        }
        SHAPE("n=%zu p=%g", n, (double)p);
        bp_dropout_bwd__scalar(n, dy, mask, dx);
        for (size_t i = 0; i < n; i++)
            EXPECT_BITS("dropout_bwd", "dx", i, dx[i],
                        (float)((double)dy[i] * (double)mask[i]));
        memcpy(z, dy, n * sizeof *z);
        SHAPE("n=%zu p=%g in place out == a", n, (double)p);
        bp_dropout_bwd__scalar(n, z, mask, z);
        for (size_t i = 0; i < n; i++)
            EXPECT_BITS("dropout_bwd", "dx (out == a)", i, z[i], dx[i]);
        memcpy(w, mask, n * sizeof *w);
        SHAPE("n=%zu p=%g in place out == b", n, (double)p);
        bp_dropout_bwd__scalar(n, dy, w, w);
        for (size_t i = 0; i < n; i++)
            EXPECT_BITS("dropout_bwd", "dx (out == b)", i, w[i], dx[i]);
        free(x);
        free(y);
        free(mask);
        free(z);
        free(dy);
        free(dx);
        free(w);
    }
    finish("dropout_formula");
}
END_TEST

/* _i in [0, 3): p in {0.1, 0.5, 0.9}. Over n = 100000 the kept count is
 * within 4 standard deviations sqrt(n p (1-p)) of n (1-p), for 3 keys. */
START_TEST(dropout_stats)
{
    begin();
    float p = drop_ps[1 + _i];
    size_t n = 100000;
    bp_rng rng = bp_rng_stream(SEED, 950 + (uint64_t)_i);
    float *x = fbuf(n), *y = fbuf(n), *mask = fbuf(n);
    fill(x, n, 1.0f);
    for (int rep = 0; rep < 3; rep++) {
        uint64_t key = bp_rng_u64(&rng);
        SHAPE("n=%zu p=%g key=%016llx", n, (double)p,
              (unsigned long long)key);
        bp_dropout_fwd__scalar(n, key, p, x, y, mask);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
            kept += mask[i] != 0.0f;
        double mean = (double)n * (1.0 - p);
        double sd = sqrt((double)n * p * (1.0 - p));
        EXPECT("dropout_fwd", "kept count", 0, (double)kept, mean, 4 * sd,
               "|kept - n(1-p)| <= 4 sqrt(n p (1-p))");
    }
    free(x);
    free(y);
    free(mask);
    finish("dropout_stats");
}
END_TEST

/* The same key gives the same mask; other keys (either half changed)
 * give different masks. */
START_TEST(dropout_keys)
{
    begin();
    size_t n = 4096;
    float p = 0.5f;
    float *x = fbuf(n), *y = fbuf(n), *m1 = fbuf(n), *m2 = fbuf(n);
    fill(x, n, 1.0f);
    const uint64_t key = 0x0123456789abcdefull;
    SHAPE("n=%zu p=0.5 key=%016llx twice", n, (unsigned long long)key);
    bp_dropout_fwd__scalar(n, key, p, x, y, m1);
    bp_dropout_fwd__scalar(n, key, p, x, y, m2);
    g_compared++;
    ck_assert_msg(memcmp(m1, m2, n * sizeof *m1) == 0,
                  "dropout_fwd [%s]: the same key gave different masks",
                  g_shape);
    const uint64_t others[] = {key ^ 1, key + 1, key ^ (1ull << 32),
                               key ^ (1ull << 63), ~key};
    for (size_t o = 0; o < 5; o++) {
        SHAPE("n=%zu p=0.5 key=%016llx vs %016llx", n,
              (unsigned long long)others[o], (unsigned long long)key);
        bp_dropout_fwd__scalar(n, others[o], p, x, y, m2);
        size_t diff = 0;
        for (size_t i = 0; i < n; i++)
            diff += m1[i] != m2[i];
        /* independent masks differ in n/2 places, sd sqrt(n)/2 = 32 */
        EXPECT("dropout_fwd", "masks differing", 0, (double)diff,
               (double)n / 2.0, (double)n / 4.0,
               "a different key changes about half the mask");
    }
    free(x);
    free(y);
    free(m1);
    free(m2);
    finish("dropout_keys");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Batch normalisation                                                     */

/* The double oracle of one column of bn_fwd_train, with error bounds for
 * the float kernel (two-pass float mean and variance):
 *   delta = 2(rows+2)u mean|x|   bounds |mean_f - mean|;
 *   var_f = sum (x - mean_f)^2 / rows = var + (mean_f - mean)^2 up to a
 *           relative (rows+4)u, so tol_var = 2(rows+4)u(var + delta^2)
 *           + 2 delta^2;
 *   invstd: relative tol_var/(var+eps) + 8u (first order of 1/sqrt, x2);
 *   y:      |gamma|(invstd (delta + 3u|x-mean|) + |x-mean| tol_is)
 *           + u(|y| + |beta|), times 2. */
typedef struct bn_col {
    double mean, var, unbiased, invstd;
    double tol_mean, tol_var, tol_is;
} bn_col;

static bn_col bn_col_oracle(size_t rows, const float *x, size_t ldx,
                            double eps)
{
    bn_col o;
    double s = 0.0, a = 0.0;
    for (size_t r = 0; r < rows; r++) {
        s += x[r * ldx];
        a += fabs((double)x[r * ldx]);
    }
    o.mean = s / (double)rows;
    double ss = 0.0;
    for (size_t r = 0; r < rows; r++) {
        double d = x[r * ldx] - o.mean;
        ss += d * d;
    }
    o.var = ss / (double)rows;
    o.unbiased = rows > 1 ? ss / (double)(rows - 1) : o.var;
    o.invstd = 1.0 / sqrt(o.var + eps);
    double delta = 2.0 * (double)(rows + 2) * U * a / (double)rows;
    o.tol_mean = delta;
    o.tol_var = 2.0 * (double)(rows + 4) * U * (o.var + delta * delta) +
                2.0 * delta * delta;
    o.tol_is = o.invstd * (o.tol_var / (o.var + eps) + 8 * U);
    return o;
}

static double bn_y_tol(const bn_col *o, double x, double gamma, double beta,
                       double y)
{
    double d = fabs(x - o->mean);
    return 2.0 * (fabs(gamma) * (o->invstd * (o->tol_mean + 3 * U * d) +
                                 d * o->tol_is) +
                  U * (fabs(y) + fabs(beta))) +
           4 * DENORM;
}
#define TOL_BN "bn_col_oracle bounds (two-pass float mean/var, see comment)"

START_TEST(bn_hand)
{
    begin();
    /* column 0 = [1 3]: mean 2, var 1, invstd 1 (eps 0), y = [-1 1];
     * run_mean 0 -> 0.1*2 = 0.2; run_var 1 -> 0.9 + 0.1*2 (unbiased 2). */
    const float x[] = {1, 3};
    const float g = 1, b = 0;
    float y[2], mean, invstd, rm = 0, rv = 1;
    SHAPE("rows=2 cols=1 eps=0 momentum=0.1");
    bp_bn_fwd_train__scalar(2, 1, x, 1, &g, &b, 0.0f, 0.1f, y, 1, &mean,
                            &invstd, &rm, &rv);
    EXPECT("bn_fwd_train", "y", 0, y[0], -1.0, 0, TOL_EXACT);
    EXPECT("bn_fwd_train", "y", 1, y[1], 1.0, 0, TOL_EXACT);
    EXPECT("bn_fwd_train", "mean", 0, mean, 2.0, 0, TOL_EXACT);
    EXPECT("bn_fwd_train", "invstd", 0, invstd, 1.0, 0, TOL_EXACT);
    EXPECT("bn_fwd_train", "run_mean", 0, rm, 0.2, 2 * U * 0.2, "2u");
    EXPECT("bn_fwd_train", "run_var", 0, rv, 1.1, 2 * U * 1.1, "2u");
    /* gamma 3, beta -1: y = 3 xhat - 1 */
    const float g3 = 3, bm1 = -1;
    bp_bn_fwd_train__scalar(2, 1, x, 1, &g3, &bm1, 0.0f, 0.1f, y, 1, &mean,
                            &invstd, NULL, NULL);
    EXPECT("bn_fwd_train", "y", 0, y[0], -4.0, 0, TOL_EXACT);
    EXPECT("bn_fwd_train", "y", 1, y[1], 2.0, 0, TOL_EXACT);
    /* inference: (3 - 1) / sqrt(4) * 2 + 1 = 3 */
    const float xi = 3, gi = 2, bi = 1, rmi = 1, rvi = 4;
    float yi;
    SHAPE("rows=1 cols=1 eps=0");
    bp_bn_fwd_infer__scalar(1, 1, &xi, 1, &gi, &bi, &rmi, &rvi, 0.0f, &yi, 1);
    EXPECT("bn_fwd_infer", "y", 0, yi, 3.0, 0, TOL_EXACT);
    /* backward: x = [-1 -1 1 1] (mean 0, invstd 1), dy = [1 0 0 0],
     * gamma 2: dbeta 1, dgamma -1, dx = 2/4 (4dy - 1 + xhat) =
     * [1 -1 0 0]. */
    const float xb[] = {-1, -1, 1, 1}, dyb[] = {1, 0, 0, 0};
    const float gb = 2, mb = 0, isb = 1;
    float dx[4], dg, dbt;
    SHAPE("rows=4 cols=1");
    bp_bn_bwd__scalar(4, 1, xb, 1, dyb, 1, &gb, &mb, &isb, dx, 1, &dg, &dbt);
    EXPECT("bn_bwd", "dbeta", 0, dbt, 1.0, 0, TOL_EXACT);
    EXPECT("bn_bwd", "dgamma", 0, dg, -1.0, 0, TOL_EXACT);
    const float wdx[] = {1, -1, 0, 0};
    for (int i = 0; i < 4; i++)
        EXPECT("bn_bwd", "dx", i, dx[i], wdx[i], 0, TOL_EXACT);
    finish("bn_hand");
}
END_TEST

static const size_t bn_rows[] = {1, 2, 7, 33, 64};
static const size_t bn_cols[] = {0, 1, 7, 13};

/* _i in [0, 20): rows x cols. Training forward (y, mean, invstd, running
 * stats) and backward against the double oracle; eps alternates. */
START_TEST(bn_oracle)
{
    begin();
    size_t rows = bn_rows[_i / 4], cols = bn_cols[_i % 4];
    size_t ldx = cols + pads[_i % 4], ldy = cols + pads[(_i + 1) % 4];
    size_t lddy = cols + pads[(_i + 2) % 4], lddx = cols + pads[(_i + 3) % 4];
    float eps = _i % 2 ? 1e-5f : 0.1f, mom = 0.1f;
    bp_rng rng = bp_rng_stream(SEED, 1000 + (uint64_t)_i);
    float *x = mat_normal(&rng, rows, cols, ldx, 2.0, 0.0, NAN);
    for (size_t r = 0; r < rows; r++) /* column offsets -3 .. */
        for (size_t c = 0; c < cols; c++)
            x[r * ldx + c] += (float)c - 3.0f;
    float *gamma = fbuf(cols), *beta = fbuf(cols), *rm = fbuf(cols);
    float *rv = fbuf(cols), *mean = fbuf(cols), *is = fbuf(cols);
    fill_normal(&rng, gamma, cols, 0.5, 1.0);
    fill_normal(&rng, beta, cols, 1.0, 0.0);
    fill_normal(&rng, rm, cols, 1.0, 0.0);
    fill_uniform(&rng, rv, cols, 0.5, 2.0);
    float *rm0 = fdup(rm, cols), *rv0 = fdup(rv, cols);
    float *y = mat_const(rows, ldy, SENTINEL);
    SHAPE("rows=%zu cols=%zu ldx=%zu ldy=%zu eps=%g momentum=%g", rows, cols,
          ldx, ldy, (double)eps, (double)mom);
    bp_bn_fwd_train__scalar(rows, cols, x, ldx, gamma, beta, eps, mom, y, ldy,
                            mean, is, rm, rv);
    for (size_t c = 0; c < cols; c++) {
        bn_col o = bn_col_oracle(rows, x + c, ldx, eps);
        EXPECT("bn_fwd_train", "mean", c, mean[c], o.mean, o.tol_mean,
               TOL_BN);
        EXPECT("bn_fwd_train", "invstd", c, is[c], o.invstd, o.tol_is,
               TOL_BN);
        for (size_t r = 0; r < rows; r++) {
            double xv = x[r * ldx + c];
            double want = (xv - o.mean) * o.invstd * gamma[c] + beta[c];
            EXPECT("bn_fwd_train", "y", r * ldy + c, y[r * ldy + c], want,
                   bn_y_tol(&o, xv, gamma[c], beta[c], want), TOL_BN);
        }
        double m = mom;
        double wrm = (1 - m) * rm0[c] + m * o.mean;
        double wrv = (1 - m) * rv0[c] + m * o.unbiased;
        double tol_unb = (o.tol_var + 2 * U * o.var) * (double)rows /
                         (double)(rows > 1 ? rows - 1 : 1);
        EXPECT("bn_fwd_train", "run_mean", c, rm[c], wrm,
               4 * U * (fabs((1 - m) * rm0[c]) + fabs(m * o.mean)) +
                   m * o.tol_mean,
               "4u|terms| + momentum tol_mean");
        EXPECT("bn_fwd_train", "run_var (unbiased)", c, rv[c], wrv,
               4 * U * (fabs((1 - m) * rv0[c]) + fabs(m * o.unbiased)) +
                   m * tol_unb,
               "4u|terms| + momentum tol_var rows/(rows-1)");
    }
    expect_pad("bn_fwd_train", "y", y, rows, cols, ldy);
    /* Without running stats: same y, mean, invstd bits. */
    float *y2 = mat_const(rows, ldy, SENTINEL);
    float *mean2 = fbuf(cols), *is2 = fbuf(cols);
    SHAPE("rows=%zu cols=%zu run stats NULL", rows, cols);
    bp_bn_fwd_train__scalar(rows, cols, x, ldx, gamma, beta, eps, mom, y2, ldy,
                            mean2, is2, NULL, NULL);
    for (size_t c = 0; c < cols; c++) {
        EXPECT_BITS("bn_fwd_train", "mean", c, mean2[c], mean[c]);
        EXPECT_BITS("bn_fwd_train", "invstd", c, is2[c], is[c]);
        for (size_t r = 0; r < rows; r++)
            EXPECT_BITS("bn_fwd_train", "y", r * ldy + c, y2[r * ldy + c],
                        y[r * ldy + c]);
    }
    /* Backward with the kernel's own mean and invstd. */
    float *dy = mat_normal(&rng, rows, cols, lddy, 1.0, 0.0, NAN);
    float *dx = mat_const(rows, lddx, SENTINEL);
    float *dg = fbuf(cols), *db = fbuf(cols);
    fill(dg, cols, NAN);
    fill(db, cols, NAN);
    SHAPE("rows=%zu cols=%zu ldx=%zu lddy=%zu lddx=%zu", rows, cols, ldx,
          lddy, lddx);
    bp_bn_bwd__scalar(rows, cols, x, ldx, dy, lddy, gamma, mean, is, dx, lddx,
                      dg, db);
    for (size_t c = 0; c < cols; c++) {
        double sdy = 0, sdyx = 0, mdy = 0, mdyx = 0;
        double *xh = dbuf(rows);
        for (size_t r = 0; r < rows; r++) {
            double g = dy[r * lddy + c];
            xh[r] = ((double)x[r * ldx + c] - mean[c]) * is[c];
            sdy += g;
            sdyx += g * xh[r];
            mdy += fabs(g);
            mdyx += fabs(g * xh[r]);
        }
        EXPECT("bn_bwd", "dbeta", c, db[c], sdy,
               2.0 * (double)(rows + 1) * U * mdy, "2(rows+1)u sum|dy|");
        EXPECT("bn_bwd", "dgamma", c, dg[c], sdyx,
               2.0 * (double)(rows + 3) * U * mdyx,
               "2(rows+3)u sum|dy xhat|");
        double k = (double)gamma[c] * is[c] / (double)rows;
        for (size_t r = 0; r < rows; r++) {
            double g = dy[r * lddy + c];
            double want = k * ((double)rows * g - sdy - xh[r] * sdyx);
            double terms = (double)rows * fabs(g) + mdy + fabs(xh[r]) * mdyx;
            EXPECT("bn_bwd", "dx", r * lddx + c, dx[r * lddx + c], want,
                   2.0 * (double)(rows + 6) * U * fabs(k) * terms,
                   "2(rows+6)u|gamma invstd/rows|(rows|dy| + sum|dy| + "
                   "|xhat| sum|dy xhat|)");
        }
        free(xh);
    }
    expect_pad("bn_bwd", "dx", dx, rows, cols, lddx);
    free(x);
    free(gamma);
    free(beta);
    free(rm);
    free(rv);
    free(rm0);
    free(rv0);
    free(mean);
    free(is);
    free(y);
    free(y2);
    free(mean2);
    free(is2);
    free(dy);
    free(dx);
    free(dg);
    free(db);
    finish("bn_oracle");
}
END_TEST

/* With gamma = 1, beta = 0 each output column has mean 0 and biased
 * variance var/(var+eps) (eps large enough for that to differ from 1).
 * Bounds: from the per-element bound t_r of bn_y_tol, |mean_y| <= mean t_r
 * and |var_y - var/(var+eps)| <= 2 mean(|y_r| t_r) + (mean t_r)^2. */
START_TEST(bn_properties)
{
    begin();
    const size_t rows_set[] = {33, 64};
    const float eps_set[] = {1e-5f, 2.0f};
    size_t cols = 5;
    bp_rng rng = bp_rng_stream(SEED, 1100);
    for (int a = 0; a < 2; a++)
        for (int e = 0; e < 2; e++) {
            size_t rows = rows_set[a];
            float eps = eps_set[e];
            float *x = mat_normal(&rng, rows, cols, cols, 3.0, 10.0, NAN);
            float *y = fbuf(rows * cols), g1[5], b0[5], mean[5], is[5];
            fill(g1, 5, 1.0f);
            fill(b0, 5, 0.0f);
            SHAPE("rows=%zu cols=%zu eps=%g gamma=1 beta=0", rows, cols,
                  (double)eps);
            bp_bn_fwd_train__scalar(rows, cols, x, cols, g1, b0, eps, 0.1f, y,
                                    cols, mean, is, NULL, NULL);
            for (size_t c = 0; c < cols; c++) {
                bn_col o = bn_col_oracle(rows, x + c, cols, eps);
                double my = 0, t = 0, yt = 0;
                for (size_t r = 0; r < rows; r++) {
                    double yr = y[r * cols + c];
                    double tr = bn_y_tol(&o, x[r * cols + c], 1, 0, yr);
                    my += yr;
                    t += tr;
                    yt += fabs(yr) * tr;
                }
                my /= (double)rows;
                t /= (double)rows;
                yt /= (double)rows;
                double vy = 0;
                for (size_t r = 0; r < rows; r++) {
                    double d = y[r * cols + c] - my;
                    vy += d * d;
                }
                vy /= (double)rows;
                EXPECT("bn_fwd_train", "column mean of y", c, my, 0.0, t,
                       "|mean y| <= mean of the per-element bounds");
                double wv = o.var / (o.var + eps);
                EXPECT("bn_fwd_train", "column variance of y", c, vy, wv,
                       2 * yt + t * t,
                       "|var y - var/(var+eps)| <= 2 mean(|y| t) + t^2");
                /* the check is meaningful: var/(var+eps) is not 1 */
                if (e == 1)
                    ck_assert_msg(1.0 - wv > 100 * (2 * yt + t * t),
                                  "eps=2 should move var(y) away from 1");
            }
            free(x);
            free(y);
        }
    finish("bn_properties");
}
END_TEST

/* A constant column whose sum is exact in float has an exact mean, so
 * var = 0, invstd = 1/sqrt(eps) and y = beta exactly (the mean is s / n,
 * one rounding; s * (1/n) rounds twice and is off by an ulp, which
 * 1/sqrt(eps) magnifies). */
START_TEST(bn_constant_exact)
{
    const float vals[] = {12345.0f, 1000.0f, -3.0f, 0.5f};
    const size_t rows_set[] = {3, 7, 10, 100};
    for (int a = 0; a < 4; a++)
        for (int v = 0; v < 4; v++) {
            size_t rows = rows_set[a];
            float x[100], y[100], gamma = 1.0f, beta = 0.25f, mean, is;
            for (size_t r = 0; r < rows; r++)
                x[r] = vals[v];
            bp_bn_fwd_train__scalar(rows, 1, x, 1, &gamma, &beta, 1e-5f, 0.1f,
                                    y, 1, &mean, &is, NULL, NULL);
            ck_assert_msg(mean == vals[v],
                          "bn_fwd_train rows=%zu x=%g: mean %.9g", rows,
                          (double)vals[v], (double)mean);
            for (size_t r = 0; r < rows; r++)
                ck_assert_msg(y[r] == beta,
                              "bn_fwd_train rows=%zu x=%g: y[%zu] = %.9g, "
                              "expected beta = 0.25 exactly",
                              rows, (double)vals[v], r, (double)y[r]);
        }
}
END_TEST

/* rows == 1 and constant columns: no NaN; y = beta (to the bound), invstd
 * near 1/sqrt(eps), running variance decays; backward stays finite. */
START_TEST(bn_degenerate)
{
    begin();
    const float consts[] = {0.1f, -3.7f, 1000.0f, 0.0f, 1e-20f, 12345.0f};
    const size_t rows_set[] = {1, 7, 8};
    size_t cols = 6;
    float eps = 1e-5f, mom = 0.25f;
    bp_rng rng = bp_rng_stream(SEED, 1200);
    for (int a = 0; a < 3; a++) {
        size_t rows = rows_set[a];
        float *x = fbuf(rows * cols), *y = fbuf(rows * cols);
        float *dy = fbuf(rows * cols), *dx = fbuf(rows * cols);
        float gamma[6], beta[6], mean[6], is[6], rm[6], rv[6], dg[6], db[6];
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < cols; c++)
                x[r * cols + c] = rows == 1 ? (float)(100 * bp_rng_normal(&rng))
                                            : consts[c];
        fill_normal(&rng, gamma, cols, 1.0, 1.0);
        fill_normal(&rng, beta, cols, 1.0, 0.0);
        fill(rm, cols, 0.5f);
        fill(rv, cols, 2.0f);
        fill_normal(&rng, dy, rows * cols, 1.0, 0.0);
        SHAPE("rows=%zu cols=%zu %s eps=%g", rows, cols,
              rows == 1 ? "one row" : "constant columns", (double)eps);
        bp_bn_fwd_train__scalar(rows, cols, x, cols, gamma, beta, eps, mom, y,
                                cols, mean, is, rm, rv);
        bp_bn_bwd__scalar(rows, cols, x, cols, dy, cols, gamma, mean, is, dx,
                          cols, dg, db);
        for (size_t c = 0; c < cols; c++) {
            bn_col o = bn_col_oracle(rows, x + c, cols, eps);
            ck_assert_msg(isfinite(is[c]) && isfinite(mean[c]) &&
                              isfinite(rm[c]) && isfinite(rv[c]) &&
                              isfinite(dg[c]) && isfinite(db[c]),
                          "bn [%s] column %zu: NaN/inf in mean %g invstd %g "
                          "run %g %g dgamma %g dbeta %g", g_shape, c,
                          (double)mean[c], (double)is[c], (double)rm[c],
                          (double)rv[c], (double)dg[c], (double)db[c]);
            EXPECT("bn_fwd_train", "invstd", c, is[c], 1.0 / sqrt(eps),
                   o.tol_is, TOL_BN);
            /* running variance: (1-m) rv + m * 0 (unbiased var is 0) */
            EXPECT("bn_fwd_train", "run_var", c, rv[c], (1.0 - mom) * 2.0,
                   4 * U * 2.0 + mom * (o.tol_var + 2 * U * o.var) *
                                     (double)rows /
                                     (double)(rows > 1 ? rows - 1 : 1),
                   "4u|terms| + momentum tol_var rows/(rows-1)");
            for (size_t r = 0; r < rows; r++) {
                size_t i = r * cols + c;
                ck_assert_msg(isfinite(y[i]) && isfinite(dx[i]),
                              "bn [%s] element %zu: y %g dx %g", g_shape, i,
                              (double)y[i], (double)dx[i]);
                EXPECT("bn_fwd_train", "y", i, y[i], beta[c],
                       bn_y_tol(&o, x[i], gamma[c], beta[c], beta[c]),
                       TOL_BN);
                if (rows == 1) { /* one row: exactly beta, dx exactly 0 */
                    EXPECT_BITS("bn_fwd_train", "y (rows=1)", i, y[i],
                                beta[c]);
                    EXPECT("bn_bwd", "dx (rows=1)", i, dx[i], 0.0, 0,
                           TOL_EXACT);
                }
            }
            if (rows == 1)
                EXPECT_BITS("bn_bwd", "dbeta (rows=1)", c, db[c], dy[c]);
        }
        free(x);
        free(y);
        free(dy);
        free(dx);
    }
    finish("bn_degenerate");
}
END_TEST

/* _i in [0, 20): inference with running stats vs double, and in place. */
START_TEST(bn_infer_oracle)
{
    begin();
    size_t rows, cols, ldx, ldy;
    mat_shape(_i, &rows, &cols, &ldx, &ldy);
    float eps = _i % 2 ? 1e-5f : 0.5f;
    bp_rng rng = bp_rng_stream(SEED, 1300 + (uint64_t)_i);
    float *x = mat_normal(&rng, rows, cols, ldx, 2.0, 1.0, NAN);
    float *gamma = fbuf(cols), *beta = fbuf(cols), *rm = fbuf(cols);
    float *rv = fbuf(cols);
    fill_normal(&rng, gamma, cols, 1.0, 0.5);
    fill_normal(&rng, beta, cols, 1.0, 0.0);
    fill_normal(&rng, rm, cols, 1.0, 1.0);
    fill_uniform(&rng, rv, cols, 0.0, 4.0);
    if (cols)
        rv[0] = 0.0f; /* a dead feature: invstd 1/sqrt(eps) */
    float *y = mat_const(rows, ldy, SENTINEL);
    SHAPE("rows=%zu cols=%zu ldx=%zu ldy=%zu eps=%g", rows, cols, ldx, ldy,
          (double)eps);
    bp_bn_fwd_infer__scalar(rows, cols, x, ldx, gamma, beta, rm, rv, eps, y,
                            ldy);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            double d = (double)x[r * ldx + c] - rm[c];
            double is = 1.0 / sqrt((double)rv[c] + eps);
            double want = d * is * gamma[c] + beta[c];
            EXPECT("bn_fwd_infer", "y", r * ldy + c, y[r * ldy + c], want,
                   12 * U * fabs(d) * is * fabs((double)gamma[c]) +
                       2 * U * (fabs(want) + fabs((double)beta[c])) +
                       4 * DENORM,
                   "12u|x-m| invstd |gamma| + 2u(|y| + |beta|)");
        }
    expect_pad("bn_fwd_infer", "y", y, rows, cols, ldy);
    float *z = fdup(x, rows * ldx);
    SHAPE("rows=%zu cols=%zu ld=%zu in place", rows, cols, ldx);
    bp_bn_fwd_infer__scalar(rows, cols, z, ldx, gamma, beta, rm, rv, eps, z,
                            ldx);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            EXPECT_BITS("bn_fwd_infer", "y (in place)", r * ldx + c,
                        z[r * ldx + c], y[r * ldy + c]);
    if (rows * ldy == 0) /* an empty output: the one-float stub is intact */
        EXPECT_BITS("bn_fwd_infer", "y (empty)", 0, y[0], SENTINEL);
    free(x);
    free(gamma);
    free(beta);
    free(rm);
    free(rv);
    free(y);
    free(z);
    finish("bn_infer_oracle");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Optimizers                                                              */

static bp_opt_params opt_params(float lr, float l2, float l1, float mom,
                                bool nesterov)
{
    bp_opt_params p = {lr, l2, l1, mom, nesterov, 0.9f, 0.999f, 1e-8f,
                       1.0f, 1.0f};
    return p;
}

START_TEST(optim_hand)
{
    begin();
    /* sgd, lr 0.1, l2 0.1, l1 0.01:
     *   w = 1, g = .5: g' = .61, w = .939; w = 0: g' = .5 (sign 0 = 0),
     *   w = -.05; w = -2: g' = .5 - .2 - .01 = .29, w = -2.029. */
    float w[] = {1, 0, -2, -0.0f};
    const float g[] = {0.5f, 0.5f, 0.5f, 0.0f};
    bp_opt_params p = opt_params(0.1f, 0.1f, 0.01f, 0, false);
    SHAPE("n=4 lr=0.1 l2=0.1 l1=0.01");
    bp_sgd_update__scalar(4, w, g, &p);
    const double ws[] = {0.939, -0.05, -2.029, 0.0};
    for (int i = 0; i < 4; i++)
        EXPECT("sgd_update", "w", i, w[i], ws[i], 8 * U * 2.1, "8u|terms|");
    /* momentum 0.9, v = 1, w = 1, g = .5, lr .1: v = 1.4, w = .86;
     * nesterov: step = .5 + .9 * 1.4 = 1.76, w = .824 */
    for (int nest = 0; nest < 2; nest++) {
        float wm = 1, vm = 1;
        const float gm = 0.5f;
        p = opt_params(0.1f, 0, 0, 0.9f, nest);
        SHAPE("n=1 lr=0.1 momentum=0.9 nesterov=%d", nest);
        bp_momentum_update__scalar(1, &wm, &gm, &vm, &p);
        EXPECT("momentum_update", "v", 0, vm, 1.4, 4 * U * 1.4, "4u|terms|");
        EXPECT("momentum_update", "w", 0, wm, nest ? 0.824 : 0.86,
               8 * U * 1.0, "8u|terms|");
    }
    /* adam at t = 1 from m = v = 0 with float-exact beta1 = 7/8,
     * beta2 = 1 - 2^-10, lr = 2^-6, g = .5: m = 1/16, v = 2^-12,
     * mhat = .5, sqrt(vhat) = .5, w = 1 - 2^-6 * .5 / (.5 + 1e-8). */
    float wa = 1, ma = 0, va = 0;
    const float ga = 0.5f;
    p = opt_params(0x1p-6f, 0, 0, 0, false);
    p.beta1 = 0.875f;
    p.beta2 = 1.0f - 0x1p-10f;
    p.bc1 = 1.0f - p.beta1;
    p.bc2 = 1.0f - p.beta2;
    SHAPE("n=1 lr=2^-6 beta1=0.875 beta2=1-2^-10 t=1");
    bp_adam_update__scalar(1, &wa, &ga, &ma, &va, &p);
    EXPECT("adam_update", "m", 0, ma, 0.0625, 0, TOL_EXACT);
    EXPECT("adam_update", "v", 0, va, 0x1p-12, 0, TOL_EXACT);
    EXPECT("adam_update", "w", 0, wa, 1.0 - 0x1p-6 * 0.5 / (0.5 + 1e-8),
           2 * U, "2u");
    finish("optim_hand");
}
END_TEST

/* _i in [0, 4): sgd, momentum, nesterov, adam. n = 37 (and 0, 1), six
 * steps with l2 and l1 nonzero. Each step is checked against the double
 * formula applied to the same float state; elements with w = +-0 and g = 0
 * must stay exactly 0 (sign(0) = 0); at the end the float trajectory is
 * compared with a pure-double trajectory from the same start. */
START_TEST(optim_oracle)
{
    begin();
    const char *names[] = {"sgd_update", "momentum_update",
                           "momentum_update (nesterov)", "adam_update"};
    const char *kn = names[_i];
    const size_t sizes[] = {0, 1, 37};
    for (size_t si = 0; si < 3; si++) {
        size_t n = sizes[si];
        bp_rng rng = bp_rng_stream(SEED, 1400 + 10 * (uint64_t)_i + si);
        float *w = fbuf(n), *v = fbuf(n + 1), *m = fbuf(n + 1), *g = fbuf(n);
        double *wd = dbuf(n), *vd = dbuf(n), *md = dbuf(n);
        fill_normal(&rng, w, n, 1.0, 0.0);
        fill(v, n, 0.0f);
        fill(m, n, 0.0f);
        v[n] = m[n] = SENTINEL;
        for (size_t i = 0; i < n; i += 5)
            w[i] = i % 10 ? -0.0f : 0.0f;
        for (size_t i = 0; i < n; i++) {
            wd[i] = w[i];
            vd[i] = md[i] = 0.0;
        }
        bool nest = _i == 2;
        bp_opt_params p = opt_params(0.05f, 0.01f, 0.001f, 0.9f, nest);
        /* the hyper-parameters exactly as the kernel receives them */
        const double lr = p.lr, l2 = p.l2, l1 = p.l1, mom = p.momentum;
        const double b1 = p.beta1, b2 = p.beta2, eps = p.eps;
        int steps = 6;
        for (int t = 1; t <= steps; t++) {
            fill_normal(&rng, g, n, 1.0, 0.0);
            for (size_t i = 0; i < n; i += 5)
                g[i] = 0.0f; /* w = 0, g = 0 stays 0 forever */
            if (t == 1 && n > 3)
                g[3] = 0.0f, w[3] = 0.0f, wd[3] = 0.0; /* w = 0, g = 0 */
            if (t == 1 && n > 1)
                w[1] = 0.0f, wd[1] = 0.0; /* w = 0, g != 0: g' = g */
            p.bc1 = (float)(1.0 - pow(b1, t));
            p.bc2 = (float)(1.0 - pow(b2, t));
            float *w0 = fdup(w, n), *v0 = fdup(v, n), *m0 = fdup(m, n);
            SHAPE("n=%zu step t=%d lr=%g l2=%g l1=%g momentum=%g", n, t, lr,
                  l2, l1, mom);
            if (_i == 0)
                bp_sgd_update__scalar(n, w, g, &p);
            else if (_i < 3)
                bp_momentum_update__scalar(n, w, g, v, &p);
            else
                bp_adam_update__scalar(n, w, g, m, v, &p);
            for (size_t i = 0; i < n; i++) {
                double wi = w0[i], gi = g[i];
                double gp = gi + (double)p.l2 * wi + (double)p.l1 * sgn(wi);
                double gt = fabs(gi) + fabs((double)p.l2 * wi) +
                            fabs((double)p.l1);
                double plr = p.lr;
                if (_i == 0) {
                    double want = wi - plr * gp;
                    EXPECT(kn, "w", i, w[i], want,
                           4 * U * (fabs(wi) + fabs(want) + plr * gt),
                           "4u(|w| + |w'| + lr|g terms|)");
                } else if (_i < 3) {
                    double pm = p.momentum;
                    double vv = pm * v0[i] + gp;
                    double vt = fabs(pm * v0[i]) + gt;
                    double step = nest ? gp + pm * vv : vv;
                    double st = nest ? gt + pm * vt : vt;
                    double want = wi - plr * step;
                    EXPECT(kn, "v", i, v[i], vv, 4 * U * (vt + fabs(vv)),
                           "4u(|momentum v| + |g terms| + |v'|)");
                    EXPECT(kn, "w", i, w[i], want,
                           4 * U * (fabs(wi) + fabs(want) + 2 * plr * st),
                           "4u(|w| + |w'| + 2 lr|step terms|)");
                } else {
                    double pb1 = p.beta1, pb2 = p.beta2;
                    double mm = pb1 * m0[i] + (1 - pb1) * gp;
                    double vv = pb2 * v0[i] + (1 - pb2) * gp * gp;
                    double den = sqrt(vv) / sqrt((double)p.bc2) + p.eps;
                    double want = wi - (plr / p.bc1) * mm / den;
                    EXPECT(kn, "m", i, m[i], mm,
                           4 * U * (pb1 * fabs(m0[i]) + (1 - pb1) * gt +
                                    fabs(mm)),
                           "4u(beta1|m| + (1-beta1)|g terms| + |m'|)");
                    EXPECT(kn, "v", i, v[i], vv,
                           8 * U * (pb2 * v0[i] + (1 - pb2) * gt * gt),
                           "8u(beta2 v + (1-beta2)|g terms|^2)");
                    EXPECT(kn, "w", i, w[i], want,
                           16 * U * (fabs(wi) + fabs(want) +
                                     (plr / p.bc1) *
                                         (pb1 * fabs(m0[i]) +
                                          (1 - pb1) * gt + fabs(mm)) /
                                         den),
                           "16u(|w| + |w'| + lr/bc1 (|m terms| + |m'|)/"
                           "denom)");
                }
            }
            /* the pure-double trajectory (bias corrections in double) */
            double bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
            for (size_t i = 0; i < n; i++) {
                double gp = g[i] + l2 * wd[i] + l1 * sgn(wd[i]);
                if (_i == 0) {
                    wd[i] -= lr * gp;
                } else if (_i < 3) {
                    vd[i] = mom * vd[i] + gp;
                    wd[i] -= lr * (nest ? gp + mom * vd[i] : vd[i]);
                } else {
                    md[i] = b1 * md[i] + (1 - b1) * gp;
                    vd[i] = b2 * vd[i] + (1 - b2) * gp * gp;
                    wd[i] -= (lr / bc1) * md[i] / (sqrt(vd[i] / bc2) + eps);
                }
            }
            free(w0);
            free(v0);
            free(m0);
        }
        SHAPE("n=%zu after %d steps", n, steps);
        for (size_t i = 0; i < n; i += 5) {
            EXPECT(kn, "w (w = 0, g = 0: sign(0) = 0)", i, w[i], 0.0, 0,
                   "stays exactly 0");
            if (_i > 0)
                EXPECT(kn, "v (w = 0, g = 0)", i, v[i], 0.0, 0,
                       "stays exactly 0");
        }
        /* Float trajectory vs double trajectory: the per-step errors
         * (~10u relative) add over 6 steps, amplified at most by 1/(1 -
         * momentum) = 10 for momentum and by the adam normalisation:
         * 1e-5 (1 + |w|) leaves a margin of > 10. */
        for (size_t i = 0; i < n; i++)
            EXPECT(kn, "w (double trajectory)", i, w[i], wd[i],
                   1e-5 * (1.0 + fabs(wd[i])),
                   "1e-5 (1 + |w|) after 6 steps");
        EXPECT_BITS(kn, "v[n] untouched", n, v[n], SENTINEL);
        EXPECT_BITS(kn, "m[n] untouched", n, m[n], SENTINEL);
        free(w);
        free(v);
        free(m);
        free(g);
        free(wd);
        free(vd);
        free(md);
    }
    finish("optim_oracle");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Norms: sumsq, scale, clip_value, max_norm                               */

START_TEST(norms_hand)
{
    begin();
    const float x[] = {3, 4};
    SHAPE("n=2");
    EXPECT("sumsq", "sum", 0, bp_sumsq__scalar(2, x), 25.0, 0, TOL_EXACT);
    /* sums in double: no float overflow */
    const float h[] = {1e30f, -1e30f, 3e38f};
    double wh = 2.0 * (double)1e30f * (double)1e30f +
                (double)3e38f * (double)3e38f;
    SHAPE("n=3 huge");
    EXPECT("sumsq", "sum", 0, bp_sumsq__scalar(3, h), wh, 4 * 0x1p-53 * wh,
           "4 2^-53 sum");
    float s[] = {1, -2, 0.5f, SENTINEL};
    SHAPE("n=3 s=2");
    bp_scale__scalar(3, 2.0f, s);
    const float ws[] = {2, -4, 1, SENTINEL};
    for (int i = 0; i < 4; i++)
        EXPECT_BITS("scale", "x", i, s[i], ws[i]);
    float c[] = {-3, 0.5f, 2, NAN, -INFINITY, INFINITY, -0.0f, 1, -1,
                 SENTINEL};
    SHAPE("n=9 c=1");
    bp_clip_value__scalar(9, 1.0f, c);
    const float wc[] = {-1, 0.5f, 1, NAN, -1, 1, -0.0f, 1, -1, SENTINEL};
    for (int i = 0; i < 10; i++) {
        if (isnan(wc[i]))
            EXPECT("clip_value", "x (NaN stays NaN)", i, c[i], NAN, 0,
                   TOL_EXACT);
        else
            EXPECT_BITS("clip_value", "x", i, c[i], wc[i]);
    }
    float c0[] = {3, -3, NAN, 0};
    SHAPE("n=4 c=0");
    bp_clip_value__scalar(4, 0.0f, c0);
    EXPECT("clip_value", "x", 0, c0[0], 0.0, 0, TOL_EXACT);
    EXPECT("clip_value", "x", 1, c0[1], 0.0, 0, TOL_EXACT);
    EXPECT("clip_value", "x (NaN stays NaN)", 2, c0[2], NAN, 0, TOL_EXACT);
    EXPECT("clip_value", "x", 3, c0[3], 0.0, 0, TOL_EXACT);
    /* max_norm, c = 2, ld 5: column norms 5 (scaled by 2/5), 1 (left),
     * 3 (by 2/3), exactly 2 (left: not over c), NaN (left); the padding
     * column untouched */
    float m[] = {3, 0.6f, 1, 2, NAN, SENTINEL,
                 4, 0.8f, 2, 0, 1, SENTINEL,
                 0, 0, 2, 0, 1, SENTINEL};
    float wm[18];
    memcpy(wm, m, sizeof wm);
    const float f0 = (float)(2.0 / 5.0), f2 = (float)(2.0 / 3.0);
    for (int r = 0; r < 3; r++) {
        wm[r * 6 + 0] = m[r * 6 + 0] * f0;
        wm[r * 6 + 2] = m[r * 6 + 2] * f2;
    }
    SHAPE("3x5 ld 6 c=2");
    bp_max_norm__scalar(3, 5, m, 6, 2.0f);
    for (int i = 0; i < 18; i++) {
        if (isnan(wm[i]))
            EXPECT("max_norm", "w (NaN stays NaN)", i, m[i], NAN, 0, TOL_EXACT);
        else
            EXPECT_BITS("max_norm", "w", i, m[i], wm[i]);
    }
    EXPECT("max_norm", "w[0][0] = 3 * 2/5", 0, m[0], 1.2, 1e-6, "1e-6");
    finish("norms_hand");
}
END_TEST

/* _i = size index: sumsq (vs long double), scale and clip (exact). */
START_TEST(norms_oracle)
{
    begin();
    size_t n = flat_sizes[_i];
    bp_rng rng = bp_rng_stream(SEED, 1500 + (uint64_t)_i);
    float *x = fbuf(n + 1), *y = fbuf(n + 1);
    fill_normal(&rng, x, n, 10.0, 0.0);
    if (n >= 4) {
        x[0] = NAN;
        x[1] = INFINITY;
        x[2] = -INFINITY;
        x[3] = -0.0f;
    }
    x[n] = SENTINEL;
    /* sumsq on the finite part */
    size_t off = n >= 4 ? 4 : 0;
    long double ws = 0.0L;
    double mag = 0.0;
    for (size_t i = off; i < n; i++) {
        ws += (long double)x[i] * x[i];
        mag += (double)x[i] * x[i];
    }
    SHAPE("n=%zu", n - off);
    EXPECT("sumsq", "sum", 0, bp_sumsq__scalar(n - off, x + off), (double)ws,
           (double)(n + 1) * 0x1p-53 * mag, "(n+1) 2^-53 sum x^2");
    const float scales[] = {2.0f, -0.5f, 0.3f, 0.0f, -1.75f};
    for (int k = 0; k < 5; k++) {
        memcpy(y, x, (n + 1) * sizeof *y);
        SHAPE("n=%zu s=%g", n, (double)scales[k]);
        bp_scale__scalar(n, scales[k], y);
        for (size_t i = 0; i < n; i++) {
            float want = (float)((double)x[i] * (double)scales[k]);
            if (isnan(want))
                EXPECT("scale", "x", i, y[i], NAN, 0, TOL_EXACT);
            else
                EXPECT_BITS("scale", "x", i, y[i], want);
        }
        EXPECT_BITS("scale", "x", n, y[n], SENTINEL);
    }
    const float cs[] = {0.0f, 0.5f, 3.0f, 25.0f, INFINITY};
    for (int k = 0; k < 5; k++) {
        memcpy(y, x, (n + 1) * sizeof *y);
        SHAPE("n=%zu c=%g", n, (double)cs[k]);
        bp_clip_value__scalar(n, cs[k], y);
        for (size_t i = 0; i < n; i++) {
            double xi = x[i], c = cs[k];
            double want = isnan(xi) ? xi : fmin(fmax(xi, -c), c);
            EXPECT("clip_value", "x", i, y[i], want, 0, TOL_EXACT);
            if (fabs(xi) <= c && xi != 0.0) /* in range: untouched */
                EXPECT_BITS("clip_value", "x (in range)", i, y[i], x[i]);
        }
        EXPECT_BITS("clip_value", "x", n, y[n], SENTINEL);
    }
    free(x);
    free(y);
    finish("norms_oracle");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Finite-difference gradient checks (rule TOL_FD, h = 1e-3)               */

#define FD_H 1e-3

/* _i in [0, 3): sigmoid, tanh, relu. dx from the kernel's own forward
 * output y vs d/dx of sum dy f(x), f in double. x avoids the saturated
 * tails (|x| <= 3 or 6) and, for ReLU, |x| < 0.01. */
START_TEST(fd_unary)
{
    begin();
    const unary_k *K = &unaries[_i];
    char kname[32];
    snprintf(kname, sizeof kname, "%s_bwd", K->name);
    size_t n = 33;
    bp_rng rng = bp_rng_stream(SEED, 1600 + (uint64_t)_i);
    float *x = fbuf(n), *y = fbuf(n), *dy = fbuf(n), *dx = fbuf(n);
    double lim = _i == 0 ? 6.0 : 3.0;
    fill_uniform(&rng, x, n, -lim, lim);
    for (size_t i = 0; i < n; i++)
        if (_i == 2 && fabsf(x[i]) < 0.01f)
            x[i] = x[i] < 0 ? -0.5f : 0.5f;
    fill_normal(&rng, dy, n, 1.0, 0.0);
    K->fwd(n, x, y);
    SHAPE("n=%zu x in [-%g, %g]", n, lim, lim);
    K->bwd(n, y, dy, dx);
    double *fd = dbuf(n);
    for (size_t i = 0; i < n; i++)
        fd[i] = dy[i] * (K->f(x[i] + FD_H) - K->f(x[i] - FD_H)) / (2 * FD_H);
    expect_grad(kname, "dx", dx, fd, n);
    free(x);
    free(y);
    free(dy);
    free(dx);
    free(fd);
    finish("fd_unary");
}
END_TEST

/* softmax_bwd: dx = J^T dy, the gradient of sum dy * softmax(x). */
START_TEST(fd_softmax_bwd)
{
    begin();
    const size_t shapes[][2] = {{1, 2}, {5, 7}, {3, 13}};
    bp_rng rng = bp_rng_stream(SEED, 1700);
    for (int s = 0; s < 3; s++) {
        size_t rows = shapes[s][0], cols = shapes[s][1];
        float *x = fbuf(rows * cols), *y = fbuf(rows * cols);
        float *dy = fbuf(rows * cols), *dx = fbuf(rows * cols);
        double *fd = dbuf(rows * cols), p[13];
        fill_normal(&rng, x, rows * cols, 2.0, 0.0);
        fill_normal(&rng, dy, rows * cols, 1.0, 0.0);
        bp_softmax_fwd__scalar(rows, cols, x, cols, y, cols);
        SHAPE("rows=%zu cols=%zu", rows, cols);
        bp_softmax_bwd__scalar(rows, cols, y, cols, dy, cols, dx, cols);
        /* perturb through a double copy: f(x +- h) in double */
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < cols; c++) {
                double lp = 0, lm = 0;
                for (int sgn_ = -1; sgn_ <= 1; sgn_ += 2) {
                    double xd[13], mx = -INFINITY, sum = 0, l = 0;
                    for (size_t j = 0; j < cols; j++)
                        xd[j] = x[r * cols + j];
                    xd[c] += sgn_ * FD_H;
                    for (size_t j = 0; j < cols; j++)
                        mx = fmax(mx, xd[j]);
                    for (size_t j = 0; j < cols; j++)
                        sum += p[j] = exp(xd[j] - mx);
                    for (size_t j = 0; j < cols; j++)
                        l += dy[r * cols + j] * p[j] / sum;
                    if (sgn_ > 0)
                        lp = l;
                    else
                        lm = l;
                }
                fd[r * cols + c] = (lp - lm) / (2 * FD_H);
            }
        expect_grad("softmax_bwd", "dx", dx, fd, rows * cols);
        free(x);
        free(y);
        free(dy);
        free(dx);
        free(fd);
    }
    finish("fd_softmax_bwd");
}
END_TEST

/* softmax_xent delta = gradient of scale * loss (log-sum-exp in double). */
START_TEST(fd_xent)
{
    begin();
    const size_t shapes[][2] = {{1, 2}, {5, 7}, {4, 13}};
    const float scales[] = {1.0f, 0.2f, -0.75f};
    bp_rng rng = bp_rng_stream(SEED, 1800);
    for (int s = 0; s < 3; s++) {
        size_t rows = shapes[s][0], cols = shapes[s][1];
        float scale = scales[s];
        float *z = fbuf(rows * cols), *delta = fbuf(rows * cols);
        double *fd = dbuf(rows * cols);
        int32_t lab[5];
        fill_normal(&rng, z, rows * cols, 3.0, 0.0);
        for (size_t r = 0; r < rows; r++)
            lab[r] = (int32_t)bp_rng_below(&rng, cols);
        SHAPE("rows=%zu cols=%zu scale=%g", rows, cols, (double)scale);
        bp_softmax_xent__scalar(rows, cols, z, cols, lab, scale, delta, cols);
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < cols; c++) {
                double l[2];
                for (int k = 0; k < 2; k++) {
                    double zd[13], mx = -INFINITY, sum = 0;
                    for (size_t j = 0; j < cols; j++)
                        zd[j] = z[r * cols + j];
                    zd[c] += k ? FD_H : -FD_H;
                    for (size_t j = 0; j < cols; j++)
                        mx = fmax(mx, zd[j]);
                    for (size_t j = 0; j < cols; j++)
                        sum += exp(zd[j] - mx);
                    l[k] = scale * (mx + log(sum) - zd[lab[r]]);
                }
                fd[r * cols + c] = (l[1] - l[0]) / (2 * FD_H);
            }
        expect_grad("softmax_xent", "delta", delta, fd, rows * cols);
        free(z);
        free(delta);
        free(fd);
    }
    finish("fd_xent");
}
END_TEST

/* sigmoid_bce and mse deltas are the gradient of scale * loss. */
START_TEST(fd_bce_mse)
{
    begin();
    size_t n = 33;
    bp_rng rng = bp_rng_stream(SEED, 1900);
    float *z = fbuf(n), *t = fbuf(n), *delta = fbuf(n);
    double *fd = dbuf(n);
    fill_normal(&rng, z, n, 3.0, 0.0);
    fill_uniform(&rng, t, n, 0.0, 1.0);
    float scale = 1.0f / 33.0f;
    SHAPE("n=%zu scale=1/33", n);
    bp_sigmoid_bce__scalar(n, z, t, scale, delta);
    for (size_t i = 0; i < n; i++) {
        double l[2];
        for (int k = 0; k < 2; k++) {
            double zi = (double)z[i] + (k ? FD_H : -FD_H);
            l[k] = scale * (fmax(zi, 0.0) - zi * t[i] +
                            log1p(exp(-fabs(zi))));
        }
        fd[i] = (l[1] - l[0]) / (2 * FD_H);
    }
    expect_grad("sigmoid_bce", "delta", delta, fd, n);
    scale = 0.5f;
    SHAPE("n=%zu scale=0.5", n);
    bp_mse__scalar(n, z, t, scale, delta);
    for (size_t i = 0; i < n; i++) {
        double l[2];
        for (int k = 0; k < 2; k++) {
            double d = (double)z[i] + (k ? FD_H : -FD_H) - t[i];
            l[k] = scale * d * d;
        }
        fd[i] = (l[1] - l[0]) / (2 * FD_H);
    }
    expect_grad("mse", "delta (gradient of scale * loss)", delta, fd, n);
    free(z);
    free(t);
    free(delta);
    free(fd);
    finish("fd_bce_mse");
}
END_TEST

/* L = sum dy * bn(x; gamma, beta) for one column, all in double. */
static double bn_col_loss(size_t rows, const double *x, double gamma,
                          double beta, double eps, const float *dy,
                          size_t lddy)
{
    double mu = 0, var = 0, l = 0;
    for (size_t r = 0; r < rows; r++)
        mu += x[r];
    mu /= (double)rows;
    for (size_t r = 0; r < rows; r++)
        var += (x[r] - mu) * (x[r] - mu);
    var /= (double)rows;
    double is = 1.0 / sqrt(var + eps);
    for (size_t r = 0; r < rows; r++)
        l += dy[r * lddy] * ((x[r] - mu) * is * gamma + beta);
    return l;
}

/* bn_bwd: dx, dgamma, dbeta against differences of sum dy * bn_fwd_train. */
START_TEST(fd_bn_bwd)
{
    begin();
    /* Two rows give outputs +-sqrt(var/(var+eps)) gamma + beta, whose
     * gradient is O(eps): a larger eps keeps it far above float noise. */
    const size_t shapes[][2] = {{2, 3}, {7, 4}, {16, 3}};
    const float epss[] = {0.25f, 1e-3f, 1e-3f};
    bp_rng rng = bp_rng_stream(SEED, 2000);
    for (int s = 0; s < 3; s++) {
        size_t rows = shapes[s][0], cols = shapes[s][1];
        float eps = epss[s];
        float *x = fbuf(rows * cols), *y = fbuf(rows * cols);
        float *dy = fbuf(rows * cols), *dx = fbuf(rows * cols);
        float gamma[4], beta[4], mean[4], is[4], dg[4], db[4];
        double *fdx = dbuf(rows * cols), fdg[4], fdb[4];
        double *xd = dbuf(rows);
        fill_normal(&rng, x, rows * cols, 1.5, 0.5);
        fill_normal(&rng, dy, rows * cols, 1.0, 0.0);
        fill_normal(&rng, gamma, cols, 0.5, 1.0);
        fill_normal(&rng, beta, cols, 1.0, 0.0);
        SHAPE("rows=%zu cols=%zu eps=%g", rows, cols, (double)eps);
        bp_bn_fwd_train__scalar(rows, cols, x, cols, gamma, beta, eps, 0.1f,
                                y, cols, mean, is, NULL, NULL);
        bp_bn_bwd__scalar(rows, cols, x, cols, dy, cols, gamma, mean, is, dx,
                          cols, dg, db);
        for (size_t c = 0; c < cols; c++) {
            for (size_t r = 0; r < rows; r++)
                xd[r] = x[r * cols + c];
            for (size_t r = 0; r < rows; r++) {
                xd[r] = (double)x[r * cols + c] + FD_H;
                double lp = bn_col_loss(rows, xd, gamma[c], beta[c], eps,
                                        dy + c, cols);
                xd[r] = (double)x[r * cols + c] - FD_H;
                double lm = bn_col_loss(rows, xd, gamma[c], beta[c], eps,
                                        dy + c, cols);
                xd[r] = x[r * cols + c];
                fdx[r * cols + c] = (lp - lm) / (2 * FD_H);
            }
            fdg[c] = (bn_col_loss(rows, xd, gamma[c] + FD_H, beta[c], eps,
                                  dy + c, cols) -
                      bn_col_loss(rows, xd, gamma[c] - FD_H, beta[c], eps,
                                  dy + c, cols)) /
                     (2 * FD_H);
            fdb[c] = (bn_col_loss(rows, xd, gamma[c], beta[c] + FD_H, eps,
                                  dy + c, cols) -
                      bn_col_loss(rows, xd, gamma[c], beta[c] - FD_H, eps,
                                  dy + c, cols)) /
                     (2 * FD_H);
        }
        expect_grad("bn_bwd", "dx", dx, fdx, rows * cols);
        expect_grad("bn_bwd", "dgamma", dg, fdg, cols);
        expect_grad("bn_bwd", "dbeta", db, fdb, cols);
        free(x);
        free(y);
        free(dy);
        free(dx);
        free(fdx);
        free(xd);
    }
    finish("fd_bn_bwd");
}
END_TEST

/* bias_grad: db = gradient of sum dy * (y + b) with respect to b. */
START_TEST(fd_bias_grad)
{
    begin();
    size_t rows = 9, cols = 5, ld = 7;
    bp_rng rng = bp_rng_stream(SEED, 2100);
    float *dy = mat_normal(&rng, rows, cols, ld, 1.0, 0.0, NAN);
    float *y = mat_normal(&rng, rows, cols, ld, 1.0, 0.0, NAN);
    float b[5], db[5];
    double fd[5];
    fill_normal(&rng, b, cols, 1.0, 0.0);
    SHAPE("rows=%zu cols=%zu lddy=%zu", rows, cols, ld);
    bp_bias_grad__scalar(rows, cols, dy, ld, db);
    for (size_t c = 0; c < cols; c++) {
        double l[2];
        for (int k = 0; k < 2; k++) {
            l[k] = 0;
            for (size_t r = 0; r < rows; r++)
                for (size_t j = 0; j < cols; j++) {
                    double bj = b[j] + (j == c ? (k ? FD_H : -FD_H) : 0.0);
                    l[k] += dy[r * ld + j] * ((double)y[r * ld + j] + bj);
                }
        }
        fd[c] = (l[1] - l[0]) / (2 * FD_H);
    }
    expect_grad("bias_grad", "db", db, fd, cols);
    free(dy);
    free(y);
    finish("fd_bias_grad");
}
END_TEST

/* ---------------------------------------------------------------------- */

static Suite *scalar_suite(void)
{
    Suite *s = suite_create("scalar");
    TCase *tc;

    tc = tcase_create("gemm");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, gemm_hand);
    tcase_add_test(tc, gemm_edges);
    tcase_add_loop_test(tc, gemm_oracle, 0, 12);
    suite_add_tcase(s, tc);

    tc = tcase_create("activations");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, act_hand);
    tcase_add_loop_test(tc, act_fwd_oracle, 0, (int)N_FLAT);
    tcase_add_test(tc, act_fwd_sweep);
    tcase_add_loop_test(tc, act_bwd_oracle, 0, (int)N_FLAT);
    suite_add_tcase(s, tc);

    tc = tcase_create("softmax");
    tcase_add_test(tc, softmax_hand);
    tcase_add_loop_test(tc, softmax_fwd_oracle, 0, N_MAT);
    tcase_add_test(tc, softmax_edge);
    tcase_add_loop_test(tc, softmax_bwd_oracle, 0, N_MAT);
    suite_add_tcase(s, tc);

    tc = tcase_create("losses");
    tcase_add_test(tc, losses_hand);
    tcase_add_test(tc, losses_zero);
    tcase_add_loop_test(tc, xent_oracle, 0, 16);
    tcase_add_loop_test(tc, bce_mse_oracle, 0, (int)N_FLAT);
    tcase_add_test(tc, bce_edge);
    suite_add_tcase(s, tc);

    tc = tcase_create("bias");
    tcase_add_test(tc, bias_hand);
    tcase_add_loop_test(tc, bias_oracle, 0, N_MAT);
    suite_add_tcase(s, tc);

    tc = tcase_create("dropout");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, dropout_hand);
    tcase_add_loop_test(tc, dropout_formula, 0, 4);
    tcase_add_loop_test(tc, dropout_stats, 0, 3);
    tcase_add_test(tc, dropout_keys);
    suite_add_tcase(s, tc);

    tc = tcase_create("batchnorm");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bn_hand);
    tcase_add_loop_test(tc, bn_oracle, 0, 20);
    tcase_add_test(tc, bn_properties);
    tcase_add_test(tc, bn_degenerate);
    tcase_add_test(tc, bn_constant_exact);
    tcase_add_loop_test(tc, bn_infer_oracle, 0, N_MAT);
    suite_add_tcase(s, tc);

    tc = tcase_create("optim");
    tcase_add_test(tc, optim_hand);
    tcase_add_loop_test(tc, optim_oracle, 0, 4);
    suite_add_tcase(s, tc);

    tc = tcase_create("norms");
    tcase_add_test(tc, norms_hand);
    tcase_add_loop_test(tc, norms_oracle, 0, (int)N_FLAT);
    suite_add_tcase(s, tc);

    tc = tcase_create("gradients");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, fd_unary, 0, 3);
    tcase_add_test(tc, fd_softmax_bwd);
    tcase_add_test(tc, fd_xent);
    tcase_add_test(tc, fd_bce_mse);
    tcase_add_test(tc, fd_bn_bwd);
    tcase_add_test(tc, fd_bias_grad);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    return bp_test_main(scalar_suite());
}
