/* kernels/base/rng.h - bplab's one random generator: counter-based splitmix64.
 *
 * Value i of a stream is mix64(key + i * golden), where mix64 is the
 * splitmix64 finaliser (Steele, Lea & Flood 2014). A stream is therefore a
 * pure function of (key, counter): it can be split by deriving keys
 * (bp_rng_stream(seed, id)), skipped ahead by setting the counter, saved in
 * a checkpoint as two integers, and it never depends on thread scheduling.
 *
 * Below both kernels/ (the checker draws its inputs from it) and core/;
 * core/rng.h forwards here.
 */
#ifndef BPLAB_BASE_RNG_H
#define BPLAB_BASE_RNG_H

#include <stdint.h>

typedef struct bp_rng {
    uint64_t key;
    uint64_t counter;
} bp_rng;

static inline uint64_t bp_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Value `counter` of the stream keyed by `key`. */
static inline uint64_t bp_rng_at(uint64_t key, uint64_t counter)
{
    return bp_mix64(key + (counter + 1) * 0x9e3779b97f4a7c15ull);
}

/* A key for stream `id` of `seed` (streams of one seed are independent). */
static inline uint64_t bp_rng_key(uint64_t seed, uint64_t id)
{
    return bp_mix64(bp_mix64(seed) ^ (id * 0xd1b54a32d192ed03ull + 1));
}

static inline bp_rng bp_rng_stream(uint64_t seed, uint64_t id)
{
    bp_rng r = {bp_rng_key(seed, id), 0};
    return r;
}

static inline uint64_t bp_rng_u64(bp_rng *r)
{
    return bp_rng_at(r->key, r->counter++);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double bp_rng_uniform(bp_rng *r)
{
    return (double)(bp_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire 2019). */
uint64_t bp_rng_below(bp_rng *r, uint64_t n);

/* Standard normal by the Box-Muller transform (two draws per call). */
double bp_rng_normal(bp_rng *r);

#endif
