/* kernels/scalar/norm.c - reference reductions and clipping.
 *
 * sumsq: sum of squares accumulated in double (the norm feeds clipping and
 * the per-layer gradient-norm records, so it is kept accurate);
 * scale: x *= s (gradient-norm clipping multiplies by threshold/norm);
 * clip_value: x = min(max(x, -c), c), NaN left as NaN;
 * max_norm: each column whose norm exceeds c scaled to norm c, its sum of
 * squares taken in double (kernels.h).
 */
#include <math.h>

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

void bp_max_norm__scalar(size_t rows, size_t cols, float *w, size_t ldw,
                         float c)
{
    double c2 = (double)c * (double)c;
    for (size_t j = 0; j < cols; j++) {
        double s = 0.0;
        for (size_t r = 0; r < rows; r++) {
            double x = (double)w[r * ldw + j];
            s += x * x;
        }
        if (!(s > c2))
            continue;
        float f = (float)((double)c / sqrt(s));
        for (size_t r = 0; r < rows; r++)
            w[r * ldw + j] *= f;
    }
}
