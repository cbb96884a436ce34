/* kernels/gemm/gemm_internal.h - the contract between the blocked GEMM
 * driver (kernels/gemm/gemm_driver.c, baseline flags) and each ISA's
 * register-tiled micro-kernels (kernels/<isa>/gemm.c, that ISA's flags).
 *
 * The driver splits C among threads (whole register tiles, along n if it
 * has enough NR panels, else along m) and runs one of two loop nests on
 * each part:
 *
 * direct (the MLP shapes: operands that fit in L2), nothing packed that
 * need not be:
 *   for each KC block of k
 *     for each MC block of rows
 *       for each NR-wide panel of op(B)  (packed only for NT/TT and for a
 *                                         partial last panel)
 *         for each MR-tall tile of op(A) (read in place; a partial last
 *                                         tile is copied once per block)
 *           micro-kernel: C tile (+)= alpha * A tile . B panel
 *   op(A) is read in place: rows of A (NN, NT: "row" kernels, stride lda
 *   between rows) or columns of a transposed A (TN, TT: "col" kernels, MR
 *   contiguous values per k). op(B) is read as NR contiguous floats per k
 *   with a row stride: B itself for NN/TN, a packed copy for NT/TT.
 *
 * packed (large operands, the BLIS/GotoBLAS nest):
 *   for each NC block of columns, for each KC block: pack op(B) (kc x nc,
 *   L3); for each MC block of rows: pack op(A) (mc x kc, L2); then the
 *   micro-kernel over every tile, reading only packed, contiguous data.
 *   Its KC and MC are its own (bp_gemm_blocking pkc, pmc): a long KC, so
 *   that the tiles of a C too large for L2 make few round trips to it
 *   (kernels/gemm/blocking.c).
 *
 * Determinism: every element of C is one chain of FMAs over all of k in
 * increasing p: a KC block after the first continues the chain from the
 * partial sum the block before stored in C (the micro-kernels' cont), and
 * only the last applies alpha. beta joins the chain as follows: beta == 0,
 * C is not read; alpha == 1 and beta == 1 (C += op(A) op(B)), the chain
 * starts from C's value; otherwise C = alpha * s + beta * C after the
 * chain s, C's old values set aside while s runs over several blocks
 * (the driver's run_saved). Tiles, panels, the nest, the blocking (KC,
 * MC, NC: the context's, kernels.h), thread splits and where the packed
 * copies live only choose *which* elements a call computes and from which
 * memory, never how, so the result is bit-identical for any thread count,
 * any blocking and any context, and so on any two CPUs that run the same
 * table.
 *
 * Epilogue (kernels.h bp_gemm_post): a bias and an activation are applied
 * to each tile as it is stored in the last KC block, in registers by the
 * micro-kernels of an arch with ukr_ep (bp_gemm_ep; the x86 ones), else
 * by the table's bias_act on the tile just stored; the column sums of
 * op(B) are taken from each panel as the nest reads or packs it, by the
 * part of C that holds row 0, the blocks of k in order. Both use the
 * element functions of the unfused kernels, so they add no rounding of
 * their own.
 */
#ifndef BPLAB_GEMM_INTERNAL_H
#define BPLAB_GEMM_INTERNAL_H

/* Upper bounds every arch stays within (they size the per-thread
 * workspace of bp_gemm_ctx, bp_gemm_workspace_floats). */
#define BP_GEMM_MR_MAX 32
#define BP_GEMM_NR_MAX 32
#define BP_GEMM_KC_MAX 384   /* direct nest (its panels may be on the stack) */
#define BP_GEMM_PKC_MAX 1024 /* packed nest */
#define BP_GEMM_MC_MAX 1024
#define BP_GEMM_NC_MAX 1024
/* The packed nest's blocks: A, pmc x pkc floats (pmc is held within it
 * at run time: 384 rows at the largest pkc); B, pkc x nc. */
#define BP_GEMM_APACK_FLOATS (BP_GEMM_MC_MAX * BP_GEMM_KC_MAX)
#define BP_GEMM_BPACK_FLOATS (BP_GEMM_PKC_MAX * BP_GEMM_NC_MAX)

#include <stdbool.h>
#include <stddef.h>

#include "kernels/kernels.h"

/* The smaller of two sizes (the driver's and the blocking model's). */
static inline size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* C[0:m][0:n] = alpha * (S + sum_p A(i,p) B(p,j)) + beta * C  (beta == 0:
 * C is not read), for m <= mr, n <= nr, over p < kc, as one FMA chain per
 * element in increasing p starting from S: S = 0, or with cont S = C, the
 * partial sums an earlier KC block stored there (beta is then 0).
 * A(i,p) = a[i*lda + p] for a "row" kernel, a[p*lda + i] for a "col" one.
 * B(p,j) = b[p*ldb + j], and b[p*ldb + j] must be readable for all j < nr
 * (the driver packs a partial panel). A rows (row kernels) or columns (col
 * kernels) i >= m must be readable too: the driver hands partial tiles
 * over as a zero-padded col-layout copy. ep: below. */
struct bp_gemm_ep;
typedef void bp_gemm_ukr_fn(size_t kc, const float *a, size_t lda,
                            const float *b, size_t ldb, float *c, size_t ldc,
                            size_t m, size_t n, bool cont, float alpha,
                            float beta, const struct bp_gemm_ep *ep);

/* The part of a GEMM's epilogue (kernels.h bp_gemm_post) a micro-kernel
 * applies in the last KC block, between computing its tile's values and
 * storing them: C[i][j] = act(value + bias[j]), bias pointing at the
 * tile's first column (NULL: no bias). The bits are those of the table's
 * bias_act on the stored tile. ep NULL: nothing. Only an arch with
 * ukr_ep gets one; for the others the driver applies bias_act to each
 * finished tile. */
typedef struct bp_gemm_ep {
    const float *bias;
    bp_kact act;
} bp_gemm_ep;

/* Pack one panel of op(B), kc x nr, zero-padded past column n <= nr:
 * out[p*nr + j] = op(B)(p, j) = tb ? b[j*ldb + p] : b[p*ldb + j]. */
typedef void bp_gemm_pack_b_fn(bool tb, size_t kc, size_t nr, size_t n,
                               const float *b, size_t ldb, float *out);

/* Pack one tile of op(A), mr x kc, zero-padded past row m <= mr, in col
 * layout: out[p*mr + i] = op(A)(i, p) = ta ? a[p*lda + i] : a[i*lda + p]. */
typedef void bp_gemm_pack_a_fn(bool ta, size_t mr, size_t m, size_t kc,
                               const float *a, size_t lda, float *out);

/* Column-vector kernel for a narrow C (n <= BP_GEMM_COLVEC_MAX) with a
 * transposed A (TN, TT): C[0:m][0:n] = alpha * (S + sum_p a[p*lda + i]
 * b[p*n + j]) + beta * C, m <= the arch's colvec_mr, S and cont as for
 * bp_gemm_ukr_fn. Vectors run down the columns of C
 * (contiguous in A's rows), so every lane is used even when n = 10; b is
 * op(B) packed as kc x n. The n-specific kernel is colvec[n]. */
#define BP_GEMM_COLVEC_MAX 12
typedef void bp_gemm_colvec_fn(size_t kc, const float *a, size_t lda,
                               const float *b, float *c, size_t ldc, size_t m,
                               bool cont, float alpha, float beta);

/* The column sums of a block of op(B) (rows x cols, row stride ldb), in
 * increasing row order: s[j] = (cont ? s[j] : 0) + b[0][j] + b[1][j] + ...
 * with the bits of the table's bias_grad over all the rows when the
 * blocks of rows are taken in order (each ISA's bias.inc: the same code).
 * The GEMM epilogue's colsum (kernels.h bp_gemm_post). */
typedef void bp_gemm_colsum_fn(size_t rows, size_t cols, const float *b,
                               size_t ldb, float *s, bool cont);

/* One register-tile shape with its kernels. */
typedef struct bp_gemm_tile {
    size_t mr, nr;
    bp_gemm_ukr_fn *row; /* A(i,p) = a[i*lda + p] */
    bp_gemm_ukr_fn *col; /* A(i,p) = a[p*lda + i] */
    bp_gemm_ukr_fn *packed; /* col with lda == mr and ldb == nr */
} bp_gemm_tile;

/* An ISA's GEMM: its tiles and cache blocking. */
typedef struct bp_gemm_arch {
    const char *name;
    bp_gemm_tile wide;   /* the main tile */
    bp_gemm_tile narrow; /* used when n <= narrow.nr (the 10-class layer) */
    bp_gemm_pack_a_fn *pack_a;
    bp_gemm_pack_b_fn *pack_b;
    /* the blocking of a call without one in its context (gc NULL or
     * gc->blk zero); bp_gemm_blocking_model derives one from the caches */
    size_t kc;           /* direct nest's KC: a B micro-panel in L1 */
    size_t mc;           /* MC of both nests: A's block rows */
    size_t nc;           /* packed nest's NC: a packed B block kc x nc */
    size_t kc_packed;    /* packed nest's KC */
    size_t colvec_mr;    /* rows per colvec call; 0: no colvec kernels */
    bp_gemm_colvec_fn *colvec[BP_GEMM_COLVEC_MAX + 1];
    /* the epilogue (kernels.h bp_gemm_post): the table's own bias_act,
     * and its column sums; ukr_ep: the row, col and packed micro-kernels
     * apply bias and activation before they store (bp_gemm_ep) */
    bool ukr_ep;
    bp_bias_act_fn *bias_act;
    bp_gemm_colsum_fn *colsum;
} bp_gemm_arch;

/* Each ISA's column sums (its bias.inc). */
bp_gemm_colsum_fn bp_gemm_colsum__avx2, bp_gemm_colsum__avx512,
    bp_gemm_colsum__neon;

/* Each ISA's GEMM (<folder>/gemm.c; only the built ones are defined). */
extern const bp_gemm_arch bp_gemm_arch__avx2, bp_gemm_arch__avx512,
    bp_gemm_arch__neon;

/* The driver: full GEMM semantics of bp_gemm_fn (kernels.h), threads and
 * workspaces from gc (NULL: the calling thread, no workspace). */
void bp__gemm_run(const bp_gemm_arch *arch, const bp_gemm_ctx *gc, bool ta,
                  bool tb, size_t m, size_t n, size_t k, float alpha,
                  const float *A, size_t lda, const float *B, size_t ldb,
                  float beta, float *C, size_t ldc,
                  const bp_gemm_post *post);

#endif
