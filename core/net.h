/* core/net.h - a multilayer or recurrent network on the kernel table.
 *
 * A network is a list of layers built from a bp_net_spec: for each hidden
 * width, dense -> [batch norm] -> activation -> [dropout]; then a dense
 * output layer and a loss. With a recurrent cell, the first hidden layer is
 * instead an Elman RNN (tanh) or an LSTM unrolled over `steps` time steps of
 * inputs/steps features each (a sample is its steps one after the other),
 * many-to-one: its last state h_T feeds the layers after it. Losses:
 *   ce   softmax + cross-entropy over `classes` outputs;
 *   mse  squared error between softmax(outputs) and the one-hot target
 *        (the classic "MSE for classification" setting);
 *   bce  one sigmoid output and binary cross-entropy (two classes);
 * and for regression sets (classes == 0: one real target per sample)
 *   mse  squared error of the single output against the target.
 * Forward, loss, backward and the optimizer call only the kernel table:
 * no hidden scalar math in the hot path, and no allocation after
 * bp_net_create (buffers are sized for max_batch rows).
 *
 * Parameters, gradients and the BN running statistics each live in one
 * 64-byte-aligned arena; layers hold offsets into it. The weights of every
 * dense layer come first (params[0 : ndecay]: the part L1/L2 decay
 * applies to), then biases and BN scales and shifts.
 */
#ifndef BPLAB_NET_H
#define BPLAB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"
#include "core/data.h"
#include "core/status.h"
#include "kernels/kernels.h"

#define BP_MAX_HIDDEN 32
#define BP_MAX_LAYERS (4 * BP_MAX_HIDDEN + 1)
#define BP_MAX_DENSE (BP_MAX_HIDDEN + 1)
/* Largest layer width and parameter count a spec may ask for. */
#define BP_MAX_WIDTH 65536
#define BP_MAX_PARAMS ((size_t)1 << 30)
/* Longest sequence a recurrent layer unrolls. */
#define BP_MAX_STEPS 1000
/* A regression prediction counts as correct within this of its target
 * (the adding problem's criterion, Hochreiter & Schmidhuber 1997). */
#define BP_REG_TOLERANCE 0.04

typedef enum bp_act { BP_ACT_RELU, BP_ACT_SIGMOID, BP_ACT_TANH } bp_act;
typedef enum bp_loss { BP_LOSS_CE, BP_LOSS_MSE, BP_LOSS_BCE } bp_loss;
typedef enum bp_init { BP_INIT_AUTO, BP_INIT_HE, BP_INIT_XAVIER } bp_init;
typedef enum bp_cell { BP_CELL_NONE, BP_CELL_RNN, BP_CELL_LSTM } bp_cell;

extern const char *const bp_act_names[];  /* "relu", "sigmoid", "tanh", NULL */
extern const char *const bp_loss_names[]; /* "ce", "mse", "bce", NULL */
extern const char *const bp_init_names[]; /* "auto", "he", "xavier", NULL */
extern const char *const bp_cell_names[]; /* "mlp", "rnn", "lstm", NULL */

typedef struct bp_net_spec {
    size_t inputs, classes; /* classes 0: regression, one real output */
    size_t nhidden;
    size_t hidden[BP_MAX_HIDDEN]; /* with a cell, hidden[0] is its width */
    bp_cell cell;     /* none: a multilayer perceptron */
    size_t steps;     /* with a cell: time steps per sample (divides inputs) */
    bp_act act;
    bp_loss loss;
    bp_init init;     /* auto: He for ReLU, Xavier (Glorot) for sigmoid/tanh;
                         a recurrent layer's weights are always U(-a, a) with
                         a = 1/sqrt(width) (as PyTorch), biases 0 but the
                         LSTM forget gate's, 1 (Gers et al. 2000) */
    float init_gain;  /* multiplies the initial weights (1: the textbook rule) */
    float dropout;    /* after each hidden activation, 0 <= p < 1 */
    bool batchnorm;   /* between each hidden dense layer and its activation */
} bp_net_spec;

typedef enum bp_layer_kind {
    BP_L_DENSE,
    BP_L_BN,
    BP_L_ACT,
    BP_L_DROPOUT,
    BP_L_RNN,
    BP_L_LSTM
} bp_layer_kind;

typedef struct bp_layer {
    bp_layer_kind kind;
    size_t in, out;   /* recurrent: in is the features per step */
    size_t nw;        /* dense and recurrent: weight count at params + w
                         (recurrent: Wx, in x gates, then Wh, out x gates) */
    size_t steps;     /* recurrent: T */
    bp_act act;       /* BP_L_ACT */
    float p;          /* BP_L_DROPOUT */
    size_t w, b;      /* dense: W (in x out) and b at params + w, + b;
                         BN: gamma at + w, beta at + b */
    size_t rm, rv;    /* BN: running mean and variance at buffers + rm, + rv */
    int dense;        /* dense layers: index among dense layers */
    float *y;         /* output, max_batch x out (an activation writes in place) */
    float *mask;      /* dropout mask */
    float *mean, *invstd; /* BN batch statistics saved for backward */
    /* recurrent, for max_batch sequences (row b*T + t is step t of b):
     * z: T x gates per sequence: pre-activations, then (LSTM) the gate
     *    values, and after backward dL/dz; hs: T x out, the state entering
     *    each step (h_0 = 0); cs: T x out, the LSTM cell after each step;
     * dc: out per sequence, dL/dc during backward */
    float *z, *hs, *cs, *dc;
} bp_layer;

/* Layers with weights (dense and recurrent): their `dense` index numbers
 * them for gradient norms and layer-wise updates. */
static inline int bp_layer_has_weights(const bp_layer *l)
{
    return l->kind == BP_L_DENSE || l->kind == BP_L_RNN ||
           l->kind == BP_L_LSTM;
}

typedef struct bp_net {
    bp_net_spec spec;
    const bp_ctx *ctx; /* kernels and threads every call uses */
    bp_ctx *own_ctx;   /* the context the net made itself, if any */
    size_t nlayers, ndense, outputs, max_batch, max_width;
    bp_layer layers[BP_MAX_LAYERS];
    size_t nparams, ndecay, nbuffers; /* arena lengths, tensors padded
                                         (bp_net_count_params: the true
                                         parameter count) */
    float *params, *grads, *buffers;
    float *delta[2]; /* backward ping-pong, max_batch x max_width */
    float *aux;      /* loss scratch: softmax outputs (mse), targets */
    float *aux2;
    void *mem;       /* everything above in one block */
    /* recurrent nets: ||dL/dh_t||^2 (t = 0..steps-1, h_t the state after
     * step t) of the last backward pass, the loss being the batch mean */
    size_t steps;
    double step_sumsq[BP_MAX_STEPS];
} bp_net;

/* Check a spec; the message names the offending field and rule. */
bp_status bp_net_spec_check(const bp_net_spec *s, bp_err *err);

/* "784-256-128-10 relu ce" style one-line description. */
void bp_net_describe(const bp_net_spec *s, char *buf, size_t size);

/* Build the network for batches of up to max_batch rows, initialise the
 * weights from `seed` (biases 0, BN gamma 1 beta 0, running var 1), and
 * compute in `ctx`, which must outlive the net (NULL: a context of the net's
 * own, on the active table with the OpenMP default thread count). The memory it needs
 * is checked against BP_ALLOC_MAX before allocating. */
bp_status bp_net_create(const bp_net_spec *spec, size_t max_batch,
                        uint64_t seed, const bp_ctx *ctx, bp_net **out,
                        bp_err *err);
void bp_net_destroy(bp_net *net);

/* The number of trainable parameters, as PyTorch's sum of numel() over
 * parameters() counts them: dense in x out + out, batch norm 2 per unit
 * (gamma, beta; the running statistics are buffers), RNN G(F + H) + G
 * with G = H gate columns, LSTM the same with G = 4H. 784-256-128-10:
 * 235146. net->nparams, the arena's length, is larger: each tensor in it
 * is padded to a multiple of 16 floats. */
size_t bp_net_count_params(const bp_net *net);

/* The L2 norm of all weights of the weight layers (biases and BN scales
 * left out) and the share of them with |w| < 1e-3. */
void bp_net_weight_stats(const bp_net *net, double *norm, double *zero_frac);

/* Bytes bp_net_create would allocate (0 on overflow). */
size_t bp_net_bytes(const bp_net_spec *spec, size_t max_batch);

/* Forward `batch` rows of x (batch x inputs). train: dropout on (masks
 * keyed by dropout_key and the layer), BN on batch statistics (updating
 * the running ones); otherwise dropout off and BN on running statistics. */
void bp_net_forward(bp_net *net, const float *x, size_t batch, bool train,
                    uint64_t dropout_key);

/* The loss of the last forward pass against `labels` (or, for regression,
 * `targets`): returns the sum over the batch and counts correct predictions
 * in *correct (if not NULL; regression: within BP_REG_TOLERANCE). With
 * want_grad, also leaves d(mean loss)/d(output) for bp_net_backward. */
double bp_net_loss(bp_net *net, const int32_t *labels, const float *targets,
                   size_t batch, bool want_grad, size_t *correct);

/* Backward through every layer after bp_net_loss(want_grad): fills the
 * gradient arena (mean over the batch). x is the forward pass's input. */
void bp_net_backward(bp_net *net, const float *x, size_t batch);

/* The output of the last forward pass (batch x outputs). */
const float *bp_net_output(const bp_net *net);

/* Predicted class of row r of the last forward pass (classification). */
int32_t bp_net_predict(const bp_net *net, size_t r);

/* Loss (mean), accuracy and, if not NULL, the classes x classes confusion
 * matrix (row: true class, column: predicted) over a whole data set, in
 * inference mode, max_batch rows at a time. */
void bp_net_evaluate(bp_net *net, const bp_dataset *d, double *loss,
                     double *acc, size_t *confusion);

/* Sum of squares of each weight layer's gradient (ndense values) and of all
 * other gradients (returned). */
double bp_net_grad_sumsq(const bp_net *net, double *dense_sumsq);

#endif
