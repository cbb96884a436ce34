/* core/checkpoint.c - checkpoint files (format in checkpoint.h). */
#include "core/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/outfile.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bplab checkpoints are little-endian; this host is not"
#endif

static const char MAGIC[8] = {'B', 'P', 'L', 'A', 'B', 'C', 'K', '\n'};
#define VERSION 3u /* 3: the data shape; 2: step norms; 1 and 2 are still read */
/* metric doubles per history row, after the u64 epoch */
#define ROW_DOUBLES (9 + BP_MAX_DENSE)
/* bytes of a history row before its step norms: version 3 adds the
 * weight norm and the share of near-zero weights */
#define ROW_BYTES(version) (8 + 8 * (ROW_DOUBLES + ((version) >= 3 ? 2 : 0)))
/* Specs are short; anything longer is corruption. */
#define SPEC_MAX (64 * 1024)

/* ---------------------------------------------------------------------- */
/* Writing                                                                 */

typedef struct wbuf {
    unsigned char *p;
    size_t used;
} wbuf;

static void put(wbuf *w, const void *src, size_t n)
{
    if (n)
        memcpy(w->p + w->used, src, n);
    w->used += n;
}

static void put_u32(wbuf *w, uint32_t v) { put(w, &v, 4); }
static void put_u64(wbuf *w, uint64_t v) { put(w, &v, 8); }
static void put_f64(wbuf *w, double v)
{
    /* one NaN bit pattern, so equal runs give equal bytes */
    if (isnan(v)) {
        uint64_t q = 0x7ff8000000000000ull;
        put(w, &q, 8);
    } else {
        put(w, &v, 8);
    }
}

static void put_floats(wbuf *w, const float *f, size_t n)
{
    put_u64(w, n);
    put(w, f, n * sizeof(float));
}

bp_status bp_ckpt_encode(const char *spec, const bp_trainer *t,
                         unsigned char **out, size_t *size, bp_err *err)
{
    *out = NULL, *size = 0;
    const bp_net *net = t->net;
    size_t nspec = strlen(spec);
    size_t nstate = bp_optim_state_size(t->opt);
    size_t nbest = t->best ? net->nparams + net->nbuffers : 0;
    size_t floats = net->nparams + net->nbuffers + nstate + nbest;
    size_t bytes = 8 + 8 + 8 + nspec + 16 + 8 * 9 + 8 * 4 + 4 * floats + 8 +
                   (size_t)(ROW_BYTES(VERSION) + 8 * net->steps) * t->nhistory + 8 + 4;
    wbuf w = {bp_alloc(bytes), 0};
    if (!w.p)
        return bp_fail(err, BP_ERR_NOMEM,
                       "out of memory for a checkpoint of %zu bytes", bytes);
    put(&w, MAGIC, 8);
    put_u32(&w, VERSION);
    put_u32(&w, t->restored ? BP_CKPT_RESTORED : 0);
    put_u64(&w, nspec);
    put(&w, spec, nspec);
    char isa[16] = {0};
    snprintf(isa, sizeof isa, "%s", net->ctx->k->isa_name);
    put(&w, isa, 16);
    put_u64(&w, t->epoch);
    put_u64(&w, t->step);
    put_u64(&w, t->best_epoch);
    put_u64(&w, t->bad_epochs);
    put_u64(&w, t->opt->t);
    put_f64(&w, t->best_val);
    put_u64(&w, t->stopped_early);
    put_u64(&w, net->inputs);
    put_u64(&w, net->spec.classes);
    put_floats(&w, net->params, net->nparams);
    put_floats(&w, net->buffers, net->nbuffers);
    put_u64(&w, nstate);
    if (t->opt->m)
        put(&w, t->opt->m, t->opt->n * sizeof(float));
    if (t->opt->v)
        put(&w, t->opt->v, t->opt->n * sizeof(float));
    put_floats(&w, t->best, nbest);
    put_u64(&w, t->nhistory);
    put_u64(&w, net->steps);
    for (size_t i = 0; i < t->nhistory; i++) {
        const bp_epoch_stats *e = &t->history[i];
        put_u64(&w, e->epoch);
        const double row[9] = {e->lr, e->train_loss, e->train_acc,
                               e->train_eval_loss, e->train_eval_acc,
                               e->val_loss, e->val_acc, e->test_loss,
                               e->test_acc};
        for (int j = 0; j < 9; j++)
            put_f64(&w, row[j]);
        for (int j = 0; j < BP_MAX_DENSE; j++)
            put_f64(&w, e->grad_norm[j]);
        put_f64(&w, e->weight_norm);
        put_f64(&w, e->zero_frac);
        for (size_t j = 0; j < net->steps; j++)
            put_f64(&w, e->step_norm ? e->step_norm[j] : 0.0);
    }
    put_u32(&w, (uint32_t)crc32(0, w.p, (uInt)w.used));
    *out = w.p, *size = w.used;
    return BP_OK;
}

bp_status bp_ckpt_save(const char *path, const char *spec,
                       const bp_trainer *t, bp_err *err)
{
    unsigned char *buf;
    size_t size;
    bp_status s = bp_ckpt_encode(spec, t, &buf, &size, err);
    if (s != BP_OK) {
        char why[BP_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err ? err->msg : "");
        return bp_fail(err, s, "%s: %s", path, why);
    }
    s = bp_write_file(path, buf, size, err);
    bp_free(buf);
    return s;
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                 */

typedef struct rbuf {
    const unsigned char *p;
    size_t size, pos;
    bool bad;
} rbuf;

static const void *take(rbuf *r, size_t n)
{
    if (r->bad || n > r->size - r->pos) {
        r->bad = true;
        return NULL;
    }
    const void *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static uint64_t get_u64(rbuf *r)
{
    uint64_t v = 0;
    const void *p = take(r, 8);
    if (p)
        memcpy(&v, p, 8);
    return v;
}

static uint32_t get_u32(rbuf *r)
{
    uint32_t v = 0;
    const void *p = take(r, 4);
    if (p)
        memcpy(&v, p, 4);
    return v;
}

static double get_f64(rbuf *r)
{
    double v = 0;
    const void *p = take(r, 8);
    if (p)
        memcpy(&v, p, 8);
    return v;
}

/* A float array in place (the file buffer is 64-byte aligned, but the
 * array need not be: it is copied out by the callers). */
static float *get_floats(rbuf *r, size_t n)
{
    if (n > BP_MAX_PARAMS * 4) {
        r->bad = true;
        return NULL;
    }
    return (float *)take(r, n * sizeof(float));
}

void bp_ckpt_free(bp_ckpt *c)
{
    if (!c)
        return;
    bp_free(c->spec);
    bp_free(c->history);
    bp_free(c->step_norms);
    bp_free(c->params);
    bp_free(c->buffers);
    bp_free(c->state);
    bp_free(c->best);
    memset(c, 0, sizeof *c);
}

static float *copy_floats(const float *src, size_t n, bool *ok)
{
    float *d = bp_alloc((n ? n : 1) * sizeof *d);
    if (!d)
        *ok = false;
    else if (n)
        memcpy(d, src, n * sizeof *d);
    return d;
}

bp_status bp_ckpt_load(const char *path, bp_ckpt *out, bp_err *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return bp_fail(err, BP_ERR_IO, "%s: cannot open: %s", path,
                       strerror(errno));
    bp_status s = BP_OK;
    unsigned char *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        s = bp_fail(err, BP_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    size_t size = (size_t)st.st_size;
    if (size < 8 + 8 + 4) {
        s = bp_fail(err, BP_ERR_FORMAT, "%s: not a bplab checkpoint (%zu bytes)",
                    path, size);
        goto done;
    }
    if (size > (size_t)16 << 30) {
        s = bp_fail(err, BP_ERR_FORMAT, "%s: %zu bytes is too large", path, size);
        goto done;
    }
    buf = bp_alloc(size);
    if (!buf) {
        s = bp_fail(err, BP_ERR_NOMEM, "%s: out of memory for %zu bytes", path,
                    size);
        goto done;
    }
    if (fread(buf, 1, size, f) != size) {
        s = bp_fail(err, BP_ERR_IO, "%s: cannot read", path);
        goto done;
    }
    if (memcmp(buf, MAGIC, 8) != 0) {
        s = bp_fail(err, BP_ERR_FORMAT,
                    "%s: not a bplab checkpoint (bad magic)", path);
        goto done;
    }
    uint32_t crc_stored;
    memcpy(&crc_stored, buf + size - 4, 4);
    if ((uint32_t)crc32(0, buf, (uInt)(size - 4)) != crc_stored) {
        s = bp_fail(err, BP_ERR_FORMAT,
                    "%s: checksum mismatch (truncated or corrupt)", path);
        goto done;
    }
    rbuf r = {buf, size - 4, 8, false};
    uint32_t version = get_u32(&r);
    if (version < 1 || version > VERSION) {
        s = bp_fail(err, BP_ERR_FORMAT,
                    "%s: checkpoint version %u, this bplab reads versions 1 "
                    "to %u",
                    path, version, VERSION);
        goto done;
    }
    out->flags = get_u32(&r);
    uint64_t nspec = get_u64(&r);
    const char *spec = nspec <= SPEC_MAX ? take(&r, (size_t)nspec) : NULL;
    const char *isa = take(&r, 16);
    out->epoch = get_u64(&r);
    out->step = get_u64(&r);
    out->best_epoch = get_u64(&r);
    out->bad_epochs = get_u64(&r);
    out->opt_t = get_u64(&r);
    out->best_val = get_f64(&r);
    out->stopped_early = get_u64(&r);
    if (version >= 3) {
        uint64_t inputs = get_u64(&r), classes = get_u64(&r);
        if (inputs == 0 || inputs > SIZE_MAX / 2 || classes > BP_DATA_MAX_CLASSES)
            r.bad = true;
        else
            out->inputs = (size_t)inputs, out->classes = (size_t)classes;
    }
    out->nparams = (size_t)get_u64(&r);
    const float *params = get_floats(&r, out->nparams);
    out->nbuffers = (size_t)get_u64(&r);
    const float *buffers = get_floats(&r, out->nbuffers);
    out->nstate = (size_t)get_u64(&r);
    const float *state = get_floats(&r, out->nstate);
    out->nbest = (size_t)get_u64(&r);
    const float *best = get_floats(&r, out->nbest);
    out->nhistory = (size_t)get_u64(&r);
    uint64_t nsteps = version >= 2 ? get_u64(&r) : 0;
    if (out->nhistory > 1000000 || nsteps > BP_MAX_STEPS)
        r.bad = true;
    size_t row_bytes = ROW_BYTES(version) + 8 * (size_t)nsteps;
    const unsigned char *rows =
        r.bad ? NULL : take(&r, out->nhistory * row_bytes);
    if (r.bad || !spec || !isa || r.pos != r.size) {
        s = bp_fail(err, BP_ERR_FORMAT, "%s: malformed checkpoint (sizes do not "
                                        "match the file)",
                    path);
        goto done;
    }
    bool ok = true;
    out->spec = bp_alloc((size_t)nspec + 1);
    /* memory in proportion to the file: a row takes ROW_BYTES + 8 T bytes
     * there and sizeof(bp_epoch_stats) + 8 T here */
    out->history = bp_alloc((out->nhistory ? out->nhistory : 1) * sizeof *out->history);
    out->nsteps = (size_t)nsteps;
    if (nsteps && out->nhistory)
        out->step_norms = bp_alloc(out->nhistory * out->nsteps * sizeof(double));
    if (out->spec) {
        memcpy(out->spec, spec, (size_t)nspec);
        out->spec[nspec] = '\0';
    }
    memcpy(out->isa, isa, 15);
    out->params = copy_floats(params, out->nparams, &ok);
    out->buffers = copy_floats(buffers, out->nbuffers, &ok);
    out->state = copy_floats(state, out->nstate, &ok);
    out->best = copy_floats(best, out->nbest, &ok);
    if (!ok || !out->spec || !out->history ||
        (nsteps && out->nhistory && !out->step_norms)) {
        s = bp_fail(err, BP_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    rbuf rr = {rows, out->nhistory * row_bytes, 0, false};
    for (size_t i = 0; i < out->nhistory; i++) {
        bp_epoch_stats *e = &out->history[i];
        memset(e, 0, sizeof *e);
        e->epoch = get_u64(&rr);
        double row[9];
        for (int j = 0; j < 9; j++)
            row[j] = get_f64(&rr);
        e->lr = row[0], e->train_loss = row[1], e->train_acc = row[2];
        e->train_eval_loss = row[3], e->train_eval_acc = row[4];
        e->val_loss = row[5], e->val_acc = row[6];
        e->test_loss = row[7], e->test_acc = row[8];
        for (int j = 0; j < BP_MAX_DENSE; j++)
            e->grad_norm[j] = get_f64(&rr);
        e->weight_norm = version >= 3 ? get_f64(&rr) : NAN;
        e->zero_frac = version >= 3 ? get_f64(&rr) : NAN;
        if (nsteps) {
            double *sn = out->step_norms + i * out->nsteps;
            for (size_t j = 0; j < nsteps; j++)
                sn[j] = get_f64(&rr);
            e->step_norm = sn;
        }
        e->seconds = e->samples_per_s = NAN;
    }
done:
    if (f)
        fclose(f);
    bp_free(buf);
    if (s != BP_OK)
        bp_ckpt_free(out);
    return s;
}

/* ---------------------------------------------------------------------- */
/* Restoring                                                               */

bp_status bp_ckpt_restore_model(const bp_ckpt *c, const char *path,
                                bp_net *net, bp_err *err)
{
    if (c->nparams != net->nparams || c->nbuffers != net->nbuffers)
        return bp_fail(err, BP_ERR_FORMAT,
                       "%s: %zu parameters and %zu buffers, the network built "
                       "from its options has %zu and %zu",
                       path, c->nparams, c->nbuffers, net->nparams,
                       net->nbuffers);
    memcpy(net->params, c->params, c->nparams * sizeof(float));
    memcpy(net->buffers, c->buffers, c->nbuffers * sizeof(float));
    for (size_t i = 0; i < c->nparams; i++)
        if (!isfinite(c->params[i]))
            return bp_fail(err, BP_ERR_NUMERIC,
                           "%s: parameter %zu is not finite", path, i);
    return BP_OK;
}

/* "784 features and 10 classes", "10 features and real targets" */
static void shape_text(size_t inputs, size_t classes, bool per_step,
                       char *buf, size_t size)
{
    const char *unit = inputs == 1 ? "feature" : "features";
    const char *step = per_step ? " per time step" : "";
    if (classes)
        snprintf(buf, size, "%zu %s%s and %zu classes", inputs, unit, step,
                 classes);
    else
        snprintf(buf, size, "%zu %s%s and real targets", inputs, unit, step);
}

bp_status bp_ckpt_check_data(const bp_ckpt *c, const char *path,
                             const char *what, const bp_data *data,
                             bp_err *err)
{
    const bp_dataset *set = &data->train;
    if (c->inputs == 0)
        return BP_OK;
    /* a recurrent model: the features of one step, whatever the length */
    bool seq = c->nsteps > 0 && data->steps > 0 &&
               c->inputs % c->nsteps == 0 && set->dim % data->steps == 0;
    size_t have = seq ? set->dim / data->steps : set->dim;
    size_t want = seq ? c->inputs / c->nsteps : c->inputs;
    if (have == want && set->classes == c->classes)
        return BP_OK;
    char h[80], w[80];
    shape_text(have, set->classes, seq, h, sizeof h);
    shape_text(want, c->classes, seq, w, sizeof w);
    return bp_fail(err, BP_ERR_INVALID_ARG, "%.80s: %s, the model %.80s expects %s",
                   what, h, path, w);
}

bp_status bp_ckpt_restore(const bp_ckpt *c, const char *path, bp_trainer *t,
                          bp_err *err)
{
    bp_status s = bp_ckpt_restore_model(c, path, t->net, err);
    if (s != BP_OK)
        return s;
    size_t nbest = t->best ? t->net->nparams + t->net->nbuffers : 0;
    if (c->nstate != bp_optim_state_size(t->opt) || c->nbest != nbest)
        return bp_fail(err, BP_ERR_FORMAT,
                       "%s: optimizer or early-stopping state does not match "
                       "the options",
                       path);
    if (t->opt->m)
        memcpy(t->opt->m, c->state, t->opt->n * sizeof(float));
    if (t->opt->v)
        memcpy(t->opt->v, c->state + t->opt->n, t->opt->n * sizeof(float));
    if (nbest)
        memcpy(t->best, c->best, nbest * sizeof(float));
    t->opt->t = c->opt_t;
    t->epoch = c->epoch;
    t->step = c->step;
    t->best_epoch = c->best_epoch;
    t->bad_epochs = c->bad_epochs;
    t->best_val = c->best_val;
    t->stopped_early = c->stopped_early != 0;
    t->restored = (c->flags & BP_CKPT_RESTORED) != 0;
    /* resuming trains on from the last weights, not the restored best */
    if (t->restored && !t->stopped_early)
        bp_trainer_swap_best(t);
    if (c->nsteps && c->nsteps != t->nsteps)
        return bp_fail(err, BP_ERR_FORMAT,
                       "%s: history rows of %zu time steps, the network has "
                       "%zu", path, c->nsteps, t->nsteps);
    t->nhistory = 0;
    for (size_t i = 0; i < c->nhistory; i++)
        if ((s = bp_trainer_push_history(t, &c->history[i], err)) != BP_OK)
            return s;
    return BP_OK;
}
