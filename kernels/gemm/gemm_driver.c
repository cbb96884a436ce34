/* kernels/gemm/gemm_driver.c - the blocked GEMM driver shared by every SIMD
 * table (see gemm_internal.h for the loop nest and the determinism
 * argument). Compiled with baseline flags: it only calls the ISA's packing
 * and micro-kernel functions through bp_gemm_arch.
 *
 * Memory and threads come from the caller's context (bp_gemm_ctx,
 * kernels.h): the driver forks at most gc->threads threads, and thread t
 * packs into gc->ws[t] (layout below). It never allocates. Without a
 * context (gc == NULL) it runs on the calling thread in the direct nest,
 * with the two panel buffers that nest needs (96 KiB) on the stack; the
 * packed nest needs the 2 MiB blocks of a workspace.
 */
#include <assert.h>
#include <omp.h>
#include <string.h>

#include "kernels/gemm/gemm_internal.h"

/* Below this many multiply-adds a GEMM runs on one thread: forking costs
 * more than it saves. */
#define PARALLEL_MIN_FMAS (1u << 18)

/* One thread's workspace, in floats: the packed nest's A block (MC_MAX x
 * KC_MAX) and B block (KC_MAX x NC_MAX), then the direct nest's B
 * micro-panel (KC_MAX x NR_MAX, also the colvec nest's packed op(B)) and
 * A edge tile (KC_MAX x MR_MAX). Every offset is a multiple of 16 floats,
 * so each part keeps the workspace's 64-byte alignment. */
#define WS_APACK 0
#define WS_BPACK (WS_APACK + BP_GEMM_MC_MAX * BP_GEMM_KC_MAX)
#define WS_BPANEL (WS_BPACK + BP_GEMM_KC_MAX * BP_GEMM_NC_MAX)
#define WS_AEDGE (WS_BPANEL + BP_GEMM_KC_MAX * BP_GEMM_NR_MAX)
#define WS_FLOATS (WS_AEDGE + BP_GEMM_KC_MAX * BP_GEMM_MR_MAX)
_Static_assert(WS_BPACK % 16 == 0 && WS_BPANEL % 16 == 0 &&
                   WS_AEDGE % 16 == 0,
               "workspace parts must stay 64-byte aligned");

size_t bp_gemm_workspace_floats(void) { return WS_FLOATS; }

/* The buffers one part of a GEMM works in: its thread's workspace, or
 * (no context) the stack buffers of run_alone. apack is NULL when there
 * is no room for the packed nest. */
typedef struct bufs {
    float *apack, *bpack; /* packed nest: A block, B block */
    float *bpanel;        /* direct, colvec nests: a packed panel of op(B) */
    float *aedge;         /* direct nest: a partial tile of op(A) */
} bufs;

static bufs bufs_of(float *ws)
{
    bufs b = {ws + WS_APACK, ws + WS_BPACK, ws + WS_BPANEL, ws + WS_AEDGE};
    return b;
}

/* ---- helpers */

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

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
    size_t m, n, k, kcb;
    float alpha, beta;
    const float *A, *B;
    size_t lda, ldb, ldc;
    float *C;
} job;

/* Rows [i0, i1) x columns [j0, j1) of C. i0 and j0 are multiples of the
 * tile, so only the last tile and panel of the range can be partial. */
static void gemm_part(const job *jb, const bufs *bf, size_t i0, size_t i1,
                      size_t j0, size_t j1)
{
    const bp_gemm_arch *arch = jb->arch;
    const bp_gemm_tile *t = jb->tile;
    const size_t mr = t->mr, nr = t->nr, lda = jb->lda, ldb = jb->ldb;
    const size_t mc = arch->mc / mr * mr;
    for (size_t kb = 0; kb < jb->k; kb += jb->kcb) {
        size_t kc = min_sz(jb->kcb, jb->k - kb);
        float beta = kb == 0 ? jb->beta : 1.0f;
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
                float *Cj = jb->C + j;
                bp_gemm_ukr_fn *ukr = jb->ta ? t->col : t->row;
                for (size_t i = ic; i < iedge; i += mr)
                    ukr(kc, jb->ta ? Ak + i : Ak + i * lda, lda, bp, ldbp,
                        Cj + i * jb->ldc, jb->ldc, mr, nb, jb->alpha, beta);
                if (medge)
                    t->col(kc, bf->aedge, mr, bp, ldbp,
                           Cj + iedge * jb->ldc, jb->ldc, medge, nb,
                           jb->alpha, beta);
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
    const size_t mc = arch->mc / mr * mr, nc = arch->nc / nr * nr;
    float *apack = bf->apack, *bpack = bf->bpack;
    for (size_t jc = j0; jc < j1; jc += nc) {
        size_t je = min_sz(jc + nc, j1);
        for (size_t kb = 0; kb < jb->k; kb += jb->kcb) {
            size_t kc = min_sz(jb->kcb, jb->k - kb);
            float beta = kb == 0 ? jb->beta : 1.0f;
            const float *Ak = jb->ta ? jb->A + kb * lda : jb->A + kb;
            const float *Bk = jb->tb ? jb->B + kb : jb->B + kb * ldb;
            for (size_t j = jc; j < je; j += nr)
                arch->pack_b(jb->tb, kc, nr, min_sz(nr, je - j),
                             jb->tb ? Bk + j * ldb : Bk + j, ldb,
                             bpack + (j - jc) * kc);
            for (size_t ic = i0; ic < i1; ic += mc) {
                size_t ie = min_sz(ic + mc, i1);
                for (size_t i = ic; i < ie; i += mr)
                    arch->pack_a(jb->ta, mr, min_sz(mr, ie - i), kc,
                                 jb->ta ? Ak + i : Ak + i * lda, lda,
                                 apack + (i - ic) * kc);
                for (size_t j = jc; j < je; j += nr)
                    for (size_t i = ic; i < ie; i += mr)
                        t->packed(kc, apack + (i - ic) * kc, mr,
                               bpack + (j - jc) * kc, nr,
                               jb->C + i * jb->ldc + j, jb->ldc,
                               min_sz(mr, ie - i), min_sz(nr, je - j),
                               jb->alpha, beta);
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
        size_t kc = min_sz(jb->kcb, jb->k - kb);
        float beta = kb == 0 ? jb->beta : 1.0f;
        arch->pack_b(jb->tb, kc, n, n,
                     jb->tb ? jb->B + kb : jb->B + kb * jb->ldb, jb->ldb,
                     bf->bpanel);
        const float *Ak = jb->A + kb * lda;
        for (size_t i = i0; i < i1; i += mr)
            kern(kc, Ak + i, lda, bf->bpanel, jb->C + i * jb->ldc, jb->ldc,
                 min_sz(mr, i1 - i), jb->alpha, beta);
    }
}

/* Rows [i0, i1) x columns [j0, j1) in the buffers bf. Without room for
 * the packed nest the direct nest computes the same bits: both run the
 * same micro-kernel chains over the same KC blocks (jb->kcb). */
static void run_part(const job *jb, const bufs *bf, size_t i0, size_t i1,
                     size_t j0, size_t j1)
{
    if (jb->nest == NEST_COLVEC)
        gemm_part_colvec(jb, bf, i0, i1);
    else if (jb->nest == NEST_PACKED && bf->apack)
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
    bufs bf = {NULL, NULL, bpanel, aedge};
    run_part(jb, &bf, 0, jb->m, 0, jb->n);
}

void bp__gemm_run(const bp_gemm_arch *arch, const bp_gemm_ctx *gc, bool ta,
                  bool tb, size_t m, size_t n, size_t k, float alpha,
                  const float *A, size_t lda, const float *B, size_t ldb,
                  float beta, float *C, size_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (alpha == 0.0f || k == 0) {
        scale_c(m, n, beta, C, ldc);
        return;
    }
    job jb = {.arch = arch, .ta = ta, .tb = tb, .m = m, .n = n, .k = k,
              .alpha = alpha, .beta = beta, .A = A, .B = B, .lda = lda,
              .ldb = ldb, .ldc = ldc, .C = C};
    /* The nest and its blocking depend on the shape alone, never on the
     * thread count or the context (gemm_internal.h: determinism). */
    size_t kc_max = arch->kc;
    if (ta && n <= BP_GEMM_COLVEC_MAX && arch->colvec_mr && arch->colvec[n]) {
        jb.nest = NEST_COLVEC;
    } else {
        jb.tile = n <= arch->narrow.nr ? &arch->narrow : &arch->wide;
        /* packed when A spans several row blocks: measured on 1024^3
         * (direct 0.72x, packed 0.95x of oneDNN) and on the 784-row weight
         * gradient (packed 1.1x faster); on the 128/256-row MLP shapes the
         * direct nest wins by 5-15% */
        if (m > 2 * arch->mc) {
            jb.nest = NEST_PACKED;
            kc_max = arch->kc_packed;
        }
    }
    size_t nkb = (k + kc_max - 1) / kc_max;
    jb.kcb = (k + nkb - 1) / nkb;
    assert(jb.kcb <= BP_GEMM_KC_MAX && arch->mc <= BP_GEMM_MC_MAX &&
           arch->nc <= BP_GEMM_NC_MAX && arch->colvec_mr <= BP_GEMM_MR_MAX);
    assert(!gc || (gc->threads >= 1 && gc->ws));

    if (!gc) {
        run_alone(&jb);
        return;
    }
    /* inside a parallel region: this thread alone, in the workspace its
     * number in the team owns (the stack if the context has none for it) */
    if (omp_in_parallel()) {
        int t = omp_get_thread_num();
        if (t < gc->threads) {
            bufs bf = bufs_of(gc->ws[t]);
            run_part(&jb, &bf, 0, m, 0, n);
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
