/* kernels/scalar/bnorm.c - reference batch normalisation (Ioffe & Szegedy
 * 2015), per feature column of a rows x cols batch.
 *
 * Training forward uses the batch statistics (two-pass mean and biased
 * variance, summed in float over r in increasing order) and updates the
 * running averages with the unbiased variance, as PyTorch does. Inference
 * uses the running statistics. Backward is the closed form of the gradient
 * through the batch statistics. See kernels.h for the exact formulas.
 * A batch of one, or a constant column, has var = 0: invstd = 1/sqrt(eps)
 * and xhat = 0, so nothing becomes NaN.
 */
#include <math.h>

#include "kernels/scalar/scalar.h"

void bp_bn_fwd_train__scalar(size_t rows, size_t cols, const float *x,
                             size_t ldx, const float *gamma,
                             const float *beta, float eps, float momentum,
                             float *y, size_t ldy, float *mean, float *invstd,
                             float *run_mean, float *run_var)
{
    float n = (float)rows;
    for (size_t c = 0; c < cols; c++) {
        float s = 0.0f;
        for (size_t r = 0; r < rows; r++)
            s += x[r * ldx + c];
        float mu = s / n; /* one rounding: a constant column gets var = 0 */
        float ss = 0.0f;
        for (size_t r = 0; r < rows; r++) {
            float d = x[r * ldx + c] - mu;
            ss += d * d;
        }
        float var = ss / n;
        float is = 1.0f / sqrtf(var + eps);
        for (size_t r = 0; r < rows; r++)
            y[r * ldy + c] = (x[r * ldx + c] - mu) * is * gamma[c] + beta[c];
        mean[c] = mu;
        invstd[c] = is;
        if (run_mean && run_var) {
            float unbiased =
                rows > 1 ? ss / (float)(rows - 1) : var;
            run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * mu;
            run_var[c] = (1.0f - momentum) * run_var[c] + momentum * unbiased;
        }
    }
}

void bp_bn_fwd_infer__scalar(size_t rows, size_t cols, const float *x,
                             size_t ldx, const float *gamma,
                             const float *beta, const float *run_mean,
                             const float *run_var, float eps, float *y,
                             size_t ldy)
{
    for (size_t c = 0; c < cols; c++) {
        float is = 1.0f / sqrtf(run_var[c] + eps);
        for (size_t r = 0; r < rows; r++)
            y[r * ldy + c] =
                (x[r * ldx + c] - run_mean[c]) * is * gamma[c] + beta[c];
    }
}

void bp_bn_bwd__scalar(size_t rows, size_t cols, const float *x, size_t ldx,
                       const float *dy, size_t lddy, const float *gamma,
                       const float *mean, const float *invstd, float *dx,
                       size_t lddx, float *dgamma, float *dbeta)
{
    float n = (float)rows;
    for (size_t c = 0; c < cols; c++) {
        float sum_dy = 0.0f, sum_dy_xhat = 0.0f;
        for (size_t r = 0; r < rows; r++) {
            float xhat = (x[r * ldx + c] - mean[c]) * invstd[c];
            sum_dy += dy[r * lddy + c];
            sum_dy_xhat += dy[r * lddy + c] * xhat;
        }
        dbeta[c] = sum_dy;
        dgamma[c] = sum_dy_xhat;
        float k = gamma[c] * invstd[c] / n;
        for (size_t r = 0; r < rows; r++) {
            float xhat = (x[r * ldx + c] - mean[c]) * invstd[c];
            dx[r * lddx + c] =
                k * (n * dy[r * lddy + c] - sum_dy - xhat * sum_dy_xhat);
        }
    }
}
