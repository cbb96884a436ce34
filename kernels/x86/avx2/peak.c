/* kernels/x86/avx2/peak.c - the AVX2 FMA-throughput loop: the template
 * kernels/simd/peak.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/kernels.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/peak.inc"
