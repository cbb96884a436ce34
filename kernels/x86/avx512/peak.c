/* kernels/x86/avx512/peak.c - the AVX-512 FMA-throughput loop: the template
 * kernels/simd/peak.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/kernels.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/peak.inc"
