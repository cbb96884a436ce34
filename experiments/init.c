/* experiments/init.c - weight initialisation in deep plain nets: small
 * random numbers N(0, 0.01^2), the "standard" U(+-1/sqrt(fan_in)),
 * Xavier (Glorot & Bengio 2010) and He (He et al. 2015), under sigmoid,
 * tanh and ReLU at 8 and 20 hidden layers: test accuracy, and how the
 * weight gradient's size changes from the last layer to the first in the
 * first epoch. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

static const char *const acts[3] = {"sigmoid", "tanh", "relu"};
static const bp_act act_of[3] = {BP_ACT_SIGMOID, BP_ACT_TANH, BP_ACT_RELU};
static const char *const inits[4] = {"normal", "uniform", "xavier", "he"};
static const bp_init init_of[4] = {BP_INIT_NORMAL, BP_INIT_UNIFORM,
                                   BP_INIT_XAVIER, BP_INIT_HE};
static const int depths[2] = {8, 20};
enum { NINIT = 4, NACT = 3, NDEPTH = 2, XAVIER = 2, HE = 3 };

/* variant of (depth, activation, init) */
static size_t vid(int d, int a, int i)
{
    return ((size_t)d * NACT + (size_t)a) * NINIT + (size_t)i;
}

/* the init each activation is meant for: He for ReLU, Xavier else */
static int matched(int a) { return act_of[a] == BP_ACT_RELU ? HE : XAVIER; }

/* the first epoch's mean weight-gradient norm of dense layer l */
static double norm0(const exp_run *r, size_t l)
{
    return r->nepochs && l < r->ndense ? r->epochs[0].grad_norm[l] : NAN;
}

/* log10 of the first layer's first-epoch gradient norm over the last
 * hidden layer's (the output layer's own is left out: it sees the loss
 * directly): below 0, the gradient shrinks on its way down */
static double log_ratio(const exp_run *r)
{
    if (r->ndense < 3)
        return NAN;
    double first = norm0(r, 0), last = norm0(r, r->ndense - 2);
    return first > 0 && last > 0 ? log10(first / last) : NAN;
}

/* mean over the seeds of the first epoch's norm of layer l */
static double mean_norm0(const experiment *e, size_t v, size_t l)
{
    double s = 0;
    size_t n = 0;
    for (size_t j = 0; j < e->nseeds; j++) {
        double g = norm0(exp_get(e, v, j), l);
        if (isfinite(g))
            s += g, n++;
    }
    return n ? s / (double)n : NAN;
}

static size_t series_grad(const experiment *e, size_t v, double *x,
                          double *y, size_t cap)
{
    size_t n = 0, nd = 0;
    for (size_t j = 0; j < e->nseeds && !nd; j++)
        nd = exp_get(e, v, j)->ndense;
    for (size_t l = 0; l < nd && n < cap; l++)
        x[n] = (double)(l + 1), y[n++] = mean_norm0(e, v, l);
    return n;
}

static void report(const experiment *e, FILE *md)
{
    for (int d = 0; d < NDEPTH; d++) {
        fprintf(md, "Test accuracy after the last epoch, %d hidden layers "
                    "(mean ± sd over seeds; diverged runs counted):\n\n"
                    "| activation | normal | uniform | xavier | he |\n"
                    "|---|---|---|---|---|\n", depths[d]);
        for (int a = 0; a < NACT; a++) {
            fprintf(md, "| %s |", acts[a]);
            for (int i = 0; i < NINIT; i++) {
                size_t v = vid(d, a, i), k = exp_diverged(e, v);
                fprintf(md, " %s%s", exp_str(e, v, exp_final_test_acc),
                        i == matched(a) ? " (its own)" : "");
                if (k)
                    fprintf(md, ", %zu/%u diverged", k, e->nseeds);
                fprintf(md, " |");
            }
            fprintf(md, "\n");
        }
        fprintf(md, "\n");
    }
    fprintf(md, "First epoch: log10 of the first layer's mean "
                "weight-gradient norm over the last hidden layer's "
                "(negative: the gradient shrinks on its way back; -3 is a "
                "thousandth):\n\n| depth, activation | normal | uniform | "
                "xavier | he |\n|---|---|---|---|---|\n");
    for (int d = 0; d < NDEPTH; d++)
        for (int a = 0; a < NACT; a++) {
            fprintf(md, "| %d, %s |", depths[d], acts[a]);
            for (int i = 0; i < NINIT; i++)
                fprintf(md, " %s |", exp_str(e, vid(d, a, i), log_ratio));
            fprintf(md, "\n");
        }
    fprintf(md, "\nThe init each activation is meant for against the "
                "others, paired over the seeds (each seed's difference, "
                "then their mean and 95%% t-interval):\n\n");
    for (int d = 0; d < NDEPTH; d++)
        for (int a = 0; a < NACT; a++)
            for (int i = 0; i < NINIT; i++)
                if (i != matched(a))
                    exp_compare_paired(e, md, vid(d, a, matched(a)),
                                       vid(d, a, i), exp_final_test_acc,
                                       "Test accuracy after the last epoch",
                                       true);
}

static void plots(const experiment *e, FILE *md)
{
    for (int a = 0; a < NACT; a++) {
        bool which[EXP_MAX_VARIANTS] = {false};
        for (int i = 0; i < NINIT; i++)
            which[vid(1, a, i)] = true;
        char png[64], title[128], alt[64];
        snprintf(png, sizeof png, "grad_norm_%s.png", acts[a]);
        snprintf(alt, sizeof alt, "gradient norm by layer, %s", acts[a]);
        snprintf(title, sizeof title, "First-epoch weight-gradient norm by "
                 "layer, %s, %d hidden layers (input = 1)", acts[a],
                 depths[1]);
        exp_plot(e, png, title, "dense layer",
                 "mean ||dL/dW|| over the first epoch", EXP_LOGY, series_grad,
                 which);
        exp_md_plot(e, md, alt, png);
        fputs("\n", md);
    }
    bool which[EXP_MAX_VARIANTS] = {false};
    for (int a = 0; a < NACT; a++)
        for (int i = 0; i < NINIT; i++)
            which[vid(1, a, i)] = true;
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch, 20 hidden "
             "layers (mean over seeds)", "epoch", "test accuracy", 0,
             exp_series_test_acc, which);
    exp_md_plot(e, md, "test accuracy, 20 hidden layers", "test_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "20 layers, test accuracy with N(0, 0.01^2) / "
               "U(+-1/sqrt(n)) / Xavier / He init:");
    for (int a = 0; a < NACT; a++) {
        fprintf(f, " %s", acts[a]);
        for (int i = 0; i < NINIT; i++) {
            double m, sd, ci;
            size_t v = vid(1, a, i);
            fprintf(f, "%s", i ? " / " : " ");
            if (exp_stats(e, v, exp_final_test_acc, &m, &sd, &ci))
                fprintf(f, "%.3f", m);
            else
                fprintf(f, "n/a");
        }
        fprintf(f, "%s", a + 1 < NACT ? ";" : "");
    }
    size_t relu_he = vid(1, 2, HE);
    fprintf(f, "; ReLU, He minus Xavier: %s",
            exp_paired_str(e, relu_he, vid(1, 2, XAVIER), exp_final_test_acc));
    fprintf(f, "; first-epoch gradient of the first layer over the last "
               "hidden layer's: 10^%s for sigmoid with Xavier, 10^%s for "
               "ReLU with He",
            exp_str(e, vid(1, 0, XAVIER), log_ratio),
            exp_str(e, relu_he, log_ratio));
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "init", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Weight initialisation in deep plain nets";
    e.question =
        "Does the scale of the initial weights decide whether a deep net "
        "without normalisation trains at all: small random numbers and "
        "U(+-1/sqrt(n)) let the signal and its gradient shrink layer by "
        "layer, Xavier's variance keeps them for tanh and sigmoid (Glorot "
        "& Bengio 2010) and He's for ReLU (He et al. 2015)?";
    e.setting =
        "Fashion-MNIST, hidden layers of 128 units, 8 or 20 of them, no "
        "batch norm; SGD with momentum 0.9, lr 0.01, batch 128, 10 epochs "
        "(the activations experiment's recipe). Weights from N(0, 0.01^2) "
        "(`--init normal`), U(+-1/sqrt(fan_in)) (`--init uniform`, the "
        "heuristic Glorot & Bengio call standard), Xavier "
        "U(+-sqrt(6/(fan_in+fan_out))) or He N(0, 2/fan_in); biases 0. "
        "Gradient norms are each layer's ||dL/dW|| averaged over the first "
        "epoch's steps. Ten seeds, the same for every variant, so every "
        "comparison is paired.";
    exp_default_seeds(&e, 10);
    static char layers[NDEPTH][20 * 4];
    for (int d = 0; d < NDEPTH; d++)
        for (int l = 0, p = 0; l < depths[d]; l++)
            p += snprintf(layers[d] + p, sizeof layers[d] - (size_t)p,
                          "%s128", l ? "," : "");
    for (int d = 0; d < NDEPTH; d++)
        for (int a = 0; a < NACT; a++)
            for (int i = 0; i < NINIT; i++) {
                char name[32];
                snprintf(name, sizeof name, "%s-%d %s", acts[a], depths[d],
                         inits[i]);
                exp_variant *v = exp_add(&e, name);
                v->o.layers = layers[d];
                v->o.act = act_of[a];
                v->o.init = init_of[i];
                v->o.lr = 0.01;
                v->o.epochs = e.quick ? 2 : 10;
                if (e.quick)
                    v->o.limit_train = 5000;
            }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
