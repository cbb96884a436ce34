/* experiments/clipping.c - a deep net set up to explode: no clipping vs
 * clip-by-value vs clip-by-global-norm (Pascanu et al. 2013). */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

#define DEEP "256,256,256,256,256,256,256,256"

static void report(const experiment *e, FILE *md)
{
    for (size_t v = 0; v < e->nvariants; v++) {
        size_t d = exp_diverged(e, v);
        double m, s, c;
        size_t n = exp_stats(e, v, exp_final_test_acc, &m, &s, &c);
        char a[64];
        exp_fmt(a, sizeof a, m, s, n);
        fprintf(md, "- %s: %zu of %u runs diverged (%.0f%%)%s%s.\n",
                e->variants[v].name, d, e->nseeds,
                100.0 * (double)d / (double)e->nseeds,
                n ? "; the others reach test accuracy " : "", n ? a : "");
    }
    size_t d0 = exp_diverged(e, 0), dv = exp_diverged(e, 1), dn = exp_diverged(e, 2);
    fprintf(md, "- Verdict: %s\n",
            d0 > 0 && dv < d0 && dn < d0
                ? "both clipping methods turn runs that diverge without "
                  "clipping into runs that train."
            : d0 == 0 ? "the unclipped runs did not diverge here, so this "
                        "setting does not show the effect."
                      : "clipping did not prevent the divergence here.");
    fprintf(md, "\nTest accuracy after the last epoch, paired over the "
                "seeds where both trained to the end:\n\n");
    exp_compare_paired(e, md, 2, 1, exp_final_test_acc_trained,
                       "Clip-by-norm minus clip-by-value", true);
    exp_compare_paired(e, md, 2, 3, exp_final_test_acc_trained,
                       "Clip-by-norm minus the unclipped net at a 10x "
                       "smaller rate", true);
    exp_compare_paired(e, md, 1, 3, exp_final_test_acc_trained,
                       "Clip-by-value minus the unclipped net at a 10x "
                       "smaller rate", true);
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "test_accuracy.png",
             "Test accuracy per epoch (diverged runs have no points)", "epoch",
             "test accuracy", 0, exp_series_test_acc, NULL);
    exp_md_plot(e, md, "test accuracy", "test_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "diverged runs: %zu/%u without clipping, %zu/%u clipped by "
               "value, %zu/%u clipped by norm, %zu/%u unclipped at a 10x "
               "smaller rate; test accuracy %s clipped by norm, %s by value, "
               "%s at the smaller rate (norm minus smaller rate %s)",
            exp_diverged(e, 0), e->nseeds, exp_diverged(e, 1), e->nseeds,
            exp_diverged(e, 2), e->nseeds, exp_diverged(e, 3), e->nseeds,
            exp_str(e, 2, exp_final_test_acc_trained),
            exp_str(e, 1, exp_final_test_acc_trained),
            exp_str(e, 3, exp_final_test_acc_trained),
            exp_paired_str(e, 2, 3, exp_final_test_acc_trained));
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "clipping", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    exp_default_seeds(&e, 10); /* paired, and a share of diverged runs */
    e.title = "Gradient clipping against exploding gradients";
    e.question = "Does clipping the gradient, by value or by global norm, "
                 "turn a run whose gradients explode into one that trains "
                 "(Pascanu et al. 2013)?";
    e.setting =
        "Fashion-MNIST, 8 hidden ReLU layers of 256 units with He weights "
        "scaled by 1.5 (each layer amplifies the signal, so activations and "
        "gradients grow geometrically with depth), SGD with momentum 0.9 at "
        "lr 0.05, batch 128. Unclipped, the loss becomes NaN within the "
        "first few steps. Thresholds: global norm 1 and value 0.01, both "
        "far below the first steps' gradient norms (which reach thousands), "
        "as Pascanu et al. advise choosing them from the observed norms. A "
        "fourth variant is the other cure, a 10x smaller rate, unclipped. "
        "5 epochs; ten seeds, the same for every variant, so the "
        "comparisons are paired.";
    struct { const char *name; double cn, cv, lr; } vs[4] = {
        {"none", 0, 0, 0.05}, {"clip-value=0.01", 0, 0.01, 0.05},
        {"clip-norm=1", 1, 0, 0.05}, {"none-lr=0.005", 0, 0, 0.005}};
    for (int i = 0; i < 4; i++) {
        exp_variant *v = exp_add(&e, vs[i].name);
        v->o.layers = DEEP;
        v->o.init_gain = 1.5;
        v->o.lr = vs[i].lr;
        v->o.clip_norm = vs[i].cn;
        v->o.clip_value = vs[i].cv;
        v->o.epochs = e.quick ? 1 : 5;
        if (e.quick)
            v->o.limit_train = 10000;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
