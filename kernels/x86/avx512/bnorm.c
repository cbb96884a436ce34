/* kernels/x86/avx512/bnorm.c - AVX-512 batch normalisation: the template
 * kernels/simd/bnorm.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx512/avx512_list.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/bnorm.inc"
