/* core/net.c - building, running and differentiating a network (net.h).
 *
 * Forward, for each layer, reading the previous layer's output:
 *   dense    y = x W + b                      gemm NN, bias_add
 *   bn       y = gamma xhat + beta             bn_fwd_train / bn_fwd_infer
 *   act      y = f(x), in place on x           sigmoid/tanh/relu_fwd
 *   dropout  y = x * mask                      dropout_fwd
 * Backward, from the loss's delta d = dL/dy of the last layer:
 *   dense    dW = x^T d, db = colsum(d), dx = d W^T   gemm TN, bias_grad,
 *                                                     gemm NT (skipped for
 *                                                     the first layer)
 *   bn       dx, dgamma, dbeta                 bn_bwd
 *   act      dx = d * f'(y), in place          *_bwd (from the output y)
 *   dropout  dx = d * mask, in place           dropout_bwd
 *
 * A recurrent layer (always the first) over T steps of F features, for a
 * batch of B sequences, with G = H (RNN) or 4H (LSTM) gate columns:
 *   Z = X Wx + b over all B*T rows at once     gemm NN, bias_add
 *   per step t: Z_t += h_{t-1} Wh (t > 0)      gemm NN, beta 1
 *     RNN   h_t = tanh(Z_t)                    tanh_fwd
 *     LSTM  gates, c_t, h_t from Z_t, c_{t-1}  lstm_fwd
 * and backward through time from dh = dL/dh_T (dc = 0):
 *   per step t = T..1:
 *     RNN   dZ_t = dh * (1 - h_t^2)            tanh_bwd
 *     LSTM  dZ_t, dc <- dc_{t-1}               lstm_bwd
 *     dh = dZ_t Wh^T (t > 1)                   gemm NT
 *   dWx = X^T dZ, dWh = Hin^T dZ, db = colsum(dZ) over all B*T rows
 *                                              gemm TN, bias_grad
 * where Hin holds the state entering each step (zero for the first).
 */
#include "core/net.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/par.h"
#include "core/rng.h"

const char *const bp_act_names[] = {"relu", "sigmoid", "tanh", NULL};
const char *const bp_loss_names[] = {"ce", "mse", "bce", NULL};
const char *const bp_init_names[] = {"auto", "he", "xavier", NULL};
const char *const bp_cell_names[] = {"mlp", "rnn", "lstm", NULL};

/* ---------------------------------------------------------------------- */
/* Spec                                                                    */

bp_status bp_net_spec_check(const bp_net_spec *s, bp_err *err)
{
    if (s->inputs == 0 || s->inputs > BP_MAX_WIDTH)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "inputs %zu: must be between 1 and %d", s->inputs,
                       BP_MAX_WIDTH);
    if (s->classes == 1 || s->classes > BP_MAX_WIDTH)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "classes %zu: must be between 2 and %d (or 0: "
                       "regression)",
                       s->classes, BP_MAX_WIDTH);
    if (s->classes == 0 && s->loss != BP_LOSS_MSE)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "--loss %s: the data set is a regression (real "
                       "targets); use --loss mse",
                       bp_loss_names[s->loss]);
    if (s->loss == BP_LOSS_BCE && s->classes != 2)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "--loss bce needs two classes, the data has %zu "
                       "(use ce)",
                       s->classes);
    if (s->nhidden > BP_MAX_HIDDEN)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "--layers: %zu hidden layers, at most %d", s->nhidden,
                       BP_MAX_HIDDEN);
    for (size_t i = 0; i < s->nhidden; i++)
        if (s->hidden[i] == 0 || s->hidden[i] > BP_MAX_WIDTH)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "--layers: width %zu: must be between 1 and %d",
                           s->hidden[i], BP_MAX_WIDTH);
    if (!(s->dropout >= 0.0f && s->dropout < 1.0f))
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "--dropout %g: must be in [0, 1)", (double)s->dropout);
    if (!(s->init_gain > 0.0f && s->init_gain <= 1000.0f))
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "--init-gain %g: must be in (0, 1000]",
                       (double)s->init_gain);
    if ((unsigned)s->act > BP_ACT_TANH || (unsigned)s->loss > BP_LOSS_BCE ||
        (unsigned)s->init > BP_INIT_XAVIER || (unsigned)s->cell > BP_CELL_LSTM)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "bad activation, loss, init or cell");
    if (s->cell != BP_CELL_NONE) {
        const char *m = bp_cell_names[s->cell];
        if (s->steps == 0 || s->steps > BP_MAX_STEPS ||
            s->inputs % s->steps != 0)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "--model %s: %zu time steps for %zu inputs (must "
                           "divide them, at most %d)",
                           m, s->steps, s->inputs, BP_MAX_STEPS);
        if (s->nhidden == 0)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "--model %s: no recurrent width", m);
        if (s->batchnorm)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "--batchnorm: not with --model %s", m);
    }
    return BP_OK;
}

static size_t outputs_of(const bp_net_spec *s)
{
    return s->loss == BP_LOSS_BCE || s->classes == 0 ? 1 : s->classes;
}

/* "784-256-128-10 relu ce", "28x28-lstm128-10 relu ce" */
void bp_net_describe(const bp_net_spec *s, char *buf, size_t size)
{
    size_t used, first = 0;
    if (s->cell != BP_CELL_NONE && s->steps && s->nhidden) {
        used = (size_t)snprintf(buf, size, "%zux%zu-%s%zu", s->steps,
                                s->inputs / s->steps, bp_cell_names[s->cell],
                                s->hidden[0]);
        first = 1;
    } else {
        used = (size_t)snprintf(buf, size, "%zu", s->inputs);
    }
    for (size_t i = first; i < s->nhidden && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "-%zu", s->hidden[i]);
    bool dense_hidden = s->nhidden > first; /* --act applies to these */
    if (used < size)
        snprintf(buf + used, size - used, "-%zu%s%s %s%s%s", outputs_of(s),
                 dense_hidden ? " " : "",
                 dense_hidden ? bp_act_names[s->act] : "",
                 bp_loss_names[s->loss],
                 s->batchnorm ? " batchnorm" : "",
                 s->dropout > 0 ? " dropout" : "");
}

/* ---------------------------------------------------------------------- */
/* Layout                                                                  */

/* The layer list of a spec (offsets and buffers are filled later). */
static size_t build_layers(const bp_net_spec *s, bp_layer *L, size_t *outputs)
{
    size_t n = 0, in = s->inputs;
    int dense = 0;
    for (size_t h = 0; h <= s->nhidden; h++) {
        bool last = h == s->nhidden;
        size_t out = last ? outputs_of(s) : s->hidden[h];
        if (h == 0 && !last && s->cell != BP_CELL_NONE) {
            bool lstm = s->cell == BP_CELL_LSTM;
            size_t f = in / s->steps, gates = lstm ? 4 * out : out;
            L[n++] = (bp_layer){.kind = lstm ? BP_L_LSTM : BP_L_RNN, .in = f,
                                .out = out, .steps = s->steps,
                                .nw = (f + out) * gates, .dense = dense++};
            if (s->dropout > 0)
                L[n++] = (bp_layer){.kind = BP_L_DROPOUT, .in = out,
                                    .out = out, .p = s->dropout};
            in = out;
            continue;
        }
        L[n++] = (bp_layer){.kind = BP_L_DENSE, .in = in, .out = out,
                            .nw = in * out, .dense = dense++};
        if (!last) {
            if (s->batchnorm)
                L[n++] = (bp_layer){.kind = BP_L_BN, .in = out, .out = out};
            L[n++] = (bp_layer){.kind = BP_L_ACT, .in = out, .out = out,
                                .act = s->act};
            if (s->dropout > 0)
                L[n++] = (bp_layer){.kind = BP_L_DROPOUT, .in = out,
                                    .out = out, .p = s->dropout};
        }
        in = out;
        *outputs = out;
    }
    return n;
}

/* Float counts of everything the net allocates, with overflow checks. */
typedef struct sizes {
    size_t params, ndecay, buffers, acts, width;
    bool overflow;
} sizes;

static size_t add_sz(sizes *z, size_t a, size_t b)
{
    if (a > (size_t)-1 - b)
        z->overflow = true;
    return a + b;
}

static size_t mul_sz(sizes *z, size_t a, size_t b)
{
    if (a && b > (size_t)-1 / a)
        z->overflow = true;
    return a * b;
}

/* Round a float count up to a 64-byte boundary. */
static size_t pad16(size_t n) { return (n + 15) & ~(size_t)15; }

static sizes measure(const bp_layer *L, size_t n, size_t batch)
{
    sizes z = {0};
    z.width = 1;
    for (size_t i = 0; i < n; i++) {
        if (L[i].out > z.width)
            z.width = L[i].out;
        if (L[i].in > z.width)
            z.width = L[i].in;
        size_t act = pad16(mul_sz(&z, batch, L[i].out));
        switch (L[i].kind) {
        case BP_L_DENSE:
            z.ndecay = add_sz(&z, z.ndecay, pad16(mul_sz(&z, L[i].in, L[i].out)));
            z.params = add_sz(&z, z.params, pad16(L[i].out));
            z.acts = add_sz(&z, z.acts, act);
            break;
        case BP_L_BN:
            z.params = add_sz(&z, z.params, 2 * pad16(L[i].out));
            z.buffers = add_sz(&z, z.buffers, 2 * pad16(L[i].out));
            z.acts = add_sz(&z, z.acts, add_sz(&z, act, 2 * pad16(L[i].out)));
            break;
        case BP_L_ACT:
            break;
        case BP_L_DROPOUT:
            z.acts = add_sz(&z, z.acts, 2 * act);
            break;
        case BP_L_RNN:
        case BP_L_LSTM: {
            bool lstm = L[i].kind == BP_L_LSTM;
            size_t gates = lstm ? 4 * L[i].out : L[i].out;
            size_t seq = mul_sz(&z, batch, L[i].steps);
            size_t zs = pad16(mul_sz(&z, seq, gates));
            size_t hs = pad16(mul_sz(&z, seq, L[i].out));
            z.ndecay = add_sz(&z, z.ndecay, pad16(L[i].nw));
            z.params = add_sz(&z, z.params, pad16(gates));
            z.acts = add_sz(&z, z.acts, add_sz(&z, act, add_sz(&z, zs, hs)));
            if (lstm)
                z.acts = add_sz(&z, z.acts, add_sz(&z, hs, act));
            break;
        }
        }
    }
    z.params = add_sz(&z, z.params, z.ndecay);
    return z;
}

static size_t total_floats(const sizes *z, size_t batch)
{
    sizes t = *z;
    size_t delta = pad16(mul_sz(&t, batch, z->width));
    size_t n = add_sz(&t, 2 * z->params, z->buffers);
    n = add_sz(&t, n, z->acts);
    n = add_sz(&t, n, mul_sz(&t, 4, delta)); /* 2 deltas + 2 aux */
    return t.overflow ? 0 : n;
}

size_t bp_net_bytes(const bp_net_spec *spec, size_t max_batch)
{
    bp_layer L[BP_MAX_LAYERS];
    size_t outputs;
    size_t n = build_layers(spec, L, &outputs);
    sizes z = measure(L, n, max_batch);
    if (z.overflow)
        return 0;
    return bp_mul_size(total_floats(&z, max_batch), sizeof(float));
}

/* ---------------------------------------------------------------------- */
/* Create / destroy                                                        */

static void init_weights(bp_net *net, uint64_t seed)
{
    const bp_net_spec *s = &net->spec;
    bp_init init = s->init;
    if (init == BP_INIT_AUTO)
        init = s->act == BP_ACT_RELU ? BP_INIT_HE : BP_INIT_XAVIER;
    memset(net->params, 0, net->nparams * sizeof(float));
    for (size_t i = 0; i < net->nlayers; i++) {
        bp_layer *l = &net->layers[i];
        if (l->kind == BP_L_BN) {
            for (size_t j = 0; j < l->out; j++) {
                net->params[l->w + j] = 1.0f;       /* gamma */
                net->buffers[l->rv + j] = 1.0f;     /* running var */
            }
            continue;
        }
        if (!bp_layer_has_weights(l))
            continue;
        bp_rng g = bp_rng_stream(seed, 1000 + (uint64_t)l->dense);
        float *w = net->params + l->w;
        size_t n = l->nw;
        if (l->kind != BP_L_DENSE) {
            double a = s->init_gain / sqrt((double)l->out);
            for (size_t j = 0; j < n; j++)
                w[j] = (float)(a * (2.0 * bp_rng_uniform(&g) - 1.0));
            if (l->kind == BP_L_LSTM)
                for (size_t j = 0; j < l->out; j++)
                    net->params[l->b + l->out + j] = 1.0f; /* forget gate */
        } else if (init == BP_INIT_HE) {
            double sd = s->init_gain * sqrt(2.0 / (double)l->in);
            for (size_t j = 0; j < n; j++)
                w[j] = (float)(sd * bp_rng_normal(&g));
        } else {
            double a = s->init_gain * sqrt(6.0 / (double)(l->in + l->out));
            for (size_t j = 0; j < n; j++)
                w[j] = (float)(a * (2.0 * bp_rng_uniform(&g) - 1.0));
        }
    }
}

bp_status bp_net_create(const bp_net_spec *spec, size_t max_batch,
                        uint64_t seed, const bp_ctx *ctx, bp_net **out,
                        bp_err *err)
{
    *out = NULL;
    bp_status s = bp_net_spec_check(spec, err);
    if (s != BP_OK)
        return s;
    if (max_batch == 0)
        return bp_fail(err, BP_ERR_INVALID_ARG, "batch 0: must be >= 1");
    bp_net *net = bp_alloc_zero(sizeof *net);
    if (!net)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the network");
    net->spec = *spec;
    if (!ctx && (s = bp_ctx_create_for(NULL, 0, &net->own_ctx, err)) != BP_OK) {
        bp_free(net);
        return s;
    }
    net->ctx = ctx ? ctx : net->own_ctx;
    net->max_batch = max_batch;
    net->nlayers = build_layers(spec, net->layers, &net->outputs);
    sizes z = measure(net->layers, net->nlayers, max_batch);
    size_t floats = total_floats(&z, max_batch);
    size_t bytes = bp_mul_size(floats, sizeof(float));
    size_t limit = bp_mem_limit();
    if (z.overflow || bytes == 0 || bytes > limit || z.params > BP_MAX_PARAMS) {
        char d[256];
        bp_net_describe(spec, d, sizeof d);
        bp_net_destroy(net);
        return bp_fail(err, BP_ERR_NOMEM,
                       "network %s at batch %zu needs %.1f GiB (%zu parameters "
                       "and their activations); this machine allows %.1f GiB",
                       d, max_batch,
                       z.overflow ? INFINITY : (double)bytes / (1 << 30),
                       z.params, (double)limit / (1 << 30));
    }
    net->mem = bp_alloc(bytes);
    if (!net->mem) {
        bp_net_destroy(net);
        return bp_fail(err, BP_ERR_NOMEM,
                       "out of memory for the network (%.1f MiB)",
                       (double)bytes / (1 << 20));
    }
    net->max_width = z.width;
    net->nparams = z.params;
    net->ndecay = z.ndecay;
    net->nbuffers = z.buffers;
    float *p = net->mem;
    net->params = p, p += z.params;
    net->grads = p, p += z.params;
    net->buffers = p, p += z.buffers;
    memset(net->grads, 0, z.params * sizeof(float));
    memset(net->buffers, 0, z.buffers * sizeof(float));
    /* weights first, then biases and BN parameters */
    size_t woff = 0, boff = z.ndecay, roff = 0;
    float *prev_y = NULL;
    for (size_t i = 0; i < net->nlayers; i++) {
        bp_layer *l = &net->layers[i];
        size_t act = pad16(max_batch * l->out);
        switch (l->kind) {
        case BP_L_DENSE:
            l->w = woff, woff += pad16(l->nw);
            l->b = boff, boff += pad16(l->out);
            l->y = p, p += act;
            net->ndense++;
            break;
        case BP_L_RNN:
        case BP_L_LSTM: {
            size_t gates = l->kind == BP_L_LSTM ? 4 * l->out : l->out;
            size_t seq = max_batch * l->steps;
            l->w = woff, woff += pad16(l->nw);
            l->b = boff, boff += pad16(gates);
            l->y = p, p += act;
            l->z = p, p += pad16(seq * gates);
            l->hs = p, p += pad16(seq * l->out);
            if (l->kind == BP_L_LSTM) {
                l->cs = p, p += pad16(seq * l->out);
                l->dc = p, p += act;
            }
            net->steps = l->steps;
            net->ndense++;
            break;
        }
        case BP_L_BN:
            l->w = boff, boff += pad16(l->out);
            l->b = boff, boff += pad16(l->out);
            l->rm = roff, roff += pad16(l->out);
            l->rv = roff, roff += pad16(l->out);
            l->y = p, p += act;
            l->mean = p, p += pad16(l->out);
            l->invstd = p, p += pad16(l->out);
            break;
        case BP_L_ACT:
            l->y = prev_y; /* in place */
            break;
        case BP_L_DROPOUT:
            l->y = p, p += act;
            l->mask = p, p += act;
            break;
        }
        prev_y = l->y;
    }
    size_t delta = pad16(max_batch * z.width);
    net->delta[0] = p, p += delta;
    net->delta[1] = p, p += delta;
    net->aux = p, p += delta;
    net->aux2 = p;
    init_weights(net, seed);
    *out = net;
    return BP_OK;
}

void bp_net_weight_stats(const bp_net *net, double *norm, double *zero_frac)
{
    double ss = 0;
    size_t z = 0, n = 0;
    for (size_t i = 0; i < net->nlayers; i++) {
        const bp_layer *l = &net->layers[i];
        if (!bp_layer_has_weights(l))
            continue;
        const float *w = net->params + l->w;
        for (size_t j = 0; j < l->nw; j++) {
            ss += (double)w[j] * w[j];
            z += fabsf(w[j]) < 1e-3f;
        }
        n += l->nw;
    }
    *norm = sqrt(ss);
    *zero_frac = n ? (double)z / (double)n : 0;
}

size_t bp_net_count_params(const bp_net *net)
{
    size_t n = 0;
    for (size_t i = 0; i < net->nlayers; i++) {
        const bp_layer *l = &net->layers[i];
        switch (l->kind) {
        case BP_L_DENSE: n += l->nw + l->out; break; /* nw = in x out */
        case BP_L_RNN:
        case BP_L_LSTM: /* nw = G(F + H), G gate columns */
            n += l->nw + (l->kind == BP_L_LSTM ? 4 : 1) * l->out;
            break;
        case BP_L_BN: n += 2 * l->out; break;
        case BP_L_ACT:
        case BP_L_DROPOUT: break;
        }
    }
    return n;
}

void bp_net_destroy(bp_net *net)
{
    if (!net)
        return;
    bp_free(net->mem);
    bp_ctx_destroy(net->own_ctx);
    bp_free(net);
}

/* ---------------------------------------------------------------------- */
/* Forward                                                                 */

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

static size_t gates_of(const bp_layer *l)
{
    return l->kind == BP_L_LSTM ? 4 * l->out : l->out;
}

/* The recurrent layer's forward pass over b sequences (x: b x T*F). */
static void rec_forward(bp_net *net, bp_layer *l, const float *x, size_t b)
{
    const bp_kernels *k = net->ctx->k;
    size_t f = l->in, h = l->out, T = l->steps, g = gates_of(l);
    const float *wx = net->params + l->w, *wh = wx + f * g;
    size_t ldz = T * g, ldh = T * h;
    bp_gemm(net->ctx, false, false, b * T, g, f, 1.0f, x, f, wx, g, 0.0f, l->z, g);
    k->bias_add(b * T, g, net->params + l->b, l->z, g);
    for (size_t r = 0; r < b; r++)
        memset(l->hs + r * ldh, 0, h * sizeof(float)); /* h_0 = 0 */
    for (size_t t = 0; t < T; t++) {
        float *zt = l->z + t * g;
        if (t > 0)
            bp_gemm(net->ctx, false, false, b, g, h, 1.0f, l->hs + t * h, ldh, wh, g,
                    1.0f, zt, ldz);
        bool last = t + 1 == T;
        float *ho = last ? l->y : l->hs + (t + 1) * h;
        size_t ldo = last ? h : ldh;
        if (l->kind == BP_L_LSTM) {
            k->lstm_fwd(b, h, zt, ldz, t ? l->cs + (t - 1) * h : NULL,
                        l->cs + t * h, ldh, ho, ldo);
        } else {
            for (size_t r = 0; r < b; r++)
                k->tanh_fwd(h, zt + r * ldz, ho + r * ldo);
        }
    }
}

/* Backward through time from d = dL/dh_T (b x out, overwritten). */
static void rec_backward(bp_net *net, bp_layer *l, const float *x, size_t b,
                         float *d)
{
    const bp_kernels *k = net->ctx->k;
    size_t f = l->in, h = l->out, T = l->steps, g = gates_of(l);
    const float *wh = net->params + l->w + f * g;
    float *gwx = net->grads + l->w, *gwh = gwx + f * g;
    size_t ldz = T * g, ldh = T * h;
    if (l->kind == BP_L_LSTM)
        memset(l->dc, 0, b * h * sizeof(float));
    for (size_t t = T; t-- > 0;) {
        net->step_sumsq[t] = k->sumsq(b * h, d);
        float *zt = l->z + t * g;
        if (l->kind == BP_L_LSTM) {
            k->lstm_bwd(b, h, zt, ldz, t ? l->cs + (t - 1) * h : NULL,
                        l->cs + t * h, ldh, d, h, l->dc, h);
        } else {
            bool last = t + 1 == T;
            const float *ht = last ? l->y : l->hs + (t + 1) * h;
            size_t ldo = last ? h : ldh;
            for (size_t r = 0; r < b; r++)
                k->tanh_bwd(h, ht + r * ldo, d + r * h, zt + r * ldz);
        }
        if (t > 0)
            bp_gemm(net->ctx, false, true, b, h, g, 1.0f, zt, ldz, wh, g, 0.0f, d, h);
    }
    bp_gemm(net->ctx, true, false, f, g, b * T, 1.0f, x, f, l->z, g, 0.0f, gwx, g);
    bp_gemm(net->ctx, true, false, h, g, b * T, 1.0f, l->hs, h, l->z, g, 0.0f, gwh, g);
    k->bias_grad(b * T, g, l->z, g, net->grads + l->b);
}

void bp_net_forward(bp_net *net, const float *x, size_t batch, bool train,
                    uint64_t dropout_key)
{
    const bp_kernels *k = net->ctx->k;
    const float *in = x;
    for (size_t i = 0; i < net->nlayers; i++) {
        bp_layer *l = &net->layers[i];
        size_t n = batch * l->out;
        switch (l->kind) {
        case BP_L_DENSE:
            bp_gemm(net->ctx, false, false, batch, l->out, l->in, 1.0f, in, l->in,
                    net->params + l->w, l->out, 0.0f, l->y, l->out);
            k->bias_add(batch, l->out, net->params + l->b, l->y, l->out);
            break;
        case BP_L_BN:
            if (train)
                k->bn_fwd_train(batch, l->out, in, l->out, net->params + l->w,
                                net->params + l->b, BN_EPS, BN_MOMENTUM, l->y,
                                l->out, l->mean, l->invstd,
                                net->buffers + l->rm, net->buffers + l->rv);
            else
                k->bn_fwd_infer(batch, l->out, in, l->out, net->params + l->w,
                                net->params + l->b, net->buffers + l->rm,
                                net->buffers + l->rv, BN_EPS, l->y, l->out);
            break;
        case BP_L_ACT:
            if (l->act == BP_ACT_RELU)
                k->relu_fwd(n, l->y, l->y);
            else if (l->act == BP_ACT_SIGMOID)
                k->sigmoid_fwd(n, l->y, l->y);
            else
                k->tanh_fwd(n, l->y, l->y);
            break;
        case BP_L_DROPOUT:
            if (train)
                k->dropout_fwd(n, bp_rng_key(dropout_key, i), l->p, in, l->y,
                               l->mask);
            else
                memcpy(l->y, in, n * sizeof(float));
            break;
        case BP_L_RNN:
        case BP_L_LSTM:
            rec_forward(net, l, in, batch);
            break;
        }
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

/* ---------------------------------------------------------------------- */
/* Loss and backward                                                       */

double bp_net_loss(bp_net *net, const int32_t *labels, const float *targets,
                   size_t batch, bool want_grad, size_t *correct)
{
    const bp_kernels *k = net->ctx->k;
    const float *z = bp_net_output(net);
    size_t c = net->outputs;
    float scale = 1.0f / (float)batch;
    float *d = want_grad ? net->delta[0] : NULL;
    double loss = 0.0;
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
    const bp_kernels *k = net->ctx->k;
    int cur = 0;
    for (size_t i = net->nlayers; i-- > 0;) {
        bp_layer *l = &net->layers[i];
        float *d = net->delta[cur];
        const float *in = i ? net->layers[i - 1].y : x;
        size_t n = batch * l->out;
        switch (l->kind) {
        case BP_L_RNN:
        case BP_L_LSTM:
            rec_backward(net, l, in, batch, d);
            break;
        case BP_L_DENSE:
            bp_gemm(net->ctx, true, false, l->in, l->out, batch, 1.0f, in, l->in, d,
                    l->out, 0.0f, net->grads + l->w, l->out);
            k->bias_grad(batch, l->out, d, l->out, net->grads + l->b);
            if (i > 0) {
                bp_gemm(net->ctx, false, true, batch, l->in, l->out, 1.0f, d, l->out,
                        net->params + l->w, l->out, 0.0f, net->delta[!cur],
                        l->in);
                cur = !cur;
            }
            break;
        case BP_L_BN:
            k->bn_bwd(batch, l->out, in, l->out, d, l->out, net->params + l->w,
                      l->mean, l->invstd, net->delta[!cur], l->out,
                      net->grads + l->w, net->grads + l->b);
            cur = !cur;
            break;
        case BP_L_ACT:
            if (l->act == BP_ACT_RELU)
                k->relu_bwd(n, l->y, d, d);
            else if (l->act == BP_ACT_SIGMOID)
                k->sigmoid_bwd(n, l->y, d, d);
            else
                k->tanh_bwd(n, l->y, d, d);
            break;
        case BP_L_DROPOUT:
            k->dropout_bwd(n, d, l->mask, d);
            break;
        }
    }
}

double bp_net_grad_sumsq(const bp_net *net, double *dense_sumsq)
{
    for (size_t i = 0; i < net->nlayers; i++) {
        const bp_layer *l = &net->layers[i];
        if (bp_layer_has_weights(l))
            dense_sumsq[l->dense] = bp_par_sumsq(net->ctx, l->nw, net->grads + l->w);
    }
    return bp_par_sumsq(net->ctx, net->nparams - net->ndecay, net->grads + net->ndecay);
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
    *loss = d->n ? total / (double)d->n : 0.0;
    *acc = d->n ? (double)right / (double)d->n : 0.0;
}
