/* experiments/data_size.c - training subsets of 1k, 3k, 10k, 30k and 60k
 * samples: the learning curve, "more data" as the cure for overfitting. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

static const long long sizes[5] = {1000, 3000, 10000, 30000, 60000};
static const long long epochs[5] = {100, 50, 30, 15, 10};
static const long long quick_sizes[3] = {1000, 3000, 10000};
static const long long quick_epochs[3] = {10, 6, 3};

static void report(const experiment *e, FILE *md)
{
    for (size_t v = 0; v + 1 < e->nvariants; v++) {
        char what[96];
        snprintf(what, sizeof what, "Test accuracy, %s vs %s",
                 e->variants[v + 1].name, e->variants[v].name);
        exp_compare(e, md, v + 1, v, exp_final_test_acc, what, true);
    }
    exp_compare(e, md, 0, e->nvariants - 1, exp_final_gap,
                "Train-test gap, smallest vs largest set", false);
    bool monotone = true;
    double prev = -1;
    for (size_t v = 0; v < e->nvariants; v++) {
        double m, s, c;
        if (exp_stats(e, v, exp_final_test_acc, &m, &s, &c) && m < prev)
            monotone = false;
        prev = m;
    }
    fprintf(md, "- Verdict: test accuracy %s with the amount of training data.\n",
            monotone ? "rises at every step" : "does not rise at every step");
}

static void plots(const experiment *e, FILE *md)
{
    double x[8], y[8];
    size_t n = 0;
    for (size_t v = 0; v < e->nvariants; v++) {
        double m, s, c;
        if (exp_stats(e, v, exp_final_test_acc, &m, &s, &c)) {
            x[n] = (double)e->variants[v].o.limit_train;
            y[n++] = m;
        }
    }
    exp_plot_xy(e, "learning_curve.png",
                "Learning curve: final test accuracy vs training samples",
                "training samples", "test accuracy (mean over seeds)", EXP_LOGX,
                "784-256-128-10 ReLU", n, x, y);
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch", "epoch",
             "test accuracy", 0, exp_series_test_acc, NULL);
    exp_md_plot(e, md, "learning curve", "learning_curve.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test accuracy per epoch", "test_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "test accuracy %s with %s samples, %s with %s",
            exp_str(e, 0, exp_final_test_acc), e->variants[0].name + 2,
            exp_str(e, e->nvariants - 1, exp_final_test_acc),
            e->variants[e->nvariants - 1].name + 2);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "data_size", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "More data: the learning curve";
    e.question = "How does test accuracy grow with the number of training "
                 "samples, and does more data shrink the train/test gap?";
    e.setting =
        "The reference network (784-256-128-10 ReLU, momentum 0.9, lr 0.05, "
        "batch 128) on the first 1k, 3k, 10k, 30k and 60k samples of the "
        "shuffled Fashion-MNIST training set (the same shuffle for every "
        "size and seed). Smaller sets get more epochs (100, 50, 30, 15, 10) "
        "so that every run makes at least 780 updates and has converged; "
        "training accuracy is evaluated on the whole subset.";
    size_t nv = e.quick ? 3 : 5;
    for (size_t i = 0; i < nv; i++) {
        char name[32];
        long long sz = e.quick ? quick_sizes[i] : sizes[i];
        snprintf(name, sizeof name, "n=%lld", sz);
        exp_variant *v = exp_add(&e, name);
        v->o.limit_train = sz;
        v->o.epochs = e.quick ? quick_epochs[i] : epochs[i];
        v->o.eval_train = true;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
