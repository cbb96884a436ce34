/* experiments/lr_range.c - the range of learning rates that train, with
 * and without batch normalisation (Ioffe & Szegedy 2015: "higher learning
 * rates"): the reference MLP over a log-spaced range of rates, each rate's
 * validation accuracy, divergence and epochs to a target accuracy; the
 * best rate of each chosen on validation data, then compared on the test
 * set, paired over the seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/harness.h"

/* 1-3 steps, half a decade each */
static const char *const rates[] = {"1e-3", "3e-3", "1e-2", "3e-2", "0.1",
                                    "0.3",  "1",    "3",    "10"};
#define NRATE (sizeof rates / sizeof rates[0])
#define TARGET 0.85 /* validation accuracy */

/* variant of (batch norm, rate) */
static size_t vid(int bn, size_t r) { return (size_t)bn * NRATE + r; }

static const char *const fam[2] = {"without batch norm", "with batch norm"};

static bool finished(const exp_run *r) { return r->nepochs && !r->diverged; }

static double epochs_to_target(const exp_run *r)
{
    return exp_epoch_reaching(r, TARGET);
}

/* for paired comparisons of speed: a run that never reached the target
 * counts as one epoch past the end */
static double epochs_to_target_capped(const exp_run *r)
{
    double k = epochs_to_target(r);
    return isfinite(k) ? k : (finished(r) ? (double)r->nepochs + 1 : NAN);
}

/* The rate of family bn chosen on validation data (exp_choose: the best
 * mean final validation accuracy among rates that lost no seed); NRATE
 * when none qualifies. */
static size_t chosen(const experiment *e, int bn)
{
    size_t vs[NRATE];
    for (size_t r = 0; r < NRATE; r++)
        vs[r] = vid(bn, r);
    return exp_choose(e, vs, NRATE, exp_final_val_acc);
}

/* family bn's longest run of stable rates, "lr 1e-2 .. 1 (2.0 decades)"
 * or "none" */
static const char *range_str(const experiment *e, int bn)
{
    size_t vs[NRATE];
    for (size_t r = 0; r < NRATE; r++)
        vs[r] = vid(bn, r);
    return exp_stable_range_str(e, vs, rates, NRATE, TARGET);
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "Each rate on the validation set (a tenth of the training "
                "images, held out) after the last epoch; epochs to %.2f "
                "validation accuracy are the mean over the seeds that "
                "reached it:\n\n"
                "| lr | validation accuracy, without | diverged | epochs to "
                "%.2f | validation accuracy, with | diverged | epochs to "
                "%.2f |\n|---|---|---|---|---|---|---|\n",
            TARGET, TARGET, TARGET);
    for (size_t r = 0; r < NRATE; r++) {
        fprintf(md, "| %s |", rates[r]);
        for (int bn = 0; bn < 2; bn++) {
            size_t v = vid(bn, r);
            fprintf(md, " %s%s | %zu/%zu | %s (%zu/%zu) |",
                    exp_str(e, v, exp_final_val_acc),
                    exp_stable(e, v, TARGET) ? " (stable)" : "", exp_diverged(e, v),
                    exp_recorded(e, v), exp_str(e, v, epochs_to_target),
                    exp_reached(e, v, TARGET), exp_recorded(e, v));
        }
        fprintf(md, "\n");
    }
    fprintf(md, "\nA rate is stable when no seed diverged and every seed "
                "reached %.2f validation accuracy within the epochs. The "
                "longest run of stable rates: %s without batch norm, %s "
                "with it.\n\n", TARGET, range_str(e, 0), range_str(e, 1));
    size_t c[2] = {chosen(e, 0), chosen(e, 1)};
    for (int bn = 0; bn < 2; bn++) {
        if (c[bn] == NRATE) {
            fprintf(md, "- %s, every rate lost a seed to divergence or "
                        "has no record: no rate chosen.\n", fam[bn]);
            return;
        }
    }
    fprintf(md, "The rate of each with the highest mean validation "
                "accuracy (among rates where no seed diverged) is chosen "
                "before any test number is read: lr %s without batch norm, "
                "lr %s with it. On the test set, paired over the seeds:\n\n",
            rates[c[0]], rates[c[1]]);
    size_t a = vid(1, c[1]), b = vid(0, c[0]);
    exp_compare_paired(e, md, a, b, exp_final_test_acc_trained,
                       "Test accuracy after the last epoch, each at its "
                       "chosen rate, with minus without batch norm", true);
    exp_compare_paired(e, md, a, b, exp_final_test_loss,
                       "Test loss after the last epoch, each at its chosen "
                       "rate, with minus without batch norm", false);
    exp_compare_paired(e, md, a, b, epochs_to_target_capped,
                       "Epochs to the target validation accuracy (a seed "
                       "that never reached it counts as one past the last), "
                       "each at its chosen rate, with minus without", false);
    fprintf(md, "\nAt the same rate, paired over the seeds where both "
                "trained to the end:\n\n");
    for (size_t r = 0; r < NRATE; r++)
        exp_compare_paired(e, md, vid(1, r), vid(0, r),
                               exp_final_test_acc_trained, rates[r], true);
}

static void plots(const experiment *e, FILE *md)
{
    double rate[NRATE], x[2][NRATE], y[2][NRATE];
    size_t n[2], vs[2][NRATE];
    for (size_t r = 0; r < NRATE; r++)
        rate[r] = strtod(rates[r], NULL), vs[0][r] = vid(0, r),
        vs[1][r] = vid(1, r);
    static const char *const names[2] = {"without batch norm",
                                         "with batch norm"};
    const double *xs[2] = {x[0], x[1]}, *ys[2] = {y[0], y[1]};
    for (int bn = 0; bn < 2; bn++)
        n[bn] = exp_curve_val_acc(e, vs[bn], rate, NRATE, 0.1, x[bn], y[bn]);
    exp_plot_curves(e, "val_accuracy_vs_lr.png", "Validation accuracy after "
                    "the last epoch against the learning rate (a diverged "
                    "run counts as chance, 0.1)", "learning rate",
                    "validation accuracy", EXP_LOGX, 2, names, n, xs, ys);
    for (int bn = 0; bn < 2; bn++)
        n[bn] = exp_curve_epochs_to(e, vs[bn], rate, NRATE, TARGET, x[bn],
                                    y[bn]);
    char title[128];
    snprintf(title, sizeof title, "Epochs to %.2f validation accuracy "
             "(mean over the seeds that reached it)", TARGET);
    exp_plot_curves(e, "epochs_to_target.png", title, "learning rate",
                    "epochs", EXP_LOGX, 2, names, n, xs, ys);
    bool which[EXP_MAX_VARIANTS] = {false};
    for (int bn = 0; bn < 2; bn++)
        if (chosen(e, bn) < NRATE)
            which[vid(bn, chosen(e, bn))] = true;
    exp_plot(e, "val_accuracy.png", "Validation accuracy per epoch at each "
             "one's chosen rate", "epoch", "validation accuracy", 0,
             exp_series_val_acc, which);
    exp_md_plot(e, md, "validation accuracy against the rate",
                "val_accuracy_vs_lr.png");
    fputs("\n", md);
    exp_md_plot(e, md, "epochs to the target", "epochs_to_target.png");
    fputs("\n", md);
    exp_md_plot(e, md, "validation accuracy per epoch", "val_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "stable rates (no divergence, %.2f validation accuracy "
               "within the epochs): %s without batch norm, %s with",
            TARGET, range_str(e, 0), range_str(e, 1));
    size_t c0 = chosen(e, 0), c1 = chosen(e, 1);
    if (c0 < NRATE && c1 < NRATE) {
        size_t a = vid(1, c1), b = vid(0, c0);
        fprintf(f, "; at the rate chosen on validation (%s vs %s) test "
                   "accuracy %s with vs %s without (%s), test loss %s vs "
                   "%s, epochs to %.2f %s vs %s",
                rates[c1], rates[c0], exp_str(e, a, exp_final_test_acc_trained),
                exp_str(e, b, exp_final_test_acc_trained),
                exp_paired_str(e, a, b, exp_final_test_acc_trained),
                exp_str(e, a, exp_final_test_loss),
                exp_str(e, b, exp_final_test_loss), TARGET,
                exp_str(e, a, epochs_to_target),
                exp_str(e, b, epochs_to_target));
    }
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "lr_range", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "The range of learning rates, with and without batch norm";
    e.question =
        "Does batch normalisation widen the range of learning rates that "
        "train, towards higher ones, and reach a given accuracy in fewer "
        "epochs (Ioffe & Szegedy 2015)?";
    e.setting =
        "The reference MLP (784-256-128-10, ReLU), with batch norm before "
        "each hidden activation or without; SGD with momentum 0.9 at a "
        "constant rate from 1e-3 to 10 in half-decade steps, batch 128, 10 "
        "epochs. A tenth of the training set (6000 images) is held out as "
        "the validation set that decides everything: whether a rate "
        "reaches the target accuracy (0.85), which rate is best. Ten seeds, "
        "the same for every variant, so every comparison is paired; a "
        "diverged run (a non-finite loss or gradient) is counted, never "
        "dropped.";
    exp_default_seeds(&e, 10);
    for (int bn = 0; bn < 2; bn++)
        for (size_t r = 0; r < NRATE; r++) {
            char name[32];
            snprintf(name, sizeof name, "%s lr=%s", bn ? "bn" : "plain",
                     rates[r]);
            exp_variant *v = exp_add(&e, name);
            v->o.batchnorm = bn;
            v->o.lr = strtod(rates[r], NULL);
            v->o.val = 0.1;
            v->o.epochs = e.quick ? 2 : 10;
            if (e.quick)
                v->o.limit_train = 10000;
        }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
