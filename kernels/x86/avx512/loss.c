/* kernels/x86/avx512/loss.c - AVX-512 loss values and deltas: the template
 * kernels/simd/loss.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx512/avx512_list.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/loss.inc"
