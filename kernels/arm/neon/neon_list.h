/* kernels/arm/neon/neon_list.h - the kernels the neon table specialises.
 * X(name): bp_<name>__neon exists and replaces the inherited entry.
 * Entries not listed fall back to the table this one derives from. */
#ifndef BPLAB_NEON_LIST_H
#define BPLAB_NEON_LIST_H

#include "kernels/kernels.h"

#define BP_NEON_KERNELS(X)

#define X(name) bp_ktype_##name bp_##name##__neon;
BP_NEON_KERNELS(X)
#undef X

#endif
