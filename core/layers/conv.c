/* core/layers/conv.c - a 2-D convolution over channels-last images.
 *
 *   forward   col = im2col(x), y = col W + b            im2col, gemm NN
 *             (y = f(col W + b) when an activation f follows: the GEMM's
 *             epilogue applies it, as for dense)
 *   backward  dW = col^T d, db = colsum(d)              im2col, gemm TN
 *             dx = col2im(d W^T) (not for the first)   gemm NT, col2im
 * x is batch x H x W x Cin, W is (K*K*Cin) x Cout with rows in (ky, kx, ci)
 * order, y is batch x OH x OW x Cout, where OH = (H + 2P - K)/S + 1 (and
 * OW alike) for kernel K, stride S and zero padding P (kernels.h
 * bp_conv_geom). A 1 x 1 convolution of stride 1 without padding reads x
 * as its patches: no im2col. The patches live in the network's shared
 * work block and are made again in the backward pass (K*K times the
 * input: keeping them would multiply the activation memory).
 * Spec: conv:C:K[:sS][:pP], stride 1 and padding K/2 by default (the
 * output keeps the input's size for odd K).
 * Init: He, N(0, 2/(K*K*Cin)), or Xavier, U(-a, a) with
 * a = sqrt(6/(K*K*(Cin + Cout))), times the gain; biases 0.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/layer.h"
#include "core/rng.h"

enum { Y, W, B, WORK };

static bp_status parse(const char *args, bp_layer_spec *s, bp_err *err)
{
    char *end = NULL;
    long long c = 0;
    if (args && *args >= '0' && *args <= '9') {
        errno = 0;
        c = strtoll(args, &end, 10);
    }
    bp_err inner = {0};
    if (!end || *end != ':' || errno || c < 1 || c > BP_MAX_WIDTH ||
        bp_layer_parse_window(end + 1, s, 1, (size_t)-1, "", &inner) != BP_OK)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "'conv%s%.40s': conv needs channels from 1 to %d and "
                       "a kernel size from 1 to %d, then optionally a stride "
                       "and a padding below the kernel (conv:C:K[:sS][:pP], "
                       "e.g. conv:32:3 or conv:64:5:s2:p0)",
                       args ? ":" : "", args ? args : "", BP_MAX_WIDTH,
                       BP_MAX_KERNEL);
    s->units = (size_t)c;
    return BP_OK;
}

static int format(const bp_layer_spec *s, char *buf, size_t size)
{
    char st[24] = "", pd[24] = "";
    if (s->stride != 1)
        snprintf(st, sizeof st, ":s%zu", s->stride);
    if (s->pad != s->kernel / 2)
        snprintf(pd, sizeof pd, ":p%zu", s->pad);
    return snprintf(buf, size, "conv:%zu:%zu%s%s", s->units, s->kernel, st,
                    pd);
}

static bp_conv_geom geom_of(const bp_layer_spec *s, bp_shape in, size_t b)
{
    bp_conv_geom g = {.n = b, .h = in.h, .w = in.w, .c = in.c,
                      .kh = s->kernel, .kw = s->kernel, .stride = s->stride,
                      .pad = s->pad};
    bp_conv_geom_make(&g);
    return g;
}

/* x is its own patch matrix */
static bool direct(const bp_layer_spec *s)
{
    return s->kernel == 1 && s->stride == 1 && s->pad == 0;
}

static bp_status plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err)
{
    char shape[64];
    bp_shape_text(in, shape, sizeof shape);
    bp_conv_geom g = geom_of(s, in, 1);
    if (!bp_conv_geom_make(&g))
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "conv:%zu:%zu: a %zux%zu kernel with padding %zu does "
                       "not fit the %s input",
                       s->units, s->kernel, s->kernel, s->kernel, s->pad,
                       shape);
    size_t patch = bp_satmul(s->kernel * s->kernel, in.c);
    size_t rows = bp_satmul(max_batch, g.oh * g.ow);
    p->out = (bp_shape){g.oh, g.ow, s->units};
    bp_plan_add(p, BP_T_ACT, bp_satmul(rows, s->units));
    bp_plan_add(p, BP_T_WEIGHT, bp_satmul(patch, s->units));
    bp_plan_add(p, BP_T_PARAM, s->units);
    bp_plan_add(p, BP_T_WORK, direct(s) ? 0 : bp_satmul(rows, patch));
    return BP_OK;
}

static void init(bp_layer *l, const bp_init_args *a)
{
    bp_rng g = bp_rng_stream(a->seed, 1000 + (uint64_t)a->wl);
    size_t kk = l->spec.kernel * l->spec.kernel;
    size_t fan_in = kk * l->in.c, fan_out = kk * l->spec.units;
    float *w = l->t[W];
    if (a->rule == BP_INIT_HE || a->rule == BP_INIT_NORMAL) {
        double sd = a->gain * (a->rule == BP_INIT_HE
                                   ? sqrt(2.0 / (double)fan_in)
                                   : 0.01);
        for (size_t j = 0; j < l->n[W]; j++)
            w[j] = (float)(sd * bp_rng_normal(&g));
    } else {
        double r = a->gain * (a->rule == BP_INIT_XAVIER
                                  ? sqrt(6.0 / (double)(fan_in + fan_out))
                                  : 1.0 / sqrt((double)fan_in));
        for (size_t j = 0; j < l->n[W]; j++)
            w[j] = (float)(r * (2.0 * bp_rng_uniform(&g) - 1.0));
    }
}

/* The patch matrix of x: x itself, or im2col into the work block. */
static const float *patches(bp_layer *l, const bp_ctx *c,
                            const bp_conv_geom *g, const float *x)
{
    if (direct(&l->spec))
        return x;
    c->k->im2col(g, x, l->t[WORK]);
    return l->t[WORK];
}

static void forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                    bool train, uint64_t key)
{
    (void)train, (void)key;
    bp_conv_geom g = geom_of(&l->spec, l->in, b);
    size_t rows = b * g.oh * g.ow, patch = g.kh * g.kw * g.c;
    size_t u = l->spec.units;
    const float *col = patches(l, c, &g, x);
    if (c->unfused) {
        bp_gemm(c, false, false, rows, u, patch, 1.0f, col, patch, l->t[W], u,
                0.0f, l->y, u);
        c->k->bias_add(rows, u, l->t[B], l->y, u);
        return;
    }
    bp_gemm_post post = {.bias = l->t[B], .act = BP_KACT_NONE};
    if (bp_layer_fuses_act(l, c))
        post.act = bp_kact_of(l->act_after->ops->act);
    bp_gemm_fused(c, false, false, rows, u, patch, 1.0f, col, patch, l->t[W],
                  u, 0.0f, l->y, u, &post);
}

static float *backward(bp_layer *l, const bp_ctx *c, const float *x,
                       size_t b, float *d, float *dx, bool need_dx)
{
    bp_conv_geom g = geom_of(&l->spec, l->in, b);
    size_t rows = b * g.oh * g.ow, patch = g.kh * g.kw * g.c;
    size_t u = l->spec.units;
    const float *col = patches(l, c, &g, x);
    if (c->unfused) {
        bp_gemm(c, true, false, patch, u, rows, 1.0f, col, patch, d, u, 0.0f,
                l->g[W], u);
        c->k->bias_grad(rows, u, d, u, l->g[B]);
    } else {
        bp_gemm_post post = {.colsum = l->g[B]};
        bp_gemm_fused(c, true, false, patch, u, rows, 1.0f, col, patch, d, u,
                      0.0f, l->g[W], u, &post);
    }
    if (!need_dx)
        return d;
    if (direct(&l->spec)) {
        bp_gemm(c, false, true, rows, patch, u, 1.0f, d, u, l->t[W], u, 0.0f,
                dx, patch);
        return dx;
    }
    /* the patches are spent: their gradient takes the work block */
    bp_gemm(c, false, true, rows, patch, u, 1.0f, d, u, l->t[W], u, 0.0f,
            l->t[WORK], patch);
    c->k->col2im(&g, l->t[WORK], dx);
    return dx;
}

static size_t views(const bp_layer *l, const float *params,
                    const float *buffers, bp_tensor_view *v)
{
    (void)buffers;
    size_t patch = l->spec.kernel * l->spec.kernel * l->in.c;
    v[0] = (bp_tensor_view){"conv.weight", 2, {patch, l->spec.units},
                            params + l->off[W]};
    v[1] = (bp_tensor_view){"conv.bias", 1, {l->spec.units, 0},
                            params + l->off[B]};
    return 2;
}

static int chain(const bp_layer_spec *s, char *buf, size_t size)
{
    return snprintf(buf, size, "-conv%zu", s->units);
}

const bp_layer_ops bp_layer_conv = {
    .name = "conv",
    .title = "convolution",
    .syntax = "conv:C:K[:sS][:pP]",
    .help = "2-D convolution, C channels, K x K, stride S (1), padding P (K/2)",
    .parse = parse,
    .format = format,
    .plan = plan,
    .init = init,
    .forward = forward,
    .backward = backward,
    .views = views,
    .chain = chain,
    .absorbs_act = true,
};
