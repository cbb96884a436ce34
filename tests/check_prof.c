/* tests/check_prof.c - the profiling kernel table (core/prof.h).
 *
 *   - every wrapper forwards exactly: the generic checker's battery run
 *     on the profiler's table against the table it wraps finds no
 *     difference at all, and every call it made is recorded;
 *   - counts and shapes: known calls give the recorded calls, trace
 *     events, shapes, flops and bytes (read back from the trace file);
 *   - one profiler at a time;
 *   - a profiled training run leaves the weights bit-identical to one
 *     without it, at 1 and 2 threads; its steps are all counted and the
 *     time in kernels lies within the time in steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/net.h"
#include "core/prof.h"
#include "core/run.h"
#include "core/train.h"
#include "experiments/json.h"
#include "kernels/kcheck.h"
#include "test_util.h"

static bp_prof *make_prof(const bp_kernels *inner, size_t trace_steps)
{
    bp_prof_opts o = {.threads = 1, .layers = 0, .trace_steps = trace_steps};
    bp_prof *p = NULL;
    bp_err err = {0};
    ck_assert_msg(bp_prof_create(inner, &o, &p, &err) == BP_OK, "%s", err.msg);
    return p;
}

START_TEST(test_forwards_exactly)
{
    const bp_kernels *inner = bp_kernels_active();
    bp_prof *p = make_prof(inner, 0);
    const bp_kernels *t = bp_prof_table(p);
    ck_assert_int_eq(t->isa, inner->isa);
    ck_assert(memcmp(t->impl, inner->impl, sizeof t->impl) == 0);
    bp_gemm_ctx *gc = bp_test_gemm_ctx(1);
    unsigned long long cases = 0;
    for (int k = 0; k < BP_NUM_KERNELS; k++) {
        ck_assert_ptr_ne(bp_kernel_ptr(t, (bp_kernel_id)k),
                         bp_kernel_ptr(inner, (bp_kernel_id)k));
        bp_kcheck_stats st;
        bp_err err = {0};
        ck_assert(bp_kcheck_kernel(inner, t, gc, (bp_kernel_id)k, true, &st,
                                   &err) == BP_OK);
        const char *name = bp_kernel_desc_of((bp_kernel_id)k)->name;
        ck_assert_msg(st.compared > 0, "%s: nothing compared", name);
        ck_assert_msg(st.failures == 0 && st.max_abs == 0 && st.max_rel == 0,
                      "%s: the wrapper changed a result (%s)", name,
                      st.first_failure);
        cases += st.cases;
    }
    bp_prof_totals tot;
    bp_prof_get_totals(p, &tot);
    /* each case calls the kernel under test at least once */
    ck_assert_msg(tot.calls >= cases, "%llu calls recorded for %llu cases",
                  tot.calls, cases);
    bp_test_gemm_ctx_free(gc);
    bp_prof_destroy(p);
}
END_TEST

START_TEST(test_one_at_a_time)
{
    const bp_kernels *inner = bp_kernels_active();
    bp_prof *p = make_prof(inner, 0), *q = NULL;
    bp_prof_opts o = {.threads = 1};
    bp_err err = {0};
    ck_assert_int_eq(bp_prof_create(inner, &o, &q, &err), BP_ERR_INVALID_ARG);
    ck_assert_ptr_null(q);
    ck_assert_msg(strstr(err.msg, "already") != NULL, "%s", err.msg);
    bp_prof_destroy(p);
    q = make_prof(inner, 0);
    bp_prof_destroy(q);
}
END_TEST

static const js_val *find_kernel_event(const js_val *ev, const char *name,
                                       size_t nth)
{
    for (size_t i = 0; i < ev->n; i++) {
        const js_val *e = &ev->items[i];
        if (strcmp(js_str(e, "cat", ""), "kernel") == 0 &&
            strcmp(js_str(e, "name", ""), name) == 0 && nth-- == 0)
            return e;
    }
    return NULL;
}

START_TEST(test_counts_and_shapes)
{
    const bp_kernels *scalar = bp_kernels_for(BP_ISA_SCALAR);
    bp_prof *p = make_prof(scalar, 5);
    const bp_kernels *t = bp_prof_table(p);
    float a[5 * 3], b[7 * 3], c[5 * 7], x[100];
    for (int i = 0; i < 15; i++)
        a[i] = (float)i;
    for (int i = 0; i < 21; i++)
        b[i] = 1.0f / (float)(i + 1);
    for (int i = 0; i < 100; i++)
        x[i] = (float)(i - 50);
    for (int r = 0; r < 3; r++) /* C = A B^T, 5x7, k = 3 */
        t->gemm(NULL, false, true, 5, 7, 3, 1.0f, a, 3, b, 3, 0.0f, c, 7,
                NULL);
    t->relu_fwd(100, x, x);
    t->relu_fwd(100, x, x);
    bp_prof_totals tot;
    bp_prof_get_totals(p, &tot);
    ck_assert_uint_eq(tot.calls, 5);
    ck_assert_uint_eq(tot.events, 5);
    ck_assert_uint_eq(tot.dropped, 0);
    ck_assert_uint_eq(tot.steps, 0);

    char path[] = "/tmp/bplab-check-prof-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    bp_err err = {0};
    ck_assert_msg(bp_prof_write_trace(p, NULL, path, &err) == BP_OK, "%s",
                  err.msg);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    unlink(path);
    js_val doc;
    char msg[128];
    ck_assert_msg(js_parse(text, len, &doc, msg, sizeof msg), "%s", msg);
    const js_val *other = js_get(&doc, "otherData");
    ck_assert_double_eq(js_num(other, "calls"), 5);
    ck_assert_double_eq(js_num(other, "events"), 5);
    const js_val *ev = js_get(&doc, "traceEvents");
    ck_assert(ev && ev->type == JS_ARR);
    for (size_t i = 0; i < 3; i++) {
        const js_val *e = find_kernel_event(ev, "gemm", i);
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(js_str(e, "ph", ""), "X");
        ck_assert(js_num(e, "dur") >= 0 && js_num(e, "ts") >= 0);
        const js_val *args = js_get(e, "args");
        ck_assert_str_eq(js_str(args, "shape", ""), "NT 5x7x3");
        ck_assert_double_eq(js_num(args, "flops"), 2.0 * 5 * 7 * 3);
        ck_assert_double_eq(js_num(args, "bytes"), 4.0 * (15 + 21 + 35));
        ck_assert_str_eq(js_str(args, "code", ""), "scalar");
    }
    ck_assert_ptr_null(find_kernel_event(ev, "gemm", 3));
    const js_val *r = find_kernel_event(ev, "relu_fwd", 1);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(js_str(js_get(r, "args"), "shape", ""), "100");
    ck_assert_double_eq(js_num(js_get(r, "args"), "bytes"), 800);
    js_free(&doc);
    bp_prof_destroy(p);
}
END_TEST

/* A small MLP with batch norm and dropout on spirals, trained 2 epochs;
 * returns its parameters and buffers (malloc'd) and, profiled, the
 * profiler's totals. */
static float *train_mlp(int threads, bool profile, size_t *n,
                        bp_prof_totals *tot, size_t *steps)
{
    bp_run_opts o;
    bp_run_defaults(&o);
    o.data = "spirals";
    o.gen_samples = 600;
    o.layers = "256,128";
    o.batchnorm = true;
    o.dropout = 0.2;
    o.epochs = 2;
    o.batch = 64;
    o.threads = threads;
    o.profile = profile;
    o.trace = profile ? "unused.json" : NULL; /* the trace buffer too */
    o.trace_steps = 3;
    bp_opt table[64];
    size_t ns, nt = bp_run_options(&o, table, 64, &ns);
    bp_err err = {0};
    ck_assert_msg(bp_run_finish(&o, table, nt, &err) == BP_OK, "%s", err.msg);
    bp_data_opts d;
    bp_data data = {0};
    ck_assert(bp_run_data_opts(&o, &d, &err) == BP_OK);
    ck_assert_msg(bp_data_load(&d, &data, &err) == BP_OK, "%s", err.msg);
    bp_net *net;
    bp_optim *opt;
    bp_trainer *t;
    ck_assert_msg(bp_run_build(&o, &data, &net, &opt, &t, &err) == BP_OK, "%s",
                  err.msg);
    ck_assert(profile == (net->ctx->prof != NULL));
    ck_assert_msg(bp_trainer_run(t, &err) == BP_OK, "%s", err.msg);
    *n = net->nparams + net->nbuffers;
    float *w = malloc(*n * sizeof *w);
    ck_assert_ptr_nonnull(w);
    memcpy(w, net->params, net->nparams * sizeof *w);
    memcpy(w + net->nparams, net->buffers, net->nbuffers * sizeof *w);
    *steps = 2 * ((data.train.n + 63) / 64);
    if (profile)
        bp_prof_get_totals(net->ctx->prof, tot);
    bp_trainer_destroy(t);
    bp_optim_destroy(opt);
    bp_net_destroy(net);
    bp_data_free(&data);
    return w;
}

START_TEST(test_training_unchanged)
{
    for (int threads = 1; threads <= 2; threads++) {
        size_t n1, n2, steps;
        bp_prof_totals tot;
        float *plain = train_mlp(threads, false, &n1, &tot, &steps);
        float *prof = train_mlp(threads, true, &n2, &tot, &steps);
        ck_assert_uint_eq(n1, n2);
        ck_assert_msg(memcmp(plain, prof, n1 * sizeof *plain) == 0,
                      "%d threads: profiling changed the weights", threads);
        ck_assert_uint_eq(tot.steps, steps);
        ck_assert(tot.calls > 10 * steps);
        ck_assert(tot.kernel_ns > 0);
        /* the busiest thread's time in kernels is part of the steps' */
        ck_assert_msg(tot.kernel_ns <= tot.step_ns,
                      "kernels %.0f ns > steps %.0f ns", tot.kernel_ns,
                      tot.step_ns);
        ck_assert(tot.events > 0 && tot.dropped == 0);
        free(plain);
        free(prof);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("prof");
    TCase *tc = tcase_create("prof");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_forwards_exactly);
    tcase_add_test(tc, test_one_at_a_time);
    tcase_add_test(tc, test_counts_and_shapes);
    tcase_add_test(tc, test_training_unchanged);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return bp_test_main(suite());
}
