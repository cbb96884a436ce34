/* core/layers/conv.c - a 2-D convolution over channels-last images.
 *
 *   forward   col = im2col(x), y = col W + b            im2col, gemm NN
 *             (y = f(col W + b) when an activation f follows: the GEMM's
 *             epilogue applies it, as for dense)
 *   backward  dW = col^T d, db = colsum(d)              im2col, gemm TN
 *             dx = col2im(d W^T) (not for the first)   gemm NT, col2im
 *             (d = d f'(y) first, block by block, when the layer applies
 *             f: the activation layer's backward is skipped)
 * x is batch x H x W x Cin, W is (K*K*Cin) x Cout with rows in (ky, kx, ci)
 * order, y is batch x OH x OW x Cout, where OH = (H + 2P - K)/S + 1 (and
 * OW alike) for kernel K, stride S and zero padding P (kernels.h
 * bp_conv_geom). A 1 x 1 convolution of stride 1 without padding reads x
 * as its patches: no im2col. Small windows or few outputs (direct_fwd)
 * are convolved without patches by conv_direct; the smallest windows
 * (direct_wgrad: a grey image's 3 x 3) get their weight and bias
 * gradients from conv_direct_wgrad; dx is always made through the
 * patches' gradient and col2im.
 * The patches (K*K times the input) are made a block of images at a time
 * in the layer's work tensor, and made again in the backward pass:
 * written and read while in cache, instead of a batch's worth through
 * memory. The context's threads take the blocks in turn, each with its
 * own copy of the work tensor and a one-thread GEMM (a batch of one
 * block: its GEMMs fork instead). A block is as many images as
 * BLOCK_BYTES of patches (at least one): a constant, not the cache of
 * the machine at hand, because the weight gradient is summed block by
 * block (each block's product, then added in block order, whichever
 * thread made it), so the block is part of what the bits are and the
 * thread count is not. The forward and input-gradient GEMMs give the
 * same bits whatever the block (each output is one row's chain over the
 * patch); the bias gradient is bias_grad's over the whole batch, the
 * bits of the fused column sums when there is one block.
 * Spec: conv:C:K[:sS][:pP], stride 1 and padding K/2 by default (the
 * output keeps the input's size for odd K).
 * Init: He, N(0, 2/(K*K*Cin)), or Xavier, U(-a, a) with
 * a = sqrt(6/(K*K*(Cin + Cout))), times the gain; biases 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <omp.h>

#include "core/layer.h"
#include "core/par.h"

enum { Y, W, B, WORK };

static bp_status parse(const char *args, bp_layer_spec *s, bp_err *err)
{
    char *end = NULL;
    long long c = 0;
    if (args && *args >= '0' && *args <= '9') {
        errno = 0;
        c = strtoll(args, &end, 10);
    }
    bp_err inner = {0};
    if (!end || *end != ':' || errno || c < 1 || c > BP_MAX_WIDTH ||
        bp_layer_parse_window(end + 1, s, 1, (size_t)-1, "", &inner) != BP_OK)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "'conv%s%.40s': conv needs channels from 1 to %d and "
                       "a kernel size from 1 to %d, then optionally a stride "
                       "and a padding below the kernel (conv:C:K[:sS][:pP], "
                       "e.g. conv:32:3 or conv:64:5:s2:p0)",
                       args ? ":" : "", args ? args : "", BP_MAX_WIDTH,
                       BP_MAX_KERNEL);
    s->units = (size_t)c;
    return BP_OK;
}

static int format(const bp_layer_spec *s, char *buf, size_t size)
{
    char st[24] = "", pd[24] = "";
    if (s->stride != 1)
        snprintf(st, sizeof st, ":s%zu", s->stride);
    if (s->pad != s->kernel / 2)
        snprintf(pd, sizeof pd, ":p%zu", s->pad);
    return snprintf(buf, size, "conv:%zu:%zu%s%s", s->units, s->kernel, st,
                    pd);
}

/* x is its own patch matrix */
static bool pointwise(const bp_layer_spec *s)
{
    return s->kernel == 1 && s->stride == 1 && s->pad == 0;
}

/* Which passes convolve directly, without patches (conv_direct,
 * conv_direct_wgrad), from the window's K*K*Cin floats (a 3x3 window of a
 * grey image is 9, of an RGB one 27) and the outputs. GEMMs of a k
 * (forward) or m (weight gradient) that small spend more time on making
 * and packing patches than on multiplying; and the direct forward pass
 * keeps up to 64 outputs of 6 pixels in registers (AVX-512), the GEMM's
 * register tile without its patches. Measured (Zen 5; 16 28x28 images,
 * or 2 14x14 ones from 144 floats up), the direct pass's time over
 * im2col's and the GEMM's:
 *   forward   avx512: 0.36-0.79 from 9 to 144 floats; 0.78-0.88 at 144
 *             to 1728 floats with 64 outputs, 0.97-1.10 with 128;
 *             avx2: 0.82-0.91 at 144-432 floats with 32 outputs, 0.91 at
 *             144 with 64, 1.03-1.07 at 288-576 with 64;
 *   wgrad     avx512: 0.27-0.85 up to 27 floats, 1.0 at 36, 1.3 at 144.
 * So the forward pass is direct up to 160 floats, or 64 outputs (the
 * second convolution of the reference CNN: 288 floats, 64 outputs), the
 * weight gradient up to 32 floats. */
static bool direct_fwd(const bp_layer_spec *s, size_t cin)
{
    return !pointwise(s) &&
           (s->kernel * s->kernel * cin <= 160 || s->units <= 64);
}

static bool direct_wgrad(const bp_layer_spec *s, size_t cin)
{
    return !pointwise(s) && s->kernel * s->kernel * cin <= 32;
}

/* Direct both ways: such a layer can absorb a pool after its ReLU (its
 * work tensor then holds an image's output, plan; absorbs_pool). */
static bool direct_both(const bp_layer_spec *s, size_t cin)
{
    return direct_fwd(s, cin) && direct_wgrad(s, cin);
}

/* Patches per block: half of a 1 MiB L2 (Zen 4 and 5, Neoverse N1 and N2;
 * recent Intel cores have more) */
#define BLOCK_BYTES ((size_t)512 * 1024)

/* The weight gradient's blocks are summed in at most GROUPS groups of
 * consecutive blocks, each group's sum a chain in block order, then the
 * group sums in group order: ((S0 + S1) + S2) + ... The threads take
 * whole groups, so they meet once, at the end, whatever the batch (a
 * hand-off per block stalled for a scheduler tick whenever another
 * process held a core); and the grouping, a constant, not the thread
 * count, decides the bits. More threads than groups leave the rest idle
 * in the backward pass. */
#define GROUPS ((size_t)8)

/* Images per block of patches of per_image floats each (at least one,
 * fewer when a context's conv_images says so: tests), and at most b. */
static size_t block_images(size_t per_image, const bp_ctx *c, size_t b)
{
    size_t n = per_image ? BLOCK_BYTES / (per_image * sizeof(float)) : 1;
    if (c && c->conv_images && c->conv_images < n)
        n = c->conv_images;
    n = n > b ? b : n;
    return n ? n : 1;
}

static bp_status plan(const bp_layer_spec *s, bp_shape in, size_t max_batch,
                      bp_layer_plan *p, bp_err *err)
{
    char shape[64];
    bp_shape_text(in, shape, sizeof shape);
    bp_conv_geom g = bp_layer_window(s, in, 1);
    if (!g.oh)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "conv:%zu:%zu: a %zux%zu kernel with padding %zu does "
                       "not fit the %s input",
                       s->units, s->kernel, s->kernel, s->kernel, s->pad,
                       shape);
    size_t patch = bp_satmul(s->kernel * s->kernel, in.c);
    size_t rows = bp_satmul(max_batch, g.oh * g.ow);
    p->out = (bp_shape){g.oh, g.ow, s->units};
    bp_plan_add(p, BP_T_ACT, bp_satmul(rows, s->units));
    bp_plan_add(p, BP_T_WEIGHT, bp_satmul(patch, s->units));
    bp_plan_add(p, BP_T_PARAM, s->units);
    /* a block's patches, then a block's weight and bias gradients and
     * GROUPS - 1 group sums of them (none for a 1x1 convolution, which
     * reads x as its patches, the batch as one block) */
    size_t per_image = bp_satmul(g.oh * g.ow, patch);
    size_t blk = block_images(per_image, NULL, max_batch);
    size_t work = bp_satmul(blk, per_image);
    /* or an image's output, where a pool is absorbed (absorbs_pool) */
    size_t out_image = bp_satmul(g.oh * g.ow, s->units);
    if (direct_both(s, in.c) && out_image > work)
        work = out_image;
    size_t sums = bp_satmul(GROUPS, bp_satmul(patch + 1, s->units));
    bp_plan_add(p, BP_T_WORK,
                pointwise(s) ? 0 : work > (size_t)-1 - sums ? (size_t)-1
                                                         : work + sums);
    return BP_OK;
}

static void init(bp_layer *l, const bp_init_args *a)
{
    size_t kk = l->spec.kernel * l->spec.kernel;
    bp_layer_init_weights(l->t[W], l->n[W], kk * l->in.c, kk * l->spec.units,
                          a);
}

/* A batch's blocks: block j is images [j*blk, min((j+1)*blk, n)). */
typedef struct blocks {
    bp_conv_geom g;
    size_t pix, patch, u, img, blk, nb;
    bool dir;   /* x is its own patch matrix (pointwise) */
    bool fwd_direct, wgrad_direct; /* no patches: conv_direct, _wgrad */
    int threads; /* threads that take blocks (1: the GEMMs fork instead) */
} blocks;

static blocks blocks_of(const bp_layer *l, const bp_ctx *c, size_t b)
{
    blocks bl = {.g = bp_layer_window(&l->spec, l->in, b)};
    bl.pix = bl.g.oh * bl.g.ow;
    bl.patch = bl.g.kh * bl.g.kw * bl.g.c;
    bl.u = l->spec.units;
    bl.img = bl.g.h * bl.g.w * bl.g.c;
    bl.dir = pointwise(&l->spec);
    bl.fwd_direct = direct_fwd(&l->spec, l->in.c);
    bl.wgrad_direct = direct_wgrad(&l->spec, l->in.c);
    /* a 1x1 convolution: the batch is one block */
    bl.blk = bl.dir ? b : block_images(bl.pix * bl.patch, c, b);
    bl.nb = (b + bl.blk - 1) / bl.blk;
    /* as many blocks, evened out (128 images in blocks of at most 18:
     * 8 of 16, not 7 of 18 and one of 2), so threads get equal work */
    bl.blk = (b + bl.nb - 1) / bl.nb;
    /* blocks in parallel, each thread with its copy of the work tensor
     * and a one-thread GEMM; one block: the GEMMs fork (same bits) */
    int t = c->threads < l->work_copies ? c->threads : l->work_copies;
    bl.threads = bl.dir || t < 1 ? 1 : (size_t)t > bl.nb ? (int)bl.nb : t;
    return bl;
}

/* The GEMM context a thread of the block loop computes in: the network's
 * own when one thread takes every block, else one thread and its own
 * workspace. */
static bp_gemm_ctx block_gemm(const bp_ctx *c, const blocks *bl, int t)
{
    if (bl->threads == 1)
        return c->gemm;
    return (bp_gemm_ctx){.threads = 1,
                         .ws = c->gemm.ws ? c->gemm.ws + t : NULL,
                         .blk = c->gemm.blk};
}

/* Block j's images as a geometry, and where they start in x. */
static const float *block_of(const blocks *bl, size_t j, const float *x,
                             bp_conv_geom *gb)
{
    size_t i0 = j * bl->blk;
    *gb = bl->g;
    gb->n = bl->g.n - i0 < bl->blk ? bl->g.n - i0 : bl->blk;
    return x + i0 * bl->img;
}

/* The block's images as a geometry, and where its patches are: made in
 * `work` (or x itself for a 1x1). */
static const float *patches(const bp_ctx *c, const blocks *bl, size_t j,
                            const float *x, float *work, bp_conv_geom *gb)
{
    const float *xb = block_of(bl, j, x, gb);
    if (bl->dir)
        return xb;
    c->k->im2col(gb, xb, work);
    return work;
}

/* The pool after the layer's ReLU, when the layer takes its passes
 * (pool_after; not in an unfused context). */
static const bp_layer *pooled(const bp_layer *l, const bp_ctx *c)
{
    return c->unfused ? NULL : l->pool_after;
}

/* With the pool absorbed: each image convolved (with its bias and ReLU)
 * into the thread's work tensor, then pooled from there, in cache, into
 * the pool's output; the layer's own output is not written. */
static void forward_pooled(bp_layer *l, const bp_ctx *c, const float *x,
                           const blocks *bl, const bp_layer *pool)
{
#pragma omp parallel num_threads(bl->threads) if (bl->threads > 1)
    {
        float *work = bp_layer_work(l, WORK, omp_get_thread_num());
        bp_conv_geom g1 = bl->g;
        g1.n = 1;
#pragma omp for schedule(static)
        for (size_t i = 0; i < bl->g.n; i++) {
            c->k->conv_direct(&g1, bl->u, x + i * bl->img, l->t[W], l->t[B],
                              BP_KACT_RELU, work);
            pool->ops->max_images_fwd(pool, c, work, i, 1);
        }
    }
}

static void forward(bp_layer *l, const bp_ctx *c, const float *x, size_t b,
                    bool train, uint64_t key)
{
    (void)train, (void)key;
    blocks bl = blocks_of(l, c, b);
    const bp_layer *pool = pooled(l, c);
    if (pool) {
        forward_pooled(l, c, x, &bl, pool);
        return;
    }
    bp_gemm_post post = {.bias = l->t[B], .act = BP_KACT_NONE};
    if (bp_layer_fuses_act(l, c))
        post.act = bp_kact_of(l->act_after->ops->act);
#pragma omp parallel num_threads(bl.threads) if (bl.threads > 1)
    {
        int t = omp_get_thread_num();
        bp_gemm_ctx gc = block_gemm(c, &bl, t);
        float *work = bp_layer_work(l, WORK, t);
#pragma omp for schedule(static)
        for (size_t j = 0; j < bl.nb; j++) {
            bp_conv_geom gb;
            float *y = l->y + j * bl.blk * bl.pix * bl.u;
            if (bl.fwd_direct) {
                const float *xb = block_of(&bl, j, x, &gb);
                c->k->conv_direct(&gb, bl.u, xb, l->t[W],
                                  c->unfused ? NULL : post.bias,
                                  c->unfused ? BP_KACT_NONE : post.act, y);
            } else {
                const float *col = patches(c, &bl, j, x, work, &gb);
                c->k->gemm(&gc, false, false, gb.n * bl.pix, bl.u, bl.patch,
                           1.0f, col, bl.patch, l->t[W], bl.u, 0.0f, y, bl.u,
                           c->unfused ? NULL : &post);
            }
            size_t rows = gb.n * bl.pix;
            if (c->unfused)
                c->k->bias_add(rows, bl.u, l->t[B], y, bl.u);
        }
    }
}

/* One block's weight gradient into gw (and, with colsum, the bias
 * gradient; conv_direct_wgrad: always, and d's delta through act taken as
 * it reads d), then its input gradient into dx. */
static void backward_block(const bp_layer *l, const bp_ctx *c,
                           const bp_gemm_ctx *gc, const blocks *bl, size_t j,
                           const float *x, const float *d, bp_kact act,
                           float *dx, float *work, float *gw, float *colsum)
{
    bp_conv_geom gb;
    size_t u = bl->u, patch = bl->patch;
    size_t at = j * bl->blk * bl->pix * u;
    const float *db = d + at;
    if (bl->wgrad_direct) {
        const float *xb = block_of(bl, j, x, &gb);
        c->k->conv_direct_wgrad(&gb, u, xb, db, l->y + at, act, false, gw,
                                colsum);
    } else {
        const float *col = patches(c, bl, j, x, work, &gb);
        bp_gemm_post post = {.colsum = colsum};
        c->k->gemm(gc, true, false, patch, u, gb.n * bl->pix, 1.0f, col,
                   patch, db, u, 0.0f, gw, u, colsum ? &post : NULL);
    }
    size_t rows = gb.n * bl->pix;
    if (!dx)
        return;
    dx += j * bl->blk * bl->img;
    if (bl->dir) {
        c->k->gemm(gc, false, true, rows, patch, u, 1.0f, db, u, l->t[W], u,
                   0.0f, dx, patch, NULL);
    } else {
        /* the block's patches are spent: their gradient takes their place */
        c->k->gemm(gc, false, true, rows, patch, u, 1.0f, db, u, l->t[W], u,
                   0.0f, work, patch, NULL);
        c->k->col2im(&gb, work, dx);
    }
}

/* Block j's weight and bias gradients with the pool absorbed, from d, the
 * pool's output gradient: the block's ReLU delta taken there (the pool's
 * output is the ReLU's at each maximum), then image by image the pool's
 * backward into the work tensor, in cache, and the weight gradient,
 * continuing the block's chains (so, the bits of one call on the block's
 * gradient, which the ReLU's and the pool's own passes make). */
static void backward_block_pooled(const bp_ctx *c, const blocks *bl,
                                  size_t j, const float *x,
                                  const bp_layer *pool, float *d, float *work,
                                  float *gw, float *gb)
{
    bp_conv_geom g1;
    const float *xb = block_of(bl, j, x, &g1);
    size_t pout = bp_shape_size(pool->out), i0 = j * bl->blk, n = g1.n;
    float *dp = d + i0 * pout;
    c->k->relu_bwd(n * pout, pool->y + i0 * pout, dp, dp);
    g1.n = 1;
    for (size_t i = 0; i < n; i++) {
        pool->ops->max_images_bwd(pool, c, dp + i * pout, i0 + i, 1, work);
        c->k->conv_direct_wgrad(&g1, bl->u, xb + i * bl->img, work, NULL,
                                BP_KACT_NONE, i > 0, gw, gb);
    }
}

static float *backward(bp_layer *l, const bp_ctx *c, const float *x,
                       size_t b, float *d, float *dx, bool need_dx)
{
    blocks bl = blocks_of(l, c, b);
    /* the bias gradient: conv_direct_wgrad's, block by block, summed as
     * the weight gradient is; else with one block in the GEMM's epilogue;
     * else by bias_grad over the batch once the blocks are done (the same
     * bits as the epilogue's) */
    bool bias_blocks = bl.wgrad_direct;
    bool fused = !c->unfused && bl.nb == 1 && !bias_blocks;
    /* what a block's partial sums hold: the weight gradient, and the bias
     * gradient after it */
    size_t nw = bl.patch * bl.u, nwb = nw + (bias_blocks ? bl.u : 0);
    /* the activation after the layer (act_after): its derivative applied
     * to each block's rows of d before the block's GEMMs read them, in
     * cache, instead of the activation layer's pass over the batch; or,
     * when d need not hold it afterwards (no dx), taken by
     * conv_direct_wgrad as it reads d. With the pool absorbed (the first
     * layer: no dx), d is the pool's output gradient and
     * backward_block_pooled takes the ReLU's delta. */
    const bp_layer *pool = pooled(l, c);
    bool fuses = bp_layer_fuses_act(l, c) && !pool;
    bp_kact kact = fuses && bl.wgrad_direct && !need_dx
                       ? bp_kact_of(l->act_after->ops->act)
                       : BP_KACT_NONE;
    bp_unary_bwd_fn *act_bwd =
        fuses && kact == BP_KACT_NONE
            ? bp_act_bwd_of(c->k, l->act_after->ops->act)
            : NULL;
    /* group k: blocks [k nb / ng, (k + 1) nb / ng); its first block's
     * product goes straight to its sum (group 0's: g[W] and g[B]), each
     * later one to the thread's partial, added to the sum; the sums of
     * groups 1 .. ng - 1 are kept after copy 0's partial */
    size_t ng = bl.nb < GROUPS ? bl.nb : GROUPS;
    /* where the partial sums start in a work tensor: after a block's
     * patches, or an image's output gradient (backward_block_pooled) */
    size_t stride_part = bl.blk * bl.pix * bl.patch;
    if (pool && stride_part < bl.pix * bl.u)
        stride_part = bl.pix * bl.u;
    float *sums = bl.dir ? NULL : bp_layer_work(l, WORK, 0) + stride_part + nwb;
#pragma omp parallel num_threads(bl.threads) if (bl.threads > 1)
    {
        int t = omp_get_thread_num();
        bp_gemm_ctx gc = block_gemm(c, &bl, t);
        float *work = bp_layer_work(l, WORK, t);
        float *part = bl.dir ? NULL : work + stride_part;
#pragma omp for schedule(static)
        for (size_t k = 0; k < ng; k++) {
            float *sum = k ? sums + (k - 1) * nwb : l->g[W];
            float *bsum = k ? sum + nw : l->g[B];
            for (size_t j = k * bl.nb / ng; j < (k + 1) * bl.nb / ng; j++) {
                bool first = j == k * bl.nb / ng;
                if (act_bwd) {
                    size_t r0 = j * bl.blk * bl.pix;
                    size_t r1 = (j + 1) * bl.blk * bl.pix;
                    r1 = r1 < b * bl.pix ? r1 : b * bl.pix;
                    act_bwd((r1 - r0) * bl.u, l->y + r0 * bl.u,
                            d + r0 * bl.u, d + r0 * bl.u);
                }
                float *colsum = bias_blocks ? (first ? bsum : part + nw)
                                : fused     ? l->g[B]
                                            : NULL;
                if (pool)
                    backward_block_pooled(c, &bl, j, x, pool, d, work,
                                          first ? sum : part, colsum);
                else
                    backward_block(l, c, &gc, &bl, j, x, d, kact,
                                   need_dx ? dx : NULL, work,
                                   first ? sum : part, colsum);
                if (!first) {
                    for (size_t i = 0; i < nw; i++)
                        sum[i] += part[i];
                    for (size_t i = nw; i < nwb; i++)
                        bsum[i - nw] += part[i];
                }
            }
        }
        /* g[W] += S1, S2, ... in order (and g[B]), each thread a share
         * of the elements (the for's barrier above: every sum is done) */
        if (ng > 1) {
#pragma omp for schedule(static)
            for (size_t i = 0; i < nwb; i++) {
                float *g = i < nw ? l->g[W] + i : l->g[B] + (i - nw);
                for (size_t k = 1; k < ng; k++)
                    *g += sums[(k - 1) * nwb + i];
            }
        }
    }
    if (!fused && !bias_blocks)
        bp_par_bias_grad(c, b * bl.pix, bl.u, d, bl.u, l->g[B]);
    return need_dx ? dx : d;
}

static bool absorbs_pool(const bp_layer *l)
{
    return direct_both(&l->spec, l->in.c);
}

static size_t views(const bp_layer *l, const float *params,
                    const float *buffers, bp_tensor_view *v)
{
    (void)buffers;
    size_t patch = l->spec.kernel * l->spec.kernel * l->in.c;
    v[0] = (bp_tensor_view){"conv.weight", 2, {patch, l->spec.units},
                            params + l->off[W]};
    v[1] = (bp_tensor_view){"conv.bias", 1, {l->spec.units, 0},
                            params + l->off[B]};
    return 2;
}

static int chain(const bp_layer_spec *s, char *buf, size_t size)
{
    return snprintf(buf, size, "-conv%zu", s->units);
}

const bp_layer_ops bp_layer_conv = {
    .name = "conv",
    .title = "convolution",
    .syntax = "conv:C:K[:sS][:pP]",
    .help = "2-D convolution, C channels, K x K, stride S (1), padding P (K/2)",
    .parse = parse,
    .format = format,
    .plan = plan,
    .init = init,
    .forward = forward,
    .backward = backward,
    .views = views,
    .chain = chain,
    .absorbs_act = true,
    .absorbs_act_grad = true,
    .absorbs_pool = absorbs_pool,
};
