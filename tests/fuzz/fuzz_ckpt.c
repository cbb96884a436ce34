/* tests/fuzz/fuzz_ckpt.c - checkpoint files: the loader, then, for a file
 * that loads, its options text through the run parser and the network it
 * describes (as `bplab eval` would build it, on a tiny stand-in data set).
 * Corrupt files must be refused; a CRC-valid file with a nonsense body
 * must be refused too, never trusted. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/checkpoint.h"
#include "core/run.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* inputs of odd length get a valid CRC-32 in their last four bytes, so
     * the fuzzer reaches the body parser instead of stopping at the
     * checksum every time */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (size >= 8 && (size & 1)) {
        uint32_t crc = (uint32_t)crc32(0, copy, (uInt)(size - 4));
        memcpy(copy + size - 4, &crc, 4);
    }
    memfile f;
    int opened = memfile_open(&f, copy, size);
    free(copy);
    if (opened != 0)
        return 0;
    bp_ckpt ck;
    bp_err err = {0};
    if (bp_ckpt_load(f.path, &ck, &err) == BP_OK) {
        bp_run_opts o;
        bp_run_defaults(&o);
        char *storage = NULL;
        if (bp_run_parse_spec(ck.spec, &o, &storage, &err) == BP_OK) {
            bp_data d = {0};
            /* a recurrent model reads the two features as two steps */
            d.steps = o.model != BP_CELL_NONE ? 2 : 0;
            d.shape = d.steps ? (bp_shape){2, 1, 1} : bp_shape_vec(2);
            if (bp_dataset_alloc(4, 2, 2, &d.train, &err) == BP_OK) {
                bp_net_spec spec;
                bp_net *net = NULL;
                if (bp_run_net_spec(&o, &d, &spec, &err) == BP_OK &&
                    bp_net_bytes(&spec, 4) < ((size_t)64 << 20) &&
                    bp_net_create(&spec, 4, 0, NULL, &net, &err) == BP_OK)
                    bp_ckpt_restore_model(&ck, f.path, net, &err);
                bp_net_destroy(net);
            }
            bp_data_free(&d);
        }
        bp_free(storage);
        bp_ckpt_free(&ck);
    } else if (!err.msg[0]) {
        __builtin_trap();
    }
    memfile_close(&f);
    return 0;
}
