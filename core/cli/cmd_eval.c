/* core/cli/cmd_eval.c - `bplab eval`: a saved model on a data set. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/checkpoint.h"
#include "core/cli/cli.h"
#include "core/ctx.h"
#include "core/prof.h"
#include "core/outfile.h"
#include "core/run.h"
#include "core/runtime.h"

static const char *const split_names[] = {"test", "val", "train", NULL};

/* Append one CSV field, quoted when it holds a comma, a quote or a line
 * break. Returns the bytes written (buf has room: the caller sized it). */
static size_t csv_field(char *buf, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return (size_t)sprintf(buf, "%s", s);
    size_t n = 0;
    buf[n++] = '"';
    for (; *s; s++) {
        if (*s == '"')
            buf[n++] = '"';
        buf[n++] = *s;
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return n;
}

/* Class probabilities of row r of the last forward pass: softmax of the
 * outputs, or for bce (one output) 1 - sigmoid and sigmoid. */
static void probabilities(const bp_net *net, size_t r, size_t c, double *p)
{
    const float *z = bp_net_output(net) + r * net->outputs;
    if (net->spec.loss == BP_LOSS_BCE) {
        p[1] = 1.0 / (1.0 + exp(-(double)z[0]));
        p[0] = 1.0 - p[1];
        return;
    }
    double max = z[0], sum = 0.0;
    for (size_t j = 1; j < c; j++)
        max = z[j] > max ? z[j] : max;
    for (size_t j = 0; j < c; j++)
        sum += p[j] = exp((double)z[j] - max);
    for (size_t j = 0; j < c; j++)
        p[j] /= sum;
}

/* One CSV row per sample of `set` into `path` (core/outfile.h): index,
 * label, predicted class and a probability per class (headed by the
 * class's name, or prob_<i>); for a regression, index, target,
 * prediction. */
static bp_status write_predictions(bp_net *net, const bp_dataset *set,
                                   const char *const *names,
                                   const char *path, bp_err *err)
{
    size_t c = set->classes, cols = c ? c : 1;
    size_t name_bytes = 0;
    for (size_t j = 0; names && j < c; j++)
        name_bytes += 2 * strlen(names[j]) + 3;
    size_t row = 80 + 18 * cols;
    size_t size = bp_mul_size(row, set->n + 1);
    size = size && size + name_bytes >= size ? size + name_bytes : 0;
    char *buf = size ? bp_alloc(size) : NULL;
    double *p = bp_alloc(cols * sizeof *p);
    bp_status s = BP_OK;
    if (!buf || !p) {
        s = bp_fail(err, BP_ERR_NOMEM, "--predictions %s: out of memory for "
                                       "%zu rows", path, set->n);
        goto done;
    }
    size_t used = (size_t)sprintf(buf, "index,%s", c ? "label,predicted"
                                                     : "target,prediction");
    for (size_t j = 0; j < c; j++) {
        buf[used++] = ',';
        if (names)
            used += csv_field(buf + used, names[j]);
        else
            used += (size_t)sprintf(buf + used, "prob_%zu", j);
    }
    buf[used++] = '\n';
    for (size_t r0 = 0; r0 < set->n; r0 += net->max_batch) {
        size_t b = set->n - r0 < net->max_batch ? set->n - r0 : net->max_batch;
        bp_net_forward(net, set->x + r0 * set->dim, b, false, 0);
        for (size_t r = 0; r < b; r++) {
            size_t i = r0 + r;
            if (!c) {
                used += (size_t)sprintf(buf + used, "%zu,%.9g,%.9g\n", i,
                                        (double)set->t[i],
                                        (double)bp_net_output(net)[r]);
                continue;
            }
            used += (size_t)sprintf(buf + used, "%zu,%d,%d", i,
                                    (int)set->y[i], (int)bp_net_predict(net, r));
            probabilities(net, r, c, p);
            for (size_t j = 0; j < c; j++)
                used += (size_t)sprintf(buf + used, ",%.9g", p[j]);
            buf[used++] = '\n';
        }
    }
    s = bp_write_file(path, buf, used, err);
done:
    bp_free(p);
    bp_free(buf);
    return s;
}

/* The confusion matrix (rows: true class, columns: predicted), each row
 * headed by its class (number and name), then the class's precision (the
 * diagonal over its column), recall (over its row) and sample count; "-"
 * where the column or row is empty. */
static void print_confusion(FILE *out, const size_t *cm, size_t c,
                            const char *const *names)
{
    int iw = 1, nw = 0;
    for (size_t k = c - 1; k >= 10; k /= 10)
        iw++;
    for (size_t j = 0; names && j < c; j++)
        nw = (int)strlen(names[j]) > nw ? (int)strlen(names[j]) : nw;
    fprintf(out, "\nconfusion (rows: true class, columns: predicted)\n%*s",
            iw + (names ? 1 + nw : 0), "");
    for (size_t j = 0; j < c; j++)
        fprintf(out, " %6zu", j);
    fprintf(out, "  precision  recall  samples\n");
    for (size_t i = 0; i < c; i++) {
        size_t row = 0, col = 0;
        for (size_t j = 0; j < c; j++)
            row += cm[i * c + j], col += cm[j * c + i];
        char prec[16] = "-", rec[16] = "-";
        if (col)
            snprintf(prec, sizeof prec, "%.4f", (double)cm[i * c + i] / (double)col);
        if (row)
            snprintf(rec, sizeof rec, "%.4f", (double)cm[i * c + i] / (double)row);
        fprintf(out, "%*zu", iw, i);
        if (names)
            fprintf(out, " %-*s", nw, names[i]);
        for (size_t j = 0; j < c; j++)
            fprintf(out, " %6zu", cm[i * c + j]);
        fprintf(out, "  %9s  %6s  %7zu\n", prec, rec, row);
    }
}

int bp_cmd_eval(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *isa = NULL, *predictions = NULL;
    int split = 0;
    const char *trace = NULL;
    bool confusion = false, help = false, profile = false;
    long long batch = 1000, threads = 0;
    const bp_opt opts[] = {
        {"--model", BP_ARG_STR, &model, 0, 0, NULL, "FILE",
         "a checkpoint written by bplab train --save (or give it without "
         "--model)", NULL},
        {"--data", BP_ARG_STR, &data, 0, 0, NULL, "SET",
         "evaluate on this data set instead of the model's (same features "
         "and classes)", NULL},
        {"--split", BP_ARG_CHOICE, &split, 0, 0, split_names, "test|val|train",
         "which part of the data (default test)", NULL},
        {"--confusion", BP_ARG_FLAG, &confusion, 0, 0, NULL, NULL,
         "print the confusion matrix (rows: true class, columns: predicted) "
         "with each class's precision and recall", NULL},
        {"--predictions", BP_ARG_STR, &predictions, 0, 0, NULL, "FILE.csv",
         "write one row per sample: index, label, predicted, a probability "
         "per class (regression: index, target, prediction); - : standard "
         "output, the report then on stderr", NULL},
        {"--batch", BP_ARG_INT, &batch, 1, 1 << 20, NULL, "N",
         "rows per forward pass (default 1000)", NULL},
        {"--threads", BP_ARG_INT, &threads, 1, 1024, NULL, "N",
         "OpenMP threads (default: all CPUs)", NULL},
        {"--isa", BP_ARG_STR, &isa, 0, 0, NULL, "NAME",
         "kernel table (default: BPLAB_ISA or the best)", NULL},
        {"--profile", BP_ARG_FLAG, &profile, 0, 0, NULL, NULL,
         "time every kernel call; print where the evaluation's time goes "
         "(as bplab train --profile)", NULL},
        {"--trace", BP_ARG_STR, &trace, 0, 0, NULL, "FILE.json",
         "write every kernel call as a Chrome trace (Perfetto, "
         "chrome://tracing)", NULL},
    };
    const size_t nopts = sizeof opts / sizeof *opts;
    bp_err err = {0};

    /* the model may come as a positional argument */
    char *args[64], *pos = NULL;
    const char *extra;
    int nargs = 0;
    if (argc > 64)
        return bp_cli_failf(BP_EXIT_USAGE, "too many arguments (%d)", argc);
    if (bp_args_positionals(argc, argv, 2, opts, nopts, args, &nargs, &pos, 1,
                            &extra) > 1)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "unexpected argument '%.60s' (usage: bplab "
                            "eval [--model] MODEL.ckpt [options])", extra);
    if (bp_args_parse(nargs, args, 2, opts, nopts, &help, &err) != BP_OK)
        return bp_cli_fail_opts("eval", &err);
    if (help) {
        printf("usage: bplab eval [--model] FILE [options]\n\n"
               "Loss and accuracy of a saved model, on the data set it was "
               "trained with\n(or another with the same features and "
               "classes).\n\noptions:\n");
        bp_args_print_help(stdout, opts, nopts);
        return BP_EXIT_OK;
    }
    if (pos && model)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "two models: --model %.60s and '%.60s'", model, pos);
    if (pos)
        model = pos;
    if (!model)
        return bp_cli_failf(BP_EXIT_USAGE, "--model FILE is required (or: "
                                           "bplab eval MODEL.ckpt)");
    /* the context the model computes in: --isa (else BPLAB_ISA, else the
     * best table) and --threads */
    bp_ctx *ctx;
    if (bp_ctx_create(isa, "--isa", threads, &ctx, &err) != BP_OK)
        return bp_cli_fail(&err);
    /* an output that cannot be written fails before the data is read */
    const char *bad = predictions && bp_output_check(predictions, &err) != BP_OK
                          ? "--predictions"
                      : trace && bp_output_check(trace, &err) != BP_OK
                          ? "--trace" : NULL;
    if (bad) {
        char why[BP_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err.msg);
        bp_fail(&err, err.code, "%s %s", bad, why);
        bp_ctx_destroy(ctx);
        return bp_cli_fail(&err);
    }
    /* with the predictions on standard output, the report moves to stderr */
    int pfd = -1;
    FILE *out = predictions && bp_output_in_place(predictions, &pfd) &&
                        pfd == 1 ? stderr : stdout;

    int rc = BP_EXIT_FAIL;
    bp_model m;
    size_t *cm = NULL;
    if (bp_model_load(model, data, (size_t)batch, ctx, &m, &err) != BP_OK) {
        bp_ctx_destroy(ctx);
        return bp_cli_fail(&err);
    }
    const bp_ckpt *ck = &m.ck;
    const bp_data *d = &m.data;
    bp_net *net = m.net;
    bp_prof_opts po = {.layers = net->nlayers, .trace_steps = trace ? 1 : 0};
    if ((profile || trace) && /* the context has not computed yet */
        bp_ctx_profile(ctx, &po, &err) != BP_OK)
        goto fail;
    const bp_dataset *set = split == 0 ? &d->test : split == 1 ? &d->val : &d->train;
    if (set->n == 0) {
        bp_fail(&err, BP_ERR_INVALID_ARG,
                "--split %s: the model's data has no %s set", split_names[split],
                split_names[split]);
        goto fail;
    }
    size_t c = set->classes;
    if (confusion && c == 0) {
        bp_fail(&err, BP_ERR_INVALID_ARG,
                "--confusion: the data set is a regression (real targets, no "
                "classes)");
        goto fail;
    }
    if (confusion && !(cm = bp_alloc(c * c * sizeof *cm))) {
        bp_fail(&err, BP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    double loss, acc;
    bool flushed = bp_flush_denormals(net->ctx, !m.o.keep_denormals); /* as in training */
    bp_net_evaluate(net, set, &loss, &acc, cm);
    bp_status ps = predictions ? write_predictions(net, set, d->class_names,
                                                   predictions, &err)
                               : BP_OK;
    bp_flush_denormals(net->ctx, flushed);
    if (ps != BP_OK)
        goto fail;
    char desc[256], when[96] = "";
    bp_net_describe(&m.spec, desc, sizeof desc);
    /* early stopping keeps the best weights, not the last epoch's */
    if ((ck->flags & BP_CKPT_RESTORED) && ck->best_epoch != ck->epoch)
        snprintf(when, sizeof when,
                 ", weights of epoch %llu (the best validation loss)",
                 (unsigned long long)ck->best_epoch);
    fprintf(out, "model    %s (%s, %llu epoch%s%s, trained on %s)\n", model,
            desc, (unsigned long long)ck->epoch, ck->epoch == 1 ? "" : "s",
            when, ck->isa);
    fprintf(out, "data     %s, %s split, %zu samples\n", d->source,
            split_names[split], set->n);
    fprintf(out, "%s loss %.4f accuracy %.4f\n", split_names[split], loss, acc);
    if (cm)
        print_confusion(out, cm, c, d->class_names);
    if (bp_cli_profile_out(net, profile, trace, false, out, &err) != BP_OK)
        goto fail;
    rc = BP_EXIT_OK;
fail:
    if (rc != BP_EXIT_OK)
        rc = bp_cli_fail(&err);
    bp_free(cm);
    bp_model_free(&m);
    bp_ctx_destroy(ctx);
    return rc;
}
