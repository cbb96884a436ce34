/* experiments/data_size.c - "more data" as the cure for overfitting, in
 * the regime where overfitting costs test accuracy: 40% of the training
 * labels wrong, a wide net that memorises them (Zhang et al. 2017, Arpit
 * et al. 2017), on training sets of 1250 to 20000 images, each with the
 * same share of wrong labels, the same epochs and the same paired seeds. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

#define NSIZES 5
static const long long sizes[NSIZES] = {1250, 2500, 5000, 10000, 20000};
static const long long quick_sizes[3] = {500, 1000, 2000};

/* accuracy on the (noisy) training labels after the last epoch: how much
 * of the noise the net has memorised */
static double final_train_acc(const exp_run *r)
{
    return r->nepochs ? r->epochs[r->nepochs - 1].train_eval_acc : NAN;
}

/* best test accuracy minus the last: what memorising cost */
static double fall(const exp_run *r)
{
    return r->nepochs ? exp_best_test_acc(r) - r->final_test_acc : NAN;
}

static long long size_of(const experiment *e, size_t v)
{
    return e->variants[v].o.limit_train;
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "| training images | last-epoch test accuracy | test loss "
                "| best epoch's test accuracy | fall to the last | "
                "accuracy on the noisy training labels |\n"
                "|---|---|---|---|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++)
        fprintf(md, "| %lld | %s | %s | %s | %s | %s |\n", size_of(e, v),
                exp_str(e, v, exp_final_test_acc),
                exp_str(e, v, exp_final_test_loss),
                exp_str(e, v, exp_best_test_acc), exp_str(e, v, fall),
                exp_str(e, v, final_train_acc));
    fprintf(md, "\nThe best epoch is picked on the test set, so it only "
                "shows where the fall starts. Accuracy on the training "
                "labels counts a prediction of a wrong label as correct: "
                "above %.2f, the net has memorised some of the noise.\n\n",
            1 - e->variants[0].o.label_noise);
    fprintf(md, "Each doubling, paired over the seeds (each seed's "
                "difference, then their mean and 95%% t-interval):\n\n");
    size_t rises = 0, loss_falls = 0;
    for (size_t v = 0; v + 1 < e->nvariants; v++) {
        char what[96];
        snprintf(what, sizeof what, "Test accuracy, %lld vs %lld images",
                 size_of(e, v + 1), size_of(e, v));
        exp_compare_paired(e, md, v + 1, v, exp_final_test_acc, what, true);
        snprintf(what, sizeof what, "Test loss, %lld vs %lld images",
                 size_of(e, v + 1), size_of(e, v));
        exp_compare_paired(e, md, v + 1, v, exp_final_test_loss, what,
                           false);
        rises += exp_paired_sign(e, v + 1, v, exp_final_test_acc) > 0;
        loss_falls += exp_paired_sign(e, v, v + 1, exp_final_test_loss) > 0;
    }
    size_t last = e->nvariants - 1, steps = e->nvariants - 1;
    exp_compare_paired(e, md, last, 0, fall,
                       "Fall from the best epoch to the last, largest vs "
                       "smallest set",
                       false);
    fprintf(md, "\n- Test accuracy rises at %zu of the %zu doublings and "
                "test loss falls at %zu (paired intervals excluding 0).\n",
            rises, steps, loss_falls);
    double f0, fl, s, c;
    exp_stats(e, 0, fall, &f0, &s, &c);
    exp_stats(e, last, fall, &fl, &s, &c);
    double t0, tl;
    exp_stats(e, 0, final_train_acc, &t0, &s, &c);
    exp_stats(e, last, final_train_acc, &tl, &s, &c);
    fprintf(md, "- With %lld images the net ends fitting %.1f%% of the noisy "
                "training labels and its test accuracy falls %.3f from its "
                "best epoch; with %lld, %.1f%% and %.3f.\n",
            size_of(e, 0), 100 * t0, f0, size_of(e, last), 100 * tl, fl);
    double b0, bl;
    exp_stats(e, 0, exp_best_test_acc, &b0, &s, &c);
    exp_stats(e, last, exp_best_test_acc, &bl, &s, &c);
    fprintf(md, "- Verdict: %s", rises == steps ? "every doubling of the "
                                 "data raises the final test accuracy"
                                 : rises ? "more data raises the final "
                                           "test accuracy at some doublings "
                                           "only"
                                         : "no effect of more data on the "
                                           "final test accuracy found");
    int shrink = exp_paired_sign(e, 0, last, fall);
    if (shrink > 0)
        fputs(", and the fall from the best epoch shrinks: more data is a "
              "cure for this overfitting.\n", md);
    else {
        fprintf(md, ", but it is no cure for this overfitting: the fall "
                    "from the best epoch %s (%.3f to %.3f) and with %lld "
                    "images the net still fits %.1f%% of the noisy labels.",
                shrink < 0 ? "grows" : "does not shrink measurably", f0, fl,
                size_of(e, last), 100 * tl);
        if (exp_paired_sign(e, last, 0, exp_best_test_acc) > 0)
            fprintf(md, " What more data raises is the best epoch's "
                        "accuracy (%.4f to %.4f): what early stopping "
                        "could keep.",
                    b0, bl);
        fputs("\n", md);
    }
}

static void plots(const experiment *e, FILE *md)
{
    double x[NSIZES], y[2][NSIZES];
    size_t n = 0;
    for (size_t v = 0; v < e->nvariants; v++) {
        double m, b, s, c;
        if (exp_stats(e, v, exp_final_test_acc, &m, &s, &c) &&
            exp_stats(e, v, exp_best_test_acc, &b, &s, &c)) {
            x[n] = (double)size_of(e, v);
            y[0][n] = m, y[1][n++] = b;
        }
    }
    const char *names[2] = {"last epoch", "best epoch (picked on test)"};
    const double *xs[2] = {x, x}, *ys[2] = {y[0], y[1]};
    size_t ns[2] = {n, n};
    exp_plot_curves(e, "learning_curve.png",
                    "Learning curve with 40% of training labels wrong: "
                    "test accuracy vs training images",
                    "training images", "test accuracy (mean over seeds)",
                    EXP_LOGX, 2, names, ns, xs, ys);
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch", "epoch",
             "test accuracy", 0, exp_series_test_acc, NULL);
    exp_plot(e, "test_loss.png", "Test loss per epoch", "epoch",
             "test loss", 0, exp_series_test_loss, NULL);
    exp_plot(e, "train_accuracy.png", "Accuracy on the noisy training "
             "labels per epoch", "epoch", "training accuracy", 0,
             exp_series_train_eval_acc, NULL);
    exp_md_plot(e, md, "learning curve", "learning_curve.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test accuracy per epoch", "test_accuracy.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test loss per epoch", "test_loss.png");
    fputs("\n", md);
    exp_md_plot(e, md, "training accuracy per epoch", "train_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    size_t last = e->nvariants - 1;
    double tl, s, c;
    exp_stats(e, last, final_train_acc, &tl, &s, &c);
    fprintf(f, "40%% label noise: last-epoch test accuracy %s with %lld "
               "images, %s with %lld (%lld vs %lld: %s); test loss %s vs %s; "
               "fall from the best epoch %s vs %s (%s); with %lld images "
               "%.1f%% of the noisy training labels fitted",
            exp_str(e, 0, exp_final_test_acc), size_of(e, 0),
            exp_str(e, last, exp_final_test_acc), size_of(e, last),
            size_of(e, last), size_of(e, last - 1),
            exp_paired_str(e, last, last - 1, exp_final_test_acc),
            exp_str(e, 0, exp_final_test_loss),
            exp_str(e, last, exp_final_test_loss), exp_str(e, 0, fall),
            exp_str(e, last, fall), exp_paired_str(e, last, 0, fall),
            size_of(e, last), 100 * tl);
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "data_size", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "More data where overfitting costs test accuracy";
    e.question = "Does more training data cure overfitting in a regime where "
                 "an unregularised net memorises its training set and its "
                 "test accuracy falls from an early peak: does the final "
                 "test accuracy rise with every doubling of the data, and "
                 "does the fall shrink?";
    e.setting =
        "The first 1250, 2500, 5000, 10000 and 20000 images of the shuffled "
        "Fashion-MNIST training set (the same shuffle for every size and "
        "seed), each with 40% of its labels replaced by another class "
        "(--label-noise 0.4; the test labels are true); the dropout "
        "experiment's net and recipe: 784-1024-1024-10 ReLU, SGD with "
        "momentum 0.9 from lr 0.05 decayed by a cosine over 60 epochs, "
        "batch 128, for every size (so every image is seen as often, and "
        "the larger sets make more updates; 5000 images is the dropout "
        "experiment's plain net, the same command). Ten seeds, the same "
        "for every size, so the comparisons are paired. Accuracy on the "
        "noisy training labels is measured after each epoch.";
    exp_default_seeds(&e, 10); /* ten paired seeds */
    size_t nv = e.quick ? 3 : NSIZES;
    for (size_t i = 0; i < nv; i++) {
        char name[32];
        long long sz = e.quick ? quick_sizes[i] : sizes[i];
        snprintf(name, sizeof name, "n=%lld", sz);
        exp_variant *v = exp_add(&e, name);
        v->o.layers = e.quick ? "256,256" : "1024,1024";
        v->o.limit_train = sz;
        v->o.label_noise = 0.4;
        v->o.schedule = BP_SCHED_COSINE;
        v->o.epochs = e.quick ? 4 : 60;
        v->o.eval_train = true;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
