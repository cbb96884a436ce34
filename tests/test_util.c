/* tests/test_util.c - helpers shared by the Check suites. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>

int bp_test_main(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    int run = srunner_ntests_run(sr);
    srunner_free(sr);
    if (run == 0) {
        fprintf(stderr, "no tests were run\n");
        return EXIT_FAILURE;
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

double bp_test_ulps(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
    int64_t lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return (double)(la > lb ? la - lb : lb - la);
}

bp_gemm_ctx *bp_test_gemm_ctx(int threads)
{
    ck_assert_int_ge(threads, 1);
    bp_gemm_ctx *gc = malloc(sizeof *gc);
    float **ws = calloc((size_t)threads, sizeof *ws);
    ck_assert(gc && ws);
    for (int t = 0; t < threads; t++) {
        void *p = NULL;
        ck_assert_int_eq(posix_memalign(&p, 64, bp_gemm_workspace_floats() *
                                                    sizeof(float)),
                         0);
        ws[t] = p;
    }
    gc->threads = threads;
    gc->ws = ws;
    gc->blk = (bp_gemm_blocking){0, 0, 0, 0, 0}; /* the table's own */
    return gc;
}

void bp_test_gemm_ctx_free(bp_gemm_ctx *gc)
{
    if (!gc)
        return;
    for (int t = 0; t < gc->threads; t++)
        free(gc->ws[t]);
    free((void *)gc->ws);
    free(gc);
}
