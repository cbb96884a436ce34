/* core/layers/lstm.c - a long short-term memory layer (Hochreiter &
 * Schmidhuber 1997, with the forget gate of Gers et al. 2000) over the
 * steps of a sequence, many-to-one. Per step, with the gate columns in
 * PyTorch's order [i f g o]:
 *   i, f, o = sigmoid(.), g = tanh(.) of x_t Wx + h_{t-1} Wh + b
 *   c_t = f c_{t-1} + i g,  h_t = o tanh(c_t)        lstm_fwd / lstm_bwd
 * Unrolled and trained through time by core/layers/recurrent.c (shapes,
 * passes and initialisation are described there).
 */
#include "core/layers/recurrent.h"

static void step_fwd(const bp_kernels *k, size_t b, size_t h, float *z,
                     size_t ldz, const float *c_prev, float *c, size_t ldc,
                     float *h_out, size_t ldo)
{
    k->lstm_fwd(b, h, z, ldz, c_prev, c, ldc, h_out, ldo);
}

static void step_bwd(const bp_kernels *k, size_t b, size_t h, float *z,
                     size_t ldz, const float *c_prev, const float *c,
                     size_t ldc, const float *h_out, size_t ldo,
                     const float *dh, float *dc)
{
    (void)h_out, (void)ldo;
    k->lstm_bwd(b, h, z, ldz, c_prev, c, ldc, dh, h, dc, h);
}

static const bp__cell cell = {
    .gates = 4,
    .cells = true,
    .fwd = step_fwd,
    .bwd = step_bwd,
    .names = {"lstm.weight_ih", "lstm.weight_hh", "lstm.bias"},
};

const bp_layer_ops bp_layer_lstm = BP__RECURRENT_OPS(
    "lstm", &cell, "LSTM, N units, over a sequence; its last state goes on");
