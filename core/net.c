/* core/net.c - building, running and differentiating a network (net.h).
 *
 * The network knows layers only through their ops (core/layer.h): it
 * parses and prints the spec grammar, lays out the memory the plans ask
 * for, and runs forward (first to last, each layer reading the previous
 * one's output) and backward (last to first, from the loss's delta,
 * ping-ponging between two delta buffers when a layer writes its input
 * gradient elsewhere). The loss is the net's own: it is not a layer.
 */
#include "core/net.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/bounds.h"
#include "core/par.h"
#include "core/prof.h"

const char *const bp_loss_names[] = {"ce", "mse", "bce", NULL};
const char *const bp_cell_names[] = {"mlp", "rnn", "lstm", "cnn", NULL};

/* ---------------------------------------------------------------------- */
/* Spec                                                                    */

bp_status bp_net_spec_parse(const char *text, bp_net_spec *s, bp_err *err)
{
    s->nlayers = 0;
    if (!text || !*text || strcmp(text, "none") == 0)
        return BP_OK;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ","), nlen = strcspn(p, ":,");
        char tok[64];
        snprintf(tok, sizeof tok, "%.*s", (int)(len < 63 ? len : 63), p);
        if (len == 0)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s: an empty layer%s", text,
                           *p ? " (two commas)" : " (a trailing comma)");
        const bp_layer_ops *ops = bp_layer_find(p, nlen);
        if (!ops) {
            char names[256];
            size_t used = 0;
            for (const bp_layer_ops *const *k = bp_layer_kinds; *k; k++)
                used += (size_t)snprintf(names + used, sizeof names - used,
                                         "%s%s", used ? ", " : "", (*k)->name);
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "'%s': unknown layer (layers: %s)", tok, names);
        }
        if (s->nlayers == BP_MAX_LAYERS - 1)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "more than %d layers", BP_MAX_LAYERS - 1);
        bp_layer_spec *l = &s->layers[s->nlayers];
        memset(l, 0, sizeof *l);
        l->ops = ops;
        bp_status st = ops->parse(nlen < len ? tok + nlen + 1 : NULL, l, err);
        if (st != BP_OK)
            return st;
        s->nlayers++;
        p += len;
        if (!*p)
            return BP_OK;
        p++; /* the comma */
        if (!*p)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s: an empty layer (a trailing comma)", text);
    }
}

size_t bp_net_spec_format(const bp_net_spec *s, char *buf, size_t size)
{
    size_t used = 0;
    if (size)
        buf[0] = '\0';
    if (s->nlayers == 0)
        return (size_t)snprintf(buf, size, "none");
    for (size_t i = 0; i < s->nlayers; i++) {
        const bp_layer_spec *l = &s->layers[i];
        if (i)
            used += (size_t)snprintf(buf + (used < size ? used : size),
                                     used < size ? size - used : 0, ",");
        used += (size_t)l->ops->format(l, buf + (used < size ? used : size),
                                       used < size ? size - used : 0);
    }
    return used;
}

static size_t outputs_of(const bp_net_spec *s)
{
    return s->loss == BP_LOSS_BCE || s->classes == 0 ? 1 : s->classes;
}

/* The checks that do not need the layers' plans. */
static bp_status check_head(const bp_net_spec *s, bp_err *err)
{
    size_t inputs = bp_shape_size(s->input);
    if (inputs == 0 || inputs > BP_MAX_WIDTH * (size_t)16)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "inputs %zu: must be between 1 and %zu", inputs,
                       BP_MAX_WIDTH * (size_t)16);
    if (s->classes == 1 || s->classes > BP_MAX_WIDTH)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "classes %zu: must be between 2 and %d (or 0: "
                       "regression)",
                       s->classes, BP_MAX_WIDTH);
    if ((unsigned)s->loss > BP_LOSS_BCE || (unsigned)s->init > BP_INIT_NORMAL)
        return bp_fail(err, BP_ERR_INVALID_ARG, "loss or init: out of range");
    if (s->classes == 0 && s->loss != BP_LOSS_MSE)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "loss %s: the data set is a regression (real "
                       "targets); use mse",
                       bp_loss_names[s->loss]);
    if (s->loss == BP_LOSS_BCE && s->classes != 2)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "loss bce needs two classes, the data has %zu (use ce)",
                       s->classes);
    bp_status st = bp_check_range("init_gain", s->init_gain, BP_INIT_GAIN_MIN,
                                  BP_INIT_GAIN_MAX, err);
    if (st == BP_OK)
        st = bp_check_range("forget_bias", s->forget_bias,
                            -BP_FORGET_BIAS_MAX, BP_FORGET_BIAS_MAX, err);
    if (st != BP_OK)
        return st;
    if (s->nlayers > BP_MAX_LAYERS - 1)
        return bp_fail(err, BP_ERR_INVALID_ARG, "more than %d layers",
                       BP_MAX_LAYERS - 1);
    return BP_OK;
}

/* ---------------------------------------------------------------------- */
/* Planning and layout                                                     */

/* The layers of a spec with their shapes and plans: the hidden layers,
 * then the dense output layer. */
typedef struct plans {
    size_t n;
    bp_layer_spec spec[BP_MAX_LAYERS];
    bp_shape in[BP_MAX_LAYERS];
    bp_layer_plan p[BP_MAX_LAYERS];
} plans;

static bp_status plan_all(const bp_net_spec *s, size_t max_batch, plans *P,
                          bp_err *err)
{
    bp_status st = check_head(s, err);
    if (st != BP_OK)
        return st;
    P->n = s->nlayers + 1;
    memcpy(P->spec, s->layers, s->nlayers * sizeof *s->layers);
    P->spec[s->nlayers] = (bp_layer_spec){.ops = &bp_layer_dense,
                                          .units = outputs_of(s)};
    bp_shape in = s->input;
    size_t weighted = 0;
    for (size_t i = 0; i < P->n; i++) {
        const bp_layer_spec *l = &P->spec[i];
        bp_layer_plan *p = &P->p[i];
        memset(p, 0, sizeof *p);
        P->in[i] = in;
        if ((st = l->ops->plan(l, in, max_batch, p, err)) != BP_OK)
            return st;
        for (size_t t = 0; t < p->ntensors; t++)
            weighted += p->t[t].role == BP_T_WEIGHT;
        if (weighted > BP_MAX_DENSE)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "more than %d layers with weights", BP_MAX_DENSE);
        in = p->out;
    }
    return BP_OK;
}

/* Float counts of everything the net allocates. */
typedef struct sizes {
    size_t params, ndecay, buffers, acts, work, width, steps, total;
    bool overflow;
} sizes;

static size_t add_sz(sizes *z, size_t a, size_t b)
{
    if (a > (size_t)-1 - b)
        z->overflow = true;
    return a + b;
}

/* Round a float count up to a 64-byte boundary. */
static size_t pad16(sizes *z, size_t n)
{
    return add_sz(z, n, 15) & ~(size_t)15;
}

/* The layout: with net == NULL, only the sizes; with a net whose mem is
 * allocated, the same walk assigns every tensor (so the two cannot
 * disagree). Order in the block: params (WEIGHT tensors, then PARAM
 * ones), grads (the same offsets), buffers, activations, 2 deltas and 2
 * loss scratch buffers of max_batch x width, the shared work block, then
 * the step norms. */
static sizes place(const plans *P, size_t max_batch, int threads,
                   bp_net *net)
{
    sizes z = {0};
    z.width = 1;
    for (size_t i = 0; i < P->n; i++) {
        const bp_layer_plan *p = &P->p[i];
        size_t win = bp_shape_size(P->in[i]), wout = bp_shape_size(p->out);
        if (win > z.width)
            z.width = win;
        if (wout > z.width)
            z.width = wout;
        for (size_t t = 0; t < p->ntensors; t++) {
            size_t n = pad16(&z, p->t[t].n);
            switch (p->t[t].role) {
            case BP_T_WEIGHT: z.ndecay = add_sz(&z, z.ndecay, n); break;
            case BP_T_PARAM: z.params = add_sz(&z, z.params, n); break;
            case BP_T_BUFFER: z.buffers = add_sz(&z, z.buffers, n); break;
            case BP_T_ACT:
                if (!(t == 0 && p->in_place && i > 0))
                    z.acts = add_sz(&z, z.acts, n);
                break;
            case BP_T_WORK:
                if (n > z.work)
                    z.work = n;
                break;
            }
        }
        z.steps = add_sz(&z, z.steps, p->nsteps);
    }
    z.params = add_sz(&z, z.params, z.ndecay);
    size_t delta = pad16(&z, bp_satmul(max_batch, z.width));
    size_t n = add_sz(&z, z.params, z.params);
    n = add_sz(&z, n, z.buffers);
    n = add_sz(&z, n, z.acts);
    n = add_sz(&z, n, bp_satmul(4, delta));
    size_t work_one = z.work;
    z.work = bp_satmul(z.work, (size_t)threads);
    n = add_sz(&z, n, z.work);
    z.total = add_sz(&z, n, bp_satmul(2, z.steps)); /* doubles */
    if (!net || z.overflow)
        return z;

    float *params = net->mem, *grads = params + z.params;
    float *buffers = grads + z.params, *acts = buffers + z.buffers;
    size_t woff = 0, poff = z.ndecay, boff = 0;
    float *work = acts + z.acts + 4 * delta;
    double *steps0 = (double *)(work + z.work), *steps = steps0;
    const float *prev_y = NULL;
    for (size_t i = 0; i < P->n; i++) {
        const bp_layer_plan *p = &P->p[i];
        bp_layer *l = &net->layers[i];
        memset(l, 0, sizeof *l);
        l->ops = P->spec[i].ops;
        l->spec = P->spec[i];
        l->in = P->in[i];
        l->out = p->out;
        l->index = i;
        l->wl = -1;
        l->ntensors = p->ntensors;
        for (size_t t = 0; t < p->ntensors; t++) {
            size_t n = p->t[t].n, padded = (n + 15) & ~(size_t)15;
            l->role[t] = p->t[t].role;
            l->n[t] = n;
            switch (p->t[t].role) {
            case BP_T_WEIGHT:
                l->off[t] = woff, woff += padded;
                l->wl = (int)net->ndense;
                net->wl[net->ndense] = l;
                net->wt[net->ndense].off = l->off[t];
                net->wt[net->ndense].n = n;
                net->ndense++;
                break;
            case BP_T_PARAM: l->off[t] = poff, poff += padded; break;
            case BP_T_BUFFER: l->off[t] = boff, boff += padded; break;
            case BP_T_WORK:
                l->t[t] = work;
                l->work_copies = threads;
                l->work_stride = work_one;
                break;
            case BP_T_ACT:
                if (t == 0 && p->in_place && i > 0) {
                    l->t[t] = (float *)prev_y; /* runs in place */
                } else {
                    l->t[t] = acts;
                    acts += padded;
                }
                break;
            }
            if (p->t[t].role == BP_T_WEIGHT || p->t[t].role == BP_T_PARAM) {
                l->t[t] = params + l->off[t];
                l->g[t] = grads + l->off[t];
            } else if (p->t[t].role == BP_T_BUFFER) {
                l->t[t] = buffers + l->off[t];
            }
        }
        l->y = l->t[0];
        if (i > 0 && l->ops->is_activation &&
            net->layers[i - 1].ops->absorbs_act) {
            net->layers[i - 1].act_after = l;
            l->absorbed = true;
        }
        /* conv, relu, maxpool at the start: the pool too (layer.h) */
        if (i == 2 && l->ops->max_images_fwd &&
            net->layers[1].absorbed &&
            net->layers[1].ops->act == BP_ACT_RELU &&
            net->layers[0].ops->absorbs_act_grad &&
            net->layers[0].ops->absorbs_pool &&
            net->layers[0].ops->absorbs_pool(&net->layers[0])) {
            net->layers[0].pool_after = l;
            net->layers[0].unwritten = net->layers[1].unwritten = true;
            l->absorbed = true;
        }
        l->steps = steps;
        l->nsteps = p->nsteps;
        steps += p->nsteps;
        prev_y = l->y;
    }
    net->params = params;
    net->grads = grads;
    net->buffers = buffers;
    net->delta[0] = acts;
    net->delta[1] = acts + delta;
    net->aux = acts + 2 * delta;
    net->aux2 = acts + 3 * delta;
    net->step_sumsq = steps0;
    net->steps = z.steps;
    return z;
}

bp_status bp_net_spec_check(const bp_net_spec *s, bp_err *err)
{
    plans *P = bp_alloc(sizeof *P);
    if (!P)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the network");
    bp_status st = plan_all(s, 1, P, err);
    bp_free(P);
    return st;
}

size_t bp_net_bytes(const bp_net_spec *spec, size_t max_batch)
{
    plans *P = bp_alloc(sizeof *P);
    if (!P || plan_all(spec, max_batch, P, NULL) != BP_OK) {
        bp_free(P);
        return 0;
    }
    sizes z = place(P, max_batch, 1, NULL);
    bp_free(P);
    return z.overflow ? 0 : bp_mul_size(z.total, sizeof(float));
}

/* ---------------------------------------------------------------------- */
/* Description                                                             */

void bp_net_describe(const bp_net_spec *s, char *buf, size_t size)
{
    size_t used;
    bool sequence = false; /* input read as T steps (by a recurrent layer) */
    for (size_t i = 0; i < s->nlayers; i++)
        sequence |= s->layers[i].ops->sequence;
    if (sequence && s->input.w == 1)
        used = (size_t)snprintf(buf, size, "%zux%zu", s->input.h, s->input.c);
    else
        used = (size_t)snprintf(buf, size, "%zu", bp_shape_size(s->input));
    /* the chain of widths, then the activations named once each, the
     * loss, and the other layers' words */
    const char *acts[BP_MAX_LAYERS], *words[BP_MAX_LAYERS];
    size_t nacts = 0, nwords = 0;
    for (size_t i = 0; i <= s->nlayers; i++) {
        bp_layer_spec out = {.ops = &bp_layer_dense, .units = outputs_of(s)};
        const bp_layer_spec *l = i < s->nlayers ? &s->layers[i] : &out;
        if (l->ops->chain && used < size)
            used += (size_t)l->ops->chain(l, buf + used, size - used);
        const char *w = l->ops->word;
        if (!w)
            continue;
        const char **list = l->ops->is_activation ? acts : words;
        size_t *n = l->ops->is_activation ? &nacts : &nwords;
        bool seen = false;
        for (size_t j = 0; j < *n; j++)
            seen |= strcmp(list[j], w) == 0;
        if (!seen)
            list[(*n)++] = w;
    }
    for (size_t j = 0; j < nacts && used < size; j++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                 j ? "/" : " ", acts[j]);
    if (used < size)
        used += (size_t)snprintf(buf + used, size - used, " %s",
                                 bp_loss_names[s->loss]);
    for (size_t j = 0; j < nwords && used < size; j++)
        used += (size_t)snprintf(buf + used, size - used, " %s", words[j]);
}

void bp_net_layer_name(const bp_net *net, size_t i, char *buf, size_t size)
{
    const bp_layer *l = &net->layers[i];
    size_t in = l->ops->sequence ? l->in.c : bp_shape_size(l->in);
    snprintf(buf, size, "layer %zu (%s %zu->%zu)", i + 1, l->ops->title, in,
             bp_shape_size(l->out));
}

/* ---------------------------------------------------------------------- */
/* Create / destroy                                                        */

/* The auto rule for layer i's weights: the activation after it (before
 * the next layer with weights), else the last one before it, else ReLU's. */
static bp_init auto_init(const bp_net *net, size_t i)
{
    const bp_layer_ops *after = NULL, *before = NULL;
    for (size_t j = i + 1; j < net->nlayers && !after; j++) {
        if (net->layers[j].wl >= 0)
            break;
        if (net->layers[j].ops->is_activation)
            after = net->layers[j].ops;
    }
    for (size_t j = i; j-- > 0 && !before;)
        if (net->layers[j].ops->is_activation)
            before = net->layers[j].ops;
    const bp_layer_ops *a = after ? after : before;
    return !a || a->act == BP_ACT_RELU ? BP_INIT_HE : BP_INIT_XAVIER;
}

static void init_weights(bp_net *net, uint64_t seed)
{
    const bp_net_spec *s = &net->spec;
    memset(net->params, 0, net->nparams * sizeof(float));
    memset(net->buffers, 0, net->nbuffers * sizeof(float));
    for (size_t i = 0; i < net->nlayers; i++) {
        bp_layer *l = &net->layers[i];
        if (!l->ops->init)
            continue;
        bp_init_args a = {.seed = seed, .wl = l->wl, .gain = s->init_gain,
                          .forget_bias = s->forget_bias,
                          .rule = s->init == BP_INIT_AUTO ? auto_init(net, i)
                                                          : s->init};
        l->ops->init(l, &a);
    }
}

bp_status bp_net_create(const bp_net_spec *spec, size_t max_batch,
                        uint64_t seed, const bp_ctx *ctx, bp_net **out,
                        bp_err *err)
{
    *out = NULL;
    if (max_batch == 0)
        return bp_fail(err, BP_ERR_INVALID_ARG, "batch 0: must be >= 1");
    plans *P = bp_alloc(sizeof *P);
    if (!P)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the network");
    bp_status s = plan_all(spec, max_batch, P, err);
    if (s != BP_OK) {
        bp_free(P);
        return s;
    }
    /* the work block has a copy per thread of the context (core/layer.h) */
    bp_ctx *own = NULL;
    if (!ctx && (s = bp_ctx_create_for(NULL, 0, &own, err)) != BP_OK) {
        bp_free(P);
        return s;
    }
    int threads = ctx ? ctx->threads : own->threads;
    sizes z = place(P, max_batch, threads, NULL);
    size_t bytes = z.overflow ? 0 : bp_mul_size(z.total, sizeof(float));
    size_t limit = bp_mem_limit();
    if (bytes == 0 || bytes > limit || z.params > BP_MAX_PARAMS) {
        char d[256];
        bp_net_describe(spec, d, sizeof d);
        bp_free(P);
        bp_ctx_destroy(own);
        return bp_fail(err, BP_ERR_NOMEM,
                       "network %s at batch %zu needs %.1f GiB (%zu parameters "
                       "and their activations); this machine allows %.1f GiB",
                       d, max_batch,
                       bytes == 0 ? INFINITY : (double)bytes / (1 << 30),
                       z.params, (double)limit / (1 << 30));
    }
    bp_net *net = bp_alloc_zero(sizeof *net);
    if (!net) {
        bp_free(P);
        bp_ctx_destroy(own);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the network");
    }
    net->own_ctx = own;
    net->mem = bp_alloc(bytes);
    if (!net->mem) {
        bp_free(P);
        bp_net_destroy(net);
        return bp_fail(err, BP_ERR_NOMEM,
                       "out of memory for the network (%.1f MiB)",
                       (double)bytes / (1 << 20));
    }
    net->ctx = ctx ? ctx : net->own_ctx;
    net->spec = *spec;
    net->inputs = bp_shape_size(spec->input);
    net->max_batch = max_batch;
    net->nlayers = P->n;
    net->outputs = outputs_of(spec);
    net->max_width = z.width;
    net->nparams = z.params;
    net->ndecay = z.ndecay;
    net->nbuffers = z.buffers;
    place(P, max_batch, threads, net);
    bp_free(P);
    memset(net->grads, 0, net->nparams * sizeof(float));
    init_weights(net, seed);
    *out = net;
    return BP_OK;
}

void bp_net_destroy(bp_net *net)
{
    if (!net)
        return;
    bp_free(net->mem);
    bp_ctx_destroy(net->own_ctx);
    bp_free(net);
}

size_t bp_net_count_params(const bp_net *net)
{
    size_t n = 0;
    for (size_t i = 0; i < net->nlayers; i++) {
        const bp_layer *l = &net->layers[i];
        for (size_t t = 0; t < l->ntensors; t++)
            if (l->role[t] == BP_T_WEIGHT || l->role[t] == BP_T_PARAM)
                n += l->n[t];
    }
    return n;
}

void bp_net_weight_stats(const bp_net *net, double *norm, double *zero_frac)
{
    double ss = 0;
    size_t z = 0, n = 0;
    for (size_t i = 0; i < net->ndense; i++) {
        const float *w = net->params + net->wt[i].off;
        for (size_t j = 0; j < net->wt[i].n; j++) {
            ss += (double)w[j] * w[j];
            z += fabsf(w[j]) < 1e-3f;
        }
        n += net->wt[i].n;
    }
    *norm = sqrt(ss);
    *zero_frac = n ? (double)z / (double)n : 0;
}

/* ---------------------------------------------------------------------- */
/* Forward, loss, backward                                                 */

void bp_net_forward(bp_net *net, const float *x, size_t batch, bool train,
                    uint64_t dropout_key)
{
    const float *in = x;
    for (size_t i = 0; i < net->nlayers; i++) {
        bp_layer *l = &net->layers[i];
        bp_prof_at(net->ctx, (long)i, BP_PASS_FORWARD);
        /* an absorbed activation ran in the epilogue of the layer before,
         * in place on the same buffer; an absorbed pool in its forward */
        if (!(l->absorbed && !net->ctx->unfused))
            l->ops->forward(l, net->ctx, in, batch, train, dropout_key);
        in = l->y;
    }
}

const float *bp_net_output(const bp_net *net)
{
    return net->layers[net->nlayers - 1].y;
}

int32_t bp_net_predict(const bp_net *net, size_t r)
{
    const float *z = bp_net_output(net) + r * net->outputs;
    if (net->spec.loss == BP_LOSS_BCE)
        return z[0] > 0.0f;
    int32_t best = 0;
    for (size_t c = 1; c < net->outputs; c++)
        if (z[c] > z[best])
            best = (int32_t)c;
    return best;
}

double bp_net_loss(bp_net *net, const int32_t *labels, const float *targets,
                   size_t batch, bool want_grad, size_t *correct)
{
    const bp_kernels *k = net->ctx->k;
    const float *z = bp_net_output(net);
    size_t c = net->outputs;
    float scale = 1.0f / (float)batch;
    float *d = want_grad ? net->delta[0] : NULL;
    double loss = 0.0;
    bp_prof_at(net->ctx, -1, BP_PASS_LOSS);
    if (net->spec.classes == 0) { /* regression: one output per row */
        loss = k->mse(batch, z, targets, scale, d);
        if (correct) {
            size_t ok = 0;
            for (size_t r = 0; r < batch; r++)
                ok += fabs((double)z[r] - targets[r]) < BP_REG_TOLERANCE;
            *correct = ok;
        }
        return loss;
    }
    switch (net->spec.loss) {
    case BP_LOSS_CE:
        loss = k->softmax_xent(batch, c, z, c, labels, scale, d, c);
        break;
    case BP_LOSS_MSE: {
        float *prob = net->aux, *onehot = net->aux2;
        k->softmax_fwd(batch, c, z, c, prob, c);
        memset(onehot, 0, batch * c * sizeof(float));
        for (size_t r = 0; r < batch; r++)
            onehot[r * c + (size_t)labels[r]] = 1.0f;
        float *dprob = want_grad ? net->delta[1] : NULL;
        loss = k->mse(batch * c, prob, onehot, scale, dprob);
        if (want_grad)
            k->softmax_bwd(batch, c, prob, c, dprob, c, d, c);
        break;
    }
    case BP_LOSS_BCE: {
        float *t = net->aux2;
        for (size_t r = 0; r < batch; r++)
            t[r] = (float)labels[r];
        loss = k->sigmoid_bce(batch, z, t, scale, d);
        break;
    }
    }
    if (correct) {
        size_t ok = 0;
        for (size_t r = 0; r < batch; r++)
            ok += bp_net_predict(net, r) == labels[r];
        *correct = ok;
    }
    return loss;
}

void bp_net_backward(bp_net *net, const float *x, size_t batch)
{
    int cur = 0;
    for (size_t i = net->nlayers; i-- > 0;) {
        bp_layer *l = &net->layers[i];
        const float *in = i ? net->layers[i - 1].y : x;
        /* an absorbed activation whose layer applies its derivative too,
         * an absorbed pool (whose absorbing layer takes its backward) */
        if (l->absorbed && !net->ctx->unfused &&
            (!l->ops->is_activation ||
             net->layers[i - 1].ops->absorbs_act_grad))
            continue;
        bp_prof_at(net->ctx, (long)i, BP_PASS_BACKWARD);
        float *r = l->ops->backward(l, net->ctx, in, batch, net->delta[cur],
                                    net->delta[!cur], i > 0);
        if (r == net->delta[!cur])
            cur = !cur;
    }
}

double bp_net_grad_sumsq(const bp_net *net, double *dense_sumsq)
{
    bp_prof_at(net->ctx, -1, BP_PASS_UPDATE);
    for (size_t i = 0; i < net->ndense; i++)
        dense_sumsq[i] = bp_par_sumsq(net->ctx, net->wt[i].n,
                                      net->grads + net->wt[i].off);
    return bp_par_sumsq(net->ctx, net->nparams - net->ndecay,
                        net->grads + net->ndecay);
}

void bp_net_evaluate(bp_net *net, const bp_dataset *d, double *loss,
                     double *acc, size_t *confusion)
{
    double total = 0.0;
    size_t right = 0, c = d->classes;
    if (c == 0)
        confusion = NULL;
    if (confusion)
        memset(confusion, 0, c * c * sizeof *confusion);
    bp_prof_eval_mark(net->ctx, true);
    for (size_t r0 = 0; r0 < d->n; r0 += net->max_batch) {
        size_t b = d->n - r0 < net->max_batch ? d->n - r0 : net->max_batch;
        bp_net_forward(net, d->x + r0 * d->dim, b, false, 0);
        size_t ok = 0;
        total += bp_net_loss(net, d->y + r0, d->t ? d->t + r0 : NULL, b,
                             false, &ok);
        right += ok;
        if (confusion)
            for (size_t r = 0; r < b; r++)
                confusion[(size_t)d->y[r0 + r] * c +
                          (size_t)bp_net_predict(net, r)]++;
    }
    bp_prof_eval_mark(net->ctx, false);
    *loss = d->n ? total / (double)d->n : 0.0;
    *acc = d->n ? (double)right / (double)d->n : 0.0;
}
