/* kernels/scalar/act.c - reference activations and their backward deltas.
 *
 * The clean reference, computed with libm (expf, tanhf: correctly rounded
 * to within 1-2 ULP in glibc). Forward and backward of one activation sit
 * side by side. Backward deltas take the forward *output* y, so the layer
 * caches only y.
 *
 * Shapes: flat arrays of n floats; softmax works on rows x cols matrices
 * with leading dimensions. In place (y == x, dx == dy) is allowed
 * everywhere in this file.
 */
#include <math.h>

#include "kernels/scalar/scalar.h"

/* ---- sigmoid: y = 1 / (1 + e^-x); dy/dx = y (1 - y) */

void bp_sigmoid_fwd__scalar(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0f / (1.0f + expf(-x[i]));
}

void bp_sigmoid_bwd__scalar(size_t n, const float *y, const float *dy,
                            float *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
}

/* ---- tanh: y = tanh x; dy/dx = 1 - y^2 */

void bp_tanh_fwd__scalar(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = tanhf(x[i]);
}

void bp_tanh_bwd__scalar(size_t n, const float *y, const float *dy,
                         float *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

/* ---- ReLU: y = max(x, 0), -0 -> +0, NaN stays NaN (a NaN must never be
 * hidden behind a dead unit); dy/dx = [y > 0] */

void bp_relu_fwd__scalar(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] <= 0.0f ? 0.0f : x[i];
}

void bp_relu_bwd__scalar(size_t n, const float *y, const float *dy,
                         float *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* ---- softmax by row, max-subtracted so no exp overflows:
 * y[r][c] = e^(x[r][c] - max_r) / sum_c' e^(x[r][c'] - max_r).
 * The row sum has at least one term equal to 1, so it never underflows. */

void bp_softmax_fwd__scalar(size_t rows, size_t cols, const float *x,
                            size_t ldx, float *y, size_t ldy)
{
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        if (cols == 0)
            continue;
        float mx = xr[0];
        for (size_t c = 1; c < cols; c++)
            mx = xr[c] > mx ? xr[c] : mx;
        float sum = 0.0f;
        for (size_t c = 0; c < cols; c++) {
            yr[c] = expf(xr[c] - mx);
            sum += yr[c];
        }
        float inv = 1.0f / sum;
        for (size_t c = 0; c < cols; c++)
            yr[c] *= inv;
    }
}

/* dx = y * (dy - <y, dy>) per row: the Jacobian-vector product of softmax. */
void bp_softmax_bwd__scalar(size_t rows, size_t cols, const float *y,
                            size_t ldy, const float *dy, size_t lddy,
                            float *dx, size_t lddx)
{
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * ldy;
        const float *gr = dy + r * lddy;
        float *dr = dx + r * lddx;
        float dot = 0.0f;
        for (size_t c = 0; c < cols; c++)
            dot += yr[c] * gr[c];
        for (size_t c = 0; c < cols; c++)
            dr[c] = yr[c] * (gr[c] - dot);
    }
}
