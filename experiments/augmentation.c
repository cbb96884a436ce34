/* experiments/augmentation.c - "more data" without more data: the
 * reference CNN on a small training set (5000 images), where it fits its
 * training images while its test accuracy stops rising, trained with no
 * augmentation, random shifts of up to 2 pixels, random left-right flips
 * and both (--augment; Krizhevsky et al. 2012), on the same paired seeds.
 * Training accuracy is measured on the clean training images after every
 * epoch, so the train-test gap can be followed epoch by epoch. */
#include <math.h>
#include <stdio.h>

#include "experiments/harness.h"

enum { NONE, SHIFT, FLIP, BOTH, NAUG };
/* --augment of each, and its name (metrics.csv's variant column takes no
 * comma) */
static const char *const augs[NAUG] = {"none", "shift:2", "flip",
                                       "shift:2,flip"};
static const char *const names[NAUG] = {"none", "shift:2", "flip",
                                        "shift:2+flip"};

/* accuracy on the clean training images after the last epoch */
static double final_train_acc(const exp_run *r)
{
    return r->nepochs ? r->epochs[r->nepochs - 1].train_eval_acc : NAN;
}

/* the epoch (from 1) of the best test accuracy, the first of equals */
static double best_epoch(const exp_run *r)
{
    size_t b = 0;
    for (size_t k = 1; k < r->nepochs; k++)
        if (r->epochs[k].test_acc > r->epochs[b].test_acc)
            b = k;
    return r->nepochs ? (double)(b + 1) : NAN;
}

/* the last test loss above the lowest: how far the loss has turned */
static double loss_rise(const exp_run *r)
{
    return r->nepochs ? r->final_test_loss - exp_best_test_loss(r) : NAN;
}

/* The closing window: the last quarter of the epochs (at least one).
 * Single epochs at a constant rate of 0.05 move by a percent or more, so
 * the mean over the window says more than the last epoch alone. */
static size_t window(const exp_run *r)
{
    return r->nepochs >= 4 ? r->nepochs / 4 : 1;
}

/* mean over epochs [from, to) of test accuracy, or (gap) of training
 * minus test accuracy */
static double mean_of(const exp_run *r, size_t from, size_t to, bool gap)
{
    double s = 0;
    for (size_t k = from; k < to; k++)
        s += gap ? r->epochs[k].train_eval_acc - r->epochs[k].test_acc
                 : r->epochs[k].test_acc;
    return s / (double)(to - from);
}

static double late_test_acc(const exp_run *r)
{
    return r->nepochs ? mean_of(r, r->nepochs - window(r), r->nepochs, false)
                      : NAN;
}

static double late_gap(const exp_run *r)
{
    return r->nepochs ? mean_of(r, r->nepochs - window(r), r->nepochs, true)
                      : NAN;
}

/* the closing window's mean test accuracy minus the window's before it:
 * whether test accuracy is still rising at the end */
static double late_rise(const exp_run *r)
{
    size_t w = window(r);
    if (r->nepochs < 2 * w)
        return NAN;
    return late_test_acc(r) - mean_of(r, r->nepochs - 2 * w,
                                      r->nepochs - w, false);
}

/* the same for the training accuracy */
static double late_train_rise(const exp_run *r)
{
    size_t w = window(r);
    if (r->nepochs < 2 * w)
        return NAN;
    double s = 0;
    for (size_t k = r->nepochs - w; k < r->nepochs; k++)
        s += r->epochs[k].train_eval_acc - r->epochs[k - w].train_eval_acc;
    return s / (double)w;
}

/* the epochs the plain net's runs recorded (the most of any seed) */
static size_t epochs_of(const experiment *e)
{
    size_t n = 0;
    for (size_t s = 0; s < e->nseeds; s++)
        if (exp_get(e, NONE, s)->nepochs > n)
            n = exp_get(e, NONE, s)->nepochs;
    return n;
}

static size_t window_of(const experiment *e)
{
    size_t n = epochs_of(e);
    return n >= 4 ? n / 4 : 1;
}

/* 95% interval of f over variant v's seeds as "[lo, hi]" */
static const char *interval(const experiment *e, size_t v, exp_metric_fn *f)
{
    static char buf[4][64];
    static unsigned next;
    char *out = buf[next++ % 4];
    double m, sd, ci;
    if (exp_stats(e, v, f, &m, &sd, &ci) < 2 || !isfinite(ci))
        snprintf(out, sizeof buf[0], "n/a");
    else
        snprintf(out, sizeof buf[0], "[%+.4f, %+.4f]", m - ci, m + ci);
    return out;
}

/* Does the plain net overfit here: it fits its training images (over
 * 0.95 of them after the last epoch) while its test accuracy is not
 * measurably rising over the closing window (the 95% interval of the
 * rise reaches 0 or lies below it)? */
static bool overfits(const experiment *e)
{
    double t, r, sd, ci;
    if (exp_stats(e, NONE, final_train_acc, &t, &sd, &ci) < 2 ||
        exp_stats(e, NONE, late_rise, &r, &sd, &ci) < 2 || !isfinite(ci))
        return false;
    return t > 0.95 && r - ci <= 0;
}

static void report(const experiment *e, FILE *md)
{
    size_t n = epochs_of(e), w = window_of(e);
    size_t from = n >= w ? n - w + 1 : 1;
    fprintf(md, "| augmentation | test accuracy, last epoch | best epoch's "
                "(picked on test) | at epoch | mean of epochs %zu-%zu "
                "| training accuracy, last epoch | gap, last epoch | gap, "
                "mean of epochs %zu-%zu | test loss, last epoch | its rise "
                "from the lowest |\n"
                "|---|---|---|---|---|---|---|---|---|---|\n",
            from, n, from, n);
    for (size_t v = 0; v < e->nvariants; v++) {
        /* exp_str's buffers rotate by eight: two calls of printf */
        fprintf(md, "| %s | %s | %s | %s | %s |", e->variants[v].name,
                exp_str(e, v, exp_final_test_acc),
                exp_str(e, v, exp_best_test_acc), exp_str(e, v, best_epoch),
                exp_str(e, v, late_test_acc));
        fprintf(md, " %s | %s | %s | %s | %s |\n",
                exp_str(e, v, final_train_acc), exp_str(e, v, exp_final_gap),
                exp_str(e, v, late_gap), exp_str(e, v, exp_final_test_loss),
                exp_str(e, v, loss_rise));
    }
    fprintf(md, "\nTraining accuracy is on the %lld clean (not augmented) "
                "training images; the gap is it minus test accuracy. The "
                "best epoch is picked on the test set, so it is optimistic "
                "and only shows where test accuracy peaks.\n\n",
            e->variants[NONE].o.limit_train);
    double rise, tr, sd, ci;
    if (n < 2 || !exp_stats(e, NONE, late_rise, &rise, &sd, &ci) ||
        !exp_stats(e, NONE, late_train_rise, &tr, &sd, &ci))
        fprintf(md, "**Does the plain net overfit?** Too few epochs "
                    "recorded to tell.\n\n");
    else
        fprintf(md, "**Does the plain net overfit?** Without augmentation, "
                "test accuracy over epochs %zu-%zu minus over epochs "
                "%zu-%zu: %s (95%% interval %s), while training accuracy "
                "changes by %+.4f and ends at %s; the test loss ends %s "
                "above its lowest. %s\n\n",
            n - w + 1, n, n - 2 * w + 1, n - w,
            exp_str(e, NONE, late_rise), interval(e, NONE, late_rise), tr,
            exp_str(e, NONE, final_train_acc), exp_str(e, NONE, loss_rise),
            overfits(e) ? "It overfits: it goes on fitting its training "
                          "images while its test accuracy has stopped "
                          "rising."
                        : "By this test (training accuracy over 0.95, test "
                          "accuracy not measurably rising at the end) it "
                          "does not overfit in these epochs.");
    fprintf(md, "Each augmentation minus none, paired over the seeds (each "
                "seed's difference, then their mean and 95%% "
                "t-interval):\n\n");
    char late[48], what[96];
    snprintf(late, sizeof late, "epochs %zu-%zu", from, n);
    for (size_t v = SHIFT; v < e->nvariants; v++) {
        exp_compare_paired(e, md, v, NONE, exp_final_test_acc,
                           "Test accuracy after the last epoch", true);
        exp_compare_paired(e, md, v, NONE, exp_best_test_acc,
                           "Best epoch's test accuracy", true);
        snprintf(what, sizeof what, "Test accuracy, mean of %s", late);
        exp_compare_paired(e, md, v, NONE, late_test_acc, what, true);
        exp_compare_paired(e, md, v, NONE, exp_final_gap,
                           "Train-test gap after the last epoch", false);
        snprintf(what, sizeof what, "Train-test gap, mean of %s", late);
        exp_compare_paired(e, md, v, NONE, late_gap, what, false);
        exp_compare_paired(e, md, v, NONE, exp_final_test_loss,
                           "Test loss after the last epoch", false);
    }
    static const char *const dir[3] = {"lower", "no different", "higher"};
    fprintf(md, "\n");
    size_t nup = 0, ndown = 0, nloss = 0, ngap = 0, nby_train = 0;
    for (size_t v = SHIFT; v < e->nvariants; v++) {
        int last = exp_paired_sign(e, v, NONE, exp_final_test_acc);
        int best = exp_paired_sign(e, v, NONE, exp_best_test_acc);
        int mean = exp_paired_sign(e, v, NONE, late_test_acc);
        int loss = exp_paired_sign(e, v, NONE, exp_final_test_loss);
        int train = exp_paired_sign(e, v, NONE, final_train_acc);
        int gap = exp_paired_sign(e, v, NONE, late_gap);
        bool up = last > 0 || best > 0 || mean > 0;
        bool down = last < 0 || best < 0 || mean < 0;
        nup += up, ndown += down, nloss += loss < 0, ngap += gap < 0;
        nby_train += gap < 0 && train < 0 && !up && !down;
        fprintf(md, "- %s against none: test accuracy %s at the last epoch "
                    "(%s), %s at the best (%s) and %s over %s (%s); test "
                    "loss %s (%s);",
                e->variants[v].name, dir[last + 1],
                exp_paired_str(e, v, NONE, exp_final_test_acc), dir[best + 1],
                exp_paired_str(e, v, NONE, exp_best_test_acc), dir[mean + 1],
                late, exp_paired_str(e, v, NONE, late_test_acc),
                dir[loss + 1],
                exp_paired_str(e, v, NONE, exp_final_test_loss));
        fprintf(md, " training accuracy %s (%s vs %s, %s); the gap over %s "
                    "%s (%s vs %s).\n",
                dir[train + 1], exp_str(e, v, final_train_acc),
                exp_str(e, NONE, final_train_acc),
                exp_paired_str(e, v, NONE, final_train_acc), late,
                gap < 0   ? "smaller"
                : gap > 0 ? "larger"
                          : "no different",
                exp_str(e, v, late_gap), exp_str(e, NONE, late_gap));
    }
    size_t k = e->nvariants - 1;
    fprintf(md, "- Verdict: ");
    if (!nup && !ndown)
        fprintf(md, "no effect of augmentation on test accuracy found: "
                    "every paired interval (last epoch, best epoch, mean "
                    "over %s) holds 0.", late);
    else
        fprintf(md, "%zu of the %zu augmentations raise test accuracy "
                    "and %zu lower it by some measure (last epoch, best "
                    "epoch or mean over %s; paired intervals excluding 0).",
                nup, k, ndown, late);
    fprintf(md, " The gap over %s shrinks with %zu of %zu", late, ngap, k);
    if (ngap && nby_train == ngap)
        fprintf(md, ", each time because the training accuracy falls, "
                    "not because test accuracy rises");
    fprintf(md, "; the test loss after the last epoch is lower with %zu of "
                "%zu.", nloss, k);
    /* still learning at the end: the training accuracy's rise over the
     * closing window has a 95% interval above 0 */
    size_t rising = 0;
    for (size_t v = SHIFT; v < e->nvariants; v++) {
        double m, sd, ci;
        if (exp_stats(e, v, late_train_rise, &m, &sd, &ci) > 1 &&
            isfinite(ci) && m - ci > 0) {
            fprintf(md, "%s %s %s", rising ? "," : " Training accuracy is "
                                                   "still rising at the end "
                                                   "with",
                    e->variants[v].name, exp_str(e, v, late_train_rise));
            rising++;
        }
    }
    if (rising)
        fprintf(md, " (mean over %s minus the %zu epochs before): a longer "
                    "schedule could still change the comparison.",
                late, w);
    fprintf(md, "\n");
}

/* per epoch, the mean over the seeds that recorded it of training minus
 * test accuracy */
static size_t series_gap(const experiment *e, size_t v, double *x, double *y,
                         size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; k < cap; k++) {
        double s = 0;
        size_t c = 0;
        for (size_t j = 0; j < e->nseeds; j++) {
            const exp_run *r = exp_get(e, v, j);
            if (k < r->nepochs)
                s += r->epochs[k].train_eval_acc - r->epochs[k].test_acc, c++;
        }
        if (!c)
            break;
        x[n] = (double)(k + 1);
        y[n++] = s / (double)c;
    }
    return n;
}

static void plots(const experiment *e, FILE *md)
{
    char title[96];
    snprintf(title, sizeof title, "Test accuracy per epoch, CNN on %lld "
             "training images", e->variants[NONE].o.limit_train);
    exp_plot(e, "test_accuracy.png", title, "epoch", "test accuracy (mean "
             "over seeds)", 0, exp_series_test_acc, NULL);
    exp_plot(e, "gap.png", "Train-test gap per epoch (clean training "
             "images)", "epoch", "training minus test accuracy (mean over "
             "seeds)", 0, series_gap, NULL);
    exp_plot(e, "train_accuracy.png", "Accuracy on the clean training "
             "images per epoch", "epoch", "training accuracy (mean over "
             "seeds)", 0, exp_series_train_eval_acc, NULL);
    exp_plot(e, "test_loss.png", "Test loss per epoch", "epoch",
             "test loss (mean over seeds)", 0, exp_series_test_loss, NULL);
    exp_md_plot(e, md, "test accuracy per epoch", "test_accuracy.png");
    fputs("\n", md);
    exp_md_plot(e, md, "train-test gap per epoch", "gap.png");
    fputs("\n", md);
    exp_md_plot(e, md, "training accuracy per epoch", "train_accuracy.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test loss per epoch", "test_loss.png");
}

static void headline(const experiment *e, FILE *f)
{
    size_t n = epochs_of(e), w = window_of(e);
    size_t nup = 0, ndown = 0, ngap = 0, nby_train = 0;
    for (size_t v = SHIFT; v < e->nvariants; v++) {
        int s[3] = {exp_paired_sign(e, v, NONE, exp_final_test_acc),
                    exp_paired_sign(e, v, NONE, exp_best_test_acc),
                    exp_paired_sign(e, v, NONE, late_test_acc)};
        bool up = s[0] > 0 || s[1] > 0 || s[2] > 0;
        bool down = s[0] < 0 || s[1] < 0 || s[2] < 0;
        bool gap = exp_paired_sign(e, v, NONE, late_gap) < 0;
        nup += up, ndown += down, ngap += gap;
        nby_train += gap && !up && !down &&
                     exp_paired_sign(e, v, NONE, final_train_acc) < 0;
    }
    fprintf(f, "CNN on %lld images, %zu epochs; without augmentation "
               "training accuracy %s, test accuracy %s (best epoch %s): %s; "
               "%s; test accuracy minus none, last epoch / best epoch:",
            e->variants[NONE].o.limit_train, n,
            exp_str(e, NONE, final_train_acc),
            exp_str(e, NONE, exp_final_test_acc),
            exp_str(e, NONE, exp_best_test_acc),
            overfits(e) ? "it overfits (test accuracy stopped rising)"
                        : "no overfitting by the summary's test",
            !nup && !ndown ? "no effect of augmentation on test accuracy "
                             "found"
                           : "augmentation changes test accuracy (see "
                             "the summary)");
    for (size_t v = SHIFT; v < e->nvariants; v++)
        fprintf(f, "%s %s %s / %s", v == SHIFT ? "" : ";",
                e->variants[v].name,
                exp_paired_str(e, v, NONE, exp_final_test_acc),
                exp_paired_str(e, v, NONE, exp_best_test_acc));
    fprintf(f, "; train-test gap over epochs %zu-%zu: none %s",
            n >= w ? n - w + 1 : 1, n, exp_str(e, NONE, late_gap));
    for (size_t v = SHIFT; v < e->nvariants; v++)
        fprintf(f, ", %s %s (%s)", e->variants[v].name,
                exp_str(e, v, late_gap),
                exp_paired_str(e, v, NONE, late_gap));
    fprintf(f, "; test loss after the last epoch none %s",
            exp_str(e, NONE, exp_final_test_loss));
    for (size_t v = SHIFT; v < e->nvariants; v++)
        fprintf(f, ", %s %s", e->variants[v].name,
                exp_str(e, v, exp_final_test_loss));
    if (ngap && nby_train == ngap) {
        fprintf(f, "; the gap is smaller because training accuracy "
                   "falls (");
        for (size_t v = SHIFT; v < e->nvariants; v++)
            fprintf(f, "%s%s", v == SHIFT ? "" : " / ",
                    exp_str(e, v, final_train_acc));
        fprintf(f, "), not because test accuracy rises");
    }
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "augmentation", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Data augmentation: more data without more data";
    e.question = "On a training set small enough that the plain CNN fits it "
                 "while its test accuracy stops rising, do random shifts "
                 "and left-right flips of the training images (Krizhevsky "
                 "et al. 2012) raise test accuracy and shrink the train-test "
                 "gap?";
    e.setting =
        "The first 5000 images of the shuffled Fashion-MNIST training set "
        "(--limit-train 5000); the reference CNN (--model cnn: 3x3 "
        "convolutions of 32 and 64 channels, each with ReLU and a 2x2 max "
        "pool, then a dense layer of 128; 421,642 parameters) with the "
        "default recipe: SGD with momentum 0.9 at a constant lr 0.05, batch "
        "128, 20 epochs. Variants: no augmentation; every training image "
        "moved by up to 2 pixels each way, zero-padded (--augment "
        "shift:2); mirrored left to right with probability 1/2 (--augment "
        "flip: a mirrored garment or shoe is still of its class); both "
        "(--augment shift:2,flip). "
        "The draws are new every epoch, from the seed, epoch and image. "
        "After each epoch the net is evaluated on the clean training "
        "images (--eval-train), so the train-test gap is measured on the "
        "same images for every variant. A quick run before settled the "
        "size: at 5000 images and 20 epochs the plain net already fits "
        "its training set while its test accuracy levels off (the first "
        "paragraph under Verdict tests this on every seed). Five seeds, "
        "the same for every variant, so the comparisons are paired.";
    exp_default_seeds(&e, 5);
    for (size_t i = 0; i < NAUG; i++) {
        exp_variant *v = exp_add(&e, names[i]);
        v->o.model = BP_CELL_CNN;
        v->o.limit_train = e.quick ? 500 : 5000;
        v->o.epochs = e.quick ? 2 : 20;
        v->o.eval_train = true;
        if (i != NONE)
            v->o.augment = augs[i];
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
