/* kernels/x86/avx512/avx512_list.h - the kernels the avx512 table specialises.
 * X(name): bp_<name>__avx512 exists and replaces the inherited entry.
 * Entries not listed fall back to the table this one derives from. */
#ifndef BPLAB_AVX512_LIST_H
#define BPLAB_AVX512_LIST_H

#include "kernels/kernels.h"

#define BP_AVX512_KERNELS(X) \
    X(gemm) \
    X(sigmoid_fwd) \
    X(tanh_fwd) \
    X(relu_fwd) \
    X(sigmoid_bwd) \
    X(tanh_bwd) \
    X(relu_bwd) \
    X(softmax_fwd) \
    X(softmax_bwd) \
    X(softmax_xent) \
    X(sigmoid_bce) \
    X(mse) \
    X(bias_add) \
    X(bias_grad) \
    X(dropout_fwd) \
    X(dropout_bwd) \
    X(bn_fwd_train) \
    X(bn_fwd_infer) \
    X(bn_bwd) \
    X(sgd_update) \
    X(momentum_update) \
    X(adam_update) \
    X(sumsq) \
    X(scale) \
    X(clip_value) \
    X(lstm_fwd) \
    X(lstm_bwd)

#define X(name) bp_ktype_##name bp_##name##__avx512;
BP_AVX512_KERNELS(X)
#undef X

#endif
