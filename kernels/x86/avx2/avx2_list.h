/* kernels/x86/avx2/avx2_list.h - the kernels the avx2 table specialises.
 * X(name): bp_<name>__avx2 exists and replaces the inherited entry.
 * Entries not listed fall back to the table this one derives from. */
#ifndef BPLAB_AVX2_LIST_H
#define BPLAB_AVX2_LIST_H

#include "kernels/kernels.h"

#define BP_AVX2_KERNELS(X)

#define X(name) bp_ktype_##name bp_##name##__avx2;
BP_AVX2_KERNELS(X)
#undef X

#endif
