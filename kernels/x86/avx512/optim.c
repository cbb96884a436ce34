/* kernels/x86/avx512/optim.c - AVX-512 optimizer updates: the template
 * kernels/simd/optim.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx512/avx512_list.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/optim.inc"
