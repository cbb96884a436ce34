/* tests/fuzz/fuzz_idx.c - the IDX loader on arbitrary bytes (plain or gzip).
 * Input: a 4-byte little-endian length L, then L bytes of the images file,
 * then the labels file. The loader must either load or fail with a
 * message, never crash, leak or read out of bounds. */
#include <string.h>

#include "core/data.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    uint32_t split;
    memcpy(&split, data, 4);
    data += 4, size -= 4;
    if (split > size)
        split = (uint32_t)size;
    memfile img, lab;
    if (memfile_open(&img, data, split) != 0)
        return 0;
    if (memfile_open(&lab, data + split, size - split) != 0) {
        memfile_close(&img);
        return 0;
    }
    bp_dataset d;
    bp_err err = {0};
    if (bp_idx_load(img.path, lab.path, &d, &err) == BP_OK) {
        for (size_t i = 0; i < d.n; i++)
            if (d.y[i] < 0 || (size_t)d.y[i] >= d.classes)
                __builtin_trap();
        bp_dataset_free(&d);
    } else if (!err.msg[0]) {
        __builtin_trap(); /* a failure must say why */
    }
    memfile_close(&img);
    memfile_close(&lab);
    return 0;
}
