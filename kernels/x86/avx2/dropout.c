/* kernels/x86/avx2/dropout.c - AVX2 inverted dropout: the template
 * kernels/simd/dropout.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/dropout.inc"
