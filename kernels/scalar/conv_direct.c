/* kernels/scalar/conv_direct.c - the reference direct convolution and its
 * weight gradient over channels-last images (kernels.h bp_conv_geom,
 * bp_conv_direct_fn, bp_conv_wgrad_fn): the definitions as their nested
 * loops, one output at a time, each sum a float chain in the order
 * written, taps outside the image skipped, the activation's delta that of
 * its backward kernel (act.c).
 */
#include "kernels/scalar/scalar.h"

/* The input row iy (or column) of window offset k at output position o,
 * and whether it is inside the image. */
static bool tap_at(size_t o, size_t k, const bp_conv_geom *g, size_t n,
                   size_t *at)
{
    size_t p = o * g->stride + k; /* position in the padded image */
    if (p < g->pad || p - g->pad >= n)
        return false;
    *at = p - g->pad;
    return true;
}

void bp_conv_direct__scalar(const bp_conv_geom *g, size_t co, const float *x,
                            const float *w, const float *b, bp_kact act,
                            float *y)
{
    for (size_t i = 0; i < g->n; i++)
        for (size_t oy = 0; oy < g->oh; oy++)
            for (size_t ox = 0; ox < g->ow; ox++) {
                float *yr = y + ((i * g->oh + oy) * g->ow + ox) * co;
                for (size_t j = 0; j < co; j++) {
                    float acc = 0.0f;
                    for (size_t ky = 0; ky < g->kh; ky++)
                        for (size_t kx = 0; kx < g->kw; kx++) {
                            size_t iy, ix;
                            if (!tap_at(oy, ky, g, g->h, &iy) ||
                                !tap_at(ox, kx, g, g->w, &ix))
                                continue;
                            const float *px =
                                x + ((i * g->h + iy) * g->w + ix) * g->c;
                            const float *wr = w + (ky * g->kw + kx) * g->c * co;
                            for (size_t ch = 0; ch < g->c; ch++)
                                acc += px[ch] * wr[ch * co + j];
                        }
                    yr[j] = acc;
                }
                bp_bias_act__scalar(1, co, b, act, yr, co);
            }
}

/* dy's delta through act from the output y, as the act's backward kernel
 * computes it (NONE: dy) */
static float delta(bp_kact act, float y, float dy)
{
    float d = dy;
    switch (act) {
    case BP_KACT_NONE: break;
    case BP_KACT_RELU: bp_relu_bwd__scalar(1, &y, &dy, &d); break;
    case BP_KACT_SIGMOID: bp_sigmoid_bwd__scalar(1, &y, &dy, &d); break;
    case BP_KACT_TANH: bp_tanh_bwd__scalar(1, &y, &dy, &d); break;
    }
    return d;
}

void bp_conv_direct_wgrad__scalar(const bp_conv_geom *g, size_t co,
                                  const float *x, const float *dy,
                                  const float *y, bp_kact act, float *gw,
                                  float *gb)
{
    size_t rows = g->n * g->oh * g->ow;
    for (size_t ky = 0; ky < g->kh; ky++)
        for (size_t kx = 0; kx < g->kw; kx++)
            for (size_t ch = 0; ch < g->c; ch++)
                for (size_t j = 0; j < co; j++) {
                    float acc = 0.0f;
                    for (size_t i = 0; i < g->n; i++)
                        for (size_t oy = 0; oy < g->oh; oy++)
                            for (size_t ox = 0; ox < g->ow; ox++) {
                                size_t iy, ix;
                                if (!tap_at(oy, ky, g, g->h, &iy) ||
                                    !tap_at(ox, kx, g, g->w, &ix))
                                    continue;
                                size_t r = (i * g->oh + oy) * g->ow + ox;
                                float d = delta(act, act ? y[r * co + j] : 0,
                                                dy[r * co + j]);
                                acc += x[((i * g->h + iy) * g->w + ix) * g->c +
                                         ch] *
                                       d;
                            }
                    gw[((ky * g->kw + kx) * g->c + ch) * co + j] = acc;
                }
    if (gb)
        for (size_t j = 0; j < co; j++) {
            float s = 0.0f;
            for (size_t r = 0; r < rows; r++)
                s += delta(act, act ? y[r * co + j] : 0, dy[r * co + j]);
            gb[j] = s;
        }
}
