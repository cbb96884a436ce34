/* core/layers/activation.c - element-wise activations: relu, sigmoid, tanh.
 *
 *   forward   y = f(x)                 relu_fwd / sigmoid_fwd / tanh_fwd
 *   backward  dx = d * f'(y), in place relu_bwd / sigmoid_bwd / tanh_bwd
 * (the derivative from the output: y > 0, y(1 - y), 1 - y^2). The output
 * overwrites the input, so the layer needs no memory of its own; the
 * shape is unchanged (any shape: an activation is per element). Large
 * batches are mapped in chunks over the context's threads (core/par.h).
 */
#include "core/layer.h"
#include "core/par.h"

static bp_status plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err)
{
    (void)s, (void)err;
    p->out = in;
    p->in_place = true;
    bp_plan_add(p, BP_T_ACT, bp_satmul(max_batch, bp_shape_size(in)));
    return BP_OK;
}

static void forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                    bool train, uint64_t key)
{
    (void)train, (void)key;
    size_t n = b * bp_shape_size(l->out);
    bp_unary_fn *f = l->ops->act == BP_ACT_RELU      ? c->k->relu_fwd
                     : l->ops->act == BP_ACT_SIGMOID ? c->k->sigmoid_fwd
                                                     : c->k->tanh_fwd;
    bp_par_map(c, f, n, x, l->y);
}

static float *backward(bp_layer *l, const bp_ctx *c, const float *x,
                       size_t b, float *d, float *dx, bool need_dx)
{
    (void)x, (void)dx, (void)need_dx;
    size_t n = b * bp_shape_size(l->out);
    bp_par_map_bwd(c, bp_act_bwd_of(c->k, l->ops->act), n, l->y, d, d);
    return d;
}

#define ACTIVATION(NAME, ACT, HELP)                                           \
    const bp_layer_ops bp_layer_##NAME = {                                    \
        .name = #NAME,                                                        \
        .title = "activation",                                                \
        .syntax = #NAME,                                                      \
        .help = HELP,                                                         \
        .parse = bp_layer_parse_none,                                         \
        .format = bp_layer_format_name,                                       \
        .plan = plan,                                                         \
        .forward = forward,                                                   \
        .backward = backward,                                                 \
        .word = #NAME,                                                        \
        .is_activation = true,                                                \
        .act = ACT,                                                           \
    };

ACTIVATION(relu, BP_ACT_RELU, "max(x, 0), element-wise")
ACTIVATION(sigmoid, BP_ACT_SIGMOID, "1 / (1 + exp(-x)), element-wise")
ACTIVATION(tanh, BP_ACT_TANH, "tanh(x), element-wise")
