/* experiments/loss.c - squared error against cross-entropy on a softmax
 * classifier, from the usual start and from one where the softmax is
 * saturated (confidently wrong), each loss at the learning rate its
 * validation accuracy chooses; compared on the test set, paired over the
 * seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/harness.h"

static const char *const rates[] = {"1e-3", "3e-3", "1e-2",
                                    "3e-2", "0.1",  "0.3"};
#define NRATE (sizeof rates / sizeof rates[0])
#define TARGET 0.85 /* validation accuracy */
#define SAT_GAIN 3.0 /* the saturated start: every layer's init x 3 */

enum { CE, MSE, NLOSS };
static const char *const loss_title[NLOSS] = {"cross-entropy", "MSE"};
enum { STD, SAT, NSTART };
static const char *const start_title[NSTART] = {
    "standard start (He init)", "saturated start (He init x 3)"};

static size_t vid(int s, int l, size_t r)
{
    return ((size_t)s * NLOSS + (size_t)l) * NRATE + r;
}

static double first_epoch_acc(const exp_run *r)
{
    return r->nepochs && !r->diverged ? r->epochs[0].test_acc : NAN;
}

static double epochs_to_target_capped(const exp_run *r)
{
    double k = exp_epoch_reaching(r, TARGET);
    if (isfinite(k))
        return k;
    return r->nepochs && !r->diverged ? (double)r->nepochs + 1 : NAN;
}

/* the rate of loss l from start s chosen on validation data; NRATE: none */
static size_t chosen(const experiment *e, int s, int l)
{
    size_t vs[NRATE];
    for (size_t r = 0; r < NRATE; r++)
        vs[r] = vid(s, l, r);
    return exp_choose(e, vs, NRATE, exp_final_val_acc);
}

/* the highest mean final validation accuracy of loss l from start s over
 * the rates (a diverged seed counting as chance) */
static double best_val(const experiment *e, int s, int l)
{
    double rate[NRATE], x[NRATE], y[NRATE], best = NAN;
    size_t vs[NRATE];
    for (size_t r = 0; r < NRATE; r++)
        rate[r] = strtod(rates[r], NULL), vs[r] = vid(s, l, r);
    size_t n = exp_curve_val_acc(e, vs, rate, NRATE, 0.1, x, y);
    for (size_t k = 0; k < n; k++)
        if (!(y[k] <= best))
            best = y[k];
    return best;
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "Validation accuracy after the last epoch (a tenth of the "
                "training images, held out), at each rate:\n\n| lr |");
    for (int s = 0; s < NSTART; s++)
        for (int l = 0; l < NLOSS; l++)
            fprintf(md, " %s, %s |", loss_title[l], s == STD ? "standard"
                                                              : "saturated");
    fprintf(md, "\n|---|---|---|---|---|\n");
    for (size_t r = 0; r < NRATE; r++) {
        fprintf(md, "| %s |", rates[r]);
        for (int s = 0; s < NSTART; s++)
            for (int l = 0; l < NLOSS; l++) {
                size_t v = vid(s, l, r), k = exp_diverged(e, v);
                fprintf(md, " %s%s", exp_str(e, v, exp_final_val_acc),
                        chosen(e, s, l) == r ? " (chosen)" : "");
                if (k)
                    fprintf(md, ", %zu/%zu diverged", k, exp_recorded(e, v));
                fprintf(md, " |");
            }
        fprintf(md, "\n");
    }
    fprintf(md, "\nThe rate of each loss and start with the highest mean "
                "validation accuracy, among the rates where no seed "
                "diverged, is chosen (marked) before any test number is "
                "read.\n\n");
    for (int s = 0; s < NSTART; s++) {
        size_t ca = chosen(e, s, CE), cb = chosen(e, s, MSE);
        fprintf(md, "%s:\n\n", start_title[s]);
        if (ca == NRATE || cb == NRATE) {
            fprintf(md, "- no comparison: a loss lost a seed at every "
                        "rate.\n\n");
            continue;
        }
        size_t a = vid(s, CE, ca), b = vid(s, MSE, cb);
        exp_compare_paired(e, md, a, b, exp_final_test_acc_trained,
                           "Test accuracy after the last epoch, each at its "
                           "chosen rate, cross-entropy minus MSE", true);
        exp_compare_paired(e, md, a, b, first_epoch_acc,
                           "Test accuracy after the first epoch", true);
        exp_compare_paired(e, md, a, b, epochs_to_target_capped,
                           "Epochs to the target validation accuracy (a seed "
                           "that never reached it counts as one past the "
                           "last)", false);
        fprintf(md, "\n");
    }
    /* what the numbers say, sentence by sentence */
    fprintf(md, "Reading:\n\n");
    for (int s = 0; s < NSTART; s++) {
        size_t ca = chosen(e, s, CE), cb = chosen(e, s, MSE);
        if (ca == NRATE || cb == NRATE)
            continue;
        fprintf(md, "- %s: ", start_title[s]);
        static const char *const when[2] = {"after the first epoch",
                                            "after the last"};
        exp_metric_fn *const fs[2] = {first_epoch_acc,
                                      exp_final_test_acc_trained};
        for (int k = 0; k < 2; k++) {
            double m, sd, ci;
            size_t n = exp_paired(e, vid(s, CE, ca), vid(s, MSE, cb), fs[k],
                                  &m, &sd, &ci);
            fprintf(md, "%s", k ? "; " : "");
            if (n < 2 || !isfinite(ci))
                fprintf(md, "%s, too few paired seeds to compare", when[k]);
            else if (m - ci > 0)
                fprintf(md, "%s cross-entropy is ahead by %.4f test "
                            "accuracy", when[k], m);
            else if (m + ci < 0)
                fprintf(md, "%s MSE is ahead by %.4f test accuracy", when[k],
                        -m);
            else
                fprintf(md, "%s the two are level (difference %+.4f, within "
                            "its interval)", when[k], m);
        }
        fprintf(md, ".\n");
    }
    double sat_mse = best_val(e, SAT, MSE), sat_ce = best_val(e, SAT, CE);
    if (isfinite(sat_mse) && sat_mse < 0.2)
        fprintf(md, "- From the saturated start MSE stays at chance at "
                    "every rate from %s to %s (best mean validation "
                    "accuracy %.4f), where cross-entropy reaches %.4f: "
                    "through a saturated softmax the squared error's "
                    "gradient vanishes, and no rate in the sweep brings it "
                    "back.\n",
                rates[0], rates[NRATE - 1], sat_mse, sat_ce);
    else if (isfinite(sat_mse))
        fprintf(md, "- From the saturated start MSE does leave chance (best "
                    "mean validation accuracy %.4f; cross-entropy %.4f).\n",
                sat_mse, sat_ce);
}

static void plots(const experiment *e, FILE *md)
{
    double rate[NRATE], x[NSTART * NLOSS][NRATE], y[NSTART * NLOSS][NRATE];
    size_t n[NSTART * NLOSS], vs[NSTART * NLOSS][NRATE];
    const double *xs[NSTART * NLOSS], *ys[NSTART * NLOSS];
    static char name[NSTART * NLOSS][64];
    const char *names[NSTART * NLOSS];
    for (int s = 0; s < NSTART; s++)
        for (int l = 0; l < NLOSS; l++) {
            int c = s * NLOSS + l;
            for (size_t r = 0; r < NRATE; r++)
                rate[r] = strtod(rates[r], NULL), vs[c][r] = vid(s, l, r);
            snprintf(name[c], sizeof name[c], "%s, %s", loss_title[l],
                     s == STD ? "standard start" : "saturated start");
            names[c] = name[c], xs[c] = x[c], ys[c] = y[c];
            n[c] = exp_curve_val_acc(e, vs[c], rate, NRATE, 0.1, x[c], y[c]);
        }
    exp_plot_curves(e, "val_accuracy_vs_lr.png", "Validation accuracy after "
                    "the last epoch against the learning rate (a diverged "
                    "run counts as chance, 0.1)", "learning rate",
                    "validation accuracy", EXP_LOGX, NSTART * NLOSS, names,
                    n, xs, ys);
    bool which[EXP_MAX_VARIANTS] = {false};
    for (int s = 0; s < NSTART; s++)
        for (int l = 0; l < NLOSS; l++)
            if (chosen(e, s, l) < NRATE)
                which[vid(s, l, chosen(e, s, l))] = true;
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch, each at its "
             "chosen rate", "epoch", "test accuracy", 0, exp_series_test_acc,
             which);
    exp_md_plot(e, md, "validation accuracy against the rate",
                "val_accuracy_vs_lr.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test accuracy", "test_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    for (int s = 0; s < NSTART; s++) {
        size_t ca = chosen(e, s, CE), cb = chosen(e, s, MSE);
        fprintf(f, "%s%s: ", s ? "; " : "", start_title[s]);
        if (ca == NRATE || cb == NRATE) {
            fprintf(f, "a loss lost a seed at every rate");
            continue;
        }
        size_t a = vid(s, CE, ca), b = vid(s, MSE, cb);
        fprintf(f, "test accuracy %s with cross-entropy (lr %s) vs %s with "
                   "MSE (lr %s), %s; after the first epoch %s vs %s, %s",
                exp_str(e, a, exp_final_test_acc_trained), rates[ca],
                exp_str(e, b, exp_final_test_acc_trained), rates[cb],
                exp_paired_str(e, a, b, exp_final_test_acc_trained),
                exp_str(e, a, first_epoch_acc), exp_str(e, b, first_epoch_acc),
                exp_paired_str(e, a, b, first_epoch_acc));
    }
    double sat_mse = best_val(e, SAT, MSE);
    if (isfinite(sat_mse) && sat_mse < 0.2)
        fprintf(f, "; from the saturated start MSE stays at chance at every "
                   "rate");
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "loss", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "MSE vs cross-entropy for classification";
    e.question =
        "Does cross-entropy train a softmax classifier better than squared "
        "error on the same outputs, and does the difference appear where "
        "theory puts it, when the softmax starts saturated and confidently "
        "wrong (Golik et al. 2013)? Through a saturated softmax the "
        "squared error's gradient vanishes; cross-entropy's is simply "
        "p - y.";
    e.setting =
        "Fashion-MNIST, 784-256-128-10 ReLU, SGD with momentum 0.9, batch "
        "128, 10 epochs; MSE is between softmax(outputs) and the one-hot "
        "target. Two starts: He init, and He init with every weight "
        "multiplied by 3 (the logits by 27: the initial softmax is nearly "
        "one-hot, and mostly wrong). Each loss and start over lr 1e-3 .. "
        "0.3 in half decades; a tenth of the training set (6000 images) is "
        "held out and its accuracy chooses each one's rate. Ten seeds, the "
        "same for every variant, so every comparison is paired.";
    exp_default_seeds(&e, 10);
    for (int s = 0; s < NSTART; s++)
        for (int l = 0; l < NLOSS; l++)
            for (size_t r = 0; r < NRATE; r++) {
                char name[48];
                snprintf(name, sizeof name, "%s%s lr=%s",
                         l == CE ? "ce" : "mse", s == SAT ? "-saturated" : "",
                         rates[r]);
                exp_variant *v = exp_add(&e, name);
                v->o.loss = l == CE ? BP_LOSS_CE : BP_LOSS_MSE;
                v->o.init_gain = s == SAT ? SAT_GAIN : 1.0;
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
