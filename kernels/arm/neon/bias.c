/* kernels/arm/neon/bias.c - NEON bias add and bias gradient: the template
 * kernels/simd/bias.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/arm/neon/neon_list.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/bias.inc"
