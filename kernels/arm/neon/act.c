/* kernels/arm/neon/act.c - NEON activations, their deltas and softmax: the template
 * kernels/simd/act.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/arm/neon/neon_list.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/act.inc"
