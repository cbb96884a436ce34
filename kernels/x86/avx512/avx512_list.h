/* kernels/x86/avx512/avx512_list.h - the kernels the avx512 table specialises.
 * X(name): bp_<name>__avx512 exists and replaces the inherited entry.
 * Entries not listed fall back to the table this one derives from. */
#ifndef BPLAB_AVX512_LIST_H
#define BPLAB_AVX512_LIST_H

#include "kernels/kernels.h"

#define BP_AVX512_KERNELS(X)

#define X(name) bp_ktype_##name bp_##name##__avx512;
BP_AVX512_KERNELS(X)
#undef X

#endif
