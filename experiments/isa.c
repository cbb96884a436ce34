/* experiments/isa.c - seconds per epoch of the reference workload on each
 * kernel table at 1 and 2 threads, and the check that the accuracy curves
 * are bit-identical across thread counts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/harness.h"
#include "kernels/kernels.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median over every epoch of every seed of variant v of its training
 * seconds: one slow epoch (a shared host's neighbour) moves it little;
 * NAN without any */
static double median_epoch_seconds(const experiment *e, size_t v)
{
    double t[EXP_MAX_SEEDS * 16];
    size_t n = 0;
    for (size_t s = 0; s < e->nseeds; s++) {
        const exp_run *r = exp_get(e, v, s);
        for (size_t k = 0; k < r->nepochs && n < sizeof t / sizeof *t; k++)
            if (isfinite(r->epochs[k].seconds))
                t[n++] = r->epochs[k].seconds;
    }
    if (!n)
        return NAN;
    qsort(t, n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* the variant with the smallest median epoch */
static size_t fastest(const experiment *e)
{
    size_t best = 0;
    for (size_t v = 1; v < e->nvariants; v++)
        if (median_epoch_seconds(e, v) < median_epoch_seconds(e, best))
            best = v;
    return best;
}

/* Every epoch's metrics but the wall time agree to the bit. */
static bool identical(const exp_run *a, const exp_run *b)
{
    if (!a->nepochs || a->nepochs != b->nepochs)
        return false;
    for (size_t k = 0; k < a->nepochs; k++) {
        bp_epoch_stats x = a->epochs[k], y = b->epochs[k];
        x.seconds = y.seconds = x.samples_per_s = y.samples_per_s = 0;
        if (memcmp(&x, &y, sizeof x) != 0)
            return false;
    }
    return true;
}

static void report(const experiment *e, FILE *md)
{
    fprintf(md, "| kernel table | threads | seconds per epoch (median) | "
                "samples/s | speed-up over scalar (same threads) | 2 vs 1 "
                "thread |\n|---|---|---|---|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++) {
        double m = median_epoch_seconds(e, v);
        double ms = median_epoch_seconds(e, v % 2); /* scalar, same threads */
        double m1 = median_epoch_seconds(e, v - v % 2); /* 1 thread */
        long long samples = e->variants[v].o.limit_train;
        char r[32] = "n/a", sc[32] = "";
        if (isfinite(m) && isfinite(ms))
            snprintf(r, sizeof r, "%.1fx", ms / m);
        if (v % 2 && isfinite(m) && isfinite(m1))
            snprintf(sc, sizeof sc, "%.2fx", m1 / m);
        fprintf(md, "| %s | %d | %.4g | %.0f | %s | %s |\n",
                e->variants[v].isa, e->variants[v].threads, m,
                isfinite(m) ? (double)samples / m : 0.0, r, sc);
    }
    fprintf(md, "\nSeconds: the median over every epoch of every seed "
                "(training only), so a slow epoch on a shared host moves "
                "it little.\n");
    fprintf(md, "\n");
    for (size_t v = 0; v + 1 < e->nvariants; v += 2) {
        size_t same = 0, runs = 0;
        for (size_t s = 0; s < e->nseeds; s++) {
            const exp_run *a = exp_get(e, v, s), *b = exp_get(e, v + 1, s);
            if (a->nepochs && b->nepochs) {
                runs++;
                same += identical(a, b);
            }
        }
        fprintf(md, "- %s: the metrics of every epoch at 1 and 2 threads are "
                    "%s for %zu of %zu seeds.\n",
                e->variants[v].isa, same == runs && runs ? "bit-identical" : "NOT identical",
                same, runs);
    }
    size_t f = fastest(e);
    fprintf(md, "- Verdict: %s is the fastest, %.1fx the scalar reference "
                "at 1 thread.\n",
            e->variants[f].name,
            median_epoch_seconds(e, 0) / median_epoch_seconds(e, f));
    /* the tables compute in other orders (and so other bits): do they
     * train as well as the reference? */
    for (size_t v = 2; v < e->nvariants; v += 2)
        exp_compare_paired(e, md, v, 0, exp_final_test_acc,
                           "Test accuracy after the last epoch, against "
                           "the scalar reference",
                           true);
}

static void plots(const experiment *e, FILE *md)
{
    exp_plot(e, "seconds_per_epoch.png", "Training seconds per epoch",
             "epoch", "seconds (log scale)", EXP_LOGY, exp_series_seconds, NULL);
    exp_plot(e, "test_accuracy.png",
             "Test accuracy per epoch (the 1- and 2-thread curves coincide)",
             "epoch", "test accuracy", 0, exp_series_test_acc, NULL);
    exp_md_plot(e, md, "seconds per epoch", "seconds_per_epoch.png");
    fputs("\n", md);
    exp_md_plot(e, md, "test accuracy", "test_accuracy.png");
}

static void headline(const experiment *e, FILE *f)
{
    size_t same = 0, runs = 0, f0 = fastest(e);
    for (size_t v = 0; v + 1 < e->nvariants; v += 2)
        for (size_t s = 0; s < e->nseeds; s++) {
            const exp_run *a = exp_get(e, v, s), *b = exp_get(e, v + 1, s);
            if (a->nepochs && b->nepochs)
                runs++, same += identical(a, b);
        }
    /* the fastest table's accuracy against the reference's, at 1 thread */
    size_t fa = f0 - f0 % 2;
    fprintf(f, "%s %.1fx faster per epoch than scalar at 1 thread (median "
               "epochs); 1 vs 2 threads bit-identical in %zu of %zu runs; "
               "test accuracy %s (%s) vs %s (scalar), %s",
            e->variants[f0].name,
            median_epoch_seconds(e, 0) / median_epoch_seconds(e, f0), same,
            runs, exp_str(e, fa, exp_final_test_acc), e->variants[fa].isa,
            exp_str(e, 0, exp_final_test_acc),
            fa ? exp_paired_str(e, fa, 0, exp_final_test_acc)
               : "the same table");
}

int main(int argc, char **argv)
{
    static experiment e;
    int rc = exp_init(&e, "isa", argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    e.title = "Kernel tables and threads: time per epoch, identical results";
    e.question = "How much faster is each SIMD table than the scalar "
                 "reference on the reference workload, how do two threads "
                 "scale, and are the results really bit-identical across "
                 "thread counts?";
    e.setting =
        "The reference workload (784-256-128-10 ReLU, momentum 0.9, lr 0.05, "
        "batch 128) on the first 10000 training samples for 3 epochs, so the "
        "scalar reference finishes in reasonable time; every usable table of "
        "this binary at 1 and 2 threads. Seconds are training time only "
        "(the per-epoch test evaluation is not counted). Ten seeds, the same "
        "for every table, so the accuracy comparisons are paired.";
    static char names[BP_ISA_COUNT * 2][32];
    size_t k = 0;
    for (int i = 0; i < BP_ISA_COUNT; i++) {
        if (!bp_isa_supported((bp_isa)i))
            continue;
        for (int t = 1; t <= 2; t++) {
            snprintf(names[k], sizeof names[k], "%s-%dt", bp_isa_name((bp_isa)i), t);
            exp_variant *v = exp_add(&e, names[k++]);
            v->isa = bp_isa_name((bp_isa)i);
            v->threads = t;
            v->o.limit_train = e.quick ? 2000 : 10000;
            v->o.epochs = e.quick ? 1 : 3;
        }
    }
    exp_default_seeds(&e, 10); /* ten paired seeds */
    e.serial = true; /* its results are timings: one run at a time */
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
