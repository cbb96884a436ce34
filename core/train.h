/* core/train.h - the training loop.
 *
 * Each epoch shuffles the training set with the stream (seed, epoch),
 * walks it in batches (the last one may be smaller), and per step runs
 * forward (dropout keyed by (seed, step)), loss, backward, the per-layer
 * gradient norms, the NaN/Inf check, and the optimizer. After the epoch it
 * (With augment, the batch's images are shifted and flipped as drawn for
 * (seed, epoch, sample): core/augment.h.) After the epoch it
 * evaluates the validation and test sets (and, with eval_train, the whole
 * training set in inference mode) and applies early stopping. All
 * randomness is a function of (seed, epoch, step): the same seed and ISA
 * give bit-identical weights and metrics at any thread count, and a run
 * resumed from a checkpoint continues exactly.
 */
#ifndef BPLAB_TRAIN_H
#define BPLAB_TRAIN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/augment.h"

#include "core/data.h"
#include "core/net.h"
#include "core/optim.h"
#include "core/status.h"

typedef struct bp_train_spec {
    size_t epochs;     /* total, counting epochs done before a resume */
    size_t batch;
    uint64_t seed;
    size_t patience;   /* early stopping on validation loss; 0: off */
    bool eval_train;   /* evaluate the training set after each epoch */
    bool keep_denormals; /* IEEE denormals (default: flushed to zero, see
                            bp_flush_denormals in core/runtime.h) */
    bp_augment augment;  /* training images' shifts and flips (none: off) */
} bp_train_spec;

typedef struct bp_epoch_stats {
    uint64_t epoch;                 /* 1-based */
    double lr;                      /* at the epoch's last step */
    double train_loss, train_acc;   /* running means over the epoch's steps */
    double train_eval_loss, train_eval_acc; /* eval_train, else NAN */
    double val_loss, val_acc;       /* NAN without a validation set */
    double test_loss, test_acc;
    double grad_norm[BP_MAX_DENSE]; /* mean over the epoch's steps of
                                       ||dL/dW|| per weight layer */
    const double *step_norm;        /* recurrent nets: mean over the epoch's
                                       steps of ||dL/dh_t||, t = 1..T; the
                                       T values belong to whoever holds the
                                       row (the trainer's history, a loaded
                                       checkpoint); NULL without a
                                       recurrent layer */
    double weight_norm;             /* ||W||_2 over every weight layer's
                                       weights after the epoch */
    double zero_frac;               /* share of those weights with
                                       |w| < 1e-3 (L1's sparsity) */
    double seconds;                 /* training wall time (NAN if unknown) */
    double samples_per_s;
} bp_epoch_stats;

typedef struct bp_trainer bp_trainer;

/* Called after every step (progress) and after every epoch. A step
 * reports the epoch's step number (1-based) of `steps`, the batch's mean
 * loss and the global L2 norm of the gradient (every weight, bias and
 * batch-norm parameter) before any clipping. */
typedef void bp_step_cb(void *ctx, const bp_trainer *t, size_t step,
                        size_t steps, double loss, double grad_norm);
typedef void bp_epoch_cb(void *ctx, const bp_trainer *t,
                         const bp_epoch_stats *e);

struct bp_trainer {
    bp_train_spec spec;
    bp_net *net;
    bp_optim *opt;
    const bp_data *data;
    uint64_t epoch;            /* epochs completed */
    uint64_t step;             /* optimizer steps taken */
    /* early stopping */
    double best_val;
    uint64_t best_epoch, bad_epochs;
    float *best;               /* params then buffers, when patience > 0 */
    bool stopped_early;
    bool restored;             /* the net holds the best weights and `best`
                                  the last ones (bp_trainer_swap_best) */
    /* history: one row per completed epoch; its step norms (nsteps per
     * row, sized by the net: none for an MLP) in step_norms */
    bp_epoch_stats *history;
    size_t nhistory, cap;
    size_t nsteps;
    double *step_norms;        /* cap x nsteps */
    double *step_scratch;      /* nsteps: the epoch being trained */
    /* callbacks and the stop request (SIGINT) */
    bp_step_cb *on_step;
    bp_epoch_cb *on_epoch;
    void *ctx;
    volatile sig_atomic_t *stop;
    /* failure details */
    char fault[BP_ERR_MSG_MAX];
    /* scratch */
    size_t *order;
    float *xb;
    int32_t *yb;
    float *tb;                 /* regression targets */
};

bp_status bp_trainer_create(const bp_train_spec *spec, bp_net *net,
                            bp_optim *opt, const bp_data *data,
                            bp_trainer **out, bp_err *err);
void bp_trainer_destroy(bp_trainer *t);

/* Train until spec.epochs epochs are done, early stopping triggers, or
 * *stop becomes non-zero. BP_ERR_NUMERIC names the epoch, step and layer
 * where a loss or gradient stopped being finite; BP_ERR_INTERRUPTED
 * reports a stop request. In every case the history holds the completed
 * epochs. With early stopping the best weights are restored at the end. */
bp_status bp_trainer_run(bp_trainer *t, bp_err *err);

/* Exchange the net's weights and BN statistics with the best snapshot. */
void bp_trainer_swap_best(bp_trainer *t);

/* Append a row to the history (for checkpoints); its step norms, if the
 * net has time steps, are copied (NULL counts as zeros). */
bp_status bp_trainer_push_history(bp_trainer *t, const bp_epoch_stats *e,
                                  bp_err *err);

#endif
