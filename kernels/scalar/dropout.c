/* kernels/scalar/dropout.c - reference inverted dropout.
 *
 * Forward: element i is kept when bp_dropout_bits(key, i) >> 8 (24 random
 * bits) is >= bp_dropout_threshold(p); kept elements are scaled by 1/(1-p)
 * so the expected activation is unchanged and evaluation needs no rescale.
 * The mask (0 or 1/(1-p)) is written out for the backward pass, which is an
 * element-wise product dx = dy * mask (bp_vmul_fn). Every ISA computes the
 * same integer hash, so masks are bit-identical across ISAs and threads.
 */
#include "kernels/scalar/scalar.h"

void bp_dropout_fwd__scalar(size_t n, uint64_t key, float p, const float *x,
                            float *y, float *mask)
{
    uint32_t threshold = bp_dropout_threshold(p);
    float keep_scale = bp_dropout_scale(p);
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = bp_dropout_bits(key, (uint32_t)i) >> 8;
        mask[i] = bits >= threshold ? keep_scale : 0.0f;
        y[i] = x[i] * mask[i];
    }
}

void bp_dropout_bwd__scalar(size_t n, const float *a, const float *b,
                            float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] * b[i];
}
