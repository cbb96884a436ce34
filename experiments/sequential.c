/* experiments/sequential.c - sequential Fashion-MNIST: each image read as
 * 28 rows of 28 pixels by an LSTM, beside the reference MLP that sees the
 * whole image at once; both trained by Adam, each at the rate its
 * validation accuracy chooses, and compared on the test set paired over
 * the seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/harness.h"

static const char *const rates[] = {"3e-4", "1e-3", "3e-3", "1e-2",
                                    "3e-2"};
#define NRATE (sizeof rates / sizeof rates[0])

enum { LSTM, MLP, NMODEL };
static const char *const model_title[NMODEL] = {"LSTM", "MLP"};

static size_t vid(int m, size_t r) { return (size_t)m * NRATE + r; }

static double seconds_per_epoch(const exp_run *r)
{
    return r->done && r->nepochs ? r->seconds / (double)r->nepochs : NAN;
}

/* the rate of model m chosen on validation data; NRATE: none */
static size_t chosen(const experiment *e, int m)
{
    size_t vs[NRATE];
    for (size_t r = 0; r < NRATE; r++)
        vs[r] = vid(m, r);
    return exp_choose(e, vs, NRATE, exp_final_val_acc);
}

static void report(const experiment *e, FILE *md)
{
    size_t c[NMODEL] = {chosen(e, LSTM), chosen(e, MLP)};
    fprintf(md, "Validation accuracy after the last epoch (a tenth of the "
                "training images, held out) at each Adam rate:\n\n"
                "| lr | LSTM | MLP |\n|---|---|---|\n");
    for (size_t r = 0; r < NRATE; r++) {
        fprintf(md, "| %s |", rates[r]);
        for (int m = 0; m < NMODEL; m++) {
            size_t v = vid(m, r), k = exp_diverged(e, v);
            fprintf(md, " %s%s", exp_str(e, v, exp_final_val_acc),
                    c[m] == r ? " (chosen)" : "");
            if (k)
                fprintf(md, ", %zu/%zu diverged", k, exp_recorded(e, v));
            fprintf(md, " |");
        }
        fprintf(md, "\n");
    }
    fprintf(md, "\nThe rate of each model with the highest mean validation "
                "accuracy, among the rates where no seed diverged, is "
                "chosen (marked) before any test number is read.");
    for (int m = 0; m < NMODEL; m++)
        if (c[m] == 0 || c[m] == NRATE - 1)
            fprintf(md, " The %s's chosen rate is at the edge of the range "
                        "swept: a rate beyond it might do better.",
                    model_title[m]);
    fprintf(md, "\n\n");
    if (c[LSTM] == NRATE || c[MLP] == NRATE) {
        fprintf(md, "- Verdict: no comparison: a model lost a seed at "
                    "every rate.\n");
        return;
    }
    size_t a = vid(LSTM, c[LSTM]), b = vid(MLP, c[MLP]);
    fprintf(md, "Each at its chosen rate, on the test set, paired over the "
                "seeds (seconds per epoch: %s for the LSTM, %s for the "
                "MLP, one thread each):\n\n",
            exp_str(e, a, seconds_per_epoch), exp_str(e, b, seconds_per_epoch));
    exp_compare_paired(e, md, a, b, exp_final_test_acc_trained,
                       "Test accuracy after the last epoch, LSTM over rows "
                       "minus MLP over pixels", true);
    exp_compare_paired(e, md, a, b, exp_final_test_loss,
                       "Test loss after the last epoch, LSTM minus MLP",
                       false);
}

static void plots(const experiment *e, FILE *md)
{
    bool which[EXP_MAX_VARIANTS] = {false};
    for (int m = 0; m < NMODEL; m++)
        if (chosen(e, m) < NRATE)
            which[vid(m, chosen(e, m))] = true;
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch, each at its "
             "chosen rate", "epoch", "test accuracy", 0, exp_series_test_acc,
             which);
    exp_plot(e, "val_accuracy.png", "Validation accuracy per epoch, every "
             "rate", "epoch", "validation accuracy", 0, exp_series_val_acc,
             NULL);
    exp_md_plot(e, md, "test accuracy", "test_accuracy.png");
    fputs("\n", md);
    exp_md_plot(e, md, "validation accuracy", "val_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    size_t c[NMODEL] = {chosen(e, LSTM), chosen(e, MLP)};
    if (c[LSTM] == NRATE || c[MLP] == NRATE) {
        fprintf(f, "a model lost a seed at every rate: no comparison");
        exp_diverged_note(e, f);
        return;
    }
    size_t a = vid(LSTM, c[LSTM]), b = vid(MLP, c[MLP]);
    fprintf(f, "Adam for both, at the rate chosen on validation (%s %s, %s "
               "%s): test accuracy %s for an LSTM reading 28 rows, %s for "
               "the 784-256-128-10 MLP (%s); test loss %s vs %s; %s vs %s "
               "s per epoch",
            model_title[LSTM], rates[c[LSTM]], model_title[MLP], rates[c[MLP]],
            exp_str(e, a, exp_final_test_acc_trained),
            exp_str(e, b, exp_final_test_acc_trained),
            exp_paired_str(e, a, b, exp_final_test_acc_trained),
            exp_str(e, a, exp_final_test_loss),
            exp_str(e, b, exp_final_test_loss),
            exp_str(e, a, seconds_per_epoch), exp_str(e, b, seconds_per_epoch));
    exp_diverged_note(e, f);
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
                 "once, with the same optimizer and epochs, each at its own "
                 "best rate?";
    e.setting =
        "LSTM: 128 units over 28 steps of 28 pixels, its last state into a "
        "10-way softmax. MLP: the reference network (784-256-128-10 ReLU). "
        "Both trained by Adam (beta 0.9, 0.999) at lr 3e-4, 1e-3, 3e-3, "
        "1e-2 and 3e-2, batch 128, 10 epochs. A tenth of the training set (6000 "
        "images) is held out: its accuracy chooses each model's rate. Ten "
        "seeds, the same for every variant, so the comparison is paired.";
    exp_default_seeds(&e, 10);
    for (int m = 0; m < NMODEL; m++)
        for (size_t r = 0; r < NRATE; r++) {
            char name[32];
            snprintf(name, sizeof name, "%s lr=%s",
                     m == LSTM ? "lstm-128 over rows" : "mlp 256-128",
                     rates[r]);
            exp_variant *v = exp_add(&e, name);
            if (m == LSTM) {
                v->o.data = "fashion-mnist-rows";
                v->o.model = BP_CELL_LSTM;
                v->o.hidden = 128;
            }
            v->o.opt = BP_OPT_ADAM;
            v->o.lr = strtod(rates[r], NULL);
            v->o.val = 0.1;
            v->o.epochs = e.quick ? 1 : 10;
            if (e.quick)
                v->o.limit_train = 5000;
        }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
