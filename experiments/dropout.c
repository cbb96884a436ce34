/* experiments/dropout.c - dropout where overfitting costs test accuracy:
 * 40% of the training labels wrong, so an unregularised wide net memorises
 * them and its test accuracy falls from an early peak (Zhang et al. 2017,
 * Arpit et al. 2017). No dropout, hidden dropout 0.5, and Srivastava et
 * al.'s (2014) recipe (input dropout 0.2, hidden 0.5, max-norm 3), each
 * on the same paired seeds, the same cosine-decayed rate and 60 epochs. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

enum { NONE, HIDDEN, RECIPE };

/* accuracy on the (noisy) training labels after the last epoch, dropout
 * off: how much of the noise the net has memorised */
static double final_train_acc(const exp_run *r)
{
    return r->nepochs ? r->epochs[r->nepochs - 1].train_eval_acc : NAN;
}

/* the epoch (from 1) of the best test accuracy: where the fall starts */
static double best_epoch(const exp_run *r)
{
    size_t b = 0;
    for (size_t k = 1; k < r->nepochs; k++)
        if (r->epochs[k].test_acc > r->epochs[b].test_acc)
            b = k;
    return r->nepochs ? (double)(b + 1) : NAN;
}

/* best test accuracy minus the last: how much the fall cost */
static double fall(const exp_run *r)
{
    return r->nepochs ? exp_best_test_acc(r) - r->final_test_acc : NAN;
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "Paired over the seeds (each seed's difference, then their "
                "mean and 95%% t-interval):\n\n");
    exp_compare_paired(e, md, HIDDEN, NONE, exp_final_test_acc,
                       "Test accuracy after the last epoch", true);
    exp_compare_paired(e, md, RECIPE, NONE, exp_final_test_acc,
                       "Test accuracy after the last epoch", true);
    exp_compare_paired(e, md, RECIPE, HIDDEN, exp_final_test_acc,
                       "Test accuracy after the last epoch", true);
    exp_compare_paired(e, md, HIDDEN, NONE, exp_final_test_loss,
                       "Test loss after the last epoch", false);
    exp_compare_paired(e, md, RECIPE, NONE, exp_final_test_loss,
                       "Test loss after the last epoch", false);
    exp_compare_paired(e, md, HIDDEN, NONE, final_train_acc,
                       "Accuracy on the noisy training labels (memorisation)",
                       false);
    exp_compare_paired(e, md, HIDDEN, NONE, fall,
                       "Fall from the best epoch's test accuracy to the last",
                       false);
    fprintf(md, "\nThe same by the 95%% intervals of each variant alone:\n\n");
    exp_compare(e, md, HIDDEN, NONE, exp_final_test_acc,
                "Test accuracy after the last epoch", true);
    exp_compare(e, md, RECIPE, NONE, exp_final_test_acc,
                "Test accuracy after the last epoch", true);
    fprintf(md, "\nWithout dropout the best test accuracy comes at epoch %s "
                "(mean over seeds) and is %s, then falls by %s to the last "
                "epoch while the training labels, 40%% of them wrong, are "
                "fitted to %s; the best epoch is picked on the test set "
                "here, so it only shows where the fall starts (the "
                "early_stopping experiment picks on validation data).\n",
            exp_str(e, NONE, best_epoch), exp_str(e, NONE, exp_best_test_acc),
            exp_str(e, NONE, fall), exp_str(e, NONE, final_train_acc));
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "test_accuracy.png", "Test accuracy per epoch (40% of "
             "training labels wrong)", "epoch", "test accuracy", 0,
             exp_series_test_acc, NULL);
    exp_plot(e, "test_loss.png", "Test loss per epoch", "epoch",
             "test loss", 0, exp_series_test_loss, NULL);
    exp_plot(e, "train_accuracy.png", "Accuracy on the noisy training labels "
             "per epoch (dropout off)", "epoch", "training accuracy", 0,
             exp_series_train_eval_acc, NULL);
    exp_md_plot(e, md, "test accuracy", "test_accuracy.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test loss", "test_loss.png");
    fputs("\n", md);
    exp_md_plot(e, md, "training accuracy", "train_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    fprintf(f, "40%% label noise: last-epoch test accuracy %s without "
               "dropout (its peak %s), %s with p=0.5 (%s), %s with the full "
               "recipe (%s); test loss %s / %s / %s",
            exp_str(e, NONE, exp_final_test_acc),
            exp_str(e, NONE, exp_best_test_acc),
            exp_str(e, HIDDEN, exp_final_test_acc),
            exp_paired_str(e, HIDDEN, NONE, exp_final_test_acc),
            exp_str(e, RECIPE, exp_final_test_acc),
            exp_paired_str(e, RECIPE, NONE, exp_final_test_acc),
            exp_str(e, NONE, exp_final_test_loss),
            exp_str(e, HIDDEN, exp_final_test_loss),
            exp_str(e, RECIPE, exp_final_test_loss));
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "dropout", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Dropout where overfitting costs test accuracy";
    e.question = "Does dropout keep a net that memorises noisy labels from "
                 "losing test accuracy (Srivastava et al. 2014; the regime "
                 "of Zhang et al. 2017 and Arpit et al. 2017)?";
    e.setting =
        "5000 Fashion-MNIST training images with 40% of their labels "
        "replaced by another class (--label-noise 0.4; the test labels are "
        "true), a wide net (784-1024-1024-10, 1.9M weights), SGD with "
        "momentum 0.9 from lr 0.05 decayed by a cosine over 60 epochs, "
        "batch 128. Without regularisation the net fits the wrong labels "
        "too, so its test accuracy peaks within the first epochs and then "
        "falls: a regime where a cure can show in test accuracy, not only "
        "in the train-test gap. Variants: no dropout; dropout 0.5 after "
        "each hidden layer; Srivastava et al.'s recipe (input dropout 0.2, "
        "hidden 0.5, max-norm 3 on every unit's incoming weights). Ten "
        "seeds, the same for every variant, so the comparisons are paired. "
        "Training accuracy is measured on the noisy labels after each "
        "epoch with dropout off.";
    exp_default_seeds(&e, 10); /* ten paired seeds */
    static const char *const names[3] = {"none", "p=0.5",
                                         "in=0.2 p=0.5 maxnorm=3"};
    for (int i = 0; i < 3; i++) {
        exp_variant *v = exp_add(&e, names[i]);
        v->o.layers = e.quick ? "256,256" : "1024,1024";
        v->o.limit_train = e.quick ? 1000 : 5000;
        v->o.label_noise = 0.4;
        v->o.epochs = e.quick ? 6 : 60;
        v->o.schedule = BP_SCHED_COSINE;
        v->o.eval_train = true;
        if (i >= HIDDEN)
            v->o.dropout = 0.5;
        if (i == RECIPE) {
            v->o.input_dropout = 0.2;
            v->o.max_norm = 3;
        }
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
