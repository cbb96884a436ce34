/* core/augment.h - data augmentation of training images: random shifts
 * and horizontal flips, drawn per sample and epoch from the run's seed.
 *
 * "More data" without more data: each epoch sees every training image
 * moved by up to `shift` pixels in each direction (the image padded with
 * zeros and cropped back to its size, as Krizhevsky et al. 2012 and most
 * CIFAR recipes do) and, with `flip`, mirrored left to right with
 * probability 1/2. The draw for a sample is a function of the seed, the
 * epoch and the sample's index in the training set alone (a counter-based
 * generator, core/rng.h): the same at any thread count, and a resumed run
 * continues it exactly. Validation and test data are never augmented.
 */
#ifndef BPLAB_AUGMENT_H
#define BPLAB_AUGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/shape.h"
#include "core/status.h"

/* Largest shift `--augment shift:N` takes. */
#define BP_AUGMENT_MAX_SHIFT 16

typedef struct bp_augment {
    size_t shift; /* 0: none; else each axis moves by a uniform draw from
                     -shift .. shift pixels */
    bool flip;    /* mirror left to right with probability 1/2 */
} bp_augment;

/* Is any augmentation on? */
static inline bool bp_augment_on(const bp_augment *a)
{
    return a->shift > 0 || a->flip;
}

/* "shift:N", "flip", or both joined by a comma ("shift:2,flip"); NULL or
 * "" or "none": no augmentation. Fails with BP_ERR_INVALID_ARG and a
 * message starting "augment". */
bp_status bp_augment_parse(const char *text, bp_augment *a, bp_err *err);

/* Can a sample of shape s be augmented so? Images only (height and width
 * of at least 2; not a sequence or a row of features), and a shift
 * smaller than the height and the width. */
bp_status bp_augment_check(const bp_augment *a, bp_shape s, bp_err *err);

/* The draw for sample `index` in epoch `epoch` (from 0) of a run with
 * seed `seed`, as the 64 random bits bp_augment_image reads. */
uint64_t bp_augment_draw(uint64_t seed, uint64_t epoch, uint64_t index);

/* dst = src (one image of shape s, channels-last) shifted and flipped as
 * `bits` (bp_augment_draw) say: dst(y, x) = src(y + dy, x' + dx), x' = x
 * or w - 1 - x when flipped, 0 where that falls outside the image. dst
 * and src must not overlap. */
void bp_augment_image(const bp_augment *a, bp_shape s, uint64_t bits,
                      const float *src, float *dst);

/* The shift (dy, dx) and flip that `bits` select (for tests and
 * reports). */
void bp_augment_decode(const bp_augment *a, uint64_t bits, long *dy,
                       long *dx, bool *flip);

#endif
