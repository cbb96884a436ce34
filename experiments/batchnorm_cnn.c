/* experiments/batchnorm_cnn.c - batch normalisation in the reference CNN
 * (Ioffe & Szegedy 2015: "higher learning rates"): the CNN with and
 * without batch norm after each convolution and the dense layer, over a
 * range of learning rates, on part of the training set with a validation
 * split: which rates train and which diverge, epochs to a target
 * validation accuracy, the best rate of each chosen on validation data,
 * then the test accuracy there, paired over the seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/harness.h"

/* half a decade a step */
static const char *const all_rates[] = {"0.003", "0.01", "0.03", "0.1",
                                        "0.3",   "1",    "3"};
static const char *const quick_rates[] = {"0.1", "1"};
#define NRATE_MAX (sizeof all_rates / sizeof all_rates[0])
static const char *const *rates = all_rates;
static size_t nrate = NRATE_MAX;
#define TARGET 0.85 /* validation accuracy */

/* variant of (batch norm, rate) */
static size_t vid(int bn, size_t r) { return (size_t)bn * nrate + r; }

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

/* validation accuracy below this after the last epoch: the net has not
 * learnt (chance is 0.1; the runs that learn end above 0.75) */
#define FAILED 0.5

/* a run that trained to the end without a non-finite number but whose
 * net did not learn: it failed without diverging */
static bool no_learning(const exp_run *r)
{
    return finished(r) && r->epochs[r->nepochs - 1].val_acc < FAILED;
}

static size_t n_no_learning(const experiment *e, size_t v)
{
    size_t n = 0;
    for (size_t s = 0; s < e->nseeds; s++)
        n += no_learning(exp_get(e, v, s));
    return n;
}

/* the epoch (from 1) a diverged run stopped in: the epochs it recorded,
 * plus the one that blew up */
static double diverged_in(const exp_run *r)
{
    return r->diverged ? (double)r->nepochs + 1 : NAN;
}

static void family(int bn, size_t *vs)
{
    for (size_t r = 0; r < nrate; r++)
        vs[r] = vid(bn, r);
}

/* the rate of family bn chosen on validation data (exp_choose: the best
 * mean final validation accuracy among rates that lost no seed); nrate
 * when none qualifies */
static size_t chosen(const experiment *e, int bn)
{
    size_t vs[NRATE_MAX];
    family(bn, vs);
    return exp_choose(e, vs, nrate, exp_final_val_acc);
}

static const char *range_str(const experiment *e, int bn)
{
    size_t vs[NRATE_MAX];
    family(bn, vs);
    return exp_stable_range_str(e, vs, rates, nrate, TARGET);
}

/* the first rate (index) from the family's best up at which some seed of
 * family bn failed: diverged, or did not learn; nrate: none did */
static size_t first_failing(const experiment *e, int bn)
{
    size_t vs[NRATE_MAX];
    family(bn, vs);
    size_t best = exp_choose(e, vs, nrate, exp_final_val_acc);
    for (size_t r = best < nrate ? best : 0; r < nrate; r++)
        if (exp_diverged(e, vid(bn, r)) || n_no_learning(e, vid(bn, r)))
            return r;
    return nrate;
}

/* "from lr 0.3 on (3/3 there: 1 diverged, 2 did not learn)" or "none up to lr
 * 3 (the largest tried)", in a rotating static buffer */
static const char *failing_str(const experiment *e, int bn)
{
    static char buf[2][160];
    static unsigned next;
    char *out = buf[next++ % 2];
    size_t r = first_failing(e, bn);
    if (r == nrate) {
        snprintf(out, sizeof buf[0], "none up to lr %s (the largest tried)",
                 rates[nrate - 1]);
        return out;
    }
    size_t v = vid(bn, r), d = exp_diverged(e, v), c = n_no_learning(e, v);
    snprintf(out, sizeof buf[0], "from lr %s on (%zu/%zu there: %zu "
             "diverged, %zu did not learn)", rates[r], d + c,
             exp_recorded(e, v), d, c);
    return out;
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "Each rate on the validation set (a fifth of the training "
                "images, held out) after the last epoch; epochs to %.2f "
                "validation accuracy are the mean over the seeds that "
                "reached it:\n\n"
                "| lr | validation accuracy, without | diverged, did not "
                "learn | epochs to %.2f | validation accuracy, with | "
                "diverged, did not learn | epochs to %.2f |\n"
                "|---|---|---|---|---|---|---|\n",
            TARGET, TARGET, TARGET);
    for (size_t r = 0; r < nrate; r++) {
        fprintf(md, "| %s |", rates[r]);
        for (int bn = 0; bn < 2; bn++) {
            size_t v = vid(bn, r);
            fprintf(md, " %s%s | %zu, %zu of %zu",
                    exp_str(e, v, exp_final_val_acc),
                    exp_stable(e, v, TARGET) ? " (stable)" : "",
                    exp_diverged(e, v), n_no_learning(e, v),
                    exp_recorded(e, v));
            if (exp_diverged(e, v))
                fprintf(md, " (in epoch %s)", exp_str(e, v, diverged_in));
            fprintf(md, " | %s (%zu/%zu) |", exp_str(e, v, epochs_to_target),
                    exp_reached(e, v, TARGET), exp_recorded(e, v));
        }
        fprintf(md, "\n");
    }
    fprintf(md, "\nA rate is stable when no seed diverged (a non-finite "
                "loss or gradient stops a run; it is counted, never "
                "dropped) and every seed reached %.2f validation accuracy "
                "within the epochs. A run that did not learn trained to "
                "the end without a non-finite number but ended below %.1f "
                "validation accuracy (chance is 0.1): it failed without "
                "diverging. The longest run of stable rates: %s without "
                "batch norm, %s with it. Above the best rate, runs fail %s "
                "without batch norm, %s with it.\n\n",
            TARGET, FAILED, range_str(e, 0), range_str(e, 1),
            failing_str(e, 0), failing_str(e, 1));
    for (int bn = 0; bn < 2; bn++) {
        size_t vs[NRATE_MAX], first, len;
        family(bn, vs);
        len = exp_stable_run(e, vs, nrate, TARGET, &first);
        if (len && (first == 0 || first + len == nrate))
            fprintf(md, "%s, the stable range reaches the %s rate tried: "
                        "its %s edge is not found.\n\n",
                    bn ? "With batch norm" : "Without batch norm",
                    first == 0 ? "smallest" : "largest",
                    first == 0 ? "lower" : "upper");
    }
    size_t c[2] = {chosen(e, 0), chosen(e, 1)};
    for (int bn = 0; bn < 2; bn++) {
        if (c[bn] == nrate) {
            fprintf(md, "- %s, every rate lost a seed to divergence or "
                        "has no record: no rate chosen.\n", fam[bn]);
            return;
        }
    }
    fprintf(md, "The rate of each with the highest mean validation "
                "accuracy (among rates where no seed diverged) is chosen "
                "before any test number is read: lr %s without batch norm, "
                "lr %s with it.",
            rates[c[0]], rates[c[1]]);
    for (int bn = 0; bn < 2; bn++)
        if (c[bn] == 0 || c[bn] == nrate - 1)
            fprintf(md, " The rate chosen %s is at the edge of the range "
                        "swept: a rate beyond it might do better.",
                    fam[bn]);
    fprintf(md, " On the test set, paired over the seeds:\n\n");
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
    fprintf(md, "\nAt the same rate, test accuracy paired over the seeds "
                "where both trained to the end:\n\n");
    for (size_t r = 0; r < nrate; r++)
        exp_compare_paired(e, md, vid(1, r), vid(0, r),
                           exp_final_test_acc_trained, rates[r], true);
    size_t vs[2][NRATE_MAX], first, len[2];
    for (int bn = 0; bn < 2; bn++) {
        family(bn, vs[bn]);
        len[bn] = exp_stable_run(e, vs[bn], nrate, TARGET, &first);
    }
    int acc = exp_paired_sign(e, a, b, exp_final_test_acc_trained);
    int fast = exp_paired_sign(e, a, b, epochs_to_target_capped);
    fprintf(md, "\n- Verdict: batch norm %s the range of stable rates "
                "(%s with, %s without); at the rates chosen on validation "
                "it reaches %.2f validation accuracy %s, and its test "
                "accuracy is %s (%s).\n",
            len[1] > len[0]   ? "widens"
            : len[1] < len[0] ? "narrows"
                              : "does not change",
            range_str(e, 1), range_str(e, 0), TARGET,
            fast < 0   ? "in fewer epochs"
            : fast > 0 ? "in more epochs"
                       : "in no measurably different number of epochs",
            acc > 0   ? "higher"
            : acc < 0 ? "lower"
                      : "not measurably different",
            exp_paired_str(e, a, b, exp_final_test_acc_trained));
}

static void plots(const experiment *e, FILE *md)
{
    double rate[NRATE_MAX], x[2][NRATE_MAX], y[2][NRATE_MAX];
    size_t n[2], vs[2][NRATE_MAX];
    for (size_t r = 0; r < nrate; r++)
        rate[r] = strtod(rates[r], NULL);
    family(0, vs[0]);
    family(1, vs[1]);
    const double *xs[2] = {x[0], x[1]}, *ys[2] = {y[0], y[1]};
    for (int bn = 0; bn < 2; bn++)
        n[bn] = exp_curve_val_acc(e, vs[bn], rate, nrate, 0.1, x[bn], y[bn]);
    exp_plot_curves(e, "val_accuracy_vs_lr.png", "Validation accuracy after "
                    "the last epoch vs the rate (diverged: 0.1)",
                    "learning rate", "validation accuracy", EXP_LOGX, 2, fam,
                    n, xs, ys);
    for (int bn = 0; bn < 2; bn++)
        n[bn] = exp_curve_epochs_to(e, vs[bn], rate, nrate, TARGET, x[bn],
                                    y[bn]);
    char title[128];
    snprintf(title, sizeof title, "Epochs to %.2f validation accuracy "
             "(mean over the seeds reaching it)", TARGET);
    exp_plot_curves(e, "epochs_to_target.png", title, "learning rate",
                    "epochs", EXP_LOGX, 2, fam, n, xs, ys);
    exp_plot(e, "val_accuracy.png", "Validation accuracy per epoch, every "
             "rate (a diverged run's curve stops)",
             "epoch", "validation accuracy", 0, exp_series_val_acc, NULL);
    exp_md_plot(e, md, "validation accuracy against the rate",
                "val_accuracy_vs_lr.png");
    fputs("\n", md);
    exp_md_plot(e, md, "epochs to the target", "epochs_to_target.png");
    fputs("\n", md);
    exp_md_plot(e, md, "validation accuracy per epoch", "val_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "CNN, stable rates (no divergence, %.2f validation accuracy "
               "within the epochs): %s without batch norm, %s with",
            TARGET, range_str(e, 0), range_str(e, 1));
    fprintf(f, "; runs fail (diverge, or end below %.1f validation "
               "accuracy) %s without, %s with",
            FAILED,
            failing_str(e, 0), failing_str(e, 1));
    size_t c0 = chosen(e, 0), c1 = chosen(e, 1);
    if (c0 < nrate && c1 < nrate) {
        size_t a = vid(1, c1), b = vid(0, c0);
        fprintf(f, "; at the rate chosen on validation (%s with vs %s "
                   "without) test accuracy %s vs %s (%s), epochs to %.2f "
                   "%s vs %s",
                rates[c1], rates[c0],
                exp_str(e, a, exp_final_test_acc_trained),
                exp_str(e, b, exp_final_test_acc_trained),
                exp_paired_str(e, a, b, exp_final_test_acc_trained), TARGET,
                exp_str(e, a, epochs_to_target),
                exp_str(e, b, epochs_to_target));
    }
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "batchnorm_cnn", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Batch norm in a CNN: the range of learning rates";
    e.question =
        "Does batch normalisation let the reference CNN train at higher "
        "learning rates and reach a given validation accuracy in fewer "
        "epochs (Ioffe & Szegedy 2015), and does it change the test "
        "accuracy at each one's best rate?";
    e.setting =
        "The reference CNN (--model cnn: 3x3 convolutions of 32 and 64 "
        "channels, each with a 2x2 max pool, then a dense layer of 128, "
        "ReLU), with batch norm before every hidden activation (after "
        "both convolutions and the dense layer: --batchnorm) or without; "
        "SGD with momentum 0.9 at a constant rate from 0.003 to 3 in "
        "half-decade steps, batch 128, 5 epochs. The first 12000 images of the "
        "shuffled training set, a fifth of them (2400) held out as the "
        "validation set that decides everything: whether a rate reaches "
        "the target accuracy (0.85), which rate is best; the test accuracy "
        "(10000 images) enters only at the chosen rates. Three seeds, the same "
        "for every variant, so every comparison is paired; a diverged run "
        "(a non-finite loss or gradient) is counted, never dropped.";
    if (e.quick)
        rates = quick_rates, nrate = sizeof quick_rates / sizeof *quick_rates;
    exp_default_seeds(&e, 3);
    for (int bn = 0; bn < 2; bn++)
        for (size_t r = 0; r < nrate; r++) {
            char name[32];
            snprintf(name, sizeof name, "%s lr=%s", bn ? "bn" : "plain",
                     rates[r]);
            exp_variant *v = exp_add(&e, name);
            v->o.model = BP_CELL_CNN;
            v->o.batchnorm = bn;
            v->o.lr = strtod(rates[r], NULL);
            v->o.limit_train = e.quick ? 1000 : 12000;
            v->o.val = 0.2;
            v->o.epochs = e.quick ? 1 : 5;
        }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
