/* core/data_csv.c - numeric CSV: features, then an integer class label in
 * the last column.
 *
 * Separators are commas (spaces around fields are ignored). The first line
 * is a header if any of its non-empty fields is not a number. Blank lines are
 * skipped. Every error names the file, the line and the column: a
 * non-numeric or non-finite feature, a label that is not a non-negative
 * integer below BP_DATA_MAX_CLASSES, a row with a different number of
 * columns than the first. The file is read whole (at most
 * BP_DATA_MAX_BYTES) and parsed twice: once to count, once to fill.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/data.h"

static bp_status read_file(const char *path, char **out, size_t *len,
                           bp_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return bp_fail(err, BP_ERR_IO, "%s: cannot open: %s", path,
                       strerror(errno));
    bp_status s = BP_OK;
    char *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = bp_fail(err, BP_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        s = bp_fail(err, BP_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        goto done;
    }
    long size = ftell(f);
    if (size < 0) {
        s = bp_fail(err, BP_ERR_IO, "%s: cannot read (is it a directory?)", path);
        goto done;
    }
    if ((unsigned long)size > BP_DATA_MAX_BYTES) {
        s = bp_fail(err, BP_ERR_NOMEM, "%s: %ld bytes is over the %zu GiB limit",
                    path, size, BP_DATA_MAX_BYTES >> 30);
        goto done;
    }
    rewind(f);
    buf = bp_alloc((size_t)size + 1);
    if (!buf) {
        s = bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %ld bytes", path,
                    size);
        goto done;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        s = bp_fail(err, BP_ERR_IO, "%s: cannot read: %s", path,
                    ferror(f) ? strerror(errno) : "short read");
        goto done;
    }
    buf[size] = '\0';
    if (memchr(buf, '\0', (size_t)size)) {
        s = bp_fail(err, BP_ERR_FORMAT, "%s: not a text file (NUL byte)", path);
        goto done;
    }
    *out = buf;
    *len = (size_t)size;
    buf = NULL;
done:
    bp_free(buf);
    fclose(f);
    return s;
}

/* Split the next field of line `p` (ending at '\n' or '\0'); returns the
 * field start with surrounding blanks trimmed, sets *end past the field
 * and its separator, *last if it was the line's last field. The field is
 * NUL-terminated in place. */
static char *next_field(char *p, char **end, bool *last)
{
    while (*p == ' ' || *p == '\t')
        p++;
    char *start = p;
    while (*p && *p != ',' && *p != '\n' && *p != '\r')
        p++;
    char *stop = p;
    while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
        stop--;
    *last = *p != ',';
    if (*p == '\r' && p[1] == '\n')
        *p++ = '\0';
    if (*p)
        *p++ = '\0';
    *stop = '\0';
    *end = p;
    return start;
}

static bool parse_float(const char *s, float *v)
{
    if (!*s)
        return false;
    char *e;
    errno = 0;
    double d = strtod(s, &e);
    if (*e != '\0')
        return false;
    *v = (float)d;
    return true;
}

/* One pass over the text. With out == NULL it only counts rows and
 * columns (and validates); otherwise it fills out (sized by the count). */
static bp_status parse(const char *path, char *text, size_t *rows,
                       size_t *cols, bp_dataset *out, bp_err *err)
{
    size_t line = 0, row = 0, ncols = *cols;
    char *p = text;
    bool first = true;
    while (*p) {
        line++;
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        /* blank line? */
        char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r')
            q++;
        if (q == (eol ? eol : next)) {
            p = next;
            continue;
        }
        if (eol)
            *eol = '\0';
        /* the header: only the first non-blank line may be one */
        if (first) {
            first = false;
            size_t l = strlen(p);
            char *copy = bp_alloc(l + 1);
            if (!copy)
                return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
            memcpy(copy, p, l + 1);
            bool header = false, last = false;
            for (char *c = copy, *f; !last;) {
                f = next_field(c, &c, &last);
                float v;
                if (*f && !parse_float(f, &v))
                    header = true; /* a name, not an empty field */
            }
            bp_free(copy);
            if (header) {
                if (eol)
                    *eol = '\n';
                p = next;
                continue;
            }
        }
        size_t col = 0;
        bool last = false;
        for (char *c = p; !last;) {
            char *f = next_field(c, &c, &last);
            col++;
            if (ncols && col > ncols)
                return bp_fail(err, BP_ERR_FORMAT,
                               "%s:%zu: %zu columns or more, expected %zu",
                               path, line, col, ncols);
            if (!last || (ncols && col < ncols)) {
                float v;
                if (!parse_float(f, &v))
                    return bp_fail(err, BP_ERR_FORMAT,
                                   "%s:%zu:%zu: '%.32s' is not a number", path,
                                   line, col, f);
                if (!isfinite(v))
                    return bp_fail(err, BP_ERR_NUMERIC,
                                   "%s:%zu:%zu: '%.32s' is not finite (sample "
                                   "%zu)",
                                   path, line, col, f, row);
                if (out)
                    out->x[row * out->dim + col - 1] = v;
            } else {
                char *e;
                errno = 0;
                long lab = strtol(f, &e, 10);
                if (!*f || *e || errno || lab < 0 || lab >= BP_DATA_MAX_CLASSES)
                    return bp_fail(err, BP_ERR_FORMAT,
                                   "%s:%zu:%zu: label '%.32s' is not an integer "
                                   "in [0, %d)",
                                   path, line, col, f, BP_DATA_MAX_CLASSES);
                if (out) {
                    out->y[row] = (int32_t)lab;
                    if ((size_t)lab + 1 > out->classes)
                        out->classes = (size_t)lab + 1;
                }
            }
        }
        if (!ncols) {
            if (col < 2)
                return bp_fail(err, BP_ERR_FORMAT,
                               "%s:%zu: %zu column: need features and a label",
                               path, line, col);
            ncols = col;
        } else if (col != ncols) {
            return bp_fail(err, BP_ERR_FORMAT,
                           "%s:%zu: %zu columns, expected %zu", path, line, col,
                           ncols);
        }
        row++;
        if (eol)
            *eol = '\n';
        p = next;
    }
    if (row == 0)
        return bp_fail(err, BP_ERR_FORMAT, "%s: no data rows", path);
    *rows = row;
    *cols = ncols;
    return BP_OK;
}

bp_status bp_csv_load(const char *path, bp_dataset *out, bp_err *err)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0, rows = 0, cols = 0;
    bp_status s = read_file(path, &text, &len, err);
    if (s != BP_OK)
        return s;
    /* the first pass writes NULs into fields and restores only the
     * newlines, so the second pass works on a fresh copy */
    char *copy = bp_alloc(len + 1);
    if (!copy) {
        bp_free(text);
        return bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(copy, text, len + 1);
    if ((s = parse(path, text, &rows, &cols, NULL, err)) == BP_OK &&
        (s = bp_dataset_alloc(rows, cols - 1, 0, out, err)) == BP_OK)
        s = parse(path, copy, &rows, &cols, out, err);
    bp_free(text);
    bp_free(copy);
    if (s != BP_OK)
        bp_dataset_free(out);
    return s;
}
