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

/* log10 of the first dense layer's first-epoch gradient norm over the
 * last one's, per seed: how many orders of magnitude the gradient loses
 * on its way down (negative: the first layer gets less) */
static double log_grad_ratio(const exp_run *r)
{
    if (!r->nepochs || r->ndense < 2)
        return NAN;
    double first = r->epochs[0].grad_norm[0];
    double last = r->epochs[0].grad_norm[r->ndense - 1];
    return first > 0 && last > 0 ? log10(first / last) : NAN;
}

static void report(const experiment *e, FILE *md)
{
    /* variants: sigmoid-2 tanh-2 relu-2 sigmoid-8 tanh-8 relu-8 */
    fprintf(md, "Test accuracy after the last epoch, paired over the "
                "seeds:\n\n");
    exp_compare_paired(e, md, 5, 3, exp_final_test_acc,
                       "Deep nets (8 hidden layers), ReLU minus sigmoid",
                       true);
    exp_compare_paired(e, md, 5, 4, exp_final_test_acc,
                       "Deep nets, ReLU minus tanh", true);
    exp_compare_paired(e, md, 4, 3, exp_final_test_acc,
                       "Deep nets, tanh minus sigmoid", true);
    exp_compare_paired(e, md, 2, 0, exp_final_test_acc,
                       "Shallow nets (2 hidden layers), ReLU minus sigmoid",
                       true);
    exp_compare_paired(e, md, 2, 1, exp_final_test_acc,
                       "Shallow nets, ReLU minus tanh", true);
    fprintf(md, "\nOrders of magnitude between the first layer's "
                "first-epoch gradient norm and the last layer's, "
                "log10(first / last), per seed:\n\n| variant | log10 "
                "ratio |\n|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++)
        fprintf(md, "| %s | %s |\n", e->variants[v].name,
                exp_str(e, v, log_grad_ratio));
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
    fprintf(f, "8 layers: test accuracy ReLU %s, tanh %s, sigmoid %s; ReLU "
               "minus sigmoid %s, ReLU minus tanh %s; first-epoch gradient "
               "of the first layer over the last, log10: sigmoid %s, tanh "
               "%s, ReLU %s",
            exp_str(e, 5, exp_final_test_acc), exp_str(e, 4, exp_final_test_acc),
            exp_str(e, 3, exp_final_test_acc),
            exp_paired_str(e, 5, 3, exp_final_test_acc),
            exp_paired_str(e, 5, 4, exp_final_test_acc),
            exp_str(e, 3, log_grad_ratio), exp_str(e, 4, log_grad_ratio),
            exp_str(e, 5, log_grad_ratio));
    exp_diverged_note(e, f);
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
        "momentum 0.9, lr 0.01, batch 128, 10 epochs; Glorot (Xavier) "
        "initialisation for sigmoid and tanh, He for ReLU, as each is meant "
        "to be used. A moderate rate and no normalisation leave the "
        "gradient's decay through the sigmoid's derivative (at most 1/4 per "
        "layer) visible in the per-layer norms. Ten seeds, the same for "
        "every variant, so every comparison is paired.";
    exp_default_seeds(&e, 10);
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
