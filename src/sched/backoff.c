/* Retry policy: exponential backoff with full jitter, attempt and time caps
 * (see include/bulkcall/sched/backoff.h). Pure: time and randomness are
 * parameters. libc only. */
#include "bulkcall/sched/backoff.h"
#include "bulkcall/sched/ms.h"

void bc_backoff_default(struct bc_backoff *b)
{
	bc_backoff_init(b, BC_BACKOFF_MIN_MS, BC_BACKOFF_MAX_MS,
			BC_MAX_ATTEMPTS, BC_MAX_RETRY_MS);
}

void bc_backoff_init(struct bc_backoff *b, int64_t min_ms, int64_t max_ms,
		     unsigned max_attempts, int64_t max_retry_ms)
{
	b->min_ms = min_ms < 0 ? 0 : min_ms;
	b->max_ms = max_ms < b->min_ms ? b->min_ms : max_ms;
	b->max_attempts = max_attempts;
	b->max_retry_ms = max_retry_ms < 0 ? 0 : max_retry_ms;
}

int64_t bc_backoff_cap(const struct bc_backoff *b, unsigned attempt)
{
	int64_t cap = b->min_ms;
	/* Double attempt - 1 times, stopping at max_ms (and before any
	 * overflow, which max_ms <= INT64_MAX guarantees). */
	for (unsigned i = 1; i < attempt && cap < b->max_ms; i++)
		cap = cap > b->max_ms / 2 ? b->max_ms : cap * 2;
	return cap < b->max_ms ? cap : b->max_ms;
}

int64_t bc_backoff_delay(const struct bc_backoff *b, unsigned attempt,
			 struct bc_rng *rng)
{
	int64_t cap = bc_backoff_cap(b, attempt);
	return (int64_t)bc_rng_below(rng, (uint64_t)cap + 1);
}

int bc_retry_in_time(const struct bc_backoff *b, int64_t first_ms,
		     int64_t when_ms)
{
	if (b->max_retry_ms == 0)
		return 1;
	return when_ms < bc_ms_add(first_ms, b->max_retry_ms);
}

enum bc_retry_verdict bc_retry_next(const struct bc_backoff *b,
				    unsigned attempts, int64_t first_ms,
				    int64_t now_ms, struct bc_rng *rng,
				    int64_t *at_ms)
{
	if (b->max_attempts && attempts >= b->max_attempts)
		return BC_RETRY_NO_ATTEMPTS;
	int64_t at = bc_ms_add(now_ms, bc_backoff_delay(b, attempts, rng));
	if (!bc_retry_in_time(b, first_ms, at))
		return BC_RETRY_NO_TIME;
	*at_ms = at;
	return BC_RETRY_AT;
}

const char *bc_retry_verdict_name(enum bc_retry_verdict v)
{
	switch (v) {
	case BC_RETRY_AT:
		return "retry";
	case BC_RETRY_NO_ATTEMPTS:
		return "attempts spent";
	case BC_RETRY_NO_TIME:
		return "retry time spent";
	}
	return "?";
}
