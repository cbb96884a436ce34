/* experiments/gradient_flow.c - the gradient through a deep net over the
 * whole of training: each layer's gradient norm epoch by epoch and the
 * share of each layer's units that are saturated, for sigmoid, tanh and
 * ReLU, with and without batch normalisation (Glorot & Bengio 2010, Ioffe
 * & Szegedy 2015). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "experiments/harness.h"

enum { NACT = 3, NBN = 2 };
static const char *const act_name[NACT] = {"sigmoid", "tanh", "relu"};
static const int act_of[NACT] = {BP_ACT_SIGMOID, BP_ACT_TANH, BP_ACT_RELU};
#define DEPTH 8
#define HIDDEN "128,128,128,128,128,128,128,128"

static size_t vid(int a, int bn) { return (size_t)a * NBN + (size_t)bn; }

/* log10 of the first layer's gradient norm over the output layer's, at
 * epoch k (0-based) of a run that recorded it */
static double log_ratio_at(const exp_run *r, size_t k)
{
    if (k >= r->nepochs || r->ndense < 2)
        return NAN;
    double a = r->epochs[k].grad_norm[0];
    double b = r->epochs[k].grad_norm[r->ndense - 1];
    return a > 0 && b > 0 ? log10(a / b) : NAN;
}

/* the mean over the probed (hidden) layers of a share at epoch k */
static double mean_share(const exp_run *r, const double *share, size_t k)
{
    if (!share || k >= r->nepochs || !r->nact)
        return NAN;
    double s = 0;
    for (size_t a = 0; a < r->nact; a++)
        s += share[k * r->nact + a];
    return s / (double)r->nact;
}

static double ratio_first(const exp_run *r) { return log_ratio_at(r, 0); }

static double ratio_last(const exp_run *r)
{
    return r->done ? log_ratio_at(r, r->nepochs - 1) : NAN;
}

/* how far training moved the ratio: last minus first epoch, in decades */
static double ratio_change(const exp_run *r)
{
    return ratio_last(r) - ratio_first(r);
}

static double sat_first(const exp_run *r)
{
    return mean_share(r, r->saturated, 0);
}

static double sat_last(const exp_run *r)
{
    return r->done ? mean_share(r, r->saturated, r->nepochs - 1) : NAN;
}

static double dead_last(const exp_run *r)
{
    return r->done ? mean_share(r, r->dead, r->nepochs - 1) : NAN;
}

static double deriv_last(const exp_run *r)
{
    return r->done ? mean_share(r, r->deriv, r->nepochs - 1) : NAN;
}

/* log10 of the product over the hidden layers of the mean derivative:
 * what the activations alone would make of the backward signal */
static double log_deriv_product_last(const exp_run *r)
{
    if (!r->done || !r->deriv || !r->nepochs)
        return NAN;
    double s = 0;
    for (size_t a = 0; a < r->nact; a++)
        s += log10(r->deriv[(r->nepochs - 1) * r->nact + a]);
    return s;
}

static double test_acc(const exp_run *r)
{
    return r->done ? r->final_test_acc : NAN;
}

/* per epoch, the mean over the seeds that recorded it of f(r, k) */
static size_t series_of(const experiment *e, size_t v, double *x, double *y,
                        size_t cap, double (*f)(const exp_run *, size_t))
{
    size_t n = 0;
    for (size_t k = 0; k < cap; k++) {
        double s = 0;
        size_t c = 0;
        for (size_t j = 0; j < e->nseeds; j++) {
            double val = f(exp_get(e, v, j), k);
            if (isfinite(val))
                s += val, c++;
        }
        if (!c)
            break;
        x[n] = (double)(k + 1), y[n] = s / (double)c, n++;
    }
    return n;
}

static double sat_at(const exp_run *r, size_t k)
{
    return mean_share(r, r->saturated, k);
}

static size_t series_ratio(const experiment *e, size_t v, double *x,
                           double *y, size_t cap)
{
    return series_of(e, v, x, y, cap, log_ratio_at);
}

static size_t series_sat(const experiment *e, size_t v, double *x,
                         double *y, size_t cap)
{
    return series_of(e, v, x, y, cap, sat_at);
}

/* the mean over seeds of layer l's value at the last epoch: its gradient
 * norm (saturated false, l a weight layer) or its saturated share
 * (saturated true, l a probed layer) */
static double layer_last(const experiment *e, size_t v, size_t l,
                         bool saturated)
{
    double s = 0;
    size_t c = 0;
    for (size_t j = 0; j < e->nseeds; j++) {
        const exp_run *r = exp_get(e, v, j);
        if (!r->done || !r->nepochs)
            continue;
        size_t k = r->nepochs - 1;
        double val = NAN;
        if (!saturated && l < r->ndense)
            val = r->epochs[k].grad_norm[l];
        else if (saturated && l < r->nact && r->saturated)
            val = r->saturated[k * r->nact + l];
        if (isfinite(val))
            s += val, c++;
    }
    return c ? s / (double)c : NAN;
}

static double mean_of(const experiment *e, size_t v, exp_metric_fn *f)
{
    double m, sd, ci;
    return exp_stats(e, v, f, &m, &sd, &ci) ? m : NAN;
}

/* What the numbers say of the sigmoid net, each clause chosen by them:
 * whether its gradient vanishes, whether saturation or the derivative's
 * size accounts for it, and what batch norm does to it. */
static void reading(const experiment *e, FILE *f)
{
    double r = mean_of(e, vid(0, 0), ratio_last);
    double sat = mean_of(e, vid(0, 0), sat_last);
    double d = mean_of(e, vid(0, 0), deriv_last);
    double p = mean_of(e, vid(0, 0), log_deriv_product_last);
    if (!isfinite(r)) {
        fprintf(f, "the sigmoid net left no gradient record");
        return;
    }
    if (r < -1) {
        fprintf(f, "without batch norm the sigmoid net's first layer gets "
                   "10^%.1f of the output layer's gradient", r);
        if (sat < 0.01)
            fprintf(f, " with %.2f%% of its hidden units saturated: what "
                       "shrinks it is the derivative's own size (mean "
                       "%.3f per layer, 10^%.1f over the %d), not "
                       "saturation", 100 * sat, d, p, DEPTH);
        else
            fprintf(f, " with %.1f%% of its hidden units saturated (mean "
                       "derivative %.3f per layer, 10^%.1f over the %d)",
                    100 * sat, d, p, DEPTH);
    } else {
        fprintf(f, "the sigmoid net's gradient does not vanish: its first "
                   "layer gets 10^%.1f of the output layer's", r);
    }
    double m, sd, ci;
    if (exp_paired(e, vid(0, 1), vid(0, 0), ratio_last, &m, &sd, &ci) >= 2 &&
        isfinite(ci)) {
        if (m - ci > 0)
            fprintf(f, "; batch norm lifts that ratio by %.1f decades "
                       "(paired [%+.2f, %+.2f])", m, m - ci, m + ci);
        else if (m + ci < 0)
            fprintf(f, "; batch norm lowers that ratio by %.1f decades "
                       "(paired [%+.2f, %+.2f])", -m, m - ci, m + ci);
        else
            fprintf(f, "; batch norm leaves that ratio as it is (paired "
                       "%+.2f [%+.2f, %+.2f])", m, m - ci, m + ci);
    }
}

static void report(const experiment *e, FILE *md)
{
    size_t last = 0;
    for (size_t i = 0; i < e->nvariants * e->nseeds; i++)
        if (e->runs[i].nepochs > last)
            last = e->runs[i].nepochs;
    fprintf(md, "Per net, over the seeds: test accuracy after the last "
                "epoch; log10 of the first layer's gradient norm over the "
                "output layer's (mean over the epoch's steps), after the "
                "first and the last epoch, and the change between (per "
                "seed, in decades); the share of hidden units "
                "saturated on the %d probe images (mean over the %d hidden "
                "layers), first and last epoch; and the share of dead "
                "units after the last; the mean of the activation's "
                "derivative over the hidden units (the factor a layer "
                "multiplies the backward signal by, on average) and log10 "
                "of its product over the hidden layers, after the last:\n\n"
                "| net | test acc | log10 ratio, epoch 1 | log10 ratio, last "
                "| change | saturated, epoch 1 | saturated, last | dead, "
                "last | mean derivative | log10 product |\n"
                "|---|---|---|---|---|---|---|---|---|---|\n",
            EXP_PROBE, DEPTH);
    for (size_t v = 0; v < e->nvariants; v++) {
        /* exp_str's buffers rotate: a few per call */
        fprintf(md, "| %s | %s | %s | %s | %s |", e->variants[v].name,
                exp_str(e, v, test_acc), exp_str(e, v, ratio_first),
                exp_str(e, v, ratio_last), exp_str(e, v, ratio_change));
        fprintf(md, " %s | %s | %s | %s | %s |\n", exp_str(e, v, sat_first),
                exp_str(e, v, sat_last), exp_str(e, v, dead_last),
                exp_str(e, v, deriv_last),
                exp_str(e, v, log_deriv_product_last));
    }
    fprintf(md, "\nEach layer after the last epoch (mean over the seeds): "
                "gradient norm ||dL/dW|| of weight layers 1 .. %d (%d: the "
                "output layer), and the saturated share of hidden "
                "layers 1 .. %d:\n\n| net |",
            DEPTH + 1, DEPTH + 1, DEPTH);
    for (int l = 0; l <= DEPTH; l++)
        fprintf(md, " grad %d |", l + 1);
    for (int l = 0; l < DEPTH; l++)
        fprintf(md, " sat %d |", l + 1);
    fprintf(md, "\n|---|");
    for (int l = 0; l < 2 * DEPTH + 1; l++)
        fprintf(md, "---|");
    fprintf(md, "\n");
    for (size_t v = 0; v < e->nvariants; v++) {
        fprintf(md, "| %s |", e->variants[v].name);
        for (size_t l = 0; l <= DEPTH; l++)
            fprintf(md, " %.3g |", layer_last(e, v, l, false));
        for (size_t l = 0; l < DEPTH; l++)
            fprintf(md, " %.3f |", layer_last(e, v, l, true));
        fprintf(md, "\n");
    }
    fprintf(md, "\nBatch norm's effect, paired over the seeds (with minus "
                "without, each activation), after the last epoch (%zu):\n\n",
            last);
    for (int a = 0; a < NACT; a++) {
        char what[96];
        snprintf(what, sizeof what, "%s: log10 first-to-output gradient "
                 "ratio", act_name[a]);
        exp_compare_paired(e, md, vid(a, 1), vid(a, 0), ratio_last, what,
                           true);
        snprintf(what, sizeof what, "%s: saturated share of hidden units",
                 act_name[a]);
        exp_compare_paired(e, md, vid(a, 1), vid(a, 0), sat_last, what,
                           false);
        snprintf(what, sizeof what, "%s: test accuracy", act_name[a]);
        exp_compare_paired(e, md, vid(a, 1), vid(a, 0), test_acc, what,
                           true);
    }
    fprintf(md, "\nWithout batch norm, ReLU against the saturating "
                "activations, paired:\n\n");
    for (int a = 0; a < 2; a++) {
        char what[96];
        snprintf(what, sizeof what, "log10 first-to-output gradient ratio, "
                 "relu minus %s", act_name[a]);
        exp_compare_paired(e, md, vid(2, 0), vid(a, 0), ratio_last, what,
                           true);
    }
    fprintf(md, "\nReading: ");
    reading(e, md);
    fprintf(md, ".\n");
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "grad_ratio.png", "log10 of the first layer's gradient "
             "norm over the output layer's, per epoch (mean over seeds)",
             "epoch", "log10 ratio", 0, series_ratio, NULL);
    exp_plot(e, "saturation.png", "Share of hidden units saturated on the "
             "probe images, mean over the hidden layers", "epoch",
             "saturated share", 0, series_sat, NULL);
    exp_md_plot(e, md, "gradient ratio against epoch", "grad_ratio.png");
    fputs("\n", md);
    exp_md_plot(e, md, "saturated share against epoch", "saturation.png");
    /* every layer's gradient norm against epoch, one plot per net */
    for (size_t v = 0; v < e->nvariants; v++) {
        static double x[DEPTH + 1][EXP_MAX_EPOCHS];
        static double y[DEPTH + 1][EXP_MAX_EPOCHS];
        static char names[DEPTH + 1][16];
        const char *nm[DEPTH + 1];
        const double *xs[DEPTH + 1], *ys[DEPTH + 1];
        size_t n[DEPTH + 1];
        for (size_t l = 0; l <= DEPTH; l++) {
            snprintf(names[l], sizeof names[l], l < DEPTH ? "layer %zu"
                     : "output", l + 1);
            nm[l] = names[l], xs[l] = x[l], ys[l] = y[l], n[l] = 0;
            for (size_t k = 0; k < EXP_MAX_EPOCHS; k++) {
                double s = 0;
                size_t c = 0;
                for (size_t j = 0; j < e->nseeds; j++) {
                    const exp_run *r = exp_get(e, v, j);
                    if (k < r->nepochs && l < r->ndense &&
                        r->epochs[k].grad_norm[l] > 0 &&
                        isfinite(r->epochs[k].grad_norm[l]))
                        s += log10(r->epochs[k].grad_norm[l]), c++;
                }
                if (!c)
                    break;
                x[l][n[l]] = (double)(k + 1);
                y[l][n[l]] = pow(10.0, s / (double)c);
                n[l]++;
            }
        }
        char png[96], title[160], alt[96];
        snprintf(png, sizeof png, "grad_norms_%s.png", e->variants[v].name);
        snprintf(title, sizeof title, "%s: each layer's gradient norm per "
                 "epoch (geometric mean over seeds)", e->variants[v].name);
        exp_plot_curves(e, png, title, "epoch", "||dL/dW||", EXP_LOGY,
                        DEPTH + 1, nm, n, xs, ys);
        snprintf(alt, sizeof alt, "layer gradient norms, %s",
                 e->variants[v].name);
        fputs("\n", md);
        exp_md_plot(e, md, alt, png);
    }
}

static void headline(const experiment *e, FILE *f)
{
    reading(e, f);
    fprintf(f, "; log10 first-to-output gradient ratio after the last epoch, "
               "without / with batch norm:");
    for (int a = 0; a < NACT; a++)
        fprintf(f, "%s %s %s / %s", a ? "," : "", act_name[a],
                exp_str(e, vid(a, 0), ratio_last),
                exp_str(e, vid(a, 1), ratio_last));
    fprintf(f, "; saturated hidden units, without / with:");
    for (int a = 0; a < 2; a++)
        fprintf(f, "%s %s %s / %s (%s)", a ? "," : "", act_name[a],
                exp_str(e, vid(a, 0), sat_last),
                exp_str(e, vid(a, 1), sat_last),
                exp_paired_str(e, vid(a, 1), vid(a, 0), sat_last));
    fprintf(f, "; mean derivative of the hidden units without batch "
               "norm:");
    for (int a = 0; a < NACT; a++)
        fprintf(f, "%s %s %s", a ? "," : "", act_name[a],
                exp_str(e, vid(a, 0), deriv_last));
    fprintf(f, "; ReLU dead units %s / %s; test accuracy",
            exp_str(e, vid(2, 0), dead_last),
            exp_str(e, vid(2, 1), dead_last));
    for (int a = 0; a < NACT; a++)
        fprintf(f, "%s %s %s / %s", a ? "," : "", act_name[a],
                exp_str(e, vid(a, 0), test_acc),
                exp_str(e, vid(a, 1), test_acc));
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "gradient_flow", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Gradient flow through training: sigmoid, tanh, ReLU, with "
              "and without batch norm";
    e.question =
        "In a deep net, does the gradient reaching the first layers stay "
        "small through the whole of training under saturating activations "
        "(Glorot & Bengio 2010), is that where the units saturate, and do "
        "ReLU and batch normalisation (Ioffe & Szegedy 2015) keep it "
        "flowing?";
    e.setting =
        "Fashion-MNIST, 8 hidden layers of 128 units, sigmoid, tanh or "
        "ReLU, each with and without batch norm (before the activation); "
        "SGD with momentum 0.9, lr 0.01, batch 128, 20 epochs; Xavier "
        "init for sigmoid and tanh, He for ReLU. After every epoch: each "
        "weight layer's gradient norm (the mean over the epoch's steps) "
        "and, on the first 1000 training images in inference mode, each "
        "hidden layer's share of saturated outputs (the activation's "
        "derivative below 5% of its largest: sigmoid y(1-y) < 0.0125, tanh "
        "1-y^2 < 0.05, ReLU output 0), of dead units (saturated on "
        "every one of those images) and the mean derivative. Ten seeds, "
        "the same for every net, so every comparison is paired.";
    exp_default_seeds(&e, 10);
    for (int a = 0; a < NACT; a++)
        for (int bn = 0; bn < NBN; bn++) {
            char name[32];
            snprintf(name, sizeof name, "%s%s", act_name[a],
                     bn ? "-bn" : "");
            exp_variant *v = exp_add(&e, name);
            v->o.act = act_of[a];
            v->o.layers = HIDDEN;
            v->o.batchnorm = bn;
            v->o.lr = 0.01;
            v->o.epochs = e.quick ? 2 : 20;
            if (e.quick)
                v->o.limit_train = 10000;
            v->probe_units = true;
        }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
