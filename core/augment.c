/* core/augment.c - random shifts and flips of training images
 * (augment.h). */
#include "core/augment.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* the generator stream of the draws (core/train.c keeps the others) */
#define STREAM_AUGMENT 0xa06u

bp_status bp_augment_parse(const char *text, bp_augment *a, bp_err *err)
{
    memset(a, 0, sizeof *a);
    if (!text || !*text || strcmp(text, "none") == 0)
        return BP_OK;
    const char *p = text;
    bool seen_shift = false;
    while (*p) {
        size_t n = strcspn(p, ",");
        bool is_flip = n == 4 && strncmp(p, "flip", 4) == 0;
        bool is_shift = n > 6 && strncmp(p, "shift:", 6) == 0;
        if ((is_flip && a->flip) || (is_shift && seen_shift))
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "augment '%.40s': %s is given twice", text,
                           is_flip ? "flip" : "shift");
        if (is_flip) {
            a->flip = true;
        } else if (is_shift && p[6] >= '0' && p[6] <= '9') {
            char *end;
            errno = 0;
            long long v = strtoll(p + 6, &end, 10);
            if (end != p + n || errno || v < 1 || v > BP_AUGMENT_MAX_SHIFT)
                return bp_fail(err, BP_ERR_INVALID_ARG,
                               "augment '%.40s': the shift must be a whole "
                               "number of pixels from 1 to %d (shift:N)",
                               text, BP_AUGMENT_MAX_SHIFT);
            a->shift = (size_t)v;
            seen_shift = true;
        } else {
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "augment '%.40s': '%.*s' is not shift:N or flip "
                           "(e.g. shift:2,flip)",
                           text, (int)(n > 24 ? 24 : n), p);
        }
        p += n;
        if (*p == ',' && !*++p)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "augment '%.40s': ends with a comma", text);
    }
    return BP_OK;
}

bp_status bp_augment_check(const bp_augment *a, bp_shape s, bp_err *err)
{
    if (!bp_augment_on(a))
        return BP_OK;
    char shape[64];
    bp_shape_text(s, shape, sizeof shape);
    if (s.h < 2 || s.w < 2)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "augment: shifts and flips need images, and the "
                       "samples are %s (height x width x channels)",
                       shape);
    if (a->shift >= s.h || a->shift >= s.w)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "augment shift:%zu: must be smaller than the %s "
                       "images' height and width",
                       a->shift, shape);
    return BP_OK;
}

uint64_t bp_augment_draw(uint64_t seed, uint64_t epoch, uint64_t index)
{
    return bp_rng_at(bp_rng_key(seed ^ STREAM_AUGMENT, epoch), index);
}

/* A uniform integer in [-s, s] from 21 random bits (bias below 2^-16). */
static long offset(uint64_t bits21, size_t s)
{
    return (long)((bits21 * (2 * s + 1)) >> 21) - (long)s;
}

void bp_augment_decode(const bp_augment *a, uint64_t bits, long *dy,
                       long *dx, bool *flip)
{
    *dy = a->shift ? offset(bits & 0x1fffff, a->shift) : 0;
    *dx = a->shift ? offset((bits >> 21) & 0x1fffff, a->shift) : 0;
    *flip = a->flip && (bits >> 63);
}

void bp_augment_image(const bp_augment *a, bp_shape s, uint64_t bits,
                      const float *src, float *dst)
{
    long dy, dx;
    bool flip;
    bp_augment_decode(a, bits, &dy, &dx, &flip);
    long h = (long)s.h, w = (long)s.w;
    size_t c = s.c;
    for (long y = 0; y < h; y++) {
        float *out = dst + (size_t)y * s.w * c;
        long sy = y + dy;
        if (sy < 0 || sy >= h) {
            memset(out, 0, s.w * c * sizeof *out);
            continue;
        }
        const float *row = src + (size_t)sy * s.w * c;
        for (long x = 0; x < w; x++) {
            long sx = (flip ? w - 1 - x : x) + dx;
            if (sx < 0 || sx >= w)
                memset(out + (size_t)x * c, 0, c * sizeof *out);
            else
                memcpy(out + (size_t)x * c, row + (size_t)sx * c,
                       c * sizeof *out);
        }
    }
}
