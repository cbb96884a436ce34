/* tests/fuzz/fuzz_args.c - the option parser of `bplab train` on arbitrary
 * arguments (the input split at NUL bytes), then the translation into
 * network and optimizer specs, as the command line does. */
#include <stdlib.h>
#include <string.h>

#include "core/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[64];
    int argc = 0;
    argv[argc++] = "bplab";
    argv[argc++] = "train";
    for (size_t i = 0; i < size && argc < 64;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    bp_run_opts o;
    bp_run_defaults(&o);
    bp_opt table[64];
    size_t ns, n = bp_run_options(&o, table, 64, &ns);
    bp_err err = {0};
    bool help = false;
    if (bp_args_parse(argc, argv, 2, table, n, &help, &err) == BP_OK && !help) {
        bp_data d = {0};
        bp_optim_spec os;
        bp_net_spec spec;
        if (bp_dataset_alloc(2, 3, 2, &d.train, &err) == BP_OK) {
            bp_run_net_spec(&o, &d, &spec, &err);
            bp_run_optim_spec(&o, &os, &err);
            char text[8192];
            bp_run_spec_text(&o, text, sizeof text);
        }
        bp_data_free(&d);
    } else if (!help && !err.msg[0]) {
        __builtin_trap();
    }
    free(buf);
    return 0;
}
