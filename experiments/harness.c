/* experiments/harness.c - the shared experiment harness (harness.h). */
#include "experiments/harness.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/checkpoint.h"
#include "core/ctx.h"
#include "core/outfile.h"
#include "core/runtime.h"
#include "experiments/json.h"

static volatile sig_atomic_t stop_requested;
static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static long long epochs_override;
static bool plot_failed; /* a plot could not be drawn: the run fails */

/* ---------------------------------------------------------------------- */
/* Options                                                                 */

void exp_begin(experiment *e, const char *name, int argc, char **argv)
{
    memset(e, 0, sizeof *e);
    e->name = name;
    e->prog = name;
    e->nseeds = 3;
    for (unsigned s = 0; s < EXP_MAX_SEEDS; s++)
        e->seed_of[s] = s;
    /* the command line as a POSIX shell would take it back */
    size_t used = 0;
    for (int i = 0; i < argc && used + 4 < sizeof e->cmdline; i++) {
        const char *a = argv[i];
        bool plain = *a != '\0';
        for (const char *c = a; *c; c++)
            plain = plain && (isalnum((unsigned char)*c) || strchr("-_./=,:+@%", *c));
        if (i)
            e->cmdline[used++] = ' ';
        if (!plain)
            e->cmdline[used++] = '\'';
        for (const char *c = a; *c && used + 6 < sizeof e->cmdline; c++) {
            if (*c == '\'' && !plain) {
                memcpy(e->cmdline + used, "'\\''", 4);
                used += 4;
            } else {
                e->cmdline[used++] = *c;
            }
        }
        if (!plain)
            e->cmdline[used++] = '\'';
        e->cmdline[used] = '\0';
    }
}

size_t exp_grid_options(experiment *e, bp_opt *t, size_t cap)
{
    const bp_opt opts[] = {
        {"--out", BP_ARG_STR, &e->out, 0, 0, NULL, "DIR",
         "results folder (default results/<name>, --quick: results/quick/<name>)",
         NULL},
        {"--force", BP_ARG_FLAG, &e->force, 0, 0, NULL, NULL,
         "start afresh: delete the folder's runs (default: keep the finished "
         "ones and train only what is missing)", NULL},
        {"--isa", BP_ARG_STR, &e->isa, 0, 0, NULL, "NAME",
         "kernel table (default: BPLAB_ISA or the best)", NULL},
        {"--threads", BP_ARG_INT, &e->threads_arg, 1, 1024, NULL, "N",
         "OpenMP threads of a run (default: all CPUs; with --jobs: CPUs / jobs)",
         NULL},
        {"--list", BP_ARG_FLAG, &e->list, 0, 0, NULL, NULL,
         "print the runs, one line each: id, tab, the bplab train command", NULL},
        {"--pending", BP_ARG_FLAG, &e->pending, 0, 0, NULL, NULL,
         "with --list: only the runs not finished in the results folder", NULL},
        {"--run", BP_ARG_STR, &e->run, 0, 0, NULL, "ID",
         "train one run (its id, or N: line N of --list, from 0) into "
         "runs/<id>.csv and .json; skipped when already finished", NULL},
        {"--report", BP_ARG_FLAG, &e->report_only, 0, 0, NULL, NULL,
         "write the report from the runs on disk (INCOMPLETE while some are "
         "missing)", NULL},
        {"--jobs", BP_ARG_INT, &e->jobs, 1, 256, NULL, "N",
         "train N runs at once, each in its own process (default: one at a "
         "time, in this process)", NULL},
    };
    size_t n = sizeof opts / sizeof *opts;
    if (n > cap)
        n = cap;
    memcpy(t, opts, n * sizeof *opts);
    return n;
}

int exp_grid_ready(experiment *e)
{
    int modes = e->list + e->report_only + (e->run != NULL) + (e->jobs > 0);
    if (modes > 1) {
        fprintf(stderr, "%s: error: --list, --run, --report and --jobs "
                        "exclude each other\n", e->prog);
        return 2;
    }
    if (e->pending && !e->list) {
        fprintf(stderr, "%s: error: --pending goes with --list\n", e->prog);
        return 2;
    }
    if (e->force && (e->list || e->run || e->report_only)) {
        fprintf(stderr, "%s: error: --force starts a whole experiment afresh; "
                        "it does not go with --list, --run or --report\n",
                e->prog);
        return 2;
    }
    int threads = (int)e->threads_arg;
    if (e->jobs > 0 && !threads) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > e->jobs ? (int)(cpus / e->jobs) : 1;
    }
    e->threads = threads;
    /* what --isa (else BPLAB_ISA) and --threads give, refused now if they
     * cannot work; each run makes its own context (bp_run_build) */
    bp_ctx *ctx;
    bp_err err = {0};
    if (bp_ctx_create(e->isa, "--isa", threads, &ctx, &err) != BP_OK) {
        fprintf(stderr, "%s: error: %s\n", e->prog, err.msg);
        return 2;
    }
    e->isa_name = ctx->k->isa_name;
    e->run_threads = ctx->threads;
    bp_ctx_destroy(ctx);
    return 0;
}

int exp_init(experiment *e, const char *name, int argc, char **argv)
{
    exp_begin(e, name, argc, argv);
    long long seeds = 0;
    bool help = false;
    bp_opt opts[24] = {
        {"--quick", BP_ARG_FLAG, &e->quick, 0, 0, NULL, NULL,
         "a few minutes on 2 cores: fewer epochs and seeds, a training subset",
         NULL},
        {"--seeds", BP_ARG_INT, &seeds, 1, EXP_MAX_SEEDS, NULL, "N",
         "seeds per variant: 0 to N-1 (default 3, or more where an experiment "
         "says so; --quick: 2)", NULL},
        {"--epochs", BP_ARG_INT, &epochs_override, 1, EXP_MAX_EPOCHS, NULL, "N",
         "epochs for every variant (default: the experiment's)", NULL},
    };
    size_t n = 3;
    n += exp_grid_options(e, opts + n, sizeof opts / sizeof *opts - n);
    bp_err err = {0};
    if (bp_args_parse(argc, argv, 1, opts, n, &help, &err) != BP_OK) {
        fprintf(stderr, "%s: error: %s\n", name, err.msg);
        return 2;
    }
    if (help) {
        printf("usage: %s [options]\n\nRuns the '%s' experiment and writes "
               "results/%s/: metrics.csv,\nsummary.md, PNG plots and "
               "provenance.json, and each run's own files under\nruns/. "
               "An interrupted experiment resumes where it stopped. The runs "
               "can be\ntrained elsewhere: --list them, train each with --run "
               "(a Slurm array:\ntools/sweep-slurm.sh; GNU parallel: "
               "tools/sweep-parallel.sh), then --report.\nThe grid options "
               "(--quick, --seeds, --epochs, --out, --isa) must be the same\n"
               "in every call.\n\noptions:\n",
               name, name, name);
        bp_args_print_help(stdout, opts, n);
        return -1;
    }
    if (e->quick)
        e->nseeds = 2;
    if (seeds)
        e->nseeds = (unsigned)seeds;
    e->seeds_given = seeds != 0;
    return exp_grid_ready(e);
}

void exp_default_seeds(experiment *e, unsigned n)
{
    if (e->seeds_given || e->quick || n == 0 || n > EXP_MAX_SEEDS)
        return;
    e->nseeds = n;
    for (unsigned s = 0; s < n; s++)
        e->seed_of[s] = s;
}

exp_variant *exp_add(experiment *e, const char *name)
{
    if (e->nvariants >= EXP_MAX_VARIANTS) {
        fprintf(stderr, "%s: too many variants\n", e->prog);
        exit(2);
    }
    exp_variant *v = &e->variants[e->nvariants++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    bp_run_defaults(&v->o);
    return v;
}

size_t exp_diverged(const experiment *e, size_t v)
{
    size_t n = 0;
    for (size_t s = 0; s < e->nseeds; s++)
        n += exp_get(e, v, s)->diverged;
    return n;
}

const exp_run *exp_get(const experiment *e, size_t v, size_t s)
{
    return &e->runs[v * e->nseeds + s];
}

size_t exp_recorded(const experiment *e, size_t v)
{
    size_t n = 0;
    for (size_t s = 0; s < e->nseeds; s++)
        n += exp_get(e, v, s)->done || exp_get(e, v, s)->diverged;
    return n;
}

/* ---------------------------------------------------------------------- */
/* Files                                                                   */

static bool path_join(char *buf, size_t size, const char *dir, const char *f)
{
    int w = snprintf(buf, size, "%s/%s", dir, f);
    return w > 0 && (size_t)w < size;
}

/* mkdir -p */
static bool make_dirs(const char *path)
{
    char tmp[1400];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return false;
            *p = '/';
        }
    return mkdir(tmp, 0777) == 0 || errno == EEXIST;
}

/* A growing text buffer, written atomically at the end. */
typedef struct text {
    char *p;
    size_t used, cap;
    bool oom;
} text;

/* Make room for `need` more bytes (and a NUL); false when out of memory. */
static bool tgrow(text *t, size_t need)
{
    if (t->oom)
        return false;
    if (t->p && t->cap - t->used > need)
        return true;
    size_t cap = t->cap ? 2 * t->cap : 65536;
    while (cap - t->used <= need)
        cap *= 2;
    char *n = bp_alloc(cap);
    if (!n) {
        t->oom = true;
        return false;
    }
    if (t->used)
        memcpy(n, t->p, t->used);
    bp_free(t->p);
    t->p = n;
    t->cap = cap;
    return true;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void tprintf(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (w < 0 || !tgrow(t, (size_t)w))
        return;
    va_start(ap, fmt);
    vsnprintf(t->p + t->used, t->cap - t->used, fmt, ap);
    va_end(ap);
    t->used += (size_t)w;
}

/* Append n bytes (binary data: a drawn plot). */
static void tappend(text *t, const void *p, size_t n)
{
    if (!n || !tgrow(t, n))
        return;
    memcpy(t->p + t->used, p, n);
    t->used += n;
}

static bool run_gnuplot(const experiment *e, const char *png,
                        const char *script, const char *drawn);

static bool text_save(text *t, const char *dir, const char *name)
{
    char path[1024];
    bp_err err = {0};
    bool ok = !t->oom && path_join(path, sizeof path, dir, name) &&
              bp_write_file(path, t->p ? t->p : "", t->used, &err) == BP_OK;
    if (!ok)
        fprintf(stderr, "error: %s/%s: %s\n", dir, name,
                err.msg[0] ? err.msg : "out of memory");
    bp_free(t->p);
    memset(t, 0, sizeof *t);
    return ok;
}

static size_t max_dense(const experiment *e)
{
    size_t m = 0;
    for (size_t i = 0; i < e->nvariants * e->nseeds; i++)
        if (e->runs[i].ndense > m)
            m = e->runs[i].ndense;
    return m;
}

/* The rows of run r in the schema of metrics.csv, nd layer and ns step
 * columns wide, into t (row: a buffer of cap bytes). */
static void metrics_rows(const experiment *e, const exp_run *r, size_t nd,
                         size_t ns, char *row, size_t cap, text *t)
{
    char lead[EXP_NAME_MAX + 32];
    snprintf(lead, sizeof lead, "%s,%u,", e->variants[r->variant].name, r->seed);
    for (size_t k = 0; k < r->nepochs; k++) {
        bp_metrics_row(row, cap, lead, &r->epochs[k], nd, ns, r->ndense,
                       r->nsteps);
        tprintf(t, "%s", row);
    }
}

/* metrics.csv: the schema of bplab train --metrics (core/run.h, one
 * writer) after the variant and seed columns; every run has the columns
 * of the widest (empty where it has fewer layers or time steps). */
static bool write_metrics(const experiment *e)
{
    text t = {0};
    size_t nd = max_dense(e), ns = 0, lead_max = 0;
    for (size_t v = 0; v < e->nvariants; v++)
        if (strlen(e->variants[v].name) > lead_max)
            lead_max = strlen(e->variants[v].name);
    for (size_t i = 0; i < e->nvariants * e->nseeds; i++)
        if (e->runs[i].nsteps > ns)
            ns = e->runs[i].nsteps;
    lead_max += 32;
    size_t cap = bp_metrics_row_max(lead_max, nd, ns);
    char *row = bp_alloc(cap);
    if (!row) {
        fprintf(stderr, "%s: error: out of memory for metrics.csv\n", e->prog);
        return false;
    }
    bp_metrics_header(row, cap, "variant,seed,", nd, ns);
    tprintf(&t, "%s", row);
    for (size_t i = 0; i < e->nvariants * e->nseeds; i++)
        metrics_rows(e, &e->runs[i], nd, ns, row, cap, &t);
    bp_free(row);
    return text_save(&t, e->out, "metrics.csv");
}

/* ---------------------------------------------------------------------- */
/* Statistics                                                              */

double exp_final_test_acc(const exp_run *r)
{
    return r->nepochs ? r->final_test_acc : NAN;
}

double exp_final_gap(const exp_run *r)
{
    if (!r->nepochs)
        return NAN;
    const bp_epoch_stats *s = &r->epochs[r->nepochs - 1];
    return s->train_eval_acc - s->test_acc;
}

double exp_final_test_loss(const exp_run *r)
{
    return r->nepochs ? r->final_test_loss : NAN;
}

/* the last epoch's validation numbers of a run that trained to the end:
 * a diverged run's last weights are not a model to choose */
double exp_final_val_acc(const exp_run *r)
{
    return r->nepochs && !r->diverged ? r->epochs[r->nepochs - 1].val_acc
                                      : NAN;
}

double exp_final_val_loss(const exp_run *r)
{
    return r->nepochs && !r->diverged ? r->epochs[r->nepochs - 1].val_loss
                                      : NAN;
}

double exp_epoch_reaching(const exp_run *r, double target)
{
    if (r->diverged)
        return NAN;
    for (size_t k = 0; k < r->nepochs; k++)
        if (r->epochs[k].val_acc >= target)
            return (double)r->epochs[k].epoch;
    return NAN;
}

/* the best over the epochs of test accuracy (most) or loss (least) */
static double best_of(const exp_run *r, bool loss)
{
    double b = NAN;
    for (size_t k = 0; k < r->nepochs; k++) {
        double x = loss ? r->epochs[k].test_loss : r->epochs[k].test_acc;
        if (isfinite(x) && (!isfinite(b) || (loss ? x < b : x > b)))
            b = x;
    }
    return b;
}

double exp_best_test_acc(const exp_run *r)
{
    return best_of(r, false);
}

double exp_best_test_loss(const exp_run *r)
{
    return best_of(r, true);
}

/* two-sided 97.5% quantiles of Student's t, df = 1..30 */
static double t975(size_t df)
{
    static const double q[] = {0,      12.706, 4.303, 3.182, 2.776, 2.571,
                               2.447,  2.365,  2.306, 2.262, 2.228, 2.201,
                               2.179,  2.160,  2.145, 2.131, 2.120, 2.110,
                               2.101,  2.093,  2.086, 2.080, 2.074, 2.069,
                               2.064,  2.060,  2.056, 2.052, 2.048, 2.045,
                               2.042};
    return df < sizeof q / sizeof *q ? q[df] : 1.96;
}

/* mean, standard deviation (sd1 for a single value) and 95% half-width
 * of x[0..n) */
static void summarize(const double *x, size_t n, double sd1, double *mean,
                      double *sd, double *ci)
{
    double m = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m = n ? m / (double)n : NAN;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    *mean = m;
    *sd = n > 1 ? sqrt(ss / (double)(n - 1)) : (n ? sd1 : NAN);
    *ci = n > 1 ? t975(n - 1) * *sd / sqrt((double)n) : NAN;
}

/* a run with no epoch is no result, unless it diverged in its first
 * epoch with a trace of the steps before */
static bool has_result(const exp_run *r)
{
    return r->nepochs || (r->diverged && r->ntrace);
}

size_t exp_stats(const experiment *e, size_t v, exp_metric_fn *f,
                 double *mean, double *sd, double *ci)
{
    double x[EXP_MAX_SEEDS] = {0};
    size_t n = 0;
    for (size_t s = 0; s < e->nseeds; s++) {
        const exp_run *r = exp_get(e, v, s);
        if (!has_result(r))
            continue;
        double val = f(r);
        if (isfinite(val))
            x[n++] = val;
    }
    summarize(x, n, 0.0, mean, sd, ci);
    return n;
}

size_t exp_paired(const experiment *e, size_t a, size_t b, exp_metric_fn *f,
                  double *mean, double *sd, double *ci)
{
    double d[EXP_MAX_SEEDS] = {0};
    size_t n = 0;
    for (size_t s = 0; s < e->nseeds; s++) {
        const exp_run *ra = exp_get(e, a, s), *rb = exp_get(e, b, s);
        if (!has_result(ra) || !has_result(rb))
            continue;
        double x = f(ra), y = f(rb);
        if (isfinite(x) && isfinite(y))
            d[n++] = x - y;
    }
    summarize(d, n, NAN, mean, sd, ci);
    return n;
}

/* decimals for a value of this size: 4 below 1 (accuracies, losses, gaps),
 * 2 from 1 up (epochs, norms) */
static int decimals(double x)
{
    return fabs(x) >= 1.0 ? 2 : 4;
}

void exp_fmt(char *buf, size_t size, double mean, double sd, size_t n)
{
    int d = decimals(mean);
    if (!n || !isfinite(mean))
        snprintf(buf, size, "n/a");
    else if (n == 1)
        snprintf(buf, size, "%.*f", d, mean);
    else
        snprintf(buf, size, "%.*f ± %.*f", d, mean, d, sd);
}

const char *exp_str(const experiment *e, size_t v, exp_metric_fn *f)
{
    static char buf[8][64];
    static int i;
    i = (i + 1) % 8;
    double m, sd, ci;
    size_t n = exp_stats(e, v, f, &m, &sd, &ci);
    exp_fmt(buf[i], sizeof buf[i], m, sd, n);
    return buf[i];
}

size_t exp_best(const experiment *e, exp_metric_fn *f, bool higher)
{
    size_t best = 0;
    double bm = higher ? -INFINITY : INFINITY;
    for (size_t v = 0; v < e->nvariants; v++) {
        double m, sd, ci;
        if (!exp_stats(e, v, f, &m, &sd, &ci) || !isfinite(m))
            continue;
        if (higher ? m > bm : m < bm)
            bm = m, best = v;
    }
    return best;
}

double exp_final_test_acc_trained(const exp_run *r)
{
    return r->nepochs && !r->diverged ? r->final_test_acc : NAN;
}

size_t exp_reached(const experiment *e, size_t v, double target)
{
    size_t n = 0;
    for (size_t s = 0; s < e->nseeds; s++)
        n += isfinite(exp_epoch_reaching(exp_get(e, v, s), target));
    return n;
}

bool exp_stable(const experiment *e, size_t v, double target)
{
    size_t n = exp_recorded(e, v);
    return n == e->nseeds && n && !exp_diverged(e, v) &&
           exp_reached(e, v, target) == n;
}

size_t exp_stable_run(const experiment *e, const size_t *vs, size_t n,
                      double target, size_t *first)
{
    size_t best = 0, run = 0;
    *first = 0;
    for (size_t i = 0; i < n; i++) {
        run = exp_stable(e, vs[i], target) ? run + 1 : 0;
        if (run > best)
            best = run, *first = i + 1 - run;
    }
    return best;
}

const char *exp_stable_range_str(const experiment *e, const size_t *vs,
                                 const char *const *rates, size_t n,
                                 double target)
{
    static char buf[4][96];
    static int i;
    i = (i + 1) % 4;
    size_t first, k = exp_stable_run(e, vs, n, target, &first);
    if (!k)
        return "none";
    const char *lo = rates[first], *hi = rates[first + k - 1];
    snprintf(buf[i], sizeof buf[i], "lr %s .. %s (%.1f decades)", lo, hi,
             log10(strtod(hi, NULL) / strtod(lo, NULL)));
    return buf[i];
}

size_t exp_curve_val_acc(const experiment *e, const size_t *vs,
                         const double *x, size_t n, double chance,
                         double *cx, double *cy)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        size_t m = 0;
        for (size_t s = 0; s < e->nseeds; s++) {
            const exp_run *r = exp_get(e, vs[i], s);
            double a = r->diverged ? chance : exp_final_val_acc(r);
            if ((r->done || r->diverged) && isfinite(a))
                sum += a, m++;
        }
        if (m)
            cx[k] = x[i], cy[k++] = sum / (double)m;
    }
    return k;
}

size_t exp_curve_epochs_to(const experiment *e, const size_t *vs,
                           const double *x, size_t n, double target,
                           double *cx, double *cy)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        size_t m = 0;
        for (size_t s = 0; s < e->nseeds; s++) {
            double t = exp_epoch_reaching(exp_get(e, vs[i], s), target);
            if (isfinite(t))
                sum += t, m++;
        }
        if (m)
            cx[k] = x[i], cy[k++] = sum / (double)m;
    }
    return k;
}

size_t exp_choose(const experiment *e, const size_t *vs, size_t n,
                  exp_metric_fn *f)
{
    size_t best = n;
    double bm = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double m, sd, ci;
        if (exp_recorded(e, vs[i]) != e->nseeds || exp_diverged(e, vs[i]) ||
            !exp_stats(e, vs[i], f, &m, &sd, &ci) || !(m > bm))
            continue;
        bm = m, best = i;
    }
    return best;
}

void exp_compare(const experiment *e, FILE *md, size_t a, size_t b,
                 exp_metric_fn *f, const char *what, bool higher)
{
    double ma, sa, ca, mb, sb, cb;
    size_t na = exp_stats(e, a, f, &ma, &sa, &ca);
    size_t nb = exp_stats(e, b, f, &mb, &sb, &cb);
    const char *an = e->variants[a].name, *bn = e->variants[b].name;
    if (!na || !nb || !isfinite(ma) || !isfinite(mb)) {
        fprintf(md, "- %s: %s vs %s cannot be compared (a variant has no "
                    "finished run).\n",
                what, an, bn);
        return;
    }
    double d = ma - mb;
    bool a_better = higher ? d > 0 : d < 0;
    /* separated when the 95% intervals do not overlap */
    bool sep = na > 1 && nb > 1 && fabs(d) > ca + cb;
    bool within = na > 1 && nb > 1 && fabs(d) <= (sa > sb ? sa : sb);
    int dd = decimals(fabs(ma) > fabs(mb) ? ma : mb);
    fprintf(md,
            "- %s: **%s %.*f** vs **%s %.*f** (mean over %zu and %zu seeds): "
            "%s is %s by %.*f; %s.\n",
            what, an, dd, ma, bn, dd, mb, na, nb, a_better ? an : bn,
            higher ? "higher" : "lower", dd, fabs(d),
            sep      ? "the 95% intervals do not overlap: the difference is "
                       "larger than the seed-to-seed spread"
            : within ? "the difference is within one standard deviation: "
                       "not distinguishable from the spread"
                     : "the 95% intervals overlap: more seeds would be "
                       "needed to call it");
}

int exp_paired_sign(const experiment *e, size_t a, size_t b,
                    exp_metric_fn *f)
{
    double m, sd, ci;
    if (exp_paired(e, a, b, f, &m, &sd, &ci) < 2 || !isfinite(ci))
        return 0;
    return m - ci > 0 ? 1 : m + ci < 0 ? -1 : 0;
}

const char *exp_paired_str(const experiment *e, size_t a, size_t b,
                           exp_metric_fn *f)
{
    static char buf[4][96];
    static unsigned next;
    char *out = buf[next++ % 4];
    double m, sd, ci;
    size_t n = exp_paired(e, a, b, f, &m, &sd, &ci);
    if (n < 2 || !isfinite(ci))
        snprintf(out, sizeof buf[0], "paired: too few seeds");
    else
        snprintf(out, sizeof buf[0], "paired %+.4f [%+.4f, %+.4f]%s", m,
                 m - ci, m + ci,
                 m - ci <= 0 && m + ci >= 0 ? ", no difference found" : "");
    return out;
}

void exp_diverged_note(const experiment *e, FILE *f)
{
    size_t div = 0, runs = 0;
    for (size_t v = 0; v < e->nvariants; v++)
        div += exp_diverged(e, v), runs += e->nseeds;
    if (div)
        fprintf(f, "; %zu/%zu runs diverged", div, runs);
}

void exp_compare_paired(const experiment *e, FILE *md, size_t a, size_t b,
                        exp_metric_fn *f, const char *what, bool higher)
{
    double m, sd, ci;
    size_t n = exp_paired(e, a, b, f, &m, &sd, &ci);
    const char *an = e->variants[a].name, *bn = e->variants[b].name;
    if (n < 2 || !isfinite(ci)) {
        fprintf(md, "- %s, %s minus %s: %zu paired seed%s, too few for an "
                    "interval.\n", what, an, bn, n, n == 1 ? "" : "s");
        return;
    }
    int dd = decimals(fabs(m) + ci);
    bool sep = fabs(m) > ci;
    bool a_better = higher ? m > 0 : m < 0;
    fprintf(md, "- %s, %s minus %s, paired over %zu seeds: **%+.*f** (95%% "
                "interval [%+.*f, %+.*f], sd %.*f): ",
            what, an, bn, n, dd, m, dd, m - ci, dd, m + ci, dd, sd);
    if (sep)
        fprintf(md, "%s is %s (%s), the interval excludes 0.\n", an,
                m > 0 ? "higher" : "lower", a_better ? "better" : "worse");
    else
        fprintf(md, "no difference found: the interval includes 0.\n");
}

/* ---------------------------------------------------------------------- */
/* Plots                                                                   */

/* per epoch, the mean over the seeds that recorded it of the double at
 * byte offset `off` of bp_epoch_stats */
static size_t series_mean(const experiment *e, size_t v, double *x,
                          double *y, size_t cap, size_t off)
{
    size_t n = 0;
    for (size_t k = 0; k < cap; k++) {
        double s = 0;
        size_t c = 0;
        for (size_t j = 0; j < e->nseeds; j++) {
            const exp_run *r = exp_get(e, v, j);
            if (k < r->nepochs)
                s += *(const double *)((const char *)&r->epochs[k] + off), c++;
        }
        if (!c)
            break;
        x[n] = (double)(k + 1);
        y[n++] = s / (double)c;
    }
    return n;
}

#define X(field)                                                             \
    size_t exp_series_##field(const experiment *e, size_t v, double *x,       \
                              double *y, size_t cap)                          \
    {                                                                         \
        return series_mean(e, v, x, y, cap, offsetof(bp_epoch_stats, field)); \
    }
EXP_SERIES_FIELDS(X)
#undef X

/* s as a gnuplot single-quoted string (a quote inside doubled) */
static void tquote(text *t, const char *s)
{
    tprintf(t, "'");
    for (; *s; s++)
        tprintf(t, *s == '\'' ? "''" : "%c", *s);
    tprintf(t, "'");
}

/* Write <png>.gp for the data blocks in `dat` and run gnuplot on it. */
static bool draw(const experiment *e, const char *png, const char *title,
                 const char *xlabel, const char *ylabel, unsigned scale,
                 text *dat, char (*names)[EXP_NAME_MAX], size_t blocks)
{
    text gp = {0};
    char datname[128];
    snprintf(datname, sizeof datname, "%.100s.dat", png);
    if (!blocks) {
        /* nothing to draw: no plot, and none left from an earlier report
         * (exp_md_plot then says so instead of pointing at it) */
        bp_free(dat->p);
        char path[1200];
        const char *sfx[3] = {"", ".dat", ".gp"};
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/%s%s", e->out, png, sfx[i]);
            if (unlink(path) != 0 && errno != ENOENT) {
                fprintf(stderr, "%s: cannot remove %s: %s\n", e->prog, path,
                        strerror(errno));
                return false;
            }
        }
        return true;
    }
    /* the script kept beside the plot names the plot; the one gnuplot
     * runs draws into a private folder, and the PNG is then written by
     * the rules of every other file (core/outfile.h) */
    char pngpath[700];
    snprintf(pngpath, sizeof pngpath, "%s/%s", e->out, png);
    tprintf(&gp, "set terminal pngcairo size 960,600 font 'sans,11'\n"
                 "set output ");
    tquote(&gp, pngpath);
    tprintf(&gp, "\n");
    size_t body = gp.used;
    tprintf(&gp, "set title "), tquote(&gp, title);
    tprintf(&gp, "\nset xlabel "), tquote(&gp, xlabel);
    tprintf(&gp, "\nset ylabel "), tquote(&gp, ylabel);
    tprintf(&gp, "\nset grid\nset key outside right\n");
    if (scale & EXP_LOGY)
        tprintf(&gp, "set logscale y\nset format y '%%g'\n");
    if (scale & EXP_LOGX)
        tprintf(&gp, "set logscale x\n");
    /* a palette that stays readable on white */
    static const char *const colors[10] = {
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
        "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
    for (int i = 0; i < 10; i++)
        tprintf(&gp, "set linetype %d lc rgb '%s' lw 2 pt %d\n", i + 1,
                colors[i], 4 + i);
    tprintf(&gp, "set linetype cycle 10\nplot ");
    char datpath[700];
    snprintf(datpath, sizeof datpath, "%s/%s", e->out, datname);
    for (size_t b = 0; b < blocks; b++) {
        tquote(&gp, datpath);
        tprintf(&gp, " index %zu using 1:2 with linespoints title ", b);
        tquote(&gp, names[b]);
        tprintf(&gp, "%s", b + 1 < blocks ? ", \\\n     " : "\n");
    }
    char gpname[160];
    snprintf(gpname, sizeof gpname, "%.100s.gp", png);
    const char *tmpdir = getenv("TMPDIR");
    char work[512];
    snprintf(work, sizeof work, "%s/bplab-plot.XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(work)) {
        fprintf(stderr, "%s: error: %s: cannot create: %s\n", e->prog, work,
                strerror(errno));
        bp_free(dat->p), bp_free(gp.p);
        return !(plot_failed = true);
    }
    char run_gp[600], run_png[600];
    snprintf(run_gp, sizeof run_gp, "%s/plot.gp", work);
    snprintf(run_png, sizeof run_png, "%s/plot.png", work);
    FILE *rf = fopen(run_gp, "w");
    bool wrote = rf &&
                 fprintf(rf, "set terminal pngcairo size 960,600 font "
                             "'sans,11'\nset output '%s'\n", run_png) > 0 &&
                 fwrite(gp.p + body, 1, gp.used - body, rf) == gp.used - body;
    wrote = rf && fclose(rf) == 0 && wrote;
    bool ok = wrote && text_save(dat, e->out, datname) &&
              text_save(&gp, e->out, gpname);
    if (!wrote)
        bp_free(dat->p), bp_free(gp.p);
    ok = ok && run_gnuplot(e, png, run_gp, run_png);
    unlink(run_gp);
    unlink(run_png);
    rmdir(work);
    return ok || !(plot_failed = true);
}

/* Run gnuplot on `script`; then write the PNG it drew (`drawn`) as
 * <out>/<png>. */
static bool run_gnuplot(const experiment *e, const char *png,
                        const char *script, const char *drawn)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>&1", script);
    FILE *p = popen(cmd, "r");
    if (!p) {
        fprintf(stderr, "%s: cannot run gnuplot\n", e->prog);
        return false;
    }
    char line[512];
    bool quiet = true; /* warnings (a one-point x range) are not failures */
    while (fgets(line, sizeof line, p)) {
        fprintf(stderr, "gnuplot: %s", line);
        if (!strstr(line, "Warning"))
            quiet = false;
    }
    int rc = pclose(p);
    if (rc != 0 || !quiet) {
        fprintf(stderr, "%s: gnuplot failed for %s (install gnuplot-nox)\n",
                e->prog, png);
        return false;
    }
    text img = {0};
    FILE *f = fopen(drawn, "rb");
    char buf[65536];
    size_t got;
    while (f && (got = fread(buf, 1, sizeof buf, f)) > 0)
        tappend(&img, buf, got);
    bool ok = f && !ferror(f);
    if (f)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "%s: gnuplot drew no %s\n", e->prog, png);
        bp_free(img.p);
        return false;
    }
    return text_save(&img, e->out, png);
}

void exp_md_plot(const experiment *e, FILE *md, const char *alt,
                 const char *png)
{
    char path[1200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", e->out, png);
    if (stat(path, &st) == 0)
        fprintf(md, "![%s](%s)\n", alt, png);
    else
        fprintf(md, "*No plot of %s: no run has a point to draw.*\n", alt);
}

bool exp_plot(const experiment *e, const char *png, const char *title,
              const char *xlabel, const char *ylabel, unsigned scale,
              exp_series_fn *series, const bool *which)
{
    text dat = {0};
    static double x[EXP_MAX_EPOCHS], y[EXP_MAX_EPOCHS];
    static char names[EXP_MAX_VARIANTS][EXP_NAME_MAX];
    size_t blocks = 0;
    for (size_t v = 0; v < e->nvariants; v++) {
        if (which && !which[v])
            continue;
        size_t n = series(e, v, x, y, EXP_MAX_EPOCHS);
        if (!n)
            continue;
        tprintf(&dat, "# %s\n", e->variants[v].name);
        for (size_t i = 0; i < n; i++)
            tprintf(&dat, "%.9g %.9g\n", x[i], y[i]);
        tprintf(&dat, "\n\n");
        snprintf(names[blocks++], sizeof names[0], "%s", e->variants[v].name);
    }
    return draw(e, png, title, xlabel, ylabel, scale, &dat, names, blocks);
}

bool exp_plot_xy(const experiment *e, const char *png, const char *title,
                 const char *xlabel, const char *ylabel, unsigned scale,
                 const char *name, size_t n, const double *x, const double *y)
{
    text dat = {0};
    static char names[1][EXP_NAME_MAX];
    tprintf(&dat, "# %s\n", name);
    for (size_t i = 0; i < n; i++)
        tprintf(&dat, "%.9g %.9g\n", x[i], y[i]);
    snprintf(names[0], sizeof names[0], "%s", name);
    return draw(e, png, title, xlabel, ylabel, scale, &dat, names, n ? 1 : 0);
}

bool exp_plot_curves(const experiment *e, const char *png, const char *title,
                     const char *xlabel, const char *ylabel, unsigned scale,
                     size_t ncurves, const char *const *names,
                     const size_t *n, const double *const *x,
                     const double *const *y)
{
    text dat = {0};
    static char kept[EXP_MAX_VARIANTS][EXP_NAME_MAX];
    size_t blocks = 0;
    for (size_t c = 0; c < ncurves && blocks < EXP_MAX_VARIANTS; c++) {
        if (!n[c])
            continue;
        tprintf(&dat, "# %s\n", names[c]);
        for (size_t i = 0; i < n[c]; i++)
            tprintf(&dat, "%.9g %.9g\n", x[c][i], y[c][i]);
        tprintf(&dat, "\n\n");
        snprintf(kept[blocks++], sizeof kept[0], "%s", names[c]);
    }
    return draw(e, png, title, xlabel, ylabel, scale, &dat, kept, blocks);
}

/* ---------------------------------------------------------------------- */
/* Running                                                                 */

typedef struct cb_ctx {
    experiment *e;
    exp_run *r;
    size_t epochs;
    size_t index, total;
    unsigned *probe_cnt; /* per unit of every activation layer */
} cb_ctx;

/* the activation's derivative, from its output */
static double derivative(bp_act a, float y)
{
    switch (a) {
    case BP_ACT_SIGMOID:
        return (double)y * (1.0 - (double)y);
    case BP_ACT_TANH:
        return 1.0 - (double)y * (double)y;
    case BP_ACT_RELU:
        break;
    }
    return y > 0.0f ? 1.0 : 0.0;
}

static bool saturated(bp_act a, float y)
{
    switch (a) {
    case BP_ACT_SIGMOID:
        return y * (1.0f - y) < 0.0125f;
    case BP_ACT_TANH:
        return 1.0f - y * y < 0.05f;
    case BP_ACT_RELU:
        break;
    }
    return !(y > 0.0f);
}

/* The activation layers the probe reads: their outputs must survive the
 * whole forward pass, so one followed by an in-place layer is skipped. */
static bool probed(const bp_net *net, size_t i)
{
    const bp_layer *l = &net->layers[i];
    return l->ops->is_activation &&
           !(i + 1 < net->nlayers && net->layers[i + 1].ops->is_activation);
}

static size_t probe_units_total(const bp_net *net, size_t *nact)
{
    size_t units = 0;
    *nact = 0;
    for (size_t i = 0; i < net->nlayers; i++)
        if (probed(net, i))
            units += bp_shape_size(net->layers[i].out), ++*nact;
    return units;
}

/* Forward the first EXP_PROBE training images in inference mode and count,
 * per unit, the images on which it is saturated; then each probed layer's
 * share of saturated outputs and of dead units. */
static void probe_units(bp_net *net, const bp_dataset *d, unsigned *cnt,
                        double *sat, double *dead, double *deriv)
{
    size_t n = d->n < EXP_PROBE ? d->n : EXP_PROBE, units;
    size_t nact;
    units = probe_units_total(net, &nact);
    memset(cnt, 0, units * sizeof *cnt);
    for (size_t a = 0; a < nact; a++)
        deriv[a] = 0;
    for (size_t r0 = 0; r0 < n; r0 += net->max_batch) {
        size_t b = n - r0 < net->max_batch ? n - r0 : net->max_batch;
        bp_net_forward(net, d->x + r0 * d->dim, b, false, 0);
        unsigned *c = cnt;
        size_t a = 0;
        for (size_t i = 0; i < net->nlayers; i++) {
            if (!probed(net, i))
                continue;
            const bp_layer *l = &net->layers[i];
            size_t w = bp_shape_size(l->out);
            for (size_t r = 0; r < b; r++)
                for (size_t u = 0; u < w; u++) {
                    float y = l->y[r * w + u];
                    c[u] += saturated(l->ops->act, y);
                    deriv[a] += derivative(l->ops->act, y);
                }
            c += w, a++;
        }
    }
    const unsigned *c = cnt;
    size_t a = 0;
    for (size_t i = 0; i < net->nlayers; i++) {
        if (!probed(net, i))
            continue;
        size_t w = bp_shape_size(net->layers[i].out), all = 0, gone = 0;
        for (size_t u = 0; u < w; u++)
            all += c[u], gone += c[u] == n;
        sat[a] = n && w ? (double)all / ((double)n * (double)w) : NAN;
        deriv[a] = n && w ? deriv[a] / ((double)n * (double)w) : NAN;
        dead[a] = w && n ? (double)gone / (double)w : NAN;
        c += w, a++;
    }
}

/* the variant's trace: every step's gradient norm and loss, up to its cap */
static void on_step(void *ctx, const bp_trainer *t, size_t step, size_t steps,
                    double loss, double grad_norm)
{
    (void)t, (void)step, (void)steps;
    cb_ctx *c = ctx;
    exp_run *r = c->r;
    if (r->ntrace < c->e->variants[r->variant].trace_steps) {
        r->trace_grad[r->ntrace] = grad_norm;
        r->trace_loss[r->ntrace] = loss;
        r->ntrace++;
    }
}

static void on_epoch(void *ctx, const bp_trainer *t, const bp_epoch_stats *s)
{
    cb_ctx *c = ctx;
    exp_run *r = c->r;
    size_t k = r->nepochs;
    if (k < c->epochs) {
        r->epochs[k] = *s;
        /* the step norms are the trainer's: keep a copy with the run */
        r->epochs[k].step_norm = NULL;
        if (r->nsteps && s->step_norm) {
            memcpy(r->step_norms + k * r->nsteps, s->step_norm,
                   r->nsteps * sizeof *r->step_norms);
            r->epochs[k].step_norm = r->step_norms + k * r->nsteps;
        }
        if (r->nact)
            probe_units(t->net, &t->data->train, c->probe_cnt,
                        r->saturated + k * r->nact, r->dead + k * r->nact,
                        r->deriv + k * r->nact);
        r->nepochs++;
    }
    if (isatty(2)) {
        fprintf(stderr, "\r[%zu/%zu] %-24s seed %u  epoch %3llu/%zu  test acc %.4f   ",
                c->index, c->total, c->e->variants[r->variant].name, r->seed,
                (unsigned long long)s->epoch, c->epochs, s->test_acc);
        fflush(stderr);
    }
}

typedef struct norm_sum {
    double sum;
    size_t n;
} norm_sum;

static void add_norm(void *ctx, const bp_trainer *t, size_t step,
                     size_t steps, double loss, double grad_norm)
{
    (void)t, (void)step, (void)steps, (void)loss;
    norm_sum *a = ctx;
    a->sum += grad_norm;
    a->n++;
}

bp_status exp_observed_grad_norm(const bp_run_opts *o, size_t epochs,
                                 double *norm, double *params, bp_err *err)
{
    bp_data_opts dopts;
    bp_data d = {0};
    bp_net *net = NULL;
    bp_optim *opt = NULL;
    bp_trainer *t = NULL;
    bp_run_opts c = *o;
    c.epochs = (long long)epochs;
    c.seed = 0;
    c.clip_norm = c.clip_value = 0;
    norm_sum a = {0, 0};
    bp_status s;
    if ((s = bp_run_data_opts(&c, &dopts, err)) == BP_OK &&
        (s = bp_data_load(&dopts, &d, err)) == BP_OK &&
        (s = bp_run_build(&c, &d, &net, &opt, &t, err)) == BP_OK) {
        t->on_step = add_norm;
        t->ctx = &a;
        if ((s = bp_trainer_run(t, err)) == BP_OK) {
            *norm = a.n ? a.sum / (double)a.n : NAN;
            *params = (double)bp_net_count_params(net);
        }
    }
    bp_trainer_destroy(t);
    bp_optim_destroy(opt);
    bp_net_destroy(net);
    bp_data_free(&d);
    return s;
}

/* The data of the last run, kept while variants share it. */
static bp_data cache;
static bp_data_opts cache_opts;
static bool cache_ok;

static bool same_data(const bp_data_opts *a, const bp_data_opts *b)
{
    return strcmp(a->spec ? a->spec : "", b->spec ? b->spec : "") == 0 &&
           a->limit_train == b->limit_train &&
           a->val_fraction == b->val_fraction &&
           a->gen_samples == b->gen_samples && a->split_seed == b->split_seed &&
           a->normalize == b->normalize;
}

/* The data set of a run with options o, in the cache: loaded unless the
 * last run's was the same. */
static bp_status cache_data(experiment *e, const bp_run_opts *o, bp_err *err)
{
    bp_data_opts dopts;
    bp_status st;
    if ((st = bp_run_data_opts(o, &dopts, err)) != BP_OK)
        return st;
    if (cache_ok && same_data(&dopts, &cache_opts))
        return BP_OK;
    bp_data_free(&cache);
    cache_ok = false;
    if ((st = bp_data_load(&dopts, &cache, err)) != BP_OK)
        return st;
    cache_opts = dopts;
    cache_ok = true;
    e->data_checksum = cache.checksum;
    snprintf(e->data_source, sizeof e->data_source, "%s", cache.source);
    return BP_OK;
}

/* The options of run i (variant i / nseeds, seed index i % nseeds): the
 * variant's, its seed, the table and threads (the variant's, else the
 * program's), the epochs override. */
static void run_opts(const experiment *e, size_t i, bp_run_opts *o)
{
    const exp_variant *var = &e->variants[i / e->nseeds];
    *o = var->o;
    o->seed = e->seed_of[i % e->nseeds];
    o->isa = var->isa ? var->isa : e->isa;
    o->threads = var->threads ? var->threads : e->threads;
    if (epochs_override)
        o->epochs = epochs_override;
}

static bp_status run_one(experiment *e, size_t i, size_t index, size_t total,
                         bp_err *err)
{
    exp_run *r = &e->runs[i];
    memset(r, 0, sizeof *r);
    r->variant = i / e->nseeds;
    r->seed = e->seed_of[i % e->nseeds];
    bp_run_opts o;
    run_opts(e, i, &o);
    bp_net *net = NULL;
    bp_optim *opt = NULL;
    bp_trainer *t = NULL;
    unsigned *probe_cnt = NULL;
    bp_status st;
    /* the variant's table and threads reach the run through o: its
     * context comes from bp_run_build */
    if ((st = cache_data(e, &o, err)) != BP_OK)
        goto done;
    if ((st = bp_run_build(&o, &cache, &net, &opt, &t, err)) != BP_OK)
        goto done;
    size_t ne = (size_t)o.epochs;
    r->epochs = bp_alloc(ne * sizeof *r->epochs);
    if (net->steps)
        r->step_norms = bp_alloc(bp_mul_size(ne, net->steps * sizeof(double)));
    size_t nt = e->variants[r->variant].trace_steps;
    if (nt) {
        r->trace_grad = bp_alloc(bp_mul_size(nt, sizeof(double)));
        r->trace_loss = bp_alloc(bp_mul_size(nt, sizeof(double)));
    }
    if (e->variants[r->variant].probe_units) {
        size_t units = probe_units_total(net, &r->nact);
        probe_cnt = bp_alloc(bp_mul_size(units + 1, sizeof *probe_cnt));
        size_t row = (r->nact + 1) * sizeof(double);
        r->saturated = bp_alloc(bp_mul_size(ne, row));
        r->dead = bp_alloc(bp_mul_size(ne, row));
        r->deriv = bp_alloc(bp_mul_size(ne, row));
    }
    if (!r->epochs || (net->steps && !r->step_norms) ||
        (nt && (!r->trace_grad || !r->trace_loss)) ||
        (r->nact &&
         (!probe_cnt || !r->saturated || !r->dead || !r->deriv))) {
        st = bp_fail(err, BP_ERR_NOMEM, "out of memory");
        goto done;
    }
    r->ndense = net->ndense;
    r->nsteps = net->steps;
    snprintf(r->isa, sizeof r->isa, "%s", net->ctx->k->isa_name);
    r->threads = net->ctx->threads;
    if (gethostname(r->host, sizeof r->host) != 0)
        snprintf(r->host, sizeof r->host, "unknown");
    r->host[sizeof r->host - 1] = '\0';
    cb_ctx c = {e, r, ne, index, total, probe_cnt};
    t->on_epoch = on_epoch;
    if (nt)
        t->on_step = on_step;
    t->ctx = &c;
    t->stop = &stop_requested;
    st = bp_trainer_run(t, err);
    r->best_epoch = (size_t)t->best_epoch;
    for (size_t k = 0; k < r->nepochs; k++)
        r->seconds += r->epochs[k].seconds;
    if (st == BP_OK) {
        r->done = true;
        bool flushed = bp_flush_denormals(net->ctx, !o.keep_denormals);
        bp_net_evaluate(net, &cache.test, &r->final_test_loss,
                        &r->final_test_acc, NULL);
        bp_flush_denormals(net->ctx, flushed);
    } else if (st == BP_ERR_NUMERIC) {
        /* divergence is a result, not a failure of the experiment */
        r->diverged = true;
        snprintf(r->fault, sizeof r->fault, "%s", err->msg);
        r->final_test_acc = NAN;
        r->final_test_loss = NAN;
        st = BP_OK;
    }
done:
    if (st != BP_OK && !r->fault[0])
        snprintf(r->fault, sizeof r->fault, "%s", err->msg);
    bp_free(probe_cnt);
    bp_trainer_destroy(t);
    bp_optim_destroy(opt);
    bp_net_destroy(net);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Reports                                                                 */

/* A JSON string: quoted, with quotes, backslashes and control characters
 * escaped. */
static void tjson_str(text *t, const char *s)
{
    tprintf(t, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            tprintf(t, "\\%c", *c);
        else if (*c < 0x20)
            tprintf(t, "\\u%04x", *c);
        else
            tprintf(t, "%c", *c);
    }
    tprintf(t, "\"");
}

/* exactly: "%.17g" reads back (strtod) as the same double */
static void tjson_num(text *t, double v)
{
    if (isfinite(v))
        tprintf(t, "%.17g", v);
    else
        tprintf(t, "null");
}

static void write_provenance(const experiment *e, bool complete)
{
    text t = {0};
    char date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    struct utsname u;
    uname(&u);
    tprintf(&t, "{\n  \"experiment\": \"%s\",\n  \"status\": \"%s\",\n", e->name,
            complete ? "complete" : "incomplete");
    tprintf(&t, "  \"git_commit\": \"%s\",\n  \"git_dirty\": %s,\n",
            bp_git_commit(), bp_git_dirty() ? "true" : "false");
    tprintf(&t, "  \"bplab_version\": \"%s\",\n", bp_version());
    tprintf(&t, "  \"cpu\": \"%s\",\n  \"arch\": \"%s\",\n  \"kernel\": \"%s %s\",\n",
            bp_cpu()->model, bp_cpu()->arch, u.sysname, u.release);
    /* threads: of every run whose variant does not set its own (0: they
     * differ; runs/<id>.json has each run's) */
    tprintf(&t, "  \"isa\": \"%s\",\n  \"threads\": %d,\n  \"hosts\": \"%s\",\n",
            e->isa_name, e->run_threads, e->hosts);
    tprintf(&t, "  \"compiler\": \"%s\",\n  \"build_type\": \"%s\",\n  \"flags\": \"%s\",\n",
            bp_compiler(), bp_build_type(), bp_c_flags());
    tprintf(&t, "  \"date\": \"%s\",\n", date);
    tprintf(&t, "  \"command\": ");
    tjson_str(&t, e->cmdline);
    tprintf(&t, ",\n  \"quick\": %s,\n  \"seeds\": %u,\n  \"seed_values\": [",
            e->quick ? "true" : "false", e->nseeds);
    for (unsigned sd = 0; sd < e->nseeds; sd++)
        tprintf(&t, "%s%u", sd ? ", " : "", e->seed_of[sd]);
    tprintf(&t, "],\n  \"runs\": %zu,\n  \"runs_missing\": %zu,\n",
            e->nvariants * e->nseeds, e->nmissing);
    tprintf(&t, "  \"data\": {\"source\": \"%s\", \"crc32\": \"%08x\"},\n",
            e->data_source, e->data_checksum);
    tprintf(&t, "  \"wall_seconds\": %.1f,\n  \"run_seconds\": %.1f,\n  \"variants\": [\n",
            e->wall_seconds, e->run_seconds);
    for (size_t v = 0; v < e->nvariants; v++) {
        bp_run_opts o = e->variants[v].o;
        if (epochs_override)
            o.epochs = epochs_override;
        /* the table and threads the runs used: the variant's, else the
         * program's */
        o.isa = e->variants[v].isa ? e->variants[v].isa : e->isa_name;
        int threads = e->variants[v].threads ? e->variants[v].threads
                                             : e->run_threads;
        tprintf(&t, "    {\"name\": \"%s\", \"epochs\": %lld, \"isa\": "
                    "\"%s\", \"threads\": %d,\n     \"commands\": [",
                e->variants[v].name, o.epochs, o.isa, threads);
        /* one `bplab train` line per seed: each reruns one run of the
         * table, to the same bits on the same ISA */
        for (unsigned sd = 0; sd < e->nseeds; sd++) {
            char cmd[4096];
            o.seed = e->seed_of[sd];
            if (!bp_run_command(&o, cmd, sizeof cmd))
                snprintf(cmd, sizeof cmd, "(options too long)");
            tprintf(&t, "%s\n       ", sd ? "," : "");
            tjson_str(&t, cmd);
        }
        tprintf(&t, "]}%s\n", v + 1 < e->nvariants ? "," : "");
    }
    tprintf(&t, "  ]\n}\n");
    text_save(&t, e->out, "provenance.json");
}

/* A report is printed to a FILE in memory, then written by the rules of
 * core/outfile.h (atomically, as every other file). */
typedef struct memfile {
    FILE *f;
    char *p;
    size_t n;
} memfile;

static bool mem_open(const experiment *e, memfile *m)
{
    memset(m, 0, sizeof *m);
    m->f = open_memstream(&m->p, &m->n);
    if (!m->f)
        fprintf(stderr, "%s: error: out of memory\n", e->prog);
    return m->f != NULL;
}

static bool mem_save(const experiment *e, memfile *m, const char *name)
{
    char path[1024];
    bp_err err = {0};
    bool ok = fclose(m->f) == 0;
    if (!ok)
        snprintf(err.msg, sizeof err.msg, "out of memory");
    else if (!path_join(path, sizeof path, e->out, name))
        ok = false, snprintf(err.msg, sizeof err.msg, "path too long");
    else
        ok = bp_write_file(path, m->p, m->n, &err) == BP_OK;
    if (!ok)
        fprintf(stderr, "%s: error: %s/%s: %s\n", e->prog, e->out, name,
                err.msg);
    free(m->p);
    memset(m, 0, sizeof *m);
    return ok;
}

static void write_headline(const experiment *e, bool complete)
{
    memfile m;
    if (!e->headline || !mem_open(e, &m))
        return;
    if (!complete)
        fprintf(m.f, "INCOMPLETE: ");
    e->headline(e, m.f);
    mem_save(e, &m, "headline.md");
}

static void write_summary(const experiment *e, bool complete)
{
    memfile m;
    if (!mem_open(e, &m))
        return;
    FILE *md = m.f;
    fprintf(md, "# %s\n\n", e->title);
    if (!complete)
        fprintf(md, "> **INCOMPLETE**: %zu of %zu runs have no finished record "
                    "(interrupted, failed, or not trained yet); the tables "
                    "cover the runs that finished.\n\n",
                e->nmissing, e->nvariants * e->nseeds);
    if (e->quick)
        fprintf(md, "> Quick run (`--quick`): fewer epochs, seeds and "
                    "samples; for a smoke test, not for conclusions.\n\n");
    fprintf(md, "**Question.** %s\n\n**Setting.** %s\n\n", e->question,
            e->setting);
    fprintf(md, "| variant | final test accuracy | 95%% interval | train-test gap "
                "| epochs | runs | diverged |\n|---|---|---|---|---|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++) {
        double m, sd, ci, gm, gsd, gci;
        size_t n = exp_stats(e, v, exp_final_test_acc, &m, &sd, &ci);
        size_t ng = exp_stats(e, v, exp_final_gap, &gm, &gsd, &gci);
        size_t div = 0, ran = 0, ep = 0;
        for (size_t s = 0; s < e->nseeds; s++) {
            const exp_run *r = exp_get(e, v, s);
            div += r->diverged;
            ran += r->done || r->diverged;
            if (r->nepochs > ep)
                ep = r->nepochs;
        }
        char a[64], g[64], c[64];
        exp_fmt(a, sizeof a, m, sd, n);
        exp_fmt(g, sizeof g, gm, gsd, ng);
        if (n > 1 && isfinite(ci))
            snprintf(c, sizeof c, "[%.*f, %.*f]", decimals(m), m - ci,
                     decimals(m), m + ci);
        else
            snprintf(c, sizeof c, "n/a");
        fprintf(md, "| %s | %s | %s | %s | %zu | %zu/%u | %zu |\n",
                e->variants[v].name, a, c, g, ep, ran, e->nseeds, div);
    }
    fprintf(md, "\nMean ± standard deviation over seeds of the final epoch "
                "(early-stopped runs: the restored best epoch); the interval "
                "is Student's t at 95%%. The gap is training accuracy "
                "(evaluated without dropout) minus test accuracy, where "
                "measured.\n\n## Verdict\n\n");
    if (e->report)
        e->report(e, md);
    for (size_t i = 0; i < e->nvariants * e->nseeds; i++) {
        const exp_run *r = &e->runs[i];
        if (r->fault[0])
            fprintf(md, "- %s seed %u stopped: %s\n", e->variants[r->variant].name,
                    r->seed, r->fault);
    }
    fprintf(md, "\n## Plots\n\n");
    if (e->plots)
        e->plots(e, md);
    char threads[32];
    if (e->run_threads > 0)
        snprintf(threads, sizeof threads, "%d thread%s", e->run_threads,
                 e->run_threads == 1 ? "" : "s");
    else
        snprintf(threads, sizeof threads, "threads per run");
    fprintf(md, "\n## Provenance\n\n`%s`, bplab %s (commit %s%s), %s, %s, %s; "
                "data %s (CRC-32 %08x); %.0f s (the runs' own: %.0f s, on %s). "
                "Details in provenance.json, every epoch of every run in "
                "metrics.csv and runs/.\n",
            e->cmdline, bp_version(), bp_git_commit(),
            bp_git_dirty() ? ", modified" : "", bp_cpu()->model,
            e->isa_name, threads, e->data_source, e->data_checksum,
            e->wall_seconds, e->run_seconds, e->hosts[0] ? e->hosts : "-");
    mem_save(e, &m, "summary.md");
}

/* ---------------------------------------------------------------------- */
/* Runs as units: ids, records on disk                                     */

/* <variant>.seed<N>, the name's characters outside [A-Za-z0-9._=+-] as
 * '_'; two runs with one id are a programming error of the grid. */
static bool make_ids(experiment *e)
{
    for (size_t v = 0; v < e->nvariants; v++)
        for (unsigned s = 0; s < e->nseeds; s++) {
            char *id = e->ids[v * e->nseeds + s];
            int w = snprintf(id, EXP_ID_MAX, "%s.seed%u", e->variants[v].name,
                             e->seed_of[s]);
            if (w < 0 || w >= EXP_ID_MAX) {
                fprintf(stderr, "%s: error: variant name '%s' too long for a "
                                "run id\n", e->prog, e->variants[v].name);
                return false;
            }
            for (char *c = id; *c; c++)
                if (!(isalnum((unsigned char)*c) || strchr("._=+-", *c)))
                    *c = '_';
        }
    size_t n = e->nvariants * e->nseeds;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(e->ids[i], e->ids[j]) == 0) {
                fprintf(stderr, "%s: error: two runs would have the id '%s' "
                                "(variant names that differ only in "
                                "characters outside [A-Za-z0-9._=+-])\n",
                        e->prog, e->ids[i]);
                return false;
            }
    return true;
}

static bool run_file(const experiment *e, size_t i, const char *ext,
                     char *buf, size_t size)
{
    int w = snprintf(buf, size, "%s/runs/%s.%s", e->out, e->ids[i], ext);
    return w > 0 && (size_t)w < size;
}

/* The `bplab train` command of run i (the record's identity). */
static bool run_cmd(const experiment *e, size_t i, char *buf, size_t size)
{
    bp_run_opts o;
    run_opts(e, i, &o);
    return bp_run_command(&o, buf, size) > 0;
}

/* The numbers of an epoch in a run record, besides its number and the
 * per-layer and per-step arrays: one list for the writer and the reader. */
static const struct {
    const char *key;
    size_t off;
} epoch_fields[] = {
    {"lr", offsetof(bp_epoch_stats, lr)},
    {"train_loss", offsetof(bp_epoch_stats, train_loss)},
    {"train_acc", offsetof(bp_epoch_stats, train_acc)},
    {"train_eval_loss", offsetof(bp_epoch_stats, train_eval_loss)},
    {"train_eval_acc", offsetof(bp_epoch_stats, train_eval_acc)},
    {"val_loss", offsetof(bp_epoch_stats, val_loss)},
    {"val_acc", offsetof(bp_epoch_stats, val_acc)},
    {"test_loss", offsetof(bp_epoch_stats, test_loss)},
    {"test_acc", offsetof(bp_epoch_stats, test_acc)},
    {"weight_norm", offsetof(bp_epoch_stats, weight_norm)},
    {"zero_frac", offsetof(bp_epoch_stats, zero_frac)},
    {"seconds", offsetof(bp_epoch_stats, seconds)},
    {"samples_per_s", offsetof(bp_epoch_stats, samples_per_s)},
};
#define NEPOCH_FIELDS (sizeof epoch_fields / sizeof *epoch_fields)

static const char *run_status(const exp_run *r)
{
    return r->done ? "done" : r->diverged ? "diverged" : "failed";
}

/* Write t as runs/<id>.<ext> (atomically) and free it; false, said, if
 * that fails. */
static bool save_record(const experiment *e, size_t i, const char *ext, text *t)
{
    char path[1200];
    bp_err err = {0};
    bool ok = !t->oom && run_file(e, i, ext, path, sizeof path) &&
              bp_write_file(path, t->p ? t->p : "", t->used, &err) == BP_OK;
    if (!ok)
        fprintf(stderr, "%s: error: %s/runs/%s.%s: %s\n", e->prog, e->out,
                e->ids[i], ext, err.msg[0] ? err.msg : "out of memory");
    bp_free(t->p);
    memset(t, 0, sizeof *t);
    return ok;
}

/* runs/<id>.csv (the run's rows of metrics.csv) and runs/<id>.json, each
 * atomically, the JSON last: its presence marks the run as finished. */
static bool save_run(experiment *e, size_t i)
{
    const exp_run *r = &e->runs[i];
    char cmd[4096];
    /* the CSV */
    size_t cap = bp_metrics_row_max(EXP_ID_MAX + 32, r->ndense, r->nsteps);
    char *row = bp_alloc(cap);
    text t = {0};
    if (!row) {
        fprintf(stderr, "%s: error: out of memory for %s\n", e->prog, e->ids[i]);
        return false;
    }
    bp_metrics_header(row, cap, "variant,seed,", r->ndense, r->nsteps);
    tprintf(&t, "%s", row);
    metrics_rows(e, r, r->ndense, r->nsteps, row, cap, &t);
    bp_free(row);
    if (!save_record(e, i, "csv", &t))
        return false;
    /* the JSON */
    char date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    if (!run_cmd(e, i, cmd, sizeof cmd))
        snprintf(cmd, sizeof cmd, "(options too long)");
    tprintf(&t, "{\n  \"bplab_run\": 1,\n  \"experiment\": ");
    tjson_str(&t, e->name);
    tprintf(&t, ",\n  \"id\": ");
    tjson_str(&t, e->ids[i]);
    tprintf(&t, ",\n  \"variant\": ");
    tjson_str(&t, e->variants[r->variant].name);
    tprintf(&t, ",\n  \"seed\": %u,\n  \"command\": ", r->seed);
    tjson_str(&t, cmd);
    tprintf(&t, ",\n  \"status\": \"%s\",\n  \"fault\": ", run_status(r));
    tjson_str(&t, r->fault);
    tprintf(&t, ",\n  \"isa\": ");
    tjson_str(&t, r->isa);
    tprintf(&t, ",\n  \"threads\": %d,\n  \"host\": ", r->threads);
    tjson_str(&t, r->host);
    tprintf(&t, ",\n  \"cpu\": ");
    tjson_str(&t, bp_cpu()->model);
    tprintf(&t, ",\n  \"git_commit\": \"%s\",\n  \"git_dirty\": %s,\n"
                "  \"date\": \"%s\",\n  \"data\": {\"source\": ",
            bp_git_commit(), bp_git_dirty() ? "true" : "false", date);
    tjson_str(&t, e->data_source);
    tprintf(&t, ", \"crc32\": \"%08x\"},\n", e->data_checksum);
    tprintf(&t, "  \"ndense\": %zu,\n  \"nsteps\": %zu,\n  \"best_epoch\": %zu,\n",
            r->ndense, r->nsteps, r->best_epoch);
    tprintf(&t, "  \"final_test_acc\": ");
    tjson_num(&t, r->final_test_acc);
    tprintf(&t, ",\n  \"final_test_loss\": ");
    tjson_num(&t, r->final_test_loss);
    tprintf(&t, ",\n  \"seconds\": ");
    tjson_num(&t, r->seconds);
    tprintf(&t, ",\n  \"wall_seconds\": ");
    tjson_num(&t, r->wall_seconds);
    tprintf(&t, ",\n  \"epochs\": [");
    for (size_t k = 0; k < r->nepochs; k++) {
        const bp_epoch_stats *s = &r->epochs[k];
        tprintf(&t, "%s\n    {\"epoch\": %llu", k ? "," : "",
                (unsigned long long)s->epoch);
        for (size_t j = 0; j < NEPOCH_FIELDS; j++) {
            tprintf(&t, ", \"%s\": ", epoch_fields[j].key);
            tjson_num(&t, *(const double *)((const char *)s + epoch_fields[j].off));
        }
        tprintf(&t, ",\n     \"grad_norm\": [");
        for (size_t l = 0; l < r->ndense; l++) {
            tprintf(&t, l ? ", " : "");
            tjson_num(&t, s->grad_norm[l]);
        }
        tprintf(&t, "], \"step_norm\": [");
        for (size_t j = 0; j < r->nsteps && s->step_norm; j++) {
            tprintf(&t, j ? ", " : "");
            tjson_num(&t, s->step_norm[j]);
        }
        tprintf(&t, "]}");
    }
    tprintf(&t, "\n  ]");
    if (r->nact) {
        tprintf(&t, ",\n  \"units\": {\"nact\": %zu, \"saturated\": [",
                r->nact);
        for (size_t k = 0; k < r->nepochs * r->nact; k++) {
            tprintf(&t, k ? ", " : "");
            tjson_num(&t, r->saturated[k]);
        }
        tprintf(&t, "],\n            \"dead\": [");
        for (size_t k = 0; k < r->nepochs * r->nact; k++) {
            tprintf(&t, k ? ", " : "");
            tjson_num(&t, r->dead[k]);
        }
        tprintf(&t, "],\n            \"deriv\": [");
        for (size_t k = 0; k < r->nepochs * r->nact; k++) {
            tprintf(&t, k ? ", " : "");
            tjson_num(&t, r->deriv[k]);
        }
        tprintf(&t, "]}");
    }
    if (e->variants[r->variant].trace_steps) {
        tprintf(&t, ",\n  \"trace\": {\"grad_norm\": [");
        for (size_t k = 0; k < r->ntrace; k++) {
            tprintf(&t, k ? ", " : "");
            tjson_num(&t, r->trace_grad[k]);
        }
        tprintf(&t, "],\n            \"loss\": [");
        for (size_t k = 0; k < r->ntrace; k++) {
            tprintf(&t, k ? ", " : "");
            tjson_num(&t, r->trace_loss[k]);
        }
        tprintf(&t, "]}");
    }
    tprintf(&t, "\n}\n");
    return save_record(e, i, "json", &t);
}

static void free_run(exp_run *r)
{
    bp_free(r->epochs);
    bp_free(r->step_norms);
    bp_free(r->trace_grad);
    bp_free(r->trace_loss);
    bp_free(r->saturated);
    bp_free(r->dead);
    bp_free(r->deriv);
    r->saturated = r->dead = r->deriv = NULL;
    r->nact = 0;
    r->epochs = NULL;
    r->step_norms = NULL;
    r->trace_grad = r->trace_loss = NULL;
    r->ntrace = 0;
}

typedef enum {
    REC_MISSING,  /* not trained (or its record unreadable: said why) */
    REC_FINISHED, /* trained or diverged: a result */
    REC_FAILED,   /* it ran and failed: train it again */
    REC_OTHER     /* a record of other options: refuse to mix it in */
} rec_state;

/* Read runs/<id>.json into e->runs[i] (with `keep`; else only its state). */
static rec_state load_run(experiment *e, size_t i, bool keep)
{
    exp_run *r = &e->runs[i];
    free_run(r);
    memset(r, 0, sizeof *r);
    r->variant = i / e->nseeds;
    r->seed = e->seed_of[i % e->nseeds];
    char path[1200], msg[128];
    if (!run_file(e, i, "json", path, sizeof path))
        return REC_MISSING;
    FILE *f = fopen(path, "rb");
    if (!f)
        return REC_MISSING;
    text t = {0};
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        tappend(&t, buf, got);
    bool rd = !ferror(f) && !t.oom;
    fclose(f);
    js_val doc;
    if (!rd || !js_parse(t.p ? t.p : "", t.used, &doc, msg, sizeof msg)) {
        fprintf(stderr, "%s: warning: %s: %s; the run counts as missing\n",
                e->prog, path, rd ? msg : "cannot read");
        bp_free(t.p);
        return REC_MISSING;
    }
    bp_free(t.p);
    char cmd[4096];
    const char *status = js_str(&doc, "status", "");
    rec_state st = strcmp(status, "done") == 0 || strcmp(status, "diverged") == 0
                       ? REC_FINISHED
                       : REC_FAILED;
    if (!run_cmd(e, i, cmd, sizeof cmd) ||
        strcmp(js_str(&doc, "command", ""), cmd) != 0) {
        fprintf(stderr, "%s: error: %s records a run of other options (%s), "
                        "not %s: another grid wrote this folder; use another "
                        "--out, or --force to start afresh\n",
                e->prog, path, js_str(&doc, "command", "none"), cmd);
        js_free(&doc);
        return REC_OTHER;
    }
    if (keep && st == REC_FAILED) {
        /* not a result: the report names its fault, its epochs stay out
         * of every mean */
        snprintf(r->fault, sizeof r->fault, "%s", js_str(&doc, "fault", ""));
    } else if (keep) {
        const js_val *ep = js_get(&doc, "epochs");
        double nd = js_num(&doc, "ndense"), ns = js_num(&doc, "nsteps");
        size_t n = ep && ep->type == JS_ARR ? ep->n : 0;
        bool shape = nd >= 0 && nd <= BP_MAX_DENSE && ns >= 0 && ns <= 1e6;
        r->ndense = shape ? (size_t)nd : 0;
        r->nsteps = shape ? (size_t)ns : 0;
        r->epochs = n ? bp_alloc(n * sizeof *r->epochs) : NULL;
        r->step_norms = n && r->nsteps
                            ? bp_alloc(bp_mul_size(n, r->nsteps * sizeof(double)))
                            : NULL;
        if (!shape || (n && !r->epochs) || (n && r->nsteps && !r->step_norms)) {
            fprintf(stderr, "%s: warning: %s: %s; the run counts as missing\n",
                    e->prog, path, shape ? "out of memory" : "bad layer counts");
            free_run(r);
            js_free(&doc);
            return REC_MISSING;
        }
        for (size_t k = 0; k < n; k++) {
            const js_val *x = &ep->items[k];
            bp_epoch_stats *s = &r->epochs[k];
            memset(s, 0, sizeof *s);
            double epoch = js_num(x, "epoch");
            s->epoch = isfinite(epoch) && epoch >= 0 ? (uint64_t)epoch : 0;
            for (size_t j = 0; j < NEPOCH_FIELDS; j++)
                *(double *)((char *)s + epoch_fields[j].off) =
                    js_num(x, epoch_fields[j].key);
            const js_val *g = js_get(x, "grad_norm"), *h = js_get(x, "step_norm");
            for (size_t l = 0; l < r->ndense; l++)
                s->grad_norm[l] = g && g->type == JS_ARR && l < g->n &&
                                          g->items[l].type == JS_NUM
                                      ? g->items[l].num
                                      : NAN;
            if (r->nsteps) {
                double *d = r->step_norms + k * r->nsteps;
                for (size_t j = 0; j < r->nsteps; j++)
                    d[j] = h && h->type == JS_ARR && j < h->n &&
                                   h->items[j].type == JS_NUM
                               ? h->items[j].num
                               : NAN;
                s->step_norm = d;
            }
        }
        r->nepochs = n;
        const js_val *tr = js_get(&doc, "trace");
        const js_val *tg = tr ? js_get(tr, "grad_norm") : NULL;
        const js_val *tl = tr ? js_get(tr, "loss") : NULL;
        size_t nt = tg && tg->type == JS_ARR && tl && tl->type == JS_ARR
                        ? (tg->n < tl->n ? tg->n : tl->n)
                        : 0;
        if (nt > e->variants[r->variant].trace_steps)
            nt = e->variants[r->variant].trace_steps;
        if (nt) {
            r->trace_grad = bp_alloc(nt * sizeof(double));
            r->trace_loss = bp_alloc(nt * sizeof(double));
            if (!r->trace_grad || !r->trace_loss) {
                fprintf(stderr, "%s: warning: %s: out of memory; the run "
                                "counts as missing\n", e->prog, path);
                free_run(r);
                js_free(&doc);
                return REC_MISSING;
            }
            for (size_t k = 0; k < nt; k++) {
                r->trace_grad[k] = tg->items[k].type == JS_NUM
                                       ? tg->items[k].num : NAN;
                r->trace_loss[k] = tl->items[k].type == JS_NUM
                                       ? tl->items[k].num : NAN;
            }
            r->ntrace = nt;
        }
        const js_val *un = js_get(&doc, "units");
        const js_val *us = un ? js_get(un, "saturated") : NULL;
        const js_val *ud = un ? js_get(un, "dead") : NULL;
        const js_val *uv = un ? js_get(un, "deriv") : NULL;
        double na = un ? js_num(un, "nact") : 0;
        if (e->variants[r->variant].probe_units && n && na >= 1 &&
            na <= BP_MAX_LAYERS && us && us->type == JS_ARR && ud &&
            ud->type == JS_ARR && uv && uv->type == JS_ARR) {
            size_t nact = (size_t)na;
            r->saturated = bp_alloc(bp_mul_size(n * nact, sizeof(double)));
            r->dead = bp_alloc(bp_mul_size(n * nact, sizeof(double)));
            r->deriv = bp_alloc(bp_mul_size(n * nact, sizeof(double)));
            if (!r->saturated || !r->dead || !r->deriv) {
                fprintf(stderr, "%s: warning: %s: out of memory; the run "
                                "counts as missing\n", e->prog, path);
                free_run(r);
                js_free(&doc);
                return REC_MISSING;
            }
            for (size_t k = 0; k < n * nact; k++) {
                r->saturated[k] = k < us->n && us->items[k].type == JS_NUM
                                      ? us->items[k].num : NAN;
                r->dead[k] = k < ud->n && ud->items[k].type == JS_NUM
                                 ? ud->items[k].num : NAN;
                r->deriv[k] = k < uv->n && uv->items[k].type == JS_NUM
                                  ? uv->items[k].num : NAN;
            }
            r->nact = nact;
        }
        r->done = strcmp(status, "done") == 0;
        r->diverged = strcmp(status, "diverged") == 0;
        snprintf(r->fault, sizeof r->fault, "%s", js_str(&doc, "fault", ""));
        double best = js_num(&doc, "best_epoch");
        r->best_epoch = isfinite(best) && best >= 0 ? (size_t)best : 0;
        r->final_test_acc = js_num(&doc, "final_test_acc");
        r->final_test_loss = js_num(&doc, "final_test_loss");
        r->seconds = js_num(&doc, "seconds");
        r->wall_seconds = js_num(&doc, "wall_seconds");
        snprintf(r->isa, sizeof r->isa, "%s", js_str(&doc, "isa", ""));
        double th = js_num(&doc, "threads");
        r->threads = isfinite(th) && th >= 0 && th < 1e6 ? (int)th : 0;
        snprintf(r->host, sizeof r->host, "%s", js_str(&doc, "host", ""));
        const js_val *data = js_get(&doc, "data");
        if (!e->data_source[0] && data) {
            snprintf(e->data_source, sizeof e->data_source, "%s",
                     js_str(data, "source", ""));
            e->data_checksum =
                (uint32_t)strtoul(js_str(data, "crc32", "0"), NULL, 16);
        }
    }
    js_free(&doc);
    return st;
}

/* Train run i in this process and record it; 0, or an exit code. */
static int train_unit(experiment *e, size_t i, size_t index, size_t total)
{
    bp_err err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bp_status st = run_one(e, i, index, total, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    exp_run *r = &e->runs[i];
    r->wall_seconds = (double)(t1.tv_sec - t0.tv_sec) +
                      1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (isatty(2))
        fprintf(stderr, "\r%*s\r", 100, "");
    int rc = 0;
    if (st != BP_OK)
        fprintf(stderr, "%s: %s: %s\n", e->prog, e->ids[i], err.msg);
    if (st == BP_ERR_INTERRUPTED || err.code == BP_ERR_INTERRUPTED)
        rc = 130; /* not a result: nothing recorded */
    else if (!save_run(e, i))
        rc = 1;
    else
        rc = st == BP_OK ? 0 : 1;
    if (rc == 130)
        fprintf(stderr, "%s: %s: interrupted after %.1f s, not recorded\n",
                e->prog, e->ids[i], r->wall_seconds);
    else if (!isatty(2) || e->run)
        fprintf(stderr, "%s: %s: %s in %.1f s, final test accuracy %.4f\n",
                e->prog, e->ids[i], run_status(r), r->wall_seconds,
                r->final_test_acc);
    free_run(r);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* The local pool                                                          */

typedef struct job {
    pid_t pid;
    size_t run;
} job;

/* Start run i in a child of this process, its stderr into runs/<id>.log.
 * The data set it needs is loaded here first, into the harness's cache,
 * so that the children share one copy (copy-on-write) instead of each
 * reading and decoding it again. The pool's process runs no OpenMP region
 * (it loads data and waits), so each child starts its own threads. */
static pid_t fork_run(experiment *e, size_t i)
{
    char log[1200];
    if (!run_file(e, i, "log", log, sizeof log))
        return -1;
    bp_run_opts o;
    bp_err err = {0};
    run_opts(e, i, &o);
    cache_data(e, &o, &err); /* a failure is the run's own, said in its log */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: error: cannot start a run: %s\n", e->prog,
                strerror(errno));
        return -1;
    }
    if (pid > 0)
        return pid;
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int nul = open("/dev/null", O_WRONLY);
    if (fd < 0 || nul < 0 || dup2(fd, 2) < 0 || dup2(nul, 1) < 0)
        _exit(1);
    close(fd);
    close(nul);
    e->run = e->ids[i]; /* what --run ID would do */
    int rc = train_unit(e, i, 1, 1);
    bp_data_free(&cache);
    fflush(NULL);
    _exit(rc);
}

/* A run's work, roughly, for ordering a pool: samples an epoch times
 * epochs (a whole data set counts as more than any subset of it). */
static double run_cost(const experiment *e, size_t i)
{
    bp_run_opts o;
    run_opts(e, i, &o);
    double samples = o.limit_train > 0   ? (double)o.limit_train
                     : o.gen_samples > 0 ? (double)o.gen_samples
                                         : 1e12;
    return samples * (double)o.epochs;
}

/* The last line of a run's log, for the one line that says it failed. */
static void log_tail(const experiment *e, size_t i, char *buf, size_t size)
{
    char path[1200], line[512];
    buf[0] = '\0';
    if (!run_file(e, i, "log", path, sizeof path))
        return;
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (line[0] != '\n')
            snprintf(buf, size, "%s", line);
    if (f)
        fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

/* Train the runs todo[0..n) in up to e->jobs processes at once (the
 * report reads what they recorded). */
static void pool(experiment *e, const size_t *todo, size_t n)
{
    int jobs = e->serial ? 1 : (int)e->jobs;
    if (e->serial && e->jobs > 1)
        fprintf(stderr, "%s: the runs' timings are this experiment's results: "
                        "one run at a time\n", e->prog);
    job live[256];
    int nlive = 0;
    size_t next = 0, finished = 0;
    while (next < n || nlive) {
        while (!stop_requested && nlive < jobs && next < n) {
            pid_t pid = fork_run(e, todo[next]);
            if (pid < 0) {
                next = n;
                break;
            }
            live[nlive++] = (job){pid, todo[next++]};
        }
        if (!nlive)
            break;
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) {
                if (stop_requested)
                    for (int j = 0; j < nlive; j++)
                        kill(live[j].pid, SIGINT);
                continue;
            }
            break;
        }
        int j = 0;
        while (j < nlive && live[j].pid != pid)
            j++;
        if (j == nlive)
            continue;
        size_t i = live[j].run;
        live[j] = live[--nlive];
        finished++;
        char path[1200], tail[512];
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            rec_state st = load_run(e, i, true);
            const exp_run *r = &e->runs[i];
            fprintf(stderr, "[%zu/%zu] %s: %s, test acc %.4f, %.0f s\n",
                    finished, n, e->ids[i],
                    st == REC_FINISHED ? run_status(r) : "no record",
                    r->final_test_acc, r->wall_seconds);
            free_run(&e->runs[i]);
            if (run_file(e, i, "log", path, sizeof path))
                unlink(path);
        } else {
            log_tail(e, i, tail, sizeof tail);
            fprintf(stderr, "[%zu/%zu] %s: %s (exit %d): %s (runs/%s.log)\n",
                    finished, n, e->ids[i],
                    stop_requested ? "interrupted" : "FAILED",
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                    tail, e->ids[i]);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* The modes                                                               */

/* Load every run; false if a record of other options is in the folder. */
static bool load_all(experiment *e, bool *complete)
{
    bool ok = true;
    e->nmissing = 0;
    *complete = true;
    for (size_t i = 0; i < e->nvariants * e->nseeds; i++) {
        rec_state st = load_run(e, i, true);
        ok = ok && st != REC_OTHER;
        *complete = *complete && st == REC_FINISHED;
        e->nmissing += st != REC_FINISHED;
    }
    return ok;
}

/* From the runs with a record: their own time summed, the hosts they ran
 * on, and the threads of those whose variant does not set its own (0:
 * they differ). */
static void runs_summary(experiment *e)
{
    size_t n = e->nvariants * e->nseeds, used = 0;
    int threads = -1;
    e->hosts[0] = '\0';
    e->run_seconds = 0;
    for (size_t i = 0; i < n; i++) {
        const exp_run *r = &e->runs[i];
        if (!r->nepochs && !r->fault[0])
            continue;
        if (isfinite(r->wall_seconds))
            e->run_seconds += r->wall_seconds;
        if (!e->variants[r->variant].threads)
            threads = threads == -1 || threads == r->threads ? r->threads : 0;
        bool seen = !r->host[0];
        for (size_t j = 0; j < i && !seen; j++)
            seen = (e->runs[j].nepochs || e->runs[j].fault[0]) &&
                   strcmp(e->runs[j].host, r->host) == 0;
        if (!seen && used + strlen(r->host) + 2 < sizeof e->hosts)
            used += (size_t)snprintf(e->hosts + used, sizeof e->hosts - used,
                                     "%s%s", used ? "," : "", r->host);
    }
    if (threads >= 0)
        e->run_threads = threads;
}

static int report(experiment *e, double wall)
{
    bool complete;
    bool ok_records = load_all(e, &complete);
    if (ok_records && e->nmissing == e->nvariants * e->nseeds) {
        /* nothing to report: never replace a report with an empty one */
        fprintf(stderr, "%s: error: %s/runs holds no finished run of this "
                        "grid: nothing to report\n", e->prog, e->out);
        return 1;
    }
    if (!ok_records) {
        for (size_t i = 0; i < e->nvariants * e->nseeds; i++)
            free_run(&e->runs[i]);
        return 2;
    }
    runs_summary(e);
    e->wall_seconds = wall > 0 ? wall : e->run_seconds;
    if (stop_requested)
        complete = false;
    bool ok = write_metrics(e);
    write_summary(e, complete);
    write_headline(e, complete);
    write_provenance(e, complete);
    if (wall > 0)
        fprintf(stderr, "%s: %s in %.0f s: %s/summary.md\n", e->prog,
                complete ? "done" : "INCOMPLETE", e->wall_seconds, e->out);
    else
        fprintf(stderr, "%s: report%s of %zu runs (their own time: %.0f s): "
                        "%s/summary.md\n", e->prog,
                complete ? "" : " (INCOMPLETE)",
                e->nvariants * e->nseeds - e->nmissing, e->run_seconds, e->out);
    for (size_t i = 0; i < e->nvariants * e->nseeds; i++)
        free_run(&e->runs[i]);
    return complete && ok && !plot_failed ? 0 : 1;
}

/* --run ID|N: the index of the run it names, or -1 (said why). */
static long find_run(const experiment *e, const char *what)
{
    size_t n = e->nvariants * e->nseeds;
    for (size_t i = 0; i < n; i++)
        if (strcmp(e->ids[i], what) == 0)
            return (long)i;
    char *end;
    errno = 0;
    unsigned long k = strtoul(what, &end, 10);
    if (*what >= '0' && *what <= '9' && !*end && !errno) {
        if (k < n)
            return (long)k;
        fprintf(stderr, "%s: error: --run %s: the grid has %zu runs "
                        "(0 to %zu)\n", e->prog, what, n, n - 1);
        return -1;
    }
    fprintf(stderr, "%s: error: --run %s: no run has this id (--list shows "
                    "them)\n", e->prog, what);
    return -1;
}

/* Remove the files of folder `dir` that `pick` selects; false (after a
 * message) if one cannot be removed. */
static bool remove_files(const experiment *e, const char *dir,
                         bool (*pick)(const char *name))
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT;
    struct dirent *de;
    bool ok = true;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !pick(de->d_name))
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (unlink(path) != 0) {
            fprintf(stderr, "%s: error: %s: cannot remove: %s\n", e->prog,
                    path, strerror(errno));
            ok = false;
        }
    }
    closedir(d);
    return ok;
}

static bool ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* the records, the pool's logs, and what a killed writer left
 * (core/outfile.h: <name>.tmp.XXXXXX) */
static bool is_record(const char *name)
{
    return ends(name, ".json") || ends(name, ".csv") || ends(name, ".log") ||
           strstr(name, ".tmp.") != NULL;
}

/* a plot with its data and script (exp_plot) */
static bool is_plot(const char *name)
{
    return ends(name, ".png") || ends(name, ".png.dat") ||
           ends(name, ".png.gp");
}

/* --force: the folder's run records go, and its plots (a program whose
 * plots changed leaves no stale one behind); the report rewrites the
 * rest, and nothing else of the folder is touched. */
static bool clear_runs(const experiment *e)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/runs", e->out);
    bool records = remove_files(e, dir, is_record);
    bool plots = remove_files(e, e->out, is_plot);
    return records && plots;
}

int exp_run_all(experiment *e)
{
    static char outbuf[512];
    if (!e->out) {
        snprintf(outbuf, sizeof outbuf, "results/%s%s", e->quick ? "quick/" : "",
                 e->name);
        e->out = outbuf;
    }
    if (!make_ids(e))
        return 2;
    size_t total = e->nvariants * e->nseeds;
    char probe[1200];
    struct stat st;
    if (e->list) {
        int rc = 0;
        for (size_t i = 0; i < total; i++) {
            char cmd[4096];
            rec_state s = e->pending ? load_run(e, i, false) : REC_MISSING;
            if (s == REC_OTHER)
                rc = 2;
            if (s == REC_FINISHED || s == REC_OTHER)
                continue;
            if (!run_cmd(e, i, cmd, sizeof cmd))
                snprintf(cmd, sizeof cmd, "(options too long)");
            printf("%s\t%s\n", e->ids[i], cmd);
        }
        return fflush(stdout) == 0 ? rc : 1;
    }
    if (e->report_only)
        return report(e, 0);
    /* a folder of results without a runs/ folder is from before runs were
     * kept, or not a grid's: replaced on --force only */
    snprintf(probe, sizeof probe, "%s/runs", e->out);
    bool have_runs = stat(probe, &st) == 0 && S_ISDIR(st.st_mode);
    if (!e->run && !e->force && !have_runs &&
        path_join(probe, sizeof probe, e->out, "metrics.csv") &&
        stat(probe, &st) == 0) {
        fprintf(stderr, "%s: error: %s already holds results (use --force to "
                        "replace them)\n",
                e->prog, e->out);
        return 2;
    }
    long i = e->run ? find_run(e, e->run) : 0;
    if (i < 0)
        return 2;
    snprintf(probe, sizeof probe, "%s/runs", e->out);
    if (!make_dirs(probe)) {
        fprintf(stderr, "%s: error: %s: cannot create: %s\n", e->prog, probe,
                strerror(errno));
        return 1;
    }
    if (e->run) {
        rec_state s = load_run(e, (size_t)i, false);
        if (s == REC_OTHER)
            return 2;
        if (s == REC_FINISHED) {
            fprintf(stderr, "%s: %s: already finished\n", e->prog, e->ids[i]);
            return 0;
        }
        struct sigaction sa = {0}, old;
        sa.sa_handler = on_sigint;
        sigaction(SIGINT, &sa, &old);
        int rc = train_unit(e, (size_t)i, 1, 1);
        sigaction(SIGINT, &old, NULL);
        bp_data_free(&cache);
        cache_ok = false;
        return rc;
    }
    if (e->force && !clear_runs(e))
        return 1;
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    static size_t todo[EXP_MAX_RUNS];
    size_t ntodo = 0;
    for (size_t i = 0; i < total; i++) {
        rec_state s = load_run(e, i, false);
        if (s == REC_OTHER) {
            sigaction(SIGINT, &old, NULL);
            return 2;
        }
        if (s != REC_FINISHED)
            todo[ntodo++] = i;
    }
    fprintf(stderr, "%s: %zu variants x %u seeds -> %s (%zu to train%s)\n",
            e->prog, e->nvariants, e->nseeds, e->out, ntodo,
            e->jobs > 1 ? ", in a pool" : "");
    if (e->jobs > 1) {
        /* the longest runs first, so that no long one starts last and runs
         * alone while the other CPUs idle; the order changes no result */
        for (size_t a = 1; a < ntodo; a++)
            for (size_t b = a; b > 0 && run_cost(e, todo[b]) > run_cost(e, todo[b - 1]); b--) {
                size_t x = todo[b];
                todo[b] = todo[b - 1];
                todo[b - 1] = x;
            }
        pool(e, todo, ntodo);
    } else {
        for (size_t k = 0; k < ntodo && !stop_requested; k++)
            train_unit(e, todo[k], k + 1, ntodo);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) +
                  1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    sigaction(SIGINT, &old, NULL);
    bp_data_free(&cache);
    cache_ok = false;
    return report(e, wall);
}
