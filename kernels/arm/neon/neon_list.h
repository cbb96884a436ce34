/* kernels/arm/neon/neon_list.h - the kernels the neon table specialises.
 * X(name, isa): bp_<name>__<isa> (isa = neon) exists and replaces the
 * inherited entry.
 * Entries not listed fall back to the table this one derives from. */
#ifndef BPLAB_NEON_LIST_H
#define BPLAB_NEON_LIST_H

#include "kernels/kernels.h"

#define BP_NEON_KERNELS(X, isa) \
    X(gemm, isa) \
    X(sigmoid_fwd, isa) \
    X(tanh_fwd, isa) \
    X(relu_fwd, isa) \
    X(sigmoid_bwd, isa) \
    X(tanh_bwd, isa) \
    X(relu_bwd, isa) \
    X(softmax_fwd, isa) \
    X(softmax_bwd, isa) \
    X(softmax_xent, isa) \
    X(sigmoid_bce, isa) \
    X(mse, isa) \
    X(bias_add, isa) \
    X(bias_act, isa) \
    X(bias_grad, isa) \
    X(dropout_fwd, isa) \
    X(dropout_bwd, isa) \
    X(bn_fwd_train, isa) \
    X(bn_fwd_infer, isa) \
    X(bn_bwd, isa) \
    X(sgd_update, isa) \
    X(momentum_update, isa) \
    X(adam_update, isa) \
    X(sumsq, isa) \
    X(scale, isa) \
    X(clip_value, isa) \
    X(max_norm, isa) \
    X(lstm_fwd, isa) \
    X(lstm_bwd, isa) \
    X(im2col, isa) \
    X(col2im, isa) \
    X(maxpool_fwd, isa) \
    X(maxpool_bwd, isa) \
    X(avgpool_fwd, isa) \
    X(avgpool_bwd, isa) \
    X(conv_direct, isa) \
    X(conv_direct_wgrad, isa)

#define X(name, isa) bp_ktype_##name bp_##name##__##isa;
BP_NEON_KERNELS(X, neon)
#undef X

#endif
