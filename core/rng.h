/* core/rng.h - the counter-based generator: kernels/base/rng.h (it lives
 * below both kernels/ and core/). */
#include "kernels/base/rng.h"
