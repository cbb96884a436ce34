/* kernels/x86/avx2/conv.c - AVX2 im2col, col2im, max and average
 * pooling: the template kernels/simd/conv.inc compiled over this folder's
 * vector layer (vec.h). */
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/conv.inc"
