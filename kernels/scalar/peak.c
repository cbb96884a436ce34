/* kernels/scalar/peak.c - the scalar table's arithmetic-throughput loop
 * (kernels.h bp_fma_loop_fn): 24 independent chains of a*b + c in single
 * floats, as the scalar kernels compute (a multiply and an add: the
 * baseline has no FMA, and -ffp-contract=off keeps them apart anyway).
 * The compiler is told not to vectorise it, so it measures scalar code. */
#include "kernels/scalar/scalar.h"

#if defined(__clang__)
#define NO_VECTORIZE _Pragma("clang loop vectorize(disable) interleave(disable)")
#else
#define NO_VECTORIZE
#endif

#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize", "no-tree-slp-vectorize")))
#endif
double bp_fma_loop__scalar(long iters)
{
    volatile float seed = 1e-3f;
    float a[24];
    for (int i = 0; i < 24; i++)
        a[i] = seed * (float)(i + 1);
    const float b = 0.999999f, c = 1e-7f;
    for (long it = 0; it < iters; it++) {
        NO_VECTORIZE
        for (int i = 0; i < 24; i++)
            a[i] = a[i] * b + c;
    }
    float s = 0.0f;
    for (int i = 0; i < 24; i++)
        s += a[i];
    volatile float sink = s;
    (void)sink;
    return (double)iters * 24.0 * 2.0;
}
