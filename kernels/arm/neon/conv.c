/* kernels/arm/neon/conv.c - NEON im2col, col2im, max and average
 * pooling: the template kernels/simd/conv.inc compiled over this folder's
 * vector layer (vec.h). */
#include "kernels/arm/neon/neon_list.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/conv.inc"
