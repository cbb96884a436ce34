/* core/layers/recurrent.h - what an Elman RNN and an LSTM share: the
 * unrolled forward pass and backpropagation through time (recurrent.c);
 * each cell (rnn.c, lstm.c) supplies its step.
 *
 * Over T steps of F features, for a batch of B sequences, with H units and
 * G gate columns (RNN: G = H, LSTM: G = 4H):
 *   Z = X Wx + b over all B*T rows at once     gemm NN, bias_add
 *   per step t: Z_t += h_{t-1} Wh (t > 0)      gemm NN, beta 1
 *               h_t (, c_t) = cell(Z_t, c_{t-1})
 * many-to-one: h_T is the output (1 x 1 x H). Backward through time from
 * dh = dL/dh_T (dc = 0):
 *   per step t = T..1: dZ_t, dc <- cell'(...), ||dh||^2 recorded;
 *                      dh = dZ_t Wh^T (t > 1)  gemm NT
 *   dWx = X^T dZ, dWh = Hin^T dZ, db = colsum(dZ) over all B*T rows
 *                                              gemm TN, bias_grad
 *   dX = dZ Wx^T (unless the first layer)      gemm NT
 * where Hin holds the state entering each step (zero for the first).
 * Memory, per sequence: Z (T x G; the gate values and, after backward,
 * dL/dZ), Hin (T x H) and, for an LSTM, the cells (T x H) and dc (H).
 * Weights: Wx (F x G) then Wh (H x G), one tensor; U(-a, a) with
 * a = gain/sqrt(H), as PyTorch; biases 0 but an LSTM's forget gate's,
 * the spec's forget_bias (1 from the command line, as Gers et al. 2000
 * advise; --forget-bias).
 */
#ifndef BPLAB_LAYERS_RECURRENT_H
#define BPLAB_LAYERS_RECURRENT_H

#include "core/layer.h"

/* One time step of a cell, for b sequences of h units. z: the step's G
 * pre-activation columns (row stride ldz), overwritten by the cell's
 * values (the gates) forward and by dL/dz backward; c_prev, c: the cell
 * states before and after the step (row stride ldc; c_prev NULL at the
 * first step; unused without cells); h_out: the new state (stride ldo);
 * dh (b x h): dL/dh of the step's output, dc (b x h): dL/dc, carried back
 * from step to step. */
typedef void bp__step_fwd(const bp_kernels *k, size_t b, size_t h, float *z,
                          size_t ldz, const float *c_prev, float *c,
                          size_t ldc, float *h_out, size_t ldo);
typedef void bp__step_bwd(const bp_kernels *k, size_t b, size_t h, float *z,
                          size_t ldz, const float *c_prev, const float *c,
                          size_t ldc, const float *h_out, size_t ldo,
                          const float *dh, float *dc);

typedef struct bp__cell {
    size_t gates;  /* gate columns per unit: 1 or 4 */
    bool cells;    /* keeps a cell state (LSTM) */
    bp__step_fwd *fwd;
    bp__step_bwd *bwd;
    const char *names[3]; /* export names of Wx, Wh, b */
} bp__cell;

/* tensor order of both cells */
enum { BP__REC_Y, BP__REC_W, BP__REC_B, BP__REC_Z, BP__REC_HS, BP__REC_CS,
       BP__REC_DC };

/* The ops every recurrent kind shares; ops->impl is its bp__cell. */
bp_status bp__rec_plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                       bp_layer_plan *p, bp_err *err);
void bp__rec_init(bp_layer *l, const bp_init_args *a);
void bp__rec_forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                     bool train, uint64_t key);
float *bp__rec_backward(bp_layer *l, const bp_ctx *c, const float *x,
                        size_t b, float *d, float *dx, bool need_dx);
size_t bp__rec_views(const bp_layer *l, const float *params,
                     const float *buffers, bp_tensor_view *v);
int bp__rec_chain(const bp_layer_spec *s, char *buf, size_t size);

/* The bp_layer_ops of a recurrent kind: NAME its token, CELL its bp__cell. */
#define BP__RECURRENT_OPS(NAME, CELL, HELP)                                   \
    {                                                                         \
        .name = NAME, .title = NAME, .syntax = NAME ":N", .help = HELP,        \
        .sequence = true, .parse = bp_layer_parse_units,                      \
        .format = bp_layer_format_units, .plan = bp__rec_plan,                \
        .init = bp__rec_init, .forward = bp__rec_forward,                     \
        .backward = bp__rec_backward, .views = bp__rec_views,                 \
        .chain = bp__rec_chain, .impl = CELL,                                 \
    }

#endif
