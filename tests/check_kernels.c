/* tests/check_kernels.c - every entry of every usable kernel table against
 * the scalar reference.
 *
 * The generic driver: the list of (kernel, ISA) pairs is built at start-up
 * from the dispatch tables, so a new ISA table or a newly specialised
 * kernel is covered with no new test code. Each pair runs the whole battery
 * of kernels/kcheck.c (tails, primes, padded rows, unaligned starts,
 * in-place calls, special values; buffers end at a guard page and outputs
 * are fenced by sentinels) and must compare at least one value and stay
 * within the kernel's tolerance class (kernels/kernel_list.h).
 *
 * Entries that inherit the scalar code are listed on stderr (they are the
 * reference, there is nothing to compare); the "tables" test checks that
 * such entries really are the scalar function.
 *
 * Usage: check_kernels [ISA]. With an ISA name only that table is checked
 * (tests/CMakeLists.txt registers one ctest per entry of BP_ISAS); if this
 * binary lacks it or the CPU cannot run it, the program says why and exits
 * with SKIPPED (77), which ctest reports as "Skipped", never as a pass.
 * Without one, every usable table is checked and the others are listed on
 * stderr as skipped.
 */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/kcheck.h"
#include "kernels/kernels.h"
#include "test_util.h"

#define SKIPPED 77 /* SKIP_RETURN_CODE in tests/CMakeLists.txt */

/* The ISA checked by this run; BP_ISA_COUNT: every usable one. */
static bp_isa only = BP_ISA_COUNT;

static bool selected(int isa)
{
    return only == BP_ISA_COUNT || only == (bp_isa)isa;
}

static struct pair {
    bp_isa isa;
    bp_kernel_id k;
} pairs[BP_ISA_COUNT * BP_NUM_KERNELS];
static int npairs;

static void collect_pairs(void)
{
    int inherited = 0;
    for (int i = 1; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (!t || !selected(i))
            continue;
        for (int k = 0; k < BP_NUM_KERNELS; k++) {
            if (t->impl[k] == BP_ISA_SCALAR) {
                inherited++;
                continue;
            }
            pairs[npairs].isa = (bp_isa)i;
            pairs[npairs].k = (bp_kernel_id)k;
            npairs++;
        }
    }
    fprintf(stderr,
            "check_kernels: %d (kernel, isa) pairs to compare with scalar; "
            "%d entries inherit the scalar code\n",
            npairs, inherited);
}

START_TEST(test_pair)
{
    const bp_kernels *ref = bp_kernels_for(BP_ISA_SCALAR);
    const bp_kernels *t = bp_kernels_for(pairs[_i].isa);
    const char *name = bp_kernel_desc_of(pairs[_i].k)->name;
    ck_assert_ptr_nonnull(t);
    bp_kcheck_stats st;
    bp_err err = {0};
    /* the GEMM with workspaces (its packed nest) and two threads or more
     * (its splits of C) */
    int threads = omp_get_max_threads() > 2 ? omp_get_max_threads() : 2;
    bp_gemm_ctx *gc = bp_test_gemm_ctx(threads);
    ck_assert_msg(bp_kcheck_kernel(ref, t, gc, pairs[_i].k, false, &st,
                                   &err) == BP_OK,
                  "%s/%s: %s", name, t->isa_name, err.msg);
    bp_test_gemm_ctx_free(gc);
    ck_assert_msg(st.compared > 0, "%s/%s: no values compared", name,
                  t->isa_name);
    ck_assert_msg(st.failures == 0,
                  "%s/%s: %zu of %zu values out of tolerance; first: %s "
                  "(max_abs %.3g, err/bound %.3f by %s)",
                  name, t->isa_name, st.failures, st.compared,
                  st.first_failure, st.max_abs, st.max_ratio,
                  bp_kcheck_by_name(st.worst_by));
}
END_TEST

/* Every usable table is complete, and impl[] tells the truth: an entry
 * marked scalar is the scalar function, any other is not. */
START_TEST(test_tables)
{
    const bp_kernels *ref = bp_kernels_for(BP_ISA_SCALAR);
    ck_assert_ptr_nonnull(ref);
    int tables = 0;
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (!t || !selected(i))
            continue;
        tables++;
        ck_assert_int_eq(t->isa, i);
        ck_assert_str_eq(t->isa_name, bp_isa_name((bp_isa)i));
        for (int k = 0; k < BP_NUM_KERNELS; k++) {
            const void *p = bp_kernel_ptr(t, (bp_kernel_id)k);
            const void *s = bp_kernel_ptr(ref, (bp_kernel_id)k);
            const char *name = bp_kernel_desc_of((bp_kernel_id)k)->name;
            ck_assert_msg(p != NULL, "%s/%s is NULL", name, t->isa_name);
            ck_assert_msg((t->impl[k] == BP_ISA_SCALAR) == (p == s),
                          "%s/%s: impl says %s but the pointer %s scalar's",
                          name, t->isa_name, bp_isa_name(t->impl[k]),
                          p == s ? "is" : "is not");
            /* the table's own code or that of one of its bases */
            bool from_chain = false;
            for (bp_isa b = (bp_isa)i;; b = bp_isa_base(b)) {
                from_chain |= t->impl[k] == b;
                if (b == BP_ISA_SCALAR)
                    break;
            }
            ck_assert_msg(from_chain, "%s/%s: runs %s code", name,
                          t->isa_name, bp_isa_name(t->impl[k]));
        }
    }
    ck_assert_int_ge(tables, 1);
}
END_TEST

/* ---- transcendental accuracy, measured on a dense sweep
 *
 * sigmoid and tanh of every usable table (scalar included) against a
 * double-precision oracle on 2^20 points of [-100, 100] plus 2^16 points
 * of [-1e-3, 1e-3], in ULPs of the float nearest the oracle, over outputs
 * in the normal range. The bound: 3.5 ulp (measured: sigmoid 2.8 (AVX2)
 * and 3.3 (AVX-512), tanh 1.4 for the SIMD code; glibc's expf/tanhf 2.5
 * and 2.0), the source of the ISA-vs-scalar factors in kernel_list.h (6
 * and 4 ulp; measured 4 and 2). */

#define SWEEP_ULP_BOUND 3.5

static double ulps_to(double exact, float got)
{
    float e = (float)exact;
    float up = nextafterf(fabsf(e), INFINITY) - fabsf(e);
    return fabs((double)got - exact) / up;
}

static bp_isa sweep_isas[BP_ISA_COUNT];
static int nsweep;

START_TEST(test_transc_sweep)
{
    bp_isa isa = sweep_isas[_i / 2];
    bool is_tanh = _i % 2;
    const bp_kernels *t = bp_kernels_for(isa);
    ck_assert_ptr_nonnull(t);
    size_t n1 = (size_t)1 << 20, n2 = (size_t)1 << 16, n = n1 + n2;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    ck_assert(x && y);
    for (size_t i = 0; i < n1; i++)
        x[i] = (float)(-100.0 + 200.0 * (double)i / (double)n1);
    for (size_t i = 0; i < n2; i++)
        x[n1 + i] = (float)(-1e-3 + 2e-3 * (double)i / (double)n2);
    (is_tanh ? t->tanh_fwd : t->sigmoid_fwd)(n, x, y);
    double worst = 0;
    float worst_x = 0;
    size_t compared = 0;
    for (size_t i = 0; i < n; i++) {
        double xd = x[i];
        double want = is_tanh ? tanh(xd) : 1.0 / (1.0 + exp(-xd));
        if (fabs(want) < FLT_MIN)
            continue;
        compared++;
        double u = ulps_to(want, y[i]);
        if (u > worst)
            worst = u, worst_x = x[i];
    }
    fprintf(stderr, "%s/%s: %.2f ulp worst vs double (at x = %.9g), %zu points\n",
            is_tanh ? "tanh_fwd" : "sigmoid_fwd", t->isa_name, worst,
            (double)worst_x, compared);
    ck_assert_uint_gt(compared, n / 2);
    ck_assert_msg(worst <= SWEEP_ULP_BOUND,
                  "%s/%s: %.2f ulp from double at x = %.9g (bound %.1f)",
                  is_tanh ? "tanh_fwd" : "sigmoid_fwd", t->isa_name, worst,
                  (double)worst_x, SWEEP_ULP_BOUND);
    free(x);
    free(y);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, test_tables);
    suite_add_tcase(s, tc);
    tc = tcase_create("transcendental_sweep");
    tcase_set_timeout(tc, 60);
    nsweep = 0;
    for (int i = 0; i < BP_ISA_COUNT; i++)
        if (selected(i) && bp_kernels_for((bp_isa)i))
            sweep_isas[nsweep++] = (bp_isa)i;
    tcase_add_loop_test(tc, test_transc_sweep, 0, 2 * nsweep);
    suite_add_tcase(s, tc);
    if (npairs > 0) {
        tc = tcase_create("isa_vs_scalar");
        tcase_set_timeout(tc, 300);
        tcase_add_loop_test(tc, test_pair, 0, npairs);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: check_kernels [ISA]\n");
        return EXIT_FAILURE;
    }
    if (argc == 2) {
        only = bp_isa_parse(argv[1]);
        if (only == BP_ISA_COUNT) {
            fprintf(stderr, "check_kernels: %s: unknown ISA\n", argv[1]);
            return EXIT_FAILURE;
        }
    }
    for (int i = 0; i < BP_ISA_COUNT; i++)
        if (selected(i) && !bp_isa_supported((bp_isa)i))
            fprintf(stderr, "check_kernels: %s: skipped (%s)\n",
                    bp_isa_name((bp_isa)i),
                    bp_isa_unsupported_reason((bp_isa)i));
    if (only != BP_ISA_COUNT && !bp_isa_supported(only))
        return SKIPPED;
    collect_pairs();
    return bp_test_main(suite());
}
