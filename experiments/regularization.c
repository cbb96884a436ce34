/* experiments/regularization.c - none vs L2 vs L1 at two strengths each on
 * the overfitting setup: train/test gap, weight norm, near-zero weights. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

static double final_weight_norm(const exp_run *r)
{
    return r->nepochs ? r->epochs[r->nepochs - 1].weight_norm : NAN;
}

static double final_zero_frac(const exp_run *r)
{
    return r->nepochs ? r->epochs[r->nepochs - 1].zero_frac : NAN;
}

static size_t series_gap(const experiment *e, size_t v, double *x, double *y,
                         size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; k < cap; k++) {
        double s = 0;
        size_t c = 0;
        for (size_t j = 0; j < e->nseeds; j++) {
            const exp_run *r = exp_get(e, v, j);
            if (k < r->nepochs)
                s += r->epochs[k].train_eval_acc - r->epochs[k].test_acc, c++;
        }
        if (!c)
            break;
        x[n] = (double)(k + 1), y[n++] = s / (double)c;
    }
    return n;
}

static void report(const experiment *e, FILE *md)
{
    for (size_t v = 1; v < e->nvariants; v++) {
        char what[64];
        snprintf(what, sizeof what, "Train-test gap, %s vs none",
                 e->variants[v].name);
        exp_compare(e, md, v, 0, exp_final_gap, what, false);
    }
    /* the regularized variant with the best test accuracy, vs none */
    size_t best = 0;
    double best_acc = 0.0;
    for (size_t v = 1; v < e->nvariants; v++) {
        double m, sd, ci;
        if (exp_stats(e, v, exp_final_test_acc, &m, &sd, &ci) && m > best_acc)
            best = v, best_acc = m;
    }
    if (best)
        exp_compare(e, md, best, 0, exp_final_test_acc,
                    "Test accuracy, the best regularized variant vs none", true);
    exp_compare(e, md, 4, 0, final_zero_frac,
                "Fraction of weights below 1e-3 in magnitude, strong L1 vs none",
                true);
    fprintf(md, "\n| variant | weight norm ||W||_2 | weights with |w| < 1e-3 | "
                "test loss |\n|---|---|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++) {
        double m, s, c, mz, sz, cz, ml, sl, cl;
        size_t n = exp_stats(e, v, final_weight_norm, &m, &s, &c);
        size_t nz = exp_stats(e, v, final_zero_frac, &mz, &sz, &cz);
        size_t nl = exp_stats(e, v, exp_final_test_loss, &ml, &sl, &cl);
        char a[64], b[64], d[64];
        exp_fmt(a, sizeof a, m, s, n);
        exp_fmt(b, sizeof b, mz, sz, nz);
        exp_fmt(d, sizeof d, ml, sl, nl);
        fprintf(md, "| %s | %s | %s | %s |\n", e->variants[v].name, a, b, d);
    }
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "gap.png", "Train accuracy - test accuracy per epoch",
             "epoch", "train-test accuracy gap", 0, series_gap, NULL);
    exp_plot(e, "weight_norm.png", "L2 norm of all weights per epoch", "epoch",
             "||W||_2", EXP_LOGY, exp_series_weight_norm, NULL);
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch", "epoch",
             "test accuracy", 0, exp_series_test_acc, NULL);
    fprintf(md, "![gap](gap.png)\n\n![weight norm](weight_norm.png)\n\n"
                "![test accuracy](test_accuracy.png)\n");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "train-test gap %s without, %s with L2 5e-3, %s with L1 5e-4; "
               "L1 5e-4 leaves %s of weights below 1e-3 (none: %s)",
            exp_str(e, 0, exp_final_gap), exp_str(e, 2, exp_final_gap),
            exp_str(e, 4, exp_final_gap), exp_str(e, 4, final_zero_frac),
            exp_str(e, 0, final_zero_frac));
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "regularization", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "L2 and L1 regularisation against overfitting";
    e.question = "Do L2 weight decay and L1 penalties shrink the train/test "
                 "gap of an overfitting net, and does L1 drive weights to "
                 "zero (sparsity) where L2 only shrinks them?";
    e.setting =
        "The dropout experiment's overfitting setup: 784-1024-1024-10 on "
        "3000 Fashion-MNIST samples, 50 epochs, SGD with momentum 0.9, lr "
        "0.05; L2 (coupled weight decay) 5e-4 and 5e-3, L1 5e-5 and 5e-4, "
        "on the weights only (not biases). A weight counts as near zero "
        "below 1e-3 in magnitude.";
    struct { const char *name; double l2, l1; } vs[5] = {
        {"none", 0, 0}, {"l2=5e-4", 5e-4, 0}, {"l2=5e-3", 5e-3, 0},
        {"l1=5e-5", 0, 5e-5}, {"l1=5e-4", 0, 5e-4}};
    for (int i = 0; i < 5; i++) {
        exp_variant *v = exp_add(&e, vs[i].name);
        v->o.layers = "1024,1024";
        v->o.l2 = vs[i].l2;
        v->o.l1 = vs[i].l1;
        v->o.limit_train = e.quick ? 1000 : 3000;
        v->o.epochs = e.quick ? 8 : 50;
        v->o.eval_train = true;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
