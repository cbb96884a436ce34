/* kernels/arm/neon/optim.c - NEON optimizer updates: the template
 * kernels/simd/optim.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/arm/neon/neon_list.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/optim.inc"
