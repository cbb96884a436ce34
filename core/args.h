/* core/args.h - a small table-driven parser for long options.
 *
 * Used by the bplab command line and the experiment programs. Each option is
 * one row: its name, its kind, where the value goes and the rule it must
 * satisfy. Values are checked completely (no trailing junk, no NaN or
 * infinity, within range), and every failure is one message that names the
 * option, the value and the rule, e.g. "--batch 0: must be >= 1"; an
 * unknown option names the closest known one ("did you mean '--epochs'?").
 * Both "--name value" and "--name=value" are accepted.
 */
#ifndef BPLAB_ARGS_H
#define BPLAB_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/status.h"

typedef enum bp_arg_kind {
    BP_ARG_FLAG,   /* bool *: set to true, takes no value */
    BP_ARG_STR,    /* const char **: any non-empty string */
    BP_ARG_INT,    /* long long *: integer within [min, max] */
    BP_ARG_FLOAT,  /* double *: finite number within [min, max] */
    BP_ARG_CHOICE  /* int *: index of the value in `choices` */
} bp_arg_kind;

typedef struct bp_opt {
    const char *name;            /* "--batch" */
    bp_arg_kind kind;
    void *dest;
    double min, max;             /* INT and FLOAT: inclusive range */
    const char *const *choices;  /* CHOICE: NULL-terminated names */
    const char *metavar;         /* "N", "FILE", ... for --help */
    const char *help;            /* one line */
    bool *seen;                  /* optional: set when the option is given */
} bp_opt;

/* Parse argv[first..argc-1]. Positional arguments are an error. "-h" and
 * "--help" set *help (if help is not NULL) and stop parsing. */
bp_status bp_args_parse(int argc, char **argv, int first, const bp_opt *opts,
                        size_t nopts, bool *help, bp_err *err);

/* Split argv[first..argc-1] for commands that take positional arguments
 * (bplab eval MODEL, bplab export MODEL OUT), which bp_args_parse
 * refuses: the options, with the value that follows an option that takes
 * one, go to args (argv[0..first-1] first; room for argc entries), the
 * others to pos (room for maxpos). Returns how many positionals there
 * were; beyond maxpos, the first one that did not fit is *extra. */
int bp_args_positionals(int argc, char **argv, int first, const bp_opt *opts,
                        size_t nopts, char **args, int *nargs, char **pos,
                        int maxpos, const char **extra);

/* Print the option table: one option per entry, "  --name METAVAR  help",
 * the help aligned and wrapped at 80 columns under itself (continuation
 * lines never start with "  --"). */
void bp_args_print_help(FILE *f, const bp_opt *opts, size_t nopts);

/* " (did you mean 'x'?)" for a mistyped `word` (its first `len` bytes),
 * naming the closest of `names` (up to three if they tie), or "" when none
 * is close: within an edit distance (insert, delete, substitute, swap two
 * neighbours) of 1 for names of up to 3 characters, 2 for longer ones
 * (leading dashes not counted); a prefix of exactly one name ("--lr-sched")
 * and a name of 3 or more letters with more after it ("--batchsize") count
 * as one edit. */
void bp_did_you_mean(const char *word, size_t len, const char *const *names,
                     size_t n, char *buf, size_t size);

/* Parsers for single values, with the same rules and messages (`what`
 * names the value in the message, e.g. "--layers"). */
bp_status bp_parse_int(const char *what, const char *s, long long min,
                       long long max, long long *out, bp_err *err);
bp_status bp_parse_float(const char *what, const char *s, double min,
                         double max, double *out, bp_err *err);

#endif
