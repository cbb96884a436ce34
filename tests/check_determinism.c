/* tests/check_determinism.c - same inputs, same ISA: bit-identical results
 * whatever the thread count.
 *
 * For every usable kernel table:
 *   - GEMM on the reference workload's shapes, odd shapes, a shape large
 *     enough for the packed nest and a narrow one for the column-vector
 *     nest, in all four layouts, run in contexts of 1, 2 and 3 threads (3
 *     oversubscribes a 2-core machine on purpose: another partition of C)
 *     and without a context (no workspace: the direct nest on the calling
 *     thread), must match to the bit (memcmp);
 *   - the same GEMMs under cache blockings from tiny to the workspace's
 *     bounds, with several alpha and beta, must match the table's own
 *     blocking to the bit, at 1 and 2 threads;
 *   - three full training steps (core/net.c and core/optim.c: forward,
 *     loss, backward, momentum with L2, with and without clipping) of the
 *     reference MLP (784-256-128-10, ReLU, softmax cross-entropy, batch
 *     128), of an MLP with batch norm, dropout and tanh, of an Elman RNN
 *     and of an LSTM with a dense head (width 64 over 16 steps, batch 64)
 *     and of a CNN with channel dropout (in its own blocks, and in
 *     blocks of 3 images that the threads share)
 *     must leave bit-identical weights, batch-norm statistics, per-layer
 *     gradient norms and per-step norms at 1 and 2 threads, and again on a
 *     second run at 1 (no hidden state).
 */
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
    /* gc[r]: r + 1 threads; gc[3]: no context */
    bp_gemm_ctx *gc[4] = {bp_test_gemm_ctx(1), bp_test_gemm_ctx(2),
                          bp_test_gemm_ctx(3), NULL};
    for (int layout = 0; layout < 4; layout++) {
        bool ta = layout & 2, tb = layout & 1;
        float *A = randn(m * k, 1 + _i, 1.0f), *B = randn(k * n, 2 + _i, 1.0f);
        float *C[4];
        for (int r = 0; r < 4; r++) {
            C[r] = randn(m * n, 3, 1.0f); /* same initial C: beta = 0.5 */
            t->gemm(gc[r], ta, tb, m, n, k, 1.25f, A, ta ? m : k, B,
                    tb ? k : n, 0.5f, C[r], n, NULL);
        }
        for (int r = 1; r < 4; r++)
            ck_assert_msg(memcmp(C[0], C[r], m * n * sizeof(float)) == 0,
                          "gemm/%s %c%c m=%zu n=%zu k=%zu: %s differ from "
                          "1 thread",
                          t->isa_name, ta ? 'T' : 'N', tb ? 'T' : 'N', m, n,
                          k, r == 1 ? "2 threads" : r == 2 ? "3 threads"
                                                           : "no context");
        for (int r = 0; r < 4; r++)
            free(C[r]);
        free(A);
        free(B);
    }
    for (int r = 0; r < 3; r++)
        bp_test_gemm_ctx_free(gc[r]);
}
END_TEST

/* _i: isa x shape. Every blocking (KC, MC, NC, and the packed nest's
 * PKC, PMC: 0 takes KC and MC) must give the bits of the table's own, at
 * 2 threads as at 1, for C = alpha op(A) op(B) + beta C with beta 0,
 * C += op(A) op(B) (one chain from C) and a general alpha and beta (C's
 * old values set aside while the chains run over several KC blocks): KC
 * of 5 and 37 and PKC of 100 split every k here into blocks, 384 and 1024
 * leave most whole; MC and NC from below one tile to the workspace's
 * bounds (PMC 1024 held within the packed A block).
 * The shapes reach every nest: direct (also m = 1000 with n = 7, too
 * narrow to pack), colvec (n = 7, 10) and packed (m = 397, NN and NT). */
static const size_t blk_shapes[][3] = {
    {128, 256, 784}, {128, 10, 128}, {37, 61, 129}, {397, 140, 250},
    {1000, 7, 300},  {5, 300, 17},
};
#define NBLKSHAPES (sizeof blk_shapes / sizeof *blk_shapes)
static const bp_gemm_blocking blockings[] = {
    {5, 1, 1, 0, 0},          {37, 50, 100, 0, 0},
    {64, 48, 128, 100, 26},   {384, 1024, 1024, 0, 0},
    {384, 1024, 1024, 1024, 1024},
};
static const float alpha_beta[][2] = {
    {1.0f, 0.0f}, {1.0f, 1.0f}, {1.25f, 0.5f}, {-0.75f, 0.0f}, {0.5f, 1.0f},
};

START_TEST(test_gemm_blocking)
{
    const bp_kernels *t = bp_kernels_for((bp_isa)usable[_i / NBLKSHAPES]);
    const size_t *s = blk_shapes[_i % NBLKSHAPES];
    size_t m = s[0], n = s[1], k = s[2];
    bp_gemm_ctx *ref = bp_test_gemm_ctx(1), *gc[2] = {bp_test_gemm_ctx(1),
                                                      bp_test_gemm_ctx(2)};
    float *C0 = randn(m * n, 3, 1.0f), *C = malloc(m * n * sizeof *C),
          *R = malloc(m * n * sizeof *R);
    ck_assert(C && R);
    for (int layout = 0; layout < 4; layout++) {
        bool ta = layout & 2, tb = layout & 1;
        float *A = randn(m * k, 11 + _i, 1.0f);
        float *B = randn(k * n, 12 + _i, 1.0f);
        for (size_t ab = 0; ab < sizeof alpha_beta / sizeof *alpha_beta;
             ab++) {
            float alpha = alpha_beta[ab][0], beta = alpha_beta[ab][1];
            memcpy(R, C0, m * n * sizeof *R);
            t->gemm(ref, ta, tb, m, n, k, alpha, A, ta ? m : k, B, tb ? k : n,
                    beta, R, n, NULL);
            for (size_t b = 0; b < sizeof blockings / sizeof *blockings; b++)
                for (int r = 0; r < 2; r++) {
                    gc[r]->blk = blockings[b];
                    memcpy(C, C0, m * n * sizeof *C);
                    t->gemm(gc[r], ta, tb, m, n, k, alpha, A, ta ? m : k, B,
                            tb ? k : n, beta, C, n, NULL);
                    ck_assert_msg(memcmp(C, R, m * n * sizeof *C) == 0,
                                  "gemm/%s %c%c m=%zu n=%zu k=%zu alpha=%g "
                                  "beta=%g: blocking %zu,%zu,%zu,%zu,%zu at %d "
                                  "thread%s differs from the table's own",
                                  t->isa_name, ta ? 'T' : 'N', tb ? 'T' : 'N',
                                  m, n, k, (double)alpha, (double)beta,
                                  blockings[b].kc, blockings[b].mc,
                                  blockings[b].nc, blockings[b].pkc,
                                  blockings[b].pmc, r + 1, r ? "s" : "");
                }
        }
        free(A);
        free(B);
    }
    free(C0);
    free(C);
    free(R);
    bp_test_gemm_ctx_free(ref);
    bp_test_gemm_ctx_free(gc[0]);
    bp_test_gemm_ctx_free(gc[1]);
}
END_TEST

/* _i: isa x shape. A GEMM's epilogue (kernels.h bp_gemm_post) must give
 * the bits of the unfused calls of the same table: the GEMM, then
 * bias_act on C, and bias_grad of B for the column sums; in every nest,
 * under blockings that split k, rows and columns into several blocks, at
 * 1 and 2 threads. Each layout meets every activation across the
 * alpha/beta pairs. */
START_TEST(test_gemm_epilogue)
{
    const bp_kernels *t = bp_kernels_for((bp_isa)usable[_i / NBLKSHAPES]);
    const size_t *s = blk_shapes[_i % NBLKSHAPES];
    size_t m = s[0], n = s[1], k = s[2];
    const bp_gemm_blocking blks[] = {
        {0, 0, 0, 0, 0}, {5, 1, 1, 0, 0}, {37, 50, 100, 7, 13}};
    bp_gemm_ctx *gc[2] = {bp_test_gemm_ctx(1), bp_test_gemm_ctx(2)};
    float *C0 = randn(m * n, 3, 1.0f), *bias = randn(n, 4, 1.0f);
    float *C = malloc(m * n * sizeof *C), *R = malloc(m * n * sizeof *R);
    float *sum = malloc(n * sizeof *sum), *rsum = malloc(n * sizeof *rsum);
    ck_assert(C && R && sum && rsum);
    for (int layout = 0; layout < 4; layout++) {
        bool ta = layout & 2, tb = layout & 1;
        float *A = randn(m * k, 21 + _i, 1.0f);
        float *B = randn(k * n, 22 + _i, 1.0f);
        for (size_t ab = 0; ab < sizeof alpha_beta / sizeof *alpha_beta;
             ab++) {
            float alpha = alpha_beta[ab][0], beta = alpha_beta[ab][1];
            bp_kact act = (bp_kact)((layout + (int)ab) % 4);
            memcpy(R, C0, m * n * sizeof *R);
            t->gemm(NULL, ta, tb, m, n, k, alpha, A, ta ? m : k, B,
                    tb ? k : n, beta, R, n, NULL);
            t->bias_act(m, n, bias, act, R, n);
            if (!tb)
                t->bias_grad(k, n, B, n, rsum);
            bp_gemm_post post = {bias, act, tb ? NULL : sum};
            for (size_t b = 0; b < sizeof blks / sizeof *blks; b++)
                for (int r = 0; r < 2; r++) {
                    gc[r]->blk = blks[b];
                    memcpy(C, C0, m * n * sizeof *C);
                    memset(sum, 0xff, n * sizeof *sum); /* NaN */
                    t->gemm(gc[r], ta, tb, m, n, k, alpha, A, ta ? m : k, B,
                            tb ? k : n, beta, C, n, &post);
                    ck_assert_msg(memcmp(C, R, m * n * sizeof *C) == 0 &&
                                      (tb || memcmp(sum, rsum,
                                                    n * sizeof *sum) == 0),
                                  "gemm/%s %c%c m=%zu n=%zu k=%zu alpha=%g "
                                  "beta=%g act %d: the epilogue under "
                                  "blocking %zu,%zu,%zu,%zu,%zu at %d thread%s "
                                  "differs from the unfused calls (%s)",
                                  t->isa_name, ta ? 'T' : 'N', tb ? 'T' : 'N',
                                  m, n, k, (double)alpha, (double)beta,
                                  (int)act, blks[b].kc, blks[b].mc,
                                  blks[b].nc, blks[b].pkc, blks[b].pmc,
                                  r + 1, r ? "s" : "",
                                  memcmp(C, R, m * n * sizeof *C) ? "C"
                                                                  : "sums");
                }
        }
        free(A);
        free(B);
    }
    free(C0), free(bias), free(C), free(R), free(sum), free(rsum);
    bp_test_gemm_ctx_free(gc[0]);
    bp_test_gemm_ctx_free(gc[1]);
}
END_TEST

/* ---- training steps of real networks (core/net.c, core/optim.c) */

static const struct {
    const char *layers;
    bp_shape in;
    size_t batch;
    bool clip; /* measure the norms first and clip (the other step path) */
    size_t conv_images; /* bp_ctx.conv_images (0: the layer's own blocks) */
} nets[] = {
    /* the reference workload's MLP */
    {"dense:256,relu,dense:128,relu", {1, 1, 784}, 128, false, 0},
    /* every element-wise kind, batch norm's reductions, dropout's masks */
    {"dense:256,bn,relu,dropout:0.2,dense:128,bn,tanh,dropout:0.1",
     {28, 28, 1}, 128, true, 0},
    {"rnn:64", {16, 1, 16}, 64, false, 0},
    {"lstm:64,dropout:0.2,dense:32,sigmoid", {16, 1, 16}, 64, true, 0},
    /* a CNN: im2col, col2im, pooling, batch norm over channels, channel
     * dropout's masks; small (under qemu too): its own blocks hold the
     * batch, so every convolution's GEMMs fork */
    {"conv:8:3,relu,dropout2d:0.2,maxpool:2,conv:16:3,bn,relu,maxpool:2,"
     "dense:32,relu",
     {16, 16, 1}, 32, true, 0},
    /* the same in blocks of 3 images: 11 blocks (the last short) in 8
     * groups, some of two blocks, which the threads share; the group
     * sums added in group order */
    {"conv:8:3,relu,dropout2d:0.2,maxpool:2,conv:16:3,bn,relu,maxpool:2,"
     "dense:32,relu",
     {16, 16, 1}, 32, true, 3},
    /* the first convolution takes its ReLU and pool (conv.c
     * forward_pooled) image by image, the pool's backward block by
     * block, in blocks of 3 */
    {"conv:8:3,relu,maxpool:2,conv:16:3,relu,maxpool:2,dense:32,relu",
     {16, 16, 1}, 32, false, 3},
};
#define NNETS (sizeof nets / sizeof *nets)

/* _i: isa x net. Three steps (forward, loss, backward, momentum with L2
 * and, for some, clipping) at 1, 2 and again 1 threads: the weights, BN
 * statistics, per-layer gradient norms and per-step norms must match to
 * the bit. */
START_TEST(test_training_step_threads)
{
    const bp_kernels *t = bp_kernels_for((bp_isa)usable[_i / NNETS]);
    size_t c = (size_t)_i % NNETS;
    bp_net_spec spec = {.input = nets[c].in, .classes = 10,
                        .loss = BP_LOSS_CE, .init_gain = 1.0f,
                        .forget_bias = 1.0f};
    bp_err err = {0};
    ck_assert_msg(bp_net_spec_parse(nets[c].layers, &spec, &err) == BP_OK,
                  "%s", err.msg);
    size_t nb = nets[c].batch, dim = bp_shape_size(nets[c].in);
    float *x = randn(nb * dim, 43, 1.0f);
    int32_t labels[128];
    for (size_t i = 0; i < nb; i++)
        labels[i] = (int32_t)((i * 7) % 10);
    const int threads[3] = {1, 2, 1};
    bp_net *net[3];
    double norms[3][BP_MAX_DENSE + 1], steps[3][16];
    for (int r = 0; r < 3; r++) {
        bp_optim *opt;
        bp_optim_spec os;
        bp_optim_defaults(&os);
        os.l2 = 1e-4f;
        if (nets[c].clip)
            os.clip_norm = 0.5f;
        bp_ctx *ctx;
        ck_assert(bp_ctx_create_for(t, threads[r], &ctx, &err) == BP_OK);
        ctx->conv_images = nets[c].conv_images;
        ck_assert_msg(bp_net_create(&spec, nb, 5, ctx, &net[r], &err) == BP_OK,
                      "%s", err.msg);
        net[r]->own_ctx = ctx;
        ck_assert(bp_optim_create(&os, net[r]->nparams, &opt, &err) == BP_OK);
        memset(norms[r], 0, sizeof norms[r]);
        for (int s = 0; s < 3; s++) {
            bp_net_forward(net[r], x, nb, true, (uint64_t)s);
            bp_net_loss(net[r], labels, NULL, nb, true, NULL);
            bp_net_backward(net[r], x, nb);
            if (nets[c].clip) {
                double ss = bp_net_grad_sumsq(net[r], norms[r]);
                for (size_t l = 0; l < net[r]->ndense; l++)
                    ss += norms[r][l];
                norms[r][BP_MAX_DENSE] = ss;
                bp_optim_step(opt, net[r], 0.05f, ss, NULL);
            } else {
                norms[r][BP_MAX_DENSE] =
                    bp_optim_step(opt, net[r], 0.05f, 0.0, norms[r]);
            }
        }
        memset(steps[r], 0, sizeof steps[r]);
        memcpy(steps[r], net[r]->step_sumsq,
               net[r]->steps * sizeof *net[r]->step_sumsq);
        bp_optim_destroy(opt);
    }
    for (int r = 1; r < 3; r++)
        ck_assert_msg(memcmp(net[0]->params, net[r]->params,
                             net[0]->nparams * sizeof(float)) == 0 &&
                          memcmp(net[0]->buffers, net[r]->buffers,
                                 net[0]->nbuffers * sizeof(float)) == 0 &&
                          memcmp(norms[0], norms[r], sizeof norms[0]) == 0 &&
                          memcmp(steps[0], steps[r], sizeof steps[0]) == 0,
                      "%s %s (blocks of %zu images): weights, statistics "
                      "or norms after 3 steps differ (run %d, %d threads)",
                      t->isa_name, nets[c].layers, nets[c].conv_images, r,
                      threads[r]);
    /* the steps did something: the norms were measured, weights moved */
    ck_assert(norms[0][0] > 0 && norms[0][BP_MAX_DENSE] > 0);
    ck_assert(net[0]->steps == 0 || (steps[0][0] > 0 && steps[0][15] > 0));
    bp_net *fresh;
    ck_assert(bp_net_create(&spec, nb, 5, NULL, &fresh, &err) == BP_OK);
    ck_assert(memcmp(fresh->params, net[0]->params,
                     net[0]->nparams * sizeof(float)) != 0);
    bp_net_destroy(fresh);
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
    tcase_add_loop_test(tc, test_gemm_blocking, 0, nusable * (int)NBLKSHAPES);
    tcase_add_loop_test(tc, test_gemm_epilogue, 0, nusable * (int)NBLKSHAPES);
    tcase_add_loop_test(tc, test_training_step_threads, 0,
                        nusable * (int)NNETS);
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
