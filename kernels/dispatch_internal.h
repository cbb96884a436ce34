/* kernels/dispatch_internal.h - hooks for tests only; not for users. */
#ifndef BPLAB_DISPATCH_INTERNAL_H
#define BPLAB_DISPATCH_INTERNAL_H

#include <stdint.h>

/* Pretend the ISAs in `isa_mask` (bit 1 << bp_isa) are not supported by
 * this CPU, so tests can exercise the "CPU lacks X" paths on any machine.
 * 0 restores the truth (bp_isa_best and bp_kernels_active follow at
 * once). Not thread-safe: call from the test's main thread between runs. */
void bp__dispatch_disable_for_test(uint32_t isa_mask);

#endif
