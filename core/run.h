/* core/run.h - a training run described by options, as the command line
 * and the experiment programs both use it.
 *
 * bp_run_opts holds every option of `bplab train`. The options that define
 * the run (data, network, optimizer, batch, seed, ...) are written into
 * checkpoints as "key=value" lines, so a checkpoint can rebuild its network
 * and a resumed run can refuse options that would change it. The others
 * (epochs, files, threads, ISA, output) may differ between invocations.
 */
#ifndef BPLAB_RUN_H
#define BPLAB_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/args.h"
#include "core/checkpoint.h"
#include "core/data.h"
#include "core/net.h"
#include "core/optim.h"
#include "core/outfile.h"
#include "core/train.h"

typedef struct bp_run_opts {
    /* data */
    const char *data, *test_csv;
    long long limit_train, data_seed, gen_samples;
    double val, label_noise;
    bool normalize;
    const char *augment; /* training images' shifts and flips
                            (core/augment.h; NULL: none) */
    /* network: --net in the layer grammar (core/net.h), or the shorthands
     * that expand into it */
    const char *net;
    int model;          /* bp_cell: mlp, rnn, lstm or cnn */
    long long hidden;   /* rnn, lstm: the recurrent width */
    const char *layers; /* NULL: 256,128 for mlp, none after a cell */
    int act, loss, init;
    double init_gain, forget_bias, dropout, input_dropout;
    bool batchnorm;
    const char *init_from; /* a checkpoint whose model starts the weights */
    /* optimizer */
    int opt, schedule;
    double lr, momentum, beta1, beta2, eps, l2, l1, clip_norm, clip_value;
    double max_norm;
    double lr_gamma;
    long long lr_step;
    bool nesterov;
    /* training */
    long long batch, seed, early_stop;
    bool eval_train, keep_denormals;
    /* invocation only */
    long long epochs, checkpoint_every, threads;
    const char *save, *resume, *metrics, *isa;
    bool quiet;
    bool no_fuse; /* bp_ctx unfused: every kernel on its own */
    /* profiling (core/prof.h): --profile, --counters, --trace FILE,
     * --trace-steps N */
    bool profile, counters;
    const char *trace;
    long long trace_steps;
} bp_run_opts;

/* The reference workload: Fashion-MNIST, 784-256-128-10 ReLU, softmax
 * cross-entropy, momentum 0.9, lr 0.05, batch 128, seed 0, 10 epochs. */
void bp_run_defaults(bp_run_opts *o);

/* The option table of `bplab train` bound to *o. The first
 * *n_spec entries define the run (written into checkpoints). */
size_t bp_run_options(bp_run_opts *o, bp_opt *table, size_t cap,
                      size_t *n_spec);

/* The run-defining options as "key=value" lines (a flag that is on: just
 * "key"; options left unset are omitted) into buf (NUL-ended);
 * returns the length, or 0 if buf is too small. */
size_t bp_run_spec_text(const bp_run_opts *o, char *buf, size_t size);

/* The `bplab train ...` command line that reproduces the run: every
 * run-defining option that differs from its default, --epochs, --seed and
 * --isa when set; values quoted for a POSIX shell. Returns the length, or
 * 0 if buf is too small. */
size_t bp_run_command(const bp_run_opts *o, char *buf, size_t size);

/* Parse spec text (from a checkpoint) into *o's run-defining options.
 * String options point into *storage, which the caller frees with bp_free
 * after it is done with *o. */
bp_status bp_run_parse_spec(const char *text, bp_run_opts *o, char **storage,
                            bp_err *err);

/* With --resume: every run-defining option given on the command line
 * (seen[i] for table entry i) must equal the checkpoint's value. */
bp_status bp_run_check_same(const bp_run_opts *given, const bool *seen,
                            const bp_run_opts *ckpt, bp_err *err);

/* After parsing (and, with --resume, merging the checkpoint's options):
 * apply the defaults that depend on other options (--loss mse for
 * regression data) and refuse options given (table rows with `seen`
 * set) that the run would ignore: --samples beyond generated sets (it
 * names --limit-train), --hidden without a recurrent model, --test-csv
 * and --normalize without a CSV, optimizer and schedule settings of
 * another optimizer or schedule. */
bp_status bp_run_finish(bp_run_opts *o, const bp_opt *table, size_t n,
                        bp_err *err);

/* Translate options into the specs the core needs. data->train must be
 * loaded for net (it fixes inputs and classes). */
bp_status bp_run_data_opts(const bp_run_opts *o, bp_data_opts *d, bp_err *err);
bp_status bp_run_net_spec(const bp_run_opts *o, const bp_data *data,
                          bp_net_spec *s, bp_err *err);
bp_status bp_run_optim_spec(const bp_run_opts *o, bp_optim_spec *s,
                            bp_err *err);
void bp_run_train_spec(const bp_run_opts *o, bp_train_spec *s);

/* A library message names a field ("lr_gamma 2: must be between ...");
 * rewrite it to name the command line's flag ("--lr-gamma 2: ..."), when
 * `bplab train` has one. Returns st. */
bp_status bp_run_flag_error(bp_status st, bp_err *err);

/* The network (for batches of o->batch rows, weights from o->seed, in a
 * context of its own on o->isa, else BPLAB_ISA, else the best table, with
 * o->threads threads; with --profile or --trace the context computes
 * through a profiler, net->ctx->prof), optimizer and trainer of the run
 * `o` on `data`. On failure all three are NULL. */
bp_status bp_run_build(const bp_run_opts *o, const bp_data *data,
                       bp_net **net, bp_optim **opt, bp_trainer **trainer,
                       bp_err *err);

/* A saved model ready to use: its checkpoint, the options in it, its data
 * set (or `data` instead: one with the same features and classes), and
 * the network with the saved weights, for batches of up to max_batch
 * rows, computing in `ctx` (bplab eval's --isa and --threads), which must
 * outlive the model; NULL: a context of the net's own on the default
 * table (bp_kernels_active) and the OpenMP default threads. Used by bplab
 * eval and export. On failure all is freed. */
typedef struct bp_model {
    bp_ckpt ck;
    bp_run_opts o;
    char *storage;   /* the string options of `o` */
    bp_data data;
    bp_net_spec spec;
    bp_net *net;
} bp_model;

bp_status bp_model_load(const char *path, const char *data, size_t max_batch,
                        const bp_ctx *ctx, bp_model *m, bp_err *err);
void bp_model_free(bp_model *m);

/* --init-from: put the model saved in `ck` (read from o->init_from)
 * into `net`, just built for the run `o` on `data`: its parameters and
 * batch-norm statistics, once its network is known to have the same
 * shapes (else an error naming both, "the model is 784-256-128-10, this
 * run builds 784-64-10"). The checkpoint's input and output widths come
 * from its data set: this run's if it names the same one, else that set
 * is loaded. Optimizer state, epochs and history are not taken. */
bp_status bp_run_init_from(const bp_run_opts *o, const bp_data *data,
                           const bp_ckpt *ck, bp_net *net, bp_err *err);

/* The metrics CSV, one schema for bplab train (no leading columns) and
 * the experiments ("variant,seed,"): the leading columns, then epoch, lr,
 * train_loss, train_acc, train_eval_loss, train_eval_acc, val_loss,
 * val_acc, test_loss, test_acc, grad_norm_1..grad_norm_<ndense>, for
 * recurrent nets dh_norm_1..dh_norm_<nsteps> (the mean ||dL/dh_t|| of each
 * time step), weight_norm, zero_frac, seconds, samples_per_s. Unknown
 * values (and a run's columns beyond its own own_dense layers or
 * own_steps steps) are empty fields. `lead` is the leading text, commas
 * included. Each returns its length; buf must hold bp_metrics_row_max
 * bytes (with strlen(lead) as `lead`). */
size_t bp_metrics_row_max(size_t lead, size_t ndense, size_t nsteps);
size_t bp_metrics_header(char *buf, size_t size, const char *lead,
                         size_t ndense, size_t nsteps);
size_t bp_metrics_row(char *buf, size_t size, const char *lead,
                      const bp_epoch_stats *e, size_t ndense, size_t nsteps,
                      size_t own_dense, size_t own_steps);

/* Write the history as CSV to `f` (core/outfile.h: a file is replaced
 * atomically, a stream gets the rows it has not had yet), no leading
 * columns. */
bp_status bp_write_metrics(bp_outfile *f, const bp_epoch_stats *h,
                           size_t n, size_t ndense, size_t nsteps,
                           bp_err *err);

#endif
