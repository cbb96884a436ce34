/* core/cli/cmd_sweep.c - `bplab sweep`: a user's own grid of runs.
 *
 * The cartesian product of the --vary lists, times the --seeds, each run a
 * `bplab train` of the options after "--" plus its varied ones; trained,
 * listed and reported by the experiments' harness (experiments/harness.h),
 * so --jobs, --list/--run/--report, tools/sweep-slurm.sh and
 * tools/sweep-parallel.sh work as for every experiment. The report adds,
 * per variant, final and best test accuracy and loss with 95% intervals,
 * and each variant's paired difference from the first over the same
 * seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/args.h"
#include "core/cli/cli.h"
#include "core/run.h"
#include "experiments/harness.h"

#define SWEEP_MAX_VARY 8
#define SWEEP_MAX_VALUES 16

typedef struct vary {
    const char *opt;                   /* "--dropout" */
    const char *values[SWEEP_MAX_VALUES];
    size_t n;
} vary;

static vary varies[SWEEP_MAX_VARY];
static size_t nvary;
static char vary_text[SWEEP_MAX_VARY][1024];
static char title[512], setting[4096], question[1024];

/* Options a sweep sets itself, or that do not belong to a run. */
static const char *const not_in_runs[] = {
    "--seed", "--threads", "--isa", "--save", "--resume", "--metrics",
    "--checkpoint-every", "--quiet", "--init-from", "--profile", "--counters",
    "--trace", "--trace-steps"};

static const char *why_not(const char *opt)
{
    if (strcmp(opt, "--seed") == 0)
        return "the seeds come from --seeds";
    if (strcmp(opt, "--threads") == 0 || strcmp(opt, "--isa") == 0)
        return "give it before --, for every run";
    if (strcmp(opt, "--init-from") == 0)
        return "a sweep's runs start from their seed";
    if (strncmp(opt, "--trace", 7) == 0 || strcmp(opt, "--profile") == 0 ||
        strcmp(opt, "--counters") == 0)
        return "profile one run with bplab train (a sweep's runs are timed "
               "unprofiled)";
    return "a sweep writes its own files (runs/, metrics.csv)";
}

/* "--dropout 0,0.2,0.5" or "--dropout=0,0.2,0.5" (values split on '|' if
 * there is one, else on ','; so "--layers 256,128|512,256" varies a
 * list) */
static int parse_vary(const char *spec)
{
    if (nvary == SWEEP_MAX_VARY)
        return bp_cli_failf(BP_EXIT_USAGE, "--vary: at most %d of them",
                            SWEEP_MAX_VARY);
    char *t = vary_text[nvary];
    if (snprintf(t, sizeof vary_text[0], "%s", spec) >= (int)sizeof vary_text[0])
        return bp_cli_failf(BP_EXIT_USAGE, "--vary '%.40s...': too long", spec);
    while (*t == ' ')
        t++;
    char *sp = t + strcspn(t, " =");
    if (strncmp(t, "--", 2) != 0 || !*sp)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "--vary '%s': expected an option and its values, "
                            "e.g. --vary \"--dropout 0,0.2,0.5\" or "
                            "--vary=--dropout=0,0.2,0.5", spec);
    *sp = '\0';
    vary *v = &varies[nvary];
    v->opt = t;
    for (size_t i = 0; i < sizeof not_in_runs / sizeof *not_in_runs; i++)
        if (strcmp(t, not_in_runs[i]) == 0)
            return bp_cli_failf(BP_EXIT_USAGE, "--vary %s: %s", t, why_not(t));
    for (size_t j = 0; j < nvary; j++)
        if (strcmp(varies[j].opt, t) == 0)
            return bp_cli_failf(BP_EXIT_USAGE, "--vary %s: given twice", t);
    char *vals = sp + 1;
    while (*vals == ' ')
        vals++;
    const char sep = strchr(vals, '|') ? '|' : ',';
    for (char *p = vals; *p;) {
        char *e = strchr(p, sep);
        if (e)
            *e = '\0';
        if (!*p)
            return bp_cli_failf(BP_EXIT_USAGE, "--vary %s: an empty value", t);
        if (v->n == SWEEP_MAX_VALUES)
            return bp_cli_failf(BP_EXIT_USAGE, "--vary %s: at most %d values",
                                t, SWEEP_MAX_VALUES);
        v->values[v->n++] = p;
        if (!e)
            break;
        p = e + 1;
    }
    if (!v->n)
        return bp_cli_failf(BP_EXIT_USAGE, "--vary %s: no values", t);
    nvary++;
    return 0;
}

/* "0-9", "0,3,7", "0-4,10": the seeds, in order, each once. */
static int parse_seeds(experiment *e, const char *spec)
{
    e->nseeds = 0;
    const char *p = spec;
    while (*p) {
        char *end;
        long long a, b;
        if (*p < '0' || *p > '9')
            goto bad;
        a = strtoll(p, &end, 10);
        b = a;
        if (*end == '-') {
            p = end + 1;
            if (*p < '0' || *p > '9')
                goto bad;
            b = strtoll(p, &end, 10);
        }
        if (a > b || b > 2147483647LL)
            goto bad;
        for (long long s = a; s <= b; s++) {
            for (unsigned k = 0; k < e->nseeds; k++)
                if (e->seed_of[k] == (unsigned)s)
                    return bp_cli_failf(BP_EXIT_USAGE,
                                        "--seeds %s: seed %lld twice", spec, s);
            if (e->nseeds == EXP_MAX_SEEDS)
                return bp_cli_failf(BP_EXIT_USAGE,
                                    "--seeds %s: at most %d seeds", spec,
                                    EXP_MAX_SEEDS);
            e->seed_of[e->nseeds++] = (unsigned)s;
        }
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
    }
    if (e->nseeds)
        return 0;
bad:
    return bp_cli_failf(BP_EXIT_USAGE,
                        "--seeds '%s': expected seeds like 0-9, 0,3,7 or 0-4,10",
                        spec);
}

/* The run options of one variant: the train options, then its values. */
static int variant_opts(int ntrain, char **train, const size_t *pick,
                        bp_run_opts *o)
{
    char *argv[256];
    int argc = 0;
    argv[argc++] = "bplab";
    argv[argc++] = "sweep";
    for (int i = 0; i < ntrain && argc < 200; i++)
        argv[argc++] = train[i];
    bp_run_defaults(o);
    bp_opt table[64];
    bool seen[64] = {false}, help = false;
    size_t ns, n = bp_run_options(o, table, 64, &ns);
    for (size_t j = 0; j < nvary; j++) {
        const char *val = varies[j].values[pick[j]];
        bool flag = false;
        for (size_t i = 0; i < n; i++)
            flag = flag || (strcmp(table[i].name, varies[j].opt) == 0 &&
                            table[i].kind == BP_ARG_FLAG);
        if (!flag) {
            argv[argc++] = (char *)varies[j].opt;
            argv[argc++] = (char *)val;
        } else if (strcmp(val, "on") == 0) {
            argv[argc++] = (char *)varies[j].opt; /* a flag: on or off */
        } else if (strcmp(val, "off") != 0) {
            return bp_cli_failf(BP_EXIT_USAGE,
                                "--vary %s: '%s': a flag is varied by on "
                                "and off", varies[j].opt, val);
        }
    }
    for (size_t i = 0; i < n; i++)
        table[i].seen = &seen[i];
    bp_err err = {0};
    if (bp_args_parse(argc, argv, 2, table, n, &help, &err) != BP_OK)
        return bp_cli_fail_opts("sweep", &err);
    if (help)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "--help after --: see 'bplab sweep --help' and "
                            "'bplab train --help'");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof not_in_runs / sizeof *not_in_runs; k++)
            if (seen[i] && strcmp(table[i].name, not_in_runs[k]) == 0)
                return bp_cli_failf(BP_EXIT_USAGE, "%s after --: %s",
                                    table[i].name, why_not(table[i].name));
    if (bp_run_finish(o, table, n, &err) != BP_OK)
        return bp_cli_fail_opts("sweep", &err);
    if (o->early_stop && o->val <= 0)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "--early-stop needs a validation set: add --val "
                            "FRACTION (e.g. --val 0.1)");
    return 0;
}

static const char *stat_str(const experiment *e, size_t v, exp_metric_fn *f)
{
    static char buf[8][96];
    static int k;
    k = (k + 1) % 8;
    double m, sd, ci;
    size_t n = exp_stats(e, v, f, &m, &sd, &ci);
    char a[64];
    exp_fmt(a, sizeof a, m, sd, n);
    if (n > 1 && isfinite(ci))
        snprintf(buf[k], sizeof buf[k], "%s [%.4f, %.4f]", a, m - ci, m + ci);
    else
        snprintf(buf[k], sizeof buf[k], "%s", a);
    return buf[k];
}

static const char *paired_str(const experiment *e, size_t v, exp_metric_fn *f)
{
    static char buf[8][96];
    static int k;
    k = (k + 1) % 8;
    double m, sd, ci;
    size_t n = exp_paired(e, v, 0, f, &m, &sd, &ci);
    if (n > 1 && isfinite(ci))
        snprintf(buf[k], sizeof buf[k], "%+.4f [%+.4f, %+.4f]%s", m, m - ci,
                 m + ci, fabs(m) > ci ? " *" : "");
    else if (n)
        snprintf(buf[k], sizeof buf[k], "%+.4f", m);
    else
        snprintf(buf[k], sizeof buf[k], "n/a");
    return buf[k];
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "### Per variant\n\n| variant | final test accuracy | best test "
                "accuracy | final test loss | best test loss |\n"
                "|---|---|---|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++)
        fprintf(md, "| %s | %s | %s | %s | %s |\n", e->variants[v].name,
                stat_str(e, v, exp_final_test_acc),
                stat_str(e, v, exp_best_test_acc),
                stat_str(e, v, exp_final_test_loss),
                stat_str(e, v, exp_best_test_loss));
    fprintf(md, "\nMean ± standard deviation over seeds [95%% interval]. "
                "\"Best\" is the best epoch's value, chosen on the test set "
                "itself: an optimistic figure, for reading the curves, not "
                "for choosing a variant.\n\n");
    if (e->nvariants < 2)
        return;
    fprintf(md, "### Paired with %s, over the same seeds\n\n| variant | "
                "final test accuracy | final test loss | best test accuracy "
                "|\n|---|---|---|---|\n", e->variants[0].name);
    for (size_t v = 1; v < e->nvariants; v++)
        fprintf(md, "| %s | %s | %s | %s |\n", e->variants[v].name,
                paired_str(e, v, exp_final_test_acc),
                paired_str(e, v, exp_final_test_loss),
                paired_str(e, v, exp_best_test_acc));
    fprintf(md, "\nThe variant minus %s, seed by seed: the mean difference "
                "[95%% interval, Student's t over the pairs]; * marks an "
                "interval that excludes 0.\n\n", e->variants[0].name);
    for (size_t v = 1; v < e->nvariants; v++) {
        exp_compare_paired(e, md, v, 0, exp_final_test_acc,
                           "Final test accuracy", true);
        exp_compare_paired(e, md, v, 0, exp_final_test_loss,
                           "Final test loss", false);
    }
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch (mean over seeds)",
             "epoch", "test accuracy", 0, exp_series_test_acc, NULL);
    exp_plot(e, "test_loss.png", "Test loss per epoch (mean over seeds)",
             "epoch", "test loss", 0, exp_series_test_loss, NULL);
    fprintf(md, "![test accuracy](test_accuracy.png)\n\n"
                "![test loss](test_loss.png)\n");
}

static void usage(const bp_opt *t, size_t n)
{
    printf("usage: bplab sweep --out DIR [--seeds LIST] [--vary SPEC]... "
           "[options]\n"
           "                   -- [train options]\n\n"
           "A grid of training runs: every combination of the --vary values "
           "(the first\ncombination is the baseline), each for every seed, "
           "each a `bplab train` of the\ntrain options after -- plus its "
           "varied ones. Writes DIR/metrics.csv (every\nepoch of every run), "
           "summary.md (per variant: final and best test accuracy and\nloss, "
           "mean, sd and 95%% interval; each variant's paired difference "
           "from the\nbaseline over the same seeds), test_accuracy.png, "
           "test_loss.png,\nprovenance.json, and each run's files under "
           "DIR/runs/. An interrupted sweep\nresumes where it stopped. The "
           "runs can train anywhere: --jobs N here, or\n--list them and "
           "--run each elsewhere (tools/sweep-slurm.sh for a Slurm array,\n"
           "tools/sweep-parallel.sh for GNU parallel), then --report; the "
           "grid options\n(--out, --seeds, --vary, --isa and the train "
           "options) must be the same in\nevery call.\n\n"
           "Example:\n  bplab sweep --out sw --seeds 0-9 --vary \"--dropout "
           "0,0.2,0.5\" \\\n"
           "      --vary \"--l2 0,1e-4\" --jobs 2 \\\n"
           "      -- --limit-train 3000 --layers 1024,1024 --epochs 50\n\n"
           "options:\n");
    bp_args_print_help(stdout, t, n);
    printf("\nA --vary value list is split on '|' when it holds one, else on "
           "','\n(--vary \"--layers 256,128|512,256\"); a flag is varied by on "
           "and off\n(--vary \"--batchnorm off,on\"). --seed, --save, "
           "--resume, --metrics,\n--checkpoint-every, --init-from, --quiet, "
           "--profile, --counters, --trace and\n--trace-steps do not go into "
           "a sweep's runs; --threads and --isa go before --.\n");
}

int bp_cmd_sweep(int argc, char **argv)
{
    static experiment e;
    exp_begin(&e, "sweep", argc, argv);
    e.prog = "bplab";
    /* the train options follow "--"; the --vary options are gathered here
     * (they repeat), the rest parsed by the table */
    int dd = argc;
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dd = i;
            break;
        }
    static char *own[512];
    int nown = 0;
    own[nown++] = argv[0];
    own[nown++] = argv[1];
    for (int i = 2; i < dd && nown < 500; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--vary") == 0) {
            if (i + 1 >= dd)
                return bp_cli_failf(BP_EXIT_USAGE, "--vary needs a value, "
                                    "e.g. --vary \"--dropout 0,0.2\"");
            int rc = parse_vary(argv[++i]);
            if (rc)
                return rc;
        } else if (strncmp(a, "--vary=", 7) == 0) {
            int rc = parse_vary(a + 7);
            if (rc)
                return rc;
        } else {
            own[nown++] = argv[i];
        }
    }
    const char *seeds = "0-2";
    bool help = false;
    bp_opt t[32] = {
        {"--seeds", BP_ARG_STR, &seeds, 0, 0, NULL, "LIST",
         "the seeds of every variant: 0-9, 0,3,7 or 0-4,10 (default 0-2)",
         NULL},
        {"--vary", BP_ARG_STR, NULL, 0, 0, NULL, "SPEC",
         "a train option and its values, \"--OPTION V1,V2,...\"; repeat for "
         "a product (at most 8, and 32 variants in all)", NULL},
    };
    size_t n = 2;
    n += exp_grid_options(&e, t + n, sizeof t / sizeof *t - n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, "--out") == 0)
            t[i].help = "the sweep's results folder (required)";
    /* --vary was gathered above: the others are parsed by a table
     * without it (t, with it, is what --help prints) */
    bp_opt parse[32];
    parse[0] = t[0];
    memcpy(parse + 1, t + 2, (n - 2) * sizeof *t);
    bp_err err = {0};
    if (bp_args_parse(nown, own, 2, parse, n - 1, &help, &err) != BP_OK)
        return bp_cli_fail_opts("sweep", &err);
    for (int i = dd + 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            help = true;
    if (help) {
        usage(t, n);
        return BP_EXIT_OK;
    }
    if (!e.out)
        return bp_cli_failf(BP_EXIT_USAGE, "--out DIR is required: the "
                            "sweep's results folder");
    int rc = parse_seeds(&e, seeds);
    if (rc)
        return rc;
    /* every combination of the values, the first list varying slowest */
    size_t nv = 1;
    for (size_t j = 0; j < nvary; j++) {
        nv *= varies[j].n;
        if (nv > EXP_MAX_VARIANTS)
            return bp_cli_failf(BP_EXIT_USAGE,
                                "--vary: more than %d combinations",
                                EXP_MAX_VARIANTS);
    }
    int ntrain = dd < argc ? argc - dd - 1 : 0;
    char **train = argv + dd + (dd < argc);
    for (size_t k = 0; k < nv; k++) {
        size_t pick[SWEEP_MAX_VARY], r = k;
        for (size_t j = nvary; j-- > 0;) {
            pick[j] = r % varies[j].n;
            r /= varies[j].n;
        }
        char name[256] = "";
        size_t used = 0;
        for (size_t j = 0; j < nvary; j++) {
            int w = snprintf(name + used, sizeof name - used, "%s%s=%s",
                             j ? " " : "", varies[j].opt + 2,
                             varies[j].values[pick[j]]);
            if (w > 0 && (size_t)w < sizeof name - used)
                used += (size_t)w;
        }
        if (!nvary)
            snprintf(name, sizeof name, "base");
        for (char *c = name; *c; c++)
            if (*c == ',')
                *c = ';'; /* metrics.csv's variant column is one field */
        if (strlen(name) >= EXP_NAME_MAX)
            return bp_cli_failf(BP_EXIT_USAGE,
                                "--vary: the variant name '%s' is longer than "
                                "%d characters", name, EXP_NAME_MAX - 1);
        exp_variant *v = exp_add(&e, name);
        if ((rc = variant_opts(ntrain, train, pick, &v->o)) != 0)
            return rc;
    }
    if ((rc = exp_grid_ready(&e)) != 0)
        return rc;
    /* the summary's words */
    size_t used = (size_t)snprintf(title, sizeof title, "Sweep:");
    for (size_t j = 0; j < nvary && used < sizeof title; j++)
        used += (size_t)snprintf(title + used, sizeof title - used, " %s%s",
                                 varies[j].opt, j + 1 < nvary ? " x" : "");
    if (!nvary)
        snprintf(title, sizeof title, "Sweep: one setting over seeds");
    snprintf(question, sizeof question,
             "How do the variants compare with the first (%s), seed by seed?",
             e.variants[0].name);
    char cmd[2048];
    bp_run_opts o0 = e.variants[0].o;
    o0.seed = e.seed_of[0];
    if (!bp_run_command(&o0, cmd, sizeof cmd))
        snprintf(cmd, sizeof cmd, "(options too long)");
    snprintf(setting, sizeof setting,
             "%zu variants x %u seeds (%s). The first variant's run of seed "
             "%u is `%s`; every variant's commands are in provenance.json.",
             e.nvariants, e.nseeds, seeds, e.seed_of[0], cmd);
    e.title = title;
    e.question = question;
    e.setting = setting;
    e.report = report;
    e.plots = plots;
    return exp_run_all(&e);
}
