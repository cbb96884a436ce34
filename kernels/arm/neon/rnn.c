/* kernels/arm/neon/rnn.c - NEON LSTM cell forward and backward: the template
 * kernels/simd/rnn.inc compiled over this folder's vector layer (vec.h). */
#include "kernels/arm/neon/neon_list.h"
#include "kernels/arm/neon/vec.h"
#include "kernels/simd/rnn.inc"
