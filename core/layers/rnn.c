/* core/layers/rnn.c - an Elman recurrent layer over the steps of a
 * sequence, many-to-one:
 *   h_t = tanh(x_t Wx + h_{t-1} Wh + b)              tanh_fwd / tanh_bwd
 * Unrolled and trained through time by core/layers/recurrent.c (shapes,
 * passes and initialisation are described there).
 */
#include "core/layers/recurrent.h"

static void step_fwd(const bp_kernels *k, size_t b, size_t h, float *z,
                     size_t ldz, const float *c_prev, float *c, size_t ldc,
                     float *h_out, size_t ldo)
{
    (void)c_prev, (void)c, (void)ldc;
    for (size_t r = 0; r < b; r++)
        k->tanh_fwd(h, z + r * ldz, h_out + r * ldo);
}

/* dz = dh * (1 - h_t^2), from the step's output */
static void step_bwd(const bp_kernels *k, size_t b, size_t h, float *z,
                     size_t ldz, const float *c_prev, const float *c,
                     size_t ldc, const float *h_out, size_t ldo,
                     const float *dh, float *dc)
{
    (void)c_prev, (void)c, (void)ldc, (void)dc;
    for (size_t r = 0; r < b; r++)
        k->tanh_bwd(h, h_out + r * ldo, dh + r * h, z + r * ldz);
}

static const bp__cell cell = {
    .gates = 1,
    .cells = false,
    .fwd = step_fwd,
    .bwd = step_bwd,
    .names = {"rnn.weight_ih", "rnn.weight_hh", "rnn.bias"},
};

const bp_layer_ops bp_layer_rnn = BP__RECURRENT_OPS(
    "rnn", &cell, "Elman RNN, N units, over a sequence; its last state goes on");
