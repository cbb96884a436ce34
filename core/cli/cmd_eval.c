/* core/cli/cmd_eval.c - `bplab eval`: a saved model on a data set. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/checkpoint.h"
#include "core/cli/cli.h"
#include "core/run.h"
#include "core/runtime.h"

static const char *const split_names[] = {"test", "val", "train", NULL};

int bp_cmd_eval(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *isa = NULL;
    int split = 0;
    bool confusion = false, help = false;
    long long batch = 1000, threads = 0;
    const bp_opt opts[] = {
        {"--model", BP_ARG_STR, &model, 0, 0, NULL, "FILE",
         "a checkpoint written by bplab train --save (required)", NULL},
        {"--data", BP_ARG_STR, &data, 0, 0, NULL, "SET",
         "evaluate on this data set instead of the model's (same features "
         "and classes)", NULL},
        {"--split", BP_ARG_CHOICE, &split, 0, 0, split_names, "test|val|train",
         "which part of the data (default test)", NULL},
        {"--confusion", BP_ARG_FLAG, &confusion, 0, 0, NULL, NULL,
         "print the confusion matrix (rows: true class, columns: predicted)",
         NULL},
        {"--batch", BP_ARG_INT, &batch, 1, 1 << 20, NULL, "N",
         "rows per forward pass (default 1000)", NULL},
        {"--threads", BP_ARG_INT, &threads, 1, 1024, NULL, "N",
         "OpenMP threads (default: all CPUs)", NULL},
        {"--isa", BP_ARG_STR, &isa, 0, 0, NULL, "NAME",
         "kernel table (default: BPLAB_ISA or the best)", NULL},
    };
    const size_t nopts = sizeof opts / sizeof *opts;
    bp_err err = {0};
    if (bp_args_parse(argc, argv, 2, opts, nopts, &help, &err) != BP_OK)
        return bp_cli_fail_opts("eval", &err);
    if (help) {
        printf("usage: bplab eval --model FILE [options]\n\n"
               "Loss and accuracy of a saved model, on the data set it was "
               "trained with\n(or another with the same features and "
               "classes).\n\noptions:\n");
        bp_args_print_help(stdout, opts, nopts);
        return BP_EXIT_OK;
    }
    if (!model)
        return bp_cli_failf(BP_EXIT_USAGE, "--model FILE is required");
    if (bp_set_threads(threads, &err) != BP_OK ||
        bp_runtime_select_isa(isa, &err) != BP_OK)
        return bp_cli_fail(&err);

    int rc = BP_EXIT_FAIL;
    bp_ckpt ck = {0};
    char *storage = NULL;
    bp_data d = {0};
    bp_net *net = NULL;
    size_t *cm = NULL;
    bp_run_opts o;
    bp_run_defaults(&o);
    bp_data_opts dopts;
    bp_net_spec spec;
    if (bp_ckpt_load(model, &ck, &err) != BP_OK ||
        bp_run_parse_spec(ck.spec, &o, &storage, &err) != BP_OK)
        goto fail;
    if (data)
        o.data = data;
    if (bp_run_data_opts(&o, &dopts, &err) != BP_OK ||
        bp_data_load(&dopts, &d, &err) != BP_OK ||
        bp_run_net_spec(&o, &d, &spec, &err) != BP_OK ||
        bp_net_create(&spec, (size_t)batch, 0, NULL, &net, &err) != BP_OK ||
        bp_ckpt_restore_model(&ck, model, net, &err) != BP_OK)
        goto fail;
    const bp_dataset *set = split == 0 ? &d.test : split == 1 ? &d.val : &d.train;
    if (set->n == 0) {
        bp_fail(&err, BP_ERR_INVALID_ARG,
                "--split %s: the model's data has no %s set", split_names[split],
                split_names[split]);
        goto fail;
    }
    size_t c = set->classes;
    if (confusion && c == 0) {
        bp_fail(&err, BP_ERR_INVALID_ARG,
                "--confusion: the data set is a regression (real targets, no "
                "classes)");
        goto fail;
    }
    if (confusion && !(cm = bp_alloc(c * c * sizeof *cm))) {
        bp_fail(&err, BP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    double loss, acc;
    bool flushed = bp_flush_denormals(!o.keep_denormals); /* as in training */
    bp_net_evaluate(net, set, &loss, &acc, cm);
    bp_flush_denormals(flushed);
    char desc[256];
    bp_net_describe(&spec, desc, sizeof desc);
    printf("model    %s (%s, %llu epochs, trained on %s)\n", model, desc,
           (unsigned long long)ck.epoch, ck.isa);
    printf("data     %s, %s split, %zu samples\n", d.source, split_names[split],
           set->n);
    printf("%s loss %.4f accuracy %.4f\n", split_names[split], loss, acc);
    if (cm) {
        printf("\nconfusion (rows: true class, columns: predicted)\n      ");
        for (size_t j = 0; j < c; j++)
            printf(" %6zu", j);
        printf("\n");
        for (size_t i = 0; i < c; i++) {
            printf("%6zu", i);
            for (size_t j = 0; j < c; j++)
                printf(" %6zu", cm[i * c + j]);
            printf("\n");
        }
    }
    rc = BP_EXIT_OK;
fail:
    if (rc != BP_EXIT_OK)
        rc = bp_cli_fail(&err);
    bp_free(cm);
    bp_net_destroy(net);
    bp_data_free(&d);
    bp_ckpt_free(&ck);
    bp_free(storage);
    return rc;
}
