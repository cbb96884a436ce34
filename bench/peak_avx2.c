/* bench/peak_avx2.c - the avx2 FMA-throughput loop and libmvec sigmoid
 * (see peak.h). Built with this ISA's flags only. */
#include <immintrin.h>
#include <math.h>

#include "bench/peak.h"

double bp_bench_fma_avx2(long iters)
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
    float out[8];
    _mm256_storeu_ps(out, s);
    volatile float sink = out[0];
    (void)sink;
    return (double)iters * 24.0 * 8 * 2.0;
}

void bp_bench_libmvec_sigmoid_avx2(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0f / (1.0f + expf(-x[i]));
}
