// bench/shim/bench_shim.cc - bench_shim.h implemented on Google Benchmark.
// The only C++ file in bplab: it adapts types and nothing else.
#include "bench/shim/bench_shim.h"

#include <benchmark/benchmark.h>

#include <string>

struct bp_bench_state {
    benchmark::State *st;
    int64_t arg;
};

namespace {

void run(benchmark::State &state, bp_bench_fn fn, void *ctx)
{
    bp_bench_state s{&state, 0};
    fn(&s, ctx);
}

void run_range(benchmark::State &state, bp_bench_fn fn, void *ctx)
{
    bp_bench_state s{&state, state.range(0)};
    fn(&s, ctx);
}

} // namespace

extern "C" {

void bp_bench_register(const char *name, bp_bench_fn fn, void *ctx)
{
    benchmark::RegisterBenchmark(name, run, fn, ctx);
}

void bp_bench_register_range(const char *name, bp_bench_fn fn, void *ctx,
                             int64_t lo, int64_t hi, int mult)
{
    benchmark::RegisterBenchmark(name, run_range, fn, ctx)
        ->RangeMultiplier(mult)
        ->Range(lo, hi);
}

int64_t bp_bench_arg(const bp_bench_state *s)
{
    return s->arg;
}

bool bp_bench_keep_running(bp_bench_state *s) { return s->st->KeepRunning(); }
void bp_bench_pause(bp_bench_state *s) { s->st->PauseTiming(); }
void bp_bench_resume(bp_bench_state *s) { s->st->ResumeTiming(); }

void bp_bench_counter(bp_bench_state *s, const char *name, double value,
                      int flags)
{
    int f = benchmark::Counter::kDefaults;
    if (flags & BP_BENCH_RATE)
        f |= benchmark::Counter::kIsRate;
    if (flags & BP_BENCH_PER_ITER)
        f |= benchmark::Counter::kIsIterationInvariant;
    s->st->counters[name] = benchmark::Counter(
        value, static_cast<benchmark::Counter::Flags>(f),
        (flags & BP_BENCH_BINARY) ? benchmark::Counter::kIs1024
                                  : benchmark::Counter::kIs1000);
}

void bp_bench_label(bp_bench_state *s, const char *label)
{
    s->st->SetLabel(label);
}

void bp_bench_skip(bp_bench_state *s, const char *why)
{
    s->st->SkipWithError(why);
}

int64_t bp_bench_iterations(const bp_bench_state *s)
{
    return static_cast<int64_t>(s->st->iterations());
}

int bp_bench_main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

} // extern "C"
