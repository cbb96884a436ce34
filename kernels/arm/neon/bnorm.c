/* kernels/arm/neon/bnorm.c - NEON batch normalisation: the template
 * kernels/simd/bnorm.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/arm/neon/neon_list.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/bnorm.inc"
