/* kernels/x86/avx512/rnn.c - AVX-512 LSTM cell forward and backward: the template
 * kernels/simd/rnn.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx512/avx512_list.h"
#include "kernels/x86/avx512/vec.h"
#include "kernels/simd/rnn.inc"
