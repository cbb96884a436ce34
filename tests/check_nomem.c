/* tests/check_nomem.c - every create path under allocation failure
 * (SQLite's anomaly testing, with the hook of core/alloc.h).
 *
 * For each path: one successful call counts its allocations (N); then for
 * i = 1..N the i-th allocation fails and the call must return
 * BP_ERR_NOMEM, with err->code the same and a non-empty message, leave
 * its outputs as the API documents (NULL pointers, zeroed structs, an
 * unchanged trainer, no file or temporary written), and free every block
 * it took (bp_alloc_live() back where it was; valgrind and LeakSanitizer
 * see what does not go through bp_alloc). The paths: data sets (generated,
 * CSV, a folder of MNIST files, fashion-mnist through BPLAB_DATA),
 * bp_run_build (an MLP with batch norm, dropout, Adam and early stopping;
 * an LSTM and an RNN on adding:5; an MLP with --profile and --trace), checkpoints (encode, save, also
 * through a symbolic link, load, restore), bp_model_load,
 * bp_run_init_from, the trainer's history growth and bp_trainer_run (one
 * epoch; 65, across the history's growth): a failed run must keep one
 * history row per completed epoch, encode (under valgrind: no
 * uninitialised byte) and finish when run again. Each path prints how
 * many failure points it exercised. Under valgrind, run it with
 * CK_FORK=no in the environment of valgrind itself (valgrind does not
 * follow an exec, so `valgrind env CK_FORK=no ./check_nomem` checks only
 * env).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/checkpoint.h"
#include "core/run.h"
#include "core/train.h"
#include "test_files.h"
#include "test_util.h"

/* ---------------------------------------------------------------------- */
/* The harness                                                             */

typedef struct path_ops {
    const char *name;
    /* optional, injection off: what each attempt starts from */
    void (*prepare)(void *ctx);
    /* the call under test; it first poisons its outputs */
    bp_status (*call)(void *ctx, bp_err *err);
    /* after a failed call: the outputs are as documented */
    void (*check_failed)(void *ctx);
    /* after every attempt: free the outputs (and what prepare made) */
    void (*release)(void *ctx);
} path_ops;

/* Count the allocations of a successful call, then fail each in turn.
 * Returns the count. */
static size_t exercise(const path_ops *p, void *ctx)
{
    bp_err err = {0};
    size_t live = bp_alloc_live();
    if (p->prepare)
        p->prepare(ctx);
    bp_alloc_fail_at(0);
    bp_status s = p->call(ctx, &err);
    size_t n = bp_alloc_fail_at(0);
    ck_assert_msg(s == BP_OK, "%s: %s", p->name, err.msg);
    p->release(ctx);
    ck_assert_msg(bp_alloc_live() == live,
                  "%s: the successful call and its release leave %td blocks",
                  p->name, (ptrdiff_t)(bp_alloc_live() - live));
    ck_assert_msg(n > 0, "%s: no allocation to fail", p->name);
    for (size_t i = 1; i <= n; i++) {
        if (p->prepare)
            p->prepare(ctx);
        memset(&err, 0, sizeof err);
        bp_alloc_fail_at(i);
        s = p->call(ctx, &err);
        size_t made = bp_alloc_fail_at(0);
        if (s == BP_OK)
            p->release(ctx);
        ck_assert_msg(made >= i, "%s: allocation %zu of %zu was not reached "
                      "(%zu made)", p->name, i, n, made);
        ck_assert_msg(s == BP_ERR_NOMEM,
                      "%s, allocation %zu of %zu failing: status '%s', "
                      "expected '%s' (%s)",
                      p->name, i, n, bp_status_str(s),
                      bp_status_str(BP_ERR_NOMEM), err.msg);
        ck_assert_msg(err.code == s,
                      "%s, allocation %zu of %zu failing: returns '%s' but "
                      "err.code is '%s' (%s)",
                      p->name, i, n, bp_status_str(s), bp_status_str(err.code),
                      err.msg);
        ck_assert_msg(err.msg[0] != '\0',
                      "%s, allocation %zu of %zu failing: empty message",
                      p->name, i, n);
        p->check_failed(ctx);
        p->release(ctx);
        ck_assert_msg(bp_alloc_live() == live,
                      "%s, allocation %zu of %zu failing: %td blocks leak",
                      p->name, i, n, (ptrdiff_t)(bp_alloc_live() - live));
    }
    printf("check_nomem: %-40s %3zu failure points\n", p->name, n);
    fflush(stdout);
    return n;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* ---------------------------------------------------------------------- */
/* Files                                                                   */






/* rows of 3 features and a label in [0, 3), a header first */
static void write_csv(const char *name, int rows, int seed)
{
    FILE *f = fopen(tf_path(name), "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "a,b,c,label\n");
    for (int i = 0; i < rows; i++)
        fprintf(f, "%d.5, %g,%d,%d\n", (i * 7 + seed) % 13, 0.25 * i - 3,
                (i * i + seed) % 5, i % 3);
    ck_assert_int_eq(fclose(f), 0);
}

static void make_files(void)
{
    snprintf(tf_dir, sizeof tf_dir,
             "/tmp/bplab_check_nomem_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tf_dir));
    char sub[600];
    snprintf(sub, sizeof sub, "%s/mnist", tf_dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    tf_idx("mnist/train-images-idx3-ubyte", "mnist/train-labels-idx1-ubyte",
              40, 28, 28, false, 0);
    /* the test pair gzipped: found as name.gz */
    tf_idx("mnist/t10k-images-idx3-ubyte.gz",
              "mnist/t10k-labels-idx1-ubyte.gz", 20, 28, 28, true, 0);
    write_csv("train.csv", 60, 1);
    write_csv("test.csv", 15, 2);
}

static void remove_files(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tf_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Names in `tf_dir` that start with `prefix`. */
static int count_files(const char *prefix)
{
    DIR *d = opendir(tf_dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* ---------------------------------------------------------------------- */
/* Runs built from options, as bplab train builds them                     */

typedef struct run {
    bp_run_opts o;
    bp_data data;
    bp_net *net;
    bp_optim *opt;
    bp_trainer *t;
    char spec[4096];
} run;

enum { MLP, LSTM, RNN, XOR, PROF };

/* The options of one kind of run, with the defaults that depend on them
 * applied (bp_run_finish: --loss mse for adding:T). */
static void run_opts(bp_run_opts *o, int kind)
{
    bp_run_defaults(o);
    o->threads = 1;
    o->epochs = 2;
    o->seed = 3;
    switch (kind) {
    case MLP: /* batch norm, dropout, Adam, early stopping */
        o->data = "spirals";
        o->gen_samples = 200;
        o->val = 0.2;
        o->layers = "16,8";
        o->batchnorm = true;
        o->dropout = 0.1;
        o->opt = BP_OPT_ADAM;
        o->lr = 0.01;
        o->early_stop = 2;
        o->batch = 32;
        break;
    case LSTM: /* momentum, clipping */
        o->data = "adding:5";
        o->gen_samples = 100;
        o->model = BP_CELL_LSTM;
        o->hidden = 8;
        o->clip_norm = 1;
        o->batch = 16;
        break;
    case RNN: /* plain SGD: no optimizer state */
        o->data = "adding:5";
        o->gen_samples = 100;
        o->model = BP_CELL_RNN;
        o->hidden = 8;
        o->act = BP_ACT_TANH;
        o->opt = BP_OPT_SGD;
        o->batch = 16;
        break;
    case PROF: /* an MLP profiled and traced: the profiler's blocks too */
        o->data = "spirals";
        o->gen_samples = 200;
        o->layers = "16,8";
        o->batch = 32;
        o->profile = true;
        o->trace = "unused.json";
        break;
    case XOR:
        o->data = "xor";
        o->layers = "4";
        o->act = BP_ACT_TANH;
        o->epochs = 1;
        o->batch = 4;
        break;
    }
    bp_opt table[64];
    size_t ns, n = bp_run_options(o, table, 64, &ns);
    bp_err err = {0};
    ck_assert_msg(bp_run_finish(o, table, n, &err) == BP_OK, "%s", err.msg);
}

static void run_data(run *r, int kind)
{
    memset(r, 0, sizeof *r);
    run_opts(&r->o, kind);
    bp_data_opts d;
    bp_err err = {0};
    ck_assert(bp_run_data_opts(&r->o, &d, &err) == BP_OK);
    ck_assert_msg(bp_data_load(&d, &r->data, &err) == BP_OK, "%s", err.msg);
    ck_assert_uint_gt(bp_run_spec_text(&r->o, r->spec, sizeof r->spec), 0);
}

static void run_make(run *r, int kind)
{
    run_data(r, kind);
    bp_err err = {0};
    ck_assert_msg(bp_run_build(&r->o, &r->data, &r->net, &r->opt, &r->t,
                               &err) == BP_OK, "%s", err.msg);
}

static void run_free(run *r)
{
    bp_trainer_destroy(r->t);
    bp_optim_destroy(r->opt);
    bp_net_destroy(r->net);
    bp_data_free(&r->data);
    memset(r, 0, sizeof *r);
}

/* A run of `kind`, trained for its epochs and saved to `name`. */
static void run_save(int kind, const char *name)
{
    run r;
    run_make(&r, kind);
    bp_err err = {0};
    ck_assert_msg(bp_trainer_run(r.t, &err) == BP_OK, "%s", err.msg);
    ck_assert_msg(bp_ckpt_save(tf_path(name), r.spec, r.t, &err) == BP_OK, "%s",
                  err.msg);
    run_free(&r);
}

/* ---------------------------------------------------------------------- */
/* Data sets                                                               */

typedef struct data_ctx {
    bp_data_opts o;
    bp_data d;
} data_ctx;

static bp_status data_call(void *c, bp_err *err)
{
    data_ctx *x = c;
    memset(&x->d, 0xa5, sizeof x->d);
    return bp_data_load(&x->o, &x->d, err);
}

static void data_check(void *c)
{
    data_ctx *x = c;
    ck_assert_msg(all_zero(&x->d, sizeof x->d),
                  "bp_data_load failed but *out is not all zero");
}

static void data_release(void *c)
{
    bp_data_free(&((data_ctx *)c)->d);
}

static size_t data_path(const char *name, bp_data_opts o)
{
    data_ctx x = {.o = o};
    path_ops p = {name, NULL, data_call, data_check, data_release};
    return exercise(&p, &x);
}

START_TEST(test_data_generated)
{
    /* each: the set, its test draw, the permutation, train (and val) */
    ck_assert_uint_ge(data_path("bp_data_load xor", (bp_data_opts){.spec = "xor"}), 5);
    ck_assert_uint_ge(data_path("bp_data_load spirals, val",
                                (bp_data_opts){.spec = "spirals",
                                               .gen_samples = 100,
                                               .val_fraction = 0.2}), 9);
    data_path("bp_data_load circles, limit",
              (bp_data_opts){.spec = "circles", .gen_samples = 50,
                             .limit_train = 20});
    /* real targets: x, y and t for each set */
    ck_assert_uint_ge(data_path("bp_data_load adding:5, val",
                                (bp_data_opts){.spec = "adding:5",
                                               .gen_samples = 50,
                                               .val_fraction = 0.2}), 13);
}
END_TEST

START_TEST(test_data_csv)
{
    bp_data_opts a = {.spec = tf_path("train.csv"), .val_fraction = 0.2,
                      .test_fraction = 0.2, .normalize = true};
    ck_assert_uint_ge(data_path("bp_data_load csv, split test, val", a), 12);
    bp_data_opts b = {.spec = tf_path("train.csv"), .test_csv = tf_path("test.csv")};
    ck_assert_uint_ge(data_path("bp_data_load csv + test csv", b), 10);
}
END_TEST

START_TEST(test_data_mnist)
{
    bp_data_opts a = {.spec = tf_path("mnist"), .val_fraction = 0.25};
    ck_assert_uint_ge(data_path("bp_data_load MNIST folder", a), 9);
    /* the named set, from BPLAB_DATA */
    const char *old = getenv("BPLAB_DATA");
    char *saved = old ? strdup(old) : NULL;
    ck_assert_int_eq(setenv("BPLAB_DATA", tf_path("mnist"), 1), 0);
    data_path("bp_data_load fashion-mnist", (bp_data_opts){.spec = "fashion-mnist"});
    data_path("bp_data_load fashion-mnist-rows",
              (bp_data_opts){.spec = "fashion-mnist-rows", .limit_train = 30});
    if (saved)
        setenv("BPLAB_DATA", saved, 1);
    else
        unsetenv("BPLAB_DATA");
    free(saved);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* bp_run_build                                                            */

static bp_status build_call(void *c, bp_err *err)
{
    run *r = c;
    r->net = (bp_net *)1, r->opt = (bp_optim *)1, r->t = (bp_trainer *)1;
    return bp_run_build(&r->o, &r->data, &r->net, &r->opt, &r->t, err);
}

static void build_check(void *c)
{
    run *r = c;
    ck_assert_ptr_null(r->net);
    ck_assert_ptr_null(r->opt);
    ck_assert_ptr_null(r->t);
}

static void build_release(void *c)
{
    run *r = c;
    bp_trainer_destroy(r->t);
    bp_optim_destroy(r->opt);
    bp_net_destroy(r->net);
    r->net = NULL, r->opt = NULL, r->t = NULL;
}

static size_t build_path(const char *name, int kind)
{
    run r;
    run_data(&r, kind);
    path_ops p = {name, NULL, build_call, build_check, build_release};
    size_t n = exercise(&p, &r);
    run_free(&r);
    return n;
}

START_TEST(test_run_build)
{
    /* ctx, plans, net, its memory; optimizer, m, v; trainer, order, xb,
     * yb, tb, best */
    ck_assert_uint_ge(build_path("bp_run_build mlp bn dropout adam early", MLP), 12);
    /* ... momentum's m, no best; the step norms' scratch */
    ck_assert_uint_ge(build_path("bp_run_build lstm adding:5", LSTM), 11);
    /* ... SGD: no optimizer state */
    ck_assert_uint_ge(build_path("bp_run_build rnn adding:5 sgd", RNN), 10);
    /* ... the profiler, its threads' records, the trace's buffers and
     * the calibration's copy buffers */
    ck_assert_uint_ge(build_path("bp_run_build mlp --profile --trace", PROF), 17);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Checkpoints and saved models                                            */

typedef struct encode_ctx {
    run r;
    unsigned char *buf;
    size_t size;
} encode_ctx;

static bp_status encode_call(void *c, bp_err *err)
{
    encode_ctx *x = c;
    x->buf = (unsigned char *)1, x->size = 7;
    return bp_ckpt_encode(x->r.spec, x->r.t, &x->buf, &x->size, err);
}

static void encode_check(void *c)
{
    encode_ctx *x = c;
    ck_assert_ptr_null(x->buf);
    ck_assert_uint_eq(x->size, 0);
}

static void encode_release(void *c)
{
    encode_ctx *x = c;
    bp_free(x->buf);
    x->buf = NULL;
}

static bp_status save_call(void *c, bp_err *err)
{
    encode_ctx *x = c;
    return bp_ckpt_save(tf_path("new.ckpt"), x->r.spec, x->r.t, err);
}

/* neither the checkpoint nor a temporary of it is left behind */
static void save_check(void *c)
{
    (void)c;
    ck_assert_int_eq(count_files("new.ckpt"), 0);
}

static void save_release(void *c)
{
    (void)c;
    unlink(tf_path("new.ckpt"));
}

/* a checkpoint path that is a relative symbolic link (latest.ckpt ->
 * target.ckpt): the link is followed, the target replaced */
static bp_status save_link_call(void *c, bp_err *err)
{
    encode_ctx *x = c;
    return bp_ckpt_save(tf_path("latest.ckpt"), x->r.spec, x->r.t, err);
}

static void save_link_check(void *c)
{
    (void)c;
    struct stat st;
    ck_assert_int_eq(lstat(tf_path("latest.ckpt"), &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(count_files("target.ckpt"), 0);
}

static void save_link_release(void *c)
{
    (void)c;
    unlink(tf_path("target.ckpt"));
}

START_TEST(test_ckpt_encode_save)
{
    ck_assert_int_eq(symlink("target.ckpt", tf_path("latest.ckpt")), 0);
    for (int kind = MLP; kind <= LSTM; kind++) {
        encode_ctx x = {0};
        run_make(&x.r, kind);
        bp_err err = {0};
        ck_assert_msg(bp_trainer_run(x.r.t, &err) == BP_OK, "%s", err.msg);
        ck_assert_uint_eq(x.r.t->nhistory, 2);
        path_ops e = {kind == MLP ? "bp_ckpt_encode mlp" : "bp_ckpt_encode lstm",
                      NULL, encode_call, encode_check, encode_release};
        ck_assert_uint_eq(exercise(&e, &x), 1);
        /* the copy of the path, the temporary's name and its folder */
        path_ops s = {kind == MLP ? "bp_ckpt_save mlp" : "bp_ckpt_save lstm",
                      NULL, save_call, save_check, save_release};
        ck_assert_uint_ge(exercise(&s, &x), 4);
        /* ... and the link's text, and the target's path */
        path_ops sl = {kind == MLP ? "bp_ckpt_save mlp via a symlink"
                                   : "bp_ckpt_save lstm via a symlink",
                       NULL, save_link_call, save_link_check,
                       save_link_release};
        ck_assert_uint_ge(exercise(&sl, &x), 6);
        run_free(&x.r);
    }
}
END_TEST

typedef struct load_ctx {
    const char *file;
    bp_ckpt ck;
} load_ctx;

static bp_status load_call(void *c, bp_err *err)
{
    load_ctx *x = c;
    memset(&x->ck, 0xa5, sizeof x->ck);
    return bp_ckpt_load(x->file, &x->ck, err);
}

static void load_check(void *c)
{
    load_ctx *x = c;
    ck_assert_msg(all_zero(&x->ck, sizeof x->ck),
                  "bp_ckpt_load failed but *out is not all zero");
}

static void load_release(void *c)
{
    bp_ckpt_free(&((load_ctx *)c)->ck);
}

typedef struct model_ctx {
    const char *file, *data;
    bp_model m;
} model_ctx;

static bp_status model_call(void *c, bp_err *err)
{
    model_ctx *x = c;
    memset(&x->m, 0xa5, sizeof x->m);
    return bp_model_load(x->file, x->data, 64, NULL, &x->m, err);
}

static void model_check(void *c)
{
    model_ctx *x = c;
    const bp_model *m = &x->m;
    ck_assert_ptr_null(m->net);
    ck_assert_ptr_null(m->storage);
    ck_assert_ptr_null(m->ck.spec);
    ck_assert_ptr_null(m->ck.params);
    ck_assert_ptr_null(m->ck.history);
    ck_assert_ptr_null(m->data.train.x);
    ck_assert_ptr_null(m->data.test.x);
    /* what bp_model_free leaves */
    ck_assert_msg(all_zero(m, sizeof *m), "bp_model_load failed but the "
                  "model is not all zero");
}

static void model_release(void *c)
{
    bp_model_free(&((model_ctx *)c)->m);
}

START_TEST(test_ckpt_load_model)
{
    run_save(MLP, "mlp.ckpt");
    run_save(LSTM, "lstm.ckpt");
    run_save(RNN, "rnn.ckpt");
    /* the file; spec, history, params, buffers, state (m, v), best */
    load_ctx l = {.file = tf_path("mlp.ckpt")};
    path_ops lp = {"bp_ckpt_load mlp adam early", NULL, load_call, load_check,
                   load_release};
    ck_assert_uint_eq(exercise(&lp, &l), 7);
    /* ... and the step norms */
    l.file = tf_path("lstm.ckpt");
    lp.name = "bp_ckpt_load lstm";
    ck_assert_uint_eq(exercise(&lp, &l), 8);
    model_ctx m = {.file = tf_path("mlp.ckpt")};
    path_ops mp = {"bp_model_load mlp", NULL, model_call, model_check,
                   model_release};
    ck_assert_uint_ge(exercise(&mp, &m), 15);
    m.file = tf_path("lstm.ckpt");
    mp.name = "bp_model_load lstm";
    ck_assert_uint_ge(exercise(&mp, &m), 15);
    /* another data set of the same shape than the one it was trained on */
    m.file = tf_path("rnn.ckpt"), m.data = "adding:7";
    mp.name = "bp_model_load rnn --data adding:7";
    ck_assert_uint_ge(exercise(&mp, &m), 15);
}
END_TEST

/* --resume: a checkpoint put into a fresh trainer of the same options */
typedef struct restore_ctx {
    int kind;
    const char *file;
    bp_ckpt ck;
    run r;
} restore_ctx;

static void restore_prepare(void *c)
{
    restore_ctx *x = c;
    run_make(&x->r, x->kind);
}

static bp_status restore_call(void *c, bp_err *err)
{
    restore_ctx *x = c;
    return bp_ckpt_restore(&x->ck, x->file, x->r.t, err);
}

static void restore_check(void *c) { (void)c; }

static void restore_release(void *c)
{
    run_free(&((restore_ctx *)c)->r);
}

START_TEST(test_ckpt_restore)
{
    static const struct {
        int kind;
        const char *file, *name;
    } cases[] = {
        {MLP, "mlp.ckpt", "bp_ckpt_restore mlp adam early"},
        {LSTM, "lstm.ckpt", "bp_ckpt_restore lstm"},
    };
    for (size_t i = 0; i < 2; i++) {
        run_save(cases[i].kind, cases[i].file);
        restore_ctx x = {.kind = cases[i].kind, .file = tf_path(cases[i].file)};
        bp_err err = {0};
        ck_assert(bp_ckpt_load(x.file, &x.ck, &err) == BP_OK);
        /* the history's rows (and their step norms) */
        path_ops p = {cases[i].name, restore_prepare, restore_call,
                      restore_check, restore_release};
        ck_assert_uint_eq(exercise(&p, &x), cases[i].kind == LSTM ? 2 : 1);
        bp_ckpt_free(&x.ck);
    }
}
END_TEST

/* --init-from a model trained on another data set: that set is loaded to
 * know the model's shapes */
typedef struct init_ctx {
    run r;
    bp_ckpt ck;
    float *params; /* the net's parameters before */
} init_ctx;

static bp_status init_call(void *c, bp_err *err)
{
    init_ctx *x = c;
    return bp_run_init_from(&x->r.o, &x->r.data, &x->ck, x->r.net, err);
}

static void init_prepare(void *c)
{
    init_ctx *x = c;
    memcpy(x->params, x->r.net->params, x->r.net->nparams * sizeof(float));
}

/* the net keeps the weights it had */
static void init_check(void *c)
{
    init_ctx *x = c;
    ck_assert_msg(memcmp(x->params, x->r.net->params,
                         x->r.net->nparams * sizeof(float)) == 0,
                  "bp_run_init_from failed but changed the weights");
}
static void init_release(void *c) { (void)c; }

START_TEST(test_init_from)
{
    run_save(MLP, "mlp.ckpt");
    init_ctx x = {0};
    bp_err err = {0};
    ck_assert(bp_ckpt_load(tf_path("mlp.ckpt"), &x.ck, &err) == BP_OK);
    memset(&x.r, 0, sizeof x.r);
    run_opts(&x.r.o, MLP);
    x.r.o.data = "circles";
    x.r.o.init_from = tf_path("mlp.ckpt");
    bp_data_opts d;
    ck_assert(bp_run_data_opts(&x.r.o, &d, &err) == BP_OK);
    ck_assert(bp_data_load(&d, &x.r.data, &err) == BP_OK);
    ck_assert(bp_run_build(&x.r.o, &x.r.data, &x.r.net, &x.r.opt, &x.r.t,
                           &err) == BP_OK);
    x.params = malloc(x.r.net->nparams * sizeof(float));
    ck_assert_ptr_nonnull(x.params);
    path_ops p = {"bp_run_init_from (another data set)", init_prepare, init_call,
                  init_check, init_release};
    ck_assert_uint_ge(exercise(&p, &x), 5);
    free(x.params);
    run_free(&x.r);
    bp_ckpt_free(&x.ck);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The trainer                                                             */

/* rows up to a full history, then the push that must grow it */
typedef struct push_ctx {
    run r;
    size_t rows;     /* pushed before the call */
    double norms[8]; /* step norms of the pushed rows */
    size_t nhistory, cap;
    bp_epoch_stats *history;
    double *step_norms;
} push_ctx;

static bp_epoch_stats row_of(push_ctx *x, size_t i)
{
    bp_epoch_stats e = {.epoch = i + 1, .lr = 0.5, .train_loss = (double)i};
    for (size_t j = 0; j < 8; j++)
        x->norms[j] = (double)(i * 8 + j);
    e.step_norm = x->r.net->steps ? x->norms : NULL;
    return e;
}

/* an empty history, as a new trainer has */
static void push_reset(bp_trainer *t)
{
    bp_free(t->history);
    bp_free(t->step_norms);
    t->history = NULL, t->step_norms = NULL;
    t->nhistory = t->cap = 0;
}

static void push_prepare(void *c)
{
    push_ctx *x = c;
    push_reset(x->r.t);
    bp_err err = {0};
    for (size_t i = 0; i < x->rows; i++) {
        bp_epoch_stats e = row_of(x, i);
        ck_assert(bp_trainer_push_history(x->r.t, &e, &err) == BP_OK);
    }
    x->nhistory = x->r.t->nhistory, x->cap = x->r.t->cap;
    x->history = x->r.t->history, x->step_norms = x->r.t->step_norms;
}

static bp_status push_call(void *c, bp_err *err)
{
    push_ctx *x = c;
    bp_epoch_stats e = row_of(x, x->rows);
    return bp_trainer_push_history(x->r.t, &e, err);
}

/* the trainer as it was: the same rows, in the same memory */
static void push_check(void *c)
{
    push_ctx *x = c;
    const bp_trainer *t = x->r.t;
    ck_assert_uint_eq(t->nhistory, x->nhistory);
    ck_assert_uint_eq(t->cap, x->cap);
    ck_assert_ptr_eq(t->history, x->history);
    ck_assert_ptr_eq(t->step_norms, x->step_norms);
    for (size_t i = 0; i < t->nhistory; i++) {
        ck_assert_uint_eq(t->history[i].epoch, i + 1);
        ck_assert(t->history[i].train_loss == (double)i);
        for (size_t j = 0; j < t->nsteps; j++)
            ck_assert(t->history[i].step_norm[j] == (double)(i * 8 + j));
    }
}

static void push_release(void *c) { push_reset(((push_ctx *)c)->r.t); }

START_TEST(test_push_history)
{
    static const int kinds[] = {XOR, LSTM};
    for (size_t k = 0; k < 2; k++) {
        int kind = kinds[k];
        push_ctx x = {0};
        run_make(&x.r, kind);
        ck_assert_uint_le(x.r.net->steps, 8);
        size_t per = x.r.net->steps ? 2 : 1; /* rows, and step norms */
        char name[64];
        /* the first row, then the one after 64 */
        for (size_t rows = 0; rows <= 64; rows += 64) {
            x.rows = rows;
            snprintf(name, sizeof name, "bp_trainer_push_history %s, row %zu",
                     kind == XOR ? "mlp" : "lstm", rows + 1);
            path_ops p = {name, push_prepare, push_call, push_check,
                          push_release};
            ck_assert_uint_eq(exercise(&p, &x), per);
        }
        run_free(&x.r);
    }
}
END_TEST

typedef struct train_ctx {
    int kind;
    size_t epochs;
    run r;
} train_ctx;

static void train_prepare(void *c)
{
    train_ctx *x = c;
    run_make(&x->r, x->kind);
    x->r.t->spec.epochs = x->epochs;
}

static bp_status train_call(void *c, bp_err *err)
{
    train_ctx *x = c;
    return bp_trainer_run(x->r.t, err);
}

/* the history holds the completed epochs (train.h), the trainer can be
 * saved, and run again it finishes the run */
static void train_check(void *c)
{
    train_ctx *x = c;
    bp_trainer *t = x->r.t;
    ck_assert_msg(t->nhistory == t->epoch,
                  "bp_trainer_run failed with %llu epochs completed but %zu "
                  "in the history",
                  (unsigned long long)t->epoch, t->nhistory);
    for (size_t i = 0; i < t->nhistory; i++)
        ck_assert_uint_eq(t->history[i].epoch, i + 1);
    unsigned char *buf = NULL;
    size_t size = 0;
    bp_err err = {0};
    ck_assert_msg(bp_ckpt_encode(x->r.spec, t, &buf, &size, &err) == BP_OK,
                  "%s", err.msg);
    bp_free(buf);
    ck_assert_msg(bp_trainer_run(t, &err) == BP_OK, "%s", err.msg);
    ck_assert(t->epoch == x->epochs || t->stopped_early);
    ck_assert_uint_eq(t->nhistory, t->epoch);
}

static void train_release(void *c)
{
    run_free(&((train_ctx *)c)->r);
}

START_TEST(test_trainer_run)
{
    static const struct {
        int kind;
        size_t epochs;
        const char *name;
        size_t allocs;
    } cases[] = {
        {XOR, 1, "bp_trainer_run 1 epoch xor", 1},
        {MLP, 1, "bp_trainer_run 1 epoch mlp early stop", 1},
        {LSTM, 1, "bp_trainer_run 1 epoch lstm", 2},
        /* the history's first 64 rows, then its growth */
        {XOR, 65, "bp_trainer_run 65 epochs xor", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        train_ctx x = {.kind = cases[i].kind, .epochs = cases[i].epochs};
        path_ops p = {cases[i].name, train_prepare, train_call, train_check,
                      train_release};
        ck_assert_uint_eq(exercise(&p, &x), cases[i].allocs);
    }
}
END_TEST

/* ---------------------------------------------------------------------- */

static Suite *suite(void)
{
    Suite *s = suite_create("nomem");
    TCase *tc = tcase_create("create paths");
    tcase_add_checked_fixture(tc, make_files, remove_files);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_data_generated);
    tcase_add_test(tc, test_data_csv);
    tcase_add_test(tc, test_data_mnist);
    tcase_add_test(tc, test_run_build);
    tcase_add_test(tc, test_ckpt_encode_save);
    tcase_add_test(tc, test_ckpt_load_model);
    tcase_add_test(tc, test_ckpt_restore);
    tcase_add_test(tc, test_init_from);
    tcase_add_test(tc, test_push_history);
    tcase_add_test(tc, test_trainer_run);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return bp_test_main(suite());
}
