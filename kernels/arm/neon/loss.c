/* kernels/arm/neon/loss.c - NEON loss values and deltas: the template
 * kernels/simd/loss.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/arm/neon/neon_list.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/loss.inc"
