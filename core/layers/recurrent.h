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
 * a = gain/sqrt(H), as PyTorch; biases 0 but an LSTM's forget gate, 1
 * (Gers et al. 2000).
 */
#ifndef BPLAB_LAYERS_RECURRENT_H
#define BPLAB_LAYERS_RECURRENT_H

#include "core/layer.h"

typedef struct bp__cell {
    size_t gates;  /* gate columns per unit: 1 or 4 */
    bool cells;    /* keeps a cell state (LSTM) */
    const char *names[3]; /* export names of Wx, Wh, b */
} bp__cell;

/* tensor order of both cells */
enum { BP__REC_Y, BP__REC_W, BP__REC_B, BP__REC_Z, BP__REC_HS, BP__REC_CS,
       BP__REC_DC };

bp_status bp__rec_plan(const bp__cell *cell, const bp_layer_spec *s,
                       bp_shape in, size_t max_batch, bp_layer_plan *p,
                       bp_err *err);
void bp__rec_init(const bp__cell *cell, bp_layer *l, const bp_init_args *a);
void bp__rec_forward(const bp__cell *cell, bp_layer *l, const bp_ctx *c,
                     const float *x, size_t b);
float *bp__rec_backward(const bp__cell *cell, bp_layer *l, const bp_ctx *c,
                        const float *x, size_t b, float *d, float *dx,
                        bool need_dx);
size_t bp__rec_views(const bp__cell *cell, const bp_layer *l,
                     const float *params, bp_tensor_view *v);

#endif
