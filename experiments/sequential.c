/* experiments/sequential.c - sequential Fashion-MNIST: each image read as
 * 28 rows of 28 pixels by an LSTM, beside the reference MLP that sees the
 * whole image at once. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

static double seconds(const exp_run *r)
{
    return r->done ? r->seconds : NAN;
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "| model | test accuracy | training time (s) |\n|---|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++)
        fprintf(md, "| %s | %s | %s |\n", e->variants[v].name,
                exp_str(e, v, exp_final_test_acc), exp_str(e, v, seconds));
    fprintf(md, "\n");
    exp_compare(e, md, 0, 1, exp_final_test_acc,
                "Test accuracy, LSTM over rows vs MLP over pixels", true);
    double ml, mm, sl, sm, cl, cm;
    size_t nl = exp_stats(e, 0, exp_final_test_acc, &ml, &sl, &cl);
    size_t nm = exp_stats(e, 1, exp_final_test_acc, &mm, &sm, &cm);
    bool apart = fabs(ml - mm) > cl + cm; /* the 95% intervals separate */
    if (nl && nm)
        fprintf(md, "- Verdict: reading an image one row at a time, with "
                    "nothing but its state to remember the rows before, the "
                    "LSTM reaches %.4f against the MLP's %.4f after the same "
                    "%lld epoch%s: %s.\n",
                ml, mm, e->variants[0].o.epochs,
                e->variants[0].o.epochs == 1 ? "" : "s",
                !apart ? "on a par, the difference is within the seeds' spread"
                : ml > mm ? "the LSTM is ahead" : "the MLP is ahead");
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch", "epoch",
             "test accuracy", 0, exp_series_test_acc, NULL);
    exp_md_plot(e, md, "test accuracy", "test_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "test accuracy %s for an LSTM reading 28 rows, %s for the "
               "784-256-128-10 MLP, after %lld epoch%s each",
            exp_str(e, 0, exp_final_test_acc), exp_str(e, 1, exp_final_test_acc),
            e->variants[0].o.epochs, e->variants[0].o.epochs == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "sequential", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Sequential Fashion-MNIST: an LSTM reading rows";
    e.question = "How well does an LSTM classify Fashion-MNIST when it sees "
                 "each image as a sequence of 28 rows (a standard recurrent "
                 "benchmark), next to the MLP that sees all 784 pixels at "
                 "once, for the same number of epochs?";
    e.setting =
        "LSTM: 128 units over 28 steps of 28 pixels, its last state into a "
        "10-way softmax, Adam at lr 0.001 (the usual setting for LSTMs), "
        "batch 128. MLP: the reference workload (784-256-128-10 ReLU, "
        "momentum 0.9, lr 0.05, batch 128). Both 10 epochs on the full "
        "training set, test accuracy on the 10000 test images.";
    exp_variant *v = exp_add(&e, "lstm-128 over rows");
    v->o.data = "fashion-mnist-rows";
    v->o.model = BP_CELL_LSTM;
    v->o.hidden = 128;
    v->o.opt = BP_OPT_ADAM;
    v->o.lr = 0.001;
    v = exp_add(&e, "mlp 256-128");
    (void)v; /* the reference workload as it is */
    for (size_t i = 0; i < e.nvariants; i++) {
        e.variants[i].o.epochs = e.quick ? 1 : 10;
        if (e.quick)
            e.variants[i].o.limit_train = 5000;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
