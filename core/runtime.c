/* core/runtime.c - threads, ISA selection and build facts. */
#include "core/runtime.h"

#include <omp.h>

#include "build_info.h"
#include "kernels/kernels.h"

bp_status bp_set_threads(long long n, bp_err *err)
{
    if (n < 0 || n > 1024)
        return bp_fail(err, BP_ERR_INVALID_ARG,
                       "threads %lld: must be between 1 and 1024", n);
    if (n > 0)
        omp_set_num_threads((int)n);
    return BP_OK;
}

int bp_threads(void)
{
    return omp_get_max_threads();
}

bp_status bp_runtime_select_isa(const char *isa, bp_err *err)
{
    if (isa)
        return bp_kernels_select(isa, "--isa", err);
    return bp_kernels_select_env(err);
}

const char *bp_version(void) { return BPLAB_VERSION; }
const char *bp_git_commit(void) { return BPLAB_GIT_COMMIT; }
int bp_git_dirty(void) { return BPLAB_GIT_DIRTY; }
const char *bp_build_type(void) { return BPLAB_BUILD_TYPE; }
const char *bp_compiler(void) { return BPLAB_COMPILER; }
const char *bp_c_flags(void) { return BPLAB_C_FLAGS; }
const char *bp_sanitizers(void) { return BPLAB_SANITIZE; }
