/* xorshift64* for backoff jitter (see include/bulkcall/sched/rng.h).
 * Owns nothing; the caller owns the state. libc only. */
#include "bulkcall/sched/rng.h"

void bc_rng_seed(struct bc_rng *r, uint64_t seed)
{
	/* xorshift has one fixed point, 0; any other state is fine. */
	r->s = seed ? seed : UINT64_C(0x9e3779b97f4a7c15);
}

uint64_t bc_rng_next(struct bc_rng *r)
{
	uint64_t x = r->s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

uint64_t bc_rng_below(struct bc_rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	/* Reject the low (2^64 mod n) values so every residue is equally
	 * likely. */
	uint64_t threshold = (0 - n) % n;
	for (;;) {
		uint64_t x = bc_rng_next(r);
		if (x >= threshold)
			return x % n;
	}
}
