/* core/data.c - choosing a source, splitting, subsetting, checksums.
 *
 * Splits are deterministic functions of split_seed (not of the run's
 * seed), so every variant and seed of an experiment sees the same
 * training, validation and test samples:
 *   train: shuffled once with the split stream; a CSV without a test file
 *          gives its last test_fraction to test; then the first
 *          limit_train samples are kept; then the last val_fraction of
 *          those become the validation set;
 *   noise: with label_noise, round(label_noise * n) training samples
 *          (the first of another permutation from the split seed) get
 *          another class, uniform over the other classes (their own
 *          stream), after the split: validation and test keep their
 *          true labels.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/data.h"
#include "core/rng.h"

#define DEFAULT_FASHION "/usr/share/datasets/fashion-mnist"

/* Fashion-MNIST's labels 0-9 (Xiao, Rasul & Vollgraf 2017) */
static const char *const fashion_classes[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

bp_status bp_dataset_alloc(size_t n, size_t dim, size_t classes,
                           bp_dataset *out, bp_err *err)
{
    memset(out, 0, sizeof *out);
    size_t xb = bp_mul_size(bp_mul_size(n, dim), sizeof(float));
    if (xb == 0 || xb > BP_DATA_MAX_BYTES)
        return bp_fail(err, BP_ERR_NOMEM,
                       "%zu samples of %zu features: %.1f GiB is over the %zu "
                       "GiB limit",
                       n, dim, (double)n * (double)dim * 4.0 / (1 << 30),
                       BP_DATA_MAX_BYTES >> 30);
    out->shape = bp_shape_vec(dim);
    out->x = bp_alloc(xb);
    out->y = bp_alloc_zero(n * sizeof(int32_t));
    if (!out->x || !out->y) {
        bp_dataset_free(out);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for %zu samples", n);
    }
    out->n = n, out->dim = dim, out->classes = classes;
    return BP_OK;
}

void bp_dataset_free(bp_dataset *s)
{
    if (!s)
        return;
    bp_free(s->x);
    bp_free(s->y);
    bp_free(s->t);
    memset(s, 0, sizeof *s);
}

void bp_data_free(bp_data *d)
{
    if (!d)
        return;
    bp_dataset_free(&d->train);
    bp_dataset_free(&d->val);
    bp_dataset_free(&d->test);
}

/* rows [from, from+n) of src, in the order idx (or in place if NULL) */
static bp_status take(const bp_dataset *src, const size_t *idx, size_t from,
                      size_t n, bp_dataset *out, bp_err *err)
{
    bp_status s = bp_dataset_alloc(n, src->dim, src->classes, out, err);
    if (s != BP_OK)
        return s;
    if (src->t && !(out->t = bp_alloc(n * sizeof(float)))) {
        bp_dataset_free(out);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for %zu targets", n);
    }
    for (size_t i = 0; i < n; i++) {
        size_t r = idx ? idx[from + i] : from + i;
        memcpy(out->x + i * src->dim, src->x + r * src->dim,
               src->dim * sizeof(float));
        out->y[i] = src->y[r];
        if (src->t)
            out->t[i] = src->t[r];
    }
    return BP_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A --data value meant as a path rather than the name of a set: one that
 * exists, holds a '/' or starts with '.'. */
static bool looks_like_path(const char *p)
{
    struct stat st;
    return strchr(p, '/') || p[0] == '.' || stat(p, &st) == 0;
}

/* The four files of a folder of MNIST files, each plain or .gz. */
static const char *const mnist_files[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/* "train-images-idx3-ubyte[.gz], ..., t10k-labels-idx1-ubyte[.gz]" */
static void mnist_file_list(char *buf, size_t size)
{
    size_t used = 0;
    for (int i = 0; i < 4 && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s[.gz]", i ? ", " : "",
                         mnist_files[i]);
        used += w > 0 ? (size_t)w : 0;
    }
}

/* dir/name or dir/name.gz, whichever exists (the .gz first). `who` says
 * what chose the folder, as a prefix of it in messages: "BPLAB_DATA=",
 * "--data " or "" (the default folder). */
static bp_status find_file(const char *dir, const char *who, const char *name,
                           char *out, size_t size, bp_err *err)
{
    snprintf(out, size, "%s/%s.gz", dir, name);
    FILE *f = fopen(out, "rb");
    if (!f) {
        snprintf(out, size, "%s/%s", dir, name);
        f = fopen(out, "rb");
    }
    if (!f && errno != ENOENT)
        return bp_fail(err, BP_ERR_IO, "%s: cannot open: %s", out,
                       strerror(errno));
    if (!f)
        return bp_fail(err, BP_ERR_IO, "%s%s: no %s[.gz] in this folder%s",
                       who, dir, name,
                       strcmp(dir, DEFAULT_FASHION) == 0
                           ? " (reinstall Debian's dataset-fashion-mnist)"
                           : "");
    fclose(f);
    return BP_OK;
}

static bp_status load_mnist_dir(const char *dir, const char *who,
                                bp_dataset *train, bp_dataset *test,
                                bp_err *err)
{
    char ti[1024], tl[1024], si[1024], sl[1024], list[160];
    struct stat st;
    bool exists = stat(dir, &st) == 0;
    int e = errno;
    if (!exists || !S_ISDIR(st.st_mode)) {
        bool missing = !exists && (e == ENOENT || e == ENOTDIR);
        mnist_file_list(list, sizeof list);
        if (!exists && !missing)
            return bp_fail(err, BP_ERR_IO, "%s%s: %s", who, dir, strerror(e));
        if (missing && !*who) /* the default folder */
            return bp_fail(err, BP_ERR_IO,
                           "%s: no such folder (install Debian's "
                           "dataset-fashion-mnist, or set BPLAB_DATA to a "
                           "folder holding %s)",
                           dir, list);
        return bp_fail(err, BP_ERR_IO, "%s%s: %s (it must hold %s)", who, dir,
                       missing ? "no such folder" : "not a folder", list);
    }
    bp_status s;
    if ((s = find_file(dir, who, mnist_files[0], ti, sizeof ti, err)) ||
        (s = find_file(dir, who, mnist_files[1], tl, sizeof tl, err)) ||
        (s = find_file(dir, who, mnist_files[2], si, sizeof si, err)) ||
        (s = find_file(dir, who, mnist_files[3], sl, sizeof sl, err)))
        return s;
    if ((s = bp_idx_load(ti, tl, train, err)) != BP_OK)
        return s;
    if ((s = bp_idx_load(si, sl, test, err)) != BP_OK) {
        bp_dataset_free(train);
        return s;
    }
    if (train->dim != test->dim) {
        bp_dataset_free(train);
        bp_dataset_free(test);
        return bp_fail(err, BP_ERR_FORMAT,
                       "%s: training images have %zu values, test images %zu",
                       dir, train->dim, test->dim);
    }
    return BP_OK;
}

/* A permutation of [0, n) from the split stream (Fisher-Yates). */
static size_t *permutation(size_t n, uint64_t seed, uint64_t stream)
{
    size_t *p = bp_alloc(n * sizeof *p);
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = i;
    bp_rng g = bp_rng_stream(seed, stream);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)bp_rng_below(&g, i);
        size_t t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
    return p;
}

/* Symmetric label noise on a training set (data.h bp_data_opts). */
static bp_status add_label_noise(bp_dataset *tr, double p, uint64_t seed,
                                 bp_err *err)
{
    size_t k = (size_t)llround(p * (double)tr->n);
    if (k == 0)
        return BP_OK;
    size_t *pick = permutation(tr->n, seed, 0x1abe1);
    if (!pick)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory");
    bp_rng g = bp_rng_stream(seed, 0x1abe2);
    for (size_t i = 0; i < k; i++) {
        int32_t *y = &tr->y[pick[i]];
        int32_t c = (int32_t)bp_rng_below(&g, (uint64_t)tr->classes - 1);
        *y = c >= *y ? c + 1 : c;
    }
    bp_free(pick);
    return BP_OK;
}

static uint32_t checksum(uint32_t crc, const bp_dataset *s)
{
    if (s->n == 0)
        return crc; /* crc32() with a NULL buffer would restart the sum */
    const unsigned char *x = (const unsigned char *)s->x;
    size_t bytes = s->n * s->dim * sizeof(float);
    for (size_t off = 0; off < bytes; off += 1u << 30)
        crc = (uint32_t)crc32(crc, x + off,
                              (uInt)(bytes - off < (1u << 30) ? bytes - off : (1u << 30)));
    crc = (uint32_t)crc32(crc, (const unsigned char *)s->y,
                          (uInt)(s->n * sizeof(int32_t)));
    if (s->t)
        crc = (uint32_t)crc32(crc, (const unsigned char *)s->t,
                              (uInt)(s->n * sizeof(float)));
    return crc;
}

/* z-score every feature with the training set's mean and deviation. */
static void normalize(bp_data *d)
{
    size_t dim = d->train.dim;
    for (size_t j = 0; j < dim; j++) {
        double s = 0, ss = 0;
        for (size_t i = 0; i < d->train.n; i++)
            s += d->train.x[i * dim + j];
        double mu = s / (double)d->train.n;
        for (size_t i = 0; i < d->train.n; i++) {
            double t = d->train.x[i * dim + j] - mu;
            ss += t * t;
        }
        double sd = sqrt(ss / (double)d->train.n);
        double inv = sd > 0 ? 1.0 / sd : 1.0;
        bp_dataset *sets[3] = {&d->train, &d->val, &d->test};
        for (int k = 0; k < 3; k++)
            for (size_t i = 0; i < sets[k]->n; i++)
                sets[k]->x[i * dim + j] =
                    (float)((sets[k]->x[i * dim + j] - mu) * inv);
    }
}

bp_status bp_data_load(const bp_data_opts *o, bp_data *out, bp_err *err)
{
    memset(out, 0, sizeof *out);
    bp_dataset all = {0}, test = {0};
    size_t *perm = NULL;
    bp_status s;
    const char *spec = o->spec && *o->spec ? o->spec : "fashion-mnist";
    size_t gen = o->gen_samples ? o->gen_samples : 1000;
    bool split_test = false;
    bool fashion = false; /* the named set, whose labels have names */

    if (strcmp(spec, "fashion-mnist") == 0 ||
        strcmp(spec, "fashion-mnist-rows") == 0) {
        const char *dir = getenv("BPLAB_DATA"), *who = "BPLAB_DATA=";
        if (!dir || !*dir)
            dir = DEFAULT_FASHION, who = "";
        s = load_mnist_dir(dir, who, &all, &test, err);
        fashion = true;
        bool rows = strcmp(spec, "fashion-mnist-rows") == 0;
        if (s == BP_OK && rows) {
            if (all.dim != 28 * 28)
                s = bp_fail(err, BP_ERR_FORMAT,
                            "%s: %zu pixels per image, fashion-mnist-rows "
                            "needs 28x28",
                            dir, all.dim);
            out->steps = 28;
        }
        snprintf(out->source, sizeof out->source, "%s%s", dir,
                 rows ? " (as 28 rows of 28 pixels)" : "");
    } else if (strncmp(spec, "adding:", 7) == 0) {
        char *end;
        errno = 0;
        unsigned long long T = strtoull(spec + 7, &end, 10);
        if (spec[7] < '0' || spec[7] > '9' || *end || errno ||
            T < 2 || T > BP_ADDING_MAX) {
            s = bp_fail(err, BP_ERR_INVALID_ARG,
                        "--data %.200s: adding:T needs a length T from 2 to %d",
                        spec, BP_ADDING_MAX);
        } else {
            size_t n = o->gen_samples ? o->gen_samples : 10000;
            size_t nt = n / 5 ? n / 5 : 1;
            s = bp_adding((size_t)T, n, o->split_seed * 2 + 1, &all, err);
            if (s == BP_OK)
                s = bp_adding((size_t)T, nt, o->split_seed * 2 + 2, &test, err);
            out->steps = (size_t)T;
            snprintf(out->source, sizeof out->source,
                     "adding problem, T = %llu (generated, %zu + %zu samples)",
                     T, n, nt);
        }
    } else if (strcmp(spec, "xor") == 0 || strcmp(spec, "spirals") == 0 ||
               strcmp(spec, "circles") == 0) {
        /* the test set is a fresh draw from another stream */
        s = bp_synth(spec, gen, o->split_seed * 2 + 1, &all, err);
        if (s == BP_OK)
            s = bp_synth(spec, gen, o->split_seed * 2 + 2, &test, err);
        snprintf(out->source, sizeof out->source, "%s (generated, %zu samples)",
                 spec, strcmp(spec, "xor") == 0 ? (size_t)4 : gen);
    } else if (ends_with(spec, ".csv")) {
        s = bp_csv_load(spec, &all, err);
        if (s == BP_OK && o->test_csv) {
            s = bp_csv_load(o->test_csv, &test, err);
            if (s == BP_OK && test.dim != all.dim)
                s = bp_fail(err, BP_ERR_FORMAT,
                            "%s has %zu features but %s has %zu", o->test_csv,
                            test.dim, spec, all.dim);
        } else {
            split_test = true;
        }
        snprintf(out->source, sizeof out->source, "%s", spec);
    } else if (is_dir(spec)) {
        s = load_mnist_dir(spec, "--data ", &all, &test, err);
        snprintf(out->source, sizeof out->source, "%s", spec);
    } else if (looks_like_path(spec)) {
        struct stat st;
        int e = stat(spec, &st) == 0 ? 0 : errno;
        s = bp_fail(err, BP_ERR_IO, "--data %.200s: %s", spec,
                    e == 0 ? "not a .csv file or a folder of MNIST files"
                    : e == ENOENT || e == ENOTDIR ? "no such file or folder"
                                                  : strerror(e));
    } else {
        s = bp_fail(err, BP_ERR_INVALID_ARG,
                    "--data %.200s: not fashion-mnist, fashion-mnist-rows, xor, "
                    "spirals, circles, adding:T, a .csv file or a folder of "
                    "MNIST files",
                    spec);
    }
    if (s != BP_OK)
        goto fail;

    /* the split stream decides every subset */
    perm = permutation(all.n, o->split_seed, 0xda7a);
    if (!perm) {
        s = bp_fail(err, BP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    size_t n = all.n;
    if (split_test) {
        size_t nt = (size_t)((double)n * (o->test_fraction > 0 ? o->test_fraction : 0.2));
        if (nt == 0 || nt >= n) {
            s = bp_fail(err, BP_ERR_INVALID_ARG,
                        "%s: %zu samples are too few to hold out a test set",
                        spec, n);
            goto fail;
        }
        n -= nt;
        if ((s = take(&all, perm, n, nt, &test, err)) != BP_OK)
            goto fail;
    }
    if (o->limit_train) {
        if (o->limit_train > n) {
            s = bp_fail(err, BP_ERR_INVALID_ARG,
                        "--limit-train %zu: the training set has only %zu "
                        "samples",
                        o->limit_train, n);
            goto fail;
        }
        n = o->limit_train;
    }
    size_t nv = (size_t)((double)n * o->val_fraction);
    if (o->val_fraction > 0 && (nv == 0 || nv >= n)) {
        s = bp_fail(err, BP_ERR_INVALID_ARG,
                    "--val %g: %zu training samples leave no %s", o->val_fraction,
                    n, nv == 0 ? "validation sample" : "training sample");
        goto fail;
    }
    /* xor keeps its four patterns in order: they are the whole problem */
    bool keep_order = strcmp(spec, "xor") == 0;
    if ((s = take(&all, keep_order ? NULL : perm, 0, n - nv, &out->train, err)) ||
        (nv && (s = take(&all, perm, n - nv, nv, &out->val, err))))
        goto fail;
    out->test = test;
    test = (bp_dataset){0};
    size_t classes = all.classes > out->test.classes ? all.classes
                                                     : out->test.classes;
    if (classes < 2 && !all.t) {
        s = bp_fail(err, BP_ERR_FORMAT, "%s: only one class in the labels",
                    spec);
        goto fail;
    }
    out->train.classes = out->val.classes = out->test.classes = classes;
    out->shape = bp_shape_size(all.shape) == all.dim ? all.shape
                                                     : bp_shape_vec(all.dim);
    if (out->steps)
        out->shape = (bp_shape){out->steps, 1, all.dim / out->steps};
    if (fashion && classes == 10)
        out->class_names = fashion_classes;
    if (o->label_noise > 0) {
        if (all.t) {
            s = bp_fail(err, BP_ERR_INVALID_ARG,
                        "--label-noise %g: %s is a regression (real targets, "
                        "no labels)", o->label_noise, spec);
            goto fail;
        }
        if ((s = add_label_noise(&out->train, o->label_noise, o->split_seed,
                                 err)) != BP_OK)
            goto fail;
    }
    if (o->normalize)
        normalize(out);
    out->checksum = checksum(checksum(checksum(0, &out->train), &out->val),
                             &out->test);
    bp_free(perm);
    bp_dataset_free(&all);
    return BP_OK;
fail:
    bp_free(perm);
    bp_dataset_free(&all);
    bp_dataset_free(&test);
    bp_data_free(out);
    memset(out, 0, sizeof *out); /* source and steps too (data.h) */
    return s;
}
