/* experiments/cnn.c - the reference CNN against MLPs on full
 * Fashion-MNIST: the reference MLP (784-256-128-10) and MLPs with as many
 * parameters as the CNN (421,642), one with a single hidden layer and one
 * with two; the same recipe and epochs, paired seeds; test accuracy and
 * training time per epoch. */
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "experiments/harness.h"

enum { CNN, MLP_REF, MLP_TWO, MLP_ONE, NMODEL };

/* the hidden layers of each (the CNN's dense layer after its convolutions
 * is --layers 128, its default) */
static const char *const layers[NMODEL] = {NULL, "256,128", "421,211",
                                           "530"};
static const char *const names[NMODEL] = {"cnn", "mlp 256-128",
                                          "mlp 421-211", "mlp 530"};
#define CNN_SHAPE                                                              \
    "conv 3x3x32, relu, maxpool 2, conv 3x3x64, relu, maxpool 2, dense 128, " \
    "relu, 10"
static const char *const shapes[NMODEL] = {CNN_SHAPE, "784-256-128-10",
                                           "784-421-211-10", "784-530-10"};

#define CNN_PARAMS 421642LL /* bplab prints it; the tests check PyTorch's */

/* weights and biases of an MLP 784-h1-..-10 with hidden widths "h1,h2" */
static long long mlp_params(const char *hidden)
{
    long long in = 784, n = 0;
    const char *p = hidden;
    while (*p) {
        long long w = 0;
        while (*p >= '0' && *p <= '9')
            w = 10 * w + (*p++ - '0');
        n += (in + 1) * w, in = w;
        if (*p == ',')
            p++;
    }
    return n + (in + 1) * 10;
}

static long long params(size_t m)
{
    return m == CNN ? CNN_PARAMS : mlp_params(layers[m]);
}

/* training seconds per epoch (evaluation not counted) */
static double seconds_per_epoch(const exp_run *r)
{
    return r->done && r->nepochs ? r->seconds / (double)r->nepochs : NAN;
}

static double mean_of(const experiment *e, size_t v, exp_metric_fn *f)
{
    double m, sd, ci;
    return exp_stats(e, v, f, &m, &sd, &ci) ? m : NAN;
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "| model | layers | parameters | vs the CNN | test accuracy "
                "| test loss | best epoch's test accuracy (picked on test) "
                "| s per epoch |\n|---|---|---|---|---|---|---|---|\n");
    for (size_t m = 0; m < e->nvariants; m++)
        fprintf(md, "| %s | %s | %lld | %+.2f%% | %s | %s | %s | %s |\n",
                names[m], shapes[m], params(m),
                100.0 * (double)(params(m) - CNN_PARAMS) / (double)CNN_PARAMS,
                exp_str(e, m, exp_final_test_acc),
                exp_str(e, m, exp_final_test_loss),
                exp_str(e, m, exp_best_test_acc),
                exp_str(e, m, seconds_per_epoch));
    fprintf(md, "\nSeconds per epoch are the training passes alone (the "
                "runs' own clocks, evaluation not counted), each run on "
                "%d thread%s (%s).",
            e->run_threads, e->run_threads == 1 ? "" : "s", e->isa_name);
    if (e->jobs > 1)
        fprintf(md, " The pool trained %lld runs at a time (--jobs %lld) "
                    "on a machine of %ld CPUs, so a run shared the caches, "
                    "the memory bandwidth and whatever else ran there with "
                    "its neighbours: these are the times of this "
                    "experiment, not a benchmark (results/bench measures "
                    "throughput on a quiet machine).",
                e->jobs, e->jobs, sysconf(_SC_NPROCESSORS_ONLN));
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < e->nseeds; k++) {
        double t = seconds_per_epoch(exp_get(e, CNN, k));
        if (isfinite(t))
            lo = fmin(lo, t), hi = fmax(hi, t);
    }
    if (lo <= hi)
        fprintf(md, " The CNN's seeds took %.1f to %.1f s per epoch: the "
                    "spread is the load on the machine (the pool's other "
                    "run, other users' work), not the network.",
                lo, hi);
    fprintf(md, "\n\n");
    fprintf(md, "The CNN minus each MLP, paired over the seeds (each "
                "seed's difference, then their mean and 95%% "
                "t-interval):\n\n");
    for (size_t m = MLP_REF; m < e->nvariants; m++) {
        exp_compare_paired(e, md, CNN, m, exp_final_test_acc,
                           "Test accuracy after the last epoch", true);
        exp_compare_paired(e, md, CNN, m, exp_final_test_loss,
                           "Test loss after the last epoch", false);
    }
    exp_compare_paired(e, md, MLP_TWO, MLP_REF, exp_final_test_acc,
                       "Test accuracy, the larger two-layer MLP minus the "
                       "reference", true);
    exp_compare_paired(e, md, MLP_TWO, MLP_ONE, exp_final_test_acc,
                       "Test accuracy, two hidden layers minus one at the "
                       "CNN's parameter count", true);
    double tc = mean_of(e, CNN, seconds_per_epoch);
    fprintf(md, "\n- Time: the CNN's epoch takes %.1fx the reference "
                "MLP's, %.1fx the two-layer MLP's of the same parameter "
                "count and %.1fx the one-layer one's (means of the "
                "seconds per epoch).\n",
            tc / mean_of(e, MLP_REF, seconds_per_epoch),
            tc / mean_of(e, MLP_TWO, seconds_per_epoch),
            tc / mean_of(e, MLP_ONE, seconds_per_epoch));
    static const char *const dir[3] = {"below", "not distinguishable from",
                                       "above"};
    int sr = exp_paired_sign(e, CNN, MLP_REF, exp_final_test_acc);
    int s2 = exp_paired_sign(e, CNN, MLP_TWO, exp_final_test_acc);
    int s1 = exp_paired_sign(e, CNN, MLP_ONE, exp_final_test_acc);
    fprintf(md, "- Verdict: ");
    if (sr > 0 && s2 > 0 && s1 > 0)
        fprintf(md, "the CNN's test accuracy is higher than every MLP's, "
                    "by %+.4f over the reference and %+.4f / %+.4f over "
                    "the MLPs of its parameter count (two / one hidden "
                    "layers): its convolutions, not its parameter count, "
                    "make the difference.\n",
                mean_of(e, CNN, exp_final_test_acc) -
                    mean_of(e, MLP_REF, exp_final_test_acc),
                mean_of(e, CNN, exp_final_test_acc) -
                    mean_of(e, MLP_TWO, exp_final_test_acc),
                mean_of(e, CNN, exp_final_test_acc) -
                    mean_of(e, MLP_ONE, exp_final_test_acc));
    else
        fprintf(md, "the CNN's test accuracy is %s the reference MLP's, "
                    "%s the two-layer MLP's of its parameter count and %s "
                    "the one-layer one's (paired 95%% intervals).\n",
                dir[sr + 1], dir[s2 + 1], dir[s1 + 1]);
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch, full "
             "Fashion-MNIST", "epoch", "test accuracy (mean over seeds)", 0,
             exp_series_test_acc, NULL);
    exp_plot(e, "test_loss.png", "Test loss per epoch", "epoch",
             "test loss (mean over seeds)", 0, exp_series_test_loss, NULL);
    exp_plot(e, "seconds_per_epoch.png", "Training time per epoch (one "
             "thread per run, two runs at a time)", "epoch",
             "seconds (mean over seeds)", EXP_LOGY, exp_series_seconds, NULL);
    exp_md_plot(e, md, "test accuracy per epoch", "test_accuracy.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test loss per epoch", "test_loss.png");
    fputs("\n", md);
    exp_md_plot(e, md, "seconds per epoch", "seconds_per_epoch.png");
}

static void headline(const experiment *e, FILE *f)
{
    size_t ne = exp_get(e, CNN, 0)->nepochs;
    fprintf(f, "test accuracy after %zu epoch%s: CNN %s, reference MLP "
               "256-128 %s (CNN minus it %s), MLPs of the CNN's %lld "
               "parameters 421-211 %s (%s) and 530 %s (%s); %s / %s / %s "
               "/ %s s per epoch (%d thread%s per run)",
            ne, ne == 1 ? "" : "s", exp_str(e, CNN, exp_final_test_acc),
            exp_str(e, MLP_REF, exp_final_test_acc),
            exp_paired_str(e, CNN, MLP_REF, exp_final_test_acc), CNN_PARAMS,
            exp_str(e, MLP_TWO, exp_final_test_acc),
            exp_paired_str(e, CNN, MLP_TWO, exp_final_test_acc),
            exp_str(e, MLP_ONE, exp_final_test_acc),
            exp_paired_str(e, CNN, MLP_ONE, exp_final_test_acc),
            exp_str(e, CNN, seconds_per_epoch),
            exp_str(e, MLP_REF, seconds_per_epoch),
            exp_str(e, MLP_TWO, seconds_per_epoch),
            exp_str(e, MLP_ONE, seconds_per_epoch), e->run_threads,
            e->run_threads == 1 ? "" : "s");
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "cnn", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "A CNN against MLPs of its size on Fashion-MNIST";
    e.question = "Does the reference CNN classify Fashion-MNIST better than "
                 "the reference MLP, and than an MLP with as many "
                 "parameters, trained the same way, and what does it cost "
                 "in time per epoch?";
    e.setting =
        "The full training set (60000 images; the 10000 test images), 10 "
        "epochs of the default recipe for every model: SGD with momentum "
        "0.9 at a constant lr 0.05, batch 128, He initialisation, ReLU. "
        "The reference CNN (--model cnn: 3x3 convolutions of 32 and 64 "
        "channels with padding 1, each with ReLU and a 2x2 max pool, then "
        "a dense layer of 128; 421,642 parameters, 401,536 of them in the "
        "dense layer after the convolutions); the reference MLP "
        "784-256-128-10 (235,146); two MLPs with the CNN's parameter "
        "count: 784-421-211-10 (two hidden layers near the reference's 2:1 "
        "ratio, 421,647, +0.001%) and 784-530-10 (one hidden layer, "
        "421,360, -0.07%). Three seeds, the same for every model, so the "
        "comparisons are paired. Time per epoch is each run's own clock "
        "over its training passes.";
    exp_default_seeds(&e, 3);
    for (size_t m = 0; m < NMODEL; m++) {
        exp_variant *v = exp_add(&e, names[m]);
        if (m == CNN)
            v->o.model = BP_CELL_CNN;
        else
            v->o.layers = layers[m];
        v->o.epochs = e.quick ? 1 : 10;
        if (e.quick)
            v->o.limit_train = 1000;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
