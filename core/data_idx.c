/* core/data_idx.c - the IDX format of the MNIST family, plain or gzip.
 *
 * Layout: two zero bytes, a type byte (0x08 = unsigned byte, the only one
 * these sets use), a dimension count, then one big-endian u32 per
 * dimension and the data. zlib's gzread reads both plain and gzip files.
 * Everything is checked before the data is allocated: magic, dimension
 * counts, zero or absurd dimensions (no overflow: products are checked),
 * the image and label counts agreeing, the exact number of data bytes (a
 * truncated file and trailing bytes are both errors) and the label range.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/data.h"

#define IDX_UBYTE 0x08
#define IDX_MAX_DIMS 8

typedef struct idx_file {
    gzFile gz;
    const char *path;
    unsigned ndims;
    size_t dims[IDX_MAX_DIMS];
    size_t count;  /* dims[0] */
    size_t per;    /* product of the other dims */
} idx_file;

static bp_status read_exact(idx_file *f, void *buf, size_t n, const char *what,
                            bp_err *err)
{
    size_t got = 0;
    while (got < n) {
        unsigned chunk = n - got > (1u << 30) ? (1u << 30) : (unsigned)(n - got);
        int r = gzread(f->gz, (char *)buf + got, chunk);
        if (r < 0) {
            int code;
            const char *msg = gzerror(f->gz, &code);
            return bp_fail(err, BP_ERR_FORMAT, "%s: corrupt data while reading %s (%s)",
                           f->path, what, msg ? msg : "zlib error");
        }
        if (r == 0)
            return bp_fail(err, BP_ERR_FORMAT,
                           "%s: truncated: %s needs %zu bytes, the file has %zu",
                           f->path, what, n, got);
        got += (size_t)r;
    }
    return BP_OK;
}

static bp_status idx_open(const char *path, unsigned want_dims_min,
                          unsigned want_dims_max, idx_file *f, bp_err *err)
{
    f->path = path;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return bp_fail(err, BP_ERR_IO, "%s: cannot open: %s", path,
                       strerror(errno));
    struct stat st;
    bool regular = fstat(fileno(probe), &st) == 0 && S_ISREG(st.st_mode);
    fclose(probe);
    if (!regular)
        return bp_fail(err, BP_ERR_IO, "%s: not a regular file", path);
    f->gz = gzopen(path, "rb");
    if (!f->gz)
        return bp_fail(err, BP_ERR_IO, "%s: cannot open", path);
    unsigned char h[4];
    bp_status s = read_exact(f, h, 4, "the IDX header", err);
    if (s != BP_OK)
        return s;
    uint32_t magic = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
                     (uint32_t)h[2] << 8 | h[3];
    if (h[0] != 0 || h[1] != 0 || h[3] < want_dims_min || h[3] > want_dims_max)
        return bp_fail(err, BP_ERR_FORMAT,
                       "%s: IDX magic 0x%08x: expected 0x000008%02x%s", path,
                       magic, want_dims_min,
                       want_dims_min == 1 ? " (labels)" : " (images)");
    if (h[2] != IDX_UBYTE)
        return bp_fail(err, BP_ERR_FORMAT,
                       "%s: IDX data type 0x%02x: only unsigned bytes (0x08) "
                       "are supported",
                       path, h[2]);
    f->ndims = h[3];
    f->per = 1;
    for (unsigned d = 0; d < f->ndims; d++) {
        unsigned char b[4];
        if ((s = read_exact(f, b, 4, "the IDX dimensions", err)) != BP_OK)
            return s;
        size_t v = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
        if (v == 0)
            return bp_fail(err, BP_ERR_FORMAT, "%s: dimension %u is 0", path,
                           d + 1);
        f->dims[d] = v;
        if (d > 0) {
            if (bp_mul_size(f->per, v) == 0)
                return bp_fail(err, BP_ERR_FORMAT,
                               "%s: dimensions overflow", path);
            f->per *= v;
        }
    }
    f->count = f->dims[0];
    return BP_OK;
}

/* One more byte after the data is an error: the header lied. */
static bp_status expect_eof(idx_file *f, bp_err *err)
{
    char extra;
    int r = gzread(f->gz, &extra, 1);
    if (r > 0)
        return bp_fail(err, BP_ERR_FORMAT,
                       "%s: trailing bytes after %zu records (the header "
                       "says %zu)",
                       f->path, f->count, f->count);
    if (r < 0) {
        int code;
        return bp_fail(err, BP_ERR_FORMAT, "%s: corrupt data (%s)", f->path,
                       gzerror(f->gz, &code));
    }
    return BP_OK;
}

static void idx_close(idx_file *f)
{
    if (f->gz)
        gzclose(f->gz);
    f->gz = NULL;
}

bp_status bp_idx_load(const char *images, const char *labels,
                      bp_dataset *out, bp_err *err)
{
    memset(out, 0, sizeof *out);
    idx_file fi = {0}, fl = {0};
    unsigned char *raw = NULL;
    bp_status s;
    if ((s = idx_open(images, 2, IDX_MAX_DIMS, &fi, err)) != BP_OK ||
        (s = idx_open(labels, 1, 1, &fl, err)) != BP_OK)
        goto fail;
    if (fi.count != fl.count) {
        s = bp_fail(err, BP_ERR_FORMAT,
                    "%s has %zu images but %s has %zu labels", images, fi.count,
                    labels, fl.count);
        goto fail;
    }
    size_t cells = bp_mul_size(fi.count, fi.per);
    size_t bytes = bp_mul_size(cells, sizeof(float));
    if (cells == 0 || bytes == 0 || bytes > BP_DATA_MAX_BYTES) {
        s = bp_fail(err, BP_ERR_NOMEM,
                    "%s: %zu images of %zu values would need %.1f GiB "
                    "(limit %zu GiB)",
                    images, fi.count, fi.per,
                    (double)fi.count * (double)fi.per * 4.0 / (1 << 30),
                    BP_DATA_MAX_BYTES >> 30);
        goto fail;
    }
    raw = bp_alloc(cells);
    if (!raw) {
        s = bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %zu bytes",
                    images, cells);
        goto fail;
    }
    if ((s = read_exact(&fi, raw, cells, "the images", err)) != BP_OK ||
        (s = expect_eof(&fi, err)) != BP_OK)
        goto fail;
    if ((s = bp_dataset_alloc(fi.count, fi.per, 0, out, err)) != BP_OK)
        goto fail;
    if (fi.ndims == 3) /* count x rows x columns: grey images */
        out->shape = (bp_shape){fi.dims[1], fi.dims[2], 1};
    else if (fi.ndims == 4) /* count x rows x columns x channels */
        out->shape = (bp_shape){fi.dims[1], fi.dims[2], fi.dims[3]};
    for (size_t i = 0; i < cells; i++)
        out->x[i] = (float)raw[i] * (1.0f / 255.0f);
    /* labels: read into the raw buffer's start (count <= cells) */
    if ((s = read_exact(&fl, raw, fl.count, "the labels", err)) != BP_OK ||
        (s = expect_eof(&fl, err)) != BP_OK)
        goto fail;
    size_t classes = 0;
    for (size_t i = 0; i < fl.count; i++) {
        out->y[i] = raw[i];
        if ((size_t)raw[i] + 1 > classes)
            classes = (size_t)raw[i] + 1;
    }
    out->classes = classes;
    bp_free(raw);
    idx_close(&fi);
    idx_close(&fl);
    return BP_OK;
fail:
    idx_close(&fl);
    idx_close(&fi);
    bp_free(raw);
    bp_dataset_free(out);
    return s;
}
