/* tests/check_net.c - the network's gradients and its ability to learn.
 *
 * Gradient check, driven by the layer list: each layer kind of
 * bp_layer_kinds has a double-precision reference forward here, written
 * from its definition (refs[]; test_coverage fails for a kind without one
 * or one that no spec uses). For small networks of every kind (dense,
 * batch norm, each activation, dropout, rnn, lstm, and convolution,
 * pooling and channel dropout over images), in the orders the
 * shorthands build and in others (every kind first, batch norm feeding a
 * recurrent layer, mixed activations), and each loss (ce, mse, bce), the
 * analytic gradients from bp_net_backward (float, on the scalar table and
 * on the best table) are compared with central differences of the double
 * forward (h = 1e-6; the dropout masks of the float pass are reused). Bound: relative error
 * < 1e-3 of max(|analytic|, |numeric|, 1e-3 * max|gradient|): a float
 * gradient's error scales with the sum of its terms, not with its own
 * value, so components a thousand times smaller than the largest (or
 * exactly zero, like a dense bias ahead of batch norm) are compared at
 * that floor. A
 * random-direction check (kann's kad_check_grad: one +-h pair along a
 * random unit vector) covers the whole parameter vector at once.
 * The same check covers the recurrent layers (an Elman RNN and an LSTM
 * unrolled over T = 5 steps, with a dense head, with and without dropout,
 * for a classification and a regression loss): backpropagation through
 * time against central differences of a double-precision unrolled forward.
 * Learning: XOR 2-2-1 with sigmoid reaches 100% from seed 0; two spirals
 * reach >= 95% test accuracy with a 64-64 ReLU net; an LSTM learns the
 * adding problem at T = 10 to a test MSE below 0.01 (predicting the mean
 * scores 0.167).
 * Channel dropout's mask: one documented draw per (image, channel), the
 * same at every pixel, dropping a share P of the channels.
 * Parameter count: bp_net_count_params is PyTorch's sum of numel() (no
 * padding) for an MLP, one with batch norm, an RNN and an LSTM.
 * Export: the .npz and .safetensors files of a net with every tensor kind
 * hold each tensor's floats unpadded under its name and shape, the same
 * bytes twice, and every allocation that fails gives BP_ERR_NOMEM.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/export.h"
#include "core/net.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/train.h"
#include "test_util.h"

enum { B = 6, IN = 5, T = 5, F = 3 };
#define IMG ((bp_shape){5, 5, 2})

/* A spec from the layer grammar (init auto, gain 1 unless changed). */
static bp_net_spec spec_of(const char *layers, bp_shape in, size_t classes,
                           bp_loss loss)
{
    bp_net_spec s = {.input = in, .classes = classes, .loss = loss,
                     .init_gain = 1.0f,
                     .forget_bias = 1.0f};
    bp_err err = {0};
    ck_assert_msg(bp_net_spec_parse(layers, &s, &err) == BP_OK, "%s: %s",
                  layers, err.msg);
    return s;
}

/* ---- a double-precision forward of the same network: one reference per
 * layer kind, written from the definitions, reading the float net's
 * tensors (in the order each layer file declares them) */

typedef struct dnet {
    const bp_net *net; /* structure, masks */
    const double *p;   /* parameters (same layout as net->params) */
} dnet;

typedef void ref_fn(const dnet *d, const bp_layer *l, const double *in,
                    double *out);

static void ref_dense(const dnet *d, const bp_layer *l, const double *in,
                      double *out)
{
    size_t ni = bp_shape_size(l->in), no = l->spec.units;
    const double *w = d->p + l->off[1], *b = d->p + l->off[2];
    for (size_t r = 0; r < B; r++)
        for (size_t o = 0; o < no; o++) {
            double s = b[o];
            for (size_t i = 0; i < ni; i++)
                s += in[r * ni + i] * w[i * no + o];
            out[r * no + o] = s;
        }
}

static void ref_bn(const dnet *d, const bp_layer *l, const double *in,
                   double *out)
{
    size_t C = l->in.c, rows = B * l->in.h * l->in.w;
    const double *gamma = d->p + l->off[1], *beta = d->p + l->off[2];
    for (size_t c = 0; c < C; c++) {
        double mu = 0, var = 0;
        for (size_t r = 0; r < rows; r++)
            mu += in[r * C + c];
        mu /= (double)rows;
        for (size_t r = 0; r < rows; r++)
            var += (in[r * C + c] - mu) * (in[r * C + c] - mu);
        var /= (double)rows;
        for (size_t r = 0; r < rows; r++)
            out[r * C + c] =
                (in[r * C + c] - mu) / sqrt(var + 1e-5) * gamma[c] + beta[c];
    }
}

static double sig_d(double x) { return 1 / (1 + exp(-x)); }

static void ref_act(const dnet *d, const bp_layer *l, const double *in,
                    double *out)
{
    (void)d;
    for (size_t i = 0; i < B * bp_shape_size(l->out); i++)
        out[i] = l->ops == &bp_layer_relu      ? (in[i] > 0 ? in[i] : 0)
                 : l->ops == &bp_layer_sigmoid ? sig_d(in[i])
                                               : tanh(in[i]);
}

static void ref_dropout(const dnet *d, const bp_layer *l, const double *in,
                        double *out)
{
    (void)d;
    for (size_t i = 0; i < B * bp_shape_size(l->out); i++)
        out[i] = in[i] * l->t[1][i]; /* the float pass's mask */
}

/* Channel dropout: one factor per (image, channel), the float pass's
 * draw read at the image's first pixel and applied to every pixel, so a
 * mask that varied over the pixels would not match the float forward. */
static void ref_dropout2d(const dnet *d, const bp_layer *l, const double *in,
                          double *out)
{
    (void)d;
    size_t C = l->in.c, pix = l->in.h * l->in.w;
    for (size_t r = 0; r < B; r++)
        for (size_t i = 0; i < pix; i++)
            for (size_t c = 0; c < C; c++) {
                size_t e = (r * pix + i) * C + c;
                out[e] = in[e] * l->t[1][r * pix * C + c];
            }
}

/* A recurrent layer over B sequences: out = h_T of each. */
static void ref_rec(const dnet *d, const bp_layer *l, const double *in,
                    double *out)
{
    bool lstm = l->ops == &bp_layer_lstm;
    size_t f = l->in.c, h = l->spec.units, G = lstm ? 4 * h : h;
    size_t steps = l->in.h;
    const double *wx = d->p + l->off[1], *wh = wx + f * G, *b = d->p + l->off[2];
    for (size_t r = 0; r < B; r++) {
        double hs[16] = {0}, cs[16] = {0}, z[64];
        for (size_t t = 0; t < steps; t++) {
            const double *xt = in + r * steps * f + t * f;
            for (size_t g = 0; g < G; g++) {
                double s = b[g];
                for (size_t i = 0; i < f; i++)
                    s += xt[i] * wx[i * G + g];
                for (size_t j = 0; j < h; j++)
                    s += hs[j] * wh[j * G + g];
                z[g] = s;
            }
            for (size_t j = 0; j < h; j++) {
                if (!lstm) {
                    hs[j] = tanh(z[j]);
                } else {
                    cs[j] = sig_d(z[h + j]) * cs[j] +
                            sig_d(z[j]) * tanh(z[2 * h + j]);
                    hs[j] = sig_d(z[3 * h + j]) * tanh(cs[j]);
                }
            }
        }
        for (size_t j = 0; j < h; j++)
            out[r * h + j] = hs[j];
    }
}

/* A convolution from its definition: zero padding, stride, weights in
 * (ky, kx, ci) x co order. */
static void ref_conv(const dnet *d, const bp_layer *l, const double *in,
                     double *out)
{
    size_t H = l->in.h, W = l->in.w, C = l->in.c, K = l->spec.kernel;
    size_t OH = l->out.h, OW = l->out.w, CO = l->spec.units;
    long S = (long)l->spec.stride, P = (long)l->spec.pad;
    const double *w = d->p + l->off[1], *b = d->p + l->off[2];
    for (size_t r = 0; r < B; r++)
        for (size_t oy = 0; oy < OH; oy++)
            for (size_t ox = 0; ox < OW; ox++)
                for (size_t co = 0; co < CO; co++) {
                    double s = b[co];
                    for (size_t ky = 0; ky < K; ky++)
                        for (size_t kx = 0; kx < K; kx++) {
                            long iy = (long)oy * S - P + (long)ky;
                            long ix = (long)ox * S - P + (long)kx;
                            if (iy < 0 || ix < 0 || iy >= (long)H ||
                                ix >= (long)W)
                                continue;
                            for (size_t ci = 0; ci < C; ci++)
                                s += in[((r * H + (size_t)iy) * W + (size_t)ix) * C + ci] *
                                     w[((ky * K + kx) * C + ci) * CO + co];
                        }
                    out[((r * OH + oy) * OW + ox) * CO + co] = s;
                }
}

static void ref_maxpool(const dnet *d, const bp_layer *l, const double *in,
                        double *out)
{
    (void)d;
    size_t H = l->in.h, W = l->in.w, C = l->in.c, K = l->spec.kernel;
    size_t OH = l->out.h, OW = l->out.w;
    long S = (long)l->spec.stride, P = (long)l->spec.pad;
    for (size_t r = 0; r < B; r++)
        for (size_t oy = 0; oy < OH; oy++)
            for (size_t ox = 0; ox < OW; ox++)
                for (size_t c = 0; c < C; c++) {
                    double m = -INFINITY;
                    for (size_t ky = 0; ky < K; ky++)
                        for (size_t kx = 0; kx < K; kx++) {
                            long iy = (long)oy * S - P + (long)ky;
                            long ix = (long)ox * S - P + (long)kx;
                            if (iy >= 0 && ix >= 0 && iy < (long)H &&
                                ix < (long)W)
                                m = fmax(m, in[((r * H + (size_t)iy) * W + (size_t)ix) * C + c]);
                        }
                    out[((r * OH + oy) * OW + ox) * C + c] = m;
                }
}

/* Average pooling from its definition: the mean over the window's pixels
 * inside the image (padding not counted); gap's window is the image. */
static void ref_avgpool(const dnet *d, const bp_layer *l, const double *in,
                        double *out)
{
    (void)d;
    bool gap = l->ops == &bp_layer_gap;
    size_t H = l->in.h, W = l->in.w, C = l->in.c;
    size_t KH = gap ? H : l->spec.kernel, KW = gap ? W : l->spec.kernel;
    size_t OH = l->out.h, OW = l->out.w;
    long S = gap ? 1 : (long)l->spec.stride, P = gap ? 0 : (long)l->spec.pad;
    for (size_t r = 0; r < B; r++)
        for (size_t oy = 0; oy < OH; oy++)
            for (size_t ox = 0; ox < OW; ox++)
                for (size_t c = 0; c < C; c++) {
                    double s = 0;
                    size_t n = 0;
                    for (size_t ky = 0; ky < KH; ky++)
                        for (size_t kx = 0; kx < KW; kx++) {
                            long iy = (long)oy * S - P + (long)ky;
                            long ix = (long)ox * S - P + (long)kx;
                            if (iy >= 0 && ix >= 0 && iy < (long)H &&
                                ix < (long)W) {
                                s += in[((r * H + (size_t)iy) * W + (size_t)ix) * C + c];
                                n++;
                            }
                        }
                    out[((r * OH + oy) * OW + ox) * C + c] = s / (double)n;
                }
}

/* A kind defined here, outside core/, to show that one needs nothing but
 * its ops: y = 2 x through a work tensor (the shared scratch block). */
static bp_status twice_plan(const bp_layer_spec *s, bp_shape in,
                            size_t max_batch, bp_layer_plan *p, bp_err *err)
{
    (void)err;
    size_t n = bp_satmul(max_batch, bp_shape_size(in));
    p->out = in;
    bp_plan_add(p, BP_T_ACT, n);
    bp_plan_add(p, BP_T_WORK, n + s->units); /* units: extra scratch asked */
    return BP_OK;
}

static void twice_forward(bp_layer *l, const bp_ctx *c, const float *x,
                          size_t b, bool train, uint64_t key)
{
    (void)c, (void)train, (void)key;
    size_t n = b * bp_shape_size(l->in);
    for (size_t i = 0; i < n; i++)
        l->t[1][i] = x[i];
    for (size_t i = 0; i < n; i++)
        l->y[i] = 2.0f * l->t[1][i];
}

static float *twice_backward(bp_layer *l, const bp_ctx *c, const float *x,
                             size_t b, float *d, float *dx, bool need_dx)
{
    (void)c, (void)x, (void)need_dx;
    for (size_t i = 0; i < b * bp_shape_size(l->in); i++)
        dx[i] = 2.0f * d[i];
    return dx;
}

static const bp_layer_ops test_twice = {
    .name = "twice", .title = "twice", .parse = bp_layer_parse_none,
    .format = bp_layer_format_name, .plan = twice_plan,
    .forward = twice_forward, .backward = twice_backward,
};

static void ref_twice(const dnet *d, const bp_layer *l, const double *in,
                      double *out)
{
    (void)d;
    for (size_t i = 0; i < B * bp_shape_size(l->in); i++)
        out[i] = 2 * in[i];
}

/* Every kind of bp_layer_kinds needs its reference here (test_coverage
 * fails otherwise). */
static const struct {
    const bp_layer_ops *ops;
    ref_fn *ref;
} refs[] = {
    {&bp_layer_dense, ref_dense},     {&bp_layer_bn, ref_bn},
    {&bp_layer_conv, ref_conv},       {&bp_layer_maxpool, ref_maxpool},
    {&bp_layer_avgpool, ref_avgpool}, {&bp_layer_gap, ref_avgpool},
    {&bp_layer_relu, ref_act},        {&bp_layer_sigmoid, ref_act},
    {&bp_layer_tanh, ref_act},        {&bp_layer_dropout, ref_dropout},
    {&bp_layer_dropout2d, ref_dropout2d},
    {&bp_layer_rnn, ref_rec},         {&bp_layer_lstm, ref_rec},
    {&test_twice, ref_twice},
};

static ref_fn *ref_of(const bp_layer_ops *ops)
{
    for (size_t i = 0; i < sizeof refs / sizeof *refs; i++)
        if (refs[i].ops == ops)
            return refs[i].ref;
    return NULL;
}

/* mean loss over the batch (targets: regression) */
static double loss_d(const dnet *d, const float *x, const int32_t *y,
                     const float *targets)
{
    const bp_net *net = d->net;
    static double buf[2][B * 256];
    for (size_t i = 0; i < B * net->inputs; i++)
        buf[0][i] = x[i];
    int cur = 0;
    size_t width = net->inputs;
    for (size_t li = 0; li < net->nlayers; li++) {
        const bp_layer *l = &net->layers[li];
        ck_assert_uint_le(bp_shape_size(l->out), 256);
        ref_of(l->ops)(d, l, buf[cur], buf[!cur]);
        cur = !cur;
        width = bp_shape_size(l->out);
    }
    const double *z = buf[cur];
    double total = 0;
    for (size_t r = 0; r < B; r++) {
        const double *zr = z + r * width;
        if (net->spec.classes == 0) {
            total += (zr[0] - targets[r]) * (zr[0] - targets[r]);
            continue;
        }
        if (net->spec.loss == BP_LOSS_BCE) {
            double t = y[r];
            total += fmax(zr[0], 0) - zr[0] * t + log1p(exp(-fabs(zr[0])));
            continue;
        }
        double mx = zr[0], s = 0;
        for (size_t c = 1; c < width; c++)
            mx = fmax(mx, zr[c]);
        for (size_t c = 0; c < width; c++)
            s += exp(zr[c] - mx);
        if (net->spec.loss == BP_LOSS_CE) {
            total += log(s) - (zr[y[r]] - mx);
        } else {
            for (size_t c = 0; c < width; c++) {
                double p = exp(zr[c] - mx) / s - ((int32_t)c == y[r]);
                total += p * p;
            }
        }
    }
    return total / B;
}

/* Analytic gradients of `spec` on table k against central differences of
 * the double forward; `id` varies the seeds. */
static void check_gradients(const bp_net_spec *sp, const bp_kernels *k, int id)
{
    bp_net_spec spec = *sp;
    bp_net *net;
    bp_err err = {0};
    bp_ctx *ctx;
    ck_assert(bp_ctx_create_for(k, 0, &ctx, &err) == BP_OK);
    /* odd ids: convolutions in blocks of 4 images and then 2 */
    ctx->conv_images = id % 2 ? 4 : 0;
    ck_assert_msg(bp_net_create(&spec, B, 11 + (uint64_t)id, ctx, &net, &err) == BP_OK,
                  "%s", err.msg);
    net->own_ctx = ctx;
    bp_rng g = bp_rng_stream(5, (uint64_t)id);
    float x[B * 64], tg[B];
    int32_t y[B];
    ck_assert_uint_le(net->inputs, 64);
    for (size_t j = 0; j < B * net->inputs; j++)
        x[j] = (float)bp_rng_normal(&g);
    bp_rng gt = bp_rng_stream(6, (uint64_t)id); /* g's draws stay as they were */
    for (int r = 0; r < B; r++) {
        y[r] = spec.classes ? (int32_t)((size_t)r % spec.classes) : 0;
        tg[r] = (float)bp_rng_normal(&gt);
    }
    const float *targets = spec.classes ? NULL : tg;
    /* non-zero biases and BN parameters, so their gradients are exercised */
    for (size_t j = net->ndecay; j < net->nparams; j++)
        net->params[j] += 0.1f * (float)bp_rng_normal(&g);
    bp_net_forward(net, x, B, true, 99);
    bp_net_loss(net, y, targets, B, true, NULL);
    bp_net_backward(net, x, B);

    size_t n = net->nparams;
    double *p = malloc(n * sizeof *p);
    for (size_t j = 0; j < n; j++)
        p[j] = net->params[j];
    dnet d = {net, p};
    const double h = 1e-6;
    double gmax = 0;
    for (size_t j = 0; j < n; j++)
        gmax = fmax(gmax, fabs((double)net->grads[j]));
    ck_assert(gmax > 0);
    size_t checked = 0;
    char desc[128];
    bp_net_describe(&spec, desc, sizeof desc);
    for (size_t j = 0; j < n; j++) {
        double keep = p[j];
        p[j] = keep + h;
        double lp = loss_d(&d, x, y, targets);
        p[j] = keep - h;
        double lm = loss_d(&d, x, y, targets);
        p[j] = keep;
        double num = (lp - lm) / (2 * h), ana = net->grads[j];
        double diff = fabs(num - ana);
        double scale = fmax(fmax(fabs(num), fabs(ana)), 1e-3 * gmax);
        ck_assert_msg(diff <= 1e-3 * scale,
                      "%s on %s: d loss / d param[%zu]: analytic %.9g, "
                      "numeric %.9g (rel %.2g)",
                      desc, k->isa_name, j, ana, num, diff / scale);
        checked++;
    }
    ck_assert_uint_gt(checked, 40);
    /* random direction: one +-h pair along u covers every parameter */
    double *u = malloc(n * sizeof *u), norm = 0, gu = 0;
    for (size_t j = 0; j < n; j++)
        u[j] = bp_rng_normal(&g), norm += u[j] * u[j];
    norm = sqrt(norm);
    for (size_t j = 0; j < n; j++)
        u[j] /= norm, gu += u[j] * net->grads[j];
    for (size_t j = 0; j < n; j++)
        p[j] = net->params[j] + 1e-5 * u[j];
    double lp = loss_d(&d, x, y, targets);
    for (size_t j = 0; j < n; j++)
        p[j] = net->params[j] - 1e-5 * u[j];
    double lm = loss_d(&d, x, y, targets);
    double num = (lp - lm) / 2e-5;
    ck_assert_msg(fabs(num - gu) <= 1e-3 * fmax(fabs(num), 1e-3 * gmax),
                  "%s on %s: directional derivative %.9g, analytic %.9g", desc,
                  k->isa_name, num, gu);
    /* and the float loss agrees with the double one */
    bp_net_forward(net, x, B, true, 99);
    for (size_t j = 0; j < n; j++)
        p[j] = net->params[j];
    double lf = bp_net_loss(net, y, targets, B, false, NULL) / B, ld = loss_d(&d, x, y, targets);
    ck_assert_msg(fabs(lf - ld) <= 1e-5 * fmax(1, fabs(ld)),
                  "%s: float loss %.9g, double %.9g", desc, lf, ld);
    free(u);
    free(p);
    bp_net_destroy(net);
}

/* _i: table (scalar, best) x act (3) x loss (3) x layers (4) */
START_TEST(test_gradients)
{
    int i = _i;
    int variant = i % 4; i /= 4;
    bp_loss loss = (bp_loss)(i % 3); i /= 3;
    const char *act = bp_act_names[i % 3]; i /= 3;
    const bp_kernels *k = i ? bp_kernels_active() : bp_kernels_for(BP_ISA_SCALAR);
    const char *bn = variant & 1 ? ",bn" : "";
    const char *drop = variant & 2 ? ",dropout:0.3" : "";
    char text[128];
    snprintf(text, sizeof text, "dense:4%s,%s%s,dense:3%s,%s%s", bn, act, drop,
             bn, act, drop);
    bp_net_spec spec = spec_of(text, bp_shape_vec(IN),
                               loss == BP_LOSS_BCE ? 2 : 3, loss);
    check_gradients(&spec, k, _i);
}
END_TEST

/* _i: table (scalar, best) x cell (rnn, lstm) x target (classes, real) x
 * head (direct; dropout and a dense tanh layer) */
START_TEST(test_rec_gradients)
{
    int i = _i;
    int head = i % 2; i /= 2;
    bool regression = i % 2; i /= 2;
    const char *cell = i % 2 ? "lstm" : "rnn"; i /= 2;
    const bp_kernels *k = i ? bp_kernels_active() : bp_kernels_for(BP_ISA_SCALAR);
    char text[128];
    snprintf(text, sizeof text, "%s:4%s", cell,
             head ? ",dropout:0.3,dense:3,tanh" : "");
    bp_net_spec spec = spec_of(text, (bp_shape){T, 1, F}, regression ? 0 : 3,
                               regression ? BP_LOSS_MSE : BP_LOSS_CE);
    spec.init_gain = 1.5f;
    check_gradients(&spec, k, 100 + _i);
}
END_TEST

/* Layer orders the shorthands never build: every kind first (an
 * activation or dropout in front of the data must not write into it),
 * batch norm over a sequence's time steps feeding a recurrent layer (so
 * that the recurrent layer's input gradient is checked), mixed
 * activations, two dropouts in a row, batch norm after an activation;
 * convolutions and pooling over a 5 x 5 x 2 image. */
static const struct {
    const char *layers;
    int input; /* 0: a vector, 1: a sequence, 2: an image (IMG) */
} mixed[] = {
    {"tanh,dense:4,relu", 0},
    {"sigmoid,bn,dense:4", 0},
    {"dropout:0.2,dense:4,sigmoid,dense:3", 0},
    {"bn,dense:4,relu,bn,dense:3,tanh", 0},
    {"dense:4,relu,dropout:0.1,dropout:0.2,dense:3,sigmoid", 0},
    {"dense:5,tanh,bn,relu", 0},
    {"bn,lstm:4", 1},
    {"bn,rnn:4,relu", 1},
    {"dropout:0.2,tanh,lstm:3,dense:4,sigmoid", 1},
    /* images: padding, strides, overlapping pools, a 1 x 1 convolution
     * (no im2col), a pool after batch norm over channels (so that the
     * input gradients of pools and convolutions reach parameters) */
    {"conv:3:3,relu,maxpool:2,dense:4", 2},
    {"conv:2:3:s2:p0,tanh,conv:3:1,sigmoid", 2},
    {"bn,maxpool:2:s1,conv:2:2:p1,bn,relu", 2},
    {"conv:2:3,tanh,conv:3:3:s2,relu", 2},
    {"conv:4:3:s2,relu,dropout:0.2,maxpool:3:s2:p1,dense:3", 2},
    /* each way conv computes (core/layers/conv.c): the windows above are
     * direct forward and backward (18 floats and fewer); a 5 x 5 window
     * over 2 channels (50) is direct forward, its weight gradient made by
     * im2col and a GEMM; 3 x 3 over 18 channels (162) to 65 outputs uses
     * the patches both ways, to 2 outputs only backward */
    {"conv:18:5:p1,relu,conv:65:3:p0,tanh,dense:3", 2},
    {"conv:18:5:p1,relu,conv:2:3,tanh,dense:3", 2},
    /* average pooling: tiling windows, overlapping ones whose padding is
     * not counted (corners average 4 pixels, edges 6, the middle 9), the
     * global one after a convolution and as the last layer */
    {"conv:3:3,relu,avgpool:2,dense:4", 2},
    {"bn,avgpool:3:s2:p1,conv:2:2,gap", 2},
    {"conv:4:3,tanh,gap,dense:3", 2},
    /* channel dropout: after an activation, first (on the data, which it
     * must not write into), before batch norm, and over a sequence's
     * features (a channel is a feature at every step) */
    {"conv:3:3,relu,dropout2d:0.3,maxpool:2,dense:4", 2},
    {"dropout2d:0.4,conv:2:3:s2,bn,dropout2d:0.5,tanh,dense:3", 2},
    {"dropout2d:0.3,lstm:3", 1},
};
#define NMIXED (sizeof mixed / sizeof *mixed)

/* _i: table (scalar, best) x mixed spec */
START_TEST(test_mixed_gradients)
{
    const bp_kernels *k = _i / (int)NMIXED ? bp_kernels_active()
                                           : bp_kernels_for(BP_ISA_SCALAR);
    size_t c = (size_t)_i % NMIXED;
    bp_net_spec spec = spec_of(mixed[c].layers,
                               mixed[c].input == 1   ? (bp_shape){T, 1, F}
                               : mixed[c].input == 2 ? IMG
                                                     : bp_shape_vec(IN),
                               3, BP_LOSS_CE);
    check_gradients(&spec, k, 200 + _i);
}
END_TEST

/* A kind from outside core/ (test_twice) trains inside a network: its
 * gradients pass the check, and the work tensors of two such layers are
 * one block, as large as the larger request. */
START_TEST(test_outside_kind)
{
    bp_net_spec spec = spec_of("dense:4,relu,dense:3", bp_shape_vec(IN), 3,
                               BP_LOSS_CE);
    /* dense:4, twice, relu, dense:3, twice(+40 floats of scratch) */
    bp_layer_spec tw = {.ops = &test_twice};
    memmove(&spec.layers[2], &spec.layers[1], 2 * sizeof *spec.layers);
    spec.layers[1] = tw;
    tw.units = 40;
    spec.layers[4] = tw;
    spec.nlayers = 5;
    char text[128];
    bp_net_spec_format(&spec, text, sizeof text);
    ck_assert_str_eq(text, "dense:4,twice,relu,dense:3,twice");
    check_gradients(&spec, bp_kernels_for(BP_ISA_SCALAR), 300);
    bp_net *net;
    bp_err err = {0};
    ck_assert(bp_net_create(&spec, B, 1, NULL, &net, &err) == BP_OK);
    ck_assert_ptr_eq(net->layers[1].t[1], net->layers[4].t[1]);
    ck_assert_ptr_nonnull(net->layers[1].t[1]);
    size_t small = bp_net_bytes(&spec, B);
    spec.layers[4].units = 40 + 160; /* 160 more floats: 640 more bytes */
    ck_assert_uint_eq(bp_net_bytes(&spec, B), small + 640);
    bp_net_destroy(net);
}
END_TEST

/* Every layer kind has a double-precision reference here and appears in
 * at least one of the mixed specs (a new kind joins them). */
START_TEST(test_coverage)
{
    for (const bp_layer_ops *const *k = bp_layer_kinds; *k; k++) {
        ck_assert_msg(ref_of(*k) != NULL,
                      "layer kind %s has no reference in check_net.c",
                      (*k)->name);
        bool used = false;
        for (size_t c = 0; c < NMIXED && !used; c++) {
            bp_net_spec s = {0};
            ck_assert(bp_net_spec_parse(mixed[c].layers, &s, NULL) == BP_OK);
            for (size_t i = 0; i < s.nlayers; i++)
                used |= s.layers[i].ops == *k;
        }
        ck_assert_msg(used, "layer kind %s is in no gradient check",
                      (*k)->name);
    }
}
END_TEST

/* ---- channel dropout's mask */

/* dropout2d:P on 256 images of 2 x 3 x 64 (16384 draws), P = 0.1, 0.3,
 * 0.5: every mask value is 0 or 1/(1-P), one value per (image, channel)
 * at all 6 pixels, and that value is the documented draw (the hash of
 * index n*C + c under the layer's key); y = x * mask; the share of
 * dropped channels is within 4 standard deviations of P (+-0.009 at 0.1,
 * +-0.014 at 0.3, +-0.016 at 0.5); no two consecutive images drop the
 * same channels (64 channels: a chance of 1e-15 at 0.3); another step's
 * key gives another mask, and inference is a copy. */
START_TEST(test_dropout2d_mask)
{
    enum { NB = 256, PIX = 6, C = 64 };
    static const float rates[] = {0.1f, 0.3f, 0.5f};
    size_t n = (size_t)NB * PIX * C;
    float *x = malloc(n * sizeof *x), *first = malloc(n * sizeof *first);
    bp_rng g = bp_rng_stream(9, 0);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)bp_rng_normal(&g);
    for (size_t r = 0; r < sizeof rates / sizeof *rates; r++) {
        float p = rates[r];
        char text[32];
        snprintf(text, sizeof text, "dropout2d:%g", (double)p);
        bp_net_spec spec = spec_of(text, (bp_shape){2, 3, C}, 3, BP_LOSS_CE);
        bp_net *net;
        bp_err err = {0};
        ck_assert_msg(bp_net_create(&spec, NB, 1, NULL, &net, &err) == BP_OK,
                      "%s", err.msg);
        const bp_layer *l = &net->layers[0];
        bp_net_forward(net, x, NB, true, 77);
        const float *m = l->t[1];
        uint64_t key = bp_rng_key(77, l->index);
        uint32_t threshold = bp_dropout_threshold(p);
        float keep = bp_dropout_scale(p);
        size_t dropped = 0, same = 0;
        for (size_t im = 0; im < NB; im++) {
            const float *mi = m + im * PIX * C;
            for (size_t c = 0; c < C; c++) {
                bool kept = bp_dropout_bits(key, (uint32_t)(im * C + c)) >> 8 >=
                            threshold;
                ck_assert_msg(mi[c] == (kept ? keep : 0.0f),
                              "%s: image %zu channel %zu: mask %g, the draw "
                              "says %g", text, im, c, (double)mi[c],
                              kept ? (double)keep : 0.0);
                dropped += mi[c] == 0.0f;
                for (size_t i = 0; i < PIX; i++) {
                    size_t e = (im * PIX + i) * C + c;
                    ck_assert_msg(m[e] == mi[c],
                                  "%s: image %zu channel %zu: pixel %zu has "
                                  "mask %g, pixel 0 %g", text, im, c, i,
                                  (double)m[e], (double)mi[c]);
                    ck_assert(l->y[e] == x[e] * mi[c]);
                }
            }
            if (im)
                same += memcmp(mi, mi - PIX * C, C * sizeof *mi) == 0;
        }
        double share = (double)dropped / (NB * C);
        double sd = sqrt((double)p * (1 - p) / (NB * C));
        ck_assert_msg(same == 0, "%s: %zu images drop the channels of the "
                      "image before them", text, same);
        ck_assert_msg(fabs(share - p) < 4 * sd,
                      "%s: %zu of %d channels dropped (%.4f, want %g +- %.4f)",
                      text, dropped, NB * C, share, (double)p, 4 * sd);
        memcpy(first, m, n * sizeof *m);
        bp_net_forward(net, x, NB, true, 78);
        ck_assert_msg(memcmp(first, m, n * sizeof *m) != 0,
                      "%s: steps 77 and 78 have the same mask", text);
        bp_net_forward(net, x, NB, false, 77);
        ck_assert_msg(memcmp(l->y, x, n * sizeof *x) == 0,
                      "%s: inference is not a copy", text);
        bp_net_destroy(net);
    }
    free(first);
    free(x);
}
END_TEST

/* ---- learning */

static double train_and_test(const char *set, const bp_net_spec *base,
                             float lr, size_t batch, size_t epochs)
{
    bp_data d;
    bp_err err = {0};
    bp_data_opts o = {.spec = set, .gen_samples = 1000};
    ck_assert_msg(bp_data_load(&o, &d, &err) == BP_OK, "%s", err.msg);
    bp_net_spec spec = *base;
    spec.input = d.shape;
    spec.classes = d.train.classes;
    bp_net *net;
    bp_optim *opt;
    bp_trainer *t;
    bp_optim_spec os;
    bp_optim_defaults(&os);
    os.lr = lr;
    bp_train_spec ts = {.epochs = epochs, .batch = batch, .seed = 0};
    ck_assert(bp_net_create(&spec, batch, 0, NULL, &net, &err) == BP_OK);
    ck_assert(bp_optim_create(&os, net->nparams, &opt, &err) == BP_OK);
    ck_assert(bp_trainer_create(&ts, net, opt, &d, &t, &err) == BP_OK);
    ck_assert_msg(bp_trainer_run(t, &err) == BP_OK, "%s", err.msg);
    double loss, acc;
    bp_net_evaluate(net, &d.test, &loss, &acc, NULL);
    bp_trainer_destroy(t);
    bp_optim_destroy(opt);
    bp_net_destroy(net);
    bp_data_free(&d);
    return acc;
}

START_TEST(test_xor)
{
    bp_net_spec s = spec_of("dense:2,sigmoid", bp_shape_vec(2), 2,
                            BP_LOSS_BCE);
    double acc = train_and_test("xor", &s, 0.5f, 4, 2000);
    ck_assert_msg(acc == 1.0, "xor 2-2-1 sigmoid: accuracy %.2f", acc);
}
END_TEST

START_TEST(test_spirals)
{
    bp_net_spec s = spec_of("dense:64,relu,dense:64,relu", bp_shape_vec(2), 2,
                            BP_LOSS_CE);
    double acc = train_and_test("spirals", &s, 0.05f, 32, 200);
    ck_assert_msg(acc >= 0.95, "spirals 2-64-64-2 relu: accuracy %.3f", acc);
}
END_TEST

START_TEST(test_adding_lstm)
{
    bp_data d;
    bp_err err = {0};
    bp_data_opts o = {.spec = "adding:10", .gen_samples = 2000};
    ck_assert_msg(bp_data_load(&o, &d, &err) == BP_OK, "%s", err.msg);
    ck_assert_uint_eq(d.steps, 10);
    bp_net_spec spec = spec_of("lstm:32", d.shape, 0, BP_LOSS_MSE);
    spec.init = BP_INIT_HE; /* what --model lstm builds */
    bp_net *net;
    bp_optim *opt;
    bp_trainer *t;
    bp_optim_spec os;
    bp_optim_defaults(&os);
    os.kind = BP_OPT_ADAM;
    os.lr = 0.01f;
    bp_train_spec ts = {.epochs = 10, .batch = 32, .seed = 0};
    ck_assert(bp_net_create(&spec, ts.batch, 0, NULL, &net, &err) == BP_OK);
    ck_assert(bp_optim_create(&os, net->nparams, &opt, &err) == BP_OK);
    ck_assert(bp_trainer_create(&ts, net, opt, &d, &t, &err) == BP_OK);
    ck_assert_msg(bp_trainer_run(t, &err) == BP_OK, "%s", err.msg);
    double mse, acc;
    bp_net_evaluate(net, &d.test, &mse, &acc, NULL);
    ck_assert_msg(mse < 0.01, "adding T=10, lstm 32: test MSE %.4f (the mean "
                              "predictor: 0.167)", mse);
    bp_trainer_destroy(t);
    bp_optim_destroy(opt);
    bp_net_destroy(net);
    bp_data_free(&d);
}
END_TEST


/* ---- export */

/* The bytes after `key` in buf (size n), or NULL. */
static const unsigned char *find(const unsigned char *buf, size_t n,
                                 const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, key, k) == 0)
            return buf + i + k;
    return NULL;
}

/* Where tensor `name` (rows x cols floats) starts in the file, checking
 * the shape on the way. */
static const unsigned char *tensor_at(const unsigned char *buf, size_t n,
                                      bp_export_format fmt, const char *name,
                                      size_t rows, size_t cols)
{
    char key[128], shape[64];
    if (fmt == BP_EXPORT_SAFETENSORS) {
        if (cols)
            snprintf(shape, sizeof shape, "[%zu,%zu]", rows, cols);
        else
            snprintf(shape, sizeof shape, "[%zu]", rows);
        snprintf(key, sizeof key,
                 "\"%s\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[",
                 name, shape);
        const unsigned char *p = find(buf, n, key);
        ck_assert_msg(p != NULL, "safetensors: no %s", key);
        uint64_t hlen = 0;
        for (int i = 0; i < 8; i++)
            hlen |= (uint64_t)buf[i] << (8 * i);
        ck_assert_uint_eq(hlen % 8, 0);
        return buf + 8 + hlen + strtoull((const char *)p, NULL, 10);
    }
    snprintf(key, sizeof key, "%s.npy\x93NUMPY\x01", name);
    const unsigned char *p = find(buf, n, key);
    ck_assert_msg(p != NULL, "npz: no member %s.npy", name);
    const unsigned char *npy = p - 7;
    size_t hlen = (size_t)p[1] | (size_t)p[2] << 8;
    ck_assert_uint_eq((10 + hlen) % 64, 0);
    if (cols)
        snprintf(shape, sizeof shape, "'shape': (%zu, %zu), }", rows, cols);
    else
        snprintf(shape, sizeof shape, "'shape': (%zu,), }", rows);
    ck_assert_msg(find(npy, 10 + hlen, "{'descr': '<f4', 'fortran_order': "
                                       "False, ") != NULL, "npz: %s descr", name);
    ck_assert_msg(find(npy, 10 + hlen, shape) != NULL, "npz: %s is not %s",
                  name, shape);
    return npy + 10 + hlen;
}

typedef struct tensor {
    const char *role;
    const float *src;
    size_t rows, cols; /* cols 0: a vector */
} tensor;

START_TEST(test_export)
{
    bp_export_format fmt = _i % 2 ? BP_EXPORT_SAFETENSORS : BP_EXPORT_NPZ;
    bool rec = _i / 2;
    bp_net_spec spec = spec_of(rec ? "lstm:5,dropout:0.1,dense:4,tanh,dropout:0.1"
                                   : "dense:5,bn,tanh,dropout:0.1,dense:4,bn,"
                                     "tanh,dropout:0.1",
                               rec ? (bp_shape){2, 1, 3} : bp_shape_vec(3), 3,
                               BP_LOSS_CE);
    bp_net *net = NULL;
    bp_err err = {0};
    ck_assert_int_eq(bp_net_create(&spec, 4, 1, NULL, &net, &err), BP_OK);
    for (size_t i = 0; i < net->nparams; i++)
        net->params[i] = (float)i + 0.5f;
    for (size_t i = 0; i < net->nbuffers; i++)
        net->buffers[i] = -(float)i - 0.25f;
    void *a = NULL, *b = NULL;
    size_t na, nb;
    bp_alloc_fail_at(0);
    ck_assert_int_eq(bp_export_build(net, "act=tanh\nlayers=5,4\n", fmt, &a,
                                     &na, &err), BP_OK);
    size_t allocs = bp_alloc_fail_at(0);
    ck_assert_int_eq(bp_export_build(net, "act=tanh\nlayers=5,4\n", fmt, &b,
                                     &nb, &err), BP_OK);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(a, b, na) == 0, "two exports differ");
    size_t tensors = 0;
    for (size_t i = 0; i < net->nlayers; i++) {
        const bp_layer *l = &net->layers[i];
        char name[64];
        bool lstm = l->ops == &bp_layer_lstm;
        const char *kind = lstm ? "lstm" : "dense";
        size_t in = lstm ? l->in.c : bp_shape_size(l->in), out = l->spec.units;
        size_t g = lstm ? 4 * out : out;
        tensor t[4];
        size_t nt = 0;
        if (l->ops == &bp_layer_dense || lstm) {
            const float *w = l->t[1];
            if (!lstm) {
                t[nt++] = (tensor){"weight", w, in, out};
            } else {
                t[nt++] = (tensor){"weight_ih", w, in, g};
                t[nt++] = (tensor){"weight_hh", w + in * g, out, g};
            }
            t[nt++] = (tensor){"bias", l->t[2], g, 0};
        } else if (l->ops == &bp_layer_bn) {
            kind = "bn";
            size_t c = l->in.c;
            t[nt++] = (tensor){"weight", l->t[1], c, 0};
            t[nt++] = (tensor){"bias", l->t[2], c, 0};
            t[nt++] = (tensor){"running_mean", l->t[3], c, 0};
            t[nt++] = (tensor){"running_var", l->t[4], c, 0};
        }
        for (size_t j = 0; j < nt; j++, tensors++) {
            snprintf(name, sizeof name, "%zu.%s.%s", i, kind, t[j].role);
            const unsigned char *p = tensor_at(a, na, fmt, name, t[j].rows,
                                               t[j].cols);
            size_t n = t[j].rows * (t[j].cols ? t[j].cols : 1);
            ck_assert_msg(p + 4 * n <= (const unsigned char *)a + na,
                          "%s runs past the end", name);
            ck_assert_msg(memcmp(p, t[j].src, 4 * n) == 0, "%s: wrong floats",
                          name); /* little-endian host: the same bytes */
        }
    }
    ck_assert_uint_eq(tensors, rec ? 3 + 2 + 2 : 3 * 2 + 2 * 4);
    char desc[256];
    bp_net_describe(&spec, desc, sizeof desc);
    ck_assert_msg(strncmp(desc, rec ? "2x3-lstm5-4-3 tanh ce" : "3-5-4-3 tanh ce",
                          15) == 0, "%s", desc);
    if (fmt == BP_EXPORT_SAFETENSORS) {
        ck_assert_msg(find(a, na, desc) != NULL, "no net description");
    } else { /* a 0-d '<U21' array: the text in UTF-32 */
        char key[128];
        snprintf(key, sizeof key, "{'descr': '<U%zu', 'fortran_order': "
                 "False, 'shape': (), }", strlen(desc));
        const unsigned char *p = find(a, na, "net.npy\x93NUMPY\x01");
        ck_assert_msg(p && find(p, 128, key), "no '%s' net description", desc);
        const unsigned char *text = p - 7 + 10 + (p[1] | p[2] << 8);
        for (size_t i = 0; i < strlen(desc); i++)
            ck_assert_msg(text[4 * i] == (unsigned char)desc[i] &&
                          !text[4 * i + 1] && !text[4 * i + 2] &&
                          !text[4 * i + 3], "net description, character %zu", i);
    }
    bp_free(a);
    bp_free(b);
    /* every allocation of the build, failing in turn */
    ck_assert_uint_ge(allocs, 2);
    for (size_t k = 1; k <= allocs; k++) {
        bp_alloc_fail_at(k);
        void *c = (void *)1;
        size_t nc = 1;
        bp_status s = bp_export_build(net, "", fmt, &c, &nc, &err);
        bp_alloc_fail_at(0);
        ck_assert_int_eq(s, BP_ERR_NOMEM);
        ck_assert_ptr_null(c);
        ck_assert_uint_eq(nc, 0);
    }
    bp_net_destroy(net);
}
END_TEST

START_TEST(test_export_format)
{
    bp_export_format f;
    bp_err err = {0};
    ck_assert_int_eq(bp_export_format_of("a/b.npz", &f, &err), BP_OK);
    ck_assert_int_eq(f, BP_EXPORT_NPZ);
    ck_assert_int_eq(bp_export_format_of("B.SafeTensors", &f, &err), BP_OK);
    ck_assert_int_eq(f, BP_EXPORT_SAFETENSORS);
    ck_assert_int_eq(bp_export_format_of("b.npy", &f, &err), BP_ERR_INVALID_ARG);
    ck_assert_msg(strstr(err.msg, "b.npy: unknown export format") != NULL, "%s",
                  err.msg);
    ck_assert_int_eq(bp_export_format_of("npz", &f, &err), BP_ERR_INVALID_ARG);
}
END_TEST

/* bp_net_count_params against the formulas, written out by hand
 * (PyTorch's sum(p.numel() for p in model.parameters()) for the same
 * model), not against the arena length, which pads every tensor. */
START_TEST(test_count_params)
{
    static const struct {
        const char *what, *layers;
        bp_shape in;
        size_t classes;
        bp_loss loss;
        size_t want;
    } cases[] = {
        {"xor 2-2-1 bce", "dense:2,sigmoid", {1, 1, 2}, 2, BP_LOSS_BCE,
         2 * 2 + 2 + 2 * 1 + 1},
        {"2-8-2 ce", "dense:8,relu", {1, 1, 2}, 2, BP_LOSS_CE,
         2 * 8 + 8 + 8 * 2 + 2},
        {"784-256-128-10", "dense:256,relu,dense:128,relu", {28, 28, 1}, 10,
         BP_LOSS_CE, 235146},
        {"784-256-128-10 batchnorm", "dense:256,bn,relu,dense:128,bn,relu",
         {1, 1, 784}, 10, BP_LOSS_CE, 235146 + 2 * (256 + 128)},
        {"5x2-rnn8-3", "rnn:8", {5, 1, 2}, 3, BP_LOSS_CE,
         8 * (2 + 8) + 8 + 8 * 3 + 3},
        {"28x28-lstm128-10", "lstm:128", {28, 1, 28}, 10, BP_LOSS_CE,
         4 * 128 * (28 + 128) + 4 * 128 + 128 * 10 + 10},
        {"bn over a sequence", "bn,rnn:4", {5, 1, 3}, 3, BP_LOSS_CE,
         2 * 3 + 4 * (3 + 4) + 4 + 4 * 3 + 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bp_net *net = NULL;
        bp_err err = {0};
        bp_net_spec spec = spec_of(cases[i].layers, cases[i].in,
                                   cases[i].classes, cases[i].loss);
        ck_assert_msg(bp_net_create(&spec, 1, 0, NULL, &net, &err) ==
                          BP_OK,
                      "%s: %s", cases[i].what, err.msg);
        size_t got = bp_net_count_params(net);
        ck_assert_msg(got == cases[i].want,
                      "%s: bp_net_count_params %zu, expected %zu (arena %zu)",
                      cases[i].what, got, cases[i].want, net->nparams);
        bp_net_destroy(net);
    }
}
END_TEST

/* Every init rule draws the first dense layer's weights (fan_in 300,
 * fan_out 400: 120000 values) from its definition: the sample variance
 * within 3% of the rule's (the sample's own error is about 0.5%), the
 * mean within 5 standard errors of 0, and a uniform rule's values inside
 * its bound and reaching to within 1% of it. Gain 1 and 2. */
START_TEST(test_init_rules)
{
    enum { FI = 300, FO = 400 };
    for (int gain = 1; gain <= 2; gain++)
        for (bp_init rule = BP_INIT_HE; rule <= BP_INIT_NORMAL; rule++) {
            bp_net_spec spec = spec_of("dense:400,relu", (bp_shape){1, 1, FI},
                                       3, BP_LOSS_CE);
            spec.init = rule;
            spec.init_gain = (float)gain;
            bp_net *net = NULL;
            bp_err err = {0};
            ck_assert_msg(bp_net_create(&spec, 1, 7, NULL, &net, &err) ==
                              BP_OK, "%s", err.msg);
            const bp_layer *l = &net->layers[0];
            const float *w = NULL;
            size_t nw = 0;
            for (size_t t = 0; t < l->ntensors; t++)
                if (l->role[t] == BP_T_WEIGHT)
                    w = l->t[t], nw = l->n[t];
            ck_assert(l->wl == 0 && nw == (size_t)FI * FO);
            double bound = 0, var = 0; /* the rule's */
            switch (rule) {
            case BP_INIT_HE: var = 2.0 / FI; break;
            case BP_INIT_XAVIER: bound = sqrt(6.0 / (FI + FO)); break;
            case BP_INIT_UNIFORM: bound = 1.0 / sqrt((double)FI); break;
            default: var = 1e-4; break;
            }
            bound *= gain;
            var = bound > 0 ? bound * bound / 3.0 : var * gain * gain;
            double s = 0, s2 = 0, mx = 0;
            for (size_t j = 0; j < nw; j++) {
                s += w[j], s2 += (double)w[j] * w[j];
                mx = fmax(mx, fabs(w[j]));
            }
            double n = (double)nw, mean = s / n,
                   v = s2 / n - mean * mean;
            const char *name = bp_init_names[rule];
            ck_assert_msg(fabs(v / var - 1.0) < 0.03,
                          "%s gain %d: variance %g, the rule's %g", name,
                          gain, v, var);
            ck_assert_msg(fabs(mean) < 5.0 * sqrt(var / n),
                          "%s gain %d: mean %g", name, gain, mean);
            if (bound > 0)
                ck_assert_msg(mx <= bound * (1 + 1e-6) && mx > 0.99 * bound,
                              "%s gain %d: largest |w| %g, bound %g", name,
                              gain, mx, bound);
            bp_net_destroy(net);
        }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("gradients");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_gradients, 0, 2 * 3 * 3 * 4);
    tcase_add_loop_test(tc, test_rec_gradients, 0, 2 * 2 * 2 * 2);
    tcase_add_loop_test(tc, test_mixed_gradients, 0, 2 * (int)NMIXED);
    tcase_add_test(tc, test_coverage);
    tcase_add_test(tc, test_outside_kind);
    suite_add_tcase(s, tc);
    tc = tcase_create("masks");
    tcase_add_test(tc, test_dropout2d_mask);
    suite_add_tcase(s, tc);
    tc = tcase_create("learning");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_xor);
    tcase_add_test(tc, test_spirals);
    tcase_add_test(tc, test_adding_lstm);
    suite_add_tcase(s, tc);
    tc = tcase_create("export");
    tcase_add_loop_test(tc, test_export, 0, 4);
    tcase_add_test(tc, test_export_format);
    suite_add_tcase(s, tc);
    tc = tcase_create("count");
    tcase_add_test(tc, test_count_params);
    tcase_add_test(tc, test_init_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return bp_test_main(suite());
}
