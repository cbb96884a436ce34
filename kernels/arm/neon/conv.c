/* kernels/arm/neon/conv.c - NEON im2col, col2im, max and average
 * pooling, and the direct convolution: the templates kernels/simd/conv.inc
 * and conv_direct.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/arm/neon/neon_list.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/conv.inc"
#include "kernels/simd/conv_direct.inc"
