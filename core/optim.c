/* core/optim.c - optimizer steps on the kernel table (optim.h). */
#include "core/optim.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/par.h"

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
    if (!(s->lr > 0.0f && s->lr <= 100.0f))
        return bp_fail(err, BP_ERR_INVALID_ARG, "--lr %g: must be in (0, 100]",
                       (double)s->lr);
    if (!(s->momentum >= 0.0f && s->momentum < 1.0f))
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "--momentum %g: must be in [0, 1)", (double)s->momentum);
    if (!(s->beta1 >= 0.0f && s->beta1 < 1.0f) ||
        !(s->beta2 >= 0.0f && s->beta2 < 1.0f) || !(s->eps > 0.0f))
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "Adam: beta1 and beta2 must be in [0, 1), eps > 0");
    if (!(s->l2 >= 0.0f && s->l2 < 1.0f))
        return bp_fail(err, BP_ERR_INVALID_ARG, "--l2 %g: must be in [0, 1)",
                       (double)s->l2);
    if (!(s->l1 >= 0.0f && s->l1 < 1.0f))
        return bp_fail(err, BP_ERR_INVALID_ARG, "--l1 %g: must be in [0, 1)",
                       (double)s->l1);
    if (!(s->clip_norm >= 0.0f) || !(s->clip_value >= 0.0f))
        return bp_fail(err, BP_ERR_INVALID_ARG, "clipping thresholds must be >= 0");
    if (s->sched == BP_SCHED_STEP && (s->step_epochs == 0 ||
                                      !(s->gamma > 0.0f && s->gamma <= 1.0f)))
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "--lr-schedule step: --lr-step must be >= 1 and "
                       "--lr-gamma in (0, 1]");
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
            dense_sumsq[i] = bp_par_update(
                c, kind, net->wt[i].n, w + off, g + off, m ? m + off : NULL,
                v ? v + off : NULL, &p);
        }
    } else {
        bp_par_update(c, kind, nd, w, g, m, v, &p);
    }
    return bp_par_update(c, kind, n - nd, w + nd, g + nd, m ? m + nd : NULL,
                         v ? v + nd : NULL, &nodecay);
}
