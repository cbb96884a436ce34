/* experiments/exploding.c - the reference MLP with its standard (He)
 * init under plain SGD at learning rates rising until training breaks,
 * unclipped, clipped by global norm and clipped by value with thresholds
 * from the observed gradient norm (Pascanu et al. 2013): how far each
 * clipping extends the range of rates that train, and the gradient norm
 * step by step on the way to divergence. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/harness.h"

static const char *const rates[] = {"3e-2", "0.1", "0.3", "1",
                                    "3",    "10",  "30"};
#define NRATE (sizeof rates / sizeof rates[0])
#define TARGET 0.85 /* validation accuracy */
#define TRACE 400   /* steps traced: most of the first epoch */
#define CALIB_RATE 0.1
#define CALIB_EPOCHS 1

enum { NONE, NORM, VALUE, NMODE };
static const char *const mode_name[NMODE] = {"none", "clip-norm",
                                             "clip-value"};
static const char *const mode_title[NMODE] = {
    "unclipped", "clipped by norm", "clipped by value"};

static double threshold_norm, threshold_value, calib_params;

static size_t vid(int m, size_t r) { return (size_t)m * NRATE + r; }

/* the rate of mode m chosen on validation data; NRATE: none */
static size_t chosen(const experiment *e, int m)
{
    size_t vs[NRATE];
    for (size_t r = 0; r < NRATE; r++)
        vs[r] = vid(m, r);
    return exp_choose(e, vs, NRATE, exp_final_val_acc);
}

/* mode m's longest run of stable rates, "lr 3e-2 .. 0.3 (1.0 decades)"
 * or "none" */
static const char *range_str(const experiment *e, int m)
{
    size_t vs[NRATE];
    for (size_t r = 0; r < NRATE; r++)
        vs[r] = vid(m, r);
    return exp_stable_range_str(e, vs, rates, NRATE, TARGET);
}

/* trace metrics of one run (NAN without a trace), in log10: the norms
 * span dozens of orders of magnitude */
static double log_first_norm(const exp_run *r)
{
    return r->ntrace && r->trace_grad[0] > 0 ? log10(r->trace_grad[0]) : NAN;
}

static double log_peak_norm(const exp_run *r)
{
    double p = NAN;
    for (size_t k = 0; k < r->ntrace; k++)
        if (!(r->trace_grad[k] <= p))
            p = r->trace_grad[k];
    return p > 0 ? log10(p) : NAN;
}

/* the steps a diverged run took before its loss or gradient stopped
 * being finite, when that happened within the trace; NAN otherwise */
static double steps_to_divergence(const exp_run *r)
{
    return r->diverged && r->ntrace < TRACE ? (double)r->ntrace : NAN;
}

/* the mean over the seeds that have step k of log10 of the traced norm:
 * a geometric mean, as the norms span orders of magnitude */
static size_t series_trace(const experiment *e, size_t v, double *x,
                           double *y, size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; k < TRACE && k < cap; k++) {
        double s = 0;
        size_t c = 0;
        for (size_t j = 0; j < e->nseeds; j++) {
            const exp_run *r = exp_get(e, v, j);
            if (k < r->ntrace && r->trace_grad[k] > 0 &&
                isfinite(r->trace_grad[k]))
                s += log10(r->trace_grad[k]), c++;
        }
        if (!c)
            break;
        x[n] = (double)(k + 1), y[n] = pow(10.0, s / (double)c), n++;
    }
    return n;
}

/* the lowest rate where a seed of mode m diverged; NRATE: none */
static size_t first_diverging_mode(const experiment *e, int m)
{
    for (size_t r = 0; r < NRATE; r++)
        if (exp_diverged(e, vid(m, r)))
            return r;
    return NRATE;
}

static size_t first_diverging(const experiment *e)
{
    return first_diverging_mode(e, NONE);
}

/* where mode m's seeds began to diverge: "none up to lr 30", "from lr 1
 * on (2/10 there)" */
static const char *divergence_str(const experiment *e, int m)
{
    static char buf[NMODE][64];
    size_t d = first_diverging_mode(e, m);
    if (d == NRATE)
        snprintf(buf[m], sizeof buf[m], "none up to lr %s",
                 rates[NRATE - 1]);
    else
        snprintf(buf[m], sizeof buf[m], "from lr %s on (%zu/%zu there)",
                 rates[d], exp_diverged(e, vid(m, d)),
                 exp_recorded(e, vid(m, d)));
    return buf[m];
}

/* test accuracy, a diverged run counting as chance (it ends without a
 * usable model): how a fixed rate's modes compare */
static double test_acc_or_chance(const exp_run *r)
{
    return r->diverged ? 0.1 : exp_final_test_acc_trained(r);
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "Thresholds from the observed norms: while the reference "
                "net trained unclipped at lr %g (seed 0, %d epoch), the "
                "global gradient norm averaged %.3g over its steps (%.0f "
                "parameters); clip-norm is that norm, clip-value its "
                "root-mean-square component, %.3g.\n\n",
            CALIB_RATE, CALIB_EPOCHS, threshold_norm, calib_params,
            threshold_value);
    fprintf(md, "Validation accuracy after the last epoch (a tenth of the "
                "training images, held out), with the seeds that diverged "
                "and those that reached %.2f:\n\n| lr |", TARGET);
    for (int m = 0; m < NMODE; m++)
        fprintf(md, " %s | diverged | reached |", mode_title[m]);
    fprintf(md, "\n|---|");
    for (int m = 0; m < NMODE; m++)
        fprintf(md, "---|---|---|");
    fprintf(md, "\n");
    for (size_t r = 0; r < NRATE; r++) {
        fprintf(md, "| %s |", rates[r]);
        for (int m = 0; m < NMODE; m++) {
            size_t v = vid(m, r);
            fprintf(md, " %s%s | %zu/%zu | %zu/%zu |",
                    exp_str(e, v, exp_final_val_acc),
                    exp_stable(e, v, TARGET) ? " (stable)" : "",
                    exp_diverged(e, v), exp_recorded(e, v),
                    exp_reached(e, v, TARGET), exp_recorded(e, v));
        }
        fprintf(md, "\n");
    }
    fprintf(md, "\nA rate is stable when no seed diverged and every seed "
                "reached %.2f validation accuracy within the epochs. The "
                "longest run of stable rates: %s unclipped, %s clipped by "
                "norm, %s clipped by value. Divergence: %s unclipped, "
                "%s clipped by norm, %s clipped by value.\n\n",
            TARGET, range_str(e, NONE), range_str(e, NORM),
            range_str(e, VALUE), divergence_str(e, NONE),
            divergence_str(e, NORM), divergence_str(e, VALUE));
    size_t d = first_diverging(e);
    if (d < NRATE) {
        fprintf(md, "At lr %s, the lowest rate where an unclipped seed "
                    "diverged, test accuracy with a diverged run counted "
                    "as chance (0.1), paired over the seeds:\n\n",
                rates[d]);
        for (int m = NORM; m < NMODE; m++) {
            char what[96];
            snprintf(what, sizeof what, "Test accuracy at lr %s, %s minus "
                     "unclipped", rates[d], mode_title[m]);
            exp_compare_paired(e, md, vid(m, d), vid(NONE, d),
                               test_acc_or_chance, what, true);
        }
        fprintf(md, "\n");
    }
    fprintf(md, "The gradient on the way: log10 of the global norm "
                "(before any clipping) at the first step and of its peak "
                "over the first %d steps, and the steps a diverged run took "
                "before its loss or gradient stopped being finite (mean "
                "over the seeds that did, within the trace):\n\n| lr | "
                "mode | log10 norm, first step | log10 norm, peak | steps "
                "to divergence |\n|---|---|---|---|---|\n",
            TRACE);
    for (size_t r = 0; r < NRATE; r++)
        for (int m = 0; m < NMODE; m++) {
            size_t v = vid(m, r);
            fprintf(md, "| %s | %s | %s | %s | %s |\n", rates[r],
                    mode_name[m], exp_str(e, v, log_first_norm),
                    exp_str(e, v, log_peak_norm),
                    exp_str(e, v, steps_to_divergence));
        }
    fprintf(md, "\nEach mode at its rate chosen on validation (rates where "
                "a seed diverged are never chosen), on the test set, paired "
                "over the seeds:\n\n");
    size_t c[NMODE];
    for (int m = 0; m < NMODE; m++)
        c[m] = chosen(e, m);
    for (int m = NORM; m < NMODE; m++) {
        if (c[m] == NRATE || c[NONE] == NRATE)
            continue;
        char what[96];
        snprintf(what, sizeof what, "Test accuracy, %s (lr %s) minus "
                 "unclipped (lr %s)", mode_title[m], rates[c[m]],
                 rates[c[NONE]]);
        exp_compare_paired(e, md, vid(m, c[m]), vid(NONE, c[NONE]),
                           exp_final_test_acc_trained, what, true);
    }
}

static void plots(const experiment *e, FILE *md)
{
    double rate[NRATE], x[NMODE][NRATE], y[NMODE][NRATE];
    size_t n[NMODE], vs[NMODE][NRATE];
    const double *xs[NMODE], *ys[NMODE];
    for (int m = 0; m < NMODE; m++) {
        for (size_t r = 0; r < NRATE; r++)
            rate[r] = strtod(rates[r], NULL), vs[m][r] = vid(m, r);
        xs[m] = x[m], ys[m] = y[m];
        n[m] = exp_curve_val_acc(e, vs[m], rate, NRATE, 0.1, x[m], y[m]);
    }
    exp_plot_curves(e, "val_accuracy_vs_lr.png", "Validation accuracy after "
                    "the last epoch against the learning rate (a diverged "
                    "run counts as chance, 0.1)", "learning rate",
                    "validation accuracy", EXP_LOGX, NMODE, mode_title, n,
                    xs, ys);
    bool which[EXP_MAX_VARIANTS] = {false};
    for (size_t r = 0; r < NRATE; r++)
        which[vid(NONE, r)] = true;
    exp_plot(e, "grad_trace_unclipped.png", "Global gradient norm at each "
             "of the first steps, unclipped (geometric mean over the seeds "
             "still running)", "step", "||g||", EXP_LOGX | EXP_LOGY,
             series_trace, which);
    size_t d = first_diverging(e);
    char title[160];
    for (size_t v = 0; v < e->nvariants; v++)
        which[v] = d < NRATE && v % NRATE == d;
    snprintf(title, sizeof title, "Global gradient norm before clipping at "
             "lr %s, the lowest rate where an unclipped run diverged",
             d < NRATE ? rates[d] : "-");
    exp_plot(e, "grad_trace_modes.png", title, "step", "||g||",
             EXP_LOGX | EXP_LOGY, series_trace, which);
    exp_md_plot(e, md, "validation accuracy against the rate",
                "val_accuracy_vs_lr.png");
    fputs("\n", md);
    exp_md_plot(e, md, "gradient norm per step, unclipped",
                "grad_trace_unclipped.png");
    fputs("\n", md);
    exp_md_plot(e, md, "gradient norm per step, each mode",
                "grad_trace_modes.png");
}

static void headline(const experiment *e, FILE *f)
{
    size_t d = first_diverging(e);
    fprintf(f, "divergence: %s clipped by norm, %s by value, %s "
               "unclipped",
            divergence_str(e, NORM), divergence_str(e, VALUE),
            divergence_str(e, NONE));
    if (d < NRATE) {
        size_t v = vid(NONE, d), n = vid(NORM, d), c = vid(VALUE, d);
        fprintf(f, "; at lr %s test accuracy (a diverged run counted as "
                   "chance) %s clipped by norm, %s by value vs %s unclipped "
                   "(norm minus unclipped %s); unclipped there the log10 "
                   "gradient norm went from %s at the first step to a peak "
                   "of %s within %d steps, the diverging seeds stopping "
                   "after %s",
                rates[d], exp_str(e, n, test_acc_or_chance),
                exp_str(e, c, test_acc_or_chance),
                exp_str(e, v, test_acc_or_chance),
                exp_paired_str(e, n, v, test_acc_or_chance),
                exp_str(e, v, log_first_norm), exp_str(e, v, log_peak_norm),
                TRACE, exp_str(e, v, steps_to_divergence));
    }
    fprintf(f, "; stable rates (%.2f validation accuracy within the epochs "
               "in every seed): %s unclipped, %s clipped by norm, %s by "
               "value",
            TARGET, range_str(e, NONE), range_str(e, NORM),
            range_str(e, VALUE));
    size_t c0 = chosen(e, NONE), c1 = chosen(e, NORM);
    if (c0 < NRATE && c1 < NRATE)
        fprintf(f, "; at the rate chosen on validation, test accuracy %s "
                   "clipped by norm (lr %s) vs %s unclipped (lr %s), %s",
                exp_str(e, vid(NORM, c1), exp_final_test_acc_trained),
                rates[c1],
                exp_str(e, vid(NONE, c0), exp_final_test_acc_trained),
                rates[c0],
                exp_paired_str(e, vid(NORM, c1), vid(NONE, c0),
                               exp_final_test_acc_trained));
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "exploding", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Exploding gradients at high learning rates, and clipping";
    e.question =
        "As the learning rate rises, where does a standard net stop "
        "training, how does its gradient norm behave step by step on the "
        "way, and how far do clipping by global norm and by value "
        "(Pascanu et al. 2013) extend the range of rates that train?";
    e.setting =
        "The reference MLP (784-256-128-10 ReLU, He init), plain SGD "
        "(no momentum) at lr 3e-2 .. 30 in half decades, batch 128, 5 "
        "epochs; unclipped, clipped by global norm and clipped by value, "
        "with Pascanu et al.'s thresholds from the observed norm: the mean "
        "global gradient norm over the steps of an unclipped run at lr "
        "0.1 for clip-norm, the root-mean-square component of such a "
        "gradient for clip-value. The global norm (before clipping) of "
        "each of the first 400 steps is traced. A tenth of the training "
        "set (6000 images) is held out: it decides whether a rate reaches "
        "the target (0.85) and which rate is best. Ten seeds, the same for "
        "every variant, so every comparison is paired; a diverged run is "
        "counted, never dropped.";
    exp_default_seeds(&e, 10);
    for (int m = 0; m < NMODE; m++)
        for (size_t r = 0; r < NRATE; r++) {
            char name[32];
            snprintf(name, sizeof name, "%s lr=%s", mode_name[m], rates[r]);
            exp_variant *v = exp_add(&e, name);
            v->o.opt = BP_OPT_SGD;
            v->o.lr = strtod(rates[r], NULL);
            v->o.val = 0.1;
            v->o.epochs = e.quick ? 1 : 5;
            if (e.quick)
                v->o.limit_train = 10000;
            v->trace_steps = TRACE;
        }
    bp_run_opts calib = e.variants[vid(NONE, 0)].o;
    calib.lr = CALIB_RATE;
    bp_err err = {0};
    if (exp_observed_grad_norm(&calib, CALIB_EPOCHS, &threshold_norm,
                               &calib_params, &err) != BP_OK) {
        fprintf(stderr, "exploding: %s\n", err.msg);
        return 1;
    }
    threshold_value = threshold_norm / sqrt(calib_params);
    for (size_t r = 0; r < NRATE; r++) {
        e.variants[vid(NORM, r)].o.clip_norm = threshold_norm;
        e.variants[vid(VALUE, r)].o.clip_value = threshold_value;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
