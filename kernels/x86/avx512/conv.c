/* kernels/x86/avx512/conv.c - AVX-512 im2col, col2im, max and average
 * pooling: the template kernels/simd/conv.inc compiled over this folder's
 * vector layer (vec.h). */
#include "kernels/x86/avx512/avx512_list.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/conv.inc"
