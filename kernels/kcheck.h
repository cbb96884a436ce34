/* kernels/kcheck.h - compare any kernel table against the scalar reference.
 *
 * One harness per kernel *signature* (not per kernel) draws inputs for a
 * fixed battery of shapes, runs the reference table and the table under
 * test on identical copies, and compares every output value with the
 * kernel's tolerance class from kernel_list.h. The battery covers sizes 0
 * and 1, tails around every vector width and register tile, primes, leading
 * dimensions larger than the row, unaligned starts, in-place calls where the
 * signature allows them, and special values (±0, ±inf, NaN, huge, tiny).
 *
 * Beyond values, every case also checks that the kernel
 *   - does not read past the end of its inputs (buffers end at a PROT_NONE
 *     page, so an over-read faults);
 *   - does not write outside its outputs (padding and a margin before each
 *     output hold a sentinel that must survive);
 *   - does not read C when beta == 0 (C starts as NaN).
 *
 * Used by `bplab check` and by tests/check_kernels.c; both fail on any
 * case that compared nothing.
 */
#ifndef BPLAB_KCHECK_H
#define BPLAB_KCHECK_H

#include <stddef.h>

#include "kernels/kernels.h"

/* The bound a value was judged by. A finite value of a non-EXACT kernel
 * passes within f ULPs of the reference or within the absolute bound
 * (f*u*sum|terms|, times K for sums; at least FLT_MIN); it is judged by
 * whichever of the two it is the smaller fraction of. Near zero ULPs grow
 * without meaning (one ULP of 1e-30 is tiny), so there the absolute bound
 * judges, and a large ULP count is no sign of trouble. */
typedef enum bp_kcheck_by {
    BP_BY_NONE,  /* nothing judged yet, or no difference at all */
    BP_BY_EXACT, /* EXACT kernels: identical bits */
    BP_BY_ULP,   /* within f ULPs */
    BP_BY_ABS    /* within the absolute bound */
} bp_kcheck_by;

typedef struct bp_kcheck_stats {
    size_t cases;      /* shapes run */
    size_t compared;   /* output values compared */
    size_t failures;   /* values outside the bound, or integrity faults */
    double max_abs;    /* max |got - ref| over finite pairs */
    double max_rel;    /* max |got - ref| / |ref| over finite ref != 0 */
    double max_ratio;  /* the worst value: its error as a fraction of the
                          bound it is judged by (passing values are <= 1) */
    bp_kcheck_by worst_by;  /* the bound that judged the worst value */
    size_t ulp_judged;      /* values judged by the ULP bound */
    double max_ulp_judged;  /* max ULP distance among those values */
    char first_failure[512];
} bp_kcheck_stats;

/* "ulp", "abs", "exact" or "-" (nothing judged, or no difference). */
const char *bp_kcheck_by_name(bp_kcheck_by by);

/* Number of cases in kernel k's battery. `quick` selects a subset of about
 * a tenth (for `bplab check --quick`), always including the edge shapes. */
size_t bp_kcheck_num_cases(bp_kernel_id k, bool quick);

/* Describe case i of kernel k ("m=13 n=37 k=257 NT alpha=1 beta=0 ..."). */
void bp_kcheck_case_name(bp_kernel_id k, size_t i, bool quick, char *buf,
                         size_t size);

/* Run case i of kernel k, comparing `test` with `ref`, and fold the result
 * into *st. Both tables' GEMMs run in the context gc (kernels.h; its
 * threads and workspaces: NULL runs them on one thread without a
 * workspace, which leaves the packed nest unchecked). Returns
 * BP_ERR_NOMEM if buffers could not be mapped; a numerical mismatch is
 * not an error: it shows up in st->failures. */
bp_status bp_kcheck_case(const bp_kernels *ref, const bp_kernels *test,
                         const bp_gemm_ctx *gc, bp_kernel_id k, size_t i,
                         bool quick, bp_kcheck_stats *st, bp_err *err);

/* All cases of kernel k (stats are reset first). */
bp_status bp_kcheck_kernel(const bp_kernels *ref, const bp_kernels *test,
                           const bp_gemm_ctx *gc, bp_kernel_id k, bool quick,
                           bp_kcheck_stats *st, bp_err *err);

/* The tolerance of kernel k as one line, e.g. "<= 2*K*u*sum|terms|". */
void bp_kcheck_tolerance_str(bp_kernel_id k, char *buf, size_t size);

#endif
