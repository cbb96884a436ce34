/* tests/fuzz/fuzz_csv.c - the CSV loader on arbitrary text. */
#include <math.h>

#include "core/data.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memfile f;
    if (memfile_open(&f, data, size) != 0)
        return 0;
    bp_dataset d;
    bp_err err = {0};
    if (bp_csv_load(f.path, &d, &err) == BP_OK) {
        for (size_t i = 0; i < d.n * d.dim; i++)
            if (!isfinite(d.x[i]))
                __builtin_trap(); /* non-finite values are refused */
        for (size_t i = 0; i < d.n; i++)
            if (d.y[i] < 0 || (size_t)d.y[i] >= d.classes)
                __builtin_trap();
        bp_dataset_free(&d);
    } else if (!err.msg[0]) {
        __builtin_trap();
    }
    memfile_close(&f);
    return 0;
}
