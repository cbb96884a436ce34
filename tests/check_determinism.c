/* tests/check_determinism.c - same inputs, same ISA: bit-identical results
 * whatever the thread count.
 *
 * For every usable kernel table:
 *   - GEMM on the reference workload's shapes, odd shapes, a shape large
 *     enough for the packed nest and a narrow one for the column-vector
 *     nest, in all four layouts, run with 1, 2 and 3 OpenMP threads (3
 *     oversubscribes a 2-core machine on purpose: another partition of C),
 *     must match to the bit (memcmp);
 *   - three full training steps of the reference MLP (784-256-128-10,
 *     ReLU, softmax cross-entropy, momentum) written directly on the
 *     kernel table must leave bit-identical weights at 1 and 2 threads, and
 *     again on a second run (no hidden state);
 *   - the same for three steps of a recurrent net (an Elman RNN and an LSTM
 *     of width 64 over 16 steps, batch 64, through core/net.c), with the
 *     per-step gradient norms.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/net.h"
#include "core/optim.h"
#include "core/rng.h"
#include "kernels/kernels.h"
#include "test_util.h"

static float *randn(size_t n, uint64_t seed, float scale)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    bp_rng g = bp_rng_stream(seed, 7);
    for (size_t i = 0; i < n; i++)
        p[i] = scale * (float)bp_rng_normal(&g);
    return p;
}

/* isa index, then shape index */
static const size_t shapes[][3] = {
    {128, 256, 784}, {128, 128, 256}, {128, 10, 128}, {784, 256, 128},
    {256, 128, 128}, {128, 128, 10},  {37, 61, 129},  {397, 1100, 250},
    {1000, 7, 300},  {5, 3000, 17},
};
#define NSHAPES (sizeof shapes / sizeof *shapes)

static int usable[BP_ISA_COUNT], nusable;

START_TEST(test_gemm_threads)
{
    const bp_kernels *t = bp_kernels_for((bp_isa)usable[_i / NSHAPES]);
    const size_t *s = shapes[_i % NSHAPES];
    size_t m = s[0], n = s[1], k = s[2];
    for (int layout = 0; layout < 4; layout++) {
        bool ta = layout & 2, tb = layout & 1;
        float *A = randn(m * k, 1 + _i, 1.0f), *B = randn(k * n, 2 + _i, 1.0f);
        float *C[3];
        for (int r = 0; r < 3; r++) {
            C[r] = randn(m * n, 3, 1.0f); /* same initial C: beta = 0.5 */
            omp_set_num_threads(r + 1);
            t->gemm(ta, tb, m, n, k, 1.25f, A, ta ? m : k, B, tb ? k : n,
                    0.5f, C[r], n);
        }
        for (int r = 1; r < 3; r++)
            ck_assert_msg(memcmp(C[0], C[r], m * n * sizeof(float)) == 0,
                          "gemm/%s %c%c m=%zu n=%zu k=%zu: %d threads differ "
                          "from 1",
                          t->isa_name, ta ? 'T' : 'N', tb ? 'T' : 'N', m, n,
                          k, r + 1);
        for (int r = 0; r < 3; r++)
            free(C[r]);
        free(A);
        free(B);
    }
}
END_TEST

/* ---- a training step of the reference MLP on the kernel table */

enum { BATCH = 128, D0 = 784, D1 = 256, D2 = 128, D3 = 10 };

typedef struct mlp {
    float *w[3], *b[3], *vw[3], *vb[3];      /* parameters, momenta */
    float *z[3], *h[2], *dz[3], *dh[2];      /* activations, deltas */
    float *gw[3], *gb[3];                    /* gradients */
} mlp;

static const size_t dims[4] = {D0, D1, D2, D3};

static void mlp_init(mlp *m)
{
    for (int l = 0; l < 3; l++) {
        size_t in = dims[l], out = dims[l + 1];
        m->w[l] = randn(in * out, 100 + (uint64_t)l, 0.05f);
        m->b[l] = randn(out, 200 + (uint64_t)l, 0.01f);
        m->vw[l] = calloc(in * out, sizeof(float));
        m->vb[l] = calloc(out, sizeof(float));
        m->gw[l] = malloc(in * out * sizeof(float));
        m->gb[l] = malloc(out * sizeof(float));
        m->z[l] = malloc(BATCH * out * sizeof(float));
        m->dz[l] = malloc(BATCH * out * sizeof(float));
        if (l < 2) {
            m->h[l] = malloc(BATCH * out * sizeof(float));
            m->dh[l] = malloc(BATCH * out * sizeof(float));
        }
    }
}

static void mlp_free(mlp *m)
{
    for (int l = 0; l < 3; l++) {
        free(m->w[l]), free(m->b[l]), free(m->vw[l]), free(m->vb[l]);
        free(m->gw[l]), free(m->gb[l]), free(m->z[l]), free(m->dz[l]);
        if (l < 2)
            free(m->h[l]), free(m->dh[l]);
    }
}

static void mlp_step(const bp_kernels *t, mlp *m, const float *x,
                     const int32_t *labels)
{
    const float *in = x;
    for (int l = 0; l < 3; l++) {
        size_t a = dims[l], b = dims[l + 1];
        t->gemm(false, false, BATCH, b, a, 1.0f, in, a, m->w[l], b, 0.0f,
                m->z[l], b);
        t->bias_add(BATCH, b, m->b[l], m->z[l], b);
        if (l < 2) {
            t->relu_fwd(BATCH * b, m->z[l], m->h[l]);
            in = m->h[l];
        }
    }
    t->softmax_xent(BATCH, D3, m->z[2], D3, labels, 1.0f / BATCH, m->dz[2],
                    D3);
    bp_opt_params p = {.lr = 0.05f, .momentum = 0.9f, .l2 = 1e-4f};
    for (int l = 2; l >= 0; l--) {
        size_t a = dims[l], b = dims[l + 1];
        const float *input = l ? m->h[l - 1] : x;
        t->gemm(true, false, a, b, BATCH, 1.0f, input, a, m->dz[l], b, 0.0f,
                m->gw[l], b);
        t->bias_grad(BATCH, b, m->dz[l], b, m->gb[l]);
        if (l > 0) {
            t->gemm(false, true, BATCH, a, b, 1.0f, m->dz[l], b, m->w[l], b,
                    0.0f, m->dh[l - 1], a);
            t->relu_bwd(BATCH * a, m->h[l - 1], m->dh[l - 1], m->dz[l - 1]);
        }
        t->momentum_update(a * b, m->w[l], m->gw[l], m->vw[l], &p);
        t->momentum_update(b, m->b[l], m->gb[l], m->vb[l], &p);
    }
}

START_TEST(test_training_step_threads)
{
    const bp_kernels *t = bp_kernels_for((bp_isa)usable[_i]);
    float *x = randn(BATCH * D0, 42, 1.0f);
    int32_t labels[BATCH];
    for (int i = 0; i < BATCH; i++)
        labels[i] = (i * 7) % D3;
    const int threads[3] = {1, 2, 1};
    mlp m[3];
    for (int r = 0; r < 3; r++) {
        mlp_init(&m[r]);
        omp_set_num_threads(threads[r]);
        for (int s = 0; s < 3; s++)
            mlp_step(t, &m[r], x, labels);
    }
    for (int r = 1; r < 3; r++)
        for (int l = 0; l < 3; l++) {
            size_t nw = dims[l] * dims[l + 1];
            ck_assert_msg(memcmp(m[0].w[l], m[r].w[l], nw * sizeof(float)) == 0 &&
                              memcmp(m[0].b[l], m[r].b[l],
                                     dims[l + 1] * sizeof(float)) == 0,
                          "%s: layer %d weights after 3 steps differ (run %d, "
                          "%d threads)",
                          t->isa_name, l, r, threads[r]);
        }
    /* the steps did something: weights moved */
    float *w0 = randn(D0 * D1, 100, 0.05f);
    ck_assert(memcmp(w0, m[0].w[0], D0 * D1 * sizeof(float)) != 0);
    free(w0);
    for (int r = 0; r < 3; r++)
        mlp_free(&m[r]);
    free(x);
}
END_TEST

/* _i: isa x cell (rnn, lstm) */
START_TEST(test_recurrent_threads)
{
    const bp_kernels *t = bp_kernels_for((bp_isa)usable[_i / 2]);
    bp_cell cell = _i % 2 ? BP_CELL_LSTM : BP_CELL_RNN;
    enum { NB = 64, STEPS = 16, FEAT = 16 };
    bp_net_spec spec = {.inputs = STEPS * FEAT, .classes = 10, .nhidden = 1,
                        .hidden = {64}, .cell = cell, .steps = STEPS,
                        .loss = BP_LOSS_CE, .init_gain = 1.0f};
    float *x = randn(NB * STEPS * FEAT, 43, 1.0f);
    int32_t labels[NB];
    for (int i = 0; i < NB; i++)
        labels[i] = (i * 7) % 10;
    const int threads[3] = {1, 2, 1};
    bp_net *net[3];
    double norms[3][STEPS];
    for (int r = 0; r < 3; r++) {
        bp_err err = {0};
        bp_optim *opt;
        bp_optim_spec os;
        bp_optim_defaults(&os);
        bp_ctx *ctx;
        ck_assert(bp_ctx_create_for(t, threads[r], &ctx, &err) == BP_OK);
        ck_assert(bp_net_create(&spec, NB, 5, ctx, &net[r], &err) == BP_OK);
        net[r]->own_ctx = ctx;
        ck_assert(bp_optim_create(&os, net[r]->nparams, &opt, &err) == BP_OK);
        omp_set_num_threads(threads[r]);
        for (int s = 0; s < 3; s++) {
            bp_net_forward(net[r], x, NB, true, 0);
            bp_net_loss(net[r], labels, NULL, NB, true, NULL);
            bp_net_backward(net[r], x, NB);
            bp_optim_step(opt, net[r], 0.05f, 0.0, NULL);
        }
        memcpy(norms[r], net[r]->step_sumsq, sizeof norms[r]);
        bp_optim_destroy(opt);
    }
    for (int r = 1; r < 3; r++) {
        ck_assert_msg(memcmp(net[0]->params, net[r]->params,
                             net[0]->nparams * sizeof(float)) == 0 &&
                          memcmp(norms[0], norms[r], sizeof norms[0]) == 0,
                      "%s %s: weights or step norms after 3 steps differ "
                      "(run %d, %d threads)",
                      t->isa_name, bp_cell_names[cell], r, threads[r]);
    }
    ck_assert(norms[0][0] > 0 && norms[0][STEPS - 1] > 0);
    for (int r = 0; r < 3; r++)
        bp_net_destroy(net[r]);
    free(x);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("determinism");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_gemm_threads, 0, nusable * (int)NSHAPES);
    tcase_add_loop_test(tc, test_training_step_threads, 0, nusable);
    tcase_add_loop_test(tc, test_recurrent_threads, 0, 2 * nusable);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    for (int i = 0; i < BP_ISA_COUNT; i++)
        if (bp_isa_supported((bp_isa)i))
            usable[nusable++] = i;
    return bp_test_main(suite());
}
