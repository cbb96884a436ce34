/* core/ctx.c - run contexts (ctx.h). */
#include "core/ctx.h"

#include <omp.h>
#include <stdlib.h>

#include "core/alloc.h"

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
    c->threads = threads > 0 ? (int)threads : omp_get_max_threads();
    if (c->threads > BP_MAX_THREADS)
        c->threads = BP_MAX_THREADS;
    *out = c;
    return BP_OK;
}

bp_status bp_ctx_create(const char *isa, const char *what, long long threads,
                        bp_ctx **out, bp_err *err)
{
    *out = NULL;
    const bp_kernels *k;
    bp_status s;
    if (!isa && getenv("BPLAB_ISA"))
        s = bp_kernels_lookup(getenv("BPLAB_ISA"), "BPLAB_ISA", &k, err);
    else
        s = bp_kernels_lookup(isa, what ? what : "--isa", &k, err);
    if (s != BP_OK)
        return s;
    return bp_ctx_create_for(k, threads, out, err);
}

void bp_ctx_destroy(bp_ctx *c)
{
    bp_free(c);
}
