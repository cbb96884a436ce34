/* experiments/activations.c - sigmoid vs tanh vs ReLU at 2 and 8 hidden
 * layers: accuracy, and each layer's gradient norm in the first epoch
 * (the vanishing gradient, Glorot & Bengio 2010). */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

static const char *const acts[] = {"sigmoid", "tanh", "relu"};
static const char *const depth_layers[2] = {
    "128,128", "128,128,128,128,128,128,128,128"};
static const int depths[2] = {2, 8};

/* mean over seeds of the first epoch's gradient norm of dense layer l */
static double first_epoch_norm(const experiment *e, size_t v, size_t l)
{
    double s = 0;
    size_t n = 0;
    for (size_t j = 0; j < e->nseeds; j++) {
        const exp_run *r = exp_get(e, v, j);
        if (r->nepochs && l < r->ndense && isfinite(r->epochs[0].grad_norm[l]))
            s += r->epochs[0].grad_norm[l], n++;
    }
    return n ? s / (double)n : NAN;
}

static size_t ndense_of(const experiment *e, size_t v)
{
    for (size_t j = 0; j < e->nseeds; j++)
        if (exp_get(e, v, j)->ndense)
            return exp_get(e, v, j)->ndense;
    return 0;
}

static size_t series_grad(const experiment *e, size_t v, double *x, double *y,
                          size_t cap)
{
    size_t n = ndense_of(e, v);
    for (size_t l = 0; l < n && l < cap; l++)
        x[l] = (double)(l + 1), y[l] = first_epoch_norm(e, v, l);
    return n < cap ? n : cap;
}

static void report(const experiment *e, FILE *md)
{
    /* variants: sigmoid-2 tanh-2 relu-2 sigmoid-8 tanh-8 relu-8 */
    exp_compare(e, md, 5, 3, exp_final_test_acc,
                "Deep nets (8 hidden layers), test accuracy", true);
    exp_compare(e, md, 4, 3, exp_final_test_acc,
                "Deep nets, tanh vs sigmoid", true);
    exp_compare(e, md, 2, 0, exp_final_test_acc,
                "Shallow nets (2 hidden layers), test accuracy", true);
    for (size_t v = 3; v < 6; v++) {
        size_t n = ndense_of(e, v);
        double first = first_epoch_norm(e, v, 0), last = first_epoch_norm(e, v, n - 1);
        if (n && isfinite(first) && isfinite(last) && first > 0)
            fprintf(md,
                    "- %s: in the first epoch the first layer's weight gradient "
                    "(norm %.3g) is %.3g times %s than the last layer's (%.3g): "
                    "%.1f orders of magnitude.\n",
                    e->variants[v].name, first,
                    first < last ? last / first : first / last,
                    first < last ? "smaller" : "larger", last,
                    fabs(log10(last / first)));
    }
    fprintf(md, "\nFirst-epoch gradient norm ||dL/dW|| by layer (mean over "
                "seeds):\n\n| variant |");
    size_t maxn = 0;
    for (size_t v = 0; v < e->nvariants; v++)
        if (ndense_of(e, v) > maxn)
            maxn = ndense_of(e, v);
    for (size_t l = 0; l < maxn; l++)
        fprintf(md, " layer %zu |", l + 1);
    fprintf(md, "\n|---|");
    for (size_t l = 0; l < maxn; l++)
        fprintf(md, "---|");
    fprintf(md, "\n");
    for (size_t v = 0; v < e->nvariants; v++) {
        fprintf(md, "| %s |", e->variants[v].name);
        for (size_t l = 0; l < maxn; l++) {
            double g = first_epoch_norm(e, v, l);
            if (l < ndense_of(e, v) && isfinite(g))
                fprintf(md, " %.3g |", g);
            else
                fprintf(md, " |");
        }
        fprintf(md, "\n");
    }
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch (mean over seeds)",
             "epoch", "test accuracy", 0, exp_series_test_acc, NULL);
    exp_plot(e, "grad_norm_by_layer.png",
             "First-epoch weight-gradient norm by layer (input = 1)",
             "dense layer", "mean ||dL/dW|| over the first epoch", EXP_LOGY,
             series_grad, NULL);
    exp_md_plot(e, md, "test accuracy", "test_accuracy.png");
    fputs("\n", md);
    exp_md_plot(e, md, "gradient norm by layer", "grad_norm_by_layer.png");
}

static void headline(const experiment *e, FILE *f)
{
    size_t n = ndense_of(e, 3);
    double first = first_epoch_norm(e, 3, 0), last = first_epoch_norm(e, 3, n ? n - 1 : 0);
    fprintf(f, "8 layers: ReLU %s, tanh %s, sigmoid %s test accuracy; sigmoid's "
               "first-layer gradient is %.1f orders of magnitude below its last",
            exp_str(e, 5, exp_final_test_acc), exp_str(e, 4, exp_final_test_acc),
            exp_str(e, 3, exp_final_test_acc),
            first > 0 && isfinite(last) ? log10(last / first) : NAN);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "activations", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Activations: sigmoid vs tanh vs ReLU, shallow and deep";
    e.question =
        "Do saturating activations starve the early layers of a deep net of "
        "gradient (the vanishing gradient, Glorot & Bengio 2010), so that "
        "ReLU trains deep nets that sigmoid cannot?";
    e.setting =
        "Fashion-MNIST, hidden layers of 128 units, 2 or 8 of them; SGD with "
        "momentum 0.9, lr 0.01, batch 128; Glorot (Xavier) initialisation "
        "for sigmoid and tanh, He for ReLU, as each is meant to be used. A "
        "moderate rate and no normalisation leave the gradient's decay "
        "through the sigmoid's derivative (at most 1/4 per layer) visible in "
        "the per-layer norms.";
    for (int d = 0; d < 2; d++)
        for (int a = 0; a < 3; a++) {
            char name[32];
            snprintf(name, sizeof name, "%s-%d", acts[a], depths[d]);
            exp_variant *v = exp_add(&e, name);
            v->o.act = a == 0 ? BP_ACT_SIGMOID : a == 1 ? BP_ACT_TANH : BP_ACT_RELU;
            v->o.layers = depth_layers[d];
            v->o.lr = 0.01;
            v->o.epochs = e.quick ? 2 : 10;
            if (e.quick)
                v->o.limit_train = 10000;
        }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
