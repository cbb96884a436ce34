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

    /* Positional arguments ([MODEL] OUT) are taken out before the option
     * parser, which refuses them. */
    char *args[64], *pos[3];
    int nargs = 0, npos = 0;
    if (argc > 64)
        return bp_cli_failf(BP_EXIT_USAGE, "too many arguments (%d)", argc);
    args[nargs++] = argv[0];
    args[nargs++] = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] != '\0') {
            args[nargs++] = argv[i];
            /* "--model FILE": the value is not a positional */
            bool takes_value = false;
            for (size_t j = 0; j < nopts; j++)
                takes_value |= strcmp(a, opts[j].name) == 0;
            if (takes_value && i + 1 < argc)
                args[nargs++] = argv[++i];
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            return bp_cli_failf(BP_EXIT_USAGE,
                                "unexpected argument '%.60s' (usage: bplab "
                                "export [--model] MODEL.ckpt OUT)", a);
        }
    }
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
    if (npos == 3)
        return bp_cli_failf(BP_EXIT_USAGE,
                            "unexpected argument '%.60s' (usage: bplab export "
                            "[--model] MODEL.ckpt OUT)", pos[2]);
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

    int rc = BP_EXIT_FAIL;
    bp_ckpt ck = {0};
    char *storage = NULL;
    bp_data d = {0};
    bp_net *net = NULL;
    bp_run_opts o;
    bp_run_defaults(&o);
    bp_data_opts dopts;
    bp_net_spec spec;
    /* The checkpoint holds the options, not the data's shape: the data set
     * gives the input and class counts (and time steps), as for eval. */
    if (bp_ckpt_load(model, &ck, &err) != BP_OK ||
        bp_run_parse_spec(ck.spec, &o, &storage, &err) != BP_OK)
        goto fail;
    if (data)
        o.data = data;
    char what[300];
    snprintf(what, sizeof what, "%s%s", data ? "--data " : "", o.data);
    if (bp_run_data_opts(&o, &dopts, &err) != BP_OK ||
        bp_data_load(&dopts, &d, &err) != BP_OK ||
        bp_ckpt_check_data(&ck, model, what, &d.train, &err) != BP_OK ||
        bp_run_net_spec(&o, &d, &spec, &err) != BP_OK ||
        bp_net_create(&spec, 1, 0, NULL, &net, &err) != BP_OK ||
        bp_ckpt_restore_model(&ck, model, net, &err) != BP_OK ||
        bp_export(net, ck.spec, out, fmt, &err) != BP_OK)
        goto fail;
    char desc[256];
    bp_net_describe(&spec, desc, sizeof desc);
    printf("exported %s (%s) to %s\n", model, desc, out);
    rc = BP_EXIT_OK;
fail:
    if (rc != BP_EXIT_OK)
        rc = bp_cli_fail(&err);
    bp_net_destroy(net);
    bp_data_free(&d);
    bp_ckpt_free(&ck);
    bp_free(storage);
    return rc;
}
