/* kernels/arm/neon/dropout.c - NEON inverted dropout: the template
 * kernels/simd/dropout.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/arm/neon/neon_list.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/dropout.inc"
