/* core/layers/batchnorm.c - batch normalisation (Ioffe & Szegedy 2015) per
 * channel.
 *
 * The batch is a matrix of R = batch*H*W rows and C columns (NHWC, see
 * core/shape.h), normalised per column:
 *   train     y = gamma (x - mean) / sqrt(var + eps) + beta    bn_fwd_train
 *             with the batch's mean and biased variance, which also update
 *             the running ones: r = 0.9 r + 0.1 s (unbiased variance)
 *   infer     the same with the running statistics            bn_fwd_infer
 *   backward  dx, dgamma, dbeta                               bn_bwd
 * eps 1e-5 and momentum 0.1, as PyTorch's nn.BatchNorm1d/2d.
 * Init: gamma 1, beta 0, running mean 0, running variance 1.
 */
#include <stdio.h>

#include "core/layer.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

enum { Y, GAMMA, BETA, RMEAN, RVAR, MEAN, INVSTD };

static bp_status plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err)
{
    (void)s, (void)err;
    p->out = in;
    bp_plan_add(p, BP_T_ACT, bp_satmul(max_batch, bp_shape_size(in)));
    bp_plan_add(p, BP_T_PARAM, in.c);
    bp_plan_add(p, BP_T_PARAM, in.c);
    bp_plan_add(p, BP_T_BUFFER, in.c);
    bp_plan_add(p, BP_T_BUFFER, in.c);
    bp_plan_add(p, BP_T_ACT, in.c);
    bp_plan_add(p, BP_T_ACT, in.c);
    return BP_OK;
}

static void init(bp_layer *l, const bp_init_args *a)
{
    (void)a;
    for (size_t j = 0; j < l->in.c; j++) {
        l->t[GAMMA][j] = 1.0f;
        l->t[RVAR][j] = 1.0f;
    }
}

static void forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                    bool train, uint64_t key)
{
    (void)key;
    size_t C = l->in.c, rows = b * l->in.h * l->in.w;
    if (train)
        c->k->bn_fwd_train(rows, C, x, C, l->t[GAMMA], l->t[BETA], BN_EPS,
                           BN_MOMENTUM, l->y, C, l->t[MEAN], l->t[INVSTD],
                           l->t[RMEAN], l->t[RVAR]);
    else
        c->k->bn_fwd_infer(rows, C, x, C, l->t[GAMMA], l->t[BETA],
                           l->t[RMEAN], l->t[RVAR], BN_EPS, l->y, C);
}

static float *backward(bp_layer *l, const bp_ctx *c, const float *x,
                       size_t b, float *d, float *dx, bool need_dx)
{
    (void)need_dx; /* the kernel computes dx with the parameter gradients */
    size_t C = l->in.c, rows = b * l->in.h * l->in.w;
    c->k->bn_bwd(rows, C, x, C, d, C, l->t[GAMMA], l->t[MEAN], l->t[INVSTD],
                 dx, C, l->g[GAMMA], l->g[BETA]);
    return dx;
}

static size_t views(const bp_layer *l, const float *params,
                    const float *buffers, bp_tensor_view *v)
{
    size_t C = l->in.c;
    v[0] = (bp_tensor_view){"bn.weight", 1, {C, 0}, params + l->off[GAMMA]};
    v[1] = (bp_tensor_view){"bn.bias", 1, {C, 0}, params + l->off[BETA]};
    v[2] = (bp_tensor_view){"bn.running_mean", 1, {C, 0},
                            buffers + l->off[RMEAN]};
    v[3] = (bp_tensor_view){"bn.running_var", 1, {C, 0},
                            buffers + l->off[RVAR]};
    return 4;
}

const bp_layer_ops bp_layer_bn = {
    .name = "bn",
    .title = "batch norm",
    .syntax = "bn",
    .help = "batch normalisation per channel (put it before an activation)",
    .parse = bp_layer_parse_none,
    .format = bp_layer_format_name,
    .plan = plan,
    .init = init,
    .forward = forward,
    .backward = backward,
    .views = views,
    .word = "batchnorm",
};
