/* tests/test_files.h - files the core's suites write (tf_: test files),
 * data sets in a temporary folder (test_files.c; it links zlib, which the
 * kernel-only suites do without). */
#ifndef BPLAB_TEST_FILES_H
#define BPLAB_TEST_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Files for tests, in the suite's temporary folder tf_dir (the suite
 * makes and removes it). tf_path joins it and a name (one of four
 * rotating buffers, so two paths can be in use at once). */
extern char tf_dir[256];
const char *tf_path(const char *name);

/* A big-endian u32 (IDX headers). */
void tf_be32(unsigned char *p, uint32_t v);

/* Write n bytes to the file `name` in tf_dir, gzipped or plain. */
void tf_write(const char *name, const void *b, size_t n, bool gz);

/* n images of r x c bytes (pixel (i, j) = (7i + j) mod 256) and labels
 * i mod 10, as an IDX pair in tf_dir; `extra` bytes appended to the
 * images. */
void tf_idx(const char *images, const char *labels, uint32_t n,
                       uint32_t r, uint32_t c, bool gz, size_t extra);

#endif
