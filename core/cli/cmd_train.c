/* core/cli/cmd_train.c - `bplab train`: load, build, train, report, save. */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/checkpoint.h"
#include "core/outfile.h"
#include "core/cli/cli.h"
#include "core/ctx.h"
#include "core/run.h"
#include "core/runtime.h"

static volatile sig_atomic_t stop_requested;

static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct ui {
    const bp_run_opts *o;
    const char *spec;      /* options text for checkpoints */
    bool tty;              /* live progress on stderr */
    double last_draw, epoch_start;
    FILE *out;             /* the human-readable lines: stdout, or stderr
                              when the metrics go to standard output */
    bp_outfile *metrics;
    bp_status save_status; /* a metrics or checkpoint write that failed */
    bp_err save_err;
    /* with --save: the checkpoint of the last completed epoch, kept in
     * memory (the weights move on during the next epoch) for Ctrl-C to
     * write; snap_epoch is its epoch */
    unsigned char *snap;
    size_t nsnap;
    uint64_t snap_epoch;
} ui;

/* Keep the trainer's state as the checkpoint Ctrl-C writes. */
static bp_status keep_snapshot(ui *u, const bp_trainer *t, bp_err *err)
{
    unsigned char *buf;
    size_t size;
    bp_status s = bp_ckpt_encode(u->spec, t, &buf, &size, err);
    if (s != BP_OK)
        return s;
    bp_free(u->snap);
    u->snap = buf, u->nsnap = size, u->snap_epoch = t->epoch;
    return BP_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_step(void *ctx, const bp_trainer *t, size_t step, size_t steps,
                    double loss, double grad_norm)
{
    (void)grad_norm;
    ui *u = ctx;
    double tnow = now();
    if (step == 1)
        u->epoch_start = tnow;
    if (!u->tty || (step < steps && tnow - u->last_draw < 0.1))
        return;
    u->last_draw = tnow;
    double el = tnow - u->epoch_start;
    double done = (double)step / (double)steps;
    double rate = el > 0 ? (double)(step * t->spec.batch) / el : 0;
    int bar = (int)(done * 24);
    char b[25];
    for (int i = 0; i < 24; i++)
        b[i] = i < bar ? '=' : (i == bar ? '>' : ' ');
    b[24] = '\0';
    fprintf(stderr, "\repoch %llu/%zu [%s] %3.0f%%  %6.0fk samples/s  loss %.4f  "
                    "ETA %3.0f s ",
            (unsigned long long)t->epoch + 1, t->spec.epochs, b, 100 * done,
            rate / 1000, loss, done > 0 ? el * (1 - done) / done : 0);
    fflush(stderr);
}

static void print_epoch(FILE *out, const bp_trainer *t,
                        const bp_epoch_stats *e)
{
    char val[64] = "";
    if (!isnan(e->val_loss))
        snprintf(val, sizeof val, "  val loss %.4f acc %.4f", e->val_loss,
                 e->val_acc);
    fprintf(out, "epoch %3llu/%zu  train loss %.4f acc %.4f%s  test loss %.4f "
                 "acc %.4f  %.2f s  %.0fk samples/s\n",
            (unsigned long long)e->epoch, t->spec.epochs, e->train_loss,
            e->train_acc, val, e->test_loss, e->test_acc, e->seconds,
            e->samples_per_s / 1000);
    fflush(out);
}

static void on_epoch(void *ctx, const bp_trainer *t, const bp_epoch_stats *e)
{
    ui *u = ctx;
    if (u->tty)
        fprintf(stderr, "\r%*s\r", 90, "");
    if (!u->o->quiet)
        print_epoch(u->out, t, e);
    bp_err err = {0};
    if (u->metrics &&
        bp_write_metrics(u->metrics, t->history, t->nhistory, t->net->ndense,
                         t->net->steps, &err) != BP_OK &&
        u->save_status == BP_OK)
        u->save_status = err.code, u->save_err = err;
    if (u->o->save && u->save_status == BP_OK) {
        bp_status s = keep_snapshot(u, t, &err);
        if (s == BP_OK && u->o->checkpoint_every &&
            e->epoch % (uint64_t)u->o->checkpoint_every == 0)
            s = bp_write_file(u->o->save, u->snap, u->nsnap, &err);
        if (s != BP_OK)
            u->save_status = s, u->save_err = err;
    }
    /* an output that cannot be written ends the run now, not epochs later */
    if (u->save_status != BP_OK)
        stop_requested = 1;
}

/* Fail before training, not after it, if an output cannot be written
 * (core/outfile.h says how each kind of path is written). */
static bp_status check_output(const char *opt, const char *path, bp_err *err)
{
    bp_status s = bp_output_check(path, err);
    if (s != BP_OK && err) {
        char why[BP_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err->msg);
        bp_fail(err, s, "%s %s", opt, why);
    }
    return s;
}

/* Whether option `name` of table t was given. */
static bool given(const bp_opt *t, const bool *seen, size_t n,
                  const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return seen[i];
    return false;
}

static void usage(const bp_opt *t, size_t n, size_t ns)
{
    printf("usage: bplab train [options]\n\n"
           "Train a multilayer network. With no options: the reference "
           "workload\n(Fashion-MNIST, 784-256-128-10 ReLU, softmax "
           "cross-entropy, momentum 0.9,\nlr 0.05, batch 128, seed 0, 10 "
           "epochs). Progress goes to stderr on a\nterminal; one line per "
           "epoch to stdout.\n\nthe run (stored in checkpoints):\n");
    bp_args_print_help(stdout, t, ns);
    printf("\nthis invocation:\n");
    bp_args_print_help(stdout, t + ns, n - ns);
    printf("\n--net: the hidden layers, first to last, separated by commas "
           "(a dense\noutput layer is added: one unit per class, one for bce "
           "or real targets):\n");
    for (const bp_layer_ops *const *k = bp_layer_kinds; *k; k++) {
        /* a long syntax gets a line of its own */
        const char *syn = (*k)->syntax;
        if (strlen(syn) > 12)
            printf("  %s\n  %-12s %s\n", syn, "", (*k)->help);
        else
            printf("  %-12s %s\n", syn, (*k)->help);
    }
    printf("The shorthands expand into it: --layers 256,128 --act relu is\n"
           "dense:256,relu,dense:128,relu; --batchnorm adds bn after each "
           "dense layer\n(and convolution), --dropout P dropout:P after each "
           "activation (and after a\nrecurrent layer); --model lstm --hidden "
           "H puts lstm:H first, --model cnn\nconv:32:3,relu,maxpool:2,"
           "conv:64:3,relu,maxpool:2 (--layers then defaults\nto 128). "
           "Sequence layers (rnn, lstm) need sequence data (fashion-mnist-rows,"
           "\nadding:T) with only bn, activations and dropout (or dropout2d) "
           "before them.\nImage layers (conv, maxpool, avgpool, dropout2d) "
           "need images (fashion-mnist,\nan MNIST folder; dropout2d also "
           "takes a sequence, whose channels are\nfeatures over its steps); "
           "a dense layer flattens what it is given.\n");
    printf("\n--metrics columns, one row per epoch (empty: not measured):\n"
           "  epoch, lr              the epoch (from 1); the rate at its last "
           "step\n"
           "  train_loss, train_acc  means over the epoch's steps, in "
           "training mode\n"
           "                         (dropout on, batch statistics)\n"
           "  train_eval_loss, _acc  --eval-train: the whole training set "
           "after the\n"
           "                         epoch, in inference mode\n"
           "  val_loss, val_acc      the validation set (--val), inference "
           "mode\n"
           "  test_loss, test_acc    the test set, inference mode\n"
           "  grad_norm_k            mean over the epoch's steps of "
           "||dL/dW_k||, weight\n"
           "                         layer k (1 = nearest the input)\n"
           "  dh_norm_t              recurrent nets: mean of ||dL/dh_t|| "
           "per time step\n"
           "  weight_norm, zero_frac ||W||_2 of all weight matrices after "
           "the epoch;\n"
           "                         the share of weights with |w| < 1e-3\n"
           "  seconds, samples_per_s the epoch's training time and "
           "throughput\n");
}

int bp_cmd_train(int argc, char **argv)
{
    bp_run_opts o;
    bp_run_defaults(&o);
    bp_opt table[64];
    bool seen[64] = {false}, help = false;
    size_t ns, n = bp_run_options(&o, table, 64, &ns);
    for (size_t i = 0; i < n; i++)
        table[i].seen = &seen[i];
    bp_err err = {0};
    if (bp_args_parse(argc, argv, 2, table, n, &help, &err) != BP_OK)
        return bp_cli_fail_opts("train", &err);
    if (help) {
        usage(table, n, ns);
        return BP_EXIT_OK;
    }
    /* the table of --isa (else BPLAB_ISA, else the best): refused here,
     * before any file is read; the run's context is made with the
     * network (bp_run_build) */
    const bp_kernels *kernels;
    if (bp_ctx_lookup(o.isa, "--isa", &kernels, &err) != BP_OK)
        return bp_cli_fail(&err);
    if (o.checkpoint_every && !o.save)
        return bp_cli_failf(BP_EXIT_USAGE, "--checkpoint-every needs --save FILE");
    if (o.counters && !o.profile)
        return bp_cli_failf(BP_EXIT_USAGE, "--counters needs --profile");
    if (given(table, seen, n, "--trace-steps") && !o.trace)
        return bp_cli_failf(BP_EXIT_USAGE, "--trace-steps needs --trace FILE");
    if (o.init_from && o.resume)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "--init-from with --resume: a resumed run "
                            "continues its own weights (use one or the other)");
    if ((o.save && check_output("--save", o.save, &err) != BP_OK) ||
        (o.metrics && check_output("--metrics", o.metrics, &err) != BP_OK) ||
        (o.trace && check_output("--trace", o.trace, &err) != BP_OK))
        return bp_cli_fail(&err);
    if (o.early_stop && o.val <= 0 && !o.resume)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "--early-stop needs a validation set: add --val "
                            "FRACTION (e.g. --val 0.1)");

    int rc = BP_EXIT_FAIL;
    bp_ckpt ck = {0}, init = {0};
    bool warm = o.init_from != NULL; /* (a resumed run's comes from its
                                        checkpoint, and is not redone) */
    char *spec_storage = NULL;
    bp_data data = {0};
    bp_net *net = NULL;
    bp_optim *opt = NULL;
    bp_trainer *tr = NULL;
    bp_outfile *metrics = NULL;
    char spec[8192];
    ui u = {0};

    if (warm && bp_ckpt_load(o.init_from, &init, &err) != BP_OK) {
        char why[BP_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err.msg);
        bp_fail(&err, err.code, "--init-from %s", why);
        goto fail;
    }
    if (o.resume) {
        if (bp_ckpt_load(o.resume, &ck, &err) != BP_OK)
            goto fail;
        bp_run_opts saved; /* the defaults, then what the checkpoint says */
        bp_run_defaults(&saved);
        if (bp_run_parse_spec(ck.spec, &saved, &spec_storage, &err) != BP_OK ||
            bp_run_check_same(&o, seen, &saved, &err) != BP_OK)
            goto fail;
        /* the run's options come from the checkpoint, the rest from here */
        bp_run_opts run = o;
        o = saved;
        o.epochs = run.epochs, o.save = run.save, o.resume = run.resume;
        o.metrics = run.metrics, o.checkpoint_every = run.checkpoint_every;
        o.threads = run.threads, o.isa = run.isa, o.quiet = run.quiet;
        o.profile = run.profile, o.counters = run.counters;
        o.trace = run.trace, o.trace_steps = run.trace_steps;
        /* continue on the table that trained it, unless told otherwise:
         * the same table is what makes the continuation bit-identical */
        const char *env = getenv("BPLAB_ISA");
        if (!o.isa && !(env && *env)) {
            bp_isa isa = bp_isa_parse(ck.isa);
            if (bp_isa_supported(isa))
                o.isa = ck.isa; /* ck lives as long as the run */
            else if (!o.quiet)
                fprintf(stderr, "bplab: note: %s was trained with the %s table, "
                                "which this machine cannot run; continuing on "
                                "%s (results will differ from an "
                                "uninterrupted run)\n",
                        o.resume, ck.isa, kernels->isa_name);
        }
        if (ck.epoch > (uint64_t)o.epochs) {
            bp_fail(&err, BP_ERR_INVALID_ARG,
                    "--epochs %lld: %s has already done %llu epochs", o.epochs,
                    o.resume, (unsigned long long)ck.epoch);
            goto fail;
        }
    }
    if (bp_run_finish(&o, table, n, &err) != BP_OK)
        goto fail;
    if (!bp_run_spec_text(&o, spec, sizeof spec)) {
        bp_fail(&err, BP_ERR_INVALID_ARG, "options too long");
        goto fail;
    }
    bp_data_opts dopts;
    if (bp_run_data_opts(&o, &dopts, &err) != BP_OK ||
        bp_data_load(&dopts, &data, &err) != BP_OK ||
        bp_run_build(&o, &data, &net, &opt, &tr, &err) != BP_OK)
        goto fail;
    if (o.resume && bp_ckpt_restore(&ck, o.resume, tr, &err) != BP_OK)
        goto fail;
    if (warm && bp_run_init_from(&o, &data, &init, net, &err) != BP_OK)
        goto fail;

    /* with the metrics on standard output, the log moves to stderr */
    int mfd = -1;
    FILE *out = o.metrics && bp_output_in_place(o.metrics, &mfd) && mfd == 1
                    ? stderr : stdout;
    u.o = &o, u.spec = spec, u.tty = !o.quiet && isatty(2), u.out = out;
    if (o.metrics && bp_outfile_open(o.metrics, &u.metrics, &err) != BP_OK)
        goto fail;
    /* a resumed run interrupted before its first epoch ends still has the
     * state it resumed from to save */
    if (o.resume && o.save && keep_snapshot(&u, tr, &err) != BP_OK)
        goto fail;
    metrics = u.metrics;
    tr->on_step = on_step;
    tr->on_epoch = on_epoch;
    tr->ctx = &u;
    tr->stop = &stop_requested;
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);

    if (!o.quiet) {
        char desc[256];
        bp_net_describe(&net->spec, desc, sizeof desc);
        char what[64];
        if (data.train.classes)
            snprintf(what, sizeof what, "%zu classes", data.train.classes);
        else
            snprintf(what, sizeof what, "real targets (accuracy: within %g)",
                     BP_REG_TOLERANCE);
        fprintf(out, "data     %s: %zu train, %zu val, %zu test, %zu "
                     "features, %s\n",
                data.source, data.train.n, data.val.n, data.test.n,
                data.train.dim, what);
        fprintf(out, "network  %s, %zu parameters\n", desc,
                bp_net_count_params(net));
        fprintf(out, "training %s lr %g, batch %lld, seed %lld, %s, %d "
                     "thread%s%s\n",
                bp_opt_names[o.opt], o.lr, o.batch, o.seed,
                net->ctx->k->isa_name, net->ctx->threads,
                net->ctx->threads == 1 ? "" : "s", o.resume ? ", resumed" : "");
        if (o.resume)
            fprintf(out, "resumed  from %s after epoch %llu\n", o.resume,
                    (unsigned long long)ck.epoch);
        if (warm)
            fprintf(out, "weights  from %s (trained %llu epochs); a new "
                         "optimizer, from epoch 0\n",
                    o.init_from, (unsigned long long)init.epoch);
        fflush(out);
    }
    bp_status s = bp_trainer_run(tr, &err);
    sigaction(SIGINT, &old, NULL);
    if (u.tty)
        fprintf(stderr, "\r%*s\r", 90, "");
    if (u.save_status != BP_OK) { /* the run stopped on it */
        err = u.save_err;
        goto fail;
    }
    if (s == BP_ERR_INTERRUPTED) {
        /* Ctrl-C: the state of the last completed epoch is saved (the
         * weights moved on since, so it comes from the snapshot), and the
         * exit status is the shell's for SIGINT */
        char why[BP_ERR_MSG_MAX], ck_note[3 * 4096 + 128] = "";
        snprintf(why, sizeof why, "%s", err.msg);
        if (o.save && u.snap) {
            if (bp_write_file(o.save, u.snap, u.nsnap, &err) != BP_OK) {
                char werr[BP_ERR_MSG_MAX];
                snprintf(werr, sizeof werr, "%s", err.msg);
                bp_fail(&err, err.code, "%s; no checkpoint: %s", why, werr);
                goto fail;
            }
            snprintf(ck_note, sizeof ck_note,
                     "; checkpoint of epoch %llu written to %s (resume with "
                     "--resume %s)",
                     (unsigned long long)u.snap_epoch, o.save, o.save);
        } else if (o.save) {
            snprintf(ck_note, sizeof ck_note,
                     "; no epoch completed, no checkpoint written");
        }
        fprintf(stderr, "bplab: %s%s%s\n", why, ck_note,
                o.metrics && tr->nhistory ? "; metrics of completed epochs kept"
                                          : "");
        if (bp_cli_profile_out(net, o.profile, o.trace, o.quiet, out, &err) != BP_OK)
            goto fail;
        rc = BP_EXIT_INTERRUPTED;
        goto done;
    }
    if (s != BP_OK) {
        /* the metrics of the completed epochs are already written */
        char why[BP_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err.msg);
        bp_err perr = {0};
        char also[BP_ERR_MSG_MAX + 8] = "";
        if (bp_cli_profile_out(net, o.profile, o.trace, o.quiet, out, &perr) != BP_OK)
            snprintf(also, sizeof also, "; %s", perr.msg);
        bp_fail(&err, s, "%s%s%s", why,
                o.metrics && tr->nhistory ? "; metrics of completed epochs kept"
                                          : "", also);
        goto fail;
    }
    if (o.save && bp_ckpt_save(o.save, spec, tr, &err) != BP_OK)
        goto fail;
    if (metrics && !tr->nhistory &&
        bp_write_metrics(metrics, tr->history, 0, net->ndense, net->steps,
                         &err) != BP_OK)
        goto fail;
    bp_status cs = bp_outfile_close(metrics, &err);
    metrics = NULL;
    if (cs != BP_OK)
        goto fail;
    double tl, ta;
    bool flushed = bp_flush_denormals(net->ctx, !o.keep_denormals);
    bp_net_evaluate(net, &data.test, &tl, &ta, NULL);
    bp_flush_denormals(net->ctx, flushed);
    fprintf(out, "test accuracy %.4f (loss %.4f) after %llu epoch%s", ta, tl,
            (unsigned long long)tr->epoch, tr->epoch == 1 ? "" : "s");
    if (tr->spec.patience)
        fprintf(out, ", best validation loss at epoch %llu%s",
                (unsigned long long)tr->best_epoch,
                tr->stopped_early ? " (stopped early)" : "");
    fprintf(out, "\n");
    if (o.save && !o.quiet)
        fprintf(out, "saved    %s\n", o.save);
    if (bp_cli_profile_out(net, o.profile, o.trace, o.quiet, out, &err) != BP_OK)
        goto fail;
    rc = BP_EXIT_OK;
fail:
    if (rc != BP_EXIT_OK)
        rc = bp_cli_fail(&err);
done:
    bp_free(u.snap);
    bp_outfile_close(metrics, NULL);
    bp_trainer_destroy(tr);
    bp_optim_destroy(opt);
    bp_net_destroy(net);
    bp_data_free(&data);
    bp_ckpt_free(&ck);
    bp_ckpt_free(&init);
    bp_free(spec_storage);
    return rc;
}
