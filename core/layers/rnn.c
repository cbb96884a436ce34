/* core/layers/rnn.c - an Elman recurrent layer over the steps of a
 * sequence, many-to-one:
 *   h_t = tanh(x_t Wx + h_{t-1} Wh + b)              tanh_fwd / tanh_bwd
 * Unrolled and trained through time by core/layers/recurrent.c (shapes,
 * passes and initialisation are described there).
 */
#include <stdio.h>

#include "core/layers/recurrent.h"

static const bp__cell cell = {
    .gates = 1,
    .cells = false,
    .names = {"rnn.weight_ih", "rnn.weight_hh", "rnn.bias"},
};

static bp_status plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err)
{
    return bp__rec_plan(&cell, s, in, max_batch, p, err);
}

static void init(bp_layer *l, const bp_init_args *a)
{
    bp__rec_init(&cell, l, a);
}

static void forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                    bool train, uint64_t key)
{
    (void)train, (void)key;
    bp__rec_forward(&cell, l, c, x, b);
}

static float *backward(bp_layer *l, const bp_ctx *c, const float *x,
                       size_t b, float *d, float *dx, bool need_dx)
{
    return bp__rec_backward(&cell, l, c, x, b, d, dx, need_dx);
}

static size_t views(const bp_layer *l, const float *params,
                    const float *buffers, bp_tensor_view *v)
{
    (void)buffers;
    return bp__rec_views(&cell, l, params, v);
}

static int chain(const bp_layer_spec *s, char *buf, size_t size)
{
    return snprintf(buf, size, "-rnn%zu", s->units);
}

const bp_layer_ops bp_layer_rnn = {
    .name = "rnn",
    .title = "rnn",
    .syntax = "rnn:N",
    .help = "Elman RNN, N units, over a sequence; its last state goes on",
    .sequence = true,
    .parse = bp_layer_parse_units,
    .format = bp_layer_format_units,
    .plan = plan,
    .init = init,
    .forward = forward,
    .backward = backward,
    .views = views,
    .chain = chain,
};
