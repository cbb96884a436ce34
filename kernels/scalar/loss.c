/* kernels/scalar/loss.c - reference loss values and deltas.
 *
 * Each loss returns its sum over the batch (in double) and, when asked,
 * writes the delta scale * dLoss/dinput in the same pass. The caller picks
 * `scale` (1/batch for a mean loss). delta never aliases the inputs.
 */
#include <math.h>

#include "kernels/scalar/scalar.h"

/* ---- softmax + cross-entropy, fused so that it is exact for huge logits:
 * loss_r = log sum_c e^(z_c - max) - (z_label - max)
 * delta  = scale * (softmax(z) - onehot(label)) */

double bp_softmax_xent__scalar(size_t rows, size_t cols, const float *z,
                               size_t ldz, const int32_t *labels, float scale,
                               float *delta, size_t ldd)
{
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const float *zr = z + r * ldz;
        size_t label = (size_t)labels[r];
        float mx = zr[0];
        for (size_t c = 1; c < cols; c++)
            mx = zr[c] > mx ? zr[c] : mx;
        float sum = 0.0f;
        for (size_t c = 0; c < cols; c++)
            sum += expf(zr[c] - mx);
        float lse = logf(sum);
        /* in double: z_label - max can exceed FLT_MAX in magnitude */
        total += (double)lse - ((double)zr[label] - (double)mx);
        if (delta) {
            float *dr = delta + r * ldd;
            float inv = 1.0f / sum;
            for (size_t c = 0; c < cols; c++) {
                float p = expf(zr[c] - mx) * inv;
                dr[c] = scale * (c == label ? p - 1.0f : p);
            }
        }
    }
    return total;
}

/* ---- sigmoid + binary cross-entropy, in the overflow-free form
 * loss = max(z,0) - z t + log(1 + e^-|z|);  delta = scale * (sigmoid(z) - t) */

double bp_sigmoid_bce__scalar(size_t n, const float *z, const float *t,
                              float scale, float *delta)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        float zi = z[i];
        float pos = zi > 0.0f ? zi : 0.0f;
        total += (double)(pos - zi * t[i] + log1pf(expf(-fabsf(zi))));
        if (delta)
            delta[i] = scale * (1.0f / (1.0f + expf(-zi)) - t[i]);
    }
    return total;
}

/* ---- squared error: loss = sum (y - t)^2;  delta = scale * 2 (y - t) */

double bp_mse__scalar(size_t n, const float *y, const float *t, float scale,
                      float *delta)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        float d = y[i] - t[i];
        total += (double)(d * d);
        if (delta)
            delta[i] = scale * (2.0f * d);
    }
    return total;
}
