/* experiments/json.c - the run records' JSON reader (json.h). */
#include "experiments/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define JS_MAX_DEPTH 32

typedef struct parser {
    const char *start, *p, *end;
    char *err;
    size_t errsz;
    bool failed;
} parser;

static bool fail(parser *ps, const char *what)
{
    if (!ps->failed)
        snprintf(ps->err, ps->errsz, "%s at byte %zu", what,
                 (size_t)(ps->p - ps->start));
    ps->failed = true;
    return false;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' ||
                               *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static bool literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, "unexpected token");
    ps->p += n;
    return true;
}

static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A string at ps->p (the opening quote) into a new NUL-ended buffer. */
static bool string(parser *ps, char **out)
{
    ps->p++; /* " */
    const char *s = ps->p;
    while (ps->p < ps->end && *ps->p != '"')
        ps->p += *ps->p == '\\' && ps->p + 1 < ps->end ? 2 : 1;
    if (ps->p >= ps->end)
        return fail(ps, "unterminated string");
    size_t n = (size_t)(ps->p - s);
    char *buf = bp_alloc(n + 1), *d = buf;
    if (!buf)
        return fail(ps, "out of memory");
    for (const char *c = s; c < ps->p; c++) {
        if ((unsigned char)*c < 0x20) {
            bp_free(buf);
            return fail(ps, "control character in a string");
        }
        if (*c != '\\') {
            *d++ = *c;
            continue;
        }
        c++;
        switch (*c) {
        case '"': case '\\': case '/': *d++ = *c; break;
        case 'b': *d++ = '\b'; break;
        case 'f': *d++ = '\f'; break;
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case 'u': {
            int v = 0;
            for (int i = 1; i <= 4; i++) {
                int h = c + i < ps->p ? hex(c[i]) : -1;
                if (h < 0) {
                    bp_free(buf);
                    return fail(ps, "bad \\u escape");
                }
                v = v * 16 + h;
            }
            c += 4;
            *d++ = v > 0 && v < 0x80 ? (char)v : '?';
            break;
        }
        default:
            bp_free(buf);
            return fail(ps, "bad escape");
        }
    }
    *d = '\0';
    ps->p++; /* " */
    *out = buf;
    return true;
}

static bool value(parser *ps, js_val *v, int depth);

/* Append one item (and its key) to an array or object under construction. */
static js_val *push(parser *ps, js_val *v, size_t *cap, char *key)
{
    if (v->n == *cap) {
        size_t c = *cap ? 2 * *cap : 8;
        js_val *items = bp_alloc(c * sizeof *items);
        char **keys = v->type == JS_OBJ ? bp_alloc(c * sizeof *keys) : NULL;
        if (!items || (v->type == JS_OBJ && !keys)) {
            bp_free(items);
            bp_free(keys);
            fail(ps, "out of memory");
            return NULL;
        }
        if (v->n) {
            memcpy(items, v->items, v->n * sizeof *items);
            if (keys)
                memcpy(keys, v->keys, v->n * sizeof *keys);
        }
        bp_free(v->items);
        bp_free(v->keys);
        v->items = items;
        v->keys = keys;
        *cap = c;
    }
    js_val *it = &v->items[v->n];
    memset(it, 0, sizeof *it);
    if (v->keys)
        v->keys[v->n] = key;
    v->n++;
    return it;
}

static bool container(parser *ps, js_val *v, int depth, bool obj)
{
    v->type = obj ? JS_OBJ : JS_ARR;
    ps->p++; /* [ or { */
    size_t cap = 0;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
        ps->p++;
        return true;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (obj) {
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, "expected a key");
            if (!string(ps, &key))
                return false;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                bp_free(key);
                return fail(ps, "expected ':'");
            }
            ps->p++;
        }
        js_val *it = push(ps, v, &cap, key);
        if (!it) {
            bp_free(key);
            return false;
        }
        if (!value(ps, it, depth + 1))
            return false;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
            ps->p++;
            return true;
        }
        return fail(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static bool number(parser *ps, js_val *v)
{
    char buf[64];
    size_t n = 0;
    while (ps->p + n < ps->end && n < sizeof buf - 1 &&
           strchr("+-0123456789.eE", ps->p[n]))
        n++;
    memcpy(buf, ps->p, n);
    buf[n] = '\0';
    char *e;
    v->type = JS_NUM;
    v->num = strtod(buf, &e);
    if (!n || *e)
        return fail(ps, "bad number");
    ps->p += n;
    return true;
}

static bool value(parser *ps, js_val *v, int depth)
{
    if (depth > JS_MAX_DEPTH)
        return fail(ps, "nested too deeply");
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "unexpected end");
    switch (*ps->p) {
    case '{': return container(ps, v, depth, true);
    case '[': return container(ps, v, depth, false);
    case '"': v->type = JS_STR; return string(ps, &v->str);
    case 't': v->type = JS_BOOL; v->b = true; return literal(ps, "true");
    case 'f': v->type = JS_BOOL; return literal(ps, "false");
    case 'n': v->type = JS_NULL; return literal(ps, "null");
    default: return number(ps, v);
    }
}

bool js_parse(const char *text, size_t len, js_val *out, char *err,
              size_t errsz)
{
    parser ps = {text, text, text + len, err, errsz, false};
    memset(out, 0, sizeof *out);
    bool ok = value(&ps, out, 0);
    skip_ws(&ps);
    if (ok && ps.p != ps.end)
        ok = fail(&ps, "text after the document");
    if (!ok)
        js_free(out);
    return ok;
}

void js_free(js_val *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        js_free(&v->items[i]);
        if (v->keys)
            bp_free(v->keys[i]);
    }
    bp_free(v->items);
    bp_free(v->keys);
    bp_free(v->str);
    memset(v, 0, sizeof *v);
}

const js_val *js_get(const js_val *v, const char *key)
{
    if (!v || v->type != JS_OBJ)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0)
            return &v->items[i];
    return NULL;
}

double js_num(const js_val *v, const char *key)
{
    const js_val *m = js_get(v, key);
    return m && m->type == JS_NUM ? m->num : NAN;
}

const char *js_str(const js_val *v, const char *key, const char *dflt)
{
    const js_val *m = js_get(v, key);
    return m && m->type == JS_STR ? m->str : dflt;
}

bool js_bool(const js_val *v, const char *key)
{
    const js_val *m = js_get(v, key);
    return m && m->type == JS_BOOL && m->b;
}
