/* kernels/x86/avx2/bias.c - AVX2 bias add and bias gradient: the template
 * kernels/simd/bias.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/bias.inc"
