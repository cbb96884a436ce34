/* core/optim.c - optimizer steps on the kernel table (optim.h). */
#include "core/optim.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bounds.h"
#include "core/par.h"
#include "core/prof.h"

const char *const bp_opt_names[] = {"sgd", "momentum", "adam", NULL};
const char *const bp_sched_names[] = {"const", "step", "cosine", NULL};

void bp_optim_defaults(bp_optim_spec *s)
{
    memset(s, 0, sizeof *s);
    s->kind = BP_OPT_MOMENTUM;
    s->lr = 0.05f;
    s->momentum = 0.9f;
    s->beta1 = 0.9f;
    s->beta2 = 0.999f;
    s->eps = 1e-8f;
    s->sched = BP_SCHED_CONST;
    s->step_epochs = 10;
    s->gamma = 0.1f;
}

bp_status bp_optim_spec_check(const bp_optim_spec *s, bp_err *err)
{
    bp_status st;
    if ((unsigned)s->kind > BP_OPT_ADAM || (unsigned)s->sched > BP_SCHED_COSINE)
        return bp_fail(err, BP_ERR_INVALID_ARG, "optimizer or schedule: out "
                                                "of range");
    if ((st = bp_check_range("lr", s->lr, BP_LR_MIN, BP_LR_MAX, err)) ||
        (st = bp_check_range("momentum", s->momentum, 0, BP_MOMENTUM_MAX,
                             err)) ||
        (st = bp_check_range("beta1", s->beta1, 0, BP_BETA1_MAX, err)) ||
        (st = bp_check_range("beta2", s->beta2, 0, BP_BETA2_MAX, err)) ||
        (st = bp_check_range("eps", s->eps, BP_EPS_MIN, BP_EPS_MAX, err)) ||
        (st = bp_check_range("l2", s->l2, 0, BP_DECAY_MAX, err)) ||
        (st = bp_check_range("l1", s->l1, 0, BP_DECAY_MAX, err)) ||
        (st = bp_check_range("clip_norm", s->clip_norm, 0, BP_CLIP_MAX, err)) ||
        (st = bp_check_range("clip_value", s->clip_value, 0, BP_CLIP_MAX, err)) ||
        (st = bp_check_range("max_norm", s->max_norm, 0, BP_CLIP_MAX, err)))
        return st;
    if (s->sched == BP_SCHED_STEP) {
        if (s->step_epochs == 0)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "lr_step 0: must be at least 1");
        if ((st = bp_check_range("lr_gamma", s->gamma, BP_GAMMA_MIN,
                                 BP_GAMMA_MAX, err)))
            return st;
    }
    return BP_OK;
}

bp_status bp_optim_create(const bp_optim_spec *spec, size_t nparams,
                          bp_optim **out, bp_err *err)
{
    *out = NULL;
    bp_status s = bp_optim_spec_check(spec, err);
    if (s != BP_OK)
        return s;
    bp_optim *o = bp_alloc_zero(sizeof *o);
    if (!o)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the optimizer");
    o->spec = *spec;
    o->n = nparams;
    size_t bytes = bp_mul_size(nparams, sizeof(float));
    if (spec->kind != BP_OPT_SGD && !(o->m = bp_alloc_zero(bytes)))
        goto nomem;
    if (spec->kind == BP_OPT_ADAM && !(o->v = bp_alloc_zero(bytes)))
        goto nomem;
    *out = o;
    return BP_OK;
nomem:
    bp_optim_destroy(o);
    return bp_fail(err, BP_ERR_NOMEM, "out of memory for the optimizer state");
}

void bp_optim_destroy(bp_optim *o)
{
    if (!o)
        return;
    bp_free(o->m);
    bp_free(o->v);
    bp_free(o);
}

size_t bp_optim_state_size(const bp_optim *o)
{
    return (o->m ? o->n : 0) + (o->v ? o->n : 0);
}

float bp_optim_lr(const bp_optim_spec *s, size_t epoch, size_t step,
                  size_t steps, size_t epochs)
{
    switch (s->sched) {
    case BP_SCHED_CONST:
        return s->lr;
    case BP_SCHED_STEP:
        return (float)((double)s->lr *
                       pow((double)s->gamma, (double)(epoch / s->step_epochs)));
    case BP_SCHED_COSINE: {
        double total = (double)steps * (double)epochs;
        double t = ((double)epoch * (double)steps + (double)step) / total;
        return (float)((double)s->lr * 0.5 * (1.0 + cos(3.14159265358979323846 * t)));
    }
    }
    return s->lr;
}

bool bp_optim_clips(const bp_optim_spec *s)
{
    return s->clip_norm > 0.0f || s->clip_value > 0.0f;
}

double bp_optim_step(bp_optim *o, bp_net *net, float lr, double grad_sumsq,
                     double *dense_sumsq)
{
    const bp_ctx *c = net->ctx;
    const bp_optim_spec *s = &o->spec;
    float *g = net->grads;
    size_t n = net->nparams, nd = net->ndecay;
    bp_prof_at(c, -1, BP_PASS_UPDATE);
    if (s->clip_value > 0.0f)
        bp_par_clip(c, n, s->clip_value, g);
    if (s->clip_norm > 0.0f) {
        /* after value clipping the norm must be measured again */
        double ss = s->clip_value > 0.0f ? bp_par_sumsq(c, n, g) : grad_sumsq;
        double norm = sqrt(ss);
        if (norm > s->clip_norm)
            bp_par_scale(c, n, (float)(s->clip_norm / norm), g);
    }
    o->t++;
    bp_opt_params p = {.lr = lr, .l2 = s->l2, .l1 = s->l1,
                       .momentum = s->momentum, .nesterov = s->nesterov,
                       .beta1 = s->beta1, .beta2 = s->beta2, .eps = s->eps};
    p.bc1 = (float)(1.0 - pow((double)s->beta1, (double)o->t));
    p.bc2 = (float)(1.0 - pow((double)s->beta2, (double)o->t));
    bp_opt_params nodecay = p;
    nodecay.l2 = nodecay.l1 = 0.0f;
    float *w = net->params, *m = o->m, *v = o->v;
    int kind = s->kind == BP_OPT_SGD ? 0 : s->kind == BP_OPT_MOMENTUM ? 1 : 2;
    if (dense_sumsq) {
        /* layer by layer, so each layer's gradient norm comes back; last
         * layer first, so that the first layer's weights, which the next
         * forward pass starts with, are the ones left in cache */
        for (size_t i = net->ndense; i-- > 0;) {
            size_t off = net->wt[i].off;
            bp_prof_at(c, (long)net->wl[i]->index, BP_PASS_UPDATE);
            dense_sumsq[i] = bp_par_update(
                c, kind, net->wt[i].n, w + off, g + off, m ? m + off : NULL,
                v ? v + off : NULL, &p);
        }
    } else {
        bp_par_update(c, kind, nd, w, g, m, v, &p);
    }
    bp_prof_at(c, -1, BP_PASS_UPDATE);
    double rest = bp_par_update(c, kind, n - nd, w + nd, g + nd,
                                m ? m + nd : NULL, v ? v + nd : NULL, &nodecay);
    if (s->max_norm > 0.0f)
        for (size_t i = 0; i < net->ndense; i++) {
            const bp_layer *l = net->wl[i];
            if (l->ops != &bp_layer_dense)
                continue;
            size_t out = bp_shape_size(l->out);
            bp_prof_at(c, (long)l->index, BP_PASS_UPDATE);
            c->k->max_norm(bp_shape_size(l->in), out, w + net->wt[i].off, out,
                           s->max_norm);
        }
    return rest;
}
