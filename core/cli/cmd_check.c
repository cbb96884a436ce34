/* core/cli/cmd_check.c - `bplab check`: every kernel of every usable ISA
 * against the scalar reference, on the fixed battery of kernels/kcheck.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/args.h"
#include "core/cli/cli.h"
#include "core/ctx.h"
#include "kernels/kcheck.h"
#include "kernels/kernels.h"

int bp_cmd_check(int argc, char **argv)
{
    const char *isa_name = NULL, *kernel_name = NULL;
    bool quick = false, help = false;
    long long threads = 0;
    const bp_opt opts[] = {
        {"--isa", BP_ARG_STR, &isa_name, 0, 0, NULL, "NAME",
         "check only this table (default: every usable one)", NULL},
        {"--kernel", BP_ARG_STR, &kernel_name, 0, 0, NULL, "NAME",
         "check only this kernel (names as in 'bplab info'; default: all)", NULL},
        {"--quick", BP_ARG_FLAG, &quick, 0, 0, NULL, NULL,
         "run about a seventh of the battery, edges included", NULL},
        {"--threads", BP_ARG_INT, &threads, 1, 1024, NULL, "N",
         "OpenMP threads for parallel kernels (default: all CPUs)", NULL},
    };
    const size_t nopts = sizeof opts / sizeof *opts;
    bp_err err = {0};
    if (bp_args_parse(argc, argv, 2, opts, nopts, &help, &err) != BP_OK)
        return bp_cli_fail_opts("check", &err);
    if (help) {
        printf("usage: bplab check [options]\n\n"
               "Run every kernel of every instruction set this CPU supports\n"
               "against the scalar reference on a fixed battery of shapes\n"
               "(tails, primes, padded rows, unaligned starts, special\n"
               "values) and print, per kernel and ISA, the largest errors\n"
               "and the verdict. An ISA this binary lacks or the CPU cannot\n"
               "run is listed as skipped, with the reason. Exits 1 if any\n"
               "value is outside its stated tolerance, or if a kernel wrote\n"
               "outside its output.\n\n"
               "A value passes within f ULPs of the reference or within an\n"
               "absolute bound, f*u*sum|terms| (u = 2^-24; times K, the\n"
               "reduction length, for sums), and is judged by whichever it\n"
               "is the smaller fraction of: near zero, where a right value\n"
               "can be millions of ULPs off, that is the absolute bound.\n"
               "EXACT kernels must match bit for bit. Columns:\n"
               "max_abs, max_rel  largest absolute and relative differences\n"
               "err/bound         the worst value's error as a fraction of\n"
               "                  the bound that judged it (<= 1 passes)\n"
               "by                that bound: ulp, abs, exact (identical\n"
               "                  bits) or - (no difference at all)\n"
               "max_ulp(by ulp)   the most ULPs among values judged by ulp\n"
               "Each kernel's class and f: bplab info.\n\n"
               "options:\n");
        bp_args_print_help(stdout, opts, nopts);
        return BP_EXIT_OK;
    }
    bp_isa only = BP_ISA_COUNT;
    if (isa_name) {
        only = bp_isa_parse(isa_name);
        if (only == BP_ISA_COUNT || !bp_isa_supported(only)) {
            /* the lookup's messages for unknown/unsupported */
            const bp_kernels *t;
            if (bp_kernels_lookup(isa_name, "--isa", &t, &err) != BP_OK)
                return bp_cli_fail(&err);
        }
    }
    bp_kernel_id konly = BP_NUM_KERNELS;
    if (kernel_name) {
        konly = bp_kernel_parse(kernel_name);
        if (konly == BP_NUM_KERNELS)
            return bp_cli_failf(BP_EXIT_USAGE,
                                "--kernel %.40s: unknown kernel (see 'bplab "
                                "info' for the list)",
                                kernel_name);
    }

    /* the GEMMs' threads and workspaces (the same for every table) */
    bp_ctx *ctx;
    if (bp_ctx_create_for(NULL, threads, &ctx, &err) != BP_OK)
        return bp_cli_fail(&err);
    const bp_kernels *ref = bp_kernels_for(BP_ISA_SCALAR);
    printf("bplab check: %s, %d thread%s, %s battery\n", bp_cpu()->model,
           ctx->threads, ctx->threads == 1 ? "" : "s",
           quick ? "quick" : "full");
    /* what is not checked, and why (only when no --isa narrows the run) */
    size_t skipped = 0;
    char skipped_names[128] = "";
    for (int i = 1; i < BP_ISA_COUNT && only == BP_ISA_COUNT; i++) {
        if (bp_isa_supported((bp_isa)i))
            continue;
        printf("skipped: %s (%s)\n", bp_isa_name((bp_isa)i),
               bp_isa_unsupported_reason((bp_isa)i));
        size_t used = strlen(skipped_names);
        snprintf(skipped_names + used, sizeof skipped_names - used, "%s%s",
                 skipped++ ? " " : "", bp_isa_name((bp_isa)i));
    }
    /* err/bound, by and max_ulp(by ulp) explained in README "Tolerances"
     * and kcheck.h: each value is judged by its ULP or its absolute bound */
    const char *row = "%-16s %-7s %5s %8s %9s %9s %9s %-5s %15s  %s\n";
    printf(row, "kernel", "isa", "cases", "values", "max_abs", "max_rel",
           "err/bound", "by", "max_ulp(by ulp)", "result");
    size_t checked = 0, failed = 0, inherited = 0;
    char first[BP_NUM_KERNELS * BP_ISA_COUNT][512];
    size_t nfirst = 0;
    for (int i = 1; i < BP_ISA_COUNT; i++) {
        const bp_kernels *t = bp_kernels_for((bp_isa)i);
        if (!t || (only != BP_ISA_COUNT && only != (bp_isa)i))
            continue;
        for (int k = 0; k < BP_NUM_KERNELS; k++) {
            if (konly != BP_NUM_KERNELS && konly != (bp_kernel_id)k)
                continue;
            const char *kname = bp_kernel_desc_of((bp_kernel_id)k)->name;
            if (t->impl[k] == BP_ISA_SCALAR) {
                inherited++;
                printf(row, kname, t->isa_name, "-", "-", "-", "-", "-", "-",
                       "-", "= scalar (not specialised)");
                continue;
            }
            bp_kcheck_stats st;
            if (bp_kcheck_kernel(ref, t, &ctx->gemm, (bp_kernel_id)k, quick,
                                 &st, &err) != BP_OK) {
                bp_ctx_destroy(ctx);
                return bp_cli_fail(&err);
            }
            bool ok = st.failures == 0 && st.compared > 0;
            checked++;
            failed += !ok;
            char cases[24], values[24], abs[24], rel[24], ratio[24],
                ulp[24] = "-";
            snprintf(cases, sizeof cases, "%zu", st.cases);
            snprintf(values, sizeof values, "%zu", st.compared);
            snprintf(abs, sizeof abs, "%.3g", st.max_abs);
            snprintf(rel, sizeof rel, "%.3g", st.max_rel);
            snprintf(ratio, sizeof ratio, "%.3f", st.max_ratio);
            if (st.ulp_judged && st.worst_by != BP_BY_EXACT)
                snprintf(ulp, sizeof ulp, "%.0f", st.max_ulp_judged);
            printf(row, kname, t->isa_name, cases, values, abs, rel,
                   st.worst_by == BP_BY_EXACT ? "-" : ratio,
                   bp_kcheck_by_name(st.max_ratio > 0 ||
                                             st.worst_by == BP_BY_EXACT
                                         ? st.worst_by
                                         : BP_BY_NONE),
                   ulp,
                   ok ? "pass"
                      : (st.compared ? "FAIL" : "FAIL (nothing compared)"));
            fflush(stdout);
            if (!ok && nfirst < sizeof first / sizeof *first)
                snprintf(first[nfirst++], sizeof first[0], "%s",
                         st.first_failure[0] ? st.first_failure
                                             : "no values compared");
        }
    }
    printf("\nerr/bound: the worst value's error as a fraction of the bound "
           "that judged it\n(<= 1 passes); by: that bound, ulp (f ULPs), abs "
           "(f*u*sum|terms|, times K for\nsums; it judges values near zero, "
           "where ULPs say little), exact (same bits) or\n- (no difference). "
           "max_ulp(by ulp): the most ULPs among values judged by ulp.\n"
           "Each kernel's class and f: bplab info; README, \"Tolerances\".\n");
    printf("\n%zu kernel table entries checked, %zu failed, %zu inherit the "
           "scalar code",
           checked, failed, inherited);
    if (skipped)
        printf("; %zu ISA%s skipped (%s)", skipped, skipped == 1 ? "" : "s",
               skipped_names);
    printf(".\n");
    for (size_t i = 0; i < nfirst; i++)
        printf("  first failure: %s\n", first[i]);
    bp_ctx_destroy(ctx);
    if (checked == 0)
        printf("Nothing to compare: no table here specialises a kernel.\n");
    if (failed)
        return bp_cli_failf(BP_EXIT_FAIL, "%zu kernel check%s failed", failed,
                            failed == 1 ? "" : "s");
    return BP_EXIT_OK;
}
