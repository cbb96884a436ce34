/* kernels/scalar/scalar.h - declarations of the scalar reference kernels,
 * bp_<kernel>__scalar, one per line of BP_KERNELS. */
#ifndef BPLAB_SCALAR_H
#define BPLAB_SCALAR_H

#include "kernels/kernels.h"

#define X(name, type, sig, tol, fac) type bp_##name##__scalar;
BP_KERNELS(X)
#undef X

/* kernels/scalar/peak.c (kernels.h bp_isa_fma_loop) */
bp_fma_loop_fn bp_fma_loop__scalar;

#endif
