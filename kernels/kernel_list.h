/* kernels/kernel_list.h - THE list of kernels and instruction sets.
 *
 * One X-macro drives everything that enumerates kernels: the fields of
 * bp_kernels, the kernel ids and names, the generic ISA-vs-scalar checker,
 * `bplab info`, `bplab check` and the benchmarks. A new kernel is one line
 * here plus its scalar reference in kernels/scalar/; every SIMD table points
 * at the scalar entry until an ISA list (kernels/x86/avx2/avx2_list.h, ...)
 * names a specialised version.
 *
 * X(name, fn_type, signature, tolerance class, tolerance factor)
 *   signature: which checker harness drives it (bp_sig in kernels.h)
 *   tolerance: how far an ISA's result may be from the scalar reference:
 *     EXACT   bit-identical (factor unused);
 *     ELEM    an element-wise formula with a few roundings: within `factor`
 *             ULPs of the reference, or factor*eps*|terms| near zero;
 *     TRANSC  a transcendental (exp, tanh) by polynomial: within `factor`
 *             ULPs of the reference, or factor*eps*|terms| near zero;
 *     SUM     a reduction of length K (GEMM, column sums, norms):
 *             |got - ref| <= factor * K * eps * sum|terms|, the classic
 *             forward-error bound of a K-term float sum (Higham 2002, 3.1).
 *   The factors are upper bounds that the tests enforce; `bplab check`
 *   prints what each ISA actually reaches.
 */
#ifndef BPLAB_KERNEL_LIST_H
#define BPLAB_KERNEL_LIST_H

#define BP_KERNELS(X)                                                        \
    X(gemm,            bp_gemm_fn,        BP_SIG_GEMM,      BP_TOL_SUM,    2) \
    X(sigmoid_fwd,     bp_unary_fn,       BP_SIG_UNARY,     BP_TOL_TRANSC, 6) \
    X(tanh_fwd,        bp_unary_fn,       BP_SIG_UNARY,     BP_TOL_TRANSC, 4) \
    X(relu_fwd,        bp_unary_fn,       BP_SIG_UNARY,     BP_TOL_EXACT,  0) \
    X(sigmoid_bwd,     bp_unary_bwd_fn,   BP_SIG_UNARY_BWD, BP_TOL_ELEM,   2) \
    X(tanh_bwd,        bp_unary_bwd_fn,   BP_SIG_UNARY_BWD, BP_TOL_ELEM,   2) \
    X(relu_bwd,        bp_unary_bwd_fn,   BP_SIG_UNARY_BWD, BP_TOL_EXACT,  0) \
    X(softmax_fwd,     bp_softmax_fn,     BP_SIG_SOFTMAX,   BP_TOL_SUM,    4) \
    X(softmax_bwd,     bp_softmax_bwd_fn, BP_SIG_SOFTMAX_BWD, BP_TOL_SUM,  2) \
    X(softmax_xent,    bp_xent_fn,        BP_SIG_XENT,      BP_TOL_SUM,    4) \
    X(sigmoid_bce,     bp_bce_fn,         BP_SIG_BCE,       BP_TOL_SUM,    4) \
    X(mse,             bp_mse_fn,         BP_SIG_MSE,       BP_TOL_SUM,    2) \
    X(bias_add,        bp_bias_add_fn,    BP_SIG_BIAS_ADD,  BP_TOL_EXACT,  0) \
    X(bias_act,        bp_bias_act_fn,    BP_SIG_BIAS_ACT,  BP_TOL_TRANSC, 6) \
    X(bias_grad,       bp_bias_grad_fn,   BP_SIG_BIAS_GRAD, BP_TOL_SUM,    2) \
    X(dropout_fwd,     bp_dropout_fwd_fn, BP_SIG_DROPOUT,   BP_TOL_EXACT,  0) \
    X(dropout_bwd,     bp_vmul_fn,        BP_SIG_VMUL,      BP_TOL_EXACT,  0) \
    X(bn_fwd_train,    bp_bn_train_fn,    BP_SIG_BN_TRAIN,  BP_TOL_SUM,    4) \
    X(bn_fwd_infer,    bp_bn_infer_fn,    BP_SIG_BN_INFER,  BP_TOL_ELEM,   4) \
    X(bn_bwd,          bp_bn_bwd_fn,      BP_SIG_BN_BWD,    BP_TOL_SUM,    4) \
    X(sgd_update,      bp_sgd_fn,         BP_SIG_SGD,       BP_TOL_ELEM,   2) \
    X(momentum_update, bp_momentum_fn,    BP_SIG_MOMENTUM,  BP_TOL_ELEM,   2) \
    X(adam_update,     bp_adam_fn,        BP_SIG_ADAM,      BP_TOL_ELEM,   4) \
    X(sumsq,           bp_sumsq_fn,       BP_SIG_SUMSQ,     BP_TOL_SUM,    2) \
    X(scale,           bp_scale_fn,       BP_SIG_SCALE,     BP_TOL_EXACT,  0) \
    X(clip_value,      bp_clip_fn,        BP_SIG_CLIP,      BP_TOL_EXACT,  0) \
    X(max_norm,        bp_maxnorm_fn,     BP_SIG_MAXNORM,   BP_TOL_EXACT,  0) \
    X(lstm_fwd,        bp_lstm_fwd_fn,    BP_SIG_LSTM_FWD,  BP_TOL_TRANSC, 8) \
    X(lstm_bwd,        bp_lstm_bwd_fn,    BP_SIG_LSTM_BWD,  BP_TOL_TRANSC, 8) \
    X(im2col,          bp_im2col_fn,      BP_SIG_IM2COL,    BP_TOL_EXACT,  0) \
    X(col2im,          bp_col2im_fn,      BP_SIG_COL2IM,    BP_TOL_EXACT,  0) \
    X(maxpool_fwd,     bp_pool_fwd_fn,    BP_SIG_POOL_FWD,  BP_TOL_EXACT,  0) \
    X(maxpool_bwd,     bp_pool_bwd_fn,    BP_SIG_POOL_BWD,  BP_TOL_EXACT,  0) \
    X(avgpool_fwd,     bp_avgpool_fwd_fn, BP_SIG_AVGPOOL_FWD, BP_TOL_EXACT, 0) \
    X(avgpool_bwd,     bp_avgpool_bwd_fn, BP_SIG_AVGPOOL_BWD, BP_TOL_EXACT, 0) \
    X(conv_direct,     bp_conv_direct_fn, BP_SIG_CONV_DIRECT, BP_TOL_SUM,   2) \
    X(conv_direct_wgrad, bp_conv_wgrad_fn, BP_SIG_CONV_WGRAD, BP_TOL_SUM,   2)

/* X(name, ENUM, base, lacks): every instruction set bplab knows, ordered
 * from least to most capable within each architecture (the best usable one
 * is the last usable one in this order).
 *   name   what --isa and BPLAB_ISA accept and what every report prints;
 *   ENUM   its bp_isa value is BP_ISA_<ENUM>;
 *   base   the table it starts as a copy of (earlier in the list; scalar is
 *          its own base): the entries its <name>_list.h does not replace
 *          run the base's code;
 *   lacks  the detection predicate in kernels/dispatch.c: why this CPU (or
 *          OS) cannot run the ISA, or NULL if it can.
 * Which of them a binary contains is CMake's choice: each
 * bplab_isa_library(<name> <folder> <flags>) in CMakeLists.txt compiles
 * the folder with its flags and adds <folder>/<name>_list.h, which defines
 * BP_<ENUM>_KERNELS(X, isa), to the generated isas_built.h (x86-64: scalar
 * avx2 avx512; aarch64: scalar neon). A new ISA is one line here, its
 * predicate, its folder and its bplab_isa_library line. */
#define BP_ISAS(X)                                   \
    X(scalar, SCALAR, SCALAR, cpu_lacks_nothing)     \
    X(avx2,   AVX2,   SCALAR, cpu_lacks_avx2)        \
    X(avx512, AVX512, AVX2,   cpu_lacks_avx512)      \
    X(neon,   NEON,   SCALAR, cpu_lacks_neon)

#endif
