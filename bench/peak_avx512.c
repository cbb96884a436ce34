/* bench/peak_avx512.c - the avx512 libmvec sigmoid (see peak.h). Built with
 * this ISA's flags only. */
#include <math.h>

#include "bench/peak.h"

void bp_bench_libmvec_sigmoid_avx512(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0f / (1.0f + expf(-x[i]));
}
