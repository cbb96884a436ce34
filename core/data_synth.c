/* core/data_synth.c - generated classification sets, seeded.
 *
 * xor      the four patterns of the classic 2-2-1 example (n is ignored):
 *          (0,0)->0 (0,1)->1 (1,0)->1 (1,1)->0
 * spirals  two interleaved spirals, two turns each, radius 0.1..1 with
 *          Gaussian noise 0.02 (a net needs real non-linearity for these)
 * circles  two concentric circles, radii 1 and 0.5, noise 0.05 (as
 *          scikit-learn's make_circles(factor=0.5, noise=0.05))
 * Samples alternate between the classes, so any prefix is balanced.
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/data.h"
#include "core/rng.h"

bp_status bp_synth(const char *name, size_t n, uint64_t seed,
                   bp_dataset *out, bp_err *err)
{
    memset(out, 0, sizeof *out);
    bool is_xor = strcmp(name, "xor") == 0;
    bool is_spirals = strcmp(name, "spirals") == 0;
    bool is_circles = strcmp(name, "circles") == 0;
    if (!is_xor && !is_spirals && !is_circles)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "%s: unknown generated set (xor, spirals, circles)", name);
    if (is_xor)
        n = 4;
    if (n < 2)
        return bp_fail(err, BP_ERR_INVALID_ARG, "%s: need at least 2 samples",
                       name);
    bp_status s = bp_dataset_alloc(n, 2, 2, out, err);
    if (s != BP_OK)
        return s;
    bp_rng g = bp_rng_stream(seed, 0x5e7);
    const double pi = 3.14159265358979323846;
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % 2);
        float *x = out->x + 2 * i;
        out->y[i] = c;
        if (is_xor) {
            static const float pts[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
            static const int32_t lab[4] = {0, 1, 1, 0};
            x[0] = pts[i][0], x[1] = pts[i][1];
            out->y[i] = lab[i];
        } else if (is_spirals) {
            double t = bp_rng_uniform(&g);          /* position along the arm */
            double r = 0.1 + 0.9 * t;
            double a = 4.0 * pi * t + (c ? pi : 0.0); /* two turns, opposite */
            x[0] = (float)(r * cos(a) + 0.02 * bp_rng_normal(&g));
            x[1] = (float)(r * sin(a) + 0.02 * bp_rng_normal(&g));
        } else {
            double a = 2.0 * pi * bp_rng_uniform(&g);
            double r = c ? 0.5 : 1.0;
            x[0] = (float)(r * cos(a) + 0.05 * bp_rng_normal(&g));
            x[1] = (float)(r * sin(a) + 0.05 * bp_rng_normal(&g));
        }
    }
    return BP_OK;
}

bp_status bp_adding(size_t T, size_t n, uint64_t seed, bp_dataset *out,
                    bp_err *err)
{
    memset(out, 0, sizeof *out);
    if (T < 2 || T > BP_ADDING_MAX)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "adding:%zu: T must be between 2 and %d", T,
                       BP_ADDING_MAX);
    if (n == 0)
        return bp_fail(err, BP_ERR_INVALID_ARG, "adding:%zu: no samples", T);
    bp_status s = bp_dataset_alloc(n, 2 * T, 0, out, err);
    if (s != BP_OK)
        return s;
    if (!(out->t = bp_alloc(n * sizeof(float)))) {
        bp_dataset_free(out);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for %zu targets", n);
    }
    bp_rng g = bp_rng_stream(seed, 0xadd);
    size_t half = T / 2;
    for (size_t i = 0; i < n; i++) {
        float *x = out->x + i * 2 * T;
        for (size_t t = 0; t < T; t++) {
            x[2 * t] = (float)bp_rng_uniform(&g);
            x[2 * t + 1] = 0.0f;
        }
        size_t a = (size_t)bp_rng_below(&g, half);
        size_t b = half + (size_t)bp_rng_below(&g, T - half);
        x[2 * a + 1] = x[2 * b + 1] = 1.0f;
        out->t[i] = x[2 * a] + x[2 * b];
    }
    return BP_OK;
}
