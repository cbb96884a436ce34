/* core/run.c - options of a training run (run.h). */
#include "core/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bounds.h"
#include "core/prof.h"
#include "kernels/kernels.h"

static const char *const schedule_names[] = {"const", "step", "cosine", NULL};

void bp_run_defaults(bp_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->data = "fashion-mnist";
    o->hidden = 128;
    o->act = BP_ACT_RELU;
    o->loss = BP_LOSS_CE;
    o->init = BP_INIT_AUTO;
    o->init_gain = 1.0;
    o->forget_bias = 1.0;
    o->opt = BP_OPT_MOMENTUM;
    o->schedule = BP_SCHED_CONST;
    o->lr = 0.05;
    o->momentum = 0.9;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->lr_step = 10;
    o->lr_gamma = 0.1;
    o->batch = 128;
    o->epochs = 10;
    o->trace_steps = 20;
}

#define LIMIT 1e15 /* "no upper bound" for integer options */

size_t bp_run_options(bp_run_opts *o, bp_opt *t, size_t cap, size_t *n_spec)
{
    const bp_opt spec[] = {
        {"--data", BP_ARG_STR, &o->data, 0, 0, NULL, "SET",
         "fashion-mnist (default), fashion-mnist-rows (28 steps of 28 "
         "pixels), a folder of MNIST files, FILE.csv, xor, spirals, "
         "circles, adding:T (a regression over T steps)", NULL},
        {"--test-csv", BP_ARG_STR, &o->test_csv, 0, 0, NULL, "FILE",
         "with a CSV: the test set (default: hold out 20%)", NULL},
        {"--limit-train", BP_ARG_INT, &o->limit_train, 0, LIMIT, NULL, "N",
         "train on the first N samples of the shuffled set (default 0: all)", NULL},
        {"--val", BP_ARG_FLOAT, &o->val, 0, 0.9, NULL, "FRACTION",
         "hold out this fraction of training for validation (default 0)", NULL},
        {"--data-seed", BP_ARG_INT, &o->data_seed, 0, LIMIT, NULL, "N",
         "seed of the data split and generated sets (default 0)", NULL},
        {"--label-noise", BP_ARG_FLOAT, &o->label_noise, 0, 1, NULL, "P",
         "give this fraction of the training labels another class, drawn "
         "at random by the data seed (validation and test stay clean; "
         "default 0)", NULL},
        {"--normalize", BP_ARG_FLAG, &o->normalize, 0, 0, NULL, NULL,
         "CSV: z-score features with the training statistics", NULL},
        {"--augment", BP_ARG_STR, &o->augment, 0, 0, NULL, "shift:N,flip",
         "image sets: each epoch, move every training image by up to N "
         "pixels each way (zero-padded) and/or mirror it left to right with "
         "probability 1/2, drawn from the seed (default none)", NULL},
        {"--samples", BP_ARG_INT, &o->gen_samples, 0, 10000000, NULL, "N",
         "generated sets only: samples to train on, and as many to test "
         "(adding: a fifth); default 0: the set's own (1000; adding:T "
         "10000); for part of any set see --limit-train", NULL},
        {"--net", BP_ARG_STR, &o->net, 0, 0, NULL, "L1,L2,...",
         "the hidden layers in the layer grammar below, e.g. "
         "dense:256,bn,relu,dropout:0.2,dense:128,relu or lstm:128 (the "
         "output layer is added); instead of --model, --hidden, --layers, "
         "--act, --batchnorm and --dropout, which are its shorthands", NULL},
        {"--model", BP_ARG_CHOICE, &o->model, 0, 0, bp_cell_names,
         "mlp|rnn|lstm|cnn", "first hidden layers: none (mlp, the default), "
         "an Elman RNN or LSTM over the data's time steps, trained through "
         "time, or the reference CNN's on images (cnn: 3x3 convolutions of "
         "32 and 64 channels, each with the activation and a 2x2 max pool; "
         "then --layers 128)",
         NULL},
        {"--hidden", BP_ARG_INT, &o->hidden, 1, BP_MAX_WIDTH, NULL, "N",
         "rnn, lstm: the recurrent width (default 128)", NULL},
        {"--layers", BP_ARG_STR, &o->layers, 0, 0, NULL, "W1,W2,...",
         "hidden layer widths, or none (default 256,128; after an rnn or "
         "lstm: none; after the cnn's convolutions: 128)", NULL},
        {"--act", BP_ARG_CHOICE, &o->act, 0, 0, bp_act_names, "relu|sigmoid|tanh",
         "hidden activation (default relu)", NULL},
        {"--loss", BP_ARG_CHOICE, &o->loss, 0, 0, bp_loss_names, "ce|mse|bce",
         "softmax cross-entropy, MSE on softmax outputs, or sigmoid BCE "
         "(2 classes); default ce, mse for regression data (adding:T)", NULL},
        {"--init", BP_ARG_CHOICE, &o->init, 0, 0, bp_init_names,
         "RULE",
         "dense weights: he N(0, 2/fan_in), xavier U(+-sqrt(6/(fan_in + "
         "fan_out))), uniform U(+-1/sqrt(fan_in)), normal N(0, 0.01^2), or "
         "auto (default): He for relu, Xavier for sigmoid/tanh", NULL},
        {"--init-gain", BP_ARG_FLOAT, &o->init_gain, BP_INIT_GAIN_MIN,
         BP_INIT_GAIN_MAX, NULL, "G",
         "multiply the initial weights by G (default 1)", NULL},
        {"--forget-bias", BP_ARG_FLOAT, &o->forget_bias, -BP_FORGET_BIAS_MAX,
         BP_FORGET_BIAS_MAX, NULL, "B",
         "lstm: the forget gate's initial bias (default 1, as Gers et al. "
         "2000 advise; 0 starts it like the other gates)", NULL},
        {"--dropout", BP_ARG_FLOAT, &o->dropout, 0, BP_MAX_RATE, NULL, "P",
         "inverted dropout after each hidden activation (default 0)", NULL},
        {"--input-dropout", BP_ARG_FLOAT, &o->input_dropout, 0, BP_MAX_RATE,
         NULL, "P", "inverted dropout on the inputs, before the first layer "
         "(Srivastava et al. 2014 use 0.2 with 0.5 hidden; default 0)",
         NULL},
        {"--batchnorm", BP_ARG_FLAG, &o->batchnorm, 0, 0, NULL, NULL,
         "batch normalisation before each hidden activation", NULL},
        {"--init-from", BP_ARG_STR, &o->init_from, 0, 0, NULL, "FILE.ckpt",
         "start from the weights (and batch-norm statistics) of a saved "
         "model of the same shape; a new run: its own optimizer, rate and "
         "epochs, counted from 0 (not with --resume)", NULL},
        {"--opt", BP_ARG_CHOICE, &o->opt, 0, 0, bp_opt_names, "sgd|momentum|adam",
         "optimizer (default momentum)", NULL},
        {"--lr", BP_ARG_FLOAT, &o->lr, BP_LR_MIN, BP_LR_MAX, NULL, "RATE",
         "learning rate (default 0.05)", NULL},
        {"--momentum", BP_ARG_FLOAT, &o->momentum, 0, BP_MOMENTUM_MAX, NULL, "MU",
         "momentum (default 0.9)", NULL},
        {"--nesterov", BP_ARG_FLAG, &o->nesterov, 0, 0, NULL, NULL,
         "Nesterov momentum", NULL},
        {"--beta1", BP_ARG_FLOAT, &o->beta1, 0, BP_BETA1_MAX, NULL, "B", "Adam beta1 (default 0.9)", NULL},
        {"--beta2", BP_ARG_FLOAT, &o->beta2, 0, BP_BETA2_MAX, NULL, "B", "Adam beta2 (default 0.999)", NULL},
        {"--eps", BP_ARG_FLOAT, &o->eps, BP_EPS_MIN, BP_EPS_MAX, NULL, "E", "Adam epsilon (default 1e-8)", NULL},
        {"--l2", BP_ARG_FLOAT, &o->l2, 0, BP_DECAY_MAX, NULL, "LAMBDA",
         "L2 weight decay on the weights (default 0)", NULL},
        {"--l1", BP_ARG_FLOAT, &o->l1, 0, BP_DECAY_MAX, NULL, "LAMBDA",
         "L1 penalty on the weights (default 0)", NULL},
        {"--clip-norm", BP_ARG_FLOAT, &o->clip_norm, 0, BP_CLIP_MAX, NULL, "C",
         "clip the global gradient norm to C (default 0: off)", NULL},
        {"--clip-value", BP_ARG_FLOAT, &o->clip_value, 0, BP_CLIP_MAX, NULL, "C",
         "clip every gradient to [-C, C] (default 0: off)", NULL},
        {"--max-norm", BP_ARG_FLOAT, &o->max_norm, 0, BP_CLIP_MAX, NULL, "C",
         "after every step, scale each dense unit's incoming weights to a "
         "norm of at most C (Srivastava et al. 2014 use 3-4 with dropout; "
         "default 0: off)", NULL},
        {"--lr-schedule", BP_ARG_CHOICE, &o->schedule, 0, 0, schedule_names,
         "const|step|cosine", "learning-rate schedule (default const)", NULL},
        {"--lr-step", BP_ARG_INT, &o->lr_step, 1, LIMIT, NULL, "EPOCHS",
         "step schedule: every EPOCHS epochs (default 10)", NULL},
        {"--lr-gamma", BP_ARG_FLOAT, &o->lr_gamma, BP_GAMMA_MIN, BP_GAMMA_MAX,
         NULL, "G",
         "step schedule: multiply the rate by G (default 0.1)", NULL},
        {"--batch", BP_ARG_INT, &o->batch, 1, BP_MAX_BATCH, NULL, "N",
         "mini-batch size (default 128)", NULL},
        {"--seed", BP_ARG_INT, &o->seed, 0, LIMIT, NULL, "N",
         "seed of weights, shuffling and dropout (default 0)", NULL},
        {"--early-stop", BP_ARG_INT, &o->early_stop, 0, LIMIT, NULL, "PATIENCE",
         "stop after PATIENCE epochs without a better validation loss; "
         "keep the best weights (needs --val; default off)", NULL},
        {"--eval-train", BP_ARG_FLAG, &o->eval_train, 0, 0, NULL, NULL,
         "evaluate the whole training set after each epoch", NULL},
        {"--keep-denormals", BP_ARG_FLAG, &o->keep_denormals, 0, 0, NULL, NULL,
         "IEEE denormals (default: flushed to zero while training, ~8x "
         "faster on x86 when momentum buffers decay)", NULL},
    };
    const bp_opt run[] = {
        {"--epochs", BP_ARG_INT, &o->epochs, 1, BP_MAX_EPOCHS, NULL, "N",
         "total epochs, counting those before --resume (default 10)", NULL},
        {"--save", BP_ARG_STR, &o->save, 0, 0, NULL, "FILE",
         "write a resumable checkpoint at the end (on Ctrl-C: that of "
         "the last completed epoch)", NULL},
        {"--checkpoint-every", BP_ARG_INT, &o->checkpoint_every, 1, 1000000,
         NULL, "N", "also write it every N epochs (needs --save; default: "
         "only at the end)", NULL},
        {"--resume", BP_ARG_STR, &o->resume, 0, 0, NULL, "FILE",
         "continue the run saved in FILE", NULL},
        {"--metrics", BP_ARG_STR, &o->metrics, 0, 0, NULL, "FILE.csv",
         "write per-epoch metrics as CSV after every epoch (- : standard "
         "output, one row per epoch, the log then on stderr)", NULL},
        {"--threads", BP_ARG_INT, &o->threads, 1, 1024, NULL, "N",
         "OpenMP threads (default: all CPUs)", NULL},
        {"--isa", BP_ARG_STR, &o->isa, 0, 0, NULL, "NAME",
         "kernel table: " BP_ISA_CHOICES " (default: BPLAB_ISA or best)",
         NULL},
        {"--quiet", BP_ARG_FLAG, &o->quiet, 0, 0, NULL, NULL,
         "print only the final result", NULL},
        {"--no-fuse", BP_ARG_FLAG, &o->no_fuse, 0, 0, NULL, NULL,
         "run every kernel on its own: no bias, activation or bias "
         "gradient in a GEMM's epilogue, no pool in a convolution's pass "
         "(to profile each; the results have the same bits)", NULL},
        {"--profile", BP_ARG_FLAG, &o->profile, 0, 0, NULL, NULL,
         "time every kernel call; after training, where a step's time "
         "goes, per kernel and per layer and pass, against the FMA peak "
         "and copy bandwidth measured at start", NULL},
        {"--counters", BP_ARG_FLAG, &o->counters, 0, 0, NULL, NULL,
         "with --profile: hardware counters per kernel (perf_event_open; "
         "two system calls a kernel call)", NULL},
        {"--trace", BP_ARG_STR, &o->trace, 0, 0, NULL, "FILE.json",
         "write every kernel call of the first --trace-steps steps as a "
         "Chrome trace (opens in Perfetto or chrome://tracing)", NULL},
        {"--trace-steps", BP_ARG_INT, &o->trace_steps, 1, 10000, NULL, "N",
         "steps the trace keeps (default 20)", NULL},
    };
    size_t ns = sizeof spec / sizeof *spec, nr = sizeof run / sizeof *run;
    if (ns + nr > cap)
        return 0;
    memcpy(t, spec, sizeof spec);
    memcpy(t + ns, run, sizeof run);
    *n_spec = ns;
    return ns + nr;
}

/* The canonical text of one option's value. */
static void value_text(const bp_opt *o, char *buf, size_t size)
{
    switch (o->kind) {
    case BP_ARG_FLAG: snprintf(buf, size, "%d", *(bool *)o->dest ? 1 : 0); break;
    case BP_ARG_STR: {
        const char *s = *(const char **)o->dest;
        snprintf(buf, size, "%s", s ? s : "");
        break;
    }
    case BP_ARG_INT: snprintf(buf, size, "%lld", *(long long *)o->dest); break;
    case BP_ARG_FLOAT: snprintf(buf, size, "%.9g", *(double *)o->dest); break;
    case BP_ARG_CHOICE: snprintf(buf, size, "%s", o->choices[*(int *)o->dest]); break;
    }
}

/* Options whose default depends on others, made explicit: --layers on
 * --model, --samples on --data. Checkpoints store these values, and a
 * resumed run compares them, so that giving the default by hand is the
 * same as leaving it out. */
static void resolve(bp_run_opts *o)
{
    if (!o->layers && !o->net)
        o->layers = o->model == BP_CELL_NONE  ? "256,128"
                    : o->model == BP_CELL_CNN ? "128"
                                              : "none";
    if (o->gen_samples == 0)
        o->gen_samples =
            o->data && strncmp(o->data, "adding:", 7) == 0 ? 10000 : 1000;
}

/* Run-defining options added since checkpoints record every number: a
 * checkpoint names one only when it is not at its default, so the spec
 * text of a run without it, and the bytes of its checkpoint, are what they
 * were before the option existed (tests/fixtures/golden). */
static const struct {
    const char *name;
    double value; /* the default */
} written_when_set[] = {{"--label-noise", 0},
                        {"--input-dropout", 0},
                        {"--max-norm", 0},
                        {"--forget-bias", 1}};

static bool at_default_unwritten(const bp_opt *t)
{
    for (size_t i = 0; i < sizeof written_when_set / sizeof *written_when_set; i++)
        if (strcmp(t->name, written_when_set[i].name) == 0)
            return t->kind == BP_ARG_FLOAT &&
                   *(double *)t->dest == written_when_set[i].value;
    return false;
}

size_t bp_run_spec_text(const bp_run_opts *o, char *buf, size_t size)
{
    bp_run_opts copy = *o;
    resolve(&copy);
    bp_opt t[64];
    size_t ns;
    bp_run_options(&copy, t, 64, &ns);
    size_t used = 0;
    for (size_t i = 0; i < ns; i++) {
        char v[512];
        if ((t[i].kind == BP_ARG_STR && !*(const char **)t[i].dest) ||
            at_default_unwritten(&t[i]))
            continue; /* unset: the default when read back */
        int w;
        if (t[i].kind == BP_ARG_FLAG) {
            if (!*(bool *)t[i].dest)
                continue; /* off: the default */
            w = snprintf(buf + used, size - used, "%s\n", t[i].name + 2);
        } else {
            value_text(&t[i], v, sizeof v);
            w = snprintf(buf + used, size - used, "%s=%s\n", t[i].name + 2, v);
        }
        if (w < 0 || (size_t)w >= size - used)
            return 0;
        used += (size_t)w;
    }
    return used;
}

/* What kind of set a --data value names: "generated", "csv" or
 * "regression". */
static bool data_is(const char *data, const char *what)
{
    if (!data)
        return false;
    if (strcmp(what, "generated") == 0)
        return strcmp(data, "xor") == 0 || strcmp(data, "spirals") == 0 ||
               strcmp(data, "circles") == 0 || strncmp(data, "adding:", 7) == 0;
    if (strcmp(what, "csv") == 0) {
        size_t n = strlen(data);
        return n >= 4 && strcmp(data + n - 4, ".csv") == 0;
    }
    return strncmp(data, "adding:", 7) == 0; /* "regression" */
}

/* Append `s` to buf, single-quoted for a POSIX shell when it holds
 * anything but plain characters. */
static bool put_word(char *buf, size_t size, size_t *used, const char *s)
{
    bool plain = *s != '\0';
    for (const char *c = s; *c; c++)
        plain &= (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                 (*c >= '0' && *c <= '9') || strchr("_.,:/=+-@%", *c) != NULL;
    int w;
    if (plain) {
        w = snprintf(buf + *used, size - *used, " %s", s);
    } else {
        w = snprintf(buf + *used, size - *used, " '");
        for (const char *c = s; w >= 0 && *c && (size_t)w < size - *used; c++)
            w += snprintf(buf + *used + w, size - *used - (size_t)w,
                          *c == '\'' ? "'\\''" : "%c", *c);
        if (w >= 0 && (size_t)w < size - *used)
            w += snprintf(buf + *used + w, size - *used - (size_t)w, "'");
    }
    if (w < 0 || (size_t)w >= size - *used)
        return false;
    *used += (size_t)w;
    return true;
}

size_t bp_run_command(const bp_run_opts *o, char *buf, size_t size)
{
    bp_run_opts a = *o, d;
    bp_run_defaults(&d);
    d.data = o->data, d.model = o->model; /* their dependent defaults */
    resolve(&a);
    resolve(&d);
    if (data_is(o->data, "regression"))
        d.loss = BP_LOSS_MSE; /* regression's default (bp_run_finish) */
    /* the data set and the model are compared with the true defaults; the
     * options whose default depends on them with those dependent ones */
    bp_run_opts d0;
    bp_run_defaults(&d0);
    bp_opt ta[64], td[64], t0[64];
    size_t ns, n = bp_run_options(&a, ta, 64, &ns);
    bp_run_options(&d, td, 64, &ns);
    bp_run_options(&d0, t0, 64, &ns);
    size_t used = 0;
    int w = snprintf(buf, size, "bplab train");
    if (w < 0 || (size_t)w >= size)
        return 0;
    used = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        const char *name = ta[i].name;
        /* the run, and how long it trains; not where its files go */
        bool always = strcmp(name, "--epochs") == 0 || strcmp(name, "--seed") == 0;
        if (i >= ns && !always && strcmp(name, "--isa") != 0)
            continue;
        char va[512], vd[512];
        bool pristine = strcmp(name, "--data") == 0 || strcmp(name, "--model") == 0;
        value_text(&ta[i], va, sizeof va);
        value_text(pristine ? &t0[i] : &td[i], vd, sizeof vd);
        if (ta[i].kind == BP_ARG_STR && !*(const char **)ta[i].dest)
            continue;
        if (!always && strcmp(va, vd) == 0)
            continue;
        if (!put_word(buf, size, &used, name) ||
            (ta[i].kind != BP_ARG_FLAG && !put_word(buf, size, &used, va)))
            return 0;
    }
    return used;
}

bp_status bp_run_parse_spec(const char *text, bp_run_opts *o, char **storage,
                            bp_err *err)
{
    *storage = NULL;
    bp_opt t[64];
    size_t ns;
    bp_run_options(o, t, 64, &ns);
    /* one "--key=value" argument per line (each line grows by "--" and a
     * NUL: 3 bytes per line at most, lines are >= 1 byte) */
    size_t len = strlen(text);
    char *copy = bp_alloc(3 * len + 16);
    char **argv = bp_alloc((len + 2) * sizeof *argv);
    if (!copy || !argv) {
        bp_free(copy), bp_free(argv);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory");
    }
    int argc = 0;
    argv[argc++] = "spec";
    char *p = copy;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t l = eol ? (size_t)(eol - line) : strlen(line);
        if (l) {
            argv[argc++] = p;
            *p++ = '-', *p++ = '-';
            memcpy(p, line, l);
            p += l;
            *p++ = '\0';
        }
        line += l + (eol != NULL);
    }
    bp_status s = bp_args_parse(argc, argv, 1, t, ns, NULL, err);
    bp_free(argv);
    if (s != BP_OK) {
        bp_free(copy);
        char why[BP_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err ? err->msg : "");
        return bp_fail(err, s, "checkpoint options: %s", why);
    }
    *storage = copy; /* the string options point into it */
    return BP_OK;
}

bp_status bp_run_check_same(const bp_run_opts *given, const bool *seen,
                            const bp_run_opts *ckpt, bp_err *err)
{
    bp_run_opts a = *given, b = *ckpt;
    resolve(&a);
    resolve(&b);
    bp_opt ta[64], tb[64];
    size_t ns;
    bp_run_options(&a, ta, 64, &ns);
    bp_run_options(&b, tb, 64, &ns);
    for (size_t i = 0; i < ns; i++) {
        if (!seen[i])
            continue;
        char va[512], vb[512];
        value_text(&ta[i], va, sizeof va);
        value_text(&tb[i], vb, sizeof vb);
        if (strcmp(va, vb) != 0 && !*vb)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s %.60s: the checkpoint was trained without %s "
                           "(a resumed run keeps its options)",
                           ta[i].name, va, ta[i].name);
        if (strcmp(va, vb) != 0)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s %.60s: the checkpoint was trained with %.60s "
                           "(a resumed run keeps its options)",
                           ta[i].name, va, vb);
    }
    return BP_OK;
}

/* Was the option `name` given (its table row's `seen`)? */
static bool given(const bp_opt *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return t[i].seen && *t[i].seen;
    return false;
}

bp_status bp_run_finish(bp_run_opts *o, const bp_opt *t, size_t n,
                        bp_err *err)
{
    /* regression data trains on MSE unless told otherwise */
    if (!given(t, n, "--loss") && data_is(o->data, "regression"))
        o->loss = BP_LOSS_MSE;
    const char *opt = NULL, *why = NULL;
    char buf[160];
    static const char *const shorthands[] = {"--model", "--hidden", "--layers",
                                             "--act", "--batchnorm",
                                             "--dropout", "--input-dropout"};
    for (size_t i = 0; i < sizeof shorthands / sizeof *shorthands; i++)
        if (o->net && given(t, n, shorthands[i]))
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s with --net: --net lists every hidden layer "
                           "(e.g. --net dense:256,bn,relu,dropout:0.2); give "
                           "one or the other", shorthands[i]);
    if (given(t, n, "--samples") && !data_is(o->data, "generated")) {
        snprintf(buf, sizeof buf, "applies to generated sets (xor, spirals, "
                                  "circles, adding:T); to train on part of "
                                  "%.40s use --limit-train N", o->data);
        opt = "--samples", why = buf;
    } else if (given(t, n, "--hidden") && (o->model == BP_CELL_NONE ||
                                           o->model == BP_CELL_CNN)) {
        opt = "--hidden", why = "sets the width of --model rnn or lstm; the "
                                "dense widths of an MLP or a CNN are "
                                "--layers W1,W2,...";
    } else if (given(t, n, "--forget-bias") &&
               (o->net ? !strstr(o->net, "lstm:")
                       : o->model != BP_CELL_LSTM)) {
        opt = "--forget-bias", why = "needs an lstm layer (--model lstm, "
                                     "or lstm:N in --net)";
    } else if (given(t, n, "--test-csv") && !data_is(o->data, "csv")) {
        opt = "--test-csv", why = "needs --data FILE.csv";
    } else if (given(t, n, "--normalize") && !data_is(o->data, "csv")) {
        opt = "--normalize", why = "applies to --data FILE.csv (the other "
                                   "sets come scaled)";
    } else if (given(t, n, "--momentum") && o->opt != BP_OPT_MOMENTUM) {
        opt = "--momentum", why = "needs --opt momentum";
    } else if (o->opt != BP_OPT_ADAM && (given(t, n, "--beta1") ||
                                         given(t, n, "--beta2") ||
                                         given(t, n, "--eps"))) {
        opt = given(t, n, "--beta1") ? "--beta1"
              : given(t, n, "--beta2") ? "--beta2" : "--eps";
        why = "needs --opt adam";
    } else if (o->schedule != BP_SCHED_STEP &&
               (given(t, n, "--lr-step") || given(t, n, "--lr-gamma"))) {
        opt = given(t, n, "--lr-step") ? "--lr-step" : "--lr-gamma";
        why = "needs --lr-schedule step";
    }
    if (opt)
        return bp_fail(err, BP_ERR_INVALID_ARG, "%s %s", opt, why);
    bp_augment aug;
    return bp_run_flag_error(bp_augment_parse(o->augment, &aug, err), err);
}

bp_status bp_run_data_opts(const bp_run_opts *o, bp_data_opts *d, bp_err *err)
{
    (void)err;
    memset(d, 0, sizeof *d);
    d->spec = o->data;
    d->test_csv = o->test_csv;
    d->limit_train = (size_t)o->limit_train;
    d->val_fraction = o->val;
    d->test_fraction = 0.2;
    d->gen_samples = (size_t)o->gen_samples;
    d->split_seed = (uint64_t)o->data_seed;
    d->normalize = o->normalize;
    d->label_noise = o->label_noise;
    return BP_OK;
}

bp_status bp_run_flag_error(bp_status st, bp_err *err)
{
    static const char *const alias[][2] = {{"patience", "--early-stop"}};
    if (st == BP_OK || !err)
        return st;
    size_t n = strcspn(err->msg, " :");
    char flag[64] = "";
    for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
        if (strlen(alias[i][0]) == n && strncmp(err->msg, alias[i][0], n) == 0)
            snprintf(flag, sizeof flag, "%s", alias[i][1]);
    if (!flag[0] && n + 3 < sizeof flag) {
        /* lr_gamma -> --lr-gamma, when the command line has that option */
        snprintf(flag, sizeof flag, "--%.*s", (int)n, err->msg);
        for (char *c = flag; *c; c++)
            if (*c == '_')
                *c = '-';
        bp_run_opts o;
        bp_opt t[64];
        size_t ns, nt = bp_run_options(&o, t, 64, &ns);
        bool known = false;
        for (size_t i = 0; i < nt && !known; i++)
            known = strcmp(t[i].name, flag) == 0;
        if (!known)
            return st;
    }
    char rest[BP_ERR_MSG_MAX];
    snprintf(rest, sizeof rest, "%s", err->msg + n);
    return bp_fail(err, st, "%s%s", flag, rest);
}

/* The layer grammar of the shorthands: dropout:P first with
 * --input-dropout P; --model and --hidden give the recurrent first layer,
 * then for each width of --layers dense:W, bn with --batchnorm, the --act
 * activation, dropout:P with --dropout P (after the recurrent layer too). */
static bp_status shorthand_text(const bp_run_opts *o, const bp_data *data,
                                char *buf, size_t size, bp_err *err)
{
    size_t used = 0;
    char drop[48] = "";
    if (o->dropout > 0) {
        bp_layer_spec d = {.ops = &bp_layer_dropout, .rate = (float)o->dropout};
        drop[0] = ',';
        bp_layer_format_rate(&d, drop + 1, sizeof drop - 1);
    }
    buf[0] = '\0';
    if (o->input_dropout > 0) {
        bp_layer_spec d = {.ops = &bp_layer_dropout,
                           .rate = (float)o->input_dropout};
        used = (size_t)bp_layer_format_rate(&d, buf, size);
    }
    const char *layers = o->layers;
    if (o->model == BP_CELL_CNN) {
        /* the reference CNN: two 3x3 convolutions (32 and 64 channels),
         * each with the shorthands' bn, activation and dropout, and a 2x2
         * max pool; then --layers (128) */
        if (data->steps || data->shape.h < 2 || data->shape.w < 2)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "--model cnn: %s is not an image set (use "
                           "fashion-mnist or a folder of MNIST files)",
                           o->data);
        static const char *const convs[] = {"conv:32:3", "conv:64:3"};
        for (size_t i = 0; i < 2; i++)
            used += (size_t)snprintf(buf + used, size - used,
                                     "%s%s%s,%s%s,maxpool:2", used ? "," : "",
                                     convs[i], o->batchnorm ? ",bn" : "",
                                     bp_act_names[o->act], drop);
        if (!layers)
            layers = "128";
    } else if (o->model != BP_CELL_NONE) {
        if (data->steps == 0)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "--model %s: %s is not a sequence set (use "
                           "fashion-mnist-rows or adding:T)",
                           bp_cell_names[o->model], o->data);
        if (o->batchnorm)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "--batchnorm: not with --model %s",
                           bp_cell_names[o->model]);
        used += (size_t)snprintf(buf + used, size - used, "%s%s:%lld%s",
                                 used ? "," : "", bp_cell_names[o->model],
                                 o->hidden, drop);
        if (!layers)
            layers = "none";
    } else if (!layers) {
        layers = "256,128";
    }
    if (strcmp(layers, "none") == 0)
        return BP_OK;
    const char *p = layers;
    size_t count = 0;
    while (*p) {
        if (++count > (BP_MAX_LAYERS - 1) / 4)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "--layers %.60s: more than %d hidden layers",
                           layers, (BP_MAX_LAYERS - 1) / 4);
        char *end;
        long long w = strtoll(p, &end, 10);
        if (end == p || (*end != ',' && *end != '\0') || w < 1 ||
            w > BP_MAX_WIDTH)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "--layers %.60s: widths must be integers "
                           "between 1 and %d, separated by commas",
                           layers, BP_MAX_WIDTH);
        int n = snprintf(buf + used, size - used, "%sdense:%lld%s,%s%s",
                         used ? "," : "", w, o->batchnorm ? ",bn" : "",
                         bp_act_names[o->act], drop);
        if (n < 0 || (size_t)n >= size - used)
            return bp_fail(err, BP_ERR_INVALID_ARG, "--layers: too long");
        used += (size_t)n;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "--layers %.60s: trailing comma", layers);
    }
    return BP_OK;
}

bp_status bp_run_net_spec(const bp_run_opts *o, const bp_data *data,
                          bp_net_spec *s, bp_err *err)
{
    memset(s, 0, sizeof *s);
    s->input = data->shape;
    s->classes = data->train.classes;
    s->loss = (bp_loss)o->loss;
    s->init = (bp_init)o->init;
    s->init_gain = (float)o->init_gain;
    s->forget_bias = (float)o->forget_bias;
    bp_status st;
    if (o->net) {
        if ((st = bp_net_spec_parse(o->net, s, err)) != BP_OK ||
            (st = bp_net_spec_check(s, err)) != BP_OK) {
            /* a field of another option (loss, init_gain) names its
             * flag; anything else is about a layer of --net */
            bp_run_flag_error(st, err);
            if (!err || strncmp(err->msg, "--", 2) == 0)
                return st;
            char why[BP_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err->msg);
            return bp_fail(err, st, "--net %.80s: %s", o->net, why);
        }
        return BP_OK;
    }
    /* the shorthands' auto rule: He for ReLU, else Xavier, for every dense
     * layer, the output one included (what --act says, even with no
     * hidden dense layer) */
    if (s->init == BP_INIT_AUTO)
        s->init = o->act == BP_ACT_RELU ? BP_INIT_HE : BP_INIT_XAVIER;
    char text[8192];
    if ((st = shorthand_text(o, data, text, sizeof text, err)) != BP_OK ||
        (st = bp_net_spec_parse(text, s, err)) != BP_OK)
        return st;
    return bp_run_flag_error(bp_net_spec_check(s, err), err);
}

bp_status bp_run_optim_spec(const bp_run_opts *o, bp_optim_spec *s,
                            bp_err *err)
{
    bp_optim_defaults(s);
    s->kind = (bp_optimizer)o->opt;
    s->lr = (float)o->lr;
    s->momentum = (float)o->momentum;
    s->nesterov = o->nesterov;
    s->beta1 = (float)o->beta1;
    s->beta2 = (float)o->beta2;
    s->eps = (float)o->eps;
    s->l2 = (float)o->l2;
    s->l1 = (float)o->l1;
    s->clip_norm = (float)o->clip_norm;
    s->clip_value = (float)o->clip_value;
    s->max_norm = (float)o->max_norm;
    s->sched = (bp_sched)o->schedule;
    s->step_epochs = (size_t)o->lr_step;
    s->gamma = (float)o->lr_gamma;
    if (o->nesterov && o->opt != BP_OPT_MOMENTUM)
        return bp_fail(err, BP_ERR_INVALID_ARG, "--nesterov needs --opt momentum");
    return bp_run_flag_error(bp_optim_spec_check(s, err), err);
}

void bp_run_train_spec(const bp_run_opts *o, bp_train_spec *s)
{
    memset(s, 0, sizeof *s);
    s->epochs = (size_t)o->epochs;
    s->batch = (size_t)o->batch;
    s->seed = (uint64_t)o->seed;
    s->patience = (size_t)o->early_stop;
    s->eval_train = o->eval_train;
    s->keep_denormals = o->keep_denormals;
    /* checked by bp_run_finish; the trainer checks it against the data */
    if (bp_augment_parse(o->augment, &s->augment, NULL) != BP_OK)
        memset(&s->augment, 0, sizeof s->augment);
}

bp_status bp_run_build(const bp_run_opts *o, const bp_data *data,
                       bp_net **net, bp_optim **opt, bp_trainer **trainer,
                       bp_err *err)
{
    *net = NULL, *opt = NULL, *trainer = NULL;
    bp_net_spec ns;
    bp_optim_spec os;
    bp_train_spec ts;
    bp_status s;
    if ((s = bp_run_net_spec(o, data, &ns, err)) != BP_OK ||
        (s = bp_run_optim_spec(o, &os, err)) != BP_OK)
        return s;
    bp_run_train_spec(o, &ts);
    bp_ctx *ctx;
    if ((s = bp_ctx_create(o->isa, "--isa", o->threads, &ctx, err)) != BP_OK)
        return s;
    ctx->unfused = o->no_fuse;
    if ((s = bp_net_create(&ns, ts.batch, ts.seed, ctx, net, err)) != BP_OK) {
        bp_ctx_destroy(ctx);
        return s;
    }
    (*net)->own_ctx = ctx; /* the net frees it */
    if (o->profile || o->trace) { /* before anything computes */
        bp_prof_opts po = {.layers = (*net)->nlayers,
                           .trace_steps = o->trace ? (size_t)o->trace_steps : 0,
                           .counters = o->counters};
        if ((s = bp_ctx_profile(ctx, &po, err)) != BP_OK) {
            bp_net_destroy(*net);
            *net = NULL;
            return s;
        }
    }
    if ((s = bp_optim_create(&os, (*net)->nparams, opt, err)) != BP_OK ||
        (s = bp_run_flag_error(bp_trainer_create(&ts, *net, *opt, data,
                                                 trainer, err), err)) != BP_OK) {
        bp_optim_destroy(*opt);
        bp_net_destroy(*net);
        *net = NULL, *opt = NULL;
    }
    return s;
}

bp_status bp_model_load(const char *path, const char *data, size_t max_batch,
                        const bp_ctx *ctx, bp_model *m, bp_err *err)
{
    memset(m, 0, sizeof *m);
    bp_run_defaults(&m->o);
    bp_data_opts dopts;
    bp_status s;
    if ((s = bp_ckpt_load(path, &m->ck, err)) != BP_OK ||
        (s = bp_run_parse_spec(m->ck.spec, &m->o, &m->storage, err)) != BP_OK)
        goto fail;
    if (data)
        m->o.data = data;
    /* the checkpoint holds the options, not the data's shape: the data set
     * gives the input and class counts (and time steps), checked against
     * what the checkpoint records */
    char what[300];
    snprintf(what, sizeof what, "%s%s", data ? "--data " : "", m->o.data);
    if ((s = bp_run_data_opts(&m->o, &dopts, err)) != BP_OK ||
        (s = bp_data_load(&dopts, &m->data, err)) != BP_OK ||
        (s = bp_ckpt_check_data(&m->ck, path, what, &m->data, err)) != BP_OK ||
        (s = bp_run_net_spec(&m->o, &m->data, &m->spec, err)) != BP_OK ||
        (s = bp_net_create(&m->spec, max_batch, 0, ctx, &m->net, err)) != BP_OK ||
        (s = bp_ckpt_restore_model(&m->ck, path, m->net, err)) != BP_OK)
        goto fail;
    return BP_OK;
fail:
    bp_model_free(m);
    return s;
}

void bp_model_free(bp_model *m)
{
    if (!m)
        return;
    bp_net_destroy(m->net);
    bp_data_free(&m->data);
    bp_ckpt_free(&m->ck);
    bp_free(m->storage);
    memset(m, 0, sizeof *m);
}

/* The shape of a network: "784-256-128-10", "28x28-lstm128-10", with
 * " with batch norm" (its scales and statistics are tensors too). */
static void shape_text(const bp_net_spec *s, char *buf, size_t size)
{
    char d[256];
    bp_net_describe(s, d, sizeof d);
    bool bn = strstr(d, " batchnorm") != NULL;
    d[strcspn(d, " ")] = '\0';
    snprintf(buf, size, "%s%s", d, bn ? " with batch norm" : "");
}

/* Do two specs build the same tensors (layers with tensors of the same
 * kinds and widths, on inputs of the same size)? Activations and dropout
 * hold none and may differ. */
static bool same_shapes(const bp_net_spec *a, const bp_net_spec *b)
{
    size_t oa = a->loss == BP_LOSS_BCE || a->classes == 0 ? 1 : a->classes;
    size_t ob = b->loss == BP_LOSS_BCE || b->classes == 0 ? 1 : b->classes;
    if (bp_shape_size(a->input) != bp_shape_size(b->input) || oa != ob)
        return false;
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a->nlayers && !a->layers[i].ops->views)
            i++;
        while (j < b->nlayers && !b->layers[j].ops->views)
            j++;
        if (i == a->nlayers || j == b->nlayers)
            return i == a->nlayers && j == b->nlayers;
        if (a->layers[i].ops != b->layers[j].ops ||
            a->layers[i].units != b->layers[j].units ||
            (a->layers[i].ops->sequence && a->input.h != b->input.h))
            return false;
        i++, j++;
    }
}

bp_status bp_run_init_from(const bp_run_opts *o, const bp_data *data,
                           const bp_ckpt *ck, bp_net *net, bp_err *err)
{
    const char *path = o->init_from;
    bp_run_opts c;
    bp_run_defaults(&c);
    char *storage = NULL;
    bp_data other = {0};
    bp_net_spec cs;
    const bp_data *cd = data;
    bp_status s = bp_run_parse_spec(ck->spec, &c, &storage, err);
    if (s == BP_OK && strcmp(c.data, o->data) != 0) {
        /* another data set: its widths, to know the model's shapes */
        bp_data_opts dopts;
        if ((s = bp_run_data_opts(&c, &dopts, err)) == BP_OK &&
            (s = bp_data_load(&dopts, &other, err)) == BP_OK)
            cd = &other;
    }
    if (s == BP_OK)
        s = bp_run_net_spec(&c, cd, &cs, err);
    if (s != BP_OK) {
        char why[BP_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err ? err->msg : "");
        /* the checkpoint is at fault, unless memory ran out */
        s = bp_fail(err, s == BP_ERR_NOMEM ? s : BP_ERR_FORMAT,
                    "--init-from %s: %s", path, why);
    } else if (!same_shapes(&cs, &net->spec)) {
        char a[300], b[300];
        shape_text(&cs, a, sizeof a);
        shape_text(&net->spec, b, sizeof b);
        s = bp_fail(err, BP_ERR_FORMAT,
                    "--init-from %s: the model is %s, this run builds %s",
                    path, a, b);
    } else {
        s = bp_ckpt_restore_model(ck, path, net, err);
    }
    bp_data_free(&other);
    bp_free(storage);
    return s;
}

/* ---------------------------------------------------------------------- */
/* Metrics CSV                                                             */

static size_t put_num(char *buf, size_t size, double v, bool last);

/* The shortest decimal that reads back (strtof) as the same float: a
 * learning rate of 0.05f is "0.05", not 0.0500000007. */
static size_t put_float(char *buf, size_t size, float v, bool last)
{
    if (!isfinite(v))
        return put_num(buf, size, NAN, last);
    int w = 0;
    for (int prec = 1; prec <= 9; prec++) {
        w = snprintf(buf, size, "%.*g", prec, (double)v);
        if (w > 0 && (size_t)w < size && strtof(buf, NULL) == v)
            break;
    }
    int w2 = snprintf(buf + w, size - (size_t)w, "%s", last ? "\n" : ",");
    return (size_t)w + (size_t)w2;
}

static size_t put_num(char *buf, size_t size, double v, bool last)
{
    int w = isfinite(v) ? snprintf(buf, size, "%.9g%s", v, last ? "\n" : ",")
                        : snprintf(buf, size, "%s", last ? "\n" : ",");
    return w < 0 ? 0 : (size_t)w;
}

size_t bp_metrics_row_max(size_t lead, size_t ndense, size_t nsteps)
{
    /* 24 characters a number ("%.9g" of a double and its comma) */
    return lead + 32 * (16 + ndense + nsteps) + 2;
}

size_t bp_metrics_header(char *buf, size_t size, const char *lead,
                         size_t ndense, size_t nsteps)
{
    size_t used = (size_t)snprintf(buf, size,
                                   "%sepoch,lr,train_loss,train_acc,"
                                   "train_eval_loss,train_eval_acc,val_loss,"
                                   "val_acc,test_loss,test_acc", lead);
    for (size_t l = 0; l < ndense; l++)
        used += (size_t)snprintf(buf + used, size - used, ",grad_norm_%zu", l + 1);
    for (size_t t = 0; t < nsteps; t++)
        used += (size_t)snprintf(buf + used, size - used, ",dh_norm_%zu", t + 1);
    used += (size_t)snprintf(buf + used, size - used,
                             ",weight_norm,zero_frac,seconds,samples_per_s\n");
    return used;
}

size_t bp_metrics_row(char *buf, size_t size, const char *lead,
                      const bp_epoch_stats *e, size_t ndense, size_t nsteps,
                      size_t own_dense, size_t own_steps)
{
    size_t used = (size_t)snprintf(buf, size, "%s%llu,", lead,
                                   (unsigned long long)e->epoch);
    /* the rate is a float in the optimizer: its shortest form */
    used += put_float(buf + used, size - used, (float)e->lr, false);
    const double v[8] = {e->train_loss, e->train_acc, e->train_eval_loss,
                         e->train_eval_acc, e->val_loss, e->val_acc,
                         e->test_loss, e->test_acc};
    for (int j = 0; j < 8; j++)
        used += put_num(buf + used, size - used, v[j], false);
    for (size_t l = 0; l < ndense; l++)
        used += put_num(buf + used, size - used,
                        l < own_dense ? e->grad_norm[l] : NAN, false);
    for (size_t t = 0; t < nsteps; t++)
        used += put_num(buf + used, size - used,
                        t < own_steps && e->step_norm ? e->step_norm[t] : NAN,
                        false);
    used += put_num(buf + used, size - used, e->weight_norm, false);
    used += put_num(buf + used, size - used, e->zero_frac, false);
    used += put_num(buf + used, size - used, e->seconds, false);
    used += put_num(buf + used, size - used, e->samples_per_s, true);
    return used;
}

bp_status bp_write_metrics(bp_outfile *f, const bp_epoch_stats *h,
                           size_t n, size_t ndense, size_t nsteps,
                           bp_err *err)
{
    size_t row = bp_metrics_row_max(0, ndense, nsteps);
    size_t size = bp_mul_size(row, n + 1) + 1;
    char *buf = size > 1 ? bp_alloc(size) : NULL;
    if (!buf)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the metrics");
    size_t used = bp_metrics_header(buf, size, "", ndense, nsteps);
    for (size_t i = 0; i < n; i++)
        used += bp_metrics_row(buf + used, size - used, "", &h[i], ndense,
                               nsteps, ndense, nsteps);
    bp_status s = bp_outfile_write(f, buf, used, err);
    bp_free(buf);
    return s;
}
