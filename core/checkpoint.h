/* core/checkpoint.h - resumable checkpoints and saved models.
 *
 * One binary file (little-endian), version 3 (versions 1 and 2 are still
 * read: 2 lacks the data shape and the rows' weight statistics, 1 also
 * the step count and step norms):
 *   "BPLABCK\n"                      magic
 *   u32 version, u32 flags           bit 0: the model holds restored best
 *                                    weights and `best` the last ones
 *   u64 n + n bytes                  the run's options, "key=value" lines
 *   char[16] isa                     the kernel table that trained it
 *   u64 epoch, step, best_epoch, bad_epochs, opt_t; f64 best_val;
 *   u64 stopped_early
 *   u64 inputs, classes              the data the model was built for
 *                                    (features per sample; classes, 0 for
 *                                    real targets)
 *   u64 n + n f32                    parameters (the model)
 *   u64 n + n f32                    buffers (batch-norm running stats)
 *   u64 n + n f32                    optimizer state (m, then v)
 *   u64 n + n f32                    the early-stopping snapshot, or 0
 *   u64 n, u64 T, n rows             per-epoch metrics (wall time not kept):
 *                                    u64 epoch, f64 lr, the losses and
 *                                    accuracies (8), the grad norms
 *                                    (BP_MAX_DENSE), weight norm, zero
 *                                    share, then T step norms (recurrent
 *                                    nets; T = 0 otherwise)
 *   u32 CRC-32 of everything before it
 * Nothing in it depends on the time or the thread count, so two identical
 * runs write identical bytes. It is written to a temporary file in the
 * same folder, fsync'ed and renamed over the target, so a crash leaves the
 * old file or the new one, never half of one. Loading checks the magic,
 * version, CRC and every size before trusting anything.
 */
#ifndef BPLAB_CHECKPOINT_H
#define BPLAB_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/data.h"
#include "core/status.h"
#include "core/train.h"

typedef struct bp_ckpt {
    char *spec;        /* NUL-terminated options text */
    char isa[16];
    uint32_t flags;
    uint64_t epoch, step, best_epoch, bad_epochs, opt_t, stopped_early;
    double best_val;
    size_t inputs, classes; /* the data shape it was built for (version 3;
                               inputs 0: an older file, not recorded) */
    size_t nparams, nbuffers, nstate, nbest, nhistory;
    float *params, *buffers, *state, *best;
    bp_epoch_stats *history;
    size_t nsteps;        /* step norms per history row (recurrent nets) */
    double *step_norms;   /* nhistory x nsteps, the rows' step_norm */
} bp_ckpt;

#define BP_CKPT_RESTORED 1u

/* The bytes of a checkpoint of the trainer's state and the options text
 * `spec`, in a new buffer (*out, *size bytes; the caller bp_frees it).
 * `bplab train --save` keeps the last epoch's in memory, so that Ctrl-C
 * can write the state of the last completed epoch. */
bp_status bp_ckpt_encode(const char *spec, const bp_trainer *t,
                         unsigned char **out, size_t *size, bp_err *err);

/* Write the trainer's state and the options text `spec` to `path`
 * (bp_ckpt_encode, then bp_write_file). */
bp_status bp_ckpt_save(const char *path, const char *spec,
                       const bp_trainer *t, bp_err *err);

/* Read and validate a checkpoint. On failure *out is all zero. */
bp_status bp_ckpt_load(const char *path, bp_ckpt *out, bp_err *err);
void bp_ckpt_free(bp_ckpt *c);

/* Put the checkpoint's state into a trainer built from the same options
 * (its net and optimizer must have the same sizes), ready to resume. */
bp_status bp_ckpt_restore(const bp_ckpt *c, const char *path, bp_trainer *t,
                          bp_err *err);

/* Refuse data of another shape than the model's, before a net is built
 * from it: a feature count or class count that differs is a
 * BP_ERR_INVALID_ARG naming `what` (the data, e.g. "--data xor"), both
 * shapes and the model. A recurrent model (history rows with step norms:
 * c->nsteps > 0) runs over sequences of any length, so for it the
 * features per time step are compared (adding:6's model evaluates
 * adding:9). A checkpoint that does not record its shape (version < 3)
 * passes; bp_ckpt_restore_model then compares parameter counts. */
bp_status bp_ckpt_check_data(const bp_ckpt *c, const char *path,
                             const char *what, const bp_data *data,
                             bp_err *err);

/* Put only the model (parameters, BN statistics) into a net. */
bp_status bp_ckpt_restore_model(const bp_ckpt *c, const char *path,
                                bp_net *net, bp_err *err);

#endif
