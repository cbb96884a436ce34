/* core/layers/gap.c - global average pooling over channels-last images.
 *
 *   forward   y = the mean of each channel over the image  avgpool_fwd
 *   backward  dx = each d shared equally by the image      avgpool_bwd
 * x is batch x H x W x C, y is batch x 1 x 1 x C: average pooling with the
 * whole image as its window (kh = H, kw = W, stride 1, no padding;
 * kernels.h bp_avgpool_fwd_fn). Spec: gap. Any input fits (a vector is
 * passed through unchanged, a sequence averaged over its steps). A large
 * batch is shared among the context's threads image by image.
 */
#include <stdio.h>

#include <omp.h>

#include "core/layer.h"

/* The whole-image window over b images of shape in. */
static bp_conv_geom image_window(bp_shape in, size_t b)
{
    bp_conv_geom g = {.n = b, .h = in.h, .w = in.w, .c = in.c, .kh = in.h,
                      .kw = in.w, .stride = 1, .pad = 0};
    if (!bp_conv_geom_make(&g))
        g.oh = g.ow = 0;
    return g;
}

static bp_status plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err)
{
    (void)s, (void)err;
    p->out = (bp_shape){1, 1, in.c};
    bp_plan_add(p, BP_T_ACT, bp_satmul(max_batch, in.c));
    return BP_OK;
}

static void forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                    bool train, uint64_t key)
{
    (void)train, (void)key;
    size_t in = bp_shape_size(l->in), out = l->in.c;
    int T = bp_layer_image_threads(c, b, b * in);
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t t = (size_t)omp_get_thread_num();
        size_t i0 = b * t / (size_t)T, i1 = b * (t + 1) / (size_t)T;
        bp_conv_geom g = image_window(l->in, i1 - i0);
        if (g.n)
            c->k->avgpool_fwd(&g, x + i0 * in, l->y + i0 * out);
    }
}

static float *backward(bp_layer *l, const bp_ctx *c, const float *x,
                       size_t b, float *d, float *dx, bool need_dx)
{
    (void)x;
    if (!need_dx)
        return d;
    size_t in = bp_shape_size(l->in), out = l->in.c;
    int T = bp_layer_image_threads(c, b, b * in);
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t t = (size_t)omp_get_thread_num();
        size_t i0 = b * t / (size_t)T, i1 = b * (t + 1) / (size_t)T;
        bp_conv_geom g = image_window(l->in, i1 - i0);
        if (g.n)
            c->k->avgpool_bwd(&g, d + i0 * out, dx + i0 * in);
    }
    return dx;
}

static int chain(const bp_layer_spec *s, char *buf, size_t size)
{
    (void)s;
    return snprintf(buf, size, "-gap");
}

const bp_layer_ops bp_layer_gap = {
    .name = "gap",
    .title = "global average pooling",
    .syntax = "gap",
    .help = "global average pooling: the mean of each channel over the image",
    .parse = bp_layer_parse_none,
    .format = bp_layer_format_name,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .chain = chain,
};
