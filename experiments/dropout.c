/* experiments/dropout.c - dropout p = 0, 0.2, 0.5 on a wide net trained on
 * a subset so that it overfits: the train/test gap over epochs
 * (Srivastava et al. 2014). */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

static double final_test_loss(const exp_run *r)
{
    return r->nepochs ? r->final_test_loss : NAN;
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
    exp_compare(e, md, 2, 0, exp_final_gap, "Train-test accuracy gap, p=0.5 vs none", false);
    exp_compare(e, md, 1, 0, exp_final_gap, "Train-test accuracy gap, p=0.2 vs none", false);
    exp_compare(e, md, 2, 0, exp_final_test_acc, "Test accuracy, p=0.5 vs none", true);
    exp_compare(e, md, 2, 0, final_test_loss, "Test loss, p=0.5 vs none", false);
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "gap.png", "Train accuracy - test accuracy per epoch",
             "epoch", "train-test accuracy gap", 0, series_gap, NULL);
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch", "epoch",
             "test accuracy", 0, exp_series_test_acc, NULL);
    fprintf(md, "![gap](gap.png)\n\n![test accuracy](test_accuracy.png)\n");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "train-test gap %s without dropout, %s at p=0.2, %s at p=0.5; "
               "test accuracy %s / %s / %s",
            exp_str(e, 0, exp_final_gap), exp_str(e, 1, exp_final_gap),
            exp_str(e, 2, exp_final_gap), exp_str(e, 0, exp_final_test_acc),
            exp_str(e, 1, exp_final_test_acc), exp_str(e, 2, exp_final_test_acc));
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "dropout", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Dropout against overfitting";
    e.question = "Does dropout shrink the gap between training and test "
                 "accuracy of a net that overfits (Srivastava et al. 2014)?";
    e.setting =
        "A wide net (784-1024-1024-10, 1.9M weights) trained on 3000 "
        "Fashion-MNIST samples for 50 epochs (SGD, momentum 0.9, lr 0.05, "
        "batch 128): without regularisation it reaches ~99% training "
        "accuracy, far above its test accuracy, which is the overfitting "
        "dropout is meant to curb. Training accuracy is measured after "
        "each epoch on the whole training subset with dropout off.";
    const double ps[3] = {0, 0.2, 0.5};
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "p=%g", ps[i]);
        exp_variant *v = exp_add(&e, name);
        v->o.layers = "1024,1024";
        v->o.dropout = ps[i];
        v->o.limit_train = e.quick ? 1000 : 3000;
        v->o.epochs = e.quick ? 8 : 50;
        v->o.eval_train = true;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
