/* kernels/scalar/optim.c - reference optimizer updates (PyTorch's
 * definitions; see bp_opt_params in kernels.h).
 *
 * All three first form the regularised gradient
 *   g' = g + l2 * w + l1 * sign(w)         (sign(0) = 0)
 * (coupled L2, i.e. classic weight decay added to the gradient), then apply
 * their rule element by element. w, v, m are updated in place. Each also
 * returns the sum of squares of g as given, accumulated in double.
 */
#include <math.h>

#include "kernels/scalar/scalar.h"

static float regularised(float g, float w, const bp_opt_params *p)
{
    float sign = w > 0.0f ? 1.0f : (w < 0.0f ? -1.0f : 0.0f);
    return g + p->l2 * w + p->l1 * sign;
}

double bp_sgd_update__scalar(size_t n, float *w, const float *g,
                             const bp_opt_params *p)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        ss += (double)g[i] * (double)g[i];
        w[i] -= p->lr * regularised(g[i], w[i], p);
    }
    return ss;
}

double bp_momentum_update__scalar(size_t n, float *w, const float *g,
                                  float *v, const bp_opt_params *p)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        ss += (double)g[i] * (double)g[i];
        float gi = regularised(g[i], w[i], p);
        v[i] = p->momentum * v[i] + gi;
        float step = p->nesterov ? gi + p->momentum * v[i] : v[i];
        w[i] -= p->lr * step;
    }
    return ss;
}

double bp_adam_update__scalar(size_t n, float *w, const float *g, float *m,
                              float *v, const bp_opt_params *p)
{
    float step_size = p->lr / p->bc1;
    float inv_sqrt_bc2 = 1.0f / sqrtf(p->bc2);
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        ss += (double)g[i] * (double)g[i];
        float gi = regularised(g[i], w[i], p);
        m[i] = p->beta1 * m[i] + (1.0f - p->beta1) * gi;
        v[i] = p->beta2 * v[i] + (1.0f - p->beta2) * (gi * gi);
        float denom = sqrtf(v[i]) * inv_sqrt_bc2 + p->eps;
        w[i] -= step_size * (m[i] / denom);
    }
    return ss;
}
