/* experiments/json.h - a small JSON reader for the harness's run records.
 *
 * The harness writes every finished run as runs/<id>.json (numbers as
 * "%.17g", so strtod reads back the same double; non-finite numbers as
 * null) and builds its report from those files. This reader parses a
 * whole document into a tree (RFC 8259; \u escapes beyond ASCII become
 * '?', nesting is limited to 32 levels) and never reads past the text it
 * is given. */
#ifndef BPLAB_EXP_JSON_H
#define BPLAB_EXP_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { JS_NULL, JS_BOOL, JS_NUM, JS_STR, JS_ARR, JS_OBJ } js_type;

typedef struct js_val {
    js_type type;
    bool b;
    double num;
    char *str;            /* JS_STR (NUL-ended) */
    size_t n;             /* JS_ARR, JS_OBJ: items */
    struct js_val *items; /* JS_ARR, JS_OBJ */
    char **keys;          /* JS_OBJ: keys[i] names items[i] */
} js_val;

/* Parse text[0..len) into *out; false with a message (and *out empty) on
 * a syntax error or when out of memory. */
bool js_parse(const char *text, size_t len, js_val *out, char *err,
              size_t errsz);
void js_free(js_val *v);

/* The member `key` of an object (NULL if absent or v is not an object). */
const js_val *js_get(const js_val *v, const char *key);
/* A number member; null (a non-finite value) and absence give NAN. */
double js_num(const js_val *v, const char *key);
/* A string member, or `dflt`. */
const char *js_str(const js_val *v, const char *key, const char *dflt);
/* A boolean member, or false. */
bool js_bool(const js_val *v, const char *key);

#endif
