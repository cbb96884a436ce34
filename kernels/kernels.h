/* kernels/kernels.h - the kernel table type, kernel signatures and dispatch.
 *
 * All compute in bplab goes through one table of function pointers,
 * bp_kernels. There is one filled-in table per instruction set (scalar,
 * avx2, avx512, neon); the scalar table is the reference every other table
 * is checked against. Tables are built once, never change afterwards, and
 * may be read from any thread.
 *
 * Conventions for every kernel:
 *   - matrices are row-major; a leading dimension (ld*) is the distance in
 *     elements between the starts of two consecutive rows and is >= the
 *     number of columns stored;
 *   - argument order: sizes, inputs with their leading dimensions, outputs,
 *     parameters;
 *   - outputs may alias inputs only where the comment says "in place";
 *   - kernels never allocate, never fail and never validate user data: the
 *     core checks shapes and values at its public boundary, kernels assert;
 *   - sizes of 0 are valid and do nothing (reductions then return 0).
 */
#ifndef BPLAB_KERNELS_H
#define BPLAB_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/base/status.h"
#include "kernels/kernel_list.h"

/* ---------------------------------------------------------------------- */
/* Kernel signatures (function types: a table field is `bp_x_fn *name`,   */
/* and `bp_x_fn bp_name__isa;` declares an implementation)                 */

/* A GEMM's cache blocking (blk below). */
typedef struct bp_gemm_blocking {
    size_t kc, mc;   /* the direct nest's */
    size_t nc;       /* the packed nest's */
    size_t pkc, pmc; /* the packed nest's KC and MC (0: kc and mc) */
} bp_gemm_blocking;

/* What a GEMM call may use besides its operands (BLIS passes the same in
 * its context): how many threads it may fork, and one workspace per thread.
 * The caller makes it (the core's bp_ctx owns one, allocated when the run
 * is built), so GEMM never allocates and never reads a global to learn
 * the thread count.
 *   threads  the most threads a call forks (>= 1); fewer for small
 *            products, and 1 when called inside a parallel region;
 *   ws[t]    thread t's workspace (t < threads): bp_gemm_workspace_floats()
 *            floats, 64-byte aligned, not shared with anything else.
 * A context serves one call at a time, except that the threads of one
 * parallel region may call together: thread t of the team runs alone in
 * ws[t] (t >= threads: as without a context). Other concurrent calls need
 * a context each.
 *   blk      the cache blocking (kernels/gemm/gemm_internal.h): KC, the
 *            length of the blocks of k; MC, the rows of a block of A; NC,
 *            the columns of a block of B; each nest has its own KC and
 *            MC (kc, mc: direct; pkc, pmc: packed). A zero field: the
 *            table's own (pkc, pmc: kc, mc if those are set). It decides
 *            speed only: every element of C gets the same bits whatever
 *            the blocking (each is one FMA chain over all of k).
 * gc == NULL is valid: the call runs on the calling thread in the nest
 * that reads the operands in place, with its two panel buffers (96 KiB)
 * on the stack (160 KiB when beta != 0, (alpha, beta) != (1, 1) and k
 * spans several KC blocks: C's old values are set aside too). Every
 * element gets the same bits as with any context and any thread count
 * (kernels/gemm/gemm_internal.h); large products only run slower. */
typedef struct bp_gemm_ctx {
    int threads;
    float *const *ws;
    bp_gemm_blocking blk;
} bp_gemm_ctx;

/* A cache level as the CPU reports it (0: not reported). */
typedef struct bp_cache_level {
    size_t size, ways, line, sets; /* bytes; ways; bytes; sets */
} bp_cache_level;

typedef struct bp_caches {
    bp_cache_level l1d, l2, l3;
    const char *source; /* "cpuid leaf 4", "sysfs", "defaults (...)", ... */
} bp_caches;

/* The data caches of the CPU this runs on (kernels/gemm/blocking.c):
 * CPUID's cache leaves on x86, else sysfs, else 32 KiB / 1 MiB defaults. */
void bp_caches_detect(bp_caches *c);

/* The caches AMD's legacy CPUID leaves describe: ECX of 0x80000005 (L1d),
 * ECX and EDX of 0x80000006 (L2, L3), decoded into *c. False (and *c
 * zeroed) when they describe no L1d or no L2. Any architecture may call
 * it (it only decodes); bp_caches_detect uses it on AMD CPUs whose leaf
 * 0x8000001D is unanswered. */
bool bp_caches_from_amd_legacy(uint32_t l1_ecx, uint32_t l2_ecx,
                               uint32_t l3_edx, bp_caches *c);

/* The blocking the BLIS analytical model (Low et al. 2016) derives for
 * table isa's GEMM on caches c, KC no less than the arch's own, held
 * within the workspace's bounds, in *out; the model's own values before
 * that floor and those bounds in *raw (if not NULL).
 * False (and zeros) for a table without a blocked GEMM (scalar). */
bool bp_gemm_blocking_model(int isa, const bp_caches *c,
                            bp_gemm_blocking *out, bp_gemm_blocking *raw);

/* The blocking table isa uses without one in its context (zeros: none). */
bp_gemm_blocking bp_gemm_blocking_default(int isa);

/* "KC,MC,NC" or "KC,MC,NC,PKC,PMC" (an override such as
 * BPLAB_GEMM_BLOCKING; `what` names it in the message): each a positive
 * integer within the workspace's bounds. Three values set both nests'
 * KC and MC (pkc, pmc 0). */
bp_status bp_gemm_blocking_parse(const char *text, const char *what,
                                 bp_gemm_blocking *out, bp_err *err);

/* Floats in one thread's GEMM workspace: the packed nest's A and B blocks
 * plus a B micro-panel and an A edge tile (kernels/gemm/gemm_internal.h).
 * The same for every table, so one context serves any of them. */
size_t bp_gemm_workspace_floats(void);

/* The activations an epilogue applies (bias_act, bp_gemm_post): the
 * functions of relu_fwd, sigmoid_fwd and tanh_fwd. */
typedef enum bp_kact {
    BP_KACT_NONE,
    BP_KACT_RELU,
    BP_KACT_SIGMOID,
    BP_KACT_TANH
} bp_kact;

/* What a GEMM does with its result before returning (oneDNN calls them
 * post-ops): the work that would otherwise be separate passes over C and
 * op(B), done while the blocks are in cache. NULL or all fields zero:
 * nothing.
 *   bias, act  C[i][j] = act(C[i][j] + bias[j]) (bias NULL: no bias;
 *              act NONE: none), with the bits of the same table's
 *              bias_act on all of C: a dense layer's bias and activation;
 *   colsum     colsum[j] = sum_p op(B)(p, j), p increasing, with the bits
 *              of the same table's bias_grad of B (only for !tb; read
 *              from B even when alpha == 0): a weight gradient's bias
 *              gradient, taken while the GEMM streams the deltas.
 * So a fused call and the unfused calls give the same bits, on any
 * table, blocking and thread count. */
typedef struct bp_gemm_post {
    const float *bias;
    bp_kact act;
    float *colsum;
} bp_gemm_post;

/* C = alpha * op(A) * op(B) + beta * C, row-major, in context gc (above;
 * NULL: one thread, no workspace), then post (above; NULL: none).
 * op(A) is m x k: A is m x k (lda >= k) when !ta, else A is k x m (lda >= m).
 * op(B) is k x n: B is k x n (ldb >= n) when !tb, else B is n x k (ldb >= k).
 * C is m x n, ldc >= n. When beta == 0, C is write-only (it is never read,
 * so NaN garbage in C is harmless). When alpha == 0 or k == 0, A and B are
 * not read and C = beta * C. Every element of C gets the same bits
 * whatever gc says (threads, workspaces or NULL). */
typedef void bp_gemm_fn(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m,
                        size_t n, size_t k, float alpha, const float *A,
                        size_t lda, const float *B, size_t ldb, float beta,
                        float *C, size_t ldc, const bp_gemm_post *post);

/* y[i] = f(x[i]) for i < n. In place (y == x) allowed. ReLU is
 * x <= 0 ? +0 : x, so a NaN propagates. */
typedef void bp_unary_fn(size_t n, const float *x, float *y);

/* dx[i] = dy[i] * f'(x[i]), where f' is computed from the forward output
 * y[i] = f(x[i]) (sigmoid: y(1-y), tanh: 1-y^2, relu: y > 0).
 * In place (dx == dy) allowed. */
typedef void bp_unary_bwd_fn(size_t n, const float *y, const float *dy,
                                float *dx);

/* Row-wise softmax of a rows x cols matrix, max-subtracted:
 * y[r][c] = exp(x[r][c] - max_r) / sum_c' exp(x[r][c'] - max_r).
 * In place (y == x, ldy == ldx) allowed. */
typedef void bp_softmax_fn(size_t rows, size_t cols, const float *x,
                              size_t ldx, float *y, size_t ldy);

/* Row-wise softmax backward from the forward output y:
 * dx[r][c] = y[r][c] * (dy[r][c] - sum_c' y[r][c'] * dy[r][c']).
 * In place (dx == dy, lddx == lddy) allowed. */
typedef void bp_softmax_bwd_fn(size_t rows, size_t cols, const float *y,
                                  size_t ldy, const float *dy, size_t lddy,
                                  float *dx, size_t lddx);

/* Fused softmax + cross-entropy on logits z (rows x cols) with class labels
 * (0 <= labels[r] < cols). Returns sum_r -log softmax(z_r)[labels[r]].
 * If delta is not NULL it receives scale * (softmax(z_r) - onehot(label_r)),
 * the gradient of scale * loss with respect to z. delta must not alias z. */
typedef double bp_xent_fn(size_t rows, size_t cols, const float *z,
                             size_t ldz, const int32_t *labels, float scale,
                             float *delta, size_t ldd);

/* Fused sigmoid + binary cross-entropy on logits z[i] with targets t[i] in
 * [0, 1]. Returns sum_i max(z,0) - z*t + log1p(exp(-|z|)); if delta is not
 * NULL it receives scale * (sigmoid(z) - t). delta must not alias z or t. */
typedef double bp_bce_fn(size_t n, const float *z, const float *t,
                            float scale, float *delta);

/* Squared error: returns sum_i (y[i] - t[i])^2; if delta is not NULL it
 * receives scale * 2 (y[i] - t[i]), the gradient of scale * loss (as for
 * the other losses: scale = 1/count gives the gradient of the mean).
 * delta must not alias y or t. */
typedef double bp_mse_fn(size_t n, const float *y, const float *t,
                            float scale, float *delta);

/* y[r][c] += b[c], in place on y (rows x cols). */
typedef void bp_bias_add_fn(size_t rows, size_t cols, const float *b,
                               float *y, size_t ldy);

/* y[r][c] = act(y[r][c] + b[c]) in place (rows x cols; b NULL: no
 * bias), with the bits of bias_add followed by relu_fwd, sigmoid_fwd or
 * tanh_fwd of the same table: what a GEMM's epilogue applies (above). */
typedef void bp_bias_act_fn(size_t rows, size_t cols, const float *b,
                            bp_kact act, float *y, size_t ldy);

/* db[c] = sum_r dy[r][c] (column sums; db is overwritten). */
typedef void bp_bias_grad_fn(size_t rows, size_t cols, const float *dy,
                                size_t lddy, float *db);

/* Inverted dropout forward. Element i is kept when the counter-based hash
 * bp_dropout_bits(key, i) >> 8 is >= bp_dropout_threshold(p); a kept element
 * gets mask = bp_dropout_scale(p) = 1/(1-p), a dropped one mask = 0; then
 * y[i] = x[i] * mask[i]. 0 <= p < 1, n <= 2^32. In place (y == x) allowed.
 * The same (key, i, p) give the same mask on every ISA and thread count. */
typedef void bp_dropout_fwd_fn(size_t n, uint64_t key, float p,
                                  const float *x, float *y, float *mask);

/* out[i] = a[i] * b[i]; dropout backward is dx = dy * mask.
 * In place (out == a or out == b) allowed. */
typedef void bp_vmul_fn(size_t n, const float *a, const float *b,
                           float *out);

/* Batch normalisation, training mode, per column of x (rows x cols):
 *   mean[c]   = sum_r x[r][c] / rows
 *   var_b[c]  = sum_r (x[r][c] - mean[c])^2 / rows           (biased)
 *   invstd[c] = 1 / sqrt(var_b[c] + eps)
 *   y[r][c]   = (x[r][c] - mean[c]) * invstd[c] * gamma[c] + beta[c]
 * mean and invstd (cols each) are saved for bn_bwd. If run_mean/run_var
 * are not NULL they are updated as r = (1 - momentum) * r + momentum * s,
 * with s = mean and the unbiased variance var_b * rows/(rows-1) (var_b when
 * rows == 1). rows >= 1. y must not alias x. */
typedef void bp_bn_train_fn(size_t rows, size_t cols, const float *x,
                               size_t ldx, const float *gamma,
                               const float *beta, float eps, float momentum,
                               float *y, size_t ldy, float *mean,
                               float *invstd, float *run_mean,
                               float *run_var);

/* Batch normalisation, inference mode, with the running statistics:
 *   y[r][c] = (x[r][c] - run_mean[c]) * (1/sqrt(run_var[c] + eps)) * gamma[c]
 *             + beta[c].  In place (y == x, ldy == ldx) allowed. */
typedef void bp_bn_infer_fn(size_t rows, size_t cols, const float *x,
                               size_t ldx, const float *gamma,
                               const float *beta, const float *run_mean,
                               const float *run_var, float eps, float *y,
                               size_t ldy);

/* Batch normalisation backward (training mode), with xhat = (x-mean)*invstd:
 *   dbeta[c]  = sum_r dy[r][c]
 *   dgamma[c] = sum_r dy[r][c] * xhat[r][c]
 *   dx[r][c]  = gamma[c] * invstd[c] / rows
 *               * (rows * dy[r][c] - dbeta[c] - xhat[r][c] * dgamma[c])
 * dgamma and dbeta are overwritten. dx must not alias x or dy. */
typedef void bp_bn_bwd_fn(size_t rows, size_t cols, const float *x,
                             size_t ldx, const float *dy, size_t lddy,
                             const float *gamma, const float *mean,
                             const float *invstd, float *dx, size_t lddx,
                             float *dgamma, float *dbeta);

/* Hyper-parameters of one optimizer step. The regularised gradient is
 *   g' = g + l2 * w + l1 * sign(w)          (sign(0) = 0)
 * and the updates follow PyTorch's definitions:
 *   sgd:       w -= lr * g'
 *   momentum:  v = momentum * v + g';  w -= lr * (nesterov ? g' + momentum*v : v)
 *   adam:      m = beta1*m + (1-beta1)*g';  v = beta2*v + (1-beta2)*g'^2;
 *              w -= (lr/bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
 * where bc1 = 1 - beta1^t and bc2 = 1 - beta2^t for step t >= 1 (filled in
 * by the caller, see bp_opt_params_at_step in core/). */
typedef struct bp_opt_params {
    float lr;
    float l2;
    float l1;
    float momentum;
    bool nesterov;
    float beta1, beta2, eps;
    float bc1, bc2;
} bp_opt_params;

/* Each returns sum_i g[i]^2 of the gradient it was given (before the
 * L2/L1 terms), so the trainer's per-layer gradient norms cost no extra
 * pass over the gradients. */
typedef double bp_sgd_fn(size_t n, float *w, const float *g,
                         const bp_opt_params *p);
typedef double bp_momentum_fn(size_t n, float *w, const float *g, float *v,
                              const bp_opt_params *p);
typedef double bp_adam_fn(size_t n, float *w, const float *g, float *m,
                          float *v, const bp_opt_params *p);

/* sum_i x[i]^2 (for gradient-norm clipping and norms). */
typedef double bp_sumsq_fn(size_t n, const float *x);

/* x[i] *= s, in place. */
typedef void bp_scale_fn(size_t n, float s, float *x);

/* x[i] = min(max(x[i], -c), c), in place; c >= 0; NaN stays NaN. */
typedef void bp_clip_fn(size_t n, float c, float *x);

/* Max-norm constraint (Srivastava et al. 2014) on the columns of w (rows x
 * cols, leading dimension ldw >= cols), in place: column j's sum of
 * squares s = sum_r (double)w[r][j]^2 is taken in double, rows in order;
 * when s > (double)c * c the column is scaled by the float
 * (float)(c / sqrt(s)), else left as it is. A dense layer's weights are
 * in x out, so column j holds unit j's incoming weights. c > 0. Every ISA
 * gets the same bits (each lane sums one column, in the same order). */
typedef void bp_maxnorm_fn(size_t rows, size_t cols, float *w, size_t ldw,
                           float c);

/* LSTM cell, one time step forward for `rows` sequences of hidden size h.
 * z (rows x 4h, ldz >= 4h) holds each row's gate pre-activations in the
 * order [i f g o] (h each); they are overwritten by the gate values
 *   i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_g), o = sigmoid(z_o),
 * and then
 *   c = f * c_prev + i * g,   h = o * tanh(c).
 * c_prev and c are rows x h with leading dimension ldc (c_prev NULL: the
 * zero state); hout is rows x h with leading dimension ldh. */
typedef void bp_lstm_fwd_fn(size_t rows, size_t h, float *z, size_t ldz,
                            const float *c_prev, float *c, size_t ldc,
                            float *hout, size_t ldh);

/* LSTM cell, one time step backward. gz: the gate values lstm_fwd left
 * (rows x 4h, ldz), overwritten by dL/dz, the pre-activation deltas;
 * c_prev (NULL: zeros) and c as in the forward step; dh (rows x h, ldh):
 * dL/dh of this step's output; dc (rows x h, lddc): on entry dL/dc from the
 * step after (zeros after the last step), on exit dL/dc_prev. With
 * tc = tanh(c):
 *   dc  += dh * o * (1 - tc^2)
 *   dz_i = dc * g * i(1 - i)         dz_f = dc * c_prev * f(1 - f)
 *   dz_g = dc * i * (1 - g^2)        dz_o = dh * tc * o(1 - o)
 *   dc_prev = dc * f */
typedef void bp_lstm_bwd_fn(size_t rows, size_t h, float *gz, size_t ldz,
                            const float *c_prev, const float *c, size_t ldc,
                            const float *dh, size_t ldh, float *dc,
                            size_t lddc);

/* The geometry of a window sliding over a batch of images stored
 * channels-last (core/shape.h: element (y, x, ch) of image i is at
 * ((i*h + y)*w + x)*c + ch): a convolution's patches, a pooling window.
 * The window (kh x kw) moves by `stride` over the image padded with `pad`
 * zeros on every side; its top-left corner in output pixel (oy, ox) is
 * input pixel (oy*stride - pad, ox*stride - pad), and
 *   oh = (h + 2 pad - kh) / stride + 1,  ow = (w + 2 pad - kw) / stride + 1.
 * bp_conv_geom_make fills oh and ow; every kernel below takes them as
 * given. */
typedef struct bp_conv_geom {
    size_t n;           /* images */
    size_t h, w, c;     /* input height, width, channels */
    size_t kh, kw;      /* window */
    size_t stride, pad; /* stride >= 1; pad < kh and pad < kw */
    size_t oh, ow;      /* output height and width */
} bp_conv_geom;

/* oh and ow from the rest; false when the padded input is smaller than the
 * window or a field is zero. */
static inline bool bp_conv_geom_make(bp_conv_geom *g)
{
    if (!g->h || !g->w || !g->c || !g->kh || !g->kw || !g->stride ||
        g->h + 2 * g->pad < g->kh || g->w + 2 * g->pad < g->kw)
        return false;
    g->oh = (g->h + 2 * g->pad - g->kh) / g->stride + 1;
    g->ow = (g->w + 2 * g->pad - g->kw) / g->stride + 1;
    return true;
}

/* Patches as rows: col is (n*oh*ow) x (kh*kw*c), row (i, oy, ox) holding
 * the window of output pixel (oy, ox) of image i as (ky, kx, ch), ch
 * fastest: col[((i*oh + oy)*ow + ox)][(ky*kw + kx)*c + ch] =
 * x(i, oy*stride - pad + ky, ox*stride - pad + kx, ch), 0 outside the
 * image. A convolution is then col times its (kh*kw*c) x c_out weights. */
typedef void bp_im2col_fn(const bp_conv_geom *g, const float *x, float *col);

/* The adjoint of im2col: dx (n x h x w x c) is overwritten by the sum, for
 * each input element, of the col entries im2col copied it to, added in
 * row order of col (then ky, kx): the input gradient of a convolution
 * from the gradient of its patches. Entries that fall in the padding are
 * dropped. */
typedef void bp_col2im_fn(const bp_conv_geom *g, const float *col, float *dx);

/* Max pooling forward: y (n x oh x ow x c) is the maximum over each window
 * of each channel, padding excluded (pad < the window, so a window always
 * holds an input pixel); scanned in (ky, kx) order, a later value replaces
 * the best only when it is greater, or NaN over a number (so a NaN
 * propagates and ties keep the first). arg (like y) receives where the
 * maximum came from: the input pixel's index iy*w + ix, as a float
 * (exact: h*w <= 2^24). */
typedef void bp_pool_fwd_fn(const bp_conv_geom *g, const float *x, float *y,
                            float *arg);

/* Max pooling backward: dx (n x h x w x c) is overwritten by the sum of
 * the dy entries whose window took its maximum there (arg from the
 * forward pass), added in output order. */
typedef void bp_pool_bwd_fn(const bp_conv_geom *g, const float *dy,
                            const float *arg, float *dx);

/* Average pooling forward: y (n x oh x ow x c) is the mean of each window
 * of each channel over the window's pixels inside the image, padding
 * excluded (TensorFlow's, PyTorch's count_include_pad=False; pad < the
 * window, so count >= 1): the sum in (ky, kx) order, then multiplied by
 * (1.0f / (float)count). A global average pool is the window of the whole
 * image (kh = h, kw = w, stride 1, pad 0). */
typedef void bp_avgpool_fwd_fn(const bp_conv_geom *g, const float *x,
                               float *y);

/* Average pooling backward: dx (n x h x w x c) is overwritten by zeros,
 * then for each output in output order (image, oy, ox, channel) and each
 * of its window's pixels inside the image in (ky, kx) order,
 * dx[pixel] += dy[output] * (1.0f / (float)count), the product computed
 * once per output (count as in the forward pass). */
typedef void bp_avgpool_bwd_fn(const bp_conv_geom *g, const float *dy,
                               float *dx);

/* A direct convolution, without patches: for windows too small to feed a
 * GEMM well (a grey image's 3x3 window is 9 floats; im2col's patches would
 * make k = 9). y (n x oh x ow x co) = act(b + the sum, over the window's
 * taps inside the image in (ky, kx, ch) order, of x(tap) * w[tap][j]),
 * where w is (kh*kw*c) x co with rows in (ky, kx, ch) order (a conv
 * layer's weights) and b (co floats; NULL: none) and act are bias_act's:
 * the same output as im2col and a GEMM with that epilogue, up to the
 * sum's rounding. Taps in the padding are skipped, not added as zeros. */
typedef void bp_conv_direct_fn(const bp_conv_geom *g, size_t co,
                               const float *x, const float *w, const float *b,
                               bp_kact act, float *y);

/* The weight and bias gradients of conv_direct followed by activation act
 * (BP_KACT_NONE: none), from its output y and the gradient dy of that
 * output (both n x oh x ow x co; y unused when act is NONE): with
 * d = dy * f'(x) taken from y as relu_bwd, sigmoid_bwd and tanh_bwd do
 * (d = dy without act), gw ((kh*kw*c) x co) is overwritten by gw[tap][j] =
 * the sum over output pixels (i, oy, ox) in that order whose tap is inside
 * the image of x(tap) * d[pixel][j] (a chain over the n*oh*ow pixels, as
 * the TN GEMM of im2col's patches and d), and gb (co floats; NULL: none)
 * by gb[j] = the sum of d[pixel][j] over the pixels in order (bias_grad of
 * d). With acc, each sum starts from gw's (gb's) value on entry instead of
 * 0: a chain over the images of several calls is the chain of one call
 * over all of them. dy and y are read only. */
typedef void bp_conv_wgrad_fn(const bp_conv_geom *g, size_t co,
                              const float *x, const float *dy, const float *y,
                              bp_kact act, bool acc, float *gw, float *gb);

/* ---------------------------------------------------------------------- */
/* Dropout's counter-based bits: shared by every ISA so masks agree.       */

/* 32-bit integer finaliser (Wellons' lowbias32, bias ~0.107). */
static inline uint32_t bp_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x21f0aaadu;
    x ^= x >> 15;
    x *= 0x735a2d97u;
    x ^= x >> 15;
    return x;
}

/* The 32 random bits of element i under a 64-bit key: two rounds of the
 * finaliser, keyed by each half of the key. */
static inline uint32_t bp_dropout_bits(uint64_t key, uint32_t i)
{
    return bp_mix32(bp_mix32(i ^ (uint32_t)key) ^ (uint32_t)(key >> 32));
}

/* Elements whose top 24 bits are >= this are kept: P(keep) = 1 - p to
 * within 2^-24. */
static inline uint32_t bp_dropout_threshold(float p)
{
    return (uint32_t)((double)p * 16777216.0);
}

static inline float bp_dropout_scale(float p)
{
    return 1.0f / (1.0f - p);
}

/* ---------------------------------------------------------------------- */
/* The table                                                               */

typedef enum bp_isa {
#define X(name, ENUM, base, lacks) BP_ISA_##ENUM,
    BP_ISAS(X)
#undef X
    BP_ISA_COUNT
} bp_isa;

typedef enum bp_kernel_id {
#define X(name, type, sig, tol, fac) BP_K_##name,
    BP_KERNELS(X)
#undef X
    BP_NUM_KERNELS
} bp_kernel_id;

/* Which checker harness drives a kernel (one per signature). */
typedef enum bp_sig {
    BP_SIG_GEMM,
    BP_SIG_UNARY,
    BP_SIG_UNARY_BWD,
    BP_SIG_SOFTMAX,
    BP_SIG_SOFTMAX_BWD,
    BP_SIG_XENT,
    BP_SIG_BCE,
    BP_SIG_MSE,
    BP_SIG_BIAS_ADD,
    BP_SIG_BIAS_ACT,
    BP_SIG_BIAS_GRAD,
    BP_SIG_DROPOUT,
    BP_SIG_VMUL,
    BP_SIG_BN_TRAIN,
    BP_SIG_BN_INFER,
    BP_SIG_BN_BWD,
    BP_SIG_SGD,
    BP_SIG_MOMENTUM,
    BP_SIG_ADAM,
    BP_SIG_SUMSQ,
    BP_SIG_SCALE,
    BP_SIG_CLIP,
    BP_SIG_LSTM_FWD,
    BP_SIG_LSTM_BWD,
    BP_SIG_MAXNORM,
    BP_SIG_IM2COL,
    BP_SIG_COL2IM,
    BP_SIG_POOL_FWD,
    BP_SIG_POOL_BWD,
    BP_SIG_AVGPOOL_FWD,
    BP_SIG_AVGPOOL_BWD,
    BP_SIG_CONV_DIRECT,
    BP_SIG_CONV_WGRAD
} bp_sig;

typedef enum bp_tol_class {
    BP_TOL_EXACT,
    BP_TOL_ELEM,
    BP_TOL_TRANSC,
    BP_TOL_SUM
} bp_tol_class;

/* bp_ktype_<name>: the function type of kernel <name>, so that an ISA list
 * can declare `bp_ktype_gemm bp_gemm__avx2;` from the name alone. */
#define X(name, type, sig, tol, fac) typedef type bp_ktype_##name;
BP_KERNELS(X)
#undef X

typedef struct bp_kernel_desc {
    const char *name;
    bp_sig sig;
    bp_tol_class tol;
    double tol_factor;
} bp_kernel_desc;

typedef struct bp_kernels {
    bp_isa isa;
    const char *isa_name;
    /* impl[k]: the instruction set whose code entry k really runs (an ISA
     * table points at the scalar entry for kernels it does not specialise). */
    bp_isa impl[BP_NUM_KERNELS];
#define X(name, type, sig, tol, fac) type *name;
    BP_KERNELS(X)
#undef X
} bp_kernels;

/* ---------------------------------------------------------------------- */
/* Dispatch                                                                */

/* "scalar|avx2|avx512|neon|auto": the names --isa and BPLAB_ISA accept, as
 * one string literal for help texts. */
#define BP__ISA_BAR(name, ENUM, base, lacks) #name "|"
#define BP_ISA_CHOICES BP_ISAS(BP__ISA_BAR) "auto"

/* Name of an ISA (the first column of BP_ISAS); "?" for an invalid value. */
const char *bp_isa_name(bp_isa isa);

/* The table `isa` starts as a copy of (BP_ISAS' base column): an entry of
 * the table runs the code of `isa` or of one of its bases. The scalar
 * table is its own base; BP_ISA_COUNT for an invalid value. */
bp_isa bp_isa_base(bp_isa isa);

/* Parse an ISA name, case-insensitively. Returns BP_ISA_COUNT if unknown. */
bp_isa bp_isa_parse(const char *name);

/* True if this binary contains the table for `isa`. */
bool bp_isa_built(bp_isa isa);

/* True if this binary contains the table and the running CPU (and OS) can
 * execute it. Scalar is always supported. */
bool bp_isa_supported(bp_isa isa);

/* The best supported ISA of this binary on this CPU. */
bp_isa bp_isa_best(void);

/* The table for `isa`, or NULL if it is not built or not supported. */
const bp_kernels *bp_kernels_for(bp_isa isa);

/* The default table: the one the BPLAB_ISA environment variable names,
 * when it names one this CPU runs, else the best supported one. Never
 * NULL. Nothing changes it: a run names its table in its context
 * (core/ctx.h), which is where a bad BPLAB_ISA is reported. */
const bp_kernels *bp_kernels_active(void);

/* The table named `name`. Names are case-insensitive; "auto", an empty
 * name or NULL give the best supported table. Unknown name:
 * BP_ERR_INVALID_ARG with the valid names; a table the CPU or this build
 * lacks: BP_ERR_UNSUPPORTED with the usable ones. `what` prefixes the
 * message (e.g. "--isa" or "BPLAB_ISA"); NULL means "ISA". */
bp_status bp_kernels_lookup(const char *name, const char *what,
                            const bp_kernels **out, bp_err *err);

/* Static description of kernel k (name, signature, tolerance). */
const bp_kernel_desc *bp_kernel_desc_of(bp_kernel_id k);

/* The kernel id for a name, or BP_NUM_KERNELS if unknown. */
bp_kernel_id bp_kernel_parse(const char *name);

/* Entry k of table t as an untyped pointer, to compare implementations. */
const void *bp_kernel_ptr(const bp_kernels *t, bp_kernel_id k);

/* The arithmetic-throughput loop of an ISA, the ceiling its kernels are
 * measured against (by bplab train --profile and the benchmarks): `iters`
 * rounds of 24 independent chains of one fused multiply-add per vector
 * lane (scalar: a multiply and an add per chain, unvectorised), on the
 * calling thread; returns the flops it performed. */
typedef double bp_fma_loop_fn(long iters);

/* The loop of `isa`, or NULL when this binary lacks the ISA or this CPU
 * cannot run it. */
bp_fma_loop_fn *bp_isa_fma_loop(bp_isa isa);

/* What the CPU reports. Filled once; valid for the life of the process. */
typedef struct bp_cpu_info {
    char model[64];    /* brand string or best description */
    char arch[16];     /* "x86_64", "aarch64", ... */
    bool has_avx, has_fma, has_avx2;
    bool has_avx512f, has_avx512dq, has_avx512bw, has_avx512vl;
    bool os_ymm, os_zmm; /* XCR0 says the OS saves YMM / ZMM+opmask state */
    bool has_neon;
} bp_cpu_info;

const bp_cpu_info *bp_cpu(void);

/* Why `isa` is not usable here ("not built into this binary", "CPU lacks
 * AVX-512BW", ...), or NULL if it is usable. */
const char *bp_isa_unsupported_reason(bp_isa isa);

#endif
