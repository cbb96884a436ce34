/* tests/check_kcheck.c - the checker must catch broken kernels.
 *
 * kernels/kcheck.c is what stands between a SIMD kernel and a wrong
 * number, so it is tested like a kernel: each test builds a table that is
 * the scalar reference with one entry replaced by a mutant, and asserts
 * that the checker fails it (wrong values, writes outside the output,
 * reading C when beta == 0, reading or writing past the end of a buffer),
 * while benign rewrites (another summation order, 1-ULP noise) pass, so
 * the tolerances are neither vacuous nor too tight.
 */
#include <math.h>
#include <signal.h>
#include <string.h>

#include "kernels/kcheck.h"
#include "kernels/kernels.h"
#include "kernels/scalar/scalar.h"
#include "test_util.h"

static bp_kernels mutant_table(void)
{
    bp_kernels t = *bp_kernels_for(BP_ISA_SCALAR);
    t.isa_name = "mutant";
    return t;
}

static bp_kcheck_stats run_check(const bp_kernels *t, bp_kernel_id k,
                                 bool quick)
{
    bp_kcheck_stats st;
    bp_err err = {0};
    bp_status s =
        bp_kcheck_kernel(bp_kernels_for(BP_ISA_SCALAR), t, NULL, k, quick, &st,
                         &err);
    ck_assert_msg(s == BP_OK, "kcheck: %s", err.msg);
    ck_assert_msg(st.compared > 0, "nothing compared");
    return st;
}

#define EXPECT_FAIL(t, k, quick, needle)                                      \
    do {                                                                      \
        bp_kcheck_stats st_ = run_check(&(t), (k), (quick));                  \
        ck_assert_msg(st_.failures > 0, "mutant of %s passed",                \
                      bp_kernel_desc_of(k)->name);                            \
        ck_assert_msg(strstr(st_.first_failure, (needle)),                    \
                      "failure message lacks '%s': %s", (needle),             \
                      st_.first_failure);                                     \
    } while (0)

#define EXPECT_PASS(t, k, quick)                                              \
    do {                                                                      \
        bp_kcheck_stats st_ = run_check(&(t), (k), (quick));                  \
        ck_assert_msg(st_.failures == 0, "benign rewrite of %s failed: %s",   \
                      bp_kernel_desc_of(k)->name, st_.first_failure);         \
    } while (0)

/* ---- GEMM mutants */

/* The epilogue as the reference applies it (the mutants below that
 * compute C themselves). */
static void post_ref(size_t m, size_t n, size_t k, const float *B,
                     size_t ldb, float *C, size_t ldc,
                     const bp_gemm_post *post)
{
    if (!post)
        return;
    bp_bias_act__scalar(m, n, post->bias, post->act, C, ldc);
    if (post->colsum)
        bp_bias_grad__scalar(k, n, B, ldb, post->colsum);
}

/* Reads C even when beta == 0 (0 * NaN = NaN). */
static void gemm_reads_c(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m,
                         size_t n, size_t k, float alpha, const float *A,
                         size_t lda, const float *B, size_t ldb, float beta,
                         float *C, size_t ldc, const bp_gemm_post *post)
{
    (void)gc;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float acc = 0;
            for (size_t p = 0; p < k && alpha != 0; p++)
                acc += (ta ? A[p * lda + i] : A[i * lda + p]) *
                       (tb ? B[j * ldb + p] : B[p * ldb + j]);
            C[i * ldc + j] = alpha * acc + beta * C[i * ldc + j];
        }
    post_ref(m, n, k, B, ldb, C, ldc, post);
}

/* Sums p in reverse: a legitimate reordering, must pass. */
static void gemm_reversed(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m,
                          size_t n, size_t k, float alpha, const float *A,
                          size_t lda, const float *B, size_t ldb, float beta,
                          float *C, size_t ldc, const bp_gemm_post *post)
{
    (void)gc;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float acc = 0;
            for (size_t p = k; p-- > 0 && alpha != 0;)
                acc += (ta ? A[p * lda + i] : A[i * lda + p]) *
                       (tb ? B[j * ldb + p] : B[p * ldb + j]);
            float c = alpha * acc;
            if (beta != 0)
                c += beta * C[i * ldc + j];
            C[i * ldc + j] = c;
        }
    post_ref(m, n, k, B, ldb, C, ldc, post);
}

/* Leaves out the epilogue's activation. */
static void gemm_post_no_act(const bp_gemm_ctx *gc, bool ta, bool tb,
                             size_t m, size_t n, size_t k, float alpha,
                             const float *A, size_t lda, const float *B,
                             size_t ldb, float beta, float *C, size_t ldc,
                             const bp_gemm_post *post)
{
    bp_gemm_post p = {0};
    if (post)
        p = *post, p.act = BP_KACT_NONE;
    bp_gemm__scalar(gc, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                    post ? &p : NULL);
}

/* Sums one row of B too few into the column sums. */
static void gemm_post_short_sums(const bp_gemm_ctx *gc, bool ta, bool tb,
                                 size_t m, size_t n, size_t k, float alpha,
                                 const float *A, size_t lda, const float *B,
                                 size_t ldb, float beta, float *C, size_t ldc,
                                 const bp_gemm_post *post)
{
    bp_gemm__scalar(gc, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                    post);
    if (post && post->colsum && k > 1)
        bp_bias_grad__scalar(k - 1, n, B, ldb, post->colsum);
}

/* Off by a relative 1e-4: far beyond K*u for the battery's k. */
static void gemm_sloppy(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m,
                        size_t n, size_t k, float alpha, const float *A,
                        size_t lda, const float *B, size_t ldb, float beta,
                        float *C, size_t ldc, const bp_gemm_post *post)
{
    (void)gc;
    bp_gemm__scalar(NULL, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C,
                    ldc, post);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            C[i * ldc + j] *= 1.0001f;
}

/* Ignores the NT layout (treats B as not transposed). */
static void gemm_no_nt(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m,
                       size_t n, size_t k, float alpha, const float *A,
                       size_t lda, const float *B, size_t ldb, float beta,
                       float *C, size_t ldc, const bp_gemm_post *post)
{
    (void)gc;
    if (!ta && tb && k > 1 && n > 1)
        tb = false, ldb = ldb < n ? n : ldb;
    bp_gemm__scalar(NULL, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C,
                    ldc, post);
}

START_TEST(test_gemm_mutants)
{
    bp_kernels t = mutant_table();
    t.gemm = gemm_reads_c;
    EXPECT_FAIL(t, BP_K_gemm, true, "got=nan");
    t.gemm = gemm_sloppy;
    EXPECT_FAIL(t, BP_K_gemm, true, "gemm/mutant");
    t.gemm = gemm_reversed;
    EXPECT_PASS(t, BP_K_gemm, false);
}
END_TEST

START_TEST(test_gemm_post_mutants)
{
    bp_kernels t = mutant_table();
    t.gemm = gemm_post_no_act;
    EXPECT_FAIL(t, BP_K_gemm, true, "C after the epilogue");
    t.gemm = gemm_post_short_sums;
    EXPECT_FAIL(t, BP_K_gemm, true, "column sums of B");
}
END_TEST

/* Treats alpha as 1 whenever beta != 0. */
static void gemm_drops_alpha(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m,
                             size_t n, size_t k, float alpha, const float *A,
                             size_t lda, const float *B, size_t ldb, float beta,
                             float *C, size_t ldc, const bp_gemm_post *post)
{
    (void)gc;
    bp_gemm__scalar(NULL, ta, tb, m, n, k, beta != 0 ? 1.0f : alpha, A, lda, B,
                    ldb, beta, C, ldc, post);
}

START_TEST(test_gemm_alpha_mutant)
{
    bp_kernels t = mutant_table();
    t.gemm = gemm_drops_alpha;
    EXPECT_FAIL(t, BP_K_gemm, true, "C[");
}
END_TEST

/* gemm_no_nt reads B as k x n although it is n x k: past the end of B,
 * which ends at a guard page, so the check dies with SIGSEGV. */
START_TEST(test_gemm_layout_mutant)
{
    bp_kernels t = mutant_table();
    t.gemm = gemm_no_nt;
    run_check(&t, BP_K_gemm, true);
}
END_TEST

/* ---- element-wise mutants */

static void sigmoid_8ulp(size_t n, const float *x, float *y)
{
    bp_sigmoid_fwd__scalar(n, x, y);
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i]) && y[i] > 1e-3f)
            y[i] = nextafterf(nextafterf(y[i], 0), 0) * (1.0f - 6 * 0x1p-24f);
}

static void sigmoid_1ulp(size_t n, const float *x, float *y)
{
    bp_sigmoid_fwd__scalar(n, x, y);
    for (size_t i = 0; i < n; i++)
        if (i % 2)
            y[i] = nextafterf(y[i], 0);
}

static void relu_writes_past_end(size_t n, const float *x, float *y)
{
    bp_relu_fwd__scalar(n, x, y);
    y[n] = 0.0f;
}

static void relu_reads_past_end(size_t n, const float *x, float *y)
{
    volatile float past = x[n];
    (void)past;
    bp_relu_fwd__scalar(n, x, y);
}

static void relu_hides_nan(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f; /* NaN becomes 0: hidden */
}

START_TEST(test_elementwise_mutants)
{
    bp_kernels t = mutant_table();
    t.sigmoid_fwd = sigmoid_8ulp;
    EXPECT_FAIL(t, BP_K_sigmoid_fwd, false, "ulp");
    t.sigmoid_fwd = sigmoid_1ulp;
    EXPECT_PASS(t, BP_K_sigmoid_fwd, false);
    t.relu_fwd = relu_hides_nan;
    EXPECT_FAIL(t, BP_K_relu_fwd, false, "relu_fwd/mutant");
}
END_TEST

START_TEST(test_write_past_end)
{
    bp_kernels t = mutant_table();
    t.relu_fwd = relu_writes_past_end;
    run_check(&t, BP_K_relu_fwd, true); /* must die on the guard page */
}
END_TEST

START_TEST(test_read_past_end)
{
    bp_kernels t = mutant_table();
    t.relu_fwd = relu_reads_past_end;
    run_check(&t, BP_K_relu_fwd, true);
}
END_TEST

/* ---- row-wise and reduction mutants */

static void bias_add_pads(size_t rows, size_t cols, const float *b, float *y,
                          size_t ldy)
{
    bp_bias_add__scalar(rows, cols, b, y, ldy);
    if (rows > 1 && ldy > cols)
        y[cols] = 0.0f; /* scribbles on the padding after row 0 */
}

static void bias_grad_skips_last(size_t rows, size_t cols, const float *dy,
                                 size_t lddy, float *db)
{
    bp_bias_grad__scalar(rows > 1 ? rows - 1 : rows, cols, dy, lddy, db);
}

static void softmax_unstable(size_t rows, size_t cols, const float *x,
                             size_t ldx, float *y, size_t ldy)
{
    for (size_t r = 0; r < rows; r++) {
        float s = 0;
        for (size_t c = 0; c < cols; c++)
            s += expf(x[r * ldx + c]);
        for (size_t c = 0; c < cols; c++)
            y[r * ldy + c] = expf(x[r * ldx + c]) / s;
    }
}

static void dropout_ignores_key(size_t n, uint64_t key, float p,
                                const float *x, float *y, float *mask)
{
    (void)key;
    bp_dropout_fwd__scalar(n, 12345, p, x, y, mask);
}

static double sumsq_float_reversed(size_t n, const float *x)
{
    float s = 0;
    for (size_t i = n; i-- > 0;)
        s += x[i] * x[i];
    return s;
}

static double sumsq_drops_tail(size_t n, const float *x)
{
    return bp_sumsq__scalar(n & ~(size_t)7, x);
}

START_TEST(test_row_mutants)
{
    bp_kernels t = mutant_table();
    t.bias_add = bias_add_pads;
    EXPECT_FAIL(t, BP_K_bias_add, false, "wrote outside its output");
    t.bias_grad = bias_grad_skips_last;
    EXPECT_FAIL(t, BP_K_bias_grad, false, "db[");
    t.softmax_fwd = softmax_unstable;
    EXPECT_FAIL(t, BP_K_softmax_fwd, false, "y[");
    t.dropout_fwd = dropout_ignores_key;
    EXPECT_FAIL(t, BP_K_dropout_fwd, false, "dropout_fwd/mutant");
    t.sumsq = sumsq_drops_tail;
    EXPECT_FAIL(t, BP_K_sumsq, false, "sumsq");
    t.sumsq = sumsq_float_reversed;
    EXPECT_PASS(t, BP_K_sumsq, false);
}
END_TEST

/* ---- the battery itself */

START_TEST(test_battery)
{
    for (int k = 0; k < BP_NUM_KERNELS; k++) {
        size_t full = bp_kcheck_num_cases((bp_kernel_id)k, false);
        size_t quick = bp_kcheck_num_cases((bp_kernel_id)k, true);
        ck_assert_msg(full >= 50, "%s: only %zu cases",
                      bp_kernel_desc_of((bp_kernel_id)k)->name, full);
        ck_assert(quick >= 2 && quick < full);
        char name[160];
        bp_kcheck_case_name((bp_kernel_id)k, full - 1, false, name, sizeof name);
        ck_assert(name[0] != '\0' && name[0] != '?');
    }
    /* the GEMM battery reaches every layout, beta = 0 and the MLP shapes */
    bool seen[4] = {0}, big = false;
    size_t n = bp_kcheck_num_cases(BP_K_gemm, false);
    for (size_t i = 0; i < n; i++) {
        char name[160];
        bp_kcheck_case_name(BP_K_gemm, i, false, name, sizeof name);
        seen[(name[0] == 'T') * 2 + (name[1] == 'T')] = true;
        big |= strstr(name, "m=128 n=256 k=784") != NULL;
    }
    ck_assert(seen[0] && seen[1] && seen[2] && seen[3] && big);
}
END_TEST

/* A table that is the reference itself passes everything: no false alarms
 * from the harnesses (NaN handling, sentinels, in-place cases). */
START_TEST(test_reference_passes)
{
    bp_kernels t = mutant_table();
    bp_kcheck_stats st = run_check(&t, (bp_kernel_id)_i, false);
    ck_assert_msg(st.failures == 0, "%s: %s",
                  bp_kernel_desc_of((bp_kernel_id)_i)->name, st.first_failure);
    ck_assert(st.max_abs == 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kcheck");
    TCase *tc = tcase_create("mutants");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_gemm_mutants);
    tcase_add_test(tc, test_gemm_post_mutants);
    tcase_add_test(tc, test_gemm_alpha_mutant);
    tcase_add_test_raise_signal(tc, test_gemm_layout_mutant, SIGSEGV);
    tcase_add_test(tc, test_elementwise_mutants);
    tcase_add_test_raise_signal(tc, test_write_past_end, SIGSEGV);
    tcase_add_test_raise_signal(tc, test_read_past_end, SIGSEGV);
    tcase_add_test(tc, test_row_mutants);
    suite_add_tcase(s, tc);
    tc = tcase_create("battery");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_battery);
    tcase_add_loop_test(tc, test_reference_passes, 0, BP_NUM_KERNELS);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return bp_test_main(suite());
}
