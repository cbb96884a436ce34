/* experiments/batchnorm.c - with and without batch normalisation, for deep
 * sigmoid and deep ReLU nets, at several learning rates (Ioffe & Szegedy
 * 2015: faster convergence, tolerance of larger rates). */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

static const double rates[3] = {0.01, 0.1, 1.0};
#define DEEP "128,128,128,128,128,128,128,128"

/* variant index: act (0 sigmoid, 1 relu) * 6 + bn * 3 + rate */
static size_t vi(int act, int bn, int rate) { return (size_t)(act * 6 + bn * 3 + rate); }

/* test accuracy after the first epoch: the speed of convergence */
static double first_epoch_acc(const exp_run *r)
{
    return r->nepochs ? r->epochs[0].test_acc : NAN;
}

/* the rate of activation a with (bn 1) or without batch norm chosen on
 * validation data: 0..2, or 3 when none qualifies */
static int chosen(const experiment *e, int a, int bn)
{
    size_t vs[3] = {vi(a, bn, 0), vi(a, bn, 1), vi(a, bn, 2)};
    return (int)exp_choose(e, vs, 3, exp_final_val_acc);
}

static const char *const act_title[2] = {"sigmoid", "ReLU"};

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "At each rate, with minus without batch norm, test accuracy "
                "after the last epoch, paired over the seeds where both "
                "trained to the end (diverged runs in the table above):\n\n");
    for (int a = 0; a < 2; a++)
        for (int r = 0; r < 3; r++) {
            char what[96];
            snprintf(what, sizeof what, "Deep %s at lr %g", act_title[a],
                     rates[r]);
            exp_compare_paired(e, md, vi(a, 1, r), vi(a, 0, r),
                               exp_final_test_acc_trained, what, true);
        }
    fprintf(md, "\nThe speed of training: test accuracy after the first "
                "epoch at lr 0.1, with minus without:\n\n");
    for (int a = 0; a < 2; a++) {
        char what[96];
        snprintf(what, sizeof what, "Deep %s at lr 0.1, after one epoch",
                 act_title[a]);
        exp_compare_paired(e, md, vi(a, 1, 1), vi(a, 0, 1), first_epoch_acc,
                           what, true);
    }
    fprintf(md, "\nEach at the rate with the highest mean validation "
                "accuracy (a tenth of the training images, held out; rates "
                "where a seed diverged are not chosen), picked before any "
                "test number is read:\n\n");
    for (int a = 0; a < 2; a++) {
        int c0 = chosen(e, a, 0), c1 = chosen(e, a, 1);
        if (c0 == 3 || c1 == 3) {
            fprintf(md, "- Deep %s: no rate qualifies %s batch norm.\n",
                    act_title[a], c0 == 3 ? "without" : "with");
            continue;
        }
        char what[128];
        snprintf(what, sizeof what, "Deep %s, with (lr %g) minus without "
                 "(lr %g) batch norm", act_title[a], rates[c1], rates[c0]);
        exp_compare_paired(e, md, vi(a, 1, c1), vi(a, 0, c0),
                           exp_final_test_acc_trained, what, true);
    }
    for (int b = 0; b < 2; b++) {
        int cs = chosen(e, 0, b), cr = chosen(e, 1, b);
        if (cs == 3 || cr == 3)
            continue;
        char what[128];
        snprintf(what, sizeof what, "ReLU (lr %g) minus sigmoid (lr %g), "
                 "%s batch norm", rates[cr], rates[cs], b ? "with" : "without");
        exp_compare_paired(e, md, vi(1, b, cr), vi(0, b, cs),
                           exp_final_test_acc_trained, what, true);
    }
}

static void plots(const experiment *e, FILE *md)
{
    bool which[EXP_MAX_VARIANTS] = {false};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            which[vi(a, b, 1)] = true;
    exp_plot(e, "test_accuracy_lr0.1.png",
             "Test accuracy per epoch at lr 0.1 (mean over seeds)", "epoch",
             "test accuracy", 0, exp_series_test_acc, which);
    for (size_t v = 0; v < e->nvariants; v++)
        which[v] = !which[v];
    exp_plot(e, "test_accuracy_other_rates.png",
             "Test accuracy per epoch at lr 0.01 and 1.0", "epoch",
             "test accuracy", 0, exp_series_test_acc, which);
    exp_md_plot(e, md, "lr 0.1", "test_accuracy_lr0.1.png");
    fputs("\n", md);
    exp_md_plot(e, md, "other rates", "test_accuracy_other_rates.png");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "deep sigmoid at lr 0.1: %s with batch norm vs %s without "
               "(%s); deep ReLU at lr 1.0: %s with vs %s without",
            exp_str(e, vi(0, 1, 1), exp_final_test_acc_trained),
            exp_str(e, vi(0, 0, 1), exp_final_test_acc_trained),
            exp_paired_str(e, vi(0, 1, 1), vi(0, 0, 1),
                           exp_final_test_acc_trained),
            exp_str(e, vi(1, 1, 2), exp_final_test_acc_trained),
            exp_str(e, vi(1, 0, 2), exp_final_test_acc_trained));
    size_t k = exp_diverged(e, vi(1, 0, 2));
    if (k)
        fprintf(f, " (%zu/%zu diverged)", k, exp_recorded(e, vi(1, 0, 2)));
    int c0 = chosen(e, 1, 0), c1 = chosen(e, 1, 1);
    if (c0 < 3 && c1 < 3)
        fprintf(f, "; deep ReLU at its rate chosen on validation: %s with "
                   "(lr %g) vs %s without (lr %g), %s",
                exp_str(e, vi(1, 1, c1), exp_final_test_acc_trained), rates[c1],
                exp_str(e, vi(1, 0, c0), exp_final_test_acc_trained), rates[c0],
                exp_paired_str(e, vi(1, 1, c1), vi(1, 0, c0),
                               exp_final_test_acc_trained));
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "batchnorm", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Batch normalisation in deep sigmoid and ReLU nets";
    e.question =
        "Does batch normalisation speed up training and let deep nets "
        "tolerate larger learning rates (Ioffe & Szegedy 2015), and does it "
        "rescue the deep sigmoid net that the vanishing gradient stalls?";
    e.setting =
        "Fashion-MNIST, 8 hidden layers of 128 units (the depth where the "
        "activations experiment shows sigmoid failing), batch norm before "
        "each activation or none, SGD with momentum 0.9 at lr 0.01, 0.1 and "
        "1.0, batch 128, 10 epochs. Three rates bracket the usable range "
        "so that tolerance of large rates shows as accuracy, not as a "
        "single number. A tenth of the training set (6000 images) is held "
        "out: its accuracy picks each net's best rate. Ten seeds, the same "
        "for every variant, so every comparison is paired.";
    exp_default_seeds(&e, 10);
    const char *acts[2] = {"sigmoid", "relu"};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int r = 0; r < 3; r++) {
                char name[48];
                snprintf(name, sizeof name, "%s-%s-lr%g", acts[a],
                         b ? "bn" : "plain", rates[r]);
                exp_variant *v = exp_add(&e, name);
                v->o.act = a ? BP_ACT_RELU : BP_ACT_SIGMOID;
                v->o.layers = DEEP;
                v->o.batchnorm = b;
                v->o.lr = rates[r];
                v->o.val = 0.1;
                v->o.epochs = e.quick ? 2 : 10;
                if (e.quick)
                    v->o.limit_train = 10000;
            }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
