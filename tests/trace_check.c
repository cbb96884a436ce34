/* tests/trace_check.c FILE.json - check a trace of bplab's --trace and
 * print what it holds, for tests/cli/profile.sh.
 *
 * The file must be one JSON object (the Chrome trace-event format) with
 * "otherData" and a "traceEvents" array. Every event has a string "name"
 * and "ph"; a complete event (ph "X") has numbers ts >= 0, dur >= 0, pid
 * and tid, and a "cat": a kernel call ("kernel", with args shape, layer,
 * pass, scope, code, flops and bytes) or a span (step, epoch,
 * evaluation). A kernel call of a step lies inside one of the traced
 * steps when made on thread 0. On success it prints
 *   events <kernel calls> steps <step spans> epochs <n> evaluations <n>
 *   calls <otherData.calls> dropped <otherData.dropped>
 * and one line "kernel <name> <calls>" per kernel; on a violation, one
 * line saying which and exit status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/json.h"

static int bad(const char *what, size_t i)
{
    printf("trace_check: event %zu: %s\n", i, what);
    return 1;
}

static bool is_num(const js_val *e, const char *key)
{
    const js_val *v = js_get(e, key);
    return v && v->type == JS_NUM;
}

static bool is_str(const js_val *e, const char *key)
{
    const js_val *v = js_get(e, key);
    return v && v->type == JS_STR;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: trace_check FILE.json\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        printf("trace_check: cannot open %s\n", argv[1]);
        return 1;
    }
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    size_t got;
    while (text && (got = fread(text + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap)
            text = realloc(text, cap *= 2);
    }
    fclose(f);
    if (!text)
        return 1;
    js_val doc;
    char msg[160];
    if (!js_parse(text, len, &doc, msg, sizeof msg)) {
        printf("trace_check: not JSON: %s\n", msg);
        return 1;
    }
    free(text);
    const js_val *other = js_get(&doc, "otherData");
    const js_val *ev = js_get(&doc, "traceEvents");
    if (!other || other->type != JS_OBJ || !ev || ev->type != JS_ARR) {
        printf("trace_check: no otherData object or traceEvents array\n");
        return 1;
    }
    size_t kernels = 0, steps = 0, epochs = 0, evals = 0;
    /* step spans on thread 0, to place the step's kernel calls */
    double *s0 = malloc((ev->n + 1) * sizeof *s0);
    double *s1 = malloc((ev->n + 1) * sizeof *s1);
    struct { char name[32]; size_t n; } per[64];
    size_t nper = 0;
    for (size_t i = 0; i < ev->n; i++) {
        const js_val *e = &ev->items[i];
        if (e->type != JS_OBJ || !is_str(e, "name") || !is_str(e, "ph"))
            return bad("not an object with a string name and ph", i);
        const char *ph = js_str(e, "ph", "");
        if (strcmp(ph, "M") == 0)
            continue;
        if (strcmp(ph, "X") != 0)
            return bad("ph is neither X nor M", i);
        if (!is_num(e, "ts") || !is_num(e, "dur") || !is_num(e, "pid") ||
            !is_num(e, "tid") || !is_str(e, "cat"))
            return bad("a complete event without ts, dur, pid, tid or cat", i);
        if (js_num(e, "ts") < 0 || js_num(e, "dur") < 0)
            return bad("negative ts or dur", i);
        const char *cat = js_str(e, "cat", "");
        if (strcmp(cat, "step") == 0) {
            s0[steps] = js_num(e, "ts");
            s1[steps++] = js_num(e, "ts") + js_num(e, "dur");
        } else if (strcmp(cat, "epoch") == 0) {
            epochs++;
        } else if (strcmp(cat, "evaluation") == 0) {
            evals++;
        } else if (strcmp(cat, "kernel") != 0) {
            return bad("unknown cat", i);
        }
    }
    for (size_t i = 0; i < ev->n; i++) {
        const js_val *e = &ev->items[i];
        if (strcmp(js_str(e, "cat", ""), "kernel") != 0)
            continue;
        const js_val *a = js_get(e, "args");
        if (!a || !is_str(a, "shape") || !is_str(a, "layer") ||
            !is_str(a, "pass") || !is_str(a, "scope") || !is_str(a, "code") ||
            !is_num(a, "flops") || !is_num(a, "bytes"))
            return bad("a kernel call without its args", i);
        const char *pass = js_str(a, "pass", "");
        if (strcmp(pass, "forward") && strcmp(pass, "loss") &&
            strcmp(pass, "backward") && strcmp(pass, "update"))
            return bad("unknown pass", i);
        if (strcmp(js_str(a, "scope", ""), "step") == 0 &&
            js_num(e, "tid") == 0) {
            double t0 = js_num(e, "ts"), t1 = t0 + js_num(e, "dur");
            bool in = false;
            for (size_t s = 0; s < steps && !in; s++)
                in = t0 >= s0[s] && t1 <= s1[s];
            if (!in)
                return bad("a step's kernel call outside every step span", i);
        }
        kernels++;
        const char *name = js_str(e, "name", "");
        size_t k = 0;
        while (k < nper && strcmp(per[k].name, name) != 0)
            k++;
        if (k == nper) {
            if (nper == 64)
                return bad("more than 64 kernel names", i);
            snprintf(per[k].name, sizeof per[k].name, "%s", name);
            per[k].n = 0;
            nper++;
        }
        per[k].n++;
    }
    printf("events %zu steps %zu epochs %zu evaluations %zu calls %.0f "
           "dropped %.0f\n",
           kernels, steps, epochs, evals, js_num(other, "calls"),
           js_num(other, "dropped"));
    for (size_t k = 0; k < nper; k++)
        printf("kernel %s %zu\n", per[k].name, per[k].n);
    free(s0);
    free(s1);
    js_free(&doc);
    return 0;
}
