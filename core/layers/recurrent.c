/* core/layers/recurrent.c - the unrolled forward pass and backpropagation
 * through time shared by rnn.c and lstm.c (recurrent.h). */
#include "core/layers/recurrent.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rng.h"

bp_status bp__rec_plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                       bp_layer_plan *p, bp_err *err)
{
    const bp__cell *cell = s->ops->impl;
    char sh[64];
    bp_shape_text(in, sh, sizeof sh);
    if (in.w != 1 || in.h < 2)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "%s:%zu: its input %s is not a sequence (T steps x 1 "
                       "x features): use it first, on fashion-mnist-rows or "
                       "adding:T",
                       s->ops->name, s->units, sh);
    if (in.h > BP_MAX_STEPS)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "%s:%zu: %zu time steps, at most %d", s->ops->name,
                       s->units, in.h, BP_MAX_STEPS);
    size_t T = in.h, F = in.c, H = s->units, G = cell->gates * H;
    size_t seq = bp_satmul(max_batch, T);
    size_t act = bp_satmul(max_batch, H);
    p->out = bp_shape_vec(H);
    p->nsteps = T;
    bp_plan_add(p, BP_T_ACT, act);
    bp_plan_add(p, BP_T_WEIGHT, bp_satmul(F + H, G));
    bp_plan_add(p, BP_T_PARAM, G);
    bp_plan_add(p, BP_T_ACT, bp_satmul(seq, G));
    bp_plan_add(p, BP_T_ACT, bp_satmul(seq, H));
    if (cell->cells) {
        bp_plan_add(p, BP_T_ACT, bp_satmul(seq, H));
        bp_plan_add(p, BP_T_ACT, act);
    }
    return BP_OK;
}

void bp__rec_init(bp_layer *l, const bp_init_args *a)
{
    const bp__cell *cell = l->ops->impl;
    bp_rng g = bp_rng_stream(a->seed, 1000 + (uint64_t)a->wl);
    size_t H = l->spec.units;
    double r = a->gain / sqrt((double)H);
    float *w = l->t[BP__REC_W];
    for (size_t j = 0; j < l->n[BP__REC_W]; j++)
        w[j] = (float)(r * (2.0 * bp_rng_uniform(&g) - 1.0));
    if (cell->cells)
        for (size_t j = 0; j < H; j++)
            l->t[BP__REC_B][H + j] = a->forget_bias; /* the forget gate */
}

void bp__rec_forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                     bool train, uint64_t key)
{
    (void)train, (void)key;
    const bp__cell *cell = l->ops->impl;
    const bp_kernels *k = c->k;
    size_t T = l->in.h, f = l->in.c, h = l->spec.units, g = cell->gates * h;
    const float *wx = l->t[BP__REC_W], *wh = wx + f * g;
    float *z = l->t[BP__REC_Z], *hs = l->t[BP__REC_HS];
    float *cs = cell->cells ? l->t[BP__REC_CS] : NULL;
    size_t ldz = T * g, ldh = T * h;
    bp_gemm(c, false, false, b * T, g, f, 1.0f, x, f, wx, g, 0.0f, z, g);
    k->bias_add(b * T, g, l->t[BP__REC_B], z, g);
    for (size_t r = 0; r < b; r++)
        memset(hs + r * ldh, 0, h * sizeof(float)); /* h_0 = 0 */
    for (size_t t = 0; t < T; t++) {
        float *zt = z + t * g;
        if (t > 0)
            bp_gemm(c, false, false, b, g, h, 1.0f, hs + t * h, ldh, wh, g,
                    1.0f, zt, ldz);
        bool last = t + 1 == T;
        float *ho = last ? l->y : hs + (t + 1) * h;
        size_t ldo = last ? h : ldh;
        cell->fwd(k, b, h, zt, ldz, cs && t ? cs + (t - 1) * h : NULL,
                  cs ? cs + t * h : NULL, ldh, ho, ldo);
    }
}

float *bp__rec_backward(bp_layer *l, const bp_ctx *c, const float *x,
                        size_t b, float *d, float *dx, bool need_dx)
{
    const bp__cell *cell = l->ops->impl;
    const bp_kernels *k = c->k;
    size_t T = l->in.h, f = l->in.c, h = l->spec.units, g = cell->gates * h;
    const float *wx = l->t[BP__REC_W], *wh = wx + f * g;
    float *gwx = l->g[BP__REC_W], *gwh = gwx + f * g;
    float *z = l->t[BP__REC_Z], *hs = l->t[BP__REC_HS];
    float *cs = cell->cells ? l->t[BP__REC_CS] : NULL;
    float *dc = cell->cells ? l->t[BP__REC_DC] : NULL;
    size_t ldz = T * g, ldh = T * h;
    if (cell->cells)
        memset(dc, 0, b * h * sizeof(float));
    for (size_t t = T; t-- > 0;) {
        l->steps[t] = k->sumsq(b * h, d);
        float *zt = z + t * g;
        bool last = t + 1 == T;
        cell->bwd(k, b, h, zt, ldz, cs && t ? cs + (t - 1) * h : NULL,
                  cs ? cs + t * h : NULL, ldh, last ? l->y : hs + (t + 1) * h,
                  last ? h : ldh, d, dc);
        if (t > 0)
            bp_gemm(c, false, true, b, h, g, 1.0f, zt, ldz, wh, g, 0.0f, d, h);
    }
    bp_gemm(c, true, false, f, g, b * T, 1.0f, x, f, z, g, 0.0f, gwx, g);
    bp_gemm(c, true, false, h, g, b * T, 1.0f, hs, h, z, g, 0.0f, gwh, g);
    k->bias_grad(b * T, g, z, g, l->g[BP__REC_B]);
    if (!need_dx)
        return d;
    bp_gemm(c, false, true, b * T, f, g, 1.0f, z, g, wx, g, 0.0f, dx, f);
    return dx;
}

size_t bp__rec_views(const bp_layer *l, const float *params,
                     const float *buffers, bp_tensor_view *v)
{
    (void)buffers;
    const bp__cell *cell = l->ops->impl;
    size_t f = l->in.c, h = l->spec.units, g = cell->gates * h;
    const float *w = params + l->off[BP__REC_W];
    v[0] = (bp_tensor_view){cell->names[0], 2, {f, g}, w};
    v[1] = (bp_tensor_view){cell->names[1], 2, {h, g}, w + f * g};
    v[2] = (bp_tensor_view){cell->names[2], 1, {g, 0},
                            params + l->off[BP__REC_B]};
    return 3;
}

int bp__rec_chain(const bp_layer_spec *s, char *buf, size_t size)
{
    return snprintf(buf, size, "-%s%zu", s->ops->name, s->units);
}
