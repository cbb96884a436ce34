/* kernels/x86/avx2/rnn.c - AVX2 LSTM cell forward and backward: the template
 * kernels/simd/rnn.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/x86/avx2/avx2_list.h"
#include "kernels/x86/avx2/vec.h"
#include "kernels/simd/rnn.inc"
