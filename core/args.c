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

/* Optimal string alignment distance of a[0..na) and b[0..nb): insertions,
 * deletions, substitutions and swaps of two neighbours each count 1.
 * Names longer than 63 characters are never close. */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    enum { MAXLEN = 64 };
    if (na >= MAXLEN || nb >= MAXLEN)
        return (size_t)-1;
    size_t d[MAXLEN][MAXLEN];
    for (size_t i = 0; i <= na; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[na][nb];
}

void bp_did_you_mean(const char *word, size_t len, const char *const *names,
                     size_t n, char *buf, size_t size)
{
    if (size)
        buf[0] = '\0';
    size_t wcore = len;
    for (const char *w = word; wcore > 0 && *w == '-'; w++)
        wcore--;
    /* a prefix of exactly one name ("--lr-sched"), or a name of at least
     * three letters followed by more ("--batchsize"), counts as one edit */
    size_t prefix_of = n, nprefix = 0, longer_of = n, longest = 0;
    for (size_t i = 0; i < n; i++) {
        size_t nlen = strlen(names[i]);
        if (nlen > len && strncmp(names[i], word, len) == 0)
            prefix_of = i, nprefix++;
        if (nlen < len && strncmp(names[i], word, nlen) == 0 &&
            nlen > longest && nlen - (size_t)(strspn(names[i], "-")) >= 3)
            longer_of = i, longest = nlen;
    }
    size_t best = (size_t)-1, dist[128];
    for (size_t i = 0; i < n && i < 128; i++) {
        size_t nlen = strlen(names[i]), core = nlen;
        for (const char *c = names[i]; core > 0 && *c == '-'; c++)
            core--;
        size_t d = edit_distance(word, len, names[i], nlen);
        size_t limit = core <= 3 ? 1 : 2;
        if (d > limit || d >= wcore)
            d = (size_t)-1;
        if (((nprefix == 1 && i == prefix_of && wcore >= 2) || i == longer_of) &&
            d > 1)
            d = 1;
        dist[i] = d;
        if (d < best)
            best = d;
    }
    if (best == (size_t)-1 || best == 0)
        return;
    const char *pick[3];
    size_t npick = 0;
    for (size_t i = 0; i < n && i < 128 && npick < 3; i++)
        if (dist[i] == best)
            pick[npick++] = names[i];
    if (npick == 1)
        snprintf(buf, size, " (did you mean '%s'?)", pick[0]);
    else if (npick == 2)
        snprintf(buf, size, " (did you mean '%s' or '%s'?)", pick[0], pick[1]);
    else
        snprintf(buf, size, " (did you mean '%s', '%s' or '%s'?)", pick[0],
                 pick[1], pick[2]);
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
        if (!o) {
            const char *names[128];
            size_t nn = 0;
            for (size_t j = 0; j < nopts && nn < 128; j++)
                names[nn++] = opts[j].name;
            char hint[128];
            bp_did_you_mean(a, len, names, nn, hint, sizeof hint);
            return bp_fail(err, BP_ERR_INVALID_ARG, "unknown option '%.*s'%s",
                           (int)(len > 40 ? 40 : len), a, hint);
        }
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

int bp_args_positionals(int argc, char **argv, int first, const bp_opt *opts,
                        size_t nopts, char **args, int *nargs, char **pos,
                        int maxpos, const char **extra)
{
    int n = 0, npos = 0;
    *extra = NULL;
    for (int i = 0; i < first && i < argc; i++)
        args[n++] = argv[i];
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] != '\0') {
            args[n++] = argv[i];
            /* "--data SET": the value is not a positional ("--data=SET"
             * carries its own) */
            bool takes_value = false;
            for (size_t j = 0; j < nopts; j++)
                takes_value |= strcmp(a, opts[j].name) == 0 &&
                               opts[j].kind != BP_ARG_FLAG;
            if (takes_value && i + 1 < argc)
                args[n++] = argv[++i];
        } else {
            if (npos < maxpos)
                pos[npos] = argv[i];
            else if (!*extra)
                *extra = a;
            npos++;
        }
    }
    *nargs = n;
    return npos;
}
