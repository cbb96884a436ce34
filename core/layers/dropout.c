/* core/layers/dropout.c - inverted dropout (Srivastava et al. 2014).
 *
 *   train     y = x * mask, mask 0 with probability p, else 1/(1-p)
 *                                                   dropout_fwd
 *   infer     y = x                                  (a copy)
 *   backward  dx = d * mask, in place               dropout_bwd
 * The mask of element i is a hash of (the step's key, the layer's index,
 * i): the same on every ISA and thread count, and the same again when a
 * run is resumed. Any shape; the output shape is the input's.
 */
#include <string.h>

#include "core/layer.h"
#include "core/rng.h"

enum { Y, MASK };

static bp_status plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err)
{
    (void)s, (void)err;
    size_t n = bp_satmul(max_batch, bp_shape_size(in));
    p->out = in;
    bp_plan_add(p, BP_T_ACT, n);
    bp_plan_add(p, BP_T_ACT, n);
    return BP_OK;
}

static void forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                    bool train, uint64_t key)
{
    size_t n = b * bp_shape_size(l->in);
    if (train)
        c->k->dropout_fwd(n, bp_rng_key(key, l->index), l->spec.rate, x,
                          l->y, l->t[MASK]);
    else
        memcpy(l->y, x, n * sizeof(float));
}

float *bp_layer_mask_backward(bp_layer *l, const bp_ctx *c, const float *x,
                              size_t b, float *d, float *dx, bool need_dx)
{
    (void)x, (void)dx, (void)need_dx;
    c->k->dropout_bwd(b * bp_shape_size(l->in), d, l->t[MASK], d);
    return d;
}

const bp_layer_ops bp_layer_dropout = {
    .name = "dropout",
    .title = "dropout",
    .syntax = "dropout:P",
    .help = "inverted dropout: drop with probability P while training",
    .parse = bp_layer_parse_rate,
    .format = bp_layer_format_rate,
    .plan = plan,
    .forward = forward,
    .backward = bp_layer_mask_backward,
    .word = "dropout",
};
