/* experiments/optimizers.c - SGD vs momentum vs Adam at their usual rates. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

static double first_epoch_acc(const exp_run *r)
{
    return r->nepochs ? r->epochs[0].test_acc : NAN;
}

static void report(const experiment *e, FILE *md)
{
    size_t best = exp_best(e, exp_final_test_acc, true);
    for (size_t v = 0; v < e->nvariants; v++)
        if (v != best)
            exp_compare(e, md, best, v, exp_final_test_acc,
                        "Final test accuracy", true);
    exp_compare(e, md, 2, 0, first_epoch_acc,
                "Test accuracy after one epoch, Adam vs plain SGD", true);
    exp_compare(e, md, 1, 0, first_epoch_acc,
                "Test accuracy after one epoch, momentum vs plain SGD", true);
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch", "epoch",
             "test accuracy", 0, exp_series_test_acc, NULL);
    fprintf(md, "![test accuracy](test_accuracy.png)\n");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "test accuracy: SGD %s, momentum %s, Adam %s",
            exp_str(e, 0, exp_final_test_acc), exp_str(e, 1, exp_final_test_acc),
            exp_str(e, 2, exp_final_test_acc));
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "optimizers", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Optimizers: SGD vs momentum vs Adam";
    e.question = "At their customary rates, how do plain SGD, SGD with "
                 "momentum and Adam compare in speed and final accuracy on "
                 "the same network?";
    e.setting =
        "The reference network (Fashion-MNIST, 784-256-128-10 ReLU, batch "
        "128, 10 epochs) with plain SGD at lr 0.1, momentum 0.9 at lr 0.05 "
        "(the reference workload) and Adam (beta 0.9, 0.999) at lr 0.001, "
        "the rates each is usually run at for this kind of net.";
    struct { const char *name; int opt; double lr; } vs[3] = {
        {"sgd-lr=0.1", BP_OPT_SGD, 0.1}, {"momentum-lr=0.05", BP_OPT_MOMENTUM, 0.05},
        {"adam-lr=0.001", BP_OPT_ADAM, 0.001}};
    for (int i = 0; i < 3; i++) {
        exp_variant *v = exp_add(&e, vs[i].name);
        v->o.opt = vs[i].opt;
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
