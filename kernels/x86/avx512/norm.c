/* kernels/x86/avx512/norm.c - AVX-512 sum of squares, scale, clip-by-value: the template
 * kernels/simd/norm.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx512/avx512_list.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/norm.inc"
