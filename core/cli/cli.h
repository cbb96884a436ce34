/* core/cli/cli.h - the bplab command line: shared helpers and commands.
 *
 * Exit codes: 0 success, 1 runtime failure (a file, a kernel check, a
 * numeric fault), 2 usage error (unknown command or option, bad value),
 * 130 (128 + SIGINT, as shells expect) a run stopped by Ctrl-C.
 * Every failure prints exactly one line "bplab: error: <message>" to stderr;
 * an interrupted run one line "bplab: interrupted ...".
 */
#ifndef BPLAB_CLI_H
#define BPLAB_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "core/status.h"

enum {
    BP_EXIT_OK = 0,
    BP_EXIT_FAIL = 1,
    BP_EXIT_USAGE = 2,
    BP_EXIT_INTERRUPTED = 130
};

/* Print "bplab: error: <msg>" and return the exit code for `s`. */
int bp_cli_fail(const bp_err *err);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int bp_cli_failf(int exit_code, const char *fmt, ...);

/* A usage error from parsing the options of `bplab cmd`: the message, then
 * "; see 'bplab <cmd> --help'", still on one line; returns the exit code. */
int bp_cli_fail_opts(const char *cmd, const bp_err *err);

/* --profile and --trace of train and eval, after the command's last line:
 * the profile of net's context to `out` (when `profile`), the trace to
 * `trace` (when set; "trace <path>" follows unless `quiet`); a trace that
 * cannot be written is "--trace <why>" in err. Nothing without a
 * profiler. Also after a failed or interrupted run: what was measured is
 * kept. */
struct bp_net;
bp_status bp_cli_profile_out(const struct bp_net *net, bool profile,
                             const char *trace, bool quiet, FILE *out,
                             bp_err *err);

int bp_cmd_info(int argc, char **argv);
int bp_cmd_check(int argc, char **argv);
int bp_cmd_train(int argc, char **argv);
int bp_cmd_eval(int argc, char **argv);
int bp_cmd_export(int argc, char **argv);
int bp_cmd_sweep(int argc, char **argv);

#endif
