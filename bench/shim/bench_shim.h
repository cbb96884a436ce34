/* bench/shim/bench_shim.h - Google Benchmark for C.
 *
 * The only C++ in bplab is bench_shim.cc, which implements this header on
 * top of Google Benchmark (Debian's libbenchmark-dev, 1.7.1). Benchmarks
 * are written in C against it:
 *
 *   static void bm(bp_bench_state *st, void *ctx) {
 *       ... set up (untimed) ...
 *       while (bp_bench_keep_running(st))
 *           work(ctx);
 *       bp_bench_counter(st, "GFLOP/s", flops * 1e-9, BP_BENCH_RATE);
 *   }
 *   bp_bench_register("gemm/avx512/NN/128x256x784", bm, ctx);
 *   return bp_bench_main(argc, argv);
 *
 * The binary takes Google Benchmark's own flags (--benchmark_filter,
 * --benchmark_format=json, --benchmark_repetitions, ...).
 */
#ifndef BPLAB_BENCH_SHIM_H
#define BPLAB_BENCH_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bp_bench_state bp_bench_state;
typedef void (*bp_bench_fn)(bp_bench_state *st, void *ctx);

/* Counter flags (combine with |). */
enum {
    BP_BENCH_RATE = 1,      /* value per second of measured time */
    BP_BENCH_PER_ITER = 2,  /* value counts once per iteration: the
                               reported figure is multiplied by the
                               number of iterations */
    BP_BENCH_BINARY = 4     /* scale with 1024 instead of 1000 */
};

/* Register `fn` under `name` (copied), to be called with `ctx`. */
void bp_bench_register(const char *name, bp_bench_fn fn, void *ctx);

/* As bp_bench_register, once per argument value in [lo, hi] (lo, lo*mult,
 * ...; hi included): the value is bp_bench_arg(st). Names get "/<arg>". */
void bp_bench_register_range(const char *name, bp_bench_fn fn, void *ctx,
                             int64_t lo, int64_t hi, int mult);

/* The current argument of a range benchmark (0 for a plain one). */
int64_t bp_bench_arg(const bp_bench_state *st);

/* The timing loop: true while more iterations are wanted. */
bool bp_bench_keep_running(bp_bench_state *st);

/* Exclude setup inside the loop from the measured time. */
void bp_bench_pause(bp_bench_state *st);
void bp_bench_resume(bp_bench_state *st);

/* Report a named counter; with BP_BENCH_RATE | BP_BENCH_PER_ITER a value
 * of "flops per iteration" is reported as flops per second. */
void bp_bench_counter(bp_bench_state *st, const char *name, double value,
                      int flags);

/* Attach a text label to the result row. */
void bp_bench_label(bp_bench_state *st, const char *label);

/* Mark the benchmark as failed/skipped with a reason (call before or
 * instead of the timing loop). */
void bp_bench_skip(bp_bench_state *st, const char *why);

/* Iterations run so far (valid after the loop). */
int64_t bp_bench_iterations(const bp_bench_state *st);

/* Parse Google Benchmark's flags, run the selected benchmarks, shut down.
 * Returns the process exit status (non-zero on an unknown flag). */
int bp_bench_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
