/* experiments/regularization.c - L2 and L1 where overfitting costs test
 * accuracy: 40% of the training labels wrong (the dropout experiment's
 * regime), each penalty swept over a log-spaced range of strengths, the
 * strength chosen on a clean validation set and only the chosen one's
 * test accuracy compared with no penalty, paired over ten seeds. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/harness.h"

/* the swept strengths (1-2-5 steps), as written in the variants' names;
 * variant 0 is no penalty, then L2's, then L1's */
static const char *const l2s[] = {"5e-4", "1e-3", "2e-3", "5e-3", "1e-2",
                                  "2e-2"};
static const char *const l1s[] = {"2e-5", "5e-5", "1e-4", "2e-4", "5e-4",
                                  "1e-3"};
#define NL2 (sizeof l2s / sizeof l2s[0])
#define NL1 (sizeof l1s / sizeof l1s[0])
enum { NONE = 0, FIRST_L2 = 1, FIRST_L1 = 1 + (int)NL2 };

static double last(const exp_run *r, size_t off)
{
    if (!r->nepochs)
        return NAN;
    return *(const double *)((const char *)&r->epochs[r->nepochs - 1] + off);
}
#define LAST(field) \
    static double final_##field(const exp_run *r) \
    { return last(r, offsetof(bp_epoch_stats, field)); }
LAST(val_acc)
LAST(val_loss)
LAST(train_eval_acc)
LAST(weight_norm)
LAST(zero_frac)
#undef LAST

/* The strength of a family (first .. first+n-1) with the highest mean
 * of f; the smaller strength of equals. */
static size_t best_in(const experiment *e, size_t first, size_t n,
                      exp_metric_fn *f)
{
    size_t best = first;
    double best_m = -1.0;
    for (size_t v = first; v < first + n; v++) {
        double m, sd, ci;
        if (exp_stats(e, v, f, &m, &sd, &ci) && m > best_m)
            best = v, best_m = m;
    }
    return best;
}

/* the choice: by the validation accuracy after the last epoch; test data
 * plays no part */
static size_t chosen(const experiment *e, size_t first, size_t n)
{
    return best_in(e, first, n, final_val_acc);
}

static void report(const experiment *e, FILE *md)
{
    size_t c2 = chosen(e, FIRST_L2, NL2), c1 = chosen(e, FIRST_L1, NL1);
    fprintf(md, "Each strength on the validation set (5000 images with "
                "their true labels) after the last epoch; the strength of "
                "each penalty with the highest mean validation accuracy is "
                "chosen (marked), before any test number is read:\n\n"
                "| variant | validation accuracy | validation loss | accuracy "
                "on the noisy training labels | weight norm ||W||_2 | "
                "weights with |w| < 1e-3 |\n|---|---|---|---|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++)
        fprintf(md, "| %s%s | %s | %s | %s | %s | %s |\n",
                e->variants[v].name, v == c2 || v == c1 ? " (chosen)" : "",
                exp_str(e, v, final_val_acc), exp_str(e, v, final_val_loss),
                exp_str(e, v, final_train_eval_acc),
                exp_str(e, v, final_weight_norm),
                exp_str(e, v, final_zero_frac));
    fprintf(md, "\nThe chosen strengths on the test set, paired over the "
                "seeds (each seed's difference, then their mean and 95%% "
                "t-interval):\n\n");
    exp_compare_paired(e, md, c2, NONE, exp_final_test_acc,
                       "Test accuracy after the last epoch", true);
    exp_compare_paired(e, md, c1, NONE, exp_final_test_acc,
                       "Test accuracy after the last epoch", true);
    exp_compare_paired(e, md, c2, c1, exp_final_test_acc,
                       "Test accuracy after the last epoch", true);
    exp_compare_paired(e, md, c2, NONE, exp_final_test_loss,
                       "Test loss after the last epoch", false);
    exp_compare_paired(e, md, c1, NONE, exp_final_test_loss,
                       "Test loss after the last epoch", false);
    exp_compare_paired(e, md, c2, NONE, final_train_eval_acc,
                       "Accuracy on the noisy training labels (memorisation)",
                       false);
    exp_compare_paired(e, md, c1, NONE, final_train_eval_acc,
                       "Accuracy on the noisy training labels (memorisation)",
                       false);
    exp_compare_paired(e, md, c1, NONE, final_zero_frac,
                       "Fraction of weights below 1e-3 in magnitude", true);
    exp_compare_paired(e, md, c2, NONE, final_zero_frac,
                       "Fraction of weights below 1e-3 in magnitude", true);
    fprintf(md, "\nThe same by the 95%% intervals of each variant alone:\n\n");
    exp_compare(e, md, c2, NONE, exp_final_test_acc,
                "Test accuracy after the last epoch", true);
    exp_compare(e, md, c1, NONE, exp_final_test_acc,
                "Test accuracy after the last epoch", true);
    fprintf(md, "\nThe test accuracy of every strength is in the first "
                "table for completeness; choosing by it instead of by the "
                "validation accuracy would pick %s for L2 and %s for L1.\n",
            e->variants[best_in(e, FIRST_L2, NL2, exp_final_test_acc)].name,
            e->variants[best_in(e, FIRST_L1, NL1, exp_final_test_acc)].name);
}

static void plots(const experiment *e, FILE *md)
{
    double x[2][NL2 > NL1 ? NL2 : NL1], y[2][NL2 > NL1 ? NL2 : NL1];
    size_t n[2] = {0, 0};
    for (int f = 0; f < 2; f++) {
        size_t first = f ? FIRST_L1 : FIRST_L2, cnt = f ? NL1 : NL2;
        for (size_t i = 0; i < cnt; i++) {
            double m, sd, ci;
            if (exp_stats(e, first + i, final_val_acc, &m, &sd, &ci))
                x[f][n[f]] = strtod(f ? l1s[i] : l2s[i], NULL), y[f][n[f]++] = m;
        }
    }
    static const char *const names[2] = {"L2", "L1"};
    const double *xs[2] = {x[0], x[1]}, *ys[2] = {y[0], y[1]};
    exp_plot_curves(e, "val_accuracy_vs_lambda.png", "Validation accuracy "
                    "after the last epoch against the penalty's strength",
                    "lambda", "validation accuracy", EXP_LOGX, 2, names, n,
                    xs, ys);
    bool which[EXP_MAX_VARIANTS] = {false};
    which[NONE] = which[chosen(e, FIRST_L2, NL2)] =
        which[chosen(e, FIRST_L1, NL1)] = true;
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch (40% of "
             "training labels wrong; the chosen strengths)", "epoch",
             "test accuracy", 0, exp_series_test_acc, which);
    exp_plot(e, "train_accuracy.png", "Accuracy on the noisy training labels "
             "per epoch", "epoch", "training accuracy", 0,
             exp_series_train_eval_acc, which);
    exp_plot(e, "weight_norm.png", "L2 norm of all weights per epoch", "epoch",
             "||W||_2", EXP_LOGY, exp_series_weight_norm, which);
    exp_md_plot(e, md, "validation accuracy against lambda",
                "val_accuracy_vs_lambda.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test accuracy", "test_accuracy.png");
    fputs("\n", md);
    exp_md_plot(e, md, "training accuracy", "train_accuracy.png");
    fputs("\n", md);
    exp_md_plot(e, md, "weight norm", "weight_norm.png");
}

static void headline(const experiment *e, FILE *f)
{
    size_t c2 = chosen(e, FIRST_L2, NL2), c1 = chosen(e, FIRST_L1, NL1);
    fprintf(f, "40%% label noise, strength chosen on validation: last-epoch "
               "test accuracy %s with %s (%s), %s with %s (%s), %s without; "
               "test loss %s / %s / %s; %s leaves %s of weights below 1e-3 "
               "(none: %s)",
            exp_str(e, c2, exp_final_test_acc), e->variants[c2].name,
            exp_paired_str(e, c2, NONE, exp_final_test_acc),
            exp_str(e, c1, exp_final_test_acc), e->variants[c1].name,
            exp_paired_str(e, c1, NONE, exp_final_test_acc),
            exp_str(e, NONE, exp_final_test_acc),
            exp_str(e, c2, exp_final_test_loss),
            exp_str(e, c1, exp_final_test_loss),
            exp_str(e, NONE, exp_final_test_loss), e->variants[c1].name,
            exp_str(e, c1, final_zero_frac),
            exp_str(e, NONE, final_zero_frac));
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "regularization", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "L2 and L1 where overfitting costs test accuracy";
    e.question = "Do an L2 weight decay and an L1 penalty, at a strength "
                 "chosen on validation data, keep a net that memorises "
                 "noisy labels from losing test accuracy, and does L1 "
                 "drive weights to zero where L2 only shrinks them "
                 "(Krogh & Hertz 1992; Tibshirani 1996)?";
    e.setting =
        "The early-stopping experiment's regime: 10000 Fashion-MNIST "
        "training images, half held out as a validation set with their "
        "true labels, the other 5000 trained on with 40% of their labels "
        "replaced by another class (the test labels are true); "
        "784-1024-1024-10, SGD with momentum 0.9 from lr 0.05 decayed by a "
        "cosine over 60 epochs, batch 128. Without a penalty the net fits "
        "the wrong labels too and its test accuracy falls from an early "
        "peak. L2 (coupled weight decay) at 5e-4 .. 2e-2 and L1 at "
        "2e-5 .. 1e-3, in 1-2-5 steps, on the weights only (not biases). "
        "Ten seeds, the same for every variant, so the comparisons are "
        "paired. A weight counts as near zero below 1e-3 in magnitude.";
    exp_default_seeds(&e, 10); /* ten paired seeds */
    for (size_t i = 0; i < 1 + NL2 + NL1; i++) {
        char name[32] = "none";
        if (i >= FIRST_L2 && i < FIRST_L1)
            snprintf(name, sizeof name, "l2=%s", l2s[i - FIRST_L2]);
        else if (i >= FIRST_L1)
            snprintf(name, sizeof name, "l1=%s", l1s[i - FIRST_L1]);
        exp_variant *v = exp_add(&e, name);
        v->o.layers = e.quick ? "256,256" : "1024,1024";
        v->o.limit_train = e.quick ? 2000 : 10000;
        v->o.val = 0.5;
        v->o.label_noise = 0.4;
        v->o.epochs = e.quick ? 6 : 60;
        v->o.schedule = BP_SCHED_COSINE;
        v->o.eval_train = true;
        if (i >= FIRST_L2 && i < FIRST_L1)
            v->o.l2 = strtod(l2s[i - FIRST_L2], NULL);
        else if (i >= FIRST_L1)
            v->o.l1 = strtod(l1s[i - FIRST_L1], NULL);
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
