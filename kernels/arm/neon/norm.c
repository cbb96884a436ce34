/* kernels/arm/neon/norm.c - NEON sum of squares, scale, clip-by-value: the template
 * kernels/simd/norm.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/arm/neon/neon_list.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/norm.inc"
