/* experiments/recurrent.c - an Elman RNN against an LSTM on the adding
 * problem at T = 10 to 400: gradients that vanish through time, and the
 * cell built to keep them (Hochreiter & Schmidhuber 1997); the LSTM's
 * forget-gate bias of 1 against 0 (Gers et al. 2000). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/harness.h"

#define NLEN 5
static const long long lens[NLEN] = {10, 50, 100, 200, 400};
static const long long quick_lens[2] = {10, 50};
/* the mean predictor's MSE: Var(U1 + U2) = 2/12 */
#define BASELINE (1.0 / 6.0)
/* solved, by the MSE: a test MSE below this (6% of the baseline) */
#define SOLVED 0.01
/* solved, by Hochreiter & Schmidhuber's criterion: at least this share of
 * the test sequences predicted within BP_REG_TOLERANCE (0.04) of their
 * target. They stopped training once the last 2000 training sequences
 * were all within it, and their test sets then had 0.04% to 0.23% of the
 * sequences wrong; 1% wrong is the bound here. */
#define SOLVED_SHARE 0.99

/* the variants at each length, in this order: v = NKIND * i + kind */
#define NKIND 3
enum { RNN, LSTM, LSTM_B0 };
static const char *const kind_names[NKIND] = {
    "Elman RNN (tanh)", "LSTM, forget bias 1", "LSTM, forget bias 0"};

static size_t nlens(const experiment *e) { return e->nvariants / NKIND; }
static size_t var(size_t i, int kind) { return NKIND * i + (size_t)kind; }
static long long len_of(const experiment *e, size_t v)
{
    return atoll(e->variants[v].o.data + strlen("adding:"));
}

static double final_mse(const exp_run *r)
{
    return r->done ? r->final_test_loss : NAN;
}

/* the share of test sequences within 0.04 of their target */
static double final_share(const exp_run *r)
{
    return r->done ? r->final_test_acc : NAN;
}

static bool solved_mse(const exp_run *r) { return final_mse(r) < SOLVED; }
static bool solved_share(const exp_run *r)
{
    return final_share(r) >= SOLVED_SHARE;
}

/* the first epoch whose test share within 0.04 reaches SOLVED_SHARE */
static double epochs_to_solve(const exp_run *r)
{
    for (size_t k = 0; k < r->nepochs; k++)
        if (r->epochs[k].test_acc >= SOLVED_SHARE)
            return (double)(k + 1);
    return NAN;
}

/* the first epoch whose test share within 0.04 reaches one half: where
 * the cell breaks away from the mean predictor (about 8%); a run that
 * never does counts as the epochs + 1, so a difference in it is a lower
 * bound */
#define BREAKAWAY 0.5
static double epochs_to_half(const exp_run *r)
{
    if (!r->done)
        return NAN;
    for (size_t k = 0; k < r->nepochs; k++)
        if (r->epochs[k].test_acc >= BREAKAWAY)
            return (double)(k + 1);
    return (double)(r->nepochs + 1);
}

/* ||dL/dh_1|| / ||dL/dh_T||, the means over epoch k's steps (epoch 1:
 * the weights as initialised and barely trained): how much of the loss's
 * gradient reaches the first step */
static double ratio_at(const exp_run *r, size_t k)
{
    if (k >= r->nepochs || !r->nsteps)
        return NAN;
    const bp_epoch_stats *s = &r->epochs[k];
    return s->step_norm[0] / s->step_norm[r->nsteps - 1];
}

/* geometric mean over seeds of the ratio at epoch k (the ratios span
 * orders of magnitude); 0 if the first step's gradient underflowed to
 * zero in any seed */
static double geo_ratio(const experiment *e, size_t v, size_t k)
{
    double s = 0;
    size_t n = 0;
    for (size_t j = 0; j < e->nseeds; j++) {
        double g = ratio_at(exp_get(e, v, j), k);
        if (g == 0)
            return 0;
        if (g > 0 && isfinite(g))
            s += log10(g), n++;
    }
    return n ? pow(10, s / (double)n) : NAN;
}

static size_t last_epoch(const experiment *e, size_t v)
{
    return (size_t)e->variants[v].o.epochs - 1;
}

/* "3.5e-20", or "0 (underflow)": below the smallest float */
static const char *ratio_str(double g)
{
    static char buf[8][32];
    static unsigned k;
    char *out = buf[k++ % 8];
    if (g == 0)
        snprintf(out, sizeof buf[0], "0 (underflow)");
    else
        snprintf(out, sizeof buf[0], "%.2g", g);
    return out;
}

/* seeds of variant v that solved the task by the criterion */
static size_t solved(const experiment *e, size_t v,
                     bool (*crit)(const exp_run *))
{
    size_t n = 0;
    for (size_t j = 0; j < e->nseeds; j++)
        n += crit(exp_get(e, v, j));
    return n;
}

/* the largest T such that `kind` solved every length up to it in every
 * seed by the criterion (0: not even the shortest) */
static long long longest_solved(const experiment *e, int kind,
                                bool (*crit)(const exp_run *))
{
    long long best = 0;
    for (size_t i = 0; i < nlens(e); i++) {
        if (solved(e, var(i, kind), crit) != e->nseeds)
            break;
        best = len_of(e, var(i, kind));
    }
    return best;
}

/* "up to T = 100" or "at no length tried" */
static const char *upto(long long T)
{
    static char buf[4][32];
    static unsigned k;
    char *out = buf[k++ % 4];
    if (T)
        snprintf(out, sizeof buf[0], "up to T = %lld", T);
    else
        snprintf(out, sizeof buf[0], "at no length tried");
    return out;
}

/* "12.3 (10/10)": the mean epoch over the seeds that solved it */
static const char *epochs_str(const experiment *e, size_t v)
{
    static char buf[4][48];
    static unsigned k;
    char *out = buf[k++ % 4];
    double m, sd, ci;
    size_t n = exp_stats(e, v, epochs_to_solve, &m, &sd, &ci);
    if (n)
        snprintf(out, sizeof buf[0], "%.1f (%zu/%u)", m, n, e->nseeds);
    else
        snprintf(out, sizeof buf[0], "never (0/%u)", e->nseeds);
    return out;
}

static void gradient_bullets(const experiment *e, FILE *md)
{
    size_t i = nlens(e) - 1, r = var(i, RNN), l = var(i, LSTM);
    long long T = len_of(e, r);
    double r1 = geo_ratio(e, r, 0), l1 = geo_ratio(e, l, 0);
    double rn = geo_ratio(e, r, last_epoch(e, r));
    double ln = geo_ratio(e, l, last_epoch(e, l));
    if (r1 > 0)
        fprintf(md, "- At T = %lld in the first epoch, the gradient reaching "
                    "the first step is %.2g of the last step's in the RNN "
                    "and %.2g in the LSTM.\n",
                T, r1, l1);
    else
        fprintf(md, "- At T = %lld in the first epoch, the gradient reaching "
                    "the first step underflows to zero in the RNN (below "
                    "1e-38 of the last step's) in some seed, while in the "
                    "LSTM it is %.2g of the last step's.\n",
                T, l1);
    /* through training: does the LSTM's ratio grow, the RNN's not? */
    if (ln > 0 && l1 > 0 && isfinite(ln)) {
        double orders = log10(ln / l1);
        fprintf(md, "- By the last epoch the LSTM's ratio at T = %lld is "
                    "%.2g, %.1f orders of magnitude %s than in its first "
                    "epoch; the RNN's is %s.%s\n",
                T, ln, fabs(orders), orders >= 0 ? "larger" : "smaller",
                rn > 0 ? ratio_str(rn) : "still 0 (underflow)",
                orders >= 1 ? " Read at the first epoch alone, the ratio "
                              "understates how far a trained LSTM carries "
                              "the gradient (the plot against epoch)."
                            : "");
    }
}

static void forget_bullets(const experiment *e, FILE *md)
{
    /* per length, paired over seeds, forget bias 1 against 0: better when
     * the share within 0.04 is higher, the test MSE lower or the breakaway
     * earlier (its interval excluding 0) and none is worse; worse the other
     * way round */
    char up[128] = "", down[128] = "", none[128] = "";
    for (size_t i = 0; i < nlens(e); i++) {
        size_t a = var(i, LSTM), b = var(i, LSTM_B0);
        /* +1: bias 1 higher in share, lower in MSE, earlier */
        int sg[3] = {exp_paired_sign(e, a, b, final_share),
                     exp_paired_sign(e, b, a, final_mse),
                     exp_paired_sign(e, b, a, epochs_to_half)};
        int pos = 0, neg = 0;
        for (int k = 0; k < 3; k++)
            pos += sg[k] > 0, neg += sg[k] < 0;
        int s = pos && !neg ? 1 : neg && !pos ? -1 : 0;
        char *dst = s > 0 ? up : s < 0 ? down : none;
        size_t u = strlen(dst);
        snprintf(dst + u, 128 - u, "%s%lld", u ? ", " : "",
                 len_of(e, var(i, LSTM)));
    }
    fprintf(md, "- Forget-gate bias 1 against 0, paired over seeds (better: "
                "a higher test share within 0.04, a lower test MSE or an "
                "earlier breakaway, the first epoch with half the test "
                "sequences within 0.04 (never: counted as the epochs + 1), "
                "its interval excluding 0, and none worse): better with "
                "bias 1 at T = %s; worse at T = %s; no difference found at "
                "T = %s.\n",
            *up ? up : "none", *down ? down : "none", *none ? none : "none");
    for (size_t i = 0; i < nlens(e); i++) {
        size_t a = var(i, LSTM), b = var(i, LSTM_B0);
        fprintf(md, "  - T = %lld: share %s vs %s (%s); test MSE %s vs %s "
                    "(%s); ",
                len_of(e, a), exp_str(e, a, final_share),
                exp_str(e, b, final_share),
                exp_paired_str(e, a, b, final_share),
                exp_str(e, a, final_mse), exp_str(e, b, final_mse),
                exp_paired_str(e, a, b, final_mse));
        fprintf(md, "breakaway at epoch %s vs %s (%s); epochs to solve %s "
                    "vs %s\n",
                exp_str(e, a, epochs_to_half), exp_str(e, b, epochs_to_half),
                exp_paired_str(e, a, b, epochs_to_half), epochs_str(e, a),
                epochs_str(e, b));
    }
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "| T | test MSE: RNN | LSTM | LSTM b_f=0 | solved by MSE "
                "(RNN, LSTM, b_f=0) | solved by H&S (RNN, LSTM, b_f=0) | "
                "epochs to solve (LSTM, b_f=0) |\n"
                "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < nlens(e); i++) {
        size_t r = var(i, RNN), l = var(i, LSTM), z = var(i, LSTM_B0);
        unsigned n = e->nseeds;
        fprintf(md, "| %lld | %s | %s | %s | %zu/%u, %zu/%u, %zu/%u | "
                    "%zu/%u, %zu/%u, %zu/%u | %s, %s |\n",
                len_of(e, r), exp_str(e, r, final_mse),
                exp_str(e, l, final_mse), exp_str(e, z, final_mse),
                solved(e, r, solved_mse), n, solved(e, l, solved_mse), n,
                solved(e, z, solved_mse), n, solved(e, r, solved_share), n,
                solved(e, l, solved_share), n, solved(e, z, solved_share), n,
                epochs_str(e, l), epochs_str(e, z));
    }
    fprintf(md, "\nTest MSE: mean ± sd over seeds (predicting the mean "
                "scores %.3f). Solved by MSE: a test MSE below %g; by H&S "
                "(Hochreiter & Schmidhuber's criterion): at least %.0f%% of "
                "the test sequences within %.2f of their target. Epochs to "
                "solve: the first epoch meeting the H&S criterion, mean "
                "over the seeds that met it (how many).\n\n",
            BASELINE, SOLVED, 100 * SOLVED_SHARE, BP_REG_TOLERANCE);
    fprintf(md, "| T | grad ratio, epoch 1: RNN | LSTM | LSTM b_f=0 | last "
                "epoch: RNN | LSTM | LSTM b_f=0 |\n"
                "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < nlens(e); i++) {
        size_t v[NKIND] = {var(i, RNN), var(i, LSTM), var(i, LSTM_B0)};
        fprintf(md, "| %lld", len_of(e, v[0]));
        for (int k = 0; k < NKIND; k++)
            fprintf(md, " | %s", ratio_str(geo_ratio(e, v[k], 0)));
        for (int k = 0; k < NKIND; k++)
            fprintf(md, " | %s",
                    ratio_str(geo_ratio(e, v[k], last_epoch(e, v[k]))));
        fputs(" |\n", md);
    }
    fprintf(md, "\nGrad ratio: ||dL/dh_1|| / ||dL/dh_T||, each the mean over "
                "an epoch's steps, geometric mean over seeds; 0 (underflow): "
                "the first step's gradient fell below the smallest float "
                "(about 1e-38 with denormals flushed) in some seed.\n\n");
    long long rnn = longest_solved(e, RNN, solved_mse);
    long long lstm = longest_solved(e, LSTM, solved_mse);
    fprintf(md, "- In every seed, by the MSE, the RNN solves the adding "
                "problem %s and the LSTM %s; by H&S's criterion, the RNN %s "
                "and the LSTM %s.\n",
            upto(rnn), upto(lstm), upto(longest_solved(e, RNN, solved_share)),
            upto(longest_solved(e, LSTM, solved_share)));
    size_t ri = var(nlens(e) - 1, RNN), li = var(nlens(e) - 1, LSTM);
    fprintf(md, "- At T = %lld, the share of test sequences within 0.04 is "
                "%s (RNN) vs %s (LSTM), %s; test MSE %s vs %s.\n",
            len_of(e, ri), exp_str(e, ri, final_share),
            exp_str(e, li, final_share),
            exp_paired_str(e, li, ri, final_share), exp_str(e, ri, final_mse),
            exp_str(e, li, final_mse));
    gradient_bullets(e, md);
    forget_bullets(e, md);
    long long tmax = len_of(e, ri);
    fprintf(md, "- Verdict: %s\n",
            lstm > rnn
                ? "as expected, the RNN stops learning beyond short sequences "
                  "while the LSTM keeps solving longer ones; its gradient "
                  "through time decays far more slowly."
            : lstm == rnn && lstm == tmax
                ? "both cells solve every length tried: this budget does not "
                  "separate them."
                : "the LSTM does not solve longer sequences than the RNN here; "
                  "the expected direction is not shown.");
}

/* per kind, a value against T */
static void curve(const experiment *e, int kind,
                  double (*f)(const experiment *, size_t), double *x,
                  double *y, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < nlens(e); i++) {
        double v = f(e, var(i, kind));
        if (isfinite(v) && v > 0) {
            x[*n] = (double)len_of(e, var(i, kind));
            y[(*n)++] = v;
        }
    }
}

static double mean_mse(const experiment *e, size_t v)
{
    double m, s, ci;
    return exp_stats(e, v, final_mse, &m, &s, &ci) ? m : NAN;
}

static double first_ratio(const experiment *e, size_t v)
{
    return geo_ratio(e, v, 0);
}

/* the ratio against epoch at T = 100 (where the RNN's is still above
 * the smallest float) and at the longest length, per kind */
static void plot_ratio_epochs(const experiment *e)
{
    enum { NC = 2 * NKIND, MAXE = 64 };
    static double x[NC][MAXE], y[NC][MAXE];
    static char names[NC][64];
    const char *nm[NC];
    const double *xs[NC], *ys[NC];
    size_t n[NC], nc = 0;
    size_t li[2] = {nlens(e) > 2 ? 2 : 0, nlens(e) - 1};
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < NKIND; k++) {
            size_t v = var(li[t], k);
            snprintf(names[nc], sizeof names[0], "%s, T = %lld",
                     kind_names[k], len_of(e, v));
            n[nc] = 0;
            for (size_t ep = 0; ep <= last_epoch(e, v) && ep < MAXE; ep++) {
                double g = geo_ratio(e, v, ep);
                if (g > 0 && isfinite(g)) {
                    x[nc][n[nc]] = (double)(ep + 1);
                    y[nc][n[nc]++] = g;
                }
            }
            nm[nc] = names[nc], xs[nc] = x[nc], ys[nc] = y[nc], nc++;
        }
    }
    exp_plot_curves(e, "grad_ratio_vs_epoch.png",
                    "Gradient at the first step over the last, through "
                    "training (an underflow to 0 is not drawn)",
                    "epoch", "||dL/dh_1|| / ||dL/dh_T|| (geometric mean)",
                    EXP_LOGY, nc, nm, n, xs, ys);
}

static void plots(const experiment *e, FILE *md)
{
    double x[NKIND][NLEN], y[NKIND][NLEN];
    size_t n[NKIND];
    const double *xs[NKIND] = {x[0], x[1], x[2]};
    const double *ys[NKIND] = {y[0], y[1], y[2]};
    for (int k = 0; k < NKIND; k++)
        curve(e, k, mean_mse, x[k], y[k], &n[k]);
    exp_plot_curves(e, "mse_vs_length.png",
                    "Adding problem: final test MSE against sequence length "
                    "(the mean predictor: 0.167)",
                    "sequence length T", "test MSE (mean over seeds)",
                    EXP_LOGY, NKIND, kind_names, n, xs, ys);
    for (int k = 0; k < NKIND; k++)
        curve(e, k, first_ratio, x[k], y[k], &n[k]);
    exp_plot_curves(e, "grad_ratio_vs_length.png",
                    "Gradient reaching the first time step, relative to the "
                    "last (first epoch; a ratio that underflowed to 0 is not "
                    "drawn)",
                    "sequence length T", "||dL/dh_1|| / ||dL/dh_T||",
                    EXP_LOGY, NKIND, kind_names, n, xs, ys);
    plot_ratio_epochs(e);
    /* the profile through time, seed 0, epoch 1, at the longest length
     * where no step's gradient underflowed (a log scale cannot show 0) */
    size_t pi = 0;
    for (size_t i = 0; i < nlens(e); i++) {
        bool positive = true;
        for (int k = 0; k < NKIND; k++) {
            const exp_run *r = exp_get(e, var(i, k), 0);
            for (size_t t = 0; t < r->nsteps && r->nepochs; t++)
                positive &= r->epochs[0].step_norm[t] > 0;
        }
        if (positive)
            pi = i;
    }
    static double px[NKIND][BP_MAX_STEPS], py[NKIND][BP_MAX_STEPS];
    size_t pn[NKIND] = {0, 0, 0};
    for (int k = 0; k < NKIND; k++) {
        const exp_run *r = exp_get(e, var(pi, k), 0);
        if (!r->nepochs)
            continue;
        for (size_t t = 0; t < r->nsteps; t++) {
            px[k][t] = (double)(t + 1);
            py[k][t] = r->epochs[0].step_norm[t];
        }
        pn[k] = r->nsteps;
    }
    const double *pxs[NKIND] = {px[0], px[1], px[2]};
    const double *pys[NKIND] = {py[0], py[1], py[2]};
    char title[128];
    snprintf(title, sizeof title,
             "||dL/dh_t|| through time at T = %lld (seed 0, first epoch)",
             len_of(e, var(pi, RNN)));
    exp_plot_curves(e, "grad_through_time.png", title, "time step t",
                    "||dL/dh_t||", EXP_LOGY, NKIND, kind_names, pn, pxs, pys);
    /* the two LSTMs' test share through training at the longest two
     * lengths */
    bool which[EXP_MAX_VARIANTS] = {false};
    for (size_t i = nlens(e) > 2 ? nlens(e) - 2 : 0; i < nlens(e); i++)
        which[var(i, LSTM)] = which[var(i, LSTM_B0)] = true;
    exp_plot(e, "lstm_test_share.png",
             "LSTM, forget-gate bias 1 vs 0: share of test sequences within "
             "0.04 through training (mean over seeds)",
             "epoch", "share within 0.04", 0, exp_series_test_acc, which);
    exp_md_plot(e, md, "MSE vs length", "mse_vs_length.png");
    fputs("\n", md);
    exp_md_plot(e, md, "gradient ratio vs length", "grad_ratio_vs_length.png");
    fputs("\n", md);
    exp_md_plot(e, md, "gradient ratio vs epoch", "grad_ratio_vs_epoch.png");
    fputs("\n", md);
    exp_md_plot(e, md, "gradient through time", "grad_through_time.png");
    fputs("\n", md);
    exp_md_plot(e, md, "LSTM test share by forget bias",
                "lstm_test_share.png");
}

static void headline(const experiment *e, FILE *f)
{
    size_t i = nlens(e) - 1;
    size_t r = var(i, RNN), l = var(i, LSTM), z = var(i, LSTM_B0);
    fprintf(f, "adding problem solved in every seed by a test MSE < %g %s "
               "by the LSTM, %s by the RNN; by %.0f%% of test sequences "
               "within 0.04 (Hochreiter & Schmidhuber) %s by the LSTM, %s "
               "by the RNN; at T = %lld share within 0.04 %s (LSTM) vs %s "
               "(RNN), %s, test MSE %s vs %s; there, forget bias 0 instead "
               "of 1: share %s, %s, test MSE %s, %s, half the test "
               "sequences within 0.04 from epoch %s, %s",
            SOLVED, upto(longest_solved(e, LSTM, solved_mse)),
            upto(longest_solved(e, RNN, solved_mse)), 100 * SOLVED_SHARE,
            upto(longest_solved(e, LSTM, solved_share)),
            upto(longest_solved(e, RNN, solved_share)), len_of(e, r),
            exp_str(e, l, final_share), exp_str(e, r, final_share),
            exp_paired_str(e, l, r, final_share), exp_str(e, l, final_mse),
            exp_str(e, r, final_mse), exp_str(e, z, final_share),
            exp_paired_str(e, z, l, final_share), exp_str(e, z, final_mse),
            exp_paired_str(e, z, l, final_mse), exp_str(e, z, epochs_to_half),
            exp_paired_str(e, z, l, epochs_to_half));
    exp_diverged_note(e, f);
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "recurrent", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "RNN vs LSTM: vanishing gradients through time";
    e.question = "Does a plain (Elman, tanh) RNN fail to learn dependencies "
                 "across long sequences because its gradient vanishes through "
                 "time, and does the LSTM, whose cell carries the gradient "
                 "additively, keep learning them (Hochreiter & Schmidhuber "
                 "1997; Bengio et al. 1994)?";
    e.setting =
        "The adding problem: T steps of (value from U(0,1), marker); the two "
        "marked values, one in each half, must be summed, so the answer "
        "depends on inputs up to T steps back. 10000 training and 2000 test "
        "sequences per length (the same for every seed), T = 10, 50, 100, "
        "200, 400. Each cell has 32 units and a linear output, MSE loss, "
        "Adam at lr 0.003, batch 64, global-norm clipping at 1 for all (so "
        "that only vanishing, not exploding, gradients can stop a run), 40 "
        "epochs (6240 updates). Three cells: an Elman RNN, an LSTM whose "
        "forget gate starts with bias 1 (Gers et al. 2000; bplab's "
        "default), and the same LSTM with forget bias 0, as its other "
        "gates (--forget-bias 0), to see what the bias buys. Ten seeds, the "
        "same for every cell and length, so the comparisons are paired. "
        "Accuracy in the first table is the adding problem's own criterion "
        "(Hochreiter & Schmidhuber 1997): the share of test sequences "
        "predicted within 0.04 of their target. The gradient ratio is "
        "measured in every epoch: the first shows the cells as initialised, "
        "the later ones what training makes of them. The breakaway epoch "
        "(the first with half the test sequences within 0.04) measures how "
        "soon a cell learns; it joined the report after a first reading of "
        "these runs, whose share curves stood apart by forget bias while "
        "the final shares mostly did not.";
    exp_default_seeds(&e, 10); /* ten paired seeds */
    size_t nl = e.quick ? 2 : NLEN;
    for (size_t i = 0; i < nl; i++) {
        static char specs[NLEN][16];
        long long T = e.quick ? quick_lens[i] : lens[i];
        snprintf(specs[i], sizeof specs[i], "adding:%lld", T);
        for (int k = 0; k < NKIND; k++) {
            static const char *const prefix[NKIND] = {"rnn", "lstm",
                                                      "lstm b_f=0"};
            char name[48];
            snprintf(name, sizeof name, "%s T=%lld", prefix[k], T);
            exp_variant *v = exp_add(&e, name);
            v->o.data = specs[i];
            v->o.model = k == RNN ? BP_CELL_RNN : BP_CELL_LSTM;
            v->o.forget_bias = k == LSTM_B0 ? 0 : 1;
            v->o.hidden = 32;
            v->o.loss = BP_LOSS_MSE;
            v->o.opt = BP_OPT_ADAM;
            v->o.lr = 0.003;
            v->o.batch = 64;
            v->o.clip_norm = 1;
            v->o.gen_samples = e.quick ? 1000 : 10000;
            v->o.epochs = e.quick ? 2 : 40;
        }
    }
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
