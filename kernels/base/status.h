/* kernels/base/status.h - status codes and the caller-owned error record.
 *
 * Every fallible bplab function returns a bp_status and, when it fails,
 * fills a caller-owned bp_err with the code and one line of text that names
 * the thing and the rule ("--batch 0: must be >= 1"). There is no global
 * error state; a NULL bp_err is allowed and simply receives nothing.
 *
 * It lives below both kernels/ and core/ (kernels/ includes nothing from
 * core/); core/status.h forwards here.
 */
#ifndef BPLAB_BASE_STATUS_H
#define BPLAB_BASE_STATUS_H

#include <stdarg.h>

typedef enum bp_status {
    BP_OK = 0,
    BP_ERR_INVALID_ARG, /* a value, option or shape breaks a stated rule */
    BP_ERR_NOMEM,       /* an allocation failed or would be absurdly large */
    BP_ERR_IO,          /* a file could not be opened, read or written */
    BP_ERR_FORMAT,      /* a file's contents are malformed */
    BP_ERR_UNSUPPORTED, /* the CPU or the build lacks what was asked for */
    BP_ERR_NUMERIC,     /* NaN/Inf where finite numbers are required */
    BP_ERR_INTERRUPTED  /* stopped on request (SIGINT) */
} bp_status;

#define BP_ERR_MSG_MAX 256

typedef struct bp_err {
    bp_status code;
    char msg[BP_ERR_MSG_MAX];
} bp_err;

/* Short name of a status code, e.g. "invalid argument". Never NULL. */
const char *bp_status_str(bp_status s);

/* Record `code` and a printf-style message in `err` (if not NULL) and return
 * `code`, so that `return bp_fail(err, BP_ERR_IO, "%s: %s", path, why);` reads
 * as one statement. Messages longer than BP_ERR_MSG_MAX-1 are truncated. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
bp_status bp_fail(bp_err *err, bp_status code, const char *fmt, ...);

/* Clear an error record to BP_OK and an empty message. */
void bp_err_clear(bp_err *err);

#endif
