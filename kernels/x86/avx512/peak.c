/* kernels/x86/avx512/peak.c - the avx512 FMA-throughput loop (kernels.h
 * bp_fma_loop_fn): 24 independent chains of 16-lane FMAs, enough to cover
 * the FMA latency on two ports (on a CPU that splits a 512-bit FMA into
 * two 256-bit halves, such as Zen 4, the loop measures that too). */
#include <immintrin.h>

#include "kernels/kernels.h"

bp_fma_loop_fn bp_fma_loop__avx512;

double bp_fma_loop__avx512(long iters)
{
    volatile float seed = 1e-3f;
    __m512 a[24];
    for (int i = 0; i < 24; i++)
        a[i] = _mm512_set1_ps(seed * (float)(i + 1));
    const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++)
            a[i] = _mm512_fmadd_ps(a[i], b, c);
    }
    __m512 s = a[0];
    for (int i = 1; i < 24; i++)
        s = _mm512_add_ps(s, a[i]);
    volatile float sink = _mm512_cvtss_f32(s);
    (void)sink;
    return (double)iters * 24.0 * 16 * 2.0;
}
