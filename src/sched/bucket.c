/* Token bucket in micro-tokens (see include/bulkcall/sched/bucket.h).
 * Pure: time is a parameter. Must not depend on anything but libc. */
#include "bulkcall/sched/bucket.h"

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int64_t bc_rate_to_milli(double rate)
{
	if (!(rate > 0))
		return 0;
	if (rate >= (double)BC_RATE_MAX_MILLI / 1000.0)
		return BC_RATE_MAX_MILLI;
	int64_t m = (int64_t)(rate * 1000.0 + 0.5); /* no libm */
	return m < 1 ? 1 : m;
}

int64_t bc_burst_default(int64_t rate_milli)
{
	int64_t b = rate_milli / 1000;
	return clamp(b, 1, BC_BURST_MAX);
}

static void refill(struct bc_bucket *b, int64_t now_ms)
{
	if (now_ms <= b->last_ms)
		return;
	int64_t dt = now_ms - b->last_ms;
	b->last_ms = now_ms;
	if (b->rate_milli == 0)
		return;
	int64_t room = b->burst * BC_BUCKET_UNIT - b->level_u;
	if (room <= 0)
		return;
	/* dt * rate would overflow for long idle times; past room / rate
	 * the bucket is full anyway. */
	if (dt > room / b->rate_milli)
		b->level_u += room;
	else
		b->level_u += dt * b->rate_milli;
}

void bc_bucket_init(struct bc_bucket *b, int64_t rate_milli, int64_t burst,
		    int64_t now_ms)
{
	b->rate_milli = clamp(rate_milli, 0, BC_RATE_MAX_MILLI);
	b->burst = clamp(burst, 1, BC_BURST_MAX);
	b->level_u = b->burst * BC_BUCKET_UNIT;
	b->last_ms = now_ms;
}

void bc_bucket_drain(struct bc_bucket *b)
{
	b->level_u = 0;
}

void bc_bucket_set(struct bc_bucket *b, int64_t rate_milli, int64_t burst,
		   int64_t now_ms)
{
	refill(b, now_ms);
	b->rate_milli = clamp(rate_milli, 0, BC_RATE_MAX_MILLI);
	b->burst = clamp(burst, 1, BC_BURST_MAX);
	if (b->level_u > b->burst * BC_BUCKET_UNIT)
		b->level_u = b->burst * BC_BUCKET_UNIT;
}

int64_t bc_bucket_peek(struct bc_bucket *b, int64_t now_ms)
{
	if (b->rate_milli == 0)
		return 0;
	refill(b, now_ms);
	if (b->level_u >= BC_BUCKET_UNIT)
		return 0;
	int64_t need = BC_BUCKET_UNIT - b->level_u;
	/* Round up: waking a millisecond early would find no token. */
	return (need + b->rate_milli - 1) / b->rate_milli;
}

int64_t bc_bucket_take(struct bc_bucket *b, int64_t now_ms)
{
	int64_t wait = bc_bucket_peek(b, now_ms);
	if (wait == 0 && b->rate_milli != 0)
		b->level_u -= BC_BUCKET_UNIT;
	return wait;
}

int bc_bucket_full(struct bc_bucket *b, int64_t now_ms)
{
	if (b->rate_milli == 0)
		return 1;
	refill(b, now_ms);
	return b->level_u >= b->burst * BC_BUCKET_UNIT;
}
