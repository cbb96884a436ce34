/* experiments/optimizers.c - plain SGD, SGD with momentum and Adam, each
 * over a log-spaced range of learning rates: the best rate of each chosen
 * on validation data and compared on the test set (paired over the
 * seeds), how many epochs each needs to a target accuracy, and how
 * sensitive each is to its rate. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/harness.h"

static const char *const rates[] = {"1e-4", "3e-4", "1e-3", "3e-3", "1e-2",
                                    "3e-2", "0.1",  "0.3",  "1"};
#define NRATE (sizeof rates / sizeof rates[0])
#define TARGET 0.85 /* validation accuracy */
/* a rate is "near the best" when its mean validation accuracy is within
 * this of the chosen rate's */
#define NEAR 0.01

enum { NOPT = 3 };
static const char *const opts[NOPT] = {"sgd", "momentum", "adam"};
static const char *const opt_title[NOPT] = {"SGD", "momentum", "Adam"};
static const bp_optimizer opt_of[NOPT] = {BP_OPT_SGD, BP_OPT_MOMENTUM,
                                         BP_OPT_ADAM};

static size_t vid(int o, size_t r) { return (size_t)o * NRATE + r; }

static double epochs_to_target(const exp_run *r)
{
    return exp_epoch_reaching(r, TARGET);
}

/* for paired comparisons of speed: a run that never reached the target
 * counts as one epoch past the end */
static double epochs_to_target_capped(const exp_run *r)
{
    double k = epochs_to_target(r);
    if (isfinite(k))
        return k;
    return r->nepochs && !r->diverged ? (double)r->nepochs + 1 : NAN;
}

/* the rate of optimizer o chosen on validation data; NRATE: none */
static size_t chosen(const experiment *e, int o)
{
    size_t vs[NRATE];
    for (size_t r = 0; r < NRATE; r++)
        vs[r] = vid(o, r);
    return exp_choose(e, vs, NRATE, exp_final_val_acc);
}

/* The width in decades of the rates of optimizer o whose mean validation
 * accuracy is within NEAR of the chosen rate's (a diverged seed counting
 * as chance), from the lowest such rate to the highest; NAN if none was
 * chosen. */
static double near_width(const experiment *e, int o, size_t *lo, size_t *hi)
{
    size_t c = chosen(e, o);
    if (c == NRATE)
        return NAN;
    double rate[NRATE], x[NRATE], y[NRATE], best = NAN;
    size_t vs[NRATE];
    for (size_t r = 0; r < NRATE; r++)
        rate[r] = strtod(rates[r], NULL), vs[r] = vid(o, r);
    size_t n = exp_curve_val_acc(e, vs, rate, NRATE, 0.1, x, y);
    for (size_t k = 0; k < n; k++)
        if (x[k] == rate[c])
            best = y[k];
    *lo = NRATE, *hi = 0;
    for (size_t k = 0; k < n; k++)
        if (y[k] >= best - NEAR)
            for (size_t r = 0; r < NRATE; r++)
                if (rate[r] == x[k]) {
                    *lo = r < *lo ? r : *lo;
                    *hi = r > *hi ? r : *hi;
                }
    return *lo < NRATE ? log10(rate[*hi] / rate[*lo]) : NAN;
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "Validation accuracy after the last epoch (a tenth of the "
                "training images, held out), with the seeds that diverged, "
                "and the epochs to %.2f validation accuracy (mean over the "
                "seeds that reached it, and how many did):\n\n| lr |",
            TARGET);
    for (int o = 0; o < NOPT; o++)
        fprintf(md, " %s | epochs to %.2f |", opt_title[o], TARGET);
    fprintf(md, "\n|---|");
    for (int o = 0; o < NOPT; o++)
        fprintf(md, "---|---|");
    fprintf(md, "\n");
    size_t c[NOPT];
    for (int o = 0; o < NOPT; o++)
        c[o] = chosen(e, o);
    for (size_t r = 0; r < NRATE; r++) {
        fprintf(md, "| %s |", rates[r]);
        for (int o = 0; o < NOPT; o++) {
            size_t v = vid(o, r), k = exp_diverged(e, v);
            fprintf(md, " %s%s", exp_str(e, v, exp_final_val_acc),
                    c[o] == r ? " (chosen)" : "");
            if (k)
                fprintf(md, ", %zu/%zu diverged", k, exp_recorded(e, v));
            fprintf(md, " | %s (%zu/%zu) |", exp_str(e, v, epochs_to_target),
                    exp_reached(e, v, TARGET), exp_recorded(e, v));
        }
        fprintf(md, "\n");
    }
    fprintf(md, "\nThe rate of each optimizer with the highest mean "
                "validation accuracy, among the rates where no seed "
                "diverged, is chosen (marked) before any test number is "
                "read. Rates near the best (mean validation accuracy "
                "within %.2f of the chosen rate's; a diverged seed counts "
                "as chance):\n\n", NEAR);
    for (int o = 0; o < NOPT; o++) {
        size_t lo, hi;
        double w = near_width(e, o, &lo, &hi);
        if (isfinite(w))
            fprintf(md, "- %s: lr %s .. %s, %.1f decades\n", opt_title[o],
                    rates[lo], rates[hi], w);
        else
            fprintf(md, "- %s: no rate chosen (every rate lost a seed or "
                        "has no record)\n", opt_title[o]);
    }
    fprintf(md, "\nEach at its chosen rate, on the test set, paired over the "
                "seeds:\n\n");
    static const int pairs[3][2] = {{2, 1}, {1, 0}, {2, 0}};
    for (int p = 0; p < 3; p++) {
        int a = pairs[p][0], b = pairs[p][1];
        if (c[a] == NRATE || c[b] == NRATE)
            continue;
        exp_compare_paired(e, md, vid(a, c[a]), vid(b, c[b]),
                           exp_final_test_acc_trained,
                           "Test accuracy after the last epoch", true);
        exp_compare_paired(e, md, vid(a, c[a]), vid(b, c[b]),
                           exp_final_test_loss,
                           "Test loss after the last epoch", false);
        exp_compare_paired(e, md, vid(a, c[a]), vid(b, c[b]),
                           epochs_to_target_capped,
                           "Epochs to the target validation accuracy (a "
                           "seed that never reached it counts as one past "
                           "the last)", false);
    }
}

static void plots(const experiment *e, FILE *md)
{
    double rate[NRATE], x[NOPT][NRATE], y[NOPT][NRATE];
    size_t n[NOPT], vs[NOPT][NRATE];
    const double *xs[NOPT], *ys[NOPT];
    for (int o = 0; o < NOPT; o++) {
        for (size_t r = 0; r < NRATE; r++)
            rate[r] = strtod(rates[r], NULL), vs[o][r] = vid(o, r);
        xs[o] = x[o], ys[o] = y[o];
    }
    for (int o = 0; o < NOPT; o++)
        n[o] = exp_curve_val_acc(e, vs[o], rate, NRATE, 0.1, x[o], y[o]);
    exp_plot_curves(e, "val_accuracy_vs_lr.png", "Validation accuracy after "
                    "the last epoch against the learning rate (a diverged "
                    "run counts as chance, 0.1)", "learning rate",
                    "validation accuracy", EXP_LOGX, NOPT, opt_title, n, xs,
                    ys);
    for (int o = 0; o < NOPT; o++)
        n[o] = exp_curve_epochs_to(e, vs[o], rate, NRATE, TARGET, x[o], y[o]);
    char title[128];
    snprintf(title, sizeof title, "Epochs to %.2f validation accuracy "
             "(mean over the seeds that reached it)", TARGET);
    exp_plot_curves(e, "epochs_to_target.png", title, "learning rate",
                    "epochs", EXP_LOGX, NOPT, opt_title, n, xs, ys);
    bool which[EXP_MAX_VARIANTS] = {false};
    for (int o = 0; o < NOPT; o++)
        if (chosen(e, o) < NRATE)
            which[vid(o, chosen(e, o))] = true;
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch, each at its "
             "chosen rate", "epoch", "test accuracy", 0, exp_series_test_acc,
             which);
    exp_md_plot(e, md, "validation accuracy against the rate",
                "val_accuracy_vs_lr.png");
    fputs("\n", md);
    exp_md_plot(e, md, "epochs to the target", "epochs_to_target.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test accuracy per epoch", "test_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    size_t c[NOPT];
    for (int o = 0; o < NOPT; o++)
        c[o] = chosen(e, o);
    if (c[0] == NRATE || c[1] == NRATE || c[2] == NRATE) {
        fprintf(f, "some optimizer lost a seed at every rate: no comparison");
        exp_diverged_note(e, f);
        return;
    }
    fprintf(f, "at the rate chosen on validation (SGD %s, momentum %s, Adam "
               "%s) test accuracy %s / %s / %s; Adam minus momentum %s, "
               "momentum minus SGD %s; epochs to %.2f %s / %s / %s; rates "
               "within %.2f of the best",
            rates[c[0]], rates[c[1]], rates[c[2]],
            exp_str(e, vid(0, c[0]), exp_final_test_acc_trained),
            exp_str(e, vid(1, c[1]), exp_final_test_acc_trained),
            exp_str(e, vid(2, c[2]), exp_final_test_acc_trained),
            exp_paired_str(e, vid(2, c[2]), vid(1, c[1]),
                           exp_final_test_acc_trained),
            exp_paired_str(e, vid(1, c[1]), vid(0, c[0]),
                           exp_final_test_acc_trained),
            TARGET, exp_str(e, vid(0, c[0]), epochs_to_target),
            exp_str(e, vid(1, c[1]), epochs_to_target),
            exp_str(e, vid(2, c[2]), epochs_to_target), NEAR);
    for (int o = 0; o < NOPT; o++) {
        size_t lo, hi;
        fprintf(f, "%s%.1f decades", o ? " / " : ": ",
                near_width(e, o, &lo, &hi));
    }
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "optimizers", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Optimizers over their learning rates: SGD, momentum, Adam";
    e.question =
        "Each at its own best learning rate, found on validation data, how "
        "do plain SGD, SGD with momentum (Polyak 1964; Sutskever et al. "
        "2013) and Adam (Kingma & Ba 2015) compare in final accuracy and "
        "in epochs to a target, and how wide is the range of rates each "
        "trains well at?";
    e.setting =
        "The reference MLP (784-256-128-10 ReLU, batch 128, 10 epochs, a "
        "constant rate) with plain SGD, momentum 0.9 and Adam (beta 0.9, "
        "0.999, eps 1e-8), each at lr 1e-4 .. 1 in half-decade steps. A "
        "tenth of the training set (6000 images) is held out: the "
        "validation set picks each optimizer's rate and says when a run "
        "reaches the target (0.85). Ten seeds, the same for every "
        "variant, so every comparison is paired.";
    exp_default_seeds(&e, 10);
    for (int o = 0; o < NOPT; o++)
        for (size_t r = 0; r < NRATE; r++) {
            char name[32];
            snprintf(name, sizeof name, "%s lr=%s", opts[o], rates[r]);
            exp_variant *v = exp_add(&e, name);
            v->o.opt = opt_of[o];
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
