/* core/alloc.h - every allocation of the core goes through here.
 *
 * bp_alloc returns 64-byte-aligned, uninitialised memory (NULL on failure
 * or for a request beyond BP_ALLOC_MAX); bp_alloc_zero also clears it.
 * Tests can make the Nth allocation fail (SQLite's anomaly testing) to
 * prove that every create path cleans up and reports BP_ERR_NOMEM.
 */
#ifndef BPLAB_ALLOC_H
#define BPLAB_ALLOC_H

#include <stddef.h>

/* Requests above this are refused before reaching malloc: a corrupt
 * header must not become a huge allocation. 16 GiB. */
#define BP_ALLOC_MAX ((size_t)16 << 30)

void *bp_alloc(size_t bytes);
void *bp_alloc_zero(size_t bytes);
void bp_free(void *p);

/* The most memory one object may ask for: BP_ALLOC_MAX or the machine's
 * physical memory, whichever is smaller. */
size_t bp_mem_limit(void);

/* n * size with overflow detection: returns 0 on overflow (and for 0). */
size_t bp_mul_size(size_t n, size_t size);

/* Test hook: the `nth` allocation from now (1 = the next) fails; 0 turns
 * injection off. Returns the number of allocations made since the last
 * call, so a test can first count, then fail each one in turn. */
size_t bp_alloc_fail_at(size_t nth);

/* Test hook: blocks bp_alloc (or bp_alloc_zero) returned that bp_free has
 * not freed yet, so a test can check that a failed call freed all it took. */
size_t bp_alloc_live(void);

#endif
