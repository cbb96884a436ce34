/* kernels/arm/neon/peak.c - the NEON FMA-throughput loop (kernels.h
 * bp_fma_loop_fn): 24 independent chains of 4-lane FMLAs, enough to cover
 * the FMA latency on the two to four pipes of current cores. */
#include <arm_neon.h>

#include "kernels/kernels.h"

bp_fma_loop_fn bp_fma_loop__neon;

double bp_fma_loop__neon(long iters)
{
    volatile float seed = 1e-3f;
    float32x4_t a[24];
    for (int i = 0; i < 24; i++)
        a[i] = vdupq_n_f32(seed * (float)(i + 1));
    const float32x4_t b = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-7f);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++)
            a[i] = vfmaq_f32(c, a[i], b);
    }
    float32x4_t s = a[0];
    for (int i = 1; i < 24; i++)
        s = vaddq_f32(s, a[i]);
    volatile float sink = vgetq_lane_f32(s, 0);
    (void)sink;
    return (double)iters * 24.0 * 4 * 2.0;
}
