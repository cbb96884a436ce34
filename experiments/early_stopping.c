/* experiments/early_stopping.c - patience 3, 5, 10 vs a fixed long run on
 * the overfitting setup: epochs used, and test accuracy at the restored
 * best epoch. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

static double epochs_used(const exp_run *r)
{
    return r->nepochs ? (double)r->nepochs : NAN;
}

static double best_epoch(const exp_run *r)
{
    return r->nepochs ? (double)(r->best_epoch ? r->best_epoch : r->nepochs) : NAN;
}

static double final_test_loss(const exp_run *r)
{
    return r->nepochs ? r->final_test_loss : NAN;
}

static size_t series_val_loss(const experiment *e, size_t v, double *x,
                              double *y, size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; k < cap; k++) {
        double s = 0;
        size_t c = 0;
        for (size_t j = 0; j < e->nseeds; j++) {
            const exp_run *r = exp_get(e, v, j);
            if (k < r->nepochs)
                s += r->epochs[k].val_loss, c++;
        }
        if (!c)
            break;
        x[n] = (double)(k + 1), y[n++] = s / (double)c;
    }
    return n;
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "| variant | epochs run | restored epoch | test accuracy | "
                "test loss |\n|---|---|---|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++) {
        double m1, s1, c1, m2, s2, c2, m3, s3, c3, m4, s4, c4;
        size_t n1 = exp_stats(e, v, epochs_used, &m1, &s1, &c1);
        size_t n2 = exp_stats(e, v, best_epoch, &m2, &s2, &c2);
        size_t n3 = exp_stats(e, v, exp_final_test_acc, &m3, &s3, &c3);
        size_t n4 = exp_stats(e, v, final_test_loss, &m4, &s4, &c4);
        char a[64], b[64], c[64], d[64];
        exp_fmt(a, sizeof a, m1, s1, n1);
        exp_fmt(b, sizeof b, m2, s2, n2);
        exp_fmt(c, sizeof c, m3, s3, n3);
        exp_fmt(d, sizeof d, m4, s4, n4);
        fprintf(md, "| %s | %s | %s | %s | %s |\n", e->variants[v].name, a, b,
                c, d);
    }
    fprintf(md, "\n");
    for (size_t v = 0; v < 3; v++) {
        char what[96];
        snprintf(what, sizeof what, "Test accuracy, %s vs the fixed run",
                 e->variants[v].name);
        exp_compare(e, md, v, 3, exp_final_test_acc, what, true);
        snprintf(what, sizeof what, "Epochs of training, %s vs the fixed run",
                 e->variants[v].name);
        exp_compare(e, md, v, 3, epochs_used, what, false);
    }
    exp_compare(e, md, 0, 3, final_test_loss,
                "Test loss, patience 3 vs the fixed run", false);
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "val_loss.png", "Validation loss per epoch", "epoch",
             "validation loss", 0, series_val_loss, NULL);
    fprintf(md, "![validation loss](val_loss.png)\n");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "patience 5: test accuracy %s after %s epochs; fixed 60 epochs: %s",
            exp_str(e, 1, exp_final_test_acc), exp_str(e, 1, epochs_used),
            exp_str(e, 3, exp_final_test_acc));
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "early_stopping", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Early stopping against overfitting";
    e.question = "Does stopping when the validation loss stops improving, and "
                 "keeping the best weights, match a fixed long run's test "
                 "accuracy in fewer epochs?";
    e.setting =
        "The overfitting setup of the dropout experiment (784-1024-1024-10, "
        "3000 Fashion-MNIST samples of which 20% are held out for "
        "validation), SGD with momentum 0.9, lr 0.05, for up to 60 epochs. "
        "Early stopping watches the validation loss with patience 3, 5 or 10 "
        "epochs and restores the best epoch's weights; the fixed run trains "
        "all 60 epochs and keeps its last weights.";
    const int pat[4] = {3, 5, 10, 0};
    for (int i = 0; i < 4; i++) {
        char name[32];
        if (pat[i])
            snprintf(name, sizeof name, "patience=%d", pat[i]);
        else
            snprintf(name, sizeof name, "fixed");
        exp_variant *v = exp_add(&e, name);
        v->o.layers = "1024,1024";
        v->o.limit_train = e.quick ? 1000 : 3000;
        v->o.val = 0.2;
        v->o.early_stop = pat[i];
        v->o.epochs = e.quick ? 12 : 60;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
