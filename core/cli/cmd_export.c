/* core/cli/cmd_export.c - `bplab export`: a saved model's weights as .npz
 * or .safetensors (core/export.h). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/checkpoint.h"
#include "core/cli/cli.h"
#include "core/export.h"
#include "core/run.h"

int bp_cmd_export(int argc, char **argv)
{
    const char *model = NULL, *data = NULL;
    bool help = false;
    const bp_opt opts[] = {
        {"--model", BP_ARG_STR, &model, 0, 0, NULL, "FILE",
         "a checkpoint written by bplab train --save (or give it before OUT)",
         NULL},
        {"--data", BP_ARG_STR, &data, 0, 0, NULL, "SET",
         "read the input and class counts from this data set instead of the "
         "model's (if that one has moved)", NULL},
    };
    const size_t nopts = sizeof opts / sizeof *opts;
    bp_err err = {0};

    /* [MODEL] OUT: positional arguments */
    char *args[64], *pos[2];
    const char *extra;
    int nargs = 0;
    if (argc > 64)
        return bp_cli_failf(BP_EXIT_USAGE, "too many arguments (%d)", argc);
    int npos = bp_args_positionals(argc, argv, 2, opts, nopts, args, &nargs,
                                   pos, 2, &extra);
    if (bp_args_parse(nargs, args, 2, opts, nopts, &help, &err) != BP_OK)
        return bp_cli_fail_opts("export", &err);
    if (help) {
        printf("usage: bplab export --model FILE.ckpt OUT.npz|OUT.safetensors\n"
               "       bplab export FILE.ckpt OUT.npz|OUT.safetensors\n\n"
               "Write a saved model's weights for NumPy (.npz) or safetensors\n"
               "(the format follows OUT's extension): every parameter tensor\n"
               "as float32 with its true shape, named <layer>.<kind>.<role>\n"
               "(0.dense.weight, 1.bn.running_var, 0.lstm.weight_ih, ...),\n"
               "plus the run's options (\"spec\"). Dense weights are in x out\n"
               "(y = x W + b): transpose them for PyTorch's nn.Linear. The\n"
               "README lists every tensor and its layout.\n\noptions:\n");
        bp_args_print_help(stdout, opts, nopts);
        return BP_EXIT_OK;
    }
    if (npos > 2)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "unexpected argument '%.60s' (usage: bplab export "
                            "[--model] MODEL.ckpt OUT)", extra);
    if (npos == 2 && model)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "two models: --model %.60s and '%.60s'", model,
                            pos[0]);
    if (npos == 2)
        model = pos[0];
    const char *out = npos ? pos[npos - 1] : NULL;
    if (!model)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "--model FILE is required (or: bplab export "
                            "MODEL.ckpt OUT)");
    if (!out)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "no output file (OUT.npz or OUT.safetensors)");
    bp_export_format fmt;
    if (bp_export_format_of(out, &fmt, &err) != BP_OK)
        return bp_cli_fail(&err);

    /* no computation: the weights as saved, in the default context */
    bp_model m;
    if (bp_model_load(model, data, 1, NULL, &m, &err) != BP_OK ||
        bp_export(m.net, m.ck.spec, out, fmt, &err) != BP_OK) {
        bp_model_free(&m);
        return bp_cli_fail(&err);
    }
    char desc[256];
    bp_net_describe(&m.spec, desc, sizeof desc);
    printf("exported %s (%s) to %s\n", model, desc, out);
    bp_model_free(&m);
    return BP_EXIT_OK;
}
