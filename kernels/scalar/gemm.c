/* kernels/scalar/gemm.c - reference GEMM.
 *
 * The clean, minimal reference: one dot product per output element, summed
 * in float in increasing p. No blocking, no intrinsics, no threads; every
 * GEMM of every ISA is checked against this (tolerance class SUM). It is
 * written to be read, not to be fast. It needs neither threads nor a
 * workspace: the context gc is ignored (and may be NULL).
 *
 * C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C, row-major,
 * op(A)[i][p] = ta ? A[p*lda + i] : A[i*lda + p]
 * op(B)[p][j] = tb ? B[j*ldb + p] : B[p*ldb + j]
 * beta == 0: C is not read. alpha == 0 or k == 0: A and B are not read.
 * post (kernels.h bp_gemm_post) is applied the unfused way, the definition
 * of what a fused epilogue must give: bias_act on all of C, then
 * bias_grad of B for the column sums.
 */
#include "kernels/scalar/scalar.h"

void bp_gemm__scalar(const bp_gemm_ctx *gc, bool ta, bool tb, size_t m,
                     size_t n, size_t k, float alpha, const float *A,
                     size_t lda, const float *B, size_t ldb, float beta,
                     float *C, size_t ldc, const bp_gemm_post *post)
{
    (void)gc;
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            float acc = 0.0f;
            if (alpha != 0.0f) {
                for (size_t p = 0; p < k; p++) {
                    float a = ta ? A[p * lda + i] : A[i * lda + p];
                    float b = tb ? B[j * ldb + p] : B[p * ldb + j];
                    acc += a * b;
                }
            }
            float c = alpha * acc;
            if (beta != 0.0f)
                c += beta * C[i * ldc + j];
            C[i * ldc + j] = c;
        }
    }
    if (!post)
        return;
    if (post->bias || post->act != BP_KACT_NONE)
        bp_bias_act__scalar(m, n, post->bias, post->act, C, ldc);
    if (post->colsum)
        bp_bias_grad__scalar(k, n, B, ldb, post->colsum);
}
