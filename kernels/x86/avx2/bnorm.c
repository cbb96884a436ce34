/* kernels/x86/avx2/bnorm.c - AVX2 batch normalisation: the template
 * kernels/simd/bnorm.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/bnorm.inc"
