/* core/args.c - the option parser (see args.h). */
#include "core/args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Values are quoted in messages, cut at 40 characters so a pasted
 * megabyte does not become the error line. */
#define VAL "%.40s%s"
#define VAL_ARGS(s) (s), (strlen(s) > 40 ? "..." : "")

bp_status bp_parse_int(const char *what, const char *s, long long min,
                       long long max, long long *out, bp_err *err)
{
    if (!s || !*s)
        return bp_fail(err, BP_ERR_INVALID_ARG, "%s: %s value", what,
                       s ? "empty" : "missing");
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0')
        return bp_fail(err, BP_ERR_INVALID_ARG, "%s " VAL ": not an integer",
                       what, VAL_ARGS(s));
    bool unbounded = max >= 1000000000000000000LL;
    if (errno == ERANGE || v < min || v > max) {
        if (unbounded && (errno == ERANGE ? v > 0 : v > max))
            return bp_fail(err, BP_ERR_INVALID_ARG, "%s " VAL ": too large",
                           what, VAL_ARGS(s));
        if (unbounded)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s " VAL ": must be >= %lld", what, VAL_ARGS(s),
                           min);
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "%s " VAL ": must be between %lld and %lld", what,
                       VAL_ARGS(s), min, max);
    }
    *out = v;
    return BP_OK;
}

bp_status bp_parse_float(const char *what, const char *s, double min,
                         double max, double *out, bp_err *err)
{
    if (!s || !*s)
        return bp_fail(err, BP_ERR_INVALID_ARG, "%s: %s value", what,
                       s ? "empty" : "missing");
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0')
        return bp_fail(err, BP_ERR_INVALID_ARG, "%s " VAL ": not a number",
                       what, VAL_ARGS(s));
    if (!isfinite(v))
        return bp_fail(err, BP_ERR_INVALID_ARG, "%s " VAL ": must be finite",
                       what, VAL_ARGS(s));
    if (v < min || v > max)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "%s " VAL ": must be between %g and %g", what,
                       VAL_ARGS(s), min, max);
    *out = v;
    return BP_OK;
}

static const bp_opt *find(const bp_opt *opts, size_t n, const char *name,
                          size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static bp_status set_value(const bp_opt *o, const char *v, bp_err *err)
{
    switch (o->kind) {
    case BP_ARG_FLAG:
        *(bool *)o->dest = true;
        return BP_OK;
    case BP_ARG_STR:
        if (!*v)
            return bp_fail(err, BP_ERR_INVALID_ARG, "%s: empty value", o->name);
        *(const char **)o->dest = v;
        return BP_OK;
    case BP_ARG_INT:
        return bp_parse_int(o->name, v, (long long)o->min, (long long)o->max,
                            (long long *)o->dest, err);
    case BP_ARG_FLOAT:
        return bp_parse_float(o->name, v, o->min, o->max, (double *)o->dest,
                              err);
    case BP_ARG_CHOICE: {
        char valid[160] = "";
        size_t used = 0;
        for (int i = 0; o->choices[i]; i++) {
            if (strcmp(o->choices[i], v) == 0) {
                *(int *)o->dest = i;
                return BP_OK;
            }
            int w = snprintf(valid + used, sizeof valid - used, "%s%s",
                             i ? "|" : "", o->choices[i]);
            if (w > 0 && (size_t)w < sizeof valid - used)
                used += (size_t)w;
        }
        if (!*v)
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "%s: empty value (one of %s)", o->name, valid);
        return bp_fail(err, BP_ERR_INVALID_ARG, "%s " VAL ": must be one of %s",
                       o->name, VAL_ARGS(v), valid);
    }
    }
    return bp_fail(err, BP_ERR_INVALID_ARG, "%s: bad option kind", o->name);
}

bp_status bp_args_parse(int argc, char **argv, int first, const bp_opt *opts,
                        size_t nopts, bool *help, bp_err *err)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            if (help) {
                *help = true;
                return BP_OK;
            }
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            return bp_fail(err, BP_ERR_INVALID_ARG,
                           "unexpected argument '" VAL "'", VAL_ARGS(a));
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const bp_opt *o = find(opts, nopts, a, len);
        if (!o)
            return bp_fail(err, BP_ERR_INVALID_ARG, "unknown option '%.*s'",
                           (int)(len > 40 ? 40 : len), a);
        const char *v = NULL;
        if (o->kind == BP_ARG_FLAG) {
            if (eq)
                return bp_fail(err, BP_ERR_INVALID_ARG,
                               "%s takes no value", o->name);
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            return bp_fail(err, BP_ERR_INVALID_ARG, "%s: missing value",
                           o->name);
        }
        bp_status s = set_value(o, v, err);
        if (s != BP_OK)
            return s;
        if (o->seen)
            *o->seen = true;
    }
    return BP_OK;
}

static void left_column(const bp_opt *o, char *buf, size_t size)
{
    if (o->kind == BP_ARG_FLAG || !o->metavar)
        snprintf(buf, size, "%s", o->name);
    else
        snprintf(buf, size, "%s %s", o->name, o->metavar);
}

/* Help lines are wrapped at this many columns, continuation lines indented
 * under the help text, so that only an option's first line starts with
 * "  --" (tests/cli/option_matrix.sh reads the options from --help). */
#define HELP_COLUMNS 80

void bp_args_print_help(FILE *f, const bp_opt *opts, size_t nopts)
{
    int width = 0;
    char left[64];
    for (size_t i = 0; i < nopts; i++) {
        left_column(&opts[i], left, sizeof left);
        if ((int)strlen(left) > width)
            width = (int)strlen(left);
    }
    int indent = 2 + width + 2;
    int room = HELP_COLUMNS - indent;
    if (room < 20)
        room = 20; /* a very wide option: wrap the help no narrower */
    for (size_t i = 0; i < nopts; i++) {
        left_column(&opts[i], left, sizeof left);
        fprintf(f, "  %-*s  ", width, left);
        const char *p = opts[i].help ? opts[i].help : "";
        int col = 0;
        while (*p) {
            while (*p == ' ')
                p++;
            size_t len = strcspn(p, " ");
            if (len == 0)
                break;
            if (col > 0 && col + 1 + (int)len > room) {
                fprintf(f, "\n%*s", indent, "");
                col = 0;
            } else if (col > 0) {
                fputc(' ', f);
                col++;
            }
            fprintf(f, "%.*s", (int)len, p);
            col += (int)len;
            p += len;
        }
        fputc('\n', f);
    }
}
