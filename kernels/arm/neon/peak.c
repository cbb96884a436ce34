/* kernels/arm/neon/peak.c - the NEON FMA-throughput loop: the template
 * kernels/simd/peak.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/kernels.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/peak.inc"
