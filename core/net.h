/* core/net.h - a network: a list of layers (core/layer.h) and a loss.
 *
 * A network spec is the per-sample input shape, the classes, the loss,
 * the initialisation, and the list of hidden layers in one text grammar,
 * shared by the command line (--net), checkpoints and the experiments:
 *   dense:256,bn,relu,dropout:0.2,dense:128,relu
 *   lstm:128
 * (tokens: bp_layer_kinds in core/layer.c; "none" is the empty list). A
 * dense output layer is always added after them: `classes` outputs, one
 * for bce and for regression. Losses:
 *   ce   softmax + cross-entropy over `classes` outputs;
 *   mse  squared error between softmax(outputs) and the one-hot target
 *        (the classic "MSE for classification" setting);
 *   bce  one sigmoid output and binary cross-entropy (two classes);
 * and for regression sets (classes == 0: one real target per sample)
 *   mse  squared error of the single output against the target.
 * Forward, loss, backward and the optimizer call only the kernel table of
 * the net's context: no hidden scalar math in the hot path, and no
 * allocation after bp_net_create (buffers are sized for max_batch rows).
 *
 * Memory: one 64-byte-aligned block holds the parameters (every layer's
 * weight tensor first, params[0 : ndecay]: the part L1/L2 decay applies
 * to; then biases and batch-norm scales and shifts), their gradients, the
 * buffers (batch-norm running statistics), the activations and the two
 * backward deltas. Its size comes from the layers' plans (layer.h).
 */
#ifndef BPLAB_NET_H
#define BPLAB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ctx.h"
#include "core/data.h"
#include "core/layer.h"
#include "core/status.h"
#include "kernels/kernels.h"

/* Layers of a network, the output layer included. */
#define BP_MAX_LAYERS 129
/* Layers with weights (dense, rnn, lstm): the gradient norms per layer
 * that metrics and checkpoints keep. */
#define BP_MAX_DENSE 33
/* A regression prediction counts as correct within this of its target
 * (the adding problem's criterion, Hochreiter & Schmidhuber 1997). */
#define BP_REG_TOLERANCE 0.04

typedef enum bp_loss { BP_LOSS_CE, BP_LOSS_MSE, BP_LOSS_BCE } bp_loss;
extern const char *const bp_loss_names[]; /* "ce", "mse", "bce", NULL */

/* The first hidden layers of the command line's shorthand (--model): none
 * (an MLP), a recurrent layer, or the reference CNN's convolutions (its
 * dense layer is --layers 128). */
typedef enum bp_cell {
    BP_CELL_NONE, BP_CELL_RNN, BP_CELL_LSTM, BP_CELL_CNN
} bp_cell;
extern const char *const bp_cell_names[]; /* "mlp", "rnn", "lstm", "cnn" */

typedef struct bp_net_spec {
    bp_shape input;   /* per sample (core/shape.h) */
    size_t classes;   /* 0: regression, one real output */
    bp_loss loss;
    bp_init init;     /* auto: per dense layer, He when the activation
                         after it is a ReLU (the output layer: the last
                         activation before it; none at all: ReLU's), else
                         Xavier (Glorot); recurrent layers have their own
                         rule (core/layers/recurrent.h) */
    float init_gain;  /* multiplies the initial weights (1: the textbook
                         rule) */
    float forget_bias; /* lstm: the forget gate's initial bias (1: Gers et
                          al. 2000's advice, what the command line gives;
                          a zeroed spec has 0, the other gates' value) */
    size_t nlayers;   /* hidden layers; the output layer is added */
    bp_layer_spec layers[BP_MAX_LAYERS - 1];
} bp_net_spec;

/* Parse the grammar into s->layers (the rest of *s is left as it is);
 * "none" or "" is no hidden layer. An error names the token. */
bp_status bp_net_spec_parse(const char *text, bp_net_spec *s, bp_err *err);

/* The grammar text of s->layers ("none" when empty); returns the length
 * (as snprintf: the text is cut if it is >= size). */
size_t bp_net_spec_format(const bp_net_spec *s, char *buf, size_t size);

/* Check a spec as bp_net_create would (every layer's plan against its
 * input shape, the loss against the classes); the message names the
 * offending field or layer token and the rule. */
bp_status bp_net_spec_check(const bp_net_spec *s, bp_err *err);

/* A one-line description: "784-256-128-10 relu ce", "28x28-lstm128-10 ce",
 * with " batchnorm" and " dropout" when those layers are present. */
void bp_net_describe(const bp_net_spec *s, char *buf, size_t size);

typedef struct bp_net {
    bp_net_spec spec;
    const bp_ctx *ctx; /* kernels and threads every call uses */
    bp_ctx *own_ctx;   /* the context the net made or was given to free */
    size_t inputs;     /* features per sample: size(spec.input) */
    size_t nlayers, outputs, max_batch, max_width;
    bp_layer layers[BP_MAX_LAYERS];
    /* the layers with weights, numbered as their gradient norms are, and
     * their weight tensors in the parameter arena: the list the optimizer
     * walks (params[ndecay : nparams] holds every other trained tensor) */
    size_t ndense;
    bp_layer *wl[BP_MAX_DENSE];
    struct {
        size_t off, n;
    } wt[BP_MAX_DENSE];
    size_t nparams, ndecay, nbuffers; /* arena lengths, tensors padded
                                         (bp_net_count_params: the true
                                         parameter count) */
    float *params, *grads, *buffers;
    float *delta[2]; /* backward ping-pong, max_batch x max_width */
    float *aux;      /* loss scratch: softmax outputs (mse), targets */
    float *aux2;
    void *mem;       /* everything above in one block */
    /* layers over time steps: ||dL/dh_t||^2 (t = 0..steps-1, h_t the
     * state after step t) of the last backward pass, the loss being the
     * batch mean */
    size_t steps;
    double *step_sumsq;
} bp_net;

/* Build the network for batches of up to max_batch rows, initialise the
 * weights from `seed` (biases 0, BN gamma 1 beta 0, running var 1), and
 * compute in `ctx`, which must outlive the net (NULL: a context of the
 * net's own, on the active table with the OpenMP default thread count).
 * The memory it needs is checked against the machine's before
 * allocating. */
bp_status bp_net_create(const bp_net_spec *spec, size_t max_batch,
                        uint64_t seed, const bp_ctx *ctx, bp_net **out,
                        bp_err *err);
void bp_net_destroy(bp_net *net);

/* The number of trainable parameters, as PyTorch's sum of numel() over
 * parameters() counts them (the true lengths of every WEIGHT and PARAM
 * tensor): dense in x out + out, batch norm 2 per channel, RNN G(F + H) +
 * G with G = H gate columns, LSTM the same with G = 4H. 784-256-128-10:
 * 235146. net->nparams, the arena's length, is larger: each tensor in it
 * is padded to a multiple of 16 floats. */
size_t bp_net_count_params(const bp_net *net);

/* The L2 norm of all weights of the weight layers (biases and BN scales
 * left out) and the share of them with |w| < 1e-3. */
void bp_net_weight_stats(const bp_net *net, double *norm, double *zero_frac);

/* Bytes bp_net_create would allocate (0 if the spec is invalid or the
 * size overflows). */
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

/* "layer 3 (dense 256->128)": a layer as messages name it. */
void bp_net_layer_name(const bp_net *net, size_t i, char *buf, size_t size);

#endif
