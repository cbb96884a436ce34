/* experiments/harness.h - the shared harness of the experiment programs.
 *
 * An experiment is a grid of runs: a list of variants (full bplab_run
 * option sets) times a list of seeds, trained through the library (not the
 * command line). Each run is a unit with a stable id (<variant>.seed<N>,
 * the variant's name with characters outside [A-Za-z0-9._=+-] made '_'):
 *   --list      one line per run: its id, a tab, the `bplab train` command
 *               that reproduces it (--pending: only runs not yet complete);
 *   --run ID    train one run (ID, or N: the N-th line of --list, from 0)
 *               and write runs/<id>.csv (its rows of metrics.csv) and
 *               runs/<id>.json (every number exactly, the status, where and
 *               how it ran) into the results folder, each atomically, the
 *               JSON last: it is the mark of a finished run. A run already
 *               finished (trained, or diverged: a result too) is skipped.
 *   --report    metrics.csv, summary.md, plots, headline.md and
 *               provenance.json from whatever runs are on disk, marked
 *               INCOMPLETE while some are missing;
 *   --jobs N    a local pool: N runs at once, each in a child process
 *               (what --run does) with --threads T (default: CPUs / N),
 *               sharing the data set loaded once; then the report.
 * With none of these the program trains its missing runs in-process and
 * reports: an interrupted experiment resumes where it stopped, and a run's
 * bits do not depend on where it ran (same seed and ISA give the same
 * bits at any thread count), so a Slurm array or GNU parallel can execute
 * the runs (tools/sweep-slurm.sh, tools/sweep-parallel.sh).
 * The report:
 *   - metrics.csv: one row per variant, seed and epoch, with variant, seed,
 *     epoch and the measured values;
 *   - aggregates the final epoch of each variant into mean, standard
 *     deviation and a 95% interval (Student's t) over seeds;
 *   - summary.md: the question, why these settings, the table, and
 *     verdict sentences computed from the numbers (never written by hand);
 *   - PNG plots with gnuplot (labelled axes, legends);
 *   - provenance.json: git commit and dirty flag, CPU, ISA, threads, hosts,
 *     compiler and flags, date, the exact command line, the data checksum.
 * Options every program takes: --quick (a few minutes on 2 cores), --seeds,
 * --epochs, --out, --isa, --threads, --force (start the results folder
 * afresh) and the five above. SIGINT stops after the current run(s); what
 * finished is kept and the report marked incomplete, as is a run that
 * fails.
 */
#ifndef BPLAB_HARNESS_H
#define BPLAB_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/args.h"
#include "core/run.h"

#define EXP_MAX_VARIANTS 32
#define EXP_MAX_SEEDS 32
#define EXP_MAX_RUNS (EXP_MAX_VARIANTS * EXP_MAX_SEEDS)
#define EXP_NAME_MAX 64 /* a variant's name, with its NUL */
#define EXP_ID_MAX 96
#define EXP_MAX_EPOCHS 1000
#define EXP_PROBE 1000 /* training images the unit probe looks at */

/* What one run left behind. */
typedef struct exp_run {
    size_t variant;
    unsigned seed;
    bool done;        /* trained to the end (possibly stopped early) */
    bool diverged;    /* stopped on a non-finite loss or gradient */
    char fault[256];  /* why it stopped, if it did */
    size_t nepochs;   /* epochs recorded */
    bp_epoch_stats *epochs;
    size_t ndense;
    size_t nsteps;       /* recurrent nets: time steps (epochs[k].step_norm) */
    double *step_norms;  /* nepochs x nsteps: where epochs[k].step_norm point */
    size_t best_epoch;   /* early stopping: the restored epoch (else 0) */
    /* the first steps, when the variant traces them (trace_steps): each
     * optimizer step's global gradient norm (before clipping) and batch
     * loss; a run that diverges ends its trace at the last good step */
    size_t ntrace;
    double *trace_grad, *trace_loss;
    /* after each epoch, when the variant probes its units (probe_units):
     * per activation layer (nact of them, in network order) the share of
     * its outputs that are saturated and of its units that are dead over
     * the first EXP_PROBE training images, in inference mode. Saturated:
     * the activation's derivative is below 5% of its largest (ReLU: the
     * output is 0; sigmoid: y(1 - y) < 0.0125; tanh: 1 - y^2 < 0.05);
     * dead: saturated on every one of those images; deriv: the mean of
     * the activation's derivative over those outputs (the factor the
     * layer multiplies the backward signal by, on average). */
    size_t nact;
    double *saturated, *dead, *deriv; /* nepochs x nact */
    double final_test_acc, final_test_loss; /* the model the run ended with */
    double seconds;      /* total training time */
    /* where and how it ran (runs/<id>.json) */
    double wall_seconds; /* its process's time for it: data, train, eval */
    char isa[16];
    int threads;
    char host[64];
} exp_run;

typedef struct exp_variant {
    char name[EXP_NAME_MAX];
    bp_run_opts o;       /* everything but the seed */
    int threads;         /* 0: the program's --threads */
    const char *isa;     /* NULL: the program's --isa */
    size_t trace_steps;  /* record the first this many steps (exp_run's
                            trace); 0: none */
    bool probe_units;    /* record exp_run's saturated and dead shares */
} exp_variant;

typedef struct experiment experiment;

/* Pascanu et al.'s rule for clipping thresholds, from the norms observed
 * in a stable run: train o (seed 0) for `epochs` epochs, unclipped, and
 * give the mean over its steps of the global gradient norm (*norm) and
 * the network's parameter count (*params); a clip-value threshold is then
 * the root-mean-square component, *norm / sqrt(*params). */
bp_status exp_observed_grad_norm(const bp_run_opts *o, size_t epochs,
                                 double *norm, double *params, bp_err *err);

/* Hooks an experiment fills in. */
typedef void exp_report_fn(const experiment *e, FILE *md);

struct experiment {
    const char *name;      /* results/<name>/ */
    const char *prog;      /* what its messages start with (the name) */
    const char *title;
    const char *question;  /* the claim under test, with its reference */
    const char *setting;   /* why these settings show the effect */
    size_t nvariants;
    exp_variant variants[EXP_MAX_VARIANTS];
    /* the run grid: variants x seeds; seed index s trains seed_of[s]
     * (exp_init sets seed_of[s] = s) */
    unsigned nseeds;
    unsigned seed_of[EXP_MAX_SEEDS];
    bool seeds_given; /* --seeds was on the command line */
    bool quick, force, interrupted;
    /* the runs' timings are the results (isa): the pool runs one at a
     * time */
    bool serial;
    /* how this invocation treats the grid (see the top of this file) */
    bool list, pending, report_only;
    const char *run; /* --run ID|N */
    long long jobs;  /* --jobs (0: in-process) */
    long long threads_arg; /* --threads as given (0: not given) */
    const char *out;
    const char *isa;        /* --isa (NULL: BPLAB_ISA or the best) */
    int threads;            /* --threads (0: the OpenMP default) */
    const char *isa_name;   /* the table and threads they give: what a run */
    int run_threads;        /* computes in unless its variant says */
    char cmdline[2048];
    /* results: runs[v * nseeds + s], ids[v * nseeds + s] */
    exp_run runs[EXP_MAX_RUNS];
    char ids[EXP_MAX_RUNS][EXP_ID_MAX];
    uint32_t data_checksum;
    char data_source[256];
    double wall_seconds; /* this invocation's (a report alone: run_seconds) */
    double run_seconds;  /* the runs' own times, summed */
    char hosts[1024];    /* where the runs ran, comma-separated */
    size_t nmissing;     /* runs without a finished record */
    /* the experiment's own sections of summary.md: extra tables and the
     * verdict sentences */
    exp_report_fn *report;
    /* plots (gnuplot), written after the table */
    exp_report_fn *plots;
    /* one line for the results index (results/README.md) */
    exp_report_fn *headline;
};

/* Parse the common options (argv) into e; quick_setup/full_setup are then
 * up to the program. Returns 0 to continue, or an exit code (help, bad
 * option). */
int exp_init(experiment *e, const char *name, int argc, char **argv);

/* For programs with options of their own (bplab sweep): start e for the
 * invocation argv (kept, shell-quoted, as the command line), append the
 * grid machinery's options (--out --force --isa --threads --list --pending
 * --run --report --jobs) bound to e to `t`, and return how many; after
 * parsing, exp_grid_ready checks them and settles the table and threads
 * (0, or an exit code after printing the error). */
void exp_begin(experiment *e, const char *name, int argc, char **argv);
size_t exp_grid_options(experiment *e, bp_opt *t, size_t cap);
int exp_grid_ready(experiment *e);

/* A full run's seeds when --seeds was not given (0 .. n-1; the harness's
 * own default is 3, --quick's 2): a comparison of small effects needs
 * more pairs. --quick and --seeds N keep theirs. */
void exp_default_seeds(experiment *e, unsigned n);

/* A variant starting from the reference workload (bp_run_defaults). */
exp_variant *exp_add(experiment *e, const char *name);

/* Do what the invocation asked (list, one run, the report, or everything:
 * the missing runs, in-process or in a pool, then the report); returns the
 * process exit code. */
int exp_run_all(experiment *e);

/* ---- helpers for reports */

/* Final value of a per-epoch metric for a run (NAN if absent). */
typedef double exp_metric_fn(const exp_run *r);
double exp_final_test_acc(const exp_run *r);
double exp_final_gap(const exp_run *r);     /* train_eval_acc - test_acc */

/* mean, standard deviation, 95% half-width over the seeds of variant v
 * with a record (an epoch, or a traced run that diverged in its first)
 * where f is finite; returns the number of values used. */
size_t exp_stats(const experiment *e, size_t v, exp_metric_fn *f,
                 double *mean, double *sd, double *ci);

/* The final test loss; the best epoch's test accuracy (highest) and
 * test loss (lowest): picked on the test set, so optimistic. */
double exp_final_test_loss(const exp_run *r);
double exp_best_test_acc(const exp_run *r);
double exp_best_test_loss(const exp_run *r);

/* The last epoch's validation accuracy and loss of a run that did not
 * diverge (NAN otherwise, and without a validation set). */
double exp_final_val_acc(const exp_run *r);
double exp_final_val_loss(const exp_run *r);
/* The first epoch (1-based) whose validation accuracy reaches target, in
 * a run that did not diverge; NAN if none did. */
double exp_epoch_reaching(const exp_run *r, double target);
/* How many of variant v's seeds have a finished record (trained to the
 * end or diverged: a run that diverges in its first epoch records no
 * epoch, so nepochs does not count it). */
size_t exp_recorded(const experiment *e, size_t v);
/* A choice among candidates (a learning rate, a strength), made on
 * validation data: of the n variants vs[], the index i whose variant has
 * the highest mean of f among those where every seed has a record and
 * none diverged (a setting that loses seeds is never chosen); the first
 * of equals; n when none qualifies. */
size_t exp_choose(const experiment *e, const size_t *vs, size_t n,
                  exp_metric_fn *f);
/* ---- learning-rate sweeps (lr_range, optimizers): a family of n
 * variants vs[] that differ in one setting, whose values are x[] */
/* The final test accuracy of a run that trained to the end (NAN for a
 * diverged one, whose last weights are not a model). */
double exp_final_test_acc_trained(const exp_run *r);
/* How many of variant v's seeds reached target validation accuracy. */
size_t exp_reached(const experiment *e, size_t v, double target);
/* A setting trains stably when every seed has a record, none diverged
 * and every one reached target validation accuracy within the epochs. */
bool exp_stable(const experiment *e, size_t v, double target);
/* The longest run of consecutive stable settings among vs[0 .. n): its
 * first index in *first, its length returned (0: none). */
size_t exp_stable_run(const experiment *e, const size_t *vs, size_t n,
                      double target, size_t *first);
/* That run as "lr 3e-3 .. 0.1 (1.5 decades)", the settings being the
 * learning rates written in rates[0 .. n), or "none"; in a rotating
 * static buffer. */
const char *exp_stable_range_str(const experiment *e, const size_t *vs,
                                 const char *const *rates, size_t n,
                                 double target);
/* Curves over the family, points (cx[k], cy[k]) for the values with a
 * record; returns the number of points: the mean final validation
 * accuracy over the seeds, a diverged seed counting as `chance` (it ends
 * without a usable model, so it is neither dropped nor a NaN); the mean
 * first epoch reaching target over the seeds that reached it. */
size_t exp_curve_val_acc(const experiment *e, const size_t *vs,
                         const double *x, size_t n, double chance,
                         double *cx, double *cy);
size_t exp_curve_epochs_to(const experiment *e, const size_t *vs,
                           const double *x, size_t n, double target,
                           double *cx, double *cy);
/* Paired over seeds: the differences f(a, s) - f(b, s) for every seed
 * index s where both runs have a record (as exp_stats) and both values
 * are finite; their mean, standard deviation
 * and 95% half-width (Student's t); returns how many pairs. */
size_t exp_paired(const experiment *e, size_t a, size_t b, exp_metric_fn *f,
                  double *mean, double *sd, double *ci);

/* The direction exp_paired finds: +1 when the 95% interval of a - b lies
 * above 0, -1 below it, 0 when it holds 0 or there are too few pairs. */
int exp_paired_sign(const experiment *e, size_t a, size_t b,
                    exp_metric_fn *f);

/* One verdict sentence from exp_paired: the mean difference a - b with
 * its 95% interval, and "a is higher/lower" when the interval excludes 0,
 * else "no difference found". */
void exp_compare_paired(const experiment *e, FILE *md, size_t a, size_t b,
                        exp_metric_fn *f, const char *what, bool higher);

/* How many of variant v's seeds diverged. */
size_t exp_diverged(const experiment *e, size_t v);

/* For a headline: "paired +0.1389 [+0.1346, +0.1432]" from exp_paired
 * (a - b over the seeds), with ", no difference found" when the interval
 * holds 0, or "paired: too few seeds"; in a rotating static buffer. */
const char *exp_paired_str(const experiment *e, size_t a, size_t b,
                           exp_metric_fn *f);

/* For a headline: "; k/n runs diverged" over every variant, or nothing
 * when none did (a diverged run is never dropped without a word). */
void exp_diverged_note(const experiment *e, FILE *f);

/* The run of variant v, seed index s. */
const exp_run *exp_get(const experiment *e, size_t v, size_t s);

/* "0.8712 +- 0.0031" (or "n/a") */
void exp_fmt(char *buf, size_t size, double mean, double sd, size_t n);

/* exp_fmt of f over variant v's seeds, in a rotating static buffer. */
const char *exp_str(const experiment *e, size_t v, exp_metric_fn *f);

/* One verdict sentence comparing variants a and b on f (higher better
 * when `higher`): states the means, the difference, and whether the 95%
 * intervals separate them. */
void exp_compare(const experiment *e, FILE *md, size_t a, size_t b,
                 exp_metric_fn *f, const char *what, bool higher);

/* Index of the variant with the best mean of f. */
size_t exp_best(const experiment *e, exp_metric_fn *f, bool higher);

/* Draw a PNG with gnuplot: one curve per variant (those with which[v],
 * or all if which is NULL), its points from `series` (typically a mean
 * over seeds); scale: EXP_LOGY | EXP_LOGX. The data and script are kept
 * beside the PNG (<png>.dat, <png>.gp). */
typedef size_t exp_series_fn(const experiment *e, size_t v, double *x,
                             double *y, size_t cap);
#define EXP_LOGY 1u
#define EXP_LOGX 2u
bool exp_plot(const experiment *e, const char *png, const char *title,
              const char *xlabel, const char *ylabel, unsigned scale,
              exp_series_fn *series, const bool *which);

/* One curve of n points (x[i], y[i]) named `name`. */
bool exp_plot_xy(const experiment *e, const char *png, const char *title,
                 const char *xlabel, const char *ylabel, unsigned scale,
                 const char *name, size_t n, const double *x, const double *y);

/* Several named curves: curve c has n[c] points (x[c][i], y[c][i]). */
bool exp_plot_curves(const experiment *e, const char *png, const char *title,
                     const char *xlabel, const char *ylabel, unsigned scale,
                     size_t ncurves, const char *const *names,
                     const size_t *n, const double *const *x,
                     const double *const *y);

/* The summary's line for plot `png` (drawn by one of the above, before):
 * "![alt](png)", or, when the plot had no point to draw and so was not
 * drawn, a line saying so. */
void exp_md_plot(const experiment *e, FILE *md, const char *alt,
                 const char *png);

/* Series exp_series_<field>: per epoch, the mean over the seeds that
 * recorded it of that field of bp_epoch_stats (exp_series_test_acc, ...). */
#define EXP_SERIES_FIELDS(X) \
    X(test_acc) X(test_loss) X(val_acc) X(val_loss) X(train_eval_acc) \
    X(weight_norm) X(seconds)
#define X(field)                                                        \
    size_t exp_series_##field(const experiment *e, size_t v, double *x,  \
                              double *y, size_t cap);
EXP_SERIES_FIELDS(X)
#undef X

#endif
