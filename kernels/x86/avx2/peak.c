/* kernels/x86/avx2/peak.c - the avx2 FMA-throughput loop (kernels.h
 * bp_fma_loop_fn): 24 independent chains of 8-lane FMAs, enough to cover
 * the FMA latency (4 cycles) on two ports. Not a kernel: what a profile
 * and the benchmarks compare the kernels with. */
#include <immintrin.h>

#include "kernels/kernels.h"

bp_fma_loop_fn bp_fma_loop__avx2;

double bp_fma_loop__avx2(long iters)
{
    volatile float seed = 1e-3f;
    __m256 a[24];
    for (int i = 0; i < 24; i++)
        a[i] = _mm256_set1_ps(seed * (float)(i + 1));
    const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++)
            a[i] = _mm256_fmadd_ps(a[i], b, c);
    }
    __m256 s = a[0];
    for (int i = 1; i < 24; i++)
        s = _mm256_add_ps(s, a[i]);
    volatile float sink = _mm256_cvtss_f32(s);
    (void)sink;
    return (double)iters * 24.0 * 8 * 2.0;
}
