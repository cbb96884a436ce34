/* kernels/x86/avx512/dropout.c - AVX-512 inverted dropout: the template
 * kernels/simd/dropout.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx512/avx512_list.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/dropout.inc"
