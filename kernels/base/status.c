/* kernels/base/status.c - status names and the error-record helpers. */
#include "kernels/base/status.h"

#include <stdio.h>

const char *bp_status_str(bp_status s)
{
    switch (s) {
    case BP_OK: return "ok";
    case BP_ERR_INVALID_ARG: return "invalid argument";
    case BP_ERR_NOMEM: return "out of memory";
    case BP_ERR_IO: return "i/o error";
    case BP_ERR_FORMAT: return "bad format";
    case BP_ERR_UNSUPPORTED: return "unsupported";
    case BP_ERR_NUMERIC: return "numeric fault";
    case BP_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

bp_status bp_fail(bp_err *err, bp_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void bp_err_clear(bp_err *err)
{
    if (err) {
        err->code = BP_OK;
        err->msg[0] = '\0';
    }
}
