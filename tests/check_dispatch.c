/* tests/check_dispatch.c - ISA names, CPU detection, table lookup, the
 * BPLAB_ISA default and a run context's table and GEMM workspaces,
 * including the error paths: an unknown name and a table the CPU (or the
 * build) lacks are clear errors, never a crash; a workspace that cannot be
 * allocated is BP_ERR_NOMEM. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/ctx.h"
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

START_TEST(test_lookup)
{
    bp_err err = {0};
    const bp_kernels *t;
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        t = NULL;
        bp_status s = bp_kernels_lookup(bp_isa_name((bp_isa)i), NULL, &t, &err);
        if (bp_isa_supported((bp_isa)i)) {
            ck_assert_int_eq(s, BP_OK);
            ck_assert_int_eq(t->isa, i);
            ck_assert_ptr_eq(t, bp_kernels_for((bp_isa)i));
        } else {
            ck_assert_int_eq(s, BP_ERR_UNSUPPORTED);
            ck_assert_msg(strstr(err.msg, bp_isa_name((bp_isa)i)) &&
                              strstr(err.msg, "usable: scalar"),
                          "message: %s", err.msg);
        }
    }
    ck_assert_int_eq(bp_kernels_lookup("auto", NULL, &t, &err), BP_OK);
    ck_assert_int_eq(t->isa, bp_isa_best());
    ck_assert_int_eq(bp_kernels_lookup("SCALAR", NULL, &t, &err), BP_OK);
    ck_assert_int_eq(t->isa, BP_ISA_SCALAR);
    ck_assert_int_eq(bp_kernels_lookup(NULL, NULL, &t, &err), BP_OK);
    ck_assert_int_eq(t->isa, bp_isa_best());
    /* looking up changes nothing: the default stays the best */
    ck_assert_int_eq(bp_kernels_active()->isa, bp_isa_best());
}
END_TEST

START_TEST(test_lookup_errors)
{
    bp_err err = {0};
    const bp_kernels *t;
    ck_assert_int_eq(bp_kernels_lookup("bogus", "--isa", &t, &err),
                     BP_ERR_INVALID_ARG);
    ck_assert_int_eq(err.code, BP_ERR_INVALID_ARG);
    char names[128];
    all_isa_names(names, sizeof names);
    ck_assert_msg(strstr(err.msg, "--isa=bogus") &&
                      strstr(err.msg, "unknown instruction set") &&
                      strstr(err.msg, names),
                  "message: %s (should list %s)", err.msg, names);
    ck_assert_int_eq(bp_kernels_active()->isa, bp_isa_best());
    /* a table this binary does not contain */
    const char *foreign = NULL;
    for (int i = 0; i < BP_ISA_COUNT && !foreign; i++)
        if (!bp_isa_built((bp_isa)i))
            foreign = bp_isa_name((bp_isa)i);
    ck_assert_ptr_nonnull(foreign);
    ck_assert_int_eq(bp_kernels_lookup(foreign, "--isa", &t, &err),
                     BP_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "not built into this binary"), "message: %s",
                  err.msg);
    /* a very long name is cut, not overflowed */
    char longname[2000];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_int_eq(bp_kernels_lookup(longname, "--isa", &t, &err),
                     BP_ERR_INVALID_ARG);
    ck_assert(strlen(err.msg) < BP_ERR_MSG_MAX);
    /* a NULL error record is allowed */
    ck_assert_int_eq(bp_kernels_lookup("bogus", NULL, &t, NULL),
                     BP_ERR_INVALID_ARG);
}
END_TEST

/* Pretend the CPU lacks every SIMD table: looking one up is refused with
 * the reason, the default table falls back to scalar, and "auto" too. */
START_TEST(test_cpu_lacks)
{
    bp_err err = {0};
    const bp_kernels *t;
    bp__dispatch_disable_for_test(~1u);
    ck_assert_int_eq(bp_isa_best(), BP_ISA_SCALAR);
    ck_assert_int_eq(bp_kernels_active()->isa, BP_ISA_SCALAR);
    for (int i = 1; i < BP_ISA_COUNT; i++) {
        ck_assert_ptr_null(bp_kernels_for((bp_isa)i));
        ck_assert_int_eq(bp_kernels_lookup(bp_isa_name((bp_isa)i), "BPLAB_ISA",
                                           &t, &err),
                         BP_ERR_UNSUPPORTED);
        ck_assert_msg(strstr(err.msg, "BPLAB_ISA=") &&
                          strstr(err.msg, "(usable: scalar)"),
                      "message: %s", err.msg);
    }
    ck_assert_int_eq(bp_kernels_lookup("auto", NULL, &t, &err), BP_OK);
    ck_assert_int_eq(t->isa, BP_ISA_SCALAR);
    /* a context without a named table gets scalar too */
    bp_ctx *ctx;
    ck_assert_int_eq(bp_ctx_create(NULL, "--isa", 1, &ctx, &err), BP_OK);
    ck_assert_int_eq(ctx->k->isa, BP_ISA_SCALAR);
    bp_ctx_destroy(ctx);
    bp__dispatch_disable_for_test(0);
    ck_assert_int_eq(bp_isa_best(), bp_kernels_for(bp_isa_best())->isa);
    ck_assert_int_eq(bp_kernels_active()->isa, bp_isa_best());
}
END_TEST

/* BPLAB_ISA: the default table of bp_kernels_active (a bad value ignored
 * there), the table of a context made without --isa (a bad value refused
 * there), and --isa wins over it. */
START_TEST(test_env)
{
    bp_err err = {0};
    bp_ctx *ctx;
    unsetenv("BPLAB_ISA");
    ck_assert_int_eq(bp_kernels_active()->isa, bp_isa_best());
    ck_assert_int_eq(bp_ctx_create(NULL, "--isa", 1, &ctx, &err), BP_OK);
    ck_assert_int_eq(ctx->k->isa, bp_isa_best());
    bp_ctx_destroy(ctx);
    setenv("BPLAB_ISA", "scalar", 1);
    ck_assert_int_eq(bp_kernels_active()->isa, BP_ISA_SCALAR);
    ck_assert_int_eq(bp_ctx_create(NULL, "--isa", 1, &ctx, &err), BP_OK);
    ck_assert_int_eq(ctx->k->isa, BP_ISA_SCALAR);
    bp_ctx_destroy(ctx);
    /* --isa wins over the environment */
    ck_assert_int_eq(bp_ctx_create("auto", "--isa", 1, &ctx, &err), BP_OK);
    ck_assert_int_eq(ctx->k->isa, bp_isa_best());
    bp_ctx_destroy(ctx);
    setenv("BPLAB_ISA", "Bogus", 1);
    ck_assert_int_eq(bp_kernels_active()->isa, bp_isa_best());
    ctx = (bp_ctx *)1;
    ck_assert_int_eq(bp_ctx_create(NULL, "--isa", 1, &ctx, &err),
                     BP_ERR_INVALID_ARG);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(err.msg, "BPLAB_ISA=Bogus"), "message: %s", err.msg);
    ck_assert_int_eq(bp_ctx_create("scalar", "--isa", 1, &ctx, &err), BP_OK);
    ck_assert_int_eq(ctx->k->isa, BP_ISA_SCALAR);
    bp_ctx_destroy(ctx);
    unsetenv("BPLAB_ISA");
}
END_TEST

/* A context owns one GEMM workspace per thread, allocated through
 * core/alloc: each of its allocations failing in turn is BP_ERR_NOMEM
 * with nothing made (and nothing leaked, under ASan and valgrind). */
START_TEST(test_ctx_workspaces)
{
    bp_err err = {0};
    bp_ctx *ctx;
    bp_alloc_fail_at(0);
    ck_assert_int_eq(bp_ctx_create_for(NULL, 3, &ctx, &err), BP_OK);
    size_t allocs = bp_alloc_fail_at(0);
    ck_assert_int_eq(ctx->threads, 3);
    ck_assert_int_eq(ctx->gemm.threads, 3);
    for (int t = 0; t < 3; t++) {
        ck_assert_ptr_nonnull(ctx->gemm.ws[t]);
        ck_assert_uint_eq((uintptr_t)ctx->gemm.ws[t] % 64, 0);
        /* the whole workspace is writable */
        memset(ctx->gemm.ws[t], 0, bp_gemm_workspace_floats() * sizeof(float));
    }
    bp_ctx_destroy(ctx);
    bp_ctx_destroy(NULL);
    ck_assert_uint_ge(allocs, 2 + 3);
    for (size_t k = 1; k <= allocs; k++) {
        bp_alloc_fail_at(k);
        ctx = (bp_ctx *)1;
        bp_status s = bp_ctx_create_for(NULL, 3, &ctx, &err);
        bp_alloc_fail_at(0);
        ck_assert_int_eq(s, BP_ERR_NOMEM);
        ck_assert_ptr_null(ctx);
    }
    /* the thread count is checked */
    ck_assert_int_eq(bp_ctx_create_for(NULL, BP_MAX_THREADS + 1, &ctx, &err),
                     BP_ERR_INVALID_ARG);
    ck_assert_int_eq(bp_ctx_create_for(NULL, -1, &ctx, &err),
                     BP_ERR_INVALID_ARG);
}
END_TEST

/* AMD's legacy cache leaves, decoded (kernels/gemm/blocking.c). The
 * registers are those a Zen 5 VM returned, whose 0x8000001D answers
 * zeros: 48 KiB 12-way L1d, 1 MiB L2 of code 6 (8 ways), an L3 of 1016
 * units of 512 KiB whose code 9 defers its ways to 0x8000001D (taken as
 * 16). */
START_TEST(test_caches_amd_legacy)
{
    bp_caches c;
    ck_assert(bp_caches_from_amd_legacy(0x300c0140u, 0x04006140u,
                                        0x0fe09140u, &c));
    ck_assert_uint_eq(c.l1d.size, 48u << 10);
    ck_assert_uint_eq(c.l1d.ways, 12);
    ck_assert_uint_eq(c.l1d.line, 64);
    ck_assert_uint_eq(c.l1d.sets, 64);
    ck_assert_uint_eq(c.l2.size, 1u << 20);
    ck_assert_uint_eq(c.l2.ways, 8);
    ck_assert_uint_eq(c.l2.sets, 2048);
    ck_assert_uint_eq(c.l3.size, (size_t)1016 * 512 * 1024);
    ck_assert_uint_eq(c.l3.ways, 16);
    ck_assert_ptr_nonnull(c.source);
    /* a Zen 4's: 32 KiB 8-way, 1 MiB 8-way, 32 MiB 16-way (code 8) */
    ck_assert(bp_caches_from_amd_legacy(0x20080140u, 0x04006140u,
                                        0x01008140u, &c));
    ck_assert_uint_eq(c.l1d.size, 32u << 10);
    ck_assert_uint_eq(c.l1d.sets, 64);
    ck_assert_uint_eq(c.l3.size, 32u << 20);
    ck_assert_uint_eq(c.l3.ways, 16);
    ck_assert_uint_eq(c.l3.sets, 32768);
    /* no L3 (size 0, code 0): none recorded */
    ck_assert(bp_caches_from_amd_legacy(0x20080140u, 0x02006140u, 0, &c));
    ck_assert_uint_eq(c.l2.size, 512u << 10);
    ck_assert_uint_eq(c.l3.size, 0);
    /* no L1d, no L2 (code 0), a zero line: nothing, all zeros */
    const uint32_t bad[][3] = {{0, 0x04006140u, 0},
                               {0x20080140u, 0x04000140u, 0},
                               {0x20080100u, 0x04006140u, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&c, 0xA5, sizeof c);
        ck_assert(!bp_caches_from_amd_legacy(bad[i][0], bad[i][1], bad[i][2],
                                             &c));
        ck_assert_uint_eq(c.l1d.size, 0);
        ck_assert_uint_eq(c.l2.size, 0);
        ck_assert_ptr_null(c.source);
    }
}
END_TEST

/* The model's blocking against a hand-worked {kc, mc, nc, pkc, pmc}, and
 * its raw values against another (a field of 0 there: not checked). */
static void check_blocking(const bp_gemm_blocking *b,
                           const bp_gemm_blocking *raw, bp_gemm_blocking want,
                           bp_gemm_blocking want_raw)
{
    ck_assert_uint_eq(b->kc, want.kc);
    ck_assert_uint_eq(b->mc, want.mc);
    ck_assert_uint_eq(b->nc, want.nc);
    ck_assert_uint_eq(b->pkc, want.pkc);
    ck_assert_uint_eq(b->pmc, want.pmc);
    ck_assert(!want_raw.kc || raw->kc == want_raw.kc);
    ck_assert(!want_raw.mc || raw->mc == want_raw.mc);
    ck_assert(!want_raw.nc || raw->nc == want_raw.nc);
    ck_assert(!want_raw.pkc || raw->pkc == want_raw.pkc);
    ck_assert(!want_raw.pmc || raw->pmc == want_raw.pmc);
}

/* The blocking model for the AVX-512 table (12 x 32 tile, KC no less
 * than 256) on three machines, worked by hand from the formulas of
 * kernels/gemm/blocking.c:
 * - Zen 5 (48 KiB 12-way L1d, 1 MiB 8-way L2, L3): L1's rule gives
 *   floor(11 / (1 + 32/12)) = 3 ways of 4 KiB, KC = 3 * 4096 / 48 = 256;
 *   L2 has 8 ways of 128 KiB, B's micro-panel (32 KiB) takes one, one is
 *   left over, MC = 6 * 128 KiB / (256 * 4) = 768. The packed nest: PKC
 *   = 512 KiB / (8 * 12 * 4) = 1365, bounded to 1024; its B micro-panel
 *   (128 KiB) takes one way, PMC = 6 * 128 KiB / 4 KiB = 192; NC from the
 *   L3, bounded to 1024.
 * - Zen 4 (32 KiB 8-way L1d, 1 MiB 8-way L2, L3): L1's rule gives
 *   floor(7 / 3.67) = 1 way, KC 4096 / 48 = 85, raised to 256; the rest
 *   as on the Zen 5.
 * - A Xeon with 48 KiB 12-way L1d and a 2 MiB 16-way L2, no L3: KC 256,
 *   MC = 14 * 128 KiB / 1 KiB = 1792, bounded to 1024 and so 1020 (a
 *   multiple of 12); PKC 1024 (2730 unbounded), PMC 14 * 128 KiB / 4 KiB
 *   = 448, held to the 384 rows the packed A block holds at PKC 1024;
 *   NC, with no L3, the B block's bound: 1024. */
START_TEST(test_blocking_model)
{
    bp_gemm_blocking b, raw;
    bp_caches c;
    ck_assert(bp_caches_from_amd_legacy(0x300c0140u, 0x04006140u,
                                        0x0fe09140u, &c));
    if (!bp_gemm_blocking_model(BP_ISA_AVX512, &c, &b, &raw))
        return; /* not built into this binary (an aarch64 build) */
    check_blocking(&b, &raw, (bp_gemm_blocking){256, 768, 1024, 1024, 192},
                   (bp_gemm_blocking){256, 768, 0, 1365, 192});
    ck_assert(bp_caches_from_amd_legacy(0x20080140u, 0x04006140u,
                                        0x01008140u, &c));
    ck_assert(bp_gemm_blocking_model(BP_ISA_AVX512, &c, &b, &raw));
    check_blocking(&b, &raw, (bp_gemm_blocking){256, 768, 1024, 1024, 192},
                   (bp_gemm_blocking){85, 768, 0, 1365, 192});
    memset(&c, 0, sizeof c);
    c.l1d = (bp_cache_level){48u << 10, 12, 64, 64};
    c.l2 = (bp_cache_level){2u << 20, 16, 64, 2048};
    ck_assert(bp_gemm_blocking_model(BP_ISA_AVX512, &c, &b, &raw));
    check_blocking(&b, &raw, (bp_gemm_blocking){256, 1020, 1024, 1024, 384},
                   (bp_gemm_blocking){256, 1792, 1024, 2730, 448});
    /* the scalar table has no blocked GEMM */
    ck_assert(!bp_gemm_blocking_model(BP_ISA_SCALAR, &c, &b, &raw));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dispatch");
    TCase *tc = tcase_create("dispatch");
    tcase_add_test(tc, test_isa_names);
    tcase_add_test(tc, test_kernel_names);
    tcase_add_test(tc, test_detection);
    tcase_add_test(tc, test_lookup);
    tcase_add_test(tc, test_lookup_errors);
    tcase_add_test(tc, test_cpu_lacks);
    tcase_add_test(tc, test_env);
    tcase_add_test(tc, test_ctx_workspaces);
    tcase_add_test(tc, test_caches_amd_legacy);
    tcase_add_test(tc, test_blocking_model);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    unsetenv("BPLAB_ISA");
    return bp_test_main(suite());
}
