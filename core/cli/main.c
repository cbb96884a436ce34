/* core/cli/main.c - `bplab <command> [options]`. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/args.h"
#include "core/cli/cli.h"
#include "core/net.h"
#include "core/prof.h"
#include "core/runtime.h"
#include "kernels/kernels.h"

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"info", bp_cmd_info, "CPU, instruction sets, the kernel table, threads, build"},
    {"check", bp_cmd_check, "check every kernel of every usable ISA against scalar"},
    {"train", bp_cmd_train, "train a network (alone: the reference workload)"},
    {"eval", bp_cmd_eval, "loss and accuracy of a saved model on a data set"},
    {"export", bp_cmd_export, "a saved model's weights as .npz or .safetensors"},
    {"sweep", bp_cmd_sweep, "a grid of runs (variants x seeds), paired report"},
};

#define NCOMMANDS (sizeof commands / sizeof *commands)

bp_status bp_cli_profile_out(const bp_net *net, bool profile,
                             const char *trace, bool quiet, FILE *out,
                             bp_err *err)
{
    const bp_prof *p = net ? net->ctx->prof : NULL;
    if (!p)
        return BP_OK;
    if (profile) {
        bp_prof_report(p, net, out);
        fflush(out);
    }
    if (trace) {
        bp_status s = bp_prof_write_trace(p, net, trace, err);
        if (s != BP_OK) {
            char why[BP_ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", err->msg);
            return bp_fail(err, s, "--trace %s", why);
        }
        if (!quiet)
            fprintf(out, "trace    %s (open it in https://ui.perfetto.dev or "
                         "chrome://tracing)\n", trace);
    }
    return BP_OK;
}

int bp_cli_fail(const bp_err *err)
{
    fprintf(stderr, "bplab: error: %s\n", err->msg[0] ? err->msg
                                                      : bp_status_str(err->code));
    return err->code == BP_ERR_INVALID_ARG ? BP_EXIT_USAGE : BP_EXIT_FAIL;
}

int bp_cli_failf(int exit_code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bplab: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return exit_code;
}

int bp_cli_fail_opts(const char *cmd, const bp_err *err)
{
    return bp_cli_failf(err->code == BP_ERR_INVALID_ARG ? BP_EXIT_USAGE
                                                        : BP_EXIT_FAIL,
                        "%s; see 'bplab %s --help'",
                        err->msg[0] ? err->msg : bp_status_str(err->code), cmd);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bplab <command> [options]\n"
            "\n"
            "bplab %s - a backpropagation lab: hand-written SIMD kernels,\n"
            "each checked against a scalar reference.\n"
            "\n"
            "commands:\n",
            bp_version());
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "Run 'bplab <command> --help' (or 'bplab help <command>') for a\n"
            "command's options.\n"
            "Environment: BPLAB_ISA=" BP_ISA_CHOICES " forces a\n"
            "kernel table (as --isa does); OMP_NUM_THREADS sets the default\n"
            "threads.\n");
}

/* Names `bplab` takes in place of a command, for "did you mean". */
static void unknown_command(const char *cmd)
{
    const char *names[NCOMMANDS + 3];
    size_t n = 0;
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[n++] = commands[i].name;
    names[n++] = "help";
    names[n++] = "--help";
    names[n++] = "--version";
    char hint[128];
    bp_did_you_mean(cmd, strlen(cmd), names, n, hint, sizeof hint);
    bp_cli_failf(BP_EXIT_USAGE, "unknown command '%.40s'%s; see 'bplab --help'",
                 cmd, hint);
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    /* no command: the usage on stderr (what to type instead), then the
     * error as the last line, as argparse does; exit 2 */
    if (argc < 2) {
        usage(stderr);
        fputc('\n', stderr);
        return bp_cli_failf(BP_EXIT_USAGE, "no command given");
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        (strcmp(cmd, "help") == 0 && argc == 2)) {
        usage(stdout);
        return BP_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        /* bplab help CMD: CMD's own help, as `bplab CMD --help` */
        const struct command *c = find_command(argv[2]);
        if (!c) {
            unknown_command(argv[2]);
            return BP_EXIT_USAGE;
        }
        if (argc > 3)
            return bp_cli_failf(BP_EXIT_USAGE,
                                "unexpected argument '%.40s' (usage: bplab "
                                "help [COMMAND])", argv[3]);
        static char help_opt[] = "--help";
        char *args[] = {argv[0], argv[2], help_opt, NULL};
        return c->run(3, args);
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("bplab %s (%s%s)\n", bp_version(), bp_git_commit(),
               bp_git_dirty() ? ", modified" : "");
        return BP_EXIT_OK;
    }
    const struct command *c = find_command(cmd);
    if (c)
        return c->run(argc, argv);
    unknown_command(cmd);
    return BP_EXIT_USAGE;
}
