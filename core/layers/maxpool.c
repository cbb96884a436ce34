/* core/layers/maxpool.c - max pooling over channels-last images.
 *
 *   forward   y = the maximum of each K x K window, per channel;
 *             arg = where it came from                maxpool_fwd
 *   backward  dx = d routed back to each argmax       maxpool_bwd
 * x is batch x H x W x C, y is batch x OH x OW x C with OH = (H + 2P - K)
 * / S + 1 (and OW alike); padding never wins (kernels.h bp_pool_fwd_fn).
 * Spec: maxpool:K[:sS][:pP], stride K and no padding by default (the
 * windows tile the image). A large batch is shared among the context's
 * threads image by image.
 */
#include <stdio.h>

#include <omp.h>

#include "core/layer.h"

_Static_assert(BP_MAX_KERNEL == 64, "the parse message says 64");

enum { Y, ARG };

/* Input pixels an arg index can name exactly (a float's integers). */
#define MAX_PIXELS ((size_t)1 << 24)

static bp_status parse(const char *args, bp_layer_spec *s, bp_err *err)
{
    return bp_layer_parse_window(args, s, 0, 0,
                                 "a window K from 1 to 64, then optionally "
                                 "a stride and a padding below K "
                                 "(maxpool:K[:sS][:pP], e.g. maxpool:2 or "
                                 "maxpool:3:s2:p1)",
                                 err);
}

static bp_status plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err)
{
    char shape[64], tok[64];
    bp_shape_text(in, shape, sizeof shape);
    bp_layer_format_pool(s, tok, sizeof tok);
    bp_conv_geom g = bp_layer_window(s, in, 1);
    if (!g.oh)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "%s: a %zux%zu window with padding %zu does not fit "
                       "the %s input",
                       tok, s->kernel, s->kernel, s->pad, shape);
    if (in.h > MAX_PIXELS / in.w)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "%s: the %s input has more than 2^24 pixels", tok,
                       shape);
    p->out = (bp_shape){g.oh, g.ow, in.c};
    size_t n = bp_satmul(max_batch, bp_shape_size(p->out));
    bp_plan_add(p, BP_T_ACT, n);
    bp_plan_add(p, BP_T_ACT, n);
    return BP_OK;
}

static void forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                    bool train, uint64_t key)
{
    (void)train, (void)key;
    size_t in = bp_shape_size(l->in), out = bp_shape_size(l->out);
    int T = bp_layer_image_threads(c, b, b * in);
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t t = (size_t)omp_get_thread_num();
        size_t i0 = b * t / (size_t)T, i1 = b * (t + 1) / (size_t)T;
        bp_conv_geom g = bp_layer_window(&l->spec, l->in, i1 - i0);
        if (g.n)
            c->k->maxpool_fwd(&g, x + i0 * in, l->y + i0 * out,
                              l->t[ARG] + i0 * out);
    }
}

static float *backward(bp_layer *l, const bp_ctx *c, const float *x,
                       size_t b, float *d, float *dx, bool need_dx)
{
    (void)x;
    if (!need_dx)
        return d;
    size_t in = bp_shape_size(l->in), out = bp_shape_size(l->out);
    int T = bp_layer_image_threads(c, b, b * in);
#pragma omp parallel num_threads(T) if (T > 1)
    {
        size_t t = (size_t)omp_get_thread_num();
        size_t i0 = b * t / (size_t)T, i1 = b * (t + 1) / (size_t)T;
        bp_conv_geom g = bp_layer_window(&l->spec, l->in, i1 - i0);
        if (g.n)
            c->k->maxpool_bwd(&g, d + i0 * out, l->t[ARG] + i0 * out,
                              dx + i0 * in);
    }
    return dx;
}

static void images_fwd(const bp_layer *pool, const bp_ctx *c,
                       const float *x, size_t i0, size_t n)
{
    size_t out = bp_shape_size(pool->out);
    bp_conv_geom g = bp_layer_window(&pool->spec, pool->in, n);
    c->k->maxpool_fwd(&g, x, pool->y + i0 * out, pool->t[ARG] + i0 * out);
}

static void images_bwd(const bp_layer *pool, const bp_ctx *c,
                       const float *d, size_t i0, size_t n, float *dx)
{
    size_t out = bp_shape_size(pool->out);
    bp_conv_geom g = bp_layer_window(&pool->spec, pool->in, n);
    c->k->maxpool_bwd(&g, d, pool->t[ARG] + i0 * out, dx);
}

static int chain(const bp_layer_spec *s, char *buf, size_t size)
{
    return snprintf(buf, size, "-maxpool%zu", s->kernel);
}

const bp_layer_ops bp_layer_maxpool = {
    .name = "maxpool",
    .title = "max pooling",
    .syntax = "maxpool:K[:sS][:pP]",
    .help = "the maximum of K x K windows, stride S (K), padding P (0)",
    .parse = parse,
    .format = bp_layer_format_pool,
    .plan = plan,
    .forward = forward,
    .backward = backward,
    .chain = chain,
    .max_images_fwd = images_fwd,
    .max_images_bwd = images_bwd,
};
