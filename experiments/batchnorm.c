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

static void report(const experiment *e, FILE *md)
{
    const char *acts[2] = {"sigmoid", "relu"};
    for (int a = 0; a < 2; a++)
        for (int r = 0; r < 3; r++) {
            char what[96];
            snprintf(what, sizeof what, "Deep %s at lr %g, final test accuracy",
                     acts[a], rates[r]);
            exp_compare(e, md, vi(a, 1, r), vi(a, 0, r), exp_final_test_acc,
                        what, true);
        }
    for (int a = 0; a < 2; a++) {
        char what[96];
        snprintf(what, sizeof what,
                 "Deep %s at lr 0.1, test accuracy after one epoch", acts[a]);
        exp_compare(e, md, vi(a, 1, 1), vi(a, 0, 1), first_epoch_acc, what, true);
    }
    /* the gap between the activations, with and without BN */
    double ms, ss, cs, mr, sr, cr, mbs, sbs, cbs, mbr, sbr, cbr;
    size_t best_plain_s = vi(0, 0, 0), best_plain_r = vi(1, 0, 0);
    size_t best_bn_s = vi(0, 1, 0), best_bn_r = vi(1, 1, 0);
    for (int r = 0; r < 3; r++) {
        double m1, s1, c1, m2, s2, c2;
        exp_stats(e, vi(0, 0, r), exp_final_test_acc, &m1, &s1, &c1);
        exp_stats(e, best_plain_s, exp_final_test_acc, &m2, &s2, &c2);
        if (m1 > m2) best_plain_s = vi(0, 0, r);
        exp_stats(e, vi(1, 0, r), exp_final_test_acc, &m1, &s1, &c1);
        exp_stats(e, best_plain_r, exp_final_test_acc, &m2, &s2, &c2);
        if (m1 > m2) best_plain_r = vi(1, 0, r);
        exp_stats(e, vi(0, 1, r), exp_final_test_acc, &m1, &s1, &c1);
        exp_stats(e, best_bn_s, exp_final_test_acc, &m2, &s2, &c2);
        if (m1 > m2) best_bn_s = vi(0, 1, r);
        exp_stats(e, vi(1, 1, r), exp_final_test_acc, &m1, &s1, &c1);
        exp_stats(e, best_bn_r, exp_final_test_acc, &m2, &s2, &c2);
        if (m1 > m2) best_bn_r = vi(1, 1, r);
    }
    exp_stats(e, best_plain_s, exp_final_test_acc, &ms, &ss, &cs);
    exp_stats(e, best_plain_r, exp_final_test_acc, &mr, &sr, &cr);
    exp_stats(e, best_bn_s, exp_final_test_acc, &mbs, &sbs, &cbs);
    exp_stats(e, best_bn_r, exp_final_test_acc, &mbr, &sbr, &cbr);
    if (isfinite(ms) && isfinite(mr) && isfinite(mbs) && isfinite(mbr))
        fprintf(md,
                "- Best rate of each: ReLU leads sigmoid by %.4f without batch "
                "norm (%s %.4f vs %s %.4f) and by %.4f with it (%s %.4f vs %s "
                "%.4f): batch norm %s the gap between the activations.\n",
                mr - ms, e->variants[best_plain_r].name, mr,
                e->variants[best_plain_s].name, ms, mbr - mbs,
                e->variants[best_bn_r].name, mbr, e->variants[best_bn_s].name,
                mbs, fabs(mbr - mbs) < fabs(mr - ms) ? "narrows" : "does not narrow");
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
    fprintf(f, "deep sigmoid at lr 0.1: %s with batch norm vs %s without; deep "
               "ReLU at lr 1.0: %s with vs %s without",
            exp_str(e, vi(0, 1, 1), exp_final_test_acc),
            exp_str(e, vi(0, 0, 1), exp_final_test_acc),
            exp_str(e, vi(1, 1, 2), exp_final_test_acc),
            exp_str(e, vi(1, 0, 2), exp_final_test_acc));
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
        "1.0, batch 128. Three rates bracket the usable range so that "
        "tolerance of large rates shows as accuracy, not as a single number.";
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
                v->o.epochs = e.quick ? 2 : 10;
                if (e.quick)
                    v->o.limit_train = 10000;
            }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
