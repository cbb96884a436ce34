/* kernels/gemm/gemm_driver.c - the blocked GEMM driver shared by every SIMD
 * table (see gemm_internal.h for the loop nest and the determinism
 * argument). Compiled with baseline flags: it only calls the ISA's packing
 * and micro-kernel functions through bp_gemm_arch.
 *
 * Memory and threads come from the caller's context (bp_gemm_ctx,
 * kernels.h): the driver forks at most gc->threads threads, and thread t
 * packs into gc->ws[t] (layout below). It never allocates. Without a
 * context (gc == NULL) it runs on the calling thread in the direct nest,
 * with the two panel buffers that nest needs (96 KiB) on the stack, and
 * 64 KiB more in the rare case of run_alone_saved; the packed nest needs
 * the blocks of a workspace.
 */
#include <assert.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "kernels/gemm/gemm_internal.h"

/* Below this many multiply-adds a GEMM runs on one thread: forking costs
 * more than it saves. */
#define PARALLEL_MIN_FMAS (1u << 18)

/* Room for the old values of C while beta != 0 waits for the last of
 * several KC blocks (run_saved): a rectangle of at most CSAVE_COLS
 * columns and CSAVE_FLOATS / CSAVE_COLS >= BP_GEMM_MR_MAX rows. */
#define CSAVE_FLOATS 16384
#define CSAVE_COLS 256

/* One thread's workspace, in floats: the packed nest's A block and B
 * block (gemm_internal.h: APACK, BPACK), then the direct nest's B
 * micro-panel (KC_MAX x NR_MAX, also the colvec nest's packed op(B)), its
 * A edge tile (KC_MAX x MR_MAX) and the saved C of run_saved. Every offset
 * is a multiple of 16 floats, so each part keeps the workspace's 64-byte
 * alignment. */
#define WS_APACK 0
#define WS_BPACK (WS_APACK + BP_GEMM_APACK_FLOATS)
#define WS_BPANEL (WS_BPACK + BP_GEMM_BPACK_FLOATS)
#define WS_AEDGE (WS_BPANEL + BP_GEMM_KC_MAX * BP_GEMM_NR_MAX)
#define WS_CSAVE (WS_AEDGE + BP_GEMM_KC_MAX * BP_GEMM_MR_MAX)
#define WS_FLOATS (WS_CSAVE + CSAVE_FLOATS)
_Static_assert(WS_BPACK % 16 == 0 && WS_BPANEL % 16 == 0 &&
                   WS_AEDGE % 16 == 0 && WS_CSAVE % 16 == 0,
               "workspace parts must stay 64-byte aligned");

size_t bp_gemm_workspace_floats(void) { return WS_FLOATS; }

/* The buffers one part of a GEMM works in: its thread's workspace, or
 * (no context) the stack buffers of run_alone. apack is NULL when there
 * is no room for the packed nest. */
typedef struct bufs {
    float *apack, *bpack; /* packed nest: A block, B block */
    float *bpanel;        /* direct, colvec nests: a packed panel of op(B) */
    float *aedge;         /* direct nest: a partial tile of op(A) */
    float *csave;         /* run_saved: old values of C */
} bufs;

static bufs bufs_of(float *ws)
{
    bufs b = {ws + WS_APACK, ws + WS_BPACK, ws + WS_BPANEL, ws + WS_AEDGE,
              ws + WS_CSAVE};
    return b;
}

/* ---- helpers */

/* v as a multiple of unit, at least unit and at most max. */
static size_t tile_multiple(size_t v, size_t unit, size_t max)
{
    v = min_sz(v, max) / unit * unit;
    return v < unit ? unit : v;
}

/* The length of k's blocks: as even as they come, none above kc_max. */
static size_t kc_block(size_t k, size_t kc_max)
{
    size_t nkb = (k + kc_max - 1) / kc_max;
    return (k + nkb - 1) / nkb;
}

/* C = beta * C (beta == 0: C = 0 without reading it). */
static void scale_c(size_t m, size_t n, float beta, float *C, size_t ldc)
{
    for (size_t i = 0; i < m; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f)
            memset(c, 0, n * sizeof *c);
        else
            for (size_t j = 0; j < n; j++)
                c[j] = beta * c[j];
    }
}

enum nest { NEST_DIRECT, NEST_PACKED, NEST_COLVEC };

typedef struct job {
    const bp_gemm_arch *arch;
    const bp_gemm_tile *tile;
    enum nest nest;
    bool ta, tb;
    bool from_c; /* C += op(A) op(B): every chain starts from C's value */
    size_t m, n, k, kcb, mc, nc; /* kcb: this call's KC; mc, nc: its MC
                                    and NC, multiples of the tile */
    float alpha, beta;
    const float *A, *B;
    size_t lda, ldb, ldc;
    float *C;
    /* the epilogue (kernels.h bp_gemm_post) */
    bool epi;            /* bias and/or act on each finished block of C */
    const float *bias;
    bp_kact act;
    float *colsum;       /* column sums of B, taken from its panels */
} job;

/* The epilogue on the finished rows [i, i + m) x columns [j, j + n) of C:
 * the block has its final values and is still in cache. */
static void finish(const job *jb, size_t i, size_t j, size_t m, size_t n)
{
    if (jb->epi)
        jb->arch->bias_act(m, n, jb->bias ? jb->bias + j : NULL, jb->act,
                           jb->C + i * jb->ldc + j, jb->ldc);
}

/* The column sums of columns [j, j + n) over the rows [kb, kb + kc) of
 * op(B), read from the panel b (row stride ldb) the nest has just read or
 * packed. Only the part that holds row 0 of C takes them (i0 == 0), so
 * each column is summed once, its blocks of rows in order. */
static void colsum_panel(const job *jb, size_t i0, size_t kb, size_t kc,
                         size_t j, size_t n, const float *b, size_t ldb)
{
    if (jb->colsum && i0 == 0)
        jb->arch->colsum(kc, n, b, ldb, jb->colsum + j, kb > 0);
}

/* What the micro-kernels of the KC block at kb do: kc steps of each chain,
 * continued from the partial sums in C after the first block (from the
 * start for C += op(A) op(B)); alpha is applied by the last block, beta by
 * a first block that is also the last (several blocks with beta != 0 go
 * through run_saved, which calls with beta = 0). */
typedef struct blk {
    size_t kc;
    bool cont;
    bool last; /* the last block: C's blocks are final after it */
    float alpha, beta;
} blk;

static blk block_at(const job *jb, size_t kb)
{
    blk b;
    b.kc = min_sz(jb->kcb, jb->k - kb);
    b.cont = kb > 0 || jb->from_c;
    b.last = kb + b.kc == jb->k;
    b.alpha = b.last ? jb->alpha : 1.0f;
    b.beta = b.cont ? 0.0f : jb->beta;
    assert(b.beta == 0.0f || kb + b.kc == jb->k);
    return b;
}

/* What the micro-kernel of the tile at column j gets: the epilogue in
 * the last block when the arch's micro-kernels apply it (else NULL, and
 * finish_tile applies it after the store). */
static const bp_gemm_ep *tile_ep(const job *jb, const blk *bk, size_t j,
                                 bp_gemm_ep *ep)
{
    if (!jb->epi || !bk->last || !jb->arch->ukr_ep)
        return NULL;
    ep->bias = jb->bias ? jb->bias + j : NULL;
    ep->act = jb->act;
    return ep;
}

/* finish() for a tile a micro-kernel has just stored, unless the
 * micro-kernel applied the epilogue itself (tile_ep). */
static void finish_tile(const job *jb, const blk *bk, size_t i, size_t j,
                        size_t m, size_t n)
{
    if (bk->last && !jb->arch->ukr_ep)
        finish(jb, i, j, m, n);
}

/* Rows [i0, i1) x columns [j0, j1) of C. i0 and j0 are multiples of the
 * tile, so only the last tile and panel of the range can be partial. */
static void gemm_part(const job *jb, const bufs *bf, size_t i0, size_t i1,
                      size_t j0, size_t j1)
{
    const bp_gemm_arch *arch = jb->arch;
    const bp_gemm_tile *t = jb->tile;
    const size_t mr = t->mr, nr = t->nr, lda = jb->lda, ldb = jb->ldb;
    const size_t mc = jb->mc;
    for (size_t kb = 0; kb < jb->k; kb += jb->kcb) {
        const blk bk = block_at(jb, kb);
        const size_t kc = bk.kc;
        /* op(A)(i, kb) is at Ak + i*lda (row layout) or Ak + i (col) */
        const float *Ak = jb->ta ? jb->A + kb * lda : jb->A + kb;
        const float *Bk = jb->tb ? jb->B + kb : jb->B + kb * ldb;
        for (size_t ic = i0; ic < i1; ic += mc) {
            size_t ie = min_sz(ic + mc, i1);
            size_t medge = (ie - ic) % mr, iedge = ie - medge;
            /* A is read in place; a partial last tile is copied */
            if (medge)
                arch->pack_a(jb->ta, mr, medge, kc,
                             jb->ta ? Ak + iedge : Ak + iedge * lda, lda,
                             bf->aedge);
            for (size_t j = j0; j < j1; j += nr) {
                size_t nb = min_sz(nr, j1 - j);
                const float *bp = jb->tb ? Bk + j * ldb : Bk + j;
                size_t ldbp = ldb;
                if (jb->tb || nb < nr) {
                    arch->pack_b(jb->tb, kc, nr, nb, bp, ldb, bf->bpanel);
                    bp = bf->bpanel, ldbp = nr;
                }
                if (ic == i0)
                    colsum_panel(jb, i0, kb, kc, j, nb, bp, ldbp);
                float *Cj = jb->C + j;
                bp_gemm_ukr_fn *ukr = jb->ta ? t->col : t->row;
                bp_gemm_ep eps;
                const bp_gemm_ep *ep = tile_ep(jb, &bk, j, &eps);
                for (size_t i = ic; i < iedge; i += mr) {
                    ukr(kc, jb->ta ? Ak + i : Ak + i * lda, lda, bp, ldbp,
                        Cj + i * jb->ldc, jb->ldc, mr, nb, bk.cont,
                        bk.alpha, bk.beta, ep);
                    finish_tile(jb, &bk, i, j, mr, nb);
                }
                if (medge) {
                    t->col(kc, bf->aedge, mr, bp, ldbp,
                           Cj + iedge * jb->ldc, jb->ldc, medge, nb,
                           bk.cont, bk.alpha, bk.beta, ep);
                    finish_tile(jb, &bk, iedge, j, medge, nb);
                }
            }
        }
    }
}

/* The packed nest: rows [i0, i1) x columns [j0, j1), everything packed
 * into bf's A and B blocks. */
static void gemm_part_packed(const job *jb, const bufs *bf, size_t i0,
                             size_t i1, size_t j0, size_t j1)
{
    const bp_gemm_arch *arch = jb->arch;
    const bp_gemm_tile *t = jb->tile;
    const size_t mr = t->mr, nr = t->nr, lda = jb->lda, ldb = jb->ldb;
    const size_t mc = jb->mc, nc = jb->nc;
    float *apack = bf->apack, *bpack = bf->bpack;
    for (size_t jc = j0; jc < j1; jc += nc) {
        size_t je = min_sz(jc + nc, j1);
        for (size_t kb = 0; kb < jb->k; kb += jb->kcb) {
            const blk bk = block_at(jb, kb);
            const size_t kc = bk.kc;
            const float *Ak = jb->ta ? jb->A + kb * lda : jb->A + kb;
            const float *Bk = jb->tb ? jb->B + kb : jb->B + kb * ldb;
            for (size_t j = jc; j < je; j += nr) {
                arch->pack_b(jb->tb, kc, nr, min_sz(nr, je - j),
                             jb->tb ? Bk + j * ldb : Bk + j, ldb,
                             bpack + (j - jc) * kc);
                colsum_panel(jb, i0, kb, kc, j, min_sz(nr, je - j),
                             bpack + (j - jc) * kc, nr);
            }
            for (size_t ic = i0; ic < i1; ic += mc) {
                size_t ie = min_sz(ic + mc, i1);
                for (size_t i = ic; i < ie; i += mr)
                    arch->pack_a(jb->ta, mr, min_sz(mr, ie - i), kc,
                                 jb->ta ? Ak + i : Ak + i * lda, lda,
                                 apack + (i - ic) * kc);
                for (size_t j = jc; j < je; j += nr) {
                    bp_gemm_ep eps;
                    const bp_gemm_ep *ep = tile_ep(jb, &bk, j, &eps);
                    for (size_t i = ic; i < ie; i += mr) {
                        size_t mb = min_sz(mr, ie - i), nb = min_sz(nr, je - j);
                        t->packed(kc, apack + (i - ic) * kc, mr,
                                  bpack + (j - jc) * kc, nr,
                                  jb->C + i * jb->ldc + j, jb->ldc, mb, nb,
                                  bk.cont, bk.alpha, bk.beta, ep);
                        finish_tile(jb, &bk, i, j, mb, nb);
                    }
                }
            }
        }
    }
}

/* The colvec nest (narrow n, transposed A): rows [i0, i1), all columns.
 * op(B) is packed once per KC block as kc x n. */
static void gemm_part_colvec(const job *jb, const bufs *bf, size_t i0,
                             size_t i1)
{
    const bp_gemm_arch *arch = jb->arch;
    const size_t mr = arch->colvec_mr, n = jb->n, lda = jb->lda;
    bp_gemm_colvec_fn *kern = arch->colvec[n];
    for (size_t kb = 0; kb < jb->k; kb += jb->kcb) {
        const blk bk = block_at(jb, kb);
        const size_t kc = bk.kc;
        arch->pack_b(jb->tb, kc, n, n,
                     jb->tb ? jb->B + kb : jb->B + kb * jb->ldb, jb->ldb,
                     bf->bpanel);
        colsum_panel(jb, i0, kb, kc, 0, n, bf->bpanel, n);
        const float *Ak = jb->A + kb * lda;
        for (size_t i = i0; i < i1; i += mr) {
            size_t mb = min_sz(mr, i1 - i);
            kern(kc, Ak + i, lda, bf->bpanel, jb->C + i * jb->ldc, jb->ldc,
                 mb, bk.cont, bk.alpha, bk.beta);
            if (bk.last)
                finish(jb, i, 0, mb, n);
        }
    }
}

/* Does C = alpha * s + beta * C need C's old values after the first of
 * several KC blocks has stored partial sums in C? */
static bool needs_saved(const job *jb)
{
    return jb->beta != 0.0f && !jb->from_c && jb->kcb < jb->k;
}

static void run_part(const job *jb, const bufs *bf, size_t i0, size_t i1,
                     size_t j0, size_t j1);

/* Rows [i0, i1) x columns [j0, j1) when needs_saved: one rectangle at a
 * time, C's old values are set aside in bf->csave, the rectangle's chains
 * run with beta = 0 (C = alpha * s), and the old values are added back as
 * a single block's write-back would have added them: beta == 1: C + old,
 * else fma(beta, old, C). The bits are those of a single KC block. */
static void run_saved(const job *jb, const bufs *bf, size_t i0, size_t i1,
                      size_t j0, size_t j1)
{
    job sub = *jb;
    sub.beta = 0.0f;
    sub.epi = false; /* after the old values are back */
    size_t mr = jb->nest == NEST_COLVEC ? jb->arch->colvec_mr : jb->tile->mr;
    size_t nr = jb->nest == NEST_COLVEC ? jb->n : jb->tile->nr;
    size_t cw = min_sz(j1 - j0, CSAVE_COLS / nr * nr);
    size_t rows = CSAVE_FLOATS / cw / mr * mr;
    for (size_t ic = i0; ic < i1; ic += rows) {
        size_t ie = min_sz(ic + rows, i1);
        for (size_t jc = j0; jc < j1; jc += cw) {
            size_t je = min_sz(jc + cw, j1), w = je - jc;
            for (size_t i = ic; i < ie; i++)
                memcpy(bf->csave + (i - ic) * w, jb->C + i * jb->ldc + jc,
                       w * sizeof(float));
            run_part(&sub, bf, ic, ie, jc, je);
            for (size_t i = ic; i < ie; i++) {
                float *c = jb->C + i * jb->ldc + jc;
                const float *old = bf->csave + (i - ic) * w;
                for (size_t j = 0; j < w; j++)
                    c[j] = jb->beta == 1.0f ? old[j] + c[j]
                                            : fmaf(jb->beta, old[j], c[j]);
            }
            finish(jb, ic, jc, ie - ic, w);
        }
    }
}

/* Rows [i0, i1) x columns [j0, j1) in the buffers bf (a workspace's
 * when the job is packed: bp__gemm_run chooses that nest only then). */
static void run_part(const job *jb, const bufs *bf, size_t i0, size_t i1,
                     size_t j0, size_t j1)
{
    assert(jb->nest != NEST_PACKED || bf->apack);
    if (needs_saved(jb))
        run_saved(jb, bf, i0, i1, j0, j1);
    else if (jb->nest == NEST_COLVEC)
        gemm_part_colvec(jb, bf, i0, i1);
    else if (jb->nest == NEST_PACKED)
        gemm_part_packed(jb, bf, i0, i1, j0, j1);
    else
        gemm_part(jb, bf, i0, i1, j0, j1);
}

/* The whole product on the calling thread with no workspace: the direct
 * (or colvec) nest, its panel buffers on the stack. Kept out of line so
 * that the other paths never reserve this stack. */
static __attribute__((noinline)) void run_alone(const job *jb)
{
    _Alignas(64) float bpanel[BP_GEMM_KC_MAX * BP_GEMM_NR_MAX];
    _Alignas(64) float aedge[BP_GEMM_KC_MAX * BP_GEMM_MR_MAX];
    bufs bf = {NULL, NULL, bpanel, aedge, NULL};
    run_part(jb, &bf, 0, jb->m, 0, jb->n);
}

/* run_alone when needs_saved, with room for C's old values (64 KiB more
 * stack, taken only by this rare call: beta != 0, (alpha, beta) !=
 * (1, 1), and k longer than one KC block). */
static __attribute__((noinline)) void run_alone_saved(const job *jb)
{
    _Alignas(64) float bpanel[BP_GEMM_KC_MAX * BP_GEMM_NR_MAX];
    _Alignas(64) float aedge[BP_GEMM_KC_MAX * BP_GEMM_MR_MAX];
    _Alignas(64) float csave[CSAVE_FLOATS];
    bufs bf = {NULL, NULL, bpanel, aedge, csave};
    run_part(jb, &bf, 0, jb->m, 0, jb->n);
}

void bp__gemm_run(const bp_gemm_arch *arch, const bp_gemm_ctx *gc, bool ta,
                  bool tb, size_t m, size_t n, size_t k, float alpha,
                  const float *A, size_t lda, const float *B, size_t ldb,
                  float beta, float *C, size_t ldc, const bp_gemm_post *post)
{
    job jb = {.arch = arch, .ta = ta, .tb = tb, .m = m, .n = n, .k = k,
              .alpha = alpha, .beta = beta, .A = A, .B = B, .lda = lda,
              .ldb = ldb, .ldc = ldc, .C = C,
              .from_c = alpha == 1.0f && beta == 1.0f};
    if (post) {
        jb.bias = post->bias, jb.act = post->act, jb.colsum = post->colsum;
        jb.epi = post->bias || post->act != BP_KACT_NONE;
        assert(!jb.colsum || !tb);
    }
    if (n == 0)
        return;
    if (alpha == 0.0f || k == 0 || m == 0) {
        /* no product: the epilogue runs on C = beta * C alone */
        if (m) {
            scale_c(m, n, beta, C, ldc);
            finish(&jb, 0, 0, m, n);
        }
        if (jb.colsum)
            arch->colsum(k, n, B, ldb, jb.colsum, false);
        return;
    }
    /* The nest and the blocking decide speed only: whichever runs, each
     * element is one FMA chain over all of k (gemm_internal.h). */
    bp_gemm_blocking blk = {0, 0, 0, 0, 0};
    if (gc)
        blk = gc->blk;
    /* the workspace this thread would pack into: none without a context,
     * nor for a thread of a parallel region the context has none for */
    int in_team = omp_in_parallel() ? omp_get_thread_num() : 0;
    bool has_ws = gc && in_team < gc->threads;
    size_t kc_max = blk.kc ? blk.kc : arch->kc;
    if (ta && n <= BP_GEMM_COLVEC_MAX && arch->colvec_mr && arch->colvec[n]) {
        jb.nest = NEST_COLVEC;
    } else {
        jb.tile = n <= arch->narrow.nr ? &arch->narrow : &arch->wide;
        /* packed when A spans several row blocks and is read by rows
         * (NN, NT): MR rows a long stride apart fall into few L1 sets.
         * Measured on 1024^3 (direct 0.72x, packed 0.95x of oneDNN on a
         * Xeon; 0.75 and 0.81 of the FMA peak on a Zen 4). A transposed A
         * (TN, TT) is read as MR contiguous floats per k, so the direct
         * nest reads it in place: on a Zen 4, TN 784x256x128 (the
         * weight gradient of the 784-input layer) ran at 0.94 of the
         * peak direct, 0.89 packed; 784x256x512 at 0.95 and 0.84. On the
         * 128/256-row MLP shapes the direct nest wins by 5-15%. A narrow
         * C (one panel of B) never reuses a packed A: NN 512x10x128 ran
         * at 0.47 of the peak direct, 0.37 packed (Zen 5). */
        size_t mc = blk.mc ? blk.mc : arch->mc, kc_bound = BP_GEMM_KC_MAX;
        if (m > 2 * arch->mc && !ta && has_ws && jb.tile == &arch->wide) {
            jb.nest = NEST_PACKED;
            kc_max = blk.pkc ? blk.pkc : blk.kc ? blk.kc : arch->kc_packed;
            mc = blk.pmc ? blk.pmc : mc;
            kc_bound = BP_GEMM_PKC_MAX;
        }
        jb.kcb = kc_block(k, min_sz(kc_max, kc_bound));
        size_t mr = jb.tile->mr, nr = jb.tile->nr;
        /* the packed blocks hold mc x kcb and kcb x nc floats */
        jb.mc = tile_multiple(mc, mr,
                              min_sz(BP_GEMM_MC_MAX,
                                     BP_GEMM_APACK_FLOATS / jb.kcb));
        jb.nc = tile_multiple(blk.nc ? blk.nc : arch->nc, nr, BP_GEMM_NC_MAX);
    }
    if (jb.nest == NEST_COLVEC)
        jb.kcb = kc_block(k, min_sz(kc_max, BP_GEMM_KC_MAX));
    assert(jb.kcb <= (jb.nest == NEST_PACKED ? BP_GEMM_PKC_MAX
                                              : BP_GEMM_KC_MAX) &&
           jb.mc * jb.kcb <= BP_GEMM_APACK_FLOATS &&
           jb.kcb * jb.nc <= BP_GEMM_BPACK_FLOATS &&
           arch->mc <= BP_GEMM_MC_MAX && arch->nc <= BP_GEMM_NC_MAX &&
           arch->colvec_mr <= BP_GEMM_MR_MAX);
    assert(!gc || (gc->threads >= 1 && gc->ws));

    if (!gc) {
        if (needs_saved(&jb))
            run_alone_saved(&jb);
        else
            run_alone(&jb);
        return;
    }
    /* inside a parallel region: this thread alone, in the workspace its
     * number in the team owns (the stack if the context has none for it) */
    if (omp_in_parallel()) {
        if (has_ws) {
            bufs bf = bufs_of(gc->ws[in_team]);
            run_part(&jb, &bf, 0, m, 0, n);
        } else if (needs_saved(&jb)) {
            run_alone_saved(&jb);
        } else {
            run_alone(&jb);
        }
        return;
    }

    /* threads split whole tiles: along n when there are enough panels */
    size_t mr = jb.nest == NEST_COLVEC ? arch->colvec_mr : jb.tile->mr;
    size_t nr = jb.nest == NEST_COLVEC ? n : jb.tile->nr;
    size_t mtiles = (m + mr - 1) / mr, npanels = (n + nr - 1) / nr;
    int nt = gc->threads;
    if ((double)m * n * k < PARALLEL_MIN_FMAS)
        nt = 1;
    bool split_n = npanels >= (size_t)nt;
    size_t units = split_n ? npanels : mtiles;
    if ((size_t)nt > units)
        nt = (int)units;
    if (nt <= 1) {
        bufs bf = bufs_of(gc->ws[0]);
        run_part(&jb, &bf, 0, m, 0, n);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        size_t t = (size_t)omp_get_thread_num(), T = (size_t)omp_get_num_threads();
        size_t u0 = units * t / T, u1 = units * (t + 1) / T;
        bufs bf = bufs_of(gc->ws[t]);
        if (u0 < u1) {
            if (split_n)
                run_part(&jb, &bf, 0, m, u0 * nr, min_sz(u1 * nr, n));
            else
                run_part(&jb, &bf, u0 * mr, min_sz(u1 * mr, m), 0, n);
        }
    }
}
