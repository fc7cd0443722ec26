/* struct bc_backoff: the retry policy of a row: exponential backoff with
 * full jitter (the AWS "full jitter" scheme), --max-attempts and
 * --max-retry-time.
 *
 * Invariants:
 *  - After the n-th failed attempt (n >= 1) the wait is uniform on the
 *    whole-ms range [0, cap(n)], cap(n) = min(max_ms, min_ms * 2^(n-1)).
 *    0 is a legitimate draw: the row is due at once and still goes through
 *    the due-time heap like any other wait, so it never spins; it is as
 *    likely as any other value (1 in cap(n) + 1).
 *  - A row gets at most max_attempts attempts; 0 means no limit.
 *  - A row whose first attempt was at first_ms may be sent again at t only
 *    while t - first_ms < max_retry_ms (retries and throttle waits
 *    together); max_retry_ms 0 means no limit.
 * Time is a parameter (ms); randomness comes from the caller's bc_rng. */
#ifndef BULKCALL_SCHED_BACKOFF_H
#define BULKCALL_SCHED_BACKOFF_H

#include <stdint.h>

#include "bulkcall/sched/rng.h"

#define BC_BACKOFF_MIN_MS INT64_C(500)
#define BC_BACKOFF_MAX_MS INT64_C(60000)
#define BC_MAX_ATTEMPTS 5u
#define BC_MAX_RETRY_MS INT64_C(3600000)

struct bc_backoff {
	int64_t min_ms; /* >= 0 */
	int64_t max_ms; /* >= min_ms */
	unsigned max_attempts; /* 0 = no limit */
	int64_t max_retry_ms; /* 0 = no limit */
};

enum bc_retry_verdict {
	BC_RETRY_AT = 0, /* send again at *at_ms */
	BC_RETRY_NO_ATTEMPTS, /* give up: --max-attempts spent */
	BC_RETRY_NO_TIME /* give up: the wait would pass --max-retry-time */
};

/* Fills in the defaults above (500:60000, 5 attempts, 3600 s). */
void bc_backoff_default(struct bc_backoff *b);
/* Sets the policy; negative values become 0 and max_ms below min_ms
 * becomes min_ms. */
void bc_backoff_init(struct bc_backoff *b, int64_t min_ms, int64_t max_ms,
		     unsigned max_attempts, int64_t max_retry_ms);
/* cap(n) above; attempt 0 counts as 1. */
int64_t bc_backoff_cap(const struct bc_backoff *b, unsigned attempt);
/* One draw of the wait after the attempt-th failure. */
int64_t bc_backoff_delay(const struct bc_backoff *b, unsigned attempt,
			 struct bc_rng *rng);
/* 1 when a row first tried at first_ms may still be sent at when_ms. */
int bc_retry_in_time(const struct bc_backoff *b, int64_t first_ms,
		     int64_t when_ms);
/* After the attempts-th failed attempt (attempts >= 1) at now_ms: retry at
 * *at_ms (set only for BC_RETRY_AT), or give up and say why. */
enum bc_retry_verdict bc_retry_next(const struct bc_backoff *b,
				    unsigned attempts, int64_t first_ms,
				    int64_t now_ms, struct bc_rng *rng,
				    int64_t *at_ms);
const char *bc_retry_verdict_name(enum bc_retry_verdict v);

#endif
