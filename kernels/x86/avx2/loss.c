/* kernels/x86/avx2/loss.c - AVX2 loss values and deltas: the template
 * kernels/simd/loss.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/loss.inc"
