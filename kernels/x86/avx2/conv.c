/* kernels/x86/avx2/conv.c - AVX2 im2col, col2im, max and average
 * pooling, and the direct convolution: the templates kernels/simd/conv.inc
 * and conv_direct.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/conv.inc"
#include "kernels/simd/conv_direct.inc"
