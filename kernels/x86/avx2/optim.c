/* kernels/x86/avx2/optim.c - AVX2 optimizer updates: the template
 * kernels/simd/optim.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/optim.inc"
