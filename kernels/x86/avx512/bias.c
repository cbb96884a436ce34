/* kernels/x86/avx512/bias.c - AVX-512 bias add and bias gradient: the template
 * kernels/simd/bias.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx512/avx512_list.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/bias.inc"
