/* kernels/x86/avx2/act.c - AVX2 activations, their deltas and softmax: the template
 * kernels/simd/act.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/act.inc"
