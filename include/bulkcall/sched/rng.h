/* struct bc_rng: a small deterministic PRNG (xorshift64*) for backoff
 * jitter. The caller owns and seeds it, so tests replay exactly and the
 * scheduler never touches global random state.
 * Invariants: state s is never 0 (seed 0 is replaced by a fixed constant);
 * bc_rng_below(r, n) is uniform on [0, n) without modulo bias. Not for
 * anything that needs to be unpredictable. */
#ifndef BULKCALL_SCHED_RNG_H
#define BULKCALL_SCHED_RNG_H

#include <stdint.h>

struct bc_rng {
	uint64_t s;
};

void bc_rng_seed(struct bc_rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t bc_rng_next(struct bc_rng *r);
/* Uniform on [0, n); returns 0 when n is 0. */
uint64_t bc_rng_below(struct bc_rng *r, uint64_t n);

#endif
