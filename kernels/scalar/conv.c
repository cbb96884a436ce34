/* kernels/scalar/conv.c - reference window kernels over channels-last
 * images (kernels.h bp_conv_geom): im2col and its adjoint col2im, which
 * turn a convolution into GEMMs, and max and average pooling forward and
 * backward, and the direct convolution and its weight gradient.
 *
 * Each is the definition written as its nested loops, one element at a
 * time. The SIMD window kernels (kernels/simd/conv.inc) must give the
 * same bits, which they can, since nothing there rounds except the sums
 * of col2im and of the poolings (and average pooling's one product per
 * output), whose order per element is the order of these loops; the
 * direct convolution's (conv_direct.inc) fuse its multiply-adds, within
 * the SUM tolerance of kernel_list.h.
 */
#include <math.h>

#include "kernels/scalar/scalar.h"

/* The input row iy (or column) of window offset k at output position o,
 * and whether it is inside the image. */
static bool in_image(size_t o, size_t k, const bp_conv_geom *g, size_t n,
                     size_t *at)
{
    size_t p = o * g->stride + k; /* position in the padded image */
    if (p < g->pad || p - g->pad >= n)
        return false;
    *at = p - g->pad;
    return true;
}

void bp_im2col__scalar(const bp_conv_geom *g, const float *x, float *col)
{
    size_t cols = g->kh * g->kw * g->c;
    for (size_t i = 0; i < g->n; i++)
        for (size_t oy = 0; oy < g->oh; oy++)
            for (size_t ox = 0; ox < g->ow; ox++) {
                float *row = col + ((i * g->oh + oy) * g->ow + ox) * cols;
                for (size_t ky = 0; ky < g->kh; ky++)
                    for (size_t kx = 0; kx < g->kw; kx++)
                        for (size_t ch = 0; ch < g->c; ch++) {
                            size_t iy, ix;
                            float v = 0.0f;
                            if (in_image(oy, ky, g, g->h, &iy) &&
                                in_image(ox, kx, g, g->w, &ix))
                                v = x[((i * g->h + iy) * g->w + ix) * g->c + ch];
                            row[(ky * g->kw + kx) * g->c + ch] = v;
                        }
            }
}

void bp_col2im__scalar(const bp_conv_geom *g, const float *col, float *dx)
{
    size_t cols = g->kh * g->kw * g->c;
    for (size_t j = 0; j < g->n * g->h * g->w * g->c; j++)
        dx[j] = 0.0f;
    for (size_t i = 0; i < g->n; i++)
        for (size_t oy = 0; oy < g->oh; oy++)
            for (size_t ox = 0; ox < g->ow; ox++) {
                const float *row = col + ((i * g->oh + oy) * g->ow + ox) * cols;
                for (size_t ky = 0; ky < g->kh; ky++)
                    for (size_t kx = 0; kx < g->kw; kx++)
                        for (size_t ch = 0; ch < g->c; ch++) {
                            size_t iy, ix;
                            if (in_image(oy, ky, g, g->h, &iy) &&
                                in_image(ox, kx, g, g->w, &ix))
                                dx[((i * g->h + iy) * g->w + ix) * g->c + ch] +=
                                    row[(ky * g->kw + kx) * g->c + ch];
                        }
            }
}

void bp_maxpool_fwd__scalar(const bp_conv_geom *g, const float *x, float *y,
                            float *arg)
{
    for (size_t i = 0; i < g->n; i++)
        for (size_t oy = 0; oy < g->oh; oy++)
            for (size_t ox = 0; ox < g->ow; ox++)
                for (size_t ch = 0; ch < g->c; ch++) {
                    float best = 0.0f;
                    size_t at = 0;
                    bool any = false;
                    for (size_t ky = 0; ky < g->kh; ky++)
                        for (size_t kx = 0; kx < g->kw; kx++) {
                            size_t iy, ix;
                            if (!in_image(oy, ky, g, g->h, &iy) ||
                                !in_image(ox, kx, g, g->w, &ix))
                                continue;
                            size_t p = iy * g->w + ix;
                            float v = x[((i * g->h + iy) * g->w + ix) * g->c + ch];
                            if (!any || v > best || (isnan(v) && !isnan(best))) {
                                best = v;
                                at = p;
                                any = true;
                            }
                        }
                    size_t o = ((i * g->oh + oy) * g->ow + ox) * g->c + ch;
                    y[o] = best;
                    arg[o] = (float)at;
                }
}

void bp_maxpool_bwd__scalar(const bp_conv_geom *g, const float *dy,
                            const float *arg, float *dx)
{
    size_t hw = g->h * g->w;
    for (size_t j = 0; j < g->n * hw * g->c; j++)
        dx[j] = 0.0f;
    for (size_t i = 0; i < g->n; i++)
        for (size_t o = 0; o < g->oh * g->ow; o++)
            for (size_t ch = 0; ch < g->c; ch++) {
                size_t e = (i * g->oh * g->ow + o) * g->c + ch;
                size_t p = (size_t)arg[e];
                dx[(i * hw + p) * g->c + ch] += dy[e];
            }
}

/* The number of window pixels of output (oy, ox) inside the image (>= 1,
 * since pad < the window). */
static size_t in_count(const bp_conv_geom *g, size_t oy, size_t ox)
{
    size_t ny = 0, nx = 0, at;
    for (size_t ky = 0; ky < g->kh; ky++)
        ny += in_image(oy, ky, g, g->h, &at);
    for (size_t kx = 0; kx < g->kw; kx++)
        nx += in_image(ox, kx, g, g->w, &at);
    return ny * nx;
}

void bp_avgpool_fwd__scalar(const bp_conv_geom *g, const float *x, float *y)
{
    for (size_t i = 0; i < g->n; i++)
        for (size_t oy = 0; oy < g->oh; oy++)
            for (size_t ox = 0; ox < g->ow; ox++) {
                float inv = 1.0f / (float)in_count(g, oy, ox);
                for (size_t ch = 0; ch < g->c; ch++) {
                    float sum = 0.0f;
                    for (size_t ky = 0; ky < g->kh; ky++)
                        for (size_t kx = 0; kx < g->kw; kx++) {
                            size_t iy, ix;
                            if (in_image(oy, ky, g, g->h, &iy) &&
                                in_image(ox, kx, g, g->w, &ix))
                                sum += x[((i * g->h + iy) * g->w + ix) * g->c + ch];
                        }
                    y[((i * g->oh + oy) * g->ow + ox) * g->c + ch] = sum * inv;
                }
            }
}

void bp_avgpool_bwd__scalar(const bp_conv_geom *g, const float *dy, float *dx)
{
    for (size_t j = 0; j < g->n * g->h * g->w * g->c; j++)
        dx[j] = 0.0f;
    for (size_t i = 0; i < g->n; i++)
        for (size_t oy = 0; oy < g->oh; oy++)
            for (size_t ox = 0; ox < g->ow; ox++) {
                float inv = 1.0f / (float)in_count(g, oy, ox);
                for (size_t ch = 0; ch < g->c; ch++) {
                    float d = dy[((i * g->oh + oy) * g->ow + ox) * g->c + ch] * inv;
                    for (size_t ky = 0; ky < g->kh; ky++)
                        for (size_t kx = 0; kx < g->kw; kx++) {
                            size_t iy, ix;
                            if (in_image(oy, ky, g, g->h, &iy) &&
                                in_image(ox, kx, g, g->w, &ix))
                                dx[((i * g->h + iy) * g->w + ix) * g->c + ch] += d;
                        }
                }
            }
}

/* The direct convolution and its weight gradient (kernels.h
 * bp_conv_direct_fn, bp_conv_wgrad_fn): each sum a float chain in the
 * order written, taps outside the image skipped, the activation's delta
 * that of its backward kernel (act.c). */

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
                            if (!in_image(oy, ky, g, g->h, &iy) ||
                                !in_image(ox, kx, g, g->w, &ix))
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
                                  const float *y, bp_kact act, bool acc,
                                  float *gw, float *gb)
{
    size_t rows = g->n * g->oh * g->ow;
    for (size_t ky = 0; ky < g->kh; ky++)
        for (size_t kx = 0; kx < g->kw; kx++)
            for (size_t ch = 0; ch < g->c; ch++)
                for (size_t j = 0; j < co; j++) {
                    float *out = gw + ((ky * g->kw + kx) * g->c + ch) * co + j;
                    float s = acc ? *out : 0.0f;
                    for (size_t i = 0; i < g->n; i++)
                        for (size_t oy = 0; oy < g->oh; oy++)
                            for (size_t ox = 0; ox < g->ow; ox++) {
                                size_t iy, ix;
                                if (!in_image(oy, ky, g, g->h, &iy) ||
                                    !in_image(ox, kx, g, g->w, &ix))
                                    continue;
                                size_t r = (i * g->oh + oy) * g->ow + ox;
                                float d = delta(act, act ? y[r * co + j] : 0,
                                                dy[r * co + j]);
                                s += x[((i * g->h + iy) * g->w + ix) * g->c +
                                       ch] *
                                     d;
                            }
                    *out = s;
                }
    if (gb)
        for (size_t j = 0; j < co; j++) {
            float s = acc ? gb[j] : 0.0f;
            for (size_t r = 0; r < rows; r++)
                s += delta(act, act ? y[r * co + j] : 0, dy[r * co + j]);
            gb[j] = s;
        }
}
