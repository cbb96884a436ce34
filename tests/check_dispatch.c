/* tests/check_dispatch.c - ISA names, CPU detection, table selection and
 * the BPLAB_ISA override, including the error paths: an unknown name and a
 * table the CPU (or the build) lacks are clear errors, never a crash. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runtime.h"
#include "kernels/dispatch_internal.h"
#include "kernels/kernels.h"
#include "test_util.h"

/* "scalar avx2 avx512 neon": every name of BP_ISAS, in order */
static void all_isa_names(char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        if (i)
            strncat(buf, " ", size - strlen(buf) - 1);
        strncat(buf, bp_isa_name((bp_isa)i), size - strlen(buf) - 1);
    }
}

START_TEST(test_isa_names)
{
    /* each name of the list is its enum's, parsed as written and in
     * mixed case */
#define X(name, ENUM, base, lacks) \
    ck_assert_str_eq(bp_isa_name(BP_ISA_##ENUM), #name);
    BP_ISAS(X)
#undef X
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        char mixed[32] = "";
        snprintf(mixed, sizeof mixed, "%s", bp_isa_name((bp_isa)i));
        for (size_t j = 0; mixed[j] != '\0'; j++)
            if (j % 2 == 0)
                mixed[j] = (char)toupper((unsigned char)mixed[j]);
        ck_assert_int_eq(bp_isa_parse(bp_isa_name((bp_isa)i)), i);
        ck_assert_int_eq(bp_isa_parse(mixed), i);
    }
    ck_assert_int_eq(bp_isa_parse("AVX2"), BP_ISA_AVX2);
    ck_assert_int_eq(bp_isa_parse("avx"), BP_ISA_COUNT);
    ck_assert_int_eq(bp_isa_parse("avx2x"), BP_ISA_COUNT);
    ck_assert_int_eq(bp_isa_parse(""), BP_ISA_COUNT);
    ck_assert_int_eq(bp_isa_parse(NULL), BP_ISA_COUNT);
    ck_assert_str_eq(bp_isa_name(BP_ISA_COUNT), "?");
    /* every base chain ends at scalar, through earlier entries */
    ck_assert_int_eq(bp_isa_base(BP_ISA_SCALAR), BP_ISA_SCALAR);
    ck_assert_int_eq(bp_isa_base(BP_ISA_COUNT), BP_ISA_COUNT);
    for (int i = 1; i < BP_ISA_COUNT; i++)
        ck_assert_int_lt(bp_isa_base((bp_isa)i), i);
}
END_TEST

START_TEST(test_kernel_names)
{
    for (int k = 0; k < BP_NUM_KERNELS; k++) {
        const bp_kernel_desc *d = bp_kernel_desc_of((bp_kernel_id)k);
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(bp_kernel_parse(d->name), k);
    }
    ck_assert_int_eq(bp_kernel_parse("gemm"), BP_K_gemm);
    ck_assert_int_eq(bp_kernel_parse("nonsense"), BP_NUM_KERNELS);
    ck_assert_ptr_null(bp_kernel_desc_of(BP_NUM_KERNELS));
}
END_TEST

START_TEST(test_detection)
{
    const bp_cpu_info *c = bp_cpu();
    ck_assert(c->arch[0] != '\0');
    ck_assert(c->model[0] != '\0');
    ck_assert(bp_isa_supported(BP_ISA_SCALAR));
    ck_assert_ptr_null(bp_isa_unsupported_reason(BP_ISA_SCALAR));
#if defined(__x86_64__)
    ck_assert_str_eq(c->arch, "x86_64");
    ck_assert(!bp_isa_built(BP_ISA_NEON));
    /* AVX-512 usable implies AVX2 usable; both imply OS-enabled state */
    if (bp_isa_supported(BP_ISA_AVX512))
        ck_assert(bp_isa_supported(BP_ISA_AVX2) && c->os_zmm);
    if (bp_isa_supported(BP_ISA_AVX2))
        ck_assert(c->has_avx2 && c->has_fma && c->os_ymm);
#elif defined(__aarch64__)
    ck_assert_str_eq(c->arch, "aarch64");
    ck_assert(bp_isa_supported(BP_ISA_NEON));
    ck_assert(!bp_isa_built(BP_ISA_AVX2));
#endif
    /* the best table is supported and is the default */
    bp_isa best = bp_isa_best();
    ck_assert(bp_isa_supported(best));
    ck_assert_int_eq(bp_kernels_active()->isa, best);
    for (int i = 0; i < BP_ISA_COUNT; i++)
        ck_assert((bp_kernels_for((bp_isa)i) != NULL) ==
                  bp_isa_supported((bp_isa)i));
}
END_TEST

START_TEST(test_select)
{
    bp_err err = {0};
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        bp_status s = bp_kernels_select(bp_isa_name((bp_isa)i), NULL, &err);
        if (bp_isa_supported((bp_isa)i)) {
            ck_assert_int_eq(s, BP_OK);
            ck_assert_int_eq(bp_kernels_active()->isa, i);
        } else {
            ck_assert_int_eq(s, BP_ERR_UNSUPPORTED);
            ck_assert_msg(strstr(err.msg, bp_isa_name((bp_isa)i)) &&
                              strstr(err.msg, "usable: scalar"),
                          "message: %s", err.msg);
        }
    }
    ck_assert_int_eq(bp_kernels_select("auto", NULL, &err), BP_OK);
    ck_assert_int_eq(bp_kernels_active()->isa, bp_isa_best());
    ck_assert_int_eq(bp_kernels_select("SCALAR", NULL, &err), BP_OK);
    ck_assert_int_eq(bp_kernels_active()->isa, BP_ISA_SCALAR);
    ck_assert_int_eq(bp_kernels_select(NULL, NULL, &err), BP_OK);
    ck_assert_int_eq(bp_kernels_active()->isa, bp_isa_best());
}
END_TEST

START_TEST(test_select_errors)
{
    bp_err err = {0};
    ck_assert_int_eq(bp_kernels_select("bogus", "--isa", &err),
                     BP_ERR_INVALID_ARG);
    ck_assert_int_eq(err.code, BP_ERR_INVALID_ARG);
    char names[128];
    all_isa_names(names, sizeof names);
    ck_assert_msg(strstr(err.msg, "--isa=bogus") &&
                      strstr(err.msg, "unknown instruction set") &&
                      strstr(err.msg, names),
                  "message: %s (should list %s)", err.msg, names);
    /* a failed selection leaves the active table alone */
    ck_assert_int_eq(bp_kernels_active()->isa, bp_isa_best());
    /* a table this binary does not contain */
    const char *foreign = NULL;
    for (int i = 0; i < BP_ISA_COUNT && !foreign; i++)
        if (!bp_isa_built((bp_isa)i))
            foreign = bp_isa_name((bp_isa)i);
    ck_assert_ptr_nonnull(foreign);
    ck_assert_int_eq(bp_kernels_select(foreign, "--isa", &err),
                     BP_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "not built into this binary"), "message: %s",
                  err.msg);
    /* a very long name is cut, not overflowed */
    char longname[2000];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_int_eq(bp_kernels_select(longname, "--isa", &err),
                     BP_ERR_INVALID_ARG);
    ck_assert(strlen(err.msg) < BP_ERR_MSG_MAX);
    /* a NULL error record is allowed */
    ck_assert_int_eq(bp_kernels_select("bogus", NULL, NULL),
                     BP_ERR_INVALID_ARG);
}
END_TEST

/* Pretend the CPU lacks every SIMD table: selecting one is refused with
 * the reason, the active table falls back to scalar, and "auto" too. */
START_TEST(test_cpu_lacks)
{
    bp_err err = {0};
    bp__dispatch_disable_for_test(~1u);
    ck_assert_int_eq(bp_isa_best(), BP_ISA_SCALAR);
    ck_assert_int_eq(bp_kernels_active()->isa, BP_ISA_SCALAR);
    for (int i = 1; i < BP_ISA_COUNT; i++) {
        ck_assert_ptr_null(bp_kernels_for((bp_isa)i));
        ck_assert_int_eq(bp_kernels_select(bp_isa_name((bp_isa)i), "BPLAB_ISA",
                                           &err),
                         BP_ERR_UNSUPPORTED);
        ck_assert_msg(strstr(err.msg, "BPLAB_ISA=") &&
                          strstr(err.msg, "(usable: scalar)"),
                      "message: %s", err.msg);
    }
    ck_assert_int_eq(bp_kernels_select("auto", NULL, &err), BP_OK);
    ck_assert_int_eq(bp_kernels_active()->isa, BP_ISA_SCALAR);
    bp__dispatch_disable_for_test(0);
    ck_assert_int_eq(bp_isa_best(), bp_kernels_for(bp_isa_best())->isa);
}
END_TEST

START_TEST(test_env)
{
    bp_err err = {0};
    unsetenv("BPLAB_ISA");
    ck_assert_int_eq(bp_kernels_select_env(&err), BP_OK);
    ck_assert_int_eq(bp_kernels_active()->isa, bp_isa_best());
    setenv("BPLAB_ISA", "scalar", 1);
    ck_assert_int_eq(bp_kernels_select_env(&err), BP_OK);
    ck_assert_int_eq(bp_kernels_active()->isa, BP_ISA_SCALAR);
    setenv("BPLAB_ISA", "Bogus", 1);
    ck_assert_int_eq(bp_kernels_select_env(&err), BP_ERR_INVALID_ARG);
    ck_assert_msg(strstr(err.msg, "BPLAB_ISA=Bogus"), "message: %s", err.msg);
    /* --isa wins over the environment */
    ck_assert_int_eq(bp_runtime_select_isa("auto", &err), BP_OK);
    ck_assert_int_eq(bp_kernels_active()->isa, bp_isa_best());
    setenv("BPLAB_ISA", "scalar", 1);
    ck_assert_int_eq(bp_runtime_select_isa(NULL, &err), BP_OK);
    ck_assert_int_eq(bp_kernels_active()->isa, BP_ISA_SCALAR);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dispatch");
    TCase *tc = tcase_create("dispatch");
    tcase_add_test(tc, test_isa_names);
    tcase_add_test(tc, test_kernel_names);
    tcase_add_test(tc, test_detection);
    tcase_add_test(tc, test_select);
    tcase_add_test(tc, test_select_errors);
    tcase_add_test(tc, test_cpu_lacks);
    tcase_add_test(tc, test_env);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    unsetenv("BPLAB_ISA");
    return bp_test_main(suite());
}
