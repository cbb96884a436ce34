/* core/layers/dropout2d.c - inverted dropout of whole channels
 * (Tompson et al. 2015, "spatial dropout"; PyTorch's nn.Dropout2d).
 *
 *   train     y[n,i,c] = x[n,i,c] * m[n,c] for every pixel i of image n,
 *             m[n,c] 0 with probability p, else 1/(1-p)  dropout_bwd
 *   infer     y = x                                       (a copy)
 *   backward  dx = d * mask, in place                     dropout_bwd
 * One draw per (image n, channel c): m[n,c] is dropout's (kernels.h
 * bp_dropout_fwd_fn) for index n*C + c, kept when bp_dropout_bits(key,
 * n*C + c) >> 8 >= bp_dropout_threshold(p), with the key a hash of the
 * step's key and the layer's index: the same on every ISA and thread
 * count, and the same again when a run is resumed. The mask is expanded
 * to the full batch x H x W x C and applied by the element-wise product
 * (dropout_bwd is out = a * b), forward and backward. The input must have
 * more than one pixel per channel (an image; a sequence's channel is a
 * feature over every step); on a vector, where a channel is one value,
 * the spec is refused (dropout:P drops single values). The output shape
 * is the input's.
 */
#include <string.h>

#include "core/layer.h"
#include "core/rng.h"

enum { Y, MASK };

static bp_status plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err)
{
    if (in.h == 1 && in.w == 1) {
        char shape[64], tok[64];
        bp_shape_text(in, shape, sizeof shape);
        bp_layer_format_rate(s, tok, sizeof tok);
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "%s: the %s input is not an image (one value per "
                       "channel); dropout:%s drops single values",
                       tok, shape, tok + strlen(s->ops->name) + 1);
    }
    size_t n = bp_satmul(max_batch, bp_shape_size(in));
    p->out = in;
    bp_plan_add(p, BP_T_ACT, n);
    bp_plan_add(p, BP_T_ACT, n);
    return BP_OK;
}

/* mask (b x H x W x C): m[n,c] at every pixel of image n */
static void make_mask(const bp_layer *l, size_t b, uint64_t key, float *mask)
{
    size_t C = l->in.c, pix = l->in.h * l->in.w;
    uint32_t threshold = bp_dropout_threshold(l->spec.rate);
    float keep = bp_dropout_scale(l->spec.rate);
    for (size_t n = 0; n < b; n++) {
        float *m = mask + n * pix * C;
        for (size_t c = 0; c < C; c++) {
            uint32_t bits = bp_dropout_bits(key, (uint32_t)(n * C + c)) >> 8;
            m[c] = bits >= threshold ? keep : 0.0f;
        }
        for (size_t i = 1; i < pix; i++)
            memcpy(m + i * C, m, C * sizeof *m);
    }
}

static void forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                    bool train, uint64_t key)
{
    size_t n = b * bp_shape_size(l->in);
    if (train) {
        make_mask(l, b, bp_rng_key(key, l->index), l->t[MASK]);
        c->k->dropout_bwd(n, x, l->t[MASK], l->y);
    } else {
        memcpy(l->y, x, n * sizeof(float));
    }
}


const bp_layer_ops bp_layer_dropout2d = {
    .name = "dropout2d",
    .title = "channel dropout",
    .syntax = "dropout2d:P",
    .help = "drop each channel of an image with probability P (training)",
    .parse = bp_layer_parse_rate,
    .format = bp_layer_format_rate,
    .plan = plan,
    .forward = forward,
    .backward = bp_layer_mask_backward,
    .word = "dropout2d",
};
