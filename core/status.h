/* core/status.h - status codes and error records: kernels/base/status.h
 * (they live below both kernels/ and core/). */
#include "kernels/base/status.h"
