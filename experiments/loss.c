/* experiments/loss.c - mean squared error vs cross-entropy for
 * classification. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

static double first_epoch_acc(const exp_run *r)
{
    return r->nepochs ? r->epochs[0].test_acc : NAN;
}

static void report(const experiment *e, FILE *md)
{
    exp_compare(e, md, 0, 1, exp_final_test_acc,
                "Final test accuracy, cross-entropy vs MSE at the same rate", true);
    exp_compare(e, md, 0, 1, first_epoch_acc,
                "Test accuracy after one epoch, cross-entropy vs MSE", true);
    exp_compare(e, md, 0, 2, exp_final_test_acc,
                "Final test accuracy, cross-entropy vs MSE at a 10x rate", true);
    double ce, mse, sd_ce, sd_mse, ci;
    if (exp_stats(e, 0, exp_final_test_acc, &ce, &sd_ce, &ci) &&
        exp_stats(e, 1, exp_final_test_acc, &mse, &sd_mse, &ci) &&
        ce - mse <= sd_ce + sd_mse)
        fprintf(md,
                "- At the same rate cross-entropy does not beat MSE here "
                "(%.4f vs %.4f). Its advantage is a larger gradient when the "
                "softmax is confidently wrong; a He-initialised ReLU net that "
                "starts with near-uniform outputs and is trained at a moderate "
                "rate rarely gets there, so both losses reach the same "
                "accuracy.\n",
                ce, mse);
    double fast;
    if (exp_stats(e, 2, exp_final_test_acc, &fast, &sd_mse, &ci) &&
        fast < 0.5 * ce)
        fprintf(md, "- At a 10x rate MSE does not train (test accuracy "
                    "%.4f): a larger rate is no cure for its smaller "
                    "gradient.\n",
                fast);
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch", "epoch",
             "test accuracy", 0, exp_series_test_acc, NULL);
    exp_md_plot(e, md, "test accuracy", "test_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "test accuracy: cross-entropy %s, MSE %s at the same rate, %s at "
               "10x; after one epoch %s vs %s",
            exp_str(e, 0, exp_final_test_acc), exp_str(e, 1, exp_final_test_acc),
            exp_str(e, 2, exp_final_test_acc), exp_str(e, 0, first_epoch_acc),
            exp_str(e, 1, first_epoch_acc));
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "loss", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "MSE vs cross-entropy for classification";
    e.question =
        "Does cross-entropy train a softmax classifier faster and better than "
        "squared error on the same outputs (Golik et al. 2013)? With MSE the "
        "gradient through a saturated softmax vanishes; with cross-entropy "
        "it is simply p - y.";
    e.setting =
        "The reference workload (Fashion-MNIST, 784-256-128-10 ReLU, SGD with "
        "momentum 0.9, lr 0.05, batch 128, 10 epochs): cross-entropy, MSE "
        "between softmax(outputs) and the one-hot target at the same rate, "
        "and MSE at a 10x larger rate to give it a fair chance (its gradient "
        "is smaller by construction).";
    struct { const char *name; int loss; double lr; } vs[3] = {
        {"cross-entropy", BP_LOSS_CE, 0.05}, {"mse", BP_LOSS_MSE, 0.05},
        {"mse-lr=0.5", BP_LOSS_MSE, 0.5}};
    for (int i = 0; i < 3; i++) {
        exp_variant *v = exp_add(&e, vs[i].name);
        v->o.loss = vs[i].loss;
        v->o.lr = vs[i].lr;
        v->o.epochs = e.quick ? 2 : 10;
        if (e.quick)
            v->o.limit_train = 10000;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
