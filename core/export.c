/* core/export.c - .npz and .safetensors files of a network (export.h).
 *
 * Both formats are built in one buffer by the same writer run twice: first
 * with no buffer, only counting bytes, then into a buffer of exactly that
 * size. The ZIP is written by hand (STORED members, CRC-32 from zlib):
 * per member a local file header, the .npy bytes; then the central
 * directory and its end record (APPNOTE 6.3, sections 4.3.7, 4.3.12,
 * 4.3.16). Every integer is written byte by byte in little-endian order.
 */
#include "core/export.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/checkpoint.h"
#include "core/outfile.h"

/* up to four tensors per layer, and the three strings */
#define MAX_ENTRIES (4 * BP_MAX_LAYERS + 3)

typedef struct entry {
    char name[48];
    int ndim;
    size_t dim[2];
    const float *f;   /* tensor data; NULL for a string */
    const char *text; /* a string (UTF-8) */
    size_t count;     /* floats, or the string's code points */
    size_t offset;    /* npz: where its local header starts */
    uint32_t crc;     /* npz: CRC-32 of its .npy bytes */
    size_t size;      /* npz: size of its .npy bytes */
} entry;

/* A writer: with p == NULL it only counts. */
typedef struct wr {
    unsigned char *p;
    size_t used;
} wr;

static void put(wr *w, const void *src, size_t n)
{
    if (w->p && n)
        memcpy(w->p + w->used, src, n);
    w->used += n;
}

static void put_byte(wr *w, unsigned c)
{
    unsigned char b = (unsigned char)c;
    put(w, &b, 1);
}

static void put_le(wr *w, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, (size_t)bytes);
}

static void put_str(wr *w, const char *s) { put(w, s, strlen(s)); }

static void put_spaces(wr *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_byte(w, ' ');
}

static void put_f32(wr *w, const float *f, size_t n)
{
    if (w->p) {
        unsigned char *o = w->p + w->used;
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, f + i, 4);
            o[4 * i] = (unsigned char)u;
            o[4 * i + 1] = (unsigned char)(u >> 8);
            o[4 * i + 2] = (unsigned char)(u >> 16);
            o[4 * i + 3] = (unsigned char)(u >> 24);
        }
    }
    w->used += 4 * n;
}

/* The code point at s[*i] (n bytes in all), advancing *i; a byte that does
 * not start a valid UTF-8 sequence gives U+FFFD and advances by one. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned c = s[*i];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80) {
        (*i)++;
        return c;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        (*i)++;
        return 0xfffd;
    }
    if (len > n - *i) {
        (*i)++;
        return 0xfffd;
    }
    for (size_t k = 1; k < len; k++) {
        unsigned b = s[*i + k];
        if ((b & 0xc0) != 0x80) {
            (*i)++;
            return 0xfffd;
        }
        cp = cp << 6 | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        (*i)++;
        return 0xfffd;
    }
    *i += len;
    return cp;
}

static size_t utf8_count(const char *s)
{
    size_t n = strlen(s), count = 0;
    for (size_t i = 0; i < n; count++)
        utf8_next((const unsigned char *)s, n, &i);
    return count;
}

static void put_utf8(wr *w, uint32_t cp)
{
    if (cp < 0x80) {
        put_byte(w, cp);
    } else if (cp < 0x800) {
        put_byte(w, 0xc0 | cp >> 6);
        put_byte(w, 0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        put_byte(w, 0xe0 | cp >> 12);
        put_byte(w, 0x80 | (cp >> 6 & 0x3f));
        put_byte(w, 0x80 | (cp & 0x3f));
    } else {
        put_byte(w, 0xf0 | cp >> 18);
        put_byte(w, 0x80 | (cp >> 12 & 0x3f));
        put_byte(w, 0x80 | (cp >> 6 & 0x3f));
        put_byte(w, 0x80 | (cp & 0x3f));
    }
}

/* A JSON string (RFC 8259): quotes, backslashes and control characters
 * escaped, invalid UTF-8 replaced by U+FFFD. */
static void put_json_str(wr *w, const char *s)
{
    size_t n = strlen(s);
    put_byte(w, '"');
    for (size_t i = 0; i < n;) {
        uint32_t cp = utf8_next((const unsigned char *)s, n, &i);
        if (cp == '"' || cp == '\\') {
            put_byte(w, '\\');
            put_byte(w, cp);
        } else if (cp == '\n') {
            put_str(w, "\\n");
        } else if (cp == '\t') {
            put_str(w, "\\t");
        } else if (cp == '\r') {
            put_str(w, "\\r");
        } else if (cp < 0x20) {
            char u[8];
            snprintf(u, sizeof u, "\\u%04x", (unsigned)cp);
            put_str(w, u);
        } else {
            put_utf8(w, cp);
        }
    }
    put_byte(w, '"');
}

/* ---------------------------------------------------------------------- */
/* The entries                                                             */

static void add_tensor(entry *e, size_t *n, size_t layer, const char *role,
                       size_t ndim, size_t d0, size_t d1, const float *f)
{
    entry *t = &e[(*n)++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%zu.%s", layer, role);
    t->ndim = (int)ndim;
    t->dim[0] = d0;
    t->dim[1] = d1;
    t->f = f;
    t->count = ndim == 2 ? d0 * d1 : d0;
}

static void add_text(entry *e, size_t *n, const char *name, const char *text)
{
    entry *t = &e[(*n)++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->text = text;
    t->count = utf8_count(text);
}

/* The tensors in layer order, then the strings; returns the count. */
static size_t collect(const bp_net *net, const char *spec, const char *desc,
                      entry *e)
{
    size_t n = 0;
    const float *P = net->params, *B = net->buffers;
    for (size_t i = 0; i < net->nlayers; i++) {
        const bp_layer *l = &net->layers[i];
        bp_tensor_view v[4];
        size_t nv = l->ops->views ? l->ops->views(l, P, B, v) : 0;
        for (size_t j = 0; j < nv; j++)
            add_tensor(e, &n, i, v[j].name, v[j].ndim, v[j].dim[0],
                       v[j].dim[1], v[j].data);
    }
    add_text(e, &n, "format", "bplab");
    add_text(e, &n, "net", desc);
    add_text(e, &n, "spec", spec);
    return n;
}

/* ---------------------------------------------------------------------- */
/* .npy and .npz                                                           */

/* The .npy header dictionary, padded so that the data starts at a multiple
 * of 64 bytes; returns its length (HEADER_LEN: the spaces and the '\n'
 * included). */
static size_t npy_dict(const entry *e, char *buf, size_t size)
{
    char descr[32], shape[64];
    if (e->f)
        snprintf(descr, sizeof descr, "<f4");
    else
        snprintf(descr, sizeof descr, "<U%zu", e->count ? e->count : 1);
    if (e->ndim == 0)
        snprintf(shape, sizeof shape, "()");
    else if (e->ndim == 1)
        snprintf(shape, sizeof shape, "(%zu,)", e->dim[0]);
    else
        snprintf(shape, sizeof shape, "(%zu, %zu)", e->dim[0], e->dim[1]);
    int m = snprintf(buf, size,
                     "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     descr, shape);
    size_t len = (size_t)m + 1; /* + '\n' */
    size_t pad = (64 - (10 + len) % 64) % 64;
    return len + pad;
}

static void put_npy(wr *w, const entry *e)
{
    char dict[192];
    size_t hlen = npy_dict(e, dict, sizeof dict);
    size_t dlen = strlen(dict);
    put(w, "\x93NUMPY\x01\x00", 8);
    put_le(w, hlen, 2);
    put(w, dict, dlen);
    put_spaces(w, hlen - dlen - 1);
    put_byte(w, '\n');
    if (e->f) {
        put_f32(w, e->f, e->count);
    } else if (e->count == 0) {
        put_le(w, 0, 4);
    } else {
        const char *s = e->text;
        size_t n = strlen(s);
        for (size_t i = 0; i < n;)
            put_le(w, utf8_next((const unsigned char *)s, n, &i), 4);
    }
}

static uint32_t crc_of(const unsigned char *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)crc;
}

/* 1980-01-01 00:00, the earliest DOS date: no time stamps in the file. */
#define DOS_TIME 0
#define DOS_DATE ((0 << 9) | (1 << 5) | 1)

static void put_npz(wr *w, entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[64];
        size_t nlen = (size_t)snprintf(name, sizeof name, "%s.npy", e[i].name);
        e[i].offset = w->used;
        put_le(w, 0x04034b50, 4); /* local file header */
        put_le(w, 20, 2);         /* version needed: 2.0 */
        put_le(w, 0, 2);          /* flags */
        put_le(w, 0, 2);          /* method: stored */
        put_le(w, DOS_TIME, 2);
        put_le(w, DOS_DATE, 2);
        size_t crc_at = w->used;
        put_le(w, 0, 4);          /* CRC-32, filled below */
        size_t size_at = w->used;
        put_le(w, 0, 4);          /* compressed size */
        put_le(w, 0, 4);          /* uncompressed size */
        put_le(w, nlen, 2);
        put_le(w, 0, 2);          /* extra field length */
        put(w, name, nlen);
        size_t start = w->used;
        put_npy(w, &e[i]);
        e[i].size = w->used - start;
        if (w->p) {
            e[i].crc = crc_of(w->p + start, e[i].size);
            size_t end = w->used;
            w->used = crc_at;
            put_le(w, e[i].crc, 4);
            w->used = size_at;
            put_le(w, e[i].size, 4);
            put_le(w, e[i].size, 4);
            w->used = end;
        }
    }
    size_t cd = w->used;
    for (size_t i = 0; i < n; i++) {
        char name[64];
        size_t nlen = (size_t)snprintf(name, sizeof name, "%s.npy", e[i].name);
        put_le(w, 0x02014b50, 4); /* central directory header */
        put_le(w, 20, 2);         /* version made by: MS-DOS, 2.0 */
        put_le(w, 20, 2);         /* version needed */
        put_le(w, 0, 2);
        put_le(w, 0, 2);
        put_le(w, DOS_TIME, 2);
        put_le(w, DOS_DATE, 2);
        put_le(w, e[i].crc, 4);
        put_le(w, e[i].size, 4);
        put_le(w, e[i].size, 4);
        put_le(w, nlen, 2);
        put_le(w, 0, 2);          /* extra field */
        put_le(w, 0, 2);          /* comment */
        put_le(w, 0, 2);          /* disk number */
        put_le(w, 0, 2);          /* internal attributes */
        put_le(w, 0, 4);          /* external attributes */
        put_le(w, e[i].offset, 4);
        put(w, name, nlen);
    }
    size_t cd_size = w->used - cd;
    put_le(w, 0x06054b50, 4); /* end of central directory */
    put_le(w, 0, 2);
    put_le(w, 0, 2);
    put_le(w, n, 2);
    put_le(w, n, 2);
    put_le(w, cd_size, 4);
    put_le(w, cd, 4);
    put_le(w, 0, 2); /* comment length */
}

/* ---------------------------------------------------------------------- */
/* .safetensors                                                            */

static void put_st_header(wr *w, const entry *e, size_t n)
{
    put_str(w, "{\"__metadata__\":{");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (e[i].f)
            continue;
        if (!first)
            put_byte(w, ',');
        first = false;
        put_json_str(w, e[i].name);
        put_byte(w, ':');
        put_json_str(w, e[i].text);
    }
    put_byte(w, '}');
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (!e[i].f)
            continue;
        char buf[160];
        if (e[i].ndim == 1)
            snprintf(buf, sizeof buf, "[%zu]", e[i].dim[0]);
        else
            snprintf(buf, sizeof buf, "[%zu,%zu]", e[i].dim[0], e[i].dim[1]);
        put_byte(w, ',');
        put_json_str(w, e[i].name);
        put_str(w, ":{\"dtype\":\"F32\",\"shape\":");
        put_str(w, buf);
        snprintf(buf, sizeof buf, ",\"data_offsets\":[%zu,%zu]}", off,
                 off + 4 * e[i].count);
        put_str(w, buf);
        off += 4 * e[i].count;
    }
    put_byte(w, '}');
}

static void put_safetensors(wr *w, const entry *e, size_t n)
{
    wr count = {NULL, 0};
    put_st_header(&count, e, n);
    size_t hlen = (count.used + 7) & ~(size_t)7;
    put_le(w, hlen, 8);
    put_st_header(w, e, n);
    put_spaces(w, hlen - count.used);
    for (size_t i = 0; i < n; i++)
        if (e[i].f)
            put_f32(w, e[i].f, e[i].count);
}

/* ---------------------------------------------------------------------- */

bp_status bp_export_format_of(const char *path, bp_export_format *fmt,
                              bp_err *err)
{
    size_t n = strlen(path);
    if (n >= 4 && strcasecmp(path + n - 4, ".npz") == 0) {
        *fmt = BP_EXPORT_NPZ;
        return BP_OK;
    }
    if (n >= 12 && strcasecmp(path + n - 12, ".safetensors") == 0) {
        *fmt = BP_EXPORT_SAFETENSORS;
        return BP_OK;
    }
    return bp_fail(err, BP_ERR_INVALID_ARG,
                   "%.200s: unknown export format (the name must end in .npz "
                   "or .safetensors)",
                   path);
}

static void put_file(wr *w, bp_export_format fmt, entry *e, size_t n)
{
    if (fmt == BP_EXPORT_NPZ)
        put_npz(w, e, n);
    else
        put_safetensors(w, e, n);
}

bp_status bp_export_build(const bp_net *net, const char *spec,
                          bp_export_format fmt, void **out, size_t *size,
                          bp_err *err)
{
    *out = NULL;
    *size = 0;
    entry *e = bp_alloc(MAX_ENTRIES * sizeof *e);
    if (!e)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the export");
    char desc[256];
    bp_net_describe(&net->spec, desc, sizeof desc);
    size_t n = collect(net, spec ? spec : "", desc, e);
    wr w = {NULL, 0};
    put_file(&w, fmt, e, n);
    size_t total = w.used;
    bp_status s = BP_OK;
    if (fmt == BP_EXPORT_NPZ && total > UINT32_MAX) {
        s = bp_fail(err, BP_ERR_UNSUPPORTED,
                    "the .npz would be %.1f GiB: over the 4 GiB of a ZIP "
                    "without ZIP64 (export to .safetensors instead)",
                    (double)total / (1 << 30));
        goto done;
    }
    w.p = bp_alloc(total);
    if (!w.p) {
        s = bp_fail(err, BP_ERR_NOMEM, "out of memory for the export (%zu "
                    "bytes)", total);
        goto done;
    }
    w.used = 0;
    put_file(&w, fmt, e, n);
    *out = w.p;
    *size = total;
done:
    bp_free(e);
    return s;
}

bp_status bp_export(const bp_net *net, const char *spec, const char *path,
                    bp_export_format fmt, bp_err *err)
{
    void *buf;
    size_t size;
    bp_status s = bp_export_build(net, spec, fmt, &buf, &size, err);
    if (s != BP_OK)
        return s;
    s = bp_write_file(path, buf, size, err);
    bp_free(buf);
    return s;
}
