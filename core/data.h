/* core/data.h - data sets: IDX (MNIST family, gzip or plain), CSV and
 * generated sets, with deterministic train/validation/test splits.
 *
 * Every loader validates what it reads before it allocates: magic numbers,
 * dimensions, counts that must agree, sizes that must not overflow or
 * exceed BP_DATA_MAX_BYTES, label ranges, finite feature values. Failures
 * are one message naming the file (and line/column for CSV) and the rule.
 * A data set holds features x (n x dim floats, row-major) and either labels
 * y in [0, classes) (classification) or, with classes == 0, one real
 * target t per sample (regression; y is then all zero). Sequence sets say
 * how many time steps a sample holds (its features are the steps one after
 * the other).
 */
#ifndef BPLAB_DATA_H
#define BPLAB_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/shape.h"
#include "core/status.h"

/* Largest feature matrix a loader will allocate (4 GiB of floats). */
#define BP_DATA_MAX_BYTES ((size_t)4 << 30)
/* Most classes a label column may name. */
#define BP_DATA_MAX_CLASSES 65536

typedef struct bp_dataset {
    size_t n, dim, classes;
    bp_shape shape; /* of a sample as the file gives it (dim = its size) */
    float *x;   /* n x dim */
    int32_t *y; /* n */
    float *t;   /* n regression targets when classes == 0, else NULL */
} bp_dataset;

typedef struct bp_data {
    bp_dataset train, val, test;
    size_t steps;      /* sequence sets: time steps per sample; else 0 */
    bp_shape shape;    /* of a sample: T x 1 x C for a sequence set, H x W
                          x C for IDX images (Fashion-MNIST 28 x 28 x 1),
                          else 1 x 1 x dim (core/shape.h) */
    /* the name of each of the `classes` classes (static strings, not
     * owned), or NULL for sets whose classes are only numbers */
    const char *const *class_names;
    char source[256];  /* what was loaded: a path or a generator */
    uint32_t checksum; /* CRC-32 of every sample and label, for provenance */
} bp_data;

typedef struct bp_data_opts {
    /* "fashion-mnist" (BPLAB_DATA or /usr/share/datasets/fashion-mnist),
     * "fashion-mnist-rows" (the same as a sequence: 28 steps of 28 pixels),
     * a folder holding the four MNIST files train-images-idx3-ubyte,
     * train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
     * t10k-labels-idx1-ubyte (each plain or .gz), a .csv
     * file (label in the last column), xor | spirals | circles, or
     * adding:T (the adding problem over T steps, a regression) */
    const char *spec;
    const char *test_csv;   /* CSV only: a separate test file */
    size_t limit_train;     /* keep this many training samples (0: all) */
    double val_fraction;    /* held out from the (limited) training set */
    double test_fraction;   /* CSV without a test file: held out for test */
    size_t gen_samples;     /* generated sets: samples per split (0: 1000;
                               adding: 10000 to train, a fifth of that to
                               test) */
    uint64_t split_seed;    /* shuffles for splits, subsets and generators */
    bool normalize;         /* CSV: z-score features with training stats */
    double label_noise;     /* in [0, 1]: round(label_noise * n) training
                               samples, drawn by split_seed, get a label of
                               another class, drawn uniformly (symmetric
                               noise; validation and test stay clean) */
} bp_data_opts;

/* Load and split according to `o`. On failure *out is all zero. */
bp_status bp_data_load(const bp_data_opts *o, bp_data *out, bp_err *err);

void bp_data_free(bp_data *d);
void bp_dataset_free(bp_dataset *s);

/* Allocate an empty n x dim set (x undefined, y zero, no targets). */
bp_status bp_dataset_alloc(size_t n, size_t dim, size_t classes,
                           bp_dataset *out, bp_err *err);

/* One IDX pair: images (ubyte, >= 2 dims: count x features...) scaled to
 * [0, 1], labels (ubyte, 1 dim). Gzip is detected by content. */
bp_status bp_idx_load(const char *images, const char *labels,
                      bp_dataset *out, bp_err *err);

/* Numeric features and an integer label in the last column; a first line
 * with any non-numeric field is a header. */
bp_status bp_csv_load(const char *path, bp_dataset *out, bp_err *err);

/* xor (the four patterns), spirals (two interleaved), circles (two
 * concentric), n samples, seeded. */
bp_status bp_synth(const char *name, size_t n, uint64_t seed,
                   bp_dataset *out, bp_err *err);

/* The adding problem (Hochreiter & Schmidhuber 1997, as in Le et al.
 * 2015): n sequences of T steps of two features, a value drawn from
 * U(0, 1) and a marker, 1 at one step in the first half and one in the
 * second, 0 elsewhere; the target is the sum of the two marked values.
 * Predicting the mean, 1, scores an MSE of 1/6. 2 <= T <= BP_ADDING_MAX. */
#define BP_ADDING_MAX 1000
bp_status bp_adding(size_t T, size_t n, uint64_t seed, bp_dataset *out,
                    bp_err *err);

#endif
