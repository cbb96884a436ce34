/* tests/fuzz/fuzz_runrec.c - the run records' JSON reader
 * (experiments/json.h) on arbitrary bytes: it must parse or fail with a
 * message, never crash, leak or read past the text; a parsed tree is
 * walked the way the harness reads a record (members by name, numbers,
 * strings, arrays of numbers). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "experiments/json.h"

static double walk(const js_val *v, int depth)
{
    double s = 0;
    if (!v || depth > 40)
        return 0;
    if (v->type == JS_NUM && isfinite(v->num))
        s += v->num;
    if (v->type == JS_STR)
        s += (double)strlen(v->str);
    for (size_t i = 0; i < v->n; i++)
        s += walk(&v->items[i], depth + 1);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    js_val doc;
    char msg[128];
    if (!js_parse((const char *)data, size, &doc, msg, sizeof msg))
        return strlen(msg) ? 0 : 1;
    volatile double s = walk(&doc, 0);
    s += js_num(&doc, "seed") + js_num(&doc, "ndense");
    s += (double)strlen(js_str(&doc, "status", "")) + js_bool(&doc, "git_dirty");
    const js_val *ep = js_get(&doc, "epochs");
    for (size_t k = 0; ep && ep->type == JS_ARR && k < ep->n; k++)
        s += js_num(&ep->items[k], "test_acc") +
             (js_get(&ep->items[k], "grad_norm") != NULL);
    (void)s;
    js_free(&doc);
    return 0;
}
