/* core/ctx.c - run contexts (ctx.h). */
#include "core/ctx.h"

#include <omp.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/prof.h"

/* The caches, detected once per process. */
static bp_caches caches;
static pthread_once_t caches_once = PTHREAD_ONCE_INIT;

static void caches_init(void) { bp_caches_detect(&caches); }

const bp_caches *bp_ctx_caches(void)
{
    pthread_once(&caches_once, caches_init);
    return &caches;
}

bp_status bp_ctx_blocking(const bp_kernels *k, bp_gemm_blocking *out,
                          bool *overridden, bp_err *err)
{
    const char *env = getenv("BPLAB_GEMM_BLOCKING");
    if (overridden)
        *overridden = env && *env;
    if (env && *env)
        return bp_gemm_blocking_parse(env, "BPLAB_GEMM_BLOCKING", out, err);
    bp_gemm_blocking_model((int)k->isa, bp_ctx_caches(), out, NULL);
    return BP_OK;
}

bp_status bp_ctx_create_for(const bp_kernels *k, long long threads,
                            bp_ctx **out, bp_err *err)
{
    *out = NULL;
    if (threads < 0 || threads > BP_MAX_THREADS)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "threads %lld: must be between 1 and %d", threads,
                       BP_MAX_THREADS);
    bp_ctx *c = bp_alloc_zero(sizeof *c);
    if (!c)
        return bp_fail(err, BP_ERR_NOMEM, "out of memory for the context");
    c->k = k ? k : bp_kernels_active();
    bp_status s = bp_ctx_blocking(c->k, &c->gemm.blk, NULL, err);
    if (s != BP_OK) {
        bp_free(c);
        return s;
    }
    c->threads = threads > 0 ? (int)threads : omp_get_max_threads();
    if (c->threads > BP_MAX_THREADS)
        c->threads = BP_MAX_THREADS;
    /* the GEMM's workspaces, one per thread, allocated now so that no
     * kernel call ever allocates */
    size_t n = (size_t)c->threads;
    size_t bytes = bp_gemm_workspace_floats() * sizeof(float);
    float **ws = bp_alloc_zero(n * sizeof *ws);
    c->gemm.threads = c->threads;
    c->gemm.ws = ws;
    for (size_t t = 0; ws && t < n; t++)
        if (!(ws[t] = bp_alloc(bytes))) {
            ws = NULL;
            break;
        }
    if (!ws) {
        bp_ctx_destroy(c);
        return bp_fail(err, BP_ERR_NOMEM,
                       "out of memory for the GEMM workspaces of %d "
                       "thread%s (%.1f MB each)",
                       (int)n, n == 1 ? "" : "s", (double)bytes / 1048576.0);
    }
    *out = c;
    return BP_OK;
}

bp_status bp_ctx_lookup(const char *isa, const char *what,
                        const bp_kernels **out, bp_err *err)
{
    if (!isa && getenv("BPLAB_ISA"))
        return bp_kernels_lookup(getenv("BPLAB_ISA"), "BPLAB_ISA", out, err);
    return bp_kernels_lookup(isa, what ? what : "--isa", out, err);
}

bp_status bp_ctx_create(const char *isa, const char *what, long long threads,
                        bp_ctx **out, bp_err *err)
{
    *out = NULL;
    const bp_kernels *k;
    bp_status s = bp_ctx_lookup(isa, what, &k, err);
    if (s != BP_OK)
        return s;
    return bp_ctx_create_for(k, threads, out, err);
}

void bp_ctx_destroy(bp_ctx *c)
{
    if (!c)
        return;
    float *const *ws = c->gemm.ws;
    for (int t = 0; ws && t < c->gemm.threads; t++)
        bp_free(ws[t]);
    bp_free((void *)ws);
    bp_prof_destroy(c->prof);
    bp_free(c);
}
