/* kernels/base/rng.c - the non-inline parts of the generator. */
#include "kernels/base/rng.h"

#include <math.h>

uint64_t bp_rng_below(bp_rng *r, uint64_t n)
{
    /* Lemire's nearly-divisionless method on 64 bits. */
    unsigned __int128 m = (unsigned __int128)bp_rng_u64(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)bp_rng_u64(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double bp_rng_normal(bp_rng *r)
{
    double u1 = 1.0 - bp_rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = bp_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
