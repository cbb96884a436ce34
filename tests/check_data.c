/* tests/check_data.c - data set loaders and splits.
 *
 * IDX: a tiny set written by the test (plain and gzip) loads exactly;
 * every malformed variant (magic, type, dimension count, zero or absurd
 * dimensions, truncation, trailing bytes, count mismatch, corrupt gzip,
 * missing file, a directory) is rejected with the intended message.
 * CSV: values, header detection, and line:column errors. Generated sets:
 * contents and seeds. Splits: sizes, determinism, limits, checksums.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/data.h"
#include "test_files.h"
#include "test_util.h"


static void setup(void)
{
    snprintf(tf_dir, sizeof tf_dir, "/tmp/bplab_check_data_%d",
             (int)getpid());
    mkdir(tf_dir, 0700);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tf_dir);
    ck_assert_int_eq(system(cmd), 0);
}





static void expect_idx_error(const char *images, const char *labels,
                             bp_status code, const char *needle)
{
    bp_dataset d;
    bp_err err = {0};
    bp_status s = bp_idx_load(tf_path(images), tf_path(labels), &d, &err);
    ck_assert_msg(s == code, "expected status %d, got %d (%s)", code, s, err.msg);
    ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg,
                  needle);
    ck_assert_ptr_null(d.x);
    ck_assert_uint_eq(d.n, 0);
}

/* ---- IDX */

START_TEST(test_idx_exact)
{
    for (int gz = 0; gz < 2; gz++) {
        tf_idx("img", "lab", 23, 3, 5, gz, 0);
        bp_dataset d;
        bp_err err = {0};
        ck_assert_msg(bp_idx_load(tf_path("img"), tf_path("lab"), &d, &err) == BP_OK,
                      "%s", err.msg);
        ck_assert_uint_eq(d.n, 23);
        ck_assert_uint_eq(d.dim, 15);
        ck_assert_uint_eq(d.classes, 10);
        for (size_t i = 0; i < 23; i++) {
            ck_assert_int_eq(d.y[i], (int)(i % 10));
            for (size_t j = 0; j < 15; j++)
                ck_assert_msg(d.x[i * 15 + j] ==
                                  (float)((7 * i + j) % 256) * (1.0f / 255.0f),
                              "pixel %zu,%zu", i, j);
        }
        bp_dataset_free(&d);
    }
}
END_TEST

START_TEST(test_idx_malformed)
{
    unsigned char b[64] = {0};
    tf_idx("img", "lab", 10, 2, 2, false, 0);
    /* wrong magic (a label file where images are expected) */
    expect_idx_error("lab", "lab", BP_ERR_FORMAT, "IDX magic 0x00000801");
    /* gzip bytes that are not IDX inside: magic of the decompressed data */
    tf_write("text.gz", "hello world, not idx", 20, true);
    expect_idx_error("text.gz", "lab", BP_ERR_FORMAT, "IDX magic");
    /* wrong type: float data */
    tf_be32(b, 0x00000d03), tf_be32(b + 4, 1), tf_be32(b + 8, 1), tf_be32(b + 12, 1);
    tf_write("float", b, 20, false);
    expect_idx_error("float", "lab", BP_ERR_FORMAT, "data type 0x0d");
    /* a zero dimension */
    tf_be32(b, 0x00000803), tf_be32(b + 4, 10), tf_be32(b + 8, 0), tf_be32(b + 12, 2);
    tf_write("zero", b, 16, false);
    expect_idx_error("zero", "lab", BP_ERR_FORMAT, "dimension 2 is 0");
    /* absurd dimensions: refused before allocating */
    tf_be32(b, 0x00000803), tf_be32(b + 4, 0xffffffff),
        tf_be32(b + 8, 0xffffffff), tf_be32(b + 12, 0xffffffff);
    tf_write("huge", b, 16, false);
    tf_be32(b, 0x00000801), tf_be32(b + 4, 0xffffffff);
    tf_write("hugelab", b, 8, false);
    expect_idx_error("huge", "hugelab", BP_ERR_NOMEM, "GiB");
    /* truncated header and truncated data, plain and gzip */
    tf_write("short", "\0\0\x08", 3, false);
    expect_idx_error("short", "lab", BP_ERR_FORMAT, "truncated");
    for (int gz = 0; gz < 2; gz++) {
        unsigned char img[16 + 39];
        tf_be32(img, 0x00000803), tf_be32(img + 4, 10), tf_be32(img + 8, 2),
            tf_be32(img + 12, 2);
        memset(img + 16, 1, 39);
        tf_write("trunc", img, sizeof img, gz);
        expect_idx_error("trunc", "lab", BP_ERR_FORMAT,
                         "images needs 40 bytes, the file has 39");
    }
    /* trailing bytes */
    tf_idx("img2", "lab2", 10, 2, 2, true, 5);
    expect_idx_error("img2", "lab2", BP_ERR_FORMAT, "trailing bytes");
    /* image and label counts disagree */
    tf_idx("img3", "lab3", 11, 2, 2, false, 0);
    expect_idx_error("img3", "lab", BP_ERR_FORMAT, "has 11 images but");
    /* a corrupt gzip stream */
    tf_idx("img4", "lab4", 50, 8, 8, true, 0);
    FILE *f = fopen(tf_path("img4"), "r+b");
    fseek(f, 20, SEEK_SET);
    fputs("garbage!garbage!", f);
    fclose(f);
    expect_idx_error("img4", "lab4", BP_ERR_FORMAT, "img4");
    /* missing file and a directory */
    expect_idx_error("nope", "lab", BP_ERR_IO, "cannot open");
    mkdir(tf_path("adir"), 0700);
    expect_idx_error("adir", "lab", BP_ERR_IO, "adir: not a regular file");
}
END_TEST

/* ---- CSV */

static void write_text(const char *name, const char *text)
{
    tf_write(name, text, strlen(text), false);
}

static void expect_csv_error(const char *text, bp_status code,
                             const char *needle)
{
    write_text("bad.csv", text);
    bp_dataset d;
    bp_err err = {0};
    bp_status s = bp_csv_load(tf_path("bad.csv"), &d, &err);
    ck_assert_msg(s == code, "'%s': expected status %d, got %d (%s)", text, code,
                  s, err.msg);
    ck_assert_msg(strstr(err.msg, needle), "'%s': message '%s' lacks '%s'",
                  text, err.msg, needle);
    ck_assert_ptr_null(d.x);
}

START_TEST(test_csv)
{
    write_text("a.csv", "x1,x2,label\n1.5, -2 ,0\n\n3e2,4,2\r\n-0.25,0,1\n");
    bp_dataset d;
    bp_err err = {0};
    ck_assert_msg(bp_csv_load(tf_path("a.csv"), &d, &err) == BP_OK, "%s", err.msg);
    ck_assert_uint_eq(d.n, 3);
    ck_assert_uint_eq(d.dim, 2);
    ck_assert_uint_eq(d.classes, 3);
    const float want[6] = {1.5f, -2.0f, 300.0f, 4.0f, -0.25f, 0.0f};
    const int32_t lab[3] = {0, 2, 1};
    for (int i = 0; i < 6; i++)
        ck_assert(d.x[i] == want[i]);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(d.y[i], lab[i]);
    bp_dataset_free(&d);
    /* no header, no final newline */
    write_text("b.csv", "1,2,1\n3,4,0");
    ck_assert(bp_csv_load(tf_path("b.csv"), &d, &err) == BP_OK);
    ck_assert_uint_eq(d.n, 2);
    bp_dataset_free(&d);

    expect_csv_error("1,2,0\n3,abc,1\n", BP_ERR_FORMAT, "bad.csv:2:2: 'abc' is not a number");
    expect_csv_error("1,2,0\n3,inf,1\n", BP_ERR_NUMERIC, "bad.csv:2:2: 'inf' is not finite (sample 1)");
    expect_csv_error("1,2,0\nnan,2,1\n", BP_ERR_NUMERIC, "bad.csv:2:1");
    expect_csv_error("1,2,0\n3,4\n", BP_ERR_FORMAT, "bad.csv:2: 2 columns, expected 3");
    expect_csv_error("1,2,0\n3,4,1,5\n", BP_ERR_FORMAT, "bad.csv:2: 4 columns or more");
    expect_csv_error("1,2,0\n3,4,-1\n", BP_ERR_FORMAT, "bad.csv:2:3: label '-1'");
    expect_csv_error("1,2,0\n3,4,1.5\n", BP_ERR_FORMAT, "label '1.5' is not an integer");
    expect_csv_error("1,2,99999999\n", BP_ERR_FORMAT, "label '99999999'");
    expect_csv_error("", BP_ERR_FORMAT, "no data rows");
    expect_csv_error("a,b,c\n", BP_ERR_FORMAT, "no data rows");
    expect_csv_error("5\n", BP_ERR_FORMAT, "1 column");
    expect_csv_error("1,,0\n", BP_ERR_FORMAT, "bad.csv:1:2: '' is not a number");
    tf_write("nul.csv", "1,2\0,0\n", 7, false);
    bp_status s = bp_csv_load(tf_path("nul.csv"), &d, &err);
    ck_assert_int_eq(s, BP_ERR_FORMAT);
    ck_assert(strstr(err.msg, "NUL byte"));
    ck_assert_int_eq(bp_csv_load(tf_path("missing.csv"), &d, &err), BP_ERR_IO);
    ck_assert_int_eq(bp_csv_load(tf_dir, &d, &err), BP_ERR_IO);
}
END_TEST

/* ---- generated sets */

START_TEST(test_synth)
{
    bp_dataset d;
    bp_err err = {0};
    ck_assert(bp_synth("xor", 1000, 1, &d, &err) == BP_OK);
    ck_assert_uint_eq(d.n, 4);
    const float pts[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const int32_t lab[4] = {0, 1, 1, 0};
    for (int i = 0; i < 8; i++)
        ck_assert(d.x[i] == pts[i]);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(d.y[i], lab[i]);
    bp_dataset_free(&d);
    const char *names[2] = {"spirals", "circles"};
    for (int k = 0; k < 2; k++) {
        bp_dataset a, b, c;
        ck_assert(bp_synth(names[k], 501, 7, &a, &err) == BP_OK);
        ck_assert(bp_synth(names[k], 501, 7, &b, &err) == BP_OK);
        ck_assert(bp_synth(names[k], 501, 8, &c, &err) == BP_OK);
        ck_assert_uint_eq(a.n, 501);
        ck_assert(memcmp(a.x, b.x, 501 * 2 * sizeof(float)) == 0);
        ck_assert(memcmp(a.x, c.x, 501 * 2 * sizeof(float)) != 0);
        size_t ones = 0;
        for (size_t i = 0; i < a.n; i++) {
            ones += (size_t)a.y[i];
            ck_assert(fabsf(a.x[2 * i]) < 2 && fabsf(a.x[2 * i + 1]) < 2);
        }
        ck_assert_uint_eq(ones, 250);
        bp_dataset_free(&a), bp_dataset_free(&b), bp_dataset_free(&c);
    }
    ck_assert_int_eq(bp_synth("moons", 10, 1, &d, &err), BP_ERR_INVALID_ARG);
    ck_assert(strstr(err.msg, "unknown generated set"));
}
END_TEST

/* ---- bp_data_load: sources, splits, limits */

START_TEST(test_load_splits)
{
    /* an MNIST-style folder written here */
    tf_idx("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 200, 2, 3,
              true, 0);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/train-images-idx3-ubyte", tf_dir);
    snprintf(b, sizeof b, "%s/train-images-idx3-ubyte.gz", tf_dir);
    ck_assert_int_eq(rename(a, b), 0);
    snprintf(a, sizeof a, "%s/train-labels-idx1-ubyte", tf_dir);
    snprintf(b, sizeof b, "%s/train-labels-idx1-ubyte.gz", tf_dir);
    ck_assert_int_eq(rename(a, b), 0);
    tf_idx("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 50, 2, 3,
              false, 0);
    bp_data d;
    bp_err err = {0};
    bp_data_opts o = {.spec = tf_dir, .val_fraction = 0.1, .split_seed = 3};
    ck_assert_msg(bp_data_load(&o, &d, &err) == BP_OK, "%s", err.msg);
    ck_assert_uint_eq(d.train.n, 180);
    ck_assert_uint_eq(d.val.n, 20);
    ck_assert_uint_eq(d.test.n, 50);
    ck_assert_uint_eq(d.train.dim, 6);
    ck_assert_uint_eq(d.train.classes, 10);
    uint32_t sum1 = d.checksum;
    float first = d.train.x[0];
    bp_data_free(&d);
    /* same split seed: same data; another: a different order */
    ck_assert(bp_data_load(&o, &d, &err) == BP_OK);
    ck_assert_uint_eq(d.checksum, sum1);
    ck_assert(d.train.x[0] == first);
    bp_data_free(&d);
    o.split_seed = 4;
    ck_assert(bp_data_load(&o, &d, &err) == BP_OK);
    ck_assert_uint_ne(d.checksum, sum1);
    bp_data_free(&d);
    /* a limit, and limits that cannot be met */
    o.limit_train = 60;
    ck_assert(bp_data_load(&o, &d, &err) == BP_OK);
    ck_assert_uint_eq(d.train.n, 54);
    ck_assert_uint_eq(d.val.n, 6);
    ck_assert_ptr_null(d.class_names); /* a folder: numbered classes */
    bp_data_free(&d);
    o.limit_train = 201;
    ck_assert_int_eq(bp_data_load(&o, &d, &err), BP_ERR_INVALID_ARG);
    ck_assert(strstr(err.msg, "--limit-train 201: the training set has only 200"));
    o.limit_train = 5, o.val_fraction = 0.1;
    ck_assert_int_eq(bp_data_load(&o, &d, &err), BP_ERR_INVALID_ARG);
    ck_assert(strstr(err.msg, "leave no validation sample"));
    /* a folder missing a file */
    snprintf(a, sizeof a, "%s/t10k-labels-idx1-ubyte", tf_dir);
    unlink(a);
    o.limit_train = 0;
    ck_assert_int_eq(bp_data_load(&o, &d, &err), BP_ERR_IO);
    snprintf(a, sizeof a, "--data %s: no t10k-labels-idx1-ubyte[.gz] in this "
             "folder", tf_dir);
    ck_assert_msg(strcmp(err.msg, a) == 0, "%s", err.msg);
    /* a CSV without a test file holds out 20% */
    write_text("c.csv", "0,0\n1,1\n2,0\n3,1\n4,0\n5,1\n6,0\n7,1\n8,0\n9,1\n");
    bp_data_opts oc = {.spec = tf_path("c.csv"), .test_fraction = 0.2};
    ck_assert_msg(bp_data_load(&oc, &d, &err) == BP_OK, "%s", err.msg);
    ck_assert_uint_eq(d.train.n, 8);
    ck_assert_uint_eq(d.test.n, 2);
    bp_data_free(&d);
    /* unknown sources */
    bp_data_opts ou = {.spec = "no-such-set"};
    ck_assert_int_eq(bp_data_load(&ou, &d, &err), BP_ERR_INVALID_ARG);
    ck_assert(strstr(err.msg, "--data no-such-set"));
    /* generated: test is another draw */
    bp_data_opts og = {.spec = "spirals", .gen_samples = 100};
    ck_assert(bp_data_load(&og, &d, &err) == BP_OK);
    ck_assert_uint_eq(d.train.n, 100);
    ck_assert_uint_eq(d.test.n, 100);
    ck_assert(memcmp(d.train.x, d.test.x, 100 * 2 * sizeof(float)) != 0);
    bp_data_free(&d);
}
END_TEST

/* --label-noise: exactly round(p n) training labels changed, each to
 * another class, the same ones for the same data seed and others for
 * another; validation and test untouched; the checksum follows. */
START_TEST(test_label_noise)
{
    bp_err err = {0};
    bp_data clean, a, b, c;
    bp_data_opts o = {.spec = "spirals", .gen_samples = 1000,
                      .val_fraction = 0.2, .split_seed = 5};
    ck_assert_msg(bp_data_load(&o, &clean, &err) == BP_OK, "%s", err.msg);
    o.label_noise = 0.37;
    ck_assert(bp_data_load(&o, &a, &err) == BP_OK);
    ck_assert(bp_data_load(&o, &b, &err) == BP_OK);
    o.split_seed = 6;
    ck_assert(bp_data_load(&o, &c, &err) == BP_OK);
    size_t n = clean.train.n, changed = 0;
    ck_assert_uint_eq(n, 800);
    ck_assert(memcmp(a.train.x, clean.train.x, n * clean.train.dim *
                                                   sizeof(float)) == 0);
    for (size_t i = 0; i < n; i++) {
        ck_assert(a.train.y[i] >= 0 && (size_t)a.train.y[i] < a.train.classes);
        changed += a.train.y[i] != clean.train.y[i];
    }
    ck_assert_uint_eq(changed, 296); /* round(0.37 * 800) */
    ck_assert(memcmp(a.train.y, b.train.y, n * sizeof(int32_t)) == 0);
    ck_assert(a.checksum == b.checksum && a.checksum != clean.checksum);
    ck_assert(memcmp(a.val.y, clean.val.y, a.val.n * sizeof(int32_t)) == 0);
    ck_assert(memcmp(a.test.y, clean.test.y, a.test.n * sizeof(int32_t)) == 0);
    /* another data seed: another split, so compare what changed */
    bp_data cc;
    o.label_noise = 0;
    ck_assert(bp_data_load(&o, &cc, &err) == BP_OK);
    size_t changed_c = 0, same_as_a = 0;
    for (size_t i = 0; i < n; i++) {
        changed_c += c.train.y[i] != cc.train.y[i];
        same_as_a += (c.train.y[i] != cc.train.y[i]) ==
                     (a.train.y[i] != clean.train.y[i]);
    }
    ck_assert_uint_eq(changed_c, 296);
    ck_assert_uint_lt(same_as_a, n);
    /* all labels, ten classes: every one changed */
    bp_data f;
    bp_data_opts of = {.spec = "fashion-mnist", .limit_train = 3000,
                       .label_noise = 1};
    if (bp_data_load(&of, &f, &err) == BP_OK) {
        bp_data fc;
        of.label_noise = 0;
        ck_assert(bp_data_load(&of, &fc, &err) == BP_OK);
        size_t same = 0, hist[10] = {0};
        for (size_t i = 0; i < 3000; i++) {
            same += f.train.y[i] == fc.train.y[i];
            hist[f.train.y[i]]++;
        }
        ck_assert_uint_eq(same, 0);
        for (int k = 0; k < 10; k++) /* about 300 each */
            ck_assert_msg(hist[k] > 200 && hist[k] < 400, "class %d: %zu", k,
                          hist[k]);
        bp_data_free(&fc);
        bp_data_free(&f);
    }
    /* a regression has no labels to change */
    bp_data r;
    bp_data_opts orr = {.spec = "adding:5", .gen_samples = 100,
                        .label_noise = 0.1};
    ck_assert_int_eq(bp_data_load(&orr, &r, &err), BP_ERR_INVALID_ARG);
    ck_assert_msg(strstr(err.msg, "--label-noise 0.1: adding:5 is a regression"),
                  "%s", err.msg);
    bp_data_free(&cc);
    bp_data_free(&c);
    bp_data_free(&b);
    bp_data_free(&a);
    bp_data_free(&clean);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("data");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_idx_exact);
    tcase_add_test(tc, test_idx_malformed);
    tcase_add_test(tc, test_csv);
    tcase_add_test(tc, test_synth);
    tcase_add_test(tc, test_load_splits);
    tcase_add_test(tc, test_label_noise);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return bp_test_main(suite());
}
