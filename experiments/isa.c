/* experiments/isa.c - seconds per epoch of the reference workload on each
 * kernel table at 1 and 2 threads, and the check that the accuracy curves
 * are bit-identical across thread counts. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "experiments/harness.h"
#include "kernels/kernels.h"

static double sec_per_epoch(const exp_run *r)
{
    if (!r->nepochs)
        return NAN;
    double s = 0;
    for (size_t k = 0; k < r->nepochs; k++)
        s += r->epochs[k].seconds;
    return s / (double)r->nepochs;
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
    fprintf(md, "| kernel table | threads | seconds per epoch | samples/s | "
                "speed-up over scalar (same threads) |\n|---|---|---|---|---|\n");
    for (size_t v = 0; v < e->nvariants; v++) {
        double m, s, c, ms, ss, cs;
        size_t n = exp_stats(e, v, sec_per_epoch, &m, &s, &c);
        size_t base = v % 2; /* scalar at the same thread count */
        size_t nb = exp_stats(e, base, sec_per_epoch, &ms, &ss, &cs);
        long long samples = e->variants[v].o.limit_train;
        char a[64], r[32] = "n/a";
        exp_fmt(a, sizeof a, m, s, n);
        if (n && nb)
            snprintf(r, sizeof r, "%.1fx", ms / m);
        fprintf(md, "| %s | %d | %s | %.0f | %s |\n", e->variants[v].isa,
                e->variants[v].threads, a, n ? (double)samples / m : 0.0, r);
    }
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
    size_t fastest = exp_best(e, sec_per_epoch, false);
    double mf, sf, cf, m0, s0, c0;
    if (exp_stats(e, fastest, sec_per_epoch, &mf, &sf, &cf) &&
        exp_stats(e, 0, sec_per_epoch, &m0, &s0, &c0))
        fprintf(md, "- Verdict: %s is the fastest, %.1fx the scalar reference "
                    "at 1 thread.\n",
                e->variants[fastest].name, m0 / mf);
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
    size_t fastest = exp_best(e, sec_per_epoch, false);
    double mf, sf, cf, m0, s0, c0;
    bool ok = exp_stats(e, fastest, sec_per_epoch, &mf, &sf, &cf) &&
              exp_stats(e, 0, sec_per_epoch, &m0, &s0, &c0);
    size_t same = 0, runs = 0;
    for (size_t v = 0; v + 1 < e->nvariants; v += 2)
        for (size_t s = 0; s < e->nseeds; s++) {
            const exp_run *a = exp_get(e, v, s), *b = exp_get(e, v + 1, s);
            if (a->nepochs && b->nepochs)
                runs++, same += identical(a, b);
        }
    fprintf(f, "%s %.1fx faster per epoch than scalar at 1 thread; 1 vs 2 "
               "threads bit-identical in %zu of %zu runs",
            e->variants[fastest].name, ok ? m0 / mf : NAN, same, runs);
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
        "(the per-epoch test evaluation is not counted).";
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
    e.serial = true; /* its results are timings: one run at a time */
    e.report = report;
    e.plots = plots;
    e.headline = headline;
    return exp_run_all(&e);
}
