/* tests/check_net.c - the network's gradients and its ability to learn.
 *
 * Gradient check: for small networks with every layer type (dense, batch
 * norm, each activation, dropout) and each loss (ce, mse, bce), the
 * analytic gradients from bp_net_backward (float, on the scalar table and
 * on the best table) are compared with central differences of an
 * independent double-precision forward pass written here (h = 1e-6; the
 * dropout masks of the float pass are reused). Bound: relative error
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
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/net.h"
#include "core/optim.h"
#include "core/rng.h"
#include "core/train.h"
#include "test_util.h"

enum { B = 6, IN = 5, T = 5, F = 3 };

/* ---- a double-precision forward of the same network */

typedef struct dnet {
    const bp_net *net; /* structure, masks */
    const double *p;   /* parameters (same layout as net->params) */
} dnet;

static double act_d(bp_act a, double x)
{
    switch (a) {
    case BP_ACT_RELU: return x > 0 ? x : 0;
    case BP_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case BP_ACT_TANH: return tanh(x);
    }
    return x;
}

static double sig_d(double x) { return 1 / (1 + exp(-x)); }

/* A recurrent layer over B sequences: out = h_T of each. */
static void rec_d(const dnet *d, const bp_layer *l, const double *in,
                  double *out)
{
    size_t f = l->in, h = l->out, G = l->kind == BP_L_LSTM ? 4 * h : h;
    const double *wx = d->p + l->w, *wh = wx + f * G, *b = d->p + l->b;
    for (size_t r = 0; r < B; r++) {
        double hs[16] = {0}, cs[16] = {0}, z[64];
        for (size_t t = 0; t < l->steps; t++) {
            const double *xt = in + r * l->steps * f + t * f;
            for (size_t g = 0; g < G; g++) {
                double s = b[g];
                for (size_t i = 0; i < f; i++)
                    s += xt[i] * wx[i * G + g];
                for (size_t j = 0; j < h; j++)
                    s += hs[j] * wh[j * G + g];
                z[g] = s;
            }
            for (size_t j = 0; j < h; j++) {
                if (l->kind == BP_L_RNN) {
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

/* mean loss over the batch (targets: regression) */
static double loss_d(const dnet *d, const float *x, const int32_t *y,
                     const float *targets)
{
    const bp_net *net = d->net;
    double buf[2][B * 64];
    const size_t w0 = net->spec.inputs;
    for (size_t i = 0; i < B * w0; i++)
        buf[0][i] = x[i];
    int cur = 0;
    size_t width = w0;
    for (size_t li = 0; li < net->nlayers; li++) {
        const bp_layer *l = &net->layers[li];
        double *in = buf[cur], *out = buf[!cur];
        switch (l->kind) {
        case BP_L_DENSE:
            for (size_t r = 0; r < B; r++)
                for (size_t o = 0; o < l->out; o++) {
                    double s = d->p[l->b + o];
                    for (size_t i = 0; i < l->in; i++)
                        s += in[r * l->in + i] * d->p[l->w + i * l->out + o];
                    out[r * l->out + o] = s;
                }
            break;
        case BP_L_BN:
            for (size_t c = 0; c < l->out; c++) {
                double mu = 0, var = 0;
                for (size_t r = 0; r < B; r++)
                    mu += in[r * l->out + c];
                mu /= B;
                for (size_t r = 0; r < B; r++)
                    var += (in[r * l->out + c] - mu) * (in[r * l->out + c] - mu);
                var /= B;
                for (size_t r = 0; r < B; r++)
                    out[r * l->out + c] = (in[r * l->out + c] - mu) /
                                              sqrt(var + 1e-5) * d->p[l->w + c] +
                                          d->p[l->b + c];
            }
            break;
        case BP_L_ACT:
            for (size_t i = 0; i < B * l->out; i++)
                out[i] = act_d(l->act, in[i]);
            break;
        case BP_L_DROPOUT:
            for (size_t i = 0; i < B * l->out; i++)
                out[i] = in[i] * l->mask[i];
            break;
        case BP_L_RNN:
        case BP_L_LSTM:
            rec_d(d, l, in, out);
            break;
        }
        cur = !cur;
        width = l->out;
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
    ck_assert_msg(bp_net_create(&spec, B, 11 + (uint64_t)id, k, &net, &err) == BP_OK,
                  "%s", err.msg);
    bp_rng g = bp_rng_stream(5, (uint64_t)id);
    float x[B * T * F], tg[B];
    int32_t y[B];
    ck_assert_uint_le(spec.inputs, T * F);
    for (size_t j = 0; j < B * spec.inputs; j++)
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
    bp_act act = (bp_act)(i % 3); i /= 3;
    const bp_kernels *k = i ? bp_kernels_active() : bp_kernels_for(BP_ISA_SCALAR);
    bp_net_spec spec = {.inputs = IN, .classes = loss == BP_LOSS_BCE ? 2 : 3,
                        .nhidden = 2, .hidden = {4, 3}, .act = act,
                        .loss = loss, .init_gain = 1.0f,
                        .batchnorm = variant & 1,
                        .dropout = variant & 2 ? 0.3f : 0.0f};
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
    bp_cell cell = i % 2 ? BP_CELL_LSTM : BP_CELL_RNN; i /= 2;
    const bp_kernels *k = i ? bp_kernels_active() : bp_kernels_for(BP_ISA_SCALAR);
    bp_net_spec spec = {.inputs = T * F, .classes = regression ? 0 : 3,
                        .nhidden = head ? 2 : 1, .hidden = {4, 3},
                        .cell = cell, .steps = T, .act = BP_ACT_TANH,
                        .loss = regression ? BP_LOSS_MSE : BP_LOSS_CE,
                        .init_gain = 1.5f, .dropout = head ? 0.3f : 0.0f};
    check_gradients(&spec, k, 100 + _i);
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
    spec.inputs = d.train.dim;
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
    bp_net_spec s = {.nhidden = 1, .hidden = {2}, .act = BP_ACT_SIGMOID,
                     .loss = BP_LOSS_BCE, .init_gain = 1.0f};
    double acc = train_and_test("xor", &s, 0.5f, 4, 2000);
    ck_assert_msg(acc == 1.0, "xor 2-2-1 sigmoid: accuracy %.2f", acc);
}
END_TEST

START_TEST(test_spirals)
{
    bp_net_spec s = {.nhidden = 2, .hidden = {64, 64}, .act = BP_ACT_RELU,
                     .loss = BP_LOSS_CE, .init_gain = 1.0f};
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
    bp_net_spec spec = {.inputs = d.train.dim, .classes = 0, .nhidden = 1,
                        .hidden = {32}, .cell = BP_CELL_LSTM, .steps = 10,
                        .loss = BP_LOSS_MSE, .init_gain = 1.0f};
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

static Suite *suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("gradients");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_gradients, 0, 2 * 3 * 3 * 4);
    tcase_add_loop_test(tc, test_rec_gradients, 0, 2 * 2 * 2 * 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("learning");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_xor);
    tcase_add_test(tc, test_spirals);
    tcase_add_test(tc, test_adding_lstm);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return bp_test_main(suite());
}
