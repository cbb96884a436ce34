/* experiments/harness.c - the shared experiment harness (harness.h). */
#include "experiments/harness.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/checkpoint.h"
#include "core/ctx.h"
#include "core/outfile.h"
#include "core/runtime.h"

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

int exp_init(experiment *e, const char *name, int argc, char **argv)
{
    memset(e, 0, sizeof *e);
    e->name = name;
    e->nseeds = 3;
    long long seeds = 0, threads = 0;
    bool help = false;
    const bp_opt opts[] = {
        {"--quick", BP_ARG_FLAG, &e->quick, 0, 0, NULL, NULL,
         "a few minutes on 2 cores: fewer epochs and seeds, a training subset",
         NULL},
        {"--seeds", BP_ARG_INT, &seeds, 1, EXP_MAX_SEEDS, NULL, "N",
         "seeds per variant (default 3; --quick: 2)", NULL},
        {"--epochs", BP_ARG_INT, &epochs_override, 1, EXP_MAX_EPOCHS, NULL, "N",
         "epochs for every variant (default: the experiment's)", NULL},
        {"--out", BP_ARG_STR, &e->out, 0, 0, NULL, "DIR",
         "results folder (default results/<name>, --quick: results/quick/<name>)",
         NULL},
        {"--force", BP_ARG_FLAG, &e->force, 0, 0, NULL, NULL,
         "replace an existing results folder", NULL},
        {"--isa", BP_ARG_STR, &e->isa, 0, 0, NULL, "NAME",
         "kernel table (default: BPLAB_ISA or the best)", NULL},
        {"--threads", BP_ARG_INT, &threads, 1, 1024, NULL, "N",
         "OpenMP threads (default: all CPUs)", NULL},
    };
    const size_t n = sizeof opts / sizeof *opts;
    bp_err err = {0};
    size_t used = 0;
    for (int i = 0; i < argc && used < sizeof e->cmdline - 1; i++) {
        int w = snprintf(e->cmdline + used, sizeof e->cmdline - used, "%s%s",
                         i ? " " : "", argv[i]);
        if (w > 0)
            used += (size_t)w;
    }
    if (bp_args_parse(argc, argv, 1, opts, n, &help, &err) != BP_OK) {
        fprintf(stderr, "%s: error: %s\n", name, err.msg);
        return 2;
    }
    if (help) {
        printf("usage: %s [options]\n\nRuns the '%s' experiment and writes "
               "results/%s/: metrics.csv,\nsummary.md, PNG plots and "
               "provenance.json.\n\noptions:\n",
               name, name, name);
        bp_args_print_help(stdout, opts, n);
        return -1;
    }
    if (e->quick)
        e->nseeds = 2;
    if (seeds)
        e->nseeds = (unsigned)seeds;
    e->threads = (int)threads;
    /* what --isa (else BPLAB_ISA) and --threads give, refused now if they
     * cannot work; each run makes its own context (bp_run_build) */
    bp_ctx *ctx;
    if (bp_ctx_create(e->isa, "--isa", threads, &ctx, &err) != BP_OK) {
        fprintf(stderr, "%s: error: %s\n", name, err.msg);
        return 2;
    }
    e->isa_name = ctx->k->isa_name;
    e->run_threads = ctx->threads;
    bp_ctx_destroy(ctx);
    return 0;
}

exp_variant *exp_add(experiment *e, const char *name)
{
    if (e->nvariants >= EXP_MAX_VARIANTS) {
        fprintf(stderr, "%s: too many variants\n", e->name);
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
    char tmp[1024];
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
        fprintf(stderr, "%s: error: out of memory for metrics.csv\n", e->name);
        return false;
    }
    bp_metrics_header(row, cap, "variant,seed,", nd, ns);
    tprintf(&t, "%s", row);
    for (size_t i = 0; i < e->nvariants * e->nseeds; i++) {
        const exp_run *r = &e->runs[i];
        char lead[96];
        snprintf(lead, sizeof lead, "%s,%u,", e->variants[r->variant].name,
                 r->seed);
        for (size_t k = 0; k < r->nepochs; k++) {
            bp_metrics_row(row, cap, lead, &r->epochs[k], nd, ns, r->ndense,
                           r->nsteps);
            tprintf(&t, "%s", row);
        }
    }
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

size_t exp_stats(const experiment *e, size_t v, exp_metric_fn *f,
                 double *mean, double *sd, double *ci)
{
    double x[EXP_MAX_SEEDS];
    size_t n = 0;
    for (size_t s = 0; s < e->nseeds; s++) {
        const exp_run *r = exp_get(e, v, s);
        if (!r->nepochs)
            continue;
        double val = f(r);
        if (isfinite(val))
            x[n++] = val;
    }
    double m = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m = n ? m / (double)n : NAN;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    *mean = m;
    *sd = n > 1 ? sqrt(ss / (double)(n - 1)) : (n ? 0.0 : NAN);
    *ci = n > 1 ? t975(n - 1) * *sd / sqrt((double)n) : NAN;
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

/* ---------------------------------------------------------------------- */
/* Plots                                                                   */

/* per epoch, the mean over the seeds that recorded it of one field */
static size_t series_mean(const experiment *e, size_t v, double *x,
                          double *y, size_t cap, bool loss)
{
    size_t n = 0;
    for (size_t k = 0; k < cap; k++) {
        double s = 0;
        size_t c = 0;
        for (size_t j = 0; j < e->nseeds; j++) {
            const exp_run *r = exp_get(e, v, j);
            if (k < r->nepochs)
                s += loss ? r->epochs[k].test_loss : r->epochs[k].test_acc, c++;
        }
        if (!c)
            break;
        x[n] = (double)(k + 1);
        y[n++] = s / (double)c;
    }
    return n;
}

size_t exp_series_test_acc(const experiment *e, size_t v, double *x,
                           double *y, size_t cap)
{
    return series_mean(e, v, x, y, cap, false);
}

size_t exp_series_test_loss(const experiment *e, size_t v, double *x,
                            double *y, size_t cap)
{
    return series_mean(e, v, x, y, cap, true);
}

/* Write <png>.gp for the data blocks in `dat` and run gnuplot on it. */
static bool draw(const experiment *e, const char *png, const char *title,
                 const char *xlabel, const char *ylabel, unsigned scale,
                 text *dat, char (*names)[48], size_t blocks)
{
    text gp = {0};
    char datname[128];
    snprintf(datname, sizeof datname, "%.100s.dat", png);
    if (!blocks) {
        bp_free(dat->p);
        return true;
    }
    /* the script kept beside the plot names the plot; the one gnuplot
     * runs draws into a private folder, and the PNG is then written by
     * the rules of every other file (core/outfile.h) */
    tprintf(&gp,
            "set terminal pngcairo size 960,600 font 'sans,11'\n"
            "set output '%s/%s'\n",
            e->out, png);
    size_t body = gp.used;
    tprintf(&gp,
            "set title '%s'\nset xlabel '%s'\nset ylabel '%s'\n"
            "set grid\nset key outside right\n",
            title, xlabel, ylabel);
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
    for (size_t b = 0; b < blocks; b++)
        tprintf(&gp, "'%s/%s' index %zu using 1:2 with linespoints title '%s'%s",
                e->out, datname, b, names[b], b + 1 < blocks ? ", \\\n     " : "\n");
    char gpname[160];
    snprintf(gpname, sizeof gpname, "%.100s.gp", png);
    const char *tmpdir = getenv("TMPDIR");
    char work[512];
    snprintf(work, sizeof work, "%s/bplab-plot.XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(work)) {
        fprintf(stderr, "%s: error: %s: cannot create: %s\n", e->name, work,
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
        fprintf(stderr, "%s: cannot run gnuplot\n", e->name);
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
                e->name, png);
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
        fprintf(stderr, "%s: gnuplot drew no %s\n", e->name, png);
        bp_free(img.p);
        return false;
    }
    return text_save(&img, e->out, png);
}

bool exp_plot(const experiment *e, const char *png, const char *title,
              const char *xlabel, const char *ylabel, unsigned scale,
              exp_series_fn *series, const bool *which)
{
    text dat = {0};
    static double x[EXP_MAX_EPOCHS], y[EXP_MAX_EPOCHS];
    static char names[EXP_MAX_VARIANTS][48];
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
    static char names[1][48];
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
    static char kept[EXP_MAX_VARIANTS][48];
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
} cb_ctx;

static void on_epoch(void *ctx, const bp_trainer *t, const bp_epoch_stats *s)
{
    (void)t;
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
        r->nepochs++;
    }
    if (isatty(2)) {
        fprintf(stderr, "\r[%zu/%zu] %-24s seed %u  epoch %3llu/%zu  test acc %.4f   ",
                c->index, c->total, c->e->variants[r->variant].name, r->seed,
                (unsigned long long)s->epoch, c->epochs, s->test_acc);
        fflush(stderr);
    }
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

static bp_status run_one(experiment *e, size_t v, unsigned s, size_t index,
                         size_t total, bp_err *err)
{
    exp_variant *var = &e->variants[v];
    exp_run *r = &e->runs[v * e->nseeds + s];
    memset(r, 0, sizeof *r);
    r->variant = v;
    r->seed = s;
    bp_run_opts o = var->o;
    o.seed = s;
    o.isa = var->isa ? var->isa : e->isa;
    o.threads = var->threads ? var->threads : e->threads;
    if (epochs_override)
        o.epochs = epochs_override;
    bp_data_opts dopts;
    bp_net *net = NULL;
    bp_optim *opt = NULL;
    bp_trainer *t = NULL;
    bp_status st;
    /* the variant's table and threads reach the run through o: its
     * context comes from bp_run_build */
    if ((st = bp_run_data_opts(&o, &dopts, err)) != BP_OK)
        goto done;
    if (!cache_ok || !same_data(&dopts, &cache_opts)) {
        bp_data_free(&cache);
        cache_ok = false;
        if ((st = bp_data_load(&dopts, &cache, err)) != BP_OK)
            goto done;
        cache_opts = dopts;
        cache_ok = true;
        e->data_checksum = cache.checksum;
        snprintf(e->data_source, sizeof e->data_source, "%s", cache.source);
    }
    if ((st = bp_run_build(&o, &cache, &net, &opt, &t, err)) != BP_OK)
        goto done;
    size_t ne = (size_t)o.epochs;
    r->epochs = bp_alloc(ne * sizeof *r->epochs);
    if (net->steps)
        r->step_norms = bp_alloc(bp_mul_size(ne, net->steps * sizeof(double)));
    if (!r->epochs ||
        (net->steps && !r->step_norms)) {
        st = bp_fail(err, BP_ERR_NOMEM, "out of memory");
        goto done;
    }
    r->ndense = net->ndense;
    r->nsteps = net->steps;
    cb_ctx c = {e, r, ne, index, total};
    t->on_epoch = on_epoch;
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
    bp_trainer_destroy(t);
    bp_optim_destroy(opt);
    bp_net_destroy(net);
    return st;
}

/* ---------------------------------------------------------------------- */
/* Reports                                                                 */

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
    tprintf(&t, "  \"isa\": \"%s\",\n  \"threads\": %d,\n", e->isa_name,
            e->run_threads);
    tprintf(&t, "  \"compiler\": \"%s\",\n  \"build_type\": \"%s\",\n  \"flags\": \"%s\",\n",
            bp_compiler(), bp_build_type(), bp_c_flags());
    tprintf(&t, "  \"date\": \"%s\",\n", date);
    tprintf(&t, "  \"command\": \"");
    for (const char *c = e->cmdline; *c; c++)
        tprintf(&t, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
    tprintf(&t, "\",\n  \"quick\": %s,\n  \"seeds\": %u,\n",
            e->quick ? "true" : "false", e->nseeds);
    tprintf(&t, "  \"data\": {\"source\": \"%s\", \"crc32\": \"%08x\"},\n",
            e->data_source, e->data_checksum);
    tprintf(&t, "  \"wall_seconds\": %.1f,\n  \"variants\": [\n", e->wall_seconds);
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
            o.seed = sd;
            if (!bp_run_command(&o, cmd, sizeof cmd))
                snprintf(cmd, sizeof cmd, "(options too long)");
            tprintf(&t, "%s\n       \"", sd ? "," : "");
            for (const char *c = cmd; *c; c++)
                tprintf(&t, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
            tprintf(&t, "\"");
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
        fprintf(stderr, "%s: error: out of memory\n", e->name);
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
        fprintf(stderr, "%s: error: %s/%s: %s\n", e->name, e->out, name,
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
        fprintf(md, "> **INCOMPLETE**: the run was interrupted or a run failed; "
                    "the tables cover the runs that finished.\n\n");
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
    fprintf(md, "\n## Provenance\n\n`%s`, bplab %s (commit %s%s), %s, %s, %d "
                "thread%s; data %s (CRC-32 %08x); %.0f s. Details in "
                "provenance.json, every epoch of every run in metrics.csv.\n",
            e->cmdline, bp_version(), bp_git_commit(),
            bp_git_dirty() ? ", modified" : "", bp_cpu()->model,
            e->isa_name, e->run_threads, e->run_threads == 1 ? "" : "s",
            e->data_source, e->data_checksum,
            e->wall_seconds);
    mem_save(e, &m, "summary.md");
}

int exp_run_all(experiment *e)
{
    static char outbuf[512];
    if (!e->out) {
        snprintf(outbuf, sizeof outbuf, "results/%s%s", e->quick ? "quick/" : "",
                 e->name);
        e->out = outbuf;
    }
    struct stat st;
    char probe[1024];
    if (!e->force && path_join(probe, sizeof probe, e->out, "metrics.csv") &&
        stat(probe, &st) == 0) {
        fprintf(stderr, "%s: error: %s already holds results (use --force to "
                        "replace them)\n",
                e->name, e->out);
        return 2;
    }
    if (!make_dirs(e->out)) {
        fprintf(stderr, "%s: error: %s: cannot create: %s\n", e->name, e->out,
                strerror(errno));
        return 1;
    }
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t total = e->nvariants * e->nseeds, index = 0;
    bool complete = true;
    fprintf(stderr, "%s: %zu variants x %u seeds -> %s\n", e->name,
            e->nvariants, e->nseeds, e->out);
    for (size_t v = 0; v < e->nvariants && !stop_requested; v++)
        for (unsigned s = 0; s < e->nseeds && !stop_requested; s++) {
            bp_err err = {0};
            if (run_one(e, v, s, ++index, total, &err) != BP_OK) {
                complete = false;
                fprintf(stderr, "\n%s: %s seed %u: %s\n", e->name,
                        e->variants[v].name, s, err.msg);
                if (err.code != BP_ERR_INTERRUPTED && err.code != BP_OK)
                    continue;
            }
            write_metrics(e);
        }
    if (stop_requested)
        complete = false;
    if (isatty(2))
        fprintf(stderr, "\r%*s\r", 100, "");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    e->wall_seconds = (double)(t1.tv_sec - t0.tv_sec) +
                      1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    sigaction(SIGINT, &old, NULL);
    bool ok = write_metrics(e);
    write_summary(e, complete);
    write_headline(e, complete);
    write_provenance(e, complete);
    fprintf(stderr, "%s: %s in %.0f s: %s/summary.md\n", e->name,
            complete ? "done" : "INCOMPLETE", e->wall_seconds, e->out);
    for (size_t i = 0; i < total; i++) {
        bp_free(e->runs[i].epochs);
        bp_free(e->runs[i].step_norms);
    }
    bp_data_free(&cache);
    cache_ok = false;
    return complete && ok && !plot_failed ? 0 : 1;
}
