/* core/cli/cmd_info.c - `bplab info`: what this binary will run, and why. */
#include <stdio.h>
#include <stdlib.h>

#include "core/args.h"
#include "core/cli/cli.h"
#include "core/ctx.h"
#include "core/runtime.h"
#include "kernels/kcheck.h"
#include "kernels/kernels.h"

static void print_features(const bp_cpu_info *c)
{
    struct { bool on; const char *name; } f[] = {
        {c->has_avx, "avx"},           {c->has_fma, "fma"},
        {c->has_avx2, "avx2"},         {c->has_avx512f, "avx512f"},
        {c->has_avx512dq, "avx512dq"}, {c->has_avx512bw, "avx512bw"},
        {c->has_avx512vl, "avx512vl"}, {c->has_neon, "neon"},
        {c->os_ymm, "os:ymm"},         {c->os_zmm, "os:zmm"},
    };
    int any = 0;
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (f[i].on)
            printf("%s%s", any++ ? " " : "", f[i].name);
    printf("%s\n", any ? "" : "(none of interest)");
}

int bp_cmd_info(int argc, char **argv)
{
    const char *isa = NULL;
    bool help = false;
    const bp_opt opts[] = {
        {"--isa", BP_ARG_STR, &isa, 0, 0, NULL, "NAME",
         "show the table NAME would select: " BP_ISA_CHOICES
         " (default: BPLAB_ISA or the best)", NULL},
    };
    bp_err err = {0};
    if (bp_args_parse(argc, argv, 2, opts, 1, &help, &err) != BP_OK)
        return bp_cli_fail_opts("info", &err);
    if (help) {
        printf("usage: bplab info [options]\n\n"
               "Print the CPU, the instruction sets this binary contains and\n"
               "which of them the CPU can run, the active kernel table, the\n"
               "data caches and the GEMM cache blocking derived from them\n"
               "(BPLAB_GEMM_BLOCKING=KC,MC,NC sets both loop nests' blocks,\n"
               "KC,MC,NC,PKC,PMC the packed nest's KC and MC apart; results\n"
               "have the same bits whatever it is) and, per kernel, which\n"
               "ISA's code each table really runs.\n\n"
               "options:\n");
        bp_args_print_help(stdout, opts, 1);
        return BP_EXIT_OK;
    }
    /* the context a run with these settings would compute in */
    bp_ctx *ctx;
    if (bp_ctx_create(isa, "--isa", 0, &ctx, &err) != BP_OK)
        return bp_cli_fail(&err);
    const bp_kernels *act = ctx->k;
    int threads = ctx->threads;
    bp_gemm_blocking blk = ctx->gemm.blk, raw;
    bp_ctx_destroy(ctx);
    const char *blk_env = getenv("BPLAB_GEMM_BLOCKING");
    bool overridden = blk_env && *blk_env;
    bp_gemm_blocking model;
    bp_gemm_blocking_model((int)act->isa, bp_ctx_caches(), &model, &raw);

    const bp_cpu_info *cpu = bp_cpu();
    printf("bplab      %s (commit %s%s)\n", bp_version(), bp_git_commit(),
           bp_git_dirty() ? ", modified" : "");
    printf("build      %s, %s, flags: %s%s%s\n", bp_build_type(),
           bp_compiler(), bp_c_flags()[0] ? bp_c_flags() : "(none)",
           bp_sanitizers()[0] ? ", sanitizers: " : "", bp_sanitizers());
    printf("cpu        %s (%s)\n", cpu->model, cpu->arch);
    printf("features   ");
    print_features(cpu);
    printf("isas      ");
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        const char *why = bp_isa_unsupported_reason((bp_isa)i);
        printf(" %s%s%s%s", bp_isa_name((bp_isa)i), why ? " (" : "",
               why ? why : "", why ? ")" : "");
        if (i + 1 < BP_ISA_COUNT)
            printf(",");
    }
    printf("\n");
    const char *env = getenv("BPLAB_ISA");
    printf("active     %s (%s)\n", act->isa_name,
           isa ? "chosen by --isa"
               : (env && *env ? "chosen by BPLAB_ISA"
                              : "best supported; override with --isa or "
                                "BPLAB_ISA"));
    printf("threads    %d (OpenMP)\n", threads);
    const bp_caches *cc = bp_ctx_caches();
    printf("caches     L1d %zu KiB %zu-way, L2 %zu KiB %zu-way",
           cc->l1d.size >> 10, cc->l1d.ways, cc->l2.size >> 10, cc->l2.ways);
    if (cc->l3.size)
        printf(", L3 %zu KiB %zu-way", cc->l3.size >> 10, cc->l3.ways);
    printf(" (%s)\n", cc->source);
    if (!blk.kc) {
        printf("gemm       %s: the scalar reference, not blocked\n\n",
               act->isa_name);
    } else {
        if (overridden) {
            printf("gemm       %s, from BPLAB_GEMM_BLOCKING (the model's "
                   "would be\n           %zu,%zu,%zu,%zu,%zu):\n",
                   act->isa_name, model.kc, model.mc, model.nc, model.pkc,
                   model.pmc);
        } else {
            /* what the model's own values went through on the way */
            bool raised = raw.kc < blk.kc;
            bool held = raw.mc != blk.mc || raw.nc != blk.nc ||
                        raw.pkc != blk.pkc || raw.pmc != blk.pmc ||
                        (!raised && raw.kc != blk.kc);
            printf("gemm       %s, the BLIS model on these caches", act->isa_name);
            if (raised)
                printf(" (the direct\n           nest's kc raised from its "
                       "L1 rule's %zu to the tile's least)", raw.kc);
            if (held)
                printf(",\n           held within the workspace's bounds");
            printf(":\n");
        }
        printf("           direct nest kc %zu, mc %zu; packed nest kc %zu, "
               "mc %zu, nc %zu\n",
               blk.kc, blk.mc, blk.pkc ? blk.pkc : blk.kc,
               blk.pmc ? blk.pmc : blk.mc, blk.nc);
        printf("           (BPLAB_GEMM_BLOCKING=KC,MC,NC[,PKC,PMC] overrides "
               "it; results have\n           the same bits whatever the "
               "blocking)\n\n");
    }

    /* kernel x table: which ISA's code each entry runs */
    printf("%-16s %-8s", "kernel", "active");
    for (int i = 0; i < BP_ISA_COUNT; i++)
        if (bp_isa_supported((bp_isa)i))
            printf(" %-8s", bp_isa_name((bp_isa)i));
    printf(" tolerance vs scalar\n");
    for (int k = 0; k < BP_NUM_KERNELS; k++) {
        char tol[64];
        bp_kcheck_tolerance_str((bp_kernel_id)k, tol, sizeof tol);
        printf("%-16s %-8s", bp_kernel_desc_of((bp_kernel_id)k)->name,
               bp_isa_name(act->impl[k]));
        for (int i = 0; i < BP_ISA_COUNT; i++) {
            const bp_kernels *t = bp_kernels_for((bp_isa)i);
            if (t)
                printf(" %-8s", bp_isa_name(t->impl[k]));
        }
        printf(" %s\n", tol);
    }
    printf("\nA table entry names the ISA whose code it runs: an ISA table "
           "falls back to\nthe scalar reference for kernels it does not "
           "specialise.\n");
    return BP_EXIT_OK;
}
