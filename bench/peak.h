/* bench/peak.h - the libmvec baselines, compiled with their ISA's flags
 * (bench/CMakeLists.txt) and called only after dispatch reports the ISA
 * usable. (The FMA-throughput loops are the kernels' own:
 * kernels.h bp_isa_fma_loop.) */
#ifndef BPLAB_BENCH_PEAK_H
#define BPLAB_BENCH_PEAK_H

#include <stddef.h>

/* X(name, ENUM): the ISAs of BP_ISAS with a bench/peak_<name>.c, which
 * bench/CMakeLists.txt compiles (x86-64 only) with that ISA's flags. */
#if defined(__x86_64__)
#define BP_BENCH_PEAK_ISAS(X) X(avx2, AVX2) X(avx512, AVX512)
#else
#define BP_BENCH_PEAK_ISAS(X)
#endif

/* y = 1 / (1 + expf(-x)) through glibc's vectorised expf (libmvec), the
 * baseline the issue names: compiled with -ffast-math so GCC calls
 * _ZGVdN8v_expf (AVX2) or _ZGVeN16v_expf (AVX-512). */
void bp_bench_libmvec_sigmoid_avx2(size_t n, const float *x, float *y);
void bp_bench_libmvec_sigmoid_avx512(size_t n, const float *x, float *y);

#endif
