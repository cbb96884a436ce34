/* kernels/x86/avx512/act.c - AVX-512 activations, their deltas and softmax: the template
 * kernels/simd/act.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx512/avx512_list.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/act.inc"
