/* core/train.c - the training loop (train.h). */
#include "core/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/bounds.h"
#include "core/par.h"
#include "core/prof.h"
#include "core/rng.h"
#include "core/runtime.h"

/* Stream ids under the run's seed. */
#define STREAM_SHUFFLE 0x5f00u
#define STREAM_DROPOUT 0xd50u

/* The batch gather reads random rows of the training set (a miss to
 * memory each); it asks for the row this many places ahead while it
 * copies one. On the reference workload (AMD EPYC, AVX-512, 1 thread) the
 * gather went from 6% of a step to 4% (`--profile`); 16 ahead was slower. */
#define GATHER_AHEAD 4

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bp_status bp_trainer_create(const bp_train_spec *spec, bp_net *net,
                            bp_optim *opt, const bp_data *data,
                            bp_trainer **out, bp_err *err)
{
    *out = NULL;
    if (spec->epochs > BP_MAX_EPOCHS)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "epochs %zu: must be between 0 and %d", spec->epochs,
                       BP_MAX_EPOCHS);
    if (spec->batch == 0 || spec->batch > net->max_batch)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "batch %zu: must be between 1 and %zu", spec->batch,
                       net->max_batch);
    if (data->train.n == 0)
        return bp_fail(err, BP_ERR_INVALID_ARG, "the training set is empty");
    if (data->train.dim != net->inputs ||
        data->train.classes != net->spec.classes)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "the data has %zu features and %zu classes, the network "
                       "expects %zu and %zu",
                       data->train.dim, data->train.classes, net->inputs,
                       net->spec.classes);
    bp_status st = bp_augment_check(&spec->augment, data->shape, err);
    if (st != BP_OK)
        return st;
    if (spec->patience && data->val.n == 0)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "patience %zu: early stopping needs a validation set",
                       spec->patience);
    bp_trainer *t = bp_alloc_zero(sizeof *t);
    if (!t)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the trainer");
    t->spec = *spec;
    t->net = net;
    t->opt = opt;
    t->data = data;
    t->best_val = INFINITY;
    size_t n = data->train.n;
    t->order = bp_alloc(n * sizeof *t->order);
    t->xb = bp_alloc(bp_mul_size(spec->batch * data->train.dim, sizeof(float)));
    t->yb = bp_alloc(spec->batch * sizeof *t->yb);
    t->tb = bp_alloc(spec->batch * sizeof *t->tb);
    if (spec->patience)
        t->best = bp_alloc_zero((net->nparams + net->nbuffers) * sizeof(float));
    t->nsteps = net->steps;
    if (t->nsteps)
        t->step_scratch = bp_alloc(t->nsteps * sizeof *t->step_scratch);
    if (!t->order || !t->xb || !t->yb || !t->tb ||
        (spec->patience && !t->best) || (t->nsteps && !t->step_scratch)) {
        bp_trainer_destroy(t);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the trainer");
    }
    *out = t;
    return BP_OK;
}

void bp_trainer_destroy(bp_trainer *t)
{
    if (!t)
        return;
    bp_free(t->order);
    bp_free(t->xb);
    bp_free(t->yb);
    bp_free(t->tb);
    bp_free(t->best);
    bp_free(t->history);
    bp_free(t->step_norms);
    bp_free(t->step_scratch);
    bp_free(t);
}

/* Room for one more history row (on failure the history is unchanged). */
static bp_status reserve_history(bp_trainer *t, bp_err *err)
{
    size_t ns = t->nsteps;
    if (t->nhistory < t->cap)
        return BP_OK;
    size_t cap = t->cap ? 2 * t->cap : 64;
    bp_epoch_stats *h = bp_alloc(cap * sizeof *h);
    double *sn = ns ? bp_alloc(bp_mul_size(cap, ns * sizeof *sn)) : NULL;
    if (!h || (ns && !sn)) {
        bp_free(h);
        bp_free(sn);
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the metrics");
    }
    if (t->nhistory) {
        memcpy(h, t->history, t->nhistory * sizeof *h);
        if (ns)
            memcpy(sn, t->step_norms, t->nhistory * ns * sizeof *sn);
    }
    for (size_t i = 0; i < t->nhistory; i++)
        h[i].step_norm = ns ? sn + i * ns : NULL;
    bp_free(t->history);
    bp_free(t->step_norms);
    t->history = h;
    t->step_norms = sn;
    t->cap = cap;
    return BP_OK;
}

bp_status bp_trainer_push_history(bp_trainer *t, const bp_epoch_stats *e,
                                  bp_err *err)
{
    size_t ns = t->nsteps;
    bp_status s = reserve_history(t, err);
    if (s != BP_OK)
        return s;
    bp_epoch_stats *row = &t->history[t->nhistory];
    *row = *e;
    row->step_norm = NULL;
    if (ns) {
        double *dst = t->step_norms + t->nhistory * ns;
        for (size_t j = 0; j < ns; j++)
            dst[j] = e->step_norm ? e->step_norm[j] : 0.0;
        row->step_norm = dst;
    }
    t->nhistory++;
    return BP_OK;
}

/* A permutation of the training set for this epoch. */
static void shuffle(bp_trainer *t)
{
    size_t n = t->data->train.n;
    for (size_t i = 0; i < n; i++)
        t->order[i] = i;
    bp_rng g = bp_rng_stream(t->spec.seed, STREAM_SHUFFLE + t->epoch);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)bp_rng_below(&g, i);
        size_t tmp = t->order[i - 1];
        t->order[i - 1] = t->order[j];
        t->order[j] = tmp;
    }
}

/* Keep the current weights (and BN statistics) as the best so far. */
static void snapshot(bp_trainer *t)
{
    bp_net *net = t->net;
    memcpy(t->best, net->params, net->nparams * sizeof(float));
    memcpy(t->best + net->nparams, net->buffers, net->nbuffers * sizeof(float));
}

static void swap_floats(float *a, float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

void bp_trainer_swap_best(bp_trainer *t)
{
    bp_net *net = t->net;
    swap_floats(net->params, t->best, net->nparams);
    swap_floats(net->buffers, t->best + net->nparams, net->nbuffers);
    t->restored = !t->restored;
}

/* After a non-finite loss: ", first in the output of layer L (kind)" for
 * the first layer whose forward output holds a NaN or an infinity. Runs
 * only on the failure path. */
static void first_bad_layer(const bp_net *net, size_t batch, char *buf,
                            size_t size)
{
    for (size_t i = 0; i < net->nlayers; i++) {
        const bp_layer *l = &net->layers[i];
        size_t n = batch * bp_shape_size(l->out);
        if (l->unwritten && !net->ctx->unfused)
            continue; /* a later layer's output tells */
        for (size_t j = 0; j < n; j++)
            if (!isfinite(l->y[j])) {
                char name[96];
                bp_net_layer_name(net, i, name, sizeof name);
                snprintf(buf, size, ", first in the output of %s", name);
                return;
            }
    }
}

static bp_status run_epoch(bp_trainer *t, bp_epoch_stats *e, bp_err *err)
{
    const bp_dataset *tr = &t->data->train;
    bp_net *net = t->net;
    size_t n = tr->n, dim = tr->dim, bsz = t->spec.batch;
    size_t steps = (n + bsz - 1) / bsz;
    double loss_sum = 0.0, norm_sum[BP_MAX_DENSE] = {0};
    double *step_sum = t->step_scratch;
    if (net->steps)
        memset(step_sum, 0, net->steps * sizeof *step_sum);
    size_t right = 0;
    bool augment = bp_augment_on(&t->spec.augment);
    shuffle(t);
    double t0 = now();
    float lr = t->opt->spec.lr;
    for (size_t s = 0; s < steps; s++) {
        if (t->stop && *t->stop)
            return bp_fail(err, BP_ERR_INTERRUPTED,
                           "interrupted in epoch %llu at step %zu of %zu",
                           (unsigned long long)t->epoch + 1, s, steps);
        size_t r0 = s * bsz, b = n - r0 < bsz ? n - r0 : bsz;
        bp_prof_step_mark(net->ctx, true);
        bp_prof_gather_mark(net->ctx, true);
        /* gather the batch: random rows, memory-latency bound, so
         * prefetched a few rows ahead and spread over the threads when it
         * is worth a fork */
#pragma omp parallel for schedule(static) num_threads(net->ctx->threads) \
    if (b * dim >= BP_PAR_CHUNK)
        for (size_t i = 0; i < b; i++) {
            size_t src = t->order[r0 + i];
            if (i + GATHER_AHEAD < b) {
                const char *next =
                    (const char *)(tr->x + t->order[r0 + i + GATHER_AHEAD] * dim);
                for (size_t o = 0; o < dim * sizeof(float); o += 64)
                    __builtin_prefetch(next + o, 0, 0);
            }
            if (augment)
                bp_augment_image(&t->spec.augment, t->data->shape,
                                 bp_augment_draw(t->spec.seed, t->epoch, src),
                                 tr->x + src * dim, t->xb + i * dim);
            else
                memcpy(t->xb + i * dim, tr->x + src * dim,
                       dim * sizeof(float));
            t->yb[i] = tr->y[src];
            if (tr->t)
                t->tb[i] = tr->t[src];
        }
        bp_prof_gather_mark(net->ctx, false);
        bp_net_forward(net, t->xb, b, true,
                       bp_rng_key(t->spec.seed ^ STREAM_DROPOUT, t->step));
        size_t ok = 0;
        double loss = bp_net_loss(net, t->yb, tr->t ? t->tb : NULL, b, true,
                                  &ok);
        if (!isfinite(loss)) {
            char where[160] = "";
            first_bad_layer(net, b, where, sizeof where);
            return bp_fail(err, BP_ERR_NUMERIC,
                           "epoch %llu, step %zu: the loss is %s%s (diverged; "
                           "try a smaller --lr or --clip-norm)",
                           (unsigned long long)t->epoch + 1, s + 1,
                           isnan(loss) ? "NaN" : "infinite", where);
        }
        bp_net_backward(net, t->xb, b);
        for (size_t j = 0; j < net->steps; j++)
            step_sum[j] += sqrt(net->step_sumsq[j]);
        /* gradient norms: measured first when clipping needs them, else
         * by the update itself (one pass over the gradients, not two) */
        lr = bp_optim_lr(&t->opt->spec, (size_t)t->epoch, s, steps,
                         t->spec.epochs);
        double dense_ss[BP_MAX_DENSE], ss;
        bool clips = bp_optim_clips(&t->opt->spec);
        if (clips)
            ss = bp_net_grad_sumsq(net, dense_ss);
        else
            ss = bp_optim_step(t->opt, net, lr, 0.0, dense_ss);
        for (size_t l = 0; l < net->ndense; l++) {
            if (!isfinite(dense_ss[l])) {
                char name[96];
                bp_net_layer_name(net, net->wl[l]->index, name, sizeof name);
                return bp_fail(err, BP_ERR_NUMERIC,
                               "epoch %llu, step %zu: the gradient of %s is "
                               "not finite",
                               (unsigned long long)t->epoch + 1, s + 1, name);
            }
            ss += dense_ss[l];
            norm_sum[l] += sqrt(dense_ss[l]);
        }
        if (!isfinite(ss))
            return bp_fail(err, BP_ERR_NUMERIC,
                           "epoch %llu, step %zu: a bias or batch-norm gradient "
                           "is not finite",
                           (unsigned long long)t->epoch + 1, s + 1);
        if (clips)
            bp_optim_step(t->opt, net, lr, ss, NULL);
        bp_prof_step_mark(net->ctx, false);
        t->step++;
        loss_sum += loss;
        right += ok;
        if (t->on_step)
            t->on_step(t->ctx, t, s + 1, steps, loss / (double)b,
                       sqrt(ss));
    }
    double secs = now() - t0;
    memset(e, 0, sizeof *e);
    e->epoch = t->epoch + 1;
    e->lr = lr;
    e->train_loss = loss_sum / (double)n;
    e->train_acc = (double)right / (double)n;
    for (size_t l = 0; l < net->ndense; l++)
        e->grad_norm[l] = norm_sum[l] / (double)steps;
    for (size_t j = 0; j < net->steps; j++)
        step_sum[j] /= (double)steps;
    e->step_norm = net->steps ? step_sum : NULL;
    e->seconds = secs;
    e->samples_per_s = secs > 0 ? (double)n / secs : 0.0;
    return BP_OK;
}

bp_status bp_trainer_run(bp_trainer *t, bp_err *err)
{
    bp_net *net = t->net;
    const bp_data *d = t->data;
    bp_status s = BP_OK;
    bool flushed = bp_flush_denormals(net->ctx, !t->spec.keep_denormals);
    while (t->epoch < t->spec.epochs && !t->stopped_early) {
        bp_epoch_stats e;
        /* the row's room first: an epoch that ran is in the history */
        if ((s = reserve_history(t, err)) != BP_OK)
            break;
        bp_prof_epoch_mark(net->ctx, true, t->epoch + 1);
        s = run_epoch(t, &e, err);
        if (s != BP_OK) {
            /* a step that failed or was interrupted ends here */
            bp_prof_step_mark(net->ctx, false);
            bp_prof_epoch_mark(net->ctx, false, t->epoch + 1);
            break;
        }
        e.train_eval_loss = e.train_eval_acc = NAN;
        if (t->spec.eval_train)
            bp_net_evaluate(net, &d->train, &e.train_eval_loss,
                            &e.train_eval_acc, NULL);
        e.val_loss = e.val_acc = NAN;
        if (d->val.n)
            bp_net_evaluate(net, &d->val, &e.val_loss, &e.val_acc, NULL);
        bp_net_evaluate(net, &d->test, &e.test_loss, &e.test_acc, NULL);
        bp_net_weight_stats(net, &e.weight_norm, &e.zero_frac);
        bp_prof_epoch_mark(net->ctx, false, t->epoch + 1);
        t->epoch++;
        if (t->spec.patience) {
            if (e.val_loss < t->best_val) {
                t->best_val = e.val_loss;
                t->best_epoch = t->epoch;
                t->bad_epochs = 0;
                snapshot(t);
            } else if (++t->bad_epochs >= t->spec.patience) {
                t->stopped_early = true;
            }
        }
        if ((s = bp_trainer_push_history(t, &e, err)) != BP_OK)
            break;
        if (t->on_epoch)
            t->on_epoch(t->ctx, t, &e);
    }
    /* early stopping ends on the best weights when the run is over; the
     * last weights stay in t->best for a checkpoint to resume from */
    if (t->spec.patience && t->best_epoch > 0 && s == BP_OK && !t->restored &&
        t->best_epoch != t->epoch)
        bp_trainer_swap_best(t);
    bp_flush_denormals(net->ctx, flushed);
    return s;
}
