/* core/optim.h - optimizers, regularisation, clipping and schedules.
 *
 * One step walks the parameters the layers declared (core/layer.h): each
 * layer's weight tensor (net->wt, decayed by L1/L2, last layer first, its
 * gradient norm measured on the way), then every other trained tensor
 * (biases, batch-norm scales and shifts: params[ndecay : nparams], one
 * contiguous block) without decay. The settings' ranges are in
 * core/bounds.h. In order:
 *   1. clip by value (every gradient into [-clip_value, clip_value]);
 *   2. clip by global norm (scale all gradients by clip_norm / ||g|| when
 *      ||g|| > clip_norm; Pascanu et al. 2013);
 *   3. SGD, momentum (optionally Nesterov) or Adam, with coupled L2 and L1
 *      added to the weights' gradients (kernels.h bp_opt_params).
 * The learning rate follows a schedule evaluated per step: constant; step
 * (multiplied by gamma every step_epochs epochs); cosine (from lr to 0
 * over the run, per step).
 */
#ifndef BPLAB_OPTIM_H
#define BPLAB_OPTIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/net.h"
#include "core/status.h"

typedef enum bp_optimizer { BP_OPT_SGD, BP_OPT_MOMENTUM, BP_OPT_ADAM } bp_optimizer;
typedef enum bp_sched { BP_SCHED_CONST, BP_SCHED_STEP, BP_SCHED_COSINE } bp_sched;

extern const char *const bp_opt_names[];   /* "sgd", "momentum", "adam", NULL */
extern const char *const bp_sched_names[]; /* "const", "step", "cosine", NULL */

typedef struct bp_optim_spec {
    bp_optimizer kind;
    float lr, momentum;
    bool nesterov;
    float beta1, beta2, eps;
    float l2, l1;
    float clip_norm, clip_value; /* 0: off */
    float max_norm;              /* 0: off; else after every step each
                                    dense unit's incoming weights have a
                                    norm of at most this (kernels.h
                                    max_norm; Srivastava et al. 2014) */
    bp_sched sched;
    size_t step_epochs;          /* BP_SCHED_STEP: every this many epochs */
    float gamma;                 /* BP_SCHED_STEP: multiply by this */
} bp_optim_spec;

/* Defaults: momentum 0.9, lr 0.05, Adam betas (0.9, 0.999), eps 1e-8,
 * step schedule every 10 epochs by 0.1. */
void bp_optim_defaults(bp_optim_spec *s);

bp_status bp_optim_spec_check(const bp_optim_spec *s, bp_err *err);

typedef struct bp_optim {
    bp_optim_spec spec;
    size_t n;      /* parameters */
    float *m, *v;  /* momentum / Adam moments (NULL when unused) */
    uint64_t t;    /* steps taken */
} bp_optim;

bp_status bp_optim_create(const bp_optim_spec *spec, size_t nparams,
                          bp_optim **out, bp_err *err);
void bp_optim_destroy(bp_optim *o);

/* Floats of optimizer state (0, n or 2n). */
size_t bp_optim_state_size(const bp_optim *o);

/* The learning rate at step `step` of epoch `epoch` (both from 0) of a run
 * of `epochs` epochs of `steps` steps. */
float bp_optim_lr(const bp_optim_spec *s, size_t epoch, size_t step,
                  size_t steps, size_t epochs);

/* True if the spec clips: the gradient norms must then be measured (by
 * bp_net_grad_sumsq) before bp_optim_step. */
bool bp_optim_clips(const bp_optim_spec *s);

/* Clip and update net's parameters from its gradients with rate lr.
 * With clipping, grad_sumsq must be the sum of squares of all gradients
 * (from bp_net_grad_sumsq) and dense_sumsq NULL. Without, pass
 * dense_sumsq (net->ndense entries) to have the update measure the norms
 * in the same pass: it receives each dense layer's weight-gradient sum of
 * squares, and the function returns that of the remaining gradients
 * (biases, batch norm). */
double bp_optim_step(bp_optim *o, bp_net *net, float lr, double grad_sumsq,
                     double *dense_sumsq);

#endif
