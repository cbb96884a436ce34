/* tests/test_files.c - files for the core's suites (test_files.h). */
#include "test_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "test_util.h"

char tf_dir[256];

const char *tf_path(const char *name)
{
    static char p[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", tf_dir, name);
    return p[i];
}

void tf_write(const char *name, const void *b, size_t n, bool gz)
{
    if (gz) {
        gzFile f = gzopen(tf_path(name), "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gzwrite(f, b, (unsigned)n), (int)n);
        ck_assert_int_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(tf_path(name), "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(b, 1, n, f), n);
        ck_assert_int_eq(fclose(f), 0);
    }
}

void tf_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

void tf_idx(const char *images, const char *labels, uint32_t n,
                       uint32_t r, uint32_t c, bool gz, size_t extra)
{
    size_t size = 16 + (size_t)n * r * c + extra;
    unsigned char *b = calloc(1, size);
    ck_assert_ptr_nonnull(b);
    tf_be32(b, 0x00000803);
    tf_be32(b + 4, n), tf_be32(b + 8, r), tf_be32(b + 12, c);
    for (size_t i = 0; i < (size_t)n * r * c; i++)
        b[16 + i] = (unsigned char)((7 * (i / (r * c)) + i % (r * c)) % 256);
    tf_write(images, b, size, gz);
    free(b);
    unsigned char *l = calloc(1, 8 + n);
    ck_assert_ptr_nonnull(l);
    tf_be32(l, 0x00000801);
    tf_be32(l + 4, n);
    for (uint32_t i = 0; i < n; i++)
        l[8 + i] = (unsigned char)(i % 10);
    tf_write(labels, l, 8 + n, gz);
    free(l);
}
