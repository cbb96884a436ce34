/* core/bounds.h - the range of every numeric setting, in one place.
 *
 * The library checks its specs against these (bp_net_spec_check,
 * bp_optim_spec_check, bp_trainer_create) and names the field in its
 * message ("lr 200: must be between 1e-09 and 100"); the command line's
 * option tables (core/run.c) take their limits from the same macros, so a
 * value the command line accepts is never refused later, and the command
 * line maps a library message's field to its flag (bp_run_flag_error).
 * Specs hold floats: a bound is compared as the float it becomes.
 */
#ifndef BPLAB_BOUNDS_H
#define BPLAB_BOUNDS_H

#include <stdbool.h>

#include "core/status.h"

/* network (widths and the dropout rate: core/layer.h) */
#define BP_INIT_GAIN_MIN 1e-6
#define BP_INIT_GAIN_MAX 1000.0
#define BP_FORGET_BIAS_MAX 100.0 /* either sign */
/* optimizer */
#define BP_LR_MIN 1e-9
#define BP_LR_MAX 100.0
#define BP_MOMENTUM_MAX 0.999
#define BP_BETA1_MAX 0.9999
#define BP_BETA2_MAX 0.999999
#define BP_EPS_MIN 1e-12
#define BP_EPS_MAX 1.0
#define BP_DECAY_MAX 0.5 /* l2 and l1 */
#define BP_CLIP_MAX 1e9  /* clip_norm and clip_value; 0: off */
#define BP_GAMMA_MIN 1e-6
#define BP_GAMMA_MAX 1.0
/* training */
#define BP_MAX_BATCH (1 << 20)
#define BP_MAX_EPOCHS 1000000

/* lo <= v <= hi (v a float setting named `field`); else BP_ERR_INVALID_ARG
 * "field v: must be between lo and hi". NaN is out of every range. */
static inline bp_status bp_check_range(const char *field, float v, double lo,
                                       double hi, bp_err *err)
{
    if (v >= (float)lo && v <= (float)hi)
        return BP_OK;
    return bp_fail(err, BP_ERR_INVALID_ARG, "%s %g: must be between %g and %g",
                   field, (double)v, lo, hi);
}

#endif
