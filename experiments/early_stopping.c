/* experiments/early_stopping.c - early stopping where overfitting costs
 * test accuracy (the dropout experiment's regime: 40% of the training
 * labels wrong) with a clean validation set of 5000 images: patience 3, 5
 * and 10 on the validation loss against training all 60 epochs, on ten
 * paired seeds; and, from the fixed runs' own epochs, the checkpoint a
 * validation-accuracy criterion would keep. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

enum { P3, P5, P10, FIXED };

static double epochs_used(const exp_run *r)
{
    return r->nepochs ? (double)r->nepochs : NAN;
}

static double restored_epoch(const exp_run *r)
{
    return r->nepochs ? (double)(r->best_epoch ? r->best_epoch : r->nepochs)
                      : NAN;
}

/* the epoch (index) with the highest validation accuracy, the first of
 * equals: chosen on validation data only */
static size_t best_val_acc_index(const exp_run *r)
{
    size_t b = 0;
    for (size_t k = 1; k < r->nepochs; k++)
        if (r->epochs[k].val_acc > r->epochs[b].val_acc)
            b = k;
    return b;
}

static double val_acc_epoch(const exp_run *r)
{
    return r->nepochs ? (double)(best_val_acc_index(r) + 1) : NAN;
}

/* test accuracy and loss of the epoch with the best validation accuracy */
static double test_acc_at_val_acc(const exp_run *r)
{
    return r->nepochs ? r->epochs[best_val_acc_index(r)].test_acc : NAN;
}

static double test_loss_at_val_acc(const exp_run *r)
{
    return r->nepochs ? r->epochs[best_val_acc_index(r)].test_loss : NAN;
}

/* the epoch of the lowest validation loss, over a run's epochs */
static double val_loss_epoch(const exp_run *r)
{
    size_t b = 0;
    for (size_t k = 1; k < r->nepochs; k++)
        if (r->epochs[k].val_loss < r->epochs[b].val_loss)
            b = k;
    return r->nepochs ? (double)(b + 1) : NAN;
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "| variant | epochs run | restored epoch | test accuracy | "
                "test loss |\n|---|---|---|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++)
        fprintf(md, "| %s | %s | %s | %s | %s |\n", e->variants[v].name,
                exp_str(e, v, epochs_used), exp_str(e, v, restored_epoch),
                exp_str(e, v, exp_final_test_acc),
                exp_str(e, v, exp_final_test_loss));
    fprintf(md, "| fixed, its best validation-accuracy epoch | %s | %s | %s "
                "| %s |\n\n",
            exp_str(e, FIXED, epochs_used), exp_str(e, FIXED, val_acc_epoch),
            exp_str(e, FIXED, test_acc_at_val_acc),
            exp_str(e, FIXED, test_loss_at_val_acc));
    fprintf(md, "Paired over the seeds (each seed's difference, then their "
                "mean and 95%% t-interval):\n\n");
    for (size_t v = P3; v <= P10; v++)
        exp_compare_paired(e, md, v, FIXED, exp_final_test_acc,
                           "Test accuracy", true);
    exp_compare_paired(e, md, P5, FIXED, exp_final_test_loss, "Test loss",
                       false);
    exp_compare_paired(e, md, P5, FIXED, epochs_used, "Epochs trained",
                       false);
    exp_compare_paired(e, md, P10, P3, exp_final_test_acc, "Test accuracy",
                       true);
    fprintf(md, "\nThe same by the 95%% intervals of each variant alone:\n\n");
    exp_compare(e, md, P5, FIXED, exp_final_test_acc, "Test accuracy", true);
    fprintf(md, "\nIn the fixed runs the validation loss is lowest at epoch "
                "%s and the validation accuracy highest at epoch %s (means "
                "over seeds); keeping the epoch of the best validation "
                "accuracy would have given test accuracy %s (test loss %s), "
                "against %s for patience 5 on the validation loss. Both "
                "checkpoints are chosen on validation data only; the test "
                "set is read once per epoch for the record, never for a "
                "choice.\n",
            exp_str(e, FIXED, val_loss_epoch), exp_str(e, FIXED, val_acc_epoch),
            exp_str(e, FIXED, test_acc_at_val_acc),
            exp_str(e, FIXED, test_loss_at_val_acc),
            exp_str(e, P5, exp_final_test_acc));
}

static void plots(const experiment *e, FILE *md)
{
    static const bool fixed_only[EXP_MAX_VARIANTS] = {[FIXED] = true};
    exp_plot(e, "val_loss.png", "Validation loss per epoch (clean labels)",
             "epoch", "validation loss", 0, exp_series_val_loss, NULL);
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch", "epoch",
             "test accuracy", 0, exp_series_test_acc, NULL);
    exp_plot(e, "val_accuracy.png", "Validation accuracy of the run trained "
             "to the end",
             "epoch", "validation accuracy", 0, exp_series_val_acc, fixed_only);
    exp_md_plot(e, md, "validation loss", "val_loss.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test accuracy", "test_accuracy.png");
    fputs("\n", md);
    exp_md_plot(e, md, "validation accuracy", "val_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    double fe = NAN, fsd, fci;
    exp_stats(e, FIXED, epochs_used, &fe, &fsd, &fci);
    fprintf(f, "40%% label noise: patience 5 on the validation loss ends at "
               "test accuracy %s after %s epochs, training all %.0f epochs at "
               "%s (%s); test loss %s vs %s",
            exp_str(e, P5, exp_final_test_acc), exp_str(e, P5, epochs_used),
            fe, exp_str(e, FIXED, exp_final_test_acc),
            exp_paired_str(e, P5, FIXED, exp_final_test_acc),
            exp_str(e, P5, exp_final_test_loss),
            exp_str(e, FIXED, exp_final_test_loss));
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "early_stopping", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Early stopping where overfitting costs test accuracy";
    e.question = "Does stopping when the validation loss stops improving, and "
                 "keeping the best weights, save a net that memorises noisy "
                 "labels from the test accuracy it loses by training on "
                 "(Prechelt 1998; the regime of Arpit et al. 2017)?";
    e.setting =
        "The dropout experiment's regime without dropout: 10000 "
        "Fashion-MNIST training images, half of them held out as a "
        "validation set with their true labels (5000), the other 5000 "
        "trained on with 40% of their labels replaced by another class; "
        "784-1024-1024-10, SGD with momentum 0.9 from lr 0.05 decayed by a "
        "cosine over 60 epochs, batch 128. Early stopping watches the "
        "validation loss with patience 3, 5 or 10 epochs and restores the "
        "best epoch's weights; the fixed run trains all 60 epochs and keeps "
        "its last weights. Ten seeds, the same for every variant.";
    exp_default_seeds(&e, 10); /* ten paired seeds */
    const int pat[4] = {3, 5, 10, 0};
    for (int i = 0; i < 4; i++) {
        char name[32];
        if (pat[i])
            snprintf(name, sizeof name, "patience=%d", pat[i]);
        else
            snprintf(name, sizeof name, "fixed");
        exp_variant *v = exp_add(&e, name);
        v->o.layers = e.quick ? "256,256" : "1024,1024";
        v->o.limit_train = e.quick ? 2000 : 10000;
        v->o.val = 0.5;
        v->o.label_noise = 0.4;
        v->o.schedule = BP_SCHED_COSINE;
        v->o.early_stop = pat[i];
        v->o.epochs = e.quick ? 12 : 60;
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
