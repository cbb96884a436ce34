/* core/layers/dense.c - a fully connected layer.
 *
 *   forward   y = x W + b                        gemm NN, bias_add
 *             (y = f(x W + b) when an activation f follows: the GEMM's
 *             epilogue applies bias and f, and the activation layer's
 *             forward is skipped)
 *   backward  dW = x^T d, db = colsum(d)         gemm TN, bias_grad (the
 *                                                GEMM's column sums)
 *             dx = d W^T (not for the first)     gemm NT
 * Fused or not (bp_ctx unfused, --no-fuse), the bits are the same
 * (kernels.h bp_gemm_post).
 * x is batch x F (the input sample flattened: F = H*W*C), W is F x U, y is
 * batch x U with U = units; the output shape is 1 x 1 x U.
 * Init: He, N(0, 2/F) (He et al. 2015), or Xavier/Glorot, U(-a, a) with
 * a = sqrt(6/(F + U)), times the gain; biases 0.
 */
#include <stdio.h>

#include "core/layer.h"

enum { Y, W, B };

static bp_status plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err)
{
    (void)err;
    size_t f = bp_shape_size(in);
    p->out = bp_shape_vec(s->units);
    bp_plan_add(p, BP_T_ACT, bp_satmul(max_batch, s->units));
    bp_plan_add(p, BP_T_WEIGHT, bp_satmul(f, s->units));
    bp_plan_add(p, BP_T_PARAM, s->units);
    return BP_OK;
}

static void init(bp_layer *l, const bp_init_args *a)
{
    bp_layer_init_weights(l->t[W], l->n[W], bp_shape_size(l->in),
                          l->spec.units, a);
}

static void forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                    bool train, uint64_t key)
{
    (void)train, (void)key;
    size_t f = bp_shape_size(l->in), u = l->spec.units;
    if (c->unfused) {
        bp_gemm(c, false, false, b, u, f, 1.0f, x, f, l->t[W], u, 0.0f, l->y,
                u);
        c->k->bias_add(b, u, l->t[B], l->y, u);
        return;
    }
    bp_gemm_post post = {.bias = l->t[B], .act = BP_KACT_NONE};
    if (bp_layer_fuses_act(l, c))
        post.act = bp_kact_of(l->act_after->ops->act);
    bp_gemm_fused(c, false, false, b, u, f, 1.0f, x, f, l->t[W], u, 0.0f,
                  l->y, u, &post);
}

static float *backward(bp_layer *l, const bp_ctx *c, const float *x,
                       size_t b, float *d, float *dx, bool need_dx)
{
    size_t f = bp_shape_size(l->in), u = l->spec.units;
    if (c->unfused) {
        bp_gemm(c, true, false, f, u, b, 1.0f, x, f, d, u, 0.0f, l->g[W], u);
        c->k->bias_grad(b, u, d, u, l->g[B]);
    } else {
        bp_gemm_post post = {.colsum = l->g[B]};
        bp_gemm_fused(c, true, false, f, u, b, 1.0f, x, f, d, u, 0.0f,
                      l->g[W], u, &post);
    }
    if (!need_dx)
        return d;
    bp_gemm(c, false, true, b, f, u, 1.0f, d, u, l->t[W], u, 0.0f, dx, f);
    return dx;
}

static size_t views(const bp_layer *l, const float *params,
                    const float *buffers, bp_tensor_view *v)
{
    (void)buffers;
    size_t f = bp_shape_size(l->in), u = l->spec.units;
    v[0] = (bp_tensor_view){"dense.weight", 2, {f, u}, params + l->off[W]};
    v[1] = (bp_tensor_view){"dense.bias", 1, {u, 0}, params + l->off[B]};
    return 2;
}

static int chain(const bp_layer_spec *s, char *buf, size_t size)
{
    return snprintf(buf, size, "-%zu", s->units);
}

const bp_layer_ops bp_layer_dense = {
    .name = "dense",
    .title = "dense",
    .syntax = "dense:N",
    .help = "fully connected, N units: y = x W + b (flattens its input)",
    .parse = bp_layer_parse_units,
    .format = bp_layer_format_units,
    .plan = plan,
    .init = init,
    .forward = forward,
    .backward = backward,
    .views = views,
    .chain = chain,
    .absorbs_act = true,
};
