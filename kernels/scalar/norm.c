/* kernels/scalar/norm.c - reference reductions and clipping.
 *
 * sumsq: sum of squares accumulated in double (the norm feeds clipping and
 * the per-layer gradient-norm records, so it is kept accurate);
 * scale: x *= s (gradient-norm clipping multiplies by threshold/norm);
 * clip_value: x = min(max(x, -c), c), NaN left as NaN.
 */
#include "kernels/scalar/scalar.h"

double bp_sumsq__scalar(size_t n, const float *x)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * (double)x[i];
    return s;
}

void bp_scale__scalar(size_t n, float s, float *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] *= s;
}

void bp_clip_value__scalar(size_t n, float c, float *x)
{
    for (size_t i = 0; i < n; i++) {
        if (x[i] > c)
            x[i] = c;
        else if (x[i] < -c)
            x[i] = -c;
    }
}
