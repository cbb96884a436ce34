/* tests/check_train.c - the training loop, checkpoints and determinism.
 *
 *   - same seed, same ISA: bit-identical weights and metrics at 1 and 2
 *     threads (GEMMs large enough to run in parallel);
 *   - save -> load -> identical predictions;
 *   - resume: 4 epochs straight vs 2 epochs, save, restore, 2 more: the two
 *     checkpoint files are byte-identical (also with Adam, dropout and
 *     early stopping);
 *   - early stopping restores the best epoch's weights;
 *   - a diverging run stops with a message naming the epoch and step;
 *   - corrupt, truncated, foreign and mismatched checkpoints are refused;
 *   - augmentation: a shifted and flipped image, pixel by pixel, and the
 *     draws (every shift, flips about half the time, a new draw per
 *     epoch and sample).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/checkpoint.h"
#include "core/net.h"
#include "core/optim.h"
#include "core/run.h"
#include "core/train.h"
#include "test_util.h"

static bp_data data;

static void load_data(void)
{
    bp_err err = {0};
    bp_data_opts o = {.spec = "spirals", .gen_samples = 600, .val_fraction = 0.2};
    ck_assert_msg(bp_data_load(&o, &data, &err) == BP_OK, "%s", err.msg);
}

static void free_data(void) { bp_data_free(&data); }

typedef struct run {
    bp_net *net;
    bp_optim *opt;
    bp_trainer *t;
} run;

typedef struct cfg {
    size_t width, epochs, patience;
    bp_optimizer opt;
    float lr, dropout;
    bool batchnorm;
    int threads; /* the run's context (0: the OpenMP default) */
} cfg;

static void run_make(run *r, const cfg *c)
{
    bp_err err = {0};
    bp_net_spec s = {.input = bp_shape_vec(2), .classes = 2,
                     .loss = BP_LOSS_CE, .init_gain = 1.0f,
                     .forget_bias = 1.0f};
    char text[128], drop[32] = "";
    if (c->dropout > 0)
        snprintf(drop, sizeof drop, ",dropout:%g", (double)c->dropout);
    snprintf(text, sizeof text, "dense:%zu%s,relu%s,dense:%zu%s,relu%s",
             c->width, c->batchnorm ? ",bn" : "", drop, c->width,
             c->batchnorm ? ",bn" : "", drop);
    ck_assert(bp_net_spec_parse(text, &s, &err) == BP_OK);
    bp_optim_spec os;
    bp_optim_defaults(&os);
    os.kind = c->opt;
    os.lr = c->lr;
    bp_train_spec ts = {.epochs = c->epochs, .batch = 100, .seed = 42,
                        .patience = c->patience};
    bp_ctx *ctx;
    ck_assert(bp_ctx_create_for(NULL, c->threads, &ctx, &err) == BP_OK);
    ck_assert(bp_net_create(&s, 100, 42, ctx, &r->net, &err) == BP_OK);
    r->net->own_ctx = ctx;
    ck_assert(bp_optim_create(&os, r->net->nparams, &r->opt, &err) == BP_OK);
    ck_assert_msg(bp_trainer_create(&ts, r->net, r->opt, &data, &r->t, &err) == BP_OK,
                  "%s", err.msg);
}

static void run_free(run *r)
{
    bp_trainer_destroy(r->t);
    bp_optim_destroy(r->opt);
    bp_net_destroy(r->net);
}

static void run_train(run *r)
{
    bp_err err = {0};
    ck_assert_msg(bp_trainer_run(r->t, &err) == BP_OK, "%s", err.msg);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    char *b = malloc(*n);
    ck_assert_uint_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void spit(const char *path, const char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

static char tmpdir[128];

static const char *tmp(const char *name)
{
    static char p[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", tmpdir, name);
    return p[i];
}

/* metrics other than wall time */
static bool same_history(const bp_trainer *a, const bp_trainer *b)
{
    if (a->nhistory != b->nhistory)
        return false;
    for (size_t i = 0; i < a->nhistory; i++) {
        bp_epoch_stats x = a->history[i], y = b->history[i];
        x.seconds = y.seconds = 0, x.samples_per_s = y.samples_per_s = 0;
        x.step_norm = y.step_norm = NULL; /* compared by value below */
        if (memcmp(&x, &y, sizeof x) != 0 || a->nsteps != b->nsteps)
            return false;
        const double *p = a->history[i].step_norm, *q = b->history[i].step_norm;
        if (a->nsteps && (!p || !q || memcmp(p, q, a->nsteps * sizeof *p)))
            return false;
    }
    return true;
}

START_TEST(test_threads)
{
    cfg c = {.width = 256, .epochs = 3, .opt = BP_OPT_MOMENTUM, .lr = 0.05f,
             .dropout = 0.2f, .batchnorm = true};
    run a, b;
    c.threads = 1;
    run_make(&a, &c);
    run_train(&a);
    c.threads = 2;
    run_make(&b, &c);
    run_train(&b);
    ck_assert(memcmp(a.net->params, b.net->params,
                     a.net->nparams * sizeof(float)) == 0);
    ck_assert(memcmp(a.net->buffers, b.net->buffers,
                     a.net->nbuffers * sizeof(float)) == 0);
    ck_assert(same_history(a.t, b.t));
    run_free(&a);
    run_free(&b);
}
END_TEST

START_TEST(test_save_load_predict)
{
    cfg c = {.width = 16, .epochs = 3, .opt = BP_OPT_ADAM, .lr = 0.01f,
             .batchnorm = true};
    run a;
    run_make(&a, &c);
    run_train(&a);
    bp_err err = {0};
    ck_assert_msg(bp_ckpt_save(tmp("m.ckpt"), "spec=1\n", a.t, &err) == BP_OK,
                  "%s", err.msg);
    bp_ckpt ck;
    ck_assert_msg(bp_ckpt_load(tmp("m.ckpt"), &ck, &err) == BP_OK, "%s", err.msg);
    ck_assert_str_eq(ck.spec, "spec=1\n");
    ck_assert_uint_eq(ck.epoch, 3);
    c.epochs = 3;
    run b;
    run_make(&b, &c);
    ck_assert(bp_ckpt_restore_model(&ck, "m.ckpt", b.net, &err) == BP_OK);
    bp_net_forward(a.net, data.test.x, 100, false, 0);
    bp_net_forward(b.net, data.test.x, 100, false, 0);
    ck_assert(memcmp(bp_net_output(a.net), bp_net_output(b.net),
                     100 * 2 * sizeof(float)) == 0);
    bp_ckpt_free(&ck);
    run_free(&a);
    run_free(&b);
}
END_TEST

/* _i: plain momentum, Adam with dropout and BN, early stopping */
START_TEST(test_resume_identical)
{
    cfg configs[3] = {
        {.width = 32, .epochs = 4, .opt = BP_OPT_MOMENTUM, .lr = 0.05f},
        {.width = 32, .epochs = 4, .opt = BP_OPT_ADAM, .lr = 0.01f,
         .dropout = 0.3f, .batchnorm = true},
        {.width = 32, .epochs = 4, .opt = BP_OPT_SGD, .lr = 0.1f, .patience = 1},
    };
    cfg c = configs[_i];
    bp_err err = {0};
    run a, b1, b2;
    run_make(&a, &c);
    run_train(&a);
    ck_assert(bp_ckpt_save(tmp("a.ckpt"), "x=1\n", a.t, &err) == BP_OK);
    c.epochs = 2;
    run_make(&b1, &c);
    run_train(&b1);
    ck_assert(bp_ckpt_save(tmp("b.ckpt"), "x=1\n", b1.t, &err) == BP_OK);
    bp_ckpt ck;
    ck_assert(bp_ckpt_load(tmp("b.ckpt"), &ck, &err) == BP_OK);
    c.epochs = 4;
    run_make(&b2, &c);
    ck_assert_msg(bp_ckpt_restore(&ck, "b.ckpt", b2.t, &err) == BP_OK, "%s",
                  err.msg);
    run_train(&b2);
    ck_assert(bp_ckpt_save(tmp("b.ckpt"), "x=1\n", b2.t, &err) == BP_OK);
    size_t na, nb;
    char *fa = slurp(tmp("a.ckpt"), &na), *fb = slurp(tmp("b.ckpt"), &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(fa, fb, na) == 0, "config %d: resumed checkpoint "
                                           "differs from the uninterrupted one",
                  _i);
    ck_assert(same_history(a.t, b2.t));
    free(fa), free(fb);
    bp_ckpt_free(&ck);
    run_free(&a), run_free(&b1), run_free(&b2);
}
END_TEST

START_TEST(test_early_stopping)
{
    /* a large rate and many epochs: validation loss stops improving */
    cfg c = {.width = 64, .epochs = 60, .opt = BP_OPT_MOMENTUM, .lr = 0.3f,
             .patience = 3};
    run a;
    run_make(&a, &c);
    run_train(&a);
    ck_assert(a.t->stopped_early);
    ck_assert_uint_eq(a.t->epoch, a.t->best_epoch + 3);
    double vl, va;
    bp_net_evaluate(a.net, &data.val, &vl, &va, NULL);
    ck_assert_msg(vl == a.t->history[a.t->best_epoch - 1].val_loss,
                  "restored weights give val loss %.9g, the best epoch %.9g", vl,
                  a.t->history[a.t->best_epoch - 1].val_loss);
    ck_assert_msg(vl == a.t->best_val, "best_val %.9g", a.t->best_val);
    run_free(&a);
}
END_TEST

START_TEST(test_divergence)
{
    cfg c = {.width = 16, .epochs = 5, .opt = BP_OPT_SGD, .lr = 1.0f};
    run a;
    run_make(&a, &c);
    a.net->params[3] = NAN; /* a weight of the first layer */
    bp_err err = {0};
    ck_assert_int_eq(bp_trainer_run(a.t, &err), BP_ERR_NUMERIC);
    ck_assert_msg(strstr(err.msg, "epoch 1, step 1: the loss is NaN, first in "
                                  "the output of layer 1 (dense 2->16)"),
                  "%s", err.msg);
    ck_assert_uint_eq(a.t->nhistory, 0);
    run_free(&a);
}
END_TEST

/* batch norm on batches of one row (var = 0) and on a constant feature
 * trains without a NaN */
START_TEST(test_bn_degenerate_batches)
{
    cfg c = {.width = 8, .epochs = 2, .opt = BP_OPT_MOMENTUM, .lr = 0.05f,
             .batchnorm = true};
    bp_err err = {0};
    bp_net_spec s = {.input = bp_shape_vec(2), .classes = 2,
                     .loss = BP_LOSS_CE, .init_gain = 1.0f,
                     .forget_bias = 1.0f};
    ck_assert(bp_net_spec_parse("dense:8,bn,relu,dense:8,bn,relu", &s, &err) ==
              BP_OK);
    bp_optim_spec os;
    bp_optim_defaults(&os);
    bp_train_spec ts = {.epochs = c.epochs, .batch = 1, .seed = 1};
    bp_data d;
    bp_data_opts o = {.spec = "circles", .gen_samples = 50};
    ck_assert(bp_data_load(&o, &d, &err) == BP_OK);
    for (size_t i = 0; i < d.train.n; i++)
        d.train.x[2 * i + 1] = 0.25f; /* a constant feature */
    bp_net *net;
    bp_optim *opt;
    bp_trainer *t;
    ck_assert(bp_net_create(&s, 1, 1, NULL, &net, &err) == BP_OK);
    ck_assert(bp_optim_create(&os, net->nparams, &opt, &err) == BP_OK);
    ck_assert(bp_trainer_create(&ts, net, opt, &d, &t, &err) == BP_OK);
    ck_assert_msg(bp_trainer_run(t, &err) == BP_OK, "%s", err.msg);
    for (size_t i = 0; i < net->nparams; i++)
        ck_assert(isfinite(net->params[i]));
    ck_assert(isfinite(t->history[1].test_loss));
    bp_trainer_destroy(t);
    bp_optim_destroy(opt);
    bp_net_destroy(net);
    bp_data_free(&d);
}
END_TEST

static void expect_load_error(const char *name, const char *needle)
{
    bp_ckpt ck;
    bp_err err = {0};
    ck_assert_int_ne(bp_ckpt_load(tmp(name), &ck, &err), BP_OK);
    ck_assert_msg(strstr(err.msg, needle), "%s: '%s' lacks '%s'", name, err.msg,
                  needle);
    ck_assert_ptr_null(ck.params);
}

START_TEST(test_corrupt_checkpoints)
{
    cfg c = {.width = 8, .epochs = 1, .opt = BP_OPT_MOMENTUM, .lr = 0.05f};
    run a;
    run_make(&a, &c);
    run_train(&a);
    bp_err err = {0};
    ck_assert(bp_ckpt_save(tmp("ok.ckpt"), "x=1\n", a.t, &err) == BP_OK);
    size_t n;
    char *b = slurp(tmp("ok.ckpt"), &n);
    b[n / 2] ^= 0x40;
    spit(tmp("flip.ckpt"), b, n);
    expect_load_error("flip.ckpt", "checksum mismatch");
    b[n / 2] ^= 0x40;
    spit(tmp("trunc.ckpt"), b, n - 100);
    expect_load_error("trunc.ckpt", "checksum mismatch");
    spit(tmp("tiny.ckpt"), b, 10);
    expect_load_error("tiny.ckpt", "not a bplab checkpoint");
    spit(tmp("text.ckpt"), "hello, this is not a checkpoint at all\n", 39);
    expect_load_error("text.ckpt", "bad magic");
    expect_load_error("missing.ckpt", "cannot open");
    expect_load_error("", "not a regular file");
    /* restoring into a different network is refused */
    bp_ckpt ck;
    ck_assert(bp_ckpt_load(tmp("ok.ckpt"), &ck, &err) == BP_OK);
    cfg other = c;
    other.width = 9;
    run o;
    run_make(&o, &other);
    ck_assert_int_eq(bp_ckpt_restore(&ck, "ok.ckpt", o.t, &err), BP_ERR_FORMAT);
    ck_assert(strstr(err.msg, "parameters"));
    /* an unwritable target leaves no partial file behind */
    ck_assert_int_eq(bp_ckpt_save("/nonexistent-dir/x.ckpt", "x", a.t, &err),
                     BP_ERR_IO);
    ck_assert(strstr(err.msg, "/nonexistent-dir/x.ckpt: cannot create"));
    ck_assert_int_eq(bp_ckpt_save(tmpdir, "x", a.t, &err), BP_ERR_IO);
    ck_assert(strstr(err.msg, "is a directory"));
    bp_ckpt_free(&ck);
    free(b);
    run_free(&o);
    run_free(&a);
}
END_TEST

/* Bytes of address space in use now (/proc/self/statm, first field). */
static size_t vm_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* A checkpoint with a long history (crafted by pushing rows): loading it
 * must take memory in proportion to the file. Under an address-space
 * limit of what is in use plus three times the file, the load succeeds;
 * with a fixed 8 KB per row (the step norms of a 1000-step net for every
 * model) it needed 24 times the file and failed here. */
START_TEST(test_history_memory)
{
    cfg c = {.width = 4, .epochs = 1, .opt = BP_OPT_SGD, .lr = 0.05f};
    run a;
    run_make(&a, &c);
    run_train(&a);
    bp_err err = {0};
    bp_epoch_stats row = a.t->history[0];
    for (size_t i = 1; i < 50000; i++) {
        row.epoch = i + 1;
        ck_assert(bp_trainer_push_history(a.t, &row, &err) == BP_OK);
    }
    ck_assert(bp_ckpt_save(tmp("long.ckpt"), "x=1\n", a.t, &err) == BP_OK);
    size_t n;
    free(slurp(tmp("long.ckpt"), &n));
    ck_assert_uint_gt(n, (size_t)50000 * 300);
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
    lim = old;
    lim.rlim_cur = vm_bytes() + 3 * n;
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
    bp_ckpt ck;
    bp_status st = bp_ckpt_load(tmp("long.ckpt"), &ck, &err);
    setrlimit(RLIMIT_AS, &old);
    ck_assert_msg(st == BP_OK, "a %zu-byte checkpoint: %s", n, err.msg);
    ck_assert_uint_eq(ck.nhistory, 50000);
    ck_assert_uint_eq(ck.history[49999].epoch, 50000);
    ck_assert_ptr_null(ck.history[0].step_norm);
    bp_ckpt_free(&ck);
    run_free(&a);
}
END_TEST

/* A recurrent net's step norms (one per time step and epoch) survive a
 * checkpoint: save, load, restore into a new trainer, same history. */
START_TEST(test_step_norms_checkpoint)
{
    bp_err err = {0};
    bp_data seq;
    bp_data_opts o = {.spec = "adding:5", .gen_samples = 200};
    ck_assert_msg(bp_data_load(&o, &seq, &err) == BP_OK, "%s", err.msg);
    bp_net_spec s = {.input = seq.shape, .classes = 0, .loss = BP_LOSS_MSE,
                     .init_gain = 1.0f,
                     .forget_bias = 1.0f};
    ck_assert(bp_net_spec_parse("lstm:6", &s, &err) == BP_OK);
    bp_optim_spec os;
    bp_optim_defaults(&os);
    bp_train_spec ts = {.epochs = 2, .batch = 20, .seed = 1};
    run r[2];
    for (int i = 0; i < 2; i++) {
        ck_assert(bp_net_create(&s, 20, 1, NULL, &r[i].net, &err) == BP_OK);
        ck_assert(bp_optim_create(&os, r[i].net->nparams, &r[i].opt, &err) == BP_OK);
        ck_assert_msg(bp_trainer_create(&ts, r[i].net, r[i].opt, &seq, &r[i].t,
                                        &err) == BP_OK, "%s", err.msg);
    }
    run_train(&r[0]);
    ck_assert_uint_eq(r[0].t->nsteps, 5);
    ck_assert(r[0].t->history[1].step_norm[4] > 0);
    ck_assert(bp_ckpt_save(tmp("lstm.ckpt"), "x=1\n", r[0].t, &err) == BP_OK);
    bp_ckpt ck;
    ck_assert_msg(bp_ckpt_load(tmp("lstm.ckpt"), &ck, &err) == BP_OK, "%s", err.msg);
    ck_assert_uint_eq(ck.nsteps, 5);
    ck_assert_msg(bp_ckpt_restore(&ck, "lstm.ckpt", r[1].t, &err) == BP_OK,
                  "%s", err.msg);
    ck_assert(same_history(r[0].t, r[1].t));
    bp_ckpt_free(&ck);
    for (int i = 0; i < 2; i++)
        run_free(&r[i]);
    bp_data_free(&seq);
}
END_TEST

/* One validation path: every numeric option of `bplab train` that a spec
 * holds takes its limits from core/bounds.h, so the library accepts the
 * option table's extremes and refuses what lies beyond them, with the
 * field named by the library and the flag by bp_run_flag_error. */
START_TEST(test_bounds_one_place)
{
    static const struct {
        const char *flag;
        int opt, sched; /* what the setting needs to apply */
    } rows[] = {
        {"--lr", BP_OPT_MOMENTUM, BP_SCHED_CONST},
        {"--momentum", BP_OPT_MOMENTUM, BP_SCHED_CONST},
        {"--beta1", BP_OPT_ADAM, BP_SCHED_CONST},
        {"--beta2", BP_OPT_ADAM, BP_SCHED_CONST},
        {"--eps", BP_OPT_ADAM, BP_SCHED_CONST},
        {"--l2", BP_OPT_SGD, BP_SCHED_CONST},
        {"--l1", BP_OPT_SGD, BP_SCHED_CONST},
        {"--clip-norm", BP_OPT_SGD, BP_SCHED_CONST},
        {"--clip-value", BP_OPT_SGD, BP_SCHED_CONST},
        {"--lr-gamma", BP_OPT_SGD, BP_SCHED_STEP},
    };
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        bp_run_opts o;
        bp_opt t[64];
        bp_run_defaults(&o);
        size_t ns, n = bp_run_options(&o, t, 64, &ns);
        const bp_opt *row = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(t[i].name, rows[r].flag) == 0)
                row = &t[i];
        ck_assert_msg(row && row->kind == BP_ARG_FLOAT, "%s", rows[r].flag);
        o.opt = rows[r].opt;
        o.schedule = rows[r].sched;
        const double probe[4] = {row->min, row->max, row->min * (1 - 1e-3) - 1e-30,
                                 row->max * (1 + 1e-3)};
        for (int k = 0; k < 4; k++) {
            *(double *)row->dest = probe[k];
            bp_optim_spec os;
            bp_err err = {0};
            bp_status st = bp_run_optim_spec(&o, &os, &err);
            if (k < 2) {
                ck_assert_msg(st == BP_OK, "%s %g (the option table's %s): "
                              "the library says %s", rows[r].flag, probe[k],
                              k ? "max" : "min", err.msg);
            } else if (probe[k] >= 0 || row->min > 0) {
                ck_assert_msg(st == BP_ERR_INVALID_ARG &&
                                  strncmp(err.msg, rows[r].flag,
                                          strlen(rows[r].flag)) == 0 &&
                                  err.msg[strlen(rows[r].flag)] == ' ',
                              "%s %g: accepted or not named (%s)",
                              rows[r].flag, probe[k], err.msg);
            }
        }
    }
    /* the net's and the trainer's fields map to flags too */
    bp_err err = {0};
    bp_fail(&err, BP_ERR_INVALID_ARG, "init_gain 0: must be between 1e-06 and 1000");
    bp_run_flag_error(BP_ERR_INVALID_ARG, &err);
    ck_assert_str_eq(err.msg, "--init-gain 0: must be between 1e-06 and 1000");
    bp_fail(&err, BP_ERR_INVALID_ARG, "patience 3: early stopping needs a validation set");
    bp_run_flag_error(BP_ERR_INVALID_ARG, &err);
    ck_assert_str_eq(err.msg, "--early-stop 3: early stopping needs a validation set");
    bp_fail(&err, BP_ERR_INVALID_ARG, "the training set is empty");
    bp_run_flag_error(BP_ERR_INVALID_ARG, &err);
    ck_assert_str_eq(err.msg, "the training set is empty");
}
END_TEST


/* The largest norm of a dense unit's incoming weights, and how many units
 * are within 1e-5 of c. */
static double max_unit_norm(const bp_net *net, double c, size_t *at_c)
{
    double worst = 0;
    *at_c = 0;
    for (size_t i = 0; i < net->ndense; i++) {
        const bp_layer *l = net->wl[i];
        if (l->ops != &bp_layer_dense)
            continue;
        size_t in = bp_shape_size(l->in), out = bp_shape_size(l->out);
        const float *w = net->params + net->wt[i].off;
        for (size_t j = 0; j < out; j++) {
            double s = 0;
            for (size_t r = 0; r < in; r++)
                s += (double)w[r * out + j] * w[r * out + j];
            double nrm = sqrt(s);
            worst = nrm > worst ? nrm : worst;
            *at_c += fabs(nrm - c) < 1e-5 * c;
        }
    }
    return worst;
}

/* --max-norm: after training, no dense unit's incoming weights are longer
 * than c (to the float rounding of the scaling), the constraint was
 * active (units at c), and the same run without it has longer ones; also
 * through the clipping path of the trainer, and at 1 and 2 threads the
 * same bits. */
START_TEST(test_max_norm)
{
    const double c = 0.6;
    float *first = NULL;
    size_t nfirst = 0;
    for (int v = 0; v < 4; v++) {
        bp_run_opts o;
        bp_run_defaults(&o);
        o.data = "spirals";
        o.gen_samples = 400;
        o.layers = "64,32";
        o.epochs = 3;
        o.batch = 32;
        o.lr = 0.1;
        o.max_norm = v == 0 ? 0 : c;
        o.clip_norm = v == 2 ? 1.0 : 0;
        o.threads = v == 3 ? 2 : 1;
        bp_opt table[64];
        size_t ns, nt = bp_run_options(&o, table, 64, &ns);
        bp_err err = {0};
        ck_assert(bp_run_finish(&o, table, nt, &err) == BP_OK);
        bp_data_opts d;
        bp_data dd = {0};
        ck_assert(bp_run_data_opts(&o, &d, &err) == BP_OK);
        ck_assert_msg(bp_data_load(&d, &dd, &err) == BP_OK, "%s", err.msg);
        bp_net *net;
        bp_optim *opt;
        bp_trainer *t;
        ck_assert_msg(bp_run_build(&o, &dd, &net, &opt, &t, &err) == BP_OK,
                      "%s", err.msg);
        ck_assert_msg(bp_trainer_run(t, &err) == BP_OK, "%s", err.msg);
        size_t at_c;
        double worst = max_unit_norm(net, c, &at_c);
        if (v == 0) {
            ck_assert_msg(worst > 1.5 * c, "unconstrained: the longest unit "
                          "is only %g", worst);
        } else {
            ck_assert_msg(worst <= c * (1 + 1e-6), "variant %d: a unit of "
                          "norm %.9g > %g", v, worst, c);
            ck_assert_msg(at_c >= 5, "variant %d: only %zu units at c", v,
                          at_c);
        }
        if (v == 1) {
            nfirst = net->nparams;
            first = malloc(nfirst * sizeof *first);
            ck_assert_ptr_nonnull(first);
            memcpy(first, net->params, nfirst * sizeof *first);
        } else if (v == 3) {
            ck_assert(memcmp(first, net->params, nfirst * sizeof *first) == 0);
        }
        bp_trainer_destroy(t);
        bp_optim_destroy(opt);
        bp_net_destroy(net);
        bp_data_free(&dd);
    }
    free(first);
}
END_TEST

/* A 3 x 4 image of 2 channels, value 100 y + 10 x + ch, moved down one
 * row and right one column after a flip: dst(y, x) = src(y - 1, 3 - x - 1)
 * (zero where that leaves the image), written out by hand. */
START_TEST(test_augment_image)
{
    bp_shape s = {3, 4, 2};
    float src[24], dst[24];
    for (size_t y = 0; y < 3; y++)
        for (size_t x = 0; x < 4; x++)
            for (size_t c = 0; c < 2; c++)
                src[(y * 4 + x) * 2 + c] = (float)(100 * y + 10 * x + c);
    bp_augment a = {.shift = 1, .flip = true};
    /* find the draw of (dy, dx, flip) = (-1, -1, true) */
    uint64_t bits = 0;
    bool found = false;
    for (uint64_t i = 0; i < 1000 && !found; i++) {
        long dy, dx;
        bool f;
        bits = bp_augment_draw(7, 0, i);
        bp_augment_decode(&a, bits, &dy, &dx, &f);
        found = dy == -1 && dx == -1 && f;
    }
    ck_assert(found);
    bp_augment_image(&a, s, bits, src, dst);
    /* row 0 comes from row -1: zeros; row y from row y - 1, column x
     * from column (3 - x) - 1 */
    static const float want[3][4][2] = {
        {{0, 0}, {0, 0}, {0, 0}, {0, 0}},
        {{20, 21}, {10, 11}, {0, 1}, {0, 0}},
        {{120, 121}, {110, 111}, {100, 101}, {0, 0}},
    };
    for (size_t y = 0; y < 3; y++)
        for (size_t x = 0; x < 4; x++)
            for (size_t c = 0; c < 2; c++)
                ck_assert_msg(dst[(y * 4 + x) * 2 + c] == want[y][x][c],
                              "(%zu, %zu, %zu): %g, want %g", y, x, c,
                              (double)dst[(y * 4 + x) * 2 + c],
                              (double)want[y][x][c]);
    /* no augmentation asked: the draw moves nothing */
    bp_augment none = {0};
    bp_augment_image(&none, s, bits, src, dst);
    ck_assert(memcmp(src, dst, sizeof src) == 0);
}
END_TEST

/* The draws: with shift:2 every offset of -2 .. 2 on both axes, each
 * about a fifth of the time, flips about half; another epoch or sample
 * draws anew. Parsing: the forms and the refusals. */
START_TEST(test_augment_draws)
{
    bp_augment a;
    bp_err err = {0};
    ck_assert(bp_augment_parse("shift:2,flip", &a, &err) == BP_OK);
    ck_assert(a.shift == 2 && a.flip);
    ck_assert(bp_augment_parse("flip", &a, &err) == BP_OK && !a.shift && a.flip);
    ck_assert(bp_augment_parse(NULL, &a, &err) == BP_OK && !bp_augment_on(&a));
    const char *bad[] = {"shift", "shift:0", "shift:17", "flip,", "flip,flip",
                         "shift:1,shift:2", "rotate", "shift:2x", ","};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(bp_augment_parse(bad[i], &a, &err) == BP_ERR_INVALID_ARG,
                      "'%s' was accepted", bad[i]);
    ck_assert(bp_augment_check(&(bp_augment){.flip = true},
                               (bp_shape){1, 1, 784}, &err) != BP_OK);
    ck_assert(bp_augment_check(&(bp_augment){.shift = 28},
                               (bp_shape){28, 28, 1}, &err) != BP_OK);
    ck_assert(bp_augment_parse("shift:2,flip", &a, &err) == BP_OK);
    size_t n = 50000, count[2][5] = {{0}}, flips = 0, same = 0;
    for (size_t i = 0; i < n; i++) {
        long dy, dx;
        bool f;
        bp_augment_decode(&a, bp_augment_draw(3, 1, i), &dy, &dx, &f);
        ck_assert(dy >= -2 && dy <= 2 && dx >= -2 && dx <= 2);
        count[0][dy + 2]++;
        count[1][dx + 2]++;
        flips += f;
        same += bp_augment_draw(3, 1, i) == bp_augment_draw(3, 2, i);
    }
    for (int ax = 0; ax < 2; ax++)
        for (int k = 0; k < 5; k++)
            ck_assert_msg(count[ax][k] > n / 5 - n / 50 &&
                              count[ax][k] < n / 5 + n / 50,
                          "axis %d offset %d: %zu of %zu", ax, k - 2,
                          count[ax][k], n);
    ck_assert(flips > n / 2 - n / 50 && flips < n / 2 + n / 50);
    ck_assert(same == 0);
    ck_assert(bp_augment_draw(3, 1, 5) != bp_augment_draw(4, 1, 5));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_add_unchecked_fixture(tc, load_data, free_data);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_max_norm);
    tcase_add_test(tc, test_save_load_predict);
    tcase_add_loop_test(tc, test_resume_identical, 0, 3);
    tcase_add_test(tc, test_early_stopping);
    tcase_add_test(tc, test_divergence);
    tcase_add_test(tc, test_bn_degenerate_batches);
    tcase_add_test(tc, test_corrupt_checkpoints);
    tcase_add_test(tc, test_history_memory);
    tcase_add_test(tc, test_step_norms_checkpoint);
    tcase_add_test(tc, test_bounds_one_place);
    tcase_add_test(tc, test_augment_image);
    tcase_add_test(tc, test_augment_draws);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bplab_check_train_%d", (int)getpid());
    char cmd[256];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    int rc = bp_test_main(suite());
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
