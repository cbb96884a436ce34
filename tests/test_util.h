/* tests/test_util.h - helpers shared by the Check suites. */
#ifndef BPLAB_TEST_UTIL_H
#define BPLAB_TEST_UTIL_H

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

/* Run a suite (forking each test, so a crash is a reported failure) and
 * return the process exit status: non-zero if any test failed or if no
 * test ran at all. */
int bp_test_main(Suite *s);

/* Distance in units in the last place between two finite floats. */
double bp_test_ulps(float a, float b);

/* A GEMM context (kernels.h) of `threads` threads with workspaces from
 * malloc, for the suites that link kernels/ alone (the core's bp_ctx owns
 * the same). Fails the test when out of memory. */
bp_gemm_ctx *bp_test_gemm_ctx(int threads);
void bp_test_gemm_ctx_free(bp_gemm_ctx *gc);

/* |got - want| <= abs_tol + rel_tol * |want|, with a message naming both. */
#define ck_assert_close(got, want, rel_tol, abs_tol)                          \
    do {                                                                      \
        double g_ = (double)(got), w_ = (double)(want);                       \
        double t_ = (double)(abs_tol) + (double)(rel_tol) * fabs(w_);          \
        ck_assert_msg(fabs(g_ - w_) <= t_,                                     \
                      "%s = %.9g, expected %.9g (|diff| %.3g > tol %.3g)",    \
                      #got, g_, w_, fabs(g_ - w_), t_);                       \
    } while (0)

#endif
