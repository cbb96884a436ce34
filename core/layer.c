/* core/layer.c - the list of layer kinds and the helpers they share
 * (layer.h). */
#include "core/layer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/par.h"
#include "core/rng.h"

#define BP__LAYER_PTR(name) &bp_layer_##name,
const bp_layer_ops *const bp_layer_kinds[] = {BP_LAYER_KINDS(BP__LAYER_PTR) NULL};
#undef BP__LAYER_PTR

const char *const bp_act_names[] = {"relu", "sigmoid", "tanh", NULL};
const char *const bp_init_names[] = {"auto",    "he",     "xavier",
                                     "uniform", "normal", NULL};

const bp_layer_ops *bp_layer_find(const char *name, size_t n)
{
    for (const bp_layer_ops *const *k = bp_layer_kinds; *k; k++)
        if (strlen((*k)->name) == n && memcmp((*k)->name, name, n) == 0)
            return *k;
    return NULL;
}

int bp_shape_text(bp_shape s, char *buf, size_t size)
{
    return snprintf(buf, size, "%zux%zux%zu", s.h, s.w, s.c);
}

bp_status bp_layer_parse_none(const char *args, bp_layer_spec *s, bp_err *err)
{
    if (args)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "'%s:%.40s': %s takes no argument", s->ops->name, args,
                       s->ops->name);
    return BP_OK;
}

bp_status bp_layer_parse_units(const char *args, bp_layer_spec *s,
                               bp_err *err)
{
    char *end = NULL;
    long long v = 0;
    if (args && *args >= '0' && *args <= '9') {
        errno = 0;
        v = strtoll(args, &end, 10);
    }
    if (!end || *end || errno || v < 1 || v > BP_MAX_WIDTH)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "'%s%s%.40s': %s needs a width from 1 to %d (%s:N)",
                       s->ops->name, args ? ":" : "", args ? args : "",
                       s->ops->name, BP_MAX_WIDTH, s->ops->name);
    s->units = (size_t)v;
    return BP_OK;
}

bp_status bp_layer_parse_rate(const char *args, bp_layer_spec *s, bp_err *err)
{
    char *end = NULL;
    double v = -1;
    if (args && ((*args >= '0' && *args <= '9') || *args == '.'))
        v = strtod(args, &end);
    if (!end || *end || !(v >= 0 && v <= BP_MAX_RATE))
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "'%s%s%.40s': %s needs a rate between 0 and %g (%s:P)",
                       s->ops->name, args ? ":" : "", args ? args : "",
                       s->ops->name, BP_MAX_RATE, s->ops->name);
    s->rate = (float)v;
    return BP_OK;
}

/* a decimal from lo to hi at *p, up to a ':' or the end */
static bool parse_size(const char **p, size_t lo, size_t hi, size_t *out)
{
    const char *q = *p;
    if (*q < '0' || *q > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(q, &end, 10);
    if (errno || (*end && *end != ':') || v < lo || v > hi)
        return false;
    *out = (size_t)v;
    *p = end;
    return true;
}

bp_status bp_layer_parse_window(const char *args, bp_layer_spec *s,
                                size_t def_stride, size_t def_pad,
                                const char *what, bp_err *err)
{
    const char *p = args;
    bool ok = p && parse_size(&p, 1, BP_MAX_KERNEL, &s->kernel);
    bool have_s = false, have_p = false;
    s->stride = def_stride ? def_stride : s->kernel;
    s->pad = def_pad == (size_t)-1 ? s->kernel / 2 : def_pad;
    while (ok && *p == ':') {
        char key = p[1];
        p += 2;
        if (key == 's' && !have_s)
            ok = parse_size(&p, 1, BP_MAX_KERNEL, &s->stride), have_s = true;
        else if (key == 'p' && !have_p)
            ok = parse_size(&p, 0, BP_MAX_KERNEL - 1, &s->pad), have_p = true;
        else
            ok = false;
    }
    if (!ok || *p)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "'%s%s%.40s': %s needs %s",
                       s->ops->name, args ? ":" : "", args ? args : "",
                       s->ops->name, what);
    if (s->pad >= s->kernel)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "'%s:%.40s': padding %zu must be smaller than the "
                       "window %zu",
                       s->ops->name, args, s->pad, s->kernel);
    return BP_OK;
}

void bp_layer_init_weights(float *w, size_t n, size_t fan_in, size_t fan_out,
                           const bp_init_args *a)
{
    bp_rng g = bp_rng_stream(a->seed, 1000 + (uint64_t)a->wl);
    if (a->rule == BP_INIT_HE || a->rule == BP_INIT_NORMAL) {
        double sd = a->gain * (a->rule == BP_INIT_HE
                                   ? sqrt(2.0 / (double)fan_in)
                                   : 0.01);
        for (size_t j = 0; j < n; j++)
            w[j] = (float)(sd * bp_rng_normal(&g));
    } else {
        double r = a->gain * (a->rule == BP_INIT_XAVIER
                                  ? sqrt(6.0 / (double)(fan_in + fan_out))
                                  : 1.0 / sqrt((double)fan_in));
        for (size_t j = 0; j < n; j++)
            w[j] = (float)(r * (2.0 * bp_rng_uniform(&g) - 1.0));
    }
}

bp_conv_geom bp_layer_window(const bp_layer_spec *s, bp_shape in, size_t b)
{
    bp_conv_geom g = {.n = b, .h = in.h, .w = in.w, .c = in.c,
                      .kh = s->kernel, .kw = s->kernel, .stride = s->stride,
                      .pad = s->pad};
    if (!bp_conv_geom_make(&g))
        g.oh = g.ow = 0;
    return g;
}

int bp_layer_image_threads(const bp_ctx *c, size_t n, size_t elems)
{
    if (c->threads < 2 || n < 2 ||
        elems < BP_PAR_MAP_CHUNKS * BP_PAR_CHUNK)
        return 1;
    return (size_t)c->threads < n ? c->threads : (int)n;
}

int bp_layer_format_name(const bp_layer_spec *s, char *buf, size_t size)
{
    return snprintf(buf, size, "%s", s->ops->name);
}

int bp_layer_format_pool(const bp_layer_spec *s, char *buf, size_t size)
{
    char st[24] = "", pd[24] = "";
    if (s->stride != s->kernel)
        snprintf(st, sizeof st, ":s%zu", s->stride);
    if (s->pad)
        snprintf(pd, sizeof pd, ":p%zu", s->pad);
    return snprintf(buf, size, "%s:%zu%s%s", s->ops->name, s->kernel, st, pd);
}

int bp_layer_format_units(const bp_layer_spec *s, char *buf, size_t size)
{
    return snprintf(buf, size, "%s:%zu", s->ops->name, s->units);
}

/* The shortest decimal that reads back as the same float (0.2, not
 * 0.200000003), so that a spec written and read again is the same. */
int bp_layer_format_rate(const bp_layer_spec *s, char *buf, size_t size)
{
    char v[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(v, sizeof v, "%.*g", prec, (double)s->rate);
        if (strtof(v, NULL) == s->rate)
            break;
    }
    return snprintf(buf, size, "%s:%s", s->ops->name, v);
}
