/* kernels/x86/avx2/norm.c - AVX2 sum of squares, scale, clip-by-value: the template
 * kernels/simd/norm.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/norm.inc"
